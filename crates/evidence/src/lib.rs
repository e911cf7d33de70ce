//! Evidence packs for litigation (`yaddash evidence export`).
//!
//! A pack is one ZIP file (stored, not compressed) holding one folder:
//! the selected records as JSON, every revision's body exactly as saved
//! with its SHA-256, the original attachments byte for byte, the signed
//! manifests of the bundles that brought them to headquarters with the
//! bundle entries they list, the custody trail, a printable PDF summary,
//! `allowed_signers`, `SHA256SUMS` signed by the exporting coordinator,
//! and `VERIFY.md` + `verify.sh`, which check all of it with `sha256sum`
//! and `ssh-keygen -Y verify` only. See `docs/evidence.md`.
//!
//! What a pack may hold at each level follows the register's rules
//! ([`yaddash_register::Level`]); below `internal` records are shown
//! redacted and the device signatures are left out ([`view`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod script;
pub mod view;
pub mod zip;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use yaddash_bundle::yaddash_wire::{signing_key_fingerprint, sshsig};
use yaddash_model::{Record, RecordKind};
use yaddash_register::Level;
use yaddash_register::export::{DocBlock, document_pdf};
use yaddash_vault::{AttachmentInfo, StoredRecord, Vault};

pub use view::Selected;

/// Namespace of the exporting coordinator's signature over `SHA256SUMS`.
pub const NAMESPACE_EVIDENCE: &str = "yaddash-evidence@yaddash.org";
/// Namespace of a device's signature over a bundle manifest.
pub const NAMESPACE_MANIFEST: &str = sshsig::NAMESPACE_MANIFEST;
/// The `format` of `pack.json`.
pub const FORMAT: &str = "yaddash-evidence";
/// The version of the pack layout.
pub const VERSION: u32 = 1;

/// Evidence pack errors.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// From the vault.
    #[error(transparent)]
    Vault(#[from] yaddash_vault::VaultError),
    /// From the register (level rules, PDF).
    #[error(transparent)]
    Register(#[from] yaddash_register::RegisterError),
    /// From the device keys.
    #[error(transparent)]
    Exchange(#[from] yaddash_exchange::ExchangeError),
    /// A request that cannot be met; nothing was written.
    #[error("{0}; no pack was written")]
    Refused(String),
    /// A stored revision or attachment does not match its hash; no pack
    /// was written.
    #[error("{0}; no pack was written")]
    Damaged(String),
    /// Writing the pack failed; nothing was left behind.
    #[error("writing the evidence pack {path}: {problem}; no pack was written")]
    Write {
        /// The pack's path.
        path: String,
        /// What failed.
        problem: String,
    },
}

/// Result of evidence operations.
pub type Result<T> = std::result::Result<T, EvidenceError>;

/// What to put in a pack.
#[derive(Debug, Clone)]
pub struct Request {
    /// The records asked for (persons, cases, interviews).
    pub records: Vec<Uuid>,
    /// Also the records about them: a person's cases and the interviews
    /// about the person or those cases; a case's detainee and interviews.
    pub related: bool,
    /// Who the pack is for (the register's levels).
    pub level: Level,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The pack file.
    pub path: PathBuf,
    /// The folder inside it.
    pub folder: String,
    /// The level.
    pub level: Level,
    /// The records in the pack.
    pub records: Vec<Uuid>,
    /// Revisions whose body is in the pack.
    pub revisions: usize,
    /// Attachments in the pack.
    pub attachments: usize,
    /// Device-signed bundle manifests in the pack.
    pub manifests: usize,
    /// Revisions and attachments that came in a bundle imported before
    /// manifests were kept, or were saved at headquarters: vouched for by
    /// the exporting coordinator only.
    pub without_device_signature: usize,
    /// Related records and attachments the level left out.
    pub left_out: usize,
    /// When the pack was made (RFC 3339, UTC).
    pub exported_at: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// SHA-256 of the pack file (to note down when handing it over).
    pub sha256: String,
}

/// One file of the pack, before it is written.
enum Source {
    Bytes(Vec<u8>),
    Attachment(AttachmentInfo),
}

struct Planned {
    path: String,
    mode: u32,
    source: Source,
}

/// One check `verify.sh` makes beyond `SHA256SUMS`.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// The device's SSHSIG over a bundle manifest.
    ManifestSignature { bundle: String, device: Uuid },
    /// A file's SHA-256 is the one the bundle's manifest lists for `entry`.
    InManifest {
        bundle: String,
        entry: String,
        file: String,
    },
    /// A revision file's SHA-256 is the `body_sha256` in the record entry
    /// the device signed.
    RevisionInEntry { file: String, entry_file: String },
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::now_utc())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn to_json(v: &Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).unwrap_or_default();
    s.push(b'\n');
    s
}

