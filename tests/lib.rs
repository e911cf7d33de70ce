//! Helpers for the end-to-end tests in `tests/tests/`: they drive the real
//! `yaddash` binary on real vaults in temporary directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

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
