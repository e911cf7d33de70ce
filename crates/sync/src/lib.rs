//! The HQ client: enrollment, resumable uploads, receipts, and the
//! coordinators' pull. Used by the CLI (and later the desktop app).
//!
//! Every request is signed with the device's Ed25519 key
//! ([`yaddash_wire::request`]). Uploads are resumable: a bundle is announced
//! with the SHA-256 of each chunk, chunks are sent with idempotent PUTs, and
//! after a dropped connection the client asks which chunks the server holds
//! and sends only the rest. Transient failures are retried with backoff.
//!
//! All HTTP goes through [`http_client`], the one place where the route is
//! set: direct, or through a SOCKS5 proxy (Tor) with names resolved by the
//! proxy. With a proxy there is no fallback: if the proxy is down, requests
//! fail and nothing is tried directly. A shared cancel flag (the kill switch,
//! Ctrl-C, the app's Cancel button) stops a transfer between two reads of a
//! request body.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::{Client as Http, RequestBuilder, Response};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use yaddash_wire::SigningKey;
use yaddash_wire::policy::Route;

pub mod ids;
pub mod socks;
use yaddash_wire::hq::{
    Accepted, BundleInfo, BundleList, DeviceKeysPublic, EnrollRequest, ErrorBody, ReceiptList,
    ReceiptPost, RevokeRequest, ServerInfo, UploadInit, UploadStatus,
};
use yaddash_wire::request::{
    HEADER_NONCE, HEADER_SIGNATURE, HEADER_SIGNER, HEADER_TIME, sign_request_hashed,
};

/// What went wrong talking to the server.
#[derive(Debug)]
#[non_exhaustive]
pub enum SyncError {
    /// The connection failed or timed out (retryable).
    Transport(String),
    /// The server refused the request.
    Server {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// A local file could not be read or written.
    Io(io::Error),
    /// The server answered something unexpected.
    Protocol(String),
    /// The URL is not usable.
    BadUrl(String),
    /// The SOCKS5 proxy cannot be reached: nothing was sent, nothing was
    /// tried directly.
    ProxyDown {
        /// The proxy URL.
        proxy: String,
        /// Why.
        reason: String,
    },
    /// Stopped by the user (Ctrl-C, Cancel, the kill switch).
    Cancelled,
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => write!(
                f,
                "cannot reach the HQ server: {e}; check the URL and the network, then retry"
            ),
            Self::Server {
                status,
                code,
                message,
            } => write!(f, "the HQ server refused ({status} {code}): {message}"),
            Self::Io(e) => write!(f, "local file error: {e}"),
            Self::Protocol(e) => write!(f, "unexpected answer from the HQ server: {e}"),
            Self::BadUrl(e) => write!(f, "the HQ server URL is not usable: {e}"),
            Self::ProxyDown { proxy, reason } => write!(
                f,
                "the proxy {proxy} is not reachable ({reason}): nothing was sent and nothing was tried directly; start Tor (or Tor Browser) and retry"
            ),
            Self::Cancelled => write!(
                f,
                "stopped: what the server already holds is kept, and the next sync resumes from there"
            ),
        }
    }
}

impl std::error::Error for SyncError {}

impl From<io::Error> for SyncError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl SyncError {
    /// Whether retrying the same request may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Server { status, code, .. } => {
                *status >= 500
                    || *status == 408
                    || *status == 429
                    || code == "upload_incomplete"
                    || code == "replayed"
            }
            _ => false,
        }
    }
}

/// Result alias.
pub type SyncResult<T> = Result<T, SyncError>;

/// Builds the HTTP client: the one place where transport settings live.
/// System proxy variables are ignored (`HTTP_PROXY`, `ALL_PROXY`...): only
/// the safety policy decides the route, and a proxy route is carried out by
/// [`Client`] through a [`socks::Bridge`], never by this client connecting
/// anywhere but the bridge (a Unix socket only this user can reach).
pub fn http_client(timeout: Duration) -> SyncResult<Http> {
    transport(Http::builder(), timeout)
}

