//! Errors, one enum per operation.
//!
//! Messages say what is wrong and what to try. They never contain record
//! content: at most ids, entry paths (which are ids chosen by the writer),
//! sizes and the headquarters id.

use std::io;

use time::OffsetDateTime;
use uuid::Uuid;

/// Problems with key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The OpenSSH key could not be parsed.
    #[error("the signing key is not a readable OpenSSH key; check that the whole key was copied")]
    SigningKeyUnreadable,
    /// The OpenSSH private key is passphrase-protected.
    #[error(
        "the signing key is passphrase-protected; store it unencrypted inside the vault instead"
    )]
    SigningKeyEncrypted,
    /// The key is not Ed25519.
    #[error("the signing key is not an Ed25519 key; Yaddash only uses ssh-ed25519 keys")]
    NotEd25519,
    /// The age identity could not be parsed.
    #[error("the age identity is not a valid AGE-SECRET-KEY-1... string")]
    AgeIdentityUnreadable,
    /// The age recipient could not be parsed.
    #[error("the age recipient is not a valid age1... string")]
    AgeRecipientUnreadable,
}

/// Problems creating or checking one SSHSIG signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Signing failed inside the Ed25519 implementation.
    #[error("could not produce the signature; the signing key may be damaged")]
    Signing,
    /// The armoured signature does not parse.
    #[error("the signature is not a readable SSH signature (-----BEGIN SSH SIGNATURE-----)")]
    Malformed,
    /// The signature was made by another key than the one expected.
    #[error("the signature was made by a different key than the expected one")]
    WrongKey,
    /// The signature is for another purpose (namespace).
    #[error("the signature was made for another purpose (wrong SSHSIG namespace)")]
    WrongNamespace,
    /// The signature does not match the message.
    #[error("the signature does not match the signed data: the data or the signature was altered")]
    Invalid,
}

