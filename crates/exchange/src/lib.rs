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

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use yaddash_bundle::{
    BundleReader, BundleSpec, BundleVisitor, DecryptConfig, DeviceKeys, EntrySource, KnownSender,
    Manifest, ManifestEntry, OuterVerified, ReadError, Receipt, ReceiptKind, Sha256Hash,
    VisitError, sign_receipt, verify_receipt, write_bundle,
};
use yaddash_vault::{
    AttachmentInfo, BundleIn, BundleOut, DeviceRow, ImportCounts, RecordChanges, StagedFile, Vault,
    VaultError, VaultRole,
};

pub use yaddash_bundle::yaddash_wire::policy::{Policy, SetBy};
pub use yaddash_bundle::{IdentityFingerprint, PublicIdentity};

/// Errors of the exchange layer. Messages never contain testimony.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// From the vault.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The bundle was refused by the reader.
    #[error("bundle refused: {0}")]
    Bundle(#[from] ReadError),
    /// Writing a bundle failed.
    #[error("cannot write the bundle: {0}")]
    Write(#[from] yaddash_bundle::WriteError),
    /// The user stopped it (Ctrl-C, Cancel).
    #[error("stopped: no bundle was written and nothing changed")]
    Cancelled,
    /// Keys stored in the vault are unreadable.
    #[error(
        "the device keys stored in the vault are unreadable ({0}); restore the vault from a backup"
    )]
    Keys(String),
    /// The operation needs the other role.
    #[error("this is a {actual} vault; `{what}` needs a {needed} vault")]
    WrongRole {
        /// What was attempted.
        what: &'static str,
        /// The role needed.
        needed: &'static str,
        /// The vault's role.
        actual: &'static str,
    },
    /// No trust file imported yet.
    #[error(
        "no trust file: import the coordinators' trust file first (`yaddash trust import FILE`)"
    )]
    NoTrust,
    /// A trust, device or receipt file is malformed.
    #[error("{what} is not valid: {problem}")]
    BadFile {
        /// Which file.
        what: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The bundle was already imported.
    #[error(
        "bundle {bundle_id} (device {device_id}, number {seq}) was already imported on {imported_at}; nothing changed"
    )]
    AlreadyImported {
        /// Bundle id.
        bundle_id: String,
        /// Device.
        device_id: Uuid,
        /// Sequence number.
        seq: u64,
        /// When it was imported.
        imported_at: String,
    },
    /// Another bundle with the same sequence number was imported before.
    #[error(
        "device {device_id} already sent a different bundle numbered {seq}: this one is a forgery or a re-export after a crash; nothing changed. Ask the device's user"
    )]
    SequenceReused {
        /// Device.
        device_id: Uuid,
        /// Sequence number.
        seq: u64,
    },
    /// The bundle's link to its neighbours is wrong.
    #[error(
        "bundle number {seq} of device {device_id} does not chain to bundle number {other}: the bundles were stitched or tampered with; nothing changed"
    )]
    ChainBroken {
        /// Device.
        device_id: Uuid,
        /// This bundle's number.
        seq: u64,
        /// The neighbour it does not chain to.
        other: u64,
    },
    /// An entry inside a verified bundle does not follow the exchange layout.
    #[error("the bundle's contents are not a Yaddash export ({0}); nothing changed")]
    Layout(String),
    /// A receipt does not verify or does not fit.
    #[error("receipt refused: {0}; nothing changed")]
    Receipt(String),
    /// File-system error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: io::Error,
    },
}

/// Result alias.
pub type Result<T, E = ExchangeError> = std::result::Result<T, E>;

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ExchangeError {
    let context = context.into();
    move |source| ExchangeError::Io { context, source }
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

const META_SIGNING: &str = "device_signing_key";
const META_AGE: &str = "device_age_identity";
const META_HQ_ID: &str = "hq_id";
/// Vault setting prefix: a coordinator's import receipt, by bundle id.
pub const META_IMPORT_RECEIPT: &str = "import_receipt:";
/// Vault setting prefix: the HQ server's hq-received receipt, by bundle id.
pub const META_HQ_RECEIPT: &str = "hq_receipt:";

/// The vault's device keys, created (and stored inside the encrypted vault)
/// on first use. `init` calls this so every vault has them from creation.
pub fn device_keys(vault: &mut Vault) -> Result<DeviceKeys> {
    if let (Some(s), Some(a)) = (vault.meta(META_SIGNING)?, vault.meta(META_AGE)?) {
        let s = zeroize::Zeroizing::new(s);
        let a = zeroize::Zeroizing::new(a);
        return DeviceKeys::from_secrets(&s, &a).map_err(|e| ExchangeError::Keys(e.to_string()));
    }
    let keys = DeviceKeys::generate();
    let signing = keys
        .signing_key_openssh()
        .map_err(|e| ExchangeError::Keys(e.to_string()))?;
    vault.set_meta(META_SIGNING, &signing)?;
    vault.set_meta(META_AGE, keys.age_identity_string().expose_secret())?;
    if vault.role() == VaultRole::Coordinator && vault.meta(META_HQ_ID)?.is_none() {
        vault.set_meta(META_HQ_ID, &format!("yaddash-hq-{}", Uuid::now_v7()))?;
    }
    Ok(keys)
}

/// What `yaddash device show` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// Device id (the principal in `allowed_signers`).
    pub device_id: Uuid,
    /// Field or coordinator.
    pub role: VaultRole,
    /// OpenSSH Ed25519 public key line.
    pub signing_key: String,
    /// age recipient.
    pub age_recipient: String,
    /// Fingerprints to compare over the phone.
    pub fingerprint: IdentityFingerprint,
}

