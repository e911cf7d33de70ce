//! Unlocking under coercion: the duress passphrase, the decoy vault and the
//! limit on failed unlocks. The design is in `docs/vault-format.md`
//! ("Duress passphrase and failed unlocks"); in short:
//!
//! * Every vault has a `decoy/` directory laid out like a vault
//!   (`keyslots/passphrase.age`, `keyslots/recovery.age`, `vault.db`,
//!   `attachments/`) and an `attempts` file, whether or not a duress
//!   passphrase or a limit is set. Without a duress passphrase the decoy's
//!   keyslots are *filler*: real age scrypt files, of the same size and
//!   work factor, that no secret opens; its database is created the same
//!   way with a key nobody keeps. So a disk image looks the same either way.
//! * [`unlock`] with a passphrase always runs scrypt on the vault's keyslot
//!   and then on the decoy's, in that order, whatever fits. The decoy's key
//!   crypto-erases the vault and moves the decoy into its place.
//! * When a limit is set, a failed unlock is counted in `attempts`
//!   (outside the encrypted database, since it happens before unlocking);
//!   at the limit the vault is destroyed. Without a limit, a failed unlock
//!   changes nothing on disk. Anyone who can write the file can reset it: this only stops
//!   guessing through Yaddash itself. A copied vault is attacked offline,
//!   where scrypt is the defence.

use std::fs;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use rusqlite::params;
use serde::Serialize;
use yaddash_model::fold::FOLD_VERSION;

use crate::destroy::{erase_database, erase_keyslots, remove_tree};
use crate::error::{IoContext, Result, VaultError};
use crate::fsutil::{sync_dir, write_atomic};
use crate::keyslot::{self, MasterKey, SlotKind};
use crate::{ATTACHMENTS, DB_FILE, Unlock, Vault, VaultRole, check_passphrase, now, open_db};

/// The decoy vault's directory inside a vault.
pub(crate) const DECOY_DIR: &str = "decoy";
/// A decoy being made (replaced at once; left only by a crash).
pub(crate) const DECOY_TMP: &str = "decoy.new";
/// The vault's attachments moved aside after a duress unlock, until removed.
pub(crate) const ERASED_ATTACHMENTS: &str = "attachments.erased";
/// The failed-unlock counter and limit (plain text, fixed size).
pub(crate) const GUARD_FILE: &str = "attempts";
/// Vault setting (inside the encrypted database): when the duress
/// passphrase was set. Only someone who unlocked the vault sees it.
const META_DURESS: &str = crate::settings::DURESS_SET_AT;
/// Pages every decoy database is grown to at creation (freed again, so
/// records put in a decoy reuse them): 1 MiB. An empty decoy and one with a
/// few dozen text records have the same size.
const DECOY_PAGES: i64 = 256;
const GUARD_HEADER: &str = "yaddash-unlock-guard-v1";

/// The limits a user may choose for wiping after failed unlocks. Fewer
/// than 3 would wipe the vault on a typing mistake or two.
pub const UNLOCK_LIMIT_RANGE: RangeInclusive<u32> = 3..=99;

/// The failed-unlock counter, readable before unlocking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GuardState {
    /// Failed unlocks after which the vault is destroyed; `None`: never.
    pub limit: Option<u32>,
    /// Failed unlocks since the last successful one.
    pub failed: u32,
}

impl GuardState {
    /// Failed unlocks left before the vault is destroyed, if a limit is set.
    pub fn remaining(&self) -> Option<u32> {
        self.limit.map(|l| l.saturating_sub(self.failed))
    }

    fn to_text(self) -> String {
        // Fixed width: the file's size never tells anything.
        format!(
            "{GUARD_HEADER}\nlimit {:02}\nfailed {:02}\n",
            self.limit.unwrap_or(0).min(99),
            self.failed.min(99)
        )
    }

    fn parse(text: &str) -> Option<GuardState> {
        let mut lines = text.lines();
        if lines.next()? != GUARD_HEADER {
            return None;
        }
        let limit: u32 = lines.next()?.strip_prefix("limit ")?.parse().ok()?;
        let failed: u32 = lines.next()?.strip_prefix("failed ")?.parse().ok()?;
        Some(GuardState {
            limit: (limit > 0).then_some(limit),
            failed,
        })
    }
}

