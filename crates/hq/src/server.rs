//! The HTTP API (axum on hyper, HTTP/1.1). See `docs/hq-server.md`.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
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
    Accepted, BundleInfo, BundleList, DeviceKeysPublic, EnrollRequest, ErrorBody, ReceiptList,
    ReceiptPost, RevokeRequest, ServerInfo, UploadInit, UploadStatus,
};
use yaddash_wire::request::{
    EnrollCode, HEADER_NONCE, HEADER_SIGNATURE, HEADER_SIGNER, HEADER_TIME, MAX_SKEW_SECS,
    RequestAuth,
};
use yaddash_wire::{
    KnownSender, Receipt, ReceiptKind, SenderDirectory, Sha256Hash, SigningKey,
    parse_signing_public_key, sign_receipt, verify_outer, verify_receipt,
};

use crate::config::{DataDir, Settings};
use crate::store::{BundleRow, Principal, Role, Store, StoreError, Upload};

/// An error answer: status, stable code, human message. Never carries
/// client-supplied content.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message: message.into(),
        }
    }
    fn internal(what: impl std::fmt::Display) -> Self {
        eprintln!("yaddash-hq: internal error: {what}");
        Self::new(
            500,
            "internal",
            "the server failed; the request can be retried",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody {
            code: self.code.into(),
            message: self.message,
        })
        .unwrap_or_default();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::CodeUsed => Self::new(
                409,
                "code_used",
                "this enrollment code was already used; ask a coordinator for a new one",
            ),
            StoreError::AlreadyEnrolled => Self::new(
                409,
                "already_enrolled",
                "a device with this id is already enrolled with another key",
            ),
            StoreError::NotFound => Self::new(404, "not_found", "no such item"),
            other => Self::internal(other),
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Counters for the health endpoint.
#[derive(Default, Debug)]
struct Metrics {
    requests: AtomicU64,
    refused: AtomicU64,
    bundles_accepted: AtomicU64,
    bytes_received: AtomicU64,
}

/// Shared server state.
pub struct App {
    settings: Settings,
    dir: DataDir,
    store: Arc<dyn Store>,
    key: SigningKey,
    hq_id: String,
    completes: Semaphore,
    rate: Mutex<HashMap<Uuid, (Instant, u32)>>,
    metrics: Metrics,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("hq_id", &self.hq_id)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the state from an initialised data directory.
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
        fs::create_dir_all(dir.blobs()).map_err(|e| e.to_string())?;
        fs::create_dir_all(dir.uploads()).map_err(|e| e.to_string())?;
        Ok(Self {
            completes: Semaphore::new(settings.max_concurrent_completes.max(1) as usize),
            settings,
            dir,
            store: Arc::from(store),
            key,
            hq_id,
            rate: Mutex::new(HashMap::new()),
            metrics: Metrics::default(),
        })
    }

    async fn db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> ApiResult<T> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&*store))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::from)
    }

    fn blob_path(&self, bundle_id: &str) -> PathBuf {
        self.dir.blobs().join(format!("{bundle_id}.yaddash"))
    }

    fn upload_dir(&self, upload_id: &str) -> PathBuf {
        self.dir.uploads().join(upload_id)
    }
}

/// The router, for tests and for [`serve`].
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/health", get(health))
        .route("/v1/enroll", post(enroll))
        .route("/v1/devices/{id}/revoke", post(revoke))
        .route("/v1/uploads", post(upload_init))
        .route("/v1/uploads/{id}", get(upload_status))
        .route("/v1/uploads/{id}/chunks/{index}", put(upload_chunk))
        .route("/v1/uploads/{id}/complete", post(upload_complete))
        .route("/v1/receipts", get(receipts_get).post(receipts_post))
        .route("/v1/bundles", get(bundles_list))
        .route("/v1/bundles/{id}", get(bundle_download))
        .route("/v1/bundles/{id}/ack", post(bundle_ack))
        .fallback(|| async {
            ApiError::new(
                404,
                "no_such_endpoint",
                "no such endpoint; check the server URL",
            )
        })
        .with_state(app)
}

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
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), svc);
            let _ = conn.await;
            drop(permit);
        });
    }
}

