//! The error that crosses the IPC boundary: one stable [`Code`] per kind of
//! failure, its parameters (numbers and fixed words, never testimony, names
//! or keys) and the library's English text as `detail`. The app shows its own
//! catalogue sentence for the code, in the user's language, with the
//! parameters filled in; the English detail sits behind a "Details" toggle.
//!
//! Every library error is mapped here by its kind, never by its text: the
//! libraries carry no UI text and no command-line advice (the CLI adds its
//! own hints in `crates/cli/src/common.rs`).

use std::collections::BTreeMap;

use serde::Serialize;
use yaddash_bundle::{ReadError, ReceiptError};
use yaddash_exchange::{ExchangeError, FileKind, ImportError};
use yaddash_outbox::{OutboxError, Refusal};
use yaddash_register::RegisterError;
use yaddash_sync::SyncError;
use yaddash_vault::{VaultError, VaultRole};

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident, )*) => {
        /// Stable, snake_case error codes: the app's catalogue has a sentence
        /// for each, in every language (a Vitest test checks it against the
        /// generated list). Adding one is an interface change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ts_rs::TS)]
        #[serde(rename_all = "snake_case")]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];
        }
    };
}

codes! {
    // ----- the vault and the session -----
    /// The passphrase or recovery code opens nothing.
    WrongPassphrase,
    /// A wrong passphrase was the last attempt allowed: the vault was erased.
    VaultErased,
    /// The recovery code or new passphrase is unusable (too short, malformed).
    BadSecret,
    /// The vault is locked: unlock first.
    Locked,
    /// No such record or attachment.
    NotFound,
    /// The request is not valid (a programming or input error without a finer kind).
    InvalidInput,
    /// A record fails validation. Params: `kind` (person, case, interview).
    InvalidRecord,
    /// A reference field points at a record of the wrong kind. Params: `expected`, `found` (record kinds).
    WrongReference,
    /// An edit would change a record's kind. Params: `existing`, `new`.
    KindChange,
    /// A path given to the app is not absolute.
    PathNotAbsolute,
    /// A file the user chose does not exist.
    FileNotFound,
    /// A file could not be read (not text, no permission).
    FileUnreadable,
    /// A file is too large for what it should be.
    FileTooLarge,
    /// A reason is required (a status set by hand).
    ReasonRequired,
    /// A vault already exists where one was to be created.
    VaultExists,
    /// The configured directory holds no vault.
    NotAVault,
    /// No space left on the disk; nothing was saved by this operation.
    DiskFull,
    /// The vault database is damaged or was replaced.
    Corrupt,
    /// An attachment's encrypted file is missing.
    AttachmentMissing,
    /// An attachment's encrypted file is altered or damaged.
    AttachmentCorrupt,
    /// Another process holds the vault.
    Busy,
    /// The operation was cancelled; nothing was saved.
    Cancelled,
    /// This feature is not available in this version or build.
    NotAvailable,
    /// A request contradicts what is stored (merging a person with itself…); nothing changed.
    RequestRefused,
    /// Anything else (an I/O or database error).
    Internal,
    /// The operation needs the other vault role. Params: `needed` (field, coordinator).
    WrongRole,
    // ----- trust, devices, keys -----
    /// No trust file imported yet.
    NoTrust,
    /// The trust file is not valid.
    TrustFileInvalid,
    /// The device identity file is not valid.
    DeviceFileInvalid,
    /// The receipt file is not valid.
    ReceiptFileInvalid,
    /// The safety policy (given or stored) is not valid.
    PolicyInvalid,
    /// The device keys stored in the vault are unreadable.
    DeviceKeysUnreadable,
    /// The device is not enrolled in this vault.
    DeviceNotEnrolled,
    // ----- bundles: writing -----
    /// Writing a bundle failed.
    BundleWriteFailed,
    /// Nothing new since the last bundle: no file was written.
    NothingToExport,
    // ----- bundles: reading and importing -----
    /// The file is not a Yaddash bundle.
    NotABundle,
    /// The bundle's format version is unknown to this version. Params: `version`.
    BundleVersionUnsupported,
    /// The bundle file ends early.
    BundleTruncated,
    /// The bundle's contents were altered or damaged (sizes, hashes, padding).
    BundleAltered,
    /// A signature over the bundle does not verify: forged or re-packaged.
    BundleForged,
    /// The bundle is not encrypted to this vault's key.
    BundleNotForUs,
    /// The bundle was made for another headquarters.
    BundleWrongHeadquarters,
    /// The sending device is not enrolled here.
    UnknownSender,
    /// The enrolled key of the sender is unreadable.
    SenderKeyInvalid,
    /// The bundle was already imported: nothing changed. Params: `seq`.
    BundleReplayed,
    /// The device already sent a different bundle with this number. Params: `seq`.
    BundleSequenceReused,
    /// The bundle does not chain to its neighbours. Params: `seq`, `other`.
    BundleChainBroken,
    /// The sending device is revoked and nothing proves the bundle predates it. Params: `seq` (when known).
    DeviceRevoked,
    /// A revision or attachment in the bundle claims another device.
    BundleNotFromSender,
    /// A time in the bundle is not valid or lies in the future.
    BundleBadTime,
    /// The bundle exceeds an import limit.
    BundleTooLarge,
    /// The bundle's contents are not a Yaddash export.
    BundleBadLayout,
    // ----- receipts -----
    /// A receipt does not verify or does not fit: nothing changed.
    ReceiptRefused,
    // ----- sync with headquarters -----
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
    /// The proxy URL is not a SOCKS5 URL.
    BadProxy,
    /// The HQ server cannot be reached.
    Network,
    /// The HQ server refused the request. Params: `status` (HTTP status).
    ServerRefused,
    /// The HQ server answered something unexpected.
    ServerProtocol,
    /// The HQ server URL is not usable.
    BadUrl,
    /// No HQ server URL is known yet.
    NoServerUrl,
    /// This device is not enrolled at an HQ server.
    NotEnrolled,
    /// The trust file names no HQ server key (or an unusable one).
    NoServerKey,
    /// The HQ server key given is not an OpenSSH Ed25519 public key.
    ServerKeyInvalid,
    /// The server's key differs from the one the trust file pins: maybe an impostor.
    ServerKeyMismatch,
    /// The server serves another headquarters.
    ServerOtherHeadquarters,
    /// The enrollment code is not valid.
    BadEnrollCode,
    /// A file in the outbox is not a bundle this vault made. Params: `seq`.
    UnknownOutboxFile,
    /// That bundle is not in the outbox. Params: `seq`.
    NotInOutbox,
    // ----- the register -----
    /// An export could not be produced. Params: `format`.
    ExportFailed,
    // ----- evidence packs -----
    /// The evidence pack cannot be made as asked; nothing was written.
    EvidenceRefused,
    /// A revision or attachment does not match its hash: no pack was written.
    EvidenceDamaged,
    /// Writing the evidence pack failed; nothing was left behind.
    EvidenceWriteFailed,
    // ----- under coercion -----
    /// The number of failed unlocks is out of range. Params: `min`, `max`.
    UnlockLimitRange,
    /// Quick delete did not finish: the vault may be partly left.
    QuickDeleteFailed,
    // ----- recording -----
    /// No microphone (audio input) at all.
    NoMicrophone,
    /// The chosen audio input is gone.
    MicrophoneUnknown,
    /// The audio input refused to open or failed while recording.
    MicrophoneFailed,
    /// Encoding or saving the recording failed.
    RecordingFailed,
    /// A recording is already running.
    RecordingRunning,
    /// No recording is running.
    NoRecording,
    /// Recordings belong to a saved interview.
    NotAnInterview,
    /// Too little free disk space to start recording. Params: `free_mib`, `need_mib`.
    RecordingLowSpace,
    /// Only a regular file can be moved into the vault.
    NotARegularFile,
    /// The file changed while it was imported: the original was kept.
    FileChanged,
    /// Saved and verified in the vault, but the original could not be removed.
    OriginalNotRemoved,
}

