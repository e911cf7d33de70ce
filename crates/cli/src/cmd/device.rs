//! `yaddash device show|enroll|revoke`

use std::path::PathBuf;

use serde_json::json;
use uuid::Uuid;
use yaddash_bundle::PublicIdentity;

use crate::common::{CliError, CliResult, Context, parse_id, parse_time, read_input};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Show this device's id, public keys and fingerprint (to compare over
    /// the phone). `--json` output is what a coordinator enrolls.
    Show,
    /// Coordinator: enroll a device from its `device show --json` output.
    Enroll(EnrollArgs),
    /// Coordinator: revoke a device; bundles it made from then on are refused.
    ///
    /// A seized device's holder can set its clock, so a bundle's own date
    /// proves nothing. Revoking records what this vault already holds from
    /// the device: the highest bundle number (and its id). Later, a bundle
    /// of this device is imported only if its number is at most that one
    /// (for that one, with the same id), or it is the last bundle the HQ
    /// server held when `hq revoke` told it, or the device's next bundle,
    /// already imported, names it — and its own date is before the
    /// revocation. Anything else is refused and nothing
    /// changes; a coordinator who checked such a bundle by other means can
    /// import it with `bundle import --accept-after-revocation "REASON"`,
    /// which is recorded. Revoking again only ever moves the time earlier
    /// (never later); `hq revoke` tells the HQ server the time this vault
    /// holds.
    /// docs/bundle-format.md, "Revocation".
    Revoke(RevokeArgs),
    /// Coordinator: list enrolled devices.
    List,
}

#[derive(clap::Args)]
pub struct EnrollArgs {
    /// The device's `device show --json` output (`-`: standard input).
    file: PathBuf,
    /// A label for people (e.g. "Ganja interviewer laptop").
    #[arg(long)]
    label: Option<String>,
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The device id.
    #[arg(value_parser = parse_id)]
    device_id: Uuid,
    /// From when (ISO 8601 date or RFC 3339 time); default now.
    #[arg(long, value_parser = parse_time)]
    from: Option<time::OffsetDateTime>,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        match self {
            Command::Show => {
                let info = yaddash_exchange::device_info(&mut vault)?;
                ctx.print(&info, || {
                    format!(
                        "Device id:    {}\nRole:         {}\nSigning key:  {}\nage key:      {}\nFingerprint:  {}\n              {}",
                        info.device_id,
                        info.role.as_str(),
                        info.signing_key,
                        info.age_recipient,
                        info.fingerprint.short,
                        info.fingerprint.ssh
                    )
                })
            }
            Command::Enroll(a) => {
                let text = read_input(&a.file)?;
                let id: PublicIdentity = serde_json::from_str(&text).map_err(|e| {
                    CliError(format!(
                        "{}: not a `device show --json` output (line {}, column {})",
                        a.file.display(),
                        e.line(),
                        e.column()
                    ))
                })?;
                let fp = yaddash_exchange::enroll_device(&mut vault, &id, a.label)?;
                ctx.print(&json!({ "device_id": id.device_id, "fingerprint": fp }), || {
                    format!(
                        "enrolled device {}\nfingerprint {} ({})\ncompare it with the one the device shows before trusting its bundles",
                        id.device_id, fp.short, fp.ssh
                    )
                })
            }
            Command::Revoke(a) => {
                let from = a.from.unwrap_or_else(time::OffsetDateTime::now_utc);
                let d = yaddash_exchange::revoke_device(&mut vault, a.device_id, from)?;
                let revoked_from = d.revoked_from.clone().unwrap_or_default();
                let held = d.held_through_seq.unwrap_or(0);
                let kept_earlier = time::OffsetDateTime::parse(
                    &revoked_from,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok_and(|t| t < from);
                ctx.print(
                    &json!({
                        "device_id": a.device_id,
                        "revoked_from": revoked_from,
                        "held_through_seq": held,
                        "held_through_bundle": d.held_through_bundle,
                    }),
                    || {
                        format!(
                            "device {} revoked from {revoked_from}{}\nits bundles up to number {held} were held here; later ones are refused",
                            a.device_id,
                            if kept_earlier {
                                " (an earlier revocation stands: a revocation never moves later)"
                            } else {
                                ""
                            }
                        )
                    },
                )
            }
            Command::List => {
                let devices = vault.exchange().devices()?;
                ctx.print(&devices, || {
                    devices
                        .iter()
                        .map(|d| {
                            format!(
                                "{}  {}  enrolled {}{}",
                                d.device_id,
                                d.label.as_deref().unwrap_or("-"),
                                d.enrolled_at,
                                d.revoked_from
                                    .as_ref()
                                    .map(|r| format!(
                                        "  REVOKED from {r}, held through bundle {}",
                                        d.held_through_seq.unwrap_or(0)
                                    ))
                                    .unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            }
        }
    }
}
