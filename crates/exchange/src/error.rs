//! The exchange layer's errors: one enum per operation family, messages
//! that never contain testimony. The CLI and the app add their own hints.

use std::io;

use uuid::Uuid;
use yaddash_bundle::ReadError;
use yaddash_vault::{VaultError, VaultRole};

/// Errors of the exchange layer. Messages never contain testimony.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// From the vault.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Importing a bundle was refused.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// Writing a bundle failed.
    #[error("cannot write the bundle: {0}")]
    Write(#[from] yaddash_bundle::WriteError),
    /// The user stopped it (Ctrl-C, Cancel).
    #[error("stopped: no bundle was written and nothing changed")]
    Cancelled,
    /// Keys stored in the vault are unreadable.
    #[error(
        "the device keys stored in the vault are unreadable ({0}); restore the vault from a backup"
    )]
    Keys(String),
    /// The operation needs the other role.
    #[error("this is a {actual} vault; `{what}` needs a {needed} vault", actual = other_role(*needed), needed = needed.as_str())]
    WrongRole {
        /// What was attempted.
        what: &'static str,
        /// The role needed (the vault has the other one).
        needed: VaultRole,
    },
    /// No trust file imported yet.
    #[error("no trust file: import the coordinators' trust file first")]
    NoTrust,
    /// A trust, device or receipt file is malformed.
    #[error("{what} is not valid: {problem}")]
    BadFile {
        /// Which file.
        what: FileKind,
        /// What is wrong.
        problem: String,
    },
    /// The device is not enrolled in this vault.
    #[error("device {0} is not enrolled in this vault")]
    DeviceNotEnrolled(Uuid),
    /// The device is revoked: nothing is re-issued to it.
    #[error("device {0} is revoked: nothing is re-issued to it")]
    DeviceRevoked(Uuid),
    /// Something this layer wrote cannot be encoded.
    #[error("cannot encode {0}")]
    Encode(String),
    /// A receipt does not verify or does not fit.
    #[error("receipt refused: {0}; nothing changed")]
    Receipt(String),
    /// File-system error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: io::Error,
    },
}

impl ExchangeError {
    /// A stable, machine-readable kind, for callers that map errors to
    /// codes of their own (the app's catalogue, scripts).
    pub fn code(&self) -> &'static str {
        match self {
            ExchangeError::Vault(_) => "vault",
            ExchangeError::Import(e) => e.code(),
            ExchangeError::Write(_) => "write",
            ExchangeError::Cancelled => "cancelled",
            ExchangeError::Keys(_) => "keys",
            ExchangeError::WrongRole { .. } => "wrong_role",
            ExchangeError::NoTrust => "no_trust",
            ExchangeError::DeviceNotEnrolled(_) => "device_not_enrolled",
            ExchangeError::DeviceRevoked(_) => "device_revoked",
            ExchangeError::BadFile { .. } => "bad_file",
            ExchangeError::Encode(_) => "encode",
            ExchangeError::Receipt(_) => "receipt",
            ExchangeError::Io { .. } => "io",
        }
    }
}

fn other_role(r: VaultRole) -> &'static str {
    match r {
        VaultRole::Field => VaultRole::Coordinator.as_str(),
        VaultRole::Coordinator => VaultRole::Field.as_str(),
    }
}

/// Which file or stored document a [`ExchangeError::BadFile`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A trust file given to import.
    Trust,
    /// The trust file stored in the vault.
    StoredTrust,
    /// A device identity file.
    Device,
    /// A receipt file.
    Receipt,
    /// A safety policy given to store.
    Policy,
    /// The safety policy stored in the vault.
    StoredPolicy,
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileKind::Trust => "the trust file",
            FileKind::StoredTrust => "the stored trust file",
            FileKind::Device => "the device file",
            FileKind::Receipt => "the receipt file",
            FileKind::Policy => "the safety policy",
            FileKind::StoredPolicy => "the stored safety policy",
        })
    }
}