/// This vault's public identity.
pub fn device_info(vault: &mut Vault) -> Result<DeviceInfo> {
    let keys = device_keys(vault)?;
    let id = keys.public_identity(vault.device_id());
    let fingerprint = id
        .fingerprint()
        .map_err(|e| ExchangeError::Keys(e.to_string()))?;
    Ok(DeviceInfo {
        device_id: id.device_id,
        role: vault.role(),
        signing_key: id.signing_key,
        age_recipient: id.age_recipient,
        fingerprint,
    })
}

/// The trust file: what a field vault needs to know about headquarters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrustFile {
    /// Always `yaddash-trust`.
    pub format: String,
    /// 1.
    pub version: u64,
    /// The headquarters (trust domain) id bundles are made for.
    pub hq_id: String,
    /// Coordinators: bundles are encrypted to all of them; their signing keys
    /// sign import receipts.
    pub coordinators: Vec<PublicIdentity>,
    /// The HQ server's receipt-signing key, once a server exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hq_server_key: Option<String>,
    /// A safety policy headquarters pre-sets on field devices (route, proxy,
    /// mode...). It never enables sync: that is the device user's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
}

impl TrustFile {
    /// A short fingerprint of the whole file, to compare over the phone.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        let digest = Sha256::digest(canonical.as_bytes());
        let hex = hex::encode(&digest[..8]).to_uppercase();
        format!(
            "{}-{}-{}-{}",
            &hex[0..4],
            &hex[4..8],
            &hex[8..12],
            &hex[12..16]
        )
    }

    /// Checks what `trust_import` checks before storing (the fuzz target uses it).
    pub fn check(&self) -> Result<()> {
        let bad = |problem: &str| ExchangeError::BadFile {
            what: "the trust file",
            problem: problem.into(),
        };
        if self.format != "yaddash-trust" || self.version != 1 {
            return Err(bad(
                "not a Yaddash trust file (format yaddash-trust, version 1)",
            ));
        }
        if self.coordinators.is_empty() {
            return Err(bad("it names no coordinator"));
        }
        for c in &self.coordinators {
            c.fingerprint().map_err(|e| bad(&e.to_string()))?;
        }
        if let Some(p) = &self.policy {
            p.check()
                .map_err(|e| bad(&format!("its safety policy: {e}")))?;
        }
        Ok(())
    }
}

fn require_role(vault: &Vault, needed: VaultRole, what: &'static str) -> Result<()> {
    if vault.role() != needed {
        return Err(ExchangeError::WrongRole {
            what,
            needed: needed.as_str(),
            actual: vault.role().as_str(),
        });
    }
    Ok(())
}

/// Coordinator: the trust file for field vaults. `also` adds other
/// coordinators (their `device show --json`); `hq_server_key` the server's key.
pub fn trust_export(
    vault: &mut Vault,
    also: &[PublicIdentity],
    hq_server_key: Option<String>,
    policy: Option<Policy>,
) -> Result<TrustFile> {
    require_role(vault, VaultRole::Coordinator, "trust export")?;
    let keys = device_keys(vault)?;
    let mut coordinators = vec![keys.public_identity(vault.device_id())];
    coordinators.extend(also.iter().cloned());
    let hq_id = vault
        .meta(META_HQ_ID)?
        .ok_or_else(|| ExchangeError::Keys("no headquarters id".into()))?;
    let t = TrustFile {
        format: "yaddash-trust".into(),
        version: 1,
        hq_id,
        coordinators,
        hq_server_key: hq_server_key.or(vault.meta("hq_server_key")?),
        policy: policy.map(|p| p.as_preset()),
    };
    t.check()?;
    Ok(t)
}

