//! SQLite + WAL, the embedded default.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    BundleRow, Counts, DeviceRevocation, Principal, Role, Store, StoreError, StoreResult, Upload,
    fully_acked_sql, parse_time, parse_uuid, rfc3339,
};

/// SQLite + WAL, `synchronous=FULL`: a commit is on disk when it returns.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS principals (
  id TEXT PRIMARY KEY, role TEXT NOT NULL, signing_key TEXT NOT NULL,
  age_recipient TEXT NOT NULL, revoked_from TEXT, enrolled_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS used_codes (code_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, used_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (signer TEXT NOT NULL, nonce TEXT NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (signer, nonce));
CREATE INDEX IF NOT EXISTS nonces_time ON nonces(time);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
  chunk_size INTEGER NOT NULL, chunks TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, bundle_id TEXT NOT NULL UNIQUE, file_sha256 TEXT NOT NULL,
  device_id TEXT NOT NULL, size INTEGER NOT NULL, received_at INTEGER NOT NULL, acked_at INTEGER,
  receipt TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bundles_device ON bundles(device_id);
CREATE INDEX IF NOT EXISTS bundles_file ON bundles(file_sha256);
CREATE TABLE IF NOT EXISTS receipts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, text TEXT NOT NULL UNIQUE, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS receipts_device ON receipts(device_id, id);
CREATE TABLE IF NOT EXISTS acks (
  bundle_id TEXT NOT NULL, coordinator_id TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (bundle_id, coordinator_id));
"#;

/// Schema version 2: per-coordinator acknowledgements (the old global
/// `bundles.acked_at` becomes one ack per coordinator current at the
/// upgrade), each device's last accepted bundle on its principal row.
fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let has_last: bool = tx
        .prepare("SELECT 1 FROM pragma_table_info('principals') WHERE name = 'last_seq'")?
        .exists([])?;
    if !has_last {
        tx.execute_batch(
            "ALTER TABLE principals ADD COLUMN last_seq INTEGER;
             ALTER TABLE principals ADD COLUMN last_bundle_id TEXT;
             ALTER TABLE principals ADD COLUMN last_received_at INTEGER;
             UPDATE principals SET
               last_seq = (SELECT MAX(b.seq) FROM bundles b WHERE b.device_id = principals.id),
               last_bundle_id = (SELECT b.bundle_id FROM bundles b WHERE b.device_id = principals.id ORDER BY b.seq DESC LIMIT 1),
               last_received_at = (SELECT b.received_at FROM bundles b WHERE b.device_id = principals.id ORDER BY b.seq DESC LIMIT 1)
             WHERE role = 'device';",
        )?;
    }
    tx.execute_batch(
        "INSERT OR IGNORE INTO acks(bundle_id, coordinator_id, at)
           SELECT b.bundle_id, p.id, b.acked_at FROM bundles b, principals p
           WHERE b.acked_at IS NOT NULL AND p.role = 'coordinator' AND p.revoked_from IS NULL;
         UPDATE bundles SET acked_at = NULL WHERE acked_at IS NOT NULL;
         INSERT OR IGNORE INTO meta(key, value) VALUES ('trust_version', '1');",
    )?;
    tx.commit()?;
    Ok(())
}

/// Inserts a receipt inside `tx`. Cursor safety: SQLite has one writer at
/// a time and holds the write lock until commit, so AUTOINCREMENT ids are
/// handed out in commit order and a reader that saw id n has seen every
/// committed id below n. (Public for the concurrency test.)
pub fn insert_receipt(
    tx: &rusqlite::Transaction<'_>,
    device: Uuid,
    text: &str,
    at: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT OR IGNORE INTO receipts(device_id, text, at) VALUES (?1, ?2, ?3)",
        params![device.to_string(), text, at],
    )?;
    Ok(())
}

fn current_version(tx: &rusqlite::Transaction<'_>) -> StoreResult<u64> {
    let v: Option<String> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = 'trust_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn next_version(tx: &rusqlite::Transaction<'_>, expected: Option<u64>) -> StoreResult<u64> {
    let current = current_version(tx)?;
    if let Some(e) = expected
        && e != current
    {
        return Err(StoreError::StaleTrust { current });
    }
    let next = current + 1;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('trust_version', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [next.to_string()],
    )?;
    Ok(next)
}

fn current_coordinator_ids(tx: &rusqlite::Transaction<'_>) -> StoreResult<Vec<String>> {
    let mut st = tx
        .prepare("SELECT id FROM principals WHERE role = 'coordinator' AND revoked_from IS NULL")?;
    let v = st
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(v)
}

impl SqliteStore {
    /// Opens (and creates) the database file.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        let mut conn = conn;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("database lock poisoned".into()))?;
        f(&mut guard)
    }
}

