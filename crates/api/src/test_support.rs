//! What the crate's tests share: an app state over a vault in a temporary
//! directory, made through the app's own command.

use std::path::Path;

use crate::{AppState, Config, CreateVaultRequest, MIN_WORK_FACTOR, Role};

/// The passphrase of every test vault.
pub(crate) const PASS: &str = "correct horse battery";

/// An app state whose vault lives in `dir/vault` (not created yet).
pub(crate) fn state(dir: &Path) -> AppState {
    AppState::new(Config {
        vault_dir: dir.join("vault"),
        kdf_work_factor: MIN_WORK_FACTOR,
    })
}

/// An app state with a new, unlocked vault of `role` in `dir/vault`.
pub(crate) fn made(dir: &Path, role: Role) -> AppState {
    let s = state(dir);
    s.create_vault(CreateVaultRequest {
        role,
        passphrase: PASS.into(),
    })
    .expect("create");
    s
}
