//! Overwriting a file before removing it: `attach --move` and the app's
//! "Move into the vault" after the encrypted copy is verified.

use std::fs::{self, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

use rand::RngCore;

/// Overwrites a regular file's bytes in place with random noise, syncs,
/// truncates it, removes it and syncs its directory.
///
/// What this cannot guarantee: on SSDs (wear levelling, over-provisioning),
/// journaling file systems with data journaling, copy-on-write file systems
/// (btrfs, ZFS), snapshots, backups and other copies (editor, download or
/// cloud folders), the old bytes may survive elsewhere on the disk. Full-disk
/// encryption is what protects those.
pub fn overwrite_and_remove(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a link or a device is never overwritten)",
        ));
    }
    let mut f = OpenOptions::new().write(true).open(path)?;
    let len = meta.len();
    let mut noise = vec![0u8; 1 << 20];
    f.seek(SeekFrom::Start(0))?;
    let mut done = 0u64;
    while done < len {
        let k = (len - done).min(noise.len() as u64) as usize;
        rand::rngs::OsRng.fill_bytes(&mut noise[..k]);
        f.write_all(&noise[..k])?;
        done += k as u64;
    }
    f.sync_all()?;
    f.set_len(0)?;
    f.sync_all()?;
    drop(f);
    fs::remove_file(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    crate::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_file_is_gone_and_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ogg");
        std::fs::write(&p, vec![7u8; 3 << 20]).unwrap();
        super::overwrite_and_remove(&p).unwrap();
        assert!(!p.exists());
        let target = dir.path().join("t");
        std::fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(super::overwrite_and_remove(&link).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }
}
