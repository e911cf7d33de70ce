//! Hostile clients against the real `yaddash-hq` binary, one test per
//! attack: each gets the right refusal, and the server keeps serving an
//! honest device throughout.

mod hq_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hq_support::{Device, Hq, Server, raw, signed, signed_headers};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use yaddash_wire::SigningKey;
use yaddash_wire::hq::{UploadInit, UploadStatus};
use yaddash_wire::request::sign_request_at;

fn init_body(bytes: &[u8], chunk: usize) -> Vec<u8> {
    let init = UploadInit {
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
        chunk_size: chunk as u64,
        chunks: bytes
            .chunks(chunk)
            .map(|c| hex::encode(Sha256::digest(c)))
            .collect(),
    };
    serde_json::to_vec(&init).expect("json")
}

/// A server with small limits, an honest device that has uploaded one
/// bundle, and a second enrolled device (mallory).
struct Scene {
    hq: Hq,
    server: Server,
    tmp: tempfile::TempDir,
    honest: Device,
    mallory: Device,
    honest_bundles: usize,
}

impl Scene {
    fn new() -> Scene {
        Self::with(&[])
    }

    fn with(extra: &[(&str, &str)]) -> Scene {
        let hq = Hq::new();
        let mut env = vec![
            ("YADDASH_HQ_MAX_BUNDLE_BYTES", "2000000"),
            ("YADDASH_HQ_MAX_CHUNK_BYTES", "262144"),
            ("YADDASH_HQ_HEADER_TIMEOUT_SECS", "2"),
            ("YADDASH_HQ_BODY_TIMEOUT_SECS", "3"),
        ];
        env.extend_from_slice(extra);
        let server = Server::start(&hq.data, &env);
        let url = server.url();
        let honest = Device::enroll(&hq, &url);
        let mallory = Device::enroll(&hq, &url);
        let mut s = Scene {
            hq,
            server,
            tmp: tempfile::tempdir().expect("tmp"),
            honest,
            mallory,
            honest_bundles: 0,
        };
        s.honest_upload();
        s
    }

    fn url(&self) -> String {
        self.server.url()
    }

    fn honest_upload(&mut self) {
        let p = self.honest.bundle(&self.hq, self.tmp.path(), 1000);
        self.honest
            .client(&self.server.url())
            .upload_bundle(&p, &mut |_, _| {})
            .expect("honest upload");
        self.honest_bundles += 1;
    }

    fn honest(&self, method: &str, pq: &str, body: &[u8]) -> hq_support::Raw {
        signed(
            self.server.addr,
            self.honest.keys.signing_key(),
            self.honest.id,
            method,
            pq,
            body,
        )
    }

    fn mallory(&self, method: &str, pq: &str, body: &[u8]) -> hq_support::Raw {
        signed(
            self.server.addr,
            self.mallory.keys.signing_key(),
            self.mallory.id,
            method,
            pq,
            body,
        )
    }

    /// The honest device still works, and exactly its bundles were accepted.
    fn honest_still_served(mut self) {
        self.honest_upload();
        let list = self
            .hq
            .coordinator_client(&self.url())
            .list_bundles(0)
            .expect("list");
        assert_eq!(list.bundles.len(), self.honest_bundles);
        assert!(list.bundles.iter().all(|b| b.device_id == self.honest.id));
    }
}

fn code(r: &hq_support::Raw) -> (u16, String) {
    (r.status, r.code())
}

#[test]
fn slow_loris_headers_are_cut_off() {
    let mut s = Scene::new();
    // Connections that dribble their headers are held open while honest
    // traffic goes on, and are closed after the header timeout.
    let mut lorises: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut c = TcpStream::connect(s.server.addr).expect("connect");
            c.write_all(b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\n")
                .expect("write");
            c
        })
        .collect();
    s.honest_upload();
    let started = Instant::now();
    for c in &mut lorises {
        c.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut buf = Vec::new();
        let _ = c.write_all(b"X-Slow: 1\r\n");
        let _ = c.read_to_end(&mut buf);
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "slow-loris connections were not closed"
    );
    s.honest_still_served();
}

