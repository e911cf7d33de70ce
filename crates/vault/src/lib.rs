//! The Yaddash vault: everything one user has collected, encrypted at rest.
//!
//! A vault is a directory:
//!
//! ```text
//! keyslots/passphrase.age   the database key, age-encrypted with the passphrase (scrypt)
//! keyslots/recovery.age     the database key, age-encrypted with the recovery code
//! vault.db (+ -wal, -shm)   SQLCipher database: records, revisions, attachment metadata, search index
//! attachments/<random>      age files encrypted to the vault's storage key
//! ```
//!
//! Nothing in it is readable without the passphrase or the recovery code; see
//! `docs/vault-format.md` for reading a vault with stock tools.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attachment;
mod destroy;
mod duress;
mod error;
pub mod evidence;
mod exchange;
mod fsutil;
mod keyslot;
mod recording;
pub mod register_store;
mod schema;
mod settings;
mod travel;

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use yaddash_model::fold::FOLD_VERSION;
use yaddash_model::{Record, RecordKind};

pub use attachment::{guess_media_type, padme};
pub use destroy::{DestroyReport, destroy};
pub use duress::{
    CoercionStore, GuardState, Refusal, UNLOCK_LIMIT_RANGE, Unlocked, guard_state, is_decoy_dir,
    unlock,
};
pub use error::{Result, VaultError};
pub use exchange::{
    BundleIn, BundleOut, CurrentRule, DeviceRow, ExchangeStore, ImportCounts, ImportOverride,
    PendingExport, RecordChanges, RevisionConflict, RevisionRow,
};
pub use keyslot::{DEFAULT_WORK_FACTOR, MIN_WORK_FACTOR, RecoveryCode};
pub use recording::{
    MIN_FREE_SPACE_TO_START, MIN_FREE_SPACE_WHILE_RECORDING, RecordingInfo, RecordingStart,
    RecordingStore, RecordingWriter,
};
pub use register_store::RegisterStore;
pub use schema::SCHEMA_VERSION;
pub use settings::Setting;
pub use travel::{AttachmentCoverage, Compacted, Removed, RevisionCoverage, TravelStore};

use error::{IoContext, io_error};
use fsutil::{random_name, sync_dir};
use keyslot::{MasterKey, SlotKind};

/// What a vault is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[ts(rename = "Role")]
#[serde(rename_all = "snake_case")]
pub enum VaultRole {
    /// A field interviewer's vault: collects and sends.
    Field,
    /// A coordinator's vault: imports, merges, keeps the register.
    Coordinator,
}

impl VaultRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            VaultRole::Field => "field",
            VaultRole::Coordinator => "coordinator",
        }
    }
}

impl FromStr for VaultRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "field" => Ok(VaultRole::Field),
            "coordinator" => Ok(VaultRole::Coordinator),
            _ => Err(format!("unknown role {s:?}: use field or coordinator")),
        }
    }
}

/// How to unlock a vault.
pub enum Unlock {
    /// With the passphrase.
    Passphrase(SecretString),
    /// With the recovery code shown at creation.
    Recovery(RecoveryCode),
}

/// Options for [`Vault::create`].
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Field or coordinator.
    pub role: VaultRole,
    /// scrypt work factor (log2 N) of the keyslots. Lower only for tests.
    pub kdf_work_factor: u8,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            role: VaultRole::Field,
            kdf_work_factor: DEFAULT_WORK_FACTOR,
        }
    }
}

/// A record as stored, with its custody metadata.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct StoredRecord {
    /// Record id (UUIDv7).
    pub id: Uuid,
    /// Current revision number (1 for a new record).
    pub rev: i64,
    /// The current body.
    #[serde(flatten)]
    pub record: Record,
    /// SHA-256 of the current body's canonical JSON, fixed when saved.
    pub body_sha256: String,
    /// When the record was first saved (RFC 3339, UTC).
    pub created_at: String,
    /// The device that first saved it.
    pub created_by: String,
    /// When the current revision was saved.
    pub updated_at: String,
    /// The device that saved the current revision.
    pub updated_by: String,
}

/// One revision of a record.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Revision {
    /// Revision number, from 1.
    pub rev: i64,
    /// The body as it was.
    #[ts(type = "unknown")]
    pub body: serde_json::Value,
    /// SHA-256 of the body's canonical JSON.
    pub body_sha256: String,
    /// The device that saved it.
    pub author: String,
    /// When (RFC 3339, UTC).
    pub at: String,
}

/// Metadata of an attachment. The name is the original file name, which can
/// be sensitive: show it to the user only, never log it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct AttachmentInfo {
    /// Attachment id (UUIDv7).
    pub id: Uuid,
    /// The record it belongs to.
    pub record_id: Uuid,
    /// Original file name.
    pub name: String,
    /// Media type (guessed from the name unless given).
    pub media_type: String,
    /// Size in bytes of the original.
    pub size: u64,
    /// SHA-256 of the original, fixed at capture.
    pub sha256: String,
    /// When it was captured (RFC 3339, UTC).
    pub captured_at: String,
    /// The device that captured it.
    pub captured_by: String,
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// Record id.
    pub id: Uuid,
    /// Its kind.
    pub kind: RecordKind,
    /// A one-line label (contains names: for the user's eyes only).
    pub label: String,
}

/// What `vault check` found.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct CheckReport {
    /// Records checked.
    pub records: u64,
    /// Revisions checked.
    pub revisions: u64,
    /// Attachments re-hashed.
    pub attachments: u64,
    /// Bytes of attachments re-hashed.
    pub attachment_bytes: u64,
    /// Problems: the vault is not clean if any.
    pub problems: Vec<String>,
    /// Encrypted files in attachments/ that no record refers to (left by an
    /// interrupted import); harmless, reported for completeness.
    pub orphan_files: u64,
    /// Facts that are not problems but must be named: recordings cut short
    /// and recovered from their complete segments, recordings in progress.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl CheckReport {
    /// True when no problem was found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Progress callback: bytes done so far; return `false` to cancel.