/// The transport settings every client shares.
fn transport(builder: reqwest::blocking::ClientBuilder, timeout: Duration) -> SyncResult<Http> {
    // Where reqwest is built with rustls but no provider (feature unification
    // with the HQ server's S3 client), building a client panics without one.
    // Already installed is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    builder
        .connect_timeout(Duration::from_secs(30))
        .timeout(timeout)
        .no_proxy()
        // Never follow a redirect: it could send the client to another
        // host, directly and with a local DNS lookup, around the proxy.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("yaddash")
        .build()
        .map_err(|e| SyncError::Transport(e.to_string()))
}

/// Checks that the SOCKS5 proxy at `url` accepts a connection (and speaks
/// SOCKS5 without authentication), without asking it to connect anywhere.
pub fn check_proxy(url: &str) -> SyncResult<()> {
    let down = |reason: String| SyncError::ProxyDown {
        proxy: url.to_owned(),
        reason,
    };
    let norm =
        yaddash_wire::policy::normalise_proxy(url).map_err(|e| SyncError::BadUrl(e.to_string()))?;
    let hostport = norm.trim_start_matches("socks5h://");
    let addrs: Vec<_> = hostport
        .to_socket_addrs()
        .map_err(|e| down(e.to_string()))?
        .collect();
    let mut last = String::from("no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
            Ok(mut s) => {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
                // Greeting: version 5, one method, "no authentication".
                s.write_all(&[5, 1, 0]).map_err(|e| down(e.to_string()))?;
                let mut reply = [0u8; 2];
                s.read_exact(&mut reply)
                    .map_err(|e| down(format!("no SOCKS5 answer: {e}")))?;
                if reply != [5, 0] {
                    return Err(down("it does not speak SOCKS5 without a password".into()));
                }
                return Ok(());
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(down(last))
}

/// A request body that stops being read once `cancel` is set.
struct CancelBody {
    data: Vec<u8>,
    pos: usize,
    cancel: Arc<AtomicBool>,
}

impl Read for CancelBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::SeqCst) {
            // Not `Interrupted`: readers retry on that, and would spin.
            return Err(io::Error::other("cancelled"));
        }
        let n = buf.len().min(self.data.len() - self.pos).min(16 * 1024);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A signing client for one HQ server.
pub struct Client {
    http: Http,
    base: reqwest::Url,
    signer: Uuid,
    key: SigningKey,
    route: Route,
    cancel: Arc<AtomicBool>,
    /// For http:// (direct or through the proxy): the local bridge every
    /// connection goes to (and, where it is a TCP port, its URL).
    bridge: Option<Bridged>,
    /// Chunk size for uploads (clamped to the server's limit).
    pub chunk_size: u64,
    /// Attempts per request before giving up on transient errors.
    pub attempts: u32,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("signer", &self.signer)
            .field("proxied", &matches!(self.route, Route::Proxy { .. }))
            .finish_non_exhaustive()
    }
}

/// A client's way through its [`socks::Bridge`].
struct Bridged {
    bridge: socks::Bridge,
    /// Where requests are addressed: on Unix the server's own URL (the
    /// client connects only to the bridge's socket, whatever the URL says);
    /// elsewhere the bridge's loopback port, with the server's `host:port`
    /// as the Host header.
    #[cfg(not(unix))]
    local: (reqwest::Url, String),
}

/// Largest JSON answer accepted from the server.
const MAX_JSON_RESPONSE: u64 = 16 << 20;

/// Most chunks announced for one upload (keeps the chunk list small).
const MAX_CHUNKS: u64 = 12_000;

fn backoff(attempt: u32) -> Duration {
    let ms = 100u64.saturating_mul(1 << attempt.min(6)).min(3000);
    let jitter = rand::random::<u64>() % (ms / 2 + 1);
    Duration::from_millis(ms / 2 + jitter)
}

impl Client {
    /// A direct client for the server at `url` (e.g. `http://127.0.0.1:8440`),
    /// signing as `signer` with `key`.
    pub fn new(url: &str, signer: Uuid, key: &SigningKey) -> SyncResult<Self> {
        Self::with_route(url, signer, key, &Route::Direct, Arc::default())
    }

