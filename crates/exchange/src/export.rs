//! Field: writing everything new since the last bundle into one signed,
//! encrypted bundle; the bundle writer shared with re-issue.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yaddash_bundle::PublicIdentityExt;
use yaddash_bundle::{BundleSpec, DeviceKeys, EntrySource, Sha256Hash, write_bundle};
use yaddash_vault::{AttachmentInfo, BundleOut, RecordChanges, Vault, VaultError};
use zeroize::Zeroizing;

use crate::error::{ExchangeError, FileKind, Result, io_err};
use crate::keys::device_keys;
use crate::trust::trust;

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
    rx: std::sync::mpsc::Receiver<io::Result<Zeroizing<Vec<u8>>>>,
    current: Zeroizing<Vec<u8>>,
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
                let mut buf = Zeroizing::new(vec![0u8; Self::CHUNK]);
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
            current: Zeroizing::new(Vec::new()),
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
pub(crate) fn write_bundle_file(
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
            let json = serde_json::to_vec(r)
                .map_err(|e| ExchangeError::Encode(format!("a record for the bundle: {e}")))?;
            Ok((format!("records/{}.json", r.id), json))
        })
        .collect::<Result<_>>()?;
    let meta_bytes: Vec<(String, Vec<u8>)> = attachments
        .iter()
        .map(|a| {
            let json = serde_json::to_vec(a)
                .map_err(|e| ExchangeError::Encode(format!("a record for the bundle: {e}")))?;
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
        // Written on a thread of its own (with `O_DIRECT` where the file
        // system takes it), so that this one only encrypts.
        let mut w = yaddash_os::WriteBehind::new(file)
            .map_err(io_err(format!("writing {}", tmp.display())))?;
        let written = write_bundle(&mut w, keys, spec, entries)?;
        let file = w
            .finish()
            .map_err(io_err(format!("writing {}", tmp.display())))?;
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
    let pending = vault.exchange().pending_export()?;
    if pending.is_empty() {
        return Ok(None);
    }
    let (seq, prev) = match vault.exchange().last_bundle_out()? {
        Some((s, id)) => (s + 1, Some(id)),
        None => (1, None),
    };
    let recipients = trust
        .coordinators
        .iter()
        .map(|c| c.age_recipient())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| ExchangeError::BadFile {
            what: FileKind::StoredTrust,
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
    vault.exchange_mut().record_bundle_out(
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
