//! Coordinator: re-issue bundles that give a field device back records it
//! removed before travel.

use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;
use yaddash_bundle::PublicIdentityExt;
use yaddash_bundle::{BundleSpec, PublicIdentity};
use yaddash_vault::{Setting, Vault, VaultRole};

use crate::error::{ExchangeError, Result};
use crate::export::{Progress, write_bundle_file};
use crate::keys::{device_keys, hq_id, require_role};

/// What a re-issue wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ReissueSummary {
    /// The bundle file.
    pub path: PathBuf,
    /// The device it is for (only it can decrypt it).
    pub device_id: Uuid,
    /// This coordinator's re-issue number.
    pub seq: u64,
    /// Bundle id.
    pub bundle_id: String,
    /// File size.
    pub size: u64,
    /// Records carried (every revision of each).
    pub records: u64,
    /// Attachments carried.
    pub attachments: u64,
}

/// Coordinator: a bundle that gives an enrolled field device back the
/// records it needs (every revision, with their attachments) after travel
/// mode removed them. Signed by this coordinator, encrypted to that device
/// only; the device imports it with `bundle import`, checked against its
/// trust file. Records carried this way count as held by headquarters.
pub fn reissue_bundle(
    vault: &mut Vault,
    device_id: Uuid,
    record_ids: &[Uuid],
    out: &Path,
    progress: Progress<'_>,
) -> Result<ReissueSummary> {
    require_role(vault, VaultRole::Coordinator, "bundle reissue")?;
    let keys = device_keys(vault)?;
    let device = vault
        .exchange()
        .device(device_id)?
        .ok_or(ExchangeError::DeviceNotEnrolled(device_id))?;
    if device.revoked_from.is_some() {
        return Err(ExchangeError::DeviceRevoked(device_id));
    }
    let recipient = PublicIdentity {
        device_id,
        signing_key: device.signing_key.clone(),
        age_recipient: device.age_recipient.clone(),
    }
    .age_recipient()
    .map_err(|e| ExchangeError::Keys(e.to_string()))?;
    let hq_id = hq_id(vault)?;
    let mut records = Vec::new();
    let mut attachments = Vec::new();
    for id in record_ids {
        records.push(vault.exchange().record_changes(*id)?);
        attachments.extend(vault.attachments_of(*id)?);
    }
    let seq = vault
        .setting(Setting::ReissueSeq)?
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    let spec = BundleSpec {
        device_id: vault.device_id(),
        seq,
        prev_bundle_sha256: None,
        created_at: OffsetDateTime::now_utc(),
        hq_id,
        recipients: vec![recipient],
    };
    let written = write_bundle_file(vault, &keys, &spec, &records, &attachments, out, progress)?;
    vault.set_setting(Setting::ReissueSeq, &seq.to_string())?;
    Ok(ReissueSummary {
        path: out.to_path_buf(),
        device_id,
        seq,
        bundle_id: written.bundle_id.to_string(),
        size: written.total_len,
        records: records.len() as u64,
        attachments: attachments.len() as u64,
    })
}
