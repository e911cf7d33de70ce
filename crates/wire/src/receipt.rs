//! Signed receipts: "headquarters received bundle X" and "a coordinator
//! imported bundle X (records ...)".
//!
//! File format: the receipt as one line of compact JSON ending in `\n`,
//! followed by the armoured SSHSIG signature (namespace
//! [`NAMESPACE_RECEIPT`]) over exactly that first line, newline included.

use serde::{Deserialize, Serialize};
use ssh_key::{HashAlg, PublicKey};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ReceiptError;
use crate::format::BundleId;
use crate::keys::{SigningKey, parse_signing_public_key};
use crate::sshsig::{self, MessageDigest, NAMESPACE_RECEIPT};

/// Value of a receipt's `format` field.
pub const RECEIPT_FORMAT: &str = "yaddash-receipt";
/// Current receipt version.
pub const RECEIPT_VERSION: u64 = 1;

/// What a receipt attests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiptKind {
    /// The HQ server stored the bundle (it cannot read it).
    HqReceived,
    /// A coordinator decrypted, verified and imported the bundle.
    CoordinatorImported,
}

/// A receipt for one bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    /// [`RECEIPT_VERSION`].
    pub version: u64,
    /// What is attested.
    pub kind: ReceiptKind,
    /// The bundle concerned.
    pub bundle_id: BundleId,
    /// The device that sent it.
    pub device_id: Uuid,
    /// The bundle's sequence number.
    pub seq: u64,
    /// Records imported (empty for [`ReceiptKind::HqReceived`]).
    #[serde(default)]
    pub record_ids: Vec<Uuid>,
    /// When the receipt was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// `SHA256:...` fingerprint of the signing key of the issuer.
    pub issuer: String,
}

impl Receipt {
    /// A receipt issued now-ish by the holder of `issuer_keys`.
    pub fn new(
        kind: ReceiptKind,
        bundle_id: BundleId,
        device_id: Uuid,
        seq: u64,
        record_ids: Vec<Uuid>,
        issued_at: OffsetDateTime,
        issuer_keys: &impl AsRef<SigningKey>,
    ) -> Self {
        Self {
            format: RECEIPT_FORMAT.to_owned(),
            version: RECEIPT_VERSION,
            kind,
            bundle_id,
            device_id,
            seq,
            record_ids,
            issued_at,
            issuer: issuer_keys.as_ref().fingerprint(),
        }
    }
}

/// Signs a receipt, returning the whole receipt file.
pub fn sign_receipt(
    receipt: &Receipt,
    keys: &impl AsRef<SigningKey>,
) -> Result<String, ReceiptError> {
    let actual = keys.as_ref().fingerprint();
    if receipt.issuer != actual {
        return Err(ReceiptError::IssuerMismatch {
            claimed: receipt.issuer.clone(),
            actual,
        });
    }
    let mut line = serde_json::to_string(receipt).map_err(|_| ReceiptError::Malformed {
        reason: "cannot be encoded as JSON",
    })?;
    line.push('\n');
    let sig = sshsig::sign_bytes(keys, NAMESPACE_RECEIPT, line.as_bytes())?;
    line.push_str(&sig);
    Ok(line)
}

/// Verifies a receipt file against the issuer's OpenSSH public key line and
/// returns the receipt.
pub fn verify_receipt(file: &str, issuer_signing_key: &str) -> Result<Receipt, ReceiptError> {
    let key = parse_signing_public_key(issuer_signing_key)?;
    verify_receipt_with(file, &key)
}

/// Verifies a receipt file against an already parsed public key.
pub fn verify_receipt_with(file: &str, key: &PublicKey) -> Result<Receipt, ReceiptError> {
    let split = file.find('\n').ok_or(ReceiptError::Malformed {
        reason: "no signature follows the JSON line",
    })?;
    let (line, sig) = file.split_at(split + 1);
    let mut digest = MessageDigest::new();
    digest.update(line.as_bytes());
    sshsig::verify_digest(key, NAMESPACE_RECEIPT, digest, sig.as_bytes())?;
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|_| ReceiptError::Malformed {
            reason: "the first line is not JSON",
        })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(RECEIPT_FORMAT) {
        return Err(ReceiptError::Malformed {
            reason: "the JSON is not a Yaddash receipt",
        });
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(RECEIPT_VERSION) => {}
        Some(found) => return Err(ReceiptError::UnsupportedVersion { found }),
        None => {
            return Err(ReceiptError::Malformed {
                reason: "the receipt has no version",
            });
        }
    }
    let receipt: Receipt = serde_json::from_value(value).map_err(|_| ReceiptError::Malformed {
        reason: "the receipt has unexpected fields",
    })?;
    let actual = key.fingerprint(HashAlg::Sha256).to_string();
    if receipt.issuer != actual {
        return Err(ReceiptError::IssuerMismatch {
            claimed: receipt.issuer,
            actual,
        });
    }
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Sha256Hash;

    fn sample(keys: &SigningKey) -> Receipt {
        Receipt::new(
            ReceiptKind::CoordinatorImported,
            Sha256Hash::digest(b"payload"),
            Uuid::now_v7(),
            7,
            vec![Uuid::now_v7()],
            time::macros::datetime!(2025-01-02 03:04:05 UTC),
            keys,
        )
    }

    #[test]
    fn receipts_round_trip_and_reject_tampering() {
        let keys = SigningKey::generate();
        let public = keys.public_key_openssh("");
        let r = sample(&keys);
        let file = sign_receipt(&r, &keys).unwrap();
        assert_eq!(verify_receipt(&file, &public).unwrap(), r);

        let tampered = file.replacen("\"seq\":7", "\"seq\":8", 1);
        assert!(matches!(
            verify_receipt(&tampered, &public),
            Err(ReceiptError::Signature(_))
        ));
        let other = SigningKey::generate().public_key_openssh("x");
        assert!(matches!(
            verify_receipt(&file, &other),
            Err(ReceiptError::Signature(_))
        ));
        assert!(verify_receipt("", &public).is_err());
    }

    #[test]
    fn a_receipt_cannot_claim_another_issuer() {
        let keys = SigningKey::generate();
        let mut r = sample(&keys);
        r.issuer = SigningKey::generate().fingerprint();
        assert!(matches!(
            sign_receipt(&r, &keys),
            Err(ReceiptError::IssuerMismatch { .. })
        ));
    }
}
