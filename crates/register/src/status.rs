//! Deriving a detainee's status and the facts of the register from the dated
//! events of their cases.
//!
//! Rules (also in `docs/register.md`):
//!
//! - Each event may imply a status: arrest and detention → detained; a trial
//!   with a sentence or an outcome naming a conviction → convicted; a trial
//!   acquitting → released; release → released; pardon and amnesty →
//!   pardoned; travel ban → under travel ban; death → deceased. Charges,
//!   ill-treatment and disbarment imply no status.
//! - The latest dated event wins. A date known only to the year or month
//!   sorts at the start of its period (`2024` before `2024-03-01`).
//! - Events on the same (or an overlapping, less precise) date are resolved
//!   by precedence: deceased > under travel ban > pardoned > released >
//!   convicted > detained. Each disagreement is reported as a conflict.
//! - Undated events imply no status, except death, which always wins.
//! - "In exile" is not implied by any event: it is set by a manual override.
//! - A fact is supported by the distinct cases asserting it; the count of
//!   independent sources is the number of distinct cases plus distinct
//!   interviews linked to those cases, and the distinct devices that
//!   supplied them are counted separately.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use yaddash_model::fold::fold_text;
use yaddash_model::{Case, EventDetail, PartialDate, ReleaseKind};

/// The status of a person in the register.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
#[ts(rename = "RegisterStatus")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No event implies a status yet.
    Unknown,
    /// Arrested or held.
    Detained,
    /// Sentenced.
    Convicted,
    /// Released (bail, acquittal, end of sentence, ...).
    Released,
    /// Pardoned or amnestied.
    Pardoned,
    /// Free but banned from leaving the country.
    UnderTravelBan,
    /// Abroad (set by override only).
    InExile,
    /// Dead.
    Deceased,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 8] = [
        Status::Unknown,
        Status::Detained,
        Status::Convicted,
        Status::Released,
        Status::Pardoned,
        Status::UnderTravelBan,
        Status::InExile,
        Status::Deceased,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Detained => "detained",
            Status::Convicted => "convicted",
            Status::Released => "released",
            Status::Pardoned => "pardoned",
            Status::UnderTravelBan => "under_travel_ban",
            Status::InExile => "in_exile",
            Status::Deceased => "deceased",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Precedence for events on the same date: higher wins.
    pub fn precedence(self) -> u8 {
        match self {
            Status::Unknown => 0,
            Status::Detained => 1,
            Status::Convicted => 2,
            Status::Released => 3,
            Status::Pardoned => 4,
            Status::UnderTravelBan => 5,
            Status::InExile => 6,
            Status::Deceased => 7,
        }
    }
}

/// The status an event implies, if any.
pub fn event_status(detail: &EventDetail) -> Option<Status> {
    match detail {
        EventDetail::Arrest { .. } | EventDetail::Detention { .. } => Some(Status::Detained),
        EventDetail::Trial {
            outcome, sentence, ..
        } => {
            let o = outcome.as_deref().unwrap_or("").to_lowercase();
            if o.contains("acquit") || o.contains("бəraət") || o.contains("оправд") {
                Some(Status::Released)
            } else if sentence.is_some()
                || o.contains("convict")
                || o.contains("guilty")
                || o.contains("sentenc")
                || o.contains("осужд")
            {
                Some(Status::Convicted)
            } else {
                None
            }
        }
        EventDetail::Release { kind } => Some(match kind {
            Some(ReleaseKind::Pardon) | Some(ReleaseKind::Amnesty) => Status::Pardoned,
            _ => Status::Released,
        }),
        EventDetail::TravelBan { .. } => Some(Status::UnderTravelBan),
        EventDetail::Death { .. } => Some(Status::Deceased),
        EventDetail::Charges { .. }
        | EventDetail::IllTreatment { .. }
        | EventDetail::Disbarment { .. } => None,
    }
}

