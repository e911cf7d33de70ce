//! Field sync, done safely: the safety policy decides whether and how the
//! device may talk to headquarters, the outbox holds what waits to go, and
//! travel mode leaves a laptop holding as little as possible.
//!
//! Used by the CLI (`yaddash policy|sync|outbox|travel`) and the desktop app.
//! Every network path goes through [`connect`], which applies the policy:
//! the kill switch, "sync never enabled", manual/automatic mode and windows,
//! and the route (direct, or a SOCKS5 proxy with no fallback).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod hq;
pub mod travel;
mod unsent;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use yaddash_bundle::{ReceiptKind, verify_receipt};
use yaddash_exchange::ExchangeError;
use yaddash_sync::{Client, SyncError};
use yaddash_vault::{Setting, Vault, VaultError, VaultRole};

pub use hq::{Enrolled, enroll, same_key, set_user_policy, user_session};
pub use unsent::{Unsent, unsent};
pub use yaddash_bundle::yaddash_wire::policy::{
    Mode, PolicyError, Refusal, Route, Window, format_utc_offset, normalise_proxy, parse_utc_offset,
};
pub use yaddash_bundle::yaddash_wire::request::EnrollCode;
pub use yaddash_exchange::{Policy, SetBy, load_policy, save_policy};

/// What went wrong. One variant per kind of failure, so callers (the
/// app's error codes, the CLI's hints) match on the kind, never the text.
/// Messages carry no command-line advice: the CLI adds its own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The safety policy does not allow this now.
    #[error("{0}")]
    Refused(Refusal),
    /// Talking to the server failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Bundles, receipts, trust.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    /// The vault.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The operation needs the other vault role.
    #[error("{what} needs a {} vault", needed.as_str())]
    WrongRole {
        /// What was attempted.
        what: &'static str,
        /// The role needed.
        needed: VaultRole,
    },
    /// This device is not enrolled at an HQ server.
    #[error("this device is not enrolled at an HQ server")]
    NotEnrolled,
    /// No HQ server URL given or remembered.
    #[error("no HQ server URL is known yet")]
    NoServerUrl,
    /// No trust file imported yet.
    #[error(
        "no trust file: import the coordinators' trust file first; it names the HQ server's key"
    )]
    NoTrust,
    /// The trust file names no usable HQ server key.
    #[error("{0}")]
    NoServerKey(String),
    /// The server's key is not the one pinned (maybe an impostor).
    #[error("{0}")]
    ServerKeyMismatch(String),
    /// The server serves another headquarters.
    #[error("{0}")]
    OtherHeadquarters(String),
    /// A policy setting is not acceptable.
    #[error("{0}")]
    BadPolicy(String),
    /// The proxy URL is not a SOCKS5 URL.
    #[error("{0}")]
    BadProxy(String),
    /// The enrollment code (or its expiry) is not acceptable.
    #[error("{0}")]
    BadEnrollCode(String),
    /// A file in the outbox is not a bundle this vault made.
    #[error(
        "the outbox holds a file for bundle {seq} that this vault did not make; move it out of the outbox"
    )]
    UnknownOutboxFile {
        /// Its number.
        seq: u64,
    },
    /// That bundle is not in the outbox.
    #[error("bundle {seq} is not in the outbox")]
    NotInOutbox {
        /// Its number.
        seq: u64,
    },
    /// A receipt did not verify.
    #[error("{0}")]
    Receipt(String),
    /// A local file.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Result alias.
pub type Result<T, E = OutboxError> = std::result::Result<T, E>;

