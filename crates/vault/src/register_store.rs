//! Storage for the register of political prisoners (coordinator vaults):
//! merges of persons, pairs marked distinct, and manual status overrides.
//!
//! The derivation of the register itself lives in `yaddash-register`; this
//! module only keeps the coordinator's decisions, each with who and when.
//! Nothing here is ever deleted: an unmerge marks the merge undone, a cleared
//! override is a new row.

use std::borrow::{Borrow, BorrowMut};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, VaultError};
use crate::schema::Migration;
use crate::{Vault, now};

/// The register's tables (merges, distinct pairs, overrides); versions in
/// the one sequence of `schema.rs`.
pub(crate) const MIGRATIONS: &[Migration] = &[
    // 3: the register: merges of persons, pairs marked distinct, status overrides.
    Migration {
        version: 3,
        sql: r#"
    -- Coordinator: person `merged_id` is the same person as `primary_id`.
    -- Both records stay; undoing sets `undone_at`, rows are never deleted.
    CREATE TABLE register_merges (
        seq        INTEGER PRIMARY KEY,
        primary_id TEXT NOT NULL,
        merged_id  TEXT NOT NULL,
        at         TEXT NOT NULL,
        by         TEXT NOT NULL,
        undone_at  TEXT,
        undone_by  TEXT
    ) STRICT;
    CREATE UNIQUE INDEX register_merges_active ON register_merges (merged_id) WHERE undone_at IS NULL;

    -- Coordinator: pairs of persons a coordinator said are different people.
    CREATE TABLE register_distinct (
        a  TEXT NOT NULL,
        b  TEXT NOT NULL,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        PRIMARY KEY (a, b),
        CHECK (a < b)
    ) STRICT;

    -- Coordinator: manual status overrides, append-only; the latest row per
    -- person is in force (status NULL clears the override).
    CREATE TABLE register_overrides (
        seq       INTEGER PRIMARY KEY,
        person_id TEXT NOT NULL,
        status    TEXT,
        reason    TEXT NOT NULL,
        at        TEXT NOT NULL,
        by        TEXT NOT NULL
    ) STRICT;
    CREATE INDEX register_overrides_person ON register_overrides (person_id, seq);
    "#,
    },
];

/// A merge of two person records, active or undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeRow {
    /// Sequence number of the merge.
    pub seq: i64,
    /// The record that stands for the person in the register.
    pub primary_id: Uuid,
    /// The record merged into it (kept as it was).
    pub merged_id: Uuid,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The device that merged.
    pub by: String,
    /// When it was undone, if it was.
    pub undone_at: Option<String>,
    /// The device that undid it.
    pub undone_by: Option<String>,
}

/// A manual status override in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRow {
    /// The person.
    pub person_id: Uuid,
    /// The status set by hand (snake_case name).
    pub status: String,
    /// Why (free text, internal).
    pub reason: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The device that set it.
    pub by: String,
}

