//! Bundles end to end through the real `yaddash` binary: identities, trust,
//! enrollment, export, verified import with provenance, idempotence, gaps,
//! revocation, receipts.

use std::path::PathBuf;

use serde_json::json;
use yaddash_e2e::TestVault;
use yaddash_e2e::{tmp_file as path, utf8 as s};

/// A coordinator with `n` enrolled field vaults that trust it.
fn setup(n: usize) -> (TestVault, Vec<TestVault>) {
    let coord = TestVault::init("coordinator");
    let trust = path(&coord, "trust.json");
    coord.ok(&["trust", "export", "--out", s(&trust)]);
    let mut fields = Vec::new();
    for i in 0..n {
        let f = TestVault::init("field");
        let dev = path(&f, "device.json");
        std::fs::write(&dev, f.ok(&["--json", "device", "show"])).expect("write");
        let out = coord.json(&[
            "device",
            "enroll",
            s(&dev),
            "--label",
            &format!("field {i}"),
        ]);
        assert_eq!(out["device_id"], f.device_id.as_str());
        let imported = f.json(&["trust", "import", s(&trust)]);
        assert!(imported["fingerprint"].as_str().is_some());
        fields.push(f);
    }
    (coord, fields)
}

fn export(f: &TestVault, name: &str) -> PathBuf {
    let p = path(f, name);
    let out = f.json(&["bundle", "export", "--out", s(&p)]);
    assert!(out["seq"].as_u64().is_some(), "{out}");
    p
}

