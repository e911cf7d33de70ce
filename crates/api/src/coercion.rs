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
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CoercionSettings {
    /// A duress passphrase is set (known only inside the unlocked vault).
    pub duress_set: bool,
    /// Failed unlocks after which the vault is erased; `None`: never.
    pub unlock_limit: Option<u32>,
}

/// `set_duress` arguments.
#[derive(Deserialize, ts_rs::TS)]
pub struct SetDuressRequest {
    /// The duress passphrase.
    pub passphrase: String,
}

/// Any failure of quick delete is its own code: the user must know the
/// vault may be partly left, whatever the cause.
pub(crate) fn quick_delete_failed(e: yaddash_vault::VaultError) -> ApiError {
    ApiError::new(Code::QuickDeleteFailed, e.to_string())
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
                vault.destroy().map_err(quick_delete_failed)?
            }
            None if dir.join("keyslots").is_dir() || dir.join("vault.db").is_file() => {
                yaddash_vault::destroy(&dir).map_err(quick_delete_failed)?
            }
            None => DestroyReport::default(),
        };
        Ok(report)
    }

    /// The duress passphrase and unlock-limit settings.
    pub fn coercion_settings(&self) -> ApiResult<CoercionSettings> {
        self.with_vault(|v| {
            Ok(CoercionSettings {
                duress_set: v.coercion().duress_set_at()?.is_some(),
                unlock_limit: v.coercion().unlock_guard().limit,
            })
        })
    }

    /// Sets (or replaces) the duress passphrase; a new, empty decoy is made.
    pub fn set_duress(&self, req: SetDuressRequest) -> ApiResult<CoercionSettings> {
        let duress = secret(req.passphrase);
        self.with_vault(|v| Ok(v.coercion().set_duress(&duress)?))?;
        self.coercion_settings()
    }

    /// Removes the duress passphrase (the decoy becomes filler again).
    pub fn clear_duress(&self) -> ApiResult<CoercionSettings> {
        self.with_vault(|v| Ok(v.coercion().clear_duress()?))?;
        self.coercion_settings()
    }

    /// Sets the number of failed unlocks that erase the vault (`None`: never).
    pub fn set_unlock_limit(&self, limit: Option<u32>) -> ApiResult<CoercionSettings> {
        if let Some(n) = limit
            && !yaddash_vault::UNLOCK_LIMIT_RANGE.contains(&n)
        {
            let (min, max) = (
                *yaddash_vault::UNLOCK_LIMIT_RANGE.start(),
                *yaddash_vault::UNLOCK_LIMIT_RANGE.end(),
            );
            return Err(ApiError::new(
                Code::UnlockLimitRange,
                format!("the number of failed unlocks must be between {min} and {max}"),
            )
            .with("min", min)
            .with("max", max));
        }
        self.with_vault(|v| Ok(v.coercion().set_unlock_limit(limit)?))?;
        self.coercion_settings()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::test_support::{PASS, made};
    use crate::{AppState, Code, Role, UnlockRequest};

    fn created(dir: &Path) -> AppState {
        made(dir, Role::Field)
    }

    fn unlock(s: &AppState, p: &str) -> Result<(), Code> {
        s.unlock(UnlockRequest::Passphrase { secret: p.into() })
            .map(|_| ())
            .map_err(|e| e.code)
    }

    #[test]
    fn quick_delete_leaves_a_fresh_install_locked_or_unlocked() {
        let tmp = tempfile::tempdir().expect("tmp");
        let s = created(tmp.path());
        assert_eq!(s.destroy_preview().expect("preview").records, Some(0));
        let r = s.destroy_vault().expect("destroy");
        assert!(r.left.is_empty());
        let st = s.app_status().expect("status");
        assert!(!st.vault_exists && !st.unlocked);
        assert!(!tmp.path().join("vault").exists());
        // Locked, too; then a new vault can be made where it was.
        let s = created(tmp.path());
        s.lock().expect("lock");
        s.destroy_vault().expect("destroy locked");
        assert!(!s.app_status().expect("status").vault_exists);
        assert!(s.destroy_vault().is_ok(), "twice is fine");
    }

    #[test]
    fn duress_and_limit_through_the_app_state() {
        let tmp = tempfile::tempdir().expect("tmp");
        let s = created(tmp.path());
        assert!(s.set_unlock_limit(Some(2)).is_err());
        let c = s.set_unlock_limit(Some(3)).expect("limit");
        assert_eq!(c.unlock_limit, Some(3));
        let c = s
            .set_duress(crate::SetDuressRequest {
                passphrase: "purple monkey dishwasher".into(),
            })
            .expect("duress");
        assert!(c.duress_set);
        s.lock().expect("lock");
        assert_eq!(s.app_status().expect("status").attempts_left, Some(3));
        assert_eq!(unlock(&s, "wrong wrong wrong"), Err(Code::WrongPassphrase));
        assert_eq!(s.app_status().expect("status").attempts_left, Some(2));
        unlock(&s, "purple monkey dishwasher").expect("the decoy opens");
        assert!(!s.coercion_settings().expect("settings").duress_set);
        s.lock().expect("lock");
        assert_eq!(unlock(&s, PASS), Err(Code::WrongPassphrase));
        assert_eq!(unlock(&s, PASS), Err(Code::WrongPassphrase));
        // The last attempt allowed says that the vault is gone.
        assert_eq!(unlock(&s, PASS), Err(Code::VaultErased));
        assert!(
            !s.app_status().expect("status").vault_exists,
            "erased at the limit"
        );
    }
}
