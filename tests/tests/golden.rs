//! Golden files: every wire format that old code wrote and new code must keep
//! reading (a bundle, both kinds of receipt, trust files with and without
//! the HQ server key, a signed HQ request, an enrollment code). They live in
//! `tests/fixtures/golden/` (its README says how each was made and which key
//! verifies it) and are never regenerated: a format change that stops today's
//! code from reading one of them fails here. A new format version gets a new
//! golden file next to the old one.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};
use uuid::Uuid;
use yaddash_bundle::{BundleReader, CollectEntries, DecryptConfig, DeviceKeys, KnownSender};
use yaddash_e2e::TestVault;
use yaddash_wire::request::{EnrollCode, RequestAuth};
use yaddash_wire::{ReceiptKind, Sha256Hash, verify_receipt};

/// The device that signed everything (bundle, receipts, request, code).
const DEVICE_ID: &str = "01900000-0000-7000-8000-000000000001";
/// `SHA256:` fingerprint of `device-key.pub`.
const SIGNER_FPR: &str = "SHA256:8F7EVpya9LjC1R68lQldXxjgnSJy9Bme/6xw4dqTZyA";
/// The headquarters id of the bundle and trust files.
const HQ_ID: &str = "fuzz-hq";
/// The golden bundle's id (SHA-256 of its `payload.age`), format version 1.
const BUNDLE_ID: &str = "b6472aa92b45e490d42036ffad246ece3fb1256efca5f02b3d740461396410ea";
/// The same for the format version 2 bundle (`bundle-v2.yaddash`).
const BUNDLE_V2_ID: &str = "331b829ca0a9d760e8d9c32c76c5824e923d3eab4e21cd24dc5f1d12be05a400";
/// 2026-05-28T20:26:40Z: the bundle's `created_at`, the receipts' `issued_at`,
/// the request's time and the enrollment code's expiry.
const AT: i64 = 1_780_000_000;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("golden file {name}: {e}"))
}

fn text(name: &str) -> String {
    String::from_utf8(read(name)).unwrap_or_else(|_| panic!("golden file {name} is not UTF-8"))
}

fn keys() -> DeviceKeys {
    DeviceKeys::from_secrets(&text("device-key"), &text("coordinator.agekey"))
        .expect("the golden test keys load")
}

fn device_id() -> Uuid {
    Uuid::parse_str(DEVICE_ID).expect("uuid")
}

fn public_key_line() -> String {
    text("device-key.pub").trim().to_owned()
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The files are the ones the README describes, byte for byte: a golden file
/// is never regenerated (add a new one for a new format version).
#[test]
fn golden_files_are_unchanged() {
    let expected = [
        (
            "bundle.yaddash",
            "100b27c31f0dfefff71d8bbf905b36abda707fb31d2adf47d173a579f3016b5f",
        ),
        (
            "bundle-v2.yaddash",
            "820644efaf1aebc1b9dba3f3a4e90f46eea5d465e4ef7ec462f6253f9b3463d8",
        ),
        (
            "coordinator.agekey",
            "78255e5880c83a5e1907de22cdbbebaa448b30d335428ac3c92f595acd6b6ee3",
        ),
        (
            "device-key",
            "c3e85f67425a80bc87d1f0d4890cbf68e924352b9b3ff0a7f0721c7745616a7c",
        ),
        (
            "device-key.pub",
            "020da05ae823e2aac783e83e3f40d30b89660a40c1cd41b9cdca3eaba6e1aa52",
        ),
        (
            "enroll-code.txt",
            "e73aaf7edd19bcae017e005e926d180d8d409130b12d26a5f80171b8bb05438f",
        ),
        (
            "receipt-coordinator-imported",
            "a037998b0eb4449ee1fa15914fe65df4fb85718ba9a241af6f833e9eb912c1c6",
        ),
        (
            "receipt-hq-received",
            "8fefe0aec64db75f8b7359d71bfd02508bcd50c6dccfdbdabe0eef38d1974401",
        ),
        (
            "request-signed.txt",
            "8afad96fce3a94bf216b60d3da57228a932076b3446e7a39e79bd1f29b6d49ec",
        ),
        (
            "trust-with-server-key.json",
            "c508eabdc83ed56bd4b3e1e33a59e125e2f93818ad97ab16776022137f33cfbc",
        ),
        (
            "trust-without-server-key.json",
            "01f83fea4fe7e9a299628ef93e59e3393bef385be1a17ff07b58ed501f2165fc",
        ),
    ];
    for (name, sha) in expected {
        assert_eq!(hex_sha256(&read(name)), sha, "golden file {name} changed");
    }
    // The keys are the ones the files were made with.
    let k = keys();
    assert_eq!(
        k.signing_key().public_key_openssh("fuzz-device"),
        public_key_line()
    );
    assert_eq!(
        k.age_recipient().to_string(),
        "age14yqle57tej5m0mlzn54rgc3nvjj8xhyn0q3s58nz56u9w2ldl30s6kk8vv"
    );
}

#[test]
fn golden_bundle_reads_and_verifies() {
    check_golden_bundle("bundle.yaddash", BUNDLE_ID, 1);
}

/// Format version 2: the outer signature signs the payload's SHA-256.
#[test]
fn golden_bundle_v2_reads_and_verifies() {
    check_golden_bundle("bundle-v2.yaddash", BUNDLE_V2_ID, 2);
}

fn check_golden_bundle(name: &str, bundle_id: &str, version: u64) {
    let k = keys();
    let senders = HashMap::from([(
        device_id(),
        KnownSender::from(&k.public_identity(device_id())),
    )]);
    let reader = BundleReader::open(Cursor::new(read(name)), &senders).expect("outer pass");
    let outer = reader.outer().clone();
    assert_eq!(outer.bundle_id.to_string(), bundle_id);
    assert_eq!(outer.version, version);
    assert_eq!(outer.device_id, device_id());
    assert_eq!(outer.sender_fingerprint, SIGNER_FPR);
    assert_eq!(outer.total_len, 69_632);
    let mut entries = CollectEntries::new(1 << 20);
    let config = DecryptConfig {
        identity: k.age_identity(),
        hq_id: HQ_ID,
    };
    let v = reader.decrypt(&config, &mut entries).expect("payload pass");
    assert_eq!(v.outer, outer);
    let m = &v.manifest;
    assert_eq!(m.version, version);
    assert_eq!(m.device_id, device_id());
    assert_eq!(m.seq, 1);
    assert_eq!(m.prev_bundle_sha256, None);
    assert_eq!(m.created_at.unix_timestamp(), AT);
    assert_eq!(m.hq_id, HQ_ID);
    assert_eq!(
        m.recipients,
        ["2f1dd53b904caec02307d6aa320389f1e735d3e37bfb31513b86fa8a6b971cc0"]
    );
    let record = br#"{"id":"01900000-0000-7000-8000-000000000002","kind":"person"}"#;
    let got: Vec<(String, u64, String, Vec<u8>)> = entries
        .entries
        .into_iter()
        .map(|(e, data)| (e.path, e.size, e.sha256.to_string(), data))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "records/01900000-0000-7000-8000-000000000002.json".to_owned(),
                61,
                "1200b570c5a169024a6ac5d85c263bbe522af755ca55f36f94b558780c2293cb".to_owned(),
                record.to_vec(),
            ),
            (
                "attachments/01900000-0000-7000-8000-000000000003".to_owned(),
                3,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_owned(),
                b"abc".to_vec(),
            ),
        ]
    );
}

