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
