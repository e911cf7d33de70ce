//! What quick delete would lose: the records headquarters does not hold yet.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use yaddash_vault::{Vault, VaultRole};

use crate::{Result, State, entries, outbox_dir};

/// Records headquarters does not hold yet, for the warning before a quick
/// delete.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct Unsent {
    /// Records with a revision that is in no bundle, or only in bundles the
    /// HQ server has not confirmed receiving and no coordinator confirmed
    /// importing. `None` in a coordinator vault (it may be headquarters'
    /// only copy: everything in it would be lost).
    pub records: Option<u64>,
    /// Outbox bundles not confirmed yet (carry them with `outbox save`).
    pub waiting_bundles: Vec<u64>,
    /// The outbox directory.
    pub outbox: String,
}

/// Counts what headquarters does not hold yet.
pub fn unsent(vault: &Vault) -> Result<Unsent> {
    let outbox = outbox_dir(vault).display().to_string();
    if vault.role() != VaultRole::Field {
        return Ok(Unsent {
            records: None,
            waiting_bundles: Vec::new(),
            outbox,
        });
    }
    let states: HashMap<u64, State> = entries(vault)?
        .into_iter()
        .map(|e| (e.seq, e.state))
        .collect();
    let held = |seq: u64| matches!(states.get(&seq), Some(State::Received | State::Imported));
    let mut records = HashSet::new();
    for c in vault.travel().revision_coverage()? {
        if !c.from_hq && !c.seq.is_some_and(held) {
            records.insert(c.record_id);
        }
    }
    let mut waiting_bundles: Vec<u64> = states
        .iter()
        .filter(|(_, s)| matches!(s, State::Pending | State::PartlySent))
        .map(|(seq, _)| *seq)
        .collect();
    waiting_bundles.sort_unstable();
    Ok(Unsent {
        records: Some(records.len() as u64),
        waiting_bundles,
        outbox,
    })
}
