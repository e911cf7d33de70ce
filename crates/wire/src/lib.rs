//! Yaddash wire types: what travels between field devices, the HQ server and
//! coordinators, and the checks that need no decryption key.
//!
//! This crate deliberately does not depend on `age`: the HQ server links it
//! and must never be able to decrypt a bundle. It holds
//!
//! - the bundle format's plaintext types and constants ([`OuterHeader`],
//!   [`Manifest`], [`Sha256Hash`], padding rule),
//! - streaming SSHSIG signatures with Ed25519 keys ([`sshsig`], [`SigningKey`]),
//! - the strict canonical tar subset ([`tar`]),
//! - pass 1 of bundle verification ([`verify_outer`]): structure and the
//!   sender's signature over the ciphertext,
//! - signed receipts ([`Receipt`]) and fingerprints,
//! - the HQ protocol's request signing ([`request`]),
//! - the coordinators' trust file ([`TrustFile`]), read alike by field
//!   vaults and the HQ server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod format;
pub mod hq;
mod keys;
mod outer;
pub mod policy;
mod receipt;
pub mod request;
pub mod sshsig;
pub mod tar;
pub mod trust;

pub use error::{KeyError, ReadError, ReceiptError, SignatureError};
pub use format::{
    BundleId, FORMAT_NAME, FORMAT_VERSION, FORMAT_VERSIONS, MANIFEST_NAME, MANIFEST_SIG_NAME,
    MIN_PADDED_LEN, Manifest, ManifestEntry, OUTER_HEADER_NAME, OuterHeader, PADDING_NAME,
    PAYLOAD_NAME, PAYLOAD_SIG_NAME, ParseHashError, Sha256Hash, check_entry_path,
    check_entry_paths, padded_len, padme,
};
pub use keys::{
    IdentityFingerprint, SigningKey, base32, identity_fingerprint, parse_signing_public_key,
    signing_key_fingerprint,
};
pub use outer::{
    KnownSender, OuterCheck, OuterVerified, SenderDirectory, count_x25519_stanzas, json_version,
    peek_device_id, read_small, verify_outer,
};
pub use receipt::{
    RECEIPT_FORMAT, RECEIPT_VERSION, Receipt, ReceiptKind, sign_receipt, verify_receipt,
    verify_receipt_with,
};

pub use trust::{PublicIdentity, TrustFile, TrustFileError};

/// Re-exported so callers name the same version of this crate.
pub use ssh_key;