    /// A client using `route`, stopping when `cancel` is set. With a proxy,
    /// the proxy is checked first ([`check_proxy`]): if it is down this
    /// fails with [`SyncError::ProxyDown`] before any connection to the
    /// server is attempted.
    pub fn with_route(
        url: &str,
        signer: Uuid,
        key: &SigningKey,
        route: &Route,
        cancel: Arc<AtomicBool>,
    ) -> SyncResult<Self> {
        let mut base =
            reqwest::Url::parse(url.trim()).map_err(|e| SyncError::BadUrl(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SyncError::BadUrl("use http:// or https://".into()));
        }
        base.set_path("/");
        let upstream = match route {
            Route::Proxy { url } => {
                if base.scheme() != "http" {
                    return Err(SyncError::BadUrl(
                        "through a proxy, use the server's http:// address (an onion service encrypts end to end); https through a proxy is not supported yet".into(),
                    ));
                }
                check_proxy(url)?;
                let proxy = yaddash_wire::policy::normalise_proxy(url)
                    .map_err(|e| SyncError::BadUrl(e.to_string()))?;
                Some(socks::Upstream::Socks(
                    proxy.trim_start_matches("socks5h://").to_owned(),
                ))
            }
            // https goes straight (TLS needs the real host name); http goes
            // through a direct bridge so that Cancel cuts even a request
            // that waits for an answer.
            Route::Direct if base.scheme() == "http" => Some(socks::Upstream::Direct),
            Route::Direct => None,
        };
        let (bridge, http) = match upstream {
            None => (None, http_client(Duration::from_secs(300))?),
            Some(upstream) => {
                let host = base
                    .host_str()
                    .ok_or_else(|| SyncError::BadUrl("the URL has no host".into()))?
                    .to_owned();
                let port = base.port_or_known_default().unwrap_or(80);
                let bridge = socks::Bridge::start(upstream, &host, port, Arc::clone(&cancel))?;
                #[cfg(unix)]
                let (bridged, http) = {
                    let http = transport(
                        Http::builder().unix_socket(bridge.endpoint.path.as_path()),
                        Duration::from_secs(300),
                    )?;
                    (Bridged { bridge }, http)
                };
                #[cfg(not(unix))]
                let (bridged, http) = {
                    let url = reqwest::Url::parse(&format!("http://{}/", bridge.endpoint.addr))
                        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
                    let authority = match base.port() {
                        Some(p) => format!("{host}:{p}"),
                        None => host,
                    };
                    let http = http_client(Duration::from_secs(300))?;
                    (
                        Bridged {
                            bridge,
                            local: (url, authority),
                        },
                        http,
                    )
                };
                (Some(bridged), http)
            }
        };
        Ok(Self {
            http,
            bridge,
            base,
            signer,
            key: key.clone(),
            route: route.clone(),
            cancel,
            chunk_size: 8 << 20,
            attempts: 8,
        })
    }

    /// Reads a JSON answer, refusing one larger than [`MAX_JSON_RESPONSE`]
    /// (a hostile server must not exhaust memory).
    fn read_json_body(&self, resp: Response) -> SyncResult<Vec<u8>> {
        let mut buf = Vec::new();
        resp.take(MAX_JSON_RESPONSE + 1)
            .read_to_end(&mut buf)
            .map_err(|e| {
                if self.cancel.load(Ordering::SeqCst) {
                    SyncError::Cancelled
                } else {
                    SyncError::Transport(e.to_string())
                }
            })?;
        if buf.len() as u64 > MAX_JSON_RESPONSE {
            return Err(SyncError::Protocol(
                "the server's answer is too large".into(),
            ));
        }
        Ok(buf)
    }

    /// A request to `url` (with the server's Host where the bridge is a
    /// loopback port).
    fn request(&self, method: Method, url: reqwest::Url) -> RequestBuilder {
        let r = self.http.request(method, url);
        #[cfg(not(unix))]
        if let Some(b) = &self.bridge {
            return r.header(reqwest::header::HOST, b.local.1.as_str());
        }
        r
    }

