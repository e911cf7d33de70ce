//! A field device cannot rewrite another device's record or sign as another
//! device (issue 11, item 2). The bundles here are made with the device's
//! real keys, as someone holding a seized laptop could.

use std::path::PathBuf;

use secrecy::SecretString;
use serde_json::Value;
use yaddash_bundle::{BundleSpec, EntrySource, PublicIdentityExt, write_bundle};
use yaddash_e2e::{PASSPHRASE, TestVault, snapshot};
use yaddash_e2e::{tmp_file as path, utf8 as s};
use yaddash_vault::{RecordChanges, RevisionRow, Unlock, Vault};

fn open(v: &TestVault) -> Vault {
    Vault::open(
        &v.dir,
        &Unlock::Passphrase(SecretString::from(PASSPHRASE.to_owned())),
    )
    .expect("open vault")
}

struct World {
    coord: TestVault,
    a: TestVault,
    b: TestVault,
    /// A person record device B made, imported by the coordinator.
    record: String,
}

fn world() -> World {
    let coord = TestVault::init("coordinator");
    let trust = path(&coord, "trust.json");
    coord.ok(&["trust", "export", "--out", s(&trust)]);
    let mut fields = Vec::new();
    for _ in 0..2 {
        let f = TestVault::init("field");
        let dev = path(&f, "device.json");
        std::fs::write(&dev, f.ok(&["--json", "device", "show"])).expect("write");
        coord.ok(&["device", "enroll", s(&dev)]);
        f.ok(&["trust", "import", s(&trust)]);
        fields.push(f);
    }
    let b = fields.pop().expect("b");
    let a = fields.pop().expect("a");
    let record = b.add_person(&["Məmmədov Tofiq"]);
    let bundle = path(&b, "b1.yaddash");
    b.ok(&["bundle", "export", "--out", s(&bundle)]);
    coord.ok(&["bundle", "import", s(&bundle)]);
    World {
        coord,
        a,
        b,
        record,
    }
}

/// Device A's bundle number 1 holding one revision of `record`, signed with
/// A's own keys and encrypted to the coordinator.
fn forged_revision(w: &World, author: &str, at: &str) -> PathBuf {
    let id: uuid::Uuid = w.record.parse().expect("uuid");
    let original = open(&w.b)
        .exchange()
        .record_changes(id)
        .expect("B's record");
    let mut body: Value = serde_json::from_str(&original.revisions[0].body).expect("body");
    body["names"][0] = Value::String("Rewritten by another device".into());
    let body = serde_json::to_string(&body).expect("json");
    let rc = RecordChanges {
        id,
        kind: original.kind,
        created_at: original.created_at.clone(),
        created_by: original.created_by.clone(),
        revisions: vec![RevisionRow {
            rev: 1,
            body_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes())),
            body,
            author: author.to_string(),
            at: at.to_string(),
        }],
    };
    let json = serde_json::to_vec(&rc).expect("json");
    let mut va = open(&w.a);
    let keys = yaddash_exchange::device_keys(&mut va).expect("keys");
    let trust = yaddash_exchange::trust_file(&va).expect("trust");
    let spec = BundleSpec {
        device_id: va.device_id(),
        seq: 1,
        prev_bundle_sha256: None,
        created_at: time::OffsetDateTime::now_utc(),
        hq_id: trust.hq_id.clone(),
        recipients: trust
            .coordinators
            .iter()
            .map(|c| c.age_recipient().expect("recipient"))
            .collect(),
    };
    let out = path(&w.a, "forged.yaddash");
    let mut f = std::fs::File::create(&out).expect("create");
    write_bundle(
        &mut f,
        &keys,
        &spec,
        vec![EntrySource::from_bytes(format!("records/{id}.json"), &json)],
    )
    .expect("write bundle");
    out
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time")
}

/// What the coordinator shows of the record and the register.
fn visible(w: &World) -> (Value, Value) {
    (
        w.coord.json(&["show", &w.record]),
        w.coord.json(&["register", "list"]),
    )
}

