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
//! in the file gives the ESF number of each (as HURIDOCS' OpenEvSys numbers
//! them, e.g. `2111_1` for the initial date's type). Every coded field
//! holds `{list, code, term}`: the micro-thesaurus, the term's code and its
//! exact term (the tables are in `docs/register.md`). Dates are full
//! `YYYY-MM-DD`; a partial one has day 1 / month 1 for the unknown parts
//! and a date type from list 48 beside it. Confidentiality is `"Y"` or
//! empty. Everything comes from entries built at the export's level, so the
//! level's rules hold.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use yaddash_model::{Confidentiality, Consent, EventDetail, PartialDate, ReleaseKind};

use crate::{Entry, Level, Status, StatusOverride};

/// A term of a HURIDOCS micro-thesaurus: list, code, exact term (as in
/// `shared/esf/micro-thesauri.tsv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Term {
    list: &'static str,
    code: &'static str,
    term: &'static str,
}

const fn t(list: &'static str, code: &'static str, term: &'static str) -> Term {
    Term { list, code, term }
}

// List 04, types of acts.
const ARREST: Term = t("04", "03 01 01", "Arrest");
const DETENTION: Term = t("04", "03 01 02", "Detention, imprisonment");
const ACCUSED: Term = t(
    "04",
    "35 01",
    "Direct actions which violate the rights of an accused person or suspect",
);
const INTEGRITY: Term = t(
    "04",
    "02 01",
    "Direct violations against personal integrity",
);
const TRAVEL: Term = t("04", "05 01 06", "Restriction on travel");
const LICENCE: Term = t(
    "04",
    "30 01 02 03",
    "Restriction on or revocation of work license",
);
const DEATH_IN_CUSTODY: Term = t("04", "01 01 06 01", "Death in detention or police custody");
const LIFE: Term = t(
    "04",
    "01 01",
    "Direct actions which violate the right to life",
);
// List 07, counting units.
const INDIVIDUAL: Term = t("07", "01", "Individual");
const INSTITUTION: Term = t("07", "03", "Group, organisation or institution");
// List 18, degrees of involvement.
const CARRIED_OUT: Term = t("18", "01 01", "Directly carried out the act");
// List 24, types of perpetrator.
const EXECUTIVE: Term = t("24", "01 01", "Executive");
const JUDICIARY: Term = t("24", "01 03", "Judiciary");
const NON_GOVERNMENTAL: Term = t("24", "02", "Non-governmental entities");
// List 25, status at end of act.
const RELEASED: Term = t("25", "02 01", "Arrested and released or escaped");
const ACQUITTED: Term = t(
    "25",
    "02 01 04",
    "Arrested and released - underwent trial and acquitted",
);
const SERVED: Term = t(
    "25",
    "02 01 05",
    "Arrested and released - underwent trial and served sentence",
);
// List 16, types of source material.
const INTERVIEW: Term = t("16", "09 14 20 05 18 01", "Interview");
const VICTIM_TESTIMONY: Term = t("16", "22 09 03 20 09 01", "Victim testimony");
const WITNESS_TESTIMONY: Term = t("16", "23 09 20 14 05 01", "Witness testimony");
// List 19, source connection to information.
const SELF: Term = t("19", "01 01", "Victim him/herself");
const WITNESS: Term = t("19", "01 02", "Witness");
const RELATIVE: Term = t("19", "02 01 01", "Relative of victim");
const COLLEAGUE: Term = t("19", "02 01 02", "Colleague at work of victim");
const SAME_ORGANISATION: Term = t(
    "19",
    "02 01 03",
    "Member of the same organisation as victim",
);
const REPORTER: Term = t("19", "03 01", "Reporter");
const LAWYER: Term = t("19", "04 01", "Lawyer");
const MEDICAL: Term = t("19", "04 02", "Provider of medical service");
const NGO: Term = t(
    "19",
    "04 04 01",
    "Non-governmental human rights organisation",
);
const RELATED_TO_VICTIM: Term = t("19", "02 01", "Related to the victim");
const CONNECTION_UNKNOWN: Term = t("19", "99", "Unknown");
// List 48, date types.
const UNKNOWN_DAY: Term = t("48", "02", "Unknown day");
const UNKNOWN_MONTH_AND_DAY: Term = t("48", "03", "Unknown month and day");
// List 14, languages (ISO 639-1 and 639-2 codes Yaddash records).
const LANGUAGES: [(&[&str], Term); 17] = [
    (
        &["az", "aze", "azerbaijani"],
        t("14", "01 26 05 18 02 01", "Azerbaijani"),
    ),
    (
        &["ru", "rus", "russian"],
        t("14", "18 21 19 19 09 01", "Russian"),
    ),
    (
        &["en", "eng", "english"],
        t("14", "05 14 07 12 09 01", "English"),
    ),
    (
        &["tr", "tur", "turkish"],
        t("14", "20 21 18 11 09 01", "Turkish"),
    ),
    (
        &["ka", "geo", "kat", "georgian"],
        t("14", "07 05 15 18 07 01", "Georgian"),
    ),
    (
        &["fa", "per", "fas", "persian"],
        t("14", "16 05 18 19 09 01", "Persian"),
    ),
    (
        &["hy", "arm", "hye", "armenian"],
        t("14", "01 18 13 05 14 01", "Armenian"),
    ),
    (
        &["ar", "ara", "arabic"],
        t("14", "01 18 01 02 09 01", "Arabic"),
    ),
    (
        &["de", "ger", "deu", "german"],
        t("14", "07 05 18 13 01 01", "German"),
    ),
    (
        &["fr", "fre", "fra", "french"],
        t("14", "06 18 05 14 03 01", "French"),
    ),
    (
        &["uk", "ukr", "ukrainian"],
        t("14", "21 11 18 01 09 01", "Ukrainian"),
    ),
    (
        &["ku", "kur", "kurdish"],
        t("14", "11 21 18 04 09 01", "Kurdish"),
    ),
    (
        &["lez", "lezghian"],
        t("14", "12 05 26 07 08 01", "Lezghian"),
    ),
    (
        &["av", "ava", "avaric"],
        t("14", "01 22 01 18 09 01", "Avaric"),
    ),
    (
        &["tt", "tat", "tatar"],
        t("14", "20 01 20 01 18 01", "Tatar"),
    ),
    (
        &["uz", "uzb", "uzbek"],
        t("14", "21 26 02 05 11 01", "Uzbek"),
    ),
    (
        &["kk", "kaz", "kazakh"],
        t("14", "11 01 26 01 11 01", "Kazakh"),
    ),
];
const UNDETERMINED: Term = t("14", "21 14 04 05 20 01", "Undetermined");