/// The failed-unlock state of the vault in `dir` (no secret needed: the
/// app shows the warning before unlocking). A missing or unreadable file
/// reads as "no limit".
pub fn guard_state(dir: &Path) -> GuardState {
    fs::read(dir.join(GUARD_FILE))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| GuardState::parse(&t))
        .unwrap_or_default()
}

fn write_guard(dir: &Path, state: GuardState) -> Result<()> {
    write_atomic(&dir.join(GUARD_FILE), state.to_text().as_bytes())
}

/// Whether `dir` is the decoy inside a vault (opened directly to fill it).
pub fn is_decoy_dir(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n == DECOY_DIR)
        && dir
            .parent()
            .is_some_and(|p| p.join("keyslots").is_dir() && p.join(DB_FILE).is_file())
}

/// Makes sure the decoy and the counter exist (new vaults get them at
/// creation; vaults made before them get them on the next unlock).
pub(crate) fn prepare_layout(dir: &Path, role: VaultRole, work_factor: u8) -> Result<()> {
    if is_decoy_dir(dir) {
        return Ok(());
    }
    let tmp = dir.join(DECOY_TMP);
    if tmp.exists() {
        erase_decoy(&tmp);
    }
    if !dir.join(DECOY_DIR).join(DB_FILE).is_file() {
        erase_decoy(&dir.join(DECOY_DIR));
        create_decoy(&tmp, None, role, work_factor)?;
        fs::rename(&tmp, dir.join(DECOY_DIR)).ctx(|| "placing the decoy".into())?;
        sync_dir(dir)?;
    }
    if !dir.join(GUARD_FILE).is_file() {
        write_guard(dir, GuardState::default())?;
    }
    Ok(())
}

/// Creates a decoy vault in `path` (which must not exist). With `secret`,
/// its passphrase keyslot opens with it; without, the keyslot is filler.
/// Its recovery keyslot is always filler (the decoy has no recovery code).
fn create_decoy(
    path: &Path,
    secret: Option<&SecretString>,
    role: VaultRole,
    work_factor: u8,
) -> Result<()> {
    keyslot::ensure_dir(&path.join("keyslots"))?;
    keyslot::ensure_dir(&path.join(ATTACHMENTS))?;
    let key = MasterKey::generate();
    match secret {
        Some(s) => keyslot::write_slot(path, SlotKind::Passphrase, s, &key, work_factor)?,
        None => write_atomic(
            &keyslot::slot_path(path, SlotKind::Passphrase),
            &keyslot::filler_slot(work_factor)?,
        )?,
    }
    write_atomic(
        &keyslot::slot_path(path, SlotKind::Recovery),
        &keyslot::filler_slot(work_factor)?,
    )?;
    let mut conn = open_db(&path.join(DB_FILE), &key, true)?;
    crate::schema::migrate(&mut conn)?;
    let storage = age::x25519::Identity::generate();
    let tx = conn.transaction()?;
    {
        let mut put = tx.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)")?;
        put.execute(params!["device_id", uuid::Uuid::now_v7().to_string()])?;
        put.execute(params!["role", role.as_str()])?;
        put.execute(params!["created_at", now()])?;
        put.execute(params![
            "storage_identity",
            storage.to_string().expose_secret()
        ])?;
        put.execute(params!["fold_version", FOLD_VERSION.to_string()])?;
    }
    tx.commit()?;
    reserve_pages(&conn)?;
    // Closing checkpoints the log into vault.db and removes it.
    conn.close().map_err(|(_, e)| VaultError::from(e))?;
    sync_dir(path)?;
    Ok(())
}

/// Grows a new database to a fixed size and frees the pages again: every
/// new database (a vault's, a decoy's) starts at 1 MiB, so a decoy moved
/// into a vault's place looks like a new vault, and a few records put in a
/// decoy do not change its size.
pub(crate) fn reserve_pages(conn: &rusqlite::Connection) -> Result<()> {
    conn.execute_batch("CREATE TABLE reserve (x BLOB)")?;
    loop {
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        if pages >= DECOY_PAGES {
            break;
        }
        conn.execute(
            "INSERT INTO reserve (x) VALUES (zeroblob(?1))",
            [((DECOY_PAGES - pages) * 3000).max(1000)],
        )?;
    }
    conn.execute_batch("DROP TABLE reserve")?;
    Ok(())
}

