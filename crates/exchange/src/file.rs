//! Small files written atomically.

use std::path::Path;

use crate::error::{Result, io_err};

/// Writes a small file (trust, receipts, device files, saved bundles) with
/// `yaddash_os::write_atomic`: durable, atomic, mode 0600.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    yaddash_os::write_atomic(path, bytes).map_err(io_err(format!("writing {}", path.display())))
}
