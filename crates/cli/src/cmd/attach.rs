//! `yaddash attach --to ID FILE` and `yaddash attach --move --to ID FILE`

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::common::{CliError, CliResult, Context, Progress, parse_id};

#[derive(clap::Args)]
#[command(after_long_help = MOVE_HELP)]
pub struct Args {
    /// The record to attach to.
    #[arg(long, value_parser = parse_id)]
    to: Uuid,
    /// The file. It is copied, encrypted, into the vault; the original is left
    /// where it is unless --move is given.
    file: PathBuf,
    /// Media type, if the guess from the extension is wrong.
    #[arg(long = "type", value_name = "MIME")]
    media_type: Option<String>,
    /// Move the file into the vault: import it, verify the encrypted copy
    /// against the original, then overwrite the original and remove it.
    /// See below for what overwriting cannot guarantee.
    #[arg(long = "move")]
    move_original: bool,
}

const MOVE_HELP: &str = "\
What --move cannot guarantee: the original is overwritten once with random \
bytes, synced, truncated and removed. On SSDs and flash cards (wear levelling \
keeps old blocks), on journaling file systems that journal data, on \
copy-on-write file systems (btrfs, ZFS), in snapshots, backups, sync folders \
and other copies the recorder app made, the old bytes may survive. Only \
full-disk encryption protects those; record inside Yaddash (`yaddash record`) \
so that no plaintext copy exists at all.";

fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut r = BufReader::new(File::open(path)?);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        if self.move_original {
            let meta = std::fs::symlink_metadata(&self.file)
                .map_err(|e| CliError(format!("reading {}: {e}", self.file.display())))?;
            if !meta.file_type().is_file() {
                return Err(CliError(format!(
                    "{} is not a regular file: --move only takes a regular file",
                    self.file.display()
                )));
            }
        }
        let total = std::fs::metadata(&self.file).ok().map(|m| m.len());
        let mut progress = Progress::new(total);
        let info = vault.attach_file(self.to, &self.file, self.media_type.as_deref(), &mut |n| {
            progress.tick(n)
        });
        progress.finish();
        let info = info?;
        if !self.move_original {
            return ctx.print(&info, || format!("{}  sha256:{}", info.id, info.sha256));
        }
        // Verify before destroying anything: the encrypted copy decrypts
        // whole to the hash fixed at import, and the original still has it.
        vault.export_attachment(info.id, &mut std::io::sink(), &mut |_| true)?;
        let now = sha256_file(&self.file)
            .map_err(|e| CliError(format!("re-reading {}: {e}", self.file.display())))?;
        if now != info.sha256 {
            return Err(CliError(format!(
                "{} changed while it was imported: the vault holds attachment {} as it was read, and the original was NOT removed",
                self.file.display(),
                info.id
            )));
        }
        yaddash_os::overwrite_and_remove(&self.file).map_err(|e| {
            CliError(format!(
                "attachment {} is saved and verified, but overwriting {} failed: {e}; remove it yourself",
                info.id,
                self.file.display()
            ))
        })?;
        ctx.print(
            &serde_json::json!({ "attachment": info, "original_removed": true }),
            || {
                format!(
                    "{}  sha256:{}\nverified; the original was overwritten and removed (on SSDs and journaling or copy-on-write file systems its old blocks may survive: see `yaddash help attach`)",
                    info.id, info.sha256
                )
            },
        )
    }
}
