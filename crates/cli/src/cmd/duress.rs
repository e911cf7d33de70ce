//! `yaddash duress set|clear|status` and `yaddash unlock-limit set|off|show`:
//! the tools for unlocking under coercion (docs/coercion.md).

use std::path::PathBuf;

use serde_json::json;
use yaddash_vault::UNLOCK_LIMIT_RANGE;

use crate::common::{CliResult, Context, new_passphrase};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Set (or replace) the duress passphrase. Typed instead of the
    /// passphrase, it silently erases this vault and opens a decoy vault in
    /// its place. A new, empty decoy is made; fill it with harmless records
    /// by opening `--vault <vault>/decoy` with the duress passphrase (text
    /// records only, no attachments: see docs/coercion.md).
    Set(SetArgs),
    /// Remove the duress passphrase: the decoy is erased and replaced by
    /// filler, so the disk looks as it did before.
    Clear,
    /// Whether a duress passphrase is set (only the unlocked vault knows).
    Status,
}

#[derive(clap::Args)]
pub struct SetArgs {
    /// Read the duress passphrase from this file instead of asking twice.
    #[arg(long, value_name = "F")]
    duress_passphrase_file: Option<PathBuf>,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let vault = ctx.open()?;
        match self {
            Command::Set(a) => {
                let duress = new_passphrase(a.duress_passphrase_file.as_deref())?;
                vault.coercion().set_duress(&duress)?;
                let decoy = vault.dir().join("decoy");
                ctx.print(&json!({ "set": true, "decoy": decoy }), || {
                    format!(
                        "duress passphrase set. Typed at unlock, it erases this vault and opens the decoy.\n\
                         The decoy is empty; to fill it with harmless records, use --vault {}\n\
                         with the duress passphrase. Read docs/coercion.md before relying on this.",
                        decoy.display()
                    )
                })
            }
            Command::Clear => {
                vault.coercion().clear_duress()?;
                ctx.print(&json!({ "set": false }), || {
                    "duress passphrase removed; the decoy was erased".into()
                })
            }
            Command::Status => {
                let at = vault.coercion().duress_set_at()?;
                ctx.print(
                    &json!({ "set": at.is_some(), "set_at": at }),
                    || match &at {
                        Some(t) => format!("a duress passphrase is set (since {t})"),
                        None => "no duress passphrase is set".into(),
                    },
                )
            }
        }
    }
}

#[derive(clap::Subcommand)]
pub enum LimitCommand {
    /// Erase the vault after N failed unlocks in a row (3 to 99). A warning
    /// is shown when 3 or fewer attempts are left. This only stops guessing
    /// through Yaddash: a copied vault is attacked offline, where the
    /// passphrase's strength (scrypt) is the defence.
    Set {
        /// Failed unlocks allowed.
        #[arg(value_parser = clap::value_parser!(u32).range(*UNLOCK_LIMIT_RANGE.start() as i64..=*UNLOCK_LIMIT_RANGE.end() as i64))]
        n: u32,
    },
    /// Never erase after failed unlocks (the default).
    Off,
    /// The limit and the failed unlocks since the last successful one.
    Show,
}

impl LimitCommand {
    pub fn run(self, ctx: &Context) -> CliResult {
        let vault = ctx.open()?;
        match self {
            LimitCommand::Set { n } => vault.coercion().set_unlock_limit(Some(n))?,
            LimitCommand::Off => vault.coercion().set_unlock_limit(None)?,
            LimitCommand::Show => {}
        }
        let g = vault.coercion().unlock_guard();
        ctx.print(&g, || match g.limit {
            Some(n) => format!("the vault is erased after {n} failed unlocks in a row"),
            None => "failed unlocks never erase the vault".into(),
        })
    }
}