pub type Progress<'a> = &'a mut dyn FnMut(u64) -> bool;

/// An open, unlocked vault.
pub struct Vault {
    dir: PathBuf,
    conn: Connection,
    key: MasterKey,
    device_id: Uuid,
    role: VaultRole,
    storage: age::x25519::Identity,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

const DB_FILE: &str = "vault.db";
const ATTACHMENTS: &str = "attachments";

impl Vault {
    /// Creates a new vault in `dir` (which must not exist or be empty).
    /// Returns the vault and the recovery code, to be shown to the user once.
    pub fn create(
        dir: &Path,
        passphrase: &SecretString,
        options: &CreateOptions,
    ) -> Result<(Vault, RecoveryCode)> {
        check_passphrase(passphrase)?;
        if dir.exists() {
            let mut entries = fs::read_dir(dir).ctx(|| format!("reading {}", dir.display()))?;
            if entries.next().is_some() {
                return Err(VaultError::AlreadyExists(dir.to_path_buf()));
            }
        }
        keyslot::ensure_dir(&dir.join("keyslots"))?;
        keyslot::ensure_dir(&dir.join(ATTACHMENTS))?;
        let key = MasterKey::generate();
        let recovery = RecoveryCode::generate();
        let wf = options.kdf_work_factor;
        keyslot::write_slot(dir, SlotKind::Recovery, recovery.secret(), &key, wf)?;
        keyslot::write_slot(dir, SlotKind::Passphrase, passphrase, &key, wf)?;

        let mut conn = open_db(&dir.join(DB_FILE), &key, true)?;
        schema::migrate(&mut conn)?;
        let device_id = Uuid::now_v7();
        let storage = age::x25519::Identity::generate();
        let tx = conn.transaction()?;
        {
            let mut put = tx.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)")?;
            put.execute(params![settings::DEVICE_ID, device_id.to_string()])?;
            put.execute(params![settings::ROLE, options.role.as_str()])?;
            put.execute(params![settings::CREATED_AT, now()])?;
            put.execute(params![
                settings::STORAGE_IDENTITY,
                storage.to_string().expose_secret()
            ])?;
            put.execute(params![settings::FOLD_VERSION, FOLD_VERSION.to_string()])?;
        }
        tx.commit()?;
        duress::reserve_pages(&conn)?;
        // Always there, whether or not they are used (see duress.rs).
        duress::prepare_layout(dir, options.role, wf)?;
        sync_dir(dir)?;
        let vault = Vault {
            dir: dir.to_path_buf(),
            conn,
            key,
            device_id,
            role: options.role,
            storage,
        };
        Ok((vault, recovery))
    }

    /// Opens an existing vault.
    pub fn open(dir: &Path, unlock: &Unlock) -> Result<Vault> {
        let db_path = dir.join(DB_FILE);
        if !dir.join("keyslots").is_dir() || !db_path.is_file() {
            return Err(VaultError::NotAVault(dir.to_path_buf()));
        }
        let key = match unlock {
            Unlock::Passphrase(p) => keyslot::open_slot(dir, SlotKind::Passphrase, p)?,
            Unlock::Recovery(code) => keyslot::open_slot(dir, SlotKind::Recovery, code.secret())?,
        }
        .ok_or(VaultError::WrongPassphrase)?;
        Vault::open_keyed(dir, key)
    }

