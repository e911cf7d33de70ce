//! Migrations: a vault written by the first schema opens and checks clean;
//! one written by schema 6 keeps its per-bundle facts.

use std::path::Path;

use secrecy::SecretString;
use yaddash_model::RecordKind;
use yaddash_vault::{RecoveryCode, SCHEMA_VERSION, Setting, Unlock, Vault};

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
    fixture_named("vault-v1")
}

fn fixture_named(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("vault");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
        &dir,
    );
    // git keeps no empty directory; a vault without attachments has one.
    std::fs::create_dir_all(dir.join("attachments")).expect("mkdir");
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

/// Schema 9 moved the per-bundle facts out of `meta` rows
/// (`outbox_sent:{seq}`, `hq_receipt:{id}`, `import_receipt:{id}`) into
/// columns of `bundles_out`. A field vault written by schema 6 with such
/// rows (tests/fixtures/make_vault_v6.rs) opens with the same facts.
#[test]
fn schema_6_vault_keeps_its_per_bundle_facts() {
    const { assert!(SCHEMA_VERSION >= 7) };
    let (_tmp, dir) = fixture_named("vault-v6");
    let unlock = Unlock::Passphrase(SecretString::from("fixture passphrase v6"));
    let vault = Vault::open(&dir, &unlock).expect("open the v6 fixture");
    let report = vault.check(&mut |_| true).expect("check");
    assert!(report.is_clean(), "{:?}", report.problems);
    let b1 = "1".repeat(64);
    let b2 = "2".repeat(64);
    let ex = vault.exchange();
    let out = ex.bundles_out().expect("bundles out");
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bundle_id, b1);
    assert_eq!(
        out[0].hq_received_at.as_deref(),
        Some("2026-11-20T11:00:00Z")
    );
    assert_eq!(out[0].imported_at.as_deref(), Some("2026-11-21T09:00:00Z"));
    assert_eq!(out[1].bundle_id, b2);
    assert_eq!(ex.sent_bytes(1).expect("sent"), 0);
    assert_eq!(ex.sent_bytes(2).expect("sent"), 1_048_576);
    assert_eq!(
        ex.hq_receipt(&b1).expect("hq receipt").as_deref(),
        Some("fixture HQ receipt for bundle 1")
    );
    assert_eq!(
        ex.import_receipt(&b1).expect("import receipt").as_deref(),
        Some("fixture import receipt for bundle 1")
    );
    assert_eq!(ex.hq_receipt(&b2).expect("hq receipt"), None);
    assert_eq!(ex.import_receipt(&b2).expect("import receipt"), None);
    // The settings are read by the same keys as before.
    assert_eq!(
        vault.setting(Setting::HqUrl).expect("url").as_deref(),
        Some("http://127.0.0.1:9")
    );
    assert_eq!(
        vault
            .setting(Setting::HqReceiptsAfter)
            .expect("cursor")
            .as_deref(),
        Some("7")
    );
    drop(vault);
    // Opened again (no migration left to run): the same.
    let vault = Vault::open(&dir, &unlock).expect("open again");
    assert_eq!(vault.exchange().sent_bytes(2).expect("sent"), 1_048_576);
}
