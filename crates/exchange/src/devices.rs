//! Coordinator: enrolling and revoking field devices.

use time::OffsetDateTime;
use uuid::Uuid;
use yaddash_bundle::PublicIdentityExt;
use yaddash_bundle::{IdentityFingerprint, PublicIdentity};
use yaddash_vault::{DeviceRow, Vault, VaultRole};

use crate::error::{ExchangeError, FileKind, Result};
use crate::keys::{now_rfc3339, require_role};

/// Coordinator: enrolls a device from its `device show --json`.
pub fn enroll_device(
    vault: &mut Vault,
    device: &PublicIdentity,
    label: Option<String>,
) -> Result<IdentityFingerprint> {
    require_role(vault, VaultRole::Coordinator, "device enroll")?;
    let fingerprint = device.fingerprint().map_err(|e| ExchangeError::BadFile {
        what: FileKind::Device,
        problem: e.to_string(),
    })?;
    vault.exchange_mut().enroll_device(&DeviceRow {
        device_id: device.device_id,
        signing_key: device.signing_key.trim().to_string(),
        age_recipient: device.age_recipient.trim().to_string(),
        label,
        enrolled_at: now_rfc3339(),
        revoked_from: None,
        revoked_at: None,
        held_through_seq: None,
        held_through_bundle: None,
        server_held_bundle: None,
    })?;
    Ok(fingerprint)
}

/// Coordinator: revokes a device from `from` on, for every caller (CLI,
/// app, `hq revoke`). A revocation only ever moves earlier: revoking again
/// with a later time keeps the earlier one. The first revocation also
/// records the evidence later bundles are judged by: the highest bundle
/// number (and id) imported from the device. Bundles beyond it are refused
/// unless other evidence (the HQ server's signed receipt) shows they existed
/// before; their own date proves nothing. Returns the device as stored.
pub fn revoke_device(
    vault: &mut Vault,
    device_id: Uuid,
    from: OffsetDateTime,
) -> Result<DeviceRow> {
    require_role(vault, VaultRole::Coordinator, "device revoke")?;
    Ok(vault.exchange_mut().revoke_device(device_id, from)?)
}

/// Coordinator: adds what the HQ server said it held from a device when it
/// revoked it (the last bundle it had accepted, by id) to the evidence of
/// that revocation: that bundle, and the ones it chains back to, import.
pub fn record_server_held_bundle(
    vault: &mut Vault,
    device_id: Uuid,
    bundle_id: &str,
) -> Result<()> {
    require_role(vault, VaultRole::Coordinator, "device revoke")?;
    Ok(vault
        .exchange_mut()
        .record_server_held_bundle(device_id, bundle_id)?)
}
