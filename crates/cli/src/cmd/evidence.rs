//! `yaddash evidence export`: an evidence pack for litigation (docs/evidence.md).

use std::path::PathBuf;

use clap::ValueEnum;
use uuid::Uuid;
use yaddash_register::Level;

use crate::common::{CliError, CliResult, Context, Progress, parse_id};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write an evidence pack (a ZIP file) for a court or a lawyer: the records
    /// as JSON and a printable PDF summary, the original attachments byte for
    /// byte, each revision's SHA-256, the field devices' signed bundle
    /// manifests, the custody trail, and VERIFY.md + verify.sh, which check it
    /// all with sha256sum and ssh-keygen only. The pack is NOT encrypted.
    Export(ExportArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LevelArg {
    /// Only records marked public, redacted as the public register export; no device signatures.
    Public,
    /// Records marked public or partner, redacted as the partner register export; no device signatures.
    Partner,
    /// Everything about the records, every revision, the device signatures.
    Internal,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// A record to include (person, case or interview); repeat for more.
    #[arg(long = "record", value_name = "ID", required = true, value_parser = parse_id)]
    records: Vec<Uuid>,
    /// Also the records about each one: a person's cases and the interviews
    /// about the person or those cases; a case's detainee and interviews.
    /// Those the level does not allow are left out (and counted).
    #[arg(long)]
    related: bool,
    /// Who the pack is for: what each level holds is in docs/evidence.md.
    #[arg(long, value_enum)]
    level: LevelArg,
    /// The ZIP file to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let Command::Export(a) = self;
        let mut vault = ctx.open()?;
        let level = match a.level {
            LevelArg::Public => Level::Public,
            LevelArg::Partner => Level::Partner,
            LevelArg::Internal => Level::Internal,
        };
        let request = yaddash_evidence::Request {
            records: a.records,
            related: a.related,
            level,
        };
        let mut progress = Progress::new(None);
        let summary =
            yaddash_evidence::export(&mut vault, &request, &a.out, &mut |n| progress.tick(n))
                .map_err(CliError::from)?;
        progress.finish();
        ctx.print(&summary, || {
            let mut s = format!(
                "wrote {} ({} bytes, SHA-256 {})\n  level {}: {} record(s), {} revision(s), {} attachment(s), {} device-signed manifest(s)",
                summary.path.display(),
                summary.size,
                summary.sha256,
                summary.level.as_str(),
                summary.records.len(),
                summary.revisions,
                summary.attachments,
                summary.manifests,
            );
            if summary.left_out > 0 {
                s.push_str(&format!(
                    "\n  left out at this level: {} related record(s) or attachment(s)",
                    summary.left_out
                ));
            }
            if summary.without_device_signature > 0 && level == Level::Internal {
                s.push_str(&format!(
                    "\n  {} revision(s) or attachment(s) carry the coordinator's signature only (saved here, or imported before manifests were kept)",
                    summary.without_device_signature
                ));
            }
            s.push_str(&format!(
                "\n  check it: unzip it, then `sh {}/verify.sh` (see VERIFY.md inside). The pack is NOT encrypted.",
                summary.folder
            ));
            s
        })
    }
}
