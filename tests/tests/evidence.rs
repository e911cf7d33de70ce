//! Evidence packs through the real `yaddash` binary: a field device's
//! records and attachments travel to the coordinator in a bundle, the
//! coordinator exports a pack, and the pack is checked with its own
//! `verify.sh` (sha256sum and ssh-keygen only, after `unzip`): it passes;
//! one flipped byte in an attachment, a record file or a revision makes it
//! fail and name the file; a forged manifest signature fails; a partner
//! pack holds none of the consent canaries.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use yaddash_e2e::{TestVault, enrolled_pair, files_under, tmp_file, utf8};

const INTERVIEWER: &str = "Interviewer-Canary Qasımova";
const PLACE: &str = "Place-Canary Sumqayıt";
const ARREST_PLACE: &str = "ArrestPlace-Canary Nəsimi";
const SPEAKER: &str = "Speaker-Canary Əliyeva";
const INTERNAL_ONLY: &str = "InternalConsent-Canary narrative";
const NOTES: &str = "Notes-Canary about the source";
const AUDIO: &[u8] = b"Audio-Canary: a recording of the anonymous mother's voice\x00\x01\x02";
const SCAN: &[u8] = b"%PDF-1.4 verdict scan \xff\xfe bytes that must survive unchanged";

struct World {
    coord: TestVault,
    person: String,
    case: String,
    anonymous: String,
    internal_iv: String,
    tmp: tempfile::TempDir,
}

