//! Tests on a real (temporary) vault.

use secrecy::SecretString;
use yaddash_model::{Event, Reliability};
use yaddash_vault::{CreateOptions, MIN_WORK_FACTOR, VaultRole};

use super::*;
use crate::export::{Format, export};

/// An export as text: for the PDF, the text it draws (the end-to-end test
/// reads the PDF file itself back with pdftotext).
fn out_text(snap: &Snapshot, level: Level, format: Format) -> String {
    if format == Format::Pdf {
        let entries = export::entries(snap, level, format);
        return export::pdf_text(&entries, level).expect("pdf").join("\n");
    }
    String::from_utf8(export(snap, level, format).expect("export")).expect("utf-8")
}

fn vault(dir: &std::path::Path) -> Vault {
    let options = CreateOptions {
        role: VaultRole::Coordinator,
        kdf_work_factor: MIN_WORK_FACTOR,
    };
    Vault::create(
        dir,
        &SecretString::from("register test passphrase"),
        &options,
    )
    .expect("create")
    .0
}

fn person(names: &[&str], born: Option<i32>, roles: &[Role], c: Confidentiality) -> Record {
    Record::Person(Person {
        names: names.iter().map(|s| s.to_string()).collect(),
        birth_year: born,
        roles: roles.to_vec(),
        notes: None,
        confidentiality: c,
        reliability: Reliability::Unknown,
    })
}

fn case(detainee: Uuid, events: Vec<(&str, EventDetail)>, c: Confidentiality) -> Record {
    Record::Case(Case {
        detainee_id: detainee,
        title: None,
        events: events
            .into_iter()
            .map(|(d, detail)| Event {
                date: Some(d.parse().expect("date")),
                detail,
            })
            .collect(),
        notes: None,
        confidentiality: c,
        reliability: Reliability::Unknown,
    })
}

fn interview(
    detainee: Uuid,
    speaker: Option<Uuid>,
    consent: Consent,
    narrative: &str,
    c: Confidentiality,
) -> Record {
    Record::Interview(Interview {
        case_id: None,
        detainee_id: Some(detainee),
        speaker_id: speaker,
        relation: Some("sister".into()),
        interviewer: "Interviewer-Canary-Q".into(),
        date: "2024-06-01".parse().expect("date"),
        place: Some("Place-Canary-Z".into()),
        language: "az".into(),
        consent,
        narrative: narrative.into(),
        confidentiality: c,
        reliability: Reliability::Unknown,
    })
}

fn arrest() -> EventDetail {
    EventDetail::Arrest {
        place: None,
        authority: None,
    }
}

#[test]
fn merge_unmerge_round_trip() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut v = vault(&tmp.path().join("v"));
    let pub_ = Confidentiality::Public;
    let a = v
        .add(&person(
            &["Xədicə İsmayılova"],
            Some(1976),
            &[Role::Detainee],
            pub_,
        ))
        .expect("a");
    let b = v
        .add(&person(
            &["Хадиджа Исмаилова"],
            Some(1976),
            &[Role::Detainee],
            pub_,
        ))
        .expect("b");
    v.add(&case(a, vec![("2014-12-05", arrest())], pub_))
        .expect("case a");
    v.add(&case(
        b,
        vec![(
            "2016-05-25",
            EventDetail::Release {
                kind: Some(yaddash_model::ReleaseKind::Release),
            },
        )],
        pub_,
    ))
    .expect("case b");

    let before = build(&Snapshot::load(&v).expect("load"), Level::Internal, false);
    assert_eq!(before.len(), 2);
    let (sugg, _) = duplicates(&v, dup::DEFAULT_THRESHOLD).expect("dups");
    assert_eq!(sugg.len(), 1);

    merge(&mut v, a, b).expect("merge");
    let merged = build(&Snapshot::load(&v).expect("load"), Level::Internal, false);
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].id, a);
    assert_eq!(merged[0].records, vec![a, b]);
    assert_eq!(merged[0].names.len(), 2);
    assert_eq!(merged[0].status, Status::Released);
    assert_eq!(merged[0].sources, 2);
    // No longer suggested; merging again or backwards is refused.
    assert!(
        duplicates(&v, dup::DEFAULT_THRESHOLD)
            .expect("d")
            .0
            .is_empty()
    );
    assert!(merge(&mut v, b, a).is_err());
    assert!(merge(&mut v, a, b).is_err());

    let row = unmerge(&mut v, b).expect("unmerge");
    assert_eq!((row.primary_id, row.merged_id), (a, b));
    assert!(row.undone_at.is_some());
    let after = build(&Snapshot::load(&v).expect("load"), Level::Internal, false);
    assert_eq!(after, before);
    assert!(unmerge(&mut v, b).is_err());
    // The history keeps both the merge and its undoing.
    assert_eq!(v.register().merge_history().expect("h").len(), 1);
    // Records were never touched.
    assert_eq!(v.get(a).expect("a").rev, 1);
    assert_eq!(v.get(b).expect("b").rev, 1);
    assert_eq!(
        duplicates(&v, dup::DEFAULT_THRESHOLD).expect("d").0.len(),
        1
    );

    v.register_mut().mark_distinct(b, a).expect("distinct");
    assert!(
        duplicates(&v, dup::DEFAULT_THRESHOLD)
            .expect("d")
            .0
            .is_empty()
    );
}

