//! The local directory source: the published files, read from a folder.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::categories::{CATEGORIES_FILE, CategoryTable};
use crate::error::Error;
use crate::file::ListFile;
use crate::md5sum::{Md5Digest, Md5Hasher};
use crate::parse::{ListParser, ListSummary, READ_BUFFER};
use crate::reject::RowSink;
use crate::source::{FetchOutcome, ListSource, Validators};

/// The lists read from a local folder that holds the published files under their own names
/// (a mirror, a test set, the demo lists).
///
/// A list's `.md5sum` sidecar is used where the folder has one; where it has none, the MD5 is
/// computed from the file. A `categories.txt` in the folder wins over the built-in table.
///
/// The files are read with blocking I/O on the calling task: fine for a job that does one
/// thing at a time, to be moved to a blocking thread by a caller that serves others meanwhile.
#[derive(Debug, Clone)]
pub struct DirectorySource {
    dir: PathBuf,
}

impl DirectorySource {
    /// A source over the folder `dir`. The folder is not read until a fetch.
    pub fn new(dir: impl Into<PathBuf>) -> DirectorySource {
        DirectorySource { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Fetches `file` as [`ListSource::fetch`] does, without an async runtime.
    ///
    /// # Errors
    ///
    /// The file or its sidecar cannot be read, the sidecar holds no MD5, the file does not
    /// match its sidecar, or its content fails as in [`ListParser::finish`].
    pub fn fetch_blocking<S: RowSink + ?Sized>(
        &self,
        file: ListFile,
        known: &Validators,
        sink: &mut S,
    ) -> Result<FetchOutcome, Error> {
        let path = self.dir.join(file.name());
        let sidecar = self.read_sidecar(file)?;

        let current = match (sidecar, known.md5) {
            (Some(md5), _) => Some(md5),
            (None, Some(_)) => Some(md5_of_file(&path)?),
            (None, None) => None,
        };
        if current.is_some() && current == known.md5 {
            tracing::debug!(%file, md5 = ?current, "the list is unchanged (same md5)");
            return Ok(FetchOutcome::NotModified {
                validators: known.clone(),
            });
        }

        let (summary, actual) = parse_file_hashing(&path, file.name(), sink)?;
        if let Some(expected) = sidecar.filter(|expected| *expected != actual) {
            return Err(Error::Md5Mismatch {
                file: file.name().to_owned(),
                expected,
                actual,
            });
        }

        tracing::info!(%file, rows = summary.rows, rejected = summary.rejected, "read the list");
        let validators = Validators {
            md5: Some(actual),
            etag: None,
            last_modified: None,
        };
        Ok(FetchOutcome::Complete {
            validators,
            summary,
        })
    }

    /// The category table as [`ListSource::categories`] gives it, without an async runtime.
    ///
    /// # Errors
    ///
    /// The folder has a `categories.txt` that cannot be read.
    pub fn categories_blocking(&self) -> Result<CategoryTable, Error> {
        let path = self.dir.join(CATEGORIES_FILE);
        let Some(text) = read_if_present(&path)? else {
            let dir = self.dir.display();
            tracing::debug!(%dir, "no categories.txt: using the built-in table");
            return Ok(CategoryTable::builtin());
        };

        let table = CategoryTable::parse(&text);
        if table.is_empty() {
            let path = path.display();
            tracing::warn!(%path, "categories.txt has no category: using the built-in table");
            return Ok(CategoryTable::builtin());
        }
        tracing::debug!(path = %path.display(), categories = table.len(), "read the categories");
        Ok(table)
    }

    fn read_sidecar(&self, file: ListFile) -> Result<Option<Md5Digest>, Error> {
        let name = file.sidecar_name();
        let Some(text) = read_if_present(&self.dir.join(&name))? else {
            tracing::debug!(%file, "no md5 sidecar: the md5 is computed from the file");
            return Ok(None);
        };
        Md5Digest::from_sidecar(&name, &text).map(Some)
    }
}

#[async_trait]
impl ListSource for DirectorySource {
    async fn fetch(
        &self,
        file: ListFile,
        known: &Validators,
        sink: &mut (dyn RowSink + Send),
    ) -> Result<FetchOutcome, Error> {
        self.fetch_blocking(file, known, sink)
    }

    async fn categories(&self) -> Result<CategoryTable, Error> {
        self.categories_blocking()
    }
}

/// The bytes of the file at `path`, or `None` where there is no such file.
fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Open {
            path: path.to_owned(),
            source,
        }),
    }
}

fn md5_of_file(path: &Path) -> Result<Md5Digest, Error> {
    let mut hasher = Md5Hasher::default();
    read_chunks(path, |chunk| {
        hasher.update(chunk);
        Ok(())
    })?;
    Ok(hasher.finish())
}

/// Parses the list at `path` and computes its MD5, in one pass.
fn parse_file_hashing<S: RowSink + ?Sized>(
    path: &Path,
    name: &str,
    sink: &mut S,
) -> Result<(ListSummary, Md5Digest), Error> {
    let mut hasher = Md5Hasher::default();
    let mut parser = ListParser::named(name);
    read_chunks(path, |chunk| {
        hasher.update(chunk);
        parser.feed(chunk, sink)
    })?;
    let summary = parser.finish(sink)?;
    Ok((summary, hasher.finish()))
}

fn read_chunks(
    path: &Path,
    mut on_chunk: impl FnMut(&[u8]) -> Result<(), Error>,
) -> Result<(), Error> {
    let open_error = |source| Error::Open {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(open_error)?;
    let mut buffer = vec![0; READ_BUFFER];
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(Error::Read {
                    file: path.display().to_string(),
                    source,
                });
            }
        };
        on_chunk(&buffer[..read])?;
    }
}