/// Why a bundle was not imported. Every refusal leaves the vault unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The bundle reader refused it (signature, hashes, recipients, an
    /// unknown device, a date at or after the revocation...).
    #[error("bundle refused: {0}")]
    Refused(#[from] ReadError),
    /// The bundle was already imported.
    #[error(
        "bundle {bundle_id} (device {device_id}, number {seq}) was already imported on {imported_at}; nothing changed"
    )]
    AlreadyImported {
        /// Bundle id.
        bundle_id: String,
        /// Device.
        device_id: Uuid,
        /// Sequence number.
        seq: u64,
        /// When it was imported.
        imported_at: String,
    },
    /// Another bundle with the same sequence number was imported before.
    #[error(
        "device {device_id} already sent a different bundle numbered {seq}: this one is a forgery or a re-export after a crash; nothing changed. Ask the device's user"
    )]
    SequenceReused {
        /// Device.
        device_id: Uuid,
        /// Sequence number.
        seq: u64,
    },
    /// The bundle's link to its neighbours is wrong.
    #[error(
        "bundle number {seq} of device {device_id} does not chain to bundle number {other}: the bundles were stitched or tampered with; nothing changed"
    )]
    ChainBroken {
        /// Device.
        device_id: Uuid,
        /// This bundle's number.
        seq: u64,
        /// The neighbour it does not chain to.
        other: u64,
    },
    /// The sending device is revoked and nothing this vault holds proves
    /// the bundle was made before the revocation (its own date proves
    /// nothing: whoever holds the seized key sets it).
    #[error(
        "bundle number {seq} of device {device_id} is refused: the device was revoked (from {revoked_from}) and nothing proves this bundle existed before that; its own date proves nothing. This vault held its bundles up to number {held_through_seq}; nothing changed"
    )]
    AfterRevocation {
        /// Device.
        device_id: Uuid,
        /// This bundle's number.
        seq: u64,
        /// The revocation time.
        revoked_from: String,
        /// The highest bundle number held when the device was revoked.
        held_through_seq: u64,
    },
    /// A revision or attachment claims another device than the one that
    /// signed the bundle.
    #[error(
        "{entry} claims to be by device {claimed}, but the bundle is signed by device {sender}: a device may send only its own work; refused, nothing changed"
    )]
    NotFromSender {
        /// The entry.
        entry: String,
        /// The device it claims.
        claimed: String,
        /// The device that signed the bundle.
        sender: Uuid,
    },
    /// A time in the bundle is not a strict RFC 3339 time, or lies after the
    /// bundle's own time (plus the allowed skew).
    #[error("{entry}: {problem}; refused, nothing changed")]
    BadTime {
        /// The entry.
        entry: String,
        /// What is wrong.
        problem: String,
    },
    /// A size or count limit of the importer.
    #[error(
        "the bundle is too large to import: {what} exceeds the limit of {limit} (docs/bundle-format.md, import limits); nothing changed"
    )]
    TooLarge {
        /// What exceeds its limit.
        what: String,
        /// The limit, for people ("256 MiB", "100000 entries").
        limit: String,
    },
    /// An entry inside a verified bundle does not follow the exchange layout.
    #[error("the bundle's contents are not a Yaddash export ({0}); nothing changed")]
    Layout(String),
}

impl ImportError {
    /// A stable, machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Refused(ReadError::SenderRevoked { .. }) => "device_revoked",
            ImportError::Refused(_) => "bundle_refused",
            ImportError::AlreadyImported { .. } => "bundle_replayed",
            ImportError::SequenceReused { .. } => "sequence_reused",
            ImportError::ChainBroken { .. } => "chain_broken",
            ImportError::AfterRevocation { .. } => "device_revoked",
            ImportError::NotFromSender { .. } => "not_from_sender",
            ImportError::BadTime { .. } => "bad_time",
            ImportError::TooLarge { .. } => "too_large",
            ImportError::Layout(_) => "bad_layout",
        }
    }
}

impl From<ReadError> for ExchangeError {
    fn from(e: ReadError) -> Self {
        ExchangeError::Import(ImportError::Refused(e))
    }
}

/// Result alias.
pub type Result<T, E = ExchangeError> = std::result::Result<T, E>;

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ExchangeError {
    let context = context.into();
    move |source| ExchangeError::Io { context, source }
}
