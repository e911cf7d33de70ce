//! Replays every file of `fuzz/corpus/<target>/` through its target under
//! plain `cargo test`: the seeds, and every input a fuzzing run found that
//! crashed (kept there once fixed), so a regression fails CI without any
//! fuzzer installed.

use std::path::{Path, PathBuf};

use yaddash_fuzz::TARGETS;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn every_corpus_file_runs_through_its_target_without_a_panic() {
    let mut failed = Vec::new();
    let mut total = 0;
    for (name, target) in TARGETS {
        let inputs = files(&corpus(name));
        assert!(!inputs.is_empty(), "the corpus of {name} is empty");
        for p in inputs {
            let data = std::fs::read(&p).expect("read");
            total += 1;
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failed.push(p.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "panicked on: {failed:#?}");
    eprintln!("replayed {total} corpus files");
}

#[test]
fn every_target_has_a_corpus_directory_and_nothing_else_is_there() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut dirs: Vec<String> = std::fs::read_dir(&root)
        .expect("corpus")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(dirs, names);
}

/// Writes the seed corpus (valid inputs signed with the fixed keys, and a
/// few broken ones). Run by hand after a format change:
/// `cargo test --release -p yaddash-fuzz --test replay -- --ignored write_seed_corpus`
#[test]
#[ignore]
fn write_seed_corpus() {
    use yaddash_bundle::{BundleSpec, EntrySource, write_bundle};
    use yaddash_fuzz::{DEVICE_ID, HQ_ID, keys};
    use yaddash_wire::request::{EnrollCode, sign_request_at};
    use yaddash_wire::{Receipt, ReceiptKind, Sha256Hash, sign_receipt};

    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus(target);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(name), bytes).expect("write");
    };
    let at = time::OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time");

    // Bundles: a small valid one, and its first 600 bytes.
    let spec = BundleSpec {
        device_id: DEVICE_ID,
        seq: 1,
        prev_bundle_sha256: None,
        created_at: at,
        hq_id: HQ_ID.to_owned(),
        recipients: vec![keys().age_recipient()],
    };
    let record = br#"{"id":"01900000-0000-7000-8000-000000000002","kind":"person"}"#;
    let mut bundle = Vec::new();
    write_bundle(
        &mut bundle,
        keys(),
        &spec,
        vec![
            EntrySource::from_bytes("records/01900000-0000-7000-8000-000000000002.json", record),
            EntrySource::from_bytes("attachments/01900000-0000-7000-8000-000000000003", b"abc"),
        ],
    )
    .expect("bundle");
    // The fixed keys reach the signature and decryption checks.
    yaddash_fuzz::read_bundle(&bundle);
    put("read_bundle", "valid", &bundle);

    // age files to the fixed identity: empty, one short chunk, and several
    // chunks with a short last one.
    for (name, len) in [
        ("empty", 0usize),
        ("short", 100),
        ("three-chunks", 2 * 65_536 + 7),
    ] {
        let recipient = keys().age_recipient();
        let mut w = yaddash_agefile::Writer::new(Vec::new(), &[&recipient]).expect("age header");
        std::io::Write::write_all(&mut w, &vec![0x5a; len]).expect("age write");
        let file = w.finish().expect("age finish");
        yaddash_fuzz::age_file(&file);
        put("age_file", name, &file);
    }
    put("read_bundle", "truncated", &bundle[..600.min(bundle.len())]);

    // Receipts: both kinds, signed with the fixed key.
    for (name, kind, records) in [
        ("hq-received", ReceiptKind::HqReceived, vec![]),
        (
            "coordinator-imported",
            ReceiptKind::CoordinatorImported,
            vec![uuid::Uuid::from_u128(2)],
        ),
    ] {
        let r = Receipt::new(
            kind,
            Sha256Hash::digest(name.as_bytes()),
            DEVICE_ID,
            7,
            records,
            at,
            keys().signing_key(),
        );
        let file = sign_receipt(&r, keys().signing_key()).expect("sign");
        put("receipt", name, file.as_bytes());
    }
    put(
        "receipt",
        "not-a-receipt",
        b"{\"format\":\"yaddash-receipt\",\"version\":2}\n",
    );

    // Trust files: one with every field, one minimal.
    let mut policy = serde_json::to_value(yaddash_exchange::Policy::default()).expect("json");
    policy["route"] = serde_json::json!({"kind": "proxy", "url": "socks5h://127.0.0.1:9050"});
    policy["require_proxy"] = true.into();
    policy["utc_offset_minutes"] = 240.into();
    policy["chunk_kib"] = 64.into();
    let id = keys().public_identity(uuid::Uuid::from_u128(9));
    let full = serde_json::json!({
        "format": "yaddash-trust",
        "version": 1,
        "hq_id": HQ_ID,
        "coordinators": [id],
        "hq_server_key": keys().signing_key().public_key_openssh("hq"),
        "policy": policy,
    });
    put(
        "trust_file",
        "full",
        serde_json::to_string_pretty(&full)
            .expect("json")
            .as_bytes(),
    );
    let minimal = serde_json::json!({
        "format": "yaddash-trust", "version": 1, "hq_id": HQ_ID, "coordinators": [id],
    });
    put("trust_file", "minimal", minimal.to_string().as_bytes());

    // Signed requests: method, path, the four headers, body.
    let body = b"{\"bundles\":[]}";
    let auth = sign_request_at(
        keys().signing_key(),
        DEVICE_ID,
        "POST",
        "/v1/uploads",
        body,
        1_780_000_000,
        "0123456789abcdef0123456789abcdef",
    )
    .expect("sign");
    let text = format!(
        "POST\n/v1/uploads\n{}\n{}\n{}\n{}\n{}",
        auth.signer,
        auth.time,
        auth.nonce,
        auth.signature,
        String::from_utf8_lossy(body)
    );
    put("request", "signed", text.as_bytes());
    let code = EnrollCode::issue(keys().signing_key(), DEVICE_ID, 1_780_000_000).expect("code");
    put("request", "enroll-code", code.to_text().as_bytes());
}

