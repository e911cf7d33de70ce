//! Receipts back to the field: a coordinator's signed "imported" receipts,
//! verified and recorded by the field vault.

use std::collections::HashMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use yaddash_bundle::{Receipt, ReceiptKind, Sha256Hash, sign_receipt, verify_receipt};
use yaddash_vault::{BundleOut, Vault, VaultError, VaultRole};

use crate::error::{ExchangeError, FileKind, Result};
use crate::keys::{device_keys, now_rfc3339, require_role};
use crate::trust::trust;

/// A file of receipts for one device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptFile {
    /// Always `yaddash-receipts`.
    pub format: String,
    /// The device the receipts are for.
    pub device_id: Uuid,
    /// Signed receipt texts (JSON line + SSHSIG armour each).
    pub receipts: Vec<String>,
}

/// Coordinator: signed "imported" receipts for every bundle imported from a device.
pub fn receipt_export(vault: &mut Vault, device_id: Uuid) -> Result<ReceiptFile> {
    require_role(vault, VaultRole::Coordinator, "receipt export")?;
    let keys = device_keys(vault)?;
    let bundles = vault.exchange().bundles_in_from(device_id)?;
    if bundles.is_empty() {
        return Err(ExchangeError::Receipt(format!(
            "no bundle from device {device_id} was imported here"
        )));
    }
    let mut receipts = Vec::new();
    for b in bundles {
        let records = vault.exchange().records_from_bundle(&b.bundle_id)?;
        let id = Sha256Hash::from_str(&b.bundle_id)
            .map_err(|_| ExchangeError::Vault(VaultError::Corrupt("bad bundle id".into())))?;
        let r = Receipt::new(
            ReceiptKind::CoordinatorImported,
            id,
            device_id,
            b.seq,
            records,
            OffsetDateTime::now_utc(),
            &keys,
        );
        receipts.push(sign_receipt(&r, &keys).map_err(|e| ExchangeError::Receipt(e.to_string()))?);
    }
    Ok(ReceiptFile {
        format: "yaddash-receipts".into(),
        device_id,
        receipts,
    })
}

/// What a receipt import confirmed.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptSummary {
    /// Bundles newly confirmed as imported by headquarters.
    pub confirmed: Vec<u64>,
    /// Receipts for bundles already confirmed.
    pub already: u64,
}

/// Field: verifies receipts against the trusted coordinators' keys and marks
/// the bundles (and so their records) as held by headquarters.
pub fn receipt_import(vault: &mut Vault, text: &str) -> Result<ReceiptSummary> {
    let trust = trust(vault)?;
    let file: ReceiptFile = serde_json::from_str(text).map_err(|_| ExchangeError::BadFile {
        what: FileKind::Receipt,
        problem: "not a Yaddash receipt file".into(),
    })?;
    if file.format != "yaddash-receipts" {
        return Err(ExchangeError::BadFile {
            what: FileKind::Receipt,
            problem: "not a Yaddash receipt file".into(),
        });
    }
    if file.device_id != vault.device_id() {
        return Err(ExchangeError::Receipt(format!(
            "the receipts are for device {}, this is device {}",
            file.device_id,
            vault.device_id()
        )));
    }
    let ours: HashMap<String, BundleOut> = vault
        .exchange()
        .bundles_out()?
        .into_iter()
        .map(|b| (b.bundle_id.clone(), b))
        .collect();
    // Verify everything first: a single bad receipt refuses the file.
    let mut verified = Vec::new();
    for text in &file.receipts {
        let receipt = trust
            .coordinators
            .iter()
            .find_map(|c| verify_receipt(text, &c.signing_key).ok())
            .ok_or_else(|| {
                ExchangeError::Receipt("a receipt is not signed by a trusted coordinator".into())
            })?;
        if receipt.kind != ReceiptKind::CoordinatorImported
            || receipt.device_id != vault.device_id()
        {
            return Err(ExchangeError::Receipt(
                "a receipt is not an import receipt for this device".into(),
            ));
        }
        let bundle_id = receipt.bundle_id.to_string();
        let b = ours.get(&bundle_id).ok_or_else(|| {
            ExchangeError::Receipt("a receipt names a bundle this device did not make".into())
        })?;
        if b.seq != receipt.seq {
            return Err(ExchangeError::Receipt(
                "a receipt's bundle number does not match".into(),
            ));
        }
        verified.push((bundle_id, receipt));
    }
    let mut summary = ReceiptSummary {
        confirmed: Vec::new(),
        already: 0,
    };
    let at = now_rfc3339();
    for ((bundle_id, receipt), text) in verified.into_iter().zip(&file.receipts) {
        // Kept so travel mode can verify it again before removing anything.
        vault.exchange().set_import_receipt(&bundle_id, text)?;
        if ours
            .get(&bundle_id)
            .and_then(|b| b.imported_at.as_ref())
            .is_some()
        {
            summary.already += 1;
        } else {
            vault
                .exchange_mut()
                .mark_bundles_imported(std::slice::from_ref(&bundle_id), &at)?;
            summary.confirmed.push(receipt.seq);
        }
    }
    Ok(summary)
}
