//! A hostile (or seized, or impostor) HQ server against the real `yaddash`
//! client (issue 11, items 8 and 9): the field device pins the server key
//! from the trust file, drops an outbox file only for a receipt that names
//! that very bundle, and a coordinator's pull never lets a server-chosen id
//! become a path outside the inbox.
//!
//! The hostile servers are small HTTP stubs on loopback in this file; the
//! honest one is the real `yaddash-hq`.

mod hq_support;

use std::sync::{Arc, Mutex};

use hq_support::{Server, hq_init, init_server_key, pin_server_key};
use sha2::Digest;
use yaddash_e2e::utf8 as s;
use yaddash_e2e::{TestVault, files_under, snapshot, stub_http as stub};
use yaddash_wire::hq::ServerInfo;
use yaddash_wire::{Receipt, ReceiptKind, Sha256Hash, SigningKey, sign_receipt};

fn json(v: serde_json::Value) -> (u16, Vec<u8>) {
    (200, v.to_string().into_bytes())
}

fn info(hq_id: &str, key: &SigningKey) -> serde_json::Value {
    serde_json::to_value(ServerInfo {
        hq_id: hq_id.to_owned(),
        server_key: key.public_key_openssh("yaddash-hq"),
        server_fingerprint: key.fingerprint(),
        max_bundle_bytes: 1 << 30,
        max_chunk_bytes: 8 << 20,
    })
    .expect("json")
}

/// A coordinator with a trust file pinning `server_key`, and a field vault
/// that imported it and is known to the coordinator.
fn world(server_key: &str) -> (TestVault, TestVault, String) {
    let coord = TestVault::init("coordinator");
    let trust = coord.tmp.path().join("trust.json");
    let hq_id = coord.json(&[
        "trust",
        "export",
        "--out",
        s(&trust),
        "--server-key",
        server_key,
    ])["hq_id"]
        .as_str()
        .expect("hq id")
        .to_owned();
    let field = TestVault::init("field");
    let imported = field.json(&["trust", "import", s(&trust)]);
    assert!(
        imported["server_fingerprint"]
            .as_str()
            .is_some_and(|f| f.starts_with("SHA256:")),
        "{imported}"
    );
    let dev = field.tmp.path().join("device.json");
    std::fs::write(&dev, field.ok(&["--json", "device", "show"])).expect("write");
    coord.ok(&["device", "enroll", s(&dev)]);
    (coord, field, hq_id)
}

fn code(coord: &TestVault) -> String {
    coord.json(&["hq", "invite"])["code"]
        .as_str()
        .expect("code")
        .to_owned()
}

#[test]
fn enrollment_refuses_a_server_whose_key_is_not_the_pinned_one_and_stores_nothing() {
    // The real server, but the trust file pins another key (an impostor
    // answering at the server's address looks exactly like this).
    let coord = TestVault::init("coordinator");
    let trust = coord.tmp.path().join("trust.json");
    coord.ok(&["trust", "export", "--out", s(&trust)]);
    let data = coord.tmp.path().join("hq-data");
    let init = hq_init(&data, &trust);
    let real_key = init_server_key(&init);
    let server = Server::start(&data, &[]);
    let pinned = SigningKey::generate();
    coord.ok(&[
        "trust",
        "export",
        "--out",
        s(&trust),
        "--server-key",
        &pinned.public_key_openssh("pinned"),
    ]);
    let field = TestVault::init("field");
    field.ok(&["trust", "import", s(&trust)]);
    let dev = field.tmp.path().join("device.json");
    std::fs::write(&dev, field.ok(&["--json", "device", "show"])).expect("write");
    coord.ok(&["device", "enroll", s(&dev)]);
    let code = code(&coord);
    let policy_before = field.json(&["policy", "show"]);

    let err = field.err(&["hq", "enroll", &code, "--url", &server.url()]);
    let real_fp = yaddash_wire::signing_key_fingerprint(&real_key).expect("fingerprint");
    assert!(
        err.contains(&real_fp) && err.contains(&pinned.fingerprint()),
        "the error names both fingerprints: {err}"
    );
    assert!(err.contains("impostor"), "{err}");
    // Nothing stored: sync stays off, no server is known, not enrolled.
    assert_eq!(field.json(&["policy", "show"]), policy_before);
    let err = field.err(&["sync"]);
    assert!(err.contains("sync is not enabled"), "{err}");
    // Nothing sent: the one-time code was not used at the server, so the
    // same code still works once the trust file pins the real key.
    pin_server_key(&coord, &trust, &init);
    field.ok(&["trust", "import", s(&trust)]);
    let out = field.json(&["hq", "enroll", &code, "--url", &server.url()]);
    assert_eq!(out["enrolled"], true, "{out}");
    assert_eq!(out["server_fingerprint"], real_fp.as_str());
}

