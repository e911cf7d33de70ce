//! `yaddash register list|duplicates|merge|unmerge|distinct|status|export`

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use serde_json::json;
use uuid::Uuid;
use yaddash_register::export::{self, Format};
use yaddash_register::{Level, Snapshot, Status, build, dup};

use crate::common::{CliError, CliResult, Context, fail, parse_id};

#[derive(clap::Subcommand)]
pub enum Command {
    /// The register: every detainee with status, charges, facility, sources.
    List,
    /// Suggested pairs of persons that are probably the same, with score and reasons.
    Duplicates(DuplicatesArgs),
    /// Merge the second person into the first (both records are kept; reversible).
    Merge(PairArgs),
    /// Undo the merge of a person (give the id of the record that was merged in).
    Unmerge(OneArg),
    /// Mark two persons as different people: never suggested again.
    Distinct(PairArgs),
    /// Set or clear a manual status, with a reason (kept with who and when).
    Status(StatusArgs),
    /// Export the register at a level: public, partner or internal.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct DuplicatesArgs {
    /// Minimum score (0 to 1).
    #[arg(long, default_value_t = dup::DEFAULT_THRESHOLD)]
    threshold: f64,
}

#[derive(clap::Args)]
pub struct PairArgs {
    #[arg(value_parser = parse_id)]
    first: Uuid,
    #[arg(value_parser = parse_id)]
    second: Uuid,
}

