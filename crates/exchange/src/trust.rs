//! The trust file a coordinator hands to field vaults, and the safety
//! policy headquarters may pre-set with it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use yaddash_bundle::PublicIdentity;
use yaddash_vault::{Setting, Vault, VaultRole};

use crate::error::{ExchangeError, FileKind, Result};
use crate::keys::{device_keys, hq_id, require_role};
use crate::{Policy, SetBy};

/// The trust file: what a field vault needs to know about headquarters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrustFile {
    /// Always `yaddash-trust`.
    pub format: String,
    /// 1.
    pub version: u64,
    /// The headquarters (trust domain) id bundles are made for.
    pub hq_id: String,
    /// Coordinators: bundles are encrypted to all of them; their signing keys
    /// sign import receipts.
    pub coordinators: Vec<PublicIdentity>,
    /// The HQ server's receipt-signing key, once a server exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hq_server_key: Option<String>,
    /// A safety policy headquarters pre-sets on field devices (route, proxy,
    /// mode...). It never enables sync: that is the device user's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
}

impl TrustFile {
    /// A short fingerprint of the whole file, to compare over the phone.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        let digest = Sha256::digest(canonical.as_bytes());
        let hex = hex::encode(&digest[..8]).to_uppercase();
        format!(
            "{}-{}-{}-{}",
            &hex[0..4],
            &hex[4..8],
            &hex[8..12],
            &hex[12..16]
        )
    }

    /// Checks what `trust_import` checks before storing (the fuzz target uses it).
    pub fn check(&self) -> Result<()> {
        let bad = |problem: &str| ExchangeError::BadFile {
            what: FileKind::Trust,
            problem: problem.into(),
        };
        if self.format != "yaddash-trust" || self.version != 1 {
            return Err(bad(
                "not a Yaddash trust file (format yaddash-trust, version 1)",
            ));
        }
        if self.coordinators.is_empty() {
            return Err(bad("it names no coordinator"));
        }
        for c in &self.coordinators {
            c.fingerprint().map_err(|e| bad(&e.to_string()))?;
        }
        if let Some(p) = &self.policy {
            p.check()
                .map_err(|e| bad(&format!("its safety policy: {e}")))?;
        }
        Ok(())
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
        format: "yaddash-trust".into(),
        version: 1,
        hq_id,
        coordinators,
        hq_server_key: hq_server_key.or(vault.setting(Setting::HqServerKey)?),
        policy: policy.map(|p| p.as_preset()),
    };
    t.check()?;
    Ok(t)
}

/// Field: stores the trust file. The caller shows [`TrustFile::fingerprint`]
/// and each coordinator's fingerprint for the user to compare.
pub fn trust_import(vault: &mut Vault, text: &str) -> Result<TrustFile> {
    let t: TrustFile = serde_json::from_str(text).map_err(|e| ExchangeError::BadFile {
        what: FileKind::Trust,
        problem: format!(
            "line {}, column {}: not the expected JSON",
            e.line(),
            e.column()
        ),
    })?;
    t.check()?;
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
