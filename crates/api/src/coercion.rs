//! Under coercion (docs/coercion.md): quick delete, the duress passphrase
//! and the limit on failed unlocks, for the app's Settings screen and the
//! panic shortcut.

use std::sync::TryLockError;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use yaddash_vault::DestroyReport;

use crate::{ApiError, ApiResult, AppState, Code, secret};

/// What quick delete would lose (shown during the countdown).
pub use yaddash_outbox::Unsent;

/// The coercion settings of the unlocked vault.
#[derive(Debug, Clone, Serialize)]
pub struct CoercionSettings {
    /// A duress passphrase is set (known only inside the unlocked vault).
    pub duress_set: bool,
    /// Failed unlocks after which the vault is erased; `None`: never.
    pub unlock_limit: Option<u32>,
}

/// `set_duress` arguments.
#[derive(Deserialize)]
pub struct SetDuressRequest {
    /// The duress passphrase.
    pub passphrase: String,
}

impl AppState {
    /// Records headquarters does not hold yet: what a quick delete loses.
    pub fn destroy_preview(&self) -> ApiResult<Unsent> {
        self.with_vault(|v| Ok(yaddash_outbox::unsent(v)?))
    }

    /// Quick delete: stops any transfer, crypto-erases the vault (every
    /// keyslot, then the database heads; milliseconds whatever its size)
    /// and removes the rest. Works locked or unlocked: no secret is needed
    /// to destroy one's own files. Afterwards the app is as after a fresh
    /// install. The panic shortcut calls this too.
    pub fn destroy_vault(&self) -> ApiResult<DestroyReport> {
        self.lock_requested.store(true, Ordering::SeqCst);
        self.cancel_job();
        let taken = match self.vault.try_lock() {
            Ok(mut g) => Some(g.take()),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner().take()),
            // A transfer holds the vault: erase on disk now; it drops its
            // handle as it stops (lock_requested).
            Err(TryLockError::WouldBlock) => None,
        };
        let dir = self.config.vault_dir.clone();
        let report = match taken.flatten() {
            Some(vault) => {
                self.lock_requested.store(false, Ordering::SeqCst);
                vault.destroy()?
            }
            None if dir.join("keyslots").is_dir() || dir.join("vault.db").is_file() => {
                yaddash_vault::destroy(&dir)?
            }
            None => DestroyReport::default(),
        };
        Ok(report)
    }

    /// The duress passphrase and unlock-limit settings.
    pub fn coercion_settings(&self) -> ApiResult<CoercionSettings> {
        self.with_vault(|v| {
            Ok(CoercionSettings {
                duress_set: v.duress_set_at()?.is_some(),
                unlock_limit: v.unlock_guard().limit,
            })
        })
    }

    /// Sets (or replaces) the duress passphrase; a new, empty decoy is made.
    pub fn set_duress(&self, req: SetDuressRequest) -> ApiResult<CoercionSettings> {
        let duress = secret(req.passphrase);
        self.with_vault(|v| Ok(v.set_duress(&duress)?))?;
        self.coercion_settings()
    }

    /// Removes the duress passphrase (the decoy becomes filler again).
    pub fn clear_duress(&self) -> ApiResult<CoercionSettings> {
        self.with_vault(|v| Ok(v.clear_duress()?))?;
        self.coercion_settings()
    }

    /// Sets the number of failed unlocks that erase the vault (`None`: never).
    pub fn set_unlock_limit(&self, limit: Option<u32>) -> ApiResult<CoercionSettings> {
        if let Some(n) = limit
            && !yaddash_vault::UNLOCK_LIMIT_RANGE.contains(&n)
        {
            return Err(ApiError::new(
                Code::InvalidInput,
                format!(
                    "the number of failed unlocks must be between {} and {}",
                    yaddash_vault::UNLOCK_LIMIT_RANGE.start(),
                    yaddash_vault::UNLOCK_LIMIT_RANGE.end()
                ),
            ));
        }
        self.with_vault(|v| Ok(v.set_unlock_limit(limit)?))?;
        self.coercion_settings()
    }
}
