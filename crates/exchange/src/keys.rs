//! This vault's device identity: keys created on first use and kept inside
//! the encrypted vault, the public identity a coordinator enrolls.

use secrecy::ExposeSecret;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use yaddash_bundle::PublicIdentityExt;
use yaddash_bundle::{DeviceKeys, IdentityFingerprint};
use yaddash_vault::{Setting, Vault, VaultRole};

use crate::error::{ExchangeError, Result};

pub(crate) fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// The vault's device keys, created (and stored inside the encrypted vault)
/// on first use. `init` calls this so every vault has them from creation.
pub fn device_keys(vault: &mut Vault) -> Result<DeviceKeys> {
    if let (Some(s), Some(a)) = (
        vault.setting(Setting::DeviceSigningKey)?,
        vault.setting(Setting::DeviceAgeIdentity)?,
    ) {
        let s = zeroize::Zeroizing::new(s);
        let a = zeroize::Zeroizing::new(a);
        return DeviceKeys::from_secrets(&s, &a).map_err(|e| ExchangeError::Keys(e.to_string()));
    }
    let keys = DeviceKeys::generate();
    let signing = keys
        .signing_key_openssh()
        .map_err(|e| ExchangeError::Keys(e.to_string()))?;
    vault.set_setting(Setting::DeviceSigningKey, &signing)?;
    vault.set_setting(
        Setting::DeviceAgeIdentity,
        keys.age_identity_string().expose_secret(),
    )?;
    if vault.role() == VaultRole::Coordinator && vault.setting(Setting::HqId)?.is_none() {
        vault.set_setting(Setting::HqId, &format!("yaddash-hq-{}", Uuid::now_v7()))?;
    }
    Ok(keys)
}

/// What `yaddash device show` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// Device id (the principal in `allowed_signers`).
    pub device_id: Uuid,
    /// Field or coordinator.
    pub role: VaultRole,
    /// OpenSSH Ed25519 public key line.
    pub signing_key: String,
    /// age recipient.
    pub age_recipient: String,
    /// Fingerprints to compare over the phone.
    pub fingerprint: IdentityFingerprint,
}

/// This vault's public identity.
pub fn device_info(vault: &mut Vault) -> Result<DeviceInfo> {
    let keys = device_keys(vault)?;
    let id = keys.public_identity(vault.device_id());
    let fingerprint = id
        .fingerprint()
        .map_err(|e| ExchangeError::Keys(e.to_string()))?;
    Ok(DeviceInfo {
        device_id: id.device_id,
        role: vault.role(),
        signing_key: id.signing_key,
        age_recipient: id.age_recipient,
        fingerprint,
    })
}

pub(crate) fn require_role(vault: &Vault, needed: VaultRole, what: &'static str) -> Result<()> {
    if vault.role() != needed {
        return Err(ExchangeError::WrongRole { what, needed });
    }
    Ok(())
}

/// The headquarters id of a coordinator vault.
pub(crate) fn hq_id(vault: &Vault) -> Result<String> {
    vault
        .setting(Setting::HqId)?
        .ok_or_else(|| ExchangeError::Keys("no headquarters id".into()))
}