/// Wraps an I/O error with what was being done (also used by
/// `yaddash-coordinator`).
pub fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> OutboxError {
    let context = context.into();
    move |source| OutboxError::Io { context, source }
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// How a command wants to connect.
#[derive(Debug, Default, Clone)]
pub struct Connect {
    /// The HQ server URL (remembered in the vault), or the stored one.
    pub url: Option<String>,
    /// A SOCKS5 proxy for this run only (`yaddash sync --proxy`).
    pub proxy: Option<String>,
    /// The app (or a timer) sending on its own rather than the user asking.
    pub automatic: bool,
    /// Set to stop: Ctrl-C, the app's Cancel, the kill switch.
    pub cancel: Arc<AtomicBool>,
}

/// A connection the policy allowed.
#[derive(Debug)]
pub struct Session {
    /// The signing HQ client.
    pub client: Client,
    /// The route it uses.
    pub route: Route,
    /// Its stop flag.
    pub cancel: Arc<AtomicBool>,
}

/// Applies the safety policy and builds the client. Nothing touches the
/// network before this returns `Ok`, and with a proxy the proxy is checked
/// before any connection to the server is attempted.
pub fn connect(vault: &mut Vault, c: &Connect) -> Result<Session> {
    let policy = load_policy(vault)?;
    let route = permitted_route(&policy, c)?;
    let url = match &c.url {
        Some(u) => {
            vault.set_setting(Setting::HqUrl, u)?;
            u.clone()
        }
        None => vault
            .setting(Setting::HqUrl)?
            .ok_or(OutboxError::NoServerUrl)?,
    };
    build_session(vault, &policy, route, c, &url)
}

/// The route `policy` allows for `c` now, or why not.
fn permitted_route(policy: &Policy, c: &Connect) -> Result<Route> {
    let proxy = c
        .proxy
        .as_deref()
        .map(normalise_proxy)
        .transpose()
        .map_err(|e| OutboxError::BadProxy(e.to_string()))?;
    policy
        .permit(c.automatic, proxy.as_deref(), OffsetDateTime::now_utc())
        .map_err(OutboxError::Refused)
}

/// The client for `url` on a route [`permitted_route`] gave. Stores nothing
/// in the vault beyond the device keys.
fn build_session(
    vault: &mut Vault,
    policy: &Policy,
    route: Route,
    c: &Connect,
    url: &str,
) -> Result<Session> {
    let keys = yaddash_exchange::device_keys(vault)?;
    let mut client = Client::with_route(
        url,
        vault.device_id(),
        keys.signing_key(),
        &route,
        Arc::clone(&c.cancel),
    )?;
    client.chunk_size = policy.chunk_bytes(&route);
    Ok(Session {
        client,
        route,
        cancel: Arc::clone(&c.cancel),
    })
}

/// Field enrollment's session: the policy as it will be once the user has
/// joined (sync on), but nothing stored yet, not even the URL: enrollment
/// stores them only after the server proved it holds the pinned key.
pub(crate) fn enrollment_session(vault: &mut Vault, c: &Connect) -> Result<Session> {
    let mut policy = load_policy(vault)?;
    policy.enabled = true;
    let route = permitted_route(&policy, c)?;
    let url = c.url.clone().ok_or(OutboxError::NoServerUrl)?;
    build_session(vault, &policy, route, c, &url)
}

/// Turns sync on (the user's explicit decision, e.g. by enrolling).
pub fn enable_sync(vault: &Vault) -> Result<Policy> {
    let mut p = load_policy(vault)?;
    if !p.enabled {
        p.enabled = true;
        p.set_by = SetBy::User;
        save_policy(vault, &p)?;
    }
    Ok(p)
}

/// The outbox directory.
pub fn outbox_dir(vault: &Vault) -> PathBuf {
    vault.dir().join("outbox")
}

/// The outbox file of bundle `seq`.
pub fn outbox_file(vault: &Vault, seq: u64) -> PathBuf {
    outbox_dir(vault).join(format!("{seq:08}.yaddash"))
}

/// Where an outbox bundle stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(rename = "OutboxState")]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Waiting in the outbox; nothing sent yet.
    Pending,
    /// Partly uploaded; the next sync resumes.
    PartlySent,
    /// The HQ server holds it (its signed receipt verified).
    Received,
    /// A coordinator imported it (their signed receipt verified).
    Imported,
    /// Written to a file for hand carrying; no receipt yet.
    HandedOver,
}

/// One bundle this device made.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "OutboxEntry")]
pub struct Entry {
    /// Sequence number.
    pub seq: u64,
    /// Bundle id.
    pub bundle_id: String,
    /// When it was made.
    pub created_at: String,
    /// File size.
    pub size: u64,
    /// Records carried.
    pub records: u64,
    /// Attachments carried.
    pub attachments: u64,
    /// Where it stands.
    pub state: State,
    /// Bytes the server acknowledged so far (partly sent bundles).
    pub sent_bytes: u64,
    /// Whether the ciphertext is still in the outbox.
    pub in_outbox: bool,
    /// When the server confirmed it.
    pub hq_received_at: Option<String>,
    /// When a coordinator confirmed importing it.
    pub imported_at: Option<String>,
}

