//! Under coercion (issue 13), through the real `yaddash` binary: quick
//! delete leaves nothing that opens with the passphrase or the recovery
//! code (tried with stock `age`), the duress passphrase opens the decoy and
//! erases the vault, a disk image does not tell whether a duress passphrase
//! is set, and failed unlocks erase the vault only when the owner chose so.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use yaddash_e2e::utf8 as s;
use yaddash_e2e::{PASSPHRASE, TestVault, files_under};

const DURESS: &str = "purple monkey dishwasher";
const WRONG: &str = "not the passphrase at all";

fn age_present() -> bool {
    let ok = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    ok("age", "--version") && ok("script", "--version")
}

/// Stock `age -d` on `file` with `passphrase` typed on a terminal (age reads
/// passphrases from the TTY only; `script` gives it one). True if it decrypted.
fn age_opens(file: &Path, passphrase: &str) -> bool {
    let out = file.with_extension("out");
    let _ = std::fs::remove_file(&out);
    let cmd = format!("age -d -o '{}' '{}'", s(&out), s(file));
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("script");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(format!("{passphrase}\n").as_bytes());
        // Keep the terminal open until age has read the line.
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let ok = child.wait().expect("wait").success();
    let opened = ok && out.is_file();
    let _ = std::fs::remove_file(&out);
    opened
}

/// Every regular file under `dir`, relative path -> size.
fn listing(dir: &Path) -> BTreeMap<String, u64> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let size = std::fs::metadata(&p).expect("meta").len();
            (s(p.strip_prefix(dir).expect("prefix")).to_owned(), size)
        })
        .collect()
}

fn write(v: &TestVault, name: &str, text: &str) -> PathBuf {
    let p = v.tmp.path().join(name);
    std::fs::write(&p, format!("{text}\n")).expect("write");
    p
}

/// `yaddash --vault DIR --passphrase-file PASS ARGS...`.
fn at(dir: &Path, pass: &Path, args: &[&str]) -> std::process::Output {
    Command::new(yaddash_e2e::yaddash_bin())
        .args(["--vault", s(dir), "--passphrase-file", s(pass)])
        .args(args)
        .env_remove("YADDASH_VAULT")
        .env_remove("YADDASH_PASSPHRASE_FILE")
        .output()
        .expect("running yaddash")
}

fn with_pass(v: &TestVault, pass: &Path, args: &[&str]) -> std::process::Output {
    at(&v.dir, pass, args)
}

fn person_count(v: &TestVault, pass: &Path) -> usize {
    let out = with_pass(v, pass, &["--json", "list", "persons"]);
    assert!(
        out.status.success(),
        "list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    list.as_array().expect("array").len()
}

#[test]
fn quick_delete_leaves_nothing_that_opens() {
    let v = TestVault::init("field");
    v.add_person(&["Qəmbər Əliyev"]);
    let photo = v.tmp.path().join("photo.jpg");
    std::fs::write(&photo, vec![7u8; 300_000]).expect("write");
    let id = v.add_person(&["Second Person"]);
    v.ok(&["attach", "--to", &id, s(&photo)]);
    let recovery = write(&v, "recovery", &v.recovery_code);

    // Hold every file of the vault open, as the disk's blocks would be:
    // what destroy leaves in them is what a forensic examiner reads.
    let files = files_under(&v.dir);
    assert!(files.len() >= 8, "keyslots, databases, decoy, attachment");
    let held: Vec<(PathBuf, File)> = files
        .iter()
        .map(|p| (p.clone(), File::open(p).expect("open")))
        .collect();
    let age = age_present();
    if age {
        // The harness works: before, the keyslot opens with stock age.
        let copy = v.tmp.path().join("slot-copy");
        std::fs::copy(v.dir.join("keyslots/passphrase.age"), &copy).expect("copy");
        assert!(age_opens(&copy, PASSPHRASE), "stock age opens a keyslot");
    }

    // Without --yes and without a terminal it refuses and changes nothing.
    let err = v.err(&["vault", "destroy"]);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(files_under(&v.dir).len(), files.len());

    let report = v.json(&["vault", "destroy", "--yes"]);
    let erase_ms = report["crypto_erase_ms"].as_f64().expect("ms");
    assert!(erase_ms < 1000.0, "crypto-erase took {erase_ms} ms");
    assert!(!v.dir.exists(), "the vault directory is gone");

    // What the held files contain now: no keyslot opens with the passphrase
    // or the recovery code, and the database heads are random.
    let dump = v.tmp.path().join("dump");
    std::fs::create_dir(&dump).expect("mkdir");
    for (i, (path, mut f)) in held.into_iter().enumerate() {
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).expect("read");
        let rel = s(path.strip_prefix(&v.dir).expect("prefix")).to_owned();
        if rel.ends_with(".age") {
            assert!(
                !bytes.starts_with(b"age-encryption.org"),
                "{rel} still holds an age header"
            );
        }
        if rel.ends_with("vault.db") {
            assert!(
                bytes.len() < 16 || bytes[..16] != *b"SQLite format 3\0",
                "{rel}: sanity"
            );
        }
        let copy = dump.join(format!("f{i}"));
        std::fs::write(&copy, &bytes).expect("write");
        if age {
            assert!(
                !age_opens(&copy, PASSPHRASE),
                "{rel} opens with the passphrase"
            );
            assert!(
                !age_opens(&copy, &v.recovery_code),
                "{rel} opens with the recovery code"
            );
        }
    }
    // And the binary itself cannot open anything there.
    let out = v.run(&["--recovery-code-file", s(&recovery), "list", "persons"]);
    assert!(!out.status.success());
}

