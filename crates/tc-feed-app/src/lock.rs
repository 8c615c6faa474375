//! The lock beside the state: one run at a time per state.
//!
//! The lock is an advisory lock the kernel holds on an open file, so a run that dies (even by
//! `SIGKILL`) releases it: no stale lock file can block the next run.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::state::with_suffix;

/// A failure to take the lock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another run holds the lock.
    #[error(
        "another tc-feed run holds the lock {} on this state{}",
        path.display(),
        holder.as_deref().map(|holder| format!(" ({holder})")).unwrap_or_default()
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// What the holder wrote into the lock file (its process ID and start time).
        holder: Option<String>,
    },

    /// The lock file could not be opened or locked.
    #[error("cannot lock {}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// The lock beside a state, held until dropped.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    path: PathBuf,
}

impl StateLock {
    /// The lock file beside a state snapshot.
    pub fn path_for(state: &Path) -> PathBuf {
        with_suffix(state, ".lock")
    }

    /// Takes the lock beside `state` without waiting.
    ///
    /// # Errors
    ///
    /// [`LockError::Held`] while another run holds it; [`LockError::Io`] where the lock file
    /// cannot be created.
    pub fn acquire(state: &Path) -> Result<StateLock, LockError> {
        let path = StateLock::path_for(state);
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(io_error)?;
        }

        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .map(|text| text.trim().to_owned());
                return Err(LockError::Held {
                    path,
                    holder: holder.filter(|h| !h.is_empty()),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_error(source)),
        }

        // Who holds it, for the message a second run prints; the lock itself is the flock.
        let holder = format!(
            "pid {} since {}",
            std::process::id(),
            chrono::Utc::now().to_rfc3339()
        );
        file.set_len(0)
            .and_then(|()| file.write_all(holder.as_bytes()))
            .map_err(io_error)?;
        Ok(StateLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_the_same_state_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let first = StateLock::acquire(&state).unwrap();

        let error = StateLock::acquire(&state).unwrap_err();
        assert!(matches!(error, LockError::Held { .. }));
        assert!(
            error
                .to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{error}"
        );

        drop(first);
        StateLock::acquire(&state).unwrap();
    }
}