/// Errors while reading and verifying a bundle. On any error, everything the
/// visitor received must be discarded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Reading the input failed.
    #[error("input/output error while reading the bundle: {0}")]
    Io(#[from] io::Error),
    /// The file does not have the outer structure of a bundle.
    #[error("this file is not a Yaddash bundle ({reason}); check that the right file was chosen")]
    NotABundle {
        /// What was wrong.
        reason: &'static str,
    },
    /// The bundle uses a format version this software does not know.
    #[error(
        "bundle format version {found} is not supported by this version of Yaddash; update the software"
    )]
    UnsupportedVersion {
        /// Version found.
        found: u64,
    },
    /// The file ends early.
    #[error("the bundle is truncated (the file ends early); ask the sender to send it again")]
    Truncated,
    /// Bytes were appended after the end of the bundle.
    #[error(
        "{extra} unexpected bytes follow the end of the bundle; the file was altered, ask for a fresh copy"
    )]
    TrailingData {
        /// Number of extra bytes.
        extra: u64,
    },
    /// The sending device is not enrolled.
    #[error(
        "the bundle claims to come from device {device_id}, which is not enrolled here; enrol the device first or reject the bundle"
    )]
    UnknownSender {
        /// The claimed device.
        device_id: Uuid,
    },
    /// The enrolled key of the sender is unusable.
    #[error("the enrolled signing key of device {device_id} is unreadable; re-enrol the device")]
    SenderKeyInvalid {
        /// The device.
        device_id: Uuid,
    },
    /// The outer signature over `payload.age` does not verify.
    #[error(
        "the sender's signature over the encrypted payload is invalid ({0}); the bundle was altered or forged"
    )]
    OuterSignatureInvalid(SignatureError),
    /// The bundle could not be decrypted with our key.
    #[error("this bundle is not encrypted to our key; it was made for other coordinators")]
    NotForUs,
    /// The age ciphertext is damaged.
    #[error(
        "the encrypted payload is damaged and cannot be decrypted; ask the sender to send it again"
    )]
    PayloadCorrupt,
    /// The decrypted payload does not have the expected structure.
    #[error("the decrypted payload is malformed ({reason})")]
    MalformedPayload {
        /// What was wrong.
        reason: &'static str,
    },
    /// The manifest does not parse or is inconsistent.
    #[error("the manifest is malformed ({reason})")]
    ManifestInvalid {
        /// What was wrong.
        reason: &'static str,
    },
    /// The inner manifest signature does not verify.
    #[error("the manifest signature is invalid; the bundle contents were altered")]
    ManifestSignatureInvalid,
    /// The manifest was signed by another key than the outer signature.
    #[error(
        "the manifest was signed by a different key than the bundle; it was re-packaged by someone else"
    )]
    ManifestSignedByOtherKey,
    /// The manifest names another device than the outer header.
    #[error(
        "the manifest says device {manifest} but the bundle header says {outer}; the bundle was re-packaged"
    )]
    DeviceMismatch {
        /// From the outer header.
        outer: Uuid,
        /// From the manifest.
        manifest: Uuid,
    },
    /// Our key is not among the recipients listed in the manifest.
    #[error(
        "our key is not among the recipients the sender chose; the bundle was re-encrypted by someone else"
    )]
    NotAnIntendedRecipient,
    /// The recipients listed in the manifest differ from the age header.
    #[error(
        "the bundle is encrypted to {in_header} keys but the sender listed {in_manifest}; it was re-encrypted"
    )]
    RecipientsMismatch {
        /// Count in the manifest.
        in_manifest: usize,
        /// X25519 stanzas in the age header.
        in_header: usize,
    },
    /// The bundle is for another headquarters.
    #[error(
        "this bundle was made for another headquarters ({found:?}, we are {expected:?}); do not import it here"
    )]
    WrongHeadquarters {
        /// Our hq_id.
        expected: String,
        /// The manifest's hq_id.
        found: String,
    },
    /// The device was revoked before the bundle was created.
    #[error(
        "device {device_id} was revoked at {revoked_from}; this bundle says it was made at {created_at}, so it is refused"
    )]
    SenderRevoked {
        /// The device.
        device_id: Uuid,
        /// Revocation time.
        revoked_from: OffsetDateTime,
        /// The manifest's created_at.
        created_at: OffsetDateTime,
    },
    /// An entry listed in the manifest is missing.
    #[error("entry {path:?} listed in the manifest is missing from the payload")]
    EntryMissing {
        /// Entry path.
        path: String,
    },
    /// The payload has an entry not in the manifest (or out of order).
    #[error("the payload holds an entry {path:?} that the manifest does not list at this position")]
    UnexpectedEntry {
        /// Entry path as found.
        path: String,
    },
    /// An entry's size differs from the manifest.
    #[error("entry {path:?} is {found} bytes but the manifest says {expected}")]
    EntrySizeMismatch {
        /// Entry path.
        path: String,
        /// From the manifest.
        expected: u64,
        /// From the payload.
        found: u64,
    },
    /// An entry's SHA-256 differs from the manifest.
    #[error("entry {path:?} does not match its SHA-256 in the manifest; the contents were altered")]
    EntryHashMismatch {
        /// Entry path.
        path: String,
    },
    /// The padding contains non-zero bytes.
    #[error("the padding contains non-zero bytes; the payload was altered")]
    PaddingNotZero,
    /// The file changed between the two passes.
    #[error(
        "the bundle file changed while it was being read; copy it somewhere stable and try again"
    )]
    ChangedWhileReading,
    /// The visitor refused an entry.
    #[error("the importer stopped reading the bundle: {0}")]
    Visitor(Box<dyn std::error::Error + Send + Sync>),
}

/// Errors signing or verifying a receipt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The receipt file does not have the expected structure.
    #[error("this is not a Yaddash receipt ({reason})")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// The receipt is of a version this software does not know.
    #[error("receipt version {found} is not supported; update the software")]
    UnsupportedVersion {
        /// Version found.
        found: u64,
    },
    /// The signature does not verify.
    #[error("the receipt signature is invalid ({0}); it was altered or forged")]
    Signature(#[from] SignatureError),
    /// The issuer field does not match the key that signed.
    #[error("the receipt names issuer {claimed} but was signed by {actual}")]
    IssuerMismatch {
        /// Fingerprint written in the receipt.
        claimed: String,
        /// Fingerprint of the verifying key.
        actual: String,
    },
    /// Key problem.
    #[error(transparent)]
    Key(#[from] KeyError),
}
