//! Travel mode: before a border or a checkpoint, send everything, wait for
//! headquarters' import receipts, then remove from the laptop every record
//! and attachment headquarters confirmed holding, and say exactly what
//! remains and why.
//!
//! A record is removed only if **every** revision of it, and every one of
//! its attachments, travelled in bundles for which this vault holds
//! - a coordinator's import receipt that verifies against a coordinator key
//!   in the trust file, names this device, the bundle's id and sequence
//!   number, and lists the record; and
//! - if the bundle went through the HQ server, the server's hq-received
//!   receipt, verifying against the server key.
//!
//! Receipts are verified again here, from the stored text, right before
//! removal: a flag in the database alone never removes anything. Records
//! re-issued by headquarters (imported from a coordinator-signed bundle,
//! with provenance) count as held by headquarters.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use uuid::Uuid;
use yaddash_bundle::{ReceiptKind, verify_receipt};
use yaddash_model::RecordKind;
use yaddash_vault::{Compacted, Setting, Vault};

use crate::{
    Event, OutboxError, Result, Session, State, entries, fetch_receipts, now_rfc3339, require_field,
};

/// Why a record stays on the laptop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(rename = "RemainingReason")]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Reason {
    /// A revision was never put in a bundle (saved or edited since the last sync).
    NotSent,
    /// Its bundle has no import receipt from headquarters yet.
    AwaitingImport {
        /// The bundle.
        seq: u64,
    },
    /// Its bundle's receipts do not verify, or do not match the bundle.
    ReceiptInvalid {
        /// The bundle.
        seq: u64,
        /// What is wrong.
        problem: String,
    },
    /// The import receipt does not list this record.
    NotInReceipt {
        /// The bundle.
        seq: u64,
    },
    /// One of its attachments is not confirmed.
    AttachmentNotConfirmed,
}

/// A record that stays.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Remaining {
    /// The record.
    pub id: Uuid,
    /// Its kind.
    pub kind: RecordKind,
    /// Why.
    #[serde(flatten)]
    pub reason: Reason,
}

/// What removal would do now.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
#[ts(rename = "TravelPlan")]
pub struct Plan {
    /// Records headquarters confirmed holding.
    pub removable: Vec<Uuid>,
    /// Attachments that go with them.
    pub removable_attachments: u64,
    /// Records that stay, with the reason.
    pub remaining: Vec<Remaining>,
    /// Bundles with verified import receipts.
    pub confirmed_bundles: Vec<u64>,
}

/// Bundles whose receipts verify (seq → records listed in the import
/// receipt), and bundles whose receipts were refused (seq → why).
type Verified = (HashMap<u64, HashSet<Uuid>>, HashMap<u64, String>);

fn confirmed_bundles(vault: &Vault) -> Result<Verified> {
    let trust = yaddash_exchange::trust_file(vault)?;
    let server_key = vault.setting(Setting::HqServerKey)?;
    let mut ok = HashMap::new();
    let mut bad = HashMap::new();
    for b in vault.exchange().bundles_out()? {
        if b.imported_at.is_none() {
            continue;
        }
        let check = || -> std::result::Result<HashSet<Uuid>, String> {
            let text = vault
                .exchange()
                .import_receipt(&b.bundle_id)
                .map_err(|e| e.to_string())?
                .ok_or(
                    "the import receipt is not kept in this vault; import the receipt file again",
                )?;
            let r = trust
                .coordinators
                .iter()
                .find_map(|c| verify_receipt(&text, &c.signing_key).ok())
                .ok_or("the import receipt is not signed by a trusted coordinator")?;
            if r.kind != ReceiptKind::CoordinatorImported
                || r.device_id != vault.device_id()
                || r.bundle_id.to_string() != b.bundle_id
                || r.seq != b.seq
            {
                return Err("the import receipt is for another bundle or device".into());
            }
            if b.hq_received_at.is_some() {
                let key = server_key
                    .as_deref()
                    .ok_or("the HQ server's key is not known")?;
                let text = vault
                    .exchange()
                    .hq_receipt(&b.bundle_id)
                    .map_err(|e| e.to_string())?
                    .ok_or("the server's receipt is not kept in this vault")?;
                let s = verify_receipt(&text, key)
                    .map_err(|e| format!("the server's receipt does not verify: {e}"))?;
                if s.kind != ReceiptKind::HqReceived
                    || s.device_id != vault.device_id()
                    || s.bundle_id.to_string() != b.bundle_id
                {
                    return Err("the server's receipt is for another bundle or device".into());
                }
            }
            Ok(r.record_ids.into_iter().collect())
        };
        match check() {
            Ok(ids) => {
                ok.insert(b.seq, ids);
            }
            Err(problem) => {
                bad.insert(b.seq, problem);
            }
        }
    }
    Ok((ok, bad))
}