fn spawn_housekeeping(app: Arc<App>) {
    tokio::spawn(async move {
        let every = Duration::from_secs(app.settings.housekeeping_secs.max(1));
        loop {
            tokio::time::sleep(every).await;
            let a = Arc::clone(&app);
            let _ = tokio::task::spawn_blocking(move || housekeeping(&a)).await;
        }
    });
}

/// Deletes acknowledged bundles past retention, stale uploads and old nonces.
fn housekeeping(app: &App) {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let retention = i64::try_from(app.settings.retention_secs).unwrap_or(i64::MAX);
    if let Ok(ids) = app
        .store
        .bundles_acked_before(now.saturating_sub(retention))
    {
        for id in ids {
            let path = app.blob_path(&id);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(_) => continue,
            }
            let _ = app.store.bundle_forget(&id);
        }
    }
    let ttl = i64::try_from(app.settings.upload_ttl_secs).unwrap_or(i64::MAX);
    if let Ok(ids) = app.store.uploads_older(now.saturating_sub(ttl)) {
        for id in ids {
            let _ = fs::remove_dir_all(app.upload_dir(&id));
            let _ = app.store.upload_delete(&id);
        }
    }
    let _ = app.store.prune_nonces(now - 2 * MAX_SKEW_SECS);
}

// ---------------------------------------------------------------- helpers

/// A request body and its SHA-256 (computed once: the signature covers it
/// and chunk checks reuse it).
struct ReadBody {
    bytes: Bytes,
    hash: Sha256Hash,
}

impl std::ops::Deref for ReadBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

async fn read_body(app: &App, body: Body, parts: &Parts, limit: u64) -> ApiResult<ReadBody> {
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit
    {
        return Err(too_large(limit));
    }
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    let limited = http_body_util::Limited::new(body, limit_usize);
    let timeout = Duration::from_secs(app.settings.body_timeout_secs.max(1));
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(ApiError::new(
            408,
            "body_timeout",
            format!(
                "the request body was not received within {} seconds",
                timeout.as_secs()
            ),
        )),
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(too_large(limit))
            } else {
                Err(ApiError::new(
                    400,
                    "body_unreadable",
                    "the request body could not be read",
                ))
            }
        }
        Ok(Ok(c)) => {
            let b = c.to_bytes();
            app.metrics
                .bytes_received
                .fetch_add(b.len() as u64, Ordering::Relaxed);
            let hash = if b.len() > 64 * 1024 {
                let b2 = b.clone();
                tokio::task::spawn_blocking(move || Sha256Hash::digest(&b2))
                    .await
                    .map_err(ApiError::internal)?
            } else {
                Sha256Hash::digest(&b)
            };
            Ok(ReadBody { bytes: b, hash })
        }
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        413,
        "body_too_large",
        format!("the request body is larger than the {limit}-byte limit"),
    )
}

fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            400,
            "bad_json",
            format!(
                "the request body is not the expected JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

fn ok_json<T: serde::Serialize>(v: &T) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn parse_auth(parts: &Parts) -> ApiResult<RequestAuth> {
    let h = &parts.headers;
    if h.get(HEADER_SIGNATURE).is_none() {
        return Err(ApiError::new(
            401,
            "unsigned",
            "the request is not signed; every request must be signed by an enrolled device or a coordinator",
        ));
    }
    RequestAuth::parse(
        header_str(h, HEADER_SIGNER),
        header_str(h, HEADER_TIME),
        header_str(h, HEADER_NONCE),
        header_str(h, HEADER_SIGNATURE),
    )
    .map_err(|e| ApiError::new(401, "bad_signature_headers", e.to_string()))
}

fn path_and_query(parts: &Parts) -> &str {
    parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
}

/// Checks time window, signature, rate and nonce for a known key.
async fn check_signed(
    app: &Arc<App>,
    parts: &Parts,
    body: &ReadBody,
    auth: &RequestAuth,
    signing_key: &str,
) -> ApiResult<()> {
    let skew = (now() - auth.time).abs();
    if skew > MAX_SKEW_SECS {
        return Err(ApiError::new(
            401,
            "clock_skew",
            format!(
                "the request time is {skew} seconds away from the server's clock (limit {MAX_SKEW_SECS}); fix the device clock"
            ),
        ));
    }
    let key = parse_signing_public_key(signing_key).map_err(|_| {
        ApiError::new(
            401,
            "bad_key",
            "the signer's key is not a usable Ed25519 key",
        )
    })?;
    auth.verify(
        &key,
        parts.method.as_str(),
        path_and_query(parts),
        &body.hash,
    )
    .map_err(|_| {
        ApiError::new(
            401,
            "bad_signature",
            "the request signature does not verify",
        )
    })?;
    {
        let mut rate = app
            .rate
            .lock()
            .map_err(|_| ApiError::internal("rate lock"))?;
        let entry = rate.entry(auth.signer).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= Duration::from_secs(60) {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
        if entry.1 > app.settings.rate_per_minute {
            return Err(ApiError::new(
                429,
                "rate_limited",
                format!(
                    "more than {} requests in a minute; slow down and retry",
                    app.settings.rate_per_minute
                ),
            ));
        }
    }
    let (signer, nonce, time) = (auth.signer, auth.nonce.clone(), auth.time);
    if !app.db(move |s| s.use_nonce(signer, &nonce, time)).await? {
        return Err(ApiError::new(
            401,
            "replayed",
            "this request was already received (nonce reused); a captured request cannot be replayed",
        ));
    }
    Ok(())
}

/// Authenticates a request by an enrolled principal with the given role.
async fn authenticate(
    app: &Arc<App>,
    parts: &Parts,
    body: &ReadBody,
    role: Role,
) -> ApiResult<Principal> {
    let auth = parse_auth(parts)?;
    let signer = auth.signer;
    let principal = app.db(move |s| s.principal(signer)).await?.ok_or_else(|| {
        ApiError::new(
            401,
            "unknown_signer",
            "the signing key is not enrolled at this server",
        )
    })?;
    check_signed(app, parts, body, &auth, &principal.signing_key).await?;
    if let Some(from) = principal.revoked_from
        && from <= OffsetDateTime::now_utc()
    {
        return Err(ApiError::new(
            403,
            "revoked",
            "this device was revoked by a coordinator",
        ));
    }
    if principal.role != role {
        return Err(ApiError::new(
            403,
            "wrong_role",
            match role {
                Role::Coordinator => "only a coordinator may do this",
                Role::Device => "only an enrolled field device may do this",
            },
        ));
    }
    app.metrics.requests.fetch_add(1, Ordering::Relaxed);
    Ok(principal)
}

/// Every signed endpoint starts the same way: read the body (at most
/// `limit` bytes) and authenticate its signer for `role`.
async fn signed_request(
    app: &Arc<App>,
    req: Request,
    limit: u64,
    role: Role,
) -> ApiResult<(Parts, ReadBody, Principal)> {
    let (parts, body) = req.into_parts();
    let body = read_body(app, body, &parts, limit).await?;
    let principal = authenticate(app, &parts, &body, role).await?;
    Ok((parts, body, principal))
}

fn refused(app: &App, e: ApiError) -> ApiError {
    app.metrics.refused.fetch_add(1, Ordering::Relaxed);
    e
}

macro_rules! guard {
    ($app:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Err(refused(&$app, e)),
        }
    };
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

// ---------------------------------------------------------------- handlers

async fn info(State(app): State<Arc<App>>) -> Response {
    ok_json(&ServerInfo {
        hq_id: app.hq_id.clone(),
        server_key: app.key.public_key_openssh("yaddash-hq"),
        server_fingerprint: app.key.fingerprint(),
        max_bundle_bytes: app.settings.max_bundle_bytes,
        max_chunk_bytes: app.settings.max_chunk_bytes,
    })
}

async fn health(State(app): State<Arc<App>>) -> ApiResult<Response> {
    let counts = app.db(|s| s.counts()).await?;
    Ok(ok_json(&serde_json::json!({
        "status": "ok",
        "backend": app.store.backend(),
        "counts": counts,
        "requests": app.metrics.requests.load(Ordering::Relaxed),
        "refused": app.metrics.refused.load(Ordering::Relaxed),
        "bundles_accepted": app.metrics.bundles_accepted.load(Ordering::Relaxed),
        "bytes_received": app.metrics.bytes_received.load(Ordering::Relaxed),
    })))
}

async fn enroll(State(app): State<Arc<App>>, req: Request) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    let body = guard!(
        app,
        read_body(&app, body, &parts, app.settings.max_json_bytes).await
    );
    let auth = guard!(app, parse_auth(&parts));
    let er: EnrollRequest = guard!(app, json(&body));
    let DeviceKeysPublic {
        device_id,
        signing_key,
        age_recipient,
    } = er.device;
    if auth.signer != device_id {
        return Err(refused(
            &app,
            ApiError::new(
                401,
                "bad_signature",
                "the enrollment must be signed by the enrolling device's own key",
            ),
        ));
    }
    if age_recipient.len() > 200 || !age_recipient.starts_with("age1") {
        return Err(refused(
            &app,
            ApiError::new(
                400,
                "bad_key",
                "the age recipient must be an age1... string",
            ),
        ));
    }
    // Proof of possession: the request is signed by the key being enrolled.
    guard!(
        app,
        check_signed(&app, &parts, &body, &auth, &signing_key).await
    );
    let code = guard!(
        app,
        EnrollCode::from_text(&er.code).ok_or_else(|| ApiError::new(
            400,
            "bad_code",
            "the enrollment code is not readable; copy the whole YDE1-... code"
        ))
    );
    if code.expires_at < now() {
        return Err(refused(
            &app,
            ApiError::new(
                403,
                "code_expired",
                "the enrollment code has expired; ask a coordinator for a new one",
            ),
        ));
    }
    let issuer = code.issuer;
    let coordinator = app.db(move |s| s.principal(issuer)).await?;
    let coordinator = guard!(
        app,
        coordinator
            .filter(|p| p.role == Role::Coordinator)
            .ok_or_else(|| ApiError::new(
                403,
                "bad_code",
                "the enrollment code was not issued by a coordinator of this headquarters"
            ))
    );
    let ckey = parse_signing_public_key(&coordinator.signing_key).map_err(ApiError::internal)?;
    guard!(
        app,
        code.verify(&ckey).map_err(|_| ApiError::new(
            403,
            "bad_code",
            "the enrollment code's signature does not verify; it was altered or forged"
        ))
    );
    let principal = Principal {
        id: device_id,
        role: Role::Device,
        signing_key: signing_key.trim().to_owned(),
        age_recipient,
        revoked_from: None,
    };
    let code_id = hex::encode(code.code_id);
    guard!(
        app,
        app.db(move |s| s.enroll(&code_id, &principal, now())).await
    );
    Ok(info(State(app)).await)
}

async fn revoke(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (_, body, _) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    let id: Uuid = guard!(
        app,
        id.parse()
            .map_err(|_| ApiError::new(400, "bad_id", "not a device id"))
    );
    let r: RevokeRequest = guard!(app, json(&body));
    let from = guard!(
        app,
        OffsetDateTime::parse(&r.from, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::new(400, "bad_time", "`from` must be an RFC 3339 time"))
    );
    app.db(move |s| s.revoke(id, from)).await?;
    Ok(ok_json(&serde_json::json!({"revoked": id})))
}

fn received_chunks(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    v.sort_unstable();
    v
}

async fn upload_init(State(app): State<Arc<App>>, req: Request) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    // Up to 100k chunk hashes.
    let body = guard!(app, read_body(&app, body, &parts, 8 << 20).await);
    let device = guard!(app, authenticate(&app, &parts, &body, Role::Device).await);
    let init: UploadInit = guard!(app, json(&body));
    let s = &app.settings;
    if init.size > s.max_bundle_bytes {
        return Err(refused(
            &app,
            ApiError::new(
                413,
                "bundle_too_large",
                format!(
                    "the bundle is {} bytes; this server accepts at most {}",
                    init.size, s.max_bundle_bytes
                ),
            ),
        ));
    }
    if init.size == 0 || init.chunk_size == 0 || init.chunk_size > s.max_chunk_bytes {
        return Err(refused(
            &app,
            ApiError::new(
                400,
                "bad_chunk_size",
                format!(
                    "chunk_size must be between 1 and {} bytes, and the bundle non-empty",
                    s.max_chunk_bytes
                ),
            ),
        ));
    }
    let expected_chunks = init.size.div_ceil(init.chunk_size);
    if init.chunks.len() as u64 != expected_chunks
        || !is_hex64(&init.sha256)
        || !init.chunks.iter().all(|c| is_hex64(c))
    {
        return Err(refused(
            &app,
            ApiError::new(
                400,
                "bad_upload",
                "the chunk list does not match size / chunk_size, or a hash is not 64 lowercase hex digits",
            ),
        ));
    }
    let file_sha = init.sha256.clone();
    if let Some(b) = app.db(move |st| st.bundle_by_file(&file_sha)).await? {
        let bid = b.bundle_id.clone();
        let receipt = app.db(move |st| st.bundle_receipt(&bid)).await?;
        return Ok(ok_json(&UploadStatus {
            upload_id: String::new(),
            received: vec![],
            receipt,
        }));
    }
    let mut h = Sha256::new();
    h.update(device.id.as_bytes());
    h.update(init.sha256.as_bytes());
    let upload_id = hex::encode(h.finalize());
    let dev = device.id;
    let uid = upload_id.clone();
    let existing = app.db(move |st| st.upload(&uid)).await?;
    if existing.is_none() {
        let open = app.db(move |st| st.uploads_of(dev)).await?;
        if open >= s.max_uploads_per_device {
            return Err(refused(
                &app,
                ApiError::new(
                    429,
                    "too_many_uploads",
                    format!("this device already has {open} unfinished uploads; finish them first"),
                ),
            ));
        }
        let used = app.db(move |st| st.device_usage(dev)).await?;
        if used.saturating_add(init.size) > s.device_quota_bytes {
            return Err(refused(
                &app,
                ApiError::new(
                    403,
                    "quota_exceeded",
                    "this device's bundles waiting at headquarters exceed its quota; wait until the coordinators collect them",
                ),
            ));
        }
    }
    let u = Upload {
        id: upload_id.clone(),
        device_id: device.id,
        size: init.size,
        sha256: init.sha256,
        chunk_size: init.chunk_size,
        chunks: init.chunks,
        created_at: now(),
    };
    let stored = app.db(move |st| st.upload_create(&u)).await?;
    if stored.chunks.len() as u64 != expected_chunks || stored.chunk_size != init.chunk_size {
        return Err(refused(
            &app,
            ApiError::new(
                409,
                "upload_conflict",
                "an upload of this bundle is already open with another chunk size",
            ),
        ));
    }
    let dir = app.upload_dir(&upload_id);
    let received = tokio::task::spawn_blocking(move || received_chunks(&dir))
        .await
        .map_err(ApiError::internal)?;
    Ok(ok_json(&UploadStatus {
        upload_id,
        received,
        receipt: None,
    }))
}

