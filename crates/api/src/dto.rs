//! The types that cross the IPC boundary, besides the model's records and the
//! vault's [`StoredRecord`](yaddash_vault::StoredRecord),
//! [`Revision`](yaddash_vault::Revision),
//! [`AttachmentInfo`](yaddash_vault::AttachmentInfo) and
//! [`CheckReport`](yaddash_vault::CheckReport), which are sent as they are.
//! The front end mirrors them in `ui/src/lib/backend/types.ts`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use yaddash_model::{Record, RecordKind};
use yaddash_vault::SearchHit;

/// What a vault is for: the vault's own role, the one type every layer uses.
pub use yaddash_vault::VaultRole as Role;

/// The app's state before anything is unlocked: nothing about contents.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AppStatus {
    /// A vault exists at the configured place.
    pub vault_exists: bool,
    /// It is open now.
    pub unlocked: bool,
    /// Minutes of inactivity before it locks itself.
    pub idle_lock_minutes: u32,
    /// Failed unlocks left before the vault is erased, if its owner set a
    /// limit (the unlock screen warns at 3 or fewer).
    pub attempts_left: Option<u32>,
}

/// `create_vault` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct CreateVaultRequest {
    /// Field or coordinator.
    pub role: Role,
    /// The new passphrase (8 characters at least).
    pub passphrase: String,
}

/// The result of `create_vault`.
#[derive(Serialize, ts_rs::TS)]
pub struct CreatedVault {
    /// Shown once, to be written down; never stored in clear.
    pub recovery_code: String,
    /// The open session.
    pub session: SessionInfo,
}

/// `unlock` arguments.
#[derive(Deserialize, ts_rs::TS)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum UnlockRequest {
    /// With the passphrase.
    Passphrase {
        /// The passphrase.
        secret: String,
    },
    /// With the recovery code.
    RecoveryCode {
        /// The code, as typed (case, spaces and dashes do not matter).
        secret: String,
    },
}

/// `change_passphrase` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct ChangePassphraseRequest {
    /// The passphrase in use.
    pub current: String,
    /// The new one.
    pub new: String,
}

/// Who this device is.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SessionInfo {
    /// Field or coordinator.
    pub role: Role,
    /// The device id recorded as author of everything saved here.
    pub device_id: String,
    /// What to read aloud to a coordinator to check this device.
    pub device_fingerprint: String,
}

/// One row of a list or of search results. The label contains names: it is
/// for the user's eyes only.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct RecordSummary {
    /// Record id.
    pub id: Uuid,
    /// Its kind.
    pub kind: RecordKind,
    /// One-line label.
    pub label: String,
}

impl From<SearchHit> for RecordSummary {
    fn from(h: SearchHit) -> Self {
        RecordSummary {
            id: h.id,
            kind: h.kind,
            label: h.label,
        }
    }
}

/// `search` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct SearchRequest {
    /// What the user typed, in any script.
    pub query: String,
    /// Only this kind of record.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub kind: Option<RecordKind>,
    /// At most this many hits (default 100, at most 500).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub limit: Option<usize>,
}

/// `save_record` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct SaveRecordRequest {
    /// None for a new record, the id for a new revision.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub id: Option<Uuid>,
    /// The record body, `{"kind": "person", "body": {...}}`.
    pub record: Record,
}

/// The result of `save_record`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SavedRecord {
    /// Record id.
    pub id: Uuid,
    /// The revision just saved.
    pub rev: i64,
}

/// `attach_file` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct AttachFileRequest {
    /// The record the attachment belongs to.
    pub record_id: Uuid,
    /// Absolute path of the file to import.
    pub path: String,
    /// Media type, guessed from the name when absent.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub media_type: Option<String>,
}

/// A decrypted attachment, in memory only.
pub struct AttachmentContent {
    /// Its media type.
    pub media_type: String,
    /// The verified plaintext.
    pub bytes: Vec<u8>,
}

/// What waits to be sent (lands with bundles).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct OutboxStatus {
    /// Records not yet in any bundle.
    pub pending_records: u64,
    /// Attachments not yet in any bundle.
    pub pending_attachments: u64,
    /// When the last bundle was written (RFC 3339).
    pub last_export_at: Option<String>,
}

/// `export_bundle` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct ExportBundleRequest {
    /// Where to write the bundle file.
    pub path: String,
}

/// `import_bundle` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct ImportBundleRequest {
    /// The bundle file.
    pub path: String,
}

/// What a bundle holds.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BundleSummary {
    /// Bundle file path.
    pub path: String,
    /// Records in it.
    pub records: u64,
    /// Attachments in it.
    pub attachments: u64,
    /// SHA-256 of the bundle file.
    pub sha256: String,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ImportSummary {
    /// The device that signed the bundle.
    pub sender_device: String,
    /// New records.
    pub added: u64,
    /// Records already present.
    pub already_present: u64,
}

/// An enrolled device.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DeviceSummary {
    /// Device id.
    pub device_id: String,
    /// Its key fingerprint.
    pub fingerprint: String,
    /// Revoked devices' bundles are refused.
    pub revoked: bool,
    /// The coordinator's note about the device (who carries it).
    pub label: Option<String>,
}

