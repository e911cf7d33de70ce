//! What the vault keeps about bundles: what was exported and what
//! headquarters confirmed (field), which devices are enrolled, what was
//! imported from where (coordinator). The bundle format itself lives in
//! `yaddash-bundle`; the orchestration in `yaddash-exchange`.

use std::borrow::{Borrow, BorrowMut};

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use yaddash_model::RecordKind;

use crate::error::{Result, VaultError};
use crate::schema::Migration;
use crate::{
    AttachmentInfo, StagedFile, Vault, index, insert_attachment, now, parse_body, sha256_hex,
    unindex,
};

/// The exchange's tables (devices, trust, bundles out and in, provenance,
/// revocation evidence, overrides, conflicts); versions in the one sequence
/// of `schema.rs`.
pub(crate) const MIGRATIONS: &[Migration] = &[
    // 2: bundles, devices, trust, provenance.
    Migration {
        version: 2,
        sql: r#"
    -- Coordinator: devices enrolled to send bundles.
    CREATE TABLE devices (
        device_id     TEXT PRIMARY KEY,
        signing_key   TEXT NOT NULL,
        age_recipient TEXT NOT NULL,
        label         TEXT,
        enrolled_at   TEXT NOT NULL,
        revoked_from  TEXT
    ) STRICT;

    -- Field: the coordinators' trust file (whom to encrypt for, whom to trust).
    CREATE TABLE trust (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        hq_id       TEXT NOT NULL,
        document    TEXT NOT NULL,
        imported_at TEXT NOT NULL
    ) STRICT;

    -- Field: bundles this device made, and what headquarters confirmed.
    CREATE TABLE bundles_out (
        seq            INTEGER PRIMARY KEY,
        bundle_id      TEXT NOT NULL UNIQUE,
        prev_bundle_id TEXT,
        created_at     TEXT NOT NULL,
        size           INTEGER NOT NULL,
        records        INTEGER NOT NULL,
        attachments    INTEGER NOT NULL,
        hq_received_at TEXT,
        imported_at    TEXT
    ) STRICT;
    CREATE TABLE exported_revisions (
        record_id TEXT NOT NULL,
        rev       INTEGER NOT NULL,
        seq       INTEGER NOT NULL REFERENCES bundles_out (seq),
        PRIMARY KEY (record_id, rev)
    ) STRICT;
    CREATE TABLE exported_attachments (
        attachment_id TEXT PRIMARY KEY,
        seq           INTEGER NOT NULL REFERENCES bundles_out (seq)
    ) STRICT;

    -- Coordinator: bundles imported, with who imported them and when.
    CREATE TABLE bundles_in (
        bundle_id      TEXT PRIMARY KEY,
        device_id      TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        prev_bundle_id TEXT,
        created_at     TEXT NOT NULL,
        imported_at    TEXT NOT NULL,
        imported_by    TEXT NOT NULL,
        records        INTEGER NOT NULL,
        attachments    INTEGER NOT NULL,
        UNIQUE (device_id, seq)
    ) STRICT;

    -- Coordinator: where each imported revision came from.
    CREATE TABLE provenance (
        record_id  TEXT NOT NULL,
        rev        INTEGER NOT NULL,
        device_id  TEXT NOT NULL,
        source_rev INTEGER NOT NULL,
        bundle_id  TEXT NOT NULL REFERENCES bundles_in (bundle_id),
        PRIMARY KEY (record_id, rev)
    ) STRICT;
    CREATE TABLE attachment_provenance (
        attachment_id TEXT PRIMARY KEY,
        device_id     TEXT NOT NULL,
        bundle_id     TEXT NOT NULL REFERENCES bundles_in (bundle_id)
    ) STRICT;
    "#,
    },
    // 6: revocation evidence, recorded overrides, conflicting revisions.
    Migration {
        version: 6,
        sql: r#"
    -- Coordinator: what was known when a device was revoked. A bundle the
    -- device makes later can carry any date (its holder sets the clock), so
    -- a revocation rests on what this vault held: the highest bundle number
    -- (and its id) imported from the device, or what the HQ server said it
    -- held. `revoked_at` is this vault's own time of the revocation.
    ALTER TABLE devices ADD COLUMN revoked_at TEXT;
    ALTER TABLE devices ADD COLUMN held_through_seq INTEGER;
    ALTER TABLE devices ADD COLUMN held_through_bundle TEXT;
    -- A bundle the HQ server said it held when it revoked the device, not
    -- yet imported here (the server cannot read its number).
    ALTER TABLE devices ADD COLUMN server_held_bundle TEXT;
    -- Devices revoked before this version: the evidence is what was here.
    UPDATE devices SET
        held_through_seq = COALESCE(
            (SELECT MAX(b.seq) FROM bundles_in b WHERE b.device_id = devices.device_id), 0),
        held_through_bundle = (SELECT b.bundle_id FROM bundles_in b
            WHERE b.device_id = devices.device_id ORDER BY b.seq DESC LIMIT 1)
    WHERE revoked_from IS NOT NULL;

    -- Coordinator: a bundle accepted although nothing proved it was made
    -- before its device's revocation: who decided, when and why.
    CREATE TABLE import_overrides (
        bundle_id TEXT PRIMARY KEY REFERENCES bundles_in (bundle_id),
        reason    TEXT NOT NULL,
        at        TEXT NOT NULL,
        by        TEXT NOT NULL
    ) STRICT;

    -- Coordinator: an imported revision of a record whose current body is
    -- another device's. It is kept (in `revisions`) but does not become
    -- current until a coordinator accepts it.
    CREATE TABLE revision_conflicts (
        record_id   TEXT NOT NULL,
        rev         INTEGER NOT NULL,
        device_id   TEXT NOT NULL,
        bundle_id   TEXT NOT NULL,
        accepted_at TEXT,
        accepted_by TEXT,
        PRIMARY KEY (record_id, rev)
    ) STRICT;
    "#,
    },
    // 9: per-bundle facts as columns instead of `meta` rows.
    Migration {
        version: 9,
        sql: r#"
    -- Field: what the outbox had uploaded of a bundle (bytes, for a resumed
    -- or interrupted upload), the HQ server's signed receipt for it and the
    -- coordinator's signed import receipt. Before version 9 these were the
    -- `meta` rows `outbox_sent:{seq}`, `hq_receipt:{bundle_id}` and
    -- `import_receipt:{bundle_id}`; rows naming a bundle this vault has no
    -- row for are left in `meta` as they were.
    ALTER TABLE bundles_out ADD COLUMN sent_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE bundles_out ADD COLUMN hq_receipt TEXT;
    ALTER TABLE bundles_out ADD COLUMN import_receipt TEXT;
    UPDATE bundles_out SET
        sent_bytes = COALESCE((SELECT CAST(m.value AS INTEGER) FROM meta m
            WHERE m.key = 'outbox_sent:' || bundles_out.seq), 0),
        hq_receipt = (SELECT m.value FROM meta m
            WHERE m.key = 'hq_receipt:' || bundles_out.bundle_id),
        import_receipt = (SELECT m.value FROM meta m
            WHERE m.key = 'import_receipt:' || bundles_out.bundle_id);
    DELETE FROM meta WHERE key IN (
        SELECT 'outbox_sent:' || seq FROM bundles_out
        UNION ALL SELECT 'hq_receipt:' || bundle_id FROM bundles_out
        UNION ALL SELECT 'import_receipt:' || bundle_id FROM bundles_out);
    "#,
    },
];