/// A parameter of an error: a number or a fixed word (a record kind, a
/// role, a format), never testimony, a name or a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Param {
    /// A count, a bundle number, an HTTP status.
    Number(u64),
    /// A fixed word from a closed list.
    Word(String),
}

impl From<u64> for Param {
    fn from(n: u64) -> Self {
        Param::Number(n)
    }
}

impl From<u32> for Param {
    fn from(n: u32) -> Self {
        Param::Number(n.into())
    }
}

impl From<u16> for Param {
    fn from(n: u16) -> Self {
        Param::Number(n.into())
    }
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Word(s.to_string())
    }
}

/// An error as the front end sees it:
/// `{"code": "bundle_sequence_reused", "params": {"seq": 7}, "detail": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{detail}")]
pub struct ApiError {
    /// What kind of failure, for the UI to react to and translate.
    pub code: Code,
    /// The catalogue sentence's placeholders.
    #[ts(type = "Record<string, string | number>")]
    pub params: BTreeMap<String, Param>,
    /// The library's English text (shown behind "Details"). Never
    /// testimony, names or key material.
    pub detail: String,
}

impl ApiError {
    /// An error with a code and an English detail.
    pub fn new(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            params: BTreeMap::new(),
            detail: detail.into(),
        }
    }

    /// Adds a parameter for the catalogue sentence.
    pub fn with(mut self, name: &str, value: impl Into<Param>) -> ApiError {
        self.params.insert(name.to_string(), value.into());
        self
    }

    /// The vault is locked.
    pub fn locked() -> ApiError {
        ApiError::new(
            Code::Locked,
            "the vault is locked: unlock it with your passphrase",
        )
    }

    /// Invalid input, naming what is wrong.
    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidInput, detail)
    }

    /// The operation needs the other role.
    pub fn wrong_role(needed: VaultRole, detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::WrongRole, detail).with("needed", needed.as_str())
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        let detail = e.to_string();
        let err = |code| ApiError::new(code, detail.clone());
        match &e {
            VaultError::NotAVault(_) => err(Code::NotAVault),
            VaultError::AlreadyExists(_) => err(Code::VaultExists),
            VaultError::WrongPassphrase => err(Code::WrongPassphrase),
            VaultError::Corrupt(_) => err(Code::Corrupt),
            VaultError::AttachmentMissing(_) => err(Code::AttachmentMissing),
            VaultError::AttachmentCorrupt { .. } => err(Code::AttachmentCorrupt),
            VaultError::Busy => err(Code::Busy),
            VaultError::DiskFull(_) => err(Code::DiskFull),
            VaultError::NotFound { .. } => err(Code::NotFound),
            VaultError::WrongReference {
                expected, found, ..
            } => err(Code::WrongReference)
                .with("expected", expected.as_str())
                .with("found", found.as_str()),
            VaultError::Invalid(r) => err(Code::InvalidRecord).with("kind", r.kind.as_str()),
            VaultError::KindChange { existing, new, .. } => err(Code::KindChange)
                .with("existing", existing.as_str())
                .with("new", new.as_str()),
            VaultError::BadSecret(_) => err(Code::BadSecret),
            VaultError::Refused(_) => err(Code::RequestRefused),
            VaultError::Cancelled => err(Code::Cancelled),
            _ => err(Code::Internal),
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        use ReadError as R;
        let code = match &e {
            R::NotABundle { .. } => Code::NotABundle,
            R::UnsupportedVersion { found } => {
                return ApiError::new(Code::BundleVersionUnsupported, e.to_string())
                    .with("version", *found);
            }
            R::Truncated => Code::BundleTruncated,
            R::TrailingData { .. }
            | R::PayloadCorrupt
            | R::MalformedPayload { .. }
            | R::ManifestInvalid { .. }
            | R::EntryMissing { .. }
            | R::UnexpectedEntry { .. }
            | R::EntrySizeMismatch { .. }
            | R::EntryHashMismatch { .. }
            | R::PaddingNotZero => Code::BundleAltered,
            R::OuterSignatureInvalid(_)
            | R::ManifestSignatureInvalid
            | R::ManifestSignedByOtherKey
            | R::DeviceMismatch { .. } => Code::BundleForged,
            R::NotForUs | R::NotAnIntendedRecipient | R::RecipientsMismatch { .. } => {
                Code::BundleNotForUs
            }
            R::WrongHeadquarters { .. } => Code::BundleWrongHeadquarters,
            R::UnknownSender { .. } => Code::UnknownSender,
            R::SenderKeyInvalid { .. } => Code::SenderKeyInvalid,
            R::SenderRevoked { .. } => Code::DeviceRevoked,
            R::Io(io) if is_disk_full(io) => Code::DiskFull,
            _ => Code::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        use ImportError as I;
        let detail = e.to_string();
        let err = |code| ApiError::new(code, detail.clone());
        match e {
            I::Refused(r) => r.into(),
            I::AlreadyImported { seq, .. } => err(Code::BundleReplayed).with("seq", seq),
            I::SequenceReused { seq, .. } => err(Code::BundleSequenceReused).with("seq", seq),
            I::ChainBroken { seq, other, .. } => err(Code::BundleChainBroken)
                .with("seq", seq)
                .with("other", other),
            I::AfterRevocation { seq, .. } => err(Code::DeviceRevoked).with("seq", seq),
            I::NotFromSender { .. } => err(Code::BundleNotFromSender),
            I::BadTime { .. } => err(Code::BundleBadTime),
            I::TooLarge { .. } => err(Code::BundleTooLarge),
            I::Layout(_) => err(Code::BundleBadLayout),
            _ => err(Code::Internal),
        }
    }
}