/// Field: stores the trust file. The caller shows [`TrustFile::fingerprint`]
/// and each coordinator's fingerprint for the user to compare.
pub fn trust_import(vault: &mut Vault, text: &str) -> Result<TrustFile> {
    let t: TrustFile = serde_json::from_str(text).map_err(|e| ExchangeError::BadFile {
        what: "the trust file",
        problem: format!(
            "line {}, column {}: not the expected JSON",
            e.line(),
            e.column()
        ),
    })?;
    t.check()?;
    let doc = serde_json::to_string(&t).map_err(|e| ExchangeError::Keys(e.to_string()))?;
    vault.set_trust(&t.hq_id, &doc)?;
    // Headquarters' preset applies unless the user already chose a policy.
    if let Some(preset) = &t.policy {
        let current = load_policy(vault)?;
        if current.set_by != SetBy::User {
            save_policy(
                vault,
                &Policy {
                    enabled: current.enabled,
                    network_off: current.network_off,
                    ..preset.as_preset()
                },
            )?;
        }
    }
    Ok(t)
}

/// Vault setting: the safety policy (JSON).
const META_POLICY: &str = "sync_policy";

/// The vault's safety policy. A vault that enrolled at an HQ server before
/// policies existed counts as having enabled sync.
pub fn load_policy(vault: &Vault) -> Result<Policy> {
    match vault.meta(META_POLICY)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| ExchangeError::BadFile {
            what: "the stored safety policy",
            problem: e.to_string(),
        }),
        None => Ok(Policy {
            enabled: vault.meta("hq_server_key")?.is_some(),
            ..Policy::default()
        }),
    }
}

/// Stores the safety policy after checking it.
pub fn save_policy(vault: &Vault, policy: &Policy) -> Result<()> {
    policy.check().map_err(|e| ExchangeError::BadFile {
        what: "the safety policy",
        problem: e.to_string(),
    })?;
    let json = serde_json::to_string(policy).map_err(|e| ExchangeError::Keys(e.to_string()))?;
    vault.set_meta(META_POLICY, &json)?;
    Ok(())
}

/// The trust file this field vault imported.
pub fn trust_file(vault: &Vault) -> Result<TrustFile> {
    trust(vault)
}

fn trust(vault: &Vault) -> Result<TrustFile> {
    let (_, doc) = vault.trust()?.ok_or(ExchangeError::NoTrust)?;
    serde_json::from_str(&doc).map_err(|_| ExchangeError::NoTrust)
}

/// Coordinator: enrolls a device from its `device show --json`.
pub fn enroll_device(
    vault: &mut Vault,
    device: &PublicIdentity,
    label: Option<String>,
) -> Result<IdentityFingerprint> {
    require_role(vault, VaultRole::Coordinator, "device enroll")?;
    let fingerprint = device.fingerprint().map_err(|e| ExchangeError::BadFile {
        what: "the device file",
        problem: e.to_string(),
    })?;
    vault.enroll_device(&DeviceRow {
        device_id: device.device_id,
        signing_key: device.signing_key.trim().to_string(),
        age_recipient: device.age_recipient.trim().to_string(),
        label,
        enrolled_at: now_rfc3339(),
        revoked_from: None,
    })?;
    Ok(fingerprint)
}

/// Coordinator: revokes a device from a time on; bundles it signed at or
/// after that time are refused.
pub fn revoke_device(vault: &mut Vault, device_id: Uuid, from: OffsetDateTime) -> Result<()> {
    require_role(vault, VaultRole::Coordinator, "device revoke")?;
    let from = from
        .format(&Rfc3339)
        .map_err(|e| ExchangeError::Keys(e.to_string()))?;
    Ok(vault.revoke_device(device_id, &from)?)
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    /// The bundle file.
    pub path: PathBuf,
    /// Sequence number.
    pub seq: u64,
    /// Bundle id (SHA-256 of its payload).
    pub bundle_id: String,
    /// File size.
    pub size: u64,
    /// Records carried.
    pub records: u64,
    /// Revisions carried.
    pub revisions: u64,
    /// Attachments carried.
    pub attachments: u64,
}

/// Progress callback: bytes of entries processed; return false to cancel.
pub type Progress<'a> = &'a mut dyn FnMut(u64) -> bool;

struct Counting<'a, 'p> {
    inner: Box<dyn Read + Send + 'a>,
    done: &'a std::cell::Cell<u64>,
    progress: &'a std::cell::RefCell<Progress<'p>>,
    cancelled: &'a std::cell::Cell<bool>,
}