/// A request naming one file by its absolute path.
#[derive(Deserialize, ts_rs::TS)]
pub struct PathRequest {
    /// Absolute path of the file to read or write.
    pub path: String,
}

/// `export_trust` arguments: where to write the trust file, and the HQ
/// server's key (the line `yaddash-hq init` printed) for field devices to
/// pin; without it, the key this coordinator vault already pinned (if any).
#[derive(Deserialize, ts_rs::TS)]
pub struct TrustExportRequest {
    /// Absolute path of the file to write.
    pub path: String,
    /// OpenSSH Ed25519 public key line of the HQ server.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub server_key: Option<String>,
}

/// `import_trust` arguments: the trust file's path, or its text (read by
/// the window from a file the user picked).
#[derive(Deserialize, ts_rs::TS)]
pub struct ImportTrustRequest {
    /// Absolute path of the trust file.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub path: Option<String>,
    /// The trust file's contents.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub text: Option<String>,
}

/// One coordinator named in a trust file.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CoordinatorSummary {
    /// Its device id.
    pub device_id: String,
    /// Short fingerprint, to read aloud over the phone.
    pub fingerprint: String,
    /// `SHA256:...` of its signing key, as `ssh-keygen -l` prints it.
    pub ssh_fingerprint: String,
}

/// The trust file a field vault holds (or a coordinator just wrote).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TrustSummary {
    /// The headquarters id bundles are made for.
    pub hq_id: String,
    /// Fingerprint of the whole file, to compare over the phone.
    pub fingerprint: String,
    /// The coordinators bundles are encrypted to.
    pub coordinators: Vec<CoordinatorSummary>,
    /// Where the file was written (export only).
    pub path: Option<String>,
    /// `SHA256:…` of the HQ server key the file pins (field devices enroll
    /// only at a server holding it), or `None` when it names none.
    pub server_fingerprint: Option<String>,
}

/// This device's public identity, what a coordinator enrolls.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DeviceIdentity {
    /// Device id.
    pub device_id: String,
    /// Field or coordinator.
    pub role: Role,
    /// OpenSSH Ed25519 public key line.
    pub signing_key: String,
    /// age recipient.
    pub age_recipient: String,
    /// Short fingerprint, to read aloud.
    pub fingerprint: String,
    /// `SHA256:...` of the signing key.
    pub ssh_fingerprint: String,
}

/// `enroll_device` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct EnrollDeviceRequest {
    /// Absolute path of the device's identity file (`device show --json`).
    pub path: String,
    /// A note about the device (who carries it).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub label: Option<String>,
}

/// `revoke_device` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct RevokeDeviceRequest {
    /// The device to revoke from now on.
    pub device_id: Uuid,
}

/// Where one revision of a record came from: a bundle imported here (the
/// revisions with no entry were saved on this device).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RevisionOrigin {
    /// The revision number in this vault.
    pub rev: i64,
    /// The device that made it.
    pub device_id: String,
    /// That device's label, if it is enrolled here and has one.
    pub device_label: Option<String>,
    /// Whether that device is enrolled in this vault.
    pub device_enrolled: bool,
    /// The bundle that carried it.
    pub bundle_id: String,
    /// The bundle's sequence number on that device.
    pub bundle_seq: Option<u64>,
    /// The revision number on that device.
    pub source_rev: i64,
    /// When the bundle was imported here (RFC 3339).
    pub imported_at: Option<String>,
    /// Set when the bundle came from a revoked device and a coordinator
    /// imported it on a recorded decision: the reason given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub accepted_after_revocation: Option<String>,
    /// Whether this revision is a conflicting one not (yet) accepted as the
    /// record's current body.
    pub pending_conflict: bool,
}

/// `hq_invite` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct InviteRequest {
    /// How long the code stays valid, in hours (1 to 720).
    pub valid_hours: u32,
}

/// What revoking a device did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DeviceRevoked {
    /// The device.
    pub device_id: String,
    /// Its bundles made from this time on are refused (RFC 3339).
    pub revoked_from: String,
    /// Revoked in this vault.
    pub in_vault: bool,
    /// Revoked at the HQ server too.
    pub at_server: bool,
    /// Whether this vault knows an HQ server.
    pub server_known: bool,
    /// Why the HQ server was not told (the safety policy, the network).
    pub server_error: Option<crate::ApiError>,
}

/// `export_receipts` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct ExportReceiptsRequest {
    /// The device whose bundles were imported here.
    pub device_id: Uuid,
    /// Absolute path of the receipt file to write.
    pub path: String,
}

/// What `export_receipts` wrote.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ReceiptsExported {
    /// The receipt file.
    pub path: String,
    /// Signed receipts in it (one per imported bundle).
    pub receipts: u64,
}

/// What `import_receipts` confirmed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ReceiptsImported {
    /// Bundle numbers newly confirmed as imported by headquarters.
    pub confirmed: Vec<u64>,
    /// Receipts for bundles confirmed before.
    pub already: u64,
}

