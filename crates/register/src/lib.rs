//! The register of political prisoners, kept in a coordinator's vault.
//!
//! - [`status`]: status and facts derived from dated events, with the number
//!   of independent sources behind each fact;
//! - [`dup`]: suggestions of records that are probably the same person,
//!   found by blocking on folded name keys, never by comparing all pairs;
//! - [`export`]: CSV, JSON, HTML, PDF, Uwazi CSV and HURIDOCS ESF JSON
//!   exports at a level (public, partner, internal) that respects each
//!   record's consent and confidentiality.
//!
//! The coordinator's decisions (merges, pairs marked distinct, status
//! overrides) are stored in the vault (`yaddash_vault::register_store`);
//! records themselves are never changed by the register. See
//! `docs/register.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dup;
pub mod export;
pub mod status;

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use yaddash_model::{
    Case, Confidentiality, Consent, Event, EventDetail, Interview, PartialDate, Person, Record,
    RecordKind, Role,
};
use yaddash_vault::register_store::OverrideRow;
use yaddash_vault::{StoredRecord, Vault};

pub use dup::{Candidate, DupStats, Suggestion};
pub use status::{Derived, Fact, Status};

/// Register errors.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// From the vault.
    #[error(transparent)]
    Vault(#[from] yaddash_vault::VaultError),
    /// A request that makes no sense; nothing was changed.
    #[error("{0}; nothing was changed")]
    Refused(String),
    /// The register is kept in coordinator vaults only.
    #[error("the register is kept in a coordinator vault; this is a field vault")]
    FieldVault,
    /// An export could not be produced (nothing was written).
    #[error("the {format} export could not be produced: {problem}")]
    Export {
        /// The format.
        format: &'static str,
        /// What went wrong.
        problem: String,
    },
}

/// Result of register operations.
pub type Result<T> = std::result::Result<T, RegisterError>;

/// The register is kept in coordinator vaults only: the one check the CLI
/// and the app both make before any register command (a field vault holds
/// only what its own interviewer collected, and merges made there would
/// never reach headquarters).
pub fn require_coordinator(vault: &Vault) -> Result<()> {
    if vault.role() != yaddash_vault::VaultRole::Coordinator {
        return Err(RegisterError::FieldVault);
    }
    Ok(())
}

/// Who an export is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "ExportLevel")]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Anyone: only records marked public; interviews whose consent allows
    /// publication; a speaker's name only with consent to publish, never for
    /// relatives; no interviewer, place or override reason.
    Public,
    /// Trusted partner organisations: records marked public or partner;
    /// otherwise the same rules as public (no internal-only interview, no
    /// anonymous speaker's or relative's identity, no interviewer or place).
    Partner,
    /// Inside the organisation: everything.
    Internal,
}

impl Level {
    /// The widest confidentiality a record may have to appear at this level.
    pub fn allows(self, c: Confidentiality) -> bool {
        let max = match self {
            Level::Public => Confidentiality::Public,
            Level::Partner => Confidentiality::Partner,
            Level::Internal => Confidentiality::Internal,
        };
        c <= max
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Public => "public",
            Level::Partner => "partner",
            Level::Internal => "internal",
        }
    }
}

/// A stored record with the device that supplied it.
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    /// Record id.
    pub id: Uuid,
    /// The body.
    pub body: T,
    /// The device that supplied it (from provenance, else the one that saved it).
    pub device: String,
}

/// Everything the register is derived from, read from a vault at once.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Persons.
    pub persons: Vec<Sourced<Person>>,
    /// Cases.
    pub cases: Vec<Sourced<Case>>,
    /// Interviews.
    pub interviews: Vec<Sourced<Interview>>,
    /// Active merges `(primary, merged)`.
    pub merges: Vec<(Uuid, Uuid)>,
    /// Pairs marked distinct.
    pub distinct: Vec<(Uuid, Uuid)>,
    /// Status overrides in force.
    pub overrides: Vec<OverrideRow>,
}

