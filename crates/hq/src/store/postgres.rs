//! PostgreSQL metadata store, for an organisation running several server
//! instances behind a load balancer (blobs then live on shared storage).
//! Same [`Store`] trait and the same story tests as SQLite.

use std::sync::Mutex;

use postgres::{Client, NoTls, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{BundleRow, Counts, Principal, Role, Store, StoreError, StoreResult, Upload};

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
"#;

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

const BUNDLE_COLS: &str = "seq, bundle_id, file_sha256, device_id, size, received_at, acked_at";

fn bundle(r: &Row) -> StoreResult<BundleRow> {
    Ok(BundleRow {
        seq: r.try_get(0)?,
        bundle_id: r.try_get(1)?,
        file_sha256: r.try_get(2)?,
        device_id: uuid(r.try_get(3)?)?,
        size: u64::try_from(r.try_get::<_, i64>(4)?).unwrap_or(0),
        received_at: r.try_get(5)?,
        acked_at: r.try_get(6)?,
    })
}

impl PgStore {
    /// Connects and creates the schema.
    pub fn open(url: &str) -> StoreResult<Self> {
        let s = Self {
            url: url.to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        s.with(|c| Ok(c.batch_execute(SCHEMA)?))?;
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

    fn upsert_coordinator(&self, p: &Principal) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO principals(id, role, signing_key, age_recipient, revoked_from, enrolled_at)
                 VALUES ($1, 'coordinator', $2, $3, NULL, $4)
                 ON CONFLICT(id) DO UPDATE SET role = 'coordinator', signing_key = excluded.signing_key,
                   age_recipient = excluded.age_recipient",
                &[&p.id.to_string(), &p.signing_key, &p.age_recipient, &OffsetDateTime::now_utc().unix_timestamp()],
            )?;
            Ok(())
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

    fn revoke(&self, id: Uuid, from: OffsetDateTime) -> StoreResult<()> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE principals SET revoked_from = $2 WHERE id = $1 AND role = 'device'",
                &[&id.to_string(), &rfc3339(from)],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
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

    fn uploads_of(&self, device: Uuid) -> StoreResult<u64> {
        self.with(|c| {
            let n: i64 = c
                .query_one(
                    "SELECT COUNT(*) FROM uploads WHERE device_id = $1",
                    &[&device.to_string()],
                )?
                .get(0);
            Ok(n as u64)
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
            let n = tx.execute(
                "INSERT INTO bundles(bundle_id, file_sha256, device_id, size, received_at, acked_at, receipt)
                 VALUES ($1, $2, $3, $4, $5, NULL, $6) ON CONFLICT (bundle_id) DO NOTHING",
                &[&b.bundle_id, &b.file_sha256, &b.device_id.to_string(), &(b.size as i64), &b.received_at, &receipt],
            )?;
            if n == 0 {
                let existing: String = tx
                    .query_one("SELECT receipt FROM bundles WHERE bundle_id = $1", &[&b.bundle_id])?
                    .get(0);
                tx.commit()?;
                return Ok(Some(existing));
            }
            tx.execute(
                "INSERT INTO receipts(device_id, text, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&b.device_id.to_string(), &receipt, &b.received_at],
            )?;
            tx.commit()?;
            Ok(None)
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

    fn bundle_by_file(&self, file_sha256: &str) -> StoreResult<Option<BundleRow>> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {BUNDLE_COLS} FROM bundles WHERE file_sha256 = $1 LIMIT 1"),
                &[&file_sha256],
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

    fn bundles_pending(&self, after: i64, limit: u32) -> StoreResult<Vec<BundleRow>> {
        self.with(|c| {
            c.query(
                &format!("SELECT {BUNDLE_COLS} FROM bundles WHERE acked_at IS NULL AND seq > $1 ORDER BY seq LIMIT $2"),
                &[&after, &i64::from(limit)],
            )?
            .iter()
            .map(bundle)
            .collect()
        })
    }

    fn bundle_ack(&self, bundle_id: &str, at: i64) -> StoreResult<()> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE bundles SET acked_at = COALESCE(acked_at, $2) WHERE bundle_id = $1",
                &[&bundle_id, &at],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn bundles_acked_before(&self, before: i64) -> StoreResult<Vec<String>> {
        self.with(|c| {
            Ok(c.query(
                "SELECT bundle_id FROM bundles WHERE acked_at IS NOT NULL AND acked_at < $1",
                &[&before],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn bundle_forget(&self, bundle_id: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute("DELETE FROM bundles WHERE bundle_id = $1", &[&bundle_id])?;
            Ok(())
        })
    }

    fn device_usage(&self, device: Uuid) -> StoreResult<u64> {
        self.with(|c| {
            let n: i64 = c
                .query_one(
                    "SELECT COALESCE(SUM(size), 0)::BIGINT FROM bundles WHERE device_id = $1 AND acked_at IS NULL",
                    &[&device.to_string()],
                )?
                .get(0);
            Ok(n as u64)
        })
    }

    fn receipt_add(&self, device: Uuid, text: &str, at: i64) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO receipts(device_id, text, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&device.to_string(), &text, &at],
            )?;
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
                bundles_pending: q("SELECT COUNT(*) FROM bundles WHERE acked_at IS NULL")?,
                bundles_acked: q("SELECT COUNT(*) FROM bundles WHERE acked_at IS NOT NULL")?,
                uploads_open: q("SELECT COUNT(*) FROM uploads")?,
                receipts: q("SELECT COUNT(*) FROM receipts")?,
            })
        })
    }
}
