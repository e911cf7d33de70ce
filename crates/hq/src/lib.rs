//! The Yaddash HQ server: a blind relay for encrypted bundles.
//!
//! It stores and forwards ciphertext, checks *who sent* each bundle (the
//! outer SSHSIG signature, via `yaddash-wire`), and answers with signed
//! receipts. It links nothing that can decrypt. See `docs/hq-server.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod blobs;
pub mod config;
pub mod server;
pub mod store;
pub mod trust;

use std::fs;
use std::io::Write;
use std::path::Path;

use uuid::Uuid;
use yaddash_wire::{SigningKey, TrustFile};

use crate::config::DataDir;
use crate::store::{Principal, Role, Store};

/// What `init` did.
#[derive(Debug)]
pub struct InitSummary {
    /// The headquarters id.
    pub hq_id: String,
    /// The server's public key line.
    pub server_key: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Coordinators registered.
    pub coordinators: usize,
    /// Whether a new key was generated (false: the existing one was kept).
    pub new_key: bool,
}

/// Initialises a data directory, or replaces its coordinator set: the
/// server administrator's local path, which needs no quorum (whoever runs
/// it controls the server's storage anyway). Coordinators of the current
/// set that the trust file no longer names are revoked; a revoked
/// coordinator cannot be added again.
pub fn init(dir: &DataDir, trust_text: &str, store: &dyn Store) -> Result<InitSummary, String> {
    // The same reader as a field vault's, minus age (the server has none).
    let trust = TrustFile::parse(trust_text).map_err(|e| format!("the trust file: {e}"))?;
    if let Some(existing) = store.meta("hq_id").map_err(|e| e.to_string())?
        && existing != trust.hq_id
    {
        return Err(format!(
            "this data directory belongs to headquarters {existing:?}, the trust file to {:?}",
            trust.hq_id
        ));
    }
    fs::create_dir_all(&dir.0).map_err(|e| e.to_string())?;
    let new_key = !dir.key().exists();
    let key = if new_key {
        let key = SigningKey::generate();
        let text = key.to_openssh().map_err(|e| e.to_string())?;
        write_private(&dir.key(), text.as_bytes())
            .map_err(|e| format!("cannot write the server key: {e}"))?;
        key
    } else {
        let text = fs::read_to_string(dir.key()).map_err(|e| e.to_string())?;
        SigningKey::from_openssh(&text).map_err(|e| e.to_string())?
    };
    store
        .set_meta("hq_id", &trust.hq_id)
        .map_err(|e| e.to_string())?;
    let set: Vec<Principal> = trust
        .coordinators
        .iter()
        .map(|c| Principal {
            id: c.device_id,
            role: Role::Coordinator,
            signing_key: c.signing_key.trim().to_owned(),
            age_recipient: c.age_recipient.clone(),
            revoked_from: None,
        })
        .collect();
    store
        .set_coordinators(&set, None, time::OffsetDateTime::now_utc())
        .map_err(|e| e.to_string())?;
    Ok(InitSummary {
        hq_id: trust.hq_id,
        server_key: key.public_key_openssh("yaddash-hq"),
        fingerprint: key.fingerprint(),
        coordinators: trust.coordinators.len(),
        new_key,
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The server administrator's local revocation of a coordinator (no quorum,
/// see [`trust`]). Returns the new version of the coordinator set.
pub fn revoke_coordinator(store: &dyn Store, id: Uuid) -> Result<u64, String> {
    store
        .revoke_coordinator(id, None, time::OffsetDateTime::now_utc())
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                format!("{id} is not a current coordinator of this server")
            }
            other => other.to_string(),
        })
}
