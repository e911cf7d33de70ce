//! Search by kind returns the best records of that kind, even when records
//! of another kind outnumber the limit.

use secrecy::SecretString;
use yaddash_model::{
    Confidentiality, Consent, Interview, Person, Record, RecordKind, Reliability, Role,
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
