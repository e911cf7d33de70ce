//! The testimony records: persons, cases with dated events, interviews.
//!
//! Drawn from the HURIDOCS Events Standard Formats and the reality of
//! political-prisoner lists. Every record carries a confidentiality level and
//! a source-reliability grade. Records are serialised as JSON; the format is
//! documented in `docs/records.md` with full examples in `docs/examples/`.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::date::PartialDate;
use crate::fold::fold_text;

/// Who may see a record outside the organisation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Confidentiality {
    /// May appear in public reports.
    Public,
    /// May be shared with trusted partner organisations.
    Partner,
    /// Never leaves the organisation. The safe default.
    #[default]
    Internal,
}

/// How far the source of a record is to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Reliability {
    /// Documented (court papers, official records) or first-hand and consistent.
    High,
    /// Credible but not corroborated.
    Medium,
    /// Hearsay or inconsistent.
    Low,
    /// Not yet assessed.
    #[default]
    Unknown,
}

/// The consent the speaker gave for an interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// May be published with the speaker's name.
    Publish,
    /// May be published without anything identifying the speaker.
    Anonymous,
    /// For the organisation's internal use only.
    Internal,
}

/// A role a person plays in the documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "PersonRole")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A person deprived of liberty (or formerly).
    Detainee,
    /// A family member of a detainee.
    Relative,
    /// A witness of events.
    Witness,
    /// A lawyer (including disbarred ones).
    Lawyer,
    /// An official: investigator, judge, prosecutor, officer.
    Official,
}

impl Role {
    /// All roles, for help texts.
    pub const ALL: [Role; 5] = [
        Role::Detainee,
        Role::Relative,
        Role::Witness,
        Role::Lawyer,
        Role::Official,
    ];

    /// Parses the snake_case name used on the command line.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Detainee => "detainee",
            Role::Relative => "relative",
            Role::Witness => "witness",
            Role::Lawyer => "lawyer",
            Role::Official => "official",
        }
    }
}

/// A person, with every spelling of their name kept exactly as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Names in every script the person is known by, as the sources wrote them.
    pub names: Vec<String>,
    /// Year of birth, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<i32>,
    /// Roles in the documentation.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Free notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Confidentiality of this record.
    #[serde(default)]
    pub confidentiality: Confidentiality,
    /// Reliability of the source.
    #[serde(default)]
    pub reliability: Reliability,
}

/// A case: what happened to one detainee, as dated events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The person the case is about.
    pub detainee_id: Uuid,
    /// A short title for lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The events, in any order; readers sort by date.
    #[serde(default)]
    pub events: Vec<Event>,
    /// Free notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Confidentiality of this record.
    #[serde(default)]
    pub confidentiality: Confidentiality,
    /// Reliability of the source.
    #[serde(default)]
    pub reliability: Reliability,
}

/// One dated event of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "CaseEvent")]
pub struct Event {
    /// When it happened (year, year-month or full date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
    /// What happened.
    #[serde(flatten)]
    pub detail: EventDetail,
}

/// The kinds of events, each with its own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventDetail {
    /// Arrest or detention by an authority.
    Arrest {
        /// Where.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        place: Option<String>,
        /// Which authority (e.g. State Security Service).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authority: Option<String>,
    },
    /// Charges brought, as criminal code articles.
    Charges {
        /// Articles, e.g. `206.3.2`.
        articles: Vec<String>,
        /// Which code (defaults to the Criminal Code).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    /// Held in a facility.
    Detention {
        /// The facility (pre-trial centre, prison, colony).
        facility: String,
    },
    /// A trial or appeal hearing and its outcome.
    Trial {
        /// Court.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        court: Option<String>,
        /// Presiding judge.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        judge: Option<String>,
        /// Outcome (convicted, acquitted, appeal rejected, ...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
        /// Sentence as pronounced (e.g. "9 years").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sentence: Option<String>,
    },
    /// Ill-treatment, torture or health concerns.
    IllTreatment {
        /// What was reported.
        description: String,
    },
    /// Release, pardon, amnesty, end of sentence.
    Release {
        /// How the person was released.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<ReleaseKind>,
    },
    /// A ban on leaving the country.
    TravelBan {
        /// Imposed by.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authority: Option<String>,
    },
    /// A lawyer's disbarment.
    Disbarment {
        /// The body that disbarred (e.g. the Bar Association).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    /// Death in custody or after.
    Death {
        /// Circumstances as reported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        circumstances: Option<String>,
    },
}

/// How a release came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// Released (bail, house arrest, end of detention).
    Release,
    /// Pardoned by decree.
    Pardon,
    /// Amnesty.
    Amnesty,
    /// Acquitted.
    Acquittal,
    /// Sentence served.
    SentenceServed,
}

