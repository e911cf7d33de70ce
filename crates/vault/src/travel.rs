//! Removal of records headquarters holds (travel mode), crash-safely.
//!
//! The database rows go in one transaction that also writes the list of
//! attachment files to delete (`meta` key `travel_pending_files`). The files are
//! then overwritten and unlinked, and the key cleared. If the process dies
//! in between, the next [`Vault::open`] finishes the deletion, so the vault
//! never holds rows without files nor files without rows for long.
//!
//! After removal the full-text index is optimised (FTS5 keeps deleted
//! tokens in old segments until they are merged), the database is vacuumed
//! (with `secure_delete` on, freed pages are zeroed), and the write-ahead log
//! is checkpointed and truncated. What this cannot guarantee on SSDs and
//! journaling file systems is in docs/travel.md.

use std::borrow::{Borrow, BorrowMut};
use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::Write;

use rand::RngCore;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;
use yaddash_model::RecordKind;

use crate::error::{IoContext, Result, VaultError};
use crate::fsutil::sync_dir;
use crate::settings::TRAVEL_PENDING_FILES as PENDING_FILES;
use crate::{ATTACHMENTS, Vault};

/// One revision of a local record and the bundle that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionCoverage {
    /// The record.
    pub record_id: Uuid,
    /// Its kind.
    pub kind: RecordKind,
    /// The revision.
    pub rev: i64,
    /// The bundle (sequence number) that carried it, if any.
    pub seq: Option<u64>,
    /// It came from headquarters (a coordinator's re-issue bundle).
    pub from_hq: bool,
}

/// One local attachment and the bundle that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentCoverage {
    /// The attachment.
    pub attachment_id: Uuid,
    /// Its record.
    pub record_id: Uuid,
    /// Plaintext size.
    pub size: u64,
    /// The bundle that carried it, if any.
    pub seq: Option<u64>,
    /// It came from headquarters (a coordinator's re-issue bundle).
    pub from_hq: bool,
}

/// What a removal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Records removed (all revisions).
    pub records: u64,
    /// Attachments removed (rows and files).
    pub attachments: u64,
    /// Attachment bytes overwritten and unlinked.
    pub attachment_bytes: u64,
}

/// The database after compaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compacted {
    /// Database file size after VACUUM.
    pub db_bytes: u64,
    /// Free pages left (0 after VACUUM).
    pub free_pages: i64,
    /// Write-ahead log size after the checkpoint (0 when truncated).
    pub wal_bytes: u64,
}

fn parse_id(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| VaultError::Corrupt("bad id".into()))
}

/// Overwrites a file with noise, syncs, and unlinks it. Best effort against
/// recovery from the medium; see docs/travel.md for what it cannot promise.
fn shred(path: &std::path::Path) -> std::io::Result<u64> {
    let len = match fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    {
        let mut f = OpenOptions::new().write(true).open(path)?;
        let mut noise = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            let n = usize::try_from(left.min(noise.len() as u64)).unwrap_or(noise.len());
            rand::rngs::OsRng.fill_bytes(&mut noise[..n]);
            f.write_all(&noise[..n])?;
            left -= n as u64;
        }
        f.sync_all()?;
    }
    fs::remove_file(path)?;
    Ok(len)
}

/// Finishes a removal interrupted by a crash (called on open too).
/// Refuses names that are not plain file names of `attachments/`.
pub(crate) fn finish_pending_removals(
    vault: &mut Vault,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    let pending = pending_files_in(&vault.conn)?;
    if pending.is_empty() {
        return Ok(());
    }
    let still: HashSet<String> = {
        let mut stmt = vault.conn.prepare("SELECT file FROM attachments")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let dir = vault.dir.join(ATTACHMENTS);
    let total = pending.len() as u64;
    for (i, f) in pending.iter().enumerate() {
        let plain = !f.is_empty()
            && f.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        // A file re-used by a live row is never touched.
        if plain && !still.contains(f) {
            let path = dir.join(f);
            shred(&path).ctx(|| format!("removing {}", path.display()))?;
        }
        progress(i as u64 + 1, total);
    }
    sync_dir(&dir)?;
    vault
        .conn
        .execute("DELETE FROM meta WHERE key = ?1", [PENDING_FILES])?;
    Ok(())
}

fn pending_files_in(conn: &rusqlite::Connection) -> Result<Vec<String>> {
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [PENDING_FILES],
            |r| r.get(0),
        )
        .optional()?;
    match v {
        None => Ok(Vec::new()),
        Some(s) => serde_json::from_str(&s)
            .map_err(|_| VaultError::Corrupt("bad list of files to remove".into())),
    }
}

/// Travel mode's view of the vault (what bundles carry, removal, compaction): `vault.travel()` to read, `vault.travel_mut()` to change.
pub struct TravelStore<V>(pub(crate) V);

