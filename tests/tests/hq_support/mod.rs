//! Shared helpers for the HQ tests: start the real `yaddash-hq` binary on a
//! loopback port in a temporary data directory, a raw HTTP/1.1 client for
//! hostile requests, and a fault-injecting TCP proxy.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use uuid::Uuid;
use yaddash_bundle::{BundleSpec, DeviceKeys, EntrySource, write_bundle};
use yaddash_wire::SigningKey;
use yaddash_wire::request::sign_request;

pub mod socks;

/// The `yaddash-hq` binary: `$YADDASH_HQ_BIN`, or built on first use.
pub fn hq_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("YADDASH_HQ_BIN") {
            return PathBuf::from(p);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let release = !cfg!(debug_assertions);
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(&root)
            .args(["build", "-q", "-p", "yaddash-hq"]);
        if release {
            cmd.arg("--release");
        }
        assert!(
            cmd.status().expect("cargo build").success(),
            "building yaddash-hq failed"
        );
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        target
            .join(if release { "release" } else { "debug" })
            .join("yaddash-hq")
    })
    .clone()
}

/// The metadata backend under test: SQLite (default) or, when
/// `YADDASH_HQ_TEST_PG_BASE` is set (`postgres://user@127.0.0.1:PORT`, by
/// `scripts/test-hq.sh`), one fresh PostgreSQL database per data directory,
/// made with `createdb` (PGHOST/PGPORT/PGUSER from the environment).
pub fn db_url(data: &Path) -> Option<String> {
    let base = std::env::var("YADDASH_HQ_TEST_PG_BASE").ok()?;
    use sha2::Digest;
    let name = format!(
        "hq_{}",
        &hex::encode(sha2::Sha256::digest(data.to_string_lossy().as_bytes()))[..16]
    );
    let _ = Command::new("createdb")
        .arg(&name)
        .stderr(Stdio::null())
        .status();
    Some(format!("{}/{name}", base.trim_end_matches('/')))
}

/// Two-instance mode (`scripts/test-hq.sh --multi`): with
/// `YADDASH_HQ_TEST_S3_ENDPOINT` set (an S3-compatible server on loopback,
/// credentials in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`) and
/// `YADDASH_HQ_TEST_PG_BASE`, every [`Server`] is two `yaddash-hq`
/// processes with data directories of their own (only `server.key` copied)
/// sharing one PostgreSQL database and one bucket prefix, behind a
/// round-robin TCP balancer (one instance per connection).
pub fn two_instances() -> bool {
    std::env::var_os("YADDASH_HQ_TEST_S3_ENDPOINT").is_some()
}

/// The bucket the test script creates for the two-instance mode.
pub const TEST_BUCKET: &str = "yaddash-hq-test";

/// Blob-store settings for `data` in two-instance mode (a bucket prefix
/// per headquarters).
fn blob_env(data: &Path) -> Vec<(String, String)> {
    let Ok(endpoint) = std::env::var("YADDASH_HQ_TEST_S3_ENDPOINT") else {
        return Vec::new();
    };
    vec![
        (
            "YADDASH_HQ_BLOB_STORE".into(),
            format!("s3://{TEST_BUCKET}/{}", blob_prefix(data)),
        ),
        ("YADDASH_HQ_S3_ENDPOINT".into(), endpoint),
        ("YADDASH_HQ_S3_REGION".into(), "us-east-1".into()),
        ("YADDASH_HQ_S3_ALLOW_HTTP".into(), "true".into()),
    ]
}

fn blob_prefix(data: &Path) -> String {
    use sha2::Digest;
    format!(
        "hq{}",
        &hex::encode(sha2::Sha256::digest(data.to_string_lossy().as_bytes()))[..16]
    )
}

