//! docs/vault-format.md's procedure for reading a vault without Yaddash,
//! run verbatim: `age -d` the passphrase keyslot (the passphrase typed on a
//! terminal, through `script`), open the database with the raw key in
//! SQLCipher 4 (PyPI's `sqlcipher3-binary` in a venv under target/), read
//! records and revisions, check every revision's hash, decrypt every
//! attachment with the storage identity and check its capture hash.

mod stock_support;

use std::path::Path;

use yaddash_e2e::{TestVault, files_under, utf8};

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
    let (ok, text) = stock_support::run(&stock_support::procedure("procedure"), &copy, &out_dir);
    assert!(ok, "the documented procedure failed:\n{text}");
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
