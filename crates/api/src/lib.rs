//! The Yaddash app's core API, with no Tauri in it.
//!
//! [`AppState`] is the session: at most one open vault, behind a mutex,
//! dropped (and its keys zeroized) on [`AppState::lock`]. Every command the
//! desktop app exposes is one method here taking and returning serde types
//! ([`dto`]), and failing with an [`ApiError`] — a stable code and a human
//! message. The Tauri shell (`src-tauri/`) only forwards to these methods, so
//! the same behaviour is tested here without a window.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod coercion;
pub mod dto;
mod error;
mod evidence;
mod recording;
mod register;
mod sync;
pub mod typescript;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use uuid::Uuid;
use yaddash_exchange::PublicIdentityExt;
use yaddash_vault::{
    CreateOptions, DEFAULT_WORK_FACTOR, MIN_WORK_FACTOR, RecoveryCode, Unlock, Vault, VaultError,
};
use zeroize::Zeroizing;

pub use coercion::{CoercionSettings, SetDuressRequest, Unsent};
pub use dto::*;
pub use error::{ApiError, ApiResult, Code, Param};
pub use evidence::{EvidenceExportRequest, EvidenceExported};
pub use recording::{MoveIntoVaultRequest, MovedIntoVault, RecordingStartRequest, RecordingStatus};
pub use register::MAX_REASON_CHARS;
pub use sync::{
    AUTO_SYNC_EVERY, EnrollRequest, HqPullRequest, INVITE_HOURS_MAX, JobEvents, JobFinished,
    JobKind, JobProgress, MAX_TRAVEL_WAIT_SECS, PolicyForm, PolicyInfo, PullSummary,
    SyncStartRequest, TravelPrepareRequest,
};
pub use yaddash_audio::InputInfo;
pub use yaddash_coordinator::Invite;
/// Types sent across IPC as they are.
pub use yaddash_model::{Record, RecordKind};
/// The outbox's types the app shows as they are.
pub use yaddash_outbox::travel::{Report as TravelReport, Status as TravelStatus};
pub use yaddash_outbox::{Enrolled, Entry as OutboxEntry, Event as SyncEvent, SyncReport};
pub use yaddash_vault::RecordingInfo;
pub use yaddash_vault::{AttachmentInfo, CheckReport, DestroyReport, Revision, StoredRecord};

/// Environment variable naming the vault directory (overrides the default).
pub const ENV_VAULT: &str = "YADDASH_VAULT";
/// TEST ONLY: scrypt work factor for new keyslots (default 18, minimum 10).
/// A low value makes a stolen vault's passphrase far cheaper to guess, so
/// only debug builds and builds with the `test-hooks` feature (the UI
/// tests' build) read it; a release build ignores it ([`KDF_TEST_HOOK`]).
pub const ENV_KDF_WORK_FACTOR: &str = "YADDASH_KDF_WORK_FACTOR";

/// Whether this build honours [`ENV_KDF_WORK_FACTOR`]: debug builds and
/// the `test-hooks` feature only, never the release app users run.
pub const KDF_TEST_HOOK: bool = cfg!(any(debug_assertions, feature = "test-hooks"));

/// Default minutes of inactivity before the vault locks itself.
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 10;
/// Bounds of the idle time a user may choose.
pub const IDLE_LOCK_MINUTES_RANGE: std::ops::RangeInclusive<u32> = 1..=240;
/// Most search hits returned at once.
pub const MAX_SEARCH_LIMIT: usize = 500;
/// Largest attachment accepted as bytes over IPC (larger: import by path).
pub const MAX_ATTACHMENT_BYTES: usize = 512 << 20;

/// Where the vault lives and how new keyslots are made.
#[derive(Debug, Clone)]
pub struct Config {
    /// The vault directory.
    pub vault_dir: PathBuf,
    /// scrypt work factor for new keyslots.
    pub kdf_work_factor: u8,
}

impl Config {
    /// The embedded default: `<platform data dir>/yaddash/vault`
    /// (`~/.local/share/yaddash/vault` on Linux), with [`ENV_VAULT`] and
    /// [`ENV_KDF_WORK_FACTOR`] read from the environment.
    pub fn from_env() -> Config {
        Config::from_vars(|name| std::env::var_os(name))
    }

