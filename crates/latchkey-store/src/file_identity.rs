//! The SQLite file a store opened, by device and inode. A file deleted or replaced under a running server
//! (a restore copied over it, a clean-up script) would otherwise go on taking writes into an unlinked inode,
//! or into a file other connections do not see, all of it answered with 200 and lost at the next start.
//! Every write turn and every readiness check compares the path's identity with the one opened.

use crate::StoreError;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileIdentity {
    path: PathBuf,
    device: u64,
    inode: u64,
}

impl FileIdentity {
    /// The identity of the file now at `path`.
    pub(crate) fn of(path: &str) -> Result<Self, StoreError> {
        let metadata = std::fs::metadata(path).map_err(|error| gone(path, &error.to_string()))?;
        Ok(Self { path: PathBuf::from(path), device: metadata.dev(), inode: metadata.ino() })
    }

    /// `Unavailable` unless the path still names the file that was opened.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        let path = self.path.to_string_lossy();
        match std::fs::metadata(&self.path) {
            Ok(now) if now.dev() == self.device && now.ino() == self.inode => Ok(()),
            Ok(_) => Err(gone(&path, "it was replaced by another file")),
            Err(error) => Err(gone(&path, &error.to_string())),
        }
    }
}

fn gone(path: &str, why: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "the database file {path} is not the one this server opened ({why}); writes are refused until a restart"
    ))
}

/// The process's SQLite writer lock (see [`crate::Store`]), with what every turn checks first.
#[derive(Debug, Default)]
pub(crate) struct WriterLock {
    /// `None` for an in-memory database.
    pub(crate) file: Option<FileIdentity>,
}
