//! A coordinator's work with the HQ server: pull the bundles field devices
//! sent (importing each against this vault's own list of enrolled devices),
//! issue one-time enrollment codes, revoke a device. Used by the CLI
//! (`yaddash hq pull|invite|revoke`) and the desktop app. Every network step
//! goes through the safety policy ([`yaddash_outbox::user_session`]), like
//! field sync; a field vault is refused each of these.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use yaddash_bundle::yaddash_wire::request::EnrollCode;
use yaddash_exchange::{ExchangeError, ImportError};
use yaddash_outbox::{Event, OutboxError, Result, Session, user_session};
use yaddash_vault::{Setting, Vault, VaultRole};

/// A bundle a pull imported.
#[derive(Debug, Clone, Serialize)]
pub struct Pulled {
    /// Bundle id.
    pub bundle_id: String,
    /// The device that made it.
    pub device_id: Uuid,
    /// Its sequence number on that device.
    pub seq: u64,
    /// That device's bundle numbers still missing here (gaps).
    pub missing: Vec<u64>,
}

impl From<yaddash_exchange::ImportSummary> for Pulled {
    fn from(sum: yaddash_exchange::ImportSummary) -> Pulled {
        Pulled {
            bundle_id: sum.bundle_id,
            device_id: sum.device_id,
            seq: sum.seq,
            missing: sum.missing,
        }
    }
}

/// A bundle a pull refused (left at the server for a human to look at).
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    /// Bundle id.
    pub bundle_id: String,
    /// The device the server says sent it.
    pub device_id: Uuid,
    /// Why it was refused (English, for logs and the CLI).
    pub error: String,
    /// The refusal itself, for callers that map it to a code of their own
    /// (the app's catalogue).
    #[serde(skip)]
    pub cause: Option<Arc<ExchangeError>>,
}

impl Refused {
    fn new(b: &yaddash_bundle::yaddash_wire::hq::BundleInfo, e: ExchangeError) -> Refused {
        Refused {
            bundle_id: b.bundle_id.clone(),
            device_id: b.device_id,
            error: e.to_string(),
            cause: Some(Arc::new(e)),
        }
    }
}

/// What a coordinator's pull did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PullReport {
    /// Bundles imported now.
    pub imported: Vec<Pulled>,
    /// Bundles refused and left at the server.
    pub refused: Vec<Refused>,
    /// Import receipts sent back to the server for the devices.
    pub receipts_posted: usize,
}

/// Coordinator: downloads new bundles from the HQ server, imports each
/// (checked against this vault's own list of enrolled devices), acknowledges
/// it, and posts the signed import receipts back for the devices. The
/// downloaded files are ciphertext, kept in `<vault>/inbox` only while
/// importing.
pub fn pull(vault: &mut Vault, s: &Session, on: &mut dyn FnMut(&Event)) -> Result<PullReport> {
    if vault.role() != VaultRole::Coordinator {
        return Err(OutboxError::WrongRole {
            what: "pulling from the HQ server",
            needed: VaultRole::Coordinator,
        });
    }
    let inbox = vault.dir().join("inbox");
    std::fs::create_dir_all(&inbox).map_err(yaddash_outbox::io_err(format!(
        "cannot create {}",
        inbox.display()
    )))?;
    let mut report = PullReport::default();
    let mut devices = std::collections::BTreeSet::new();
    // A revoked device's bundles refused for want of evidence: one imported
    // later (the one the server held) may cover them through the chain.
    let mut retry = Vec::new();
    let mut after = 0;
    loop {
        let list = s.client.list_bundles(after)?;
        if !yaddash_outbox::moves_on(after, list.bundles.iter().map(|b| b.seq)) {
            break;
        }
        for b in list.bundles {
            after = after.max(b.seq);
            yaddash_sync::ids::bundle_id(&b.bundle_id)?;
            let path = inbox.join(format!("{}.yaddash", b.bundle_id));
            match fetch_and_import(vault, s, on, &b, &path)? {
                Ok(sum) => {
                    devices.insert(sum.device_id);
                    report.imported.push(Pulled::from(sum));
                }
                Err(ExchangeError::Import(ImportError::AlreadyImported { device_id, .. })) => {
                    devices.insert(device_id);
                }
                Err(e @ ExchangeError::Import(ImportError::AfterRevocation { .. })) => {
                    retry.push((b, e));
                    continue;
                }
                Err(e) => {
                    // Not acknowledged: it stays at the server for a human to look at.
                    report.refused.push(Refused::new(&b, e));
                    continue;
                }
            }
            s.client.ack(&b.bundle_id)?;
            remove_quietly(&path);
        }
    }
    // Newest first, while that imports something.
    let mut progress = !report.imported.is_empty();
    while progress && !retry.is_empty() {
        progress = false;
        let mut still = Vec::new();
        for (b, _) in retry.into_iter().rev() {
            let path = inbox.join(format!("{}.yaddash", b.bundle_id));
            match fetch_and_import(vault, s, on, &b, &path)? {
                Ok(sum) => {
                    progress = true;
                    devices.insert(sum.device_id);
                    report.imported.push(Pulled::from(sum));
                    s.client.ack(&b.bundle_id)?;
                    remove_quietly(&path);
                }
                Err(e) => still.push((b, e)),
            }
        }
        still.reverse();
        retry = still;
    }
    for (b, error) in retry {
        report.refused.push(Refused::new(&b, error));
    }
    for d in &devices {
        let file = yaddash_exchange::receipt_export(vault, *d)?;
        report.receipts_posted += file.receipts.len();
        s.client.post_receipts(file.receipts)?;
    }
    Ok(report)
}