/// Whether two partial dates can denote the same day (one refines the other).
pub fn compatible(a: PartialDate, b: PartialDate) -> bool {
    a.year == b.year
        && (a.month.is_none() || b.month.is_none() || a.month == b.month)
        && (a.day.is_none() || b.day.is_none() || a.day == b.day)
}

/// A case as input to the derivation, with its provenance.
#[derive(Debug, Clone, Copy)]
pub struct CaseSource<'a> {
    /// The case record's id.
    pub id: Uuid,
    /// The case.
    pub case: &'a Case,
    /// The device that supplied it (from provenance, or the creating device).
    pub device: &'a str,
    /// Interviews linked to this case.
    pub interviews: &'a [Uuid],
}

/// One fact of the register with its support.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// The value as the (first) source wrote it.
    pub value: String,
    /// When, if dated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
    /// Independent sources: distinct cases plus distinct interviews linked to them.
    pub sources: usize,
    /// Distinct devices that supplied those cases.
    pub devices: usize,
    /// The cases asserting it.
    pub cases: Vec<Uuid>,
}

/// Everything derived for one person from their cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Derived {
    /// The derived status.
    pub status: Status,
    /// The date of the event that set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_since: Option<PartialDate>,
    /// Support for the status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_fact: Option<Fact>,
    /// Disagreements between sources about the status (human-readable).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// The latest arrest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrest: Option<Fact>,
    /// Charges, one fact per article.
    pub articles: Vec<Fact>,
    /// The latest sentence pronounced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentence: Option<Fact>,
    /// The latest facility.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility: Option<Fact>,
    /// The latest date any source speaks of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_confirmed: Option<PartialDate>,
}

struct Claim<'a> {
    src: &'a CaseSource<'a>,
    date: Option<PartialDate>,
    value: String,
}

