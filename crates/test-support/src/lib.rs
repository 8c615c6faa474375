//! Helpers shared by the workspace's tests. Not published; no crate of the product depends on
//! it outside `[dev-dependencies]`.
//!
//! The public ET sample lists live outside this repository, in `../shared/et-samples` beside
//! the workspace. Every test that reads them finds them through [`et_samples_dir`], so that the
//! rule for a missing folder is written once:
//!
//! - `ET_SAMPLES_DIR` names the folder; by default it is `../shared/et-samples` resolved from the
//!   workspace root.
//! - Where the folder is absent (a user's own clone) the test is skipped with a line on stderr.
//! - Where `ET_SAMPLES_REQUIRED` is set to anything but `0` or an empty string (CI sets it), a
//!   missing folder fails the test instead, so that CI always runs them.
//!
//! ```no_run
//! let Some(samples) = test_support::et_samples_dir() else { return };
//! let list = samples.join("public/detailed-iprepdata.txt");
//! # let _ = list;
//! ```

pub mod raw_http;

use std::env;
use std::path::{Path, PathBuf};

/// The environment variable that names the sample folder.
pub const SAMPLES_DIR_VAR: &str = "ET_SAMPLES_DIR";

/// The environment variable that turns a missing sample folder from a skip into a failure.
pub const SAMPLES_REQUIRED_VAR: &str = "ET_SAMPLES_REQUIRED";

/// The root of this workspace, from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared sample folder, or `None` (after a line on stderr) where it is absent and not
/// required.
///
/// # Panics
///
/// Panics where the folder is absent and `ET_SAMPLES_REQUIRED` asks for it: that is a test
/// failure by design.
pub fn et_samples_dir() -> Option<PathBuf> {
    let dir = match env::var_os(SAMPLES_DIR_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("../shared/et-samples"),
    };
    if dir.is_dir() {
        return Some(dir);
    }

    let required = env::var(SAMPLES_REQUIRED_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "{SAMPLES_REQUIRED_VAR} is set but the ET sample folder {} does not exist",
        dir.display()
    );
    eprintln!(
        "skipped: the ET sample folder {} does not exist (set {SAMPLES_DIR_VAR} to use another)",
        dir.display()
    );
    None
}

/// A file inside the shared sample folder, or `None` where the folder is absent (see
/// [`et_samples_dir`]).
pub fn et_sample(relative: &str) -> Option<PathBuf> {
    et_samples_dir().map(|dir| dir.join(relative))
}

/// A file under a crate's `tests/fixtures` folder, given that crate's manifest directory.
pub fn fixture(manifest_dir: &str, relative: &str) -> PathBuf {
    Path::new(manifest_dir)
        .join("tests/fixtures")
        .join(relative)
}