#[test]
fn override_is_recorded_with_reason_and_cleared() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut v = vault(&tmp.path().join("v"));
    let p = v
        .add(&person(
            &["Bayram Məmmədov"],
            None,
            &[Role::Detainee],
            Confidentiality::Public,
        ))
        .expect("p");
    v.add(&case(
        p,
        vec![("2016-05-10", arrest())],
        Confidentiality::Public,
    ))
    .expect("c");
    v.register_mut()
        .set_override(p, Some("in_exile"), "left for Istanbul, confirmed by phone")
        .expect("set");
    let snap = Snapshot::load(&v).expect("load");
    let e = &build(&snap, Level::Internal, false)[0];
    assert_eq!(
        (e.status, e.derived_status),
        (Status::InExile, Status::Detained)
    );
    let o = e.status_override.as_ref().expect("override");
    assert_eq!(
        o.reason.as_deref(),
        Some("left for Istanbul, confirmed by phone")
    );
    assert_eq!(o.by.as_deref(), Some(v.device_id().to_string().as_str()));
    // Public: the status, never the reason.
    let e = &build(&snap, Level::Public, false)[0];
    assert_eq!(e.status, Status::InExile);
    assert!(e.status_override.as_ref().expect("o").reason.is_none());
    v.register_mut()
        .set_override(p, None, "cleared")
        .expect("clear");
    let e = &build(&Snapshot::load(&v).expect("load"), Level::Internal, false)[0];
    assert_eq!(e.status, Status::Detained);
    assert!(e.status_override.is_none());
}

