//! SSHSIG signatures (OpenSSH `PROTOCOL.sshsig`) computed over a streamed
//! digest, so multi-gigabyte inputs are never held in memory.
//!
//! `ssh-key` only offers one-shot signing over a byte slice, so this module
//! builds the "signed data" blob itself:
//!
//! ```text
//! byte[6]  "SSHSIG"
//! string   namespace
//! string   reserved   (empty)
//! string   hash_algorithm ("sha512", or "sha256")
//! string   H(message)
//! ```
//!
//! and lets `ssh-key` do the Ed25519 signature and the PEM armour. Small
//! messages are signed over SHA-512 (what `ssh-keygen -Y sign` does by
//! default); a bundle's payload from format version 2 on over SHA-256
//! ([`sign_sha256`]), the hash that also names the bundle, so that a
//! gigabyte is hashed once and not twice (SHA-512 has no instructions of its
//! own on our machines and costs 1.3 s per GiB). `ssh-keygen -Y verify`
//! checks both.

use std::io::{self, Read};

use sha2::{Digest, Sha512};
use signature::{Signer, Verifier};
use ssh_key::{HashAlg, LineEnding, PublicKey, SshSig};

use crate::error::SignatureError;
use crate::keys::SigningKey;

/// Namespace of the outer signature over `payload.age`.
pub const NAMESPACE_BUNDLE: &str = "yaddash-bundle@yaddash.org";
/// Namespace of the inner signature over `manifest.json`.
pub const NAMESPACE_MANIFEST: &str = "yaddash-manifest@yaddash.org";
/// Namespace of HQ protocol request signatures (see [`crate::request`]).
pub const NAMESPACE_REQUEST: &str = "yaddash-request@yaddash.org";
/// Namespace of HQ enrollment codes.
pub const NAMESPACE_ENROLL: &str = "yaddash-enroll@yaddash.org";
/// Namespace of receipt signatures.
pub const NAMESPACE_RECEIPT: &str = "yaddash-receipt@yaddash.org";

/// Largest armoured signature accepted when parsing (an Ed25519 SSHSIG is
/// about 300 bytes).
pub const MAX_ARMORED_SIGNATURE: usize = 4096;

/// A SHA-512 digest of a message, computed incrementally.
#[derive(Clone, Default)]
pub struct MessageDigest(Sha512);

impl MessageDigest {
    /// Starts a new digest.
    pub fn new() -> Self {
        Self(Sha512::new())
    }

    /// Feeds bytes of the message.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Digests everything `reader` yields.
    pub fn from_reader(mut reader: impl Read) -> io::Result<Self> {
        let mut digest = Self::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok(digest);
            }
            digest.update(&buf[..n]);
        }
    }

    fn finish(self) -> [u8; 64] {
        self.0.finalize().into()
    }
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    // Every field here is far below 4 GiB; the cast cannot truncate.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn signed_data(namespace: &str, reserved: &[u8], alg: HashAlg, hash: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(6 + 4 * 4 + namespace.len() + 6 + hash.len());
    out.extend_from_slice(b"SSHSIG");
    put_string(&mut out, namespace.as_bytes());
    put_string(&mut out, reserved);
    put_string(&mut out, alg.as_str().as_bytes());
    put_string(&mut out, hash);
    out
}

/// Signs a streamed message digest, returning the armoured signature
/// (`-----BEGIN SSH SIGNATURE-----`, LF line endings, trailing newline) exactly
/// as `ssh-keygen -Y sign` would write it.
pub fn sign_digest(
    keys: &impl AsRef<SigningKey>,
    namespace: &str,
    digest: MessageDigest,
) -> Result<String, SignatureError> {
    sign_hashed(keys, namespace, HashAlg::Sha512, &digest.finish())
}

/// Signs a message by its SHA-256, already computed (a bundle's payload,
/// whose SHA-256 is also its name), as `ssh-keygen -Y sign -O hashalg=sha256`
/// would.
pub fn sign_sha256(
    keys: &impl AsRef<SigningKey>,
    namespace: &str,
    sha256: &[u8; 32],
) -> Result<String, SignatureError> {
    sign_hashed(keys, namespace, HashAlg::Sha256, sha256)
}

