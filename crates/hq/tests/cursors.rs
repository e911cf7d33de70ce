//! Listing cursors never skip a row committed out of order (issue 11 item
//! 7). A transaction that took its id first but commits last is held open
//! by the test (as a slow server instance would), while another inserts and
//! commits and a device lists with its cursor. With ids handed out at
//! INSERT time (PostgreSQL `BIGSERIAL`) the device's cursor moves past the
//! slow row and never sees it; with commit-ordered ids it sees both.
//!
//! SQLite always runs; PostgreSQL when `YADDASH_HQ_TEST_PG_BASE` names a
//! server (`scripts/test-hq.sh` starts one on loopback).

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;
use yaddash_hq::store::{BundleRow, PgStore, SqliteStore, Store, postgres, sqlite};

const PAUSE: Duration = Duration::from_millis(700);

/// The rows a device sees by following its cursor, before and after the
/// slow transaction commits.
fn follow(store: &dyn Store, device: Uuid, commit_slow: impl FnOnce()) -> Vec<String> {
    let first = store.receipts(device, 0).expect("list");
    let cursor = first.last().map(|r| r.0).unwrap_or(0);
    commit_slow();
    std::thread::sleep(PAUSE);
    let second = store.receipts(device, cursor).expect("list");
    let mut seen: Vec<String> = first.into_iter().chain(second).map(|r| r.1).collect();
    seen.sort();
    seen
}

fn row(device: Uuid, n: u8) -> BundleRow {
    BundleRow {
        seq: 0,
        bundle_id: hex::encode([n; 32]),
        file_sha256: hex::encode([n ^ 0xff; 32]),
        device_id: device,
        size: 10,
        received_at: 1,
    }
}

#[test]
fn sqlite_cursors_see_rows_committed_out_of_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("hq.sqlite");
    let store = Arc::new(SqliteStore::open(&path).expect("open"));
    let device = Uuid::now_v7();
    // The store is one connection, which would wait behind the blocked
    // writer: the device reads through another one.
    let reader = SqliteStore::open(&path).expect("reader");
    let mut slow = rusqlite::Connection::open(&path).expect("open");
    slow.busy_timeout(Duration::from_secs(30)).expect("timeout");
    let tx = slow
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("tx");
    sqlite::insert_receipt(&tx, device, "slow", 1).expect("insert");
    let s2 = Arc::clone(&store);
    let fast = std::thread::spawn(move || s2.receipt_add(device, "fast", 2));
    std::thread::sleep(PAUSE);
    // `fast` waits for the write lock (held until commit).
    let seen = follow(&reader, device, || tx.commit().expect("commit"));
    fast.join().expect("join").expect("fast");
    assert_eq!(
        seen,
        ["fast", "slow"],
        "the device's cursor skipped a receipt"
    );
}

fn pg_url() -> Option<String> {
    let base = std::env::var("YADDASH_HQ_TEST_PG_BASE").ok()?;
    let base = base.trim_end_matches('/').to_owned();
    let name = format!("hq_cursors_{}", hex::encode(rand::random::<[u8; 6]>()));
    let mut admin =
        ::postgres::Client::connect(&format!("{base}/postgres"), ::postgres::NoTls).expect("pg");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    Some(format!("{base}/{name}"))
}

#[test]
fn postgres_receipt_cursor_sees_a_receipt_committed_out_of_order() {
    let Some(url) = pg_url() else {
        eprintln!(
            "YADDASH_HQ_TEST_PG_BASE not set: PostgreSQL part skipped (scripts/test-hq.sh runs it)"
        );
        return;
    };
    let store = Arc::new(PgStore::open(&url).expect("open"));
    let device = Uuid::now_v7();
    let mut slow = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
    let mut tx = slow.transaction().expect("tx");
    // The slow transaction takes its id first...
    postgres::insert_receipt(&mut tx, device, "slow", 1).expect("insert");
    // ...another commits after it, while it is still open.
    let s2 = Arc::clone(&store);
    let fast = std::thread::spawn(move || s2.receipt_add(device, "fast", 2));
    std::thread::sleep(PAUSE);
    let seen = follow(&*store, device, move || tx.commit().expect("commit"));
    fast.join().expect("join").expect("fast");
    assert_eq!(
        seen,
        ["fast", "slow"],
        "the device's cursor skipped a receipt"
    );
}

#[test]
fn postgres_bundle_cursor_sees_a_bundle_committed_out_of_order() {
    let Some(url) = pg_url() else {
        return;
    };
    let store = Arc::new(PgStore::open(&url).expect("open"));
    let device = Uuid::now_v7();
    let coordinator = Uuid::now_v7();
    let mut slow = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
    let mut tx = slow.transaction().expect("tx");
    postgres::insert_bundle(&mut tx, &row(device, 1), "receipt-1").expect("insert");
    let s2 = Arc::clone(&store);
    let fast = std::thread::spawn(move || s2.bundle_accept(&row(device, 2), "receipt-2"));
    std::thread::sleep(PAUSE);
    let first = store.bundles_pending(coordinator, 0, 100).expect("list");
    let cursor = first.last().map(|b| b.seq).unwrap_or(0);
    tx.commit().expect("commit");
    fast.join().expect("join").expect("fast");
    std::thread::sleep(PAUSE);
    let second = store
        .bundles_pending(coordinator, cursor, 100)
        .expect("list");
    let mut seen: Vec<String> = first
        .into_iter()
        .chain(second)
        .map(|b| b.bundle_id)
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [hex::encode([1u8; 32]), hex::encode([2u8; 32])],
        "the coordinator's cursor skipped a bundle"
    );
}
