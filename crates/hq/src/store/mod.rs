//! Server metadata storage behind one trait.
//!
//! The server stores only ciphertext (as files, see [`crate::blobs`]) and
//! metadata: enrolled keys, upload sessions, which bundle came from which
//! device, receipts. Every backend implements [`Store`]; one story test suite
//! (`tests/tests/hq_*.rs`) runs against each, selected by configuration.
//!
//! Methods are blocking; the server calls them from `spawn_blocking`.

use std::path::Path;

use time::OffsetDateTime;
use uuid::Uuid;

pub mod postgres;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A storage failure. Never carries client data.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    Backend(String),
    /// A one-time enrollment code was already used.
    CodeUsed,
    /// The device id is already enrolled with another key.
    AlreadyEnrolled,
    /// The named row does not exist.
    NotFound,
    /// A trust change names a version other than the stored one + 1 (the
    /// set changed since the change was approved, or it is replayed).
    StaleTrust {
        /// The stored version.
        current: u64,
    },
    /// A trust change re-adds a coordinator that was revoked.
    CoordinatorRevoked(Uuid),
    /// The change would leave no current coordinator.
    LastCoordinator,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Backend(e) => write!(f, "metadata database error: {e}"),
            Self::CodeUsed => f.write_str("this enrollment code was already used"),
            Self::AlreadyEnrolled => f.write_str("this device id is already enrolled"),
            Self::NotFound => f.write_str("not found"),
            Self::StaleTrust { current } => write!(
                f,
                "the coordinator set is at version {current}; a change must name version {}",
                current + 1
            ),
            Self::CoordinatorRevoked(id) => write!(
                f,
                "coordinator {id} was revoked and cannot be added again; give it a new id and key"
            ),
            Self::LastCoordinator => f.write_str("the last current coordinator cannot be removed"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Backend(e.to_string())
    }
}

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// Who may sign requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A coordinator from the trust file.
    Coordinator,
    /// An enrolled field device.
    Device,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Device => "device",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        if s == "coordinator" {
            Role::Coordinator
        } else {
            Role::Device
        }
    }
}

/// An enrolled key.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Device id.
    pub id: Uuid,
    /// Role.
    pub role: Role,
    /// OpenSSH Ed25519 public key line.
    pub signing_key: String,
    /// age recipient (opaque to the server, kept for the coordinators).
    pub age_recipient: String,
    /// Revocation instant, if revoked.
    pub revoked_from: Option<OffsetDateTime>,
}

/// An upload session.
#[derive(Clone, Debug)]
pub struct Upload {
    /// Deterministic id: sha256(device || file sha256).
    pub id: String,
    /// Uploading device.
    pub device_id: Uuid,
    /// Total bundle size.
    pub size: u64,
    /// SHA-256 of the whole bundle file.
    pub sha256: String,
    /// Chunk size (the last chunk may be shorter).
    pub chunk_size: u64,
    /// SHA-256 of each chunk.
    pub chunks: Vec<String>,
    /// Creation time (unix seconds).
    pub created_at: i64,
}

/// An accepted bundle.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BundleRow {
    /// Server-side sequence (list cursor), in commit order (see the
    /// backends' `accept` for why a cursor never skips a row).
    pub seq: i64,
    /// Bundle id (SHA-256 of payload.age).
    pub bundle_id: String,
    /// SHA-256 of the whole file.
    pub file_sha256: String,
    /// Sending device.
    pub device_id: Uuid,
    /// File size.
    pub size: u64,
    /// Accepted at (unix seconds).
    pub received_at: i64,
}

/// What a device revocation left in force.
#[derive(Clone, Debug)]
pub struct DeviceRevocation {
    /// The revocation time in force (the earliest ever given).
    pub revoked_from: OffsetDateTime,
    /// The device's last accepted bundle: (server seq, bundle id, received at).
    pub last_bundle: Option<(i64, String, i64)>,
}

