//! The user's explicit HQ actions that the CLI (`yaddash hq invite|enroll|
//! pull|revoke`) and the desktop app share: one implementation each, every
//! network step through [`crate::connect`] and so through the safety policy.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use yaddash_bundle::yaddash_wire::hq::DeviceKeysPublic;
use yaddash_bundle::yaddash_wire::request::EnrollCode;
use yaddash_exchange::{ExchangeError, ImportError};
use yaddash_vault::{Setting, Vault, VaultRole};

use crate::{
    Connect, Event, OutboxError, Policy, Result, Route, Session, SetBy, connect, enable_sync,
    load_policy, save_policy,
};

/// A session the user asked for (not the app on its own): `url` is an HQ
/// server address typed now (remembered in the vault), `proxy` a one-run
/// proxy. `enroll`: the user is joining a server, which is their decision
/// to enable sync. Giving a URL explicitly also enables sync, unless the
/// user turned sync off themselves.
pub fn user_session(
    vault: &mut Vault,
    url: Option<&str>,
    proxy: Option<&str>,
    enroll: bool,
    cancel: Arc<AtomicBool>,
) -> Result<Session> {
    if enroll {
        enable_sync(vault)?;
    } else if url.is_some() {
        let p = load_policy(vault)?;
        if !p.enabled && p.set_by != SetBy::User {
            enable_sync(vault)?;
        }
    }
    connect(
        vault,
        &Connect {
            url: url.map(str::to_owned),
            proxy: proxy.map(str::to_owned),
            automatic: false,
            cancel,
        },
    )
}

/// Checks a policy the user edited and saves it as theirs. The one place
/// the consistency rules for a user's policy live (CLI and app).
pub fn set_user_policy(vault: &Vault, mut p: Policy) -> Result<Policy> {
    if let Route::Proxy { url } = &p.route {
        let url = crate::normalise_proxy(url).map_err(|e| OutboxError::BadProxy(e.to_string()))?;
        p.route = Route::Proxy { url };
    }
    if p.require_proxy && p.route == Route::Direct {
        return Err(OutboxError::BadPolicy(
            "require proxy is on but the route is direct: set a proxy such as socks5h://127.0.0.1:9050 too".into(),
        ));
    }
    p.check()
        .map_err(|e| OutboxError::BadPolicy(e.to_string()))?;
    p.set_by = SetBy::User;
    save_policy(vault, &p)?;
    Ok(p)
}

/// Compares two OpenSSH public key lines, ignoring comments.
pub fn same_key(a: &str, b: &str) -> bool {
    let core = |s: &str| s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    core(a) == core(b)
}

/// What enrolling at a server answered.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Enrolled {
    /// Always true (the JSON the CLI prints).
    pub enrolled: bool,
    /// The headquarters the server serves.
    pub hq_id: String,
    /// `SHA256:…` fingerprint of the server's receipt key.
    pub server_fingerprint: String,
}

/// `SHA256:…` of an OpenSSH public key line, or a note that it is not one.
fn fingerprint_of(key: &str) -> String {
    yaddash_bundle::yaddash_wire::signing_key_fingerprint(key)
        .unwrap_or_else(|_| "(not a valid key)".into())
}

/// Field: the headquarters id and the HQ server key this vault pins: the
/// ones in the imported trust file (whose fingerprint the user compared
/// with a coordinator). There is no trust on first use: without a key in
/// the trust file, enrollment is refused.
pub fn pinned_server_key(vault: &Vault) -> Result<(String, String)> {
    let no_key = || {
        OutboxError::NoServerKey(
            "the trust file names no HQ server key, so this device cannot tell the real server from an impostor: ask a coordinator for a trust file that names the server's key, import it, compare its fingerprints by phone, then join again".into(),
        )
    };
    let (_, doc) = vault.exchange().trust()?.ok_or(OutboxError::NoTrust)?;
    let trust: yaddash_exchange::TrustFile = serde_json::from_str(&doc).map_err(|e| {
        OutboxError::NoServerKey(format!("the stored trust file is unreadable: {e}"))
    })?;
    let key = trust.hq_server_key.ok_or_else(no_key)?;
    yaddash_bundle::yaddash_wire::signing_key_fingerprint(&key).map_err(|e| {
        OutboxError::NoServerKey(format!(
            "the trust file's HQ server key is not a valid Ed25519 key ({e}); ask a coordinator for a new trust file"
        ))
    })?;
    Ok((trust.hq_id, key))
}

