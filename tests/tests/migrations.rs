//! Migrations: a vault written by the first schema opens and checks clean.

use std::path::Path;

use secrecy::SecretString;
use yaddash_model::RecordKind;
use yaddash_vault::{RecoveryCode, SCHEMA_VERSION, Unlock, Vault};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("vault");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vault-v1"),
        &dir,
    );
    (tmp, dir)
}

#[test]
fn first_schema_vault_opens_and_checks_clean() {
    const { assert!(SCHEMA_VERSION >= 1) };
    let (_tmp, dir) = fixture();
    let unlock = Unlock::Passphrase(SecretString::from("fixture passphrase v1"));
    let vault = Vault::open(&dir, &unlock).expect("open the v1 fixture");
    let report = vault.check(&mut |_| true).expect("check");
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.records, 3);
    assert_eq!(report.attachments, 1);
    let hits = vault.search("mamedov", 10).expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].id.to_string(),
        "01a21339-e27d-7311-bb8d-5c4f1128103e"
    );
    let mut out = Vec::new();
    let att = uuid::Uuid::parse_str("01a21339-e640-7218-8f10-770812399000").expect("uuid");
    let info = vault
        .export_attachment(att, &mut out, &mut |_| true)
        .expect("export");
    assert_eq!(out, b"fixture attachment bytes\n");
    assert_eq!(
        info.sha256,
        "42ab04cc1e20c6160fea01d65089d4512e0b3d358a7a2a73b888e0320bb51de4"
    );
}

#[test]
fn first_schema_vault_opens_with_its_recovery_code() {
    let (_tmp, dir) = fixture();
    let code = RecoveryCode::parse("V2QR-P6ZO-OE4Y-2RQP-F4IM-SW5V-RKTR-LHC2").expect("code");
    let vault = Vault::open(&dir, &Unlock::Recovery(code)).expect("open with recovery code");
    assert_eq!(vault.search("Intigam Тофик", 10).expect("search").len(), 0);
    assert_eq!(vault.search("Тофик", 10).expect("search").len(), 2);
}

/// Schema 4 added `list_search`, the persons-and-cases index the lists search
/// as the user types; the migration fills it from the existing index, so an
/// old vault finds its persons and cases there at once, and exactly as the
/// full index does.
#[test]
fn first_schema_vault_gets_its_persons_and_cases_in_the_list_index() {
    const { assert!(SCHEMA_VERSION >= 4) };
    let (_tmp, dir) = fixture();
    let unlock = Unlock::Passphrase(SecretString::from("fixture passphrase v1"));
    let vault = Vault::open(&dir, &unlock).expect("open the v1 fixture");
    let persons = vault
        .search_kind("mamedov", Some(RecordKind::Person), 10)
        .expect("search");
    assert_eq!(persons.len(), 1);
    assert_eq!(
        persons[0].id.to_string(),
        "01a21339-e27d-7311-bb8d-5c4f1128103e"
    );
    let mut cases_seen = 0;
    for letter in 'a'..='z' {
        let q = letter.to_string();
        let all = vault.search(&q, 100).expect("search");
        for kind in [RecordKind::Person, RecordKind::Case] {
            let mut expected: Vec<_> = all
                .iter()
                .filter(|h| h.kind == kind)
                .map(|h| h.id)
                .collect();
            let mut listed: Vec<_> = vault
                .search_kind(&q, Some(kind), 100)
                .expect("search")
                .into_iter()
                .map(|h| h.id)
                .collect();
            expected.sort();
            listed.sort();
            assert_eq!(listed, expected, "{kind:?} matching {q:?}");
            if kind == RecordKind::Case {
                cases_seen += listed.len();
            }
        }
    }
    assert!(cases_seen > 0, "the fixture's case is in the list index");
}