/// One revision as it travels in a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRow {
    /// Revision number on the device that made it.
    pub rev: i64,
    /// The body (canonical JSON of the record).
    pub body: String,
    /// SHA-256 of `body`, fixed when saved.
    pub body_sha256: String,
    /// The device that saved it.
    pub author: String,
    /// When (RFC 3339).
    pub at: String,
}

/// A record's revisions not yet sent (field) or received (coordinator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordChanges {
    /// Record id.
    pub id: Uuid,
    /// Its kind.
    pub kind: RecordKind,
    /// When it was first saved, and by which device.
    pub created_at: String,
    /// The device that first saved it.
    pub created_by: String,
    /// The revisions, oldest first.
    pub revisions: Vec<RevisionRow>,
}

/// Everything new or changed since the last bundle.
#[derive(Debug, Clone, Default)]
pub struct PendingExport {
    /// Records with revisions not yet in a bundle.
    pub records: Vec<RecordChanges>,
    /// Attachments not yet in a bundle.
    pub attachments: Vec<AttachmentInfo>,
}

impl PendingExport {
    /// Nothing to send.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.attachments.is_empty()
    }
}

/// A bundle this device made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleOut {
    /// Per-device sequence number, from 1.
    pub seq: u64,
    /// Bundle id (SHA-256 of its payload).
    pub bundle_id: String,
    /// The previous bundle's id.
    pub prev_bundle_id: Option<String>,
    /// When it was made.
    pub created_at: String,
    /// File size.
    pub size: u64,
    /// Records carried.
    pub records: u64,
    /// Attachments carried.
    pub attachments: u64,
    /// When the HQ server confirmed receiving it.
    pub hq_received_at: Option<String>,
    /// When a coordinator confirmed importing it.
    pub imported_at: Option<String>,
}

/// A bundle a coordinator imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleIn {
    /// Bundle id.
    pub bundle_id: String,
    /// Sending device.
    pub device_id: Uuid,
    /// Its sequence number.
    pub seq: u64,
    /// The previous bundle's id, as the device said.
    pub prev_bundle_id: Option<String>,
    /// When the device made it.
    pub created_at: String,
    /// When it was imported here.
    pub imported_at: String,
    /// The coordinator device that imported it.
    pub imported_by: String,
    /// Records it carried.
    pub records: u64,
    /// Attachments it carried.
    pub attachments: u64,
    /// What to keep as evidence (a coordinator's import; `None` when read
    /// back from the vault).
    #[serde(skip)]
    pub evidence: Option<crate::evidence::BundleEvidence>,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRow {
    /// Device id.
    pub device_id: Uuid,
    /// OpenSSH Ed25519 public key line.
    pub signing_key: String,
    /// age X25519 recipient.
    pub age_recipient: String,
    /// A label for people.
    pub label: Option<String>,
    /// When enrolled.
    pub enrolled_at: String,
    /// Bundles signed at or after this time are refused (RFC 3339).
    pub revoked_from: Option<String>,
    /// When this vault recorded the revocation (its own clock, RFC 3339).
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// The highest bundle number held from the device when it was revoked:
    /// a later number is refused unless other evidence shows the bundle
    /// existed before the revocation.
    #[serde(default)]
    pub held_through_seq: Option<u64>,
    /// The id of that bundle, when known.
    #[serde(default)]
    pub held_through_bundle: Option<String>,
    /// A bundle the HQ server said it held when it revoked the device, not
    /// imported here yet.
    #[serde(default)]
    pub server_held_bundle: Option<String>,
}

