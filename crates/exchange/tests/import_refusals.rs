//! Import refusals, each with its own kind: a reused sequence number, a
//! broken chain, and a revoked device's bundle beyond the evidence the
//! revocation rests on (docs/bundle-format.md, "Revocation": what the vault
//! held, what the HQ server said it held, the HQ server's signed receive
//! time for a relayed bundle; the device's own date is never enough).

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use time::{Duration, OffsetDateTime};
use yaddash_bundle::{DeviceKeys, Receipt, ReceiptKind, sign_receipt};
use yaddash_exchange::{ExchangeError, ImportError, ImportOptions};
use yaddash_model::{Confidentiality, Person, Record, Reliability};
use yaddash_vault::{CreateOptions, MIN_WORK_FACTOR, Setting, Vault, VaultRole};

fn create(dir: &Path, role: VaultRole) -> Vault {
    let options = CreateOptions {
        role,
        kdf_work_factor: MIN_WORK_FACTOR,
    };
    Vault::create(dir, &SecretString::from("evidence test"), &options)
        .expect("create")
        .0
}

struct World {
    _tmp: tempfile::TempDir,
    coord: Vault,
    field: Vault,
    dir: PathBuf,
}

fn world() -> World {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_path_buf();
    let mut coord = create(&dir.join("coord"), VaultRole::Coordinator);
    let mut field = create(&dir.join("field"), VaultRole::Field);
    let trust = yaddash_exchange::trust_export(&mut coord, &[], None, None).expect("trust");
    yaddash_exchange::trust_import(&mut field, &serde_json::to_string(&trust).expect("json"))
        .expect("trust import");
    let keys = yaddash_exchange::device_keys(&mut field).expect("keys");
    yaddash_exchange::enroll_device(&mut coord, &keys.public_identity(field.device_id()), None)
        .expect("enroll");
    World {
        _tmp: tmp,
        coord,
        field,
        dir,
    }
}

fn export(w: &mut World, name: &str) -> PathBuf {
    w.field
        .add(&Record::Person(Person {
            names: vec![name.to_string()],
            birth_year: None,
            roles: vec![],
            notes: None,
            confidentiality: Confidentiality::Internal,
            reliability: Reliability::Unknown,
        }))
        .expect("add");
    let out = w.dir.join(format!("{name}.yaddash"));
    yaddash_exchange::export_bundle(&mut w.field, &out, &mut |_| true)
        .expect("export")
        .expect("something new");
    out
}

fn import(w: &mut World, path: &Path, options: &ImportOptions) -> Result<(), ExchangeError> {
    yaddash_exchange::import_bundle_with(&mut w.coord, path, options, &mut |_| true).map(|_| ())
}

/// Bundle 1 imported, bundle 2 made (and relayed through the HQ server)
/// before the revocation, which comes an hour later with bundle 1 held.
fn revoked_with_one_pending() -> (World, PathBuf) {
    let mut w = world();
    let b1 = export(&mut w, "one");
    import(&mut w, &b1, &ImportOptions::default()).expect("bundle 1");
    let b2 = export(&mut w, "two");
    let device = w.field.device_id();
    let d = yaddash_exchange::revoke_device(
        &mut w.coord,
        device,
        OffsetDateTime::now_utc() + Duration::hours(1),
    )
    .expect("revoke");
    assert_eq!(d.held_through_seq, Some(1));
    (w, b2)
}

fn hq_receipt(server: &DeviceKeys, w: &World, bundle: &Path, at: OffsetDateTime) -> String {
    let id = bundle_id(w, bundle);
    let r = Receipt::new(
        ReceiptKind::HqReceived,
        id.parse().expect("bundle id"),
        w.field.device_id(),
        0,
        vec![],
        at,
        server,
    );
    sign_receipt(&r, server).expect("sign")
}

fn bundle_id(w: &World, bundle: &Path) -> String {
    let out = w.field.exchange().bundles_out().expect("bundles out");
    let name = bundle.file_stem().and_then(|s| s.to_str()).expect("name");
    let seq = if name == "one" { 1 } else { 2 };
    out.into_iter()
        .find(|b| b.seq == seq)
        .expect("bundle made")
        .bundle_id
}

fn set_server_key(w: &World, server: &DeviceKeys) {
    let line = server.public_identity(uuid::Uuid::nil()).signing_key;
    w.coord
        .set_setting(Setting::HqServerKey, &line)
        .expect("meta");
}

#[test]
fn beyond_what_was_held_is_refused_without_evidence() {
    let (mut w, b2) = revoked_with_one_pending();
    let e = import(&mut w, &b2, &ImportOptions::default()).expect_err("refused");
    assert!(
        matches!(
            e,
            ExchangeError::Import(ImportError::AfterRevocation {
                seq: 2,
                held_through_seq: 1,
                ..
            })
        ),
        "{e}"
    );
    assert_eq!(e.code(), "device_revoked");
}

#[test]
fn the_hq_servers_signed_receive_time_is_evidence() {
    let (mut w, b2) = revoked_with_one_pending();
    let server = DeviceKeys::generate();
    set_server_key(&w, &server);
    // Signed by another key: no evidence.
    let impostor = DeviceKeys::generate();
    let forged = hq_receipt(&impostor, &w, &b2, OffsetDateTime::now_utc());
    let options = ImportOptions {
        hq_receipt: Some(forged),
        ..ImportOptions::default()
    };
    assert!(import(&mut w, &b2, &options).is_err());
    // Received by the server after the revocation: no evidence.
    let late = hq_receipt(
        &server,
        &w,
        &b2,
        OffsetDateTime::now_utc() + Duration::hours(2),
    );
    let options = ImportOptions {
        hq_receipt: Some(late),
        ..ImportOptions::default()
    };
    assert!(import(&mut w, &b2, &options).is_err());
    // Received before the revocation, signed by the server: imported.
    let good = hq_receipt(&server, &w, &b2, OffsetDateTime::now_utc());
    let options = ImportOptions {
        hq_receipt: Some(good),
        ..ImportOptions::default()
    };
    import(&mut w, &b2, &options).expect("covered by the server's receipt");
}

