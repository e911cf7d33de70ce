//! Yaddash exchange: how a vault talks to other vaults through bundles.
//!
//! Device identities (Ed25519 signing key + age X25519 identity, kept inside
//! the encrypted vault), the trust file a coordinator hands to field vaults,
//! device enrollment and revocation, bundle export (field) and verified,
//! idempotent import (coordinator), and receipts back to the field.
//!
//! What travels in a bundle (see `docs/bundle-format.md` for the container):
//!
//! ```text
//! records/<id>.json         {id, kind, created_at, created_by, revisions: [{rev, body, body_sha256, author, at}]}
//! attachments/<id>.json     attachment metadata (record, original name, type, size, capture SHA-256, time, device)
//! attachments/<id>          the original bytes (SHA-256 = capture hash)
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod devices;
mod error;
mod export;
mod file;
mod import;
mod keys;
mod receipts;
mod reissue;
mod trust;

pub use yaddash_bundle::yaddash_wire::policy::{Policy, SetBy};
pub use yaddash_bundle::{IdentityFingerprint, PublicIdentity, PublicIdentityExt};

pub use devices::{enroll_device, record_server_held_bundle, revoke_device};
pub use error::{ExchangeError, FileKind, ImportError, Result};
pub use export::{ExportSummary, Progress, export_bundle};
pub use file::write_file;
pub use import::{
    ImportOptions, ImportSummary, MAX_ATTACHMENT_META_JSON, MAX_CLOCK_SKEW, MAX_ENTRIES,
    MAX_JSON_TOTAL, MAX_RECORD_JSON, import_bundle, import_bundle_with,
};
pub use keys::{DeviceInfo, device_info, device_keys};
pub use receipts::{ReceiptFile, ReceiptSummary, receipt_export, receipt_import};
pub use reissue::{ReissueSummary, reissue_bundle};
pub use trust::{
    TrustFile, TrustFileError, check_trust_file, load_policy, save_policy, trust_export,
    trust_file, trust_import,
};
