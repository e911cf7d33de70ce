//! Crash: kill -9 the server in the middle of an upload (a chunk half sent),
//! restart it; the upload resumes from the chunks already stored and nothing
//! accepted earlier is lost. With two instances (`scripts/test-hq.sh
//! --multi`): one is killed mid-upload and the upload resumes and completes
//! on the other.

mod hq_support;

use std::io::Write;
use std::net::TcpStream;

use hq_support::{Device, Hq, Server, signed, signed_headers};
use sha2::{Digest, Sha256};
use yaddash_wire::hq::{UploadInit, UploadStatus};

/// Sends the first `half` chunks of `bytes` to `addr`, then half of the next
/// one (left hanging); returns the upload id.
fn begin_upload(
    addr: std::net::SocketAddr,
    dev: &Device,
    bytes: &[u8],
    chunk: usize,
    half: usize,
) -> String {
    let init = UploadInit {
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
        chunk_size: chunk as u64,
        chunks: bytes
            .chunks(chunk)
            .map(|c| hex::encode(Sha256::digest(c)))
            .collect(),
    };
    let key = dev.keys.signing_key();
    let r = signed(
        addr,
        key,
        dev.id,
        "POST",
        "/v1/uploads",
        &serde_json::to_vec(&init).expect("json"),
    );
    let st: UploadStatus = serde_json::from_slice(&r.body).expect("status");
    for (i, c) in bytes.chunks(chunk).enumerate().take(half) {
        let r = signed(
            addr,
            key,
            dev.id,
            "PUT",
            &format!("/v1/uploads/{}/chunks/{i}", st.upload_id),
            c,
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let c = bytes.chunks(chunk).nth(half).expect("chunk");
    let pq = format!("/v1/uploads/{}/chunks/{half}", st.upload_id);
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "PUT {pq} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
        c.len()
    );
    for (k, v) in signed_headers(key, dev.id, "PUT", &pq, c) {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(&c[..chunk / 2]).expect("write");
    std::thread::sleep(std::time::Duration::from_millis(200));
    std::mem::forget(s);
    st.upload_id
}

#[test]
fn an_upload_begun_on_one_instance_resumes_on_the_other_after_kill_9() {
    let hq = Hq::new();
    let mut server = Server::start(&hq.data, &[]);
    if server.instances.len() < 2 {
        eprintln!("one instance (run scripts/test-hq.sh --multi for two): nothing to check");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let mut dev = Device::enroll(&hq, &server.url());
    let bundle = dev.bundle(&hq, tmp.path(), 1_500_000);
    let bytes = std::fs::read(&bundle).expect("read");
    const CHUNK: usize = 64 * 1024;
    let half = bytes.len().div_ceil(CHUNK) / 2;
    // Begun on instance A, which dies with a chunk half received.
    let upload_id = begin_upload(server.instances[0].addr, &dev, &bytes, CHUNK, half);
    server.kill_instance(0);

    // Instance B holds exactly the chunks A acknowledged.
    let r = signed(
        server.instances[1].addr,
        dev.keys.signing_key(),
        dev.id,
        "GET",
        &format!("/v1/uploads/{upload_id}"),
        b"",
    );
    let st: UploadStatus = serde_json::from_slice(&r.body).expect("status");
    assert_eq!(st.received, (0..half as u64).collect::<Vec<_>>());

    // The client resumes on B from there and B completes the bundle.
    let mut c = dev.client(&server.instance_url(1));
    c.chunk_size = CHUNK as u64;
    let mut first_report = None;
    let got = c
        .upload_bundle(&bundle, &mut |done, _| {
            first_report.get_or_insert(done);
        })
        .expect("upload resumed on the other instance");
    assert_eq!(first_report, Some((half * CHUNK) as u64));

    // A comes back; both instances serve the same bundle, intact.
    server.restart_instance(0);
    for i in 0..2 {
        let coord = hq.coordinator_client(&server.instance_url(i));
        let list = coord.list_bundles(0).expect("list");
        assert_eq!(list.bundles.len(), 1);
        assert_eq!(list.bundles[0].bundle_id, got.bundle_id);
        let dest = tmp.path().join(format!("dl-{i}"));
        coord
            .download_bundle(&list.bundles[0], &dest)
            .expect("download");
        assert_eq!(std::fs::read(&dest).expect("read"), bytes);
    }
    let receipts = dev
        .client(&server.instance_url(0))
        .receipts(0)
        .expect("receipts");
    assert_eq!(receipts.receipts.len(), 1);
}

#[test]
fn kill_9_mid_upload_then_resume_and_nothing_accepted_is_lost() {
    let hq = Hq::new();
    let mut server = Server::start(&hq.data, &[]);
    let tmp = tempfile::tempdir().expect("tmp");
    let mut dev = Device::enroll(&hq, &server.url());

    let first = dev.bundle(&hq, tmp.path(), 300_000);
    let accepted = dev
        .client(&server.url())
        .upload_bundle(&first, &mut |_, _| {})
        .expect("upload");

    let second = dev.bundle(&hq, tmp.path(), 1_500_000);
    let bytes = std::fs::read(&second).expect("read");
    const CHUNK: usize = 64 * 1024;
    let init = UploadInit {
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
        chunk_size: CHUNK as u64,
        chunks: bytes
            .chunks(CHUNK)
            .map(|c| hex::encode(Sha256::digest(c)))
            .collect(),
    };
    let total = init.chunks.len();
    let key = dev.keys.signing_key();
    let r = signed(
        server.addr,
        key,
        dev.id,
        "POST",
        "/v1/uploads",
        &serde_json::to_vec(&init).expect("json"),
    );
    let st: UploadStatus = serde_json::from_slice(&r.body).expect("status");
    let half = total / 2;
    for (i, c) in bytes.chunks(CHUNK).enumerate().take(half) {
        let r = signed(
            server.addr,
            key,
            dev.id,
            "PUT",
            &format!("/v1/uploads/{}/chunks/{i}", st.upload_id),
            c,
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // Chunk `half` is half sent when the server dies.
    let chunk = bytes.chunks(CHUNK).nth(half).expect("chunk");
    let pq = format!("/v1/uploads/{}/chunks/{half}", st.upload_id);
    let mut s = TcpStream::connect(server.addr).expect("connect");
    let mut req = format!(
        "PUT {pq} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
        chunk.len()
    );
    for (k, v) in signed_headers(key, dev.id, "PUT", &pq, chunk) {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(&chunk[..CHUNK / 2]).expect("write");
    std::thread::sleep(std::time::Duration::from_millis(200));
    server.restart(); // kill -9, then start again on the same port

    // The server kept exactly the chunks it had acknowledged.
    let r = signed(
        server.addr,
        key,
        dev.id,
        "GET",
        &format!("/v1/uploads/{}", st.upload_id),
        b"",
    );
    let st2: UploadStatus = serde_json::from_slice(&r.body).expect("status");
    assert_eq!(st2.received, (0..half as u64).collect::<Vec<_>>());

    // The client resumes: the first progress report already counts them.
    let mut c = dev.client(&server.url());
    c.chunk_size = CHUNK as u64;
    let mut first_report = None;
    let got = c
        .upload_bundle(&second, &mut |done, _| {
            first_report.get_or_insert(done);
        })
        .expect("resumed upload");
    assert_eq!(first_report, Some((half * CHUNK) as u64));

    // Nothing accepted earlier was lost: both bundles are there, intact.
    let coord = hq.coordinator_client(&server.url());
    let list = coord.list_bundles(0).expect("list");
    let ids: Vec<_> = list.bundles.iter().map(|b| b.bundle_id.clone()).collect();
    assert_eq!(ids, vec![accepted.bundle_id.clone(), got.bundle_id.clone()]);
    for (b, original) in list.bundles.iter().zip([&first, &second]) {
        let dest = tmp.path().join(format!("dl-{}", b.seq));
        coord.download_bundle(b, &dest).expect("download");
        assert_eq!(
            std::fs::read(&dest).expect("read"),
            std::fs::read(original).expect("read")
        );
    }
    // And the device still gets both receipts.
    let receipts = dev.client(&server.url()).receipts(0).expect("receipts");
    assert_eq!(receipts.receipts.len(), 2);
}