impl Snapshot {
    /// Reads the records and the register's decisions from the vault.
    pub fn load(vault: &Vault) -> Result<Snapshot> {
        let mut s = Snapshot {
            merges: vault.register().merges()?,
            distinct: vault.register().distinct_pairs()?,
            overrides: vault.register().overrides()?,
            ..Snapshot::default()
        };
        for kind in [RecordKind::Person, RecordKind::Case, RecordKind::Interview] {
            for stored in vault.all(kind)? {
                s.push(vault, stored)?;
            }
        }
        Ok(s)
    }

    /// Adds a stored record with the device that supplied it.
    fn push(&mut self, vault: &Vault, stored: StoredRecord) -> Result<()> {
        let id = stored.id;
        let device = supplied_by(vault, id, stored.created_by)?;
        match stored.record {
            Record::Person(body) => self.persons.push(Sourced { id, body, device }),
            Record::Case(body) => self.cases.push(Sourced { id, body, device }),
            Record::Interview(body) => self.interviews.push(Sourced { id, body, device }),
        }
        Ok(())
    }

    /// Only what may appear at `level`: records within the level's
    /// confidentiality, cases of visible persons, interviews whose consent
    /// is not internal-only (except at the internal level), merges between
    /// visible persons.
    pub fn visible_at(&self, level: Level) -> Snapshot {
        let persons: Vec<Sourced<Person>> = self
            .persons
            .iter()
            .filter(|p| level.allows(p.body.confidentiality))
            .cloned()
            .collect();
        let ids: HashSet<Uuid> = persons.iter().map(|p| p.id).collect();
        let cases: Vec<Sourced<Case>> = self
            .cases
            .iter()
            .filter(|c| level.allows(c.body.confidentiality) && ids.contains(&c.body.detainee_id))
            .cloned()
            .collect();
        let interviews = self
            .interviews
            .iter()
            .filter(|i| {
                level.allows(i.body.confidentiality)
                    && (level == Level::Internal || i.body.consent != Consent::Internal)
            })
            .cloned()
            .collect();
        Snapshot {
            persons,
            cases,
            interviews,
            merges: self
                .merges
                .iter()
                .filter(|(a, b)| ids.contains(a) && ids.contains(b))
                .copied()
                .collect(),
            distinct: self.distinct.clone(),
            overrides: self
                .overrides
                .iter()
                .filter(|o| ids.contains(&o.person_id))
                .cloned()
                .collect(),
        }
    }

    /// The record that stands for each merged record (itself when not merged).
    pub fn canonical(&self) -> HashMap<Uuid, Uuid> {
        let direct: HashMap<Uuid, Uuid> = self.merges.iter().map(|(p, m)| (*m, *p)).collect();
        self.persons
            .iter()
            .map(|p| (p.id, resolve(&direct, p.id)))
            .collect()
    }
}

/// The device that supplied record `id`: the first in its provenance (it
/// came in a bundle), else `created_by` (it was saved here).
fn supplied_by(vault: &Vault, id: Uuid, created_by: String) -> Result<String> {
    Ok(vault
        .exchange()
        .provenance(id)?
        .first()
        .map(|p| p.1.clone())
        .unwrap_or(created_by))
}

/// Follows merges (A merged into B merged into C) to the record standing for
/// `id`; bounded, so a cycle cannot loop.
fn resolve(direct: &HashMap<Uuid, Uuid>, id: Uuid) -> Uuid {
    let mut cur = id;
    for _ in 0..=direct.len() {
        match direct.get(&cur) {
            Some(next) if *next != id => cur = *next,
            _ => break,
        }
    }
    cur
}

/// A manual status, as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusOverride {
    /// The status set by hand.
    pub status: Status,
    /// Why (internal level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When (internal level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The device that set it (internal level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// An interview as it may appear in an export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Testimony {
    /// Interview record id (internal level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// When.
    pub date: PartialDate,
    /// Language.
    pub language: String,
    /// The consent given.
    pub consent: Consent,
    /// Relation of the speaker to the detainee (mother, lawyer, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// The speaker's name, only where consent and level allow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// The case the interview documents, when that case is in the export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// Who interviewed (internal level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interviewer: Option<String>,
    /// Where (internal level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The account.
    pub narrative: String,
}

