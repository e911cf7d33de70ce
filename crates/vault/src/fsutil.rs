//! Small durable file-system helpers: the shared ones of `yaddash_os`, with
//! the vault's error type.

use std::path::Path;

use crate::error::{IoContext, Result};

pub(crate) use yaddash_os::random_name;

/// fsync a directory so that a create or rename in it survives power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    yaddash_os::sync_dir(dir).ctx(|| format!("syncing directory {}", dir.display()))
}

/// Writes a small file durably and atomically (`yaddash_os::write_atomic`:
/// temporary sibling synced, renamed, directory synced, old blocks scrubbed
/// best effort).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    yaddash_os::write_atomic(path, bytes).ctx(|| format!("writing {}", path.display()))
}