/// A bundle this device made, and what headquarters confirmed about it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BundleOutSummary {
    /// Sequence number, from 1.
    pub seq: u64,
    /// Bundle id.
    pub bundle_id: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Records carried.
    pub records: u64,
    /// Attachments carried.
    pub attachments: u64,
    /// When the HQ server confirmed receiving it.
    pub hq_received_at: Option<String>,
    /// When a coordinator confirmed importing it.
    pub imported_at: Option<String>,
}

// ----- the register (coordinator vaults) -------------------------------------

pub use yaddash_register::{Level as ExportLevel, Status as RegisterStatus};

/// A manual status in force, with why, when and by which device.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RegisterOverride {
    /// The status set by hand.
    pub status: RegisterStatus,
    /// Why (internal: never in public or partner exports).
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
    /// The device that set it.
    pub by: String,
}

/// One line of the register list: one person (one or several merged
/// records). Names are for the coordinator's eyes only.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RegisterRow {
    /// The record standing for the person.
    pub id: Uuid,
    /// Every record merged into it, the primary first.
    pub records: Vec<Uuid>,
    /// Every name from every merged record.
    pub names: Vec<String>,
    /// The status in force (the override if any, else the derived one).
    pub status: RegisterStatus,
    /// The status derived from the events.
    pub derived_status: RegisterStatus,
    /// The manual override, if any.
    #[serde(rename = "override")]
    pub status_override: Option<RegisterOverride>,
    /// Latest facility.
    pub facility: Option<String>,
    /// Independent sources (distinct cases and interviews).
    pub sources: usize,
    /// Latest date any source speaks of (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
    pub last_confirmed: Option<String>,
}

/// `register_page` arguments: which rows of the register (sorted by name).
#[derive(Deserialize, ts_rs::TS)]
pub struct RegisterPageRequest {
    /// Rows to skip.
    pub offset: u32,
    /// Rows wanted (at most 1,000 are returned).
    pub limit: u32,
}

/// One page of the register list.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RegisterPage {
    /// The rows from the offset asked for, sorted by name.
    pub rows: Vec<RegisterRow>,
    /// How many persons the whole register holds.
    pub total: u32,
}

/// One side of a duplicate suggestion or a merge.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RegisterPerson {
    /// Person record id.
    pub id: Uuid,
    /// Its names (for the coordinator's eyes only).
    pub label: String,
}

/// Two persons who are probably the same, with the score and the reasons.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DuplicateSuggestion {
    /// One person (kept as primary by a merge from the UI).
    pub a: RegisterPerson,
    /// The other.
    pub b: RegisterPerson,
    /// 0 to 1.
    pub score: f64,
    /// Why, for the coordinator (structured: the app words them).
    pub reasons: Vec<yaddash_register::dup::Reason>,
}

/// A merge in force: `merged` is the same person as `primary`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct MergeSummary {
    /// The record standing for the person.
    pub primary: RegisterPerson,
    /// The record merged into it.
    pub merged: RegisterPerson,
    /// When (RFC 3339).
    pub at: String,
}

/// `register_merge` and `register_mark_distinct` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct RegisterPairRequest {
    /// The person that stays (merge), or one of the two (distinct).
    pub primary: Uuid,
    /// The person merged into it, or the other one.
    pub other: Uuid,
}

/// `register_set_status` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct RegisterStatusRequest {
    /// The person.
    pub person_id: Uuid,
    /// The status to set; `None` clears the override.
    pub status: Option<RegisterStatus>,
    /// Why (required; kept with who and when; internal only).
    pub reason: String,
}

/// `register_export` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct RegisterExportRequest {
    /// Who the export is for.
    pub level: ExportLevel,
    /// `csv`, `json` or `html`.
    pub format: String,
    /// Absolute path of the file to write (replaced if it exists).
    pub path: String,
}

/// What `register_export` wrote.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RegisterExported {
    /// The file written (NOT encrypted).
    pub path: String,
    /// Persons in it.
    pub persons: usize,
    /// Its size.
    pub bytes: usize,
}

// ----- the panic shortcut (the app's panic.rs) -----

/// What the panic shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PanicAction {
    /// Lock the vault, forget the screen, minimise the window.
    LockAndHide,
    /// Destroy the vault (quick delete), then the same as lock and hide.
    QuickDelete,
}

/// Whether the shortcut works while another program has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum GlobalShortcutStatus {
    /// Grabbed on the X11 display: works whatever window has the focus.
    Active,
    /// A Wayland session: no program may grab keys; bind
    /// `pkill -USR1 -x yaddash-app` in the desktop's shortcut settings.
    Wayland,
    /// Another program holds the same keys, or there is no X display.
    Unavailable,
}

/// What the Settings screen shows.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct PanicInfo {
    /// The chosen action.
    pub action: PanicAction,
    /// The shortcut, as a label.
    pub shortcut: &'static str,
    /// Whether it works outside the window.
    pub global: GlobalShortcutStatus,
    /// Whether this build carries out a quick delete (the app's `QUICK_DELETE_AVAILABLE`).
    pub quick_delete_available: bool,
}
