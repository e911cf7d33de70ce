//! `yaddash list persons|cases|interviews`

use clap::ValueEnum;
use yaddash_model::RecordKind;

use crate::common::{CliResult, Context};

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Persons,
    Cases,
    Interviews,
}

#[derive(clap::Args)]
pub struct Args {
    /// Which records.
    #[arg(value_enum)]
    kind: Kind,
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let kind = match self.kind {
            Kind::Persons => RecordKind::Person,
            Kind::Cases => RecordKind::Case,
            Kind::Interviews => RecordKind::Interview,
        };
        let vault = ctx.open()?;
        let items = vault.list(kind)?;
        ctx.print(&items, || {
            items
                .iter()
                .map(|h| format!("{}  {}", h.id, h.label))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }
}
