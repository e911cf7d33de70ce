//! Counters for the health endpoint.

use super::*;

/// Counters for the health endpoint.
#[derive(Default, Debug)]
pub(crate) struct Metrics {
    pub(crate) requests: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) bundles_accepted: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
}
