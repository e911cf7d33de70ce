//! PostgreSQL metadata store, for an organisation running several server
//! instances behind a load balancer (blobs then live on shared storage).
//! Same [`Store`] trait and the same story tests as SQLite.

use std::sync::Mutex;

use postgres::{Client, NoTls, Row, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    BundleRow, Counts, DeviceRevocation, Principal, Role, Store, StoreError, StoreResult, Upload,
    fully_acked_sql,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS principals (
  id TEXT PRIMARY KEY, role TEXT NOT NULL, signing_key TEXT NOT NULL,
  age_recipient TEXT NOT NULL, revoked_from TEXT, enrolled_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS used_codes (code_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, used_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (signer TEXT NOT NULL, nonce TEXT NOT NULL, time BIGINT NOT NULL, PRIMARY KEY (signer, nonce));
CREATE INDEX IF NOT EXISTS nonces_time ON nonces(time);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL,
  chunk_size BIGINT NOT NULL, chunks TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (
  seq BIGSERIAL PRIMARY KEY, bundle_id TEXT NOT NULL UNIQUE, file_sha256 TEXT NOT NULL,
  device_id TEXT NOT NULL, size BIGINT NOT NULL, received_at BIGINT NOT NULL, acked_at BIGINT,
  receipt TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bundles_device ON bundles(device_id);
CREATE INDEX IF NOT EXISTS bundles_file ON bundles(file_sha256);
CREATE TABLE IF NOT EXISTS receipts (
  id BIGSERIAL PRIMARY KEY, device_id TEXT NOT NULL, text TEXT NOT NULL UNIQUE, at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS receipts_device ON receipts(device_id, id);
CREATE TABLE IF NOT EXISTS acks (
  bundle_id TEXT NOT NULL, coordinator_id TEXT NOT NULL, at BIGINT NOT NULL,
  PRIMARY KEY (bundle_id, coordinator_id));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
ALTER TABLE principals ADD COLUMN IF NOT EXISTS last_seq BIGINT;
ALTER TABLE principals ADD COLUMN IF NOT EXISTS last_bundle_id TEXT;
ALTER TABLE principals ADD COLUMN IF NOT EXISTS last_received_at BIGINT;
CREATE TABLE IF NOT EXISTS rate_windows (key TEXT PRIMARY KEY, started BIGINT NOT NULL, n BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until BIGINT NOT NULL);
"#;

/// Schema version 2 (run under an advisory lock, so instances starting
/// together do it once): per-coordinator acks from the old global
/// `acked_at`, the commit-order counters started above every id handed
/// out so far, each device's last accepted bundle.
const MIGRATE: &str = r#"
SELECT pg_advisory_xact_lock(7305310);
INSERT INTO acks(bundle_id, coordinator_id, at)
  SELECT b.bundle_id, p.id, b.acked_at FROM bundles b, principals p
  WHERE b.acked_at IS NOT NULL AND p.role = 'coordinator' AND p.revoked_from IS NULL
  ON CONFLICT DO NOTHING;
UPDATE bundles SET acked_at = NULL WHERE acked_at IS NOT NULL;
INSERT INTO counters(name, value)
  SELECT 'bundles', GREATEST(COALESCE((SELECT MAX(seq) FROM bundles), 0),
                             nextval(pg_get_serial_sequence('bundles', 'seq')::regclass))
  WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = 'bundles');
INSERT INTO counters(name, value)
  SELECT 'receipts', GREATEST(COALESCE((SELECT MAX(id) FROM receipts), 0),
                              nextval(pg_get_serial_sequence('receipts', 'id')::regclass))
  WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = 'receipts');
UPDATE principals SET
  last_seq = (SELECT MAX(b.seq) FROM bundles b WHERE b.device_id = principals.id),
  last_bundle_id = (SELECT b.bundle_id FROM bundles b WHERE b.device_id = principals.id ORDER BY b.seq DESC LIMIT 1),
  last_received_at = (SELECT b.received_at FROM bundles b WHERE b.device_id = principals.id ORDER BY b.seq DESC LIMIT 1)
  WHERE role = 'device' AND last_seq IS NULL;
INSERT INTO meta(key, value) VALUES ('trust_version', '1') ON CONFLICT DO NOTHING;
"#;

/// The next value of a commit-order counter (`bundles`, `receipts`).
///
/// Why a cursor over these ids never skips a row: a `BIGSERIAL` hands out
/// ids at INSERT time, so a transaction holding id 5 can commit after one
/// holding id 6, and a reader that saw 6 moves its cursor past 5 for good.
/// Here the id comes from `UPDATE counters ... RETURNING`, which keeps the
/// counter row locked until the transaction ends. The next transaction
/// blocks on that row until the first has committed (or rolled back), and
/// then (READ COMMITTED re-reads the updated row) takes the next value. So
/// ids are handed out in commit order: when a reader's snapshot shows id n,
/// every transaction holding an id below n has already ended, and its row
/// is in that snapshot too (or never will be: a rolled-back id is only a
/// gap). Transactions take `bundles` before `receipts`, so two of them can
/// never wait on each other in a cycle.
fn next_id(tx: &mut Transaction<'_>, counter: &str) -> StoreResult<i64> {
    Ok(tx
        .query_one(
            "UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value",
            &[&counter],
        )?
        .get(0))
}

/// Inserts a receipt inside `tx`, its id from the commit-order counter
/// (public for the concurrency test, which holds such a transaction open).
pub fn insert_receipt(
    tx: &mut Transaction<'_>,
    device: Uuid,
    text: &str,
    at: i64,
) -> StoreResult<()> {
    let exists = tx
        .query_opt("SELECT 1 FROM receipts WHERE text = $1", &[&text])?
        .is_some();
    if exists {
        return Ok(());
    }
    let id = next_id(tx, "receipts")?;
    tx.execute(
        "INSERT INTO receipts(id, device_id, text, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        &[&id, &device.to_string(), &text, &at],
    )?;
    Ok(())
}

/// Inserts an accepted bundle (and its receipt) inside `tx`; the existing
/// receipt if the bundle was accepted before. Public for the concurrency
/// test.
pub fn insert_bundle(
    tx: &mut Transaction<'_>,
    b: &BundleRow,
    receipt: &str,
) -> StoreResult<Option<String>> {
    if let Some(r) = tx.query_opt(
        "SELECT receipt FROM bundles WHERE bundle_id = $1",
        &[&b.bundle_id],
    )? {
        return Ok(Some(r.get(0)));
    }
    let seq = next_id(tx, "bundles")?;
    let n = tx.execute(
        "INSERT INTO bundles(seq, bundle_id, file_sha256, device_id, size, received_at, acked_at, receipt)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7) ON CONFLICT (bundle_id) DO NOTHING",
        &[&seq, &b.bundle_id, &b.file_sha256, &b.device_id.to_string(), &(b.size as i64), &b.received_at, &receipt],
    )?;
    if n == 0 {
        let existing: String = tx
            .query_one(
                "SELECT receipt FROM bundles WHERE bundle_id = $1",
                &[&b.bundle_id],
            )?
            .get(0);
        return Ok(Some(existing));
    }
    tx.execute(
        "UPDATE principals SET last_seq = $2, last_bundle_id = $3, last_received_at = $4
         WHERE id = $1 AND (last_seq IS NULL OR last_seq < $2)",
        &[&b.device_id.to_string(), &seq, &b.bundle_id, &b.received_at],
    )?;
    insert_receipt(tx, b.device_id, receipt, b.received_at)?;
    Ok(None)
}

fn current_version(tx: &mut Transaction<'_>) -> StoreResult<u64> {
    let v: Option<String> = tx
        .query_opt("SELECT value FROM meta WHERE key = 'trust_version'", &[])?
        .map(|r| r.get(0));
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Bumps the trust version, serialised across instances by an advisory
/// lock held until commit.
fn next_version(tx: &mut Transaction<'_>, expected: Option<u64>) -> StoreResult<u64> {
    tx.execute("SELECT pg_advisory_xact_lock(7305311)", &[])?;
    let current = current_version(tx)?;
    if let Some(e) = expected
        && e != current
    {
        return Err(StoreError::StaleTrust { current });
    }
    let next = current + 1;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('trust_version', $1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        &[&next.to_string()],
    )?;
    Ok(next)
}

fn current_coordinator_ids(tx: &mut Transaction<'_>) -> StoreResult<Vec<String>> {
    Ok(tx
        .query(
            "SELECT id FROM principals WHERE role = 'coordinator' AND revoked_from IS NULL",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

const POOL: usize = 16;

/// A PostgreSQL store with a small connection pool.
pub struct PgStore {
    url: String,
    idle: Mutex<Vec<Client>>,
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn uuid(s: &str) -> StoreResult<Uuid> {
    s.parse()
        .map_err(|_| StoreError::Backend("a stored device id is not a UUID".into()))
}

const BUNDLE_COLS: &str = "seq, bundle_id, file_sha256, device_id, size, received_at";

fn bundle(r: &Row) -> StoreResult<BundleRow> {
    Ok(BundleRow {
        seq: r.try_get(0)?,
        bundle_id: r.try_get(1)?,
        file_sha256: r.try_get(2)?,
        device_id: uuid(r.try_get(3)?)?,
        size: u64::try_from(r.try_get::<_, i64>(4)?).unwrap_or(0),
        received_at: r.try_get(5)?,
    })
}

impl PgStore {
    /// Connects and creates the schema.
    pub fn open(url: &str) -> StoreResult<Self> {
        let s = Self {
            url: url.to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        s.with(|c| {
            // Instances starting together: one creates the schema, the
            // others wait (concurrent CREATE ... IF NOT EXISTS can fail).
            let mut tx = c.transaction()?;
            tx.batch_execute("SELECT pg_advisory_xact_lock(7305310);")?;
            tx.batch_execute(SCHEMA)?;
            tx.batch_execute(MIGRATE)?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(s)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Client) -> StoreResult<T>) -> StoreResult<T> {
        let pooled = self
            .idle
            .lock()
            .map_err(|_| StoreError::Backend("pool lock poisoned".into()))?
            .pop();
        let mut client = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => Client::connect(&self.url, NoTls)?,
        };
        let out = f(&mut client);
        if !client.is_closed()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < POOL
        {
            idle.push(client);
        }
        out
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )?;
            Ok(())
        })
    }

    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(
                c.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?
                    .map(|r| r.get(0)),
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
            let mut tx = c.transaction()?;
            let version = next_version(&mut tx, expected)?;
            for p in set {
                let existing = tx.query_opt(
                    "SELECT role, revoked_from FROM principals WHERE id = $1",
                    &[&p.id.to_string()],
                )?;
                if let Some(r) = existing {
                    if r.get::<_, Option<String>>(1).is_some() {
                        return Err(StoreError::CoordinatorRevoked(p.id));
                    }
                    if r.get::<_, String>(0) != "coordinator" {
                        return Err(StoreError::AlreadyEnrolled);
                    }
                }
                tx.execute(
                    "INSERT INTO principals(id, role, signing_key, age_recipient, revoked_from, enrolled_at)
                     VALUES ($1, 'coordinator', $2, $3, NULL, $4)
                     ON CONFLICT(id) DO UPDATE SET signing_key = excluded.signing_key,
                       age_recipient = excluded.age_recipient",
                    &[&p.id.to_string(), &p.signing_key, &p.age_recipient, &now.unix_timestamp()],
                )?;
            }
            let keep: Vec<String> = set.iter().map(|p| p.id.to_string()).collect();
            for id in current_coordinator_ids(&mut tx)? {
                if !keep.contains(&id) {
                    tx.execute(
                        "UPDATE principals SET revoked_from = $2 WHERE id = $1",
                        &[&id, &rfc3339(now)],
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
            let mut tx = c.transaction()?;
            let version = next_version(&mut tx, expected)?;
            let current = current_coordinator_ids(&mut tx)?;
            if !current.contains(&id.to_string()) {
                return Err(StoreError::NotFound);
            }
            if current.len() == 1 {
                return Err(StoreError::LastCoordinator);
            }
            tx.execute(
                "UPDATE principals SET revoked_from = $2 WHERE id = $1",
                &[&id.to_string(), &rfc3339(now)],
            )?;
            tx.commit()?;
            Ok(version)
        })
    }

    fn coordinators(&self) -> StoreResult<(Vec<Principal>, u64)> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let version = current_version(&mut tx)?;
            let rows = tx.query(
                "SELECT id, signing_key, age_recipient FROM principals
                 WHERE role = 'coordinator' AND revoked_from IS NULL ORDER BY id",
                &[],
            )?;
            let mut v = Vec::with_capacity(rows.len());
            for r in rows {
                v.push(Principal {
                    id: uuid(r.get(0))?,
                    role: Role::Coordinator,
                    signing_key: r.get(1),
                    age_recipient: r.get(2),
                    revoked_from: None,
                });
            }
            tx.commit()?;
            Ok((v, version))
        })
    }

    fn principal(&self, id: Uuid) -> StoreResult<Option<Principal>> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT role, signing_key, age_recipient, revoked_from FROM principals WHERE id = $1",
                &[&id.to_string()],
            )?;
            Ok(row.map(|r| Principal {
                id,
                role: if r.get::<_, String>(0) == "coordinator" { Role::Coordinator } else { Role::Device },
                signing_key: r.get(1),
                age_recipient: r.get(2),
                revoked_from: r.get::<_, Option<String>>(3).and_then(|s| {
                    OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).ok()
                }),
            }))
        })
    }

    fn enroll(&self, code_id: &str, p: &Principal, now: i64) -> StoreResult<()> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            // Serialise enrollments of the same code across instances.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&code_id])?;
            let used: Option<String> = tx
                .query_opt("SELECT device_id FROM used_codes WHERE code_id = $1", &[&code_id])?
                .map(|r| r.get(0));
            let existing: Option<String> = tx
                .query_opt("SELECT signing_key FROM principals WHERE id = $1", &[&p.id.to_string()])?
                .map(|r| r.get(0));
            match (used, existing) {
                (Some(dev), Some(key)) if dev == p.id.to_string() && key == p.signing_key => return Ok(()),
                (Some(_), _) => return Err(StoreError::CodeUsed),
                (None, Some(_)) => return Err(StoreError::AlreadyEnrolled),
                (None, None) => {}
            }
            tx.execute(
                "INSERT INTO used_codes(code_id, device_id, used_at) VALUES ($1, $2, $3)",
                &[&code_id, &p.id.to_string(), &now],
            )?;
            let role = match p.role {
                Role::Coordinator => "coordinator",
                Role::Device => "device",
            };
            tx.execute(
                "INSERT INTO principals(id, role, signing_key, age_recipient, revoked_from, enrolled_at)
                 VALUES ($1, $2, $3, $4, NULL, $5)",
                &[&p.id.to_string(), &role, &p.signing_key, &p.age_recipient, &now],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn revoke(&self, id: Uuid, from: OffsetDateTime) -> StoreResult<DeviceRevocation> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let row = tx.query_opt(
                "SELECT revoked_from, last_seq, last_bundle_id, last_received_at
                 FROM principals WHERE id = $1 AND role = 'device' FOR UPDATE",
                &[&id.to_string()],
            )?;
            let Some(r) = row else {
                return Err(StoreError::NotFound);
            };
            let stored = r.get::<_, Option<String>>(0).and_then(|s| {
                OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).ok()
            });
            // One rule: a revocation only ever moves earlier.
            let in_force = match stored {
                Some(t) if t <= from => t,
                _ => {
                    tx.execute(
                        "UPDATE principals SET revoked_from = $2 WHERE id = $1",
                        &[&id.to_string(), &rfc3339(from)],
                    )?;
                    from
                }
            };
            let last = match (
                r.get::<_, Option<i64>>(1),
                r.get::<_, Option<String>>(2),
                r.get::<_, Option<i64>>(3),
            ) {
                (Some(s), Some(b), Some(a)) => Some((s, b, a)),
                _ => None,
            };
            tx.commit()?;
            Ok(DeviceRevocation {
                revoked_from: in_force,
                last_bundle: last,
            })
        })
    }

    fn use_nonce(&self, signer: Uuid, nonce: &str, time: i64) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO nonces(signer, nonce, time) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&signer.to_string(), &nonce, &time],
            )?;
            Ok(n == 1)
        })
    }

    fn prune_nonces(&self, before: i64) -> StoreResult<()> {
        self.with(|c| {
            c.execute("DELETE FROM nonces WHERE time < $1", &[&before])?;
            Ok(())
        })
    }

    fn upload_create(&self, u: &Upload) -> StoreResult<Upload> {
        self.with(|c| {
            c.execute(
                "INSERT INTO uploads(id, device_id, size, sha256, chunk_size, chunks, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &u.id,
                    &u.device_id.to_string(),
                    &(u.size as i64),
                    &u.sha256,
                    &(u.chunk_size as i64),
                    &u.chunks.join(","),
                    &u.created_at,
                ],
            )?;
            Ok(())
        })?;
        self.upload(&u.id)?.ok_or(StoreError::NotFound)
    }

    fn upload(&self, id: &str) -> StoreResult<Option<Upload>> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT device_id, size, sha256, chunk_size, chunks, created_at FROM uploads WHERE id = $1",
                &[&id],
            )?;
            row.map(|r| {
                Ok(Upload {
                    id: id.to_owned(),
                    device_id: uuid(r.get(0))?,
                    size: r.get::<_, i64>(1) as u64,
                    sha256: r.get(2),
                    chunk_size: r.get::<_, i64>(3) as u64,
                    chunks: r.get::<_, String>(4).split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                    created_at: r.get(5),
                })
            })
            .transpose()
        })
    }

    fn uploads_of(&self, device: Uuid) -> StoreResult<(u64, u64)> {
        self.with(|c| {
            let r = c.query_one(
                "SELECT COUNT(*), COALESCE(SUM(size), 0)::BIGINT FROM uploads WHERE device_id = $1",
                &[&device.to_string()],
            )?;
            Ok((r.get::<_, i64>(0) as u64, r.get::<_, i64>(1) as u64))
        })
    }

    fn upload_delete(&self, id: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute("DELETE FROM uploads WHERE id = $1", &[&id])?;
            Ok(())
        })
    }

    fn uploads_older(&self, before: i64) -> StoreResult<Vec<String>> {
        self.with(|c| {
            Ok(
                c.query("SELECT id FROM uploads WHERE created_at < $1", &[&before])?
                    .iter()
                    .map(|r| r.get(0))
                    .collect(),
            )
        })
    }

    fn bundle_accept(&self, b: &BundleRow, receipt: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let out = insert_bundle(&mut tx, b, receipt)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn bundle(&self, bundle_id: &str) -> StoreResult<Option<BundleRow>> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {BUNDLE_COLS} FROM bundles WHERE bundle_id = $1"),
                &[&bundle_id],
            )?
            .map(|r| bundle(&r))
            .transpose()
        })
    }

    fn bundle_by_file(&self, device: Uuid, file_sha256: &str) -> StoreResult<Option<BundleRow>> {
        self.with(|c| {
            c.query_opt(
                &format!(
                    "SELECT {BUNDLE_COLS} FROM bundles WHERE file_sha256 = $1 AND device_id = $2 LIMIT 1"
                ),
                &[&file_sha256, &device.to_string()],
            )?
            .map(|r| bundle(&r))
            .transpose()
        })
    }

    fn bundle_receipt(&self, bundle_id: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT receipt FROM bundles WHERE bundle_id = $1",
                &[&bundle_id],
            )?
            .map(|r| r.get(0)))
        })
    }

    fn bundles_pending(
        &self,
        coordinator: Uuid,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<BundleRow>> {
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT {BUNDLE_COLS} FROM bundles b WHERE seq > $1
                       AND NOT EXISTS (SELECT 1 FROM acks a WHERE a.bundle_id = b.bundle_id AND a.coordinator_id = $3)
                     ORDER BY seq LIMIT $2"
                ),
                &[&after, &i64::from(limit), &coordinator.to_string()],
            )?
            .iter()
            .map(bundle)
            .collect()
        })
    }

    fn bundle_ack(&self, bundle_id: &str, coordinator: Uuid, at: i64) -> StoreResult<()> {
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO acks(bundle_id, coordinator_id, at)
                 SELECT bundle_id, $2, $3 FROM bundles WHERE bundle_id = $1
                 ON CONFLICT DO NOTHING",
                &[&bundle_id, &coordinator.to_string(), &at],
            )?;
            if n == 0
                && c.query_opt("SELECT 1 FROM bundles WHERE bundle_id = $1", &[&bundle_id])?
                    .is_none()
            {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn bundles_acked_before(&self, before: i64) -> StoreResult<Vec<String>> {
        self.with(|c| {
            Ok(c.query(
                &format!(
                    "SELECT b.bundle_id FROM bundles b WHERE {}",
                    fully_acked_sql("$1")
                ),
                &[&before],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn bundle_forget(&self, bundle_id: &str) -> StoreResult<()> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute("DELETE FROM acks WHERE bundle_id = $1", &[&bundle_id])?;
            tx.execute("DELETE FROM bundles WHERE bundle_id = $1", &[&bundle_id])?;
            tx.commit()?;
            Ok(())
        })
    }

    fn device_usage(&self, device: Uuid) -> StoreResult<u64> {
        self.with(|c| {
            let n: i64 = c
                .query_one(
                    &format!(
                        "SELECT COALESCE(SUM(size), 0)::BIGINT FROM bundles b WHERE device_id = $1 AND NOT {}",
                        fully_acked_sql("$2")
                    ),
                    &[&device.to_string(), &i64::MAX],
                )?
                .get(0);
            Ok(n as u64)
        })
    }

    fn receipt_add(&self, device: Uuid, text: &str, at: i64) -> StoreResult<()> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            insert_receipt(&mut tx, device, text, at)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn receipts(&self, device: Uuid, after: i64) -> StoreResult<Vec<(i64, String)>> {
        self.with(|c| {
            Ok(c.query(
                "SELECT id, text FROM receipts WHERE device_id = $1 AND id > $2 ORDER BY id LIMIT 1000",
                &[&device.to_string(), &after],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }

    fn counts(&self) -> StoreResult<Counts> {
        self.with(|c| {
            let mut q = |sql: &str| -> StoreResult<u64> {
                let n: i64 = c.query_one(sql, &[])?.get(0);
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

    fn shared_rate(&self) -> bool {
        true
    }

    fn rate_peek(&self, key: &str) -> StoreResult<u32> {
        self.with(|c| {
            let n: Option<i64> = c
                .query_opt(
                    "SELECT n FROM rate_windows
                     WHERE key = $1 AND started > extract(epoch from clock_timestamp())::bigint - 60",
                    &[&key],
                )?
                .map(|r| r.get(0));
            Ok(u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX))
        })
    }

    fn rate_hit(&self, key: &str) -> StoreResult<u32> {
        self.with(|c| {
            // One statement: the row is locked while it is updated, so two
            // instances counting at once both count.
            let n: i64 = c
                .query_one(
                    "INSERT INTO rate_windows(key, started, n)
                     VALUES ($1, extract(epoch from clock_timestamp())::bigint, 1)
                     ON CONFLICT (key) DO UPDATE SET
                       n = CASE WHEN rate_windows.started <= excluded.started - 60
                                THEN 1 ELSE rate_windows.n + 1 END,
                       started = CASE WHEN rate_windows.started <= excluded.started - 60
                                      THEN excluded.started ELSE rate_windows.started END
                     RETURNING n",
                    &[&key],
                )?
                .get(0);
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }

    fn rate_entries(&self) -> StoreResult<u64> {
        self.with(|c| {
            c.execute(
                "DELETE FROM rate_windows WHERE started <= extract(epoch from clock_timestamp())::bigint - 60",
                &[],
            )?;
            let n: i64 = c
                .query_one("SELECT COUNT(*) FROM rate_windows WHERE key <> 'enroll'", &[])?
                .get(0);
            Ok(n as u64)
        })
    }

    fn housekeeping_lease(&self, holder: &str, secs: i64) -> StoreResult<bool> {
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO leases(name, holder, until)
                 VALUES ('housekeeping', $1, extract(epoch from clock_timestamp())::bigint + $2)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                 WHERE leases.until < extract(epoch from clock_timestamp())::bigint
                    OR leases.holder = excluded.holder",
                &[&holder, &secs],
            )?;
            Ok(n == 1)
        })
    }
}