fn sign_hashed(
    keys: &impl AsRef<SigningKey>,
    namespace: &str,
    alg: HashAlg,
    hash: &[u8],
) -> Result<String, SignatureError> {
    let data = signed_data(namespace, &[], alg, hash);
    let private = keys.as_ref().private_key();
    let sig = private
        .try_sign(&data)
        .map_err(|_| SignatureError::Signing)?;
    let sshsig = SshSig::new(private.public_key().key_data().clone(), namespace, alg, sig)
        .map_err(|_| SignatureError::Signing)?;
    let mut pem = sshsig
        .to_pem(LineEnding::LF)
        .map_err(|_| SignatureError::Signing)?;
    if !pem.ends_with('\n') {
        pem.push('\n');
    }
    Ok(pem)
}

/// Signs a message held in memory (small inputs such as manifests, receipts).
pub fn sign_bytes(
    keys: &impl AsRef<SigningKey>,
    namespace: &str,
    msg: &[u8],
) -> Result<String, SignatureError> {
    let mut d = MessageDigest::new();
    d.update(msg);
    sign_digest(keys, namespace, d)
}

/// Parses an armoured SSHSIG signature.
pub fn parse_armored(armored: &[u8]) -> Result<SshSig, SignatureError> {
    if armored.len() > MAX_ARMORED_SIGNATURE {
        return Err(SignatureError::Malformed);
    }
    SshSig::from_pem(armored).map_err(|_| SignatureError::Malformed)
}

/// Verifies an armoured SSHSIG signature over a streamed message digest.
///
/// Checks, in order: the armour parses; the key embedded in the signature is
/// `expected_key` ([`SignatureError::WrongKey`] otherwise); the namespace is
/// `namespace`; the hash is SHA-512; the Ed25519 signature is valid.
pub fn verify_digest(
    expected_key: &PublicKey,
    namespace: &str,
    digest: MessageDigest,
    armored: &[u8],
) -> Result<(), SignatureError> {
    let sig = parse_armored(armored)?;
    verify_parsed(expected_key, namespace, digest, &sig)
}

/// Verifies an already parsed signature (see [`verify_digest`]).
pub fn verify_parsed(
    expected_key: &PublicKey,
    namespace: &str,
    digest: MessageDigest,
    sig: &SshSig,
) -> Result<(), SignatureError> {
    verify_hashed(
        expected_key,
        namespace,
        HashAlg::Sha512,
        &digest.finish(),
        sig,
    )
}

/// Verifies a parsed signature over a message whose SHA-256 is given (see
/// [`sign_sha256`]): as [`verify_parsed`], but the signature must name
/// SHA-256, and no other hash.
pub fn verify_sha256(
    expected_key: &PublicKey,
    namespace: &str,
    sha256: &[u8; 32],
    sig: &SshSig,
) -> Result<(), SignatureError> {
    verify_hashed(expected_key, namespace, HashAlg::Sha256, sha256, sig)
}

/// The checks of [`verify_parsed`], for a hash `alg` that the caller
/// decided on before it saw the signature.
fn verify_hashed(
    expected_key: &PublicKey,
    namespace: &str,
    alg: HashAlg,
    hash: &[u8],
    sig: &SshSig,
) -> Result<(), SignatureError> {
    // ssh-key (like OpenSSH) accepts any version up to 1, and the version is
    // not covered by the signature: a flipped version field would otherwise
    // give a second byte string that verifies. We write only version 1.
    if sig.version() != SshSig::VERSION {
        return Err(SignatureError::Malformed);
    }
    if sig.public_key() != expected_key.key_data() {
        return Err(SignatureError::WrongKey);
    }
    if sig.namespace() != namespace {
        return Err(SignatureError::WrongNamespace);
    }
    if sig.hash_alg() != alg {
        return Err(SignatureError::Invalid);
    }
    let data = signed_data(namespace, sig.reserved(), alg, hash);
    sig.public_key()
        .verify(&data, sig.signature())
        .map_err(|_| SignatureError::Invalid)
}

/// Parses an armoured signature and insists on the canonical armour: exactly
/// what [`sign_digest`] writes (LF line endings, trailing newline).
pub fn parse_canonical(bytes: &[u8]) -> Result<SshSig, SignatureError> {
    let sig = parse_armored(bytes)?;
    let mut canonical = sig
        .to_pem(LineEnding::LF)
        .map_err(|_| SignatureError::Malformed)?;
    if !canonical.ends_with('\n') {
        canonical.push('\n');
    }
    if canonical.as_bytes() != bytes {
        return Err(SignatureError::Malformed);
    }
    Ok(sig)
}