fn add(v: &TestVault, kind: &str, name: &str, body: &Value) -> String {
    let p = v.write_json(name, body);
    v.json(&[kind, "add", "--file", utf8(&p)])["id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn attach(v: &TestVault, to: &str, name: &str, bytes: &[u8]) -> String {
    let p = v.tmp.path().join(name);
    std::fs::write(&p, bytes).expect("write");
    v.json(&["attach", "--to", to, utf8(&p)])["id"]
        .as_str()
        .expect("attachment id")
        .to_string()
}

/// A field device documents a detainee, the coordinator imports the bundle.
fn world() -> World {
    let (coord, field) = enrolled_pair();
    let person = field.json(&[
        "person",
        "add",
        "--name",
        "Məmmədov Tofiq",
        "--name",
        "Мамедов Тофик",
        "--born",
        "1975",
        "--role",
        "detainee",
        "--confidentiality",
        "partner",
    ])["id"]
        .as_str()
        .expect("id")
        .to_string();
    // A second revision: both must be in the pack with their hashes.
    let body = json!({"names": ["Məmmədov Tofiq", "Мамедов Тофик", "Mammadov Tofig"],
                      "birth_year": 1975, "roles": ["detainee"], "notes": NOTES,
                      "confidentiality": "partner"});
    let p = field.write_json("person2.json", &body);
    field.ok(&["edit", &person, "--file", utf8(&p)]);
    let speaker = field.json(&[
        "person",
        "add",
        "--name",
        SPEAKER,
        "--role",
        "relative",
        "--confidentiality",
        "partner",
    ])["id"]
        .as_str()
        .expect("id")
        .to_string();
    let case = add(
        &field,
        "case",
        "case.json",
        &json!({"detainee_id": person, "title": "Arrest of Tofiq Məmmədov",
                "confidentiality": "partner",
                "events": [{"type": "arrest", "date": "2024-11-20", "place": ARREST_PLACE},
                           {"type": "charges", "date": "2024-11", "articles": ["206.3.2"]}]}),
    );
    let anonymous = add(
        &field,
        "interview",
        "anon.json",
        &json!({"detainee_id": person, "case_id": case, "speaker_id": speaker,
                "relation": "mother", "interviewer": INTERVIEWER, "date": "2025-02-14",
                "place": PLACE, "language": "az", "consent": "anonymous",
                "narrative": "Oğlumu gecə evdən apardılar.", "confidentiality": "partner"}),
    );
    let internal_iv = add(
        &field,
        "interview",
        "internal.json",
        &json!({"detainee_id": person, "interviewer": INTERVIEWER, "date": "2025-03",
                "language": "ru", "consent": "internal", "narrative": INTERNAL_ONLY,
                "confidentiality": "partner"}),
    );
    attach(&field, &case, "verdict.pdf", SCAN);
    attach(&field, &anonymous, "mother.ogg", AUDIO);
    let bundle = tmp_file(&field, "b1.yaddash");
    field.ok(&["bundle", "export", "--out", utf8(&bundle)]);
    coord.ok(&["bundle", "import", utf8(&bundle)]);
    World {
        coord,
        person,
        case,
        anonymous,
        internal_iv,
        tmp: tempfile::tempdir().expect("tempdir"),
    }
}

/// Exports a pack and unzips it into a fresh directory; returns the pack's folder.
fn export(w: &World, name: &str, level: &str, records: &[&str]) -> (PathBuf, Value) {
    let zip = w.tmp.path().join(format!("{name}.zip"));
    let mut args = vec!["evidence", "export", "--level", level, "--out", utf8(&zip)];
    for r in records {
        args.extend(["--record", r]);
    }
    args.push("--related");
    let summary = w.coord.json(&args);
    (unzip(&zip, &w.tmp.path().join(name)), summary)
}

fn unzip(zip: &Path, dir: &Path) -> PathBuf {
    let out = Command::new("unzip")
        .arg("-q")
        .arg(zip)
        .arg("-d")
        .arg(dir)
        .output()
        .expect("running unzip (apt-get install unzip)");
    assert!(
        out.status.success(),
        "unzip: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "one folder in the pack: {dirs:?}");
    dirs.remove(0)
}

/// Runs the pack's own verify.sh; returns (success, stdout + stderr).
fn verify(folder: &Path) -> (bool, String) {
    let out = Command::new("sh")
        .arg(folder.join("verify.sh"))
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("running sh verify.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files_under(from) {
        let rel = f.strip_prefix(from).expect("under");
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, &dest).expect("copy");
    }
}

fn rel(folder: &Path, f: &Path) -> String {
    f.strip_prefix(folder)
        .expect("under")
        .to_string_lossy()
        .into_owned()
}

fn flip(f: &Path) {
    let mut b = std::fs::read(f).expect("read");
    let i = b.len() / 2;
    b[i] ^= 0x01;
    std::fs::write(f, b).expect("write");
}

#[test]
fn internal_pack_verifies_with_stock_tools_and_any_flipped_byte_is_named() {
    let w = world();
    let (folder, summary) = export(&w, "internal", "internal", &[&w.person]);
    assert_eq!(summary["level"], "internal");
    assert_eq!(summary["manifests"], 1, "{summary}");
    assert_eq!(summary["attachments"], 2, "{summary}");
    assert_eq!(summary["without_device_signature"], 0, "{summary}");
    let (ok, out) = verify(&folder);
    assert!(ok, "verify.sh failed on an untouched pack:\n{out}");
    assert!(out.contains("evidence pack verified"), "{out}");
    assert!(out.contains("is signed by device"), "{out}");

    // The originals, byte for byte; every revision with its hash.
    let files = files_under(&folder);
    let bytes: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    assert!(
        bytes.iter().any(|b| b == SCAN),
        "the scan is in the pack unchanged"
    );
    assert!(
        bytes.iter().any(|b| b == AUDIO),
        "the recording is in the pack unchanged"
    );
    let record: Value = serde_json::from_slice(
        &std::fs::read(folder.join(format!("records/{}.json", w.person))).expect("record"),
    )
    .expect("json");
    let revs = record["revisions"].as_array().expect("revisions");
    assert_eq!(revs.len(), 2, "{record}");
    for r in revs {
        let f = folder.join(r["file"].as_str().expect("file"));
        let out = Command::new("sha256sum")
            .arg(&f)
            .output()
            .expect("sha256sum");
        let h = String::from_utf8_lossy(&out.stdout);
        assert!(
            h.starts_with(r["body_sha256"].as_str().expect("hash")),
            "{r}"
        );
        assert!(r["came_in"]["device_signed_manifest"].is_string(), "{r}");
    }
    let custody = std::fs::read_to_string(folder.join("custody.json")).expect("custody");
    for needle in [
        "saved on a field device",
        "imported_at",
        "exported in this pack",
    ] {
        assert!(custody.contains(needle), "custody lacks {needle}");
    }
    let pdf = Command::new("pdftotext")
        .arg(folder.join("summary.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&pdf.stdout);
    assert!(text.contains("Məmmədov Tofiq"), "{text}");
    assert!(text.contains("Evidence pack"), "{text}");

    // One flipped byte in each kind of file: verify.sh fails and names it.
    let targets: Vec<PathBuf> = files
        .iter()
        .filter(|f| {
            let r = rel(&folder, f);
            r.starts_with("attachments/")
                || r.starts_with("records/")
                || r.starts_with("revisions/")
                || (r.starts_with("bundles/")
                    && r.ends_with(".json")
                    && !r.ends_with("manifest.json"))
        })
        .cloned()
        .collect();
    assert!(targets.len() >= 8, "{targets:?}");
    for (n, target) in targets.iter().enumerate() {
        let copy = w.tmp.path().join(format!("flip{n}"));
        copy_dir(&folder, &copy);
        let r = rel(&folder, target);
        flip(&copy.join(&r));
        let (ok, out) = verify(&copy);
        assert!(!ok, "verify.sh passed with a flipped byte in {r}:\n{out}");
        assert!(
            out.lines().any(|l| l.contains(&r) && l.contains("FAILED")),
            "verify.sh did not name {r}:\n{out}"
        );
    }
}

#[test]
fn a_forged_manifest_signature_fails() {
    let w = world();
    let (folder, _) = export(&w, "internal", "internal", &[&w.case]);
    let manifests: Vec<PathBuf> = files_under(&folder)
        .into_iter()
        .filter(|f| f.ends_with("manifest.json"))
        .collect();
    assert_eq!(manifests.len(), 1);
    let manifest = &manifests[0];
    // Someone else's key signs the same manifest in the right namespace.
    let key = w.tmp.path().join("forger");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
    let sig = manifest.with_file_name("manifest.json.sig");
    std::fs::remove_file(&sig).expect("remove the device's signature");
    let st = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "yaddash-manifest@yaddash.org", "-f"])
        .arg(&key)
        .arg(manifest)
        .status()
        .expect("ssh-keygen -Y sign");
    assert!(st.success());
    assert!(sig.exists(), "ssh-keygen wrote manifest.json.sig");
    let (ok, out) = verify(&folder);
    assert!(!ok, "a forged manifest signature passed:\n{out}");
    let r = rel(&folder, &sig);
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAILED") && l.contains(&r) && l.contains("signature")),
        "verify.sh did not name the forged signature {r}:\n{out}"
    );
}

