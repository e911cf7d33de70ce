//! Load generator for `scripts/bench-hq.sh`: starts `yaddash-hq` on a fresh
//! data directory, enrolls devices, uploads real bundles, reports figures.
//!
//! ```text
//! hq-bench throughput --hq-bin B --work DIR [--total-mib 1024] [--bundle-mib 16] [--parallel 4] [--put-url URL]
//! hq-bench concurrent --hq-bin B --work DIR [--devices 500] [--bundle-kib 1024]
//! ```
//! `--put-url` also PUTs the same files to another server (nginx WebDAV).
//! `YADDASH_HQ_DATABASE_URL` selects the metadata backend as for the server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;
use yaddash_bundle::{BundleSpec, DeviceKeys, EntrySource, write_bundle};
use yaddash_sync::Client;
use yaddash_wire::hq::DeviceKeysPublic;
use yaddash_wire::request::EnrollCode;
use yaddash_wire::trust::{TRUST_FORMAT, TRUST_VERSION, TrustFile};

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// CPU seconds (user + system) the server process has used so far.
    fn cpu_secs(&self) -> f64 {
        proc_cpu_secs(&format!("/proc/{}/stat", self.child.id()))
    }

    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

/// User + system CPU seconds from a `/proc/.../stat` file (0 if unreadable).
fn proc_cpu_secs(stat: &str) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    let fields: Vec<&str> = text
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 (11 and 12 after the name), in
    // clock ticks of 1/100 s (USER_HZ, fixed at 100 for /proc on Linux).
    (ticks(11) + ticks(12)) / 100.0
}

struct Hq {
    coordinator: DeviceKeys,
    coordinator_id: Uuid,
    server: Server,
}

