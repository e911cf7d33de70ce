//! Quick delete: make a vault unreadable at once (crypto-erase), then
//! remove what is left, best effort.
//!
//! The database key exists only inside the keyslots, so overwriting and
//! removing every keyslot (the vault's and the decoy's) is what makes the
//! vault unreadable; it touches a few small files and takes milliseconds
//! whatever the vault's size. The head of each database file (SQLCipher's
//! salt and first pages) and the write-ahead log and shared-memory files
//! are overwritten next; attachments are encrypted to a key kept inside the
//! database and are only unlinked. See `docs/coercion.md` for what this
//! cannot do (an image taken before, SSD remapping, backups).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::RngCore;
use serde::Serialize;

use crate::duress::{DECOY_DIR, GUARD_FILE};
use crate::error::{Result, VaultError};
use crate::fsutil::sync_dir;
use crate::{ATTACHMENTS, DB_FILE, Vault};

/// Bytes overwritten at the head of a database file: the SQLCipher salt,
/// the header and the first pages.
const DB_HEAD_BYTES: u64 = 1 << 20;
/// Bytes overwritten at the head of a write-ahead log or shared-memory file.
const WAL_HEAD_BYTES: u64 = 4 << 20;

/// Entries of a vault directory that quick delete removes. Anything else a
/// user put there is left alone and counted in [`DestroyReport::left`].
const VAULT_ENTRIES: &[&str] = &[
    "keyslots",
    DB_FILE,
    "vault.db-wal",
    "vault.db-shm",
    "vault.db-journal",
    ATTACHMENTS,
    crate::recording::RECORDINGS,
    "outbox",
    "inbox",
    crate::recording::RECORDINGS,
    DECOY_DIR,
    GUARD_FILE,
    crate::duress::DECOY_TMP,
    crate::duress::ERASED_ATTACHMENTS,
];

/// What a quick delete did.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct DestroyReport {
    /// Milliseconds the crypto-erase took (keyslots, then database heads).
    pub crypto_erase_ms: f64,
    /// Milliseconds the whole delete took.
    pub total_ms: f64,
    /// Entries that could not be removed (or were not the vault's).
    pub left: Vec<PathBuf>,
}

/// Quick delete of the vault in `dir`, which need not be unlocked: no
/// secret is needed to destroy files one can write. Crypto-erases first,
/// then removes the rest best effort. Refuses a directory that is not a
/// vault, so a wrong path never deletes anything.
pub fn destroy(dir: &Path) -> Result<DestroyReport> {
    if !dir.join("keyslots").is_dir() && !dir.join(DB_FILE).is_file() {
        return Err(VaultError::NotAVault(dir.to_path_buf()));
    }
    let started = Instant::now();
    erase_all_keyslots(dir)?;
    erase_databases(dir);
    let crypto_erase_ms = ms(started);
    let left = remove_rest(dir);
    Ok(DestroyReport {
        crypto_erase_ms,
        total_ms: ms(started),
        left,
    })
}

impl Vault {
    /// Quick delete of this open vault: the keyslots are erased while the
    /// database is still open, then it is closed (its keys zeroized), then
    /// the database heads are overwritten and the rest removed.
    pub fn destroy(self) -> Result<DestroyReport> {
        let dir = self.dir.clone();
        let started = Instant::now();
        let erased = erase_all_keyslots(&dir);
        drop(self);
        erase_databases(&dir);
        let crypto_erase_ms = ms(started);
        let left = remove_rest(&dir);
        erased?;
        Ok(DestroyReport {
            crypto_erase_ms,
            total_ms: ms(started),
            left,
        })
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Overwrites, syncs and removes every keyslot of the vault and of its
/// decoy. Fails only if a keyslot is still there afterwards.
fn erase_all_keyslots(dir: &Path) -> Result<()> {
    erase_keyslots(&dir.join("keyslots"));
    erase_keyslots(&dir.join(DECOY_DIR).join("keyslots"));
    erase_keyslots(&dir.join(crate::duress::DECOY_TMP).join("keyslots"));
    for d in [dir.join("keyslots"), dir.join(DECOY_DIR).join("keyslots")] {
        if let Ok(mut entries) = fs::read_dir(&d)
            && entries.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "age")))
        {
            return Err(VaultError::Io {
                context: format!("erasing the keyslots in {}", d.display()),
                source: std::io::Error::other("a keyslot could not be removed"),
            });
        }
    }
    Ok(())
}

/// Overwrites every file in a keyslot directory with random bytes, syncs
/// and removes it (best effort, each file independently).
pub(crate) fn erase_keyslots(slots: &Path) {
    let Ok(entries) = fs::read_dir(slots) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        overwrite_head(&path, u64::MAX);
        let _ = fs::remove_file(&path);
    }
    let _ = sync_dir(slots);
}

/// Overwrites the head of the vault's and the decoy's database files, their
/// write-ahead logs and shared-memory files (best effort).
fn erase_databases(dir: &Path) {
    erase_database(dir);
    erase_database(&dir.join(DECOY_DIR));
}

/// Overwrites the head of one directory's `vault.db` and its companions,
/// and removes the companions.
pub(crate) fn erase_database(dir: &Path) {
    overwrite_head(&dir.join(DB_FILE), DB_HEAD_BYTES);
    for companion in ["vault.db-wal", "vault.db-shm", "vault.db-journal"] {
        let path = dir.join(companion);
        if overwrite_head(&path, WAL_HEAD_BYTES) {
            let _ = fs::remove_file(&path);
        }
    }
}

/// Overwrites up to `limit` bytes at the start of a regular file with
/// random bytes and syncs it. Never follows a symbolic link. Returns
/// whether the file existed.
pub(crate) fn overwrite_head(path: &Path, limit: u64) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.file_type().is_file() {
        return true;
    }
    let len = meta.len().min(limit);
    let Ok(mut f) = OpenOptions::new().write(true).open(path) else {
        return true;
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = 0u64;
    while done < len {
        let n = usize::try_from((len - done).min(buf.len() as u64)).unwrap_or(buf.len());
        rand::thread_rng().fill_bytes(&mut buf[..n]);
        if f.write_all(&buf[..n]).is_err() {
            break;
        }
        done += n as u64;
    }
    let _ = f.sync_all();
    true
}

/// Removes the vault's own entries and then the directory if it is empty.
/// Returns what is left.
fn remove_rest(dir: &Path) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for name in VAULT_ENTRIES {
        let path = dir.join(name);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let gone = if meta.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        if gone.is_err() {
            left.push(path);
        }
    }
    if let Ok(entries) = fs::read_dir(dir) {
        left.extend(entries.flatten().map(|e| e.path()));
    }
    if left.is_empty() {
        let _ = fs::remove_dir(dir);
    }
    if let Some(parent) = dir.parent() {
        let _ = sync_dir(parent);
    }
    left
}

/// Removes a directory tree best effort (what a crypto-erase left behind).
pub(crate) fn remove_tree(path: &Path) {
    let _ = fs::remove_dir_all(path);
}