async fn own_upload(app: &Arc<App>, id: String, device: &Principal) -> ApiResult<Upload> {
    if !is_hex64(&id) {
        return Err(ApiError::new(404, "no_such_upload", "no such upload"));
    }
    let u = app.db(move |s| s.upload(&id)).await?;
    u.filter(|u| u.device_id == device.id).ok_or_else(|| {
        ApiError::new(
            404,
            "no_such_upload",
            "no such upload (it may have expired or been completed); start it again",
        )
    })
}

async fn upload_status(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, device) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Device).await
    );
    let u = guard!(app, own_upload(&app, id, &device).await);
    let dir = app.upload_dir(&u.id);
    let received = tokio::task::spawn_blocking(move || received_chunks(&dir))
        .await
        .map_err(ApiError::internal)?;
    Ok(ok_json(&UploadStatus {
        upload_id: u.id,
        received,
        receipt: None,
    }))
}

/// Writes a file durably: temp file, fsync, rename, fsync the directory.
fn write_durable(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{name}.{}",
        hex::encode(rand::random::<[u8; 6]>())
    ));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

async fn upload_chunk(
    State(app): State<Arc<App>>,
    UrlPath((id, index)): UrlPath<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    let (_, body, device) = guard!(
        app,
        signed_request(&app, req, app.settings.max_chunk_bytes, Role::Device).await
    );
    let u = guard!(app, own_upload(&app, id, &device).await);
    let index: u64 = guard!(
        app,
        index.parse().map_err(|_| ApiError::new(
            400,
            "bad_chunk_index",
            "the chunk index is not a number"
        ))
    );
    let Some(expected_hash) = usize::try_from(index).ok().and_then(|i| u.chunks.get(i)) else {
        return Err(refused(
            &app,
            ApiError::new(
                400,
                "bad_chunk_index",
                format!("this upload has {} chunks", u.chunks.len()),
            ),
        ));
    };
    let expected_len = if index + 1 == u.chunks.len() as u64 {
        u.size - index * u.chunk_size
    } else {
        u.chunk_size
    };
    if body.len() as u64 != expected_len {
        return Err(refused(
            &app,
            ApiError::new(
                422,
                "chunk_mismatch",
                format!(
                    "chunk {index} must be {expected_len} bytes, got {}",
                    body.len()
                ),
            ),
        ));
    }
    if body.hash.to_string() != *expected_hash {
        return Err(refused(
            &app,
            ApiError::new(
                422,
                "chunk_mismatch",
                format!(
                    "chunk {index} does not match its announced SHA-256; it was damaged in transit, send it again"
                ),
            ),
        ));
    }
    let dir = app.upload_dir(&u.id);
    tokio::task::spawn_blocking(move || write_durable(&dir, &index.to_string(), &body))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(ok_json(&serde_json::json!({"stored": index})))
}

