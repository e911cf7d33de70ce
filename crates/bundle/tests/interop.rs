//! Interoperability with stock tools: the procedure in docs/bundle-format.md
//! is extracted and run verbatim with `sh` against a bundle this crate wrote,
//! and SSHSIG signatures are checked both ways with the real `ssh-keygen`.
//!
//! Skipped (with a message) only if `age`, `ssh-keygen` or `tar` is missing.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use age::secrecy::ExposeSecret;
use common::*;
use uuid::Uuid;
use yaddash_bundle::*;

fn tools_present() -> bool {
    for tool in [
        ["age", "--version"],
        ["ssh-keygen", "-?"],
        ["tar", "--version"],
        ["sha256sum", "--version"],
    ] {
        let found = Command::new(tool[0])
            .arg(tool[1])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            eprintln!("skipping: `{}` is not installed", tool[0]);
            return false;
        }
    }
    true
}

fn procedure() -> String {
    let doc = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/bundle-format.md"),
    )
    .expect("docs/bundle-format.md");
    let block = doc
        .split("<!-- procedure:begin -->")
        .nth(1)
        .and_then(|s| s.split("<!-- procedure:end -->").next())
        .expect("procedure markers in the docs");
    let block = block.trim();
    block
        .strip_prefix("```sh")
        .and_then(|s| s.strip_suffix("```"))
        .expect("a ```sh block")
        .to_owned()
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn run_procedure(dir: &Path, bundle: &[u8], signer_key: &str, age_key: &str) -> Run {
    let bundle_path = dir.join("bundle.yaddash");
    fs::write(&bundle_path, bundle).unwrap();
    let key_path = dir.join("coordinator.agekey");
    fs::write(&key_path, age_key).unwrap();
    let work = dir.join("work");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(procedure())
        .env("BUNDLE", &bundle_path)
        .env("SIGNER_KEY", signer_key)
        .env("AGE_KEY", &key_path)
        .env("WORK", &work)
        .output()
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn documented_stock_tool_procedure_verifies_and_extracts_a_bundle() {
    if !tools_present() {
        return;
    }
    let w = World::new();
    let (bytes, written) = w.sample_bundle(5, "interop");
    let dir = tempfile::tempdir().unwrap();
    let signer = w.device.public_identity(w.device_id).signing_key;
    let age_key = w.coordinator.age_identity_string();
    let run = run_procedure(dir.path(), &bytes, &signer, age_key.expose_secret());
    assert!(run.ok, "procedure failed:\n{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("bundle verified"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout
            .contains(&format!("{}  payload.age", written.bundle_id)),
        "sha256sum prints the bundle id:\n{}",
        run.stdout
    );
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("Good \"yaddash-bundle@yaddash.org\" signature"),
        "{said}"
    );
    assert!(
        said.contains("Good \"yaddash-manifest@yaddash.org\" signature"),
        "{said}"
    );
    // The extracted entries are the bytes that went in.
    let inner = dir.path().join("work/inner");
    for e in &written.manifest.entries {
        let data = fs::read(inner.join(&e.path)).unwrap();
        assert_eq!(Sha256Hash::digest(&data), e.sha256);
    }
    let record = &written.manifest.entries[0].path;
    assert_eq!(
        fs::read(inner.join(record)).unwrap(),
        b"{\"note\":\"interop\"}"
    );
}

