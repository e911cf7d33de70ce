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
    OuterVerified, VisitError,
};
use yaddash_vault::{
    AttachmentInfo, BundleIn, ImportCounts, RecordChanges, StagedFile, Vault, VaultError, VaultRole,
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
        let hq_id = hq_id(vault)?;
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
