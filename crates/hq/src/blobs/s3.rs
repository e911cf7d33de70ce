//! Blobs in an S3-compatible object store (AWS S3, MinIO, Garage, Ceph RGW,
//! s3s-fs), through the `object_store` crate (its request signing; none is
//! written here).
//!
//! Configuration: `blob_store = "s3://BUCKET[/PREFIX]"`, and `s3_endpoint`,
//! `s3_region`, `s3_allow_http` in the settings; anything else (and the
//! credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`) from the `AWS_*` environment variables the crate
//! reads.
//!
//! The store's methods are blocking (see [`super`]); each runs its request
//! on a small runtime of its own, so it can be called from any thread that
//! is not itself inside an async context.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::sync::Semaphore;

use super::{BlobReader, BlobStore};
use crate::config::{DataDir, Settings};

/// Chunks and bundles as objects under `PREFIX/uploads/<upload>/<index>` and
/// `PREFIX/blobs/<bundle_id>.yaddash`.
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    prefix: String,
    /// Its own runtime (shut down in the background on drop, which may
    /// happen inside the server's runtime).
    rt: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    tmp: PathBuf,
    /// Bounds the bytes held in memory for uploads to the store (a chunk is
    /// sent from memory, up to `max_chunk_bytes` each).
    transfers: Arc<Semaphore>,
}

impl std::fmt::Debug for S3Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Blobs")
            .field("store", &self.store.to_string())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Part size for bundles sent in several parts.
const PART: usize = 8 << 20;
/// Transfers to the store at the same time, per instance.
const TRANSFERS: usize = 8;

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl S3Blobs {
    /// Connects (lazily: no request is made here) to `s3://BUCKET[/PREFIX]`.
    pub fn open(url: &str, s: &Settings, data: &DataDir) -> Result<Self, String> {
        let rest = url.trim_start_matches("s3://");
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("blob_store s3://BUCKET names no bucket".into());
        }
        // TLS to the store: rustls with ring (reqwest is built without a
        // provider of its own). Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if !s.s3_endpoint.is_empty() {
            b = b.with_endpoint(&s.s3_endpoint);
        }
        if !s.s3_region.is_empty() {
            b = b.with_region(&s.s3_region);
        }
        if s.s3_allow_http {
            b = b.with_allow_http(true);
        }
        let store = b
            .build()
            .map_err(|e| format!("the S3 blob store is not usable: {e}"))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("yaddash-hq-s3")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let tmp = data.tmp();
        std::fs::create_dir_all(&tmp)
            .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_owned(),
            handle: rt.handle().clone(),
            rt: Some(rt),
            tmp,
            transfers: Arc::new(Semaphore::new(TRANSFERS)),
        })
    }

    fn key(&self, rel: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(rel)
        } else {
            Key::from(format!("{}/{rel}", self.prefix))
        }
    }

    fn chunk_key(&self, upload: &str, index: u64) -> Key {
        self.key(&format!("uploads/{upload}/{index}"))
    }

    fn bundle_key(&self, bundle_id: &str) -> Key {
        self.key(&format!("blobs/{bundle_id}.yaddash"))
    }

    fn reader(&self, key: Key, range: Option<GetRange>) -> io::Result<BlobReader> {
        let store = Arc::clone(&self.store);
        let opts = GetOptions {
            range,
            ..Default::default()
        };
        let stream = self
            .handle
            .block_on(async move { store.get_opts(&key, opts).await })
            .map_err(io::Error::from)?
            .into_stream();
        Ok(Box::new(StreamReader {
            handle: self.handle.clone(),
            stream,
            buf: Bytes::new(),
        }))
    }
}

/// A blocking reader over an object's body stream.
struct StreamReader {
    handle: tokio::runtime::Handle,
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    buf: Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.buf.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(b)) => self.buf = b,
                Some(Err(e)) => return Err(io::Error::from(e)),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        let _ = self.buf.split_to(n);
        Ok(n)
    }
}

impl Drop for S3Blobs {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl BlobStore for S3Blobs {
    fn backend(&self) -> &'static str {
        "s3"
    }

