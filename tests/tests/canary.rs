//! Canary: after a full session of work, no file under the vault directory or
//! $TMPDIR contains the testimony, in any encoding we can think of.
//!
//! `no_plaintext_reaches_the_disk` covers the record commands (add, edit,
//! attach, search, show, history, check, attachment export to standard
//! output); `no_plaintext_reaches_the_disk_in_exchange_and_register` the
//! offline commands that carry testimony between vaults or turn it into
//! reports: trust, device enroll, bundle export/import, receipt
//! export/import, outbox, the register (list, duplicates, merge, unmerge,
//! status, export in every format), travel status and `travel prepare
//! --offline`. Not covered: what needs a server (`sync`, `hq`, `travel
//! prepare` online: see hq_e2e.rs and travel.rs), and files the user asks
//! for in plaintext outside the vault (`attachment export --out FILE`,
//! `register export --out FILE`): those are plaintext by design; the test writes register exports outside the scanned
//! directories and checks they do hold the testimony.

use std::path::{Path, PathBuf};

use rand::{Rng, RngCore};
use serde_json::json;
use yaddash_e2e::utf8 as s;
use yaddash_e2e::{TestVault, files_under};
use yaddash_model::fold::fold_text;

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Each string in UTF-8 and UTF-16LE, with a name for the failure message.
fn needles(strings: &[String]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for s in strings {
        out.push((format!("utf-8 {s:?}"), s.as_bytes().to_vec()));
        out.push((format!("utf-16le {s:?}"), utf16le(s)));
    }
    out
}

/// Fails if any file under `dirs` holds a needle; returns how many files
/// were scanned.
fn scan(dirs: &[&Path], needles: &[(String, Vec<u8>)]) -> usize {
    let files: Vec<PathBuf> = dirs.iter().flat_map(|d| files_under(d)).collect();
    for f in &files {
        let bytes = std::fs::read(f).expect("read");
        for (what, needle) in needles {
            assert!(!contains(&bytes, needle), "{} contains {what}", f.display());
        }
    }
    files.len()
}

