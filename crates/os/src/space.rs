//! Free disk space, for commands that must refuse to start when the disk is
//! nearly full (a recording that stops halfway is worse than one refused).

use std::io;
use std::path::Path;

/// Bytes available to an unprivileged process on the file system holding
/// `path` (`statvfs`: `f_bavail * f_frsize`).
pub fn available_space(path: &Path) -> io::Result<u64> {
    let st = rustix::fs::statvfs(path).map_err(io::Error::from)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_temporary_directory_has_some_space() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::available_space(dir.path()).unwrap() > 0);
    }
}