#[test]
fn enrollment_without_a_pinned_key_or_at_a_stub_with_another_key_is_refused() {
    // A trust file naming no server key: no trust on first use.
    let coord = TestVault::init("coordinator");
    let trust = coord.tmp.path().join("trust.json");
    coord.ok(&["trust", "export", "--out", s(&trust)]);
    let field = TestVault::init("field");
    field.ok(&["trust", "import", s(&trust)]);
    let impostor = SigningKey::generate();
    let hq_id =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&trust).expect("read"))
            .expect("json")["hq_id"]
            .as_str()
            .expect("hq id")
            .to_owned();
    let answer = info(&hq_id, &impostor);
    let (url, seen) = stub(Box::new(move |_, _, _| json(answer.clone())));
    let err = field.err(&["hq", "enroll", &code(&coord), "--url", &url]);
    assert!(err.contains("names no HQ server key"), "{err}");
    assert!(seen.lock().expect("lock").is_empty(), "nothing was asked");

    // A stub with another key than the pinned one: refused after /v1/info,
    // before the code and the device's keys are sent.
    let pinned = SigningKey::generate();
    let (coord, field, hq_id) = world(&pinned.public_key_openssh("hq"));
    let answer = info(&hq_id, &impostor);
    let (url, seen) = stub(Box::new(move |_, _, _| json(answer.clone())));
    let err = field.err(&["hq", "enroll", &code(&coord), "--url", &url]);
    assert!(
        err.contains(&impostor.fingerprint()) && err.contains(&pinned.fingerprint()),
        "{err}"
    );
    let seen = seen.lock().expect("lock").clone();
    assert!(
        seen.iter().all(|r| r.path != "/v1/enroll"),
        "the code was sent to an impostor: {seen:?}"
    );
    assert_eq!(field.json(&["policy", "show"])["enabled"], false);
}