#[test]
fn no_plaintext_reaches_the_disk() {
    let mut rng = rand::thread_rng();
    let suffix: String = (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect();
    let canary = format!("Kanarya{suffix}");
    let name_canary = format!("Məmmədova{suffix}");

    let tmp = tempfile::tempdir().expect("tempdir");
    let tmpdir = tmp.path().join("tmpdir");
    std::fs::create_dir(&tmpdir).expect("tmpdir");
    let v = TestVault::init_in(tmp, "field");
    let run = |args: &[&str]| -> String {
        let out = v
            .command(args)
            .env("TMPDIR", &tmpdir)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let person = run(&[
        "person",
        "add",
        "--name",
        &name_canary,
        "--name",
        &canary,
        "--role",
        "detainee",
    ]);
    let person = person.trim().to_string();
    let case = v.write_json(
        "case.json",
        &json!({"detainee_id": person, "title": format!("Case {canary}"),
                "events": [{"type": "detention", "facility": format!("Facility {canary}")}]}),
    );
    let case_id = run(&["case", "add", "--file", case.to_str().expect("path")]);
    let interview = v.write_json(
        "interview.json",
        &json!({"case_id": case_id.trim(), "detainee_id": person, "interviewer": "I. N.",
                "date": "2026-03-14", "language": "az", "consent": "internal",
                "narrative": format!("My son {canary} was taken at night. {}", "Words. ".repeat(300))}),
    );
    let interview_id = run(&[
        "interview",
        "add",
        "--file",
        interview.to_str().expect("path"),
    ]);
    let interview_id = interview_id.trim().to_string();
    run(&[
        "edit",
        &interview_id,
        "--file",
        interview.to_str().expect("path"),
    ]);

    // A multi-MiB attachment with the canary inside, several times.
    let mut data = vec![0u8; 6 << 20];
    rng.fill_bytes(&mut data);
    for k in 0..8 {
        let at = k * (data.len() / 8) + 100;
        data[at..at + canary.len()].copy_from_slice(canary.as_bytes());
    }
    let attachment = v.tmp.path().join(format!("court-papers-{canary}.pdf"));
    std::fs::write(&attachment, &data).expect("write attachment");
    run(&[
        "attach",
        "--to",
        &interview_id,
        attachment.to_str().expect("path"),
    ]);
    std::fs::remove_file(&attachment).expect("remove source");
    // Only the inputs written by this test itself are plaintext; remove them.
    std::fs::remove_file(&case).expect("rm");
    std::fs::remove_file(&interview).expect("rm");

    // Reading back exercises the decrypting paths too.
    assert!(run(&["search", "mamedova"]).contains(&person));
    run(&["show", &interview_id]);
    run(&["history", &interview_id]);
    run(&["vault", "check"]);
    let info: serde_json::Value =
        serde_json::from_str(&run(&["--json", "show", &interview_id])).expect("json");
    let att_id = info["attachments"][0]["id"]
        .as_str()
        .expect("attachment id")
        .to_string();
    let out = v
        .command(&["attachment", "export", &att_id, "--out", "-"])
        .env("TMPDIR", &tmpdir)
        .output()
        .expect("export");
    assert!(out.status.success());
    assert_eq!(out.stdout, data, "exported attachment differs");

    let needles = needles(&[
        canary.clone(),
        canary.to_lowercase(),
        canary.to_uppercase(),
        name_canary.clone(),
        name_canary.to_lowercase(),
        suffix.clone(),
        fold_text(&canary),
        fold_text(&name_canary),
        "court-papers".to_string(),
    ]);
    let scanned = scan(&[&v.dir, &tmpdir], &needles);
    assert!(scanned >= 4, "expected vault files, found {scanned}");
}

/// Runs `yaddash` on a vault with `$TMPDIR` set; expects success, returns stdout.
fn run_with_tmpdir(v: &TestVault, tmpdir: &Path, args: &[&str]) -> String {
    let out = v.command(args).env("TMPDIR", tmpdir).output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_with_tmpdir(v: &TestVault, tmpdir: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&run_with_tmpdir(v, tmpdir, &a)).expect("JSON output")
}

#[test]
fn no_plaintext_reaches_the_disk_in_exchange_and_register() {
    let mut rng = rand::thread_rng();
    let suffix: String = (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect();
    let canary = format!("Kanarya{suffix}");
    let name_canary = format!("Məmmədova{suffix}");
    let reason_canary = format!("Sürgün{suffix}");

    let tmp = tempfile::tempdir().expect("tempdir");
    let tmpdir = tmp.path().join("tmpdir");
    // What travels between the vaults (trust file, identities, bundles,
    // receipts): encrypted or free of testimony, so scanned too.
    let exchange = tmp.path().join("exchange");
    // Register exports: plaintext by design, not scanned.
    let exports = tmp.path().join("exports");
    for d in [&tmpdir, &exchange, &exports] {
        std::fs::create_dir(d).expect("mkdir");
    }
    let coord = TestVault::init("coordinator");
    let field = TestVault::init("field");
    let c = |args: &[&str]| run_with_tmpdir(&coord, &tmpdir, args);
    let cj = |args: &[&str]| json_with_tmpdir(&coord, &tmpdir, args);
    let f = |args: &[&str]| run_with_tmpdir(&field, &tmpdir, args);
    let fj = |args: &[&str]| json_with_tmpdir(&field, &tmpdir, args);

    // Trust and enrollment.
    let trust = exchange.join("trust.json");
    c(&["trust", "export", "--out", s(&trust)]);
    let device = exchange.join("device.json");
    std::fs::write(&device, f(&["--json", "device", "show"])).expect("write");
    c(&["device", "enroll", s(&device), "--label", "field"]);
    c(&["device", "list"]);
    f(&["trust", "import", s(&trust)]);

    // Testimony on the field vault: two persons (for the register's
    // duplicates and merge), a case, an interview, an attachment.
    let p1 = fj(&[
        "person",
        "add",
        "--name",
        &name_canary,
        "--name",
        &canary,
        "--role",
        "detainee",
    ])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let p2 = fj(&[
        "person",
        "add",
        "--name",
        &name_canary,
        "--role",
        "detainee",
    ])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let case = field.write_json(
        "case.json",
        &json!({"detainee_id": p1, "title": format!("Case {canary}"),
                "events": [{"type": "detention", "facility": format!("Facility {canary}")}]}),
    );
    let case_id = fj(&["case", "add", "--file", s(&case)])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let interview = field.write_json(
        "interview.json",
        &json!({"case_id": case_id, "detainee_id": p1, "interviewer": "I. N.",
                "date": "2026-03-14", "language": "az", "consent": "internal",
                "narrative": format!("My son {canary} was taken at night. {}", "Words. ".repeat(300))}),
    );
    let iv = fj(&["interview", "add", "--file", s(&interview)])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut data = vec![0u8; 1 << 20];
    rng.fill_bytes(&mut data);
    for k in 0..4 {
        let at = k * (data.len() / 4) + 100;
        data[at..at + canary.len()].copy_from_slice(canary.as_bytes());
    }
    let attachment = field.tmp.path().join(format!("court-papers-{canary}.pdf"));
    std::fs::write(&attachment, &data).expect("write attachment");
    let att = fj(&["attach", "--to", &iv, s(&attachment)])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Only the inputs written by this test itself are plaintext; remove them.
    for p in [&attachment, &case, &interview] {
        std::fs::remove_file(p).expect("rm");
    }

    // Field to headquarters by hand: bundle export, import.
    let bundle = exchange.join("b1.yaddash");
    assert_eq!(fj(&["bundle", "export", "--out", s(&bundle)])["seq"], 1);
    f(&["outbox", "list"]);
    let imported = cj(&["bundle", "import", s(&bundle)]);
    assert_eq!(imported["counts"]["new_records"], 4, "{imported}");
    assert!(c(&["search", "mammadova"]).contains(&p1));
    c(&["show", &iv]);
    c(&["history", &iv]);
    let out = coord
        .command(&["attachment", "export", &att, "--out", "-"])
        .env("TMPDIR", &tmpdir)
        .output()
        .expect("export");
    assert!(out.status.success());
    assert_eq!(out.stdout, data, "attachment changed in transit");

    // The register at headquarters.
    c(&["register", "list"]);
    c(&["register", "duplicates"]);
    c(&["register", "merge", &p1, &p2]);
    c(&["register", "list"]);
    c(&["register", "unmerge", &p2]);
    c(&["register", "distinct", &p1, &p2]);
    c(&[
        "register",
        "status",
        &p1,
        "--set",
        "in-exile",
        "--reason",
        &reason_canary,
    ]);
    for format in ["csv", "json", "html", "pdf", "uwazi", "esf"] {
        let out = exports.join(format!("internal.{format}"));
        c(&[
            "register",
            "export",
            "--level",
            "internal",
            "--format",
            format,
            "--out",
            s(&out),
        ]);
    }
    // The exports (outside the scanned directories) do hold the testimony:
    // the commands really worked on it.
    let json_export = std::fs::read(exports.join("internal.json")).expect("export");
    assert!(
        contains(&json_export, name_canary.as_bytes()),
        "the register export lacks the name"
    );

    // Receipts back to the field, then what travel would remove.
    let receipts = exchange.join("receipts.json");
    c(&[
        "receipt",
        "export",
        "--device",
        &field.device_id,
        "--out",
        s(&receipts),
    ]);
    assert_eq!(
        fj(&["receipt", "import", s(&receipts)])["confirmed"],
        json!([1])
    );
    f(&["outbox", "list"]);
    f(&["travel", "status"]);
    let travel = fj(&["travel", "prepare", "--yes", "--offline"]);
    eprintln!("travel prepare --offline: {travel}");
    assert!(c(&["vault", "check"]).contains("clean"));
    assert!(f(&["vault", "check"]).contains("clean"));

    let needles = needles(&[
        canary.clone(),
        canary.to_lowercase(),
        canary.to_uppercase(),
        name_canary.clone(),
        name_canary.to_lowercase(),
        reason_canary.clone(),
        suffix.clone(),
        fold_text(&canary),
        fold_text(&name_canary),
        fold_text(&reason_canary),
        "court-papers".to_string(),
    ]);
    let scanned = scan(&[&coord.dir, &field.dir, &tmpdir, &exchange], &needles);
    assert!(
        scanned >= 10,
        "expected vault and exchange files, found {scanned}"
    );
}

#[test]
fn database_file_is_not_plain_sqlite() {
    let v = TestVault::init("field");
    v.add_person(&["Anar"]);
    let head = std::fs::read(v.dir.join("vault.db")).expect("read db");
    assert!(
        !head.starts_with(b"SQLite format 3\0"),
        "vault.db is plain SQLite"
    );
}