/// How an import decides which body of a record is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurrentRule {
    /// A coordinator importing a field device's bundle: a revision becomes
    /// current only over the sender's own current body (by its time among
    /// the sender's revisions); over another device's body it is kept as a
    /// conflicting revision for a coordinator to accept.
    SenderOwnsItsRecords,
    /// A field vault importing its coordinator's re-issue: the latest time
    /// wins (the coordinator is trusted and relays every device's work).
    LatestTime,
}

/// A coordinator's recorded decision to import a bundle that nothing
/// proved was made before its device's revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOverride {
    /// Why (the coordinator's words).
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
    /// The coordinator device that decided.
    pub by: String,
}

/// An imported revision that did not become current because the record's
/// current body is another device's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionConflict {
    /// The record.
    pub record_id: Uuid,
    /// The revision, in this vault.
    pub rev: i64,
    /// The device that sent it.
    pub device_id: String,
    /// The bundle that carried it.
    pub bundle_id: String,
    /// When a coordinator accepted it as current (None: pending).
    pub accepted_at: Option<String>,
    /// Who accepted it.
    pub accepted_by: Option<String>,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Records new to this vault.
    pub new_records: u64,
    /// Revisions added (to new or existing records).
    pub new_revisions: u64,
    /// Revisions already present (sent twice).
    pub known_revisions: u64,
    /// Attachments added.
    pub new_attachments: u64,
    /// Revisions kept as conflicts (another device's body stays current).
    pub conflicts: u64,
}

/// Whether RFC 3339 time `a` is at or after `b` (compared as instants;
/// as text only if either does not parse).
fn later_or_equal(a: &str, b: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    match (
        time::OffsetDateTime::parse(a, &Rfc3339),
        time::OffsetDateTime::parse(b, &Rfc3339),
    ) {
        (Ok(a), Ok(b)) => a >= b,
        _ => a >= b,
    }
}

/// A fact about a bundle is kept only for a bundle this vault made.
fn made_here(updated: usize, bundle: &str) -> Result<()> {
    if updated == 0 {
        return Err(VaultError::Refused(format!(
            "bundle {bundle} is not one this vault made"
        )));
    }
    Ok(())
}

fn bad(msg: &str) -> VaultError {
    VaultError::Corrupt(msg.to_string())
}

/// What the vault keeps about bundles and devices: `vault.exchange()` to read, `vault.exchange_mut()` to change.
pub struct ExchangeStore<V>(pub(crate) V);

impl Vault {
    /// The exchange tables, to read.
    pub fn exchange(&self) -> ExchangeStore<&Vault> {
        ExchangeStore(self)
    }

    /// The exchange tables, to change.
    pub fn exchange_mut(&mut self) -> ExchangeStore<&mut Vault> {
        ExchangeStore(self)
    }
}