fn fact(claims: &[&Claim<'_>], value: String, date: Option<PartialDate>) -> Fact {
    let mut cases = BTreeSet::new();
    let mut devices = BTreeSet::new();
    let mut interviews = BTreeSet::new();
    for c in claims {
        cases.insert(c.src.id);
        devices.insert(c.src.device);
        interviews.extend(c.src.interviews.iter().copied());
    }
    Fact {
        value,
        date,
        sources: cases.len() + interviews.len(),
        devices: devices.len(),
        cases: cases.into_iter().collect(),
    }
}

fn supported<'c, 'a>(
    claims: &'c [Claim<'a>],
    winner_date: Option<PartialDate>,
    same: impl Fn(&Claim<'a>) -> bool,
) -> Vec<&'c Claim<'a>> {
    claims
        .iter()
        .filter(|c| same(c))
        .filter(|c| match (winner_date, c.date) {
            (Some(w), Some(d)) => compatible(w, d),
            (None, _) => true,
            (Some(_), None) => true,
        })
        .collect()
}

/// Latest dated claim (by date, then `rank`).
fn latest<'c, 'a>(
    claims: &'c [Claim<'a>],
    rank: impl Fn(&Claim<'a>) -> u8,
) -> Option<&'c Claim<'a>> {
    claims
        .iter()
        .filter(|c| c.date.is_some())
        .max_by(|a, b| a.date.cmp(&b.date).then(rank(a).cmp(&rank(b))))
}

/// Derives status and facts from the cases of one person (possibly several
/// merged records).
pub fn derive(cases: &[CaseSource<'_>], interview_dates: &[PartialDate]) -> Derived {
    let mut statuses: Vec<(Claim<'_>, Status)> = Vec::new();
    let mut arrests = Vec::new();
    let mut sentences = Vec::new();
    let mut facilities = Vec::new();
    let mut articles: BTreeMap<String, Vec<Claim<'_>>> = BTreeMap::new();
    let mut last: Option<PartialDate> = interview_dates.iter().copied().max();
    for src in cases {
        for e in &src.case.events {
            if let Some(d) = e.date {
                last = last.max(Some(d));
            }
            let claim = |value: String| Claim {
                src,
                date: e.date,
                value,
            };
            if let Some(s) = event_status(&e.detail) {
                statuses.push((claim(s.as_str().to_string()), s));
            }
            match &e.detail {
                EventDetail::Arrest { .. } => arrests.push(claim(String::new())),
                EventDetail::Detention { facility } => facilities.push(claim(facility.clone())),
                EventDetail::Trial {
                    sentence: Some(s), ..
                } => sentences.push(claim(s.clone())),
                EventDetail::Charges { articles: list, .. } => {
                    for a in list {
                        let a = a.trim().to_string();
                        articles.entry(a.clone()).or_default().push(claim(a));
                    }
                }
                _ => {}
            }
        }
    }

    // Status: death without a date always wins; otherwise latest, precedence.
    let undated_death = statuses
        .iter()
        .find(|(c, s)| *s == Status::Deceased && c.date.is_none());
    let (status, since) = if let Some((c, _)) = undated_death {
        (Status::Deceased, c.date)
    } else {
        statuses
            .iter()
            .filter(|(c, _)| c.date.is_some())
            .max_by(|(a, sa), (b, sb)| {
                a.date
                    .cmp(&b.date)
                    .then(sa.precedence().cmp(&sb.precedence()))
            })
            .map(|(c, s)| (*s, c.date))
            .unwrap_or((Status::Unknown, None))
    };
    let status_claims: Vec<Claim<'_>> = statuses
        .iter()
        .filter(|(_, s)| *s == status)
        .map(|(c, _)| Claim {
            src: c.src,
            date: c.date,
            value: c.value.clone(),
        })
        .collect();
    let status_fact = (status != Status::Unknown).then(|| {
        let sup = supported(&status_claims, since, |_| true);
        fact(&sup, status.as_str().to_string(), since)
    });
    let mut conflicts = Vec::new();
    if let Some(w) = since {
        let mut seen = BTreeSet::new();
        for (c, s) in &statuses {
            if *s != status
                && c.date.is_some_and(|d| compatible(d, w) || d > w)
                && seen.insert((c.src.id, *s))
            {
                let d = c.date.map(|d| d.to_string()).unwrap_or_default();
                conflicts.push(format!(
                    "case {} says {} on {d}; {} on {w} takes precedence",
                    c.src.id,
                    s.as_str(),
                    status.as_str()
                ));
            }
        }
    }

    let arrest = latest(&arrests, |_| 0).map(|w| {
        let sup = supported(&arrests, w.date, |_| true);
        fact(
            &sup,
            w.date.map(|d| d.to_string()).unwrap_or_default(),
            w.date,
        )
    });
    let by_value = |list: &[Claim<'_>]| -> Option<Fact> {
        let w = latest(list, |_| 0).or_else(|| list.first())?;
        let key = fold_text(&w.value);
        let sup: Vec<&Claim<'_>> = list.iter().filter(|c| fold_text(&c.value) == key).collect();
        Some(fact(&sup, w.value.clone(), w.date))
    };
    let sentence = by_value(&sentences);
    let facility = by_value(&facilities);
    let articles = articles
        .into_iter()
        .map(|(a, claims)| {
            let refs: Vec<&Claim<'_>> = claims.iter().collect();
            let date = claims.iter().filter_map(|c| c.date).min();
            fact(&refs, a, date)
        })
        .collect();

    Derived {
        status,
        status_since: since,
        status_fact,
        conflicts,
        arrest,
        articles,
        sentence,
        facility,
        last_confirmed: last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaddash_model::{Confidentiality, Event, Reliability};

    fn d(s: &str) -> Option<PartialDate> {
        Some(s.parse().expect("date"))
    }

    fn case(events: Vec<(Option<PartialDate>, EventDetail)>) -> Case {
        Case {
            detainee_id: Uuid::nil(),
            title: None,
            events: events
                .into_iter()
                .map(|(date, detail)| Event { date, detail })
                .collect(),
            notes: None,
            confidentiality: Confidentiality::Internal,
            reliability: Reliability::Unknown,
        }
    }

    fn arrest() -> EventDetail {
        EventDetail::Arrest {
            place: None,
            authority: None,
        }
    }

    fn release(kind: ReleaseKind) -> EventDetail {
        EventDetail::Release { kind: Some(kind) }
    }

    fn trial(sentence: &str) -> EventDetail {
        EventDetail::Trial {
            court: None,
            judge: None,
            outcome: Some("convicted".into()),
            sentence: Some(sentence.into()),
        }
    }

    fn derive_cases(cases: &[(Uuid, &Case, &str)]) -> Derived {
        let srcs: Vec<CaseSource<'_>> = cases
            .iter()
            .map(|(id, c, dev)| CaseSource {
                id: *id,
                case: c,
                device: dev,
                interviews: &[],
            })
            .collect();
        derive(&srcs, &[])
    }

    #[test]
    fn sequence_arrest_trial_pardon() {
        let c = case(vec![
            (d("2023-11-20"), arrest()),
            (
                d("2023-11-21"),
                EventDetail::Detention {
                    facility: "Baku pre-trial centre No. 1".into(),
                },
            ),
            (
                d("2023-12"),
                EventDetail::Charges {
                    articles: vec!["206.3.2".into(), " 193-1.3.1".into()],
                    code: None,
                },
            ),
            (d("2024-06-20"), trial("9 years")),
            (d("2025-03-17"), release(ReleaseKind::Pardon)),
        ]);
        let r = derive_cases(&[(Uuid::from_u128(1), &c, "dev1")]);
        assert_eq!(r.status, Status::Pardoned);
        assert_eq!(r.status_since, d("2025-03-17"));
        assert_eq!(
            r.sentence.as_ref().map(|f| f.value.as_str()),
            Some("9 years")
        );
        assert_eq!(
            r.facility.as_ref().map(|f| f.value.as_str()),
            Some("Baku pre-trial centre No. 1")
        );
        let arts: Vec<&str> = r.articles.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(arts, ["193-1.3.1", "206.3.2"]);
        assert_eq!(r.last_confirmed, d("2025-03-17"));
        assert_eq!(r.arrest.as_ref().and_then(|f| f.date), d("2023-11-20"));
    }

    #[test]
    fn each_event_kind_sets_its_status() {
        let cases = [
            (arrest(), Status::Detained),
            (trial("5 years"), Status::Convicted),
            (release(ReleaseKind::SentenceServed), Status::Released),
            (release(ReleaseKind::Amnesty), Status::Pardoned),
            (
                EventDetail::TravelBan { authority: None },
                Status::UnderTravelBan,
            ),
            (
                EventDetail::Death {
                    circumstances: None,
                },
                Status::Deceased,
            ),
        ];
        for (ev, want) in cases {
            let c = case(vec![(d("2020-01-01"), arrest()), (d("2024-01-01"), ev)]);
            let r = derive_cases(&[(Uuid::from_u128(1), &c, "dev")]);
            assert_eq!(r.status, want);
        }
        let c = case(vec![]);
        assert_eq!(
            derive_cases(&[(Uuid::nil(), &c, "d")]).status,
            Status::Unknown
        );
    }

    #[test]
    fn a_later_arrest_after_release_means_detained_again() {
        let c = case(vec![
            (d("2014-08-01"), arrest()),
            (d("2016-05-25"), release(ReleaseKind::Release)),
            (d("2023-12-01"), arrest()),
        ]);
        let r = derive_cases(&[(Uuid::from_u128(1), &c, "dev")]);
        assert_eq!(r.status, Status::Detained);
        assert_eq!(r.status_since, d("2023-12-01"));
    }

    #[test]
    fn conflicting_sources_latest_wins_and_conflict_is_reported() {
        // The mother's case says he is still held (a detention seen in May);
        // a lawyer's case reports the pardon in March; the May visit is later.
        let mother = case(vec![
            (d("2024-01-10"), arrest()),
            (
                d("2024-05"),
                EventDetail::Detention {
                    facility: "Prison No. 13".into(),
                },
            ),
        ]);
        let lawyer = case(vec![
            (d("2024-01-10"), arrest()),
            (d("2024-03-17"), release(ReleaseKind::Pardon)),
        ]);
        let (m, l) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let r = derive_cases(&[(m, &mother, "dev-a"), (l, &lawyer, "dev-b")]);
        assert_eq!(r.status, Status::Detained);
        assert_eq!(r.status_since, d("2024-05"));
        // The arrest date is corroborated by both cases from two devices.
        let arrest = r.arrest.expect("arrest");
        assert_eq!((arrest.sources, arrest.devices), (2, 2));
        assert_eq!(r.status_fact.expect("fact").cases, vec![m]);
    }

    #[test]
    fn same_date_conflict_resolved_by_precedence() {
        let a = case(vec![(d("2024-03-17"), arrest())]);
        let b = case(vec![(d("2024-03-17"), release(ReleaseKind::Pardon))]);
        let c = case(vec![(d("2024-03"), release(ReleaseKind::Pardon))]);
        let ids = [Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3)];
        let r = derive_cases(&[(ids[0], &a, "x"), (ids[1], &b, "y"), (ids[2], &c, "y")]);
        assert_eq!(r.status, Status::Pardoned);
        assert_eq!(r.conflicts.len(), 1, "{:?}", r.conflicts);
        assert!(r.conflicts[0].contains("detained"));
        // Both pardon reports (the month-only one is compatible) support it,
        // from one device.
        let f = r.status_fact.expect("fact");
        assert_eq!((f.sources, f.devices), (2, 1));
        // Order of the cases does not matter.
        let r2 = derive_cases(&[(ids[2], &c, "y"), (ids[1], &b, "y"), (ids[0], &a, "x")]);
        assert_eq!(r2.status, Status::Pardoned);
    }

    #[test]
    fn undated_death_wins_and_undated_release_does_not() {
        let a = case(vec![
            (d("2024-01-01"), arrest()),
            (None, release(ReleaseKind::Pardon)),
        ]);
        let r = derive_cases(&[(Uuid::from_u128(1), &a, "x")]);
        assert_eq!(r.status, Status::Detained);
        let b = case(vec![
            (d("2024-01-01"), arrest()),
            (
                None,
                EventDetail::Death {
                    circumstances: None,
                },
            ),
        ]);
        let r = derive_cases(&[(Uuid::from_u128(1), &b, "x")]);
        assert_eq!(r.status, Status::Deceased);
    }

    #[test]
    fn facility_sources_count_folded_spellings_and_interviews() {
        let a = case(vec![(
            d("2024-02"),
            EventDetail::Detention {
                facility: "Qobustan həbsxanası".into(),
            },
        )]);
        let b = case(vec![(
            d("2024-01"),
            EventDetail::Detention {
                facility: "Gobustan hebsxanasi".into(),
            },
        )]);
        let iv = [Uuid::from_u128(9), Uuid::from_u128(10)];
        let srcs = [
            CaseSource {
                id: Uuid::from_u128(1),
                case: &a,
                device: "d1",
                interviews: &iv,
            },
            CaseSource {
                id: Uuid::from_u128(2),
                case: &b,
                device: "d1",
                interviews: &[],
            },
        ];
        let r = derive(&srcs, &[PartialDate::from_str_opt("2024-08").expect("d")]);
        let f = r.facility.expect("facility");
        assert_eq!(f.value, "Qobustan həbsxanası");
        assert_eq!((f.sources, f.devices), (4, 1));
        assert_eq!(r.last_confirmed, d("2024-08"));
    }

    trait FromStrOpt {
        fn from_str_opt(s: &str) -> Option<PartialDate>;
    }
    impl FromStrOpt for PartialDate {
        fn from_str_opt(s: &str) -> Option<PartialDate> {
            s.parse().ok()
        }
    }
}