#[derive(clap::Args)]
pub struct OneArg {
    #[arg(value_parser = parse_id)]
    id: Uuid,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Detained,
    Convicted,
    Released,
    Pardoned,
    UnderTravelBan,
    InExile,
    Deceased,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// The person.
    #[arg(value_parser = parse_id)]
    id: Uuid,
    /// The status to set.
    #[arg(long, value_enum, required_unless_present = "clear")]
    set: Option<StatusArg>,
    /// Clear the override: the derived status applies again.
    #[arg(long, conflicts_with = "set")]
    clear: bool,
    /// Why (internal; never in public or partner exports).
    #[arg(long, required = true)]
    reason: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LevelArg {
    Public,
    Partner,
    Internal,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// One line per person, no testimonies.
    Csv,
    /// Entries with facts and the testimonies the level allows.
    Json,
    /// Printable report: counts, then the list.
    Html,
    /// The printable report as PDF (font embedded).
    Pdf,
    /// CSV for Uwazi's CSV import (template in docs/register.md).
    Uwazi,
    /// The cases as Uwazi entities: a second CSV, imported before the persons' (docs/register.md).
    UwaziCases,
    /// JSON after the HURIDOCS Events Standard Formats.
    Esf,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Who the export is for (see docs/register.md for what each level holds).
    #[arg(long, value_enum)]
    level: LevelArg,
    /// File format.
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The file to write (replaced if it exists). The export is NOT encrypted.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Duplicate suggestions that involve one of the persons just imported in
/// `bundle_ids` (shown after `bundle import` and `hq pull`).
pub fn suggestions_after_import(
    vault: &yaddash_vault::Vault,
    bundle_ids: &[String],
) -> CliResult<Vec<dup::Suggestion>> {
    let mut new = std::collections::HashSet::new();
    for b in bundle_ids {
        new.extend(vault.exchange().records_from_bundle(b)?);
    }
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let (sugg, _) = yaddash_register::duplicates(vault, dup::DEFAULT_THRESHOLD).map_err(err)?;
    Ok(sugg
        .into_iter()
        .filter(|s| new.contains(&s.a) || new.contains(&s.b))
        .collect())
}

/// The text that tells a coordinator about suggestions after an import.
pub fn suggestions_text(sugg: &[dup::Suggestion]) -> String {
    if sugg.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n{} possible duplicate(s) involving persons just imported (review with `yaddash register duplicates`):",
        sugg.len()
    );
    for x in sugg.iter().take(20) {
        s.push_str(&format!("\n  {:.2}  {}  {}", x.score, x.a, x.b));
    }
    s
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        yaddash_register::require_coordinator(&vault).map_err(err)?;
        match self {
            Command::List => {
                let snap = Snapshot::load(&vault).map_err(err)?;
                let entries = build(&snap, Level::Internal, false);
                ctx.print(&entries, || {
                    entries
                        .iter()
                        .map(|e| {
                            format!(
                                "{}  {:<16} {:<10} {:>2} src  {}",
                                e.id,
                                e.status.as_str(),
                                e.arrest_date.map(|d| d.to_string()).unwrap_or_default(),
                                e.sources,
                                e.names.join(" / ")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            }
            Command::Duplicates(a) => {
                let (sugg, stats) =
                    yaddash_register::duplicates(&vault, a.threshold).map_err(err)?;
                let value = json!({ "suggestions": sugg, "stats": stats });
                ctx.print(&value, || {
                    let mut s = String::new();
                    for x in &sugg {
                        s.push_str(&format!("{:.2}  {}  {}\n", x.score, x.a, x.b));
                        for r in &x.reasons {
                            s.push_str(&format!("      {r}\n"));
                        }
                    }
                    s.push_str(&format!(
                        "{} suggestions ({} persons, {} pairs compared)",
                        sugg.len(),
                        stats.persons,
                        stats.comparisons
                    ));
                    s
                })
            }
            Command::Merge(a) => {
                let seq = yaddash_register::merge(&mut vault, a.first, a.second).map_err(err)?;
                let value = json!({ "merge": seq, "primary": a.first, "merged": a.second });
                ctx.print(&value, || {
                    format!(
                        "merged {} into {} (undo with `register unmerge {}`)",
                        a.second, a.first, a.second
                    )
                })
            }
            Command::Unmerge(a) => {
                let row = yaddash_register::unmerge(&mut vault, a.id).map_err(err)?;
                ctx.print(&row, || {
                    format!("unmerged {} from {}", row.merged_id, row.primary_id)
                })
            }
            Command::Distinct(a) => {
                vault.register_mut().mark_distinct(a.first, a.second)?;
                let value = json!({ "distinct": [a.first, a.second] });
                ctx.print(&value, || {
                    format!("{} and {} marked as different people", a.first, a.second)
                })
            }
            Command::Status(a) => {
                if a.reason.trim().is_empty() {
                    return fail("--reason is empty: say why the status is set by hand");
                }
                let status = a.set.map(|s| match s {
                    StatusArg::Detained => Status::Detained,
                    StatusArg::Convicted => Status::Convicted,
                    StatusArg::Released => Status::Released,
                    StatusArg::Pardoned => Status::Pardoned,
                    StatusArg::UnderTravelBan => Status::UnderTravelBan,
                    StatusArg::InExile => Status::InExile,
                    StatusArg::Deceased => Status::Deceased,
                });
                vault
                    .register_mut()
                    .set_override(a.id, status.map(Status::as_str), &a.reason)?;
                let value = json!({ "person": a.id, "override": status });
                ctx.print(&value, || match status {
                    Some(s) => format!("status of {} set to {}", a.id, s.as_str()),
                    None => format!("status override of {} cleared", a.id),
                })
            }
            Command::Export(a) => {
                let level = match a.level {
                    LevelArg::Public => Level::Public,
                    LevelArg::Partner => Level::Partner,
                    LevelArg::Internal => Level::Internal,
                };
                let format = match a.format {
                    FormatArg::Csv => Format::Csv,
                    FormatArg::Json => Format::Json,
                    FormatArg::Html => Format::Html,
                    FormatArg::Pdf => Format::Pdf,
                    FormatArg::Uwazi => Format::Uwazi,
                    FormatArg::UwaziCases => Format::UwaziCases,
                    FormatArg::Esf => Format::Esf,
                };
                let mut progress = CountProgress::new(format.as_str());
                progress.stage("reading the register");
                let snap = Snapshot::load(&vault).map_err(err)?;
                let entries = export::entries(&snap, level, format);
                let total = entries.len();
                let bytes = export::render(&entries, level, format, &mut |done| {
                    progress.tick(done, total)
                })
                .map_err(err)?;
                progress.finish();
                write_file(&a.out, &bytes)?;
                let value = json!({
                    "out": a.out, "level": level, "format": format.as_str(),
                    "persons": entries.len(), "bytes": bytes.len()
                });
                ctx.print(&value, || {
                    format!(
                        "wrote {} persons at level {} to {} (not encrypted)",
                        entries.len(),
                        level.as_str(),
                        a.out.display()
                    )
                })
            }
        }
    }
}

/// Progress of a long export on standard error (a terminal only), shown
/// once it has taken more than half a second. Counts only, never names.
struct CountProgress {
    show: bool,
    what: &'static str,
    started: Instant,
    last: Option<Instant>,
}

impl CountProgress {
    fn new(what: &'static str) -> CountProgress {
        CountProgress {
            show: std::io::stderr().is_terminal(),
            what,
            started: Instant::now(),
            last: None,
        }
    }

    fn due(&self) -> bool {
        self.show
            && self.started.elapsed() > Duration::from_millis(500)
            && self
                .last
                .is_none_or(|t| t.elapsed() > Duration::from_millis(100))
    }

    fn stage(&mut self, stage: &str) {
        if self.show {
            eprint!("\r{} export: {stage}…\x1b[K", self.what);
            self.last = Some(Instant::now());
        }
    }

    fn tick(&mut self, done: usize, total: usize) {
        if self.due() || (self.show && self.last.is_some() && done == total) {
            eprint!("\r{} export: {done} / {total} persons\x1b[K", self.what);
            self.last = Some(Instant::now());
        }
    }

    fn finish(&self) {
        if self.show {
            eprint!("\r\x1b[K");
        }
    }
}

fn err(e: yaddash_register::RegisterError) -> CliError {
    CliError(e.to_string())
}

/// Writes durably beside the target and renames (mode 0600), so a failed
/// write never leaves a half-written export under the requested name.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> CliResult {
    yaddash_os::write_atomic(path, bytes)
        .or_else(|e| fail(format!("writing {}: {e}", path.display())))
}