/// Erases a decoy (its keyslots, its database head) and removes it.
fn erase_decoy(path: &Path) {
    if !path.exists() {
        return;
    }
    erase_keyslots(&path.join("keyslots"));
    erase_database(path);
    remove_tree(path);
}

/// The outcome of [`unlock`].
pub enum Unlocked {
    /// The vault is open (the real one, or the decoy if the duress
    /// passphrase was given: the caller cannot tell, by design).
    Open(Box<Vault>),
    /// The secret fits no keyslot.
    Refused(Refusal),
}

/// A refused unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Failed unlocks left before the vault is destroyed (a limit is set).
    pub remaining: Option<u32>,
    /// This failure reached the limit: the vault was destroyed.
    pub wiped: bool,
}

/// Unlocks the vault in `dir` the way a person does (the app's unlock
/// screen, every CLI command): counts failures, honours the limit, and
/// opens the decoy for the duress passphrase. [`Vault::open`] is the bare
/// open, without any of this.
pub fn unlock(dir: &Path, how: &Unlock) -> Result<Unlocked> {
    if !dir.join(DB_FILE).is_file()
        && dir.join(DECOY_DIR).join(DB_FILE).is_file()
        && dir.join("keyslots").is_dir()
    {
        // A duress unlock cut short after the vault was erased.
        finish_promotion(dir)?;
    }
    if !dir.join("keyslots").is_dir() || !dir.join(DB_FILE).is_file() {
        return Err(VaultError::NotAVault(dir.to_path_buf()));
    }
    let decoy = is_decoy_dir(dir);
    let (real, duress) = match how {
        Unlock::Passphrase(p) => {
            let real_bytes =
                keyslot::read_slot_file(&keyslot::slot_path(dir, SlotKind::Passphrase))?;
            let wf = real_bytes
                .as_deref()
                .and_then(keyslot::slot_work_factor)
                .unwrap_or(keyslot::DEFAULT_WORK_FACTOR);
            let duress_bytes = if decoy {
                None
            } else {
                keyslot::read_slot_file(&keyslot::slot_path(
                    &dir.join(DECOY_DIR),
                    SlotKind::Passphrase,
                ))
                .ok()
                .flatten()
            };
            // Both keyslots, always, in this order: the same scrypt work
            // whether or not a duress passphrase is set and whichever fits.
            let real = match &real_bytes {
                Some(b) => keyslot::open_slot_bytes(b, "passphrase.age", p)?,
                None => {
                    let _ = keyslot::open_slot_bytes(&keyslot::filler_slot(wf)?, "filler", p);
                    None
                }
            };
            let duress_slot = match duress_bytes {
                Some(b) if keyslot::slot_work_factor(&b).is_some() => b,
                _ => keyslot::filler_slot(wf)?,
            };
            let duress = keyslot::open_slot_bytes(&duress_slot, "decoy", p)
                .ok()
                .flatten();
            (real, duress)
        }
        Unlock::Recovery(code) => (
            keyslot::open_slot(dir, SlotKind::Recovery, code.secret())?,
            None,
        ),
    };
    let guard = if decoy {
        GuardState::default()
    } else {
        guard_state(dir)
    };
    let key = match (real, duress) {
        (Some(key), _) => key,
        (None, Some(decoy_key)) => {
            promote_decoy(dir)?;
            decoy_key
        }
        (None, None) => {
            if decoy || guard.limit.is_none() {
                // Without a limit nothing is counted: a failed unlock
                // changes nothing on disk.
                return Ok(Unlocked::Refused(Refusal {
                    remaining: None,
                    wiped: false,
                }));
            }
            let state = GuardState {
                failed: guard.failed.saturating_add(1),
                ..guard
            };
            if state.limit.is_some_and(|l| state.failed >= l) {
                crate::destroy::destroy(dir)?;
                return Ok(Unlocked::Refused(Refusal {
                    remaining: Some(0),
                    wiped: true,
                }));
            }
            write_guard(dir, state)?;
            return Ok(Unlocked::Refused(Refusal {
                remaining: state.remaining(),
                wiped: false,
            }));
        }
    };
    if !decoy && guard.failed != 0 {
        write_guard(dir, GuardState { failed: 0, ..guard })?;
    }
    let vault = Vault::open_keyed(dir, key)?;
    if !decoy {
        let wf = keyslot::read_slot_file(&keyslot::slot_path(dir, SlotKind::Passphrase))?
            .as_deref()
            .and_then(keyslot::slot_work_factor)
            .unwrap_or(keyslot::DEFAULT_WORK_FACTOR);
        prepare_layout(dir, vault.role, wf)?;
    }
    Ok(Unlocked::Open(Box::new(vault)))
}

