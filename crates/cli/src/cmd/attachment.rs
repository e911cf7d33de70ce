//! `yaddash attachment export ID --out FILE|-`

use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use uuid::Uuid;

use crate::common::{CliError, CliResult, Context, Progress, fail, parse_id};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Decrypt an attachment, verifying its SHA-256 fixed at capture.
    ///
    /// This writes plaintext where you say: prefer `-` piped into a viewer over
    /// a file on an unencrypted disk.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The attachment id.
    #[arg(value_parser = parse_id)]
    id: Uuid,
    /// Output file, or `-` for standard output.
    #[arg(long, value_name = "FILE|-")]
    out: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        match self {
            Command::Export(a) => a.run(ctx),
        }
    }
}

impl ExportArgs {
    fn run(self, ctx: &Context) -> CliResult {
        let vault = ctx.open()?;
        let total = vault.attachment(self.id)?.size;
        let mut progress = Progress::new(Some(total));
        if self.out.as_os_str() == "-" {
            let mut out = BufWriter::new(io::stdout().lock());
            let res = vault.export_attachment(self.id, &mut out, &mut |n| progress.tick(n));
            progress.finish();
            res?;
            return out
                .flush()
                .map_err(|e| CliError(format!("writing standard output: {e}")));
        }
        if self.out.exists() && !self.force {
            return fail(format!(
                "{} exists: choose another path or pass --force",
                self.out.display()
            ));
        }
        // Written beside the target and renamed only once the hash verified.
        let tmp = self.out.with_extension("yaddash-partial");
        let res = (|| -> CliResult {
            let f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)
                .map_err(|e| CliError(format!("creating {}: {e}", tmp.display())))?;
            let mut w = BufWriter::new(f);
            vault.export_attachment(self.id, &mut w, &mut |n| progress.tick(n))?;
            let f = w
                .into_inner()
                .map_err(|e| CliError(format!("writing {}: {}", tmp.display(), e.error())))?;
            f.sync_all()
                .map_err(|e| CliError(format!("writing {}: {e}", tmp.display())))?;
            fs::rename(&tmp, &self.out)
                .map_err(|e| CliError(format!("renaming to {}: {e}", self.out.display())))
        })();
        progress.finish();
        if res.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        res?;
        ctx.print(
            &serde_json::json!({ "id": self.id, "out": self.out }),
            || format!("verified and written to {}", self.out.display()),
        )
    }
}
