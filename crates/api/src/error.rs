//! The error that crosses the IPC boundary: a small stable code and a human
//! message. Codes are part of the app's interface (the front end switches on
//! them); messages come from the vault's errors, which never contain
//! testimony, names or key material.

use serde::Serialize;
use yaddash_vault::VaultError;

/// Stable, snake_case error codes. Adding one is an interface change: the
/// front end's `ErrorCode` type (ui/src/lib/backend/types.ts) lists the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The passphrase or recovery code opens nothing.
    WrongPassphrase,
    /// The vault is locked: unlock first.
    Locked,
    /// No such record or attachment.
    NotFound,
    /// The request or the record is not valid.
    InvalidInput,
    /// A vault already exists where one was to be created.
    VaultExists,
    /// The configured directory holds no vault.
    NotAVault,
    /// No space left on the disk.
    DiskFull,
    /// The vault is damaged or was tampered with.
    Corrupt,
    /// Another process holds the vault.
    Busy,
    /// The operation was cancelled; nothing was saved.
    Cancelled,
    /// This feature is not available in this version yet.
    NotAvailable,
    /// Anything else (an I/O or database error).
    Internal,
    /// The kill switch is on: nothing goes out.
    NetworkOff,
    /// Sync was never enabled (or was turned off): nothing touches the network.
    SyncDisabled,
    /// The policy requires a proxy but none is set: nothing was tried.
    ProxyRequired,
    /// Manual mode: the app does not send on its own.
    ManualMode,
    /// Automatic sending outside the allowed time windows.
    OutsideWindow,
    /// The SOCKS5 proxy is down: nothing was sent, nothing tried directly.
    ProxyDown,
    /// Talking to the HQ server failed.
    Network,
    /// A receipt or the server's key did not verify.
    Receipt,
    /// The operation needs the other vault role (field or coordinator).
    WrongRole,
    /// The bundle was already imported: nothing changed.
    BundleReplayed,
    /// The device already sent a different bundle with this number.
    SequenceReused,
    /// The bundle does not chain to its neighbours.
    ChainBroken,
    /// The sending device is revoked and nothing proves the bundle predates it.
    DeviceRevoked,
    /// A revision or attachment in the bundle claims another device.
    NotFromSender,
    /// The bundle exceeds an import limit.
    TooLarge,
}

impl ErrorCode {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::WrongPassphrase => "wrong_passphrase",
            ErrorCode::Locked => "locked",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::VaultExists => "vault_exists",
            ErrorCode::NotAVault => "not_a_vault",
            ErrorCode::DiskFull => "disk_full",
            ErrorCode::Corrupt => "corrupt",
            ErrorCode::Busy => "busy",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::NotAvailable => "not_available",
            ErrorCode::Internal => "internal",
            ErrorCode::NetworkOff => "network_off",
            ErrorCode::SyncDisabled => "sync_disabled",
            ErrorCode::ProxyRequired => "proxy_required",
            ErrorCode::ManualMode => "manual_mode",
            ErrorCode::OutsideWindow => "outside_window",
            ErrorCode::ProxyDown => "proxy_down",
            ErrorCode::Network => "network",
            ErrorCode::Receipt => "receipt",
            ErrorCode::WrongRole => "wrong_role",
            ErrorCode::BundleReplayed => "bundle_replayed",
            ErrorCode::SequenceReused => "sequence_reused",
            ErrorCode::ChainBroken => "chain_broken",
            ErrorCode::DeviceRevoked => "device_revoked",
            ErrorCode::NotFromSender => "not_from_sender",
            ErrorCode::TooLarge => "too_large",
        }
    }
}

/// An error as the front end sees it: `{"code": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// What kind of failure, for the UI to react to.
    pub code: ErrorCode,
    /// What is wrong and what to try, for the user.
    pub message: String,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// The vault is locked.
    pub fn locked() -> ApiError {
        ApiError::new(
            ErrorCode::Locked,
            "the vault is locked: unlock it with your passphrase",
        )
    }

    /// Invalid input, naming what is wrong.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidInput, message)
    }

    /// A feature that lands with a later part of the system.
    pub fn not_available(what: &str) -> ApiError {
        ApiError::new(
            ErrorCode::NotAvailable,
            format!("{what} is not available in this version yet"),
        )
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        let code = match &e {
            VaultError::NotAVault(_) => ErrorCode::NotAVault,
            VaultError::AlreadyExists(_) => ErrorCode::VaultExists,
            VaultError::WrongPassphrase => ErrorCode::WrongPassphrase,
            VaultError::Corrupt(_)
            | VaultError::AttachmentMissing(_)
            | VaultError::AttachmentCorrupt { .. } => ErrorCode::Corrupt,
            VaultError::Busy => ErrorCode::Busy,
            VaultError::DiskFull(_) => ErrorCode::DiskFull,
            VaultError::NotFound { .. } => ErrorCode::NotFound,
            VaultError::WrongReference { .. }
            | VaultError::Invalid(_)
            | VaultError::KindChange { .. }
            | VaultError::BadSecret(_)
            | VaultError::Refused(_) => ErrorCode::InvalidInput,
            VaultError::Cancelled => ErrorCode::Cancelled,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<yaddash_exchange::ExchangeError> for ApiError {
    fn from(e: yaddash_exchange::ExchangeError) -> Self {
        use yaddash_exchange::ExchangeError as E;
        // The import's refusals keep their kind (exchange's stable codes).
        let code = match e.code() {
            "wrong_role" => ErrorCode::WrongRole,
            "bundle_replayed" => ErrorCode::BundleReplayed,
            "sequence_reused" => ErrorCode::SequenceReused,
            "chain_broken" => ErrorCode::ChainBroken,
            "device_revoked" => ErrorCode::DeviceRevoked,
            "not_from_sender" => ErrorCode::NotFromSender,
            "too_large" => ErrorCode::TooLarge,
            _ => ErrorCode::InvalidInput,
        };
        match e {
            E::Vault(v) => v.into(),
            E::Io { .. } | E::Keys(_) => ApiError::new(ErrorCode::Internal, e.to_string()),
            other => ApiError::new(code, other.to_string()),
        }
    }
}

impl From<yaddash_outbox::OutboxError> for ApiError {
    fn from(e: yaddash_outbox::OutboxError) -> Self {
        use yaddash_outbox::OutboxError as E;
        // The outbox's own codes for the network path; the vault's and the
        // exchange's errors keep their mapping.
        let code = match e.code() {
            "network_off" => ErrorCode::NetworkOff,
            "sync_disabled" => ErrorCode::SyncDisabled,
            "proxy_required" => ErrorCode::ProxyRequired,
            "manual_mode" => ErrorCode::ManualMode,
            "outside_window" => ErrorCode::OutsideWindow,
            "proxy_down" => ErrorCode::ProxyDown,
            "cancelled" => ErrorCode::Cancelled,
            "network" => ErrorCode::Network,
            "receipt" => ErrorCode::Receipt,
            "setup" => ErrorCode::InvalidInput,
            _ => match e {
                E::Vault(v) => return v.into(),
                E::Exchange(x) => return x.into(),
                _ => ErrorCode::Internal,
            },
        };
        ApiError::new(code, e.to_string())
    }
}

/// Result alias for the API.
pub type ApiResult<T> = Result<T, ApiError>;