impl From<ExchangeError> for ApiError {
    fn from(e: ExchangeError) -> Self {
        use ExchangeError as E;
        let detail = e.to_string();
        let err = |code| ApiError::new(code, detail.clone());
        match e {
            E::Vault(v) => v.into(),
            E::Import(i) => i.into(),
            E::Write(_) => err(Code::BundleWriteFailed),
            E::Cancelled => err(Code::Cancelled),
            E::Keys(_) => err(Code::DeviceKeysUnreadable),
            E::WrongRole { needed, .. } => err(Code::WrongRole).with("needed", needed.as_str()),
            E::NoTrust => err(Code::NoTrust),
            E::BadFile { what, .. } => err(match what {
                FileKind::Trust | FileKind::StoredTrust => Code::TrustFileInvalid,
                FileKind::Device => Code::DeviceFileInvalid,
                FileKind::Receipt => Code::ReceiptFileInvalid,
                FileKind::Policy | FileKind::StoredPolicy => Code::PolicyInvalid,
                _ => Code::InvalidInput,
            }),
            E::DeviceNotEnrolled(_) => err(Code::DeviceNotEnrolled),
            E::Receipt(_) => err(Code::ReceiptRefused),
            E::Io { source, .. } if is_disk_full(&source) => err(Code::DiskFull),
            _ => err(Code::Internal),
        }
    }
}

