//! Fuzz targets: each takes arbitrary bytes and must return (an error or a
//! value), never panic, hang or allocate without bound. The same functions
//! run under AFL++ (`scripts/fuzz.sh TARGET SECONDS`, see docs/fuzzing.md)
//! and, for every file of `fuzz/corpus/<target>/`, under `cargo test`
//! (`tests/replay.rs`).
//!
//! The keys are fixed test keys (in this directory, not secrets): inputs in
//! the corpus signed with them reach past the signature checks.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::OnceLock;

use uuid::Uuid;
use yaddash_bundle::{BundleReader, DecryptConfig, DeviceKeys, KnownSender, VerifyOnly};
use yaddash_wire::request::{EnrollCode, RequestAuth};
use yaddash_wire::{Sha256Hash, sign_receipt, verify_receipt};

/// The fuzzing device's OpenSSH private key (a fixed test key).
const DEVICE_KEY: &str = include_str!("fuzz_device_key");
/// The coordinator's age identity (a fixed test key).
const AGE_IDENTITY: &str =
    "AGE-SECRET-KEY-10QG9Q6XJ4LDJRKC59EUXPFGZJ4Y0GQCPQCVTXFHKKZYTWDENVSUS5V5VE5";
/// The headquarters id the bundle reader expects.
pub const HQ_ID: &str = "fuzz-hq";
/// The sending device's id in the corpus.
pub const DEVICE_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);

/// The fixed keys: the device signs bundles, receipts and requests, and its
/// age identity is the coordinator's.
pub fn keys() -> &'static DeviceKeys {
    static K: OnceLock<DeviceKeys> = OnceLock::new();
    K.get_or_init(|| {
        DeviceKeys::from_secrets(DEVICE_KEY, AGE_IDENTITY)
            .unwrap_or_else(|_| DeviceKeys::generate())
    })
}

fn senders() -> &'static HashMap<Uuid, KnownSender> {
    static S: OnceLock<HashMap<Uuid, KnownSender>> = OnceLock::new();
    S.get_or_init(|| {
        HashMap::from([(
            DEVICE_ID,
            KnownSender::from(&keys().public_identity(DEVICE_ID)),
        )])
    })
}

/// The bundle reader, both passes: outer verification, then decryption and
/// verification of every entry.
pub fn read_bundle(data: &[u8]) {
    let config = DecryptConfig {
        identity: keys().age_identity(),
        hq_id: HQ_ID,
    };
    if let Ok(reader) = BundleReader::open(Cursor::new(data), senders()) {
        let _ = reader.decrypt(&config, &mut VerifyOnly);
    }
}

/// The age file reader of the vault's attachments and the bundles' payloads
/// (`yaddash_agefile::Reader`): header, stanzas, MAC, then every chunk,
/// read to the end with the fixed identity (which inputs in the corpus are
/// encrypted to, so the chunk framing is reached too).
pub fn age_file(data: &[u8]) {
    let identity: &dyn age::Identity = keys().age_identity();
    if let Ok(mut r) = yaddash_agefile::Reader::new(data, &[identity]) {
        let _ = std::io::copy(&mut r, &mut std::io::sink());
    }
}

/// The receipt parser. The input as a whole receipt file (signature armour
/// parsing), and its first line signed here with the fixed key, so that the
/// JSON, version and field checks behind the signature are fuzzed too.
pub fn receipt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let public = keys().signing_key().public_key_openssh("fuzz");
    let _ = verify_receipt(text, &public);
    let line = match text.find('\n') {
        Some(i) => &text[..=i],
        None => return,
    };
    if let Ok(sig) = yaddash_wire::sshsig::sign_bytes(
        keys().signing_key(),
        yaddash_wire::sshsig::NAMESPACE_RECEIPT,
        line.as_bytes(),
    ) && let Ok(r) = verify_receipt(&format!("{line}{sig}"), &public)
    {
        // What is accepted signs again and reads back the same.
        let again = sign_receipt(&r, keys().signing_key()).expect("an accepted receipt signs");
        assert_eq!(verify_receipt(&again, &public).ok(), Some(r));
    }
}

/// The field device's trust-file parser (what `trust import` checks before
/// storing anything), and the fingerprint it shows.
pub fn trust_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = yaddash_exchange::TrustFile::parse(text)
        && yaddash_exchange::check_trust_file(&t).is_ok()
    {
        let _ = t.fingerprint();
        for c in &t.coordinators {
            let _ = yaddash_bundle::PublicIdentityExt::fingerprint(c);
        }
        if let Some(k) = &t.hq_server_key {
            let _ = yaddash_wire::signing_key_fingerprint(k);
        }
    }
}

/// The HQ server's signed-request parser: the input's lines are the method,
/// the path and query, and the four signature headers (signer, time, nonce,
/// signature); then the rest is the body. Parsed headers are verified
/// against the fixed key. The whole input is also read as an enrollment
/// code (`YDE1-…`).
pub fn request(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = EnrollCode::from_text(&text);
    let mut lines = text.splitn(7, '\n');
    let method = lines.next().unwrap_or_default();
    let path = lines.next().unwrap_or_default();
    let signer = lines.next();
    let time = lines.next();
    let nonce = lines.next();
    let signature = lines.next();
    let body = lines.next().unwrap_or_default();
    if let Ok(auth) = RequestAuth::parse(signer, time, nonce, signature) {
        let key = keys().signing_public_key();
        let _ = auth.verify(&key, method, path, &Sha256Hash::digest(body.as_bytes()));
    }
}

/// A fuzz target.
pub type Target = fn(&[u8]);

/// Every target by name (the corpus directory names).
pub const TARGETS: &[(&str, Target)] = &[
    ("read_bundle", read_bundle),
    ("age_file", age_file),
    ("receipt", receipt),
    ("trust_file", trust_file),
    ("request", request),
];
