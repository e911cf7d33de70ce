//! Errors of the bundle writer. The reading, key and receipt errors live in
//! `yaddash-wire` and are re-exported from the crate root.

use std::io;

pub use yaddash_wire::SignatureError;

/// Errors while writing a bundle. A failed write leaves a partial output
/// file that must be deleted; nothing else is touched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Writing the output or reading an entry failed.
    #[error(
        "input/output error while writing the bundle: {0}; check free disk space and permissions"
    )]
    Io(#[from] io::Error),
    /// An entry path is not allowed.
    #[error("entry path {path:?} is not allowed: {reason}")]
    BadEntryPath {
        /// The offending path.
        path: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// No coordinator recipient was given.
    #[error("no recipient given: a bundle must be encrypted to at least one coordinator key")]
    NoRecipients,
    /// The hq_id is empty or too long.
    #[error("the headquarters id must be 1 to 200 printable characters")]
    BadHqId,
    /// An entry reader yielded a different number of bytes than declared.
    #[error(
        "entry {path:?} yielded {actual} bytes but {expected} were declared; the source changed or is damaged"
    )]
    EntrySizeMismatch {
        /// Entry path.
        path: String,
        /// Declared size.
        expected: u64,
        /// Bytes actually read (stops counting one past `expected`).
        actual: u64,
    },
    /// An entry reader yielded bytes whose SHA-256 differs from the declared one.
    #[error(
        "entry {path:?} does not match its recorded SHA-256; the stored copy is damaged or was altered"
    )]
    EntryHashMismatch {
        /// Entry path.
        path: String,
    },
    /// Encryption set-up failed.
    #[error("could not set up age encryption to the coordinator keys")]
    Encrypt,
    /// Signing failed.
    #[error("could not sign the bundle: {0}")]
    Sign(#[from] SignatureError),
    /// The payload is too large for this format (over 8 EiB).
    #[error("the bundle is too large")]
    TooLarge,
}
