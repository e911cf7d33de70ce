//! JSON after the HURIDOCS Events Standard Formats (ESF, 2001 edition):
//! who did what to whom, and who said so.
//!
//! - each visible **case** is an *event* (format 100);
//! - each of its events that is an act against the detainee (arrest,
//!   charges, detention, trial, ill-treatment, travel ban, disbarment,
//!   death) is an *act* (format 2100) with the detainee as victim; a release
//!   closes the acts of deprivation of liberty before it (final date, status
//!   at the end of the act) and the event;
//! - the detainee, each named perpetrator (arresting or banning authority,
//!   court, judge, disbarring body) and each source is a *person* (format
//!   900); perpetrators are linked to acts by *involvements* (2400);
//! - each testimony is an *information* record (2500) linking its source to
//!   the event (when the interview documents a visible case) and the victim.
//!
//! Field names follow the ESF field titles in snake_case; `field_numbers`
//! in the file gives the ESF number of each. Dates are written the HURIDOCS
//! way, `YYYYMMDD` with `00` for an unknown month or day. Everything comes
//! from entries built at the export's level, so the level's rules hold.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use yaddash_model::{Confidentiality, Consent, EventDetail, PartialDate, ReleaseKind};

use crate::{Entry, Level, Status, StatusOverride};

/// ESF field numbers of the fields written (see `docs/register.md`).
const FIELD_NUMBERS: [(&str, u32); 33] = [
    ("event.event_record_number", 101),
    ("event.event_title", 102),
    ("event.confidentiality", 108),
    ("event.initial_date", 113),
    ("event.final_date", 114),
    ("event.remarks", 150),
    ("act.act_record_number", 2101),
    ("act.victim_record_number", 2102),
    ("act.event_record_number", 2103),
    ("act.confidentiality", 2108),
    ("act.type_of_act", 2109),
    ("act.initial_date", 2111),
    ("act.exact_location", 2112),
    ("act.stated_reason", 2113),
    ("act.final_date", 2121),
    ("act.status_at_end_of_act", 2123),
    ("act.remarks", 2150),
    ("person.person_record_number", 901),
    ("person.counting_unit", 902),
    ("person.name", 903),
    ("person.other_names", 904),
    ("person.date_of_birth", 911),
    ("involvement.involvement_record_number", 2401),
    ("involvement.perpetrator_record_number", 2402),
    ("involvement.event_record_number", 2403),
    ("involvement.act_record_number", 2404),
    ("involvement.degree_of_involvement", 2409),
    ("involvement.type_of_perpetrator", 2412),
    ("information.information_record_number", 2501),
    ("information.source_record_number", 2502),
    ("information.event_record_number", 2503),
    ("information.language_of_source_material", 2510),
    ("information.date_of_source_material", 2511),
];

#[derive(Serialize)]
struct EventRecord {
    event_record_number: String,
    event_title: String,
    confidentiality: Confidentiality,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_date: Option<String>,
    /// The victims of the event's acts.
    victims: Vec<String>,
}

#[derive(Serialize)]
struct ActRecord {
    act_record_number: String,
    victim_record_number: String,
    event_record_number: String,
    confidentiality: Confidentiality,
    type_of_act: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exact_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stated_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_at_end_of_act: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

/// Yaddash's register line for a victim (not an ESF field).
#[derive(Serialize)]
struct RegisterFacts {
    status: Status,
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    status_override: Option<StatusOverride>,
    sources: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_confirmed: Option<String>,
}

#[derive(Serialize)]
struct PersonRecord {
    person_record_number: String,
    counting_unit: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    other_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_of_birth: Option<String>,
    /// The roles the person has in this file: victim, perpetrator, source.
    roles: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    register: Option<RegisterFacts>,
}

#[derive(Serialize)]
struct InvolvementRecord {
    involvement_record_number: String,
    perpetrator_record_number: String,
    event_record_number: String,
    act_record_number: String,
    degree_of_involvement: &'static str,
    type_of_perpetrator: &'static str,
}

#[derive(Serialize)]
struct InformationRecord {
    information_record_number: String,
    /// The speaker, only when the level and the consent allow naming them.
    #[serde(skip_serializing_if = "Option::is_none")]
    source_record_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_connection_to_information: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_record_number: Option<String>,
    victim_record_number: String,
    type_of_source_material: &'static str,
    language_of_source_material: String,
    date_of_source_material: String,
    consent: Consent,
    /// Who interviewed (internal level only; not an ESF field).
    #[serde(skip_serializing_if = "Option::is_none")]
    interviewer: Option<String>,
    /// Where (internal level only; not an ESF field).
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<String>,
    remarks: String,
}

#[derive(Serialize)]
struct EsfFile {
    format: &'static str,
    standard: &'static str,
    level: Level,
    field_numbers: BTreeMap<&'static str, u32>,
    events: Vec<EventRecord>,
    acts: Vec<ActRecord>,
    persons: Vec<PersonRecord>,
    involvements: Vec<InvolvementRecord>,
    information: Vec<InformationRecord>,
}

/// `YYYYMMDD`, `00` for an unknown month or day.
fn esf_date(d: &PartialDate) -> String {
    format!(
        "{:04}{:02}{:02}",
        d.year,
        d.month.unwrap_or(0),
        d.day.unwrap_or(0)
    )
}

fn release_kind(k: Option<ReleaseKind>) -> &'static str {
    match k {
        None | Some(ReleaseKind::Release) => "released",
        Some(ReleaseKind::Pardon) => "released (pardon)",
        Some(ReleaseKind::Amnesty) => "released (amnesty)",
        Some(ReleaseKind::Acquittal) => "released (acquittal)",
        Some(ReleaseKind::SentenceServed) => "released (sentence served)",
    }
}