#[test]
fn an_outbox_file_stays_until_a_receipt_names_that_very_bundle() {
    let server_key = SigningKey::generate();
    let (coord, field, hq_id) = world(&server_key.public_key_openssh("hq"));
    let device: uuid::Uuid = field.device_id.parse().expect("uuid");
    // Which bundle the stub's receipt names (None: a random one).
    let names: Arc<Mutex<Option<Sha256Hash>>> = Arc::default();
    let naming = Arc::clone(&names);
    let key = server_key.clone();
    let answer_info = info(&hq_id, &server_key);
    let (url, _) = stub(Box::new(move |method, path, _| match (method, path) {
        (_, "/v1/info") | ("POST", "/v1/enroll") => json(answer_info.clone()),
        ("POST", "/v1/uploads") => {
            let bundle = naming
                .lock()
                .expect("lock")
                .unwrap_or_else(|| Sha256Hash::digest(b"another bundle"));
            let r = Receipt::new(
                ReceiptKind::HqReceived,
                bundle,
                device,
                0,
                vec![],
                time::OffsetDateTime::now_utc(),
                &key,
            );
            let receipt = sign_receipt(&r, &key).expect("sign");
            json(serde_json::json!({
                "upload_id": hex::encode(sha2::Sha256::digest(b"upload")),
                "received": [],
                "receipt": receipt,
            }))
        }
        (_, p) if p.starts_with("/v1/receipts") => json(serde_json::json!({"receipts": []})),
        _ => (404, b"{\"code\":\"not_found\",\"message\":\"no\"}".to_vec()),
    }));
    let out = field.json(&["hq", "enroll", &code(&coord), "--url", &url]);
    assert_eq!(out["enrolled"], true, "{out}");
    field.add_person(&["Əliyev Rauf"]);

    // Signed by the pinned key, for this device, but naming another bundle.
    let err = field.err(&["sync"]);
    assert!(err.contains("not for bundle 1"), "{err}");
    let listed = field.json(&["outbox", "list"]);
    assert_eq!(listed[0]["state"], "pending", "{listed}");
    let outbox = field.dir.join("outbox");
    assert_eq!(snapshot(&outbox).len(), 1, "the outbox file is kept");

    // The receipt for the bundle really sent: now (and only now) it goes.
    let id: Sha256Hash = listed[0]["bundle_id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("hex");
    *names.lock().expect("lock") = Some(id);
    let out = field.json(&["sync"]);
    assert_eq!(out["uploaded"][0], listed[0]["bundle_id"], "{out}");
    assert!(snapshot(&outbox).is_empty(), "removed after its receipt");
    assert_eq!(field.json(&["outbox", "list"])[0]["state"], "received");

    // A new trust file pinning another key: receipts from the key this
    // device enrolled with are no longer enough; nothing is sent.
    let trust = coord.tmp.path().join("trust2.json");
    let other = SigningKey::generate().public_key_openssh("new");
    coord.ok(&[
        "trust",
        "export",
        "--out",
        s(&trust),
        "--server-key",
        &other,
    ]);
    field.ok(&["trust", "import", s(&trust)]);
    field.add_person(&["Hüseynova Leyla"]);
    let err = field.err(&["sync"]);
    assert!(err.contains("pins another HQ server key"), "{err}");
    assert_eq!(snapshot(&outbox).len(), 1, "the new bundle waits");
}

#[test]
fn a_pull_never_lets_a_server_chosen_bundle_id_become_a_path() {
    let coord = TestVault::init("coordinator");
    let vault = coord.dir.clone();
    // A file outside the inbox that `../x` would overwrite, then delete.
    let victim = vault.join("x.yaddash");
    std::fs::write(&victim, b"precious").expect("write");
    let paths = || -> std::collections::BTreeSet<std::path::PathBuf> {
        files_under(coord.tmp.path()).into_iter().collect()
    };
    let before = paths();
    let payload = b"not a bundle".to_vec();
    let sha = hex::encode(sha2::Sha256::digest(&payload));
    let long = "ab".repeat(200);
    for bad in ["../x", long.as_str()] {
        let listing = serde_json::json!({"bundles": [{
            "seq": 1,
            "bundle_id": bad,
            "file_sha256": sha,
            "device_id": uuid::Uuid::now_v7(),
            "size": payload.len(),
            "received_at": 0,
        }]});
        let body = payload.clone();
        let (url, seen) = stub(Box::new(move |method, path, _| match (method, path) {
            ("GET", "/v1/bundles?after=0") => json(listing.clone()),
            ("GET", p) if p.starts_with("/v1/bundles?") => json(serde_json::json!({"bundles": []})),
            ("GET", _) => (200, body.clone()),
            _ => json(serde_json::json!({})),
        }));
        let out = coord.run(&["hq", "pull", "--url", &url]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            std::fs::read(&victim).ok().as_deref(),
            Some(&b"precious"[..]),
            "{bad:.20}: the file outside the inbox was overwritten or removed ({err})"
        );
        assert!(!vault.join("x.partial").exists());
        assert!(!vault.join("inbox").join(format!("{long}.yaddash")).exists());
        assert!(!out.status.success(), "{bad:.20}: the pull succeeded");
        assert!(
            err.contains("bundle id") && err.contains("64 hex digits"),
            "{bad:.20}: {err}"
        );
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 1, "only the listing was asked: {seen:?}");
        assert_eq!(seen[0].method, "GET");
    }
    // No new file anywhere outside the inbox (the vault's own database
    // journal aside).
    let new: Vec<_> = paths()
        .difference(&before)
        .filter(|p| !p.starts_with(vault.join("inbox")))
        .filter(|p| {
            let n = p.to_string_lossy();
            !(n.ends_with("-wal") || n.ends_with("-shm") || n.ends_with("-journal"))
        })
        .cloned()
        .collect();
    assert!(new.is_empty(), "{new:?}");
}
