//! The vault's settings: rows of the `meta` table, by a typed key.
//!
//! Higher layers read and write only the keys of [`Setting`], so a
//! misspelt key does not compile. The stored key strings are those of
//! earlier versions (no data migration); `docs/vault-format.md` lists them,
//! and a test holds that list to this file. The vault's own keys (its
//! identity, the storage key, the fold version, travel mode's pending
//! removals) are not settings: only this crate reads or writes them.

use rusqlite::{OptionalExtension, params};

use crate::Vault;
use crate::error::Result;

/// A setting a higher layer keeps in the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// `device_signing_key`: **private**, the device's Ed25519 signing key
    /// (OpenSSH private key) for bundles and receipts.
    DeviceSigningKey,
    /// `device_age_identity`: **private**, the device's age identity.
    DeviceAgeIdentity,
    /// `hq_id`: coordinator, the headquarters id its trust file names.
    HqId,
    /// `hq_url`: the HQ server's address.
    HqUrl,
    /// `hq_server_key`: the HQ server's receipt-signing key pinned at enrollment.
    HqServerKey,
    /// `hq_receipts_after`: field, the receipt cursor at the HQ server.
    HqReceiptsAfter,
    /// `sync_policy`: the safety policy (JSON).
    SyncPolicy,
    /// `reissue_seq`: coordinator, the re-issue bundle counter.
    ReissueSeq,
    /// `travel_last`: the last travel-mode report.
    TravelLast,
}

impl Setting {
    /// Every setting.
    pub const ALL: [Setting; 9] = [
        Setting::DeviceSigningKey,
        Setting::DeviceAgeIdentity,
        Setting::HqId,
        Setting::HqUrl,
        Setting::HqServerKey,
        Setting::HqReceiptsAfter,
        Setting::SyncPolicy,
        Setting::ReissueSeq,
        Setting::TravelLast,
    ];

    /// The key stored in `meta`.
    pub const fn key(self) -> &'static str {
        match self {
            Setting::DeviceSigningKey => "device_signing_key",
            Setting::DeviceAgeIdentity => "device_age_identity",
            Setting::HqId => "hq_id",
            Setting::HqUrl => "hq_url",
            Setting::HqServerKey => "hq_server_key",
            Setting::HqReceiptsAfter => "hq_receipts_after",
            Setting::SyncPolicy => "sync_policy",
            Setting::ReissueSeq => "reissue_seq",
            Setting::TravelLast => "travel_last",
        }
    }
}

/// The vault's own `meta` keys (not settings).
pub(crate) const DEVICE_ID: &str = "device_id";
pub(crate) const ROLE: &str = "role";
pub(crate) const CREATED_AT: &str = "created_at";
/// **Private**: the age identity every attachment is encrypted to.
pub(crate) const STORAGE_IDENTITY: &str = "storage_identity";
pub(crate) const FOLD_VERSION: &str = "fold_version";
/// Travel mode: attachment files still to overwrite and unlink.
pub(crate) const TRAVEL_PENDING_FILES: &str = "travel_pending_files";
/// When a duress passphrase was set (absent when none is).
pub(crate) const DURESS_SET_AT: &str = "duress_set_at";

impl Vault {
    /// A setting's value, if set.
    pub fn setting(&self, setting: Setting) -> Result<Option<String>> {
        self.meta(setting.key())
    }

    /// Sets a setting.
    pub fn set_setting(&self, setting: Setting, value: &str) -> Result<()> {
        self.set_meta(setting.key(), value)
    }

    /// A value from the vault's metadata.
    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a metadata value.
    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/vault-format.md lists every key of `meta`, and names no setting
    /// this file does not have.
    #[test]
    fn the_format_document_lists_every_key() {
        let doc = include_str!("../../../docs/vault-format.md");
        let table = doc
            .split("Keys of `meta`")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").nth(1))
            .expect("the table of meta keys");
        // The first column of each row names the keys.
        let listed: Vec<&str> = table
            .lines()
            .filter_map(|row| row.strip_prefix("| `"))
            .flat_map(|row| {
                let first = row.split(" |").next().unwrap_or("");
                first.split('`').step_by(2).map(str::trim)
            })
            .filter(|k| !k.is_empty() && *k != ",")
            .collect();
        let own = [
            DEVICE_ID,
            ROLE,
            CREATED_AT,
            STORAGE_IDENTITY,
            FOLD_VERSION,
            TRAVEL_PENDING_FILES,
            DURESS_SET_AT,
        ];
        let keys: Vec<&str> = Setting::ALL.iter().map(|s| s.key()).chain(own).collect();
        for key in &keys {
            assert!(
                listed.contains(key),
                "docs/vault-format.md does not list the meta key {key}"
            );
        }
        for key in &listed {
            assert!(
                keys.contains(key),
                "docs/vault-format.md lists a meta key the vault does not have: {key}"
            );
        }
    }
}
