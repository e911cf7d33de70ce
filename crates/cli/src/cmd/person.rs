//! `yaddash person add`

use clap::ValueEnum;
use serde_json::json;
use yaddash_model::{Confidentiality, Person, Record, Reliability, Role};

use crate::common::{CliResult, Context};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a person with one or more names (any script, kept exactly as given).
    Add(AddArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Detainee,
    Relative,
    Witness,
    Lawyer,
    Official,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ConfidentialityArg {
    Public,
    Partner,
    Internal,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReliabilityArg {
    High,
    Medium,
    Low,
    Unknown,
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// A name; repeat for each spelling or script (Məmmədov, Мамедов, Mamedov).
    #[arg(long = "name", required = true, value_name = "N")]
    names: Vec<String>,
    /// Year of birth.
    #[arg(long, value_name = "YEAR")]
    born: Option<i32>,
    /// A role; repeat for several.
    #[arg(long = "role", value_enum)]
    roles: Vec<RoleArg>,
    /// Free notes.
    #[arg(long)]
    notes: Option<String>,
    /// Who may see this record.
    #[arg(long, value_enum, default_value = "internal")]
    confidentiality: ConfidentialityArg,
    /// How reliable the source is.
    #[arg(long, value_enum, default_value = "unknown")]
    reliability: ReliabilityArg,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        match self {
            Command::Add(a) => a.run(ctx),
        }
    }
}

impl AddArgs {
    fn run(self, ctx: &Context) -> CliResult {
        let person = Person {
            names: self.names,
            birth_year: self.born,
            roles: self
                .roles
                .into_iter()
                .map(|r| match r {
                    RoleArg::Detainee => Role::Detainee,
                    RoleArg::Relative => Role::Relative,
                    RoleArg::Witness => Role::Witness,
                    RoleArg::Lawyer => Role::Lawyer,
                    RoleArg::Official => Role::Official,
                })
                .collect(),
            notes: self.notes,
            confidentiality: match self.confidentiality {
                ConfidentialityArg::Public => Confidentiality::Public,
                ConfidentialityArg::Partner => Confidentiality::Partner,
                ConfidentialityArg::Internal => Confidentiality::Internal,
            },
            reliability: match self.reliability {
                ReliabilityArg::High => Reliability::High,
                ReliabilityArg::Medium => Reliability::Medium,
                ReliabilityArg::Low => Reliability::Low,
                ReliabilityArg::Unknown => Reliability::Unknown,
            },
        };
        let mut vault = ctx.open()?;
        let id = vault.add(&Record::Person(person))?;
        ctx.print(&json!({ "id": id }), || id.to_string())
    }
}
