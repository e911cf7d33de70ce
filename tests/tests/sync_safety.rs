//! Sync only when safe (issue 5), through the real binaries, a real HQ
//! server and a real SOCKS5 proxy on loopback: routing with names resolved
//! only by the proxy, no fallback when the proxy is down, the kill switch,
//! manual mode, a flaky link, and the outbox states.

mod hq_support;

use std::collections::HashMap;
use std::net::ToSocketAddrs;
use std::path::PathBuf;

use hq_support::socks::{Counter, Socks, closed_port};
use hq_support::{Server, hq_init, pin_server_key};
use yaddash_e2e::utf8 as s;
use yaddash_e2e::{TestVault, snapshot};

/// A name only the test proxy resolves.
const HQ_NAME: &str = "hq.yaddash-sync.test";

struct Setup {
    coord: TestVault,
    server: Server,
    trust: PathBuf,
}

fn setup(env: &[(&str, &str)]) -> Setup {
    let coord = TestVault::init("coordinator");
    let trust = coord.tmp.path().join("trust.json");
    coord.ok(&["trust", "export", "--out", s(&trust)]);
    let data = coord.tmp.path().join("hq-data");
    let init = hq_init(&data, &trust);
    pin_server_key(&coord, &trust, &init);
    let server = Server::start(&data, env);
    Setup {
        coord,
        server,
        trust,
    }
}

impl Setup {
    /// A field vault known to the coordinator, with the trust file, not enrolled.
    fn field(&self) -> TestVault {
        let f = TestVault::init("field");
        f.ok(&["trust", "import", s(&self.trust)]);
        let dev = f.tmp.path().join("device.json");
        std::fs::write(&dev, f.ok(&["--json", "device", "show"])).expect("write");
        self.coord.ok(&["device", "enroll", s(&dev)]);
        f
    }

    fn code(&self) -> String {
        self.coord.json(&["hq", "invite"])["code"]
            .as_str()
            .expect("code")
            .to_owned()
    }
}

fn outbox(f: &TestVault) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = f.dir.join("outbox");
    if dir.is_dir() {
        snapshot(&dir)
    } else {
        Vec::new()
    }
}

#[test]
fn every_connection_goes_through_the_proxy_and_names_are_resolved_there() {
    let st = setup(&[]);
    // The name cannot be resolved here: a local lookup could only fail.
    assert!(
        (HQ_NAME, 80).to_socket_addrs().is_err(),
        "{HQ_NAME} must not resolve locally"
    );
    let socks = Socks::start(HashMap::from([(HQ_NAME.to_owned(), st.server.addr)]), None);
    let f = st.field();
    f.ok(&[
        "policy",
        "set",
        "--proxy",
        &socks.url(),
        "--require-proxy",
        "on",
    ]);
    let url = format!("http://{HQ_NAME}:{}", st.server.addr.port());
    let out = f.json(&["hq", "enroll", &st.code(), "--url", &url]);
    assert_eq!(out["enrolled"], true);
    let p = f.add_person(&["Məmmədov Tofiq"]);
    let out = f.json(&["sync"]);
    assert_eq!(out["route"], "proxy", "{out}");
    assert_eq!(out["uploaded"].as_array().expect("list").len(), 1, "{out}");

    let seen = socks.connects();
    assert!(seen.len() >= 2, "{seen:?}");
    for c in &seen {
        // Address type 3: the proxy got the name, not an address.
        assert_eq!((c.atyp, c.host.as_str()), (3, HQ_NAME), "{seen:?}");
        assert_eq!(c.port, st.server.addr.port());
    }
    // It really arrived.
    let pulled = st.coord.json(&["hq", "pull", "--url", &st.server.url()]);
    assert_eq!(pulled["imported"].as_array().expect("list").len(), 1);
    assert!(st.coord.ok(&["show", &p]).contains("Məmmədov"));
    // The import receipt comes back through the proxy too.
    let before = socks.connects().len();
    let out = f.json(&["sync"]);
    assert_eq!(out["confirmed_imported"], serde_json::json!([1]), "{out}");
    assert!(socks.connects().len() > before);
    let listed = f.json(&["outbox", "list"]);
    assert_eq!(listed[0]["state"], "imported", "{listed}");
}

