//! Travel mode (issue 5) through the real binaries and a real HQ server:
//! only records covered by a valid coordinator receipt are removed; forged
//! or mismatched receipts remove nothing; kill -9 during removal leaves a
//! consistent vault; removed testimony is gone from disk, the index, the
//! free pages and the write-ahead log.

mod hq_support;

use std::path::Path;
use std::time::Instant;

use hq_support::{Server, hq_init};
use secrecy::SecretString;
use yaddash_bundle::{Receipt, ReceiptKind, sign_receipt};
use yaddash_e2e::utf8 as s;
use yaddash_e2e::{PASSPHRASE, TestVault, files_under};
use yaddash_vault::{Unlock, Vault};

const CANARY: &str = "Qzvrakanary";

struct World {
    coord: TestVault,
    field: TestVault,
    server: Server,
}

/// Coordinator, server, one enrolled field vault.
fn world() -> World {
    let coord = TestVault::init("coordinator");
    let trust = coord.tmp.path().join("trust.json");
    coord.ok(&["trust", "export", "--out", s(&trust)]);
    let data = coord.tmp.path().join("hq-data");
    let init = hq_init(&data, &trust);
    hq_support::pin_server_key(&coord, &trust, &init);
    let server = Server::start(&data, &[]);
    let field = TestVault::init("field");
    field.ok(&["trust", "import", s(&trust)]);
    let dev = field.tmp.path().join("device.json");
    std::fs::write(&dev, field.ok(&["--json", "device", "show"])).expect("write");
    coord.ok(&["device", "enroll", s(&dev)]);
    let code = coord.json(&["hq", "invite"])["code"]
        .as_str()
        .expect("code")
        .to_owned();
    field.json(&["hq", "enroll", &code, "--url", &server.url()]);
    // The coordinator's first pull names the server (and so enables sync).
    coord.json(&["hq", "pull", "--url", &server.url()]);
    World {
        coord,
        field,
        server,
    }
}