#[test]
fn slow_body_times_out() {
    let s = Scene::new();
    // Headers complete, body never finishes -> 408.
    let body = init_body(&[1u8; 100], 100);
    let h = signed_headers(
        s.honest.keys.signing_key(),
        s.honest.id,
        "POST",
        "/v1/uploads",
        &body,
    );
    let mut c = TcpStream::connect(s.server.addr).expect("connect");
    let mut req = format!(
        "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in &h {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    c.write_all(req.as_bytes()).expect("write");
    c.write_all(&body[..10]).expect("write");
    let r = hq_support::read_response(&mut c);
    assert_eq!(code(&r), (408, "body_timeout".into()), "{}", r.text());
    s.honest_still_served();
}

#[test]
fn unsigned_and_malformed_signature_headers_are_refused() {
    let s = Scene::new();
    let r = raw(s.server.addr, "POST", "/v1/uploads", &[], b"{}");
    assert_eq!(code(&r), (401, "unsigned".into()), "{}", r.text());
    let r = raw(
        s.server.addr,
        "GET",
        "/v1/receipts",
        &[("x-yaddash-signature".into(), "zz".into())],
        b"",
    );
    assert_eq!(code(&r), (401, "bad_signature_headers".into()));
    s.honest_still_served();
}

#[test]
fn another_key_claiming_a_device_id_is_refused() {
    let s = Scene::new();
    let other = SigningKey::generate();
    let r = signed(
        s.server.addr,
        &other,
        s.honest.id,
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    assert_eq!(code(&r), (401, "bad_signature".into()), "{}", r.text());
    s.honest_still_served();
}

#[test]
fn unknown_signer_is_refused() {
    let s = Scene::new();
    let other = SigningKey::generate();
    let r = signed(
        s.server.addr,
        &other,
        Uuid::now_v7(),
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    assert_eq!(code(&r), (401, "unknown_signer".into()));
    s.honest_still_served();
}

#[test]
fn a_signature_for_another_path_is_refused() {
    let s = Scene::new();
    let h = signed_headers(
        s.honest.keys.signing_key(),
        s.honest.id,
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    let r = raw(s.server.addr, "GET", "/v1/receipts?after=5", &h, b"");
    assert_eq!(r.code(), "bad_signature");
    s.honest_still_served();
}

/// Two instances behave as one: a request accepted by one is a replay at
/// the other, and a device's rate is counted across both (nonces and rate
/// windows live in the shared database). With one instance this is the
/// same check against it alone.
#[test]
fn replays_and_rates_are_shared_by_the_instances() {
    let s = Scene::with(&[("YADDASH_HQ_RATE_PER_MINUTE", "20")]);
    let first = s.server.instances[0].addr;
    let last = s.server.instances[s.server.instances.len() - 1].addr;
    let h = signed_headers(
        s.mallory.keys.signing_key(),
        s.mallory.id,
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    let r = raw(first, "GET", "/v1/receipts?after=0", &h, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = raw(last, "GET", "/v1/receipts?after=0", &h, b"");
    assert_eq!(code(&r), (401, "replayed".into()), "{}", r.text());
    // 20 a minute: two used above (the replay counts too: its signature
    // verified), 18 more alternating, then refused at either instance.
    for i in 0..18 {
        let addr = s.server.instances[i % s.server.instances.len()].addr;
        let r = signed(
            addr,
            s.mallory.keys.signing_key(),
            s.mallory.id,
            "GET",
            "/v1/receipts?after=0",
            b"",
        );
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
    }
    for addr in [first, last] {
        let r = signed(
            addr,
            s.mallory.keys.signing_key(),
            s.mallory.id,
            "GET",
            "/v1/receipts?after=0",
            b"",
        );
        assert_eq!(code(&r), (429, "rate_limited".into()), "{}", r.text());
    }
    s.honest_still_served();
}

#[test]
fn a_replayed_request_is_refused() {
    let s = Scene::new();
    let h = signed_headers(
        s.honest.keys.signing_key(),
        s.honest.id,
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    assert_eq!(
        raw(s.server.addr, "GET", "/v1/receipts?after=0", &h, b"").status,
        200
    );
    let r = raw(s.server.addr, "GET", "/v1/receipts?after=0", &h, b"");
    assert_eq!(code(&r), (401, "replayed".into()));
    s.honest_still_served();
}

#[test]
fn a_stale_request_is_refused() {
    let s = Scene::new();
    let a = sign_request_at(
        s.honest.keys.signing_key(),
        s.honest.id,
        "GET",
        "/v1/receipts?after=0",
        b"",
        time::OffsetDateTime::now_utc().unix_timestamp() - 400,
        &"ab".repeat(16),
    )
    .expect("sign");
    let h = vec![
        ("x-yaddash-signer".to_string(), a.signer.to_string()),
        ("x-yaddash-time".to_string(), a.time.to_string()),
        ("x-yaddash-nonce".to_string(), a.nonce),
        ("x-yaddash-signature".to_string(), a.signature),
    ];
    let r = raw(s.server.addr, "GET", "/v1/receipts?after=0", &h, b"");
    assert_eq!(code(&r), (401, "clock_skew".into()));
    s.honest_still_served();
}

#[test]
fn a_device_may_not_act_as_a_coordinator() {
    let s = Scene::new();
    let r = s.honest("GET", "/v1/bundles", b"");
    assert_eq!(code(&r), (403, "wrong_role".into()));
    let r = s.honest(
        "POST",
        &format!("/v1/devices/{}/revoke", s.honest.id),
        br#"{"from":"2000-01-01T00:00:00Z"}"#,
    );
    assert_eq!(r.code(), "wrong_role");
    s.honest_still_served();
}

#[test]
fn oversized_bundles_chunks_and_bodies_are_refused() {
    let s = Scene::new();
    let big = UploadInit {
        size: 3_000_000,
        sha256: "a".repeat(64),
        chunk_size: 262_144,
        chunks: vec!["a".repeat(64); 12],
    };
    let r = s.honest(
        "POST",
        "/v1/uploads",
        &serde_json::to_vec(&big).expect("json"),
    );
    assert_eq!(code(&r), (413, "bundle_too_large".into()), "{}", r.text());
    let r = s.honest("POST", "/v1/uploads", &init_body(&[0u8; 1000], 300_000));
    assert_eq!(code(&r), (400, "bad_chunk_size".into()));
    let r = s.honest("PUT", "/v1/uploads/00/chunks/0", &vec![0u8; 300_000]);
    assert_eq!(code(&r), (413, "body_too_large".into()));
    let r = s.honest("POST", "/v1/uploads", b"{not json");
    assert_eq!(code(&r), (400, "bad_json".into()));
    s.honest_still_served();
}

#[test]
fn malformed_chunks_and_non_bundles_are_refused() {
    let s = Scene::new();
    let bytes = vec![7u8; 5000];
    let r = s.mallory("POST", "/v1/uploads", &init_body(&bytes, 4096));
    assert_eq!(r.status, 200, "{}", r.text());
    let st: UploadStatus = serde_json::from_slice(&r.body).expect("status");
    let pq = format!("/v1/uploads/{}/chunks/0", st.upload_id);
    let r = s.mallory("PUT", &pq, &[8u8; 4096]);
    assert_eq!(code(&r), (422, "chunk_mismatch".into()));
    let r = s.mallory("PUT", &pq, &[7u8; 100]);
    assert_eq!(code(&r), (422, "chunk_mismatch".into()));
    let r = s.mallory(
        "PUT",
        &format!("/v1/uploads/{}/chunks/9", st.upload_id),
        &[7u8; 10],
    );
    assert_eq!(code(&r), (400, "bad_chunk_index".into()));
    // Another device cannot touch mallory's upload.
    let r = s.honest("PUT", &pq, &bytes[..4096]);
    assert_eq!(code(&r), (404, "no_such_upload".into()));
    // Whole chunks that are not a bundle: refused at completion.
    for (i, c) in bytes.chunks(4096).enumerate() {
        let r = s.mallory(
            "PUT",
            &format!("/v1/uploads/{}/chunks/{i}", st.upload_id),
            c,
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = s.mallory(
        "POST",
        &format!("/v1/uploads/{}/complete", st.upload_id),
        b"",
    );
    assert_eq!(code(&r), (422, "bundle_rejected".into()), "{}", r.text());
    let h = s.server.health();
    assert!(h["refused"].as_u64().expect("refused") >= 5, "{h}");
    s.honest_still_served();
}

#[test]
fn another_devices_bundle_is_refused() {
    let mut s = Scene::new();
    let stolen = s.honest.bundle(&s.hq, s.tmp.path(), 500);
    let err = s
        .mallory
        .client(&s.url())
        .upload_bundle(&stolen, &mut |_, _| {})
        .expect_err("stolen bundle");
    assert!(err.to_string().contains("not_your_bundle"), "{err}");
    s.honest_still_served();
}

#[test]
fn a_bundle_signed_by_another_key_is_refused() {
    let s = Scene::new();
    let mut forger = Device {
        keys: yaddash_bundle::DeviceKeys::generate(),
        id: s.mallory.id,
        seq: 0,
    };
    let forged = forger.bundle(&s.hq, s.tmp.path(), 500);
    let err = s
        .mallory
        .client(&s.url())
        .upload_bundle(&forged, &mut |_, _| {})
        .expect_err("forged");
    assert!(
        err.to_string().contains("bundle_signature_invalid"),
        "{err}"
    );
    s.honest_still_served();
}

fn newcomer(url: &str) -> (yaddash_sync::Client, yaddash_wire::hq::DeviceKeysPublic) {
    let newcomer = yaddash_bundle::DeviceKeys::generate();
    let nid = Uuid::now_v7();
    let p = newcomer.public_identity(nid);
    let keys = yaddash_wire::hq::DeviceKeysPublic {
        device_id: nid,
        signing_key: p.signing_key,
        age_recipient: p.age_recipient,
    };
    let c = yaddash_sync::Client::new(url, nid, newcomer.signing_key()).expect("client");
    (c, keys)
}

#[test]
fn expired_and_forged_enrollment_codes_are_refused() {
    let s = Scene::new();
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() - 10;
    let expired = yaddash_wire::request::EnrollCode::issue(
        s.hq.coordinator.signing_key(),
        s.hq.coordinator_id,
        exp,
    )
    .expect("code")
    .to_text();
    let (c, keys) = newcomer(&s.url());
    assert!(
        c.enroll(&expired, keys.clone())
            .expect_err("expired")
            .to_string()
            .contains("code_expired")
    );
    let forged_code = yaddash_wire::request::EnrollCode::issue(
        &SigningKey::generate(),
        s.hq.coordinator_id,
        exp + 1000,
    )
    .expect("code")
    .to_text();
    assert!(
        c.enroll(&forged_code, keys)
            .expect_err("forged")
            .to_string()
            .contains("bad_code")
    );
    s.honest_still_served();
}

#[test]
fn a_revoked_device_is_refused() {
    let mut s = Scene::new();
    s.hq.coordinator_client(&s.url())
        .revoke(s.mallory.id, "2000-01-01T00:00:00Z")
        .expect("revoke");
    let r = s.mallory("GET", "/v1/receipts?after=0", b"");
    assert_eq!(code(&r), (403, "revoked".into()));
    let mb = s.mallory.bundle(&s.hq, s.tmp.path(), 100);
    assert!(
        s.mallory
            .client(&s.url())
            .upload_bundle(&mb, &mut |_, _| {})
            .is_err()
    );
    s.honest_still_served();
}

#[test]
fn unknown_endpoints_are_refused() {
    let s = Scene::new();
    assert_eq!(
        raw(s.server.addr, "GET", "/etc/passwd", &[], b"").code(),
        "no_such_endpoint"
    );
    s.honest_still_served();
}

/// Sends only the headers of a request announcing `content_length` body
/// bytes, and waits for the answer: how long it took, and what it was.
fn headers_only(
    addr: std::net::SocketAddr,
    method: &str,
    pq: &str,
    headers: &[(String, String)],
    content_length: u64,
) -> (hq_support::Raw, Duration) {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut req = format!(
        "{method} {pq} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {content_length}\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let started = Instant::now();
    c.write_all(req.as_bytes()).expect("write");
    let r = hq_support::read_response(&mut c);
    (r, started.elapsed())
}

#[test]
fn unknown_and_revoked_signers_are_refused_before_their_body_is_read() {
    let s = Scene::with(&[("YADDASH_HQ_BODY_TIMEOUT_SECS", "20")]);
    // An unknown signer announces 10 MB for a coordinator endpoint (16 MiB
    // limit) and sends none of it: refused at once from the headers.
    let stranger = SigningKey::generate();
    let h = signed_headers(&stranger, Uuid::now_v7(), "POST", "/v1/receipts", b"x");
    let (r, took) = headers_only(s.server.addr, "POST", "/v1/receipts", &h, 10_000_000);
    assert_eq!(code(&r), (401, "unknown_signer".into()), "{}", r.text());
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    // A revoked device announcing a 5 MB upload announcement: the same.
    s.hq.coordinator_client(&s.url())
        .revoke(s.mallory.id, "2000-01-01T00:00:00Z")
        .expect("revoke");
    let h = signed_headers(
        s.mallory.keys.signing_key(),
        s.mallory.id,
        "POST",
        "/v1/uploads",
        b"x",
    );
    let (r, took) = headers_only(s.server.addr, "POST", "/v1/uploads", &h, 5_000_000);
    assert_eq!(code(&r), (403, "revoked".into()), "{}", r.text());
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    s.honest_still_served();
}

/// A never-enrolled device with a code that does not verify (raw: the
/// client would wait out a 429 and retry).
fn bogus_enrollment(s: &Scene) -> String {
    let keys = yaddash_bundle::DeviceKeys::generate();
    let id = Uuid::now_v7();
    let p = keys.public_identity(id);
    let forged = yaddash_wire::request::EnrollCode::issue(
        &SigningKey::generate(),
        s.hq.coordinator_id,
        time::OffsetDateTime::now_utc().unix_timestamp() + 600,
    )
    .expect("code")
    .to_text();
    let body = serde_json::to_vec(&yaddash_wire::hq::EnrollRequest {
        code: forged,
        device: yaddash_wire::hq::DeviceKeysPublic {
            device_id: id,
            signing_key: p.signing_key,
            age_recipient: p.age_recipient,
        },
    })
    .expect("json");
    let r = signed(
        s.server.addr,
        keys.signing_key(),
        id,
        "POST",
        "/v1/enroll",
        &body,
    );
    format!("{} {}", r.status, r.code())
}

#[test]
fn made_up_enrollment_keys_do_not_grow_the_rate_table() {
    let s = Scene::new();
    for _ in 0..150 {
        let e = bogus_enrollment(&s);
        assert!(e.contains("bad_code"), "{e}");
    }
    let h = s.server.health();
    let entries = h["rate_entries"].as_u64().unwrap_or(u64::MAX);
    // The two devices and the coordinator at most; none of the 150.
    assert!(entries <= 3, "rate table has {entries} entries: {h}");
    s.honest_still_served();
}

#[test]
fn enrollment_attempts_are_rate_limited_server_wide() {
    // Two enrollments are used by the scene's devices.
    let s = Scene::with(&[("YADDASH_HQ_ENROLL_PER_MINUTE", "4")]);
    for _ in 0..2 {
        let e = bogus_enrollment(&s);
        assert!(e.contains("bad_code"), "{e}");
    }
    let e = bogus_enrollment(&s);
    assert!(e.contains("rate_limited"), "{e}");
    s.honest_still_served();
}

#[test]
fn a_device_over_its_rate_is_refused() {
    let s = Scene::with(&[("YADDASH_HQ_RATE_PER_MINUTE", "30")]);
    for i in 0..30 {
        let r = s.mallory("GET", "/v1/receipts?after=0", b"");
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
    }
    let r = s.mallory("GET", "/v1/receipts?after=0", b"");
    assert_eq!(code(&r), (429, "rate_limited".into()), "{}", r.text());
    s.honest_still_served();
}

#[test]
fn open_uploads_count_against_the_quota() {
    let s = Scene::with(&[("YADDASH_HQ_DEVICE_QUOTA_BYTES", "200000")]);
    let r = s.mallory("POST", "/v1/uploads", &init_body(&[1u8; 120_000], 65_536));
    assert_eq!(r.status, 200, "{}", r.text());
    // Never finished, but its chunks may arrive any time: it counts.
    let r = s.mallory("POST", "/v1/uploads", &init_body(&[2u8; 120_000], 65_536));
    assert_eq!(code(&r), (403, "quota_exceeded".into()), "{}", r.text());
    s.honest_still_served();
}

#[test]
fn too_many_open_uploads_are_refused() {
    let s = Scene::with(&[("YADDASH_HQ_MAX_UPLOADS_PER_DEVICE", "2")]);
    for b in 1..=2u8 {
        let r = s.mallory("POST", "/v1/uploads", &init_body(&[b; 100], 100));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = s.mallory("POST", "/v1/uploads", &init_body(&[3u8; 100], 100));
    assert_eq!(code(&r), (429, "too_many_uploads".into()), "{}", r.text());
    s.honest_still_served();
}

#[test]
fn an_unsatisfiable_range_is_refused() {
    let s = Scene::new();
    let list =
        s.hq.coordinator_client(&s.url())
            .list_bundles(0)
            .expect("list");
    let pq = format!("/v1/bundles/{}", list.bundles[0].bundle_id);
    let mut h = signed_headers(
        s.hq.coordinator.signing_key(),
        s.hq.coordinator_id,
        "GET",
        &pq,
        b"",
    );
    h.push(("Range".into(), "bytes=99999999-".into()));
    let r = raw(s.server.addr, "GET", &pq, &h, b"");
    assert_eq!(code(&r), (416, "bad_range".into()), "{}", r.text());
    s.honest_still_served();
}

#[test]
fn a_known_file_hash_does_not_yield_another_devices_receipt() {
    let mut s = Scene::new();
    let p = s.honest.bundle(&s.hq, s.tmp.path(), 700);
    s.honest
        .client(&s.url())
        .upload_bundle(&p, &mut |_, _| {})
        .expect("upload");
    s.honest_bundles += 1;
    // Mallory announces the very same file (she knows its hash).
    let bytes = std::fs::read(&p).expect("read");
    let r = s.mallory("POST", "/v1/uploads", &init_body(&bytes, 4096));
    assert_eq!(r.status, 200, "{}", r.text());
    let st: UploadStatus = serde_json::from_slice(&r.body).expect("status");
    assert!(
        st.receipt.is_none(),
        "another device's receipt was handed out: {:?}",
        st.receipt
    );
    assert!(!st.upload_id.is_empty());
    s.honest_still_served();
}