/// Perpetrators, one record per distinct name and kind.
#[derive(Default)]
struct Perpetrators {
    index: HashMap<(String, &'static str), String>,
    records: Vec<PersonRecord>,
}

impl Perpetrators {
    fn get(&mut self, name: &str, unit: &'static str) -> String {
        let key = (name.to_string(), unit);
        if let Some(id) = self.index.get(&key) {
            return id.clone();
        }
        let id = format!("perpetrator-{}", self.records.len() + 1);
        self.records.push(PersonRecord {
            person_record_number: id.clone(),
            counting_unit: unit,
            name: name.to_string(),
            other_names: Vec::new(),
            date_of_birth: None,
            roles: vec!["perpetrator"],
            register: None,
        });
        self.index.insert(key, id.clone());
        id
    }
}

/// The register as ESF JSON.
pub(crate) fn esf(entries: &[Entry], level: Level) -> String {
    let mut file = EsfFile {
        format: "yaddash-esf/1",
        standard: "HURIDOCS Events Standard Formats (2001)",
        level,
        field_numbers: FIELD_NUMBERS.into_iter().collect(),
        events: Vec::new(),
        acts: Vec::new(),
        persons: Vec::new(),
        involvements: Vec::new(),
        information: Vec::new(),
    };
    let mut perpetrators = Perpetrators::default();
    let mut sources: HashMap<String, String> = HashMap::new();
    let mut source_records: Vec<PersonRecord> = Vec::new();

    for e in entries {
        let victim = e.id.to_string();
        let name = e.names.first().cloned().unwrap_or_default();
        file.persons.push(PersonRecord {
            person_record_number: victim.clone(),
            counting_unit: "individual",
            name: name.clone(),
            other_names: e.names.iter().skip(1).cloned().collect(),
            date_of_birth: e.birth_year.map(|y| format!("{y:04}0000")),
            roles: vec!["victim"],
            register: Some(RegisterFacts {
                status: e.status,
                status_override: e.status_override.clone(),
                sources: e.sources,
                last_confirmed: e.last_confirmed.as_ref().map(esf_date),
            }),
        });
        for case in &e.cases {
            let event_id = case.id.to_string();
            let mut first_act = file.acts.len();
            // The event ends with the last release (or a death, below).
            let mut final_date = case
                .events
                .iter()
                .filter(|ev| matches!(ev.detail, EventDetail::Release { .. }))
                .filter_map(|ev| ev.date)
                .next_back();
            let mut n = 0;
            for ev in &case.events {
                let mut act = |type_of_act: &'static str| {
                    n += 1;
                    ActRecord {
                        act_record_number: format!("{event_id}/act-{n}"),
                        victim_record_number: victim.clone(),
                        event_record_number: event_id.clone(),
                        confidentiality: case.confidentiality,
                        type_of_act,
                        initial_date: ev.date.as_ref().map(esf_date),
                        exact_location: None,
                        stated_reason: None,
                        final_date: None,
                        status_at_end_of_act: None,
                        remarks: None,
                    }
                };
                let mut involved: Vec<(String, &'static str, &'static str, &'static str)> =
                    Vec::new();
                let record = match &ev.detail {
                    EventDetail::Arrest { place, authority } => {
                        if let Some(a) = authority {
                            involved.push((a.clone(), "institution", "carried out", "authority"));
                        }
                        ActRecord {
                            exact_location: place.clone(),
                            ..act("arrest")
                        }
                    }
                    EventDetail::Charges { articles, code } => ActRecord {
                        stated_reason: Some(format!(
                            "{} {}",
                            code.as_deref().unwrap_or("Criminal Code"),
                            articles.join(", ")
                        )),
                        ..act("criminal charges")
                    },
                    EventDetail::Detention { facility } => ActRecord {
                        exact_location: Some(facility.clone()),
                        ..act("detention")
                    },
                    EventDetail::Trial {
                        court,
                        judge,
                        outcome,
                        sentence,
                    } => {
                        if let Some(c) = court {
                            involved.push((c.clone(), "institution", "decided", "court"));
                        }
                        if let Some(j) = judge {
                            involved.push((j.clone(), "individual", "decided", "judge"));
                        }
                        let remarks: Vec<String> = [
                            outcome.as_ref().map(|o| format!("outcome: {o}")),
                            sentence.as_ref().map(|s| format!("sentence: {s}")),
                        ]
                        .into_iter()
                        .flatten()
                        .collect();
                        ActRecord {
                            remarks: (!remarks.is_empty()).then(|| remarks.join("; ")),
                            ..act("trial")
                        }
                    }
                    EventDetail::IllTreatment { description } => ActRecord {
                        remarks: Some(description.clone()),
                        ..act("ill-treatment")
                    },
                    EventDetail::TravelBan { authority } => {
                        if let Some(a) = authority {
                            involved.push((a.clone(), "institution", "imposed", "authority"));
                        }
                        act("travel ban")
                    }
                    EventDetail::Disbarment { body } => {
                        if let Some(b) = body {
                            involved.push((b.clone(), "institution", "decided", "bar association"));
                        }
                        act("disbarment")
                    }
                    EventDetail::Death { circumstances } => {
                        if final_date.is_none() {
                            final_date = ev.date;
                        }
                        ActRecord {
                            remarks: circumstances.clone(),
                            ..act("death")
                        }
                    }
                    EventDetail::Release { kind } => {
                        // Closes the deprivation of liberty recorded so far.
                        for a in &mut file.acts[first_act..] {
                            if matches!(a.type_of_act, "arrest" | "detention") {
                                a.final_date = ev.date.as_ref().map(esf_date);
                                a.status_at_end_of_act = Some(release_kind(*kind).into());
                            }
                        }
                        first_act = file.acts.len();
                        continue;
                    }
                };
                for (who, unit, degree, kind) in involved {
                    let p = perpetrators.get(&who, unit);
                    file.involvements.push(InvolvementRecord {
                        involvement_record_number: format!(
                            "involvement-{}",
                            file.involvements.len() + 1
                        ),
                        perpetrator_record_number: p,
                        event_record_number: event_id.clone(),
                        act_record_number: record.act_record_number.clone(),
                        degree_of_involvement: degree,
                        type_of_perpetrator: kind,
                    });
                }
                file.acts.push(record);
            }
            file.events.push(EventRecord {
                event_record_number: event_id,
                event_title: format!("Case of {name}"),
                confidentiality: case.confidentiality,
                initial_date: case
                    .events
                    .iter()
                    .filter_map(|ev| ev.date)
                    .min()
                    .as_ref()
                    .map(esf_date),
                final_date: final_date.as_ref().map(esf_date),
                victims: vec![victim.clone()],
            });
        }
        for t in &e.testimonies {
            let source = t.speaker.as_ref().map(|s| {
                sources
                    .entry(s.clone())
                    .or_insert_with(|| {
                        let id = format!("source-{}", source_records.len() + 1);
                        source_records.push(PersonRecord {
                            person_record_number: id.clone(),
                            counting_unit: "individual",
                            name: s.clone(),
                            other_names: Vec::new(),
                            date_of_birth: None,
                            roles: vec!["source"],
                            register: None,
                        });
                        id
                    })
                    .clone()
            });
            file.information.push(InformationRecord {
                information_record_number: match t.id {
                    Some(id) => id.to_string(),
                    None => format!("information-{}", file.information.len() + 1),
                },
                source_record_number: source,
                source_connection_to_information: t.relation.clone(),
                event_record_number: t.case_id.map(|c| c.to_string()),
                victim_record_number: victim.clone(),
                type_of_source_material: "interview",
                language_of_source_material: t.language.clone(),
                date_of_source_material: esf_date(&t.date),
                consent: t.consent,
                interviewer: t.interviewer.clone(),
                place: t.place.clone(),
                remarks: t.narrative.clone(),
            });
        }
    }
    file.persons.extend(perpetrators.records);
    file.persons.extend(source_records);
    serde_json::to_string_pretty(&file).unwrap_or_default()
}
