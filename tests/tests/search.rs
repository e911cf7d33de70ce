//! Search by kind returns the best records of that kind, even when records
//! of another kind outnumber the limit.

use secrecy::SecretString;
use yaddash_model::{
    Case, Confidentiality, Consent, Interview, Person, Record, RecordKind, Reliability, Role,
};
use yaddash_vault::{CreateOptions, MIN_WORK_FACTOR, Vault, VaultRole};

#[test]
fn kind_filter_is_part_of_the_query() {
    let tmp = tempfile::tempdir().expect("tmp");
    let options = CreateOptions {
        role: VaultRole::Field,
        kdf_work_factor: MIN_WORK_FACTOR,
    };
    let (mut vault, _) = Vault::create(
        &tmp.path().join("v"),
        &SecretString::from("search test passphrase"),
        &options,
    )
    .expect("create");
    let person = vault
        .add(&Record::Person(Person {
            names: vec!["Мамедов Ильгар".into()],
            birth_year: None,
            roles: vec![Role::Detainee],
            notes: None,
            confidentiality: Confidentiality::Internal,
            reliability: Reliability::Unknown,
        }))
        .expect("person");
    vault
        .with_transaction(|b| {
            for i in 0..60 {
                b.add(&Record::Interview(Interview {
                    case_id: None,
                    detainee_id: None,
                    speaker_id: None,
                    relation: None,
                    interviewer: "T".into(),
                    date: "2025-01-01".parse().expect("date"),
                    place: None,
                    language: "az".into(),
                    consent: Consent::Internal,
                    narrative: format!("Mammadov Mammadov Mammadov Ilgar, interview {i}"),
                    confidentiality: Confidentiality::Internal,
                    reliability: Reliability::Unknown,
                }))?;
            }
            Ok(())
        })
        .expect("interviews");
    // Interviews alone fill a limit of 10...
    let all = vault.search("mam", 10).expect("search");
    assert_eq!(all.len(), 10);
    // ...yet the person is found when persons are asked for.
    let persons = vault
        .search_kind("mam", Some(RecordKind::Person), 10)
        .expect("search");
    assert_eq!(persons.len(), 1);
    assert_eq!(persons[0].id, person);
    let interviews = vault
        .search_kind("ilgar", Some(RecordKind::Interview), 100)
        .expect("search");
    assert_eq!(interviews.len(), 60);
}

fn person(names: &[&str]) -> Record {
    Record::Person(Person {
        names: names.iter().map(|n| n.to_string()).collect(),
        birth_year: None,
        roles: vec![Role::Detainee],
        notes: None,
        confidentiality: Confidentiality::Internal,
        reliability: Reliability::Unknown,
    })
}

fn ids(hits: Vec<yaddash_vault::SearchHit>) -> Vec<uuid::Uuid> {
    let mut ids: Vec<_> = hits.into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

/// Persons and cases are searched in their own small index: it must follow
/// every save, edit and rebuild, and match exactly what the full index
/// matches, or the lists would show stale or missing names.
#[test]
fn the_list_index_follows_edits_and_matches_the_full_index() {
    let tmp = tempfile::tempdir().expect("tmp");
    let options = CreateOptions {
        role: VaultRole::Field,
        kdf_work_factor: MIN_WORK_FACTOR,
    };
    let (mut vault, _) = Vault::create(
        &tmp.path().join("v"),
        &SecretString::from("search test passphrase"),
        &options,
    )
    .expect("create");
    let p = vault.add(&person(&["Həsənov Elçin"])).expect("person");
    let case = vault
        .add(&Record::Case(Case {
            detainee_id: p,
            title: Some("Kürdəxanı, 2024".into()),
            events: vec![],
            notes: None,
            confidentiality: Confidentiality::Internal,
            reliability: Reliability::Unknown,
        }))
        .expect("case");
    let found =
        |v: &Vault, q: &str, k: RecordKind| ids(v.search_kind(q, Some(k), 50).expect("search"));
    assert_eq!(found(&vault, "gasanov", RecordKind::Person), vec![p]);
    assert_eq!(found(&vault, "Г", RecordKind::Person), vec![p]);
    assert_eq!(found(&vault, "kurda", RecordKind::Case), vec![case]);
    assert!(found(&vault, "gasanov", RecordKind::Case).is_empty());

    // An edit replaces the keys: the old name no longer finds the person.
    vault
        .update(p, &person(&["Quliyev Elçin"]))
        .expect("update");
    assert!(found(&vault, "gasanov", RecordKind::Person).is_empty());
    assert_eq!(found(&vault, "guliev", RecordKind::Person), vec![p]);

    vault.rebuild_search_index().expect("rebuild");
    for q in ["e", "el", "g", "gu", "k", "kurd", "elcin guli", "2024"] {
        let all = vault.search(q, 50).expect("search");
        for kind in [RecordKind::Person, RecordKind::Case] {
            let mut expected: Vec<_> = all
                .iter()
                .filter(|h| h.kind == kind)
                .map(|h| h.id)
                .collect();
            expected.sort();
            assert_eq!(found(&vault, q, kind), expected, "{kind:?} matching {q:?}");
        }
    }
    assert_eq!(found(&vault, "elcin guli", RecordKind::Person), vec![p]);
}
