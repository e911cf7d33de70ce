//! SQLCipher finishes its own set-up (`sqlcipher_extra_init`) after SQLite
//! marks itself initialised, outside SQLite's lock: a second thread that
//! opens a database in that window finds SQLCipher "not initialized" and
//! its `PRAGMA key` fails. Seen as a vault that could not be created in the
//! test suite (two tests creating vaults at the same moment in a fresh
//! process). The vault must finish SQLCipher's set-up once, before any key.
//!
//! The window exists once per process, so the test runs fresh copies of
//! itself, each releasing several threads at once to key the process's
//! first databases after `yaddash_vault::sqlcipher_ready` (which the
//! vault's every open calls first). Without it, about 1 run in 50 failed
//! here (4 of 200, "PRAGMA key: An error occurred with PRAGMA key or
//! rekey…").

use std::process::Command;
use std::sync::{Arc, Barrier};

const CHILD: &str = "YADDASH_FIRST_OPEN_CHILD";
const THREADS: usize = 16;
const PROCESSES: usize = 400;

#[test]
fn every_thread_of_a_fresh_process_can_key_its_first_database() {
    if std::env::var_os(CHILD).is_some() {
        race();
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let mut failed = Vec::new();
    for n in 0..PROCESSES {
        let out = Command::new(&exe)
            .args([
                "--exact",
                "every_thread_of_a_fresh_process_can_key_its_first_database",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .expect("run a fresh copy");
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            let why = text
                .split('"')
                .find(|l| l.contains("PRAGMA key:") || l.contains("open:") || l.contains("write:"))
                .unwrap_or("see its output")
                .to_owned();
            failed.push(format!("run {n}: {why}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {PROCESSES} fresh processes could not key their first databases:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// In a fresh process: THREADS threads open and key a database each,
/// released at once, after `yaddash_vault::sqlcipher_ready` as the vault's
/// own opening does.
fn race() {
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                yaddash_vault::sqlcipher_ready();
                let conn =
                    rusqlite::Connection::open_in_memory().map_err(|e| format!("open: {e}"))?;
                conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "ab".repeat(32)))
                    .map_err(|e| format!("PRAGMA key: {e}"))?;
                conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
                    .map_err(|e| format!("write: {e}"))
            })
        })
        .collect();
    let errors: Vec<String> = threads
        .into_iter()
        .filter_map(|t| t.join().expect("thread").err())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
