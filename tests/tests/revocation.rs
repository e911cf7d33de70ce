//! Revocation through the real `yaddash` binary (issue 11, items 1 and 3):
//! a revocation only ever moves earlier, and a revoked device cannot get a
//! bundle in by setting its clock back.

use std::path::PathBuf;
use std::process::Command;

use yaddash_e2e::{TestVault, snapshot, stub_http, yaddash_bin};
use yaddash_e2e::{enrolled_pair as setup, tmp_file as path, utf8 as s};

fn revoked_from(coord: &TestVault, device: &str) -> String {
    let list = coord.json(&["device", "list"]);
    list.as_array()
        .expect("list")
        .iter()
        .find(|d| d["device_id"] == device)
        .expect("device listed")["revoked_from"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A stand-in HQ server that answers every request with `answer`.
fn stub_server(answer: String) -> String {
    let (url, _) = stub_http(Box::new(move |_, _, _| (200, answer.clone().into_bytes())));
    format!("{url}/")
}

#[test]
fn the_last_bundle_the_hq_server_held_imports_after_hq_revoke() {
    let (coord, f) = setup();
    f.add_person(&["One"]);
    let b1 = path(&f, "b1.yaddash");
    f.ok(&["bundle", "export", "--out", s(&b1)]);
    coord.ok(&["bundle", "import", s(&b1)]);
    // Bundle 2 reached the HQ server before the revocation; the coordinator
    // had not pulled it yet.
    f.add_person(&["Two"]);
    let b2 = path(&f, "b2.yaddash");
    let out = f.json(&["bundle", "export", "--out", s(&b2)]);
    let id2 = out["bundle_id"].as_str().expect("id").to_string();
    // Bundle 3 is made after the seizure.
    f.add_person(&["Three"]);
    let b3 = path(&f, "b3.yaddash");
    f.ok(&["bundle", "export", "--out", s(&b3)]);

    let url = stub_server(format!(
        r#"{{"revoked":"{}","last_bundle":{{"server_seq":7,"bundle_id":"{id2}","received_at":0}}}}"#,
        f.device_id
    ));
    let from = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let from = from
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let r = coord.json(&["hq", "revoke", &f.device_id, "--from", &from, "--url", &url]);
    assert_eq!(r["at_server"], true, "{r}");
    // Bundle 3 is beyond what anyone held: refused. Bundle 2 was held by
    // the server: imported, and with it the chain is whole.
    let err = coord.err(&["bundle", "import", s(&b3)]);
    assert!(err.contains("nothing proves this bundle existed"), "{err}");
    coord.ok(&["bundle", "import", s(&b2)]);
    assert_eq!(
        coord.json(&["list", "persons"]).as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn revoking_again_never_moves_the_time_later() {
    let (coord, f) = setup();
    coord.ok(&["device", "revoke", &f.device_id, "--from", "2020-01-01"]);
    assert!(revoked_from(&coord, &f.device_id).starts_with("2020-01-01"));
    // A plain revoke (from now) keeps the earlier time.
    let out = coord.json(&["device", "revoke", &f.device_id]);
    assert!(
        out["revoked_from"]
            .as_str()
            .expect("time")
            .starts_with("2020-01-01"),
        "{out}"
    );
    assert!(
        revoked_from(&coord, &f.device_id).starts_with("2020-01-01"),
        "a second revocation moved the time later: {}",
        revoked_from(&coord, &f.device_id)
    );
    // An earlier time still moves it earlier.
    coord.ok(&["device", "revoke", &f.device_id, "--from", "2019-06-01"]);
    assert!(revoked_from(&coord, &f.device_id).starts_with("2019-06-01"));
}

/// `yaddash --json ARGS` on the field vault with its clock set back a day.
fn backdated(f: &TestVault, args: &[&str]) -> serde_json::Value {
    let output = Command::new("faketime")
        .arg("-f")
        .arg("-1d")
        .arg(yaddash_bin())
        .arg("--vault")
        .arg(&f.dir)
        .arg("--passphrase-file")
        .arg(&f.pass_file)
        .arg("--json")
        .args(args)
        .env_remove("YADDASH_VAULT")
        .output()
        .expect("faketime (Debian package `faketime`) runs yaddash");
    assert!(
        output.status.success(),
        "backdated {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// The field device sends one bundle, is revoked, then (seized, clock set
/// back a day) exports another.
fn revoked_then_backdated() -> (TestVault, TestVault, PathBuf) {
    let (coord, f) = setup();
    f.add_person(&["Before revocation"]);
    let b1 = path(&f, "b1.yaddash");
    f.ok(&["bundle", "export", "--out", s(&b1)]);
    coord.ok(&["bundle", "import", s(&b1)]);
    coord.ok(&["device", "revoke", &f.device_id]);

    // The seized laptop's clock is set back a day: the record and the
    // bundle both claim to predate the revocation.
    backdated(
        &f,
        &["person", "add", "--name", "Planted after the seizure"],
    );
    let b2 = path(&f, "b2.yaddash");
    let out = backdated(&f, &["bundle", "export", "--out", s(&b2)]);
    assert_eq!(out["seq"], 2, "{out}");
    (coord, f, b2)
}

#[test]
fn a_backdated_bundle_after_revocation_is_refused_and_changes_nothing() {
    let (coord, _f, b2) = revoked_then_backdated();
    let persons = coord.json(&["list", "persons"]);
    let before = snapshot(&coord.dir);
    let err = coord.err(&["bundle", "import", s(&b2)]);
    let after = snapshot(&coord.dir);
    assert!(
        err.contains("revoked") && err.contains("nothing proves this bundle existed"),
        "{err}"
    );
    assert!(err.contains("--accept-after-revocation"), "{err}");
    assert!(
        after == before,
        "a refused import changed the coordinator's vault"
    );
    assert_eq!(coord.json(&["list", "persons"]), persons);
    // The evidence the refusal rests on: bundle 1 was held at the revocation.
    let list = coord.json(&["device", "list"]);
    assert_eq!(list[0]["held_through_seq"], 1, "{list}");
}

#[test]
fn a_coordinator_may_accept_it_with_a_recorded_reason() {
    let (coord, f, b2) = revoked_then_backdated();
    let err = coord.err(&["bundle", "import", s(&b2), "--accept-after-revocation", " "]);
    assert!(err.contains("needs a reason"), "{err}");
    let out = coord.json(&[
        "bundle",
        "import",
        s(&b2),
        "--accept-after-revocation",
        "checked with the interviewer by phone",
    ]);
    assert_eq!(out["seq"], 2, "{out}");
    let o = &out["accepted_after_revocation"];
    assert_eq!(
        o["reason"], "checked with the interviewer by phone",
        "{out}"
    );
    let coord_id = coord.json(&["device", "show"])["device_id"].clone();
    assert_eq!(o["by"], coord_id, "{out}");
    assert!(o["at"].as_str().is_some_and(|t| !t.is_empty()), "{out}");
    assert_eq!(
        coord.json(&["list", "persons"]).as_array().map(Vec::len),
        Some(2)
    );
    // Recorded in the vault with the bundle, shown with its provenance.
    let v = yaddash_vault::Vault::open(
        &coord.dir,
        &yaddash_vault::Unlock::Passphrase(secrecy::SecretString::from(
            yaddash_e2e::PASSPHRASE.to_owned(),
        )),
    )
    .expect("open");
    let bundle_id = out["bundle_id"].as_str().expect("bundle id");
    let stored = v
        .exchange()
        .import_override(bundle_id)
        .expect("read")
        .expect("recorded");
    assert_eq!(stored.reason, "checked with the interviewer by phone");
    assert_eq!(stored.by, coord_id.as_str().expect("id"));
    // The bundle imported before the revocation needed no override.
    let b1 = &v
        .exchange()
        .bundles_in_from(f.device_id.parse().expect("uuid"))
        .expect("bundles")[0];
    assert!(
        v.exchange()
            .import_override(&b1.bundle_id)
            .expect("read")
            .is_none()
    );
}
