//! Storage for the register of political prisoners (coordinator vaults):
//! merges of persons, pairs marked distinct, and manual status overrides.
//!
//! The derivation of the register itself lives in `yaddash-register`; this
//! module only keeps the coordinator's decisions, each with who and when.
//! Nothing here is ever deleted: an unmerge marks the merge undone, a cleared
//! override is a new row.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, VaultError};
use crate::{Vault, now};

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

impl Vault {
    fn require_person(&self, id: Uuid) -> Result<()> {
        let kind: Option<String> = self
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

    /// Records that `merged` is the same person as `primary`. Both records
    /// are kept unchanged. Fails if `merged` is already merged somewhere, or
    /// if the two are the same record.
    pub fn register_merge(&mut self, primary: Uuid, merged: Uuid) -> Result<i64> {
        if primary == merged {
            return Err(refused("a person cannot be merged with itself".into()));
        }
        self.require_person(primary)?;
        self.require_person(merged)?;
        let tx = self.conn.transaction()?;
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
                self.device_id.to_string()
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        Ok(seq)
    }

    /// Undoes the active merge of `merged` (the record merged into another).
    /// Returns the undone merge, or `None` if the record was not merged.
    pub fn register_unmerge(&mut self, merged: Uuid) -> Result<Option<MergeRow>> {
        let tx = self.conn.transaction()?;
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
            params![seq, now(), self.device_id.to_string()],
        )?;
        tx.commit()?;
        Ok(self
            .register_merge_history()?
            .into_iter()
            .find(|m| m.seq == seq))
    }

    /// Every merge ever made, active and undone, oldest first.
    pub fn register_merge_history(&self) -> Result<Vec<MergeRow>> {
        let mut stmt = self.conn.prepare(
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
    pub fn register_merges(&self) -> Result<Vec<(Uuid, Uuid)>> {
        Ok(self
            .register_merge_history()?
            .into_iter()
            .filter(|m| m.undone_at.is_none())
            .map(|m| (m.primary_id, m.merged_id))
            .collect())
    }

    /// Records that two persons are different people: the pair is never
    /// suggested again. Idempotent.
    pub fn register_mark_distinct(&mut self, a: Uuid, b: Uuid) -> Result<()> {
        if a == b {
            return Err(refused("a person cannot be distinct from itself".into()));
        }
        self.require_person(a)?;
        self.require_person(b)?;
        let (a, b) = ordered(a, b);
        self.conn.execute(
            "INSERT OR IGNORE INTO register_distinct (a, b, at, by) VALUES (?1, ?2, ?3, ?4)",
            params![a, b, now(), self.device_id.to_string()],
        )?;
        Ok(())
    }

    /// Pairs marked distinct, each with the smaller id first.
    pub fn register_distinct_pairs(&self) -> Result<Vec<(Uuid, Uuid)>> {
        let mut stmt = self
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

    /// Sets (`Some(status)`) or clears (`None`) the manual status of a person,
    /// with a reason. Earlier overrides stay in the table.
    pub fn register_set_override(
        &mut self,
        person: Uuid,
        status: Option<&str>,
        reason: &str,
    ) -> Result<()> {
        self.require_person(person)?;
        self.conn.execute(
            "INSERT INTO register_overrides (person_id, status, reason, at, by) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                person.to_string(),
                status,
                reason,
                now(),
                self.device_id.to_string()
            ],
        )?;
        Ok(())
    }

    /// The overrides in force (the latest row per person, unless it clears).
    pub fn register_overrides(&self) -> Result<Vec<OverrideRow>> {
        let mut stmt = self.conn.prepare(
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
