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
    assert_eq!(v.register_merge_history().expect("h").len(), 1);
    // Records were never touched.
    assert_eq!(v.get(a).expect("a").rev, 1);
    assert_eq!(v.get(b).expect("b").rev, 1);
    assert_eq!(
        duplicates(&v, dup::DEFAULT_THRESHOLD).expect("d").0.len(),
        1
    );

    v.register_mark_distinct(b, a).expect("distinct");
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
    v.register_set_override(p, Some("in_exile"), "left for Istanbul, confirmed by phone")
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
    v.register_set_override(p, None, "cleared").expect("clear");
    let e = &build(&Snapshot::load(&v).expect("load"), Level::Internal, false)[0];
    assert_eq!(e.status, Status::Detained);
    assert!(e.status_override.is_none());
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
    v.register_set_override(partner_only, Some("in_exile"), "Reason-Canary-O")
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
