//! Coordinator: enrolling and revoking field devices.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use yaddash_bundle::{IdentityFingerprint, PublicIdentity};
use yaddash_vault::{DeviceRow, Vault, VaultRole};

use crate::error::{ExchangeError, Result};
use crate::keys::{now_rfc3339, require_role};

/// Coordinator: enrolls a device from its `device show --json`.
pub fn enroll_device(
    vault: &mut Vault,
    device: &PublicIdentity,
    label: Option<String>,
) -> Result<IdentityFingerprint> {
    require_role(vault, VaultRole::Coordinator, "device enroll")?;
    let fingerprint = device.fingerprint().map_err(|e| ExchangeError::BadFile {
        what: "the device file",
        problem: e.to_string(),
    })?;
    vault.enroll_device(&DeviceRow {
        device_id: device.device_id,
        signing_key: device.signing_key.trim().to_string(),
        age_recipient: device.age_recipient.trim().to_string(),
        label,
        enrolled_at: now_rfc3339(),
        revoked_from: None,
    })?;
    Ok(fingerprint)
}

/// Coordinator: revokes a device from a time on; bundles it signed at or
/// after that time are refused.
pub fn revoke_device(vault: &mut Vault, device_id: Uuid, from: OffsetDateTime) -> Result<()> {
    require_role(vault, VaultRole::Coordinator, "device revoke")?;
    let from = from
        .format(&Rfc3339)
        .map_err(|e| ExchangeError::Keys(e.to_string()))?;
    Ok(vault.revoke_device(device_id, &from)?)
}
