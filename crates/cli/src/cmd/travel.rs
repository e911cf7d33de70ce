//! `yaddash travel prepare|status`: before a border or a checkpoint.
//! See docs/travel.md for what removal does and does not guarantee.

use std::time::Duration;

use yaddash_outbox::travel::{self, Reason, Remaining};

use crate::cmd::hq::{outbox_err, session};
use crate::cmd::sync::Bars;
use crate::common::{CliError, CliResult, Context};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Send everything, wait for headquarters' import receipts, then remove
    /// every record and attachment headquarters confirmed holding, compact
    /// the vault, and report what remains and why.
    Prepare(PrepareArgs),
    /// What `prepare` would remove now, what stays and why (changes nothing).
    Status,
}

#[derive(clap::Args)]
pub struct PrepareArgs {
    /// How long to wait for the import receipts (e.g. 30s, 10m, 1h).
    #[arg(long, default_value = "10m", value_parser = parse_wait)]
    wait: Duration,
    /// Do not touch the network: remove only what is already confirmed
    /// (receipts imported with `yaddash receipt import`).
    #[arg(long)]
    offline: bool,
    /// Use this SOCKS5 proxy for this run only.
    #[arg(long, value_name = "URL", conflicts_with = "offline")]
    proxy: Option<String>,
    /// Remove without asking (otherwise asks on a terminal).
    #[arg(long)]
    yes: bool,
}

fn parse_wait(s: &str) -> Result<Duration, String> {
    yaddash_os::parse_duration(s).map_err(|e| e.to_string())
}

fn reason_text(r: &Reason) -> String {
    match r {
        Reason::NotSent => "saved or edited since the last bundle: not sent yet".into(),
        Reason::AwaitingImport { seq } => {
            format!("in bundle {seq}, which headquarters has not confirmed importing")
        }
        Reason::ReceiptInvalid { seq, problem } => {
            format!("bundle {seq}'s receipt was refused: {problem}")
        }
        Reason::NotInReceipt { seq } => {
            format!("headquarters' receipt for bundle {seq} does not list it")
        }
        Reason::AttachmentNotConfirmed => "an attachment is not confirmed yet".into(),
    }
}

fn remaining_text(rem: &[Remaining]) -> String {
    let mut s = String::new();
    for r in rem.iter().take(50) {
        s.push_str(&format!(
            "\n  {} {}: {}",
            r.kind.as_str(),
            r.id,
            reason_text(&r.reason)
        ));
    }
    if rem.len() > 50 {
        s.push_str(&format!(
            "\n  … and {} more (--json lists all)",
            rem.len() - 50
        ));
    }
    s
}

fn confirm(ctx: &Context) -> CliResult {
    use std::io::{BufRead, IsTerminal, Write};
    if ctx.json || !std::io::stdin().is_terminal() {
        return Err(CliError(
            "travel prepare removes records from this laptop: pass --yes to confirm".into(),
        ));
    }
    eprint!(
        "This removes from this laptop every record headquarters confirmed holding. Type yes to go on: "
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError(e.to_string()))?;
    if line.trim() != "yes" {
        return Err(CliError("nothing removed".into()));
    }
    Ok(())
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        match self {
            Command::Status => {
                let st = travel::status(&vault).map_err(outbox_err)?;
                ctx.print(&st, || {
                    format!(
                        "{} record(s) ({} attachment(s)) confirmed held by headquarters would be removed\n{} record(s) would remain{}\nbundles not yet confirmed: {:?}",
                        st.plan.removable.len(),
                        st.plan.removable_attachments,
                        st.plan.remaining.len(),
                        remaining_text(&st.plan.remaining),
                        st.unconfirmed_bundles
                    )
                })
            }
            Command::Prepare(a) => {
                if !a.yes {
                    confirm(ctx)?;
                }
                let s = if a.offline {
                    None
                } else {
                    Some(session(&mut vault, None, a.proxy.as_deref(), false)?)
                };
                let mut bars = Bars::new();
                let r = travel::prepare(
                    &mut vault,
                    s.as_ref(),
                    &travel::Options {
                        wait: a.wait,
                        poll: Duration::from_secs(5),
                    },
                    &mut |e| bars.event(e),
                );
                bars.finish();
                let r = r.map_err(outbox_err)?;
                ctx.print(&r, || {
                    format!(
                        "removed {} record(s) and {} attachment(s) headquarters confirmed holding; the vault was compacted ({} free pages, WAL {} bytes)\n{} record(s) remain{}\nbundles not yet confirmed: {:?}\nRemoval cannot guarantee erasure on SSDs and journaling file systems: see docs/travel.md.",
                        r.removed_records,
                        r.removed_attachments,
                        r.free_pages,
                        r.wal_bytes,
                        r.remaining.len(),
                        remaining_text(&r.remaining),
                        r.unconfirmed_bundles
                    )
                })
            }
        }
    }
}
