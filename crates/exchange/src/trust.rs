//! The trust file a coordinator hands to field vaults, and the safety
//! policy headquarters may pre-set with it.

use yaddash_bundle::{PublicIdentity, PublicIdentityExt};
use yaddash_vault::{Setting, Vault, VaultRole};

use crate::error::{ExchangeError, FileKind, Result};
use crate::keys::{device_keys, hq_id, require_role};
use crate::{Policy, SetBy};

pub use yaddash_bundle::yaddash_wire::{TrustFile, TrustFileError};

/// What `trust_import` checks before storing (the fuzz target uses it):
/// [`TrustFile::check`], then each coordinator's age recipient and full
/// fingerprint.
pub fn check_trust_file(t: &TrustFile) -> Result<()> {
    t.check().map_err(bad_trust_file)?;
    for c in &t.coordinators {
        c.fingerprint().map_err(|e| {
            bad_trust_file(TrustFileError::Coordinator {
                device_id: c.device_id,
                source: e,
            })
        })?;
    }
    Ok(())
}

fn bad_trust_file(e: TrustFileError) -> ExchangeError {
    ExchangeError::BadFile {
        what: FileKind::Trust,
        problem: e.to_string(),
    }
}

/// Coordinator: the trust file for field vaults. `also` adds other
/// coordinators (their `device show --json`); `hq_server_key` the server's key.
pub fn trust_export(
    vault: &mut Vault,
    also: &[PublicIdentity],
    hq_server_key: Option<String>,
    policy: Option<Policy>,
) -> Result<TrustFile> {
    require_role(vault, VaultRole::Coordinator, "trust export")?;
    let keys = device_keys(vault)?;
    let mut coordinators = vec![keys.public_identity(vault.device_id())];
    coordinators.extend(also.iter().cloned());
    let hq_id = hq_id(vault)?;
    let t = TrustFile {
        format: yaddash_bundle::yaddash_wire::trust::TRUST_FORMAT.into(),
        version: yaddash_bundle::yaddash_wire::trust::TRUST_VERSION,
        hq_id,
        coordinators,
        hq_server_key: hq_server_key.or(vault.setting(Setting::HqServerKey)?),
        policy: policy.map(|p| p.as_preset()),
    };
    check_trust_file(&t)?;
    Ok(t)
}

/// Field: stores the trust file. The caller shows [`TrustFile::fingerprint`]
/// and each coordinator's fingerprint for the user to compare.
pub fn trust_import(vault: &mut Vault, text: &str) -> Result<TrustFile> {
    let t = TrustFile::parse(text).map_err(bad_trust_file)?;
    check_trust_file(&t)?;
    let doc = serde_json::to_string(&t).map_err(|e| ExchangeError::Keys(e.to_string()))?;
    vault.exchange().set_trust(&t.hq_id, &doc)?;
    // Headquarters' preset applies unless the user already chose a policy.
    if let Some(preset) = &t.policy {
        let current = load_policy(vault)?;
        if current.set_by != SetBy::User {
            save_policy(
                vault,
                &Policy {
                    enabled: current.enabled,
                    network_off: current.network_off,
                    ..preset.as_preset()
                },
            )?;
        }
    }
    Ok(t)
}

/// The vault's safety policy. A vault that enrolled at an HQ server before
/// policies existed counts as having enabled sync.
pub fn load_policy(vault: &Vault) -> Result<Policy> {
    match vault.setting(Setting::SyncPolicy)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| ExchangeError::BadFile {
            what: FileKind::StoredPolicy,
            problem: e.to_string(),
        }),
        None => Ok(Policy {
            enabled: vault.setting(Setting::HqServerKey)?.is_some(),
            ..Policy::default()
        }),
    }
}

/// Stores the safety policy after checking it.
pub fn save_policy(vault: &Vault, policy: &Policy) -> Result<()> {
    policy.check().map_err(|e| ExchangeError::BadFile {
        what: FileKind::Policy,
        problem: e.to_string(),
    })?;
    let json = serde_json::to_string(policy).map_err(|e| ExchangeError::Keys(e.to_string()))?;
    vault.set_setting(Setting::SyncPolicy, &json)?;
    Ok(())
}

/// The trust file this field vault imported.
pub fn trust_file(vault: &Vault) -> Result<TrustFile> {
    trust(vault)
}

pub(crate) fn trust(vault: &Vault) -> Result<TrustFile> {
    let (_, doc) = vault.exchange().trust()?.ok_or(ExchangeError::NoTrust)?;
    serde_json::from_str(&doc).map_err(|_| ExchangeError::NoTrust)
}