/// Verifies an armoured SSHSIG signature over a message held in memory.
pub fn verify_bytes(
    expected_key: &PublicKey,
    namespace: &str,
    msg: &[u8],
    armored: &[u8],
) -> Result<(), SignatureError> {
    let mut d = MessageDigest::new();
    d.update(msg);
    verify_digest(expected_key, namespace, d, armored)
}

/// Signs `msg` the SSHSIG way (same signed-data blob, SHA-512) but returns
/// only the raw 64-byte Ed25519 signature: compact enough for an HTTP header.
pub fn sign_raw(
    keys: &impl AsRef<SigningKey>,
    namespace: &str,
    msg: &[u8],
) -> Result<[u8; 64], SignatureError> {
    let mut d = MessageDigest::new();
    d.update(msg);
    let data = signed_data(namespace, &[], HashAlg::Sha512, &d.finish());
    let sig = keys
        .as_ref()
        .private_key()
        .try_sign(&data)
        .map_err(|_| SignatureError::Signing)?;
    sig.as_bytes()
        .try_into()
        .map_err(|_| SignatureError::Signing)
}

/// Verifies a raw signature made by [`sign_raw`].
pub fn verify_raw(
    key: &PublicKey,
    namespace: &str,
    msg: &[u8],
    raw: &[u8],
) -> Result<(), SignatureError> {
    let sig = ssh_key::Signature::new(ssh_key::Algorithm::Ed25519, raw.to_vec())
        .map_err(|_| SignatureError::Malformed)?;
    let mut d = MessageDigest::new();
    d.update(msg);
    let data = signed_data(namespace, &[], HashAlg::Sha512, &d.finish());
    key.key_data()
        .verify(&data, &sig)
        .map_err(|_| SignatureError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_signature_matches_ssh_key_one_shot_verification() {
        let keys = SigningKey::generate();
        let msg = b"hello bundle";
        let armored = sign_bytes(&keys, NAMESPACE_BUNDLE, msg).unwrap();
        let sig = SshSig::from_pem(armored.as_bytes()).unwrap();
        // Cross-check against ssh-key's own (non-streaming) implementation.
        keys.public_key()
            .verify(NAMESPACE_BUNDLE, msg, &sig)
            .unwrap();
        verify_bytes(
            &keys.public_key(),
            NAMESPACE_BUNDLE,
            msg,
            armored.as_bytes(),
        )
        .unwrap();
        assert!(matches!(
            verify_bytes(
                &keys.public_key(),
                NAMESPACE_MANIFEST,
                msg,
                armored.as_bytes()
            ),
            Err(SignatureError::WrongNamespace)
        ));
        assert!(matches!(
            verify_bytes(
                &keys.public_key(),
                NAMESPACE_BUNDLE,
                b"hello bundlf",
                armored.as_bytes()
            ),
            Err(SignatureError::Invalid)
        ));
        let other = SigningKey::generate();
        assert!(matches!(
            verify_bytes(
                &other.public_key(),
                NAMESPACE_BUNDLE,
                msg,
                armored.as_bytes()
            ),
            Err(SignatureError::WrongKey)
        ));
    }

    /// Found by the bundle mutation test in CI: "AQ" → "AA" in the armour
    /// turns the version field from 1 into 0, which ssh-key parses and
    /// re-encodes unchanged and which the signature does not cover.
    #[test]
    fn a_signature_with_version_zero_is_refused() {
        let keys = SigningKey::generate();
        let msg = b"hello bundle";
        let armored = sign_bytes(&keys, NAMESPACE_BUNDLE, msg).unwrap();
        let body_start = armored.find('\n').unwrap() + 1;
        // Bytes 6..10 of the blob are the version (base64 chars 8..16).
        assert_eq!(&armored[body_start + 8..body_start + 16], "AAAAAQAA");
        let mut forged = armored.clone();
        forged.replace_range(body_start + 8..body_start + 16, "AAAAAAAA");
        // Still parses, canonically, as a signature of version 0 ...
        let parsed = parse_canonical(forged.as_bytes()).unwrap();
        assert_eq!(parsed.version(), 0);
        // ... and is refused.
        assert!(matches!(
            verify_bytes(&keys.public_key(), NAMESPACE_BUNDLE, msg, forged.as_bytes()),
            Err(SignatureError::Malformed)
        ));
        verify_bytes(
            &keys.public_key(),
            NAMESPACE_BUNDLE,
            msg,
            armored.as_bytes(),
        )
        .unwrap();
    }
}
