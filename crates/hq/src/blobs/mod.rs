//! Where the ciphertext lives: chunks of unfinished uploads and accepted
//! bundles, behind one trait.
//!
//! - [`FsBlobs`] (the default): files under the data directory,
//!   `uploads/<upload_id>/<index>` and `blobs/<bundle_id>.yaddash`.
//! - [`S3Blobs`]: any S3-compatible object store (AWS S3, MinIO, Garage,
//!   Ceph RGW, s3s-fs), through the `object_store` crate, under the keys
//!   `uploads/<upload_id>/<index>` and `blobs/<bundle_id>.yaddash`. Several
//!   server instances share it: an upload begun on one instance is resumed
//!   and completed on another.
//!
//! Bodies arrive in a local staging file (`DATA/tmp`, see
//! [`crate::config::DataDir::tmp`]) and are handed over when checked; every
//! method returns only once what it stored is durable (fsynced, or
//! acknowledged by the object store). Methods are blocking: the server calls
//! them from `spawn_blocking`.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub mod fs;
pub mod s3;

pub use fs::FsBlobs;
pub use s3::S3Blobs;

/// A sequential reader over stored bytes.
pub type BlobReader = Box<dyn Read + Send>;

/// Chunk and bundle storage. Identifiers are checked hex strings (the
/// server never passes client text through unchecked).
pub trait BlobStore: Send + Sync {
    /// `fs` or `s3` (health endpoint).
    fn backend(&self) -> &'static str;
    /// Stores chunk `index` of `upload` from a local staging file (which is
    /// consumed). Durable on return; replaces an earlier copy.
    fn put_chunk(&self, upload: &str, index: u64, staged: tempfile::TempPath) -> io::Result<()>;
    /// The chunks held for `upload`, sorted.
    fn chunks(&self, upload: &str) -> io::Result<Vec<u64>>;
    /// Reads one chunk.
    fn open_chunk(&self, upload: &str, index: u64) -> io::Result<BlobReader>;
    /// Forgets one chunk (found damaged).
    fn delete_chunk(&self, upload: &str, index: u64) -> io::Result<()>;
    /// Forgets every chunk of `upload` (none left is not an error).
    fn delete_upload(&self, upload: &str) -> io::Result<()>;
    /// A local path where `upload`'s bundle is assembled before
    /// [`BlobStore::put_bundle`] (on the same file system as the bundles
    /// for [`FsBlobs`], so that the hand-over is a rename).
    fn assembly_path(&self, upload: &str) -> PathBuf;
    /// Moves an upload's only chunk to `to` (a local path from
    /// [`BlobStore::assembly_path`]) when that costs no copy; false when the
    /// store cannot (the chunk is then read like any other).
    fn take_only_chunk(&self, _upload: &str, _to: &Path) -> io::Result<bool> {
        Ok(false)
    }
    /// Stores a verified, fsynced bundle from `assembled` (consumed: moved
    /// or deleted). Durable on return. Storing the same bundle twice is
    /// harmless (same id, same bytes).
    fn put_bundle(&self, bundle_id: &str, assembled: &Path) -> io::Result<()>;
    /// The stored size of a bundle.
    fn bundle_len(&self, bundle_id: &str) -> io::Result<u64>;
    /// Reads `len` bytes of a bundle from `start`.
    fn open_bundle(&self, bundle_id: &str, start: u64, len: u64) -> io::Result<BlobReader>;
    /// Deletes a bundle (already gone is not an error).
    fn delete_bundle(&self, bundle_id: &str) -> io::Result<()>;
    /// Whether a bundle is stored (tests, housekeeping).
    fn has_bundle(&self, bundle_id: &str) -> io::Result<bool> {
        match self.bundle_len(bundle_id) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Opens the blob store named by `blob_store`: empty or `fs` means files
/// under `data`; `s3://BUCKET[/PREFIX]` an S3-compatible store (endpoint,
/// region and credentials from the settings and the `AWS_*` environment).
pub fn open(
    blob_store: &str,
    s3: &crate::config::Settings,
    data: &crate::config::DataDir,
) -> Result<Box<dyn BlobStore>, String> {
    match blob_store.trim() {
        "" | "fs" => Ok(Box::new(FsBlobs::new(data.clone())?)),
        url if url.starts_with("s3://") => Ok(Box::new(S3Blobs::open(url, s3, data)?)),
        other => Err(format!(
            "blob_store must be `fs` or `s3://BUCKET[/PREFIX]`, not {other:?}"
        )),
    }
}