/// One line of the register: one person (one or several merged records).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The record standing for the person.
    pub id: Uuid,
    /// Every record merged into it, the primary first.
    pub records: Vec<Uuid>,
    /// Every name from every merged record, as written, without repeats.
    pub names: Vec<String>,
    /// Birth year (the first known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<i32>,
    /// The status in force: the override if any, else the derived one.
    pub status: Status,
    /// The status derived from the events.
    pub derived_status: Status,
    /// The manual override, if any.
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub status_override: Option<StatusOverride>,
    /// Date of the event behind the derived status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_since: Option<PartialDate>,
    /// Latest arrest date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrest_date: Option<PartialDate>,
    /// Charges (criminal code articles).
    pub articles: Vec<String>,
    /// Latest sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentence: Option<String>,
    /// Latest facility.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    /// Independent sources: distinct cases and interviews about the person.
    pub sources: usize,
    /// Latest date any source speaks of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_confirmed: Option<PartialDate>,
    /// Each fact with its support, and conflicts between sources.
    pub facts: Derived,
    /// Interviews, as far as the level allows (exports only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub testimonies: Vec<Testimony>,
    /// The cases visible at the level with their dated events, oldest first
    /// (exports that need the events, such as ESF, only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<CaseEvents>,
}

/// A case as it may appear in an export: its events, never its notes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseEvents {
    /// Case record id (also listed in `facts` at every level).
    pub id: Uuid,
    /// The case record's confidentiality.
    pub confidentiality: Confidentiality,
    /// Events sorted by date (undated last), as recorded.
    pub events: Vec<Event>,
}

/// What [`build_with`] puts in each entry besides the register line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Detail {
    /// The interviews about the person, as far as the level allows.
    pub testimonies: bool,
    /// The visible cases with their events (an arrest's place at the
    /// internal level only).
    pub events: bool,
}

fn testimony(
    i: &Sourced<Interview>,
    persons: &HashMap<Uuid, &Person>,
    case_ids: &HashSet<Uuid>,
    level: Level,
) -> Testimony {
    let iv = &i.body;
    let internal = level == Level::Internal;
    let speaker = iv
        .speaker_id
        .and_then(|sid| persons.get(&sid))
        .and_then(|p| {
            let allowed = internal
                || (iv.consent == Consent::Publish
                    && level.allows(p.confidentiality)
                    && !p.roles.contains(&Role::Relative));
            allowed.then(|| p.names.join(" / "))
        });
    Testimony {
        id: internal.then_some(i.id),
        date: iv.date,
        language: iv.language.clone(),
        consent: iv.consent,
        relation: iv.relation.clone(),
        speaker,
        case_id: iv.case_id.filter(|c| case_ids.contains(c)),
        interviewer: internal.then(|| iv.interviewer.clone()),
        place: if internal { iv.place.clone() } else { None },
        narrative: iv.narrative.clone(),
    }
}

/// Builds the register as visible at `level` (use [`Level::Internal`] for
/// the coordinator's own view). With `testimonies`, each entry carries the
/// interviews about the person as far as the level allows.
pub fn build(snapshot: &Snapshot, level: Level, testimonies: bool) -> Vec<Entry> {
    build_with(
        snapshot,
        level,
        Detail {
            testimonies,
            events: false,
        },
    )
}