/// Every bundle this device made, oldest first, with its state.
pub fn entries(vault: &Vault) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for b in vault.exchange().bundles_out()? {
        let in_outbox = outbox_file(vault, b.seq).is_file();
        let sent_bytes = vault.exchange().sent_bytes(b.seq)?;
        let state = if b.imported_at.is_some() {
            State::Imported
        } else if b.hq_received_at.is_some() {
            State::Received
        } else if in_outbox && sent_bytes > 0 {
            State::PartlySent
        } else if in_outbox {
            State::Pending
        } else {
            State::HandedOver
        };
        out.push(Entry {
            seq: b.seq,
            bundle_id: b.bundle_id,
            created_at: b.created_at,
            size: b.size,
            records: b.records,
            attachments: b.attachments,
            state,
            sent_bytes,
            in_outbox,
            hq_received_at: b.hq_received_at,
            imported_at: b.imported_at,
        });
    }
    Ok(out)
}

/// Progress of a sync, for the CLI's bar and the app's events.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "SyncEvent")]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// Encrypting what is new into the outbox (plaintext bytes read).
    Exporting {
        /// Bytes so far.
        bytes: u64,
    },
    /// Uploading bundle `seq`.
    Uploading {
        /// Bundle.
        seq: u64,
        /// Bytes the server holds.
        sent: u64,
        /// Bundle size.
        total: u64,
    },
    /// The server's receipt for `seq` verified.
    Received {
        /// Bundle.
        seq: u64,
    },
    /// Travel mode: waiting for headquarters' import receipts.
    Waiting {
        /// Bundles not yet confirmed.
        unconfirmed: usize,
        /// Seconds waited so far.
        waited_secs: u64,
    },
    /// Travel mode: removing attachment files.
    Removing {
        /// Files done.
        done: u64,
        /// Files to do.
        total: u64,
    },
    /// Coordinator pull: importing a downloaded bundle.
    Importing {
        /// Bytes read so far.
        bytes: u64,
        /// The bundle's size.
        total: u64,
    },
}

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct SyncReport {
    /// `direct` or `proxy`.
    #[ts(type = "'direct' | 'proxy'")]
    pub route: &'static str,
    /// The bundle made from new records, if any.
    pub exported: Option<u64>,
    /// Records it carried.
    pub exported_records: u64,
    /// Bundle ids the server confirmed receiving.
    pub uploaded: Vec<String>,
    /// Bundles a coordinator confirmed importing (sequence numbers).
    pub confirmed_imported: Vec<u64>,
    /// Receipts refused.
    pub receipt_problems: Vec<String>,
    /// When.
    pub at: String,
}

fn require_field(vault: &Vault) -> Result<()> {
    if vault.role() != VaultRole::Field {
        return Err(OutboxError::WrongRole {
            what: "sync",
            needed: VaultRole::Field,
        });
    }
    Ok(())
}

/// Exports what is new into the outbox (ciphertext only), without sending.
/// Returns (seq, records) of the new bundle, if there was anything new.
pub fn export_new(
    vault: &mut Vault,
    cancel: &AtomicBool,
    on: &mut dyn FnMut(&Event),
) -> Result<Option<(u64, u64)>> {
    require_field(vault)?;
    let dir = outbox_dir(vault);
    fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let next = vault
        .exchange()
        .last_bundle_out()?
        .map(|(s, _)| s + 1)
        .unwrap_or(1);
    let exported = yaddash_exchange::export_bundle(vault, &outbox_file(vault, next), &mut |d| {
        on(&Event::Exporting { bytes: d });
        !cancel.load(Ordering::SeqCst)
    })?;
    Ok(exported.map(|e| (e.seq, e.records)))
}