fn kind_name(k: RecordKind) -> &'static str {
    k.as_str()
}

/// The file name extension of an attachment (from its original name, if a
/// short ASCII one), so that the file opens with the right program.
fn extension(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, ext))
            if (1..=8).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            format!(".{}", ext.to_ascii_lowercase())
        }
        _ => String::new(),
    }
}

/// Facts about one imported bundle for the custody trail.
fn bundle_facts(vault: &Vault, bundle_id: &str, internal: bool) -> Result<Value> {
    let Some(b) = vault.exchange().bundle_in(bundle_id)? else {
        return Ok(json!({ "bundle_id": bundle_id }));
    };
    let signed = vault.evidence().bundle_manifest(bundle_id)?.is_some();
    let mut v = json!({
        "bundle_id": b.bundle_id,
        "seq": b.seq,
        "created_at": b.created_at,
        "imported_at": b.imported_at,
        "imported_by": b.imported_by,
        "device_signed_manifest": if signed && internal {
            Value::String(format!("bundles/{bundle_id}/manifest.json"))
        } else {
            Value::Null
        },
    });
    if internal {
        v["device_id"] = json!(b.device_id);
    } else {
        // Which field device (and so which interviewer) is withheld below
        // the internal level, as the register withholds the interviewer.
        if let Some(o) = v.as_object_mut() {
            o.remove("imported_by");
            o.remove("bundle_id");
        }
    }
    if !signed && internal {
        v["note"] = json!(
            "imported before Yaddash kept bundle manifests: the device's signature cannot be shown"
        );
    }
    Ok(v)
}

