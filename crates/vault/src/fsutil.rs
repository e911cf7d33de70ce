//! Small durable file-system helpers.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use rand::RngCore;

use crate::error::{IoContext, Result};

/// fsync a directory so that a create or rename in it survives power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx(|| format!("syncing directory {}", dir.display()))
}

/// A random hexadecimal file name that reveals nothing.
pub(crate) fn random_name() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Writes a small file durably and atomically: a temporary sibling is written
/// and synced, then renamed over the target, then the directory is synced.
/// The previous content, if any, is then overwritten in place (best effort:
/// on SSDs and journaling file systems the old blocks may survive).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", random_name()));
    let res = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .ctx(|| format!("creating {}", tmp.display()))?;
        f.write_all(bytes)
            .ctx(|| format!("writing {}", tmp.display()))?;
        f.sync_all().ctx(|| format!("syncing {}", tmp.display()))?;
        // Keep a handle on the old file so it can be scrubbed after the swap:
        // a crash at any point leaves either the old or the new file whole.
        let old = OpenOptions::new().write(true).open(path).ok();
        fs::rename(&tmp, path).ctx(|| format!("replacing {}", path.display()))?;
        sync_dir(dir)?;
        if let Some(old) = old {
            scrub(old);
        }
        Ok(())
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// Overwrites an unlinked file's blocks with noise through an open handle.
fn scrub(mut f: File) {
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut noise = vec![0u8; usize::try_from(len).unwrap_or(0).min(1 << 20)];
    rand::rngs::OsRng.fill_bytes(&mut noise);
    let _ = f.write_all(&noise).and_then(|()| f.sync_all());
}
