//! Canary: after a full session of work, no file under the vault directory or
//! $TMPDIR contains the testimony, in any encoding we can think of.

use rand::{Rng, RngCore};
use serde_json::json;
use yaddash_e2e::{TestVault, files_under};
use yaddash_model::fold::fold_text;

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
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

    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for s in [
        canary.clone(),
        canary.to_lowercase(),
        canary.to_uppercase(),
        name_canary.clone(),
        name_canary.to_lowercase(),
        suffix.clone(),
        fold_text(&canary),
        fold_text(&name_canary),
        "court-papers".to_string(),
    ] {
        needles.push((format!("utf-8 {s:?}"), s.as_bytes().to_vec()));
        needles.push((format!("utf-16le {s:?}"), utf16le(&s)));
    }
    let files: Vec<_> = files_under(&v.dir)
        .into_iter()
        .chain(files_under(&tmpdir))
        .collect();
    assert!(files.len() >= 4, "expected vault files, found {files:?}");
    for f in files {
        let bytes = std::fs::read(&f).expect("read");
        for (what, needle) in &needles {
            assert!(!contains(&bytes, needle), "{} contains {what}", f.display());
        }
    }
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