/// Makes an evidence pack. Refuses a field vault, an unknown record, and a
/// record the level does not allow; writes the pack whole or not at all.
pub fn export(
    vault: &mut Vault,
    request: &Request,
    out: &Path,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Summary> {
    yaddash_register::require_coordinator(vault)?;
    if request.records.is_empty() {
        return Err(EvidenceError::Refused(
            "no record given (--record ID)".into(),
        ));
    }
    let keys = yaddash_exchange::device_keys(vault)?;
    let level = request.level;
    let internal = level == Level::Internal;
    let at = now();
    let exported_at = rfc3339(at);
    let coordinator = vault.device_id();
    let coordinator_key = keys.public_identity(coordinator).signing_key;
    let coordinator_fpr = keys.signing_fingerprint();
    let hq_id = vault
        .setting(yaddash_vault::Setting::HqId)?
        .unwrap_or_default();

    let selection = view::select(vault, &request.records, request.related, level)?;
    let mut left_out = selection.left_out;

    let mut files: Vec<Planned> = Vec::new();
    let mut checks: Vec<Check> = Vec::new();
    let mut bundles: BTreeMap<String, Uuid> = BTreeMap::new(); // bundle -> device
    let mut bundle_entries: BTreeSet<(String, String)> = BTreeSet::new();
    let mut custody: Vec<Value> = Vec::new();
    let mut pdf: Vec<DocBlock> = Vec::new();
    let mut revisions_in = 0usize;
    let mut attachments_in = 0usize;
    let mut unsigned = 0usize;

    for sel in &selection.records {
        let stored: &StoredRecord = &sel.stored;
        let id = stored.id;
        let kind = stored.record.kind();
        let mut events: Vec<Value> = Vec::new();
        let provenance: BTreeMap<i64, (String, i64, String)> = vault
            .exchange()
            .provenance(id)?
            .into_iter()
            .map(|(rev, dev, src, b)| (rev, (dev, src, b)))
            .collect();
        let history = vault.history(id)?;
        let bodies: BTreeMap<i64, String> =
            vault.evidence().revision_bodies(id)?.into_iter().collect();
        let mut revs_json = Vec::new();
        for r in &history {
            let came = provenance.get(&r.rev);
            let bundle = match came {
                Some((_, _, b)) => Some(bundle_facts(vault, b, internal)?),
                None => None,
            };
            if internal {
                let body = bodies.get(&r.rev).ok_or_else(|| {
                    EvidenceError::Vault(yaddash_vault::VaultError::Corrupt(
                        "a revision's body is missing".into(),
                    ))
                })?;
                if hex::encode(Sha256::digest(body.as_bytes())) != r.body_sha256 {
                    return Err(EvidenceError::Damaged(format!(
                        "revision {} of record {id} does not match its SHA-256",
                        r.rev
                    )));
                }
                let file = format!("revisions/{id}/{}.json", r.rev);
                files.push(Planned {
                    path: file.clone(),
                    mode: 0o644,
                    source: Source::Bytes(body.as_bytes().to_vec()),
                });
                revisions_in += 1;
                let mut signed = false;
                if let Some((dev, _, b)) = came
                    && let Some(dev) = Uuid::parse_str(dev).ok()
                    && vault.evidence().bundle_manifest(b)?.is_some()
                {
                    let entry = format!("records/{id}.json");
                    if vault.evidence().bundle_entry(b, &entry)?.is_some() {
                        bundles.insert(b.clone(), dev);
                        bundle_entries.insert((b.clone(), entry.clone()));
                        checks.push(Check::RevisionInEntry {
                            file: file.clone(),
                            entry_file: format!("bundles/{b}/{entry}"),
                        });
                        signed = true;
                    }
                }
                if !signed {
                    unsigned += 1;
                }
                revs_json.push(json!({
                    "rev": r.rev,
                    "file": file,
                    "body_sha256": r.body_sha256,
                    "saved_by": r.author,
                    "saved_at": r.at,
                    "came_in": bundle.clone(),
                }));
                events.push(json!({
                    "event": if came.is_some() { "saved on a field device" } else { "saved at headquarters" },
                    "revision": r.rev,
                    "body_sha256": r.body_sha256,
                    "device": r.author,
                    "at": r.at,
                    "bundle": bundle,
                }));
            } else {
                revs_json
                    .push(json!({ "rev": r.rev, "saved_at": r.at, "came_in": bundle.clone() }));
                events.push(json!({
                    "event": if came.is_some() { "saved on a field device" } else { "saved at headquarters" },
                    "revision": r.rev,
                    "at": r.at,
                    "bundle": bundle,
                }));
            }
        }

        let mut atts_json = Vec::new();
        for a in vault.attachments_of(id)? {
            if !sel.attachments_allowed {
                left_out += 1;
                continue;
            }
            let file = format!("attachments/{}{}", a.id, extension(&a.name));
            let came = vault.evidence().attachment_provenance(a.id)?;
            let bundle = match &came {
                Some((_, b)) => Some(bundle_facts(vault, b, internal)?),
                None => None,
            };
            let mut signed = false;
            if internal
                && let Some((dev, b)) = &came
                && let Ok(dev) = Uuid::parse_str(dev)
                && vault.evidence().bundle_manifest(b)?.is_some()
            {
                bundles.insert(b.clone(), dev);
                checks.push(Check::InManifest {
                    bundle: b.clone(),
                    entry: format!("attachments/{}", a.id),
                    file: file.clone(),
                });
                let meta = format!("attachments/{}.json", a.id);
                if vault.evidence().bundle_entry(b, &meta)?.is_some() {
                    bundle_entries.insert((b.clone(), meta));
                }
                signed = true;
            }
            if !signed {
                unsigned += 1;
            }
            let mut aj = json!({
                "id": a.id,
                "file": file,
                "media_type": a.media_type,
                "size": a.size,
                "sha256": a.sha256,
                "captured_at": a.captured_at,
                "came_in": bundle,
            });
            if internal {
                aj["name"] = json!(a.name);
                aj["captured_by"] = json!(a.captured_by);
            }
            events.push(json!({
                "event": "attachment captured",
                "attachment": a.id,
                "sha256": a.sha256,
                "device": if internal { json!(a.captured_by) } else { Value::Null },
                "at": a.captured_at,
                "bundle": aj["came_in"].clone(),
            }));
            atts_json.push(aj);
            files.push(Planned {
                path: file,
                mode: 0o644,
                source: Source::Attachment(a),
            });
            attachments_in += 1;
        }

        let mut record = json!({
            "id": id,
            "kind": kind_name(kind),
            "level": level.as_str(),
            "body": sel.view,
            "revisions": revs_json,
            "attachments": atts_json,
        });
        if internal {
            record["current_rev"] = json!(stored.rev);
            record["body_sha256"] = json!(stored.body_sha256);
            record["created_at"] = json!(stored.created_at);
            record["created_by"] = json!(stored.created_by);
        } else {
            record["withheld"] = json!(sel.withheld);
        }
        pdf.extend(view::pdf_blocks(&record));
        files.push(Planned {
            path: format!("records/{id}.json"),
            mode: 0o644,
            source: Source::Bytes(to_json(&record)),
        });
        events.push(json!({
            "event": "exported in this pack",
            "by": coordinator,
            "at": exported_at,
            "signature": "SHA256SUMS.sig",
        }));
        custody.push(json!({ "record": id, "kind": kind_name(kind), "events": events }));
    }

    // The bundles: signed manifests and the entries the pack relies on.
    let mut devices: BTreeMap<Uuid, String> = BTreeMap::new();
    for (b, dev) in &bundles {
        let Some((manifest, sig)) = vault.evidence().bundle_manifest(b)? else {
            continue;
        };
        let key = vault
            .exchange()
            .device(*dev)?
            .map(|d| d.signing_key)
            .ok_or_else(|| EvidenceError::Refused(format!("device {dev} is not enrolled here")))?;
        devices.insert(*dev, key);
        files.push(Planned {
            path: format!("bundles/{b}/manifest.json"),
            mode: 0o644,
            source: Source::Bytes(manifest),
        });
        files.push(Planned {
            path: format!("bundles/{b}/manifest.json.sig"),
            mode: 0o644,
            source: Source::Bytes(sig),
        });
        checks.insert(
            0,
            Check::ManifestSignature {
                bundle: b.clone(),
                device: *dev,
            },
        );
    }
    for (b, entry) in &bundle_entries {
        if let Some(bytes) = vault.evidence().bundle_entry(b, entry)? {
            let file = format!("bundles/{b}/{entry}");
            checks.push(Check::InManifest {
                bundle: b.clone(),
                entry: entry.clone(),
                file: file.clone(),
            });
            files.push(Planned {
                path: file,
                mode: 0o644,
                source: Source::Bytes(bytes),
            });
        }
    }
    // Manifest signatures first, then entries, then revisions.
    checks.sort_by_key(|c| match c {
        Check::ManifestSignature { .. } => 0,
        Check::InManifest { .. } => 1,
        Check::RevisionInEntry { .. } => 2,
    });

    let mut signers = format!(
        "{coordinator} namespaces=\"{NAMESPACE_EVIDENCE}\" {}\n",
        key_only(&coordinator_key)
    );
    let mut device_list = Vec::new();
    for (dev, key) in &devices {
        signers.push_str(&format!(
            "{dev} namespaces=\"{NAMESPACE_MANIFEST}\" {}\n",
            key_only(key)
        ));
        let label = if internal {
            vault.exchange().device(*dev)?.and_then(|d| d.label)
        } else {
            None
        };
        device_list.push(json!({
            "device_id": dev,
            "fingerprint": signing_key_fingerprint(key).unwrap_or_default(),
            "label": label,
        }));
    }
    files.push(Planned {
        path: "allowed_signers".into(),
        mode: 0o644,
        source: Source::Bytes(signers.into_bytes()),
    });

    let pack = json!({
        "format": FORMAT,
        "version": VERSION,
        "level": level.as_str(),
        "exported_at": exported_at,
        "exported_by": {
            "device_id": coordinator,
            "signing_key": key_only(&coordinator_key),
            "fingerprint": coordinator_fpr,
        },
        "hq_id": hq_id,
        "records": selection.records.iter().map(|s| s.stored.id).collect::<Vec<_>>(),
        "devices": device_list,
        "left_out_at_this_level": left_out,
        "without_device_signature": unsigned,
    });
    files.push(Planned {
        path: "pack.json".into(),
        mode: 0o644,
        source: Source::Bytes(to_json(&pack)),
    });
    files.push(Planned {
        path: "custody.json".into(),
        mode: 0o644,
        source: Source::Bytes(to_json(
            &json!({ "format": FORMAT, "version": VERSION, "custody": custody }),
        )),
    });

    let mut intro = vec![
        DocBlock::Text(format!(
            "Level: {}. Exported at {exported_at} by coordinator device {coordinator} \
             (signing key {coordinator_fpr}) of headquarters {hq_id}.",
            level.as_str()
        )),
        DocBlock::Text(format!(
            "Records: {}. Revisions with their bodies: {revisions_in}. Attachments: {attachments_in}. \
             Device-signed bundle manifests: {}. Left out at this level: {left_out}.",
            selection.records.len(),
            bundles.len()
        )),
        DocBlock::Text(
            "Every file of this pack is listed with its SHA-256 in SHA256SUMS, signed by the \
             exporting coordinator (SHA256SUMS.sig). VERIFY.md explains how to check the pack \
             with sha256sum and ssh-keygen only; verify.sh does it."
                .into(),
        ),
    ];
    if !internal {
        intro.push(DocBlock::Text(
            "Below the internal level records are redacted as the register's exports are \
             (no interviewer, place, notes, or identity of a speaker who did not consent to be \
             named), and the device signatures are left out: their hashes would let a reader \
             test guesses of what was withheld."
                .into(),
        ));
    }
    intro.append(&mut pdf);
    let summary_pdf = document_pdf(
        &format!("Evidence pack · level: {}", level.as_str()),
        &intro,
    )?;
    files.push(Planned {
        path: "summary.pdf".into(),
        mode: 0o644,
        source: Source::Bytes(summary_pdf),
    });
    files.push(Planned {
        path: "VERIFY.md".into(),
        mode: 0o644,
        source: Source::Bytes(
            script::verify_md(level, &coordinator, &coordinator_fpr, &devices).into_bytes(),
        ),
    });
    files.push(Planned {
        path: "verify.sh".into(),
        mode: 0o755,
        source: Source::Bytes(script::verify_sh(&coordinator, &checks).into_bytes()),
    });

    let folder = format!(
        "evidence-{}",
        exported_at
            .replace([':', '-'], "")
            .trim_end_matches('Z')
            .to_string()
            + "Z"
    );
    let written = write_pack(vault, out, &folder, files, &keys, at, progress)?;
    Ok(Summary {
        path: out.to_path_buf(),
        folder,
        level,
        records: selection.records.iter().map(|s| s.stored.id).collect(),
        revisions: revisions_in,
        attachments: attachments_in,
        manifests: bundles.len(),
        without_device_signature: unsigned,
        left_out,
        exported_at,
        size: written.0,
        sha256: written.1,
    })
}

/// `ssh-ed25519 AAAA…` without the comment.
fn key_only(line: &str) -> String {
    line.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes the ZIP beside `out`, syncs it and renames it into place.
fn write_pack(
    vault: &Vault,
    out: &Path,
    folder: &str,
    files: Vec<Planned>,
    keys: &yaddash_bundle::DeviceKeys,
    at: OffsetDateTime,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(u64, String)> {
    let werr = |problem: String| EvidenceError::Write {
        path: out.display().to_string(),
        problem,
    };
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", yaddash_os::random_name()));
    let res = (|| -> Result<(u64, String)> {
        let f = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| werr(e.to_string()))?;
        let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, f), at);
        let mut sums = String::new();
        let mut done_before = 0u64;
        let mut files = files;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        for p in &files {
            let name = format!("{folder}/{}", p.path);
            let mut pr = |n: u64| progress(done_before + n);
            let sha = match &p.source {
                Source::Bytes(b) => zip.add(&name, p.mode, b.len() as u64, &mut &b[..], &mut pr),
                Source::Attachment(info) => {
                    let (_, mut reader) = vault.attachment_reader(info.id)?;
                    let sha = zip.add(
                        &name,
                        p.mode,
                        info.size,
                        &mut reader as &mut dyn Read,
                        &mut pr,
                    );
                    if let Ok(h) = &sha
                        && hex::encode(h) != info.sha256
                    {
                        return Err(EvidenceError::Damaged(format!(
                            "attachment {} does not match its capture hash",
                            info.id
                        )));
                    }
                    sha
                }
            }
            .map_err(|e| werr(e.to_string()))?;
            done_before += match &p.source {
                Source::Bytes(b) => b.len() as u64,
                Source::Attachment(i) => i.size,
            };
            sums.push_str(&format!("{}  {}\n", hex::encode(sha), p.path));
        }
        let sig = sshsig::sign_bytes(keys, NAMESPACE_EVIDENCE, sums.as_bytes())
            .map_err(|e| werr(e.to_string()))?;
        let mut none = |_| true;
        zip.add(
            &format!("{folder}/SHA256SUMS"),
            0o644,
            sums.len() as u64,
            &mut sums.as_bytes(),
            &mut none,
        )
        .map_err(|e| werr(e.to_string()))?;
        zip.add(
            &format!("{folder}/SHA256SUMS.sig"),
            0o644,
            sig.len() as u64,
            &mut sig.as_bytes(),
            &mut none,
        )
        .map_err(|e| werr(e.to_string()))?;
        let w = zip.finish().map_err(|e| werr(e.to_string()))?;
        let f = w.into_inner().map_err(|e| werr(e.to_string()))?;
        f.sync_all().map_err(|e| werr(e.to_string()))?;
        drop(f);
        let mut hasher = Sha256::new();
        let mut f = fs::File::open(&tmp).map_err(|e| werr(e.to_string()))?;
        let size = io::copy(&mut f, &mut hasher).map_err(|e| werr(e.to_string()))?;
        fs::rename(&tmp, out).map_err(|e| werr(e.to_string()))?;
        yaddash_os::sync_dir(dir).map_err(|e| werr(e.to_string()))?;
        Ok((size, hex::encode(hasher.finalize())))
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// The record kinds, for callers that show them.
pub fn kind_of(record: &Record) -> RecordKind {
    record.kind()
}