fn tool_present(tool: &str, arg: &str) -> bool {
    let found = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("skipping: `{tool}` is not installed");
    }
    found
}

/// The stock-tool procedure of docs/bundle-format.md, run verbatim.
fn procedure() -> String {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/bundle-format.md"),
    )
    .expect("docs/bundle-format.md");
    doc.split("<!-- procedure:begin -->")
        .nth(1)
        .and_then(|s| s.split("<!-- procedure:end -->").next())
        .map(str::trim)
        .and_then(|s| s.strip_prefix("```sh"))
        .and_then(|s| s.strip_suffix("```"))
        .expect("the procedure block in docs/bundle-format.md")
        .to_owned()
}

/// The golden bundle verifies and unpacks with stock `tar`, `ssh-keygen -Y
/// verify` and `age` alone, following docs/bundle-format.md to the letter.
#[test]
fn golden_bundle_verifies_with_stock_tools() {
    stock_tools_verify("bundle.yaddash", BUNDLE_ID);
}

/// The same for format version 2 (`ssh-keygen -Y verify` of a SHA-256 SSHSIG).
#[test]
fn golden_bundle_v2_verifies_with_stock_tools() {
    stock_tools_verify("bundle-v2.yaddash", BUNDLE_V2_ID);
}

fn stock_tools_verify(name: &str, bundle_id: &str) {
    for (tool, arg) in [
        ("age", "--version"),
        ("age-keygen", "--version"),
        ("ssh-keygen", "-?"),
        ("tar", "--version"),
        ("sha256sum", "--version"),
    ] {
        if !tool_present(tool, arg) {
            return;
        }
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let out = Command::new("sh")
        .arg("-c")
        .arg(procedure())
        .env("BUNDLE", dir().join(name))
        .env("SIGNER_KEY", public_key_line())
        .env("AGE_KEY", dir().join("coordinator.agekey"))
        .env("WORK", &work)
        .output()
        .expect("sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stock-tool procedure failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("bundle verified"), "{stdout}");
    assert!(
        stdout.contains(&format!("{bundle_id}  payload.age")),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(work.join("inner/attachments/01900000-0000-7000-8000-000000000003"))
            .expect("attachment unpacked"),
        b"abc"
    );
}

#[test]
fn golden_receipts_verify() {
    let public = public_key_line();
    for (name, kind, bundle_id, records) in [
        (
            "receipt-hq-received",
            ReceiptKind::HqReceived,
            "a99bad3a68199037d96dfe24a7b202c4751e340a9d34f9d3361859732f698279",
            vec![],
        ),
        (
            "receipt-coordinator-imported",
            ReceiptKind::CoordinatorImported,
            "23b8f138134fe418ba4fdc26014e93403adeed93b103848788c4aed0a82ff66d",
            vec![Uuid::from_u128(2)],
        ),
    ] {
        let r = verify_receipt(&text(name), &public).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.format, "yaddash-receipt", "{name}");
        assert_eq!(r.version, 1, "{name}");
        assert_eq!(r.kind, kind, "{name}");
        assert_eq!(r.bundle_id.to_string(), bundle_id, "{name}");
        assert_eq!(r.device_id, device_id(), "{name}");
        assert_eq!(r.seq, 7, "{name}");
        assert_eq!(r.record_ids, records, "{name}");
        assert_eq!(r.issued_at.unix_timestamp(), AT, "{name}");
        assert_eq!(r.issuer, SIGNER_FPR, "{name}");
        // Another key does not verify it.
        let other = DeviceKeys::generate()
            .signing_key()
            .public_key_openssh("other");
        assert!(verify_receipt(&text(name), &other).is_err(), "{name}");
    }
}

/// The receipts verify with stock `ssh-keygen`, as docs/bundle-format.md
/// says (first line = the signed JSON, the rest = the signature).
#[test]
fn golden_receipts_verify_with_ssh_keygen() {
    if !tool_present("ssh-keygen", "-?") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let allowed = tmp.path().join("allowed_signers");
    std::fs::write(&allowed, format!("golden-issuer {}\n", public_key_line())).expect("write");
    for name in ["receipt-hq-received", "receipt-coordinator-imported"] {
        let file = text(name);
        let split = file.find('\n').expect("a first line") + 1;
        let sig = tmp.path().join(format!("{name}.sig"));
        std::fs::write(&sig, &file[split..]).expect("write");
        let mut child = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args([
                "-I",
                "golden-issuer",
                "-n",
                "yaddash-receipt@yaddash.org",
                "-s",
            ])
            .arg(&sig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ssh-keygen");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin
                .write_all(&file.as_bytes()[..split])
                .expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "ssh-keygen refused {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The signed request: its lines are the method, the path and query, the
/// four headers (`x-yaddash-signer`, `-time`, `-nonce`, `-signature`) and the
/// body (see the README).
#[test]
fn golden_signed_request_verifies() {
    let file = text("request-signed.txt");
    let l: Vec<&str> = file.splitn(7, '\n').collect();
    assert_eq!(l.len(), 7, "seven parts");
    assert_eq!((l[0], l[1]), ("POST", "/v1/uploads"));
    let auth = RequestAuth::parse(Some(l[2]), Some(l[3]), Some(l[4]), Some(l[5]))
        .expect("the headers parse");
    assert_eq!(auth.signer, device_id());
    assert_eq!(auth.time, AT);
    assert_eq!(auth.nonce, "0123456789abcdef0123456789abcdef");
    let key = keys().signing_public_key();
    let body = Sha256Hash::digest(l[6].as_bytes());
    auth.verify(&key, l[0], l[1], &body)
        .expect("the signature verifies");
    // It covers the method, the path and the body.
    assert!(auth.verify(&key, "GET", l[1], &body).is_err());
    assert!(auth.verify(&key, l[0], "/v1/bundles", &body).is_err());
    assert!(
        auth.verify(&key, l[0], l[1], &Sha256Hash::digest(b"{}"))
            .is_err()
    );
}

#[test]
fn golden_enrollment_code_verifies() {
    let code = EnrollCode::from_text(&text("enroll-code.txt")).expect("the code parses");
    assert_eq!(code.issuer, device_id());
    assert_eq!(code.expires_at, AT);
    code.verify(&keys().signing_public_key())
        .expect("the code's signature verifies");
    let other = DeviceKeys::generate().signing_public_key();
    assert!(code.verify(&other).is_err());
}

/// Both trust files import into a field vault through the real binary, with
/// the same fingerprints as when they were made (the fingerprint is read
/// over the phone: it must not change for the same file).
#[test]
fn golden_trust_files_import_into_a_field_vault() {
    for (name, fingerprint, server, preset) in [
        (
            "trust-with-server-key.json",
            "7583-C26E-2E4A-DB4F",
            Some(SIGNER_FPR),
            true,
        ),
        (
            "trust-without-server-key.json",
            "5488-C8F6-E047-D2BC",
            None,
            false,
        ),
    ] {
        let v = TestVault::init("field");
        let file = dir().join(name);
        let out = v.json(&["trust", "import", file.to_str().expect("path")]);
        assert_eq!(out["fingerprint"], fingerprint, "{name}: {out}");
        assert_eq!(out["hq_id"], HQ_ID, "{name}");
        assert_eq!(
            out["coordinators"][0]["device_id"], "00000000-0000-0000-0000-000000000009",
            "{name}"
        );
        assert_eq!(
            out["coordinators"][0]["signing_key"]
                .as_str()
                .and_then(|k| k.split(' ').nth(1)),
            public_key_line().split(' ').nth(1),
            "{name}"
        );
        assert_eq!(out["server_fingerprint"].as_str(), server, "{name}");
        assert_eq!(out["policy_preset"], preset, "{name}");
    }
}