/// Where an accepted bundle's bytes are, as a file: under the data
/// directory, or (two-instance mode) in the S3 server's own directory
/// (`YADDASH_HQ_TEST_S3_ROOT`, s3s-fs keeps an object as a file).
pub fn blob_file(data: &Path, bundle_id: &str) -> PathBuf {
    match std::env::var_os("YADDASH_HQ_TEST_S3_ROOT") {
        Some(root) if two_instances() => PathBuf::from(root)
            .join(TEST_BUCKET)
            .join(blob_prefix(data))
            .join("blobs")
            .join(format!("{bundle_id}.yaddash")),
        _ => data.join("blobs").join(format!("{bundle_id}.yaddash")),
    }
}

/// One `yaddash-hq serve` process.
pub struct Instance {
    pub child: Child,
    pub addr: SocketAddr,
    pub data: PathBuf,
}

impl Instance {
    fn start(data: &Path, listen: &str, env: &[(String, String)], db_of: &Path) -> Instance {
        let mut cmd = Command::new(hq_bin());
        cmd.args(["serve", "--data"])
            .arg(data)
            .args(["--listen", listen])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in blob_env(db_of).iter().chain(env) {
            cmd.env(k, v);
        }
        if let Some(url) = db_url(db_of) {
            cmd.env("YADDASH_HQ_DATABASE_URL", url);
        }
        let mut child = cmd.spawn().expect("start yaddash-hq");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read listen line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected server output {line:?}"))
            .parse()
            .expect("address");
        Instance {
            child,
            addr,
            data: data.to_owned(),
        }
    }

    /// kill -9.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running server: one process, or two behind a balancer (see
/// [`two_instances`]).
pub struct Server {
    /// Where tests send requests: the process, or the balancer.
    pub addr: SocketAddr,
    pub data: PathBuf,
    pub env: Vec<(String, String)>,
    pub instances: Vec<Instance>,
    balancer: Option<Balancer>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of instance `i` itself (not through the balancer).
    pub fn instance_url(&self, i: usize) -> String {
        format!("http://{}", self.instances[i].addr)
    }

