//! `yaddash bundle export|import|reissue`

use std::path::PathBuf;

use uuid::Uuid;

use crate::common::{CliError, CliResult, Context, Progress};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Field: write everything new or changed since the last bundle into one
    /// signed file encrypted to the coordinators (docs/bundle-format.md).
    Export(ExportArgs),
    /// Verify a bundle completely and import it, keeping provenance.
    /// Coordinator: bundles from enrolled devices. Field: a coordinator's
    /// re-issue bundle (checked against the trust file).
    Import(ImportArgs),
    /// Coordinator: give a field device back the records it needs after
    /// travel mode removed them (every revision and attachment), in a
    /// bundle only that device can open.
    Reissue(ReissueArgs),
}

#[derive(clap::Args)]
pub struct ReissueArgs {
    /// The enrolled device to re-issue to.
    #[arg(long, value_parser = crate::common::parse_id)]
    device: Uuid,
    /// A record to include (repeatable).
    #[arg(long = "record", value_name = "ID", value_parser = crate::common::parse_id, required = true)]
    records: Vec<Uuid>,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
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
            Command::Reissue(a) => {
                let res = yaddash_exchange::reissue_bundle(
                    &mut vault,
                    a.device,
                    &a.records,
                    &a.out,
                    &mut |n| progress.tick(n),
                );
                progress.finish();
                let s = res?;
                ctx.print(&s, || {
                    format!(
                        "re-issue {} for device {} written to {}: {} records, {} attachments, {} bytes",
                        s.seq,
                        s.device_id,
                        s.path.display(),
                        s.records,
                        s.attachments,
                        s.size
                    )
                })
            }
            Command::Import(a) => {
                let res =
                    yaddash_exchange::import_bundle(&mut vault, &a.file, &mut |n| progress.tick(n));
                progress.finish();
                let s = res?;
                let dups = if vault.role() == yaddash_vault::VaultRole::Coordinator {
                    crate::cmd::register::suggestions_after_import(
                        &vault,
                        std::slice::from_ref(&s.bundle_id),
                    )?
                } else {
                    Vec::new()
                };
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