    /// Opens the database with a key a keyslot gave.
    pub(crate) fn open_keyed(dir: &Path, key: MasterKey) -> Result<Vault> {
        let db_path = dir.join(DB_FILE);
        let mut conn = open_db(&db_path, &key, false)?;
        schema::migrate(&mut conn)?;
        let get = |k: &str| -> Result<String> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()?
                .ok_or_else(|| VaultError::Corrupt(format!("vault metadata lacks {k}")))
        };
        let device_id = Uuid::parse_str(&get(settings::DEVICE_ID)?)
            .map_err(|_| VaultError::Corrupt("bad device id".into()))?;
        let role = get(settings::ROLE)?.parse().map_err(VaultError::Corrupt)?;
        let storage = age::x25519::Identity::from_str(&get(settings::STORAGE_IDENTITY)?)
            .map_err(|_| VaultError::Corrupt("bad storage key".into()))?;
        let fold_version = get(settings::FOLD_VERSION)?;
        let mut vault = Vault {
            dir: dir.to_path_buf(),
            conn,
            key,
            device_id,
            role,
            storage,
        };
        if fold_version != FOLD_VERSION.to_string() {
            vault.rebuild_search_index()?;
        }
        vault.remove_partial_files();
        // A recording cut short by a crash is saved from its complete segments.
        vault.recover_recordings()?;
        // A travel-mode removal cut short by a crash is finished first.
        travel::finish_pending_removals(&mut vault, &mut |_, _| {})?;
        Ok(vault)
    }

    /// The vault directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This device's id (recorded as author of everything saved here).
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// Field or coordinator.
    pub fn role(&self) -> VaultRole {
        self.role
    }

    /// Replaces the passphrase. Only the passphrase keyslot is rewritten.
    pub fn change_passphrase(&self, new: &SecretString, work_factor: u8) -> Result<()> {
        check_passphrase(new)?;
        if self.fits_decoy(new) {
            return Err(VaultError::BadSecret(
                "the new passphrase must differ from the duress passphrase; nothing was changed",
            ));
        }
        keyslot::write_slot(&self.dir, SlotKind::Passphrase, new, &self.key, work_factor)
    }

    /// Saves a new record and returns its id. Durable when this returns.
    pub fn add(&mut self, record: &Record) -> Result<Uuid> {
        record.validate()?;
        let id = Uuid::now_v7();
        let body = record.body_json();
        let sha = sha256_hex(body.as_bytes());
        let at = now();
        let author = self.device_id.to_string();
        let tx = self.conn.transaction()?;
        check_references(&tx, record)?;
        tx.execute(
            "INSERT INTO records (id, kind, rev, body, body_sha256, created_at, created_by, updated_at, updated_by)
             VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?5, ?6)",
            params![id.to_string(), record.kind().as_str(), body, sha, at, author],
        )?;
        let rowid = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO revisions (record_id, rev, body, body_sha256, author, at) VALUES (?1, 1, ?2, ?3, ?4, ?5)",
            params![id.to_string(), body, sha, author, at],
        )?;
        index(&tx, rowid, record)?;
        tx.commit()?;
        Ok(id)
    }

    /// Saves a new revision of a record; earlier revisions are kept.
    /// Returns the new revision number.
    pub fn update(&mut self, id: Uuid, record: &Record) -> Result<i64> {
        record.validate()?;
        let body = record.body_json();
        let sha = sha256_hex(body.as_bytes());
        let at = now();
        let author = self.device_id.to_string();
        let tx = self.conn.transaction()?;
        let (rowid, kind, rev): (i64, String, i64) = tx
            .query_row(
                "SELECT rowid, kind, rev FROM records WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(VaultError::NotFound { kind: "record", id })?;
        let existing = RecordKind::parse(&kind)
            .ok_or_else(|| VaultError::Corrupt("unknown record kind".into()))?;
        if existing != record.kind() {
            return Err(VaultError::KindChange {
                id,
                existing,
                new: record.kind(),
            });
        }
        check_references(&tx, record)?;
        let rev = rev + 1;
        tx.execute(
            "UPDATE records SET rev = ?2, body = ?3, body_sha256 = ?4, updated_at = ?5, updated_by = ?6 WHERE id = ?1",
            params![id.to_string(), rev, body, sha, at, author],
        )?;
        tx.execute(
            "INSERT INTO revisions (record_id, rev, body, body_sha256, author, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id.to_string(), rev, body, sha, author, at],
        )?;
        unindex(&tx, rowid)?;
        index(&tx, rowid, record)?;
        tx.commit()?;
        Ok(rev)
    }

    /// Reads the current revision of a record.
    pub fn get(&self, id: Uuid) -> Result<StoredRecord> {
        self.conn
            .query_row(
                &format!("SELECT {STORED_COLUMNS} FROM records WHERE id = ?1"),
                [id.to_string()],
                StoredRow::read,
            )
            .optional()?
            .ok_or(VaultError::NotFound { kind: "record", id })
            .and_then(StoredRow::parse)
    }

    /// Whether a record with this id exists.
    pub fn contains(&self, id: Uuid) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM records WHERE id = ?1",
                [id.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Whether an attachment id is already in the vault.
    pub fn has_attachment(&self, id: Uuid) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM attachments WHERE id = ?1",
                [id.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
    /// Every revision of a record, oldest first.
    pub fn history(&self, id: Uuid) -> Result<Vec<Revision>> {
        let mut stmt = self.conn.prepare(
            "SELECT rev, body, body_sha256, author, at FROM revisions WHERE record_id = ?1 ORDER BY rev",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (rev, body, body_sha256, author, at) = row?;
            let body = serde_json::from_str(&body)
                .map_err(|_| VaultError::Corrupt("a stored revision is not JSON".into()))?;
            out.push(Revision {
                rev,
                body,
                body_sha256,
                author,
                at,
            });
        }
        if out.is_empty() {
            return Err(VaultError::NotFound { kind: "record", id });
        }
        Ok(out)
    }

    /// Ids of all records of a kind, oldest first.
    pub fn list(&self, kind: RecordKind) -> Result<Vec<SearchHit>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM records WHERE kind = ?1 ORDER BY id")?;
        let rows = stmt.query_map([kind.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row?;
            out.push(hit(&id, kind.as_str(), &body)?);
        }
        Ok(out)
    }

    /// Every current record of `kind`, read in one query (the register and
    /// the exports read the whole vault; [`Vault::get`] per id costs a query
    /// and a parse each).
    pub fn all(&self, kind: RecordKind) -> Result<Vec<StoredRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {STORED_COLUMNS} FROM records WHERE kind = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([kind.as_str()], StoredRow::read)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.parse()?);
        }
        Ok(out)
    }

    /// The cases and interviews that refer to record `id` (as detainee,
    /// case or speaker), through the reference indexes (schema 5).
    pub fn referring(&self, id: Uuid) -> Result<Vec<SearchHit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, body FROM records WHERE json_extract(body, '$.detainee_id') = ?1
             UNION
             SELECT id, kind, body FROM records WHERE json_extract(body, '$.case_id') = ?1
             UNION
             SELECT id, kind, body FROM records WHERE json_extract(body, '$.speaker_id') = ?1
             ORDER BY kind, id",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (rid, kind, body) = row?;
            if kind == RecordKind::Person.as_str() {
                continue;
            }
            // The index found it; the parsed record must agree.
            let record = parse_body(&kind, &body)?;
            if record.references().contains(&id) {
                out.push(hit_of(&rid, &record)?);
            }
        }
        Ok(out)
    }

    /// The cases and interviews that name record `id` as their detainee or
    /// their case, whole and ordered by id, through the reference indexes
    /// (the register builds one page of persons from their sources this way
    /// instead of reading the vault).
    pub fn sources_of(&self, id: Uuid) -> Result<Vec<StoredRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {STORED_COLUMNS} FROM records WHERE json_extract(body, '$.detainee_id') = ?1
             UNION
             SELECT {STORED_COLUMNS} FROM records WHERE json_extract(body, '$.case_id') = ?1
             ORDER BY id"
        ))?;
        let rows = stmt.query_map([id.to_string()], StoredRow::read)?;
        let mut out = Vec::new();
        for row in rows {
            let stored = row?.parse()?;
            // The index found it; the parsed record must agree.
            let names_it = match &stored.record {
                Record::Case(c) => c.detainee_id == id,
                Record::Interview(i) => i.detainee_id == Some(id) || i.case_id == Some(id),
                Record::Person(_) => false,
            };
            if names_it {
                out.push(stored);
            }
        }
        Ok(out)
    }

    /// Full-text search over names and text, seeing through spelling variants
    /// across scripts. Every word of the query must match (as a prefix).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        self.search_kind(query, None, limit)
    }

    /// Like [`Vault::search`], only records of one kind (the kind is part of
    /// the query, so the best `limit` records *of that kind* are returned).
    ///
    /// Persons and cases are searched in their own small index (the lists
    /// search as the user types, and must stay fast on a one-letter prefix
    /// in a vault of 100,000 interviews); interviews, and all kinds at once,
    /// in the full index. Both hold the same folded keys, so a record
    /// matches exactly the same queries either way.
    pub fn search_kind(
        &self,
        query: &str,
        kind: Option<RecordKind>,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let Some(fts_query) = bench_support::fts_query(query) else {
            return Ok(Vec::new());
        };
        let sql = match kind {
            Some(RecordKind::Person | RecordKind::Case) => bench_support::LIST_SEARCH_SQL,
            Some(RecordKind::Interview) | None => bench_support::SEARCH_SQL,
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let kind = kind.map(RecordKind::as_str);
        let rows = stmt.query_map(params![fts_query, limit as i64, kind], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, body) = row?;
            out.push(hit(&id, &kind, &body)?);
        }
        Ok(out)
    }

    /// Rebuilds the search index from the records (after a change of folding rules).
    pub fn rebuild_search_index(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM search", [])?;
        tx.execute("DELETE FROM list_search", [])?;
        {
            let mut stmt = tx.prepare("SELECT rowid, kind, body FROM records")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let rowid: i64 = r.get(0)?;
                let record = parse_body(&r.get::<_, String>(1)?, &r.get::<_, String>(2)?)?;
                index(&tx, rowid, &record)?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![settings::FOLD_VERSION, FOLD_VERSION.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Imports an attachment from a file, streaming in constant memory.
    pub fn attach_file(
        &mut self,
        record_id: Uuid,
        path: &Path,
        media_type: Option<&str>,
        progress: Progress<'_>,
    ) -> Result<AttachmentInfo> {
        let file = File::open(path).ctx(|| format!("opening {}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        self.attach(
            record_id,
            &name,
            media_type,
            &mut BufReader::new(file),
            progress,
        )
    }

    /// Imports an attachment from any reader, streaming in constant memory.
    /// The SHA-256 is computed from the bytes as they arrive (capture hash).
    pub fn attach(
        &mut self,
        record_id: Uuid,
        name: &str,
        media_type: Option<&str>,
        input: &mut (dyn Read + Send),
        progress: Progress<'_>,
    ) -> Result<AttachmentInfo> {
        if !self.contains(record_id)? {
            return Err(VaultError::NotFound {
                kind: "record",
                id: record_id,
            });
        }
        let staged = self.stage_attachment(input, progress)?;
        let info = AttachmentInfo {
            id: Uuid::now_v7(),
            record_id,
            name: name.to_string(),
            media_type: media_type
                .unwrap_or_else(|| guess_media_type(name))
                .to_string(),
            size: staged.size,
            sha256: staged.sha256.clone(),
            captured_at: now(),
            captured_by: self.device_id.to_string(),
        };
        let res = insert_attachment(&self.conn, &info, &staged.file);
        if let Err(e) = res {
            self.discard_staged(std::slice::from_ref(&staged));
            return Err(e);
        }
        Ok(info)
    }

    /// Encrypts a stream into a new attachment file, durably (written as
    /// `.partial`, synced, renamed, directory synced), computing its size and
    /// SHA-256. The file belongs to no record until a row refers to it: on
    /// failure of what follows, call [`Vault::discard_staged`].
    pub fn stage_attachment(
        &self,
        input: &mut (dyn Read + Send),
        progress: Progress<'_>,
    ) -> Result<StagedFile> {
        self.stage_with(|w| attachment::copy_hashing_pipelined(input, w, progress))
    }

    /// Like [`Vault::stage_attachment`] for a reader that fails unless
    /// its bytes have the SHA-256 `sha256`: a bundle entry, checked
    /// against the signed manifest as it is decrypted, whose last read is an
    /// error when the bytes do not match. The hash is taken from the caller
    /// instead of being computed a second time over the same bytes. The
    /// reader stays on this thread (it need not cross threads); a second one
    /// encrypts.
    pub fn stage_attachment_checked(
        &self,
        input: &mut dyn Read,
        sha256: [u8; 32],
        progress: Progress<'_>,
    ) -> Result<StagedFile> {
        self.stage_with(|w| {
            attachment::copy_writing_beside(input, w, progress).map(|n| (n, sha256))
        })
    }

    fn stage_with(
        &self,
        copy: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<(u64, [u8; 32])>,
    ) -> Result<StagedFile> {
        let file_name = random_name();
        let dir = self.dir.join(ATTACHMENTS);
        let partial = dir.join(format!("{file_name}.partial"));
        let final_path = dir.join(&file_name);
        let result = (|| {
            let out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&partial)
                .ctx(|| "creating an attachment file".into())?;
            let recipient = self.storage.to_public();
            let mut w = yaddash_agefile::Writer::new(
                yaddash_os::WriteBehind::new(out)
                    .ctx(|| "starting the attachment writer".into())?,
                &[&recipient],
            )
            .ctx(|| "writing an attachment file".into())?;
            let (size, hash) = copy(&mut w).map_err(|e| {
                if e.kind() == io::ErrorKind::Interrupted {
                    VaultError::Cancelled
                } else {
                    io_error(e, || "reading or writing the attachment".into())
                }
            })?;
            attachment::write_zeros(&mut w, padme(size) - size)
                .ctx(|| "writing an attachment file".into())?;
            let behind = w.finish().ctx(|| "writing an attachment file".into())?;
            let file = behind
                .finish()
                .ctx(|| "writing an attachment file".into())?;
            file.sync_all()
                .ctx(|| "syncing an attachment file".into())?;
            drop(file);
            fs::rename(&partial, &final_path).ctx(|| "renaming an attachment file".into())?;
            sync_dir(&dir)?;
            Ok(StagedFile {
                file: file_name.clone(),
                size,
                sha256: hex::encode(hash),
            })
        })();
        if result.is_err() {
            let _ = fs::remove_file(&partial);
            let _ = fs::remove_file(&final_path);
        }
        result
    }

    /// Removes staged attachment files that no row will refer to.
    pub fn discard_staged(&self, files: &[StagedFile]) {
        for f in files {
            let _ = fs::remove_file(self.dir.join(ATTACHMENTS).join(&f.file));
        }
    }

    /// A reader of an attachment's original bytes (decrypted, without the
    /// padding). The age stream authenticates each chunk as it is read; the
    /// caller checks the SHA-256 (the bundle writer does).
    pub fn attachment_reader(&self, id: Uuid) -> Result<(AttachmentInfo, Box<dyn Read + Send>)> {
        let (info, file) = self.attachment_row(id)?;
        let reader = self.decrypting_reader(id, &file)?;
        let size = info.size;
        Ok((info, Box::new(reader.take(size))))
    }

    /// Opens an attachment file and starts decrypting it (padding included).
    fn decrypting_reader(&self, id: Uuid, file: &str) -> Result<yaddash_agefile::Reader<File>> {
        let path = self.dir.join(ATTACHMENTS).join(file);
        let f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(VaultError::AttachmentMissing(id));
            }
            Err(e) => return Err(e).ctx(|| "opening an attachment file".into()),
        };
        let corrupt = |problem: &str| VaultError::AttachmentCorrupt {
            id,
            problem: problem.to_string(),
        };
        yaddash_agefile::Reader::new(f, &[&self.storage]).map_err(|e| match e {
            yaddash_agefile::OpenError::Io(e) => {
                io_error(e, || "reading an attachment file".into())
            }
            yaddash_agefile::OpenError::Header => corrupt("the encrypted file's header is damaged"),
            _ => corrupt("the encrypted file does not decrypt with this vault's key"),
        })
    }

    /// Metadata of one attachment.
    pub fn attachment(&self, id: Uuid) -> Result<AttachmentInfo> {
        self.attachment_row(id).map(|(info, _)| info)
    }

    fn attachment_row(&self, id: Uuid) -> Result<(AttachmentInfo, String)> {
        self.conn
            .query_row(
                "SELECT record_id, name, media_type, size, sha256, captured_at, captured_by, file
                 FROM attachments WHERE id = ?1",
                [id.to_string()],
                |r| attachment_from_row(id, r),
            )
            .optional()?
            .ok_or(VaultError::NotFound {
                kind: "attachment",
                id,
            })
    }

    /// The attachments of a record.
    pub fn attachments_of(&self, record_id: Uuid) -> Result<Vec<AttachmentInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT record_id, name, media_type, size, sha256, captured_at, captured_by, file, id
             FROM attachments WHERE record_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([record_id.to_string()], |r| {
            let id: String = r.get(8)?;
            attachment_from_row(Uuid::parse_str(&id).unwrap_or_default(), r)
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.0);
        }
        Ok(out)
    }

    /// Decrypts an attachment into `out`, verifying its capture hash and the
    /// integrity of the whole encrypted file. On error, what was written to
    /// `out` must be discarded.
    pub fn export_attachment(
        &self,
        id: Uuid,
        out: &mut dyn Write,
        progress: Progress<'_>,
    ) -> Result<AttachmentInfo> {
        let (info, file) = self.attachment_row(id)?;
        self.verify_file(&info, &file, out, progress)?;
        Ok(info)
    }

    fn verify_file(
        &self,
        info: &AttachmentInfo,
        file: &str,
        out: &mut dyn Write,
        progress: Progress<'_>,
    ) -> Result<()> {
        let id = info.id;
        let corrupt = |problem: &str| VaultError::AttachmentCorrupt {
            id,
            problem: problem.to_string(),
        };
        let mut reader = self.decrypting_reader(id, file)?;
        let (n, hash) =
            attachment::copy_hashing_beside(&mut reader, out, Some(info.size), progress).map_err(
                |e| match e.kind() {
                    io::ErrorKind::Interrupted => VaultError::Cancelled,
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
                        corrupt("the encrypted file is truncated or altered")
                    }
                    _ => io_error(e, || "writing the decrypted attachment".into()),
                },
            )?;
        if n != info.size {
            return Err(corrupt("the encrypted file is shorter than recorded"));
        }
        // Read the padding to the end: this authenticates the final chunk.
        let mut pad = 0u64;
        let mut buf = vec![0u8; attachment::COPY_BUFFER];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => {
                    if buf[..k].iter().any(|&b| b != 0) {
                        return Err(corrupt("unexpected data after the attachment"));
                    }
                    pad += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(corrupt("the encrypted file is truncated or altered")),
            }
        }
        if n + pad != padme(info.size) {
            return Err(corrupt("the encrypted file has the wrong length"));
        }
        if hex::encode(hash) != info.sha256 {
            return Err(corrupt("its SHA-256 differs from the one fixed at capture"));
        }
        Ok(())
    }

    /// Checks the whole vault: SQLite and SQLCipher integrity, every record
    /// body against its stored hash, every attachment re-hashed.
    pub fn check(&self, progress: Progress<'_>) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if rows != ["ok"] {
            report
                .problems
                .push(format!("database integrity check: {}", rows.join("; ")));
        }
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if !rows.is_empty() {
            report
                .problems
                .push(format!("cipher integrity check: {}", rows.join("; ")));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind, body, body_sha256 FROM records")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            report.records += 1;
            let id: String = r.get(0)?;
            let body: String = r.get(2)?;
            if sha256_hex(body.as_bytes()) != r.get::<_, String>(3)? {
                report
                    .problems
                    .push(format!("record {id}: body does not match its hash"));
            }
            if parse_body(&r.get::<_, String>(1)?, &body).is_err() {
                report
                    .problems
                    .push(format!("record {id}: body does not parse"));
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT record_id, rev, body, body_sha256 FROM revisions")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            report.revisions += 1;
            let body: String = r.get(2)?;
            if sha256_hex(body.as_bytes()) != r.get::<_, String>(3)? {
                report.problems.push(format!(
                    "record {} revision {}: body does not match its hash",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?
                ));
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT record_id, name, media_type, size, sha256, captured_at, captured_by, file, id FROM attachments",
        )?;
        let atts: Vec<(AttachmentInfo, String)> = stmt
            .query_map([], |r| {
                let id: String = r.get(8)?;
                attachment_from_row(Uuid::parse_str(&id).unwrap_or_default(), r)
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut known = HashSet::new();
        let mut done = 0u64;
        for (info, file) in &atts {
            known.insert(file.clone());
            report.attachments += 1;
            let base = done;
            let mut p = |n: u64| progress(base + n);
            match self.verify_file(info, file, &mut io::sink(), &mut p) {
                Ok(()) => {}
                Err(VaultError::Cancelled) => return Err(VaultError::Cancelled),
                Err(e) => report.problems.push(e.to_string()),
            }
            done += info.size;
            report.attachment_bytes += info.size;
        }
        let dir = self.dir.join(ATTACHMENTS);
        for entry in fs::read_dir(&dir).ctx(|| "listing attachments/".into())? {
            let entry = entry.ctx(|| "listing attachments/".into())?;
            if !known.contains(entry.file_name().to_string_lossy().as_ref()) {
                report.orphan_files += 1;
            }
        }
        self.check_recordings(&mut report)?;
        Ok(report)
    }

    /// Removes `*.partial` files left by an interrupted attachment import.
    fn remove_partial_files(&self) {
        if let Ok(entries) = fs::read_dir(self.dir.join(ATTACHMENTS)) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().ends_with(".partial") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }

    /// Runs a closure inside one transaction (for bulk loads such as benchmarks
    /// and imports): either everything is saved or nothing is.
    pub fn with_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Batch<'_>) -> Result<T>,
    ) -> Result<T> {
        let device = self.device_id.to_string();
        let tx = self.conn.transaction()?;
        let mut batch = Batch { tx: &tx, device };
        let out = f(&mut batch)?;
        tx.commit()?;
        Ok(out)
    }
}

/// What the benchmarks need to compare the vault with plain SQLite on the
/// same schema and the same queries. Not a stable API.
#[doc(hidden)]
pub mod bench_support {
    use yaddash_model::fold::fold_words;

    pub use crate::schema::migrations;

    /// The search query (FTS5 over folded keys, best matches first).
    pub const SEARCH_SQL: &str =
        "SELECT r.id, r.kind, r.body FROM search JOIN records r ON r.rowid = search.rowid
         WHERE search MATCH ?1 AND (?3 IS NULL OR r.kind = ?3) ORDER BY search.rank LIMIT ?2";

    /// The same over the persons-and-cases index (`?3` is `person` or
    /// `case`). Ranked and cut inside the index, so only the `limit` best
    /// records are read and parsed.
    pub const LIST_SEARCH_SQL: &str = "SELECT r.id, r.kind, r.body FROM
         (SELECT rowid, rank FROM list_search
          WHERE list_search MATCH ?1 AND kind = ?3 ORDER BY rank LIMIT ?2) AS l
         JOIN records r ON r.rowid = l.rowid ORDER BY l.rank";

    /// The FTS5 match expression for a user's query: every folded word as a
    /// prefix. `None` when the query has no letters or digits.
    pub fn fts_query(query: &str) -> Option<String> {
        let words = fold_words(query);
        if words.is_empty() {
            return None;
        }
        Some(
            words
                .iter()
                .map(|w| format!("\"{}\"*", w.replace('"', "")))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

/// An encrypted attachment file written but not yet referred to by a row.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// Random file name under attachments/.
    pub file: String,
    /// Size of the plaintext.
    pub size: u64,
    /// SHA-256 (hex) of the plaintext.
    pub sha256: String,
}

pub(crate) fn insert_attachment(
    conn: &Connection,
    info: &AttachmentInfo,
    file: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO attachments (id, record_id, file, name, media_type, size, sha256, captured_at, captured_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        info.id.to_string(),
        info.record_id.to_string(),
        file,
        info.name,
        info.media_type,
        info.size as i64,
        info.sha256,
        info.captured_at,
        info.captured_by
    ])?;
    Ok(())
}

/// Records saved in one transaction: see [`Vault::with_transaction`].
pub struct Batch<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    device: String,
}

impl Batch<'_> {
    /// Adds a record inside the transaction.
    pub fn add(&mut self, record: &Record) -> Result<Uuid> {
        record.validate()?;
        check_references(self.tx, record)?;
        let id = Uuid::now_v7();
        let body = record.body_json();
        let sha = sha256_hex(body.as_bytes());
        let at = now();
        self.tx.prepare_cached(
            "INSERT INTO records (id, kind, rev, body, body_sha256, created_at, created_by, updated_at, updated_by)
             VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?5, ?6)",
        )?
        .execute(params![id.to_string(), record.kind().as_str(), body, sha, at, self.device])?;
        let rowid = self.tx.last_insert_rowid();
        self.tx.prepare_cached(
            "INSERT INTO revisions (record_id, rev, body, body_sha256, author, at) VALUES (?1, 1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![id.to_string(), body, sha, self.device, at])?;
        index(self.tx, rowid, record)?;
        Ok(id)
    }
}

