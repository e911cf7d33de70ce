//! Changing the coordinator set: the quorum rule.
//!
//! The server trusts the coordinators named in its trust set. A change to
//! that set over the API (replace it, or revoke one coordinator) must carry
//! approvals from a **majority of the current coordinators**: strictly more
//! than half, i.e. `n / 2 + 1` of `n` (1 of 1, 2 of 2, 2 of 3, 3 of 4, 3 of
//! 5). A coordinator being removed still counts in `n` and may approve. So
//! one seized coordinator key cannot change the set alone as soon as there
//! are two coordinators; with exactly two, removing one takes both (or the
//! server's administrator, see below), which is why three or more are
//! recommended. Each approval signs the exact change and the set's version,
//! so an approval cannot be reused for another change or replayed later.
//!
//! The server administrator's local commands (`yaddash-hq init --trust`,
//! `yaddash-hq revoke-coordinator`) need no quorum: whoever runs commands on
//! the server host already controls its storage.

use std::collections::HashSet;

use uuid::Uuid;
use yaddash_wire::hq::Approval;
use yaddash_wire::parse_signing_public_key;
use yaddash_wire::request::verify_approval;

use crate::store::Principal;

/// Approvals a change needs when there are `current` coordinators.
pub fn quorum(current: usize) -> usize {
    current / 2 + 1
}

/// How many distinct current coordinators approved `message` with a
/// signature that verifies. Approvals by anyone else, or that do not
/// verify, do not count.
pub fn valid_approvals(current: &[Principal], message: &[u8], approvals: &[Approval]) -> usize {
    let mut seen: HashSet<Uuid> = HashSet::new();
    for a in approvals {
        if seen.contains(&a.coordinator) {
            continue;
        }
        let Some(p) = current.iter().find(|p| p.id == a.coordinator) else {
            continue;
        };
        let Ok(key) = parse_signing_public_key(&p.signing_key) else {
            continue;
        };
        if verify_approval(&key, message, a).is_ok() {
            seen.insert(a.coordinator);
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_majority_is_more_than_half() {
        assert_eq!(
            (1..=6).map(quorum).collect::<Vec<_>>(),
            vec![1, 2, 2, 3, 3, 4]
        );
    }
}
