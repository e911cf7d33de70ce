//! Signing keys (Ed25519, OpenSSH encoding) and human-comparable fingerprints.
//!
//! Nothing here can decrypt: the age half of a device's keys lives in
//! `yaddash-bundle`, which the HQ server never links.

use std::fmt;

use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::KeyError;

/// Comment stored in an OpenSSH private key. Deliberately says nothing about
/// the person or the organisation.
const PRIVATE_KEY_COMMENT: &str = "yaddash-device";

/// An Ed25519 signing key (the secret half), zeroised on drop by `ssh-key`.
/// `Debug` prints only the public fingerprint.
#[derive(Clone)]
pub struct SigningKey(PrivateKey);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SigningKey")
            .field(&self.fingerprint())
            .finish()
    }
}

impl AsRef<SigningKey> for SigningKey {
    fn as_ref(&self) -> &SigningKey {
        self
    }
}

impl SigningKey {
    /// Generates a fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut key = PrivateKey::from(ssh_key::private::Ed25519Keypair::random(&mut OsRng));
        key.set_comment(PRIVATE_KEY_COMMENT);
        Self(key)
    }

    /// Parses an unencrypted OpenSSH Ed25519 private key
    /// (`-----BEGIN OPENSSH PRIVATE KEY-----`).
    pub fn from_openssh(text: &str) -> Result<Self, KeyError> {
        let key =
            PrivateKey::from_openssh(text.trim()).map_err(|_| KeyError::SigningKeyUnreadable)?;
        if key.is_encrypted() {
            return Err(KeyError::SigningKeyEncrypted);
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(KeyError::NotEd25519);
        }
        Ok(Self(key))
    }

    /// The key as an OpenSSH private key file (PEM, LF line endings), usable
    /// with `ssh-keygen -Y sign -f`.
    pub fn to_openssh(&self) -> Result<Zeroizing<String>, KeyError> {
        self.0
            .to_openssh(LineEnding::LF)
            .map_err(|_| KeyError::SigningKeyUnreadable)
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.0.public_key().clone()
    }

    /// The public key as an OpenSSH line (`ssh-ed25519 AAAA... comment`).
    pub fn public_key_openssh(&self, comment: &str) -> String {
        let mut public = self.0.public_key().clone();
        public.set_comment(comment);
        // Encoding an Ed25519 public key is infallible in practice; an empty
        // string would be rejected by every later parse.
        public.to_openssh().unwrap_or_default()
    }

    /// `SHA256:...` fingerprint of the public key, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.0.public_key().fingerprint(HashAlg::Sha256).to_string()
    }

    /// The underlying `ssh-key` private key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.0
    }
}

/// Parses an OpenSSH public key line and insists on Ed25519.
pub fn parse_signing_public_key(line: &str) -> Result<PublicKey, KeyError> {
    let key = PublicKey::from_openssh(line.trim()).map_err(|_| KeyError::SigningKeyUnreadable)?;
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(KeyError::NotEd25519);
    }
    Ok(key)
}

/// `SHA256:...` fingerprint of an OpenSSH public key line.
pub fn signing_key_fingerprint(line: &str) -> Result<String, KeyError> {
    Ok(parse_signing_public_key(line)?
        .fingerprint(HashAlg::Sha256)
        .to_string())
}

/// Human-comparable fingerprints of a public identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityFingerprint {
    /// `SHA256:<base64>` of the signing key, identical to what
    /// `ssh-keygen -l -f key.pub` prints.
    pub ssh: String,
    /// 16 characters of RFC 4648 base32 in four groups (`ABCD-EFGH-IJKL-MNOP`,
    /// 80 bits) over the device id, the signing key and the age recipient
    /// together, for reading aloud over the phone. See `docs/bundle-format.md`.
    pub short: String,
}

impl fmt::Display for IdentityFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.short, self.ssh)
    }
}

/// Computes the [`IdentityFingerprint`] of a device id, its signing key and
/// its age recipient in canonical (`age1...`, lowercase) form. The caller
/// (yaddash-bundle) parses the recipient; this crate treats it as opaque text.
pub fn identity_fingerprint(
    device_id: Uuid,
    signing_key: &PublicKey,
    age_recipient_canonical: &str,
) -> Result<IdentityFingerprint, KeyError> {
    let key_no_comment = PublicKey::new(signing_key.key_data().clone(), "")
        .to_openssh()
        .map_err(|_| KeyError::SigningKeyUnreadable)?;
    let mut h = Sha256::new();
    h.update(b"yaddash-identity-v1\n");
    h.update(device_id.hyphenated().to_string().as_bytes());
    h.update(b"\n");
    h.update(key_no_comment.trim().as_bytes());
    h.update(b"\n");
    h.update(age_recipient_canonical.as_bytes());
    h.update(b"\n");
    let digest = h.finalize();
    let b32 = base32(&digest[..10]);
    let short = b32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    Ok(IdentityFingerprint {
        ssh: signing_key.fingerprint(HashAlg::Sha256).to_string(),
        short,
    })
}

/// RFC 4648 base32 without padding.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }

    #[test]
    fn signing_keys_round_trip() {
        let k = SigningKey::generate();
        let back = SigningKey::from_openssh(&k.to_openssh().unwrap()).unwrap();
        assert_eq!(k.public_key(), back.public_key());
        assert!(!format!("{k:?}").contains("PRIVATE"));
        assert!(parse_signing_public_key("ssh-rsa AAAA").is_err());
        assert!(matches!(
            SigningKey::from_openssh("nope"),
            Err(KeyError::SigningKeyUnreadable)
        ));
    }
}