impl Read for Counting<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done.set(self.done.get() + n as u64);
        if !(self.progress.borrow_mut())(self.done.get()) {
            self.cancelled.set(true);
            // Not `Interrupted`: readers retry on that, and would spin.
            return Err(io::Error::other("cancelled by the user"));
        }
        Ok(n)
    }
}

/// Reads ahead on a thread of its own: attachments are decrypted from the
/// vault on one core while the bundle writer encrypts on the other. At most
/// `DEPTH` chunks are in flight, so memory stays constant.
struct Prefetch {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Prefetch {
    const CHUNK: usize = 256 * 1024;
    const DEPTH: usize = 4;

    fn new(mut inner: Box<dyn Read + Send>) -> Prefetch {
        let (tx, rx) = std::sync::mpsc::sync_channel(Self::DEPTH);
        std::thread::spawn(move || {
            loop {
                let mut buf = vec![0u8; Self::CHUNK];
                let mut filled = 0;
                // Fill the chunk (short reads are common from decryptors).
                let res = loop {
                    match inner.read(&mut buf[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                match res {
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    Ok(()) if filled == 0 => return,
                    Ok(()) => {
                        buf.truncate(filled);
                        if tx.send(Ok(buf)).is_err() {
                            return; // the writer stopped early
                        }
                    }
                }
            }
        });
        Prefetch {
            rx,
            current: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Writes `records` (all their given revisions) and `attachments` as a
/// bundle to `out`: written beside it, synced, then renamed. Records are
/// serialised up front; attachments stream from the vault.
fn write_bundle_file(
    vault: &Vault,
    keys: &DeviceKeys,
    spec: &BundleSpec,
    records: &[RecordChanges],
    attachments: &[AttachmentInfo],
    out: &Path,
    progress: Progress<'_>,
) -> Result<yaddash_bundle::WrittenBundle> {
    let record_bytes: Vec<(String, Vec<u8>)> = records
        .iter()
        .map(|r| {
            let json = serde_json::to_vec(r).map_err(|e| ExchangeError::Layout(e.to_string()))?;
            Ok((format!("records/{}.json", r.id), json))
        })
        .collect::<Result<_>>()?;
    let meta_bytes: Vec<(String, Vec<u8>)> = attachments
        .iter()
        .map(|a| {
            let json = serde_json::to_vec(a).map_err(|e| ExchangeError::Layout(e.to_string()))?;
            Ok((format!("attachments/{}.json", a.id), json))
        })
        .collect::<Result<_>>()?;
    let done = std::cell::Cell::new(0u64);
    let cancelled = std::cell::Cell::new(false);
    let progress = std::cell::RefCell::new(progress);
    let mut entries: Vec<EntrySource<'_>> = Vec::new();
    for (path, bytes) in &record_bytes {
        entries.push(EntrySource::from_bytes(path.clone(), bytes));
    }
    for (a, (path, bytes)) in attachments.iter().zip(&meta_bytes) {
        entries.push(EntrySource::from_bytes(path.clone(), bytes));
        let (_, reader) = vault.attachment_reader(a.id)?;
        let sha = Sha256Hash::from_str(&a.sha256)
            .map_err(|_| ExchangeError::Vault(VaultError::Corrupt("bad attachment hash".into())))?;
        entries.push(EntrySource {
            path: format!("attachments/{}", a.id),
            size: a.size,
            sha256: sha,
            reader: Box::new(Counting {
                inner: Box::new(Prefetch::new(reader)),
                done: &done,
                progress: &progress,
                cancelled: &cancelled,
            }),
        });
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.partial",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let result = (|| -> Result<_> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io_err(format!("creating {}", tmp.display())))?;
        let mut w = BufWriter::with_capacity(256 * 1024, file);
        let written = write_bundle(&mut w, keys, spec, entries)?;
        let file = w
            .into_inner()
            .map_err(|e| io_err(format!("writing {}", tmp.display()))(e.into_error()))?;
        file.sync_all()
            .map_err(io_err(format!("syncing {}", tmp.display())))?;
        fs::rename(&tmp, out).map_err(io_err(format!("renaming to {}", out.display())))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(written)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        if cancelled.get() {
            return Err(ExchangeError::Cancelled);
        }
    }
    result
}

/// Field: writes everything new or changed since the last bundle into `out`
/// (written beside it and renamed when complete). `Ok(None)` when there is
/// nothing to send.
pub fn export_bundle(
    vault: &mut Vault,
    out: &Path,
    progress: Progress<'_>,
) -> Result<Option<ExportSummary>> {
    let trust = trust(vault)?;
    let keys = device_keys(vault)?;
    let pending = vault.pending_export()?;
    if pending.is_empty() {
        return Ok(None);
    }
    let (seq, prev) = match vault.last_bundle_out()? {
        Some((s, id)) => (s + 1, Some(id)),
        None => (1, None),
    };
    let recipients = trust
        .coordinators
        .iter()
        .map(|c| c.age_recipient())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| ExchangeError::BadFile {
            what: "the stored trust file",
            problem: e.to_string(),
        })?;
    let spec = BundleSpec {
        device_id: vault.device_id(),
        seq,
        prev_bundle_sha256: match &prev {
            Some(p) => Some(Sha256Hash::from_str(p).map_err(|_| {
                ExchangeError::Vault(VaultError::Corrupt("bad previous bundle id".into()))
            })?),
            None => None,
        },
        created_at: OffsetDateTime::now_utc(),
        hq_id: trust.hq_id.clone(),
        recipients,
    };
    let written = write_bundle_file(
        vault,
        &keys,
        &spec,
        &pending.records,
        &pending.attachments,
        out,
        progress,
    )?;
    let revisions: u64 = pending
        .records
        .iter()
        .map(|r| r.revisions.len() as u64)
        .sum();
    let summary = ExportSummary {
        path: out.to_path_buf(),
        seq,
        bundle_id: written.bundle_id.to_string(),
        size: written.total_len,
        records: pending.records.len() as u64,
        revisions,
        attachments: pending.attachments.len() as u64,
    };
    vault.record_bundle_out(
        &BundleOut {
            seq,
            bundle_id: summary.bundle_id.clone(),
            prev_bundle_id: prev,
            created_at: spec.created_at.format(&Rfc3339).unwrap_or_default(),
            size: summary.size,
            records: summary.records,
            attachments: summary.attachments,
            hq_received_at: None,
            imported_at: None,
        },
        &pending,
    )?;
    Ok(Some(summary))
}

/// What a re-issue wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ReissueSummary {
    /// The bundle file.
    pub path: PathBuf,
    /// The device it is for (only it can decrypt it).
    pub device_id: Uuid,
    /// This coordinator's re-issue number.
    pub seq: u64,
    /// Bundle id.
    pub bundle_id: String,
    /// File size.
    pub size: u64,
    /// Records carried (every revision of each).
    pub records: u64,
    /// Attachments carried.
    pub attachments: u64,
}

/// Vault setting: the coordinator's last re-issue number.
const META_REISSUE_SEQ: &str = "reissue_seq";

/// Coordinator: a bundle that gives an enrolled field device back the
/// records it needs (every revision, with their attachments) after travel
/// mode removed them. Signed by this coordinator, encrypted to that device
/// only; the device imports it with `bundle import`, checked against its
/// trust file. Records carried this way count as held by headquarters.
pub fn reissue_bundle(
    vault: &mut Vault,
    device_id: Uuid,
    record_ids: &[Uuid],
    out: &Path,
    progress: Progress<'_>,
) -> Result<ReissueSummary> {
    require_role(vault, VaultRole::Coordinator, "bundle reissue")?;
    let keys = device_keys(vault)?;
    let device = vault.device(device_id)?.ok_or_else(|| {
        ExchangeError::Keys(format!(
            "device {device_id} is not enrolled in this vault (`yaddash device enroll`)"
        ))
    })?;
    if device.revoked_from.is_some() {
        return Err(ExchangeError::Keys(format!(
            "device {device_id} is revoked: nothing is re-issued to it"
        )));
    }
    let recipient = PublicIdentity {
        device_id,
        signing_key: device.signing_key.clone(),
        age_recipient: device.age_recipient.clone(),
    }
    .age_recipient()
    .map_err(|e| ExchangeError::Keys(e.to_string()))?;
    let hq_id = vault
        .meta(META_HQ_ID)?
        .ok_or_else(|| ExchangeError::Keys("no headquarters id".into()))?;
    let mut records = Vec::new();
    let mut attachments = Vec::new();
    for id in record_ids {
        records.push(vault.record_changes(*id)?);
        attachments.extend(vault.attachments_of(*id)?);
    }
    let seq = vault
        .meta(META_REISSUE_SEQ)?
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    let spec = BundleSpec {
        device_id: vault.device_id(),
        seq,
        prev_bundle_sha256: None,
        created_at: OffsetDateTime::now_utc(),
        hq_id,
        recipients: vec![recipient],
    };
    let written = write_bundle_file(vault, &keys, &spec, &records, &attachments, out, progress)?;
    vault.set_meta(META_REISSUE_SEQ, &seq.to_string())?;
    Ok(ReissueSummary {
        path: out.to_path_buf(),
        device_id,
        seq,
        bundle_id: written.bundle_id.to_string(),
        size: written.total_len,
        records: records.len() as u64,
        attachments: attachments.len() as u64,
    })
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    /// Bundle id.
    pub bundle_id: String,
    /// Sending device.
    pub device_id: Uuid,
    /// Its sequence number.
    pub seq: u64,
    /// What changed.
    pub counts: ImportCounts,
    /// This device's bundle numbers still missing (gaps).
    pub missing: Vec<u64>,
}

struct Senders(HashMap<Uuid, KnownSender>);

impl yaddash_bundle::SenderDirectory for Senders {
    fn lookup(&self, device_id: Uuid) -> Option<KnownSender> {
        self.0.get(&device_id).cloned()
    }
}

fn senders(vault: &Vault) -> Result<Senders> {
    let mut map = HashMap::new();
    for d in vault.devices()? {
        let revoked_from = match &d.revoked_from {
            Some(t) => Some(OffsetDateTime::parse(t, &Rfc3339).map_err(|_| {
                ExchangeError::Vault(VaultError::Corrupt("bad revocation time".into()))
            })?),
            None => None,
        };
        map.insert(
            d.device_id,
            KnownSender {
                signing_key: d.signing_key,
                revoked_from,
            },
        );
    }
    Ok(Senders(map))
}

/// Streams a verified bundle's entries into the vault's staging.
struct Importer<'v, 'p> {
    vault: &'v Vault,
    progress: Progress<'p>,
    done: u64,
    records: Vec<RecordChanges>,
    metas: HashMap<Uuid, AttachmentInfo>,
    staged: Vec<(AttachmentInfo, StagedFile)>,
}

const MAX_JSON_ENTRY: u64 = 32 << 20;

impl Importer<'_, '_> {
    fn id_from(path: &str, prefix: &str, suffix: &str) -> Option<Uuid> {
        path.strip_prefix(prefix)
            .and_then(|p| p.strip_suffix(suffix))
            .and_then(|p| Uuid::parse_str(p).ok())
    }

    fn read_json<T: for<'de> Deserialize<'de>>(
        entry: &ManifestEntry,
        data: &mut dyn Read,
    ) -> Result<T, VisitError> {
        if entry.size > MAX_JSON_ENTRY {
            return Err(format!("{} is too large", entry.path).into());
        }
        let mut buf = Vec::with_capacity(entry.size as usize);
        data.read_to_end(&mut buf)?;
        serde_json::from_slice(&buf)
            .map_err(|_| format!("{} is not the expected JSON", entry.path).into())
    }
}

impl BundleVisitor for Importer<'_, '_> {
    fn entry(&mut self, entry: &ManifestEntry, data: &mut dyn Read) -> Result<(), VisitError> {
        let path = entry.path.as_str();
        if let Some(id) = Self::id_from(path, "records/", ".json") {
            let rc: RecordChanges = Self::read_json(entry, data)?;
            if rc.id != id || rc.revisions.is_empty() {
                return Err(format!("{path} does not hold that record").into());
            }
            self.records.push(rc);
        } else if let Some(id) = Self::id_from(path, "attachments/", ".json") {
            let info: AttachmentInfo = Self::read_json(entry, data)?;
            if info.id != id {
                return Err(format!("{path} does not describe that attachment").into());
            }
            self.metas.insert(id, info);
        } else if let Some(id) = Self::id_from(path, "attachments/", "") {
            let info = self
                .metas
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("{path} comes without its metadata"))?;
            if info.size != entry.size || info.sha256 != entry.sha256.to_string() {
                return Err(format!("{path}: metadata and manifest disagree").into());
            }
            if self.vault.has_attachment(id).map_err(|e| e.to_string())? {
                return Ok(()); // already here; the reader still verifies the bytes
            }
            let base = self.done;
            let progress = &mut self.progress;
            let mut p = |n: u64| progress(base + n);
            let staged = self
                .vault
                .stage_attachment_local(data, &mut p)
                .map_err(|e| e.to_string())?;
            self.done += entry.size;
            if staged.sha256 != info.sha256 {
                self.vault.discard_staged(std::slice::from_ref(&staged));
                return Err(format!("{path} does not match its capture hash").into());
            }
            self.staged.push((info, staged));
        } else {
            return Err(format!("unexpected entry {path}").into());
        }
        Ok(())
    }
}

/// Verifies a bundle completely and imports it in one transaction, keeping
/// provenance; changes nothing on any error.
///
/// A coordinator imports field devices' bundles (senders: the devices
/// enrolled here), refusing a replay, a reused sequence number and a broken
/// chain. A field vault imports a coordinator's re-issue bundle (senders:
/// the coordinators in its trust file), refusing a replay.
pub fn import_bundle(
    vault: &mut Vault,
    path: &Path,
    progress: Progress<'_>,
) -> Result<ImportSummary> {
    let keys = device_keys(vault)?;
    let coordinator = vault.role() == VaultRole::Coordinator;
    let (hq_id, senders) = if coordinator {
        let hq_id = vault
            .meta(META_HQ_ID)?
            .ok_or_else(|| ExchangeError::Keys("no headquarters id".into()))?;
        (hq_id, senders(vault)?)
    } else {
        let t = trust(vault)?;
        let map = t
            .coordinators
            .iter()
            .map(|c| {
                (
                    c.device_id,
                    KnownSender {
                        signing_key: c.signing_key.clone(),
                        revoked_from: None,
                    },
                )
            })
            .collect();
        (t.hq_id, Senders(map))
    };
    let reader = BundleReader::open_path(path, &senders)?;
    let outer: OuterVerified = reader.outer().clone();
    let bundle_id = outer.bundle_id.to_string();
    if let Some(b) = vault.bundle_in(&bundle_id)? {
        return Err(ExchangeError::AlreadyImported {
            bundle_id,
            device_id: b.device_id,
            seq: b.seq,
            imported_at: b.imported_at,
        });
    }
    let mut importer = Importer {
        vault,
        progress,
        done: 0,
        records: Vec::new(),
        metas: HashMap::new(),
        staged: Vec::new(),
    };
    let config = DecryptConfig {
        identity: keys.age_identity(),
        hq_id: &hq_id,
    };
    let verified = reader.decrypt(&config, &mut importer);
    let Importer {
        records, staged, ..
    } = importer;
    let verified = match verified {
        Ok(v) => v,
        Err(e) => {
            vault.discard_staged(&staged.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>());
            return Err(e.into());
        }
    };
    let chain = if coordinator {
        check_chain(vault, &verified.manifest, &bundle_id)
    } else {
        Ok(())
    };
    let result = chain.and_then(|()| {
        let m = &verified.manifest;
        let bundle = BundleIn {
            bundle_id: bundle_id.clone(),
            device_id: m.device_id,
            seq: m.seq,
            prev_bundle_id: m.prev_bundle_sha256.as_ref().map(|h| h.to_string()),
            created_at: m.created_at.format(&Rfc3339).unwrap_or_default(),
            imported_at: now_rfc3339(),
            imported_by: vault.device_id().to_string(),
            records: records.len() as u64,
            attachments: staged.len() as u64,
        };
        Ok(vault.import_bundle_contents(&bundle, &records, &staged)?)
    });
    let counts = match result {
        Ok(c) => c,
        Err(e) => {
            vault.discard_staged(&staged.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>());
            return Err(e);
        }
    };
    Ok(ImportSummary {
        bundle_id,
        device_id: verified.manifest.device_id,
        seq: verified.manifest.seq,
        counts,
        missing: if coordinator {
            vault.sequence_gaps(verified.manifest.device_id)?
        } else {
            Vec::new()
        },
    })
}

fn check_chain(vault: &Vault, m: &Manifest, bundle_id: &str) -> Result<()> {
    let previous = vault.bundles_in_from(m.device_id)?;
    for b in &previous {
        if b.seq == m.seq {
            return Err(ExchangeError::SequenceReused {
                device_id: m.device_id,
                seq: m.seq,
            });
        }
        if b.seq + 1 == m.seq
            && m.prev_bundle_sha256
                .as_ref()
                .map(|h| h.to_string())
                .as_deref()
                != Some(b.bundle_id.as_str())
        {
            return Err(ExchangeError::ChainBroken {
                device_id: m.device_id,
                seq: m.seq,
                other: b.seq,
            });
        }
        if m.seq + 1 == b.seq && b.prev_bundle_id.as_deref() != Some(bundle_id) {
            return Err(ExchangeError::ChainBroken {
                device_id: m.device_id,
                seq: m.seq,
                other: b.seq,
            });
        }
    }
    if m.seq == 1 && m.prev_bundle_sha256.is_some() {
        return Err(ExchangeError::Layout(
            "the first bundle names a previous one".into(),
        ));
    }
    Ok(())
}

/// A file of receipts for one device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptFile {
    /// Always `yaddash-receipts`.
    pub format: String,
    /// The device the receipts are for.
    pub device_id: Uuid,
    /// Signed receipt texts (JSON line + SSHSIG armour each).
    pub receipts: Vec<String>,
}

/// Coordinator: signed "imported" receipts for every bundle imported from a device.
pub fn receipt_export(vault: &mut Vault, device_id: Uuid) -> Result<ReceiptFile> {
    require_role(vault, VaultRole::Coordinator, "receipt export")?;
    let keys = device_keys(vault)?;
    let bundles = vault.bundles_in_from(device_id)?;
    if bundles.is_empty() {
        return Err(ExchangeError::Receipt(format!(
            "no bundle from device {device_id} was imported here"
        )));
    }
    let mut receipts = Vec::new();
    for b in bundles {
        let records = vault.records_from_bundle(&b.bundle_id)?;
        let id = Sha256Hash::from_str(&b.bundle_id)
            .map_err(|_| ExchangeError::Vault(VaultError::Corrupt("bad bundle id".into())))?;
        let r = Receipt::new(
            ReceiptKind::CoordinatorImported,
            id,
            device_id,
            b.seq,
            records,
            OffsetDateTime::now_utc(),
            &keys,
        );
        receipts.push(sign_receipt(&r, &keys).map_err(|e| ExchangeError::Receipt(e.to_string()))?);
    }
    Ok(ReceiptFile {
        format: "yaddash-receipts".into(),
        device_id,
        receipts,
    })
}

/// What a receipt import confirmed.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptSummary {
    /// Bundles newly confirmed as imported by headquarters.
    pub confirmed: Vec<u64>,
    /// Receipts for bundles already confirmed.
    pub already: u64,
}

/// Field: verifies receipts against the trusted coordinators' keys and marks
/// the bundles (and so their records) as held by headquarters.
pub fn receipt_import(vault: &mut Vault, text: &str) -> Result<ReceiptSummary> {
    let trust = trust(vault)?;
    let file: ReceiptFile = serde_json::from_str(text).map_err(|_| ExchangeError::BadFile {
        what: "the receipt file",
        problem: "not a Yaddash receipt file".into(),
    })?;
    if file.format != "yaddash-receipts" {
        return Err(ExchangeError::BadFile {
            what: "the receipt file",
            problem: "not a Yaddash receipt file".into(),
        });
    }
    if file.device_id != vault.device_id() {
        return Err(ExchangeError::Receipt(format!(
            "the receipts are for device {}, this is device {}",
            file.device_id,
            vault.device_id()
        )));
    }
    let ours: HashMap<String, BundleOut> = vault
        .bundles_out()?
        .into_iter()
        .map(|b| (b.bundle_id.clone(), b))
        .collect();
    // Verify everything first: a single bad receipt refuses the file.
    let mut verified = Vec::new();
    for text in &file.receipts {
        let receipt = trust
            .coordinators
            .iter()
            .find_map(|c| verify_receipt(text, &c.signing_key).ok())
            .ok_or_else(|| {
                ExchangeError::Receipt("a receipt is not signed by a trusted coordinator".into())
            })?;
        if receipt.kind != ReceiptKind::CoordinatorImported
            || receipt.device_id != vault.device_id()
        {
            return Err(ExchangeError::Receipt(
                "a receipt is not an import receipt for this device".into(),
            ));
        }
        let bundle_id = receipt.bundle_id.to_string();
        let b = ours.get(&bundle_id).ok_or_else(|| {
            ExchangeError::Receipt("a receipt names a bundle this device did not make".into())
        })?;
        if b.seq != receipt.seq {
            return Err(ExchangeError::Receipt(
                "a receipt's bundle number does not match".into(),
            ));
        }
        verified.push((bundle_id, receipt));
    }
    let mut summary = ReceiptSummary {
        confirmed: Vec::new(),
        already: 0,
    };
    let at = now_rfc3339();
    for ((bundle_id, receipt), text) in verified.into_iter().zip(&file.receipts) {
        // Kept so travel mode can verify it again before removing anything.
        vault.set_meta(&format!("{META_IMPORT_RECEIPT}{bundle_id}"), text)?;
        if ours
            .get(&bundle_id)
            .and_then(|b| b.imported_at.as_ref())
            .is_some()
        {
            summary.already += 1;
        } else {
            vault.mark_bundles_imported(std::slice::from_ref(&bundle_id), &at)?;
            summary.confirmed.push(receipt.seq);
        }
    }
    Ok(summary)
}

/// Writes a small file atomically (trust, receipts, device files).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    let res = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.map_err(io_err(format!("writing {}", path.display())))
}