fn start(hq_bin: &Path, work: &Path) -> Hq {
    let coordinator = DeviceKeys::generate();
    let coordinator_id = Uuid::now_v7();
    let trust = serde_json::to_value(TrustFile {
        format: TRUST_FORMAT.into(),
        version: TRUST_VERSION,
        hq_id: "bench".into(),
        coordinators: vec![coordinator.public_identity(coordinator_id)],
        hq_server_key: None,
        policy: None,
    })
    .expect("trust file");
    std::fs::create_dir_all(work).expect("work dir");
    let trust_path = work.join("trust.json");
    std::fs::write(&trust_path, trust.to_string()).expect("trust");
    let data = work.join("hq-data");
    let st = Command::new(hq_bin)
        .args(["init", "--data"])
        .arg(&data)
        .arg("--trust")
        .arg(&trust_path)
        .stdout(Stdio::null())
        .status()
        .expect("init");
    assert!(st.success());
    let mut child = Command::new(hq_bin)
        .args(["serve", "--data"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .env("YADDASH_HQ_RATE_PER_MINUTE", "1000000")
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listen line")
        .to_owned();
    Hq {
        coordinator,
        coordinator_id,
        server: Server { child, url },
    }
}

struct Dev {
    keys: DeviceKeys,
    id: Uuid,
}

fn enroll(hq: &Hq) -> Dev {
    let keys = DeviceKeys::generate();
    let id = Uuid::now_v7();
    let code = EnrollCode::issue(
        hq.coordinator.signing_key(),
        hq.coordinator_id,
        time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
    )
    .expect("code")
    .to_text();
    let p = keys.public_identity(id);
    Client::new(&hq.server.url, id, keys.signing_key())
        .expect("client")
        .enroll(
            &code,
            DeviceKeysPublic {
                device_id: id,
                signing_key: p.signing_key,
                age_recipient: p.age_recipient,
            },
        )
        .expect("enroll");
    Dev { keys, id }
}

fn make_bundle(hq: &Hq, dev: &Dev, seq: u64, bytes: usize, out: &Path) -> PathBuf {
    let spec = BundleSpec {
        device_id: dev.id,
        seq,
        prev_bundle_sha256: None,
        created_at: time::OffsetDateTime::now_utc(),
        hq_id: "bench".into(),
        recipients: vec![hq.coordinator.age_recipient()],
    };
    let mut data = vec![0u8; bytes];
    for (i, b) in data.iter_mut().enumerate() {
        *b = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes()[7]
            ^ rand::random::<u8>() & 0x0f;
    }
    let path = out.join(format!("{}-{seq}.yaddash", dev.id));
    let mut f = std::fs::File::create(&path).expect("create");
    write_bundle(
        &mut f,
        &dev.keys,
        &spec,
        vec![EntrySource::from_bytes("records/r.bin", &data)],
    )
    .expect("bundle");
    path
}

/// Throughput ratio yaddash-hq / peer for the same bytes.
fn hq_secs_ratio(hq_secs: f64, peer_secs: f64) -> f64 {
    peer_secs / hq_secs
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).cloned().unwrap_or_default();
    let hq_bin = PathBuf::from(arg(&args, "--hq-bin", "target/release/yaddash-hq"));
    let work = PathBuf::from(arg(&args, "--work", "/tmp/hq-bench"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work");
    let backend = std::env::var("YADDASH_HQ_DATABASE_URL")
        .map(|_| "postgres")
        .unwrap_or("sqlite");
    match mode.as_str() {
        "throughput" => {
            let total_mib: usize = arg(&args, "--total-mib", "1024").parse().expect("number");
            let bundle_mib: usize = arg(&args, "--bundle-mib", "16").parse().expect("number");
            let parallel: usize = arg(&args, "--parallel", "4").parse().expect("number");
            let hq = start(&hq_bin, &work.join("hq"));
            let n = total_mib / bundle_mib;
            let devs: Vec<Dev> = (0..parallel).map(|_| enroll(&hq)).collect();
            let files_dir = work.join("files");
            std::fs::create_dir_all(&files_dir).expect("dir");
            let files: Vec<(usize, PathBuf)> = (0..n)
                .map(|i| {
                    (
                        i % parallel,
                        make_bundle(
                            &hq,
                            &devs[i % parallel],
                            i as u64 + 1,
                            bundle_mib << 20,
                            &files_dir,
                        ),
                    )
                })
                .collect();
            let bytes: u64 = files
                .iter()
                .map(|(_, p)| std::fs::metadata(p).expect("meta").len())
                .sum();
            let queue = Arc::new(Mutex::new(files.clone()));
            let devs = Arc::new(devs);
            let (server_cpu0, client_cpu0) =
                (hq.server.cpu_secs(), proc_cpu_secs("/proc/self/stat"));
            let t = Instant::now();
            let threads: Vec<_> = (0..parallel)
                .map(|w| {
                    let (queue, devs, url) =
                        (Arc::clone(&queue), Arc::clone(&devs), hq.server.url.clone());
                    std::thread::spawn(move || {
                        let d = &devs[w];
                        let c = Client::new(&url, d.id, d.keys.signing_key()).expect("client");
                        loop {
                            let next = {
                                let mut q = queue.lock().expect("lock");
                                q.iter().position(|(o, _)| *o == w).map(|i| q.remove(i))
                            };
                            let Some((_, p)) = next else { break };
                            c.upload_bundle(&p, &mut |_, _| {}).expect("upload");
                        }
                    })
                })
                .collect();
            for th in threads {
                th.join().expect("thread");
            }
            let secs = t.elapsed().as_secs_f64();
            let hq_secs = secs;
            println!(
                "yaddash-hq ({backend}): {} bundles, {:.0} MiB in {:.2} s = {:.1} MiB/s (parallel {parallel}), peak RSS {} MiB; CPU: server {:.2} s, client {:.2} s",
                n,
                bytes as f64 / 1048576.0,
                secs,
                bytes as f64 / 1048576.0 / secs,
                hq.server.peak_rss_kib() / 1024,
                hq.server.cpu_secs() - server_cpu0,
                proc_cpu_secs("/proc/self/stat") - client_cpu0,
            );
            if let Some(put) = args
                .iter()
                .position(|a| a == "--put-url")
                .and_then(|i| args.get(i + 1))
                .cloned()
            {
                let queue = Arc::new(Mutex::new(files));
                let t = Instant::now();
                let threads: Vec<_> = (0..parallel)
                    .map(|_| {
                        let (queue, put) = (Arc::clone(&queue), put.clone());
                        std::thread::spawn(move || {
                            let http = yaddash_sync::http_client(Duration::from_secs(600))
                                .expect("client");
                            loop {
                                let next = queue.lock().expect("lock").pop();
                                let Some((_, p)) = next else { break };
                                let name =
                                    p.file_name().expect("name").to_string_lossy().into_owned();
                                let body = std::fs::read(&p).expect("read");
                                let r = http
                                    .put(format!("{}/{name}", put.trim_end_matches('/')))
                                    .body(body)
                                    .send()
                                    .expect("put");
                                assert!(r.status().is_success(), "PUT {}", r.status());
                            }
                        })
                    })
                    .collect();
                for th in threads {
                    th.join().expect("thread");
                }
                let secs = t.elapsed().as_secs_f64();
                // nginx does not fsync what it receives (no directive for
                // it): the second figure adds one `sync` of the whole
                // system after the last PUT, so both sides have the bytes
                // on disk when the clock stops.
                let st = std::process::Command::new("sync").status();
                assert!(st.map(|s| s.success()).unwrap_or(false), "sync failed");
                let synced = t.elapsed().as_secs_f64();
                let mib = bytes as f64 / 1048576.0;
                println!(
                    "nginx WebDAV PUT (no fsync): {mib:.0} MiB in {secs:.2} s = {:.1} MiB/s (parallel {parallel}); ratio yaddash-hq/nginx {:.2}",
                    mib / secs,
                    hq_secs_ratio(hq_secs, secs)
                );
                println!(
                    "nginx WebDAV PUT + sync: {mib:.0} MiB in {synced:.2} s = {:.1} MiB/s; ratio yaddash-hq/(nginx+sync) {:.2}",
                    mib / synced,
                    hq_secs_ratio(hq_secs, synced)
                );
            }
        }
        "concurrent" => {
            let devices: usize = arg(&args, "--devices", "500").parse().expect("number");
            let kib: usize = arg(&args, "--bundle-kib", "1024").parse().expect("number");
            let hq = start(&hq_bin, &work.join("hq"));
            let files_dir = work.join("files");
            std::fs::create_dir_all(&files_dir).expect("dir");
            let prepared: Vec<(Dev, PathBuf)> = (0..devices)
                .map(|_| {
                    let d = enroll(&hq);
                    let p = make_bundle(&hq, &d, 1, kib << 10, &files_dir);
                    (d, p)
                })
                .collect();
            let barrier = Arc::new(Barrier::new(devices));
            let latencies = Arc::new(Mutex::new(Vec::new()));
            let t = Instant::now();
            let threads: Vec<_> = prepared
                .into_iter()
                .map(|(d, p)| {
                    let (barrier, latencies, url) = (
                        Arc::clone(&barrier),
                        Arc::clone(&latencies),
                        hq.server.url.clone(),
                    );
                    std::thread::Builder::new()
                        .stack_size(256 * 1024)
                        .spawn(move || {
                            let c = Client::new(&url, d.id, d.keys.signing_key()).expect("client");
                            barrier.wait();
                            let s = Instant::now();
                            c.upload_bundle(&p, &mut |_, _| {}).expect("upload");
                            latencies
                                .lock()
                                .expect("lock")
                                .push(s.elapsed().as_secs_f64());
                        })
                        .expect("spawn")
                })
                .collect();
            for th in threads {
                th.join().expect("thread");
            }
            let wall = t.elapsed().as_secs_f64();
            let mut l = latencies.lock().expect("lock").clone();
            l.sort_by(|a, b| a.total_cmp(b));
            println!(
                "yaddash-hq ({backend}): {devices} devices x 1 bundle of {kib} KiB at once: p50 {:.2} s, p99 {:.2} s, max {:.2} s, all done in {wall:.2} s; server peak RSS {} MiB",
                percentile(&l, 0.5),
                percentile(&l, 0.99),
                l.last().copied().unwrap_or(0.0),
                hq.server.peak_rss_kib() / 1024
            );
        }
        _ => {
            eprintln!("usage: hq-bench throughput|concurrent --hq-bin B --work DIR ...");
            std::process::exit(2);
        }
    }
}
