//! What the end-to-end tests share: stand-ins for both services, a feed run through the
//! library, and the binary run as a child process.

// Each test binary uses a different part of this module.
#![allow(dead_code, unreachable_pub)]

pub mod bin;
pub mod et;
pub mod feed;
pub mod tc;

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file under this crate's `tests/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    test_support::fixture(env!("CARGO_MANIFEST_DIR"), relative)
}

/// The bytes of a fixture.
pub fn read_fixture(relative: &str) -> Vec<u8> {
    let path = fixture(relative);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// `bytes`, gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}