/// The language of a testimony as a term of list 14; "Undetermined" for a
/// language not in the table (e.g. Talysh, which list 14 lacks).
fn language(code: &str) -> Term {
    let c = code.trim().to_lowercase();
    let c = c.split(['-', '_']).next().unwrap_or_default();
    LANGUAGES
        .iter()
        .find(|(names, _)| names.contains(&c))
        .map(|(_, term)| *term)
        .unwrap_or(UNDETERMINED)
}

/// The source's connection to the information (list 19), from the relation
/// recorded with the interview (English, Azerbaijani or Russian words).
fn connection(relation: Option<&str>) -> Term {
    let Some(r) = relation else {
        return CONNECTION_UNKNOWN;
    };
    let words: Vec<String> = r
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    // A word counts when it starts with one of the stems.
    let has = |stems: &[&str]| words.iter().any(|w| stems.iter().any(|s| w.starts_with(s)));
    if has(&[
        "self", "himself", "herself", "victim", "detainee", "özü", "сам",
    ]) {
        SELF
    } else if has(&[
        "lawyer",
        "advocate",
        "attorney",
        "counsel",
        "vəkil",
        "адвокат",
        "защитник",
    ]) {
        LAWYER
    } else if has(&["witness", "cellmate", "şahid", "свидетел", "сокамерн"]) {
        WITNESS
    } else if has(&["journalist", "reporter", "jurnalist", "журналист"]) {
        REPORTER
    } else if has(&["doctor", "physician", "nurse", "həkim", "врач"]) {
        MEDICAL
    } else if has(&["ngo", "правозащит"]) {
        NGO
    } else if has(&["colleague", "coworker", "həmkar", "коллег"]) {
        COLLEAGUE
    } else if has(&["party", "member", "activist", "partiya", "партии", "член"]) {
        SAME_ORGANISATION
    } else if has(&[
        "mother",
        "father",
        "sister",
        "brother",
        "wife",
        "husband",
        "spouse",
        "son",
        "daughter",
        "parent",
        "child",
        "uncle",
        "aunt",
        "cousin",
        "niece",
        "nephew",
        "grand",
        "relative",
        "family",
        "ana",
        "ata",
        "bacı",
        "qardaş",
        "həyat",
        "oğlu",
        "qızı",
        "qohum",
        "мать",
        "отец",
        "сестр",
        "брат",
        "жена",
        "муж",
        "сын",
        "доч",
        "родств",
    ]) {
        RELATIVE
    } else {
        RELATED_TO_VICTIM
    }
}