impl Vault {
    /// Travel mode's tables, to read.
    pub fn travel(&self) -> TravelStore<&Vault> {
        TravelStore(self)
    }

    /// Travel mode's tables, to change.
    pub fn travel_mut(&mut self) -> TravelStore<&mut Vault> {
        TravelStore(self)
    }
}

impl<V: Borrow<Vault>> TravelStore<V> {
    /// Every revision of every record, with the bundle that carried it.
    pub fn revision_coverage(&self) -> Result<Vec<RevisionCoverage>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(
            "SELECT r.id, r.kind, v.rev, e.seq,
                    EXISTS (SELECT 1 FROM provenance p WHERE p.record_id = v.record_id AND p.rev = v.rev)
             FROM revisions v
             JOIN records r ON r.id = v.record_id
             LEFT JOIN exported_revisions e ON e.record_id = v.record_id AND e.rev = v.rev
             ORDER BY r.rowid, v.rev",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, rev, seq, from_hq) = row?;
            out.push(RevisionCoverage {
                record_id: parse_id(&id)?,
                kind: RecordKind::parse(&kind)
                    .ok_or_else(|| VaultError::Corrupt("bad kind".into()))?,
                rev,
                seq: seq.map(|s| s as u64),
                from_hq,
            });
        }
        Ok(out)
    }

    /// Every attachment, with the bundle that carried it.
    pub fn attachment_coverage(&self) -> Result<Vec<AttachmentCoverage>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(
            "SELECT a.id, a.record_id, a.size, e.seq,
                    EXISTS (SELECT 1 FROM attachment_provenance p WHERE p.attachment_id = a.id)
             FROM attachments a
             LEFT JOIN exported_attachments e ON e.attachment_id = a.id ORDER BY a.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, rec, size, seq, from_hq) = row?;
            out.push(AttachmentCoverage {
                attachment_id: parse_id(&id)?,
                record_id: parse_id(&rec)?,
                size: size as u64,
                seq: seq.map(|s| s as u64),
                from_hq,
            });
        }
        Ok(out)
    }

    /// Whether a full-text index (the full one or the lists') still knows
    /// `term` (a folded token): lets tests show removed text is gone from both.
    pub fn index_has_term(&self, term: &str) -> Result<bool> {
        let vault = self.0.borrow();
        vault.conn.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search, 'row');
             CREATE VIRTUAL TABLE IF NOT EXISTS temp.list_search_vocab USING fts5vocab(main, list_search, 'row');",
        )?;
        let mut found = false;
        for table in ["temp.search_vocab", "temp.list_search_vocab"] {
            found |= vault
                .conn
                .query_row(
                    &format!("SELECT 1 FROM {table} WHERE term = ?1"),
                    [term],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
        }
        Ok(found)
    }
}