    /// Whether the user stopped this client.
    fn stopped(&self) -> SyncResult<()> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(SyncError::Cancelled);
        }
        Ok(())
    }

    /// A transport error, said in terms of the route.
    fn transport(&self, e: reqwest::Error) -> SyncError {
        if self.cancel.load(Ordering::SeqCst) {
            return SyncError::Cancelled;
        }
        if let Some(b) = &self.bridge {
            match (b.bridge.take_error(), &self.route) {
                (Some(socks::TunnelError::ProxyDown(reason)), Route::Proxy { url }) => {
                    return SyncError::ProxyDown {
                        proxy: url.clone(),
                        reason,
                    };
                }
                (Some(socks::TunnelError::Refused(m)), _) => return SyncError::Transport(m),
                _ => {}
            }
        }
        match &self.route {
            Route::Proxy { url } if e.is_connect() => {
                // The proxy itself, or the proxy's way to the server.
                match check_proxy(url) {
                    Err(down) => down,
                    Ok(()) => SyncError::Transport(format!(
                        "through the proxy {url}, the server did not answer: {}",
                        chain(&e)
                    )),
                }
            }
            _ => SyncError::Transport(chain(&e)),
        }
    }

    fn url(&self, path_and_query: &str) -> SyncResult<reqwest::Url> {
        #[cfg(not(unix))]
        let base = match &self.bridge {
            Some(b) => &b.local.0,
            None => &self.base,
        };
        #[cfg(unix)]
        let base = &self.base;
        base.join(path_and_query.trim_start_matches('/'))
            .map_err(|e| SyncError::BadUrl(e.to_string()))
    }

    fn signed(
        &self,
        method: Method,
        path_and_query: &str,
        body: Vec<u8>,
        known_hash: Option<yaddash_wire::Sha256Hash>,
    ) -> SyncResult<RequestBuilder> {
        let url = self.url(path_and_query)?;
        let pq = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let hash = known_hash.unwrap_or_else(|| yaddash_wire::Sha256Hash::digest(&body));
        let len = body.len() as u64;
        let auth = sign_request_hashed(&self.key, self.signer, method.as_str(), &pq, &hash)
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(self
            .request(method, url)
            .header(HEADER_SIGNER, auth.signer.to_string())
            .header(HEADER_TIME, auth.time.to_string())
            .header(HEADER_NONCE, auth.nonce)
            .header(HEADER_SIGNATURE, auth.signature)
            .body(reqwest::blocking::Body::sized(
                CancelBody {
                    pos: 0,
                    cancel: Arc::clone(&self.cancel),
                    data: body,
                },
                len,
            )))
    }

    fn check(resp: Response) -> SyncResult<Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let mut raw = Vec::new();
        let _ = resp.take(64 * 1024).read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        let err: ErrorBody = serde_json::from_str(&text).unwrap_or(ErrorBody {
            code: "http_error".into(),
            message: format!("HTTP {status}"),
        });
        // Shown to the user: no control characters (terminal escapes) from a
        // hostile server, and not a novel.
        let clean = |t: &str, n: usize| -> String {
            t.chars().filter(|c| !c.is_control()).take(n).collect()
        };
        Err(SyncError::Server {
            status: status.as_u16(),
            code: clean(&err.code, 64),
            message: clean(&err.message, 500),
        })
    }

    fn send_once(
        &self,
        method: Method,
        pq: &str,
        body: &[u8],
        hash: Option<yaddash_wire::Sha256Hash>,
    ) -> SyncResult<Response> {
        self.stopped()?;
        let req = self.signed(method, pq, body.to_vec(), hash)?;
        let resp = req.send().map_err(|e| self.transport(e))?;
        Self::check(resp)
    }

    /// Sends a signed request, retrying transient failures (each attempt is
    /// signed afresh, with a new nonce).
    fn send(&self, method: Method, pq: &str, body: &[u8]) -> SyncResult<Response> {
        self.send_hashed(method, pq, body, None)
    }

    /// [`Self::send`] with the body's SHA-256 already known.
    fn send_hashed(
        &self,
        method: Method,
        pq: &str,
        body: &[u8],
        hash: Option<yaddash_wire::Sha256Hash>,
    ) -> SyncResult<Response> {
        let mut attempt = 0;
        loop {
            match self.send_once(method.clone(), pq, body, hash) {
                Err(e) if e.is_transient() && attempt + 1 < self.attempts => {
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        pq: &str,
        body: &[u8],
    ) -> SyncResult<T> {
        let mut attempt = 0;
        loop {
            let r = self
                .send(method.clone(), pq, body)
                .and_then(|resp| self.read_json_body(resp));
            match r {
                Ok(bytes) => {
                    return serde_json::from_slice(&bytes)
                        .map_err(|e| SyncError::Protocol(format!("bad JSON: {e}")));
                }
                Err(e) if e.is_transient() && attempt + 1 < self.attempts => {
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `GET /v1/info` (unsigned).
    pub fn info(&self) -> SyncResult<ServerInfo> {
        self.stopped()?;
        let resp = self
            .request(Method::GET, self.url("/v1/info")?)
            .send()
            .map_err(|e| self.transport(e))?;
        let body = self.read_json_body(Self::check(resp)?)?;
        serde_json::from_slice(&body).map_err(|e| SyncError::Protocol(format!("bad JSON: {e}")))
    }

    /// Registers this device with a one-time code from a coordinator.
    pub fn enroll(&self, code: &str, device: DeviceKeysPublic) -> SyncResult<ServerInfo> {
        let body = serde_json::to_vec(&EnrollRequest {
            code: code.trim().to_owned(),
            device,
        })
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
        self.json(Method::POST, "/v1/enroll", &body)
    }

    /// Uploads one bundle file, resuming where an earlier attempt stopped,
    /// and returns the server's signed hq-received receipt. `progress` gets
    /// (bytes sent, total).
    pub fn upload_bundle(
        &self,
        path: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> SyncResult<Accepted> {
        let info_max = self
            .info()
            .map(|i| i.max_chunk_bytes)
            .unwrap_or(self.chunk_size);
        let mut file = File::open(path)?;
        let size = file.metadata()?.len();
        // Small chunks bound what a dropped connection costs, but the chunk
        // list must stay well under the server's JSON limit (1 MiB: about
        // 15,000 hashes), so very large bundles get larger chunks.
        let floor = size.div_ceil(MAX_CHUNKS).next_multiple_of(4096);
        let chunk_size = self.chunk_size.max(floor).min(info_max).max(1);
        let mut whole = Sha256::new();
        let mut chunks = Vec::new();
        let mut buf = vec![0u8; usize::try_from(chunk_size).unwrap_or(1 << 20)];
        loop {
            let n = read_full(&mut file, &mut buf)?;
            if n == 0 {
                break;
            }
            whole.update(&buf[..n]);
            chunks.push(hex::encode(Sha256::digest(&buf[..n])));
        }
        let init = UploadInit {
            size,
            sha256: hex::encode(whole.finalize()),
            chunk_size,
            chunks,
        };
        let init_body =
            serde_json::to_vec(&init).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let mut rounds = 0;
        loop {
            let status: UploadStatus = self.json(Method::POST, "/v1/uploads", &init_body)?;
            if let Some(receipt) = status.receipt {
                let bundle_id = receipt_bundle_id(&receipt)?;
                ids::bundle_id(&bundle_id)?;
                progress(size, size);
                return Ok(Accepted { bundle_id, receipt });
            }
            ids::upload_id(&status.upload_id)?;
            let mut sent: u64 = status.received.len() as u64 * chunk_size;
            progress(sent.min(size), size);
            for i in 0..init.chunks.len() as u64 {
                if status.received.binary_search(&i).is_ok() {
                    continue;
                }
                file.seek(SeekFrom::Start(i * chunk_size))?;
                let n = read_full(&mut file, &mut buf)?;
                let pq = format!("/v1/uploads/{}/chunks/{i}", status.upload_id);
                let hash = init.chunks[i as usize].parse().ok();
                self.send_hashed(Method::PUT, &pq, &buf[..n], hash)?;
                sent += n as u64;
                progress(sent.min(size), size);
            }
            let pq = format!("/v1/uploads/{}/complete", status.upload_id);
            match self.json::<Accepted>(Method::POST, &pq, b"") {
                Ok(a) => {
                    ids::bundle_id(&a.bundle_id)?;
                    return Ok(a);
                }
                // The server lost or refused a chunk: ask again what it holds.
                Err(SyncError::Server { code, .. })
                    if (code == "upload_incomplete" || code == "no_such_upload") && rounds < 5 =>
                {
                    rounds += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Receipts for this device after cursor `after`.
    pub fn receipts(&self, after: i64) -> SyncResult<ReceiptList> {
        self.json(Method::GET, &format!("/v1/receipts?after={after}"), b"")
    }

    /// Coordinator: bundles waiting, after cursor `after`.
    /// Every listed id is checked ([`ids::bundle_info`]): a listing with a
    /// malformed one is refused whole.
    pub fn list_bundles(&self, after: i64) -> SyncResult<BundleList> {
        let list: BundleList =
            self.json(Method::GET, &format!("/v1/bundles?after={after}"), b"")?;
        list.bundles.iter().try_for_each(ids::bundle_info)?;
        Ok(list)
    }

    /// Coordinator: downloads a bundle to `dest`, resuming a partial
    /// `dest.partial` with HTTP ranges, and checks its SHA-256.
    pub fn download_bundle(&self, b: &BundleInfo, dest: &Path) -> SyncResult<()> {
        ids::bundle_info(b)?;
        let partial = dest.with_extension("partial");
        let pq = format!("/v1/bundles/{}", b.bundle_id);
        let mut attempt = 0;
        loop {
            let have = fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
            if have > b.size {
                fs::remove_file(&partial)?;
                continue;
            }
            let result = (|| -> SyncResult<()> {
                if have < b.size {
                    let mut req = self.signed(Method::GET, &pq, Vec::new(), None)?;
                    if have > 0 {
                        req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
                    }
                    self.stopped()?;
                    let mut resp = req.send().map_err(|e| self.transport(e))?;
                    resp = Self::check(resp)?;
                    if have > 0 && resp.status().as_u16() != 206 {
                        return Err(SyncError::Protocol(
                            "the server ignored the range request".into(),
                        ));
                    }
                    let mut out = fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&partial)?;
                    io::copy(&mut resp, &mut out).map_err(|e| {
                        if self.cancel.load(Ordering::SeqCst) {
                            SyncError::Cancelled
                        } else {
                            SyncError::Transport(e.to_string())
                        }
                    })?;
                    out.sync_all()?;
                }
                let mut f = File::open(&partial)?;
                let mut h = Sha256::new();
                io::copy(&mut f, &mut h)?;
                if hex::encode(h.finalize()) != b.file_sha256 {
                    fs::remove_file(&partial)?;
                    return Err(SyncError::Protocol(
                        "the downloaded bundle does not match its SHA-256; downloading again"
                            .into(),
                    ));
                }
                fs::rename(&partial, dest)?;
                Ok(())
            })();
            match result {
                Ok(()) => return Ok(()),
                Err(e)
                    if (e.is_transient() || matches!(e, SyncError::Protocol(_)))
                        && attempt + 1 < self.attempts =>
                {
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Coordinator: acknowledges an imported bundle.
    pub fn ack(&self, bundle_id: &str) -> SyncResult<()> {
        ids::bundle_id(bundle_id)?;
        self.send(Method::POST, &format!("/v1/bundles/{bundle_id}/ack"), b"")?;
        Ok(())
    }

    /// Coordinator: posts signed import receipts for devices to fetch.
    pub fn post_receipts(&self, receipts: Vec<String>) -> SyncResult<()> {
        let body = serde_json::to_vec(&ReceiptPost { receipts })
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        self.send(Method::POST, "/v1/receipts", &body)?;
        Ok(())
    }

    /// Coordinator: revokes a device from `from` (RFC 3339). Returns the id
    /// of the last bundle the server had accepted from the device when it
    /// revoked it, when the server's answer names one (`last_bundle`; older
    /// servers answer without it), checked like every server-supplied id.
    pub fn revoke(&self, device: Uuid, from: &str) -> SyncResult<Option<String>> {
        let body = serde_json::to_vec(&RevokeRequest {
            from: from.to_owned(),
        })
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
        let answer: serde_json::Value =
            self.json(Method::POST, &format!("/v1/devices/{device}/revoke"), &body)?;
        match answer
            .get("last_bundle")
            .and_then(|b| b.get("bundle_id"))
            .and_then(|v| v.as_str())
        {
            Some(id) => Ok(Some(ids::bundle_id(id)?.to_owned())),
            None => Ok(None),
        }
    }
}

/// An error with its causes ("error sending request: connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn receipt_bundle_id(receipt: &str) -> SyncResult<String> {
    let line = receipt.lines().next().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line)
        .map_err(|_| SyncError::Protocol("the receipt is not readable".into()))?;
    v.get("bundle_id")
        .and_then(|b| b.as_str())
        .map(str::to_owned)
        .ok_or_else(|| SyncError::Protocol("the receipt names no bundle".into()))
}
