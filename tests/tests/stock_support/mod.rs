//! docs/vault-format.md's stock-tool procedures, run verbatim by
//! vault_stock_tools.rs (the whole vault) and recording.rs (the segments of
//! a recording cut short): the shell blocks between the doc's markers, the
//! SQLCipher 4 Python they need, and a run with the passphrase typed into
//! `age` on a terminal (through `script`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use yaddash_e2e::PASSPHRASE;

/// The PyPI wheel that bundles SQLCipher 4 (4.12.0 in 0.6.0).
const SQLCIPHER_WHEEL: &str = "sqlcipher3-binary==0.6.0";

/// A Python with the `sqlcipher3` module: `$YADDASH_SQLCIPHER_PYTHON`, or a
/// venv made once under the target directory.
pub fn sqlcipher_python() -> PathBuf {
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

/// The shell block between `<!-- NAME:begin -->` and `<!-- NAME:end -->` of
/// docs/vault-format.md.
pub fn procedure(name: &str) -> String {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/vault-format.md"),
    )
    .expect("docs/vault-format.md");
    let start = doc
        .find(&format!("<!-- {name}:begin -->"))
        .expect("begin marker");
    let end = doc
        .find(&format!("<!-- {name}:end -->"))
        .expect("end marker");
    let block = &doc[start..end];
    let code_start = block.find("```sh\n").expect("sh fence") + "```sh\n".len();
    let code_end = block.rfind("```").expect("closing fence");
    block[code_start..code_end].to_string()
}

/// Runs `script` with `sh` on a terminal (`script` gives `age` one; the
/// passphrase is typed into it), with `VAULT`, `WORK` and `PY` set.
/// Answers (success, stdout and stderr).
pub fn run(script: &str, vault: &Path, work: &Path) -> (bool, String) {
    let file = work.with_extension("sh");
    std::fs::write(&file, script).expect("write");
    let mut child = Command::new("script")
        .arg("-qec")
        .arg(format!("sh '{}'", file.display()))
        .arg("/dev/null")
        .env("VAULT", vault)
        .env("WORK", work)
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
    (out.status.success(), text)
}