/// The register in pages is the whole register cut in slices: the same
/// entries in the same order, with merges (a chain of three), overrides,
/// persons who are not detainees, interviews that name only the case, and a
/// confidential person, whatever the page size.
#[test]
fn pages_are_slices_of_the_whole_register() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut v = vault(&tmp.path().join("v"));
    let pub_ = Confidentiality::Public;
    let names = [
        "Tofiq Yaqublu",
        "Əli Kərimli",
        "Гусейнов Эмин",
        "Anar Məmmədli",
        "Leyla Yunus",
        "Arif Yunus",
        "Ilqar Məmmədov",
        "Тофиг Ягублу",
        "Bəxtiyar Hacıyev",
        "Rauf Mirqədirov",
        "Afqan Muxtarlı",
        "Mehman Hüseynov",
        "Əbülfəz Qurbanlı",
        "Tofiq Yaqublu",
    ];
    let mut ids = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let c = if n == 4 {
            Confidentiality::Internal
        } else {
            pub_
        };
        let id = v
            .add(&person(
                &[name],
                Some(1960 + n as i32),
                &[Role::Detainee],
                c,
            ))
            .expect("person");
        let case_id = v
            .add(&case(id, vec![("2020-01-02", arrest())], pub_))
            .expect("case");
        if n % 3 == 0 {
            v.add(&interview(id, None, Consent::Internal, "said", pub_))
                .expect("interview");
        }
        if n % 4 == 1 {
            // An interview that names only the case.
            v.add(&Record::Interview(Interview {
                case_id: Some(case_id),
                detainee_id: None,
                speaker_id: None,
                relation: None,
                interviewer: "i".into(),
                date: "2025-03-04".parse().expect("date"),
                place: None,
                language: "ru".into(),
                consent: Consent::Internal,
                narrative: "about the case".into(),
                confidentiality: pub_,
                reliability: Reliability::Unknown,
            }))
            .expect("case interview");
        }
        ids.push(id);
    }
    // Relatives and witnesses are not in the register.
    let sister = v
        .add(&person(&["Aynur Yaqublu"], None, &[Role::Relative], pub_))
        .expect("sister");
    v.add(&interview(
        ids[0],
        Some(sister),
        Consent::Publish,
        "my brother",
        pub_,
    ))
    .expect("sister's interview");
    merge(&mut v, ids[0], ids[7]).expect("merge");
    merge(&mut v, ids[7], ids[13]).expect("merge chain");
    merge(&mut v, ids[5], ids[4]).expect("merge");
    v.register_mut()
        .set_override(ids[2], Some("released"), "confirmed by the lawyer")
        .expect("override");
    v.register_mut()
        .set_override(ids[13], Some("in_exile"), "on a merged record")
        .expect("override");

    let whole = build(&Snapshot::load(&v).expect("load"), Level::Internal, false);
    assert_eq!(whole.len(), names.len() - 3);
    for size in [1, 2, 3, 5, 100] {
        let mut pages = Vec::new();
        let mut offset = 0;
        loop {
            let p = page(&v, offset, size).expect("page");
            assert_eq!(p.total, whole.len());
            if p.entries.is_empty() {
                break;
            }
            assert!(p.entries.len() <= size);
            offset += p.entries.len();
            pages.extend(p.entries);
        }
        assert_eq!(pages, whole, "pages of {size}");
    }
    assert!(
        page(&v, whole.len() + 5, 10)
            .expect("past the end")
            .entries
            .is_empty()
    );

    // Field vaults have no register.
    let field = Vault::create(
        &tmp.path().join("field"),
        &SecretString::from("register test passphrase"),
        &CreateOptions {
            role: VaultRole::Field,
            kdf_work_factor: MIN_WORK_FACTOR,
        },
    )
    .expect("field")
    .0;
    assert!(page(&field, 0, 10).is_err());
}

