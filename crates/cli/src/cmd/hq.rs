//! `yaddash hq invite|enroll|pull|revoke`: talking to the HQ server.
//!
//! The server is a blind relay: it never sees plaintext. Bundles are pulled
//! and imported by the coordinator vault, which still checks every bundle
//! against its *own* list of enrolled devices (`yaddash device enroll`): the
//! server's enrollment only lets a device upload, it does not make the
//! coordinator trust it.

use std::path::Path;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use yaddash_exchange::ExchangeError;
use yaddash_sync::Client;
use yaddash_vault::Vault;
use yaddash_wire::hq::DeviceKeysPublic;
use yaddash_wire::request::EnrollCode;

use crate::common::{CliError, CliResult, Context, Progress, fail, parse_time};

pub use yaddash_outbox::META_SERVER_KEY;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Coordinator: print a one-time enrollment code for a new device.
    Invite(InviteArgs),
    /// Field: register this device at the HQ server with a coordinator's code.
    Enroll(EnrollArgs),
    /// Coordinator: download new bundles, import them, acknowledge, send receipts back.
    Pull(UrlArgs),
    /// Coordinator: revoke a device at the HQ server and in this vault.
    Revoke(RevokeArgs),
}

#[derive(clap::Args)]
pub struct InviteArgs {
    /// How long the code stays valid: e.g. 30m, 24h, 7d.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    expires: i64,
}

#[derive(clap::Args)]
pub struct EnrollArgs {
    /// The code (YDE1-...).
    code: String,
    /// The HQ server, e.g. http://127.0.0.1:8440.
    #[arg(long)]
    url: String,
}

#[derive(clap::Args)]
pub struct UrlArgs {
    /// The HQ server (remembered in the vault after first use).
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The device to revoke.
    #[arg(value_parser = crate::common::parse_id)]
    device_id: Uuid,
    /// Refuse bundles made from this date or time (default: now).
    #[arg(long, value_parser = parse_time)]
    from: Option<OffsetDateTime>,
    /// The HQ server.
    #[arg(long)]
    url: Option<String>,
}

fn parse_duration(s: &str) -> Result<i64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30m, 24h or 7d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86400,
        _ => return Err(format!("{s:?} is not a duration like 30m, 24h or 7d")),
    };
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{s:?} is out of range"))
}

fn sync_err(e: yaddash_sync::SyncError) -> CliError {
    CliError(e.to_string())
}

/// The client for this vault, as the safety policy allows: URL from
/// `--url` (remembered) or the vault; route from the policy. Giving a URL
/// explicitly counts as enabling sync, unless the user turned sync off.
pub fn client(vault: &mut Vault, url: Option<&str>) -> CliResult<Client> {
    Ok(session(vault, url, None, false)?.client)
}

/// [`client`] with a one-run proxy; the whole session. `enroll`: the user
/// is joining an HQ server, which is their decision to enable sync.
pub fn session(
    vault: &mut Vault,
    url: Option<&str>,
    proxy: Option<&str>,
    enroll: bool,
) -> CliResult<yaddash_outbox::Session> {
    if enroll {
        yaddash_outbox::enable_sync(vault).map_err(outbox_err)?;
    } else if url.is_some() {
        let p = yaddash_outbox::load_policy(vault).map_err(|e| CliError(e.to_string()))?;
        if !p.enabled && p.set_by != yaddash_outbox::SetBy::User {
            yaddash_outbox::enable_sync(vault).map_err(outbox_err)?;
        }
    }
    yaddash_outbox::connect(
        vault,
        &yaddash_outbox::Connect {
            url: url.map(str::to_owned),
            proxy: proxy.map(str::to_owned),
            automatic: false,
            cancel: crate::common::cancel_flag(),
        },
    )
    .map_err(outbox_err)
}