/// Field: registers this device at the HQ server at `url` with a
/// coordinator's one-time code. The server must hold the key pinned by the
/// trust file ([`pinned_server_key`]): its key is checked before the code
/// or this device's keys are sent, and again in the enrollment answer. A
/// server with another key, or for another headquarters, is refused and
/// nothing is stored (not the URL, not the key, sync stays as it was).
/// Only a successful enrollment enables sync (the user's decision to join)
/// and remembers the URL and the pinned key.
pub fn enroll(
    vault: &mut Vault,
    code: &str,
    url: &str,
    cancel: Arc<AtomicBool>,
) -> Result<Enrolled> {
    let (hq_id, pinned) = pinned_server_key(vault)?;
    let differs = |found: &str, sent: &str| {
        OutboxError::ServerKeyMismatch(format!(
            "the server at {url} has key {}, but the trust file pins {}: it may be an impostor, {sent} and nothing was stored. Check the URL and the trust file's fingerprint with a coordinator",
            fingerprint_of(found),
            fingerprint_of(&pinned)
        ))
    };
    let keys = yaddash_exchange::device_keys(vault)?;
    let id = keys.public_identity(vault.device_id());
    let s = crate::enrollment_session(
        vault,
        &Connect {
            url: Some(url.to_owned()),
            proxy: None,
            automatic: false,
            cancel,
        },
    )?;
    // Before the one-time code and this device's keys leave the laptop.
    let before = s.client.info()?;
    if !same_key(&before.server_key, &pinned) {
        return Err(differs(&before.server_key, "nothing was sent"));
    }
    let other_hq = |found: &str| {
        OutboxError::OtherHeadquarters(format!(
            "this server serves headquarters {:?}, but this vault's trust file is for {hq_id:?}; check the URL",
            found
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect::<String>()
        ))
    };
    if before.hq_id != hq_id {
        return Err(other_hq(&before.hq_id));
    }
    let info = s.client.enroll(
        code,
        DeviceKeysPublic {
            device_id: id.device_id,
            signing_key: id.signing_key,
            age_recipient: id.age_recipient,
        },
    )?;
    if !same_key(&info.server_key, &pinned) {
        return Err(differs(
            &info.server_key,
            "its enrollment answer was not accepted",
        ));
    }
    if info.hq_id != hq_id {
        return Err(other_hq(&info.hq_id));
    }
    enable_sync(vault)?;
    vault.set_setting(Setting::HqUrl, url)?;
    vault.set_setting(Setting::HqServerKey, &pinned)?;
    Ok(Enrolled {
        enrolled: true,
        hq_id: info.hq_id,
        server_fingerprint: fingerprint_of(&pinned),
    })
}

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
    std::fs::create_dir_all(&inbox)
        .map_err(crate::io_err(format!("cannot create {}", inbox.display())))?;
    let mut report = PullReport::default();
    let mut devices = std::collections::BTreeSet::new();
    // A revoked device's bundles refused for want of evidence: one imported
    // later (the one the server held) may cover them through the chain.
    let mut retry = Vec::new();
    let mut after = 0;
    loop {
        let list = s.client.list_bundles(after)?;
        if !crate::moves_on(after, list.bundles.iter().map(|b| b.seq)) {
            break;
        }
        for b in list.bundles {
            after = after.max(b.seq);
            yaddash_sync::ids::bundle_id(&b.bundle_id)?;
            let path = inbox.join(format!("{}.yaddash", b.bundle_id));
            match fetch_and_import(vault, s, on, &b, &path)? {
                Ok(sum) => {
                    devices.insert(sum.device_id);
                    report.imported.push(Pulled {
                        bundle_id: sum.bundle_id,
                        device_id: sum.device_id,
                        seq: sum.seq,
                        missing: sum.missing,
                    });
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
                    report.imported.push(Pulled {
                        bundle_id: sum.bundle_id,
                        device_id: sum.device_id,
                        seq: sum.seq,
                        missing: sum.missing,
                    });
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