#[test]
fn partner_pack_holds_no_consent_canary_and_verifies() {
    let w = world();
    let (folder, summary) = export(&w, "partner", "partner", &[&w.person]);
    assert_eq!(summary["level"], "partner");
    assert_eq!(summary["manifests"], 0, "{summary}");
    let (ok, out) = verify(&folder);
    assert!(ok, "verify.sh failed on a partner pack:\n{out}");

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for f in files_under(&folder) {
        files.push((rel(&folder, &f), std::fs::read(&f).expect("read")));
        if f.extension().is_some_and(|e| e == "pdf") {
            let t = Command::new("pdftotext")
                .arg(&f)
                .arg("-")
                .output()
                .expect("pdftotext");
            files.push(("summary.pdf as text".into(), t.stdout));
        }
    }
    files.push((
        "the ZIP file".into(),
        std::fs::read(w.tmp.path().join("partner.zip")).expect("zip"),
    ));
    for (name, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        for canary in [
            INTERVIEWER,
            PLACE,
            ARREST_PLACE,
            SPEAKER,
            INTERNAL_ONLY,
            NOTES,
        ] {
            assert!(
                !text.contains(canary),
                "{name} in the partner pack holds {canary:?}: {text}"
            );
        }
    }
    let haystack: Vec<u8> = files.iter().flat_map(|(_, b)| b.clone()).collect();
    let text = String::from_utf8_lossy(&haystack);
    assert!(
        !haystack.windows(AUDIO.len()).any(|x| x == AUDIO),
        "partner pack holds the anonymous speaker's recording"
    );
    assert!(
        !text.contains(&w.internal_iv),
        "the internal-only interview is named"
    );
    // What the level allows is there.
    assert!(text.contains("Məmmədov Tofiq"));
    assert!(text.contains("Oğlumu gecə evdən apardılar."));
    assert!(text.contains(&w.anonymous));
    assert!(haystack.windows(SCAN.len()).any(|x| x == SCAN));

    // Asking for the internal-only interview at the partner level is refused.
    let zip = w.tmp.path().join("refused.zip");
    let err = w.coord.err(&[
        "evidence",
        "export",
        "--level",
        "partner",
        "--record",
        &w.internal_iv,
        "--out",
        utf8(&zip),
    ]);
    assert!(err.contains("cannot go into a partner pack"), "{err}");
    assert!(!zip.exists());
}
