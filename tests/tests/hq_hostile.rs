//! Hostile clients against the real `yaddash-hq` binary: each gets the right
//! refusal, and the server keeps serving an honest device throughout.

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

#[test]
fn hostile_requests_are_refused_and_honest_devices_keep_working() {
    let hq = Hq::new();
    let server = Server::start(
        &hq.data,
        &[
            ("YADDASH_HQ_MAX_BUNDLE_BYTES", "2000000"),
            ("YADDASH_HQ_MAX_CHUNK_BYTES", "262144"),
            ("YADDASH_HQ_HEADER_TIMEOUT_SECS", "2"),
            ("YADDASH_HQ_BODY_TIMEOUT_SECS", "3"),
        ],
    );
    let url = server.url();
    let addr = server.addr;
    let tmp = tempfile::tempdir().expect("tmp");
    let mut honest = Device::enroll(&hq, &url);
    let mut mallory = Device::enroll(&hq, &url);
    let honest_upload = |d: &mut Device| {
        let p = d.bundle(&hq, tmp.path(), 1000);
        d.client(&url)
            .upload_bundle(&p, &mut |_, _| {})
            .expect("honest upload")
    };
    honest_upload(&mut honest);

    // Slow-loris: connections that dribble their headers are held open
    // while honest traffic goes on, and are closed after the header timeout.
    let mut lorises: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\n")
                .expect("write");
            s
        })
        .collect();
    honest_upload(&mut honest);
    let started = Instant::now();
    for s in &mut lorises {
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut buf = Vec::new();
        let _ = s.write_all(b"X-Slow: 1\r\n");
        let _ = s.read_to_end(&mut buf);
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "slow-loris connections were not closed"
    );

    // Slow body: headers complete, body never finishes -> 408.
    {
        let body = init_body(&[1u8; 100], 100);
        let h = signed_headers(
            honest.keys.signing_key(),
            honest.id,
            "POST",
            "/v1/uploads",
            &body,
        );
        let mut s = TcpStream::connect(addr).expect("connect");
        let mut req = format!(
            "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in &h {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).expect("write");
        s.write_all(&body[..10]).expect("write");
        let r = hq_support::read_response(&mut s);
        assert_eq!(
            (r.status, r.code().as_str()),
            (408, "body_timeout"),
            "{}",
            r.text()
        );
    }

    // Unsigned.
    let r = raw(addr, "POST", "/v1/uploads", &[], b"{}");
    assert_eq!(
        (r.status, r.code().as_str()),
        (401, "unsigned"),
        "{}",
        r.text()
    );
    // Malformed signature headers.
    let r = raw(
        addr,
        "GET",
        "/v1/receipts",
        &[("x-yaddash-signature".into(), "zz".into())],
        b"",
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (401, "bad_signature_headers")
    );
    // Badly signed: another key claims the honest device id.
    let other = SigningKey::generate();
    let r = signed(addr, &other, honest.id, "GET", "/v1/receipts?after=0", b"");
    assert_eq!(
        (r.status, r.code().as_str()),
        (401, "bad_signature"),
        "{}",
        r.text()
    );
    // Unknown signer.
    let r = signed(
        addr,
        &other,
        Uuid::now_v7(),
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    assert_eq!((r.status, r.code().as_str()), (401, "unknown_signer"));
    // Signature for another path or body.
    let mut h = signed_headers(
        honest.keys.signing_key(),
        honest.id,
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    let r = raw(addr, "GET", "/v1/receipts?after=5", &h, b"");
    assert_eq!(r.code(), "bad_signature");
    // Replayed: the very same signed request twice.
    h = signed_headers(
        honest.keys.signing_key(),
        honest.id,
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    assert_eq!(
        raw(addr, "GET", "/v1/receipts?after=0", &h, b"").status,
        200
    );
    let r = raw(addr, "GET", "/v1/receipts?after=0", &h, b"");
    assert_eq!((r.status, r.code().as_str()), (401, "replayed"));
    // Stale (clock skew beyond 5 minutes).
    let a = sign_request_at(
        honest.keys.signing_key(),
        honest.id,
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
    let r = raw(addr, "GET", "/v1/receipts?after=0", &h, b"");
    assert_eq!((r.status, r.code().as_str()), (401, "clock_skew"));
    // A device may not act as a coordinator.
    let r = signed(
        addr,
        honest.keys.signing_key(),
        honest.id,
        "GET",
        "/v1/bundles",
        b"",
    );
    assert_eq!((r.status, r.code().as_str()), (403, "wrong_role"));

    // Oversized bundle, oversized chunk size, oversized body.
    let big = UploadInit {
        size: 3_000_000,
        sha256: "a".repeat(64),
        chunk_size: 262_144,
        chunks: vec!["a".repeat(64); 12],
    };
    let r = signed(
        addr,
        honest.keys.signing_key(),
        honest.id,
        "POST",
        "/v1/uploads",
        &serde_json::to_vec(&big).expect("json"),
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "bundle_too_large"),
        "{}",
        r.text()
    );
    let r = signed(
        addr,
        honest.keys.signing_key(),
        honest.id,
        "POST",
        "/v1/uploads",
        &init_body(&[0u8; 1000], 300_000),
    );
    assert_eq!((r.status, r.code().as_str()), (400, "bad_chunk_size"));
    let r = signed(
        addr,
        honest.keys.signing_key(),
        honest.id,
        "PUT",
        "/v1/uploads/00/chunks/0",
        &vec![0u8; 300_000],
    );
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"));
    let r = signed(
        addr,
        honest.keys.signing_key(),
        honest.id,
        "POST",
        "/v1/uploads",
        b"{not json",
    );
    assert_eq!((r.status, r.code().as_str()), (400, "bad_json"));

    // Malformed chunk: bytes that do not match the announced hash.
    let bytes = vec![7u8; 5000];
    let r = signed(
        addr,
        mallory.keys.signing_key(),
        mallory.id,
        "POST",
        "/v1/uploads",
        &init_body(&bytes, 4096),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let st: UploadStatus = serde_json::from_slice(&r.body).expect("status");
    let pq = format!("/v1/uploads/{}/chunks/0", st.upload_id);
    let r = signed(
        addr,
        mallory.keys.signing_key(),
        mallory.id,
        "PUT",
        &pq,
        &[8u8; 4096],
    );
    assert_eq!((r.status, r.code().as_str()), (422, "chunk_mismatch"));
    let r = signed(
        addr,
        mallory.keys.signing_key(),
        mallory.id,
        "PUT",
        &pq,
        &[7u8; 100],
    );
    assert_eq!((r.status, r.code().as_str()), (422, "chunk_mismatch"));
    let r = signed(
        addr,
        mallory.keys.signing_key(),
        mallory.id,
        "PUT",
        &format!("/v1/uploads/{}/chunks/9", st.upload_id),
        &[7u8; 10],
    );
    assert_eq!((r.status, r.code().as_str()), (400, "bad_chunk_index"));
    // Another device cannot touch mallory's upload.
    let r = signed(
        addr,
        honest.keys.signing_key(),
        honest.id,
        "PUT",
        &pq,
        &bytes[..4096],
    );
    assert_eq!((r.status, r.code().as_str()), (404, "no_such_upload"));
    // Whole chunks that are not a bundle: refused at completion.
    for (i, c) in bytes.chunks(4096).enumerate() {
        let r = signed(
            addr,
            mallory.keys.signing_key(),
            mallory.id,
            "PUT",
            &format!("/v1/uploads/{}/chunks/{i}", st.upload_id),
            c,
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = signed(
        addr,
        mallory.keys.signing_key(),
        mallory.id,
        "POST",
        &format!("/v1/uploads/{}/complete", st.upload_id),
        b"",
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "bundle_rejected"),
        "{}",
        r.text()
    );
    // A real bundle made by the honest device, uploaded by mallory: refused.
    let stolen = honest.bundle(&hq, tmp.path(), 500);
    let err = mallory
        .client(&url)
        .upload_bundle(&stolen, &mut |_, _| {})
        .expect_err("stolen bundle");
    assert!(err.to_string().contains("not_your_bundle"), "{err}");
    // A bundle signed by a key that is not mallory's enrolled key.
    let mut forger = Device {
        keys: yaddash_bundle::DeviceKeys::generate(),
        id: mallory.id,
        seq: 0,
    };
    let forged = forger.bundle(&hq, tmp.path(), 500);
    let err = mallory
        .client(&url)
        .upload_bundle(&forged, &mut |_, _| {})
        .expect_err("forged");
    assert!(
        err.to_string().contains("bundle_signature_invalid"),
        "{err}"
    );
    // An expired or forged enrollment code.
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() - 10;
    let expired = yaddash_wire::request::EnrollCode::issue(
        hq.coordinator.signing_key(),
        hq.coordinator_id,
        exp,
    )
    .expect("code")
    .to_text();
    let newcomer = yaddash_bundle::DeviceKeys::generate();
    let nid = Uuid::now_v7();
    let p = newcomer.public_identity(nid);
    let keys = yaddash_wire::hq::DeviceKeysPublic {
        device_id: nid,
        signing_key: p.signing_key,
        age_recipient: p.age_recipient,
    };
    let c = yaddash_sync::Client::new(&url, nid, newcomer.signing_key()).expect("client");
    assert!(
        c.enroll(&expired, keys.clone())
            .expect_err("expired")
            .to_string()
            .contains("code_expired")
    );
    let forged_code = yaddash_wire::request::EnrollCode::issue(
        &SigningKey::generate(),
        hq.coordinator_id,
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

    // Revoked: mallory is revoked by the coordinator and refused from then on.
    hq.coordinator_client(&url)
        .revoke(mallory.id, "2000-01-01T00:00:00Z")
        .expect("revoke");
    let r = signed(
        addr,
        mallory.keys.signing_key(),
        mallory.id,
        "GET",
        "/v1/receipts?after=0",
        b"",
    );
    assert_eq!((r.status, r.code().as_str()), (403, "revoked"));
    let mb = mallory.bundle(&hq, tmp.path(), 100);
    assert!(
        mallory
            .client(&url)
            .upload_bundle(&mb, &mut |_, _| {})
            .is_err()
    );
    // A device cannot revoke.
    let r = signed(
        addr,
        honest.keys.signing_key(),
        honest.id,
        "POST",
        &format!("/v1/devices/{}/revoke", honest.id),
        br#"{"from":"2000-01-01T00:00:00Z"}"#,
    );
    assert_eq!(r.code(), "wrong_role");

    // Unknown endpoint, bad range.
    assert_eq!(
        raw(addr, "GET", "/etc/passwd", &[], b"").code(),
        "no_such_endpoint"
    );

    // Through all of this the honest device kept working, and exactly its
    // three bundles were accepted.
    honest_upload(&mut honest);
    let list = hq.coordinator_client(&url).list_bundles(0).expect("list");
    assert_eq!(list.bundles.len(), 3);
    assert!(list.bundles.iter().all(|b| b.device_id == honest.id));
    let h = server.health();
    assert!(h["refused"].as_u64().expect("refused") >= 15, "{h}");
}
