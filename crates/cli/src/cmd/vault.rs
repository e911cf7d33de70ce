//! `yaddash vault check|destroy`

use std::io::{self, BufRead, IsTerminal, Write};

use crate::cmd::hq::outbox_err;
use crate::common::{CliError, CliResult, Context, Progress, fail};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check database and cipher integrity, every record's hash, and re-hash
    /// every attachment. Exit status 1 if anything is wrong.
    Check,
    /// Quick delete: make the vault unreadable at once (every keyslot is
    /// overwritten and removed, then the database's head), then remove the
    /// rest. Records headquarters does not hold yet are lost: without
    /// --yes, the vault is unlocked to count them and you are asked to
    /// confirm on the terminal. See docs/coercion.md for what it cannot do.
    Destroy(DestroyArgs),
}

#[derive(clap::Args)]
pub struct DestroyArgs {
    /// Do not unlock, count or ask: destroy at once.
    #[arg(long)]
    yes: bool,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        match self {
            Command::Destroy(a) => destroy(ctx, a.yes),
            Command::Check => {
                let vault = ctx.open()?;
                let mut progress = Progress::new(None);
                let report = vault.check(&mut |n| progress.tick(n));
                progress.finish();
                let report = report?;
                ctx.print(&report, || {
                    let mut s = format!(
                        "{} records, {} revisions, {} attachments ({} bytes) checked",
                        report.records,
                        report.revisions,
                        report.attachments,
                        report.attachment_bytes
                    );
                    if report.orphan_files > 0 {
                        s.push_str(&format!(
                            "\nnote: {} encrypted file(s) in attachments/ belong to no record (left by an interrupted import)",
                            report.orphan_files
                        ));
                    }
                    for n in &report.notes {
                        s.push_str(&format!("\nnote: {n}"));
                    }
                    for p in &report.problems {
                        s.push_str(&format!("\nPROBLEM: {p}"));
                    }
                    if report.is_clean() {
                        s.push_str("\nvault is clean");
                    }
                    s
                })?;
                if report.is_clean() {
                    Ok(())
                } else {
                    fail(format!(
                        "the vault has {} problem(s)",
                        report.problems.len()
                    ))
                }
            }
        }
    }
}

fn destroy(ctx: &Context, yes: bool) -> CliResult {
    let dir = ctx.vault_dir()?;
    if yaddash_vault::is_decoy_dir(dir) {
        return fail(
            "this is the decoy inside a vault: destroy the vault itself, or remove the duress passphrase with `yaddash duress clear`",
        );
    }
    let report = if yes {
        yaddash_vault::destroy(dir)?
    } else {
        if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
            return fail(
                "not running in a terminal, so nobody can confirm: nothing was changed. Add --yes to destroy the vault without asking",
            );
        }
        let vault = ctx.open()?;
        let unsent = yaddash_outbox::unsent(&vault).map_err(outbox_err)?;
        let mut warning = format!(
            "This erases the vault in {} for good; nothing can bring it back.\n",
            dir.display()
        );
        match unsent.records {
            Some(0) => warning.push_str("Headquarters holds every record in it.\n"),
            Some(n) => warning.push_str(&format!(
                "{n} record(s) are not held by headquarters yet and will be lost. To carry them first:\n  \
                 yaddash sync                                   (send now), or\n  \
                 yaddash bundle export --out FILE               (what is not in a bundle yet), and\n  \
                 yaddash outbox save SEQ --out FILE             (each waiting bundle: {})\n\
                 The outbox is {}.\n",
                if unsent.waiting_bundles.is_empty() {
                    "none".to_owned()
                } else {
                    unsent
                        .waiting_bundles
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                unsent.outbox
            )),
            None => warning.push_str(
                "This is a coordinator vault: it may be headquarters' only copy of everything in it.\n",
            ),
        }
        eprint!("{warning}Type DESTROY to erase it now: ");
        let _ = io::stderr().flush();
        let mut line = String::new();
        io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError(format!("reading the answer: {e}")))?;
        if line.trim() != "DESTROY" {
            return fail("not confirmed: nothing was changed");
        }
        vault.destroy()?
    };
    ctx.print(&report, || {
        let mut s = format!(
            "vault destroyed: unreadable after {:.1} ms, removed after {:.1} ms",
            report.crypto_erase_ms, report.total_ms
        );
        for p in &report.left {
            s.push_str(&format!("\nnot removed: {}", p.display()));
        }
        s
    })
}