    /// [`Config::from_env`] over any source of variables (tests pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Config {
        let vault_dir = var(ENV_VAULT)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(default_vault_dir);
        let kdf_work_factor = var(ENV_KDF_WORK_FACTOR)
            .filter(|_| KDF_TEST_HOOK)
            .and_then(|v| v.to_str().and_then(|v| v.trim().parse::<u8>().ok()))
            .map(|wf| wf.clamp(MIN_WORK_FACTOR, DEFAULT_WORK_FACTOR))
            .unwrap_or(DEFAULT_WORK_FACTOR);
        Config {
            vault_dir,
            kdf_work_factor,
        }
    }
}

/// `<platform data dir>/yaddash/vault`, or `./yaddash-vault` when the
/// platform has no data directory (no HOME).
pub fn default_vault_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("yaddash").join("vault"))
        .unwrap_or_else(|| PathBuf::from("yaddash-vault"))
}

/// The app's session: configuration, the open vault (if unlocked) and the
/// idle clock.
pub struct AppState {
    config: Config,
    /// Shared with the background transfer (sync, travel, pull), which
    /// holds it while it runs.
    vault: Arc<Mutex<Option<Vault>>>,
    /// The background transfer running now, if any.
    job: Arc<Mutex<Option<RunningJob>>>,
    /// Set by a lock that found the vault held by a transfer: the transfer
    /// drops the vault when it stops (it was told to stop at once).
    lock_requested: Arc<AtomicBool>,
    started: Instant,
    /// Milliseconds since `started` at the last user activity.
    last_activity_ms: AtomicU64,
    idle_lock_minutes: AtomicU64,
}

fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the vault leaves SQLite consistent (every write
    // is one transaction), so the session stays usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Closes the vault where it lies. Assigning `None` drops the `Vault` in
/// place, so its keys (the storage identity is stored inline) are wiped in
/// the shared allocation itself; `Option::take` would move them out to be
/// wiped elsewhere and leave their bytes behind in it.
pub(crate) fn close_in_place(slot: &mut Option<Vault>) {
    *slot = None;
}

fn secret(s: String) -> SecretString {
    SecretString::from(Zeroizing::new(s).as_str())
}

impl AppState {
    /// A locked session over the configured vault directory.
    pub fn new(config: Config) -> AppState {
        AppState {
            config,
            vault: Arc::new(Mutex::new(None)),
            job: Arc::new(Mutex::new(None)),
            lock_requested: Arc::new(AtomicBool::new(false)),
            started: Instant::now(),
            last_activity_ms: AtomicU64::new(0),
            idle_lock_minutes: AtomicU64::new(u64::from(DEFAULT_IDLE_LOCK_MINUTES)),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Records user activity (every command does; the UI also reports
    /// keyboard and pointer activity through [`AppState::touch`]).
    pub fn mark_activity(&self) {
        self.last_activity_ms
            .store(self.now_ms(), Ordering::Relaxed);
    }

    /// How long since the last activity.
    pub fn idle_for(&self) -> Duration {
        let last = self.last_activity_ms.load(Ordering::Relaxed);
        Duration::from_millis(self.now_ms().saturating_sub(last))
    }

    /// The idle time after which [`AppState::lock_if_idle`] locks.
    pub fn idle_limit(&self) -> Duration {
        Duration::from_secs(self.idle_lock_minutes.load(Ordering::Relaxed) * 60)
    }

    /// Locks the vault if it is open and nothing happened for `max_idle`
    /// (stopping any transfer). Returns true if it locked now.
    pub fn lock_if_idle(&self, max_idle: Duration) -> bool {
        if self.idle_for() < max_idle || !self.is_unlocked() {
            return false;
        }
        self.lock_now();
        true
    }

    /// Stops the background transfer, if any, and drops the vault: at once
    /// if it is free, otherwise the transfer drops it as it stops.
    fn lock_now(&self) {
        self.lock_requested.store(true, Ordering::SeqCst);
        self.cancel_job();
        match self.vault.try_lock() {
            Ok(mut g) => close_in_place(&mut g),
            Err(TryLockError::Poisoned(p)) => close_in_place(&mut p.into_inner()),
            Err(TryLockError::WouldBlock) if self.job_running() => {
                // The transfer holds the vault; it was told to stop and
                // drops the vault when it does (see sync.rs).
                return;
            }
            Err(TryLockError::WouldBlock) => close_in_place(&mut lock_ignoring_poison(&self.vault)),
        };
        self.lock_requested.store(false, Ordering::SeqCst);
    }

    /// Whether the vault is open (possibly held by a transfer).
    fn is_unlocked(&self) -> bool {
        let settle = |mut g: MutexGuard<'_, Option<Vault>>| {
            // A lock that found the vault busy: finish it now.
            if self.lock_requested.swap(false, Ordering::SeqCst) {
                close_in_place(&mut g);
            }
            g.is_some()
        };
        match self.vault.try_lock() {
            Ok(g) => settle(g),
            Err(TryLockError::Poisoned(p)) => settle(p.into_inner()),
            Err(TryLockError::WouldBlock) if self.job_running() => {
                !self.lock_requested.load(Ordering::SeqCst)
            }
            Err(TryLockError::WouldBlock) => settle(lock_ignoring_poison(&self.vault)),
        }
    }

    /// The vault, for a command. While a transfer holds it, waits a few
    /// seconds and then says so rather than hanging the window.
    fn vault_guard(&self) -> ApiResult<MutexGuard<'_, Option<Vault>>> {
        let mut guard = if self.job_running() {
            let until = Instant::now() + VAULT_WAIT_WHILE_TRANSFER;
            loop {
                match self.vault.try_lock() {
                    Ok(g) => break g,
                    Err(TryLockError::Poisoned(p)) => break p.into_inner(),
                    Err(TryLockError::WouldBlock) if Instant::now() < until => {
                        std::thread::sleep(Duration::from_millis(25));
                    }
                    Err(TryLockError::WouldBlock) => {
                        return Err(ApiError::new(
                            Code::Busy,
                            "a transfer to or from headquarters is using the vault: wait for it to finish or cancel it on the Sync screen",
                        ));
                    }
                }
            }
        } else {
            lock_ignoring_poison(&self.vault)
        };
        if self.lock_requested.swap(false, Ordering::SeqCst) {
            close_in_place(&mut guard);
            return Err(ApiError::locked());
        }
        Ok(guard)
    }

    fn with_vault<T>(&self, f: impl FnOnce(&mut Vault) -> ApiResult<T>) -> ApiResult<T> {
        self.mark_activity();
        let mut guard = self.vault_guard()?;
        let vault = guard.as_mut().ok_or_else(ApiError::locked)?;
        f(vault)
    }

    fn vault_exists(&self) -> bool {
        let dir = &self.config.vault_dir;
        dir.join("keyslots").is_dir() && dir.join("vault.db").is_file()
    }

    // ----- commands: session -------------------------------------------------

    /// Whether a vault exists and is unlocked. Reveals nothing about contents.
    pub fn app_status(&self) -> ApiResult<AppStatus> {
        let unlocked = self.is_unlocked();
        Ok(AppStatus {
            vault_exists: self.vault_exists(),
            unlocked,
            idle_lock_minutes: u32::try_from(self.idle_lock_minutes.load(Ordering::Relaxed))
                .unwrap_or(DEFAULT_IDLE_LOCK_MINUTES),
            attempts_left: yaddash_vault::guard_state(&self.config.vault_dir).remaining(),
        })
    }

    /// Creates the vault and leaves it unlocked. The recovery code in the
    /// answer is shown to the user once and never stored in clear.
    pub fn create_vault(&self, req: CreateVaultRequest) -> ApiResult<CreatedVault> {
        self.mark_activity();
        let passphrase = secret(req.passphrase);
        if self.vault_exists() {
            return Err(ApiError::new(
                Code::VaultExists,
                "a vault already exists on this computer: unlock it instead",
            ));
        }
        let options = CreateOptions {
            role: req.role,
            kdf_work_factor: self.config.kdf_work_factor,
        };
        let mut guard = lock_ignoring_poison(&self.vault);
        let (mut vault, recovery) = Vault::create(&self.config.vault_dir, &passphrase, &options)?;
        // Every vault gets its signing and encryption keys at creation.
        yaddash_exchange::device_keys(&mut vault)?;
        let session = session_info(&mut vault);
        *guard = Some(vault);
        Ok(CreatedVault {
            recovery_code: recovery.expose().to_string(),
            session,
        })
    }

    /// Opens the vault with the passphrase or the recovery code.
    pub fn unlock(&self, req: UnlockRequest) -> ApiResult<SessionInfo> {
        self.mark_activity();
        let unlock = match req {
            UnlockRequest::Passphrase { secret: s } => Unlock::Passphrase(secret(s)),
            UnlockRequest::RecoveryCode { secret: s } => {
                let s = Zeroizing::new(s);
                Unlock::Recovery(RecoveryCode::parse(&s)?)
            }
        };
        if !self.vault_exists() {
            return Err(ApiError::new(
                Code::NotAVault,
                "there is no vault on this computer yet: create one first",
            ));
        }
        if self.job_running() {
            return Err(ApiError::new(
                Code::Busy,
                "a transfer started before the lock is still stopping: try again in a moment",
            ));
        }
        // The unlock a person does: counts failures, honours the limit on
        // them, and opens the decoy for the duress passphrase.
        let mut vault = match yaddash_vault::unlock(&self.config.vault_dir, &unlock)? {
            yaddash_vault::Unlocked::Open(v) => *v,
            yaddash_vault::Unlocked::Refused(r) if r.wiped => {
                return Err(ApiError::new(
                    Code::VaultErased,
                    "wrong passphrase or recovery code: that was the last attempt allowed, and the vault was erased",
                ));
            }
            yaddash_vault::Unlocked::Refused(_) => return Err(VaultError::WrongPassphrase.into()),
        };
        let info = session_info(&mut vault);
        self.lock_requested.store(false, Ordering::SeqCst);
        *lock_ignoring_poison(&self.vault) = Some(vault);
        Ok(info)
    }

    /// Locks: stops any transfer and drops the open vault, which closes
    /// the database and zeroizes the keys held in memory. Never fails;
    /// locking twice is fine.
    pub fn lock(&self) -> ApiResult<()> {
        self.lock_now();
        Ok(())
    }

    /// The user is active (keyboard or pointer): postpones the idle lock.
    pub fn touch(&self) -> ApiResult<()> {
        self.mark_activity();
        Ok(())
    }

    /// Sets the idle time after which the vault locks itself.
    pub fn set_idle_lock(&self, minutes: u32) -> ApiResult<()> {
        if !IDLE_LOCK_MINUTES_RANGE.contains(&minutes) {
            return Err(ApiError::invalid(format!(
                "the idle lock must be between {} and {} minutes",
                IDLE_LOCK_MINUTES_RANGE.start(),
                IDLE_LOCK_MINUTES_RANGE.end()
            )));
        }
        self.idle_lock_minutes
            .store(u64::from(minutes), Ordering::Relaxed);
        self.mark_activity();
        Ok(())
    }

    /// This device's identity (the vault must be unlocked).
    pub fn session_info(&self) -> ApiResult<SessionInfo> {
        self.with_vault(|v| Ok(session_info(v)))
    }

    /// Replaces the passphrase after checking the current one.
    pub fn change_passphrase(&self, req: ChangePassphraseRequest) -> ApiResult<()> {
        let current = secret(req.current);
        let new = secret(req.new);
        let wf = self.config.kdf_work_factor;
        let dir = self.config.vault_dir.clone();
        self.with_vault(|v| {
            // Proves the current passphrase; the second handle closes at once.
            drop(Vault::open(&dir, &Unlock::Passphrase(current))?);
            v.change_passphrase(&new, wf)?;
            Ok(())
        })
    }

    // ----- commands: records -------------------------------------------------

    /// Every record of a kind, oldest first, as list rows.
    pub fn list_records(&self, kind: RecordKind) -> ApiResult<Vec<RecordSummary>> {
        self.with_vault(|v| Ok(v.list(kind)?.into_iter().map(Into::into).collect()))
    }

    /// Transliteration-aware search over names and text.
    pub fn search(&self, req: SearchRequest) -> ApiResult<Vec<RecordSummary>> {
        let limit = req.limit.unwrap_or(100).clamp(1, MAX_SEARCH_LIMIT);
        self.with_vault(|v| {
            // The kind filters inside the query: filtering the top results
            // afterwards lost persons when interviews filled the limit.
            let hits = v.search_kind(&req.query, req.kind, limit)?;
            Ok(hits.into_iter().map(Into::into).collect())
        })
    }

    /// One record, current revision, with its custody metadata.
    pub fn get_record(&self, id: Uuid) -> ApiResult<StoredRecord> {
        self.with_vault(|v| Ok(v.get(id)?))
    }

    /// Saves a new record (no id) or a new revision of one (with its id).
    pub fn save_record(&self, req: SaveRecordRequest) -> ApiResult<SavedRecord> {
        self.with_vault(|v| match req.id {
            None => {
                let id = v.add(&req.record)?;
                Ok(SavedRecord { id, rev: 1 })
            }
            Some(id) => {
                let rev = v.update(id, &req.record)?;
                Ok(SavedRecord { id, rev })
            }
        })
    }

    /// Every revision of a record, oldest first.
    pub fn record_history(&self, id: Uuid) -> ApiResult<Vec<Revision>> {
        self.with_vault(|v| Ok(v.history(id)?))
    }

    /// Where each revision of a record that came in a bundle came from
    /// (device, bundle, its sequence number, the source revision, when it
    /// was imported). Revisions not listed were saved on this device.
    pub fn record_provenance(&self, id: Uuid) -> ApiResult<Vec<RevisionOrigin>> {
        self.with_vault(|v| {
            let devices = v.exchange().devices()?;
            let conflicts = v.exchange().revision_conflicts(Some(id))?;
            let mut out = Vec::new();
            for (rev, device_id, source_rev, bundle_id) in v.exchange().provenance(id)? {
                let accepted_after_revocation =
                    v.exchange().import_override(&bundle_id)?.map(|o| o.reason);
                let pending_conflict = conflicts
                    .iter()
                    .any(|c| c.rev == rev && c.accepted_at.is_none());
                let device = devices
                    .iter()
                    .find(|d| d.device_id.to_string() == device_id);
                let bundle = v.exchange().bundle_in(&bundle_id)?;
                out.push(RevisionOrigin {
                    rev,
                    device_label: device.and_then(|d| d.label.clone()),
                    device_enrolled: device.is_some(),
                    device_id,
                    bundle_seq: bundle.as_ref().map(|b| b.seq),
                    imported_at: bundle.map(|b| b.imported_at),
                    bundle_id,
                    source_rev,
                    accepted_after_revocation,
                    pending_conflict,
                });
            }
            Ok(out)
        })
    }

    /// The cases and interviews that refer to a record (a person's cases
    /// and interviews, a case's interviews).
    pub fn linked_records(&self, id: Uuid) -> ApiResult<Vec<RecordSummary>> {
        self.with_vault(|v| Ok(v.referring(id)?.into_iter().map(Into::into).collect()))
    }

    // ----- commands: attachments ---------------------------------------------

    /// Imports a file from disk as an attachment of a record.
    pub fn attach_file(&self, req: AttachFileRequest) -> ApiResult<AttachmentInfo> {
        let path = PathBuf::from(&req.path);
        if !path.is_absolute() {
            return Err(ApiError::new(
                Code::PathNotAbsolute,
                "the attachment path must be absolute",
            ));
        }
        self.with_vault(|v| {
            Ok(
                v.attach_file(req.record_id, &path, req.media_type.as_deref(), &mut |_| {
                    true
                })?,
            )
        })
    }

    /// Imports an attachment from bytes (a file the user picked in the
    /// window), hashing them as they are stored.
    pub fn attach_bytes(
        &self,
        record_id: Uuid,
        name: &str,
        media_type: Option<&str>,
        bytes: &[u8],
    ) -> ApiResult<AttachmentInfo> {
        let name = Path::new(name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("the attachment needs a file name"))?;
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(ApiError::new(
                Code::FileTooLarge,
                "the file is too large to add from the window (512 MiB at most)",
            ));
        }
        let media_type = media_type.filter(|m| !m.is_empty() && m.len() < 128);
        self.with_vault(|v| {
            let mut input = bytes;
            Ok(v.attach(record_id, &name, media_type, &mut input, &mut |_| true)?)
        })
    }

    /// The attachments of a record, with their capture hashes.
    pub fn list_attachments(&self, record_id: Uuid) -> ApiResult<Vec<AttachmentInfo>> {
        self.with_vault(|v| Ok(v.attachments_of(record_id)?))
    }

    /// Decrypts an attachment into memory, verifying its capture hash, for
    /// display. The bytes never touch the disk.
    pub fn attachment_content(&self, id: Uuid) -> ApiResult<AttachmentContent> {
        self.with_vault(|v| {
            let info = v.attachment(id)?;
            let capacity = usize::try_from(info.size)
                .unwrap_or(0)
                .min(MAX_ATTACHMENT_BYTES);
            let mut bytes = Vec::with_capacity(capacity);
            let info = v.export_attachment(id, &mut bytes, &mut |_| true)?;
            Ok(AttachmentContent {
                media_type: info.media_type,
                bytes,
            })
        })
    }

    /// Re-checks the whole vault: database integrity, record and attachment hashes.
    pub fn check_vault(&self) -> ApiResult<CheckReport> {
        self.with_vault(|v| Ok(v.check(&mut |_| true)?))
    }

    // ----- commands: bundles, sync, devices (land with crates/bundle) --------

    /// What is waiting to be sent.
    pub fn outbox_status(&self) -> ApiResult<OutboxStatus> {
        self.with_vault(|v| {
            let pending = v.exchange().pending_export()?;
            let last = v.exchange().bundles_out()?.pop();
            Ok(OutboxStatus {
                pending_records: pending.records.len() as u64,
                pending_attachments: pending.attachments.len() as u64,
                last_export_at: last.map(|b| b.created_at),
            })
        })
    }

    /// Writes a signed, encrypted bundle of what is waiting to a file.
    pub fn export_bundle(&self, req: ExportBundleRequest) -> ApiResult<BundleSummary> {
        self.with_vault(|v| {
            let path = PathBuf::from(&req.path);
            match yaddash_exchange::export_bundle(v, &path, &mut |_| true)? {
                Some(s) => Ok(BundleSummary {
                    path: s.path.display().to_string(),
                    records: s.records,
                    attachments: s.attachments,
                    sha256: s.bundle_id,
                }),
                None => Err(ApiError::new(
                    Code::NothingToExport,
                    "nothing new since the last bundle: no file was written",
                )),
            }
        })
    }

    /// Imports a bundle file into a coordinator vault.
    pub fn import_bundle(&self, req: ImportBundleRequest) -> ApiResult<ImportSummary> {
        self.with_vault(|v| {
            let s = yaddash_exchange::import_bundle(v, Path::new(&req.path), &mut |_| true)?;
            Ok(ImportSummary {
                sender_device: s.device_id.to_string(),
                added: s.counts.new_records,
                already_present: s.counts.known_revisions,
            })
        })
    }

    /// The devices enrolled with this coordinator vault.
    pub fn list_devices(&self) -> ApiResult<Vec<DeviceSummary>> {
        self.with_vault(|v| {
            Ok(v.exchange()
                .devices()?
                .into_iter()
                .map(|d| {
                    let id = yaddash_exchange::PublicIdentity {
                        device_id: d.device_id,
                        signing_key: d.signing_key,
                        age_recipient: d.age_recipient,
                    };
                    DeviceSummary {
                        device_id: d.device_id.to_string(),
                        fingerprint: id.fingerprint().map(|f| f.short).unwrap_or_default(),
                        revoked: d.revoked_from.is_some(),
                        label: d.label,
                    }
                })
                .collect())
        })
    }

    // ----- commands: trust, identity, enrollment, receipts -------------------

    /// Field: imports the coordinators' trust file (from a path or its
    /// text). The answer's fingerprints are for the user to compare with
    /// the coordinator by phone before sending anything.
    pub fn import_trust(&self, req: ImportTrustRequest) -> ApiResult<TrustSummary> {
        let text = match (req.text, req.path) {
            (Some(text), _) if !text.trim().is_empty() => text,
            (_, Some(path)) => read_small_file(&path, "the trust file")?,
            _ => return Err(ApiError::invalid("choose the trust file to import")),
        };
        self.with_vault(|v| {
            let t = yaddash_exchange::trust_import(v, &text)?;
            Ok(trust_summary(&t, None))
        })
    }

    /// The trust file this vault holds, if any.
    pub fn trust_info(&self) -> ApiResult<Option<TrustSummary>> {
        self.with_vault(|v| {
            let Some((_, doc)) = v.exchange().trust()? else {
                return Ok(None);
            };
            let t: yaddash_exchange::TrustFile = serde_json::from_str(&doc).map_err(|_| {
                ApiError::new(
                    Code::TrustFileInvalid,
                    "the stored trust file is unreadable: import it again",
                )
            })?;
            Ok(Some(trust_summary(&t, None)))
        })
    }

    /// Coordinator: writes the trust file for field vaults.
    pub fn export_trust(&self, req: TrustExportRequest) -> ApiResult<TrustSummary> {
        let path = absolute(&req.path)?;
        let server_key = match req.server_key.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(k) => {
                yaddash_wire::signing_key_fingerprint(k).map_err(|_| {
                    ApiError::new(
                        Code::ServerKeyInvalid,
                        "the HQ server key is not an OpenSSH Ed25519 public key: paste the whole line `yaddash-hq init` printed (ssh-ed25519 AAAA…)",
                    )
                })?;
                Some(k.to_owned())
            }
        };
        self.with_vault(|v| {
            let t = yaddash_exchange::trust_export(v, &[], server_key, None)?;
            let text = serde_json::to_string_pretty(&t)
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
            yaddash_exchange::write_file(&path, text.as_bytes())?;
            Ok(trust_summary(&t, Some(path.display().to_string())))
        })
    }

    /// This device's public identity and fingerprints.
    pub fn device_identity(&self) -> ApiResult<DeviceIdentity> {
        self.with_vault(|v| {
            let d = yaddash_exchange::device_info(v)?;
            Ok(DeviceIdentity {
                device_id: d.device_id.to_string(),
                role: d.role,
                signing_key: d.signing_key,
                age_recipient: d.age_recipient,
                fingerprint: d.fingerprint.short,
                ssh_fingerprint: d.fingerprint.ssh,
            })
        })
    }

    /// Writes this device's public identity (what `yaddash device show
    /// --json` prints) to a file, for the coordinator to enroll. Returns the
    /// path written.
    pub fn save_device_identity(&self, req: PathRequest) -> ApiResult<String> {
        let path = absolute(&req.path)?;
        self.with_vault(|v| {
            let d = yaddash_exchange::device_info(v)?;
            let id = yaddash_exchange::PublicIdentity {
                device_id: d.device_id,
                signing_key: d.signing_key,
                age_recipient: d.age_recipient,
            };
            let text = serde_json::to_string_pretty(&id)
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
            yaddash_exchange::write_file(&path, text.as_bytes())?;
            Ok(path.display().to_string())
        })
    }

    /// Coordinator: enrolls a device from its identity file.
    pub fn enroll_device(&self, req: EnrollDeviceRequest) -> ApiResult<DeviceSummary> {
        let text = read_small_file(&req.path, "the device file")?;
        let id: yaddash_exchange::PublicIdentity = serde_json::from_str(&text).map_err(|_| {
            ApiError::new(
                Code::DeviceFileInvalid,
                "the device file is not a Yaddash device identity",
            )
        })?;
        let label = req
            .label
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty());
        self.with_vault(|v| {
            let fp = yaddash_exchange::enroll_device(v, &id, label.clone())?;
            Ok(DeviceSummary {
                device_id: id.device_id.to_string(),
                fingerprint: fp.short,
                revoked: false,
                label,
            })
        })
    }

    /// Coordinator: writes signed receipts for every bundle imported from a
    /// device, for the device to import.
    pub fn export_receipts(&self, req: ExportReceiptsRequest) -> ApiResult<ReceiptsExported> {
        let path = absolute(&req.path)?;
        self.with_vault(|v| {
            let file = yaddash_exchange::receipt_export(v, req.device_id)?;
            let text = serde_json::to_string_pretty(&file)
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
            yaddash_exchange::write_file(&path, text.as_bytes())?;
            Ok(ReceiptsExported {
                path: path.display().to_string(),
                receipts: file.receipts.len() as u64,
            })
        })
    }

    /// Field: imports a coordinator's receipts, marking bundles as held by
    /// headquarters.
    pub fn import_receipts(&self, req: PathRequest) -> ApiResult<ReceiptsImported> {
        let text = read_small_file(&req.path, "the receipt file")?;
        self.with_vault(|v| {
            let r = yaddash_exchange::receipt_import(v, &text)?;
            Ok(ReceiptsImported {
                confirmed: r.confirmed,
                already: r.already,
            })
        })
    }

    /// Field: the bundles this device made, newest last, with what
    /// headquarters confirmed.
    pub fn bundles_out(&self) -> ApiResult<Vec<BundleOutSummary>> {
        self.with_vault(|v| {
            Ok(v.exchange()
                .bundles_out()?
                .into_iter()
                .map(|b| BundleOutSummary {
                    seq: b.seq,
                    bundle_id: b.bundle_id,
                    created_at: b.created_at,
                    records: b.records,
                    attachments: b.attachments,
                    hq_received_at: b.hq_received_at,
                    imported_at: b.imported_at,
                })
                .collect())
        })
    }
}