/// Canaries in every place that must not leave the organisation; no public or
/// partner export in any format contains any of them, while the internal
/// export does (so the test can fail).
#[test]
fn canaries_never_reach_public_or_partner_exports() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut v = vault(&tmp.path().join("v"));
    let (pb, pt, it) = (
        Confidentiality::Public,
        Confidentiality::Partner,
        Confidentiality::Internal,
    );
    let d = v
        .add(&person(
            &["Tofiq Yaqublu"],
            Some(1961),
            &[Role::Detainee],
            pb,
        ))
        .expect("d");
    v.add(&case(
        d,
        vec![
            ("2024-12-06", arrest()),
            // Where someone was arrested can point to a family's home.
            (
                "2024-12-06",
                EventDetail::Arrest {
                    place: Some("ArrestPlace-Canary-A".into()),
                    authority: None,
                },
            ),
        ],
        pb,
    ))
    .expect("case");
    let relative = v
        .add(&person(&["Relative-Canary-R"], None, &[Role::Relative], pb))
        .expect("rel");
    let witness = v
        .add(&person(&["Witness-Canary-W"], None, &[Role::Witness], pb))
        .expect("w");
    let publisher = v
        .add(&person(&["Speaker-Public-OK"], None, &[Role::Witness], pb))
        .expect("ok");
    let hidden = v
        .add(&person(&["Detainee-Canary-H"], None, &[Role::Detainee], it))
        .expect("hidden");
    v.add(&case(hidden, vec![("2023-01-01", arrest())], pb))
        .expect("hidden case");
    let partner_only = v
        .add(&person(
            &["Detainee-Partner-P"],
            None,
            &[Role::Detainee],
            pt,
        ))
        .expect("p");
    // An internal-only interview, though the record is marked public.
    v.add(&interview(
        d,
        None,
        Consent::Internal,
        "Narrative-Canary-I",
        pb,
    ))
    .expect("i1");
    // An anonymous witness and a relative who consented to publication.
    v.add(&interview(
        d,
        Some(witness),
        Consent::Anonymous,
        "anonymous account",
        pb,
    ))
    .expect("i2");
    v.add(&interview(
        d,
        Some(relative),
        Consent::Publish,
        "relative account",
        pb,
    ))
    .expect("i3");
    v.add(&interview(
        d,
        Some(publisher),
        Consent::Publish,
        "published account",
        pb,
    ))
    .expect("i4");
    // An internal record's narrative.
    v.add(&interview(
        d,
        None,
        Consent::Publish,
        "Narrative-Canary-C",
        it,
    ))
    .expect("i5");
    // A case and a facility known only internally.
    v.add(&case(
        d,
        vec![(
            "2025-01-01",
            EventDetail::Detention {
                facility: "Facility-Canary-F".into(),
            },
        )],
        it,
    ))
    .expect("case internal");
    v.register_mut()
        .set_override(partner_only, Some("in_exile"), "Reason-Canary-O")
        .expect("override");
    let _ = partner_only;

    let canaries = [
        "Narrative-Canary-I",
        "Narrative-Canary-C",
        "Relative-Canary-R",
        "Witness-Canary-W",
        "Detainee-Canary-H",
        "Interviewer-Canary-Q",
        "Place-Canary-Z",
        "Facility-Canary-F",
        "Reason-Canary-O",
        "ArrestPlace-Canary-A",
    ];
    let snap = Snapshot::load(&v).expect("load");
    for format in Format::ALL {
        for level in [Level::Public, Level::Partner] {
            let out = out_text(&snap, level, format);
            for c in canaries {
                assert!(!out.contains(c), "{c} in {level:?} {format:?}:\n{out}");
            }
            if format == Format::UwaziCases {
                // Cases only: no testimonies, and only persons with a case.
                continue;
            }
            assert!(out.contains("Tofiq Yaqublu"), "{level:?} {format:?}");
            assert_eq!(
                out.contains("Detainee-Partner-P"),
                level == Level::Partner,
                "{level:?} {format:?}"
            );
            if format != Format::Csv {
                assert!(
                    out.contains("published account") && out.contains("Speaker-Public-OK"),
                    "{format:?}"
                );
                assert!(out.contains("anonymous account"), "{format:?}");
            }
        }
        // The internal export has them all: the check above is not vacuous.
        let out = out_text(&snap, Level::Internal, format);
        let expect: Vec<&str> = match format {
            Format::Csv => vec!["Detainee-Canary-H", "Facility-Canary-F"],
            // The cases' facts and events (the arrest's place at this level).
            Format::UwaziCases => vec!["Facility-Canary-F", "ArrestPlace-Canary-A"],
            // Only ESF carries the events' details.
            Format::Esf => canaries.to_vec(),
            // No column for the override's reason.
            Format::Uwazi => canaries
                .iter()
                .copied()
                .filter(|c| !["Reason-Canary-O", "ArrestPlace-Canary-A"].contains(c))
                .collect(),
            _ => canaries
                .iter()
                .copied()
                .filter(|c| *c != "ArrestPlace-Canary-A")
                .collect(),
        };
        for c in expect {
            assert!(out.contains(c), "{c} missing from internal {format:?}");
        }
    }
}

#[test]
fn html_report_counts_and_is_self_contained() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut v = vault(&tmp.path().join("v"));
    let pb = Confidentiality::Public;
    for (name, year, art) in [
        ("Anar Məmmədli", "2023-04-29", "206.3.2"),
        ("Ülvi Həsənli", "2023-11-20", "206.3.2"),
    ] {
        let p = v
            .add(&person(&[name], None, &[Role::Detainee], pb))
            .expect("p");
        v.add(&case(
            p,
            vec![
                (year, arrest()),
                (
                    year,
                    EventDetail::Charges {
                        articles: vec![art.into()],
                        code: None,
                    },
                ),
                (
                    year,
                    EventDetail::Detention {
                        facility: "Baku pre-trial <centre>".into(),
                    },
                ),
            ],
            pb,
        ))
        .expect("c");
    }
    let snap = Snapshot::load(&v).expect("load");
    let html = out_text(&snap, Level::Public, Format::Html);
    assert!(
        html.contains("<tr><td>206.3.2</td><td>2</td></tr>"),
        "{html}"
    );
    assert!(html.contains("<tr><td>2023</td><td>2</td></tr>"));
    assert!(html.contains("<tr><td>detained</td><td>2</td></tr>"));
    assert!(html.contains("Baku pre-trial &lt;centre&gt;"));
    for bad in ["http://", "https://", "<script", "src=", "<link"] {
        assert!(!html.contains(bad), "{bad}");
    }
    let c = export::counts(&build(&snap, Level::Public, false));
    assert_eq!(c.total, 2);
    let csv = out_text(&snap, Level::Public, Format::Csv);
    assert_eq!(csv.lines().count(), 3);
}

