//! docs/vault-format.md's procedure for reading a vault without Yaddash,
//! run verbatim: `age -d` the passphrase keyslot (the passphrase typed on a
//! terminal, through `script`), open the database with the raw key in
//! SQLCipher 4 (PyPI's `sqlcipher3-binary` in a venv under target/), read
//! records and revisions, check every revision's hash, decrypt every
//! attachment with the storage identity and check its capture hash.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::io::Write as _;
use yaddash_e2e::{PASSPHRASE, TestVault, files_under, utf8};

/// The PyPI wheel that bundles SQLCipher 4 (4.12.0 in 0.6.0).
const SQLCIPHER_WHEEL: &str = "sqlcipher3-binary==0.6.0";

/// A Python with the `sqlcipher3` module: `$YADDASH_SQLCIPHER_PYTHON`, or a
/// venv made once under the target directory.
fn sqlcipher_python() -> PathBuf {
    if let Some(p) = std::env::var_os("YADDASH_SQLCIPHER_PYTHON") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let venv = target.join("sqlcipher-venv");
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import sqlcipher3"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let st = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv (apt-get install python3-venv)");
        assert!(st.success(), "python3 -m venv failed");
        let st = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", SQLCIPHER_WHEEL])
            .status()
            .expect("pip install");
        assert!(st.success(), "pip install {SQLCIPHER_WHEEL} failed");
    }
    py
}

/// The shell block between the procedure markers of docs/vault-format.md.
fn procedure() -> String {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/vault-format.md"),
    )
    .expect("docs/vault-format.md");
    let start = doc.find("<!-- procedure:begin -->").expect("begin marker");
    let end = doc.find("<!-- procedure:end -->").expect("end marker");
    let block = &doc[start..end];
    let code_start = block.find("```sh\n").expect("sh fence") + "```sh\n".len();
    let code_end = block.rfind("```").expect("closing fence");
    block[code_start..code_end].to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files_under(from) {
        let dest = to.join(f.strip_prefix(from).expect("under"));
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, &dest).expect("copy");
    }
}

#[test]
fn the_documented_stock_tool_procedure_reads_a_vault() {
    let v = TestVault::init("field");
    let person = v.add_person(&["Məmmədov Tofiq", "Мамедов Тофик"]);
    let body =
        serde_json::json!({"names": ["Məmmədov Tofiq", "Mammadov Tofig"], "birth_year": 1975});
    let p = v.write_json("edit.json", &body);
    v.ok(&["edit", &person, "--file", utf8(&p)]);
    let originals: Vec<(String, Vec<u8>)> = [
        ("scan.pdf", b"%PDF-1.4 a verdict \xff\x00".to_vec()),
        (
            "voice.ogg",
            (0..70_001u32).map(|i| (i * 7 % 251) as u8).collect(),
        ),
    ]
    .into_iter()
    .map(|(name, bytes)| {
        let f = v.tmp.path().join(name);
        std::fs::write(&f, &bytes).expect("write");
        let id = v.json(&["attach", "--to", &person, utf8(&f)])["id"]
            .as_str()
            .expect("id")
            .to_string();
        (id, bytes)
    })
    .collect();

    let work = tempfile::tempdir().expect("tempdir");
    let copy = work.path().join("vault");
    copy_dir(&v.dir, &copy);
    let out_dir = work.path().join("work");
    std::fs::create_dir(&out_dir).expect("mkdir");
    let script = work.path().join("procedure.sh");
    std::fs::write(&script, procedure()).expect("write");

    // `script` gives age a terminal; the passphrase is typed into it.
    let mut child = Command::new("script")
        .arg("-qec")
        .arg(format!("sh '{}'", script.display()))
        .arg("/dev/null")
        .env("VAULT", &copy)
        .env("WORK", &out_dir)
        .env("PY", sqlcipher_python())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSPHRASE}\n").as_bytes())
        .expect("type the passphrase");
    let out = child.wait_with_output().expect("procedure");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the documented procedure failed:\n{text}"
    );
    assert!(text.contains("vault read with stock tools"), "{text}");
    assert!(text.contains("SQLCipher 4."), "not SQLCipher 4:\n{text}");
    assert!(
        text.contains("Mammadov Tofig"),
        "the current body was not read:\n{text}"
    );
    assert_eq!(
        text.matches(&format!("revision {person} ")).count(),
        2,
        "both revisions were read:\n{text}"
    );
    for (id, bytes) in &originals {
        let got = std::fs::read(out_dir.join("attachments").join(id)).expect("decrypted");
        assert!(got == *bytes, "attachment {id} differs from the original");
    }
}
