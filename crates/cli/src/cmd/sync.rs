//! `yaddash sync`: field device — export what is new into the outbox, upload
//! the outbox to the HQ server, keep the server's signed receipts, and fetch
//! the coordinators' import receipts.

use std::path::PathBuf;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yaddash_bundle::{ReceiptKind, verify_receipt};

use crate::cmd::hq::{META_SERVER_KEY, UrlArgs, client};
use crate::common::{CliError, CliResult, Context, Progress, fail};

/// Vault setting: cursor of the last receipt fetched from the server.
const META_RECEIPTS_AFTER: &str = "hq_receipts_after";

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    url: UrlArgs,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        if vault.role() != yaddash_vault::VaultRole::Field {
            return fail("`sync` is for field vaults; a coordinator uses `hq pull`");
        }
        let c = client(&mut vault, self.url.url.as_deref())?;
        let server_key = vault
            .meta(META_SERVER_KEY)?
            .ok_or_else(|| CliError("this device is not enrolled at an HQ server: run `yaddash hq enroll CODE --url URL` first".into()))?;
        let outbox = vault.dir().join("outbox");
        std::fs::create_dir_all(&outbox)
            .map_err(|e| CliError(format!("cannot create {}: {e}", outbox.display())))?;

        // 1. Export what is new (ciphertext only ever reaches the outbox).
        let next = vault.last_bundle_out()?.map(|(s, _)| s + 1).unwrap_or(1);
        let mut progress = Progress::new(None);
        let exported = yaddash_exchange::export_bundle(
            &mut vault,
            &outbox.join(format!("{next:08}.yaddash")),
            &mut |d| progress.tick(d),
        )?;
        progress.finish();

        // 2. Upload the outbox, oldest first.
        let mut files: Vec<PathBuf> = std::fs::read_dir(&outbox)
            .map_err(|e| CliError(format!("cannot read {}: {e}", outbox.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaddash"))
            .collect();
        files.sort();
        let mut uploaded = Vec::new();
        for f in &files {
            let mut progress = Progress::new(None);
            let accepted = c
                .upload_bundle(f, &mut |d, _| {
                    progress.tick(d);
                })
                .map_err(|e| CliError(format!("uploading {}: {e}", f.display())))?;
            progress.finish();
            let r = verify_receipt(&accepted.receipt, &server_key)
                .map_err(|e| CliError(format!("the server's receipt does not verify ({e}); the server may be an impostor, the bundle stays in the outbox")))?;
            if r.kind != ReceiptKind::HqReceived
                || r.device_id != vault.device_id()
                || r.bundle_id.to_string() != accepted.bundle_id
            {
                return fail(
                    "the server's receipt is for another bundle; the bundle stays in the outbox",
                );
            }
            let at = r
                .issued_at
                .format(&Rfc3339)
                .map_err(|e| CliError(e.to_string()))?;
            vault.set_meta(
                &format!("hq_receipt:{}", accepted.bundle_id),
                &accepted.receipt,
            )?;
            vault.mark_bundle_received(&accepted.bundle_id, &at)?;
            // Headquarters holds it now (and the vault keeps everything): the
            // outbox copy is no longer needed.
            std::fs::remove_file(f)
                .map_err(|e| CliError(format!("cannot remove {}: {e}", f.display())))?;
            uploaded.push(accepted.bundle_id);
        }

        // 3. Fetch receipts: import receipts from coordinators.
        let mut after: i64 = vault
            .meta(META_RECEIPTS_AFTER)?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut confirmed = Vec::new();
        let mut problems = Vec::new();
        loop {
            let list = c.receipts(after).map_err(|e| CliError(e.to_string()))?;
            if list.receipts.is_empty() {
                break;
            }
            for (id, text) in list.receipts {
                after = after.max(id);
                if text.contains("\"kind\":\"hq-received\"") {
                    continue;
                }
                let file = serde_json::json!({"format": "yaddash-receipts", "device_id": vault.device_id(), "receipts": [text]});
                match yaddash_exchange::receipt_import(&mut vault, &file.to_string()) {
                    Ok(s) => confirmed.extend(s.confirmed),
                    Err(e) => problems.push(e.to_string()),
                }
            }
            vault.set_meta(META_RECEIPTS_AFTER, &after.to_string())?;
        }
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let summary = serde_json::json!({
            "exported": exported.as_ref().map(|e| e.seq),
            "uploaded": uploaded,
            "confirmed_imported": confirmed,
            "receipt_problems": problems,
            "at": now,
        });
        ctx.print(&summary, || {
            let mut s = match &exported {
                Some(e) => format!("bundle {} exported ({} records); ", e.seq, e.records),
                None => "nothing new to export; ".to_owned(),
            };
            s.push_str(&format!(
                "{} bundle(s) uploaded; headquarters confirmed importing {:?}",
                uploaded.len(),
                confirmed
            ));
            for p in &problems {
                s.push_str(&format!("\nreceipt refused: {p}"));
            }
            s
        })
    }
}