fn parse_id(s: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A request the register refuses; nothing was changed.
fn refused(context: String) -> VaultError {
    VaultError::Refused(context)
}

fn ordered(a: Uuid, b: Uuid) -> (String, String) {
    let (a, b) = (a.to_string(), b.to_string());
    if a < b { (a, b) } else { (b, a) }
}

fn require_person(vault: &Vault, id: Uuid) -> Result<()> {
    let kind: Option<String> = vault
        .conn
        .query_row(
            "SELECT kind FROM records WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    match kind.as_deref() {
        Some("person") => Ok(()),
        _ => Err(VaultError::NotFound { kind: "person", id }),
    }
}

/// The coordinator's register (merges, distinct pairs, status overrides): `vault.register()` to read, `vault.register_mut()` to change.
pub struct RegisterStore<V>(pub(crate) V);

impl Vault {
    /// The register, to read.
    pub fn register(&self) -> RegisterStore<&Vault> {
        RegisterStore(self)
    }

    /// The register, to change.
    pub fn register_mut(&mut self) -> RegisterStore<&mut Vault> {
        RegisterStore(self)
    }
}

impl<V: Borrow<Vault>> RegisterStore<V> {
    /// Every merge ever made, active and undone, oldest first.
    pub fn merge_history(&self) -> Result<Vec<MergeRow>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(
            "SELECT seq, primary_id, merged_id, at, by, undone_at, undone_by
             FROM register_merges ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(MergeRow {
                seq: r.get(0)?,
                primary_id: parse_id(&r.get::<_, String>(1)?)?,
                merged_id: parse_id(&r.get::<_, String>(2)?)?,
                at: r.get(3)?,
                by: r.get(4)?,
                undone_at: r.get(5)?,
                undone_by: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Active merges as `(primary, merged)`, oldest first.
    pub fn merges(&self) -> Result<Vec<(Uuid, Uuid)>> {
        Ok(self
            .merge_history()?
            .into_iter()
            .filter(|m| m.undone_at.is_none())
            .map(|m| (m.primary_id, m.merged_id))
            .collect())
    }

    /// Pairs marked distinct, each with the smaller id first.
    pub fn distinct_pairs(&self) -> Result<Vec<(Uuid, Uuid)>> {
        let vault = self.0.borrow();
        let mut stmt = vault
            .conn
            .prepare("SELECT a, b FROM register_distinct ORDER BY a, b")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                parse_id(&r.get::<_, String>(0)?)?,
                parse_id(&r.get::<_, String>(1)?)?,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The overrides in force (the latest row per person, unless it clears).
    pub fn overrides(&self) -> Result<Vec<OverrideRow>> {
        let vault = self.0.borrow();
        let mut stmt = vault.conn.prepare(
            "SELECT o.person_id, o.status, o.reason, o.at, o.by FROM register_overrides o
             WHERE o.seq = (SELECT MAX(seq) FROM register_overrides WHERE person_id = o.person_id)
               AND o.status IS NOT NULL
             ORDER BY o.person_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OverrideRow {
                person_id: parse_id(&r.get::<_, String>(0)?)?,
                status: r.get(1)?,
                reason: r.get(2)?,
                at: r.get(3)?,
                by: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

impl<V: BorrowMut<Vault>> RegisterStore<V> {
    /// Records that `merged` is the same person as `primary`. Both records
    /// are kept unchanged. Fails if `merged` is already merged somewhere, or
    /// if the two are the same record.
    pub fn merge(&mut self, primary: Uuid, merged: Uuid) -> Result<i64> {
        let vault = self.0.borrow_mut();
        if primary == merged {
            return Err(refused("a person cannot be merged with itself".into()));
        }
        require_person(vault, primary)?;
        require_person(vault, merged)?;
        let tx = vault.conn.transaction()?;
        let already: Option<i64> = tx
            .query_row(
                "SELECT seq FROM register_merges WHERE merged_id = ?1 AND undone_at IS NULL",
                [merged.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if already.is_some() {
            return Err(refused(format!(
                "person {merged} is already merged into another; unmerge it first"
            )));
        }
        tx.execute(
            "INSERT INTO register_merges (primary_id, merged_id, at, by) VALUES (?1, ?2, ?3, ?4)",
            params![
                primary.to_string(),
                merged.to_string(),
                now(),
                vault.device_id.to_string()
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        Ok(seq)
    }

    /// Undoes the active merge of `merged` (the record merged into another).
    /// Returns the undone merge, or `None` if the record was not merged.
    pub fn unmerge(&mut self, merged: Uuid) -> Result<Option<MergeRow>> {
        let vault = self.0.borrow_mut();
        let tx = vault.conn.transaction()?;
        let seq: Option<i64> = tx
            .query_row(
                "SELECT seq FROM register_merges WHERE merged_id = ?1 AND undone_at IS NULL",
                [merged.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(seq) = seq else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE register_merges SET undone_at = ?2, undone_by = ?3 WHERE seq = ?1",
            params![seq, now(), vault.device_id.to_string()],
        )?;
        tx.commit()?;
        Ok(RegisterStore(&*vault)
            .merge_history()?
            .into_iter()
            .find(|m| m.seq == seq))
    }

    /// Records that two persons are different people: the pair is never
    /// suggested again. Idempotent.
    pub fn mark_distinct(&mut self, a: Uuid, b: Uuid) -> Result<()> {
        let vault = self.0.borrow_mut();
        if a == b {
            return Err(refused("a person cannot be distinct from itself".into()));
        }
        require_person(vault, a)?;
        require_person(vault, b)?;
        let (a, b) = ordered(a, b);
        vault.conn.execute(
            "INSERT OR IGNORE INTO register_distinct (a, b, at, by) VALUES (?1, ?2, ?3, ?4)",
            params![a, b, now(), vault.device_id.to_string()],
        )?;
        Ok(())
    }

    /// Sets (`Some(status)`) or clears (`None`) the manual status of a person,
    /// with a reason. Earlier overrides stay in the table.
    pub fn set_override(&mut self, person: Uuid, status: Option<&str>, reason: &str) -> Result<()> {
        let vault = self.0.borrow_mut();
        require_person(vault, person)?;
        vault.conn.execute(
            "INSERT INTO register_overrides (person_id, status, reason, at, by) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                person.to_string(),
                status,
                reason,
                now(),
                vault.device_id.to_string()
            ],
        )?;
        Ok(())
    }
}
