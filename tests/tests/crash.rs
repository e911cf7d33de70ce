//! Crash: a child process saves records and reports each acknowledged id;
//! the parent kills it with SIGKILL at random moments, 200 times. Every
//! acknowledged record must be present and the vault must check clean.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use secrecy::SecretString;
use yaddash_model::{Confidentiality, Person, Record, Reliability};
use yaddash_vault::{CreateOptions, MIN_WORK_FACTOR, Unlock, Vault, VaultRole};

const PASS: &str = "crash test passphrase";

fn unlock() -> Unlock {
    Unlock::Passphrase(SecretString::from(PASS))
}

fn person(n: u64) -> Record {
    Record::Person(Person {
        names: vec![format!("Crash Person {n}"), format!("Краш {n}")],
        birth_year: Some(1970 + (n % 40) as i32),
        roles: vec![],
        notes: Some("x".repeat((n % 7) as usize * 300)),
        confidentiality: Confidentiality::Internal,
        reliability: Reliability::Unknown,
    })
}

/// The child process of `acknowledged_records_survive_sigkill` (not a test
/// by itself): the test binary re-executes itself to run it with
/// `--ignored --exact crash_child` and `CRASH_CHILD_VAULT` set. It never
/// returns: it saves until it is killed. Run any other way (`--ignored`
/// without the variable) it fails instead of passing without having done
/// anything, and the parent checks that every child was killed by SIGKILL
/// (not finished on its own) and that enough saves were acknowledged.
#[test]
#[ignore = "child process of acknowledged_records_survive_sigkill"]
fn crash_child() {
    let dir = std::env::var_os("CRASH_CHILD_VAULT").expect(
        "crash_child is the child process of acknowledged_records_survive_sigkill, \
         not a test by itself: CRASH_CHILD_VAULT is not set",
    );
    let mut vault = Vault::open(std::path::Path::new(&dir), &unlock()).expect("child open");
    println!("READY");
    let mut n = 0u64;
    loop {
        n += 1;
        let id = if n.is_multiple_of(10) {
            // Some edits too: a new revision of the last record.
            let list = vault.list(yaddash_model::RecordKind::Person).expect("list");
            let last = list.last().expect("a record").id;
            vault.update(last, &person(n)).expect("update");
            format!("{last}:edit")
        } else {
            vault.add(&person(n)).expect("add").to_string()
        };
        // The line is printed only after `add` returned: acknowledged.
        println!("ACK {id}");
    }
}

#[test]
fn acknowledged_records_survive_sigkill() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("vault");
    let options = CreateOptions {
        role: VaultRole::Field,
        kdf_work_factor: MIN_WORK_FACTOR,
    };
    let (mut vault, _) = Vault::create(&dir, &SecretString::from(PASS), &options).expect("create");
    vault.add(&person(0)).expect("seed");
    drop(vault);

    let exe = std::env::current_exe().expect("current exe");
    let mut rng = rand::thread_rng();
    let mut acked: Vec<String> = Vec::new();
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CRASH_CHILD_VAULT", &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(id) = line.strip_prefix("ACK ") {
                    // The first acknowledged save: the child is saving.
                    if acks.is_empty() {
                        let _ = ready_tx.send(());
                    }
                    acks.push(id.to_string());
                }
            }
            acks
        });
        // Kill at a random moment once the child has acknowledged its first
        // save (sometimes while it is still opening the vault, too). Waiting
        // for a save, not for the vault to open, keeps the test meaningful on
        // a loaded machine, where a fixed delay after opening saw few saves.
        if rng.gen_bool(0.9) {
            ready_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("child did not save anything");
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(1..40)));
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        // The child saves until it is killed: if it exited by itself (it
        // failed, or the filter ran no test at all), nothing was tested.
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "the child was not killed by SIGKILL but ended on its own ({status})"
        );
        #[cfg(not(unix))]
        assert!(!status.success(), "the child ended on its own ({status})");
        acked.extend(reader.join().expect("reader"));
    }
    let vault = Vault::open(&dir, &unlock()).expect("open after crashes");
    let mut records = 0;
    for a in &acked {
        let id = a.trim_end_matches(":edit");
        let id = uuid::Uuid::parse_str(id).expect("uuid");
        let r = vault.get(id).expect("acknowledged record present");
        if a.ends_with(":edit") {
            assert!(r.rev >= 2, "acknowledged edit lost");
        }
        records += 1;
    }
    assert!(
        records > rounds / 2,
        "too few acknowledged saves ({records}) to mean anything"
    );
    let report = vault.check(&mut |_| true).expect("check");
    assert!(report.is_clean(), "{:?}", report.problems);
    eprintln!(
        "{rounds} kills, {records} acknowledged saves, all present ({:?})",
        started.elapsed()
    );
}