/// Downloads one bundle into the inbox and imports it. The outer error is
/// the transfer's (or the user's Cancel); the inner one the import's, with
/// the downloaded file already removed.
fn fetch_and_import(
    vault: &mut Vault,
    s: &Session,
    on: &mut dyn FnMut(&Event),
    b: &yaddash_bundle::yaddash_wire::hq::BundleInfo,
    path: &Path,
) -> Result<std::result::Result<yaddash_exchange::ImportSummary, ExchangeError>> {
    s.client.download_bundle(b, path)?;
    let total = b.size;
    let result = yaddash_exchange::import_bundle(vault, path, &mut |bytes| {
        on(&Event::Importing { bytes, total });
        !s.cancel.load(Ordering::SeqCst)
    });
    if let Err(e) = &result
        && !matches!(
            e,
            ExchangeError::Import(ImportError::AlreadyImported { .. })
        )
    {
        remove_quietly(path);
        if s.cancel.load(Ordering::SeqCst) {
            return Err(OutboxError::Sync(yaddash_sync::SyncError::Cancelled));
        }
    }
    Ok(result)
}

fn remove_quietly(p: &Path) {
    let _ = std::fs::remove_file(p);
}

/// A one-time enrollment code a coordinator issued.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Invite {
    /// The code (`YDE1-…`), for the field user to type or paste.
    pub code: String,
    /// When it stops being accepted (RFC 3339, UTC).
    pub expires_at: String,
}

/// Longest validity of an enrollment code: 7 days (the HQ server refuses
/// longer ones, and a seized coordinator key can mint no long-lived code).
pub const MAX_INVITE_SECS: i64 = 7 * 86_400;

/// Coordinator: issues a one-time enrollment code valid for `valid_for_secs`
/// (1 second to [`MAX_INVITE_SECS`]), signed with this vault's key. Local:
/// touches no network (the HQ server checks the signature at enrollment).
pub fn invite(vault: &mut Vault, valid_for_secs: i64) -> Result<Invite> {
    if vault.role() != VaultRole::Coordinator {
        return Err(OutboxError::WrongRole {
            what: "issuing enrollment codes",
            needed: VaultRole::Coordinator,
        });
    }
    if !(1..=MAX_INVITE_SECS).contains(&valid_for_secs) {
        return Err(OutboxError::BadEnrollCode(
            "an enrollment code is valid for at most 7 days".into(),
        ));
    }
    let keys = yaddash_exchange::device_keys(vault)?;
    let expires = OffsetDateTime::now_utc().unix_timestamp() + valid_for_secs;
    let code = EnrollCode::issue(keys.signing_key(), vault.device_id(), expires)
        .map_err(|e| OutboxError::BadEnrollCode(e.to_string()))?;
    let expires_at = OffsetDateTime::from_unix_timestamp(expires)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    Ok(Invite {
        code: code.to_text(),
        expires_at,
    })
}

