//! `yaddash vault check`

use crate::common::{CliResult, Context, Progress, fail};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check database and cipher integrity, every record's hash, and re-hash
    /// every attachment. Exit status 1 if anything is wrong.
    Check,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        match self {
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