/// Only the uploading device may be the sender of its bundle.
struct OnlySigner(Principal);

impl SenderDirectory for OnlySigner {
    fn lookup(&self, device_id: Uuid) -> Option<KnownSender> {
        (device_id == self.0.id).then(|| KnownSender {
            signing_key: self.0.signing_key.clone(),
            revoked_from: self.0.revoked_from,
        })
    }
}

enum Assembled {
    Missing(Vec<u64>),
    Ready { tmp: PathBuf, bundle_id: String },
}

/// Hashes what is read through it, as long as reads are sequential from the
/// start (seeking back to 0 restarts the hash).
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    pos: u64,
    hashed: u64,
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            pos: 0,
            hashed: 0,
        }
    }
    fn hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.pos == self.hashed {
            self.hasher.update(&buf[..n]);
            self.hashed += n as u64;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for HashingReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        if self.pos == 0 {
            self.hasher = Sha256::new();
            self.hashed = 0;
        }
        Ok(self.pos)
    }
}

/// Concatenates the chunks, checks the whole-file hash and the outer
/// signature, and fsyncs: all before anything is acknowledged.
fn assemble(app: &App, u: &Upload, device: &Principal) -> Result<Assembled, ApiError> {
    let dir = app.upload_dir(&u.id);
    let have = received_chunks(&dir);
    let missing: Vec<u64> = (0..u.chunks.len() as u64)
        .filter(|i| have.binary_search(i).is_err())
        .collect();
    if !missing.is_empty() {
        return Ok(Assembled::Missing(missing));
    }
    let tmp = app.dir.blobs().join(format!(".{}.partial", u.id));
    let chunk_ok = |i: usize| -> bool {
        File::open(dir.join(i.to_string()))
            .and_then(|mut f| {
                let mut h = Sha256::new();
                io::copy(&mut f, &mut h)?;
                Ok(hex::encode(h.finalize()) == u.chunks[i])
            })
            .unwrap_or(false)
    };
    if u.chunks.len() == 1 {
        // One chunk: it was checked and fsynced when it arrived; move it.
        fs::rename(dir.join("0"), &tmp).map_err(ApiError::internal)?;
    } else {
        let mut out = File::create(&tmp).map_err(ApiError::internal)?;
        for i in 0..u.chunks.len() {
            let mut f = File::open(dir.join(i.to_string())).map_err(ApiError::internal)?;
            io::copy(&mut f, &mut out).map_err(ApiError::internal)?;
        }
        out.sync_all().map_err(ApiError::internal)?;
    }
    // One pass: the outer signature check, and the whole-file SHA-256.
    let mut hashed = HashingReader::new(File::open(&tmp).map_err(ApiError::internal)?);
    let verified = verify_outer(
        &mut BufReader::with_capacity(1 << 20, &mut hashed),
        &OnlySigner(device.clone()),
    );
    let whole_hex = if hashed.hashed == u.size {
        hashed.hex()
    } else {
        // The check stopped early (a refused bundle): hash the rest the slow way.
        File::open(&tmp)
            .and_then(|mut f| {
                let mut h = Sha256::new();
                io::copy(&mut f, &mut h)?;
                Ok(hex::encode(h.finalize()))
            })
            .map_err(ApiError::internal)?
    };
    let whole_ok = whole_hex == u.sha256;
    if !whole_ok {
        let _ = fs::remove_file(&tmp);
        if u.chunks.len() == 1 {
            return Ok(Assembled::Missing(vec![0]));
        }
        // A chunk damaged on our disk since it arrived: drop it so the
        // client sends it again.
        let damaged: Vec<u64> = (0..u.chunks.len())
            .filter(|&i| !chunk_ok(i))
            .map(|i| i as u64)
            .collect();
        for i in &damaged {
            let _ = fs::remove_file(dir.join(i.to_string()));
        }
        if !damaged.is_empty() {
            return Ok(Assembled::Missing(damaged));
        }
    }
    let check = match verified {
        Ok(c) if whole_ok => c,
        Ok(_) => {
            return Err(ApiError::new(
                422,
                "bundle_hash_mismatch",
                "the chunks do not add up to the announced SHA-256 of the bundle",
            ));
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            let code = match e {
                yaddash_wire::ReadError::UnknownSender { .. } => "not_your_bundle",
                yaddash_wire::ReadError::OuterSignatureInvalid(_) => "bundle_signature_invalid",
                _ => "bundle_rejected",
            };
            return Err(ApiError::new(
                422,
                code,
                format!("the bundle was refused: {e}"),
            ));
        }
    };
    Ok(Assembled::Ready {
        tmp,
        bundle_id: check.outer.bundle_id.to_string(),
    })
}