/// How long a command waits for the vault while a transfer holds it.
const VAULT_WAIT_WHILE_TRANSFER: Duration = Duration::from_secs(5);

/// The background transfer running now.
struct RunningJob {
    kind: JobKind,
    cancel: Arc<AtomicBool>,
}

/// Largest trust, device or receipt file read.
const MAX_SMALL_FILE: u64 = 4 << 20;

fn absolute(path: &str) -> ApiResult<PathBuf> {
    let p = PathBuf::from(path.trim());
    if p.as_os_str().is_empty() || !p.is_absolute() {
        return Err(ApiError::new(
            Code::PathNotAbsolute,
            "the path must be absolute (start with /)",
        ));
    }
    Ok(p)
}

fn read_small_file(path: &str, what: &str) -> ApiResult<String> {
    let p = absolute(path)?;
    let meta = std::fs::metadata(&p).map_err(|e| io_error(what, &p, &e))?;
    if meta.len() > MAX_SMALL_FILE {
        return Err(ApiError::new(
            Code::FileTooLarge,
            format!("{what} is too large to be one"),
        ));
    }
    let bytes = std::fs::read(&p).map_err(|e| io_error(what, &p, &e))?;
    String::from_utf8(bytes)
        .map_err(|_| ApiError::new(Code::FileUnreadable, format!("{what} is not text")))
}

