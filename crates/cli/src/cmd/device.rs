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
    /// Coordinator: revoke a device; bundles it signed from then on are refused.
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
                yaddash_exchange::revoke_device(&mut vault, a.device_id, from)?;
                ctx.print(
                    &json!({ "device_id": a.device_id, "revoked_from": from.to_string() }),
                    || format!("device {} revoked from {from}", a.device_id),
                )
            }
            Command::List => {
                let devices = vault.devices()?;
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
                                    .map(|r| format!("  REVOKED from {r}"))
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
