//! `yaddash attach --to ID FILE`

use std::path::PathBuf;

use uuid::Uuid;

use crate::common::{CliResult, Context, Progress, parse_id};

#[derive(clap::Args)]
pub struct Args {
    /// The record to attach to.
    #[arg(long, value_parser = parse_id)]
    to: Uuid,
    /// The file. It is copied, encrypted, into the vault; the original is left
    /// where it is (delete it yourself if it must not stay on this disk).
    file: PathBuf,
    /// Media type, if the guess from the extension is wrong.
    #[arg(long = "type", value_name = "MIME")]
    media_type: Option<String>,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        let total = std::fs::metadata(&self.file).ok().map(|m| m.len());
        let mut progress = Progress::new(total);
        let info = vault.attach_file(self.to, &self.file, self.media_type.as_deref(), &mut |n| {
            progress.tick(n)
        });
        progress.finish();
        let info = info?;
        ctx.print(&info, || format!("{}  sha256:{}", info.id, info.sha256))
    }
}