fn io_error(what: &str, _p: &Path, e: &std::io::Error) -> ApiError {
    // The path stays out of the detail: a file name can name a person.
    let code = if e.kind() == std::io::ErrorKind::NotFound {
        Code::FileNotFound
    } else {
        Code::FileUnreadable
    };
    ApiError::new(code, format!("cannot read {what}: {e}"))
}

fn trust_summary(t: &yaddash_exchange::TrustFile, path: Option<String>) -> TrustSummary {
    TrustSummary {
        hq_id: t.hq_id.clone(),
        fingerprint: t.fingerprint(),
        coordinators: t
            .coordinators
            .iter()
            .map(|c| {
                let fp = c.fingerprint().ok();
                CoordinatorSummary {
                    device_id: c.device_id.to_string(),
                    fingerprint: fp.as_ref().map(|f| f.short.clone()).unwrap_or_default(),
                    ssh_fingerprint: fp.map(|f| f.ssh).unwrap_or_default(),
                }
            })
            .collect(),
        path,
        server_fingerprint: t
            .hq_server_key
            .as_deref()
            .and_then(|k| yaddash_wire::signing_key_fingerprint(k).ok()),
    }
}

fn session_info(v: &mut Vault) -> SessionInfo {
    let id = v.device_id();
    SessionInfo {
        role: v.role(),
        device_id: id.to_string(),
        device_fingerprint: yaddash_exchange::device_info(v)
            .map(|d| d.fingerprint.short)
            .unwrap_or_else(|_| "unavailable".into()),
    }
}

/// Convenience for the shell: a record kind from its snake_case name.
pub fn parse_kind(s: &str) -> ApiResult<RecordKind> {
    RecordKind::parse(s).ok_or_else(|| ApiError::invalid("kind must be person, case or interview"))
}

/// Checks a record without saving it (for forms that validate as you type).
pub fn validate_record(record: &Record) -> ApiResult<()> {
    record
        .validate()
        .map_err(|e| ApiError::invalid(e.to_string()))
}

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