impl From<ReceiptError> for ApiError {
    fn from(e: ReceiptError) -> Self {
        ApiError::new(Code::ReceiptRefused, e.to_string())
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        let detail = e.to_string();
        let err = |code| ApiError::new(code, detail.clone());
        match e {
            SyncError::Transport(_) => err(Code::Network),
            SyncError::Server { status, .. } => err(Code::ServerRefused).with("status", status),
            SyncError::Protocol(_) => err(Code::ServerProtocol),
            SyncError::BadUrl(_) => err(Code::BadUrl),
            SyncError::ProxyDown { .. } => err(Code::ProxyDown),
            SyncError::Cancelled => err(Code::Cancelled),
            SyncError::Io(io) if is_disk_full(&io) => err(Code::DiskFull),
            _ => err(Code::Internal),
        }
    }
}

impl From<OutboxError> for ApiError {
    fn from(e: OutboxError) -> Self {
        use OutboxError as O;
        let detail = e.to_string();
        let err = |code| ApiError::new(code, detail.clone());
        match e {
            O::Refused(r) => err(match r {
                Refusal::NetworkOff => Code::NetworkOff,
                Refusal::NotEnabled => Code::SyncDisabled,
                Refusal::ProxyRequired => Code::ProxyRequired,
                Refusal::ManualMode => Code::ManualMode,
                Refusal::OutsideWindow => Code::OutsideWindow,
            }),
            O::Sync(s) => s.into(),
            O::Exchange(x) => x.into(),
            O::Vault(v) => v.into(),
            O::WrongRole { needed, .. } => err(Code::WrongRole).with("needed", needed.as_str()),
            O::NotEnrolled => err(Code::NotEnrolled),
            O::NoServerUrl => err(Code::NoServerUrl),
            O::NoTrust => err(Code::NoTrust),
            O::NoServerKey(_) => err(Code::NoServerKey),
            O::ServerKeyMismatch(_) => err(Code::ServerKeyMismatch),
            O::OtherHeadquarters(_) => err(Code::ServerOtherHeadquarters),
            O::BadPolicy(_) => err(Code::PolicyInvalid),
            O::BadProxy(_) => err(Code::BadProxy),
            O::BadEnrollCode(_) => err(Code::BadEnrollCode),
            O::UnknownOutboxFile { seq } => err(Code::UnknownOutboxFile).with("seq", seq),
            O::NotInOutbox { seq } => err(Code::NotInOutbox).with("seq", seq),
            O::Receipt(_) => err(Code::ReceiptRefused),
            O::Io { source, .. } if is_disk_full(&source) => err(Code::DiskFull),
            _ => err(Code::Internal),
        }
    }
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        let detail = e.to_string();
        match e {
            RegisterError::Vault(v) => v.into(),
            RegisterError::Refused(_) => ApiError::new(Code::RequestRefused, detail),
            RegisterError::FieldVault => ApiError::wrong_role(VaultRole::Coordinator, detail),
            RegisterError::Export { format, .. } => {
                ApiError::new(Code::ExportFailed, detail).with("format", format)
            }
        }
    }
}

