//! The database schema and its migrations.
//!
//! `PRAGMA user_version` holds the schema version. Migrations run in order, in
//! one transaction each, when a vault is opened; a vault written by a newer
//! Yaddash is refused rather than damaged.

use rusqlite::Connection;

use crate::error::{Result, VaultError};

/// Migrations, index 0 bringing a new database to version 1, and so on.
/// Never edit a released entry: append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
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
    // 2: bundles, devices, trust, provenance.
    r#"
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
    // 3: the register: merges of persons, pairs marked distinct, status overrides.
    r#"
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
    // 4: a small search index for the persons and cases lists.
    r#"
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
    // 5: indexes on the references between records.
    r#"
    -- A person's page lists the cases and interviews that refer to them; a
    -- case's page its interviews. Without these, that meant reading every
    -- case and interview in the vault. The expressions must match the
    -- queries in `Vault::referring` exactly.
    CREATE INDEX records_ref_detainee ON records (json_extract(body, '$.detainee_id'));
    CREATE INDEX records_ref_case ON records (json_extract(body, '$.case_id'));
    CREATE INDEX records_ref_speaker ON records (json_extract(body, '$.speaker_id'));
    "#,
    // 6: revocation evidence, recorded overrides, conflicting revisions.
    r#"
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
    // 7: evidence kept from each imported bundle (see crate::evidence).
    r#"
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
    // 8: recordings made in the vault (docs/vault-format.md, "Recordings").
    r#"
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
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(VaultError::Corrupt(format!(
            "schema version {current} is newer than this Yaddash understands ({SCHEMA_VERSION}); upgrade Yaddash"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
