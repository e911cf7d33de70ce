//! `yaddash edit ID --file F`

use std::path::PathBuf;

use serde_json::json;
use uuid::Uuid;

use crate::common::{CliResult, Context, parse_id, parse_record, read_input};

#[derive(clap::Args)]
pub struct Args {
    /// The record to edit.
    #[arg(value_parser = parse_id)]
    id: Uuid,
    /// The new body as JSON, same format as for `add` (`-`: standard input).
    #[arg(long, value_name = "F")]
    file: PathBuf,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let text = read_input(&self.file)?;
        let mut vault = ctx.open()?;
        let kind = vault.get(self.id)?.record.kind();
        let record = parse_record(kind, &text, &self.file)?;
        let rev = vault.update(self.id, &record)?;
        ctx.print(&json!({ "id": self.id, "rev": rev }), || {
            format!("{} revision {rev}", self.id)
        })
    }
}
