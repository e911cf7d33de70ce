//! `yaddash receipt export|import`

use std::path::PathBuf;

use uuid::Uuid;

use crate::common::{CliError, CliResult, Context, parse_id, read_input};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Coordinator: signed receipts for every bundle imported from a device.
    Export(ExportArgs),
    /// Field: verify receipts and mark those bundles as held by headquarters.
    Import(ImportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The device.
    #[arg(long, value_parser = parse_id)]
    device: Uuid,
    /// Where to write the receipts.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The receipt file.
    file: PathBuf,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        match self {
            Command::Export(a) => {
                let file = yaddash_exchange::receipt_export(&mut vault, a.device)?;
                let text =
                    serde_json::to_string_pretty(&file).map_err(|e| CliError(e.to_string()))?;
                yaddash_exchange::write_file(&a.out, text.as_bytes())?;
                ctx.print(
                    &serde_json::json!({ "out": a.out, "receipts": file.receipts.len() }),
                    || {
                        format!(
                            "{} receipt(s) written to {}",
                            file.receipts.len(),
                            a.out.display()
                        )
                    },
                )
            }
            Command::Import(a) => {
                let s = yaddash_exchange::receipt_import(&mut vault, &read_input(&a.file)?)?;
                ctx.print(&s, || {
                    format!(
                        "headquarters confirmed importing bundle(s) {:?} ({} already confirmed)",
                        s.confirmed, s.already
                    )
                })
            }
        }
    }
}