/// The valid seeds really are valid for the fixed keys, so fuzzing starts
/// past the signature checks (a key or format change that breaks them fails
/// here: regenerate with `write_seed_corpus`).
#[test]
fn the_valid_seeds_pass_every_check() {
    use std::io::Cursor;
    use yaddash_bundle::{BundleReader, DecryptConfig, KnownSender, VerifyOnly};
    use yaddash_fuzz::{DEVICE_ID, HQ_ID, keys};

    let read = |target: &str, name: &str| std::fs::read(corpus(target).join(name)).expect("seed");
    let senders = std::collections::HashMap::from([(
        DEVICE_ID,
        KnownSender::from(&keys().public_identity(DEVICE_ID)),
    )]);
    let config = DecryptConfig {
        identity: keys().age_identity(),
        hq_id: HQ_ID,
    };
    BundleReader::open(Cursor::new(read("read_bundle", "valid")), &senders)
        .expect("outer")
        .decrypt(&config, &mut VerifyOnly)
        .expect("payload");

    let public = keys().signing_key().public_key_openssh("fuzz");
    for name in ["hq-received", "coordinator-imported"] {
        let text = String::from_utf8(read("receipt", name)).expect("utf-8");
        yaddash_wire::verify_receipt(&text, &public).expect(name);
    }
    for name in ["full", "minimal"] {
        let text = String::from_utf8(read("trust_file", name)).expect("utf-8");
        let t = yaddash_exchange::TrustFile::parse(&text).expect(name);
        yaddash_exchange::check_trust_file(&t).expect(name);
    }
    let text = String::from_utf8(read("request", "signed")).expect("utf-8");
    let l: Vec<&str> = text.splitn(7, '\n').collect();
    let auth =
        yaddash_wire::request::RequestAuth::parse(Some(l[2]), Some(l[3]), Some(l[4]), Some(l[5]))
            .expect("headers");
    auth.verify(
        &keys().signing_public_key(),
        l[0],
        l[1],
        &yaddash_wire::Sha256Hash::digest(l[6].as_bytes()),
    )
    .expect("signature");
    let code = String::from_utf8(read("request", "enroll-code")).expect("utf-8");
    yaddash_wire::request::EnrollCode::from_text(&code)
        .expect("code")
        .verify(&keys().signing_public_key())
        .expect("code signature");
}