impl<V: Borrow<Vault>> ExchangeStore<V> {
    /// Every revision and attachment not yet carried by a bundle.
    pub fn pending_export(&self) -> Result<PendingExport> {
        let vault = self.0.borrow();
        let mut out = PendingExport::default();
        let mut stmt = vault.conn.prepare(
            "SELECT r.id, r.kind, r.created_at, r.created_by, v.rev, v.body, v.body_sha256, v.author, v.at
             FROM revisions v JOIN records r ON r.id = v.record_id
             WHERE NOT EXISTS (SELECT 1 FROM exported_revisions e WHERE e.record_id = v.record_id AND e.rev = v.rev)
               -- Revisions that came from headquarters (a re-issue) are not sent back.
               AND NOT EXISTS (SELECT 1 FROM provenance p WHERE p.record_id = v.record_id AND p.rev = v.rev)
             ORDER BY r.rowid, v.rev",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let id = Uuid::parse_str(&id).map_err(|_| bad("bad record id"))?;
            let kind = RecordKind::parse(&r.get::<_, String>(1)?).ok_or_else(|| bad("bad kind"))?;
            let rev = RevisionRow {
                rev: r.get(4)?,
                body: r.get(5)?,
                body_sha256: r.get(6)?,
                author: r.get(7)?,
                at: r.get(8)?,
            };
            match out.records.last_mut() {
                Some(last) if last.id == id => last.revisions.push(rev),
                _ => out.records.push(RecordChanges {
                    id,
                    kind,
                    created_at: r.get(2)?,
                    created_by: r.get(3)?,
                    revisions: vec![rev],
                }),
            }
        }
        let mut stmt = vault.conn.prepare(
            "SELECT a.id FROM attachments a
             WHERE NOT EXISTS (SELECT 1 FROM exported_attachments e WHERE e.attachment_id = a.id)
               AND NOT EXISTS (SELECT 1 FROM attachment_provenance p WHERE p.attachment_id = a.id)
             ORDER BY a.id",
        )?;
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            let id = Uuid::parse_str(&id).map_err(|_| bad("bad attachment id"))?;
            out.attachments.push(vault.attachment(id)?);
        }
        Ok(out)
    }

    /// Every revision of one record, for a coordinator's re-issue to a device.
    pub fn record_changes(&self, id: Uuid) -> Result<RecordChanges> {
        let vault = self.0.borrow();
        let (kind, created_at, created_by): (String, String, String) = vault
            .conn
            .query_row(
                "SELECT kind, created_at, created_by FROM records WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(VaultError::NotFound { kind: "record", id })?;
        let mut stmt = vault.conn.prepare(
            "SELECT rev, body, body_sha256, author, at FROM revisions WHERE record_id = ?1 ORDER BY rev",
        )?;
        let revisions = stmt
            .query_map([id.to_string()], |r| {
                Ok(RevisionRow {
                    rev: r.get(0)?,
                    body: r.get(1)?,
                    body_sha256: r.get(2)?,
                    author: r.get(3)?,
                    at: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(RecordChanges {
            id,
            kind: RecordKind::parse(&kind).ok_or_else(|| bad("bad kind"))?,
            created_at,
            created_by,
            revisions,
        })
    }

    /// The last bundle this device made: (seq, bundle id).
    pub fn last_bundle_out(&self) -> Result<Option<(u64, String)>> {
        let vault = self.0.borrow();
        Ok(vault
            .conn
            .query_row(
                "SELECT seq, bundle_id FROM bundles_out ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
    }

    /// Bundles this device made, oldest first.
    pub fn bundles_out(&self) -> Result<Vec<BundleOut>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(
            "SELECT seq, bundle_id, prev_bundle_id, created_at, size, records, attachments, hq_received_at, imported_at
             FROM bundles_out ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(BundleOut {
                seq: r.get::<_, i64>(0)? as u64,
                bundle_id: r.get(1)?,
                prev_bundle_id: r.get(2)?,
                created_at: r.get(3)?,
                size: r.get::<_, i64>(4)? as u64,
                records: r.get::<_, i64>(5)? as u64,
                attachments: r.get::<_, i64>(6)? as u64,
                hq_received_at: r.get(7)?,
                imported_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Revisions (record id, rev) carried by bundles that headquarters
    /// confirmed importing: what the field may remove before travel.
    pub fn held_by_headquarters(&self) -> Result<Vec<(Uuid, i64)>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(
            "SELECT e.record_id, e.rev FROM exported_revisions e JOIN bundles_out b ON b.seq = e.seq
             WHERE b.imported_at IS NOT NULL ORDER BY e.record_id, e.rev",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, rev) = row?;
            out.push((Uuid::parse_str(&id).map_err(|_| bad("bad record id"))?, rev));
        }
        Ok(out)
    }

    /// One enrolled device.
    pub fn device(&self, device_id: Uuid) -> Result<Option<DeviceRow>> {
        let vault = self.0.borrow();
        Ok(vault
            .conn
            .query_row(
                &format!("{DEVICE_SELECT} WHERE device_id = ?1"),
                [device_id.to_string()],
                device_row,
            )
            .optional()?)
    }

    /// Every enrolled device.
    pub fn devices(&self) -> Result<Vec<DeviceRow>> {
        let vault = self.0.borrow();
        let mut stmt = vault
            .conn
            .prepare(&format!("{DEVICE_SELECT} ORDER BY enrolled_at"))?;
        let rows = stmt.query_map([], device_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores the trust file (field).
    pub fn set_trust(&self, hq_id: &str, document: &str) -> Result<()> {
        let vault = self.0.borrow();
        vault.conn.execute(
            "INSERT INTO trust (id, hq_id, document, imported_at) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET hq_id = excluded.hq_id, document = excluded.document,
                                            imported_at = excluded.imported_at",
            params![hq_id, document, now()],
        )?;
        Ok(())
    }

    /// The trust file (field): (hq id, document).
    pub fn trust(&self) -> Result<Option<(String, String)>> {
        let vault = self.0.borrow();
        Ok(vault
            .conn
            .query_row("SELECT hq_id, document FROM trust WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    /// The imported bundle with this id, if any.
    pub fn bundle_in(&self, bundle_id: &str) -> Result<Option<BundleIn>> {
        let vault = self.0.borrow();
        Ok(vault
            .conn
            .query_row(
                &format!("{BUNDLE_IN_SELECT} WHERE bundle_id = ?1"),
                [bundle_id],
                bundle_in_row,
            )
            .optional()?)
    }

    /// Bundles imported from a device, by sequence number.
    pub fn bundles_in_from(&self, device_id: Uuid) -> Result<Vec<BundleIn>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(&format!(
            "{BUNDLE_IN_SELECT} WHERE device_id = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map([device_id.to_string()], bundle_in_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sequence numbers missing from a device's imported bundles (gaps below
    /// the highest one received).
    pub fn sequence_gaps(&self, device_id: Uuid) -> Result<Vec<u64>> {
        let seqs: Vec<u64> = self
            .bundles_in_from(device_id)?
            .iter()
            .map(|b| b.seq)
            .collect();
        let max = seqs.iter().copied().max().unwrap_or(0);
        Ok((1..=max).filter(|s| !seqs.contains(s)).collect())
    }

    /// Where each revision of a record came from: (local rev, device, source rev, bundle).
    pub fn provenance(&self, record_id: Uuid) -> Result<Vec<(i64, String, i64, String)>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare_cached(
            "SELECT rev, device_id, source_rev, bundle_id FROM provenance WHERE record_id = ?1 ORDER BY rev",
        )?;
        let rows = stmt.query_map([record_id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The override recorded for an imported bundle, if any.
    pub fn import_override(&self, bundle_id: &str) -> Result<Option<ImportOverride>> {
        let vault = self.0.borrow();
        Ok(vault
            .conn
            .query_row(
                "SELECT reason, at, by FROM import_overrides WHERE bundle_id = ?1",
                [bundle_id],
                |r| {
                    Ok(ImportOverride {
                        reason: r.get(0)?,
                        at: r.get(1)?,
                        by: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Conflicting revisions (of one record, or all), oldest first.
    pub fn revision_conflicts(&self, record_id: Option<Uuid>) -> Result<Vec<RevisionConflict>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(
            "SELECT record_id, rev, device_id, bundle_id, accepted_at, accepted_by FROM revision_conflicts
             WHERE ?1 IS NULL OR record_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([record_id.map(|u| u.to_string())], |r| {
            Ok((
                r.get::<_, String>(0)?,
                RevisionConflict {
                    record_id: Uuid::nil(),
                    rev: r.get(1)?,
                    device_id: r.get(2)?,
                    bundle_id: r.get(3)?,
                    accepted_at: r.get(4)?,
                    accepted_by: r.get(5)?,
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, mut c) = row?;
            c.record_id = Uuid::parse_str(&id).map_err(|_| bad("bad record id"))?;
            out.push(c);
        }
        Ok(out)
    }

    /// Ids of the records a bundle brought (new records or new revisions).
    pub fn records_from_bundle(&self, bundle_id: &str) -> Result<Vec<Uuid>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(
            "SELECT DISTINCT record_id FROM provenance WHERE bundle_id = ?1 ORDER BY record_id",
        )?;
        let ids: Vec<String> = stmt
            .query_map([bundle_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .map(|i| Uuid::parse_str(i).map_err(|_| bad("bad record id")))
            .collect()
    }

    /// Bytes of bundle `seq` the outbox had uploaded when it last noted its
    /// progress (0 when none, or once the server confirmed it).
    pub fn sent_bytes(&self, seq: u64) -> Result<u64> {
        let n: Option<i64> = self
            .0
            .borrow()
            .conn
            .query_row(
                "SELECT sent_bytes FROM bundles_out WHERE seq = ?1",
                [seq as i64],
                |r| r.get(0),
            )
            .optional()?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    /// Notes how much of bundle `seq` was uploaded.
    pub fn set_sent_bytes(&self, seq: u64, bytes: u64) -> Result<()> {
        let n = self.0.borrow().conn.execute(
            "UPDATE bundles_out SET sent_bytes = ?2 WHERE seq = ?1",
            params![seq as i64, i64::try_from(bytes).unwrap_or(i64::MAX)],
        )?;
        made_here(n, &seq.to_string())
    }

    /// The HQ server's signed receipt for one of this vault's bundles.
    pub fn hq_receipt(&self, bundle_id: &str) -> Result<Option<String>> {
        self.receipt("hq_receipt", bundle_id)
    }

    /// Keeps the HQ server's signed receipt for one of this vault's bundles.
    pub fn set_hq_receipt(&self, bundle_id: &str, receipt: &str) -> Result<()> {
        self.set_receipt("hq_receipt", bundle_id, receipt)
    }

    /// A coordinator's signed import receipt for one of this vault's bundles.
    pub fn import_receipt(&self, bundle_id: &str) -> Result<Option<String>> {
        self.receipt("import_receipt", bundle_id)
    }

    /// Keeps a coordinator's signed import receipt for one of this vault's
    /// bundles (travel mode verifies it again before removing anything).
    pub fn set_import_receipt(&self, bundle_id: &str, receipt: &str) -> Result<()> {
        self.set_receipt("import_receipt", bundle_id, receipt)
    }

    fn receipt(&self, column: &'static str, bundle_id: &str) -> Result<Option<String>> {
        Ok(self
            .0
            .borrow()
            .conn
            .query_row(
                &format!("SELECT {column} FROM bundles_out WHERE bundle_id = ?1"),
                [bundle_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    fn set_receipt(&self, column: &'static str, bundle_id: &str, receipt: &str) -> Result<()> {
        let n = self.0.borrow().conn.execute(
            &format!("UPDATE bundles_out SET {column} = ?2 WHERE bundle_id = ?1"),
            params![bundle_id, receipt],
        )?;
        made_here(n, bundle_id)
    }
}

impl<V: BorrowMut<Vault>> ExchangeStore<V> {
    /// Records that a bundle was written with exactly `pending` in it.
    pub fn record_bundle_out(&mut self, out: &BundleOut, pending: &PendingExport) -> Result<()> {
        let vault = self.0.borrow_mut();
        let tx = vault.conn.transaction()?;
        tx.execute(
            "INSERT INTO bundles_out (seq, bundle_id, prev_bundle_id, created_at, size, records, attachments)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                out.seq as i64,
                out.bundle_id,
                out.prev_bundle_id,
                out.created_at,
                out.size as i64,
                out.records as i64,
                out.attachments as i64
            ],
        )?;
        for r in &pending.records {
            for v in &r.revisions {
                tx.execute(
                    "INSERT INTO exported_revisions (record_id, rev, seq) VALUES (?1, ?2, ?3)",
                    params![r.id.to_string(), v.rev, out.seq as i64],
                )?;
            }
        }
        for a in &pending.attachments {
            tx.execute(
                "INSERT INTO exported_attachments (attachment_id, seq) VALUES (?1, ?2)",
                params![a.id.to_string(), out.seq as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks bundles as imported by headquarters (from a verified coordinator
    /// receipt). Returns how many of the given ids were bundles of this device.
    pub fn mark_bundles_imported(&mut self, bundle_ids: &[String], at: &str) -> Result<u64> {
        let vault = self.0.borrow_mut();
        let tx = vault.conn.transaction()?;
        let mut n = 0;
        for id in bundle_ids {
            n += tx.execute(
                "UPDATE bundles_out SET imported_at = COALESCE(imported_at, ?2) WHERE bundle_id = ?1",
                params![id, at],
            )? as u64;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Marks a bundle as received by the HQ server (from a verified server receipt).
    pub fn mark_bundle_received(&mut self, bundle_id: &str, at: &str) -> Result<bool> {
        let vault = self.0.borrow_mut();
        Ok(vault.conn.execute(
            "UPDATE bundles_out SET hq_received_at = COALESCE(hq_received_at, ?2) WHERE bundle_id = ?1",
            params![bundle_id, at],
        )? > 0)
    }

    /// Enrolls (or re-enrolls, keeping a revocation) a device.
    pub fn enroll_device(&mut self, d: &DeviceRow) -> Result<()> {
        let vault = self.0.borrow_mut();
        vault.conn.execute(
            "INSERT INTO devices (device_id, signing_key, age_recipient, label, enrolled_at, revoked_from)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL)
             ON CONFLICT (device_id) DO UPDATE SET label = COALESCE(excluded.label, label)",
            params![
                d.device_id.to_string(),
                d.signing_key,
                d.age_recipient,
                d.label,
                d.enrolled_at
            ],
        )?;
        let stored = ExchangeStore(&*vault).device(d.device_id)?;
        if let Some(s) = stored
            && (s.signing_key != d.signing_key || s.age_recipient != d.age_recipient)
        {
            return Err(VaultError::BadSecret(
                "this device id is already enrolled with different keys: revoke it and enroll the new device under its own id",
            ));
        }
        Ok(())
    }

    /// Revokes a device from `from` on. One rule, for every caller: a
    /// revocation only ever moves earlier. Revoking again with a later time
    /// keeps the earlier one; the evidence (the highest bundle number and
    /// id imported from the device) is fixed at the first revocation.
    /// Returns the device as now stored.
    pub fn revoke_device(
        &mut self,
        device_id: Uuid,
        from: time::OffsetDateTime,
    ) -> Result<DeviceRow> {
        let vault = self.0.borrow_mut();
        use time::format_description::well_known::Rfc3339;
        let tx = vault.conn.transaction()?;
        let d = tx
            .query_row(
                &format!("{DEVICE_SELECT} WHERE device_id = ?1"),
                [device_id.to_string()],
                device_row,
            )
            .optional()?
            .ok_or(VaultError::NotFound {
                kind: "enrolled device",
                id: device_id,
            })?;
        let earlier = d
            .revoked_from
            .as_deref()
            .map(|t| {
                time::OffsetDateTime::parse(t, &Rfc3339).map_err(|_| bad("bad revocation time"))
            })
            .transpose()?
            .filter(|t| *t <= from);
        if earlier.is_none() {
            let from = from
                .format(&Rfc3339)
                .map_err(|_| bad("revocation time out of range"))?;
            tx.execute(
                "UPDATE devices SET revoked_from = ?2 WHERE device_id = ?1",
                params![device_id.to_string(), from],
            )?;
        }
        if d.revoked_at.is_none() {
            tx.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1",
                params![device_id.to_string(), now()],
            )?;
        }
        if d.held_through_seq.is_none() {
            let last: Option<(i64, String)> = tx
                .query_row(
                    "SELECT seq, bundle_id FROM bundles_in WHERE device_id = ?1 ORDER BY seq DESC LIMIT 1",
                    [device_id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (seq, bundle) = match last {
                Some((s, b)) => (s, Some(b)),
                None => (0, None),
            };
            tx.execute(
                "UPDATE devices SET held_through_seq = ?2, held_through_bundle = ?3 WHERE device_id = ?1",
                params![device_id.to_string(), seq, bundle],
            )?;
        }
        tx.commit()?;
        ExchangeStore(&*vault)
            .device(device_id)?
            .ok_or(VaultError::NotFound {
                kind: "enrolled device",
                id: device_id,
            })
    }

    /// Adds the HQ server's evidence to a revocation: the last bundle the
    /// server had accepted from the device when it revoked it (the server
    /// knows bundle ids, not the device's numbers). Part of the same
    /// revocation, so it may raise what this vault alone knew: if the bundle
    /// is here, its number; otherwise the id, to be recognised on import.
    pub fn record_server_held_bundle(&mut self, device_id: Uuid, bundle_id: &str) -> Result<()> {
        let vault = self.0.borrow_mut();
        let tx = vault.conn.transaction()?;
        let seq: Option<i64> = tx
            .query_row(
                "SELECT seq FROM bundles_in WHERE device_id = ?1 AND bundle_id = ?2",
                params![device_id.to_string(), bundle_id],
                |r| r.get(0),
            )
            .optional()?;
        match seq {
            Some(seq) => {
                tx.execute(
                    "UPDATE devices SET held_through_seq = ?2, held_through_bundle = ?3
                     WHERE device_id = ?1 AND revoked_from IS NOT NULL AND COALESCE(held_through_seq, 0) < ?2",
                    params![device_id.to_string(), seq, bundle_id],
                )?;
            }
            None => {
                tx.execute(
                    "UPDATE devices SET server_held_bundle = ?2 WHERE device_id = ?1 AND revoked_from IS NOT NULL",
                    params![device_id.to_string(), bundle_id],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Imports a verified bundle's contents in one transaction: records and
    /// their revisions (as new local revisions, never overwriting), attachments
    /// (already staged as encrypted files), and provenance. Revisions already
    /// received are skipped; `rule` decides which body becomes current.
    /// `accepted` records a coordinator's override for this bundle. On error
    /// nothing is changed and the staged files are the caller's to discard.
    pub fn import_bundle_contents(
        &mut self,
        bundle: &BundleIn,
        records: &[RecordChanges],
        attachments: &[(AttachmentInfo, StagedFile)],
        rule: CurrentRule,
        accepted: Option<&ImportOverride>,
    ) -> Result<ImportCounts> {
        let vault = self.0.borrow_mut();
        let mut counts = ImportCounts::default();
        let tx = vault.conn.transaction()?;
        tx.execute(
            "INSERT INTO bundles_in (bundle_id, device_id, seq, prev_bundle_id, created_at, imported_at, imported_by, records, attachments)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                bundle.bundle_id,
                bundle.device_id.to_string(),
                bundle.seq as i64,
                bundle.prev_bundle_id,
                bundle.created_at,
                bundle.imported_at,
                bundle.imported_by,
                bundle.records as i64,
                bundle.attachments as i64
            ],
        )?;
        if let Some(o) = accepted {
            tx.execute(
                "INSERT INTO import_overrides (bundle_id, reason, at, by) VALUES (?1, ?2, ?3, ?4)",
                params![bundle.bundle_id, o.reason, o.at, o.by],
            )?;
        }
        let device = bundle.device_id.to_string();
        for rc in records {
            // Every body must parse and match its hash before anything lands.
            for v in &rc.revisions {
                parse_body(rc.kind.as_str(), &v.body)?;
                if sha256_hex(v.body.as_bytes()) != v.body_sha256 {
                    return Err(bad("a revision in the bundle does not match its hash"));
                }
            }
            let existing: Option<(i64, String, i64, String, String)> = tx
                .query_row(
                    "SELECT rowid, kind, rev, updated_at, updated_by FROM records WHERE id = ?1",
                    [rc.id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let (rowid, mut rev, mut updated_at, mut updated_by) = match existing {
                Some((rowid, kind, rev, updated_at, updated_by)) => {
                    if kind != rc.kind.as_str() {
                        return Err(bad(
                            "a record in the bundle changes the kind of an existing record",
                        ));
                    }
                    (Some(rowid), rev, updated_at, updated_by)
                }
                None => (None, 0, String::new(), String::new()),
            };
            let mut current: Option<&RevisionRow> = None;
            let mut rowid = rowid;
            for v in &rc.revisions {
                let known: bool = tx
                    .query_row(
                        "SELECT 1 FROM provenance WHERE record_id = ?1 AND device_id = ?2 AND source_rev = ?3",
                        params![rc.id.to_string(), device, v.rev],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some()
                    || tx
                        .query_row(
                            "SELECT 1 FROM revisions WHERE record_id = ?1 AND body_sha256 = ?2 AND author = ?3 AND at = ?4",
                            params![rc.id.to_string(), v.body_sha256, v.author, v.at],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_some();
                if known {
                    counts.known_revisions += 1;
                    continue;
                }
                rev += 1;
                let mut conflict = false;
                if rowid.is_none() {
                    tx.execute(
                        "INSERT INTO records (id, kind, rev, body, body_sha256, created_at, created_by, updated_at, updated_by)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![rc.id.to_string(), rc.kind.as_str(), rev, v.body, v.body_sha256,
                                rc.created_at, rc.created_by, v.at, v.author],
                    )?;
                    rowid = Some(tx.last_insert_rowid());
                    counts.new_records += 1;
                    updated_at = v.at.clone();
                    updated_by = v.author.clone();
                    current = Some(v);
                } else {
                    match rule {
                        CurrentRule::LatestTime => {
                            if v.at >= updated_at {
                                updated_at = v.at.clone();
                                updated_by = v.author.clone();
                                current = Some(v);
                            }
                        }
                        CurrentRule::SenderOwnsItsRecords => {
                            if updated_by != v.author {
                                conflict = true;
                            } else if later_or_equal(&v.at, &updated_at) {
                                updated_at = v.at.clone();
                                current = Some(v);
                            }
                        }
                    }
                }
                tx.execute(
                    "INSERT INTO revisions (record_id, rev, body, body_sha256, author, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![rc.id.to_string(), rev, v.body, v.body_sha256, v.author, v.at],
                )?;
                tx.execute(
                    "INSERT INTO provenance (record_id, rev, device_id, source_rev, bundle_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![rc.id.to_string(), rev, device, v.rev, bundle.bundle_id],
                )?;
                if conflict {
                    tx.execute(
                        "INSERT INTO revision_conflicts (record_id, rev, device_id, bundle_id) VALUES (?1, ?2, ?3, ?4)",
                        params![rc.id.to_string(), rev, device, bundle.bundle_id],
                    )?;
                    counts.conflicts += 1;
                }
                counts.new_revisions += 1;
            }
            if let (Some(rowid), Some(v)) = (rowid, current) {
                tx.execute(
                    "UPDATE records SET rev = ?2, body = ?3, body_sha256 = ?4, updated_at = ?5, updated_by = ?6 WHERE rowid = ?1",
                    params![rowid, rev, v.body, v.body_sha256, v.at, v.author],
                )?;
                unindex(&tx, rowid)?;
                index(&tx, rowid, &parse_body(rc.kind.as_str(), &v.body)?)?;
            } else if let Some(rowid) = rowid {
                tx.execute(
                    "UPDATE records SET rev = ?2 WHERE rowid = ?1",
                    params![rowid, rev],
                )?;
            }
        }
        for (info, staged) in attachments {
            let exists = tx
                .query_row(
                    "SELECT 1 FROM attachments WHERE id = ?1",
                    [info.id.to_string()],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if exists {
                continue;
            }
            if staged.sha256 != info.sha256 || staged.size != info.size {
                return Err(bad(
                    "an attachment in the bundle does not match its capture hash",
                ));
            }
            insert_attachment(&tx, info, &staged.file)?;
            tx.execute(
                "INSERT INTO attachment_provenance (attachment_id, device_id, bundle_id) VALUES (?1, ?2, ?3)",
                params![info.id.to_string(), device, bundle.bundle_id],
            )?;
            counts.new_attachments += 1;
        }
        crate::evidence::keep(&tx, bundle)?;
        tx.commit()?;
        Ok(counts)
    }

    /// Coordinator: makes a conflicting revision the record's current body,
    /// recording who accepted it and when. Earlier revisions stay in history.
    pub fn accept_revision(&mut self, record_id: Uuid, rev: i64) -> Result<()> {
        let vault = self.0.borrow_mut();
        let tx = vault.conn.transaction()?;
        let pending: Option<Option<String>> = tx
            .query_row(
                "SELECT accepted_at FROM revision_conflicts WHERE record_id = ?1 AND rev = ?2",
                params![record_id.to_string(), rev],
                |r| r.get(0),
            )
            .optional()?;
        match pending {
            None => {
                return Err(VaultError::Refused(
                    "that revision is not a conflicting revision of that record".into(),
                ));
            }
            Some(Some(_)) => {
                return Err(VaultError::Refused(
                    "that revision was already accepted".into(),
                ));
            }
            Some(None) => {}
        }
        let (rowid, kind): (i64, String) = tx.query_row(
            "SELECT rowid, kind FROM records WHERE id = ?1",
            [record_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (body, sha, author, at): (String, String, String, String) = tx.query_row(
            "SELECT body, body_sha256, author, at FROM revisions WHERE record_id = ?1 AND rev = ?2",
            params![record_id.to_string(), rev],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let parsed = parse_body(&kind, &body)?;
        tx.execute(
            "UPDATE records SET body = ?2, body_sha256 = ?3, updated_at = ?4, updated_by = ?5 WHERE rowid = ?1",
            params![rowid, body, sha, at, author],
        )?;
        unindex(&tx, rowid)?;
        index(&tx, rowid, &parsed)?;
        tx.execute(
            "UPDATE revision_conflicts SET accepted_at = ?3, accepted_by = ?4 WHERE record_id = ?1 AND rev = ?2",
            params![record_id.to_string(), rev, now(), vault.device_id.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }
}

const BUNDLE_IN_SELECT: &str = "SELECT bundle_id, device_id, seq, prev_bundle_id, created_at, imported_at, imported_by, records, attachments FROM bundles_in";

fn bundle_in_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BundleIn> {
    let device: String = r.get(1)?;
    Ok(BundleIn {
        bundle_id: r.get(0)?,
        device_id: Uuid::parse_str(&device).unwrap_or_default(),
        seq: r.get::<_, i64>(2)? as u64,
        prev_bundle_id: r.get(3)?,
        created_at: r.get(4)?,
        imported_at: r.get(5)?,
        imported_by: r.get(6)?,
        records: r.get::<_, i64>(7)? as u64,
        attachments: r.get::<_, i64>(8)? as u64,
        evidence: None,
    })
}

const DEVICE_SELECT: &str = "SELECT device_id, signing_key, age_recipient, label, enrolled_at, revoked_from, revoked_at, held_through_seq, held_through_bundle, server_held_bundle FROM devices";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    let id: String = r.get(0)?;
    Ok(DeviceRow {
        device_id: Uuid::parse_str(&id).unwrap_or_default(),
        signing_key: r.get(1)?,
        age_recipient: r.get(2)?,
        label: r.get(3)?,
        enrolled_at: r.get(4)?,
        revoked_from: r.get(5)?,
        revoked_at: r.get(6)?,
        held_through_seq: r.get::<_, Option<i64>>(7)?.map(|s| s.max(0) as u64),
        held_through_bundle: r.get(8)?,
        server_held_bundle: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use crate::{Unlock, Vault};

    /// Schema 9 takes the per-bundle `meta` rows of the bundles the vault
    /// made out of `meta`, and leaves a row naming no bundle of the vault as
    /// it was (nothing stored is lost). The fixture is the e2e tests' schema-6
    /// field vault (tests/fixtures/README.md).
    #[test]
    fn schema_7_moves_per_bundle_rows_out_of_meta_and_keeps_the_rest() {
        let fixture =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vault-v6");
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("v");
        for sub in ["", "keyslots", "attachments"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        }
        for file in [
            "vault.db",
            "keyslots/passphrase.age",
            "keyslots/recovery.age",
        ] {
            std::fs::copy(fixture.join(file), dir.join(file)).expect("copy");
        }
        let unlock = Unlock::Passphrase(SecretString::from("fixture passphrase v6"));
        let v = Vault::open(&dir, &unlock).expect("open");
        let b1 = "1".repeat(64);
        for key in [
            "outbox_sent:1".to_string(),
            "outbox_sent:2".to_string(),
            format!("hq_receipt:{b1}"),
            format!("import_receipt:{b1}"),
        ] {
            assert_eq!(v.meta(&key).expect("meta"), None, "{key}");
        }
        assert_eq!(
            v.meta("hq_receipt:3333").expect("meta").as_deref(),
            Some("fixture orphan receipt")
        );
        assert_eq!(v.exchange().sent_bytes(2).expect("sent"), 1_048_576);
        assert_eq!(
            v.exchange().hq_receipt(&b1).expect("receipt").as_deref(),
            Some("fixture HQ receipt for bundle 1")
        );
        // Facts are kept only for a bundle this vault made.
        assert!(v.exchange().set_hq_receipt("3333", "x").is_err());
        assert!(v.exchange().set_sent_bytes(9, 1).is_err());
    }
}
