//! The database schema and its migrations.
//!
//! `PRAGMA user_version` holds the schema version. Each feature owns its
//! tables and the migrations that make them: the core (records, revisions,
//! attachments, search, meta) here, the exchange tables in `exchange.rs`,
//! the register's in `register_store.rs` (travel mode has no tables of its
//! own). Every migration carries the schema version it brings the database
//! to; the versions form one sequence across the features, so a vault made
//! by any earlier Yaddash goes through exactly the steps it went through
//! before. Migrations run in version order, in one transaction each, when a
//! vault is opened; a vault written by a newer Yaddash is refused rather
//! than damaged.

use rusqlite::Connection;

use crate::error::{Result, VaultError};

/// One step of the schema: the version it brings the database to, and its
/// SQL. Never edit a released step: add a new one with the next version.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) sql: &'static str,
}

/// The core's migrations.
const CORE_MIGRATIONS: &[Migration] = &[
    // 1: the first schema.
    Migration {
        version: 1,
        sql: r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;

    -- The current revision of every record.
    CREATE TABLE records (
        rowid       INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        kind        TEXT NOT NULL CHECK (kind IN ('person', 'case', 'interview')),
        rev         INTEGER NOT NULL,
        body        TEXT NOT NULL,
        body_sha256 TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        created_by  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        updated_by  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX records_kind ON records (kind, id);

    -- Every revision ever saved; never updated, never deleted by edits.
    CREATE TABLE revisions (
        record_id   TEXT NOT NULL REFERENCES records (id),
        rev         INTEGER NOT NULL,
        body        TEXT NOT NULL,
        body_sha256 TEXT NOT NULL,
        author      TEXT NOT NULL,
        at          TEXT NOT NULL,
        PRIMARY KEY (record_id, rev)
    ) STRICT;

    -- Attachments: the bytes live in attachments/<file>, age-encrypted to the
    -- vault's storage key; the original name and type live only here.
    CREATE TABLE attachments (
        id          TEXT PRIMARY KEY,
        record_id   TEXT NOT NULL REFERENCES records (id),
        file        TEXT NOT NULL UNIQUE,
        name        TEXT NOT NULL,
        media_type  TEXT NOT NULL,
        size        INTEGER NOT NULL,
        sha256      TEXT NOT NULL,
        captured_at TEXT NOT NULL,
        captured_by TEXT NOT NULL
    ) STRICT;
    CREATE INDEX attachments_record ON attachments (record_id);

    -- Folded search keys (see yaddash_model::fold); rowid = records.rowid.
    CREATE VIRTUAL TABLE search USING fts5 (
        names, text, tokenize = 'unicode61 remove_diacritics 0'
    );
    "#,
    },
    // 4: a small search index for the persons and cases lists.
    Migration {
        version: 4,
        sql: r#"
    -- Folded keys of persons and cases only (rowid = records.rowid): the lists
    -- search as the user types, and a one- or two-letter prefix ranked over
    -- every interview as well took hundreds of milliseconds. The prefix
    -- indexes make short prefixes a single lookup. `search` keeps every
    -- record for full-text search (interviews, all kinds).
    CREATE VIRTUAL TABLE list_search USING fts5 (
        kind UNINDEXED, names, text,
        tokenize = 'unicode61 remove_diacritics 0',
        prefix = '1 2 3'
    );
    INSERT INTO list_search (rowid, kind, names, text)
        SELECT s.rowid, r.kind, s.names, s.text
        FROM search s JOIN records r ON r.rowid = s.rowid
        WHERE r.kind IN ('person', 'case');
    "#,
    },
    // 5: indexes on the references between records.
    Migration {
        version: 5,
        sql: r#"
    -- A person's page lists the cases and interviews that refer to them; a
    -- case's page its interviews. Without these, that meant reading every
    -- case and interview in the vault. The expressions must match the
    -- queries in `Vault::referring` exactly.
    CREATE INDEX records_ref_detainee ON records (json_extract(body, '$.detainee_id'));
    CREATE INDEX records_ref_case ON records (json_extract(body, '$.case_id'));
    CREATE INDEX records_ref_speaker ON records (json_extract(body, '$.speaker_id'));
    "#,
    },
    // 7: evidence kept from each imported bundle (see crate::evidence).
    Migration {
        version: 7,
        sql: r#"
    -- Coordinator: the device-signed manifest of each bundle imported from
    -- now on (manifest.json exactly as signed, and manifest.json.sig), so an
    -- evidence pack can prove with ssh-keygen which device sent what.
    -- Bundles imported before this version have no row here.
    CREATE TABLE bundle_manifests (
        bundle_id TEXT PRIMARY KEY REFERENCES bundles_in (bundle_id),
        manifest  BLOB NOT NULL,
        signature BLOB NOT NULL
    ) STRICT;
    -- Coordinator: the JSON entries of those bundles exactly as received
    -- (records/<id>.json with the revisions, attachments/<id>.json with the
    -- capture metadata): their SHA-256 is in the signed manifest. The
    -- attachments' bytes are the vault's attachments (their hash is the
    -- capture hash).
    CREATE TABLE bundle_entries (
        bundle_id TEXT NOT NULL REFERENCES bundles_in (bundle_id),
        path      TEXT NOT NULL,
        bytes     BLOB NOT NULL,
        PRIMARY KEY (bundle_id, path)
    ) STRICT;
    "#,
    },
    // 8: recordings made in the vault (docs/vault-format.md, "Recordings").
    Migration {
        version: 8,
        sql: r#"
    -- The capture metadata of an attachment that is a recording. Removed
    -- with its attachment.
    CREATE TABLE recordings (
        attachment_id   TEXT PRIMARY KEY REFERENCES attachments (id) ON DELETE CASCADE,
        started_at      TEXT NOT NULL,
        ended_at        TEXT NOT NULL,
        input           TEXT NOT NULL,
        duration_ms     INTEGER NOT NULL,
        codec           TEXT NOT NULL,
        consent_seconds INTEGER,
        segments        INTEGER NOT NULL,
        recovered       INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    "#,
    },
];

/// Every feature's migration list, in the fixed order the runner reads them.
const FEATURES: &[&[Migration]] = &[
    CORE_MIGRATIONS,
    crate::exchange::MIGRATIONS,
    crate::register_store::MIGRATIONS,
];

const fn count_migrations() -> i64 {
    let mut n = 0;
    let mut i = 0;
    while i < FEATURES.len() {
        n += FEATURES[i].len() as i64;
        i += 1;
    }
    n
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = count_migrations();

/// The migration that brings the database to `version`.
fn step(version: i64) -> Option<&'static Migration> {
    FEATURES
        .iter()
        .flat_map(|list| list.iter())
        .find(|m| m.version == version)
}

/// Every migration's SQL in version order (the benchmarks build a plain
/// SQLite database with it).
pub fn migrations() -> Vec<&'static str> {
    (1..=SCHEMA_VERSION)
        .filter_map(step)
        .map(|m| m.sql)
        .collect()
}

/// Brings the database to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(VaultError::Corrupt(format!(
            "schema version {current} is newer than this Yaddash understands ({SCHEMA_VERSION}); upgrade Yaddash"
        )));
    }
    for version in current.max(0) + 1..=SCHEMA_VERSION {
        let Some(m) = step(version) else {
            return Err(VaultError::Corrupt(format!(
                "no migration to schema version {version}"
            )));
        };
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The features' lists together hold every version from 1 to
    /// `SCHEMA_VERSION` exactly once.
    #[test]
    fn every_version_once() {
        for version in 1..=SCHEMA_VERSION {
            let n = FEATURES
                .iter()
                .flat_map(|list| list.iter())
                .filter(|m| m.version == version)
                .count();
            assert_eq!(n, 1, "schema version {version} is made by {n} migrations");
        }
    }
}
