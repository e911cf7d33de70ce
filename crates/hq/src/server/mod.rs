//! The HTTP API (axum on hyper, HTTP/1.1). See `docs/hq-server.md`.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use uuid::Uuid;
use yaddash_wire::hq::{
    Accepted, Approval, BundleInfo, BundleList, CoordinatorKey, CoordinatorRevocation,
    DeviceKeysPublic, EnrollRequest, ErrorBody, HeldBundle, ReceiptList, ReceiptPost, RevokeAnswer,
    RevokeRequest, ServerInfo, TrustState, TrustUpdate, UploadInit, UploadStatus,
};
use yaddash_wire::request::{
    EnrollCode, HEADER_NONCE, HEADER_SIGNATURE, HEADER_SIGNER, HEADER_TIME, MAX_CODE_LIFETIME_SECS,
    MAX_SKEW_SECS, RequestAuth,
};
use yaddash_wire::{
    KnownSender, Receipt, ReceiptKind, SenderDirectory, Sha256Hash, SigningKey,
    parse_signing_public_key, sign_receipt, verify_outer, verify_receipt,
};

use crate::blobs::BlobStore;
use crate::config::{DataDir, Settings};
use crate::store::{BundleRow, Principal, Role, Store, StoreError, Upload};

#[macro_use]
mod errors;
mod assemble;
mod auth;
mod body;
mod handlers;
mod housekeeping;
mod metrics;
mod router;

pub use errors::ApiError;
pub use router::router;

use assemble::*;
use auth::*;
use body::*;
use errors::*;
use handlers::bundles::*;
use handlers::devices::*;
use handlers::enroll::*;
use handlers::info::*;
use handlers::receipts::*;
use handlers::trust::*;
use handlers::uploads::*;
use housekeeping::*;
use metrics::*;

/// Shared server state.
pub struct App {
    pub(crate) settings: Settings,
    pub(crate) dir: DataDir,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) key: SigningKey,
    pub(crate) hq_id: String,
    /// This process (housekeeping lease holder): host name and pid.
    pub(crate) instance: String,
    pub(crate) completes: Semaphore,
    pub(crate) rate: RateLimiter,
    pub(crate) metrics: Metrics,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("hq_id", &self.hq_id)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the state from an initialised data directory; opens the blob
    /// store named by the settings (`blob_store`).
    pub fn new(settings: Settings, dir: DataDir, store: Box<dyn Store>) -> Result<Self, String> {
        let key_text = fs::read_to_string(dir.key()).map_err(|e| {
            format!(
                "cannot read the server key {}: {e}; run `yaddash-hq init` first",
                dir.key().display()
            )
        })?;
        let key = SigningKey::from_openssh(&key_text).map_err(|e| e.to_string())?;
        let hq_id = store
            .meta("hq_id")
            .map_err(|e| e.to_string())?
            .ok_or("the data directory is not initialised; run `yaddash-hq init` first")?;
        fs::create_dir_all(dir.tmp()).map_err(|e| e.to_string())?;
        let blobs = crate::blobs::open(&settings.blob_store, &settings, &dir)?;
        let rate = RateLimiter::new(&settings, store.shared_rate());
        Ok(Self {
            completes: Semaphore::new(settings.max_concurrent_completes.max(1) as usize),
            rate,
            blobs: Arc::from(blobs),
            settings,
            dir,
            store: Arc::from(store),
            key,
            hq_id,
            instance: format!(
                "{}:{}:{}",
                fs::read_to_string("/proc/sys/kernel/hostname")
                    .unwrap_or_default()
                    .trim(),
                std::process::id(),
                Uuid::now_v7()
            ),
            metrics: Metrics::default(),
        })
    }

    pub(crate) async fn db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> ApiResult<T> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::from)
    }

    /// Runs blocking blob-store work off the async threads.
    pub(crate) async fn blob<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&dyn BlobStore) -> io::Result<T> + Send + 'static,
    ) -> ApiResult<T> {
        let blobs = Arc::clone(&self.blobs);
        tokio::task::spawn_blocking(move || f(&*blobs))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }
}

/// Largest read (and write) buffer of one connection; also the limit for
/// the request head.
const CONNECTION_BUFFER: usize = 32 << 10;

/// Threads for blocking work (file writes and fsyncs, database calls, bundle
/// checks): enough to keep the disk busy, few enough that hundreds of
/// connections writing at once do not each get a thread and its stack.
pub const BLOCKING_THREADS: usize = 64;

/// Serves on `listener` until the process ends. Each connection gets the
/// header timeout (slow-loris guard); the number of connections is bounded.
pub async fn serve(listener: TcpListener, app: Arc<App>) -> io::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let header_timeout = Duration::from_secs(app.settings.header_timeout_secs.max(1));
    let connections = Arc::new(Semaphore::new(app.settings.max_connections.max(1) as usize));
    spawn_housekeeping(Arc::clone(&app));
    let router = router(Arc::clone(&app));
    loop {
        let permit = Arc::clone(&connections)
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("connection limiter closed"))?;
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                eprintln!("yaddash-hq: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            // Bounded buffers per connection (hyper would grow its read
            // buffer to ~400 KiB): with chunk bodies streamed to disk this is
            // what keeps memory flat with hundreds of devices uploading.
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .max_buf_size(CONNECTION_BUFFER)
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), svc);
            let _ = conn.await;
            drop(permit);
        });
    }
}

pub(crate) fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub(crate) fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[derive(Deserialize)]
pub(crate) struct After {
    #[serde(default)]
    pub(crate) after: i64,
    #[serde(default)]
    pub(crate) limit: Option<u32>,
}