/// One interview: who spoke, who listened, what was said, and the consent given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Interview {
    /// The case this interview documents, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// The detainee the interview is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detainee_id: Option<Uuid>,
    /// The person who spoke, if recorded as a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_id: Option<Uuid>,
    /// The speaker's relation to the detainee (mother, sister, lawyer, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// Who conducted the interview.
    pub interviewer: String,
    /// When.
    pub date: PartialDate,
    /// Where (may be left out for safety).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Language of the interview (ISO 639-1, e.g. `az`, `ru`).
    pub language: String,
    /// The consent given.
    pub consent: Consent,
    /// The account, as told.
    pub narrative: String,
    /// Confidentiality of this record.
    #[serde(default)]
    pub confidentiality: Confidentiality,
    /// Reliability of the source.
    #[serde(default)]
    pub reliability: Reliability,
}

/// The kind of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// [`Person`]
    Person,
    /// [`Case`]
    Case,
    /// [`Interview`]
    Interview,
}

impl RecordKind {
    /// The snake_case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Person => "person",
            RecordKind::Case => "case",
            RecordKind::Interview => "interview",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<RecordKind> {
        match s {
            "person" => Some(RecordKind::Person),
            "case" => Some(RecordKind::Case),
            "interview" => Some(RecordKind::Interview),
            _ => None,
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Any record body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "RecordBody")]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum Record {
    /// A person.
    Person(Person),
    /// A case.
    Case(Case),
    /// An interview.
    Interview(Interview),
}

/// A record that fails validation. The message names the field, never its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {problem}")]
pub struct InvalidRecord {
    /// Which kind of record.
    pub kind: RecordKind,
    /// What is wrong, naming the field.
    pub problem: String,
}

/// Text fields are capped so a hostile or broken input cannot bloat the vault.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

impl Record {
    /// The kind of this record.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Person(_) => RecordKind::Person,
            Record::Case(_) => RecordKind::Case,
            Record::Interview(_) => RecordKind::Interview,
        }
    }

    /// Parses a body of a known kind from JSON.
    pub fn from_json(kind: RecordKind, json: &str) -> Result<Record, serde_json::Error> {
        Ok(match kind {
            RecordKind::Person => Record::Person(serde_json::from_str(json)?),
            RecordKind::Case => Record::Case(serde_json::from_str(json)?),
            RecordKind::Interview => Record::Interview(serde_json::from_str(json)?),
        })
    }

    /// The body alone as canonical JSON (field order fixed by the types).
    pub fn body_json(&self) -> String {
        let v = match self {
            Record::Person(p) => serde_json::to_string(p),
            Record::Case(c) => serde_json::to_string(c),
            Record::Interview(i) => serde_json::to_string(i),
        };
        // Serialising these plain structs cannot fail.
        v.unwrap_or_default()
    }

    /// Confidentiality of the record.
    pub fn confidentiality(&self) -> Confidentiality {
        match self {
            Record::Person(p) => p.confidentiality,
            Record::Case(c) => c.confidentiality,
            Record::Interview(i) => i.confidentiality,
        }
    }

    /// Ids of other records this one refers to.
    pub fn references(&self) -> Vec<Uuid> {
        match self {
            Record::Person(_) => vec![],
            Record::Case(c) => vec![c.detainee_id],
            Record::Interview(i) => [i.case_id, i.detainee_id, i.speaker_id]
                .into_iter()
                .flatten()
                .collect(),
        }
    }

    /// Checks the record's own consistency (references are checked by the vault).
    pub fn validate(&self) -> Result<(), InvalidRecord> {
        let kind = self.kind();
        let bad = |problem: &str| {
            Err(InvalidRecord {
                kind,
                problem: problem.to_string(),
            })
        };
        let too_long = self.all_text().iter().any(|t| t.len() > MAX_TEXT_BYTES);
        if too_long {
            return bad("a text field is longer than 1 MiB");
        }
        match self {
            Record::Person(p) => {
                if p.names.is_empty() || p.names.iter().all(|n| n.trim().is_empty()) {
                    return bad("`names` needs at least one non-empty name");
                }
                if p.names.iter().any(|n| n.trim().is_empty()) {
                    return bad("`names` contains an empty name");
                }
                if let Some(y) = p.birth_year
                    && !(1850..=2100).contains(&y)
                {
                    return bad("`birth_year` must be between 1850 and 2100");
                }
            }
            Record::Case(c) => {
                for e in &c.events {
                    match &e.detail {
                        EventDetail::Charges { articles, .. } if articles.is_empty() => {
                            return bad("a `charges` event needs at least one article");
                        }
                        EventDetail::Detention { facility } if facility.trim().is_empty() => {
                            return bad("a `detention` event needs a `facility`");
                        }
                        _ => {}
                    }
                }
            }
            Record::Interview(i) => {
                if i.interviewer.trim().is_empty() {
                    return bad("`interviewer` is empty");
                }
                if i.language.trim().is_empty() || i.language.len() > 16 {
                    return bad("`language` must be a language code such as `az` or `ru`");
                }
                if i.narrative.trim().is_empty() {
                    return bad("`narrative` is empty");
                }
            }
        }
        Ok(())
    }

    /// Every free-text field, for size checks and indexing.
    fn all_text(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        match self {
            Record::Person(p) => {
                out.extend(p.names.iter().map(String::as_str));
                out.extend(p.notes.as_deref());
            }
            Record::Case(c) => {
                out.extend(c.title.as_deref());
                out.extend(c.notes.as_deref());
                for e in &c.events {
                    match &e.detail {
                        EventDetail::Arrest { place, authority } => {
                            out.extend(place.as_deref());
                            out.extend(authority.as_deref());
                        }
                        EventDetail::Charges { articles, code } => {
                            out.extend(articles.iter().map(String::as_str));
                            out.extend(code.as_deref());
                        }
                        EventDetail::Detention { facility } => out.push(facility),
                        EventDetail::Trial {
                            court,
                            judge,
                            outcome,
                            sentence,
                        } => {
                            for f in [court, judge, outcome, sentence] {
                                out.extend(f.as_deref());
                            }
                        }
                        EventDetail::IllTreatment { description } => out.push(description),
                        EventDetail::Release { .. } => {}
                        EventDetail::TravelBan { authority } => out.extend(authority.as_deref()),
                        EventDetail::Disbarment { body } => out.extend(body.as_deref()),
                        EventDetail::Death { circumstances } => {
                            out.extend(circumstances.as_deref())
                        }
                    }
                }
            }
            Record::Interview(i) => {
                out.push(&i.interviewer);
                out.extend(i.relation.as_deref());
                out.extend(i.place.as_deref());
                out.push(&i.narrative);
            }
        }
        out
    }

    /// Folded search keys: `(names, other text)`.
    pub fn search_keys(&self) -> (String, String) {
        match self {
            Record::Person(p) => (
                fold_text(&p.names.join(" ")),
                fold_text(p.notes.as_deref().unwrap_or("")),
            ),
            _ => (String::new(), fold_text(&self.all_text().join(" "))),
        }
    }

    /// A one-line label for lists. It contains names: show it only to the user.
    pub fn label(&self) -> String {
        match self {
            Record::Person(p) => p.names.join(" / "),
            Record::Case(c) => c
                .title
                .clone()
                .unwrap_or_else(|| format!("case of {}", c.detainee_id)),
            Record::Interview(i) => {
                let mut s: String = i.narrative.chars().take(80).collect();
                if i.narrative.chars().count() > 80 {
                    s.push('…');
                }
                format!("{} — {}", i.date, s.replace('\n', " "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_round_trips() {
        let json = r#"{"detainee_id":"0190a3c4-0000-7000-8000-000000000001","events":[
            {"type":"arrest","date":"2024-11-20","place":"Baku","authority":"DTX"},
            {"type":"charges","date":"2024-11","articles":["206.3.2","193-1.3.1"]},
            {"type":"release","kind":"pardon"}]}"#;
        let c: Case = serde_json::from_str(json).expect("valid case");
        assert_eq!(c.events.len(), 3);
        let back: Case =
            serde_json::from_str(&serde_json::to_string(&c).expect("ser")).expect("round trip");
        assert_eq!(back, c);
    }

    #[test]
    fn validation_names_the_field() {
        let p = Record::Person(Person {
            names: vec![],
            birth_year: None,
            roles: vec![],
            notes: None,
            confidentiality: Confidentiality::Internal,
            reliability: Reliability::Unknown,
        });
        let e = p.validate().expect_err("no names");
        assert!(e.to_string().contains("names"));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let r = serde_json::from_str::<Person>(r#"{"names":["A"],"nmaes":["B"]}"#);
        assert!(r.is_err());
    }
}