/// The directory with HURIDOCS' field list and micro-thesauri: `shared/esf`
/// beside the repository (as CI has it), or `YADDASH_ESF_DIR`. Missing is a
/// failure, never a skip.
fn esf_reference_dir() -> std::path::PathBuf {
    let dir = match std::env::var_os("YADDASH_ESF_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/esf"),
    };
    assert!(
        dir.join("micro-thesauri.tsv").is_file() && dir.join("fields.tsv").is_file(),
        "HURIDOCS reference data not found in {}: put shared/ beside the repository \
         or set YADDASH_ESF_DIR",
        dir.display()
    );
    dir
}

/// Every value in an ESF export of a rich register is a HURIDOCS value:
/// coded fields carry a code of their field's micro-thesaurus and its exact
/// term, dates are full, confidentiality is "Y" or empty, titles are
/// unique and every cross-reference resolves.
#[test]
fn esf_values_are_huridocs_values() {
    use serde_json::Value;
    use std::collections::{BTreeSet, HashMap, HashSet};
    use yaddash_model::ReleaseKind;

    let dir = esf_reference_dir();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("read reference");
    let mut terms: HashMap<(String, String), String> = HashMap::new();
    for line in read("micro-thesauri.tsv").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 3, "bad line {line:?}");
        terms.insert((cols[0].into(), cols[1].into()), cols[2].into());
    }
    let mut field_list: HashMap<String, String> = HashMap::new();
    for line in read("fields.tsv").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 4, "bad line {line:?}");
        field_list.insert(cols[0].into(), cols[3].into());
    }

    // The fixture: every event type, every release kind, partial dates,
    // namesakes, two cases for one person, sources of every kind.
    let tmp = tempfile::tempdir().expect("tmp");
    let mut v = vault(&tmp.path().join("v"));
    let pb = Confidentiality::Public;
    let pt = Confidentiality::Partner;
    let ev = |d: Option<&str>, detail: EventDetail| Event {
        date: d.map(|d| d.parse().expect("date")),
        detail,
    };
    let add_case = |v: &mut Vault, who: Uuid, events: Vec<Event>, c: Confidentiality| {
        v.add(&Record::Case(Case {
            detainee_id: who,
            title: None,
            events,
            notes: None,
            confidentiality: c,
            reliability: Reliability::Unknown,
        }))
        .expect("case")
    };
    let a = v
        .add(&person(
            &["Tofiq Yaqublu", "Тофиг Ягублу"],
            Some(1961),
            &[Role::Detainee],
            pb,
        ))
        .expect("a");
    let b = v
        .add(&person(&["Əli Kərimli"], None, &[Role::Detainee], pb))
        .expect("b");
    // A namesake of b: titles must still differ.
    let b2 = v
        .add(&person(&["Əli Kərimli"], Some(1990), &[Role::Detainee], pt))
        .expect("b2");
    let c = v
        .add(&person(&["Хадиджа Исмаилова"], None, &[Role::Detainee], pb))
        .expect("c");
    let sister = v
        .add(&person(&["Nigar Yaqublu"], None, &[Role::Relative], pb))
        .expect("sister");
    let case_a1 = add_case(
        &mut v,
        a,
        vec![
            ev(
                Some("2010"),
                EventDetail::Arrest {
                    place: Some("Baku".into()),
                    authority: Some("State Security Service".into()),
                },
            ),
            ev(
                Some("2010-03"),
                EventDetail::Charges {
                    articles: vec!["Art. 28::221.3".into(), "233".into()],
                    code: None,
                },
            ),
            ev(
                Some("2010-03-05"),
                EventDetail::Detention {
                    facility: "Kürdəxanı pre-trial centre".into(),
                },
            ),
            ev(
                Some("2010-09-01"),
                EventDetail::Trial {
                    court: Some("Baku Grave Crimes Court".into()),
                    judge: Some("Judge X".into()),
                    outcome: Some("convicted".into()),
                    sentence: Some("5 years".into()),
                },
            ),
            ev(
                Some("2011-02"),
                EventDetail::IllTreatment {
                    description: "beaten".into(),
                },
            ),
            ev(
                Some("2013"),
                EventDetail::Release {
                    kind: Some(ReleaseKind::Pardon),
                },
            ),
            ev(
                Some("2014-01-02"),
                EventDetail::TravelBan {
                    authority: Some("Migration Service".into()),
                },
            ),
        ],
        pb,
    );
    add_case(
        &mut v,
        a,
        vec![
            ev(Some("2019-04-01"), arrest()),
            ev(
                Some("2019-10"),
                EventDetail::Release {
                    kind: Some(ReleaseKind::SentenceServed),
                },
            ),
            ev(
                Some("2020"),
                EventDetail::Disbarment {
                    body: Some("Bar Association".into()),
                },
            ),
        ],
        pb,
    );
    for (who, kind, conf) in [
        (b, ReleaseKind::Acquittal, pb),
        (b2, ReleaseKind::Amnesty, pt),
    ] {
        add_case(
            &mut v,
            who,
            vec![
                ev(Some("2015-02"), arrest()),
                ev(Some("2016"), EventDetail::Release { kind: Some(kind) }),
                ev(None, EventDetail::Release { kind: None }),
            ],
            conf,
        );
    }
    add_case(
        &mut v,
        c,
        vec![
            ev(Some("2017-05-05"), arrest()),
            ev(
                Some("2018"),
                EventDetail::Death {
                    circumstances: Some("in custody".into()),
                },
            ),
        ],
        pb,
    );
    for (relation, language, speaker, case_id) in [
        ("sister", "az", Some(sister), Some(case_a1)),
        ("lawyer", "ru", None, None),
        ("cellmate", "en", None, None),
        ("himself", "tly", None, None),
        ("qardaşı", "az-Latn", None, None),
        ("neighbour", "tr", None, None),
    ] {
        v.add(&Record::Interview(Interview {
            case_id,
            detainee_id: Some(a),
            speaker_id: speaker,
            relation: Some(relation.into()),
            interviewer: "Interviewer".into(),
            date: "2024-06".parse().expect("date"),
            place: None,
            language: language.into(),
            consent: Consent::Publish,
            narrative: format!("account by the {relation}"),
            confidentiality: pb,
            reliability: Reliability::Unknown,
        }))
        .expect("interview");
    }

    let snap = Snapshot::load(&v).expect("load");
    for level in [Level::Public, Level::Partner, Level::Internal] {
        let out = out_text(&snap, level, Format::Esf);
        let doc: Value = serde_json::from_str(&out).expect("json");
        let ctx = |what: &str| format!("{level:?}: {what}");

        // Every term anywhere in the file is in its list, spelled exactly.
        fn walk<'a>(v: &'a Value, key: &str, out: &mut Vec<(String, &'a Value)>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        walk(x, k, out);
                    }
                    out.push((key.to_string(), v));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, key, out)),
                _ => out.push((key.to_string(), v)),
            }
        }
        let mut records = doc.clone();
        records["field_numbers"] = Value::Null;
        let mut all = Vec::new();
        walk(&records, "", &mut all);
        let mut coded = 0;
        for (key, val) in &all {
            if let Some(m) = val.as_object()
                && m.contains_key("code")
            {
                let list = m["list"].as_str().expect("list");
                let code = m["code"].as_str().expect("code");
                let term = m["term"].as_str().expect("term");
                assert_eq!(m.len(), 3, "{}", ctx(key));
                let want = terms.get(&(list.to_string(), code.to_string()));
                assert!(
                    want.is_some(),
                    "{}: code {list}/{code} not in the list",
                    ctx(key)
                );
                assert_eq!(want.map(String::as_str), Some(term), "{}: term", ctx(key));
                coded += 1;
            }
            // Dates are full, never with 00.
            if key.contains("date") && !key.ends_with("_type") && !key.ends_with("_number") {
                let s = val.as_str().expect("date string");
                let ok = s.len() == 10
                    && s.as_bytes()[4] == b'-'
                    && s.as_bytes()[7] == b'-'
                    && &s[5..7] != "00"
                    && &s[8..10] != "00"
                    && s.replace('-', "").chars().all(|c| c.is_ascii_digit());
                assert!(ok, "{}: {s:?}", ctx(key));
            }
            if key == "confidentiality" {
                let s = val.as_str().expect("confidentiality");
                assert!(s.is_empty() || s == "Y", "{}: {s:?}", ctx(key));
            }
        }
        assert!(coded > 20, "{}", ctx("too few coded values"));

        // Each coded ESF field holds a term of its field's own list.
        let numbers = doc["field_numbers"].as_object().expect("field_numbers");
        let arrays = [
            ("event", "events"),
            ("act", "acts"),
            ("person", "persons"),
            ("involvement", "involvements"),
            ("information", "information"),
        ];
        let mut written: HashSet<String> = HashSet::new();
        for (path, num) in numbers {
            let num = num.as_str().expect("number");
            let list = field_list.get(num);
            assert!(
                list.is_some(),
                "{}: field {num} not in fields.tsv",
                ctx(path)
            );
            let (rec, field) = path.split_once('.').expect("path");
            let array = arrays
                .iter()
                .find(|(r, _)| *r == rec)
                .expect("record kind")
                .1;
            for r in doc[array].as_array().expect("array") {
                let Some(x) = r.get(field) else { continue };
                written.insert(num.to_string());
                if list.map(String::as_str) != Some("0") {
                    assert_eq!(
                        x["list"].as_str(),
                        list.map(String::as_str),
                        "{}: {x}",
                        ctx(path)
                    );
                }
            }
        }

        for num in [
            "0902", "0908", "0911", "2109", "2111_1", "2121_1", "2123", "2409", "2412", "2504",
            "2509", "2510", "2511", "2512", "2550",
        ] {
            assert!(written.contains(num), "{}", ctx(num));
        }

        // Unique titles; resolving references.
        let ids = |array: &str, field: &str| -> Vec<String> {
            doc[array]
                .as_array()
                .expect("array")
                .iter()
                .map(|r| r[field].as_str().expect("id").to_string())
                .collect()
        };
        let titles = ids("events", "event_title");
        let unique: BTreeSet<&String> = titles.iter().collect();
        assert_eq!(unique.len(), titles.len(), "{}: {titles:?}", ctx("titles"));
        let persons: HashSet<String> = ids("persons", "person_record_number").into_iter().collect();
        let events: HashSet<String> = ids("events", "event_record_number").into_iter().collect();
        let acts: HashMap<String, String> = doc["acts"]
            .as_array()
            .expect("acts")
            .iter()
            .map(|r| {
                assert!(persons.contains(r["victim_record_number"].as_str().expect("v")));
                (
                    r["act_record_number"].as_str().expect("a").to_string(),
                    r["event_record_number"].as_str().expect("e").to_string(),
                )
            })
            .collect();
        assert!(
            acts.values().all(|e| events.contains(e)),
            "{}",
            ctx("act event")
        );
        for e in doc["events"].as_array().expect("events") {
            for v in e["victims"].as_array().expect("victims") {
                assert!(
                    persons.contains(v.as_str().expect("victim")),
                    "{}",
                    ctx("victim")
                );
            }
        }
        for i in doc["involvements"].as_array().expect("involvements") {
            let act = i["act_record_number"].as_str().expect("act");
            assert_eq!(
                acts.get(act).map(String::as_str),
                i["event_record_number"].as_str()
            );
            assert!(persons.contains(i["perpetrator_record_number"].as_str().expect("p")));
        }
        let info = doc["information"].as_array().expect("information");
        assert_eq!(info.len(), 6, "{}", ctx("information"));
        for i in info {
            assert!(persons.contains(i["related_person"].as_str().expect("2504")));
            if let Some(s) = i.get("source_record_number") {
                assert!(
                    persons.contains(s.as_str().expect("2502")),
                    "{}",
                    ctx("source")
                );
            }
            if let Some(e) = i.get("event_record_number") {
                assert!(
                    events.contains(e.as_str().expect("2503")),
                    "{}",
                    ctx("event")
                );
            }
            for f in [
                "source_connection_to_information",
                "type_of_source_material",
                "language_of_source_material",
                "remarks",
            ] {
                assert!(i.get(f).is_some(), "{}", ctx(f));
            }
        }

        // The mapping chosen (docs/register.md) shows in the file.
        let act_terms: BTreeSet<&str> = doc["acts"]
            .as_array()
            .expect("acts")
            .iter()
            .map(|a| a["type_of_act"]["term"].as_str().expect("term"))
            .collect();
        for want in [
            "Arrest",
            "Detention, imprisonment",
            "Restriction on travel",
            "Restriction on or revocation of work license",
            "Death in detention or police custody",
        ] {
            assert!(
                act_terms.contains(want),
                "{}: {want} in {act_terms:?}",
                ctx("acts")
            );
        }
        let first = &doc["acts"][0];
        assert_eq!(first["initial_date"], "2010-01-01");
        assert_eq!(first["initial_date_type"]["term"], "Unknown month and day");
        assert_eq!(first["final_date"], "2013-01-01");
        assert_eq!(
            first["status_at_end_of_act"]["term"],
            "Arrested and released or escaped"
        );
        let connections: BTreeSet<&str> = info
            .iter()
            .map(|i| {
                i["source_connection_to_information"]["term"]
                    .as_str()
                    .expect("t")
            })
            .collect();
        for want in [
            "Relative of victim",
            "Lawyer",
            "Witness",
            "Victim him/herself",
        ] {
            assert!(connections.contains(want), "{}: {connections:?}", ctx(want));
        }
    }
}

