//! `yaddash trust export|import`

use std::path::PathBuf;

use yaddash_bundle::{PublicIdentity, PublicIdentityExt};

use crate::common::{CliError, CliResult, Context, read_input};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Coordinator: write the trust file that field vaults import: the
    /// coordinators' keys (bundles are encrypted to all of them) and the
    /// headquarters id.
    Export(ExportArgs),
    /// Field: import the coordinators' trust file. Compare the fingerprints
    /// it prints with the coordinator over the phone.
    Import(ImportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Where to write it.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Another coordinator to encrypt to: their `device show --json` (repeatable).
    #[arg(long, value_name = "FILE")]
    also: Vec<PathBuf>,
    /// A safety policy to pre-set on field devices (JSON, as `yaddash
    /// --json policy show` prints it). It never enables sync on a device.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The HQ server's key, as `yaddash-hq init` prints it (`ssh-ed25519
    /// AAAA…`), or a file holding it. Field devices pin it: they enroll only
    /// at a server holding this key and trust only receipts it signs.
    #[arg(long, value_name = "KEY|FILE")]
    server_key: Option<String>,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The trust file.
    file: PathBuf,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        match self {
            Command::Export(a) => {
                let mut also = Vec::new();
                for f in &a.also {
                    let id: PublicIdentity =
                        serde_json::from_str(&read_input(f)?).map_err(|_| {
                            CliError(format!(
                                "{}: not a `device show --json` output",
                                f.display()
                            ))
                        })?;
                    also.push(id);
                }
                let policy = match &a.policy {
                    None => None,
                    Some(f) => Some(
                        serde_json::from_str::<yaddash_exchange::Policy>(&read_input(f)?).map_err(
                            |e| CliError(format!("{}: not a safety policy: {e}", f.display())),
                        )?,
                    ),
                };
                let server_key = match &a.server_key {
                    None => None,
                    Some(k) => {
                        let line = if k.trim_start().starts_with("ssh-") {
                            k.trim().to_owned()
                        } else {
                            read_input(&PathBuf::from(k))?.trim().to_owned()
                        };
                        yaddash_wire::signing_key_fingerprint(&line).map_err(|e| {
                            CliError(format!(
                                "--server-key: not an Ed25519 OpenSSH public key: {e}"
                            ))
                        })?;
                        Some(line)
                    }
                };
                let t = yaddash_exchange::trust_export(&mut vault, &also, server_key, policy)?;
                let text = serde_json::to_string_pretty(&t).map_err(|e| CliError(e.to_string()))?;
                yaddash_exchange::write_file(&a.out, text.as_bytes())?;
                ctx.print(
                    &serde_json::json!({ "out": a.out, "fingerprint": t.fingerprint(), "hq_id": t.hq_id }),
                    || format!("trust file written to {}\nfingerprint {}", a.out.display(), t.fingerprint()),
                )
            }
            Command::Import(a) => {
                let t = yaddash_exchange::trust_import(&mut vault, &read_input(&a.file)?)?;
                let coordinators: Vec<String> = t
                    .coordinators
                    .iter()
                    .map(|c| {
                        c.fingerprint()
                            .map(|f| {
                                format!("  coordinator {}: {} ({})", c.device_id, f.short, f.ssh)
                            })
                            .unwrap_or_default()
                    })
                    .collect();
                let server = t
                    .hq_server_key
                    .as_deref()
                    .and_then(|k| yaddash_wire::signing_key_fingerprint(k).ok());
                ctx.print(
                    &serde_json::json!({ "fingerprint": t.fingerprint(), "hq_id": t.hq_id, "coordinators": t.coordinators, "policy_preset": t.policy.is_some(), "server_fingerprint": server }),
                    || {
                        format!(
                            "trust file imported; fingerprint {}\n{}\n  HQ server key: {}\nCompare these with the coordinator before sending anything.{}",
                            t.fingerprint(),
                            coordinators.join("\n"),
                            server.as_deref().unwrap_or("none (enrolling at a server needs a trust file that names its key)"),
                            if t.policy.is_some() {
                                "\nIt pre-sets a safety policy (see `yaddash policy show`); sync stays off until you enable it."
                            } else {
                                ""
                            }
                        )
                    },
                )
            }
        }
    }
}