/// Counts for the health endpoint (no content-derived data).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Counts {
    /// Enrolled, non-revoked devices.
    pub devices: u64,
    /// Revoked devices.
    pub revoked_devices: u64,
    /// Current coordinators.
    pub coordinators: u64,
    /// Bundles not yet acknowledged by every current coordinator.
    pub bundles_pending: u64,
    /// Bundles acknowledged by every current coordinator, not yet deleted.
    pub bundles_acked: u64,
    /// Open upload sessions.
    pub uploads_open: u64,
    /// Receipts held for devices.
    pub receipts: u64,
}

/// A bundle counts as acknowledged (for retention, quota and counts) when
/// every current coordinator (role coordinator, not revoked) has
/// acknowledged it before `?B`; `b` is the bundles row. Parameter markers
/// are filled in per backend.
pub(crate) fn fully_acked_sql(before: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM acks a WHERE a.bundle_id = b.bundle_id)
          AND NOT EXISTS (SELECT 1 FROM principals p WHERE p.role = 'coordinator' AND p.revoked_from IS NULL
            AND NOT EXISTS (SELECT 1 FROM acks a WHERE a.bundle_id = b.bundle_id AND a.coordinator_id = p.id AND a.at < {before})))"
    )
}

/// The metadata store.
pub trait Store: Send + Sync + 'static {
    /// The backend's name, for the health endpoint (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
    /// Sets a server setting.
    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Reads a server setting.
    fn meta(&self, key: &str) -> StoreResult<Option<String>>;
    /// Replaces the coordinator set in one transaction: `set` is added or
    /// updated, every current coordinator not in it is revoked from `now`.
    /// With `expected`, the stored version must equal it (the set the
    /// approvals were checked against); the version then becomes
    /// `expected + 1` (without: stored + 1). Refuses to re-add a revoked
    /// coordinator and an empty set. Returns the new version.
    fn set_coordinators(
        &self,
        set: &[Principal],
        expected: Option<u64>,
        now: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// Revokes one coordinator from `now` (same version rule as
    /// [`Store::set_coordinators`]). Refuses to revoke the last one.
    fn revoke_coordinator(
        &self,
        id: Uuid,
        expected: Option<u64>,
        now: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// Current (not revoked) coordinators and the set's version.
    fn coordinators(&self) -> StoreResult<(Vec<Principal>, u64)>;
    /// Looks an enrolled key up.
    fn principal(&self, id: Uuid) -> StoreResult<Option<Principal>>;
    /// Enrolls a device with a one-time code id. Idempotent for the same
    /// device and key with the same code.
    fn enroll(&self, code_id: &str, p: &Principal, now: i64) -> StoreResult<()>;
    /// Revokes a device from `from`, or from the earlier time already
    /// stored: a revocation only ever moves earlier.
    fn revoke(&self, id: Uuid, from: OffsetDateTime) -> StoreResult<DeviceRevocation>;
    /// Records a nonce; false if it was seen before.
    fn use_nonce(&self, signer: Uuid, nonce: &str, time: i64) -> StoreResult<bool>;
    /// Forgets nonces older than `before`.
    fn prune_nonces(&self, before: i64) -> StoreResult<()>;
    /// Creates an upload session unless it exists; returns the stored one.
    fn upload_create(&self, u: &Upload) -> StoreResult<Upload>;
    /// An upload session.
    fn upload(&self, id: &str) -> StoreResult<Option<Upload>>;
    /// Open sessions of a device: how many, and their announced bytes.
    fn uploads_of(&self, device: Uuid) -> StoreResult<(u64, u64)>;
    /// Deletes a session.
    fn upload_delete(&self, id: &str) -> StoreResult<()>;
    /// Sessions created before `before`.
    fn uploads_older(&self, before: i64) -> StoreResult<Vec<String>>;
    /// Inserts an accepted bundle with its hq-received receipt. Returns the
    /// receipt already stored if the bundle was accepted before.
    fn bundle_accept(&self, b: &BundleRow, receipt: &str) -> StoreResult<Option<String>>;
    /// An accepted bundle.
    fn bundle(&self, bundle_id: &str) -> StoreResult<Option<BundleRow>>;
    /// A bundle this device sent, by the SHA-256 of its file (never another
    /// device's).
    fn bundle_by_file(&self, device: Uuid, file_sha256: &str) -> StoreResult<Option<BundleRow>>;
    /// The hq-received receipt of an accepted bundle.
    fn bundle_receipt(&self, bundle_id: &str) -> StoreResult<Option<String>>;
    /// Bundles `coordinator` has not acknowledged, with `seq > after`.
    fn bundles_pending(
        &self,
        coordinator: Uuid,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<BundleRow>>;
    /// Records `coordinator`'s acknowledgement of a bundle.
    fn bundle_ack(&self, bundle_id: &str, coordinator: Uuid, at: i64) -> StoreResult<()>;
    /// Bundles every current coordinator acknowledged before `before` (for
    /// retention).
    fn bundles_acked_before(&self, before: i64) -> StoreResult<Vec<String>>;
    /// Forgets a bundle row (its blob is deleted by the caller first).
    fn bundle_forget(&self, bundle_id: &str) -> StoreResult<()>;
    /// Bytes held for a device and not yet acknowledged by every coordinator.
    fn device_usage(&self, device: Uuid) -> StoreResult<u64>;
    /// Stores a receipt for a device (idempotent on the exact text).
    fn receipt_add(&self, device: Uuid, text: &str, at: i64) -> StoreResult<()>;
    /// Receipts for a device with id > after: (id, text), in commit order.
    fn receipts(&self, device: Uuid, after: i64) -> StoreResult<Vec<(i64, String)>>;
    /// Counts for the health endpoint.
    fn counts(&self) -> StoreResult<Counts>;

    /// Whether request rates are counted in this database, so that every
    /// server instance using it shares them (PostgreSQL). When false the
    /// server counts in its own memory (SQLite: one instance).
    fn shared_rate(&self) -> bool {
        false
    }
    /// Requests counted in `key`'s current one-minute window (0 when none
    /// or over). Keys: a signer's id, or `enroll` (server-wide).
    fn rate_peek(&self, _key: &str) -> StoreResult<u32> {
        Err(StoreError::Backend("no shared rate table".into()))
    }
    /// Counts one request in `key`'s window, starting a new window when the
    /// old one is over (the database's clock); returns the count including
    /// this request.
    fn rate_hit(&self, _key: &str) -> StoreResult<u32> {
        Err(StoreError::Backend("no shared rate table".into()))
    }
    /// Rate windows held (health endpoint).
    fn rate_entries(&self) -> StoreResult<u64> {
        Ok(0)
    }
    /// Takes (or renews) the housekeeping lease for `secs` seconds for
    /// `holder`; false while another holder's lease runs. With one instance
    /// there is nobody to exclude.
    fn housekeeping_lease(&self, _holder: &str, _secs: i64) -> StoreResult<bool> {
        Ok(true)
    }
}

/// Opens the store named by `database_url`: empty or `sqlite` means
/// `DIR/hq.sqlite`.
pub fn open(database_url: Option<&str>, data_dir: &Path) -> StoreResult<Box<dyn Store>> {
    match database_url {
        None | Some("") | Some("sqlite") => {
            Ok(Box::new(SqliteStore::open(&data_dir.join("hq.sqlite"))?))
        }
        Some(url) if url.starts_with("sqlite:") => Ok(Box::new(SqliteStore::open(Path::new(
            &url["sqlite:".len()..],
        ))?)),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Box::new(PgStore::open(url)?))
        }
        Some(_) => Err(StoreError::Backend(
            "database_url must be `sqlite`, `sqlite:PATH` or `postgres://...`".into(),
        )),
    }
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn parse_time(s: Option<String>) -> Option<OffsetDateTime> {
    s.and_then(|s| OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).ok())
}

pub(crate) fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    s.parse()
        .map_err(|_| StoreError::Backend("a stored device id is not a UUID".into()))
}
