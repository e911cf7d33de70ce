//! Durable, atomic small-file writes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rand::RngCore;

/// fsync a directory so that a create, rename or removal in it survives
/// power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A random 128-bit hexadecimal file name that reveals nothing.
pub fn random_name() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Writes `bytes` to `path` durably and atomically: a temporary sibling
/// (mode 0600, random name) is written and synced, renamed over `path`, and
/// the directory is synced. A crash at any point leaves either the old or
/// the new file whole. The previous content, if any, is then overwritten in
/// place through a handle kept open across the rename (best effort: on SSDs
/// and journaling file systems the old blocks may survive).
///
/// The error names the step and the path (never the content).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(".{}.tmp", random_name()));
    let ctx = |what: &str, p: &Path| {
        let what = what.to_owned();
        let p = p.display().to_string();
        move |e: io::Error| io::Error::new(e.kind(), format!("{what} {p}: {e}"))
    };
    let res = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(ctx("creating", &tmp))?;
        f.write_all(bytes).map_err(ctx("writing", &tmp))?;
        f.sync_all().map_err(ctx("syncing", &tmp))?;
        let old = OpenOptions::new().write(true).open(path).ok();
        fs::rename(&tmp, path).map_err(ctx("replacing", path))?;
        sync_dir(dir).map_err(ctx("syncing directory", dir))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_whole_and_private_leaving_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second, longer").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second, longer");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary file was left behind");
    }

    #[test]
    fn a_failed_write_names_the_path_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing-dir").join("f");
        let e = write_atomic(&p, b"x").unwrap_err();
        assert!(e.to_string().contains("missing-dir"), "{e}");
    }
}