/// Builds the register as visible at `level`, with the `detail` asked for.
/// This, with [`Snapshot::visible_at`], is the one place that decides what
/// an export at a level may hold; every format only lays out its entries.
pub fn build_with(snapshot: &Snapshot, level: Level, detail: Detail) -> Vec<Entry> {
    let snap = snapshot.visible_at(level);
    let persons: HashMap<Uuid, &Person> = snap.persons.iter().map(|p| (p.id, &p.body)).collect();
    let groups = groups(&snap);
    let overrides: HashMap<Uuid, &OverrideRow> =
        snap.overrides.iter().map(|o| (o.person_id, o)).collect();
    // Indexes, so a register of n persons is built in O(n), not O(n²).
    let mut cases_of: HashMap<Uuid, Vec<usize>> = HashMap::new();
    for (n, c) in snap.cases.iter().enumerate() {
        cases_of.entry(c.body.detainee_id).or_default().push(n);
    }
    let mut interviews_of_person: HashMap<Uuid, Vec<usize>> = HashMap::new();
    let mut interviews_of_case: HashMap<Uuid, Vec<usize>> = HashMap::new();
    for (n, i) in snap.interviews.iter().enumerate() {
        if let Some(d) = i.body.detainee_id {
            interviews_of_person.entry(d).or_default().push(n);
        }
        if let Some(c) = i.body.case_id {
            interviews_of_case.entry(c).or_default().push(n);
        }
    }

    let mut out = Vec::new();
    for (id, members) in groups {
        if !detained(&members) {
            continue;
        }
        // Cases and interviews in the snapshot's order.
        let mut case_index: Vec<usize> = members
            .iter()
            .filter_map(|p| cases_of.get(&p.id))
            .flatten()
            .copied()
            .collect();
        case_index.sort_unstable();
        let cases: Vec<&Sourced<Case>> = case_index.iter().map(|&n| &snap.cases[n]).collect();
        let case_ids: HashSet<Uuid> = cases.iter().map(|c| c.id).collect();
        let mut iv_index: Vec<usize> = members
            .iter()
            .filter_map(|p| interviews_of_person.get(&p.id))
            .chain(cases.iter().filter_map(|c| interviews_of_case.get(&c.id)))
            .flatten()
            .copied()
            .collect();
        iv_index.sort_unstable();
        iv_index.dedup();
        let interviews: Vec<&Sourced<Interview>> =
            iv_index.iter().map(|&n| &snap.interviews[n]).collect();
        let per_case: Vec<Vec<Uuid>> = cases
            .iter()
            .map(|c| {
                interviews
                    .iter()
                    .filter(|i| i.body.case_id == Some(c.id))
                    .map(|i| i.id)
                    .collect()
            })
            .collect();
        let srcs: Vec<status::CaseSource<'_>> = cases
            .iter()
            .zip(&per_case)
            .map(|(c, iv)| status::CaseSource {
                id: c.id,
                case: &c.body,
                device: &c.device,
                interviews: iv,
            })
            .collect();
        let dates: Vec<PartialDate> = interviews.iter().map(|i| i.body.date).collect();
        let facts = status::derive(&srcs, &dates);
        let status_override = members
            .iter()
            .find_map(|p| overrides.get(&p.id))
            .and_then(|o| {
                let status = Status::parse(&o.status)?;
                let internal = level == Level::Internal;
                Some(StatusOverride {
                    status,
                    reason: internal.then(|| o.reason.clone()),
                    at: internal.then(|| o.at.clone()),
                    by: internal.then(|| o.by.clone()),
                })
            });
        let names = names_of(&members);
        let mut sources: BTreeSet<Uuid> = case_ids.iter().copied().collect();
        sources.extend(interviews.iter().map(|i| i.id));
        out.push(Entry {
            id,
            records: members.iter().map(|p| p.id).collect(),
            names,
            birth_year: members.iter().find_map(|p| p.body.birth_year),
            status: status_override
                .as_ref()
                .map(|o| o.status)
                .unwrap_or(facts.status),
            derived_status: facts.status,
            status_override,
            status_since: facts.status_since,
            arrest_date: facts.arrest.as_ref().and_then(|f| f.date),
            articles: facts.articles.iter().map(|f| f.value.clone()).collect(),
            sentence: facts.sentence.as_ref().map(|f| f.value.clone()),
            facility: facts.facility.as_ref().map(|f| f.value.clone()),
            sources: sources.len(),
            last_confirmed: facts.last_confirmed,
            facts,
            testimonies: if detail.testimonies {
                interviews
                    .iter()
                    .map(|i| testimony(i, &persons, &case_ids, level))
                    .collect()
            } else {
                Vec::new()
            },
            cases: if detail.events {
                cases.iter().map(|c| case_events(c, level)).collect()
            } else {
                Vec::new()
            },
        });
    }
    out.sort_by(|a, b| order(a.names.first(), a.id, b.names.first(), b.id));
    out
}

/// The register's order: by the first name shown, then by id.
fn order(a_name: Option<&String>, a: Uuid, b_name: Option<&String>, b: Uuid) -> std::cmp::Ordering {
    a_name.cmp(&b_name).then(a.cmp(&b))
}

