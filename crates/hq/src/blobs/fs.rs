//! Blobs as files under the data directory (the default).

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{BlobReader, BlobStore};
use crate::config::DataDir;

/// `DATA/uploads/<upload_id>/<index>` and `DATA/blobs/<bundle_id>.yaddash`.
#[derive(Debug)]
pub struct FsBlobs {
    dir: DataDir,
}

impl FsBlobs {
    /// Creates the directories if needed.
    pub fn new(dir: DataDir) -> Result<Self, String> {
        for d in [dir.blobs(), dir.uploads(), dir.tmp()] {
            fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        Ok(Self { dir })
    }

    /// The file of an accepted bundle.
    pub fn bundle_path(&self, bundle_id: &str) -> PathBuf {
        self.dir.blobs().join(format!("{bundle_id}.yaddash"))
    }

    fn upload_dir(&self, upload: &str) -> PathBuf {
        self.dir.uploads().join(upload)
    }
}

fn sync_dir(d: &Path) -> io::Result<()> {
    File::open(d)?.sync_all()
}

impl BlobStore for FsBlobs {
    fn backend(&self) -> &'static str {
        "fs"
    }

    fn put_chunk(&self, upload: &str, index: u64, staged: tempfile::TempPath) -> io::Result<()> {
        // The staged file was written but not yet flushed: fsync it, move it
        // into place, fsync the directory (and its parent when it is new).
        File::open(&staged)?.sync_all()?;
        let dir = self.upload_dir(upload);
        let new_dir = !dir.exists();
        fs::create_dir_all(&dir)?;
        staged
            .persist(dir.join(index.to_string()))
            .map_err(|e| e.error)?;
        sync_dir(&dir)?;
        if new_dir {
            sync_dir(&self.dir.uploads())?;
        }
        Ok(())
    }

    fn chunks(&self, upload: &str) -> io::Result<Vec<u64>> {
        let mut v: Vec<u64> = match fs::read_dir(self.upload_dir(upload)) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        v.sort_unstable();
        Ok(v)
    }

    fn open_chunk(&self, upload: &str, index: u64) -> io::Result<BlobReader> {
        Ok(Box::new(File::open(
            self.upload_dir(upload).join(index.to_string()),
        )?))
    }

    fn delete_chunk(&self, upload: &str, index: u64) -> io::Result<()> {
        match fs::remove_file(self.upload_dir(upload).join(index.to_string())) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn delete_upload(&self, upload: &str) -> io::Result<()> {
        match fs::remove_dir_all(self.upload_dir(upload)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn assembly_path(&self, upload: &str) -> PathBuf {
        self.dir.blobs().join(format!(".{upload}.partial"))
    }

    fn take_only_chunk(&self, upload: &str, to: &Path) -> io::Result<bool> {
        fs::rename(self.upload_dir(upload).join("0"), to)?;
        Ok(true)
    }

    fn put_bundle(&self, bundle_id: &str, assembled: &Path) -> io::Result<()> {
        fs::rename(assembled, self.bundle_path(bundle_id))?;
        sync_dir(&self.dir.blobs())
    }

    fn bundle_len(&self, bundle_id: &str) -> io::Result<u64> {
        Ok(fs::metadata(self.bundle_path(bundle_id))?.len())
    }

    fn open_bundle(&self, bundle_id: &str, start: u64, len: u64) -> io::Result<BlobReader> {
        let mut f = File::open(self.bundle_path(bundle_id))?;
        f.seek(SeekFrom::Start(start))?;
        Ok(Box::new(f.take(len)))
    }

    fn delete_bundle(&self, bundle_id: &str) -> io::Result<()> {
        match fs::remove_file(self.bundle_path(bundle_id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
