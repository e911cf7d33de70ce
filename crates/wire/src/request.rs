//! Signing HTTP requests to the HQ server, and one-time enrollment codes.
//!
//! There are no passwords. Every request carries four headers:
//!
//! ```text
//! x-yaddash-signer:    <device uuid>            (a device or a coordinator)
//! x-yaddash-time:      <unix seconds>
//! x-yaddash-nonce:     <32 lowercase hex digits, random>
//! x-yaddash-signature: <128 lowercase hex digits>
//! ```
//!
//! The signature is an Ed25519 signature, SSHSIG-style (namespace
//! [`NAMESPACE_REQUEST`], SHA-512), over the canonical text
//!
//! ```text
//! yaddash-request-v1\n<METHOD>\n<path and query>\n<sha256(body) hex>\n<time>\n<nonce>\n<signer>\n
//! ```
//!
//! The server refuses a time more than [`MAX_SKEW_SECS`] away from its
//! clock and a nonce it has seen before, so a captured request cannot be
//! replayed.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::SignatureError;
use crate::format::Sha256Hash;
use crate::keys::{SigningKey, base32};
use crate::sshsig::{self, NAMESPACE_ENROLL, NAMESPACE_REQUEST};

/// Header naming the signer (a device id).
pub const HEADER_SIGNER: &str = "x-yaddash-signer";
/// Header with the signing time (unix seconds).
pub const HEADER_TIME: &str = "x-yaddash-time";
/// Header with the random nonce.
pub const HEADER_NONCE: &str = "x-yaddash-nonce";
/// Header with the signature (hex).
pub const HEADER_SIGNATURE: &str = "x-yaddash-signature";
/// Largest accepted difference between the client's and the server's clock.
pub const MAX_SKEW_SECS: i64 = 300;
/// Longest lifetime of an enrollment code (7 days): [`EnrollCode::issue`]
/// refuses a later expiry, and the server refuses a code that expires
/// further than this from its own clock.
pub const MAX_CODE_LIFETIME_SECS: i64 = 7 * 86_400;
/// SSHSIG namespace of coordinators' approvals of trust changes.
pub const NAMESPACE_TRUST: &str = "yaddash-trust@yaddash.org";

/// The four signature headers of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestAuth {
    /// The signing device.
    pub signer: Uuid,
    /// Unix seconds.
    pub time: i64,
    /// 32 lowercase hex digits.
    pub nonce: String,
    /// 128 lowercase hex digits.
    pub signature: String,
}

/// Why request authentication failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// A header is missing or malformed.
    Malformed(&'static str),
    /// The signature does not verify.
    BadSignature,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "request signature headers are malformed: {what}"),
            Self::BadSignature => f.write_str("the request signature does not verify"),
        }
    }
}

impl std::error::Error for AuthError {}

fn canonical(
    method: &str,
    path_and_query: &str,
    body_sha256: &Sha256Hash,
    time: i64,
    nonce: &str,
    signer: Uuid,
) -> String {
    format!(
        "yaddash-request-v1\n{}\n{}\n{}\n{}\n{}\n{}\n",
        method.to_ascii_uppercase(),
        path_and_query,
        body_sha256,
        time,
        nonce,
        signer.hyphenated()
    )
}

/// Signs a request now, with a fresh random nonce.
pub fn sign_request(
    key: &impl AsRef<SigningKey>,
    signer: Uuid,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<RequestAuth, SignatureError> {
    let time = OffsetDateTime::now_utc().unix_timestamp();
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    sign_request_at(key, signer, method, path_and_query, body, time, &nonce)
}

/// Signs a request now whose body's SHA-256 the caller already computed.
pub fn sign_request_hashed(
    key: &impl AsRef<SigningKey>,
    signer: Uuid,
    method: &str,
    path_and_query: &str,
    body_sha256: &Sha256Hash,
) -> Result<RequestAuth, SignatureError> {
    let time = OffsetDateTime::now_utc().unix_timestamp();
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let msg = canonical(method, path_and_query, body_sha256, time, &nonce, signer);
    let sig = sshsig::sign_raw(key, NAMESPACE_REQUEST, msg.as_bytes())?;
    Ok(RequestAuth {
        signer,
        time,
        nonce,
        signature: hex::encode(sig),
    })
}

/// Signs a request with a given time and nonce (tests use this to forge
/// stale or replayed requests).
pub fn sign_request_at(
    key: &impl AsRef<SigningKey>,
    signer: Uuid,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    time: i64,
    nonce: &str,
) -> Result<RequestAuth, SignatureError> {
    let msg = canonical(
        method,
        path_and_query,
        &Sha256Hash::digest(body),
        time,
        nonce,
        signer,
    );
    let sig = sshsig::sign_raw(key, NAMESPACE_REQUEST, msg.as_bytes())?;
    Ok(RequestAuth {
        signer,
        time,
        nonce: nonce.to_owned(),
        signature: hex::encode(sig),
    })
}

impl RequestAuth {
    /// Parses the four header values.
    pub fn parse(
        signer: Option<&str>,
        time: Option<&str>,
        nonce: Option<&str>,
        signature: Option<&str>,
    ) -> Result<Self, AuthError> {
        let signer = signer
            .ok_or(AuthError::Malformed("x-yaddash-signer is missing"))?
            .parse::<Uuid>()
            .map_err(|_| AuthError::Malformed("x-yaddash-signer is not a UUID"))?;
        let time = time
            .ok_or(AuthError::Malformed("x-yaddash-time is missing"))?
            .parse::<i64>()
            .map_err(|_| AuthError::Malformed("x-yaddash-time is not an integer"))?;
        let nonce = nonce.ok_or(AuthError::Malformed("x-yaddash-nonce is missing"))?;
        if nonce.len() != 32
            || !nonce
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(AuthError::Malformed(
                "x-yaddash-nonce must be 32 lowercase hex digits",
            ));
        }
        let signature = signature.ok_or(AuthError::Malformed("x-yaddash-signature is missing"))?;
        if signature.len() != 128 || hex::decode(signature).is_err() {
            return Err(AuthError::Malformed(
                "x-yaddash-signature must be 128 hex digits",
            ));
        }
        Ok(Self {
            signer,
            time,
            nonce: nonce.to_owned(),
            signature: signature.to_owned(),
        })
    }

    /// Verifies the signature against the signer's public key. The caller
    /// checks the time window and nonce reuse.
    pub fn verify(
        &self,
        key: &ssh_key::PublicKey,
        method: &str,
        path_and_query: &str,
        body_sha256: &Sha256Hash,
    ) -> Result<(), AuthError> {
        let msg = canonical(
            method,
            path_and_query,
            body_sha256,
            self.time,
            &self.nonce,
            self.signer,
        );
        let raw = hex::decode(&self.signature).map_err(|_| AuthError::BadSignature)?;
        sshsig::verify_raw(key, NAMESPACE_REQUEST, msg.as_bytes(), &raw)
            .map_err(|_| AuthError::BadSignature)
    }
}

