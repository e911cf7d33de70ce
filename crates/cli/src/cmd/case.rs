//! `yaddash case add --file F`

use std::path::PathBuf;

use yaddash_model::RecordKind;

use crate::cmd::interview::add_from_file;
use crate::common::{CliResult, Context};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a case with its events from a JSON file (format: docs/records.md,
    /// example: docs/examples/case.json). `-` reads standard input.
    Add(AddArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The case as JSON.
    #[arg(long, value_name = "F")]
    file: PathBuf,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        match self {
            Command::Add(a) => add_from_file(ctx, RecordKind::Case, &a.file),
        }
    }
}