fn attachment_from_row(
    id: Uuid,
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(AttachmentInfo, String)> {
    let record_id: String = r.get(0)?;
    Ok((
        AttachmentInfo {
            id,
            record_id: Uuid::parse_str(&record_id).unwrap_or_default(),
            name: r.get(1)?,
            media_type: r.get(2)?,
            size: r.get::<_, i64>(3)?.max(0) as u64,
            sha256: r.get(4)?,
            captured_at: r.get(5)?,
            captured_by: r.get(6)?,
        },
        r.get(7)?,
    ))
}

fn check_passphrase(p: &SecretString) -> Result<()> {
    if p.expose_secret().chars().count() < 8 {
        return Err(VaultError::BadSecret(
            "the passphrase is too short: use at least 8 characters (a few random words are best)",
        ));
    }
    Ok(())
}

fn parse_body(kind: &str, body: &str) -> Result<Record> {
    let kind =
        RecordKind::parse(kind).ok_or_else(|| VaultError::Corrupt("unknown record kind".into()))?;
    Record::from_json(kind, body)
        .map_err(|_| VaultError::Corrupt("a stored record does not parse".into()))
}

fn hit(id: &str, kind: &str, body: &str) -> Result<SearchHit> {
    hit_of(id, &parse_body(kind, body)?)
}

/// A list entry for a record already parsed.
fn hit_of(id: &str, record: &Record) -> Result<SearchHit> {
    Ok(SearchHit {
        id: Uuid::parse_str(id).map_err(|_| VaultError::Corrupt("bad record id".into()))?,
        kind: record.kind(),
        label: record.label(),
    })
}

/// Adds a record's folded keys to the search indexes (`search` for every
/// record, `list_search` for persons and cases too). Call in the transaction
/// that writes the record, after [`unindex`] when it replaces a revision.
fn index(conn: &Connection, rowid: i64, record: &Record) -> Result<()> {
    let (names, text) = record.search_keys();
    conn.prepare_cached("INSERT INTO search (rowid, names, text) VALUES (?1, ?2, ?3)")?
        .execute(params![rowid, names, text])?;
    if matches!(record.kind(), RecordKind::Person | RecordKind::Case) {
        conn.prepare_cached(
            "INSERT INTO list_search (rowid, kind, names, text) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![rowid, record.kind().as_str(), names, text])?;
    }
    Ok(())
}

/// Removes a record's keys from the search indexes.
fn unindex(conn: &Connection, rowid: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM search WHERE rowid = ?1")?
        .execute([rowid])?;
    conn.prepare_cached("DELETE FROM list_search WHERE rowid = ?1")?
        .execute([rowid])?;
    Ok(())
}

fn check_references(conn: &Connection, record: &Record) -> Result<()> {
    let expect: Vec<(&'static str, Option<Uuid>, RecordKind)> = match record {
        Record::Person(_) => vec![],
        Record::Case(c) => vec![("detainee_id", Some(c.detainee_id), RecordKind::Person)],
        Record::Interview(i) => vec![
            ("case_id", i.case_id, RecordKind::Case),
            ("detainee_id", i.detainee_id, RecordKind::Person),
            ("speaker_id", i.speaker_id, RecordKind::Person),
        ],
    };
    for (field, id, expected) in expect {
        let Some(id) = id else { continue };
        let kind: Option<String> = conn
            .prepare_cached("SELECT kind FROM records WHERE id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?;
        match kind.as_deref().and_then(RecordKind::parse) {
            None => {
                return Err(VaultError::NotFound {
                    kind: match expected {
                        RecordKind::Person => "person",
                        RecordKind::Case => "case",
                        RecordKind::Interview => "interview",
                    },
                    id,
                });
            }
            Some(found) if found != expected => {
                return Err(VaultError::WrongReference {
                    field,
                    id,
                    expected,
                    found,
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Finishes SQLCipher's set-up once per process before any database is
/// keyed. SQLite marks itself initialised before it runs SQLCipher's own
/// initialisation (`sqlcipher_extra_init`), outside its lock; a thread that
/// keys a database in between finds SQLCipher "not initialized" and its
/// `PRAGMA key` fails (seen as vaults that could not be created when two
/// were created at once in a fresh process). Opening one in-memory
/// connection here runs the whole initialisation on this thread while
/// every other caller waits for it.
pub fn sqlcipher_ready() {
    static READY: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    READY.get_or_init(|| {
        // An error here comes back at the real open, with its context.
        let _ = Connection::open_in_memory();
    });
}

/// Opens the SQLCipher database with the raw key and the durability settings.
fn open_db(path: &Path, key: &MasterKey, create: bool) -> Result<Connection> {
    sqlcipher_ready();
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch(&key.sqlcipher_pragma())?;
    // Fails with NotADatabase when the key does not fit or the file is damaged.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })?;
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .optional()?;
    if cipher.is_none() {
        return Err(VaultError::Corrupt(
            "this build lacks SQLCipher; refusing to store plaintext".into(),
        ));
    }
    // WAL + synchronous=FULL: a commit is on disk (fsync of the WAL) before
    // `add` returns, so an acknowledged record survives kill -9 and power loss.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA cache_size = -32768;",
    )?;
    Ok(conn)
}

/// The columns [`StoredRow::read`] reads, in its order.
const STORED_COLUMNS: &str =
    "id, kind, rev, body, body_sha256, created_at, created_by, updated_at, updated_by";

/// A row of `records` as stored, before its id and body are parsed.
struct StoredRow {
    id: String,
    kind: String,
    rev: i64,
    body: String,
    body_sha256: String,
    created_at: String,
    created_by: String,
    updated_at: String,
    updated_by: String,
}

impl StoredRow {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
        Ok(StoredRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            rev: r.get(2)?,
            body: r.get(3)?,
            body_sha256: r.get(4)?,
            created_at: r.get(5)?,
            created_by: r.get(6)?,
            updated_at: r.get(7)?,
            updated_by: r.get(8)?,
        })
    }

    fn parse(self) -> Result<StoredRecord> {
        let id = Uuid::parse_str(&self.id)
            .map_err(|_| VaultError::Corrupt(format!("record id {:?}", self.id)))?;
        Ok(StoredRecord {
            id,
            rev: self.rev,
            record: parse_body(&self.kind, &self.body)?,
            body_sha256: self.body_sha256,
            created_at: self.created_at,
            created_by: self.created_by,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

#[cfg(test)]
mod reference_tests {
    use super::*;
    use yaddash_model::{Case, Consent, Interview, Person};

    #[test]
    fn referring_uses_the_indexes_and_finds_exactly_the_references() {
        let tmp = tempfile::tempdir().expect("tmp");
        let opts = CreateOptions {
            role: VaultRole::Field,
            kdf_work_factor: MIN_WORK_FACTOR,
        };
        let pass = SecretString::from("correct horse battery staple");
        let (mut v, _) = Vault::create(&tmp.path().join("v"), &pass, &opts).expect("create");
        let person = |v: &mut Vault, n: &str| {
            v.add(&Record::Person(Person {
                names: vec![n.into()],
                birth_year: None,
                roles: Vec::new(),
                notes: None,
                confidentiality: Default::default(),
                reliability: Default::default(),
            }))
            .expect("person")
        };
        let a = person(&mut v, "A");
        let b = person(&mut v, "B");
        let case_a = v
            .add(&Record::Case(Case {
                detainee_id: a,
                title: Some("case of A".into()),
                events: Vec::new(),
                notes: None,
                confidentiality: Default::default(),
                reliability: Default::default(),
            }))
            .expect("case");
        let interview = |v: &mut Vault, case_id, detainee_id, speaker_id| {
            v.add(&Record::Interview(Interview {
                case_id,
                detainee_id,
                speaker_id,
                relation: None,
                interviewer: "i".into(),
                date: "2026-01-02".parse().expect("date"),
                place: None,
                language: "az".into(),
                consent: Consent::Internal,
                narrative: "n".into(),
                confidentiality: Default::default(),
                reliability: Default::default(),
            }))
            .expect("interview")
        };
        let i1 = interview(&mut v, Some(case_a), Some(a), None);
        let i2 = interview(&mut v, None, Some(b), Some(a));
        let i3 = interview(&mut v, None, Some(b), None);
        let ids = |hits: Vec<SearchHit>| {
            let mut v: Vec<Uuid> = hits.into_iter().map(|h| h.id).collect();
            v.sort();
            v
        };
        let mut want_a = vec![case_a, i1, i2];
        want_a.sort();
        assert_eq!(ids(v.referring(a).expect("refs")), want_a);
        let mut want_b = vec![i2, i3];
        want_b.sort();
        assert_eq!(ids(v.referring(b).expect("refs")), want_b);
        assert_eq!(ids(v.referring(case_a).expect("refs")), vec![i1]);
        // A person's and a case's sources: as detainee or case, never as
        // speaker (i2 only quotes A), in id order.
        let stored = |recs: Vec<StoredRecord>| recs.into_iter().map(|r| r.id).collect::<Vec<_>>();
        let mut sources_a = vec![case_a, i1];
        sources_a.sort();
        assert_eq!(stored(v.sources_of(a).expect("sources")), sources_a);
        assert_eq!(stored(v.sources_of(case_a).expect("sources")), vec![i1]);
        let mut sources_b = vec![i2, i3];
        sources_b.sort();
        assert_eq!(stored(v.sources_of(b).expect("sources")), sources_b);
        // Each branch of the query is an index lookup, not a scan.
        let mut stmt = v
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT id FROM records WHERE json_extract(body, '$.detainee_id') = ?1
                 UNION SELECT id FROM records WHERE json_extract(body, '$.case_id') = ?1
                 UNION SELECT id FROM records WHERE json_extract(body, '$.speaker_id') = ?1",
            )
            .expect("plan");
        let plan: Vec<String> = stmt
            .query_map([a.to_string()], |r| r.get::<_, String>(3))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("plan rows");
        for idx in [
            "records_ref_detainee",
            "records_ref_case",
            "records_ref_speaker",
        ] {
            assert!(
                plan.iter().any(|p| p.contains(idx)),
                "{idx} unused: {plan:?}"
            );
        }
        assert!(
            !plan.iter().any(|p| p.starts_with("SCAN records")),
            "{plan:?}"
        );
    }
}
