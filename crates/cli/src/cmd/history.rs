//! `yaddash history ID`

use uuid::Uuid;

use crate::common::{CliResult, Context, parse_id};

#[derive(clap::Args)]
pub struct Args {
    /// The record.
    #[arg(value_parser = parse_id)]
    id: Uuid,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let vault = ctx.open()?;
        let revs = vault.history(self.id)?;
        ctx.print(&revs, || {
            revs.iter()
                .map(|r| {
                    format!(
                        "revision {} at {} by device {}  sha256:{}\n{}",
                        r.rev,
                        r.at,
                        r.author,
                        r.body_sha256,
                        serde_json::to_string_pretty(&r.body).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n\n")
        })
    }
}