    fn put_chunk(&self, upload: &str, index: u64, staged: tempfile::TempPath) -> io::Result<()> {
        let (store, key, sem) = (
            Arc::clone(&self.store),
            self.chunk_key(upload, index),
            Arc::clone(&self.transfers),
        );
        self.handle.block_on(async move {
            let _permit = sem.acquire().await.map_err(other)?;
            let bytes = tokio::fs::read(&staged).await?;
            store
                .put(&key, PutPayload::from(bytes))
                .await
                .map_err(io::Error::from)?;
            drop(staged);
            Ok(())
        })
    }

    fn chunks(&self, upload: &str) -> io::Result<Vec<u64>> {
        let (store, prefix) = (
            Arc::clone(&self.store),
            self.key(&format!("uploads/{upload}")),
        );
        let mut v: Vec<u64> = self.handle.block_on(async move {
            let mut list = store.list(Some(&prefix));
            let mut v = Vec::new();
            while let Some(meta) = list.next().await {
                let meta = meta.map_err(io::Error::from)?;
                if let Some(i) = meta.location.filename().and_then(|n| n.parse().ok()) {
                    v.push(i);
                }
            }
            Ok::<_, io::Error>(v)
        })?;
        v.sort_unstable();
        v.dedup();
        Ok(v)
    }

    fn open_chunk(&self, upload: &str, index: u64) -> io::Result<BlobReader> {
        self.reader(self.chunk_key(upload, index), None)
    }

    fn delete_chunk(&self, upload: &str, index: u64) -> io::Result<()> {
        let (store, key) = (Arc::clone(&self.store), self.chunk_key(upload, index));
        self.handle.block_on(async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(io::Error::from(e)),
            }
        })
    }

    fn delete_upload(&self, upload: &str) -> io::Result<()> {
        for i in self.chunks(upload)? {
            self.delete_chunk(upload, i)?;
        }
        Ok(())
    }

    fn assembly_path(&self, upload: &str) -> PathBuf {
        self.tmp.join(format!(".{upload}.partial"))
    }

    fn put_bundle(&self, bundle_id: &str, assembled: &Path) -> io::Result<()> {
        let (store, key, sem, path) = (
            Arc::clone(&self.store),
            self.bundle_key(bundle_id),
            Arc::clone(&self.transfers),
            assembled.to_owned(),
        );
        let res = self.handle.block_on(async move {
            use tokio::io::AsyncReadExt;
            let _permit = sem.acquire().await.map_err(other)?;
            let mut f = tokio::fs::File::open(&path).await?;
            let len = f.metadata().await?.len();
            if len <= PART as u64 {
                let mut bytes = Vec::with_capacity(len as usize);
                f.read_to_end(&mut bytes).await?;
                store
                    .put(&key, PutPayload::from(bytes))
                    .await
                    .map_err(io::Error::from)?;
                return Ok(());
            }
            let upload = store.put_multipart(&key).await.map_err(io::Error::from)?;
            let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = match f.read(&mut buf).await {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = w.abort().await;
                        return Err(e);
                    }
                };
                if n == 0 {
                    break;
                }
                if let Err(e) = w.wait_for_capacity(2).await {
                    let _ = w.abort().await;
                    return Err(io::Error::from(e));
                }
                w.write(&buf[..n]);
            }
            w.finish().await.map_err(io::Error::from)?;
            Ok(())
        });
        let _ = std::fs::remove_file(assembled);
        res
    }

    fn bundle_len(&self, bundle_id: &str) -> io::Result<u64> {
        let (store, key) = (Arc::clone(&self.store), self.bundle_key(bundle_id));
        self.handle
            .block_on(async move { store.head(&key).await })
            .map(|m| m.size)
            .map_err(io::Error::from)
    }

    fn open_bundle(&self, bundle_id: &str, start: u64, len: u64) -> io::Result<BlobReader> {
        if len == 0 {
            return Ok(Box::new(io::empty()));
        }
        self.reader(
            self.bundle_key(bundle_id),
            Some(GetRange::Bounded(start..start + len)),
        )
    }

    fn delete_bundle(&self, bundle_id: &str) -> io::Result<()> {
        let (store, key) = (Arc::clone(&self.store), self.bundle_key(bundle_id));
        self.handle.block_on(async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(io::Error::from(e)),
            }
        })
    }
}
