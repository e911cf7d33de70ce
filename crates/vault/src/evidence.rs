//! Evidence kept from imported bundles (coordinator vaults, schema 7 on):
//! the device-signed manifest of each bundle and its JSON entries exactly
//! as received, so that an evidence pack (`yaddash-evidence`) can show a
//! court, with `sha256sum` and `ssh-keygen -Y verify` only, which device
//! signed which revision and attachment. Bundles imported before schema 7
//! have none of it: their revisions and attachments are vouched for by the
//! coordinator alone.

use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use crate::Vault;
use crate::error::Result;
use crate::exchange::BundleIn;

/// What an import keeps of a verified bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleEvidence {
    /// `manifest.json` exactly as the device signed it.
    pub manifest: Vec<u8>,
    /// `manifest.json.sig`: the device's SSHSIG over it
    /// (namespace `yaddash-manifest@yaddash.org`).
    pub signature: Vec<u8>,
    /// The JSON entries (`records/<id>.json`, `attachments/<id>.json`)
    /// exactly as received, by path. Their SHA-256 is in the manifest.
    pub entries: Vec<(String, Vec<u8>)>,
}

/// Stores `bundle.evidence`, if any, inside the import's transaction.
pub(crate) fn keep(tx: &Transaction<'_>, bundle: &BundleIn) -> Result<()> {
    let Some(e) = &bundle.evidence else {
        return Ok(());
    };
    tx.execute(
        "INSERT INTO bundle_manifests (bundle_id, manifest, signature) VALUES (?1, ?2, ?3)",
        params![bundle.bundle_id, e.manifest, e.signature],
    )?;
    for (path, bytes) in &e.entries {
        tx.execute(
            "INSERT INTO bundle_entries (bundle_id, path, bytes) VALUES (?1, ?2, ?3)",
            params![bundle.bundle_id, path, bytes],
        )?;
    }
    Ok(())
}

impl Vault {
    /// See [`EvidenceStore::bundle_manifest`].
    pub(crate) fn bundle_manifest(&self, bundle_id: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT manifest, signature FROM bundle_manifests WHERE bundle_id = ?1",
                [bundle_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// See [`EvidenceStore::bundle_entry`].
    pub(crate) fn bundle_entry(&self, bundle_id: &str, path: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT bytes FROM bundle_entries WHERE bundle_id = ?1 AND path = ?2",
                params![bundle_id, path],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// See [`EvidenceStore::attachment_provenance`].
    pub(crate) fn attachment_provenance(
        &self,
        attachment_id: Uuid,
    ) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT device_id, bundle_id FROM attachment_provenance WHERE attachment_id = ?1",
                [attachment_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// See [`EvidenceStore::revision_bodies`].
    pub(crate) fn revision_bodies(&self, record_id: Uuid) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT rev, body FROM revisions WHERE record_id = ?1 ORDER BY rev")?;
        let rows = stmt.query_map([record_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// What an evidence pack reads from the vault: the signed manifests and
/// entries of imported bundles, attachments' provenance and revisions'
/// bodies exactly as stored (`vault.evidence()`).
pub struct EvidenceStore<'a>(&'a Vault);

impl Vault {
    /// What an evidence pack reads.
    pub fn evidence(&self) -> EvidenceStore<'_> {
        EvidenceStore(self)
    }
}

impl EvidenceStore<'_> {
    /// The signed manifest of an imported bundle: (`manifest.json`,
    /// `manifest.json.sig`), or `None` for a bundle imported before
    /// manifests were kept.
    pub fn bundle_manifest(&self, bundle_id: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.0.bundle_manifest(bundle_id)
    }

    /// One JSON entry of an imported bundle exactly as received, if kept.
    pub fn bundle_entry(&self, bundle_id: &str, path: &str) -> Result<Option<Vec<u8>>> {
        self.0.bundle_entry(bundle_id, path)
    }

    /// The device and bundle an attachment came in, if it was imported.
    pub fn attachment_provenance(&self, attachment_id: Uuid) -> Result<Option<(String, String)>> {
        self.0.attachment_provenance(attachment_id)
    }

    /// Every revision's body of a record exactly as stored (the bytes its
    /// `body_sha256` is computed over), oldest first: (rev, body).
    pub fn revision_bodies(&self, record_id: Uuid) -> Result<Vec<(i64, String)>> {
        self.0.revision_bodies(record_id)
    }
}