/// What revoking a device did.
#[derive(Debug, Serialize)]
pub struct Revoked {
    /// The device.
    pub device_id: Uuid,
    /// Bundles it made from this time on are refused (RFC 3339).
    pub revoked_from: String,
    /// Revoked in this vault (false: the device was never enrolled here).
    pub in_vault: bool,
    /// Revoked at the HQ server.
    pub at_server: bool,
    /// Whether an HQ server was given or is known to this vault.
    pub server_known: bool,
    /// Why the HQ server was not reached or refused (the policy, the network).
    pub server_error: Option<String>,
    /// The same, as an error, for callers that map its code.
    #[serde(skip)]
    pub server_failure: Option<OutboxError>,
}

/// Coordinator: revokes a device from `from` on, first in this vault (its
/// own list of enrolled devices, so nothing it signs from then on is
/// imported here, whatever the network does), then at the HQ server — `url`,
/// or the one this vault knows — through the safety policy. A refusal or
/// network failure at the server is reported in [`Revoked`], not as an
/// error: the local revocation stands. Errors only when the device is
/// neither enrolled here nor revoked at a server.
pub fn revoke(
    vault: &mut Vault,
    device_id: Uuid,
    from: OffsetDateTime,
    url: Option<&str>,
    cancel: Arc<AtomicBool>,
) -> Result<Revoked> {
    if vault.role() != VaultRole::Coordinator {
        return Err(OutboxError::WrongRole {
            what: "revoking a device",
            needed: VaultRole::Coordinator,
        });
    }
    let in_vault = vault.exchange().device(device_id)?.is_some();
    // The vault keeps the rule (a revocation only ever moves earlier); the
    // server is told the time the vault now holds.
    let revoked_from = if in_vault {
        yaddash_exchange::revoke_device(vault, device_id, from)?
            .revoked_from
            .unwrap_or_default()
    } else {
        from.format(&Rfc3339).map_err(|e| {
            OutboxError::Exchange(yaddash_exchange::ExchangeError::Encode(e.to_string()))
        })?
    };
    let server_known = url.is_some() || vault.setting(Setting::HqUrl)?.is_some();
    let mut r = Revoked {
        device_id,
        revoked_from,
        in_vault,
        at_server: false,
        server_known,
        server_error: None,
        server_failure: None,
    };
    if server_known {
        let at_server = user_session(vault, url, None, false, cancel)
            .and_then(|s| Ok(s.client.revoke(device_id, &r.revoked_from)?));
        match at_server {
            Ok(held) => {
                r.at_server = true;
                // The server's evidence joins the vault's: the last bundle
                // it held from the device when it revoked it.
                if let (true, Some(bundle_id)) = (in_vault, held) {
                    yaddash_exchange::record_server_held_bundle(vault, device_id, &bundle_id)?;
                }
            }
            Err(e) => {
                r.server_error = Some(e.to_string());
                r.server_failure = Some(e);
            }
        }
    }
    if !r.in_vault && !r.at_server {
        return Err(match r.server_failure.take() {
            Some(e) => e,
            None => yaddash_vault::VaultError::NotFound {
                kind: "enrolled device",
                id: device_id,
            }
            .into(),
        });
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use yaddash_outbox::test_support::{session, stuck_server, vault};
    use yaddash_vault::VaultRole;

    #[test]
    fn a_server_that_lists_bundles_behind_the_cursor_cannot_loop_a_pull() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir.path().join("v"), VaultRole::Coordinator);
        // Always the same bundle, at a cursor that never passes 0.
        let page = r#"{"bundles":[{"seq":0,"bundle_id":"0000000000000000000000000000000000000000000000000000000000000000","file_sha256":"0000000000000000000000000000000000000000000000000000000000000000","device_id":"01890000-0000-7000-8000-000000000000","size":1,"received_at":0}]}"#;
        let (url, count) = stuck_server(page, r#"{"bundles":[]}"#, 20);
        let s = session(&url, &v);
        let report = crate::pull(&mut v, &s, &mut |_| {}).unwrap();
        assert!(report.imported.is_empty() && report.refused.is_empty());
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "nothing past the cursor: stop"
        );
    }
}