    /// Starts `yaddash-hq serve` on an ephemeral loopback port (two of
    /// them in two-instance mode).
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Server {
        Self::start_on(
            data,
            "127.0.0.1:0",
            env.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    pub fn start_on(data: &Path, listen: &str, env: Vec<(String, String)>) -> Server {
        if !two_instances() {
            let one = Instance::start(data, listen, &env, data);
            return Server {
                addr: one.addr,
                data: data.to_owned(),
                env,
                instances: vec![one],
                balancer: None,
            };
        }
        // Instance B: a data directory of its own holding only the key.
        let b_data = second_data_dir(data);
        let a = Instance::start(data, "127.0.0.1:0", &env, data);
        let b = Instance::start(&b_data, "127.0.0.1:0", &env, data);
        let balancer = Balancer::start(listen, vec![a.addr, b.addr]);
        Server {
            addr: balancer.addr,
            data: data.to_owned(),
            env,
            instances: vec![a, b],
            balancer: Some(balancer),
        }
    }

    /// kill -9 (every instance).
    pub fn kill(&mut self) {
        for i in &mut self.instances {
            i.kill();
        }
    }

    /// kill -9 one instance (the balancer then sends everything to the
    /// others).
    pub fn kill_instance(&mut self, i: usize) {
        self.instances[i].kill();
    }

    /// Restarts (every instance) on the same address(es).
    pub fn restart(&mut self) {
        self.kill();
        for i in 0..self.instances.len() {
            self.restart_instance(i);
        }
    }

    /// kill -9 instance `i`, then start it again on the same port.
    pub fn restart_instance(&mut self, i: usize) {
        self.instances[i].kill();
        let listen = self.instances[i].addr.to_string();
        let data = self.instances[i].data.clone();
        let mut last = None;
        for _ in 0..50 {
            let s =
                std::panic::catch_unwind(|| Instance::start(&data, &listen, &self.env, &self.data));
            match s {
                Ok(s) => {
                    self.instances[i] = s;
                    return;
                }
                Err(e) => {
                    last = Some(e);
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        std::panic::resume_unwind(last.expect("error"));
    }

    /// GET /v1/health as JSON. With two instances: the shared counts from
    /// the database (the same at each), and each instance's own counters
    /// (`requests`, `refused`, ...) summed.
    pub fn health(&self) -> serde_json::Value {
        let mut total: Option<serde_json::Value> = None;
        for inst in &self.instances {
            let r = raw(inst.addr, "GET", "/v1/health", &[], b"");
            assert_eq!(r.status, 200, "{}", r.text());
            let h: serde_json::Value = serde_json::from_slice(&r.body).expect("health json");
            match &mut total {
                None => total = Some(h),
                Some(t) => {
                    for k in ["requests", "refused", "bundles_accepted", "bytes_received"] {
                        let sum = t[k].as_u64().unwrap_or(0) + h[k].as_u64().unwrap_or(0);
                        t[k] = sum.into();
                    }
                }
            }
        }
        total.expect("an instance")
    }
}

/// `DATA-b`: instance B's data directory, with a copy of the server key
/// (what an operator distributes to each instance) and nothing else.
fn second_data_dir(data: &Path) -> PathBuf {
    let mut name = data.file_name().expect("name").to_owned();
    name.push("-b");
    let b = data.with_file_name(name);
    std::fs::create_dir_all(&b).expect("mkdir");
    std::fs::copy(data.join("server.key"), b.join("server.key")).expect("copy key");
    b
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        drop(self.balancer.take());
    }
}

/// A round-robin TCP balancer: each connection goes to the next instance
/// that accepts it.
pub struct Balancer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Balancer {
    pub fn start(listen: &str, upstream: Vec<SocketAddr>) -> Balancer {
        let listener = TcpListener::bind(listen).expect("bind balancer");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut next = 0usize;
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let mut server = None;
                for k in 0..upstream.len() {
                    let target = upstream[(next + k) % upstream.len()];
                    if let Ok(s) = TcpStream::connect(target) {
                        server = Some(s);
                        next = (next + k + 1) % upstream.len();
                        break;
                    }
                }
                let Some(server) = server else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Balancer { addr, stop }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// `yaddash-hq init`; returns its stdout.
pub fn hq_init(data: &Path, trust: &Path) -> String {
    let mut cmd = Command::new(hq_bin());
    cmd.args(["init", "--data"])
        .arg(data)
        .arg("--trust")
        .arg(trust);
    if let Some(url) = db_url(data) {
        cmd.env("YADDASH_HQ_DATABASE_URL", url);
    }
    let out = cmd.output().expect("yaddash-hq init");
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `yaddash-hq ARGS --data DATA` (an administrator's local command);
/// returns (success, stdout + stderr).
pub fn hq_admin(data: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(hq_bin());
    cmd.args(args).arg("--data").arg(data);
    if let Some(url) = db_url(data) {
        cmd.env("YADDASH_HQ_DATABASE_URL", url);
    }
    let out = cmd.output().expect("yaddash-hq");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A raw HTTP answer.
pub struct Raw {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn code(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
pub fn raw(
    addr: SocketAddr,
    method: &str,
    pq: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Raw {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut req = format!(
        "{method} {pq} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    read_response(&mut s)
}

/// Reads a whole response from a `Connection: close` stream.
pub fn read_response(s: &mut TcpStream) -> Raw {
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = match all.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => all[i + 4..].to_vec(),
        None => Vec::new(),
    };
    Raw { status, body }
}

/// Signature headers for a request.
pub fn signed_headers(
    key: &SigningKey,
    signer: Uuid,
    method: &str,
    pq: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    let a = sign_request(key, signer, method, pq, body).expect("sign");
    vec![
        ("x-yaddash-signer".into(), a.signer.to_string()),
        ("x-yaddash-time".into(), a.time.to_string()),
        ("x-yaddash-nonce".into(), a.nonce),
        ("x-yaddash-signature".into(), a.signature),
    ]
}

/// A signed raw request.
pub fn signed(
    addr: SocketAddr,
    key: &SigningKey,
    signer: Uuid,
    method: &str,
    pq: &str,
    body: &[u8],
) -> Raw {
    raw(
        addr,
        method,
        pq,
        &signed_headers(key, signer, method, pq, body),
        body,
    )
}

/// Coordinator keys and a trust file for `yaddash-hq init`, without a vault.
pub struct Hq {
    pub tmp: tempfile::TempDir,
    /// The first coordinator (number 0).
    pub coordinator: DeviceKeys,
    pub coordinator_id: Uuid,
    /// The other coordinators of the trust file (numbers 1, 2, ...).
    pub others: Vec<(DeviceKeys, Uuid)>,
    pub data: PathBuf,
}

pub const HQ_ID: &str = "hq.test";

/// A `yaddash trust export`-shaped file naming `coordinators`.
pub fn write_trust(path: &Path, coordinators: &[(&DeviceKeys, Uuid)]) {
    let ids: Vec<_> = coordinators
        .iter()
        .map(|(k, id)| k.public_identity(*id))
        .collect();
    let trust = serde_json::json!({
        "format": "yaddash-trust", "version": 1, "hq_id": HQ_ID,
        "coordinators": ids, "some_future_field": true,
    });
    std::fs::write(path, trust.to_string()).expect("trust");
}

impl Hq {
    pub fn new() -> Hq {
        Self::with_coordinators(1)
    }

    /// A headquarters with `n` coordinators.
    pub fn with_coordinators(n: usize) -> Hq {
        let tmp = tempfile::tempdir().expect("tmp");
        let coordinator = DeviceKeys::generate();
        let coordinator_id = Uuid::now_v7();
        let others: Vec<(DeviceKeys, Uuid)> = (1..n.max(1))
            .map(|_| (DeviceKeys::generate(), Uuid::now_v7()))
            .collect();
        let hq = Hq {
            data: tmp.path().join("hq"),
            tmp,
            coordinator,
            coordinator_id,
            others,
        };
        let trust_path = hq.tmp.path().join("trust.json");
        let all: Vec<(&DeviceKeys, Uuid)> = (0..n.max(1)).map(|i| hq.key_of(i)).collect();
        write_trust(&trust_path, &all);
        hq_init(&hq.data, &trust_path);
        hq
    }

    /// Keys and id of coordinator `i`.
    pub fn key_of(&self, i: usize) -> (&DeviceKeys, Uuid) {
        if i == 0 {
            (&self.coordinator, self.coordinator_id)
        } else {
            let (k, id) = &self.others[i - 1];
            (k, *id)
        }
    }

    /// A one-time enrollment code.
    pub fn code(&self) -> String {
        self.code_by(0)
    }

    /// A one-time enrollment code issued by coordinator `i`.
    pub fn code_by(&self, i: usize) -> String {
        let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        let (k, id) = self.key_of(i);
        yaddash_wire::request::EnrollCode::issue(k.signing_key(), id, exp)
            .expect("code")
            .to_text()
    }

    pub fn coordinator_client(&self, url: &str) -> yaddash_sync::Client {
        self.client_of(0, url)
    }

    /// The HTTP client of coordinator `i`.
    pub fn client_of(&self, i: usize, url: &str) -> yaddash_sync::Client {
        let (k, id) = self.key_of(i);
        yaddash_sync::Client::new(url, id, k.signing_key()).expect("client")
    }

    /// A raw request signed by coordinator `i`.
    pub fn signed_by(
        &self,
        i: usize,
        addr: SocketAddr,
        method: &str,
        pq: &str,
        body: &[u8],
    ) -> Raw {
        let (k, id) = self.key_of(i);
        signed(addr, k.signing_key(), id, method, pq, body)
    }
}

/// A field device (keys only) enrolled at the server.
pub struct Device {
    pub keys: DeviceKeys,
    pub id: Uuid,
    pub seq: u64,
}

impl Device {
    pub fn enroll(hq: &Hq, url: &str) -> Device {
        let keys = DeviceKeys::generate();
        let id = Uuid::now_v7();
        let d = Device { keys, id, seq: 0 };
        let p = d.keys.public_identity(id);
        d.client(url)
            .enroll(
                &hq.code(),
                yaddash_wire::hq::DeviceKeysPublic {
                    device_id: id,
                    signing_key: p.signing_key,
                    age_recipient: p.age_recipient,
                },
            )
            .expect("enroll");
        d
    }

    pub fn client(&self, url: &str) -> yaddash_sync::Client {
        yaddash_sync::Client::new(url, self.id, self.keys.signing_key()).expect("client")
    }

    /// Writes a real bundle of about `payload` random bytes; returns its path.
    pub fn bundle(&mut self, hq: &Hq, dir: &Path, payload: usize) -> PathBuf {
        self.seq += 1;
        let spec = BundleSpec {
            device_id: self.id,
            seq: self.seq,
            prev_bundle_sha256: None,
            created_at: time::OffsetDateTime::now_utc(),
            hq_id: HQ_ID.into(),
            recipients: vec![hq.coordinator.age_recipient()],
        };
        let data: Vec<u8> = (0..payload).map(|_| rand::random::<u8>()).collect();
        let path = dir.join(format!("{}-{}.yaddash", self.id, self.seq));
        let mut f = std::fs::File::create(&path).expect("create");
        write_bundle(
            &mut f,
            &self.keys,
            &spec,
            vec![EntrySource::from_bytes("records/r.json", &data)],
        )
        .expect("write bundle");
        path
    }
}

/// A TCP proxy that delays and cuts connections at random points.
pub struct FaultProxy {
    pub addr: SocketAddr,
    pub cuts: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Each connection is cut with probability `cut_percent`/100 after a
    /// random number of bytes (either direction) below `max_cut_at`; reads
    /// are delayed by up to `max_delay_ms`.
    pub fn start(
        upstream: SocketAddr,
        cut_percent: u64,
        max_cut_at: u64,
        max_delay_ms: u64,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let cuts = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c2, s2) = (Arc::clone(&cuts), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let cut_at = if rand::random::<u64>() % 100 < cut_percent {
                    Some(rand::random::<u64>() % max_cut_at.max(1))
                } else {
                    None
                };
                let budget = Arc::new(AtomicU64::new(cut_at.unwrap_or(u64::MAX)));
                let cuts = Arc::clone(&c2);
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    let budget = Arc::clone(&budget);
                    let cuts = Arc::clone(&cuts);
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if max_delay_ms > 0 && rand::random::<u8>() < 32 {
                                std::thread::sleep(Duration::from_millis(
                                    rand::random::<u64>() % max_delay_ms,
                                ));
                            }
                            let left = budget.fetch_sub(n as u64, Ordering::SeqCst);
                            if left < n as u64 {
                                let _ = to.write_all(&buf[..left.min(n as u64) as usize]);
                                cuts.fetch_add(1, Ordering::SeqCst);
                                let _ = from.shutdown(std::net::Shutdown::Both);
                                let _ = to.shutdown(std::net::Shutdown::Both);
                                break;
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        FaultProxy { addr, cuts, stop }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// The server key line `yaddash-hq init` printed (`server key: ssh-ed25519 …`).
pub fn init_server_key(init_out: &str) -> String {
    init_out
        .lines()
        .find_map(|l| l.strip_prefix("server key:"))
        .unwrap_or_else(|| panic!("no server key in {init_out:?}"))
        .trim()
        .to_owned()
}

/// Re-exports the coordinator's trust file with the server key `yaddash-hq
/// init` printed, as the deployment procedure does: field devices pin it.
pub fn pin_server_key(coord: &yaddash_e2e::TestVault, trust: &Path, init_out: &str) {
    let key = init_server_key(init_out);
    coord.ok(&[
        "trust",
        "export",
        "--out",
        trust.to_str().expect("utf-8 path"),
        "--server-key",
        &key,
    ]);
}