async fn upload_complete(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, device) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Device).await
    );
    let u = guard!(app, own_upload(&app, id, &device).await);
    let _permit = app.completes.acquire().await.map_err(ApiError::internal)?;
    let a = Arc::clone(&app);
    let result = tokio::task::spawn_blocking(move || -> ApiResult<Response> {
        let (tmp, bundle_id) = match assemble(&a, &u, &device)? {
            Assembled::Missing(missing) => {
                return Err(ApiError::new(
                    409,
                    "upload_incomplete",
                    format!(
                        "{} chunks are missing (first: {}); send them and complete again",
                        missing.len(),
                        missing[0]
                    ),
                ));
            }
            Assembled::Ready { tmp, bundle_id } => (tmp, bundle_id),
        };
        let final_path = a.blob_path(&bundle_id);
        fs::rename(&tmp, &final_path).map_err(ApiError::internal)?;
        File::open(a.dir.blobs())
            .and_then(|d| d.sync_all())
            .map_err(ApiError::internal)?;
        let bid: Sha256Hash = bundle_id.parse().map_err(ApiError::internal)?;
        let receipt = Receipt::new(
            ReceiptKind::HqReceived,
            bid,
            device.id,
            0,
            vec![],
            OffsetDateTime::now_utc(),
            &a.key,
        );
        let text = sign_receipt(&receipt, &a.key).map_err(ApiError::internal)?;
        let row = BundleRow {
            seq: 0,
            bundle_id: bundle_id.clone(),
            file_sha256: u.sha256.clone(),
            device_id: device.id,
            size: u.size,
            received_at: now(),
            acked_at: None,
        };
        let earlier = a.store.bundle_accept(&row, &text).map_err(ApiError::from)?;
        if earlier.is_none() {
            a.metrics.bundles_accepted.fetch_add(1, Ordering::Relaxed);
        }
        let receipt = earlier.unwrap_or(text);
        a.store.upload_delete(&u.id).map_err(ApiError::from)?;
        let _ = fs::remove_dir_all(a.upload_dir(&u.id));
        Ok(ok_json(&Accepted { bundle_id, receipt }))
    })
    .await
    .map_err(ApiError::internal)?;
    result.map_err(|e| refused(&app, e))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
    #[serde(default)]
    limit: Option<u32>,
}

