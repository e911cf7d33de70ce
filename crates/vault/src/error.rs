//! Vault errors. Messages say what is wrong and what to try; they never
//! contain testimony, names or key material.

use std::io;
use std::path::PathBuf;

use uuid::Uuid;
use yaddash_model::{InvalidRecord, RecordKind};

/// Everything that can go wrong with a vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The directory does not hold a vault.
    #[error("{0} is not a Yaddash vault (no keyslots/ or vault.db)")]
    NotAVault(PathBuf),
    /// `init` on a directory that is not empty.
    #[error("{0} already exists and is not empty: choose a new directory for the vault")]
    AlreadyExists(PathBuf),
    /// The passphrase (or recovery code) opens no keyslot.
    #[error("wrong passphrase or recovery code: the vault was not opened and nothing was changed")]
    WrongPassphrase,
    /// A keyslot opened but the database refuses the key, or is damaged.
    #[error(
        "the vault database is damaged or was replaced ({0}); nothing was changed. Restore vault.db from a backup"
    )]
    Corrupt(String),
    /// Another process holds the vault.
    #[error("the vault is busy: another Yaddash process is using it. Close it and try again")]
    Busy,
    /// The disk (or the database's size limit) is full.
    #[error(
        "no space left while {0}: nothing was saved by this operation and earlier records are intact. Free some space and try again"
    )]
    DiskFull(&'static str),
    /// No record with this id.
    #[error("no {kind} with id {id} in this vault")]
    NotFound {
        /// What was looked for.
        kind: &'static str,
        /// The id asked for.
        id: Uuid,
    },
    /// A record refers to a record of the wrong kind.
    #[error("record {id} is a {found}, but `{field}` must refer to a {expected}")]
    WrongReference {
        /// The field.
        field: &'static str,
        /// The id referred to.
        id: Uuid,
        /// What the field expects.
        expected: RecordKind,
        /// What the id is.
        found: RecordKind,
    },
    /// A record fails validation.
    #[error(transparent)]
    Invalid(#[from] InvalidRecord),
    /// An edit would change a record's kind.
    #[error("record {id} is a {existing}; an edit cannot turn it into a {new}")]
    KindChange {
        /// The record.
        id: Uuid,
        /// Its kind.
        existing: RecordKind,
        /// The kind of the new body.
        new: RecordKind,
    },
    /// The encrypted file of an attachment is gone.
    #[error(
        "attachment {0}: its encrypted file is missing from attachments/; restore it from a backup"
    )]
    AttachmentMissing(Uuid),
    /// The encrypted file of an attachment does not decrypt or does not match its hash.
    #[error(
        "attachment {id}: {problem}; the file was altered or damaged, restore it from a backup"
    )]
    AttachmentCorrupt {
        /// The attachment.
        id: Uuid,
        /// What failed.
        problem: String,
    },
    /// The recovery code or passphrase given is unusable.
    #[error("{0}")]
    BadSecret(&'static str),
    /// A file system error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Any other database error (messages from SQLite hold no row data).
    #[error("database error: {0}")]
    Db(rusqlite::Error),
    /// A request that contradicts what is stored (e.g. merging a person
    /// with itself); nothing was changed.
    #[error("{0}; nothing was changed")]
    Refused(String),
    /// The operation was cancelled; nothing was saved by it.
    #[error("cancelled: nothing was saved by this operation")]
    Cancelled,
}

/// Result alias.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => VaultError::DiskFull("writing to the database"),
            Some(ErrorCode::NotADatabase) => {
                VaultError::Corrupt("the key does not fit or the file is not a database".into())
            }
            Some(ErrorCode::DatabaseCorrupt) => {
                VaultError::Corrupt("the database file is malformed".into())
            }
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => VaultError::Busy,
            _ => VaultError::Db(e),
        }
    }
}

/// Adds context to I/O errors, and recognises a full disk.
pub(crate) trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| io_error(source, context))
    }
}

pub(crate) fn io_error(source: io::Error, context: impl FnOnce() -> String) -> VaultError {
    if source.kind() == io::ErrorKind::StorageFull || source.raw_os_error() == Some(28) {
        VaultError::DiskFull("writing a file")
    } else {
        VaultError::Io {
            context: context(),
            source,
        }
    }
}