impl From<yaddash_evidence::EvidenceError> for ApiError {
    fn from(e: yaddash_evidence::EvidenceError) -> Self {
        use yaddash_evidence::EvidenceError as E;
        let detail = e.to_string();
        match e {
            E::Vault(v) => v.into(),
            E::Register(r) => r.into(),
            E::Exchange(x) => x.into(),
            E::Refused(_) => ApiError::new(Code::EvidenceRefused, detail),
            E::Damaged(_) => ApiError::new(Code::EvidenceDamaged, detail),
            // The path is the user's own words (a file name can name a
            // person): left out of the detail, as for every other file.
            E::Write { problem, .. } => ApiError::new(
                Code::EvidenceWriteFailed,
                format!("writing the evidence pack: {problem}; no pack was written"),
            ),
        }
    }
}

impl From<yaddash_audio::AudioError> for ApiError {
    fn from(e: yaddash_audio::AudioError) -> Self {
        use yaddash_audio::AudioError as A;
        let detail = e.to_string();
        ApiError::new(
            match e {
                A::NoInput => Code::NoMicrophone,
                A::UnknownInput(_) => Code::MicrophoneUnknown,
                A::Device(_) => Code::MicrophoneFailed,
                A::Encode(yaddash_audio::EncodeError::Io(io)) if is_disk_full(&io) => {
                    Code::DiskFull
                }
                A::Encode(_) => Code::RecordingFailed,
                _ => Code::MicrophoneFailed,
            },
            detail,
        )
    }
}

/// Result alias for the API.
pub type ApiResult<T> = Result<T, ApiError>;
