//! A field user's explicit HQ actions that the CLI (`yaddash hq enroll`,
//! `yaddash policy`) and the desktop app share: one implementation each,
//! every network step through [`crate::connect`] and so through the safety
//! policy. A coordinator's pull, invite and revoke are in
//! `yaddash-coordinator`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde::Serialize;
use yaddash_bundle::yaddash_wire::hq::DeviceKeysPublic;
use yaddash_vault::{Setting, Vault};

use crate::{
    Connect, OutboxError, Policy, Result, Route, Session, SetBy, connect, enable_sync, load_policy,
    save_policy,
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
