//! `yaddash bundle export|import`

use std::path::PathBuf;

use crate::common::{CliError, CliResult, Context, Progress};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Field: write everything new or changed since the last bundle into one
    /// signed file encrypted to the coordinators (docs/bundle-format.md).
    Export(ExportArgs),
    /// Coordinator: verify a bundle completely and import it, keeping provenance.
    Import(ImportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The bundle file.
    file: PathBuf,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        let mut progress = Progress::new(None);
        match self {
            Command::Export(a) => {
                let res =
                    yaddash_exchange::export_bundle(&mut vault, &a.out, &mut |n| progress.tick(n));
                progress.finish();
                match res? {
                    Some(s) => ctx.print(&s, || {
                        format!(
                            "bundle {} written to {}: {} records ({} revisions), {} attachments, {} bytes\nid {}",
                            s.seq,
                            s.path.display(),
                            s.records,
                            s.revisions,
                            s.attachments,
                            s.size,
                            s.bundle_id
                        )
                    }),
                    None => ctx.print(&serde_json::json!({ "nothing_new": true }), || {
                        "nothing new since the last bundle: no file written".into()
                    }),
                }
            }
            Command::Import(a) => {
                let res =
                    yaddash_exchange::import_bundle(&mut vault, &a.file, &mut |n| progress.tick(n));
                progress.finish();
                let s = res?;
                let dups = crate::cmd::register::suggestions_after_import(
                    &vault,
                    std::slice::from_ref(&s.bundle_id),
                )?;
                let mut value = serde_json::to_value(&s).map_err(|e| CliError(e.to_string()))?;
                value["duplicate_suggestions"] =
                    serde_json::to_value(&dups).map_err(|e| CliError(e.to_string()))?;
                ctx.print(&value, || {
                    let mut text = format!(
                        "imported bundle {} from device {}: {} new records, {} new revisions ({} already here), {} attachments",
                        s.seq,
                        s.device_id,
                        s.counts.new_records,
                        s.counts.new_revisions,
                        s.counts.known_revisions,
                        s.counts.new_attachments
                    );
                    if !s.missing.is_empty() {
                        text.push_str(&format!(
                            "\nstill missing from this device: bundle(s) {:?}",
                            s.missing
                        ));
                    }
                    text.push_str(&crate::cmd::register::suggestions_text(&dups));
                    text
                })
            }
        }
    }
}