/// The ESF type of source material (list 16): the victim's or a witness's
/// testimony, else an interview.
fn source_material(connection: Term) -> Term {
    if connection == SELF {
        VICTIM_TESTIMONY
    } else if connection == WITNESS {
        WITNESS_TESTIMONY
    } else {
        INTERVIEW
    }
}

/// The ESF field numbers of the fields written (`shared/esf/fields.tsv`);
/// the other fields are Yaddash's (see `docs/register.md`).
const FIELD_NUMBERS: [(&str, &str); 43] = [
    ("event.event_record_number", "0101"),
    ("event.event_title", "0102"),
    ("event.confidentiality", "0108"),
    ("event.initial_date", "0113"),
    ("event.final_date", "0114"),
    ("act.act_record_number", "2101"),
    ("act.victim_record_number", "2102"),
    ("act.event_record_number", "2103"),
    ("act.confidentiality", "2108"),
    ("act.type_of_act", "2109"),
    ("act.initial_date", "2111"),
    ("act.initial_date_type", "2111_1"),
    ("act.exact_location", "2112"),
    ("act.stated_reason", "2113"),
    ("act.final_date", "2121"),
    ("act.final_date_type", "2121_1"),
    ("act.status_at_end_of_act", "2123"),
    ("act.remarks", "2150"),
    ("person.person_record_number", "0901"),
    ("person.counting_unit", "0902"),
    ("person.name", "0903"),
    ("person.other_names", "0904"),
    ("person.confidentiality", "0908"),
    ("person.date_of_birth", "0911"),
    ("person.deceased", "0927"),
    ("person.date_deceased", "0928"),
    ("involvement.involvement_record_number", "2401"),
    ("involvement.perpetrator_record_number", "2402"),
    ("involvement.event_record_number", "2403"),
    ("involvement.act_record_number", "2404"),
    ("involvement.confidentiality", "2408"),
    ("involvement.degree_of_involvement", "2409"),
    ("involvement.type_of_perpetrator", "2412"),
    ("information.information_record_number", "2501"),
    ("information.source_record_number", "2502"),
    ("information.event_record_number", "2503"),
    ("information.related_person", "2504"),
    ("information.confidentiality", "2508"),
    ("information.source_connection_to_information", "2509"),
    ("information.language_of_source_material", "2510"),
    ("information.date_of_source_material", "2511"),
    ("information.type_of_source_material", "2512"),
    ("information.remarks", "2550"),
];

/// ESF confidentiality: `"Y"` for anything not public, else empty.
fn confidential(c: Confidentiality) -> &'static str {
    if c == Confidentiality::Public {
        ""
    } else {
        "Y"
    }
}

#[derive(Serialize)]
struct EventRecord {
    event_record_number: String,
    event_title: String,
    confidentiality: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_date_type: Option<Term>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_date_type: Option<Term>,
    /// The victims of the event's acts.
    victims: Vec<String>,
}

#[derive(Serialize)]
struct ActRecord {
    act_record_number: String,
    victim_record_number: String,
    event_record_number: String,
    confidentiality: &'static str,
    type_of_act: Term,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_date_type: Option<Term>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exact_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stated_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_date_type: Option<Term>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_at_end_of_act: Option<Term>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
    /// Yaddash's event type (not ESF): arrest, charges, detention, trial,
    /// ill-treatment, travel ban, disbarment, death.
    yaddash_event: &'static str,
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
    counting_unit: Term,
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    other_names: Vec<String>,
    confidentiality: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_of_birth: Option<String>,
    /// Not an ESF field: the type of the date of birth (list 48).
    #[serde(skip_serializing_if = "Option::is_none")]
    date_of_birth_type: Option<Term>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deceased: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_deceased: Option<String>,
    /// Not an ESF field: the type of the date of death (list 48).
    #[serde(skip_serializing_if = "Option::is_none")]
    date_deceased_type: Option<Term>,
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
    confidentiality: &'static str,
    degree_of_involvement: Term,
    type_of_perpetrator: Term,
    /// Yaddash's word for the perpetrator (not ESF): authority, court,
    /// judge, bar association.
    yaddash_role: &'static str,
}