/// seq, bundle_id, file_sha256, device_id, size, received_at.
type BundleTuple = (i64, String, String, String, i64, i64);

fn row_bundle(r: &rusqlite::Row<'_>) -> rusqlite::Result<BundleTuple> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_bundle(t: BundleTuple) -> StoreResult<BundleRow> {
    Ok(BundleRow {
        seq: t.0,
        bundle_id: t.1,
        file_sha256: t.2,
        device_id: parse_uuid(&t.3)?,
        size: u64::try_from(t.4).unwrap_or(0),
        received_at: t.5,
    })
}

const BUNDLE_COLS: &str = "seq, bundle_id, file_sha256, device_id, size, received_at";

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }

    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    fn set_coordinators(
        &self,
        set: &[Principal],
        expected: Option<u64>,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        if set.is_empty() {
            return Err(StoreError::LastCoordinator);
        }
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let version = next_version(&tx, expected)?;
            for p in set {
                let existing: Option<(String, Option<String>)> = tx
                    .query_row(
                        "SELECT role, revoked_from FROM principals WHERE id = ?1",
                        [p.id.to_string()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                match existing {
                    Some((_, Some(_))) => return Err(StoreError::CoordinatorRevoked(p.id)),
                    Some((role, None)) if role != "coordinator" => {
                        return Err(StoreError::AlreadyEnrolled);
                    }
                    _ => {}
                }
                tx.execute(
                    "INSERT INTO principals(id, role, signing_key, age_recipient, revoked_from, enrolled_at)
                     VALUES (?1, 'coordinator', ?2, ?3, NULL, ?4)
                     ON CONFLICT(id) DO UPDATE SET signing_key = excluded.signing_key,
                       age_recipient = excluded.age_recipient",
                    params![p.id.to_string(), p.signing_key, p.age_recipient, now.unix_timestamp()],
                )?;
            }
            let keep: Vec<String> = set.iter().map(|p| p.id.to_string()).collect();
            for id in current_coordinator_ids(&tx)? {
                if !keep.contains(&id) {
                    tx.execute(
                        "UPDATE principals SET revoked_from = ?2 WHERE id = ?1",
                        params![id, rfc3339(now)],
                    )?;
                }
            }
            tx.commit()?;
            Ok(version)
        })
    }

    fn revoke_coordinator(
        &self,
        id: Uuid,
        expected: Option<u64>,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let current = current_coordinator_ids(&tx)?;
            if !current.contains(&id.to_string()) {
                return Err(StoreError::NotFound);
            }
            if current.len() == 1 {
                return Err(StoreError::LastCoordinator);
            }
            let version = next_version(&tx, expected)?;
            tx.execute(
                "UPDATE principals SET revoked_from = ?2 WHERE id = ?1",
                params![id.to_string(), rfc3339(now)],
            )?;
            tx.commit()?;
            Ok(version)
        })
    }

    fn coordinators(&self) -> StoreResult<(Vec<Principal>, u64)> {
        self.with(|c| {
            let tx = c.transaction()?;
            let version = current_version(&tx)?;
            let mut st = tx.prepare(
                "SELECT id, signing_key, age_recipient FROM principals
                 WHERE role = 'coordinator' AND revoked_from IS NULL ORDER BY id",
            )?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut v = Vec::with_capacity(rows.len());
            for (id, signing_key, age_recipient) in rows {
                v.push(Principal {
                    id: parse_uuid(&id)?,
                    role: Role::Coordinator,
                    signing_key,
                    age_recipient,
                    revoked_from: None,
                });
            }
            Ok((v, version))
        })
    }

    fn principal(&self, id: Uuid) -> StoreResult<Option<Principal>> {
        self.with(|c| {
            let row = c
                .query_row(
                    "SELECT role, signing_key, age_recipient, revoked_from FROM principals WHERE id = ?1",
                    [id.to_string()],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<String>>(3)?,
                        ))
                    },
                )
                .optional()?;
            Ok(row.map(|(role, signing_key, age_recipient, revoked)| Principal {
                id,
                role: Role::parse(&role),
                signing_key,
                age_recipient,
                revoked_from: parse_time(revoked),
            }))
        })
    }

    fn enroll(&self, code_id: &str, p: &Principal, now: i64) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            let used: Option<String> = tx
                .query_row(
                    "SELECT device_id FROM used_codes WHERE code_id = ?1",
                    [code_id],
                    |r| r.get(0),
                )
                .optional()?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT signing_key FROM principals WHERE id = ?1",
                    [p.id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            match (used, existing) {
                // A retried enrollment (the answer was lost): same device, same key.
                (Some(dev), Some(key)) if dev == p.id.to_string() && key == p.signing_key => {
                    return Ok(());
                }
                (Some(_), _) => return Err(StoreError::CodeUsed),
                (None, Some(_)) => return Err(StoreError::AlreadyEnrolled),
                (None, None) => {}
            }
            tx.execute(
                "INSERT INTO used_codes(code_id, device_id, used_at) VALUES (?1, ?2, ?3)",
                params![code_id, p.id.to_string(), now],
            )?;
            tx.execute(
                "INSERT INTO principals(id, role, signing_key, age_recipient, revoked_from, enrolled_at)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
                params![p.id.to_string(), p.role.as_str(), p.signing_key, p.age_recipient, now],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn revoke(&self, id: Uuid, from: OffsetDateTime) -> StoreResult<DeviceRevocation> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            type Row = (Option<String>, Option<i64>, Option<String>, Option<i64>);
            let row: Option<Row> = tx
                .query_row(
                    "SELECT revoked_from, last_seq, last_bundle_id, last_received_at
                     FROM principals WHERE id = ?1 AND role = 'device'",
                    [id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((stored, seq, bundle, at)) = row else {
                return Err(StoreError::NotFound);
            };
            // One rule: a revocation only ever moves earlier.
            let in_force = match parse_time(stored) {
                Some(t) if t <= from => t,
                _ => {
                    tx.execute(
                        "UPDATE principals SET revoked_from = ?2 WHERE id = ?1",
                        params![id.to_string(), rfc3339(from)],
                    )?;
                    from
                }
            };
            tx.commit()?;
            Ok(DeviceRevocation {
                revoked_from: in_force,
                last_bundle: match (seq, bundle, at) {
                    (Some(s), Some(b), Some(a)) => Some((s, b, a)),
                    _ => None,
                },
            })
        })
    }

    fn use_nonce(&self, signer: Uuid, nonce: &str, time: i64) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO nonces(signer, nonce, time) VALUES (?1, ?2, ?3)",
                params![signer.to_string(), nonce, time],
            )?;
            Ok(n == 1)
        })
    }

    fn prune_nonces(&self, before: i64) -> StoreResult<()> {
        self.with(|c| {
            c.execute("DELETE FROM nonces WHERE time < ?1", [before])?;
            Ok(())
        })
    }

    fn upload_create(&self, u: &Upload) -> StoreResult<Upload> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO uploads(id, device_id, size, sha256, chunk_size, chunks, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    u.id,
                    u.device_id.to_string(),
                    u.size as i64,
                    u.sha256,
                    u.chunk_size as i64,
                    u.chunks.join(","),
                    u.created_at
                ],
            )?;
            Ok(())
        })?;
        self.upload(&u.id)?.ok_or(StoreError::NotFound)
    }

    fn upload(&self, id: &str) -> StoreResult<Option<Upload>> {
        self.with(|c| {
            let row = c
                .query_row(
                    "SELECT device_id, size, sha256, chunk_size, chunks, created_at FROM uploads WHERE id = ?1",
                    [id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, i64>(5)?,
                        ))
                    },
                )
                .optional()?;
            row.map(|(dev, size, sha, cs, chunks, created)| {
                Ok(Upload {
                    id: id.to_owned(),
                    device_id: parse_uuid(&dev)?,
                    size: size as u64,
                    sha256: sha,
                    chunk_size: cs as u64,
                    chunks: chunks.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                    created_at: created,
                })
            })
            .transpose()
        })
    }

    fn uploads_of(&self, device: Uuid) -> StoreResult<(u64, u64)> {
        self.with(|c| {
            let (n, bytes): (i64, i64) = c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM uploads WHERE device_id = ?1",
                [device.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok((n as u64, bytes as u64))
        })
    }

    fn upload_delete(&self, id: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute("DELETE FROM uploads WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    fn uploads_older(&self, before: i64) -> StoreResult<Vec<String>> {
        self.with(|c| {
            let mut st = c.prepare("SELECT id FROM uploads WHERE created_at < ?1")?;
            let v = st
                .query_map([before], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(v)
        })
    }

    fn bundle_accept(&self, b: &BundleRow, receipt: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            // IMMEDIATE: the write lock is taken before the seq is chosen and
            // held until commit, so seqs are handed out in commit order.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT receipt FROM bundles WHERE bundle_id = ?1",
                    [&b.bundle_id],
                    |r| r.get(0),
                )
                .optional()?;
            if existing.is_some() {
                return Ok(existing);
            }
            tx.execute(
                "INSERT INTO bundles(bundle_id, file_sha256, device_id, size, received_at, acked_at, receipt)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)",
                params![
                    b.bundle_id,
                    b.file_sha256,
                    b.device_id.to_string(),
                    b.size as i64,
                    b.received_at,
                    receipt
                ],
            )?;
            let seq = tx.last_insert_rowid();
            tx.execute(
                "UPDATE principals SET last_seq = ?2, last_bundle_id = ?3, last_received_at = ?4
                 WHERE id = ?1 AND (last_seq IS NULL OR last_seq < ?2)",
                params![b.device_id.to_string(), seq, b.bundle_id, b.received_at],
            )?;
            insert_receipt(&tx, b.device_id, receipt, b.received_at)?;
            tx.commit()?;
            Ok(None)
        })
    }

    fn bundle(&self, bundle_id: &str) -> StoreResult<Option<BundleRow>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {BUNDLE_COLS} FROM bundles WHERE bundle_id = ?1"),
                [bundle_id],
                row_bundle,
            )
            .optional()?
            .map(to_bundle)
            .transpose()
        })
    }

    fn bundle_by_file(&self, device: Uuid, file_sha256: &str) -> StoreResult<Option<BundleRow>> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {BUNDLE_COLS} FROM bundles WHERE file_sha256 = ?1 AND device_id = ?2 LIMIT 1"
                ),
                params![file_sha256, device.to_string()],
                row_bundle,
            )
            .optional()?
            .map(to_bundle)
            .transpose()
        })
    }

    fn bundle_receipt(&self, bundle_id: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT receipt FROM bundles WHERE bundle_id = ?1",
                [bundle_id],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    fn bundles_pending(
        &self,
        coordinator: Uuid,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<BundleRow>> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {BUNDLE_COLS} FROM bundles b WHERE seq > ?1
                   AND NOT EXISTS (SELECT 1 FROM acks a WHERE a.bundle_id = b.bundle_id AND a.coordinator_id = ?3)
                 ORDER BY seq LIMIT ?2"
            ))?;
            let rows = st
                .query_map(params![after, limit, coordinator.to_string()], row_bundle)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(to_bundle).collect()
        })
    }

    fn bundle_ack(&self, bundle_id: &str, coordinator: Uuid, at: i64) -> StoreResult<()> {
        self.with(|c| {
            let exists = c
                .prepare("SELECT 1 FROM bundles WHERE bundle_id = ?1")?
                .exists([bundle_id])?;
            if !exists {
                return Err(StoreError::NotFound);
            }
            c.execute(
                "INSERT OR IGNORE INTO acks(bundle_id, coordinator_id, at) VALUES (?1, ?2, ?3)",
                params![bundle_id, coordinator.to_string(), at],
            )?;
            Ok(())
        })
    }

    fn bundles_acked_before(&self, before: i64) -> StoreResult<Vec<String>> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT b.bundle_id FROM bundles b WHERE {}",
                fully_acked_sql("?1")
            ))?;
            let v = st
                .query_map([before], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(v)
        })
    }

    fn bundle_forget(&self, bundle_id: &str) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM acks WHERE bundle_id = ?1", [bundle_id])?;
            tx.execute("DELETE FROM bundles WHERE bundle_id = ?1", [bundle_id])?;
            tx.commit()?;
            Ok(())
        })
    }

    fn device_usage(&self, device: Uuid) -> StoreResult<u64> {
        self.with(|c| {
            let n: i64 = c.query_row(
                &format!(
                    "SELECT COALESCE(SUM(size), 0) FROM bundles b WHERE device_id = ?1 AND NOT {}",
                    fully_acked_sql("?2")
                ),
                params![device.to_string(), i64::MAX],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
    }

    fn receipt_add(&self, device: Uuid, text: &str, at: i64) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            insert_receipt(&tx, device, text, at)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn receipts(&self, device: Uuid, after: i64) -> StoreResult<Vec<(i64, String)>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, text FROM receipts WHERE device_id = ?1 AND id > ?2 ORDER BY id LIMIT 1000",
            )?;
            let v = st
                .query_map(params![device.to_string(), after], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(v)
        })
    }

    fn counts(&self) -> StoreResult<Counts> {
        self.with(|c| {
            let q = |sql: &str| -> StoreResult<u64> {
                let n: i64 = c.query_row(sql, [], |r| r.get(0))?;
                Ok(n as u64)
            };
            Ok(Counts {
                devices: q("SELECT COUNT(*) FROM principals WHERE role = 'device' AND revoked_from IS NULL")?,
                revoked_devices: q("SELECT COUNT(*) FROM principals WHERE role = 'device' AND revoked_from IS NOT NULL")?,
                coordinators: q("SELECT COUNT(*) FROM principals WHERE role = 'coordinator' AND revoked_from IS NULL")?,
                bundles_pending: q(&format!("SELECT COUNT(*) FROM bundles b WHERE NOT {}", fully_acked_sql("9223372036854775807")))?,
                bundles_acked: q(&format!("SELECT COUNT(*) FROM bundles b WHERE {}", fully_acked_sql("9223372036854775807")))?,
                uploads_open: q("SELECT COUNT(*) FROM uploads")?,
                receipts: q("SELECT COUNT(*) FROM receipts")?,
            })
        })
    }
}
