//! `yaddash outbox list|save`: the bundles this device made and where each
//! stands (pending, partly sent, received by the server, imported by
//! headquarters, handed over by file).

use std::path::PathBuf;

use yaddash_outbox::State;

use crate::cmd::hq::outbox_err;
use crate::common::{CliResult, Context};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every bundle with its state.
    List,
    /// Copy a waiting bundle out of the outbox, to carry it by hand
    /// (it stays in the outbox until the server or a receipt confirms it).
    Save(SaveArgs),
}

#[derive(clap::Args)]
pub struct SaveArgs {
    /// The bundle's sequence number (see `outbox list`).
    seq: u64,
    /// Where to write the copy.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn state_text(s: State) -> &'static str {
    match s {
        State::Pending => "pending",
        State::PartlySent => "partly sent",
        State::Received => "received by the server",
        State::Imported => "imported by headquarters",
        State::HandedOver => "written to a file, no receipt yet",
    }
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let vault = ctx.open()?;
        match self {
            Command::List => {
                let entries = yaddash_outbox::entries(&vault).map_err(outbox_err)?;
                ctx.print(&entries, || {
                    if entries.is_empty() {
                        return "no bundles made yet".to_owned();
                    }
                    entries
                        .iter()
                        .map(|e| {
                            let progress = if e.state == State::PartlySent && e.size > 0 {
                                format!(" ({}%)", e.sent_bytes * 100 / e.size)
                            } else {
                                String::new()
                            };
                            format!(
                                "{:>5}  {:>10} bytes  {:>5} records  {}{progress}",
                                e.seq,
                                e.size,
                                e.records,
                                state_text(e.state)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            }
            Command::Save(a) => {
                let n = yaddash_outbox::save_copy(&vault, a.seq, &a.out).map_err(outbox_err)?;
                ctx.print(
                    &serde_json::json!({"seq": a.seq, "out": a.out, "bytes": n}),
                    || format!("bundle {} copied to {} ({n} bytes)", a.seq, a.out.display()),
                )
            }
        }
    }
}
