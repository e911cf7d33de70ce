//! `yaddash bundle export|import|reissue|conflicts|accept-revision`

use std::path::PathBuf;

use uuid::Uuid;

use crate::common::{CliError, CliResult, Context, Progress};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Field: write everything new or changed since the last bundle into one
    /// signed file encrypted to the coordinators (docs/bundle-format.md).
    Export(ExportArgs),
    /// Verify a bundle completely and import it, keeping provenance.
    /// Coordinator: bundles from enrolled devices. Field: a coordinator's
    /// re-issue bundle (checked against the trust file).
    Import(ImportArgs),
    /// Coordinator: give a field device back the records it needs after
    /// travel mode removed them (every revision and attachment), in a
    /// bundle only that device can open.
    Reissue(ReissueArgs),
    /// Coordinator: revisions a device sent of records whose current body
    /// is another device's. They are kept, but do not become current (nor
    /// reach the register) until a coordinator accepts one.
    Conflicts(ConflictsArgs),
    /// Coordinator: make a conflicting revision the record's current body
    /// (recorded with who and when; every revision stays in `history`).
    AcceptRevision(AcceptRevisionArgs),
}

#[derive(clap::Args)]
pub struct ConflictsArgs {
    /// Only this record's.
    #[arg(long, value_name = "ID", value_parser = crate::common::parse_id)]
    record: Option<Uuid>,
    /// Also those already accepted.
    #[arg(long)]
    all: bool,
}

#[derive(clap::Args)]
pub struct AcceptRevisionArgs {
    /// The record.
    #[arg(value_parser = crate::common::parse_id)]
    record: Uuid,
    /// The revision number (as `bundle conflicts` and `history` show it).
    rev: i64,
}

#[derive(clap::Args)]
pub struct ReissueArgs {
    /// The enrolled device to re-issue to.
    #[arg(long, value_parser = crate::common::parse_id)]
    device: Uuid,
    /// A record to include (repeatable).
    #[arg(long = "record", value_name = "ID", value_parser = crate::common::parse_id, required = true)]
    records: Vec<Uuid>,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The bundle file.
    file: PathBuf,
    /// Coordinator: import a revoked device's bundle that nothing here
    /// proves was made before the revocation (its own date proves nothing),
    /// after checking it by other means. REASON is recorded with who and
    /// when, and shown with the bundle's provenance.
    #[arg(long, value_name = "REASON")]
    accept_after_revocation: Option<String>,
}

impl Command {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        let mut progress = Progress::new(None);
        match self {
            Command::Export(a) => {
                let res =
                    yaddash_exchange::export_bundle(&mut vault, &a.out, &mut |n| progress.tick(n));
                progress.finish();
                match res? {
                    Some(s) => ctx.print(&s, || {
                        format!(
                            "bundle {} written to {}: {} records ({} revisions), {} attachments, {} bytes\nid {}",
                            s.seq,
                            s.path.display(),
                            s.records,
                            s.revisions,
                            s.attachments,
                            s.size,
                            s.bundle_id
                        )
                    }),
                    None => ctx.print(&serde_json::json!({ "nothing_new": true }), || {
                        "nothing new since the last bundle: no file written".into()
                    }),
                }
            }
            Command::Reissue(a) => {
                let res = yaddash_exchange::reissue_bundle(
                    &mut vault,
                    a.device,
                    &a.records,
                    &a.out,
                    &mut |n| progress.tick(n),
                );
                progress.finish();
                let s = res?;
                ctx.print(&s, || {
                    format!(
                        "re-issue {} for device {} written to {}: {} records, {} attachments, {} bytes",
                        s.seq,
                        s.device_id,
                        s.path.display(),
                        s.records,
                        s.attachments,
                        s.size
                    )
                })
            }
            Command::Conflicts(a) => {
                let list: Vec<_> = vault
                    .exchange()
                    .revision_conflicts(a.record)?
                    .into_iter()
                    .filter(|c| a.all || c.accepted_at.is_none())
                    .collect();
                ctx.print(&list, || {
                    if list.is_empty() {
                        return "no conflicting revisions".into();
                    }
                    list.iter()
                        .map(|c| {
                            format!(
                                "record {} revision {} from device {} (bundle {}){}",
                                c.record_id,
                                c.rev,
                                c.device_id,
                                c.bundle_id,
                                match (&c.accepted_at, &c.accepted_by) {
                                    (Some(at), Some(by)) => format!("  accepted {at} by {by}"),
                                    _ => "  PENDING: `yaddash bundle accept-revision RECORD REV`"
                                        .into(),
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            }
            Command::AcceptRevision(a) => {
                if vault.role() != yaddash_vault::VaultRole::Coordinator {
                    return Err(CliError(
                        "accepting a revision needs a coordinator vault".into(),
                    ));
                }
                vault.exchange_mut().accept_revision(a.record, a.rev)?;
                ctx.print(
                    &serde_json::json!({ "record_id": a.record, "accepted_rev": a.rev }),
                    || {
                        format!(
                            "revision {} is now the current body of record {}",
                            a.rev, a.record
                        )
                    },
                )
            }
            Command::Import(a) => {
                let options = yaddash_exchange::ImportOptions {
                    accept_after_revocation: a.accept_after_revocation.clone(),
                    hq_receipt: None,
                };
                if options
                    .accept_after_revocation
                    .as_deref()
                    .is_some_and(|r| r.trim().is_empty())
                {
                    return Err(CliError(
                        "--accept-after-revocation needs a reason (it is recorded)".into(),
                    ));
                }
                let res =
                    yaddash_exchange::import_bundle_with(&mut vault, &a.file, &options, &mut |n| {
                        progress.tick(n)
                    });
                progress.finish();
                let s = res.map_err(|e| {
                    let hint = match &e {
                        yaddash_exchange::ExchangeError::Import(
                            yaddash_exchange::ImportError::AfterRevocation { .. },
                        ) => "\nif you checked this bundle by other means, import it with --accept-after-revocation \"REASON\" (recorded)",
                        _ => "",
                    };
                    CliError(format!("{e}{hint}"))
                })?;
                let dups = if vault.role() == yaddash_vault::VaultRole::Coordinator {
                    crate::cmd::register::suggestions_after_import(
                        &vault,
                        std::slice::from_ref(&s.bundle_id),
                    )?
                } else {
                    Vec::new()
                };
                let mut value = serde_json::to_value(&s).map_err(|e| CliError(e.to_string()))?;
                value["duplicate_suggestions"] =
                    serde_json::to_value(&dups).map_err(|e| CliError(e.to_string()))?;
                ctx.print(&value, || {
                    let mut text = format!(
                        "imported bundle {} from device {}: {} new records, {} new revisions ({} already here), {} attachments",
                        s.seq,
                        s.device_id,
                        s.counts.new_records,
                        s.counts.new_revisions,
                        s.counts.known_revisions,
                        s.counts.new_attachments
                    );
                    if s.counts.conflicts > 0 {
                        text.push_str(&format!(
                            "\n{} revision(s) of records whose current body is another device's were kept as conflicts: `yaddash bundle conflicts`",
                            s.counts.conflicts
                        ));
                    }
                    if let Some(o) = &s.accepted_after_revocation {
                        text.push_str(&format!(
                            "\nimported after the device's revocation on your decision, recorded: {:?}",
                            o.reason
                        ));
                    }
                    if !s.missing.is_empty() {
                        text.push_str(&format!(
                            "\nstill missing from this device: bundle(s) {:?}",
                            s.missing
                        ));
                    }
                    text.push_str(&crate::cmd::register::suggestions_text(&dups));
                    text
                })
            }
        }
    }
}
