//! Device keys (Ed25519 for SSHSIG, X25519 for age) and public identities.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use rand::rngs::OsRng;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::KeyError;

/// Comment stored in the OpenSSH private key. Deliberately says nothing about
/// the person or the organisation.
const PRIVATE_KEY_COMMENT: &str = "yaddash-device";

/// The secret keys of one device (or one coordinator): an Ed25519 key that
/// signs bundles, manifests and receipts, and an age X25519 identity that
/// decrypts bundles sent to it.
///
/// Both secrets are zeroised on drop (`ssh-key` and `age` do this for their
/// key types); the string forms are returned in [`Zeroizing`] /
/// [`SecretString`] wrappers. `Debug` never prints secret material.
pub struct DeviceKeys {
    signing: PrivateKey,
    age: age::x25519::Identity,
}

impl fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeys")
            .field(
                "signing",
                &self
                    .signing_public_key()
                    .fingerprint(HashAlg::Sha256)
                    .to_string(),
            )
            .field("age", &self.age.to_public().to_string())
            .finish()
    }
}

impl DeviceKeys {
    /// Generates fresh keys from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut signing = PrivateKey::from(ssh_key::private::Ed25519Keypair::random(&mut OsRng));
        signing.set_comment(PRIVATE_KEY_COMMENT);
        Self {
            signing,
            age: age::x25519::Identity::generate(),
        }
    }

    /// Rebuilds keys from their secret string forms: an unencrypted OpenSSH
    /// Ed25519 private key (`-----BEGIN OPENSSH PRIVATE KEY-----`) and an age
    /// identity (`AGE-SECRET-KEY-1...`).
    pub fn from_secrets(signing_openssh: &str, age_identity: &str) -> Result<Self, KeyError> {
        let signing = PrivateKey::from_openssh(signing_openssh.trim())
            .map_err(|_| KeyError::SigningKeyUnreadable)?;
        if signing.is_encrypted() {
            return Err(KeyError::SigningKeyEncrypted);
        }
        if signing.algorithm() != Algorithm::Ed25519 {
            return Err(KeyError::NotEd25519);
        }
        let age = age::x25519::Identity::from_str(age_identity.trim())
            .map_err(|_| KeyError::AgeIdentityUnreadable)?;
        Ok(Self { signing, age })
    }

    /// The signing key as an OpenSSH private key file (PEM, LF line endings),
    /// usable with `ssh-keygen -Y sign -f`.
    pub fn signing_key_openssh(&self) -> Result<Zeroizing<String>, KeyError> {
        self.signing
            .to_openssh(LineEnding::LF)
            .map_err(|_| KeyError::SigningKeyUnreadable)
    }

    /// The age identity as `AGE-SECRET-KEY-1...`, usable with `age -d -i`.
    pub fn age_identity_string(&self) -> SecretString {
        SecretString::from(self.age.to_string().expose_secret().to_owned())
    }

    /// The age identity, for decrypting bundles addressed to these keys.
    pub fn age_identity(&self) -> &age::x25519::Identity {
        &self.age
    }

    /// The age recipient (`age1...`) matching [`Self::age_identity`].
    pub fn age_recipient(&self) -> age::x25519::Recipient {
        self.age.to_public()
    }

    /// The Ed25519 public key.
    pub fn signing_public_key(&self) -> PublicKey {
        self.signing.public_key().clone()
    }

    pub(crate) fn signing_private(&self) -> &PrivateKey {
        &self.signing
    }

    /// `SHA256:...` fingerprint of the signing key, as `ssh-keygen -l` prints it.
    pub fn signing_fingerprint(&self) -> String {
        self.signing
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string()
    }

    /// The public half, to be enrolled at headquarters.
    pub fn public_identity(&self, device_id: Uuid) -> PublicIdentity {
        let mut public = self.signing.public_key().clone();
        public.set_comment(format!("yaddash-device-{device_id}"));
        PublicIdentity {
            device_id,
            // Encoding an Ed25519 public key is infallible in practice; an
            // empty string would be rejected by every later parse.
            signing_key: public.to_openssh().unwrap_or_default(),
            age_recipient: self.age.to_public().to_string(),
        }
    }
}

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

/// Human-comparable fingerprints of a [`PublicIdentity`].
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

impl PublicIdentity {
    /// Parses and checks [`Self::signing_key`] (must be Ed25519).
    pub fn signing_public_key(&self) -> Result<PublicKey, KeyError> {
        parse_signing_public_key(&self.signing_key)
    }

    /// Parses [`Self::age_recipient`].
    pub fn age_recipient(&self) -> Result<age::x25519::Recipient, KeyError> {
        age::x25519::Recipient::from_str(self.age_recipient.trim())
            .map_err(|_| KeyError::AgeRecipientUnreadable)
    }

    /// Fingerprints to compare out of band before trusting this identity.
    pub fn fingerprint(&self) -> Result<IdentityFingerprint, KeyError> {
        let key = self.signing_public_key()?;
        let recipient = self.age_recipient()?;
        let key_no_comment = PublicKey::new(key.key_data().clone(), "")
            .to_openssh()
            .map_err(|_| KeyError::SigningKeyUnreadable)?;
        let mut h = Sha256::new();
        h.update(b"yaddash-identity-v1\n");
        h.update(self.device_id.hyphenated().to_string().as_bytes());
        h.update(b"\n");
        h.update(key_no_comment.trim().as_bytes());
        h.update(b"\n");
        h.update(recipient.to_string().as_bytes());
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
            ssh: key.fingerprint(HashAlg::Sha256).to_string(),
            short,
        })
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

/// Fingerprint of an age recipient as listed in a bundle manifest: the
/// lowercase hex SHA-256 of the `age1...` string (no newline), so that
/// `printf %s age1... | sha256sum` reproduces it.
pub fn recipient_fingerprint(recipient: &age::x25519::Recipient) -> String {
    hex::encode(Sha256::digest(recipient.to_string().as_bytes()))
}

fn base32(bytes: &[u8]) -> String {
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
    fn secrets_round_trip_and_fingerprint_is_stable() {
        let keys = DeviceKeys::generate();
        let ssh = keys.signing_key_openssh().unwrap();
        let agek = keys.age_identity_string();
        let back = DeviceKeys::from_secrets(&ssh, agek.expose_secret()).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(keys.public_identity(id), back.public_identity(id));
        let fp = keys.public_identity(id).fingerprint().unwrap();
        assert!(fp.ssh.starts_with("SHA256:"));
        assert_eq!(fp.short.len(), 19);
        assert_eq!(fp, back.public_identity(id).fingerprint().unwrap());
        let other = DeviceKeys::generate()
            .public_identity(id)
            .fingerprint()
            .unwrap();
        assert_ne!(fp.short, other.short);
        assert!(!format!("{keys:?}").contains("AGE-SECRET"));
    }

    #[test]
    fn garbage_keys_are_rejected() {
        assert!(matches!(
            DeviceKeys::from_secrets("nope", "AGE-SECRET-KEY-1"),
            Err(KeyError::SigningKeyUnreadable)
        ));
        assert!(parse_signing_public_key("ssh-rsa AAAA").is_err());
    }
}
