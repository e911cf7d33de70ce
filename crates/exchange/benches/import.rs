//! Import throughput: 1,000 bundles holding 100,000 records.
//!
//! ```sh
//! cargo bench -p yaddash-exchange --bench import -- prepare DIR [BUNDLES] [RECORDS_PER_BUNDLE]
//! /usr/bin/time -v target/release/deps/import-* import DIR     # or: cargo bench ... -- import DIR
//! ```
//!
//! `prepare` makes a field vault and a coordinator vault (trust, enrollment)
//! and writes the bundles; `import` imports them all into the coordinator and
//! prints records per second. Run `import` under `/usr/bin/time -v` for peak RSS.

use std::path::{Path, PathBuf};
use std::time::Instant;

use secrecy::SecretString;
use yaddash_model::{Confidentiality, Person, Record, Reliability, Role};
use yaddash_vault::{CreateOptions, MIN_WORK_FACTOR, Unlock, Vault, VaultRole};

const PASS: &str = "benchmark passphrase";

fn create(dir: &Path, role: VaultRole) -> Vault {
    let options = CreateOptions {
        role,
        kdf_work_factor: MIN_WORK_FACTOR,
    };
    Vault::create(dir, &SecretString::from(PASS), &options)
        .expect("create")
        .0
}

fn open(dir: &Path) -> Vault {
    Vault::open(dir, &Unlock::Passphrase(SecretString::from(PASS))).expect("open")
}

fn prepare(dir: &Path, bundles: usize, per_bundle: usize) {
    std::fs::create_dir_all(dir.join("bundles")).expect("mkdir");
    let mut coord = create(&dir.join("coordinator"), VaultRole::Coordinator);
    let mut field = create(&dir.join("field"), VaultRole::Field);
    let trust = yaddash_exchange::trust_export(&mut coord, &[], None, None).expect("trust");
    yaddash_exchange::trust_import(&mut field, &serde_json::to_string(&trust).expect("json"))
        .expect("trust import");
    let keys = yaddash_exchange::device_keys(&mut field).expect("keys");
    yaddash_exchange::enroll_device(&mut coord, &keys.public_identity(field.device_id()), None)
        .expect("enroll");
    let t = Instant::now();
    for b in 0..bundles {
        field
            .with_transaction(|tx| {
                for i in 0..per_bundle {
                    tx.add(&Record::Person(Person {
                        names: vec![format!("Şəxs {b}-{i}"), format!("Персона {b}-{i}")],
                        birth_year: Some(1960 + (i % 50) as i32),
                        roles: vec![Role::Detainee],
                        notes: Some("Qeyd: həbs olunub, təcridxanada saxlanılır.".into()),
                        confidentiality: Confidentiality::Internal,
                        reliability: Reliability::Medium,
                    }))?;
                }
                Ok(())
            })
            .expect("records");
        let out = dir.join("bundles").join(format!("{:05}.yaddash", b + 1));
        yaddash_exchange::export_bundle(&mut field, &out, &mut |_| true)
            .expect("export")
            .expect("something to export");
    }
    println!(
        "prepared {bundles} bundles of {per_bundle} records in {:?}",
        t.elapsed()
    );
}

fn import(dir: &Path) {
    let mut coord = open(&dir.join("coordinator"));
    let mut bundles: Vec<PathBuf> = std::fs::read_dir(dir.join("bundles"))
        .expect("bundles")
        .flatten()
        .map(|e| e.path())
        .collect();
    bundles.sort();
    let t = Instant::now();
    let mut records = 0u64;
    for b in &bundles {
        let s = yaddash_exchange::import_bundle(&mut coord, b, &mut |_| true).expect("import");
        records += s.counts.new_records;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "imported {} bundles, {records} records in {secs:.2} s: {:.0} records/s, {:.1} bundles/s",
        bundles.len(),
        records as f64 / secs,
        bundles.len() as f64 / secs
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = PathBuf::from(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("/var/tmp/yaddash-import-bench"),
    );
    match args.first().map(String::as_str) {
        Some("prepare") => {
            let bundles = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
            let per = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
            prepare(&dir, bundles, per);
        }
        Some("import") => import(&dir),
        _ => eprintln!("usage: import prepare DIR [BUNDLES] [PER_BUNDLE] | import DIR"),
    }
}