/// The outbox files waiting, oldest first: (seq, path).
fn waiting(vault: &Vault) -> Result<Vec<(u64, PathBuf)>> {
    let dir = outbox_dir(vault);
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(format!("reading {}", dir.display()))(e)),
    };
    let mut files: Vec<(u64, PathBuf)> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaddash"))
        .filter_map(|p| {
            let seq = p.file_stem()?.to_str()?.parse().ok()?;
            Some((seq, p))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Uploads the outbox, oldest first. Resumes partly sent bundles. An outbox
/// file is removed only after the server's receipt verifies against the
/// pinned server key **and** names the bundle that file holds: this
/// device, and the bundle id this vault recorded for that sequence number
/// when it made the bundle (not the id the server's answer claims). Any
/// other receipt keeps the file and stops the sync with an error.
pub fn upload_outbox(
    vault: &mut Vault,
    s: &Session,
    on: &mut dyn FnMut(&Event),
) -> Result<Vec<String>> {
    require_field(vault)?;
    let server_key = vault
        .setting(Setting::HqServerKey)?
        .ok_or(OutboxError::NotEnrolled)?;
    // A vault enrolled before the trust file pinned a key met its server key
    // on first use: once the trust file names one, the two must agree.
    if let Ok((_, pinned)) = hq::pinned_server_key(vault)
        && !same_key(&pinned, &server_key)
    {
        return Err(OutboxError::ServerKeyMismatch(
            "the trust file pins another HQ server key than the one this device enrolled with: nothing was sent. Check the trust file's fingerprint with a coordinator, then enroll again with a new code".into(),
        ));
    }
    let made: std::collections::BTreeMap<u64, String> = vault
        .exchange()
        .bundles_out()?
        .into_iter()
        .map(|b| (b.seq, b.bundle_id))
        .collect();
    let mut uploaded = Vec::new();
    for (seq, path) in waiting(vault)? {
        let Some(expected) = made.get(&seq) else {
            return Err(OutboxError::UnknownOutboxFile { seq });
        };
        let mut saved = 0u64;
        let accepted = s.client.upload_bundle(&path, &mut |sent, total| {
            on(&Event::Uploading { seq, sent, total });
            // Remember progress now and then, for `outbox list` after a restart.
            if sent >= saved + (1 << 20) && sent < total {
                saved = sent;
                let _ = vault.exchange().set_sent_bytes(seq, sent);
            }
        });
        let accepted = accepted?;
        let r = verify_receipt(&accepted.receipt, &server_key).map_err(|e| {
            OutboxError::Receipt(format!(
                "the server's receipt does not verify ({e}); the server may be an impostor, the bundle stays in the outbox"
            ))
        })?;
        if r.kind != ReceiptKind::HqReceived
            || r.device_id != vault.device_id()
            || r.bundle_id.to_string() != *expected
            || accepted.bundle_id != *expected
        {
            return Err(OutboxError::Receipt(format!(
                "the server's receipt is not for bundle {seq} ({expected}) of this device; the bundle stays in the outbox"
            )));
        }
        let at = r
            .issued_at
            .format(&Rfc3339)
            .unwrap_or_else(|_| now_rfc3339());
        vault
            .exchange()
            .set_hq_receipt(expected, &accepted.receipt)?;
        vault.exchange_mut().mark_bundle_received(expected, &at)?;
        vault.exchange().set_sent_bytes(seq, 0)?;
        // The server holds it and the vault still holds every record: the
        // outbox copy is not needed any more.
        fs::remove_file(&path).map_err(io_err(format!("removing {}", path.display())))?;
        on(&Event::Received { seq });
        uploaded.push(expected.clone());
    }
    Ok(uploaded)
}

/// Whether a page of a server's listing (the entries' cursors) goes past
/// `after`. An empty page ends the listing; so does a server that does not
/// move its cursor forward, which would otherwise loop the client forever.
pub fn moves_on(after: i64, mut cursors: impl Iterator<Item = i64>) -> bool {
    cursors.any(|c| c > after)
}

/// Fetches receipts from the server and imports the coordinators' import
/// receipts (each verified against the trust file).
pub fn fetch_receipts(vault: &mut Vault, s: &Session) -> Result<(Vec<u64>, Vec<String>)> {
    let mut after: i64 = vault
        .setting(Setting::HqReceiptsAfter)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut confirmed = Vec::new();
    let mut problems = Vec::new();
    loop {
        let list = s.client.receipts(after)?;
        if !moves_on(after, list.receipts.iter().map(|(id, _)| *id)) {
            break;
        }
        for (id, text) in list.receipts {
            after = after.max(id);
            if text.contains("\"kind\":\"hq-received\"") {
                continue;
            }
            let file = serde_json::json!({"format": "yaddash-receipts", "device_id": vault.device_id(), "receipts": [text]});
            match yaddash_exchange::receipt_import(vault, &file.to_string()) {
                Ok(r) => confirmed.extend(r.confirmed),
                Err(e) => problems.push(e.to_string()),
            }
        }
        vault.set_setting(Setting::HqReceiptsAfter, &after.to_string())?;
    }
    Ok((confirmed, problems))
}

/// A whole sync: export what is new, upload the outbox, fetch receipts.
pub fn sync(vault: &mut Vault, s: &Session, on: &mut dyn FnMut(&Event)) -> Result<SyncReport> {
    let exported = export_new(vault, &s.cancel, on)?;
    send(vault, s, exported, on)
}

/// Uploads the outbox and fetches receipts; `exported` is what
/// [`export_new`] just made, for the report.
fn send(
    vault: &mut Vault,
    s: &Session,
    exported: Option<(u64, u64)>,
    on: &mut dyn FnMut(&Event),
) -> Result<SyncReport> {
    let uploaded = upload_outbox(vault, s, on)?;
    let (confirmed_imported, receipt_problems) = fetch_receipts(vault, s)?;
    Ok(SyncReport {
        route: route_name(&s.route),
        exported: exported.map(|e| e.0),
        exported_records: exported.map_or(0, |e| e.1),
        uploaded,
        confirmed_imported,
        receipt_problems,
        at: now_rfc3339(),
    })
}

/// A sync that could not send; what is new may be waiting in the outbox.
#[derive(Debug)]
pub struct SendError {
    /// Why nothing (more) was sent.
    pub error: OutboxError,
    /// The bundle made from new records before the sending stopped.
    pub waiting: Option<u64>,
}

impl SendError {
    /// What to add to the error's message: which bundle waits, if any.
    pub fn waiting_note(&self) -> String {
        self.waiting
            .map(|seq| format!(" (bundle {seq} waits in the outbox)"))
            .unwrap_or_default()
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.error, self.waiting_note())
    }
}

impl std::error::Error for SendError {}

/// The user's "Send now" (CLI `sync`, the app's button): what is new goes
/// into the outbox first (ciphertext), even if the policy or the network
/// then stops the sending — it waits there; then a session the user asked
/// for ([`hq::user_session`]) uploads the outbox and fetches receipts.
pub fn send_now(
    vault: &mut Vault,
    url: Option<&str>,
    proxy: Option<&str>,
    cancel: Arc<AtomicBool>,
    on: &mut dyn FnMut(&Event),
) -> std::result::Result<SyncReport, SendError> {
    let exported = export_new(vault, &cancel, on).map_err(|error| SendError {
        error,
        waiting: None,
    })?;
    let waiting = exported.map(|e| e.0);
    let s = user_session(vault, url, proxy, false, cancel)
        .map_err(|error| SendError { error, waiting })?;
    send(vault, &s, exported, on).map_err(|error| SendError { error, waiting })
}

/// `direct` or `proxy`.
pub fn route_name(r: &Route) -> &'static str {
    match r {
        Route::Direct => "direct",
        Route::Proxy { .. } => "proxy",
    }
}