#[test]
fn what_the_hq_server_held_when_it_revoked_is_evidence() {
    let (mut w, b2) = revoked_with_one_pending();
    let device = w.field.device_id();
    let id = bundle_id(&w, &b2);
    yaddash_exchange::record_server_held_bundle(&mut w.coord, device, &id)
        .expect("server evidence");
    import(&mut w, &b2, &ImportOptions::default()).expect("held by the server");
}

#[test]
fn bundles_the_held_one_chains_back_to_are_covered() {
    let mut w = world();
    let b1 = export(&mut w, "one");
    import(&mut w, &b1, &ImportOptions::default()).expect("bundle 1");
    let b2 = export(&mut w, "two");
    let b3 = export(&mut w, "three");
    let device = w.field.device_id();
    yaddash_exchange::revoke_device(
        &mut w.coord,
        device,
        OffsetDateTime::now_utc() + Duration::hours(1),
    )
    .expect("revoke");
    let id3 = w.field.exchange().bundles_out().expect("out")[2]
        .bundle_id
        .clone();
    yaddash_exchange::record_server_held_bundle(&mut w.coord, device, &id3)
        .expect("server evidence");
    // Bundle 2 first: nothing covers it yet.
    assert!(import(&mut w, &b2, &ImportOptions::default()).is_err());
    // Bundle 3 is the one the server held; bundle 2 then chains to it.
    import(&mut w, &b3, &ImportOptions::default()).expect("held by the server");
    import(&mut w, &b2, &ImportOptions::default()).expect("chained to bundle 3");
    // A bundle 4 made later is covered by nothing.
    let b4 = export(&mut w, "four");
    let e = import(&mut w, &b4, &ImportOptions::default()).expect_err("refused");
    assert_eq!(e.code(), "device_revoked");
}

#[test]
fn an_override_is_recorded() {
    let (mut w, b2) = revoked_with_one_pending();
    let options = ImportOptions {
        accept_after_revocation: Some("checked in person".into()),
        ..ImportOptions::default()
    };
    let s = yaddash_exchange::import_bundle_with(&mut w.coord, &b2, &options, &mut |_| true)
        .expect("imported on the override");
    let o = s.accepted_after_revocation.expect("recorded");
    assert_eq!(o.reason, "checked in person");
    assert_eq!(
        w.coord
            .exchange()
            .import_override(&s.bundle_id)
            .expect("read"),
        Some(o)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

/// A second copy of the field vault, as after restoring a backup: it signs
/// with the same keys and numbers its bundles from the same point.
fn restored_copy(w: &mut World) -> Vault {
    let dir = w.dir.join("field");
    let copy = w.dir.join("field-restored");
    // Close the field vault while copying.
    let placeholder = create(&w.dir.join("placeholder"), VaultRole::Field);
    drop(std::mem::replace(&mut w.field, placeholder));
    copy_dir(&dir, &copy);
    w.field = Vault::open(
        &dir,
        &yaddash_vault::Unlock::Passphrase(SecretString::from("evidence test")),
    )
    .expect("reopen");
    Vault::open(
        &copy,
        &yaddash_vault::Unlock::Passphrase(SecretString::from("evidence test")),
    )
    .expect("open copy")
}

fn export_from(v: &mut Vault, dir: &Path, name: &str) -> PathBuf {
    v.add(&Record::Person(Person {
        names: vec![name.to_string()],
        birth_year: None,
        roles: vec![],
        notes: None,
        confidentiality: Confidentiality::Internal,
        reliability: Reliability::Unknown,
    }))
    .expect("add");
    let out = dir.join(format!("{name}.yaddash"));
    yaddash_exchange::export_bundle(v, &out, &mut |_| true)
        .expect("export")
        .expect("something new");
    out
}

#[test]
fn a_reused_sequence_number_is_refused() {
    let mut w = world();
    let mut copy = restored_copy(&mut w);
    let b1 = export(&mut w, "original");
    import(&mut w, &b1, &ImportOptions::default()).expect("bundle 1");
    let dir = w.dir.clone();
    let other = export_from(&mut copy, &dir, "after-restore");
    let e = import(&mut w, &other, &ImportOptions::default()).expect_err("refused");
    assert!(
        matches!(
            e,
            ExchangeError::Import(ImportError::SequenceReused { seq: 1, .. })
        ),
        "{e}"
    );
    assert_eq!(e.code(), "sequence_reused");
}

#[test]
fn a_broken_chain_is_refused() {
    let mut w = world();
    let mut copy = restored_copy(&mut w);
    let b1 = export(&mut w, "original");
    import(&mut w, &b1, &ImportOptions::default()).expect("bundle 1");
    // The restored copy's bundle 2 chains to its own bundle 1, not to the
    // one imported here.
    let dir = w.dir.clone();
    let _ = export_from(&mut copy, &dir, "fork-1");
    let fork2 = export_from(&mut copy, &dir, "fork-2");
    let e = import(&mut w, &fork2, &ImportOptions::default()).expect_err("refused");
    assert!(
        matches!(
            e,
            ExchangeError::Import(ImportError::ChainBroken {
                seq: 2,
                other: 1,
                ..
            })
        ),
        "{e}"
    );
    assert_eq!(e.code(), "chain_broken");
    let before = w
        .coord
        .exchange()
        .bundles_in_from(w.field.device_id())
        .expect("in");
    assert_eq!(before.len(), 1);
}