#[test]
fn proxy_down_means_no_connection_at_all_and_the_outbox_is_intact() {
    let st = setup(&[]);
    let counter = Counter::start(st.server.addr);
    let url = format!("http://{}", counter.addr);
    let f = st.field();
    f.json(&["hq", "enroll", &st.code(), "--url", &url]);
    let dead = format!("socks5h://127.0.0.1:{}", closed_port());
    f.ok(&["policy", "set", "--proxy", &dead, "--require-proxy", "on"]);
    f.add_person(&["Hüseynov Intiqam"]);
    // Put a bundle in the outbox without sending (the kill switch is on).
    f.ok(&["policy", "set", "--network", "off"]);
    let err = f.err(&["sync"]);
    assert!(err.contains("kill switch"), "{err}");
    f.ok(&["policy", "set", "--network", "on"]);

    let before_count = counter.count();
    let err = f.err(&["sync"]);
    assert!(
        err.contains("not reachable") && err.contains("nothing was tried directly"),
        "{err}"
    );
    // Also with a one-run proxy that is down.
    let err = f.err(&["sync", "--proxy", &dead]);
    assert!(err.contains("not reachable"), "{err}");
    // require-proxy cannot be dodged by switching the route to direct.
    let err = f.err(&["policy", "set", "--direct"]);
    assert!(err.contains("require proxy"), "{err}");
    assert_eq!(
        counter.count(),
        before_count,
        "a connection reached the server"
    );
    let kept = outbox(&f);
    assert_eq!(kept.len(), 1, "the bundle waits in the outbox");
    let listed = f.json(&["outbox", "list"]);
    assert_eq!(listed[0]["state"], "pending", "{listed}");

    // Proxy back: everything goes, through the proxy.
    let socks = Socks::start(HashMap::new(), None);
    f.ok(&["policy", "set", "--proxy", &socks.url()]);
    let out = f.json(&["sync"]);
    assert_eq!(out["uploaded"].as_array().expect("list").len(), 1, "{out}");
    assert!(!socks.connects().is_empty());
    assert!(
        socks
            .connects()
            .iter()
            .all(|c| c.port == counter.addr.port())
    );
    assert!(outbox(&f).is_empty());
}

#[test]
fn nothing_touches_the_network_until_sync_is_requested() {
    let st = setup(&[]);
    let counter = Counter::start(st.server.addr);
    let url = format!("http://{}", counter.addr);

    // A vault that never enabled sync: the automatic path does nothing.
    let fresh = st.field();
    let out = fresh.json(&["sync", "--auto"]);
    assert_eq!(out["skipped"], true, "{out}");
    let shown = fresh.json(&["policy", "show"]);
    assert_eq!(shown["enabled"], false, "{shown}");
    assert_eq!(counter.count(), 0);

    let f = st.field();
    f.json(&["hq", "enroll", &st.code(), "--url", &url]);
    let after_enroll = counter.count();
    assert!(after_enroll > 0);
    // Manual mode (the default): record, search, list, look at the outbox
    // and the travel status, and ask the scheduler path to send.
    f.add_person(&["Ismayilova Khadija"]);
    f.ok(&["search", "ismayilova"]);
    f.ok(&["outbox", "list"]);
    f.ok(&["travel", "status"]);
    let out = f.json(&["sync", "--auto"]);
    assert_eq!(out["skipped"], true, "{out}");
    assert!(out["reason"].as_str().expect("reason").contains("manual"));
    assert_eq!(counter.count(), after_enroll, "manual mode opened a socket");
    // The user asks: now it goes.
    let out = f.json(&["sync"]);
    assert_eq!(out["uploaded"].as_array().expect("list").len(), 1, "{out}");
    assert!(counter.count() > after_enroll);

    // Automatic mode outside its window does nothing either; inside, it sends.
    f.add_person(&["Mammadov Ilgar"]);
    let now = time::OffsetDateTime::now_utc();
    let (h, m) = (now.hour(), now.minute());
    let outside = format!("{:02}:{:02}-{:02}:{:02}", (h + 2) % 24, m, (h + 3) % 24, m);
    f.ok(&[
        "policy",
        "set",
        "--mode",
        "automatic",
        "--window",
        &outside,
        "--utc-offset",
        "+00:00",
    ]);
    let before = counter.count();
    let out = f.json(&["sync", "--auto"]);
    assert_eq!(out["skipped"], true, "{out}");
    assert_eq!(counter.count(), before);
    f.ok(&["policy", "set", "--no-windows"]);
    let out = f.json(&["sync", "--auto"]);
    assert_eq!(out["uploaded"].as_array().expect("list").len(), 1, "{out}");
}

