//! Helpers for the end-to-end tests in `tests/tests/`: they drive the real
//! `yaddash` binary on real vaults in temporary directories.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

/// The passphrase every test vault uses.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// Test vaults use the lowest scrypt work factor so that the suite stays fast;
/// the format and code paths are the same as with the default.
pub const TEST_WORK_FACTOR: &str = "10";

/// Path of the `yaddash` binary: `$YADDASH_BIN`, or built on first use with
/// the same profile as the tests, so it is never stale.
pub fn yaddash_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("YADDASH_BIN") {
            return PathBuf::from(p);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let release = !cfg!(debug_assertions);
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(&root)
            .args(["build", "-q", "-p", "yaddash-cli"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("running cargo build");
        assert!(status.success(), "cargo build -p yaddash-cli failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        target
            .join(if release { "release" } else { "debug" })
            .join("yaddash")
    })
    .clone()
}

/// A vault in a temporary directory, with its passphrase in a file.
pub struct TestVault {
    /// Holds the directories alive.
    pub tmp: tempfile::TempDir,
    /// The vault directory.
    pub dir: PathBuf,
    /// The passphrase file.
    pub pass_file: PathBuf,
    /// The recovery code printed by `init`.
    pub recovery_code: String,
    /// The device id printed by `init`.
    pub device_id: String,
}

impl TestVault {
    /// `yaddash init` a new vault of a role ("field" or "coordinator").
    pub fn init(role: &str) -> TestVault {
        let tmp = tempfile::tempdir().expect("tempdir");
        TestVault::init_in(tmp, role)
    }

    /// `yaddash init` a new vault under a given temporary directory.
    pub fn init_in(tmp: tempfile::TempDir, role: &str) -> TestVault {
        let dir = tmp.path().join("vault");
        let pass_file = tmp.path().join("passphrase");
        std::fs::write(&pass_file, format!("{PASSPHRASE}\n")).expect("write passphrase");
        let mut v = TestVault {
            tmp,
            dir,
            pass_file,
            recovery_code: String::new(),
            device_id: String::new(),
        };
        let out = v.json(&[
            "init",
            "--role",
            role,
            "--kdf-work-factor",
            TEST_WORK_FACTOR,
        ]);
        v.recovery_code = out["recovery_code"].as_str().expect("code").to_string();
        v.device_id = out["device_id"].as_str().expect("device").to_string();
        v
    }

    /// Runs `yaddash --vault DIR --passphrase-file F ARGS...`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("running yaddash")
    }

    /// The command, for tests that need to adjust it.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(yaddash_bin());
        cmd.arg("--vault")
            .arg(&self.dir)
            .arg("--passphrase-file")
            .arg(&self.pass_file)
            .args(args)
            .env_remove("YADDASH_VAULT")
            .env_remove("YADDASH_PASSPHRASE_FILE");
        cmd
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "yaddash {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs with `--json` and expects success; returns the parsed output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let out = self.ok(&a);
        serde_json::from_str(&out).expect("JSON output")
    }

    /// Runs and expects failure; returns stderr.
    pub fn err(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "yaddash {args:?} should have failed");
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Adds a person; returns the id.
    pub fn add_person(&self, names: &[&str]) -> String {
        let mut args = vec!["person", "add"];
        for n in names {
            args.push("--name");
            args.push(n);
        }
        self.json(&args)["id"].as_str().expect("id").to_string()
    }

    /// Writes a JSON file into the temporary directory and returns its path.
    pub fn write_json(&self, name: &str, value: &serde_json::Value) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, serde_json::to_vec_pretty(value).expect("json")).expect("write");
        p
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

/// SHA-256 of every file under `dir`, to prove nothing changed.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = files_under(dir);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect()
}

/// `name` inside the vault's temporary directory (beside the vault, so it
/// is removed with it and never scanned as part of the vault).
pub fn tmp_file(v: &TestVault, name: &str) -> PathBuf {
    v.tmp.path().join(name)
}

/// A test path as the `&str` the command line takes.
pub fn utf8(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A coordinator and one field vault it enrolled, which imported its trust
/// file.
pub fn enrolled_pair() -> (TestVault, TestVault) {
    let coord = TestVault::init("coordinator");
    let trust = tmp_file(&coord, "trust.json");
    coord.ok(&["trust", "export", "--out", utf8(&trust)]);
    let f = TestVault::init("field");
    let dev = tmp_file(&f, "device.json");
    std::fs::write(&dev, f.ok(&["--json", "device", "show"])).expect("write");
    coord.ok(&["device", "enroll", utf8(&dev)]);
    f.ok(&["trust", "import", utf8(&trust)]);
    (coord, f)
}

/// One request a stub saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The request method.
    pub method: String,
    /// The request path.
    pub path: String,
}

/// How a stub answers: `(method, path, body)` to `(status, body)`.
pub type Handler = dyn Fn(&str, &str, &[u8]) -> (u16, Vec<u8>) + Send + Sync;

/// An HTTP/1.1 stand-in for a hostile or impostor HQ server on loopback:
/// `answer(method, path, body)` gives each answer; every request is
/// recorded. Returns the base URL (no trailing slash) and the log.
pub fn stub_http(answer: Box<Handler>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let Ok(clone) = c.try_clone() else { continue };
            let mut r = BufReader::new(clone);
            let mut first = String::new();
            if r.read_line(&mut first).unwrap_or(0) == 0 {
                continue;
            }
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or_default().to_owned();
            let path = parts.next().unwrap_or_default().to_owned();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            log.lock().expect("lock").push(Seen {
                method: method.clone(),
                path: path.clone(),
            });
            let (status, out) = answer(&method, &path, &body);
            let _ = write!(
                c,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                out.len()
            );
            let _ = c.write_all(&out);
        }
    });
    (url, seen)
}