#[test]
fn field_to_coordinator_and_receipts_back() {
    let (coord, fields) = setup(1);
    let f = &fields[0];
    let info = f.json(&["device", "show"]);
    assert_eq!(info["device_id"], f.device_id.as_str());
    assert!(
        info["signing_key"]
            .as_str()
            .expect("key")
            .starts_with("ssh-ed25519 ")
    );
    assert!(
        info["age_recipient"]
            .as_str()
            .expect("age")
            .starts_with("age1")
    );

    let person = f.add_person(&["Məmmədov Tofiq", "Мамедов Тофик"]);
    let case = f.write_json(
        "case.json",
        &json!({"detainee_id": person,
        "events": [{"type": "detention", "facility": "Kürdəxanı"}]}),
    );
    let case_id = f.json(&["case", "add", "--file", s(&case)])["id"]
        .as_str()
        .expect("id")
        .to_string();
    let iv = f.write_json(
        "iv.json",
        &json!({"case_id": case_id, "detainee_id": person,
        "interviewer": "F1", "date": "2026-01-10", "language": "az", "consent": "anonymous",
        "narrative": "Oğlumu gecə apardılar."}),
    );
    let iv_id = f.json(&["interview", "add", "--file", s(&iv)])["id"]
        .as_str()
        .expect("id")
        .to_string();
    let audio: Vec<u8> = (0..1_500_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let audio_path = path(f, "voice.ogg");
    std::fs::write(&audio_path, &audio).expect("write");
    let att = f.json(&["attach", "--to", &iv_id, s(&audio_path)]);
    let att_id = att["id"].as_str().expect("id").to_string();

    let b1 = export(f, "b1.yaddash");
    let nothing = f.json(&["bundle", "export", "--out", s(&path(f, "b-empty.yaddash"))]);
    assert_eq!(nothing["nothing_new"], true);
    assert!(!path(f, "b-empty.yaddash").exists());

    let imp = coord.json(&["bundle", "import", s(&b1)]);
    assert_eq!(imp["seq"], 1);
    assert_eq!(imp["counts"]["new_records"], 3);
    assert_eq!(imp["counts"]["new_attachments"], 1);
    assert!(coord.ok(&["search", "mamedov"]).contains(&person));
    let out = coord.run(&["attachment", "export", &att_id, "--out", "-"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, audio, "attachment changed in transit");
    let shown = coord.json(&["show", &person]);
    assert_eq!(shown["record"]["created_by"], f.device_id.as_str());
    assert!(coord.ok(&["vault", "check"]).contains("clean"));

    // The same bundle twice: refused as already imported, nothing changes.
    let before = coord.ok(&["--json", "list", "persons"]);
    let err = coord.err(&["bundle", "import", s(&b1)]);
    assert!(err.contains("already imported"), "{err}");
    assert_eq!(coord.ok(&["--json", "list", "persons"]), before);

    // Field edits land as new revisions at headquarters.
    let edit = f.write_json(
        "edit.json",
        &json!({"names": ["Məmmədov Tofiq", "Мамедов Тофик", "Tofig Mammadov"],
        "birth_year": 1975, "roles": ["detainee"]}),
    );
    f.ok(&["edit", &person, "--file", s(&edit)]);
    let b2 = export(f, "b2.yaddash");
    let imp = coord.json(&["bundle", "import", s(&b2)]);
    assert_eq!(imp["seq"], 2);
    assert_eq!(imp["counts"]["new_revisions"], 1);
    assert_eq!(imp["counts"]["new_records"], 0);
    let hist = coord.json(&["history", &person]);
    assert_eq!(hist.as_array().map(Vec::len), Some(2));
    assert_eq!(hist[1]["body"]["birth_year"], 1975);

    // Receipts back to the field.
    let receipts = path(&coord, "receipts.json");
    coord.ok(&[
        "receipt",
        "export",
        "--device",
        &f.device_id,
        "--out",
        s(&receipts),
    ]);
    let r = f.json(&["receipt", "import", s(&receipts)]);
    assert_eq!(r["confirmed"], json!([1, 2]));
    let again = f.json(&["receipt", "import", s(&receipts)]);
    assert_eq!(again["already"], 2);

    // Receipts from a coordinator the field does not trust are refused: a
    // second headquarters imports a bundle of this device and signs receipts.
    let other = TestVault::init("coordinator");
    let other_trust = path(&other, "trust.json");
    other.ok(&["trust", "export", "--out", s(&other_trust)]);
    other.ok(&["device", "enroll", s(&path(f, "device.json"))]);
    f.ok(&["trust", "import", s(&other_trust)]);
    f.add_person(&["For the other headquarters"]);
    let b3 = export(f, "b3.yaddash");
    other.ok(&["bundle", "import", s(&b3)]);
    let forged = path(&other, "receipts.json");
    other.ok(&[
        "receipt",
        "export",
        "--device",
        &f.device_id,
        "--out",
        s(&forged),
    ]);
    f.ok(&["trust", "import", s(&path(&coord, "trust.json"))]);
    let err = f.err(&["receipt", "import", s(&forged)]);
    assert!(err.contains("not signed by a trusted coordinator"), "{err}");
}

#[test]
fn out_of_order_bundles_close_the_gap() {
    let (coord, fields) = setup(1);
    let f = &fields[0];
    f.add_person(&["Intiqam Əliyev"]);
    let b1 = export(f, "b1.yaddash");
    f.add_person(&["Leyla Yunus"]);
    let b2 = export(f, "b2.yaddash");
    f.add_person(&["Arif Yunus"]);
    let b3 = export(f, "b3.yaddash");
    let imp = coord.json(&["bundle", "import", s(&b3)]);
    assert_eq!(imp["missing"], json!([1, 2]));
    let imp = coord.json(&["bundle", "import", s(&b1)]);
    assert_eq!(imp["missing"], json!([2]));
    let imp = coord.json(&["bundle", "import", s(&b2)]);
    assert_eq!(imp["missing"], json!([]));
    assert!(coord.ok(&["search", "intigam"]).contains("Intiqam"));
    assert_eq!(
        coord.json(&["list", "persons"]).as_array().map(Vec::len),
        Some(3)
    );
}

#[test]
fn unknown_revoked_and_foreign_bundles_are_refused() {
    let (coord, fields) = setup(2);
    // Unknown device: trusts the coordinator but was never enrolled.
    let stranger = TestVault::init("field");
    stranger.ok(&["trust", "import", s(&path(&coord, "trust.json"))]);
    stranger.add_person(&["Stranger"]);
    let b = export(&stranger, "s.yaddash");
    let err = coord.err(&["bundle", "import", s(&b)]);
    assert!(
        err.contains("unknown") || err.contains("not enrolled"),
        "{err}"
    );

    // Revoked device: bundles signed after the revocation are refused.
    let f = &fields[1];
    f.add_person(&["Before revocation"]);
    let b1 = export(f, "b1.yaddash");
    coord.ok(&["device", "revoke", &f.device_id, "--from", "2000-01-01"]);
    let err = coord.err(&["bundle", "import", s(&b1)]);
    assert!(err.contains("revoked"), "{err}");

    // A bundle made for another headquarters.
    let other = TestVault::init("coordinator");
    let other_trust = path(&other, "trust.json");
    other.ok(&["trust", "export", "--out", s(&other_trust)]);
    let f0 = &fields[0];
    f0.ok(&["trust", "import", s(&other_trust)]);
    f0.add_person(&["For the other HQ"]);
    let b = export(f0, "other.yaddash");
    let err = coord.err(&["bundle", "import", s(&b)]);
    assert!(
        err.contains("not encrypted to our key") && err.contains("other coordinators"),
        "{err}"
    );
    assert_eq!(
        coord.json(&["list", "persons"]).as_array().map(Vec::len),
        Some(0)
    );
    assert!(coord.ok(&["vault", "check"]).contains("clean"));
}

#[test]
fn tampered_bundles_change_nothing() {
    let (coord, fields) = setup(1);
    let f = &fields[0];
    f.add_person(&["Bəxtiyar Hacıyev"]);
    let b = export(f, "b.yaddash");
    let bytes = std::fs::read(&b).expect("read");
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x40;
    cases.push(("bit flip".into(), flipped));
    cases.push(("truncated".into(), bytes[..bytes.len() - 700].to_vec()));
    let mut appended = bytes.clone();
    appended.extend_from_slice(&[0u8; 1024]);
    cases.push(("bytes appended".into(), appended));
    for (what, data) in cases {
        let p = path(f, "bad.yaddash");
        std::fs::write(&p, data).expect("write");
        let err = coord.err(&["bundle", "import", s(&p)]);
        assert!(err.contains("bundle refused"), "{what}: {err}");
        assert_eq!(
            coord.json(&["list", "persons"]).as_array().map(Vec::len),
            Some(0),
            "{what}"
        );
    }
    // The genuine one still imports.
    coord.ok(&["bundle", "import", s(&b)]);
    // No stray files in the coordinator's attachments directory.
    assert_eq!(
        std::fs::read_dir(coord.dir.join("attachments"))
            .expect("dir")
            .count(),
        0
    );
}

#[test]
fn roles_are_enforced() {
    let f = TestVault::init("field");
    let err = f.err(&["trust", "export", "--out", s(&path(&f, "t.json"))]);
    assert!(err.contains("needs a coordinator vault"), "{err}");
    f.add_person(&["X"]);
    let err = f.err(&["bundle", "export", "--out", s(&path(&f, "b"))]);
    assert!(err.contains("trust file"), "{err}");
}