pub fn outbox_err(e: yaddash_outbox::OutboxError) -> CliError {
    CliError(e.to_string())
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        match self {
            Command::Invite(a) => {
                let keys = yaddash_exchange::device_keys(&mut vault)?;
                if vault.role() != yaddash_vault::VaultRole::Coordinator {
                    return fail("only a coordinator vault can issue enrollment codes");
                }
                let expires = OffsetDateTime::now_utc().unix_timestamp() + a.expires;
                let code = EnrollCode::issue(keys.signing_key(), vault.device_id(), expires)
                    .map_err(|e| CliError(e.to_string()))?;
                let text = code.to_text();
                let until = OffsetDateTime::from_unix_timestamp(expires)
                    .ok()
                    .and_then(|t| t.format(&Rfc3339).ok())
                    .unwrap_or_default();
                ctx.print(
                    &serde_json::json!({"code": text, "expires_at": until}),
                    || format!("{text}\n(one-time code, valid until {until})"),
                )
            }
            Command::Enroll(a) => {
                let keys = yaddash_exchange::device_keys(&mut vault)?;
                let id = keys.public_identity(vault.device_id());
                let c = session(&mut vault, Some(&a.url), None, true)?.client;
                let info = c
                    .enroll(
                        &a.code,
                        DeviceKeysPublic {
                            device_id: id.device_id,
                            signing_key: id.signing_key,
                            age_recipient: id.age_recipient,
                        },
                    )
                    .map_err(sync_err)?;
                if let Some(hq) = vault.meta("hq_id")?
                    && hq != info.hq_id
                {
                    return fail(format!(
                        "this server serves headquarters {:?}, but this vault's trust file is for {hq:?}; check the URL",
                        info.hq_id
                    ));
                }
                match vault.meta(META_SERVER_KEY)? {
                    Some(k) if !same_key(&k, &info.server_key) => {
                        return fail(
                            "the server's key differs from the one this vault knows; it may be an impostor. Check with a coordinator",
                        );
                    }
                    Some(_) => {}
                    None => vault.set_meta(META_SERVER_KEY, &info.server_key)?,
                }
                ctx.print(&serde_json::json!({"enrolled": true, "hq_id": info.hq_id, "server_fingerprint": info.server_fingerprint}), || {
                    format!(
                        "enrolled at {} (headquarters {}); server key fingerprint {}",
                        a.url, info.hq_id, info.server_fingerprint
                    )
                })
            }
            Command::Pull(a) => pull(ctx, &mut vault, a.url.as_deref()),
            Command::Revoke(a) => {
                let from = a.from.unwrap_or_else(OffsetDateTime::now_utc);
                let c = client(&mut vault, a.url.as_deref())?;
                let from_text = from.format(&Rfc3339).map_err(|e| CliError(e.to_string()))?;
                c.revoke(a.device_id, &from_text).map_err(sync_err)?;
                yaddash_exchange::revoke_device(&mut vault, a.device_id, from)?;
                ctx.print(
                    &serde_json::json!({"device_id": a.device_id, "revoked_from": from_text}),
                    || {
                        format!(
                            "device {} revoked from {from_text} at the HQ server and in this vault",
                            a.device_id
                        )
                    },
                )
            }
        }
    }
}

/// Compares two OpenSSH public key lines, ignoring comments.
pub fn same_key(a: &str, b: &str) -> bool {
    let core = |s: &str| s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    core(a) == core(b)
}

fn pull(ctx: &Context, vault: &mut Vault, url: Option<&str>) -> CliResult {
    if vault.role() != yaddash_vault::VaultRole::Coordinator {
        return fail("`hq pull` needs a coordinator vault");
    }
    let c = client(vault, url)?;
    let inbox = vault.dir().join("inbox");
    std::fs::create_dir_all(&inbox)
        .map_err(|e| CliError(format!("cannot create {}: {e}", inbox.display())))?;
    let mut imported = Vec::new();
    let mut refused = Vec::new();
    let mut devices = std::collections::BTreeSet::new();
    let mut after = 0;
    loop {
        let list = c.list_bundles(after).map_err(sync_err)?;
        // A server that does not move the cursor forward would loop us forever.
        if list.bundles.is_empty() || list.bundles.iter().all(|b| b.seq <= after) {
            break;
        }
        for b in list.bundles {
            after = after.max(b.seq);
            let path = inbox.join(format!("{}.yaddash", b.bundle_id));
            c.download_bundle(&b, &path).map_err(sync_err)?;
            let mut progress = Progress::new(Some(b.size));
            let result = yaddash_exchange::import_bundle(vault, &path, &mut |d| progress.tick(d));
            progress.finish();
            match result {
                Ok(s) => {
                    devices.insert(s.device_id);
                    imported.push(serde_json::json!({"bundle_id": s.bundle_id, "device_id": s.device_id, "seq": s.seq, "missing": s.missing}));
                }
                Err(ExchangeError::AlreadyImported { device_id, .. }) => {
                    devices.insert(device_id);
                }
                Err(e) => {
                    // Not acknowledged: it stays at the server for a human to look at.
                    refused.push(serde_json::json!({"bundle_id": b.bundle_id, "device_id": b.device_id, "error": e.to_string()}));
                    remove_quietly(&path);
                    continue;
                }
            }
            c.ack(&b.bundle_id).map_err(sync_err)?;
            remove_quietly(&path);
        }
    }
    let mut receipts = 0;
    for d in &devices {
        let file = yaddash_exchange::receipt_export(vault, *d)?;
        receipts += file.receipts.len();
        c.post_receipts(file.receipts).map_err(sync_err)?;
    }
    let bundle_ids: Vec<String> = imported
        .iter()
        .filter_map(|i| i["bundle_id"].as_str().map(str::to_owned))
        .collect();
    let dups = if vault.role() == yaddash_vault::VaultRole::Coordinator {
        crate::cmd::register::suggestions_after_import(vault, &bundle_ids)?
    } else {
        Vec::new()
    };
    let summary = serde_json::json!({"imported": imported, "refused": refused, "receipts_posted": receipts, "duplicate_suggestions": dups});
    ctx.print(&summary, || {
        let mut s = format!(
            "{} bundle(s) imported, {} receipt(s) sent back",
            imported.len(),
            receipts
        );
        s.push_str(&crate::cmd::register::suggestions_text(&dups));
        for r in &refused {
            s.push_str(&format!(
                "\nREFUSED bundle {} from device {}: {}",
                r["bundle_id"].as_str().unwrap_or(""),
                r["device_id"].as_str().unwrap_or(""),
                r["error"].as_str().unwrap_or("")
            ));
        }
        s
    })?;
    if refused.is_empty() {
        Ok(())
    } else {
        fail(format!(
            "{} bundle(s) were refused and left at the server",
            refused.len()
        ))
    }
}

fn remove_quietly(p: &Path) {
    let _ = std::fs::remove_file(p);
}
