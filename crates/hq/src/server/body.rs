//! Reading request bodies within limits, and JSON in and out.

use super::*;

/// A request body and its SHA-256 (computed once: the signature covers it
/// and chunk checks reuse it).
pub(crate) struct ReadBody {
    pub(crate) bytes: Bytes,
    pub(crate) hash: Sha256Hash,
}

impl std::ops::Deref for ReadBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

pub(crate) async fn read_body(
    app: &App,
    body: Body,
    parts: &Parts,
    limit: u64,
) -> ApiResult<ReadBody> {
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

/// A request body received into a staging file (`DATA/tmp`), not yet
/// fsynced: the blob store flushes it when it takes it. Deleted on drop
/// unless handed over.
pub(crate) struct Spooled {
    pub(crate) path: tempfile::TempPath,
    pub(crate) len: u64,
    pub(crate) hash: Sha256Hash,
}

/// Streams a request body (at most `limit` bytes) into a staging file,
/// hashing it on the way: the body is never held in memory whole.
///
/// Frames (at most one 32 KiB connection buffer each) are held until they
/// add up to [`SPOOL_BATCH`] bytes, then hashed and written on a blocking
/// thread before more is read: one hop to the blocking pool per batch, not
/// per frame (a gigabyte was 33,000 hops), and a connection holds one batch
/// at a time, so memory stays flat however many devices upload at once (the
/// kernel's socket buffer keeps the network side moving meanwhile).
pub(crate) async fn spool_body(
    app: &App,
    mut body: Body,
    parts: &Parts,
    limit: u64,
) -> ApiResult<Spooled> {
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit
    {
        return Err(too_large(limit));
    }
    let (file, path) = tempfile::Builder::new()
        .prefix(".body")
        .tempfile_in(app.dir.tmp())
        .map_err(ApiError::internal)?
        .into_parts();
    let file = Arc::new(file);
    let mut hasher = Some(Sha256::new());
    // Frames held until they add up to a batch: the frames themselves
    // (reference-counted), not a copy, so a connection holds no more than
    // a batch and the frame that completes it.
    let mut pending: Vec<Bytes> = Vec::new();
    let mut pending_len = 0usize;
    let mut len = 0u64;
    let timeout = Duration::from_secs(app.settings.body_timeout_secs.max(1));
    let receive = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| {
                ApiError::new(400, "body_unreadable", "the request body could not be read")
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            len += data.len() as u64;
            if len > limit {
                return Err(too_large(limit));
            }
            pending_len += data.len();
            pending.push(data);
            if pending_len >= SPOOL_BATCH {
                spool(&file, &mut hasher, std::mem::take(&mut pending)).await?;
                pending_len = 0;
            }
        }
        if !pending.is_empty() {
            spool(&file, &mut hasher, pending).await?;
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, receive).await {
        Err(_) => {
            return Err(ApiError::new(
                408,
                "body_timeout",
                format!(
                    "the request body was not received within {} seconds",
                    timeout.as_secs()
                ),
            ));
        }
        Ok(r) => r?,
    }
    let hasher = hasher.ok_or_else(|| ApiError::internal("hasher"))?;
    app.metrics.bytes_received.fetch_add(len, Ordering::Relaxed);
    Ok(Spooled {
        path,
        len,
        hash: Sha256Hash(hasher.finalize().into()),
    })
}

/// Bytes of a request body gathered before they are hashed and written.
const SPOOL_BATCH: usize = 64 * 1024;

/// Hashes and writes a batch of frames on a blocking thread.
async fn spool(
    file: &Arc<std::fs::File>,
    hasher: &mut Option<Sha256>,
    batch: Vec<Bytes>,
) -> ApiResult<()> {
    let f = Arc::clone(file);
    let mut h = hasher.take().ok_or_else(|| ApiError::internal("hasher"))?;
    let h = tokio::task::spawn_blocking(move || -> io::Result<Sha256> {
        for frame in &batch {
            h.update(frame);
            (&*f).write_all(frame)?;
        }
        Ok(h)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    *hasher = Some(h);
    Ok(())
}

pub(crate) fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        413,
        "body_too_large",
        format!("the request body is larger than the {limit}-byte limit"),
    )
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
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

pub(crate) fn ok_json<T: serde::Serialize>(v: &T) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