/// The duress passphrase was given: crypto-erase the vault, then move the
/// decoy into its place (a new filler decoy is made by `prepare_layout`).
fn promote_decoy(dir: &Path) -> Result<()> {
    erase_keyslots(&dir.join("keyslots"));
    erase_database(dir);
    let _ = fs::remove_file(dir.join(DB_FILE));
    // The vault's recordings (encrypted to its erased storage key).
    remove_tree(&dir.join(crate::recording::RECORDINGS));
    sync_dir(dir)?;
    finish_promotion(dir)
}

/// Moves the decoy's files into the vault's place and removes what is left
/// of the erased vault. Each step is skipped if already done, so a crash
/// anywhere is finished by the next unlock.
fn finish_promotion(dir: &Path) -> Result<()> {
    let decoy = dir.join(DECOY_DIR);
    let erased = dir.join(ERASED_ATTACHMENTS);
    if dir.join(ATTACHMENTS).exists() && decoy.join(ATTACHMENTS).exists() {
        if erased.exists() {
            remove_tree(&erased);
        }
        fs::rename(dir.join(ATTACHMENTS), &erased).ctx(|| "moving attachments aside".into())?;
    }
    remove_tree(&dir.join("outbox"));
    remove_tree(&dir.join("inbox"));
    // The erased vault's unfinished recordings (the decoy would otherwise
    // report them), before the decoy's own take their place.
    remove_tree(&dir.join(crate::recording::RECORDINGS));
    let moves: [(PathBuf, PathBuf); 5] = [
        (
            keyslot::slot_path(&decoy, SlotKind::Passphrase),
            keyslot::slot_path(dir, SlotKind::Passphrase),
        ),
        (
            keyslot::slot_path(&decoy, SlotKind::Recovery),
            keyslot::slot_path(dir, SlotKind::Recovery),
        ),
        (decoy.join(ATTACHMENTS), dir.join(ATTACHMENTS)),
        (
            decoy.join(crate::recording::RECORDINGS),
            dir.join(crate::recording::RECORDINGS),
        ),
        (decoy.join(DB_FILE), dir.join(DB_FILE)),
    ];
    for (from, to) in &moves {
        if from.exists() {
            fs::rename(from, to).ctx(|| format!("moving {} into place", from.display()))?;
        }
    }
    sync_dir(&dir.join("keyslots"))?;
    sync_dir(dir)?;
    remove_tree(&decoy);
    remove_tree(&erased);
    Ok(())
}

/// The last-resort settings of a vault: the duress passphrase and the
/// limit on failed unlocks (`vault.coercion()`; see docs/coercion.md).
pub struct CoercionStore<'a>(&'a Vault);

impl Vault {
    /// The duress passphrase and the failed-unlock limit.
    pub fn coercion(&self) -> CoercionStore<'_> {
        CoercionStore(self)
    }
}

impl CoercionStore<'_> {
    /// Sets (or replaces) the duress passphrase: a new, empty decoy vault
    /// replaces the current decoy. Fill it by opening `<vault>/decoy` with
    /// the duress passphrase (`yaddash --vault <vault>/decoy ...`); keep it
    /// small and without attachments, see `docs/coercion.md`. Refused when
    /// it is the vault's passphrase.
    pub fn set_duress(&self, duress: &SecretString) -> Result<()> {
        self.0.set_duress(duress)
    }

    /// Removes the duress passphrase: the decoy is erased and replaced by
    /// filler, so the disk looks as it did before.
    pub fn clear_duress(&self) -> Result<()> {
        self.0.clear_duress()
    }

    /// When the duress passphrase was set, if it is.
    pub fn duress_set_at(&self) -> Result<Option<String>> {
        self.0.duress_set_at()
    }

    /// Sets the number of failed unlocks after which the vault is
    /// destroyed (`None`: never, the default). Resets the counter.
    pub fn set_unlock_limit(&self, limit: Option<u32>) -> Result<()> {
        self.0.set_unlock_limit(limit)
    }

    /// The failed-unlock limit and counter.
    pub fn unlock_guard(&self) -> GuardState {
        self.0.unlock_guard()
    }
}