/// Copies outbox bundle `seq` to `dest` (to carry by hand).
pub fn save_copy(vault: &Vault, seq: u64, dest: &Path) -> Result<u64> {
    let src = outbox_file(vault, seq);
    if !src.is_file() {
        return Err(OutboxError::NotInOutbox { seq });
    }
    let bytes = fs::read(&src).map_err(io_err(format!("reading {}", src.display())))?;
    yaddash_exchange::write_file(dest, &bytes)?;
    Ok(bytes.len() as u64)
}

#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod test_support;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{session, stuck_server, vault};

    #[test]
    fn a_page_moves_on_only_past_the_cursor() {
        assert!(moves_on(0, [1].into_iter()));
        assert!(moves_on(5, [3, 6].into_iter()));
        assert!(!moves_on(5, [].into_iter()));
        assert!(!moves_on(5, [5].into_iter()));
        assert!(!moves_on(5, [1, 2, 5].into_iter()));
    }

    #[test]
    fn a_server_that_never_moves_its_receipt_cursor_cannot_loop_the_client() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir.path().join("v"), VaultRole::Field);
        // The same page forever: one entry at cursor 3 (not a valid receipt).
        let (url, count) = stuck_server(
            r#"{"receipts":[[3,"not a receipt"]]}"#,
            r#"{"receipts":[]}"#,
            20,
        );
        let s = session(&url, &v);
        let (confirmed, problems) = fetch_receipts(&mut v, &s).unwrap();
        assert!(confirmed.is_empty());
        assert_eq!(
            problems.len(),
            1,
            "the entry is looked at once: {problems:?}"
        );
        assert_eq!(
            count.load(Ordering::SeqCst),
            2,
            "one page, then the same page: stop"
        );
        assert_eq!(
            v.setting(Setting::HqReceiptsAfter).unwrap().as_deref(),
            Some("3")
        );
    }
}