/// What removal would do now, after verifying every stored receipt.
pub fn plan(vault: &Vault) -> Result<Plan> {
    require_field(vault)?;
    let (ok, bad) = confirmed_bundles(vault)?;
    // Per record: the first reason it must stay, if any.
    let mut records: BTreeMap<Uuid, (RecordKind, Option<Reason>)> = BTreeMap::new();
    for c in vault.travel().revision_coverage()? {
        let entry = records.entry(c.record_id).or_insert((c.kind, None));
        if entry.1.is_some() {
            continue;
        }
        entry.1 = match c.seq {
            // Re-issued by headquarters: it holds it by definition.
            _ if c.from_hq => None,
            None => Some(Reason::NotSent),
            Some(seq) => match (ok.get(&seq), bad.get(&seq)) {
                (Some(ids), _) if ids.contains(&c.record_id) => None,
                (Some(_), _) => Some(Reason::NotInReceipt { seq }),
                (None, Some(problem)) => Some(Reason::ReceiptInvalid {
                    seq,
                    problem: problem.clone(),
                }),
                (None, None) => Some(Reason::AwaitingImport { seq }),
            },
        };
    }
    let mut attachments_of: HashMap<Uuid, u64> = HashMap::new();
    for a in vault.travel().attachment_coverage()? {
        let confirmed = a.from_hq || a.seq.is_some_and(|s| ok.contains_key(&s));
        if let Some(entry) = records.get_mut(&a.record_id) {
            if !confirmed && entry.1.is_none() {
                entry.1 = Some(Reason::AttachmentNotConfirmed);
            }
            *attachments_of.entry(a.record_id).or_default() += 1;
        }
    }
    let mut plan = Plan {
        confirmed_bundles: {
            let mut v: Vec<u64> = ok.keys().copied().collect();
            v.sort_unstable();
            v
        },
        ..Plan::default()
    };
    for (id, (kind, reason)) in records {
        match reason {
            None => {
                plan.removable_attachments += attachments_of.get(&id).copied().unwrap_or(0);
                plan.removable.push(id);
            }
            Some(reason) => plan.remaining.push(Remaining { id, kind, reason }),
        }
    }
    Ok(plan)
}

/// Options for [`prepare`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How long to wait for import receipts after sending.
    pub wait: Duration,
    /// How often to ask the server for receipts while waiting.
    pub poll: Duration,
}

/// What `travel prepare` did.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
#[ts(rename = "TravelReport")]
pub struct Report {
    /// Whether it talked to the server (false: offline, only what was
    /// already confirmed was removed).
    pub sent: bool,
    /// Bundles made by this run.
    pub exported: Option<u64>,
    /// Records removed.
    pub removed_records: u64,
    /// Attachments removed.
    pub removed_attachments: u64,
    /// Attachment bytes overwritten and unlinked.
    pub removed_attachment_bytes: u64,
    /// Records that remain, and why.
    pub remaining: Vec<Remaining>,
    /// Bundles still waiting (not imported by headquarters).
    pub unconfirmed_bundles: Vec<u64>,
    /// Free pages in the database after VACUUM (0 expected).
    pub free_pages: i64,
    /// Write-ahead log bytes after the checkpoint (0 expected).
    pub wal_bytes: u64,
    /// Receipts refused while fetching.
    pub receipt_problems: Vec<String>,
    /// When.
    pub at: String,
}

fn unconfirmed(vault: &Vault) -> Result<Vec<u64>> {
    Ok(entries(vault)?
        .into_iter()
        .filter(|e| e.state != State::Imported)
        .map(|e| e.seq)
        .collect())
}

/// Travel mode. With a session: export what is new, upload the outbox,
/// wait up to `opts.wait` for headquarters' import receipts. Then (with or
/// without a session) remove what is confirmed, compact the database and
/// report what remains and why.
pub fn prepare(
    vault: &mut Vault,
    session: Option<&Session>,
    opts: &Options,
    on: &mut dyn FnMut(&Event),
) -> Result<Report> {
    require_field(vault)?;
    let mut report = Report::default();
    if let Some(s) = session {
        report.sent = true;
        let r = crate::sync(vault, s, on)?;
        report.exported = r.exported;
        report.receipt_problems = r.receipt_problems;
        let start = Instant::now();
        loop {
            let left = unconfirmed(vault)?;
            if left.is_empty() || start.elapsed() >= opts.wait {
                break;
            }
            on(&Event::Waiting {
                unconfirmed: left.len(),
                waited_secs: start.elapsed().as_secs(),
            });
            let step = opts.poll.max(Duration::from_millis(200));
            let until = Instant::now() + step;
            while Instant::now() < until {
                if s.cancel.load(std::sync::atomic::Ordering::SeqCst) {
                    return Err(OutboxError::Sync(yaddash_sync::SyncError::Cancelled));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let (_, problems) = fetch_receipts(vault, s)?;
            report.receipt_problems.extend(problems);
        }
    }
    let plan = plan(vault)?;
    let removed = vault
        .travel_mut()
        .remove_records(&plan.removable, &mut |done, total| {
            on(&Event::Removing { done, total })
        })?;
    let Compacted {
        free_pages,
        wal_bytes,
        ..
    } = vault.travel_mut().compact()?;
    report.removed_records = removed.records;
    report.removed_attachments = removed.attachments;
    report.removed_attachment_bytes = removed.attachment_bytes;
    report.remaining = plan.remaining;
    report.unconfirmed_bundles = unconfirmed(vault)?;
    report.free_pages = free_pages;
    report.wal_bytes = wal_bytes;
    report.at = now_rfc3339();
    let summary = serde_json::json!({
        "at": report.at,
        "removed_records": report.removed_records,
        "removed_attachments": report.removed_attachments,
        "remaining": report.remaining.len(),
    });
    vault.set_setting(Setting::TravelLast, &summary.to_string())?;
    Ok(report)
}

/// What `travel status` shows.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "TravelStatus")]
pub struct Status {
    /// What removal would do now.
    pub plan: Plan,
    /// Bundles not yet imported by headquarters.
    pub unconfirmed_bundles: Vec<u64>,
    /// The last `travel prepare`, if any.
    #[ts(
        type = "{ at: string; removed_records: number; removed_attachments: number; remaining: number } | null"
    )]
    pub last_prepare: Option<serde_json::Value>,
}

/// The travel status, without changing anything.
pub fn status(vault: &Vault) -> Result<Status> {
    Ok(Status {
        plan: plan(vault)?,
        unconfirmed_bundles: unconfirmed(vault)?,
        last_prepare: vault
            .setting(Setting::TravelLast)?
            .and_then(|s| serde_json::from_str(&s).ok()),
    })
}
