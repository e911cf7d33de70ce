//! `yaddash show ID`

use serde_json::json;
use uuid::Uuid;
use yaddash_vault::VaultError;

use crate::common::{CliError, CliResult, Context, parse_id};

#[derive(clap::Args)]
pub struct Args {
    /// A record or attachment id.
    #[arg(value_parser = parse_id)]
    id: Uuid,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let vault = ctx.open()?;
        match vault.get(self.id) {
            Ok(record) => {
                let attachments = vault.attachments_of(self.id)?;
                let value = json!({ "record": record, "attachments": attachments });
                ctx.print(&value, || {
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                })
            }
            Err(VaultError::NotFound { .. }) => {
                let info = vault.attachment(self.id).map_err(|_| {
                    CliError(format!("no record or attachment with id {}", self.id))
                })?;
                let recording = vault.recordings().get(self.id)?;
                let value = match &recording {
                    Some(r) => json!({ "attachment": info, "recording": r }),
                    None => json!({ "attachment": info }),
                };
                ctx.print(&value, || match &recording {
                    Some(_) => serde_json::to_string_pretty(&value).unwrap_or_default(),
                    None => serde_json::to_string_pretty(&info).unwrap_or_default(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }
}