fn interview(f: &TestVault, person: &str, narrative: &str) -> String {
    let file = f.write_json(
        &format!("iv-{}.json", rand::random::<u32>()),
        &serde_json::json!({
            "detainee_id": person,
            "interviewer": "Field interviewer 7",
            "date": "2026-11-20",
            "language": "az",
            "consent": "internal",
            "narrative": narrative,
        }),
    );
    f.json(&["interview", "add", "--file", s(&file)])["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn attach(f: &TestVault, record: &str, bytes: &[u8]) -> String {
    let p = f
        .tmp
        .path()
        .join(format!("att-{}.bin", rand::random::<u32>()));
    std::fs::write(&p, bytes).expect("write");
    let id = f.json(&["attach", "--to", record, s(&p)])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    std::fs::remove_file(&p).expect("rm");
    id
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// No file under `dir` holds `needle` (UTF-8, UTF-16LE, lower case).
fn scan(dir: &Path, needle: &str) {
    let forms: Vec<Vec<u8>> = vec![
        needle.as_bytes().to_vec(),
        needle.to_lowercase().into_bytes(),
        needle
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect(),
    ];
    for f in files_under(dir) {
        let bytes = std::fs::read(&f).expect("read");
        for form in &forms {
            assert!(!contains(&bytes, form), "{} holds the canary", f.display());
        }
    }
}

fn open(v: &TestVault) -> Vault {
    Vault::open(
        &v.dir,
        &Unlock::Passphrase(SecretString::from(PASSPHRASE.to_owned())),
    )
    .expect("open vault")
}

#[test]
fn only_what_headquarters_confirmed_is_removed_and_it_is_gone() {
    let w = world();
    let f = &w.field;
    let p = f.add_person(&[&format!("{CANARY} Məmmədov")]);
    let iv = interview(f, &p, &format!("They took him at night. {CANARY}"));
    let att = attach(
        f,
        &iv,
        format!("recording {CANARY}").repeat(20_000).as_bytes(),
    );
    assert_eq!(files_under(&f.dir.join("attachments")).len(), 1);
    f.json(&["sync"]);
    w.coord.json(&["hq", "pull"]);
    assert!(w.coord.ok(&["show", &iv]).contains(CANARY));

    // Saved after the bundle went: not confirmed, must stay.
    let later = f.add_person(&["Hüseynov Later"]);
    let before = f.json(&["travel", "status"]);
    assert_eq!(
        before["plan"]["removable"].as_array().expect("list").len(),
        0
    );

    let r = f.json(&["travel", "prepare", "--yes", "--wait", "1s"]);
    assert_eq!(r["sent"], true, "{r}");
    assert_eq!(r["removed_records"], 2, "{r}");
    assert_eq!(r["removed_attachments"], 1, "{r}");
    assert_eq!(
        (r["free_pages"].as_i64(), r["wal_bytes"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );
    let rem = r["remaining"].as_array().expect("list");
    assert_eq!(rem.len(), 1, "{r}");
    assert_eq!(rem[0]["id"], later.as_str());
    assert_eq!(rem[0]["reason"], "awaiting-import", "{r}");
    assert_eq!(r["unconfirmed_bundles"], serde_json::json!([2]), "{r}");

    // Gone: records, attachment file, search, the index's vocabulary.
    let e = f.err(&["show", &p]);
    assert!(e.contains("with id"), "{e}");
    assert!(f.err(&["show", &iv]).contains("with id"));
    assert!(
        f.err(&["attachment", "export", &att, "--out", "-"])
            .contains("with id")
    );
    assert!(files_under(&f.dir.join("attachments")).is_empty());
    assert!(!f.ok(&["search", CANARY]).contains(&p));
    assert!(f.ok(&["show", &later]).contains("Hüseynov"));
    scan(&f.dir, CANARY);
    {
        let v = open(f);
        let term = yaddash_model::fold::fold_word(CANARY);
        assert!(
            !v.travel().index_has_term(&term).expect("vocab"),
            "removed text still in the index"
        );
    }
    assert!(f.ok(&["vault", "check"]).contains("clean"));
    // Headquarters still has everything.
    assert!(w.coord.ok(&["show", &iv]).contains(CANARY));

    // After the coordinator imports bundle 2, the rest can go too.
    w.coord.json(&["hq", "pull"]);
    let r = f.json(&["travel", "prepare", "--yes", "--wait", "10s"]);
    assert_eq!(r["removed_records"], 1, "{r}");
    assert_eq!(r["remaining"], serde_json::json!([]), "{r}");
    drop(w.server);
}

#[test]
fn forged_or_mismatched_receipts_remove_nothing() {
    let w = world();
    let f = &w.field;
    let p = f.add_person(&["Ismayilova Forged"]);
    f.json(&["sync"]);
    // The coordinator never imports. Now someone marks the bundle imported
    // and plants receipts in the vault.
    let (bundle_id, seq) = {
        let v = open(f);
        let b = v.exchange().bundles_out().expect("bundles").remove(0);
        (b.bundle_id, b.seq)
    };
    let device: uuid::Uuid = f.device_id.parse().expect("uuid");
    let rec: uuid::Uuid = p.parse().expect("uuid");
    let coord_keys = {
        let mut v = open(&w.coord);
        yaddash_exchange::device_keys(&mut v).expect("keys")
    };
    let stranger = yaddash_bundle::DeviceKeys::generate();
    let receipt =
        |keys: &yaddash_bundle::DeviceKeys, seq: u64, dev: uuid::Uuid, ids: Vec<uuid::Uuid>| {
            let r = Receipt::new(
                ReceiptKind::CoordinatorImported,
                bundle_id.parse().expect("bundle id"),
                dev,
                seq,
                ids,
                time::OffsetDateTime::now_utc(),
                keys,
            );
            sign_receipt(&r, keys).expect("sign")
        };
    let cases = [
        (
            "a stranger's key",
            receipt(&stranger, seq, device, vec![rec]),
        ),
        (
            "another sequence number",
            receipt(&coord_keys, seq + 1, device, vec![rec]),
        ),
        (
            "another device",
            receipt(&coord_keys, seq, uuid::Uuid::now_v7(), vec![rec]),
        ),
        (
            "a receipt not listing the record",
            receipt(&coord_keys, seq, device, vec![]),
        ),
        (
            "a tampered receipt",
            receipt(&coord_keys, seq, device, vec![rec]).replacen("\"seq\":1", "\"seq\":1 ", 1),
        ),
    ];
    for (what, text) in cases {
        {
            let mut v = open(f);
            v.exchange_mut()
                .mark_bundles_imported(std::slice::from_ref(&bundle_id), "2026-11-25T00:00:00Z")
                .expect("mark");
            v.exchange()
                .set_import_receipt(&bundle_id, &text)
                .expect("plant");
        }
        let r = f.json(&["travel", "prepare", "--yes", "--offline"]);
        assert_eq!(r["removed_records"], 0, "{what}: {r}");
        let reason = r["remaining"][0]["reason"]
            .as_str()
            .expect("reason")
            .to_owned();
        assert!(
            reason == "receipt-invalid" || reason == "not-in-receipt",
            "{what}: {r}"
        );
        assert!(f.ok(&["show", &p]).contains("Ismayilova"), "{what}");
    }
    // A server receipt that does not verify also blocks removal, even with
    // a genuine import receipt.
    {
        let v = open(f);
        v.exchange()
            .set_import_receipt(&bundle_id, &receipt(&coord_keys, seq, device, vec![rec]))
            .expect("genuine");
        let good_server = v
            .exchange()
            .hq_receipt(&bundle_id)
            .expect("m")
            .expect("kept");
        v.exchange()
            .set_hq_receipt(
                &bundle_id,
                &good_server.replacen("hq-received", "hq-receivdd", 1),
            )
            .expect("tamper");
    }
    let r = f.json(&["travel", "prepare", "--yes", "--offline"]);
    assert_eq!(r["removed_records"], 0, "{r}");
    assert_eq!(r["remaining"][0]["reason"], "receipt-invalid", "{r}");
    drop(w.server);
}

#[test]
fn kill_9_during_removal_leaves_a_consistent_vault() {
    let w = world();
    let f = &w.field;
    let n = 40;
    let mut ids = Vec::new();
    for i in 0..n {
        let p = f.add_person(&[&format!("Person {i}")]);
        attach(f, &p, &vec![i as u8; 200_000]);
        ids.push(p);
    }
    f.json(&["sync"]);
    w.coord.json(&["hq", "pull"]);
    let out = f.json(&["sync"]);
    assert_eq!(out["confirmed_imported"], serde_json::json!([1]), "{out}");
    // How long an uninterrupted removal takes, on a copy.
    let copy_of = |tag: &str| {
        let dir = f.tmp.path().join(format!("copy-{tag}"));
        let st = std::process::Command::new("cp")
            .args(["-a", s(&f.dir), s(&dir)])
            .status()
            .expect("cp");
        assert!(st.success());
        dir
    };
    let run = |dir: &Path| {
        let mut cmd = std::process::Command::new(yaddash_e2e::yaddash_bin());
        cmd.arg("--vault")
            .arg(dir)
            .arg("--passphrase-file")
            .arg(&f.pass_file)
            .args(["--json", "travel", "prepare", "--yes", "--offline"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd
    };
    let base = copy_of("timing");
    let t = Instant::now();
    assert!(run(&base).status().expect("run").success());
    let full = t.elapsed();
    let mut interrupted = 0;
    for k in 0..8u32 {
        let dir = copy_of(&k.to_string());
        let mut child = run(&dir).spawn().expect("spawn");
        std::thread::sleep(full.mul_f64(f64::from(k) / 8.0 + 0.05));
        let _ = child.kill();
        let status = child.wait().expect("wait");
        if !status.success() {
            interrupted += 1;
        }
        // Consistent: the check is clean, and each record is either whole
        // (with its attachment) or gone with its attachment.
        let probe = TestVault {
            tmp: tempfile::tempdir().expect("tmp"),
            dir: dir.clone(),
            pass_file: f.pass_file.clone(),
            recovery_code: String::new(),
            device_id: f.device_id.clone(),
        };
        let check = probe.json(&["vault", "check"]);
        assert_eq!(check["problems"], serde_json::json!([]), "{check}");
        assert_eq!(check["orphan_files"], 0, "{check}");
        let present = ids
            .iter()
            .filter(|id| probe.run(&["show", id]).status.success())
            .count();
        assert_eq!(
            files_under(&dir.join("attachments")).len(),
            present,
            "records and attachment files disagree"
        );
        assert!(
            present == 0 || present == n,
            "removal is one transaction ({present})"
        );
        // Finishing the job works.
        let r = probe.json(&["travel", "prepare", "--yes", "--offline"]);
        assert_eq!(r["remaining"], serde_json::json!([]), "{r}");
        assert!(files_under(&dir.join("attachments")).is_empty());
    }
    assert!(
        interrupted > 0,
        "no run was interrupted (full run {full:?})"
    );
    drop(w.server);
}

#[test]
fn after_the_crossing_headquarters_reissues_only_what_is_needed() {
    let w = world();
    let f = &w.field;
    let p = f.add_person(&["Məmmədova Gülnarə"]);
    let iv = interview(f, &p, "She described the court hearing.");
    let bytes = b"court paper scan ".repeat(10_000);
    let att = attach(f, &iv, &bytes);
    let other = f.add_person(&["Not Needed Back"]);
    f.json(&["sync"]);
    w.coord.json(&["hq", "pull"]);
    let r = f.json(&["travel", "prepare", "--yes", "--wait", "10s"]);
    assert_eq!(r["removed_records"], 3, "{r}");

    // The coordinator sends back the interview and its person only.
    let file = w.coord.tmp.path().join("reissue.yaddash");
    let out = w.coord.json(&[
        "bundle",
        "reissue",
        "--device",
        &f.device_id,
        "--record",
        &p,
        "--record",
        &iv,
        "--out",
        s(&file),
    ]);
    assert_eq!(
        (out["records"].as_u64(), out["attachments"].as_u64()),
        (Some(2), Some(1)),
        "{out}"
    );
    // Only that device can open it.
    let stranger = TestVault::init("field");
    stranger.ok(&["trust", "import", s(&w.coord.tmp.path().join("trust.json"))]);
    assert!(
        !stranger
            .run(&["bundle", "import", s(&file)])
            .status
            .success()
    );

    let imp = f.json(&["bundle", "import", s(&file)]);
    assert_eq!(imp["counts"]["new_records"], 2, "{imp}");
    assert_eq!(imp["counts"]["new_attachments"], 1, "{imp}");
    assert!(f.ok(&["show", &iv]).contains("court hearing"));
    let back = f.run(&["attachment", "export", &att, "--out", "-"]);
    assert!(back.status.success());
    assert_eq!(back.stdout, bytes);
    assert!(
        !f.run(&["show", &other]).status.success(),
        "only what was asked for comes back"
    );
    // Replayed: refused, nothing changes.
    assert!(
        f.err(&["bundle", "import", s(&file)])
            .contains("already imported")
    );
    // Not sent back to headquarters, and removable again before the next trip.
    let nothing = f.json(&[
        "bundle",
        "export",
        "--out",
        s(&f.tmp.path().join("x.yaddash")),
    ]);
    assert_eq!(nothing["nothing_new"], true, "{nothing}");
    let st = f.json(&["travel", "status"]);
    assert_eq!(
        st["plan"]["removable"].as_array().expect("list").len(),
        2,
        "{st}"
    );
    assert!(f.ok(&["vault", "check"]).contains("clean"));
    drop(w.server);
}