#[test]
fn a_device_cannot_sign_a_revision_as_another_device() {
    let w = world();
    let bundle = forged_revision(&w, &w.b.device_id, &now());
    let seen = visible(&w);
    let before = snapshot(&w.coord.dir);
    let err = w.coord.err(&["bundle", "import", s(&bundle)]);
    let after = snapshot(&w.coord.dir);
    assert!(
        err.contains(&format!("claims to be by device {}", w.b.device_id))
            && err.contains(&format!("signed by device {}", w.a.device_id)),
        "{err}"
    );
    assert!(after == before, "a refused import changed the vault");
    assert_eq!(visible(&w), seen);
}

#[test]
fn a_revision_dated_in_the_far_future_is_refused() {
    let w = world();
    let bundle = forged_revision(&w, &w.a.device_id, "9999-12-31T23:59:59Z");
    let seen = visible(&w);
    let err = w.coord.err(&["bundle", "import", s(&bundle)]);
    assert!(err.contains("lies after the bundle's own time"), "{err}");
    assert_eq!(visible(&w), seen);
    // Not even a valid time.
    let bundle = forged_revision(&w, &w.a.device_id, "9999-99-99 later");
    let err = w.coord.err(&["bundle", "import", s(&bundle)]);
    assert!(err.contains("not an RFC 3339 time"), "{err}");
    assert_eq!(visible(&w), seen);
}

#[test]
fn a_revision_of_another_devices_record_is_kept_as_a_conflict() {
    let w = world();
    let bundle = forged_revision(&w, &w.a.device_id, &now());
    let (shown, register) = visible(&w);
    let out = w.coord.json(&["bundle", "import", s(&bundle)]);
    assert_eq!(out["counts"]["conflicts"], 1, "{out}");
    assert_eq!(out["counts"]["new_revisions"], 1, "{out}");
    // Neither the current body nor the register changed.
    let (shown_after, register_after) = visible(&w);
    assert_eq!(shown_after["record"]["body"], shown["record"]["body"]);
    assert_eq!(shown_after["record"]["updated_by"], w.b.device_id.as_str());
    assert_eq!(register_after, register);
    assert!(!register_after.to_string().contains("Rewritten"));
    // The revision is kept and listed for a coordinator to decide.
    let history = w.coord.json(&["history", &w.record]);
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
    let conflicts = w.coord.json(&["bundle", "conflicts"]);
    let list = conflicts.as_array().expect("list");
    assert_eq!(list.len(), 1, "{conflicts}");
    assert_eq!(list[0]["record_id"], w.record.as_str());
    assert_eq!(list[0]["device_id"], w.a.device_id.as_str());
    let rev = list[0]["rev"].as_i64().expect("rev");
    // Accepting it makes it current, recorded.
    w.coord
        .ok(&["bundle", "accept-revision", &w.record, &rev.to_string()]);
    let shown = w.coord.json(&["show", &w.record]);
    assert!(
        shown.to_string().contains("Rewritten by another device"),
        "{shown}"
    );
    let all = w.coord.json(&["bundle", "conflicts", "--all"]);
    assert!(all[0]["accepted_at"].as_str().is_some(), "{all}");
    assert!(
        w.coord
            .json(&["bundle", "conflicts"])
            .as_array()
            .expect("list")
            .is_empty()
    );
    let err = w
        .coord
        .err(&["bundle", "accept-revision", &w.record, &rev.to_string()]);
    assert!(err.contains("already accepted"), "{err}");
}

#[test]
fn the_sending_device_still_updates_its_own_records() {
    let w = world();
    // B edits its own record and sends it: it becomes current at once.
    let shown = w.b.json(&["show", &w.record]);
    let mut body = shown["record"]["body"].clone();
    body["names"][0] = Value::String("Məmmədov Tofiq Əli oğlu".into());
    let file = w.b.write_json("edit.json", &body);
    w.b.ok(&["edit", &w.record, "--file", s(&file)]);
    let bundle = path(&w.b, "b2.yaddash");
    w.b.ok(&["bundle", "export", "--out", s(&bundle)]);
    let out = w.coord.json(&["bundle", "import", s(&bundle)]);
    assert_eq!(out["counts"]["conflicts"], 0, "{out}");
    let shown = w.coord.json(&["show", &w.record]);
    assert!(shown.to_string().contains("Əli oğlu"), "{shown}");
}