/// Why an enrollment code could not be issued.
#[derive(Debug)]
#[non_exhaustive]
pub enum CodeError {
    /// The expiry is further away than [`MAX_CODE_LIFETIME_SECS`].
    TooLong,
    /// Signing failed.
    Signature(SignatureError),
}

impl std::fmt::Display for CodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLong => write!(
                f,
                "an enrollment code is valid for at most {} days",
                MAX_CODE_LIFETIME_SECS / 86_400
            ),
            Self::Signature(e) => std::fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for CodeError {}

/// The bytes coordinators sign to approve replacing the coordinator set:
/// `yaddash-trust-update-v1\n` and the JSON array `[hq_id, version,
/// [[device_id, signing_key, age_recipient], ...]]` with the coordinators
/// sorted by device id (so the order they are listed in does not matter).
pub fn trust_update_message(
    hq_id: &str,
    version: u64,
    coordinators: &[crate::hq::CoordinatorKey],
) -> Vec<u8> {
    let mut set: Vec<(String, &str, &str)> = coordinators
        .iter()
        .map(|c| {
            (
                c.device_id.hyphenated().to_string(),
                c.signing_key.trim(),
                c.age_recipient.as_str(),
            )
        })
        .collect();
    set.sort();
    let mut v = b"yaddash-trust-update-v1\n".to_vec();
    v.extend_from_slice(
        serde_json::to_string(&(hq_id, version, set))
            .unwrap_or_default()
            .as_bytes(),
    );
    v
}

/// The bytes coordinators sign to approve revoking one coordinator:
/// `yaddash-coordinator-revoke-v1\n` and the JSON array `[hq_id, version,
/// coordinator_id]`.
pub fn coordinator_revocation_message(hq_id: &str, version: u64, coordinator: Uuid) -> Vec<u8> {
    let mut v = b"yaddash-coordinator-revoke-v1\n".to_vec();
    v.extend_from_slice(
        serde_json::to_string(&(hq_id, version, coordinator.hyphenated().to_string()))
            .unwrap_or_default()
            .as_bytes(),
    );
    v
}

/// A coordinator's approval of a trust change message.
pub fn approve(
    key: &impl AsRef<SigningKey>,
    coordinator: Uuid,
    message: &[u8],
) -> Result<crate::hq::Approval, SignatureError> {
    let sig = sshsig::sign_raw(key, NAMESPACE_TRUST, message)?;
    Ok(crate::hq::Approval {
        coordinator,
        signature: hex::encode(sig),
    })
}

/// Checks an approval's signature with the coordinator's key.
pub fn verify_approval(
    key: &ssh_key::PublicKey,
    message: &[u8],
    approval: &crate::hq::Approval,
) -> Result<(), SignatureError> {
    let raw = hex::decode(&approval.signature).map_err(|_| SignatureError::Malformed)?;
    sshsig::verify_raw(key, NAMESPACE_TRUST, message, &raw)
}

/// A one-time enrollment code, issued by a coordinator, presented by a new
/// device to the server together with its public keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollCode {
    /// Random id; the server accepts each id once.
    pub code_id: [u8; 16],
    /// Unix seconds after which the code is refused.
    pub expires_at: i64,
    /// The coordinator that issued (and signed) the code.
    pub issuer: Uuid,
    /// Ed25519 signature (namespace [`NAMESPACE_ENROLL`]) over the 40 bytes
    /// `code_id || expires_at (big-endian i64) || issuer`.
    pub signature: [u8; 64],
}