#[derive(Serialize)]
struct InformationRecord {
    information_record_number: String,
    /// The speaker, only when the level and the consent allow naming them.
    #[serde(skip_serializing_if = "Option::is_none")]
    source_record_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_record_number: Option<String>,
    /// The victim the information is about.
    related_person: String,
    confidentiality: &'static str,
    source_connection_to_information: Term,
    /// The relation as recorded (mother, lawyer…; not ESF).
    #[serde(skip_serializing_if = "Option::is_none")]
    relation: Option<String>,
    language_of_source_material: Term,
    /// The language code as recorded (not ESF).
    language_code: String,
    date_of_source_material: String,
    /// Not an ESF field: the type of the source material's date (list 48).
    #[serde(skip_serializing_if = "Option::is_none")]
    date_of_source_material_type: Option<Term>,
    type_of_source_material: Term,
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
    field_numbers: BTreeMap<&'static str, &'static str>,
    events: Vec<EventRecord>,
    acts: Vec<ActRecord>,
    persons: Vec<PersonRecord>,
    involvements: Vec<InvolvementRecord>,
    information: Vec<InformationRecord>,
}

/// A full date `YYYY-MM-DD` (day 1 / month 1 for unknown parts) and, for a
/// partial date, its type from list 48.
fn esf_date(d: &PartialDate) -> (String, Option<Term>) {
    let full = format!(
        "{:04}-{:02}-{:02}",
        d.year,
        d.month.unwrap_or(1),
        d.day.unwrap_or(1)
    );
    let kind = match (d.month, d.day) {
        (None, _) => Some(UNKNOWN_MONTH_AND_DAY),
        (Some(_), None) => Some(UNKNOWN_DAY),
        _ => None,
    };
    (full, kind)
}

fn split(d: Option<&PartialDate>) -> (Option<String>, Option<Term>) {
    match d.map(esf_date) {
        Some((s, k)) => (Some(s), k),
        None => (None, None),
    }
}

/// The status at the end of an act of deprivation of liberty closed by a
/// release (list 25). A pardon or an amnesty has no term of its own.
fn release_status(k: Option<ReleaseKind>) -> Term {
    match k {
        Some(ReleaseKind::Acquittal) => ACQUITTED,
        Some(ReleaseKind::SentenceServed) => SERVED,
        None | Some(ReleaseKind::Release | ReleaseKind::Pardon | ReleaseKind::Amnesty) => RELEASED,
    }
}

fn release_words(k: Option<ReleaseKind>) -> &'static str {
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
    fn get(&mut self, name: &str, unit: Term) -> String {
        let key = (name.to_string(), unit.code);
        if let Some(id) = self.index.get(&key) {
            return id.clone();
        }
        let id = format!("perpetrator-{}", self.records.len() + 1);
        self.records.push(PersonRecord {
            person_record_number: id.clone(),
            counting_unit: unit,
            name: name.to_string(),
            other_names: Vec::new(),
            confidentiality: "",
            date_of_birth: None,
            date_of_birth_type: None,
            deceased: None,
            date_deceased: None,
            date_deceased_type: None,
            roles: vec!["perpetrator"],
            register: None,
        });
        self.index.insert(key, id.clone());
        id
    }
}

