//! `yaddash search QUERY`

use crate::common::{CliResult, Context};

#[derive(clap::Args)]
pub struct Args {
    /// Words to find, in any script or spelling (mamedov finds Məmmədov and Мамедов).
    #[arg(required = true)]
    query: Vec<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let vault = ctx.open()?;
        let hits = vault.search(&self.query.join(" "), self.limit)?;
        ctx.print(&hits, || {
            if hits.is_empty() {
                return "no match".into();
            }
            hits.iter()
                .map(|h| format!("{}  {:<9}  {}", h.id, h.kind.as_str(), h.label))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }
}