impl<V: BorrowMut<Vault>> TravelStore<V> {
    /// Removes `ids` (every revision, their search entries and attachments)
    /// in one transaction, then overwrites and unlinks the attachment files.
    /// A record of another device still referring to a removed one keeps
    /// the reference (the id), not the content. `progress` gets files done.
    pub fn remove_records(
        &mut self,
        ids: &[Uuid],
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Removed> {
        let vault = self.0.borrow_mut();
        let mut removed = Removed::default();
        let mut files: Vec<String> = Vec::new();
        let tx = vault.conn.transaction()?;
        {
            let mut rowid_of = tx.prepare("SELECT rowid FROM records WHERE id = ?1")?;
            let mut atts = tx.prepare("SELECT file, size FROM attachments WHERE record_id = ?1")?;
            for id in ids {
                let sid = id.to_string();
                let Some(rowid) = rowid_of
                    .query_row([&sid], |r| r.get::<_, i64>(0))
                    .optional()?
                else {
                    continue;
                };
                let found: Vec<(String, i64)> = atts
                    .query_map([&sid], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                for (file, size) in found {
                    removed.attachments += 1;
                    removed.attachment_bytes += size as u64;
                    files.push(file);
                }
                crate::unindex(&tx, rowid)?;
                tx.execute("DELETE FROM attachments WHERE record_id = ?1", [&sid])?;
                tx.execute("DELETE FROM revisions WHERE record_id = ?1", [&sid])?;
                tx.execute("DELETE FROM records WHERE id = ?1", [&sid])?;
                removed.records += 1;
            }
        }
        // Merge the index segments so deleted tokens are really gone (FTS5
        // keeps them in old segments until a merge).
        tx.execute_batch(
            "INSERT INTO search (search) VALUES ('optimize');
             INSERT INTO list_search (list_search) VALUES ('optimize');",
        )?;
        let mut pending = pending_files_in(&tx)?;
        pending.extend(files);
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![
                PENDING_FILES,
                serde_json::to_string(&pending).map_err(|e| VaultError::Corrupt(e.to_string()))?
            ],
        )?;
        tx.commit()?;
        finish_pending_removals(vault, progress)?;
        Ok(removed)
    }

    /// VACUUM (rewriting the database without free pages) and a truncating
    /// checkpoint of the write-ahead log.
    pub fn compact(&mut self) -> Result<Compacted> {
        let vault = self.0.borrow_mut();
        vault.conn.execute_batch("VACUUM")?;
        vault
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let free_pages: i64 = vault
            .conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size = |name: &str| fs::metadata(vault.dir.join(name)).map_or(0, |m| m.len());
        Ok(Compacted {
            db_bytes: size(crate::DB_FILE),
            free_pages,
            wal_bytes: size(&format!("{}-wal", crate::DB_FILE)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CreateOptions, MIN_WORK_FACTOR, VaultRole};
    use secrecy::SecretString;
    use yaddash_model::{Person, Record};

    fn person(name: &str, notes: &str) -> Record {
        Record::Person(Person {
            names: vec![name.to_owned()],
            birth_year: None,
            roles: Vec::new(),
            notes: Some(notes.to_owned()),
            confidentiality: Default::default(),
            reliability: Default::default(),
        })
    }

    #[test]
    fn removal_takes_rows_index_terms_and_files_and_keeps_the_rest() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("v");
        let opts = CreateOptions {
            role: VaultRole::Field,
            kdf_work_factor: MIN_WORK_FACTOR,
        };
        let pass = SecretString::from("correct horse battery staple");
        let (mut v, _) = Vault::create(&dir, &pass, &opts).expect("create");
        let gone = v
            .add(&person("Zzyqcanary Removed", "qxcanarynote testimony"))
            .expect("add");
        let kept = v.add(&person("Kept Person", "kept note")).expect("add");
        let mut bytes: &[u8] = &[7u8; 300_000];
        v.attach(gone, "a.bin", None, &mut bytes, &mut |_| true)
            .expect("attach");
        let files = || fs::read_dir(dir.join(ATTACHMENTS)).expect("dir").count();
        assert_eq!(files(), 1);
        let term = |w: &str| yaddash_model::fold::fold_word(w);
        assert!(
            v.travel()
                .index_has_term(&term("qxcanarynote"))
                .expect("vocab")
        );

        let r = v
            .travel_mut()
            .remove_records(&[gone], &mut |_, _| {})
            .expect("remove");
        assert_eq!((r.records, r.attachments), (1, 1));
        assert_eq!(files(), 0);
        assert!(!v.contains(gone).expect("contains"));
        assert!(v.contains(kept).expect("contains"));
        assert!(
            !v.travel()
                .index_has_term(&term("qxcanarynote"))
                .expect("vocab")
        );
        assert!(
            !v.travel()
                .index_has_term(&term("zzyqcanary"))
                .expect("vocab")
        );
        assert!(v.travel().index_has_term(&term("kept")).expect("vocab"));
        let c = v.travel_mut().compact().expect("compact");
        assert_eq!((c.free_pages, c.wal_bytes), (0, 0));
        let report = v.check(&mut |_| true).expect("check");
        assert!(report.is_clean(), "{report:?}");
    }

    #[test]
    fn an_interrupted_removal_is_finished_on_open() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("v");
        let opts = CreateOptions {
            role: VaultRole::Field,
            kdf_work_factor: MIN_WORK_FACTOR,
        };
        let pass = SecretString::from("correct horse battery staple");
        let (mut v, _) = Vault::create(&dir, &pass, &opts).expect("create");
        let id = v.add(&person("A B", "n")).expect("add");
        let mut bytes: &[u8] = &[1u8; 1000];
        v.attach(id, "a.bin", None, &mut bytes, &mut |_| true)
            .expect("attach");
        // Simulate a crash after the transaction: rows gone, file still there.
        let file: String = v
            .conn
            .query_row("SELECT file FROM attachments", [], |r| r.get(0))
            .expect("file");
        v.conn
            .execute_batch("DELETE FROM attachments; DELETE FROM revisions; DELETE FROM records;")
            .expect("delete");
        v.set_meta(
            PENDING_FILES,
            &serde_json::to_string(&[&file, "../escape"]).expect("j"),
        )
        .expect("meta");
        drop(v);
        let v = Vault::open(&dir, &crate::Unlock::Passphrase(pass)).expect("open");
        assert!(!dir.join(ATTACHMENTS).join(&file).exists());
        assert_eq!(v.meta(PENDING_FILES).expect("meta"), None);
        assert!(v.check(&mut |_| true).expect("check").is_clean());
    }
}