const CODE_PREFIX: &str = "YDE1-";

impl EnrollCode {
    fn signed_bytes(code_id: &[u8; 16], expires_at: i64, issuer: Uuid) -> Vec<u8> {
        let mut v = Vec::with_capacity(40);
        v.extend_from_slice(code_id);
        v.extend_from_slice(&expires_at.to_be_bytes());
        v.extend_from_slice(issuer.as_bytes());
        v
    }

    /// Issues a fresh code valid until `expires_at` (unix seconds), at most
    /// [`MAX_CODE_LIFETIME_SECS`] from now.
    pub fn issue(
        key: &impl AsRef<SigningKey>,
        issuer: Uuid,
        expires_at: i64,
    ) -> Result<Self, CodeError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if expires_at > now.saturating_add(MAX_CODE_LIFETIME_SECS) {
            return Err(CodeError::TooLong);
        }
        let code_id = rand::random::<[u8; 16]>();
        let signature = sshsig::sign_raw(
            key,
            NAMESPACE_ENROLL,
            &Self::signed_bytes(&code_id, expires_at, issuer),
        )
        .map_err(CodeError::Signature)?;
        Ok(Self {
            code_id,
            expires_at,
            issuer,
            signature,
        })
    }

    /// Verifies the signature with the issuer's key.
    pub fn verify(&self, issuer_key: &ssh_key::PublicKey) -> Result<(), SignatureError> {
        sshsig::verify_raw(
            issuer_key,
            NAMESPACE_ENROLL,
            &Self::signed_bytes(&self.code_id, self.expires_at, self.issuer),
            &self.signature,
        )
    }

    /// The code as text: `YDE1-` and base32 of the 104 bytes.
    pub fn to_text(&self) -> String {
        let mut v = Self::signed_bytes(&self.code_id, self.expires_at, self.issuer);
        v.extend_from_slice(&self.signature);
        format!("{CODE_PREFIX}{}", base32(&v))
    }

    /// Parses [`Self::to_text`] output (whitespace and case are ignored).
    pub fn from_text(text: &str) -> Option<Self> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let body = cleaned.strip_prefix(CODE_PREFIX)?;
        let bytes = base32_decode(body)?;
        if bytes.len() != 104 {
            return None;
        }
        let code_id: [u8; 16] = bytes[..16].try_into().ok()?;
        let expires_at = i64::from_be_bytes(bytes[16..24].try_into().ok()?);
        let issuer = Uuid::from_slice(&bytes[24..40]).ok()?;
        let signature: [u8; 64] = bytes[40..].try_into().ok()?;
        Some(Self {
            code_id,
            expires_at,
            issuer,
            signature,
        })
    }
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_verify_and_tampering_is_caught() {
        let k = SigningKey::generate();
        let id = Uuid::now_v7();
        let auth = sign_request(&k, id, "put", "/v1/x?y=1", b"body").unwrap();
        let h = Sha256Hash::digest(b"body");
        auth.verify(&k.public_key(), "PUT", "/v1/x?y=1", &h)
            .unwrap();
        assert!(
            auth.verify(&k.public_key(), "GET", "/v1/x?y=1", &h)
                .is_err()
        );
        assert!(auth.verify(&k.public_key(), "PUT", "/v1/x", &h).is_err());
        assert!(
            auth.verify(
                &k.public_key(),
                "PUT",
                "/v1/x?y=1",
                &Sha256Hash::digest(b"b")
            )
            .is_err()
        );
        let other = SigningKey::generate();
        assert!(
            auth.verify(&other.public_key(), "PUT", "/v1/x?y=1", &h)
                .is_err()
        );
        let parsed = RequestAuth::parse(
            Some(&id.to_string()),
            Some(&auth.time.to_string()),
            Some(&auth.nonce),
            Some(&auth.signature),
        )
        .unwrap();
        assert_eq!(parsed, auth);
        assert!(RequestAuth::parse(None, None, None, None).is_err());
    }

    #[test]
    fn enroll_codes_round_trip() {
        let k = SigningKey::generate();
        let exp = OffsetDateTime::now_utc().unix_timestamp() + 3600;
        let code = EnrollCode::issue(&k, Uuid::now_v7(), exp).unwrap();
        assert!(matches!(
            EnrollCode::issue(&k, Uuid::now_v7(), exp + MAX_CODE_LIFETIME_SECS),
            Err(CodeError::TooLong)
        ));
        let text = code.to_text();
        let back = EnrollCode::from_text(&text.to_lowercase()).unwrap();
        assert_eq!(back, code);
        back.verify(&k.public_key()).unwrap();
        let mut forged = back.clone();
        forged.expires_at += 1;
        assert!(forged.verify(&k.public_key()).is_err());
        assert!(EnrollCode::from_text("YDE1-AAAA").is_none());
        assert!(EnrollCode::from_text("garbage").is_none());
    }
}