/// An RFC 4180 file read back as csvtojson does: records of fields.
fn read_csv(s: &str) -> Vec<Vec<String>> {
    let mut records = vec![vec![String::new()]];
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let rec = records.last_mut().expect("record");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                rec.last_mut().expect("field").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => rec.push(String::new()),
            ('\r', false) if chars.peek() == Some(&'\n') => {
                chars.next();
                records.push(vec![String::new()]);
            }
            (c, _) => rec.last_mut().expect("field").push(c),
        }
    }
    records.retain(|r| r.len() > 1 || !r[0].is_empty());
    records
}

/// The Uwazi row as Uwazi's importer would take it: names as written (no
/// spreadsheet guard), partial dates as date ranges, `|` and `::` unable
/// to split a charge, narratives whose lines survive and make no lists.
#[test]
fn uwazi_row_survives_uwazis_parsing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut v = vault(&tmp.path().join("v"));
    let pb = Confidentiality::Public;
    let p = v
        .add(&person(
            &["-Rəşad Həsənov", "Хадиджа Исмаилова, \"журналист\""],
            Some(1985),
            &[Role::Detainee],
            pb,
        ))
        .expect("p");
    let c = v
        .add(&case(
            p,
            vec![
                ("2010", arrest()),
                (
                    "2015-02",
                    EventDetail::Charges {
                        articles: vec!["Art. 28::221.3".into(), "206.3|213".into()],
                        code: None,
                    },
                ),
                ("2015-02", arrest()),
            ],
            pb,
        ))
        .expect("c");
    let _ = c;
    v.add(&Record::Interview(Interview {
        case_id: None,
        detainee_id: Some(p),
        speaker_id: None,
        relation: Some("sister".into()),
        interviewer: "I".into(),
        date: "2024-06-01".parse().expect("date"),
        place: None,
        language: "az".into(),
        consent: Consent::Anonymous,
        narrative: "+ He was beaten, \"twice\".\n- Then moved\n1. Qobustan\n---\n# end".into(),
        confidentiality: pb,
        reliability: Reliability::Unknown,
    }))
    .expect("i");
    let snap = Snapshot::load(&v).expect("load");
    let out = out_text(&snap, Level::Public, Format::Uwazi);
    let rows = read_csv(&out);
    assert_eq!(rows.len(), 2, "{out}");
    let row: std::collections::HashMap<&str, &str> = rows[0]
        .iter()
        .map(String::as_str)
        .zip(rows[1].iter().map(String::as_str))
        .collect();
    assert_eq!(row["title"], "-Rəşad Həsənov", "{out}");
    assert_eq!(
        row["names"],
        "-Rəşad Həsənov / Хадиджа Исмаилова, \"журналист\""
    );
    assert_eq!(row["arrest_date"], "2015-02-01:2015-02-28");
    let charges: Vec<&str> = row["charges"].split('|').collect();
    assert_eq!(charges, vec!["206.3/213", "Art. 28: :221.3"]);
    let t = row["testimonies"];
    for line in t.lines().skip(1) {
        assert!(
            !line.starts_with(['-', '+', '#', '>']) && !line.starts_with("1."),
            "markdown block in {line:?}"
        );
    }
    assert!(
        t.contains(
            "\\+ He was beaten, \"twice\".\\\n\\- Then moved\\\n1\\. Qobustan\\\n\\---\\\n\\# end"
        ),
        "{t}"
    );
}
