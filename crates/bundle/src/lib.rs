//! The Yaddash bundle format: how collected testimony travels from a field
//! device to the coordinators at headquarters.
//!
//! A bundle is a thin layer over open standards, readable with stock tools
//! (see `docs/bundle-format.md`):
//!
//! ```text
//! bundle (POSIX tar, uncompressed)
//! ├── yaddash-bundle.json   {"format":"yaddash-bundle","version":2,"device_id":"…"}
//! ├── payload.age           age, to every coordinator recipient
//! │   └── (tar) manifest.json, manifest.json.sig, entries…, padding
//! └── payload.age.sig       SSHSIG (Ed25519, sha512) over payload.age
//! ```
//!
//! Writing ([`write_bundle`]) and reading ([`BundleReader`]) both stream, in
//! constant memory. Reading is two passes: the first verifies the sender
//! without any decryption key (all the HQ server does), the second decrypts
//! and verifies the signed manifest and every entry, handing entries to a
//! [`BundleVisitor`].
//!
//! ```
//! use yaddash_bundle::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = DeviceKeys::generate();
//! let coordinator = DeviceKeys::generate();
//! let device_id = uuid::Uuid::now_v7();
//! let spec = BundleSpec {
//!     device_id,
//!     seq: 1,
//!     prev_bundle_sha256: None,
//!     created_at: time::OffsetDateTime::now_utc(),
//!     hq_id: "hq.example".into(),
//!     recipients: vec![coordinator.age_recipient()],
//! };
//! let record = br#"{"note":"..."}"#;
//! let mut file = std::io::Cursor::new(Vec::new());
//! let written = write_bundle(&mut file, &device, &spec,
//!     vec![EntrySource::from_bytes("records/1.json", record)])?;
//!
//! let mut senders = std::collections::HashMap::new();
//! senders.insert(device_id, KnownSender::from(&device.public_identity(device_id)));
//! file.set_position(0);
//! let reader = BundleReader::open(file, &senders)?;          // pass 1 (HQ server)
//! assert_eq!(reader.outer().bundle_id, written.bundle_id);
//! let mut got = CollectEntries::new(1 << 20);
//! let config = DecryptConfig { identity: coordinator.age_identity(), hq_id: "hq.example" };
//! let verified = reader.decrypt(&config, &mut got)?;           // pass 2 (coordinator)
//! assert_eq!(verified.manifest.seq, 1);
//! assert_eq!(got.entries[0].1, record);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod hash_behind;
mod keys;
mod read;
mod write;

// The parts that need no decryption key live in `yaddash-wire` (which the HQ
// server links); they are re-exported here so callers keep one import path.
pub use error::WriteError;
pub use keys::{
    DeviceKeys, PublicIdentity, PublicIdentityExt, parse_signing_public_key, recipient_fingerprint,
};
pub use read::{
    BundleReader, BundleVisitor, CollectEntries, DecryptConfig, VerifiedBundle, VerifyOnly,
    VisitError, read_bundle,
};
pub use write::{BundleSpec, EntrySource, WrittenBundle, write_bundle};
pub use yaddash_wire::{
    BundleId, FORMAT_NAME, FORMAT_VERSION, FORMAT_VERSIONS, IdentityFingerprint, KeyError,
    KnownSender, MANIFEST_NAME, MANIFEST_SIG_NAME, MIN_PADDED_LEN, Manifest, ManifestEntry,
    OUTER_HEADER_NAME, OuterHeader, OuterVerified, PADDING_NAME, PAYLOAD_NAME, PAYLOAD_SIG_NAME,
    ParseHashError, RECEIPT_FORMAT, RECEIPT_VERSION, ReadError, Receipt, ReceiptError, ReceiptKind,
    SenderDirectory, Sha256Hash, SignatureError, SigningKey, padded_len, padme, sign_receipt,
    sshsig, verify_receipt,
};

/// Re-exported so callers name the same versions of these crates.
pub use age;
pub use ssh_key;
pub use yaddash_wire;