async fn receipts_get(
    State(app): State<Arc<App>>,
    Query(q): Query<After>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, device) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Device).await
    );
    let after = q.after;
    let receipts = app.db(move |s| s.receipts(device.id, after)).await?;
    Ok(ok_json(&ReceiptList { receipts }))
}

async fn receipts_post(State(app): State<Arc<App>>, req: Request) -> ApiResult<Response> {
    let (_, body, coordinator) = guard!(
        app,
        signed_request(&app, req, 16 << 20, Role::Coordinator).await
    );
    let post: ReceiptPost = guard!(app, json(&body));
    let mut checked = Vec::new();
    for text in post.receipts {
        let r = guard!(
            app,
            verify_receipt(&text, &coordinator.signing_key).map_err(|e| ApiError::new(
                422,
                "bad_receipt",
                format!("a receipt was refused: {e}")
            ))
        );
        if r.kind != ReceiptKind::CoordinatorImported {
            return Err(refused(
                &app,
                ApiError::new(
                    422,
                    "bad_receipt",
                    "only coordinator-imported receipts can be posted",
                ),
            ));
        }
        checked.push((r.device_id, text));
    }
    let n = checked.len();
    app.db(move |s| {
        let at = now();
        for (device, text) in &checked {
            s.receipt_add(*device, text, at)?;
        }
        Ok(())
    })
    .await?;
    Ok(ok_json(&serde_json::json!({"stored": n})))
}

