//! `yaddash hq invite|enroll|pull|revoke`: talking to the HQ server.
//!
//! The server is a blind relay: it never sees plaintext. Bundles are pulled
//! and imported by the coordinator vault, which still checks every bundle
//! against its *own* list of enrolled devices (`yaddash device enroll`): the
//! server's enrollment only lets a device upload, it does not make the
//! coordinator trust it.

use time::OffsetDateTime;
use uuid::Uuid;
use yaddash_vault::Vault;

use crate::common::{CliError, CliResult, Context, Progress, fail, parse_time};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Coordinator: print a one-time enrollment code for a new device.
    Invite(InviteArgs),
    /// Field: register this device at the HQ server with a coordinator's
    /// code. The server must hold the key the imported trust file pins
    /// (`trust export --server-key`); otherwise nothing is sent or stored.
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
    let d = yaddash_os::parse_duration(s).map_err(|e| e.to_string())?;
    i64::try_from(d.as_secs()).map_err(|_| format!("{s:?} is out of range"))
}

/// A session for this vault, as the safety policy allows: URL from
/// `--url` (remembered) or the vault; route from the policy. Giving a URL
/// explicitly counts as enabling sync, unless the user turned sync off.
/// `proxy`: a one-run proxy. `enroll`: the user
/// is joining an HQ server, which is their decision to enable sync.
pub fn session(
    vault: &mut Vault,
    url: Option<&str>,
    proxy: Option<&str>,
    enroll: bool,
) -> CliResult<yaddash_outbox::Session> {
    yaddash_outbox::user_session(vault, url, proxy, enroll, crate::common::cancel_flag())
        .map_err(outbox_err)
}

pub fn outbox_err(e: yaddash_outbox::OutboxError) -> CliError {
    CliError::with_hint(e.to_string(), crate::common::outbox_hint(&e))
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        match self {
            Command::Invite(a) => {
                let i = yaddash_coordinator::invite(&mut vault, a.expires).map_err(outbox_err)?;
                ctx.print(&i, || {
                    format!("{}\n(one-time code, valid until {})", i.code, i.expires_at)
                })
            }
            Command::Enroll(a) => {
                let info = yaddash_outbox::enroll(
                    &mut vault,
                    &a.code,
                    &a.url,
                    crate::common::cancel_flag(),
                )
                .map_err(outbox_err)?;
                ctx.print(&info, || {
                    format!(
                        "enrolled at {} (headquarters {}); server key fingerprint {}",
                        a.url, info.hq_id, info.server_fingerprint
                    )
                })
            }
            Command::Pull(a) => pull(ctx, &mut vault, a.url.as_deref()),
            Command::Revoke(a) => {
                let from = a.from.unwrap_or_else(OffsetDateTime::now_utc);
                let r = yaddash_coordinator::revoke(
                    &mut vault,
                    a.device_id,
                    from,
                    a.url.as_deref(),
                    crate::common::cancel_flag(),
                )
                .map_err(outbox_err)?;
                let here = if r.in_vault {
                    "in this vault"
                } else {
                    "(it is not enrolled in this vault)"
                };
                ctx.print(&r, || {
                    if r.at_server {
                        format!(
                            "device {} revoked from {} at the HQ server and {here}",
                            r.device_id, r.revoked_from
                        )
                    } else {
                        format!(
                            "device {} revoked from {} {here}, NOT at the HQ server",
                            r.device_id, r.revoked_from
                        )
                    }
                })?;
                match (&r.server_error, r.at_server) {
                    (_, true) => Ok(()),
                    (Some(e), false) => fail(format!(
                        "the HQ server was not told: {e}; run `yaddash hq revoke` again when it can be reached"
                    )),
                    (None, false) => fail(
                        "no HQ server URL: pass --url URL to revoke the device at the server too",
                    ),
                }
            }
        }
    }
}

fn pull(ctx: &Context, vault: &mut Vault, url: Option<&str>) -> CliResult {
    if vault.role() != yaddash_vault::VaultRole::Coordinator {
        return fail("`hq pull` needs a coordinator vault");
    }
    let s = session(vault, url, None, false)?;
    // One bar per bundle: a new bundle starts when the byte count drops.
    let mut bar: Option<(u64, Progress)> = None;
    let r = yaddash_coordinator::pull(vault, &s, &mut |e| {
        if let yaddash_outbox::Event::Importing { bytes, total } = e {
            if bar.as_ref().is_none_or(|(last, _)| *bytes < *last) {
                if let Some((_, p)) = bar.take() {
                    p.finish();
                }
                bar = Some((*bytes, Progress::new(Some(*total))));
            }
            if let Some((last, p)) = &mut bar {
                *last = *bytes;
                p.tick(*bytes);
            }
        }
    });
    if let Some((_, p)) = bar.take() {
        p.finish();
    }
    let r = r.map_err(outbox_err)?;
    let bundle_ids: Vec<String> = r.imported.iter().map(|i| i.bundle_id.clone()).collect();
    let dups = crate::cmd::register::suggestions_after_import(vault, &bundle_ids)?;
    let summary = serde_json::json!({"imported": r.imported, "refused": r.refused, "receipts_posted": r.receipts_posted, "duplicate_suggestions": dups});
    ctx.print(&summary, || {
        let mut s = format!(
            "{} bundle(s) imported, {} receipt(s) sent back",
            r.imported.len(),
            r.receipts_posted
        );
        s.push_str(&crate::cmd::register::suggestions_text(&dups));
        for x in &r.refused {
            s.push_str(&format!(
                "\nREFUSED bundle {} from device {}: {}",
                x.bundle_id, x.device_id, x.error
            ));
        }
        s
    })?;
    if r.refused.is_empty() {
        Ok(())
    } else {
        fail(format!(
            "{} bundle(s) were refused and left at the server",
            r.refused.len()
        ))
    }
}
