//! `yaddash interview add --file F`

use std::path::PathBuf;

use serde_json::json;
use yaddash_model::RecordKind;

use crate::common::{CliResult, Context, parse_record, read_input};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add an interview from a JSON file (format: docs/records.md, example:
    /// docs/examples/interview.json). `-` reads standard input.
    Add(AddArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The interview as JSON.
    #[arg(long, value_name = "F")]
    file: PathBuf,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        match self {
            Command::Add(a) => add_from_file(ctx, RecordKind::Interview, &a.file),
        }
    }
}

/// Adds a record of `kind` read from a JSON file; prints its id.
pub fn add_from_file(ctx: &Context, kind: RecordKind, file: &std::path::Path) -> CliResult {
    let text = read_input(file)?;
    let record = parse_record(kind, &text, file)?;
    let mut vault = ctx.open()?;
    let id = vault.add(&record)?;
    ctx.print(&json!({ "id": id }), || id.to_string())
}