#[test]
fn a_flaky_proxy_still_delivers_the_whole_outbox_without_much_resending() {
    let mib: usize = std::env::var("YADDASH_FLAKY_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 12 } else { 100 });
    let st = setup(&[("YADDASH_HQ_RATE_PER_MINUTE", "1000000")]);
    // Cut every connection after 300–700 KiB sent.
    let socks = Socks::start(HashMap::new(), Some((300 << 10, 700 << 10)));
    let f = st.field();
    f.ok(&[
        "policy",
        "set",
        "--proxy",
        &socks.url(),
        "--require-proxy",
        "on",
    ]);
    f.json(&["hq", "enroll", &st.code(), "--url", &st.server.url()]);
    let p = f.add_person(&["Hacıyev Rəşad"]);
    let file = f.tmp.path().join("recording.bin");
    let mut data = vec![0u8; mib << 20];
    for (i, b) in data.iter_mut().enumerate() {
        *b = (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3];
    }
    std::fs::write(&file, &data).expect("write");
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&data))
    };
    drop(data);
    let att = f.json(&["attach", "--to", &p, s(&file)])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Make the bundle without sending it, to know the outbox size.
    f.ok(&["policy", "set", "--network", "off"]);
    f.err(&["sync"]);
    f.ok(&["policy", "set", "--network", "on"]);
    let size: u64 = outbox(&f).iter().map(|(_, b)| b.len() as u64).sum();
    assert!(size >= (mib as u64) << 20);
    let up_before = socks.up_bytes.load(std::sync::atomic::Ordering::SeqCst);

    let out = f.json(&["sync"]);
    assert_eq!(out["uploaded"].as_array().expect("list").len(), 1, "{out}");
    let sent = socks.up_bytes.load(std::sync::atomic::Ordering::SeqCst) - up_before;
    let cuts = socks.cuts.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!(
        "flaky link: outbox {size} bytes, sent {sent} bytes through the proxy ({:.3}×), {cuts} cuts",
        sent as f64 / size as f64
    );
    assert!(
        cuts >= 10,
        "the proxy must really have cut connections ({cuts})"
    );
    assert!(
        sent as f64 <= 1.1 * size as f64,
        "sent {sent} bytes for an outbox of {size}"
    );
    // Complete and byte-identical at headquarters.
    st.coord.json(&["hq", "pull", "--url", &st.server.url()]);
    let back = st.coord.tmp.path().join("back.bin");
    st.coord
        .ok(&["attachment", "export", &att, "--out", s(&back)]);
    let got = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(&back).expect("read")))
    };
    assert_eq!(got, sha);
}

