//! An enrolled device cannot exhaust the coordinator's memory with a
//! hand-carried bundle (issue 11, item 4): the importer's limits refuse it
//! before reading its entries, under a tight `ulimit -v`, and nothing
//! changes. Limits: docs/bundle-format.md, "Import limits".

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use secrecy::SecretString;
use yaddash_bundle::{BundleSpec, EntrySource, PublicIdentityExt, write_bundle};
use yaddash_e2e::{PASSPHRASE, TestVault, snapshot, yaddash_bin};
use yaddash_e2e::{enrolled_pair as setup, tmp_file as path, utf8 as s};
use yaddash_vault::{Unlock, Vault};

/// Virtual memory allowed to the importing process (KiB): far below what
/// holding the refused bundles' JSON would take.
const ULIMIT_KIB: u64 = 768 * 1024;

/// A bundle signed with the field device's real keys, whose entries are
/// `count` records of `size` bytes each (all the same bytes).
fn bundle_of(f: &TestVault, count: usize, size: usize) -> PathBuf {
    let mut v = Vault::open(
        &f.dir,
        &Unlock::Passphrase(SecretString::from(PASSPHRASE.to_owned())),
    )
    .expect("open");
    let keys = yaddash_exchange::device_keys(&mut v).expect("keys");
    let trust = yaddash_exchange::trust_file(&v).expect("trust");
    let spec = BundleSpec {
        device_id: v.device_id(),
        seq: 1,
        prev_bundle_sha256: None,
        created_at: time::OffsetDateTime::now_utc(),
        hq_id: trust.hq_id.clone(),
        recipients: trust
            .coordinators
            .iter()
            .map(|c| c.age_recipient().expect("recipient"))
            .collect(),
    };
    let data = vec![b' '; size];
    let entries = (0..count)
        .map(|_| EntrySource::from_bytes(format!("records/{}.json", uuid::Uuid::now_v7()), &data))
        .collect();
    let out = path(f, &format!("big-{count}-{size}.yaddash"));
    let file = std::fs::File::create(&out).expect("create");
    let mut w = std::io::BufWriter::new(file);
    write_bundle(&mut w, &keys, &spec, entries).expect("write bundle");
    out
}

/// `yaddash --json bundle import FILE` with virtual memory limited.
fn import_limited(coord: &TestVault, bundle: &Path) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -v {ULIMIT_KIB}; exec \"$@\""))
        .arg("bash")
        .arg(yaddash_bin())
        .arg("--vault")
        .arg(&coord.dir)
        .arg("--passphrase-file")
        .arg(&coord.pass_file)
        .args(["bundle", "import"])
        .arg(bundle)
        .env_remove("YADDASH_VAULT")
        .output()
        .expect("bash runs yaddash")
}

fn refused_cleanly(coord: &TestVault, bundle: &Path, limit: &str) {
    let before = snapshot(&coord.dir);
    let out = import_limited(coord, bundle);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "not a clean refusal: {err}");
    assert!(
        err.contains("too large to import") && err.contains(limit),
        "the error does not name the limit {limit:?}: {err}"
    );
    assert!(
        snapshot(&coord.dir) == before,
        "the refused import changed the vault"
    );
}

#[test]
fn a_record_entry_over_its_limit_is_refused_under_ulimit() {
    let (coord, f) = setup();
    let b = bundle_of(&f, 1, (16 << 20) + 1);
    refused_cleanly(&coord, &b, "16 MiB per entry");
}

#[test]
fn records_over_the_total_limit_are_refused_under_ulimit() {
    let (coord, f) = setup();
    // 17 records just under the per-entry limit: 264 MiB of JSON in all.
    let b = bundle_of(&f, 17, (16 << 20) - 1024);
    refused_cleanly(&coord, &b, "256 MiB in all");
}

#[test]
fn a_huge_count_of_entries_is_refused_under_ulimit() {
    let (coord, f) = setup();
    let b = bundle_of(&f, 50_001, 2);
    refused_cleanly(&coord, &b, "50000 entries");
}

#[test]
fn an_ordinary_bundle_imports_under_the_same_ulimit() {
    let (coord, f) = setup();
    f.add_person(&["Məmmədov Tofiq"]);
    let b = path(&f, "ok.yaddash");
    f.ok(&["bundle", "export", "--out", s(&b)]);
    let out = import_limited(&coord, &b);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        coord.json(&["list", "persons"]).as_array().map(Vec::len),
        Some(1)
    );
}
