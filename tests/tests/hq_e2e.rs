//! The HQ server end to end through the real binaries: a coordinator vault,
//! the server, two field vaults. Enroll, record, sync, pull, import, receipts
//! back to the field; revocation at the server.

mod hq_support;

use hq_support::{Server, hq_init};
use yaddash_e2e::TestVault;
use yaddash_e2e::{tmp_file as path, utf8 as s};

#[test]
fn enroll_sync_pull_import_and_receipts_back_to_the_field() {
    let coord = TestVault::init("coordinator");
    let trust = path(&coord, "trust.json");
    coord.ok(&["trust", "export", "--out", s(&trust)]);
    let data = path(&coord, "hq-data");
    let init = hq_init(&data, &trust);
    assert!(init.contains("fingerprint:   SHA256:"), "{init}");
    hq_support::pin_server_key(&coord, &trust, &init);
    let server = Server::start(&data, &[]);
    let url = server.url();

    let mut fields = Vec::new();
    for i in 0..2 {
        let f = TestVault::init("field");
        f.ok(&["trust", "import", s(&trust)]);
        // The coordinator vault itself must know the device (out of band):
        // the server's enrollment alone never makes the coordinator trust it.
        let dev = path(&f, "device.json");
        std::fs::write(&dev, f.ok(&["--json", "device", "show"])).expect("write");
        coord.ok(&[
            "device",
            "enroll",
            s(&dev),
            "--label",
            &format!("field {i}"),
        ]);
        let code = coord.json(&["hq", "invite", "--expires", "1h"])["code"]
            .as_str()
            .expect("code")
            .to_owned();
        let out = f.json(&["hq", "enroll", &code, "--url", &url]);
        assert_eq!(out["enrolled"], true);
        // A one-time code cannot be used twice.
        if i == 0 {
            let again = TestVault::init("field");
            again.ok(&["trust", "import", s(&trust)]);
            let err = again.err(&["hq", "enroll", &code, "--url", &url]);
            assert!(err.contains("code_used"), "{err}");
        }
        fields.push(f);
    }

    let p0 = fields[0].add_person(&["Məmmədov Tofiq"]);
    let p1 = fields[1].add_person(&["Hüseynov Intiqam"]);
    for f in &fields {
        let out = f.json(&["sync"]);
        assert_eq!(out["exported"], 1, "{out}");
        assert_eq!(out["uploaded"].as_array().expect("list").len(), 1, "{out}");
        // The outbox is emptied once the server's signed receipt verified.
        assert_eq!(
            std::fs::read_dir(f.dir.join("outbox"))
                .expect("outbox")
                .count(),
            0
        );
    }
    let h = server.health();
    let backend = if std::env::var_os("YADDASH_HQ_TEST_PG_BASE").is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(h["backend"], backend, "{h}");
    assert_eq!(h["counts"]["bundles_pending"], 2, "{h}");
    assert_eq!(h["counts"]["devices"], 2, "{h}");

    let pulled = coord.json(&["hq", "pull", "--url", &url]);
    assert_eq!(
        pulled["imported"].as_array().expect("list").len(),
        2,
        "{pulled}"
    );
    assert_eq!(pulled["receipts_posted"], 2, "{pulled}");
    assert!(coord.ok(&["show", &p0]).contains("Məmmədov"));
    assert!(coord.ok(&["show", &p1]).contains("Hüseynov"));
    let h = server.health();
    assert_eq!(h["counts"]["bundles_pending"], 0, "{h}");
    assert_eq!(h["counts"]["bundles_acked"], 2, "{h}");
    // Pulling again finds nothing new.
    let again = coord.json(&["hq", "pull"]);
    assert_eq!(again["imported"].as_array().expect("list").len(), 0);

    // Receipts back to the field on the next sync.
    for f in &fields {
        let out = f.json(&["sync"]);
        assert_eq!(out["confirmed_imported"], serde_json::json!([1]), "{out}");
        assert_eq!(out["exported"], serde_json::Value::Null, "{out}");
    }

    // Revocation: device 1 is refused from now on, device 0 keeps working.
    coord.ok(&["hq", "revoke", &fields[1].device_id]);
    fields[1].add_person(&["Ismayilova Khadija"]);
    let err = fields[1].err(&["sync"]);
    assert!(err.contains("revoked"), "{err}");
    fields[0].add_person(&["Mammadov Ilgar"]);
    let out = fields[0].json(&["sync"]);
    assert_eq!(out["uploaded"].as_array().expect("list").len(), 1, "{out}");
    let pulled = coord.json(&["hq", "pull"]);
    assert_eq!(
        pulled["imported"].as_array().expect("list").len(),
        1,
        "{pulled}"
    );
}