/// Persons grouped under the record standing for them, the primary first,
/// then the merged records by id.
fn groups(snap: &Snapshot) -> Vec<(Uuid, Vec<&Sourced<Person>>)> {
    let canon = snap.canonical();
    let mut groups: Vec<(Uuid, Vec<&Sourced<Person>>)> = Vec::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    let mut order: Vec<&Sourced<Person>> = snap.persons.iter().collect();
    order.sort_by_key(|p| (canon.get(&p.id) != Some(&p.id), p.id));
    for p in order {
        let c = canon.get(&p.id).copied().unwrap_or(p.id);
        let k = *index.entry(c).or_insert_with(|| {
            groups.push((c, Vec::new()));
            groups.len() - 1
        });
        groups[k].1.push(p);
    }
    groups
}

/// Whether a group of merged records is in the register (one of them is a
/// detainee).
fn detained(members: &[&Sourced<Person>]) -> bool {
    members
        .iter()
        .any(|p| p.body.roles.contains(&Role::Detainee))
}

/// Every name from every merged record, as written, without repeats.
fn names_of(members: &[&Sourced<Person>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in members {
        for n in &p.body.names {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

/// One page of the register as the coordinator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The entries from `offset`, as [`build`] at the internal level
    /// orders and builds them.
    pub entries: Vec<Entry>,
    /// How many persons the whole register holds.
    pub total: usize,
}

/// Longest page [`page`] returns.
pub const MAX_PAGE: usize = 1_000;

/// One page of the register at the internal level, equal to the same slice
/// of [`build`]`(Snapshot::load(vault), Level::Internal, false)`, without
/// reading the whole vault: every person is read (for the order and the
/// count), but cases and interviews only for the page's persons, through
/// the reference indexes. The first rows of a register of 10,000 prisoners
/// therefore come without reading its 100,000 interviews (issue 17).
pub fn page(vault: &Vault, offset: usize, limit: usize) -> Result<Page> {
    require_coordinator(vault)?;
    let limit = limit.min(MAX_PAGE);
    let register = vault.register();
    let mut index = Snapshot {
        merges: register.merges()?,
        overrides: register.overrides()?,
        ..Snapshot::default()
    };
    for stored in vault.all(RecordKind::Person)? {
        let Record::Person(body) = stored.record else {
            continue;
        };
        // The device that saved it; provenance is read below for the
        // page's persons only.
        index.persons.push(Sourced {
            id: stored.id,
            body,
            device: stored.created_by,
        });
    }
    let mut lines: Vec<(Option<String>, Uuid, Vec<Uuid>)> = groups(&index)
        .into_iter()
        .filter(|(_, members)| detained(members))
        .map(|(id, members)| {
            let first = names_of(&members).into_iter().next();
            (first, id, members.iter().map(|p| p.id).collect())
        })
        .collect();
    lines.sort_by(|a, b| order(a.0.as_ref(), a.1, b.0.as_ref(), b.1));
    let total = lines.len();
    let members: HashSet<Uuid> = lines
        .into_iter()
        .skip(offset)
        .take(limit)
        .flat_map(|(_, _, records)| records)
        .collect();

    // The page's persons with their cases and interviews, in the vault's
    // order (by id), as Snapshot::load reads them.
    let mut sub = Snapshot {
        merges: index
            .merges
            .iter()
            .filter(|(a, b)| members.contains(a) && members.contains(b))
            .copied()
            .collect(),
        overrides: index
            .overrides
            .iter()
            .filter(|o| members.contains(&o.person_id))
            .cloned()
            .collect(),
        ..Snapshot::default()
    };
    let mut sources: Vec<StoredRecord> = Vec::new();
    let mut seen: HashSet<Uuid> = HashSet::new();
    for p in index.persons.iter().filter(|p| members.contains(&p.id)) {
        sub.persons.push(Sourced {
            id: p.id,
            body: p.body.clone(),
            device: supplied_by(vault, p.id, p.device.clone())?,
        });
        for s in vault.sources_of(p.id)? {
            if seen.insert(s.id) {
                sources.push(s);
            }
        }
    }
    // Interviews about the page's cases that do not name the person.
    let cases: Vec<Uuid> = sources
        .iter()
        .filter(|s| matches!(s.record, Record::Case(_)))
        .map(|s| s.id)
        .collect();
    for case in cases {
        for s in vault.sources_of(case)? {
            if seen.insert(s.id) {
                sources.push(s);
            }
        }
    }
    sources.sort_by_key(|s| s.id);
    for s in sources {
        sub.push(vault, s)?;
    }
    Ok(Page {
        entries: build(&sub, Level::Internal, false),
        total,
    })
}

/// A case's events as a level may see them: the place of an arrest (which
/// can be a family's home) only at the internal level, like an interview's
/// place.
fn case_events(c: &Sourced<Case>, level: Level) -> CaseEvents {
    let mut events = c.body.events.clone();
    if level != Level::Internal {
        for e in &mut events {
            if let EventDetail::Arrest { place, .. } = &mut e.detail {
                *place = None;
            }
        }
    }
    // Dated events by date, then the undated; stable, so equal dates keep
    // the recorded order.
    events.sort_by_key(|e| (e.date.is_none(), e.date));
    CaseEvents {
        id: c.id,
        confidentiality: c.body.confidentiality,
        events,
    }
}

/// One candidate per person (merged records count as one), for [`dup::suggest`].
pub fn candidates(snap: &Snapshot) -> Vec<Candidate> {
    let canon = snap.canonical();
    let mut by: HashMap<Uuid, Candidate> = HashMap::new();
    for p in &snap.persons {
        let c = canon.get(&p.id).copied().unwrap_or(p.id);
        let e = by.entry(c).or_insert_with(|| Candidate {
            id: c,
            ..Candidate::default()
        });
        e.names.extend(p.body.names.iter().cloned());
        if e.birth_year.is_none() {
            e.birth_year = p.body.birth_year;
        }
    }
    for c in &snap.cases {
        let Some(e) = canon.get(&c.body.detainee_id).and_then(|k| by.get_mut(k)) else {
            continue;
        };
        for ev in &c.body.events {
            match &ev.detail {
                EventDetail::Arrest { .. } => e.arrest_dates.extend(ev.date),
                EventDetail::Detention { facility } => e.facilities.push(facility.clone()),
                _ => {}
            }
        }
    }
    for i in &snap.interviews {
        if let (Some(d), Some(s)) = (i.body.detainee_id, i.body.speaker_id)
            && let Some(e) = canon.get(&d).and_then(|k| by.get_mut(k))
        {
            e.relatives.push(canon.get(&s).copied().unwrap_or(s));
        }
    }
    let mut out: Vec<Candidate> = by.into_values().collect();
    out.sort_by_key(|c| c.id);
    out
}

/// Suggested duplicates in a vault, leaving out merged and distinct pairs.
pub fn duplicates(vault: &Vault, threshold: f64) -> Result<(Vec<Suggestion>, DupStats)> {
    let snap = Snapshot::load(vault)?;
    let distinct: HashSet<(Uuid, Uuid)> = snap
        .distinct
        .iter()
        .map(|(a, b)| dup::pair_key(*a, *b))
        .collect();
    Ok(dup::suggest(&candidates(&snap), &distinct, threshold))
}

/// Merges `merged` into `primary` (both records are kept; reversible with
/// [`unmerge`]). Refuses merges that would form a cycle.
pub fn merge(vault: &mut Vault, primary: Uuid, merged: Uuid) -> Result<i64> {
    if primary == merged {
        return Err(RegisterError::Refused(
            "a person cannot be merged with itself".into(),
        ));
    }
    let direct: HashMap<Uuid, Uuid> = vault
        .register()
        .merges()?
        .into_iter()
        .map(|(p, m)| (m, p))
        .collect();
    let cp = resolve(&direct, primary);
    let cm = resolve(&direct, merged);
    if cp == cm {
        return Err(RegisterError::Refused(format!(
            "{primary} and {merged} are already merged"
        )));
    }
    Ok(vault.register_mut().merge(cp, merged)?)
}

/// Undoes the merge of `merged`; fails if it is not merged.
pub fn unmerge(vault: &mut Vault, merged: Uuid) -> Result<yaddash_vault::register_store::MergeRow> {
    vault.register_mut().unmerge(merged)?.ok_or_else(|| {
        RegisterError::Refused(format!(
            "{merged} is not merged into another person (give the id of the merged record, not the primary)"
        ))
    })
}

#[cfg(test)]
mod tests;
