//! The register of political prisoners, for coordinator vaults: the list
//! with derived status, duplicate suggestions, merges, status overrides and
//! exports. Each method is one app command over `yaddash_register`, the code
//! the CLI's `yaddash register …` runs.

use std::collections::HashMap;

use uuid::Uuid;
use yaddash_register::export::{Format, entries, render};
use yaddash_register::{Snapshot, dup};
use yaddash_vault::Vault;

use crate::dto::{
    DuplicateSuggestion, MergeSummary, RegisterExportRequest, RegisterExported, RegisterOverride,
    RegisterPage, RegisterPageRequest, RegisterPairRequest, RegisterPerson, RegisterRow,
    RegisterStatusRequest,
};
use crate::{ApiError, ApiResult, AppState, Code, absolute};

/// Longest override reason accepted (it is a note, not a document).
pub const MAX_REASON_CHARS: usize = 2_000;

/// The register lives in coordinator vaults only.
fn coordinator(v: &Vault) -> ApiResult<()> {
    yaddash_register::require_coordinator(v).map_err(ApiError::from)
}

/// Labels of persons by id, from a snapshot (merged records keep their own names).
fn labels(snap: &Snapshot) -> HashMap<Uuid, String> {
    snap.persons
        .iter()
        .map(|p| (p.id, p.body.names.join(" / ")))
        .collect()
}

fn person(labels: &HashMap<Uuid, String>, id: Uuid) -> RegisterPerson {
    RegisterPerson {
        id,
        label: labels.get(&id).cloned().unwrap_or_else(|| id.to_string()),
    }
}

impl AppState {
    /// Coordinator: one page of the register as the coordinator sees it
    /// (internal level), sorted by name, with the register's size. Only the
    /// page's persons' cases and interviews are read, so the first rows of a
    /// large register come at once ([`yaddash_register::page`]).
    pub fn register_page(&self, req: RegisterPageRequest) -> ApiResult<RegisterPage> {
        self.with_vault(|v| {
            coordinator(v)?;
            let offset = usize::try_from(req.offset).unwrap_or(usize::MAX);
            let limit = usize::try_from(req.limit).unwrap_or(usize::MAX);
            let page = yaddash_register::page(v, offset, limit)?;
            let rows = page
                .entries
                .into_iter()
                .map(|e| {
                    // A page is at the internal level: the override carries
                    // its reason, time and device.
                    let status_override = e.status_override.map(|o| RegisterOverride {
                        status: o.status,
                        reason: o.reason.unwrap_or_default(),
                        at: o.at.unwrap_or_default(),
                        by: o.by.unwrap_or_default(),
                    });
                    RegisterRow {
                        id: e.id,
                        records: e.records,
                        names: e.names,
                        status: e.status,
                        derived_status: e.derived_status,
                        status_override,
                        facility: e.facility,
                        sources: e.sources,
                        last_confirmed: e.last_confirmed.map(|d| d.to_string()),
                    }
                })
                .collect();
            Ok(RegisterPage {
                rows,
                total: u32::try_from(page.total).unwrap_or(u32::MAX),
            })
        })
    }

    /// Coordinator: pairs of persons that are probably the same, best first,
    /// leaving out merged pairs and pairs marked distinct.
    pub fn register_duplicates(&self) -> ApiResult<Vec<DuplicateSuggestion>> {
        self.with_vault(|v| {
            coordinator(v)?;
            let snap = Snapshot::load(v)?;
            let distinct = snap
                .distinct
                .iter()
                .map(|(a, b)| dup::pair_key(*a, *b))
                .collect();
            let (suggestions, _) = dup::suggest(
                &yaddash_register::candidates(&snap),
                &distinct,
                dup::DEFAULT_THRESHOLD,
            );
            let labels = labels(&snap);
            Ok(suggestions
                .into_iter()
                .map(|s| DuplicateSuggestion {
                    a: person(&labels, s.a),
                    b: person(&labels, s.b),
                    score: s.score,
                    reasons: s.reasons,
                })
                .collect())
        })
    }

    /// Coordinator: the merges in force, oldest first.
    pub fn register_merges(&self) -> ApiResult<Vec<MergeSummary>> {
        self.with_vault(|v| {
            coordinator(v)?;
            let snap = Snapshot::load(v)?;
            let labels = labels(&snap);
            Ok(v.register()
                .merge_history()?
                .into_iter()
                .filter(|m| m.undone_at.is_none())
                .map(|m| MergeSummary {
                    primary: person(&labels, m.primary_id),
                    merged: person(&labels, m.merged_id),
                    at: m.at,
                })
                .collect())
        })
    }

    /// Coordinator: `other` is the same person as `primary`. Both records
    /// are kept; [`AppState::register_unmerge`] undoes it.
    pub fn register_merge(&self, req: RegisterPairRequest) -> ApiResult<()> {
        self.with_vault(|v| {
            coordinator(v)?;
            yaddash_register::merge(v, req.primary, req.other)?;
            Ok(())
        })
    }

    /// Coordinator: undoes the merge of a record into another person.
    pub fn register_unmerge(&self, merged: Uuid) -> ApiResult<()> {
        self.with_vault(|v| {
            coordinator(v)?;
            yaddash_register::unmerge(v, merged)?;
            Ok(())
        })
    }

    /// Coordinator: the two persons are different people; never suggested again.
    pub fn register_mark_distinct(&self, req: RegisterPairRequest) -> ApiResult<()> {
        self.with_vault(|v| {
            coordinator(v)?;
            if req.primary == req.other {
                return Err(ApiError::new(
                    Code::RequestRefused,
                    "a person cannot be distinct from itself; nothing was changed",
                ));
            }
            v.register_mut().mark_distinct(req.primary, req.other)?;
            Ok(())
        })
    }

    /// Coordinator: sets (or, with no status, clears) a manual status. The
    /// reason is required and kept with the device and time.
    pub fn register_set_status(&self, req: RegisterStatusRequest) -> ApiResult<()> {
        let reason = req.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::new(
                Code::ReasonRequired,
                "say why the status is set by hand: the reason is required",
            ));
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(ApiError::invalid(format!(
                "the reason is too long ({MAX_REASON_CHARS} characters at most)"
            )));
        }
        self.with_vault(|v| {
            coordinator(v)?;
            let record = v.get(req.person_id)?;
            if record.record.kind() != yaddash_model::RecordKind::Person {
                return Err(ApiError::invalid(
                    "a status is set on a person, not on a case or an interview",
                ));
            }
            v.register_mut().set_override(
                req.person_id,
                req.status.map(yaddash_register::Status::as_str),
                reason,
            )?;
            Ok(())
        })
    }

    /// Coordinator: writes the register at a level (public, partner,
    /// internal) as CSV, JSON, HTML, PDF, Uwazi CSV or HURIDOCS ESF JSON to
    /// a file the user chose. The file is NOT encrypted: the level decides
    /// what it may hold.
    pub fn register_export(&self, req: RegisterExportRequest) -> ApiResult<RegisterExported> {
        let format = Format::parse(&req.format).ok_or_else(|| {
            ApiError::invalid("the format must be csv, json, html, pdf, uwazi, uwazi-cases or esf")
        })?;
        let path = absolute(&req.path)?;
        self.with_vault(|v| {
            coordinator(v)?;
            let snap = Snapshot::load(v)?;
            let list = entries(&snap, req.level, format);
            let bytes = render(&list, req.level, format, &mut |_| {})?;
            yaddash_exchange::write_file(&path, &bytes)?;
            Ok(RegisterExported {
                path: path.display().to_string(),
                persons: list.len(),
                bytes: bytes.len(),
            })
        })
    }
}