#[test]
fn duress_passphrase_opens_the_decoy_and_erases_the_vault() {
    let v = TestVault::init("field");
    v.add_person(&["Real Testimony Person"]);
    let duress = write(&v, "duress", DURESS);
    let recovery = write(&v, "recovery", &v.recovery_code);
    // The passphrase itself is refused as a duress passphrase.
    let err = v.err(&["duress", "set", "--duress-passphrase-file", s(&v.pass_file)]);
    assert!(err.contains("differ"), "{err}");
    v.ok(&["duress", "set", "--duress-passphrase-file", s(&duress)]);
    assert_eq!(v.json(&["duress", "status"])["set"], true);

    // Filling the decoy beforehand: open <vault>/decoy with the duress passphrase.
    let decoy = v.dir.join("decoy");
    let out = at(
        &decoy,
        &duress,
        &["person", "add", "--name", "Harmless Neighbour"],
    );
    assert!(
        out.status.success(),
        "filling the decoy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let slots_before: Vec<Vec<u8>> = ["passphrase.age", "recovery.age"]
        .iter()
        .map(|f| std::fs::read(v.dir.join("keyslots").join(f)).expect("slot"))
        .collect();

    // The duress passphrase opens a vault holding the decoy's record only.
    assert_eq!(person_count(&v, &duress), 1);
    let list = with_pass(&v, &duress, &["--json", "search", "Harmless"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("Harmless Neighbour"));
    // It is now the vault: the decoy's passphrase, no duress set in it.
    assert_eq!(person_count(&v, &duress), 1);
    let status: serde_json::Value =
        serde_json::from_slice(&with_pass(&v, &duress, &["--json", "duress", "status"]).stdout)
            .expect("json");
    assert_eq!(status["set"], false);

    // The real keyslots are gone: neither the passphrase nor the recovery
    // code opens anything, through yaddash or stock age.
    for f in ["passphrase.age", "recovery.age"] {
        let now = std::fs::read(v.dir.join("keyslots").join(f)).expect("slot");
        assert!(!slots_before.contains(&now), "{f} was replaced");
    }
    let out = v.run(&["list", "persons"]);
    assert!(!out.status.success(), "the passphrase no longer opens it");
    let out = v.run(&["--recovery-code-file", s(&recovery), "list", "persons"]);
    assert!(
        !out.status.success(),
        "the recovery code no longer opens it"
    );
    if age_present() {
        for f in files_under(&v.dir) {
            if f.extension().is_some_and(|e| e == "age") {
                assert!(!age_opens(&f, PASSPHRASE), "{} opens", f.display());
                assert!(!age_opens(&f, &v.recovery_code), "{} opens", f.display());
            }
        }
    }
    let all: Vec<u8> = files_under(&v.dir)
        .iter()
        .flat_map(|p| std::fs::read(p).expect("read"))
        .collect();
    assert!(
        !all.windows(b"Real Testimony".len())
            .any(|w| w == b"Real Testimony"),
        "no plaintext anywhere"
    );
}

#[test]
fn a_disk_image_does_not_tell_whether_a_duress_passphrase_is_set() {
    let plain = TestVault::init("field");
    let with = TestVault::init("field");
    let duress = write(&with, "duress", DURESS);
    with.ok(&["duress", "set", "--duress-passphrase-file", s(&duress)]);
    assert_eq!(listing(&plain.dir), listing(&with.dir));

    // The same after using both, with an unlock limit on both, after failed
    // attempts, and after a few harmless records in the decoy.
    for v in [&plain, &with] {
        v.ok(&["unlock-limit", "set", "10"]);
        v.add_person(&["Same Person"]);
        let wrong = write(v, "wrong", WRONG);
        assert!(!with_pass(v, &wrong, &["list", "persons"]).status.success());
    }
    let out = at(
        &with.dir.join("decoy"),
        &duress,
        &["person", "add", "--name", "Harmless Neighbour"],
    );
    assert!(out.status.success());
    assert_eq!(listing(&plain.dir), listing(&with.dir));

    // Clearing it restores filler of the same shape.
    with.ok(&["duress", "clear"]);
    assert_eq!(listing(&plain.dir), listing(&with.dir));
}

#[test]
fn failed_unlocks_erase_only_when_enabled() {
    // Off (the default): any number of failures changes nothing.
    let v = TestVault::init("field");
    v.add_person(&["Kept Person"]);
    let wrong = write(&v, "wrong", WRONG);
    for _ in 0..6 {
        let out = with_pass(&v, &wrong, &["list", "persons"]);
        assert!(!out.status.success());
        assert!(!String::from_utf8_lossy(&out.stderr).contains("erased"));
    }
    assert_eq!(person_count(&v, &v.pass_file), 1);

    // Below the minimum is refused.
    assert!(!v.run(&["unlock-limit", "set", "2"]).status.success());
    v.ok(&["unlock-limit", "set", "5"]);
    // A success resets the counter.
    assert!(!with_pass(&v, &wrong, &["list", "persons"]).status.success());
    assert_eq!(person_count(&v, &v.pass_file), 1);
    let show = v.json(&["unlock-limit", "show"]);
    assert_eq!(show["failed"], 0);
    assert_eq!(show["limit"], 5);

    let mut stderr = Vec::new();
    for _ in 0..5 {
        let out = with_pass(&v, &wrong, &["list", "persons"]);
        assert!(!out.status.success());
        stderr.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    assert!(
        !stderr[0].contains("left"),
        "no warning with 4 left: {}",
        stderr[0]
    );
    assert!(
        stderr[1].contains("3 failed attempts left"),
        "{}",
        stderr[1]
    );
    assert!(
        stderr[2].contains("2 failed attempts left"),
        "{}",
        stderr[2]
    );
    assert!(stderr[3].contains("1 failed attempt left"), "{}", stderr[3]);
    assert!(stderr[4].contains("erased"), "{}", stderr[4]);
    assert!(!v.dir.exists(), "the vault was erased at the limit");
}

#[test]
fn a_vault_made_before_these_tools_gets_the_same_layout_on_unlock() {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read").flatten() {
            let t = to.join(e.file_name());
            if e.path().is_dir() {
                copy_dir(&e.path(), &t);
            } else {
                std::fs::copy(e.path(), &t).expect("copy");
            }
        }
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("vault");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vault-v1"),
        &dir,
    );
    assert!(!dir.join("decoy").exists());
    let pass = tmp.path().join("pass");
    std::fs::write(&pass, "fixture passphrase v1\n").expect("write");
    let out = at(&dir, &pass, &["list", "persons"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = listing(&dir);
    assert_eq!(l.get("decoy/vault.db"), Some(&(1 << 20)));
    assert_eq!(
        l.get("decoy/keyslots/passphrase.age"),
        l.get("keyslots/passphrase.age")
    );
    assert_eq!(l.get("attempts"), Some(&43));
}
