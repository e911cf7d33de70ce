//! JSON bodies of the HQ server protocol (`docs/hq-server.md`), shared by the
//! server and the client so the two cannot drift apart.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Every error answer: a stable code and a human message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `chunk_mismatch`.
    pub code: String,
    /// What went wrong and what to try.
    pub message: String,
}

/// `GET /v1/info` (unsigned): what a client needs before talking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The headquarters id (trust domain).
    pub hq_id: String,
    /// The server's OpenSSH Ed25519 public key (signs hq-received receipts).
    pub server_key: String,
    /// `SHA256:...` fingerprint of `server_key`.
    pub server_fingerprint: String,
    /// Largest accepted bundle.
    pub max_bundle_bytes: u64,
    /// Largest accepted chunk.
    pub max_chunk_bytes: u64,
}

/// The public keys a device enrolls with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceKeysPublic {
    /// The device id.
    pub device_id: Uuid,
    /// OpenSSH Ed25519 public key line.
    pub signing_key: String,
    /// age recipient (`age1...`): stored for the coordinators, never used by the server.
    pub age_recipient: String,
}

/// `POST /v1/enroll`, signed by the new device's own key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time code text (`YDE1-...`).
    pub code: String,
    /// The device's public keys.
    pub device: DeviceKeysPublic,
}

/// `POST /v1/devices/{id}/revoke` (coordinator).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeRequest {
    /// RFC 3339 instant from which the device is refused.
    pub from: String,
}

/// `POST /v1/uploads` (device): announce a bundle and its chunks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadInit {
    /// Bundle file size.
    pub size: u64,
    /// SHA-256 of the whole file (hex).
    pub sha256: String,
    /// Chunk size; every chunk but the last has exactly this size.
    pub chunk_size: u64,
    /// SHA-256 of each chunk (hex), in order.
    pub chunks: Vec<String>,
}

/// Answer to [`UploadInit`] and `GET /v1/uploads/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadStatus {
    /// Upload id, used in the chunk URLs.
    pub upload_id: String,
    /// Indices of chunks the server already holds.
    pub received: Vec<u64>,
    /// If the bundle was already accepted: its hq-received receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// Answer to `POST /v1/uploads/{id}/complete`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The bundle id (SHA-256 of `payload.age`).
    pub bundle_id: String,
    /// The signed hq-received receipt.
    pub receipt: String,
}

/// One bundle waiting for the coordinators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleInfo {
    /// Server-side cursor.
    pub seq: i64,
    /// Bundle id.
    pub bundle_id: String,
    /// SHA-256 of the file.
    pub file_sha256: String,
    /// Sending device.
    pub device_id: Uuid,
    /// Size in bytes.
    pub size: u64,
    /// Accepted at (unix seconds).
    pub received_at: i64,
}

/// `GET /v1/bundles` (coordinator).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleList {
    /// Bundles in server order.
    pub bundles: Vec<BundleInfo>,
}

/// `GET /v1/receipts?after=N` (device).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptList {
    /// (cursor, receipt text), oldest first.
    pub receipts: Vec<(i64, String)>,
}

/// `POST /v1/receipts` (coordinator): signed import receipts to forward.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPost {
    /// Receipt texts (JSON line + SSHSIG armour each).
    pub receipts: Vec<String>,
}

/// Answer to `POST /v1/devices/{id}/revoke`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeAnswer {
    /// The revoked device.
    pub revoked: Uuid,
    /// The revocation time now in force (RFC 3339). A revocation only ever
    /// moves earlier: a later `from` than the one stored leaves it unchanged.
    /// Absent in answers of servers older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_from: Option<String>,
    /// The last bundle the server had accepted from this device when it
    /// recorded the revocation (highest server sequence number), if any.
    /// Absent in answers of servers older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_bundle: Option<HeldBundle>,
}

/// A bundle the server held, identified the way the server can see it (it
/// cannot read the device's own sequence number inside the encrypted
/// manifest; the coordinator maps the bundle id to it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBundle {
    /// The server's sequence number (the cursor of `GET /v1/bundles`).
    pub server_seq: i64,
    /// The bundle id.
    pub bundle_id: String,
    /// When the server accepted it (unix seconds).
    pub received_at: i64,
}

/// One coordinator in the server's trust set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorKey {
    /// Its device id.
    pub device_id: Uuid,
    /// OpenSSH Ed25519 public key line.
    pub signing_key: String,
    /// age recipient (opaque to the server).
    #[serde(default)]
    pub age_recipient: String,
}

/// `GET /v1/trust` (coordinator): the current coordinator set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustState {
    /// The headquarters id.
    pub hq_id: String,
    /// Version of the set; a change must name `version + 1`.
    pub version: u64,
    /// Current (not revoked) coordinators.
    pub coordinators: Vec<CoordinatorKey>,
    /// Signatures a change needs: a majority of `coordinators`.
    pub quorum: usize,
}

/// A coordinator's approval of a trust change: an Ed25519 signature
/// (namespace `yaddash-trust@yaddash.org`, see
/// [`crate::request::trust_update_message`]) as 128 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approving coordinator.
    pub coordinator: Uuid,
    /// Hex signature.
    pub signature: String,
}

/// `POST /v1/trust` (coordinator): replace the coordinator set. Needs
/// approvals of a majority of the current coordinators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustUpdate {
    /// The headquarters id.
    pub hq_id: String,
    /// The current version + 1.
    pub version: u64,
    /// The new set (not empty).
    pub coordinators: Vec<CoordinatorKey>,
    /// Approvals over [`crate::request::trust_update_message`].
    pub approvals: Vec<Approval>,
}

/// `POST /v1/coordinators/{id}/revoke` (coordinator): revoke one
/// coordinator. Needs approvals of a majority of the current coordinators
/// (the revoked one counted in the set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorRevocation {
    /// The headquarters id.
    pub hq_id: String,
    /// The current version + 1.
    pub version: u64,
    /// The coordinator to revoke (same as in the path).
    pub coordinator: Uuid,
    /// Approvals over [`crate::request::coordinator_revocation_message`].
    pub approvals: Vec<Approval>,
}
