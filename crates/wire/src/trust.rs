//! The trust file a coordinator hands to field vaults and to the HQ server
//! (`yaddash trust export`): which headquarters, which coordinators, the
//! server's receipt key and a preset safety policy. One type for every
//! reader: the field vault (`yaddash trust import`), the HQ server
//! (`yaddash-hq init`) and the fuzz targets.
//!
//! The checks here need no decryption key; a field vault additionally parses
//! each coordinator's age recipient (`yaddash-exchange`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::KeyError;
use crate::keys::parse_signing_public_key;
use crate::policy::{Policy, PolicyError};

/// `format` of a trust file.
pub const TRUST_FORMAT: &str = "yaddash-trust";
/// The trust file version written and read.
pub const TRUST_VERSION: u64 = 1;

/// What a device (or coordinator) publishes about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicIdentity {
    /// The device's id, the principal in `allowed_signers`.
    pub device_id: Uuid,
    /// OpenSSH public key line: `ssh-ed25519 AAAA... comment`.
    pub signing_key: String,
    /// age recipient: `age1...`.
    pub age_recipient: String,
}

impl PublicIdentity {
    /// Parses and checks [`Self::signing_key`] (must be Ed25519).
    pub fn signing_public_key(&self) -> Result<ssh_key::PublicKey, KeyError> {
        parse_signing_public_key(&self.signing_key)
    }
}

impl From<&PublicIdentity> for crate::KnownSender {
    fn from(id: &PublicIdentity) -> Self {
        Self {
            signing_key: id.signing_key.clone(),
            revoked_from: None,
        }
    }
}

/// The trust file. Unknown fields are ignored, so a newer export still loads
/// in an older reader.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrustFile {
    /// Always [`TRUST_FORMAT`].
    pub format: String,
    /// [`TRUST_VERSION`].
    pub version: u64,
    /// The headquarters (trust domain) id bundles are made for.
    pub hq_id: String,
    /// Coordinators: bundles are encrypted to all of them; their signing keys
    /// sign import receipts and HQ administration requests.
    pub coordinators: Vec<PublicIdentity>,
    /// The HQ server's receipt-signing key, once a server exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hq_server_key: Option<String>,
    /// A safety policy headquarters pre-sets on field devices (route, proxy,
    /// mode...). It never enables sync: that is the device user's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
}

/// Why a trust file was refused, said of "the trust file" (callers put that
/// in front). No advice for a particular program: the CLI and the app add
/// theirs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustFileError {
    /// Not JSON of the expected shape.
    #[error("line {line}, column {column}: not the expected JSON")]
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Another format or version.
    #[error("not a Yaddash trust file (format {TRUST_FORMAT}, version {TRUST_VERSION})")]
    NotATrustFile,
    /// No headquarters id.
    #[error("it names no headquarters id")]
    NoHqId,
    /// No coordinator.
    #[error("it names no coordinator")]
    NoCoordinator,
    /// A coordinator's key does not parse.
    #[error("coordinator {device_id}: {source}")]
    Coordinator {
        /// The coordinator.
        device_id: Uuid,
        /// What is wrong with its key.
        source: KeyError,
    },
    /// The HQ server key does not parse.
    #[error("the HQ server key: {0}")]
    ServerKey(KeyError),
    /// The preset policy is not valid.
    #[error("its safety policy: {0}")]
    Policy(PolicyError),
}

impl TrustFile {
    /// Parses and [`check`](Self::check)s a trust file.
    pub fn parse(text: &str) -> Result<Self, TrustFileError> {
        let t: TrustFile = serde_json::from_str(text).map_err(|e| TrustFileError::NotJson {
            line: e.line(),
            column: e.column(),
        })?;
        t.check()?;
        Ok(t)
    }

    /// Everything that can be checked without age: format and version, an
    /// hq id, at least one coordinator, every signing key Ed25519, an age
    /// recipient that at least looks like one, a valid preset policy.
    pub fn check(&self) -> Result<(), TrustFileError> {
        if self.format != TRUST_FORMAT || self.version != TRUST_VERSION {
            return Err(TrustFileError::NotATrustFile);
        }
        if self.hq_id.trim().is_empty() {
            return Err(TrustFileError::NoHqId);
        }
        if self.coordinators.is_empty() {
            return Err(TrustFileError::NoCoordinator);
        }
        for c in &self.coordinators {
            let bad = |source| TrustFileError::Coordinator {
                device_id: c.device_id,
                source,
            };
            c.signing_public_key().map_err(bad)?;
            if !c.age_recipient.trim().starts_with("age1") {
                return Err(bad(KeyError::AgeRecipientUnreadable));
            }
        }
        if let Some(k) = &self.hq_server_key {
            parse_signing_public_key(k).map_err(TrustFileError::ServerKey)?;
        }
        if let Some(p) = &self.policy {
            p.check().map_err(TrustFileError::Policy)?;
        }
        Ok(())
    }

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    fn sample() -> TrustFile {
        let k = SigningKey::generate();
        TrustFile {
            format: TRUST_FORMAT.into(),
            version: TRUST_VERSION,
            hq_id: "hq-test".into(),
            coordinators: vec![PublicIdentity {
                device_id: Uuid::nil(),
                signing_key: k.public_key_openssh("c"),
                age_recipient: "age1qqqq".into(),
            }],
            hq_server_key: None,
            policy: None,
        }
    }

    #[test]
    fn checks_what_needs_no_key() {
        let t = sample();
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(TrustFile::parse(&text).unwrap(), t);
        assert!(matches!(
            TrustFile::parse("{"),
            Err(TrustFileError::NotJson { .. })
        ));
        let mut v2 = t.clone();
        v2.version = 2;
        assert!(matches!(v2.check(), Err(TrustFileError::NotATrustFile)));
        let mut no_hq = t.clone();
        no_hq.hq_id = " ".into();
        assert!(matches!(no_hq.check(), Err(TrustFileError::NoHqId)));
        let mut none = t.clone();
        none.coordinators.clear();
        assert!(matches!(none.check(), Err(TrustFileError::NoCoordinator)));
        let mut rsa = t.clone();
        rsa.coordinators[0].signing_key = "ssh-rsa AAAA".into();
        assert!(matches!(
            rsa.check(),
            Err(TrustFileError::Coordinator { .. })
        ));
        let mut server = t.clone();
        server.hq_server_key = Some("nonsense".into());
        assert!(matches!(server.check(), Err(TrustFileError::ServerKey(_))));
        // Unknown fields from a newer export are ignored.
        let mut v = serde_json::to_value(&t).unwrap();
        v["later"] = serde_json::json!(1);
        assert_eq!(TrustFile::parse(&v.to_string()).unwrap(), t);
    }
}