impl Vault {
    /// See [`CoercionStore::set_duress`].
    pub(crate) fn set_duress(&self, duress: &SecretString) -> Result<()> {
        self.refuse_in_decoy()?;
        check_passphrase(duress)?;
        if keyslot::open_slot(&self.dir, SlotKind::Passphrase, duress)?.is_some() {
            return Err(VaultError::BadSecret(
                "the duress passphrase must differ from the passphrase; nothing was changed",
            ));
        }
        let wf = self.slot_work_factor()?;
        self.replace_decoy(Some(duress), wf)?;
        self.set_meta(META_DURESS, &now())
    }

    /// See [`CoercionStore::clear_duress`].
    pub(crate) fn clear_duress(&self) -> Result<()> {
        self.refuse_in_decoy()?;
        let wf = self.slot_work_factor()?;
        self.replace_decoy(None, wf)?;
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [META_DURESS])?;
        Ok(())
    }

    /// See [`CoercionStore::duress_set_at`].
    pub(crate) fn duress_set_at(&self) -> Result<Option<String>> {
        self.meta(META_DURESS)
    }

    /// Whether this secret opens the decoy (a new passphrase must not).
    pub(crate) fn fits_decoy(&self, secret: &SecretString) -> bool {
        keyslot::open_slot(&self.dir.join(DECOY_DIR), SlotKind::Passphrase, secret)
            .ok()
            .flatten()
            .is_some()
    }

    /// See [`CoercionStore::set_unlock_limit`].
    pub(crate) fn set_unlock_limit(&self, limit: Option<u32>) -> Result<()> {
        self.refuse_in_decoy()?;
        if let Some(l) = limit
            && !UNLOCK_LIMIT_RANGE.contains(&l)
        {
            return Err(VaultError::BadSecret(
                "the number of failed unlocks must be between 3 and 99; nothing was changed",
            ));
        }
        write_guard(&self.dir, GuardState { limit, failed: 0 })
    }

    /// See [`CoercionStore::unlock_guard`].
    pub(crate) fn unlock_guard(&self) -> GuardState {
        guard_state(&self.dir)
    }

    fn refuse_in_decoy(&self) -> Result<()> {
        if is_decoy_dir(&self.dir) {
            return Err(VaultError::Refused(
                "this is the decoy: set the duress passphrase and the unlock limit in the vault itself".into(),
            ));
        }
        Ok(())
    }

    fn slot_work_factor(&self) -> Result<u8> {
        Ok(
            keyslot::read_slot_file(&keyslot::slot_path(&self.dir, SlotKind::Passphrase))?
                .as_deref()
                .and_then(keyslot::slot_work_factor)
                .unwrap_or(keyslot::DEFAULT_WORK_FACTOR),
        )
    }

    fn replace_decoy(&self, secret: Option<&SecretString>, work_factor: u8) -> Result<()> {
        let tmp = self.dir.join(DECOY_TMP);
        erase_decoy(&tmp);
        create_decoy(&tmp, secret, self.role, work_factor)?;
        erase_decoy(&self.dir.join(DECOY_DIR));
        fs::rename(&tmp, self.dir.join(DECOY_DIR)).ctx(|| "placing the decoy".into())?;
        sync_dir(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CreateOptions, MIN_WORK_FACTOR};

    fn listing(dir: &Path) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).expect("read_dir").flatten() {
                let p = e.path();
                let m = fs::symlink_metadata(&p).expect("meta");
                let name = p.strip_prefix(dir).expect("prefix").display().to_string();
                if m.is_dir() {
                    stack.push(p);
                    out.push((name + "/", 0));
                } else {
                    out.push((name, m.len()));
                }
            }
        }
        out.sort();
        out
    }

    fn opts() -> CreateOptions {
        CreateOptions {
            kdf_work_factor: MIN_WORK_FACTOR,
            ..CreateOptions::default()
        }
    }

    #[test]
    fn filler_slot_has_the_shape_of_a_keyslot_and_opens_with_nothing() {
        let tmp = tempfile::tempdir().expect("tmp");
        keyslot::ensure_dir(&tmp.path().join("keyslots")).expect("dir");
        let key = MasterKey::generate();
        let p = SecretString::from("correct horse battery");
        keyslot::write_slot(tmp.path(), SlotKind::Passphrase, &p, &key, 18).expect("write");
        let real = fs::read(keyslot::slot_path(tmp.path(), SlotKind::Passphrase)).expect("read");
        let filler = keyslot::filler_slot(18).expect("filler");
        assert_eq!(real.len(), filler.len());
        assert_eq!(keyslot::slot_work_factor(&real), Some(18));
        assert_eq!(keyslot::slot_work_factor(&filler), Some(18));
        let lines = |b: &[u8]| -> Vec<usize> {
            b.split(|&c| c == b'\n').take(4).map(<[u8]>::len).collect()
        };
        assert_eq!(lines(&real), lines(&filler));
        let small = keyslot::filler_slot(MIN_WORK_FACTOR).expect("filler");
        assert!(
            keyslot::open_slot_bytes(&small, "f", &p)
                .expect("age parses it")
                .is_none()
        );
    }

    #[test]
    fn duress_set_or_not_looks_the_same_and_opens_the_decoy() {
        let tmp = tempfile::tempdir().expect("tmp");
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        let pass = SecretString::from("correct horse battery");
        let duress = SecretString::from("purple monkey dishwasher");
        drop(Vault::create(&a, &pass, &opts()).expect("a"));
        let (vb, _) = Vault::create(&b, &pass, &opts()).expect("b");
        vb.set_duress(&duress).expect("set");
        assert!(
            vb.set_duress(&pass).is_err(),
            "the passphrase itself is refused"
        );
        drop(vb);
        assert_eq!(listing(&a), listing(&b));

        // The duress passphrase opens the (empty) decoy and erases the vault.
        let Unlocked::Open(v) = unlock(&b, &Unlock::Passphrase(duress.clone())).expect("unlock")
        else {
            panic!("refused")
        };
        assert_eq!(
            v.list(yaddash_model::RecordKind::Person)
                .expect("list")
                .len(),
            0
        );
        assert!(v.duress_set_at().expect("meta").is_none());
        drop(v);
        assert!(matches!(
            unlock(&b, &Unlock::Passphrase(pass.clone())).expect("unlock"),
            Unlocked::Refused(_)
        ));
        assert_eq!(listing(&a), listing(&b), "after a duress unlock too");
    }

    #[test]
    fn failed_unlocks_wipe_only_when_enabled() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("v");
        let pass = SecretString::from("correct horse battery");
        let wrong = Unlock::Passphrase(SecretString::from("wrong wrong wrong"));
        drop(Vault::create(&dir, &pass, &opts()).expect("create"));
        for _ in 0..5 {
            assert!(matches!(
                unlock(&dir, &wrong).expect("unlock"),
                Unlocked::Refused(Refusal {
                    remaining: None,
                    wiped: false
                })
            ));
        }
        let Unlocked::Open(v) = unlock(&dir, &Unlock::Passphrase(pass.clone())).expect("unlock")
        else {
            panic!("refused")
        };
        assert_eq!(guard_state(&dir).failed, 0);
        assert!(v.set_unlock_limit(Some(2)).is_err());
        v.set_unlock_limit(Some(3)).expect("limit");
        drop(v);
        let r = |n| {
            Unlocked::Refused(Refusal {
                remaining: Some(n),
                wiped: false,
            })
        };
        for left in [2, 1] {
            let got = unlock(&dir, &wrong).expect("unlock");
            assert!(
                matches!((got, r(left)), (Unlocked::Refused(a), Unlocked::Refused(b)) if a == b)
            );
        }
        assert!(matches!(
            unlock(&dir, &wrong).expect("unlock"),
            Unlocked::Refused(Refusal { wiped: true, .. })
        ));
        assert!(!dir.exists());
    }
}