#[test]
fn ctrl_c_stops_an_upload_which_the_next_sync_resumes() {
    let st = setup(&[]);
    // About 16 KiB per 10 ms: a 6 MiB bundle takes several seconds.
    let socks = Socks::start_slow(std::time::Duration::from_millis(10));
    let f = st.field();
    f.ok(&["policy", "set", "--proxy", &socks.url()]);
    f.json(&["hq", "enroll", &st.code(), "--url", &st.server.url()]);
    let p = f.add_person(&["Qasımov Elçin"]);
    let file = f.tmp.path().join("scan.bin");
    let data: Vec<u8> = (0..6u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&file, &data).expect("write");
    f.json(&["attach", "--to", &p, s(&file)]);
    // Bundle it first (the kill switch stops the sending, not the export).
    f.ok(&["policy", "set", "--network", "off"]);
    f.err(&["sync"]);
    f.ok(&["policy", "set", "--network", "on"]);
    let child = f
        .command(&["sync"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Stop once a good part has gone (progress is remembered every MiB).
    let t = std::time::Instant::now();
    while socks.up_bytes.load(std::sync::atomic::Ordering::SeqCst) < (5 << 19) {
        assert!(t.elapsed().as_secs() < 120, "the upload did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    let st_kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(st_kill.success());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the sync should have been stopped");
    assert!(err.contains("stopped"), "{err}");
    // The bundle waits, partly sent; the next sync sends only the rest.
    let listed = f.json(&["outbox", "list"]);
    assert_eq!(listed[0]["state"], "partly-sent", "{listed}");
    assert_eq!(outbox(&f).len(), 1);
    let before = socks.up_bytes.load(std::sync::atomic::Ordering::SeqCst);
    let out = f.json(&["sync"]);
    assert_eq!(out["uploaded"].as_array().expect("list").len(), 1, "{out}");
    let second = socks.up_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    let size = listed[0]["size"].as_u64().expect("size");
    assert!(
        second < size,
        "resumed: {second} bytes of {size} sent again"
    );
    st.coord.json(&["hq", "pull", "--url", &st.server.url()]);
    assert!(st.coord.ok(&["show", &p]).contains("Qasımov"));
}

#[test]
fn a_redirect_never_leads_the_client_around_the_proxy() {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    // Where a hostile server would like the client to go, directly.
    let lure = TcpListener::bind("127.0.0.1:0").expect("bind");
    let lure_addr = lure.local_addr().expect("addr");
    let lured = Arc::new(AtomicU64::new(0));
    let l2 = Arc::clone(&lured);
    std::thread::spawn(move || {
        for c in lure.incoming() {
            if c.is_ok() {
                l2.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    // A "server" that answers everything with a redirect to the lure.
    let redirector = TcpListener::bind("127.0.0.1:0").expect("bind");
    let red_addr = redirector.local_addr().expect("addr");
    std::thread::spawn(move || {
        for c in redirector.incoming() {
            let Ok(mut c) = c else { continue };
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = write!(
                c,
                "HTTP/1.1 302 Found\r\nLocation: http://{lure_addr}/v1/info\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    let socks = Socks::start(HashMap::from([(HQ_NAME.to_owned(), red_addr)]), None);
    let keys = yaddash_bundle::DeviceKeys::generate();
    let route = yaddash_wire::policy::Route::Proxy { url: socks.url() };
    let url = format!("http://{HQ_NAME}:{}", red_addr.port());
    let c = yaddash_sync::Client::with_route(
        &url,
        uuid::Uuid::now_v7(),
        keys.signing_key(),
        &route,
        Default::default(),
    )
    .expect("client");
    assert!(c.info().is_err());
    assert!(c.receipts(0).is_err());
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        lured.load(Ordering::SeqCst),
        0,
        "the client followed a redirect"
    );
    assert!(!socks.connects().is_empty());
}

/// Runs `yaddash ARGS` under strace and returns every network system call
/// it made (sockets of the Internet families, connects, DNS).
fn network_calls(v: &TestVault, args: &[&str]) -> Vec<String> {
    let log = v
        .tmp
        .path()
        .join(format!("strace-{}.log", rand::random::<u32>()));
    let mut cmd = std::process::Command::new("strace");
    cmd.args([
        "-f",
        "-qq",
        "-e",
        "trace=socket,connect,sendto,sendmsg",
        "-o",
    ])
    .arg(&log)
    .arg(yaddash_e2e::yaddash_bin())
    .arg("--vault")
    .arg(&v.dir)
    .arg("--passphrase-file")
    .arg(&v.pass_file)
    .args(args);
    let out = cmd
        .output()
        .expect("strace (Debian package strace) must be installed");
    assert!(
        out.status.success(),
        "yaddash {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&log)
        .expect("strace log")
        .lines()
        .filter(|l| l.contains("AF_INET") || l.contains("AF_INET6") || l.contains("sin_port"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn local_commands_and_manual_mode_make_no_network_call_at_all() {
    let st = setup(&[]);
    let f = st.field();
    f.json(&["hq", "enroll", &st.code(), "--url", &st.server.url()]);
    let p = f.add_person(&["Rüstəmov Kamran"]);
    for args in [
        vec!["person", "add", "--name", "Əliyev Vüqar"],
        vec!["search", "rustamov"],
        vec!["list", "persons"],
        vec!["show", p.as_str()],
        vec!["policy", "show"],
        vec!["outbox", "list"],
        vec!["travel", "status"],
        vec!["vault", "check"],
        // The scheduler's path in manual mode.
        vec!["sync", "--auto"],
    ] {
        let calls = network_calls(&f, &args);
        assert!(
            calls.is_empty(),
            "yaddash {args:?} made network calls: {calls:?}"
        );
    }
    // The check can see a network call: an explicit sync makes some.
    let calls = network_calls(&f, &["sync"]);
    assert!(
        !calls.is_empty(),
        "strace saw no network call for a real sync"
    );
}

#[test]
fn stopping_cuts_even_a_request_waiting_for_an_answer() {
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    // A server that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming().flatten() {
            held.push(c);
        }
    });
    let socks = Socks::start(HashMap::new(), None);
    let keys = yaddash_bundle::DeviceKeys::generate();
    for route in [
        yaddash_wire::policy::Route::Direct,
        yaddash_wire::policy::Route::Proxy { url: socks.url() },
    ] {
        let cancel = Arc::new(AtomicBool::new(false));
        let c = yaddash_sync::Client::with_route(
            &format!("http://{addr}"),
            uuid::Uuid::now_v7(),
            keys.signing_key(),
            &route,
            Arc::clone(&cancel),
        )
        .expect("client");
        let flag = Arc::clone(&cancel);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            flag.store(true, Ordering::SeqCst);
        });
        let t = Instant::now();
        let r = c.receipts(0);
        let took = t.elapsed();
        assert!(
            matches!(r, Err(yaddash_sync::SyncError::Cancelled)),
            "{route:?}: {r:?}"
        );
        assert!(
            took < Duration::from_secs(3),
            "{route:?}: stopping took {took:?}"
        );
    }
}

/// A one-answer HTTP server on loopback: every request gets `answer`.
fn fake_server(answer: Vec<u8>) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = c.write_all(&answer);
        }
    });
    addr
}

#[test]
fn a_hostile_server_cannot_flood_memory_or_the_terminal() {
    let keys = yaddash_bundle::DeviceKeys::generate();
    let client = |addr: std::net::SocketAddr| {
        yaddash_sync::Client::new(
            &format!("http://{addr}"),
            uuid::Uuid::now_v7(),
            keys.signing_key(),
        )
        .expect("client")
    };
    // A 17 MiB JSON answer is refused, not read into memory whole.
    let big = 17usize << 20;
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {big}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    answer.extend(std::iter::repeat_n(b' ', big));
    let err = client(fake_server(answer)).info().expect_err("too large");
    assert!(err.to_string().contains("too large"), "{err}");
    // An error message with terminal escapes is shown without them.
    let body = "{\"code\":\"x\\u001b[2J\",\"message\":\"owned\\u001b]0;title\\u0007 here\"}";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let err = client(fake_server(answer))
        .info()
        .expect_err("refused")
        .to_string();
    assert!(!err.chars().any(|c| c.is_control()), "{err:?}");
    assert!(err.contains("owned") && err.contains("here"), "{err}");
}
