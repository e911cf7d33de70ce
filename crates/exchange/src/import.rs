//! Verified, idempotent bundle import: a coordinator's from enrolled
//! devices, a field vault's re-issue from its coordinators.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use yaddash_bundle::{
    BundleReader, BundleVisitor, DecryptConfig, KnownSender, Manifest, ManifestEntry,
    OuterVerified, ReadError, ReceiptKind, VisitError, verify_receipt,
};
use yaddash_vault::evidence::BundleEvidence;
use yaddash_vault::{
    AttachmentInfo, BundleIn, CurrentRule, ImportCounts, ImportOverride, RecordChanges, Setting,
    StagedFile, Vault, VaultError, VaultRole,
};

use crate::error::{ExchangeError, ImportError, Result};
use crate::export::Progress;
use crate::keys::{device_keys, hq_id, now_rfc3339};
use crate::trust::trust;

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
    /// Set when the bundle came from a revoked device beyond the evidence
    /// and was imported on the coordinator's recorded decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_after_revocation: Option<ImportOverride>,
}

/// Choices for one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The coordinator checked by other means a bundle of a revoked device
    /// that nothing here proves was made before the revocation, and imports
    /// it anyway, for this reason (recorded with who and when).
    pub accept_after_revocation: Option<String>,
    /// The HQ server's signed hq-received receipt for this bundle, when it
    /// was relayed through the server: its time (the server's clock, not the
    /// device's) is evidence that the bundle existed then.
    pub hq_receipt: Option<String>,
}

/// Largest `records/<id>.json` entry (one record with its revisions).
pub const MAX_RECORD_JSON: u64 = 16 << 20;
/// Largest `attachments/<id>.json` entry (an attachment's metadata).
pub const MAX_ATTACHMENT_META_JSON: u64 = 64 << 10;
/// Most JSON (records and metadata) one bundle may carry in all: it is
/// held until the import's single transaction commits.
pub const MAX_JSON_TOTAL: u64 = 256 << 20;
/// Most entries one bundle may carry.
pub const MAX_ENTRIES: usize = 50_000;
/// How far a revision's or attachment's time may lie after the bundle's own
/// time (clocks of one device differ by less; a later time is made up).
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

fn mib(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{} KiB", n >> 10)
    }
}

struct Senders(HashMap<Uuid, KnownSender>);

impl yaddash_bundle::SenderDirectory for Senders {
    fn lookup(&self, device_id: Uuid) -> Option<KnownSender> {
        self.0.get(&device_id).cloned()
    }
}

fn parse_time(t: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(t, &Rfc3339)
        .map_err(|_| ExchangeError::Vault(VaultError::Corrupt("bad revocation time".into())))
}

