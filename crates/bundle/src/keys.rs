//! Device keys (Ed25519 for SSHSIG, X25519 for age) and public identities.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use ssh_key::PublicKey;
use uuid::Uuid;
pub use yaddash_wire::parse_signing_public_key;
use yaddash_wire::{IdentityFingerprint, KeyError, SigningKey, identity_fingerprint};
use zeroize::Zeroizing;

/// The secret keys of one device (or one coordinator): an Ed25519 key that
/// signs bundles, manifests and receipts, and an age X25519 identity that
/// decrypts bundles sent to it.
///
/// Both secrets are zeroised on drop (`ssh-key` and `age` do this for their
/// key types); the string forms are returned in [`Zeroizing`] /
/// [`SecretString`] wrappers. `Debug` never prints secret material.
pub struct DeviceKeys {
    signing: SigningKey,
    age: age::x25519::Identity,
}

impl fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("signing", &self.signing.fingerprint())
            .field("age", &self.age.to_public().to_string())
            .finish()
    }
}

impl DeviceKeys {
    /// Generates fresh keys from the operating system's random number generator.
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(),
            age: age::x25519::Identity::generate(),
        }
    }

    /// Rebuilds keys from their secret string forms: an unencrypted OpenSSH
    /// Ed25519 private key (`-----BEGIN OPENSSH PRIVATE KEY-----`) and an age
    /// identity (`AGE-SECRET-KEY-1...`).
    pub fn from_secrets(signing_openssh: &str, age_identity: &str) -> Result<Self, KeyError> {
        let signing = SigningKey::from_openssh(signing_openssh)?;
        let age = age::x25519::Identity::from_str(age_identity.trim())
            .map_err(|_| KeyError::AgeIdentityUnreadable)?;
        Ok(Self { signing, age })
    }

    /// The signing key as an OpenSSH private key file (PEM, LF line endings),
    /// usable with `ssh-keygen -Y sign -f`.
    pub fn signing_key_openssh(&self) -> Result<Zeroizing<String>, KeyError> {
        self.signing.to_openssh()
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
        self.signing.public_key()
    }

    /// The Ed25519 signing key alone (all the HQ protocol needs).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// `SHA256:...` fingerprint of the signing key, as `ssh-keygen -l` prints it.
    pub fn signing_fingerprint(&self) -> String {
        self.signing.fingerprint()
    }

    /// The public half, to be enrolled at headquarters.
    pub fn public_identity(&self, device_id: Uuid) -> PublicIdentity {
        PublicIdentity {
            device_id,
            signing_key: self
                .signing
                .public_key_openssh(&format!("yaddash-device-{device_id}")),
            age_recipient: self.age.to_public().to_string(),
        }
    }
}

pub use yaddash_wire::PublicIdentity;

impl AsRef<SigningKey> for DeviceKeys {
    fn as_ref(&self) -> &SigningKey {
        &self.signing
    }
}

/// What only a crate with `age` can check of a [`PublicIdentity`]: its
/// recipient, and so its full fingerprint.
pub trait PublicIdentityExt {
    /// Parses [`PublicIdentity::age_recipient`].
    fn age_recipient(&self) -> Result<age::x25519::Recipient, KeyError>;
    /// Fingerprints to compare out of band before trusting this identity.
    fn fingerprint(&self) -> Result<IdentityFingerprint, KeyError>;
}

impl PublicIdentityExt for PublicIdentity {
    fn age_recipient(&self) -> Result<age::x25519::Recipient, KeyError> {
        age::x25519::Recipient::from_str(self.age_recipient.trim())
            .map_err(|_| KeyError::AgeRecipientUnreadable)
    }

    fn fingerprint(&self) -> Result<IdentityFingerprint, KeyError> {
        let key = self.signing_public_key()?;
        let recipient = PublicIdentityExt::age_recipient(self)?;
        identity_fingerprint(self.device_id, &key, &recipient.to_string())
    }
}

/// Fingerprint of an age recipient as listed in a bundle manifest: the
/// lowercase hex SHA-256 of the `age1...` string (no newline), so that
/// `printf %s age1... | sha256sum` reproduces it.
pub fn recipient_fingerprint(recipient: &age::x25519::Recipient) -> String {
    hex::encode(Sha256::digest(recipient.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