#[test]
fn documented_procedure_fails_on_tampered_bundles() {
    if !tools_present() {
        return;
    }
    let w = World::new();
    let (bytes, _) = w.sample_bundle(5, "interop");
    let dir = tempfile::tempdir().unwrap();
    let signer = w.device.public_identity(w.device_id).signing_key;
    let age_key = w.coordinator.age_identity_string();

    // A flipped ciphertext byte: the outer signature fails.
    let mut flipped = bytes.clone();
    let o = Outer::split(&bytes);
    let payload_at = bytes
        .windows(o.payload.len().min(64))
        .position(|win| win == &o.payload[..o.payload.len().min(64)])
        .unwrap();
    flipped[payload_at + 1000] ^= 0x10;
    let run = run_procedure(dir.path(), &flipped, &signer, age_key.expose_secret());
    assert!(!run.ok, "a tampered payload must fail: {}", run.stdout);

    // The wrong signer key.
    let other = DeviceKeys::generate()
        .public_identity(w.device_id)
        .signing_key;
    let run = run_procedure(dir.path(), &bytes, &other, age_key.expose_secret());
    assert!(!run.ok);

    // Re-encrypted to the same coordinator with an altered record and a
    // re-signed outer signature (e.g. by a stolen device key after the fact):
    // the manifest hash check fails.
    let mut o = Outer::split(&bytes);
    let plain = decrypt(&o.payload, w.coordinator.age_identity());
    let mut entries = untar(&plain);
    entries[2].1[0] ^= 1;
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    o.payload = encrypt(&tar(&refs), &[w.coordinator.age_recipient()]);
    o.resign(&w.device);
    let run = run_procedure(dir.path(), &o.join(), &signer, age_key.expose_secret());
    assert!(!run.ok);
    assert!(
        run.stdout.contains("FAILED") || run.stderr.contains("FAILED"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn ssh_keygen_accepts_our_signatures_and_we_accept_its() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = DeviceKeys::generate();
    let id = Uuid::now_v7();
    let public = keys.public_identity(id);
    let allowed = dir.path().join("allowed_signers");
    fs::write(&allowed, format!("{id} {}\n", public.signing_key)).unwrap();

    // Ours, over a file larger than one hash block, verified by ssh-keygen.
    let msg: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    let msg_path = dir.path().join("msg");
    fs::write(&msg_path, &msg).unwrap();
    let digest = sshsig::MessageDigest::from_reader(&msg[..]).unwrap();
    let sig = sshsig::sign_digest(&keys, sshsig::NAMESPACE_BUNDLE, digest).unwrap();
    let sig_path = dir.path().join("msg.sig");
    fs::write(&sig_path, &sig).unwrap();
    let verify = |ns: &str| {
        Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args(["-I", &id.to_string(), "-n", ns, "-s"])
            .arg(&sig_path)
            .stdin(fs::File::open(&msg_path).unwrap())
            .output()
            .unwrap()
    };
    let out = verify(sshsig::NAMESPACE_BUNDLE);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!verify(sshsig::NAMESPACE_MANIFEST).status.success());

    // ssh-keygen's, made with our exported private key, verified by us.
    let key_path = dir.path().join("id_ed25519");
    fs::write(&key_path, keys.signing_key_openssh().unwrap().as_bytes()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).unwrap();
    }
    fs::remove_file(&sig_path).unwrap();
    let out = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-f"])
        .arg(&key_path)
        .args(["-n", sshsig::NAMESPACE_RECEIPT])
        .arg(&msg_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = fs::read(dir.path().join("msg.sig")).unwrap();
    sshsig::verify_bytes(
        &keys.signing_public_key(),
        sshsig::NAMESPACE_RECEIPT,
        &msg,
        &theirs,
    )
    .unwrap();

    // ssh-keygen computes the same fingerprint.
    let pub_path = dir.path().join("id.pub");
    fs::write(&pub_path, format!("{}\n", public.signing_key)).unwrap();
    let out = Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(&pub_path)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&public.fingerprint().unwrap().ssh),
        "{listed}"
    );
}

#[test]
fn receipts_verify_with_ssh_keygen_as_documented() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = DeviceKeys::generate();
    let id = Uuid::now_v7();
    let receipt = Receipt::new(
        ReceiptKind::HqReceived,
        Sha256Hash::digest(b"x"),
        Uuid::now_v7(),
        1,
        vec![],
        time::OffsetDateTime::now_utc(),
        &keys,
    );
    let file = sign_receipt(&receipt, &keys).unwrap();
    fs::write(dir.path().join("receipt"), &file).unwrap();
    fs::write(
        dir.path().join("allowed_signers"),
        format!("{id} {}\n", keys.public_identity(id).signing_key),
    )
    .unwrap();
    let script = format!(
        "set -eu; cd '{}'; head -n 1 receipt > receipt.json; tail -n +2 receipt > receipt.sig; \
         ssh-keygen -Y verify -f allowed_signers -I {id} -n yaddash-receipt@yaddash.org -s receipt.sig < receipt.json",
        dir.path().display()
    );
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn age_cli_identity_string_decrypts_what_we_encrypt() {
    if !tools_present() {
        return;
    }
    let keys = DeviceKeys::generate();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("k");
    fs::write(&key_path, keys.age_identity_string().expose_secret()).unwrap();
    let ct = encrypt(b"hello", &[keys.age_recipient()]);
    let ct_path = dir.path().join("ct.age");
    fs::write(&ct_path, ct).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key_path)
        .arg(&ct_path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"hello");
}