/// The enrolled devices. With `lift_revocation`, the reader does not refuse
/// a revoked sender's bundle dated after its revocation: the caller checks
/// (and records the coordinator's override).
fn senders(vault: &Vault, lift_revocation: bool) -> Result<Senders> {
    let mut map = HashMap::new();
    for d in vault.exchange().devices()? {
        let revoked_from = match &d.revoked_from {
            Some(t) if !lift_revocation => Some(parse_time(t)?),
            _ => None,
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
    /// A coordinator importing a field device's bundle: every entry must
    /// be the sender's own work.
    bind_to_sender: bool,
    options: &'v ImportOptions,
    bundle_id: String,
    /// From the verified manifest.
    sender: Uuid,
    created_at: Option<OffsetDateTime>,
    /// Decided at the manifest: imported on the coordinator's override.
    accepted: Option<ImportOverride>,
    records: Vec<RecordChanges>,
    metas: HashMap<Uuid, AttachmentInfo>,
    staged: Vec<(AttachmentInfo, StagedFile)>,
    /// A coordinator keeps the JSON entries exactly as received: with the
    /// signed manifest they are the evidence of who sent what
    /// (`yaddash_vault::evidence`).
    kept: Vec<(String, Vec<u8>)>,
}

impl Importer<'_, '_> {
    fn id_from(path: &str, prefix: &str, suffix: &str) -> Option<Uuid> {
        path.strip_prefix(prefix)
            .and_then(|p| p.strip_suffix(suffix))
            .and_then(|p| Uuid::parse_str(p).ok())
    }

    /// Parses a JSON entry as it streams (sizes were checked against the
    /// limits at the manifest; the reader enforces the declared size). A
    /// coordinator reads it whole and keeps the bytes as evidence.
    fn read_json<T: for<'de> Deserialize<'de>>(
        &mut self,
        entry: &ManifestEntry,
        data: &mut dyn Read,
    ) -> Result<T, VisitError> {
        let bad = || -> VisitError { format!("{} is not the expected JSON", entry.path).into() };
        if !self.bind_to_sender {
            let reader = std::io::BufReader::with_capacity(64 * 1024, data.take(entry.size));
            return serde_json::from_reader(reader).map_err(|_| bad());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size).unwrap_or(0));
        data.take(entry.size).read_to_end(&mut bytes)?;
        let parsed = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        self.kept.push((entry.path.clone(), bytes));
        Ok(parsed)
    }

    /// A time in the bundle: strict RFC 3339, not after the bundle's own
    /// time plus [`MAX_CLOCK_SKEW`].
    fn check_time(&self, entry: &str, what: &str, t: &str) -> Result<(), ImportError> {
        let bad = |problem: String| ImportError::BadTime {
            entry: entry.to_string(),
            problem,
        };
        let parsed = OffsetDateTime::parse(t, &Rfc3339)
            .map_err(|_| bad(format!("{what} is not an RFC 3339 time")))?;
        if let Some(created) = self.created_at
            && parsed > created + MAX_CLOCK_SKEW
        {
            return Err(bad(format!(
                "{what} lies after the bundle's own time (more than {} minutes)",
                MAX_CLOCK_SKEW.whole_minutes()
            )));
        }
        Ok(())
    }

    fn check_author(&self, entry: &str, claimed: &str) -> Result<(), ImportError> {
        if claimed != self.sender.to_string() {
            return Err(ImportError::NotFromSender {
                entry: entry.to_string(),
                claimed: claimed.chars().take(64).collect(),
                sender: self.sender,
            });
        }
        Ok(())
    }

    /// A coordinator's checks on a field device's record.
    fn check_record(&self, path: &str, rc: &RecordChanges) -> Result<(), VisitError> {
        if !self.bind_to_sender {
            return Ok(());
        }
        self.check_time(path, "created_at", &rc.created_at)?;
        for v in &rc.revisions {
            self.check_author(path, &v.author)?;
            self.check_time(path, "a revision's time", &v.at)?;
        }
        // A record new here must be the sender's own; for a known record
        // the stored creator stays (the bundle's claim is not used).
        if !self.vault.contains(rc.id).map_err(|e| e.to_string())? {
            self.check_author(path, &rc.created_by)?;
        }
        Ok(())
    }

    fn check_attachment(&self, path: &str, info: &AttachmentInfo) -> Result<(), VisitError> {
        if !self.bind_to_sender {
            return Ok(());
        }
        self.check_author(path, &info.captured_by)?;
        self.check_time(path, "captured_at", &info.captured_at)?;
        Ok(())
    }
}

/// The size and count limits, from the verified manifest, before any entry.
fn check_limits(m: &Manifest) -> Result<(), ImportError> {
    let too_large = |what: String, limit: String| ImportError::TooLarge { what, limit };
    if m.entries.len() > MAX_ENTRIES {
        return Err(too_large(
            format!("its {} entries", m.entries.len()),
            format!("{MAX_ENTRIES} entries"),
        ));
    }
    let mut json = 0u64;
    for e in &m.entries {
        let limit = if e.path.starts_with("records/") {
            MAX_RECORD_JSON
        } else if e.path.starts_with("attachments/") && e.path.ends_with(".json") {
            MAX_ATTACHMENT_META_JSON
        } else {
            continue;
        };
        if e.size > limit {
            return Err(too_large(
                format!("{} ({} bytes)", e.path, e.size),
                format!("{} per entry", mib(limit)),
            ));
        }
        json = json.saturating_add(e.size);
    }
    if json > MAX_JSON_TOTAL {
        return Err(too_large(
            format!("its records and metadata ({json} bytes)"),
            format!("{} in all", mib(MAX_JSON_TOTAL)),
        ));
    }
    Ok(())
}

/// Whether a revoked device's bundle is covered by evidence its holder
/// cannot forge (docs/bundle-format.md, "Revocation"):
///
/// - its number is at most the highest this vault held from the device
///   when it was revoked, and, for that highest one, its id is the one held;
/// - it is the last bundle the HQ server said it held at the revocation;
/// - the device's next bundle is here and names it as its predecessor; or
/// - the HQ server's signed receipt, verified against the server key this
///   vault knows, says the server received it before the revocation.
///
/// Its own `created_at` must also be before the revocation. A bundle not
/// covered is refused unless the coordinator overrides, which is recorded.
fn check_revocation(
    vault: &Vault,
    m: &Manifest,
    bundle_id: &str,
    options: &ImportOptions,
) -> Result<Option<ImportOverride>> {
    let Some(d) = vault.exchange().device(m.device_id)? else {
        return Ok(None);
    };
    let Some(revoked_from) = d.revoked_from.as_deref() else {
        return Ok(None);
    };
    let from = parse_time(revoked_from)?;
    let held = d.held_through_seq.unwrap_or(0);
    let covered = m.created_at < from
        && ((m.seq < held)
            || (m.seq == held
                && d.held_through_bundle
                    .as_deref()
                    .is_none_or(|b| b == bundle_id))
            || d.server_held_bundle.as_deref() == Some(bundle_id)
            || chained_to_a_later_one(vault, m, bundle_id)?
            || hq_received_before(vault, m, bundle_id, from, options.hq_receipt.as_deref())?);
    if covered {
        return Ok(None);
    }
    match &options.accept_after_revocation {
        Some(reason) => Ok(Some(ImportOverride {
            reason: reason.clone(),
            at: now_rfc3339(),
            by: vault.device_id().to_string(),
        })),
        None => Err(ImportError::AfterRevocation {
            device_id: m.device_id,
            seq: m.seq,
            revoked_from: revoked_from.to_string(),
            held_through_seq: held,
        }
        .into()),
    }
}

/// The device's next bundle is already here and names this one as its
/// predecessor: the hash chain fixes this bundle as made before that one,
/// which was itself accepted on evidence.
fn chained_to_a_later_one(vault: &Vault, m: &Manifest, bundle_id: &str) -> Result<bool> {
    Ok(vault
        .exchange()
        .bundles_in_from(m.device_id)?
        .iter()
        .any(|b| b.seq == m.seq + 1 && b.prev_bundle_id.as_deref() == Some(bundle_id)))
}

/// The HQ server's signed receipt says it received this bundle before `from`.
fn hq_received_before(
    vault: &Vault,
    m: &Manifest,
    bundle_id: &str,
    from: OffsetDateTime,
    receipt: Option<&str>,
) -> Result<bool> {
    let (Some(text), Some(key)) = (receipt, vault.setting(Setting::HqServerKey)?) else {
        return Ok(false);
    };
    Ok(match verify_receipt(text, &key) {
        Ok(r) => {
            r.kind == ReceiptKind::HqReceived
                && r.device_id == m.device_id
                && r.bundle_id.to_string() == bundle_id
                && r.issued_at < from
        }
        Err(_) => false,
    })
}

/// A visitor error that is one of ours, typed again.
fn typed(e: ExchangeError) -> VisitError {
    Box::new(e)
}

impl BundleVisitor for Importer<'_, '_> {
    fn manifest(&mut self, m: &Manifest, _: &OuterVerified) -> Result<(), VisitError> {
        check_limits(m).map_err(|e| typed(e.into()))?;
        self.sender = m.device_id;
        self.created_at = Some(m.created_at);
        if self.bind_to_sender {
            // Before reading any entry: a refused bundle costs nothing more.
            check_chain(self.vault, m, &self.bundle_id).map_err(typed)?;
            self.accepted =
                check_revocation(self.vault, m, &self.bundle_id, self.options).map_err(typed)?;
        }
        Ok(())
    }

    fn entry(&mut self, entry: &ManifestEntry, data: &mut dyn Read) -> Result<(), VisitError> {
        let path = entry.path.as_str();
        if let Some(id) = Self::id_from(path, "records/", ".json") {
            let rc: RecordChanges = self.read_json(entry, data)?;
            if rc.id != id || rc.revisions.is_empty() {
                return Err(format!("{path} does not hold that record").into());
            }
            self.check_record(path, &rc)?;
            self.records.push(rc);
        } else if let Some(id) = Self::id_from(path, "attachments/", ".json") {
            let info: AttachmentInfo = self.read_json(entry, data)?;
            if info.id != id {
                return Err(format!("{path} does not describe that attachment").into());
            }
            self.check_attachment(path, &info)?;
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
            // `data` is the bundle reader's entry: it hashes the bytes against
            // the manifest (whose hash equals the capture hash, checked
            // above) and its last read fails when they differ, so the vault
            // takes that hash instead of hashing the same bytes again.
            let staged = self
                .vault
                .stage_attachment_checked(data, entry.sha256.0, &mut p)
                .map_err(|e| e.to_string())?;
            self.done += entry.size;
            self.staged.push((info, staged));
        } else {
            return Err(format!("unexpected entry {path}").into());
        }
        Ok(())
    }
}

/// A reader error, with our own refusals typed again.
fn from_read(e: ReadError) -> ExchangeError {
    match e {
        ReadError::Visitor(inner) => match inner.downcast::<ExchangeError>() {
            Ok(ours) => *ours,
            Err(inner) => match inner.downcast::<ImportError>() {
                Ok(ours) => ExchangeError::Import(*ours),
                Err(other) => {
                    ExchangeError::Import(ImportError::Refused(ReadError::Visitor(other)))
                }
            },
        },
        other => other.into(),
    }
}

/// Verifies a bundle completely and imports it in one transaction, keeping
/// provenance; changes nothing on any error. [`import_bundle_with`] with
/// the default options.
pub fn import_bundle(
    vault: &mut Vault,
    path: &Path,
    progress: Progress<'_>,
) -> Result<ImportSummary> {
    import_bundle_with(vault, path, &ImportOptions::default(), progress)
}

/// Verifies a bundle completely and imports it in one transaction, keeping
/// provenance; changes nothing on any error.
///
/// A coordinator imports field devices' bundles (senders: the devices
/// enrolled here), refusing a replay, a reused sequence number, a broken
/// chain, a revoked device's bundle beyond the evidence (unless
/// `options.accept_after_revocation`), and any revision or attachment not
/// made by the sending device; a device's revision of a record whose
/// current body is another device's is kept as a conflict. A field vault
/// imports a coordinator's re-issue bundle (senders: the coordinators in
/// its trust file), refusing a replay.
pub fn import_bundle_with(
    vault: &mut Vault,
    path: &Path,
    options: &ImportOptions,
    progress: Progress<'_>,
) -> Result<ImportSummary> {
    let keys = device_keys(vault)?;
    let coordinator = vault.role() == VaultRole::Coordinator;
    let (hq_id, senders) = if coordinator {
        let hq_id = hq_id(vault)?;
        (
            hq_id,
            senders(vault, options.accept_after_revocation.is_some())?,
        )
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
    if let Some(b) = vault.exchange().bundle_in(&bundle_id)? {
        return Err(ImportError::AlreadyImported {
            bundle_id,
            device_id: b.device_id,
            seq: b.seq,
            imported_at: b.imported_at,
        }
        .into());
    }
    let mut importer = Importer {
        vault,
        progress,
        done: 0,
        bind_to_sender: coordinator,
        options,
        bundle_id: bundle_id.clone(),
        sender: outer.device_id,
        created_at: None,
        accepted: None,
        records: Vec::new(),
        metas: HashMap::new(),
        staged: Vec::new(),
        kept: Vec::new(),
    };
    let config = DecryptConfig {
        identity: keys.age_identity(),
        hq_id: &hq_id,
    };
    let verified = reader.decrypt(&config, &mut importer);
    let Importer {
        records,
        staged,
        accepted,
        kept,
        ..
    } = importer;
    let verified = match verified {
        Ok(v) => v,
        Err(e) => {
            vault.discard_staged(&staged.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>());
            return Err(from_read(e));
        }
    };
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
        evidence: coordinator.then(|| BundleEvidence {
            manifest: verified.signed_manifest.0.clone(),
            signature: verified.signed_manifest.1.clone(),
            entries: kept,
        }),
    };
    let rule = if coordinator {
        CurrentRule::SenderOwnsItsRecords
    } else {
        CurrentRule::LatestTime
    };
    let counts = match vault.exchange_mut().import_bundle_contents(
        &bundle,
        &records,
        &staged,
        rule,
        accepted.as_ref(),
    ) {
        Ok(c) => c,
        Err(e) => {
            vault.discard_staged(&staged.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>());
            return Err(e.into());
        }
    };
    Ok(ImportSummary {
        bundle_id,
        device_id: verified.manifest.device_id,
        seq: verified.manifest.seq,
        counts,
        missing: if coordinator {
            vault
                .exchange()
                .sequence_gaps(verified.manifest.device_id)?
        } else {
            Vec::new()
        },
        accepted_after_revocation: accepted,
    })
}

fn check_chain(vault: &Vault, m: &Manifest, bundle_id: &str) -> Result<()> {
    let previous = vault.exchange().bundles_in_from(m.device_id)?;
    for b in &previous {
        if b.seq == m.seq {
            return Err(ImportError::SequenceReused {
                device_id: m.device_id,
                seq: m.seq,
            }
            .into());
        }
        if b.seq + 1 == m.seq
            && m.prev_bundle_sha256
                .as_ref()
                .map(|h| h.to_string())
                .as_deref()
                != Some(b.bundle_id.as_str())
        {
            return Err(ImportError::ChainBroken {
                device_id: m.device_id,
                seq: m.seq,
                other: b.seq,
            }
            .into());
        }
        if m.seq + 1 == b.seq && b.prev_bundle_id.as_deref() != Some(bundle_id) {
            return Err(ImportError::ChainBroken {
                device_id: m.device_id,
                seq: m.seq,
                other: b.seq,
            }
            .into());
        }
    }
    if m.seq == 1 && m.prev_bundle_sha256.is_some() {
        return Err(ImportError::Layout("the first bundle names a previous one".into()).into());
    }
    Ok(())
}
