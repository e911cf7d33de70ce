//! Small files written atomically.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{Result, io_err};

/// Writes a small file atomically (trust, receipts, device files).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    let res = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.map_err(io_err(format!("writing {}", path.display())))
}