/// A perpetrator named by an event: name, counting unit, type, Yaddash word.
type Involved = (String, Term, Term, &'static str);

/// The register as ESF JSON.
pub(crate) fn esf(entries: &[Entry], level: Level) -> String {
    let mut file = EsfFile {
        format: "yaddash-esf/2",
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
    let mut titles: HashSet<String> = HashSet::new();

    for e in entries {
        let victim = e.id.to_string();
        let name = e.names.first().cloned().unwrap_or_default();
        let (date_of_birth, date_of_birth_type) = match e.birth_year {
            Some(year) => split(Some(&PartialDate {
                year,
                month: None,
                day: None,
            })),
            None => (None, None),
        };
        let mut death: Option<Option<PartialDate>> = None;
        let first_event = file.events.len();
        for case in &e.cases {
            let event_id = case.id.to_string();
            let conf = confidential(case.confidentiality);
            let mut first_act = file.acts.len();
            // Held: an arrest or detention not yet followed by a release.
            let mut held = false;
            // The event ends with the last release (or a death, below).
            let mut final_date = case
                .events
                .iter()
                .filter(|ev| matches!(ev.detail, EventDetail::Release { .. }))
                .filter_map(|ev| ev.date)
                .next_back();
            let mut n = 0;
            for ev in &case.events {
                let (initial_date, initial_date_type) = split(ev.date.as_ref());
                let mut act = |type_of_act: Term, yaddash_event: &'static str| {
                    n += 1;
                    ActRecord {
                        act_record_number: format!("{event_id}/act-{n}"),
                        victim_record_number: victim.clone(),
                        event_record_number: event_id.clone(),
                        confidentiality: conf,
                        type_of_act,
                        initial_date: initial_date.clone(),
                        initial_date_type,
                        exact_location: None,
                        stated_reason: None,
                        final_date: None,
                        final_date_type: None,
                        status_at_end_of_act: None,
                        remarks: None,
                        yaddash_event,
                    }
                };
                let mut involved: Vec<Involved> = Vec::new();
                let record = match &ev.detail {
                    EventDetail::Arrest { place, authority } => {
                        held = true;
                        if let Some(a) = authority {
                            involved.push((a.clone(), INSTITUTION, EXECUTIVE, "authority"));
                        }
                        ActRecord {
                            exact_location: place.clone(),
                            ..act(ARREST, "arrest")
                        }
                    }
                    EventDetail::Charges { articles, code } => ActRecord {
                        stated_reason: Some(format!(
                            "{} {}",
                            code.as_deref().unwrap_or("Criminal Code"),
                            articles.join(", ")
                        )),
                        ..act(ACCUSED, "charges")
                    },
                    EventDetail::Detention { facility } => {
                        held = true;
                        ActRecord {
                            exact_location: Some(facility.clone()),
                            ..act(DETENTION, "detention")
                        }
                    }
                    EventDetail::Trial {
                        court,
                        judge,
                        outcome,
                        sentence,
                    } => {
                        if let Some(c) = court {
                            involved.push((c.clone(), INSTITUTION, JUDICIARY, "court"));
                        }
                        if let Some(j) = judge {
                            involved.push((j.clone(), INDIVIDUAL, JUDICIARY, "judge"));
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
                            ..act(ACCUSED, "trial")
                        }
                    }
                    EventDetail::IllTreatment { description } => ActRecord {
                        remarks: Some(description.clone()),
                        ..act(INTEGRITY, "ill-treatment")
                    },
                    EventDetail::TravelBan { authority } => {
                        if let Some(a) = authority {
                            involved.push((a.clone(), INSTITUTION, EXECUTIVE, "authority"));
                        }
                        act(TRAVEL, "travel ban")
                    }
                    EventDetail::Disbarment { body } => {
                        if let Some(b) = body {
                            involved.push((
                                b.clone(),
                                INSTITUTION,
                                NON_GOVERNMENTAL,
                                "bar association",
                            ));
                        }
                        act(LICENCE, "disbarment")
                    }
                    EventDetail::Death { circumstances } => {
                        if final_date.is_none() {
                            final_date = ev.date;
                        }
                        death = Some(ev.date.or(death.flatten()));
                        ActRecord {
                            remarks: circumstances.clone(),
                            ..act(if held { DEATH_IN_CUSTODY } else { LIFE }, "death")
                        }
                    }
                    EventDetail::Release { kind } => {
                        held = false;
                        // Closes the deprivation of liberty recorded so far.
                        let (end, end_type) = split(ev.date.as_ref());
                        for a in &mut file.acts[first_act..] {
                            if a.type_of_act == ARREST || a.type_of_act == DETENTION {
                                a.final_date = end.clone();
                                a.final_date_type = end_type;
                                a.status_at_end_of_act = Some(release_status(*kind));
                                let note = release_words(*kind);
                                a.remarks = Some(match a.remarks.take() {
                                    Some(r) => format!("{r}; {note}"),
                                    None => note.to_string(),
                                });
                            }
                        }
                        first_act = file.acts.len();
                        continue;
                    }
                };
                for (who, unit, kind, word) in involved {
                    let p = perpetrators.get(&who, unit);
                    file.involvements.push(InvolvementRecord {
                        involvement_record_number: format!(
                            "involvement-{}",
                            file.involvements.len() + 1
                        ),
                        perpetrator_record_number: p,
                        event_record_number: event_id.clone(),
                        act_record_number: record.act_record_number.clone(),
                        confidentiality: conf,
                        degree_of_involvement: CARRIED_OUT,
                        type_of_perpetrator: kind,
                        yaddash_role: word,
                    });
                }
                file.acts.push(record);
            }
            let start = case.events.iter().filter_map(|ev| ev.date).min();
            let (initial_date, initial_date_type) = split(start.as_ref());
            let (final_date, final_date_type) = split(final_date.as_ref());
            let who = if name.is_empty() { &victim } else { &name };
            let base = match &start {
                Some(d) => format!("Case of {who}, from {d}"),
                None => format!("Case of {who}"),
            };
            let mut title = base.clone();
            let mut k = 1;
            while !titles.insert(title.clone()) {
                k += 1;
                title = format!("{base} ({k})");
            }
            file.events.push(EventRecord {
                event_record_number: event_id,
                event_title: title,
                confidentiality: conf,
                initial_date,
                initial_date_type,
                final_date,
                final_date_type,
                victims: vec![victim.clone()],
            });
        }
        // The person is confidential when every case about them is.
        let conf = if e.cases.is_empty()
            || file.events[first_event..]
                .iter()
                .any(|ev| ev.confidentiality.is_empty())
        {
            ""
        } else {
            "Y"
        };
        let (date_deceased, date_deceased_type) = split(death.flatten().as_ref());
        file.persons.push(PersonRecord {
            person_record_number: victim.clone(),
            counting_unit: INDIVIDUAL,
            name: name.clone(),
            other_names: e.names.iter().skip(1).cloned().collect(),
            confidentiality: conf,
            date_of_birth,
            date_of_birth_type,
            deceased: (death.is_some() || e.status == Status::Deceased).then_some("Y"),
            date_deceased,
            date_deceased_type,
            roles: vec!["victim"],
            register: Some(RegisterFacts {
                status: e.status,
                status_override: e.status_override.clone(),
                sources: e.sources,
                last_confirmed: e.last_confirmed.as_ref().map(|d| esf_date(d).0),
            }),
        });
        for t in &e.testimonies {
            let source = t.speaker.as_ref().map(|s| {
                sources
                    .entry(s.clone())
                    .or_insert_with(|| {
                        let id = format!("source-{}", source_records.len() + 1);
                        source_records.push(PersonRecord {
                            person_record_number: id.clone(),
                            counting_unit: INDIVIDUAL,
                            name: s.clone(),
                            other_names: Vec::new(),
                            confidentiality: "",
                            date_of_birth: None,
                            date_of_birth_type: None,
                            deceased: None,
                            date_deceased: None,
                            date_deceased_type: None,
                            roles: vec!["source"],
                            register: None,
                        });
                        id
                    })
                    .clone()
            });
            let connection = connection(t.relation.as_deref());
            let (date, date_type) = esf_date(&t.date);
            file.information.push(InformationRecord {
                information_record_number: match t.id {
                    Some(id) => id.to_string(),
                    None => format!("information-{}", file.information.len() + 1),
                },
                source_record_number: source,
                event_record_number: t
                    .case_id
                    .map(|c| c.to_string())
                    .filter(|c| e.cases.iter().any(|k| k.id.to_string() == *c)),
                related_person: victim.clone(),
                confidentiality: if t.consent == Consent::Internal {
                    "Y"
                } else {
                    ""
                },
                source_connection_to_information: connection,
                relation: t.relation.clone(),
                language_of_source_material: language(&t.language),
                language_code: t.language.clone(),
                date_of_source_material: date,
                date_of_source_material_type: date_type,
                type_of_source_material: source_material(connection),
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
