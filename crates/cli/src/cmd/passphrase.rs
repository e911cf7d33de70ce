//! `yaddash passphrase change`

use std::path::PathBuf;

use yaddash_vault::{DEFAULT_WORK_FACTOR, MIN_WORK_FACTOR};

use crate::common::{CliResult, Context, new_passphrase};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Set a new passphrase. Unlock with the current one (or the recovery
    /// code). Only the passphrase keyslot is rewritten; the data is untouched.
    Change(ChangeArgs),
}

#[derive(clap::Args)]
pub struct ChangeArgs {
    /// Read the new passphrase from this file instead of asking twice.
    #[arg(long, value_name = "F")]
    new_passphrase_file: Option<PathBuf>,
    /// scrypt work factor (log2 N). Only tests lower it.
    #[arg(long, hide = true, default_value_t = DEFAULT_WORK_FACTOR,
          value_parser = clap::value_parser!(u8).range(MIN_WORK_FACTOR as i64..=22))]
    kdf_work_factor: u8,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        match self {
            Command::Change(a) => {
                let vault = ctx.open()?;
                let new = new_passphrase(a.new_passphrase_file.as_deref())?;
                vault.change_passphrase(&new, a.kdf_work_factor)?;
                ctx.print(&serde_json::json!({ "changed": true }), || {
                    "passphrase changed".into()
                })
            }
        }
    }
}