async fn bundles_list(
    State(app): State<Arc<App>>,
    Query(q): Query<After>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, _) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    let (after, limit) = (q.after, q.limit.unwrap_or(500).clamp(1, 5000));
    let rows = app.db(move |s| s.bundles_pending(after, limit)).await?;
    let bundles = rows
        .into_iter()
        .map(|r| BundleInfo {
            seq: r.seq,
            bundle_id: r.bundle_id,
            file_sha256: r.file_sha256,
            device_id: r.device_id,
            size: r.size,
            received_at: r.received_at,
        })
        .collect();
    Ok(ok_json(&BundleList { bundles }))
}

/// Streams a file range as a response body without holding it in memory.
struct FileBody {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|o| o.map(|r| r.map(http_body::Frame::data)))
    }
}

fn parse_range(h: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(v) = h else { return Ok(None) };
    let spec = v.strip_prefix("bytes=").ok_or(())?;
    let (a, b) = spec.split_once('-').ok_or(())?;
    let start: u64 = a.trim().parse().map_err(|_| ())?;
    let end: u64 = if b.trim().is_empty() {
        len.saturating_sub(1)
    } else {
        b.trim().parse().map_err(|_| ())?
    };
    if start >= len || end < start {
        return Err(());
    }
    Ok(Some((start, end.min(len.saturating_sub(1)))))
}

async fn bundle_download(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (parts, _, _) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    if !is_hex64(&id) {
        return Err(ApiError::new(404, "no_such_bundle", "no such bundle"));
    }
    let row = app
        .db({
            let id = id.clone();
            move |s| s.bundle(&id)
        })
        .await?;
    let row = guard!(
        app,
        row.ok_or_else(|| ApiError::new(
            404,
            "no_such_bundle",
            "no such bundle (it may have been deleted after acknowledgement)"
        ))
    );
    let path = app.blob_path(&row.bundle_id);
    let len = tokio::fs::metadata(&path)
        .await
        .map_err(ApiError::internal)?
        .len();
    let range = guard!(
        app,
        parse_range(header_str(&parts.headers, header::RANGE.as_str()), len).map_err(|_| {
            ApiError::new(
                416,
                "bad_range",
                format!("the requested range is not satisfiable (the bundle is {len} bytes)"),
            )
        })
    );
    let (start, end) = range.unwrap_or((0, len.saturating_sub(1)));
    let count = if len == 0 { 0 } else { end - start + 1 };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let run = || -> io::Result<()> {
            let mut f = File::open(&path)?;
            f.seek(SeekFrom::Start(start))?;
            let mut left = count;
            while left > 0 {
                let mut buf = vec![0u8; left.min(1 << 16) as usize];
                f.read_exact(&mut buf)?;
                left -= buf.len() as u64;
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        };
        if let Err(e) = run() {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let mut resp = Response::new(Body::new(FileBody { rx }));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::ACCEPT_RANGES,
        header::HeaderValue::from_static("bytes"),
    );
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(count));
    if range.is_some() {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = header::HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

async fn bundle_ack(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, _) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    if !is_hex64(&id) {
        return Err(ApiError::new(404, "no_such_bundle", "no such bundle"));
    }
    let bid = id.clone();
    guard!(app, app.db(move |s| s.bundle_ack(&bid, now())).await);
    Ok(ok_json(&serde_json::json!({"acknowledged": id})))
}
