//! `GET /v1/info`, `GET /v1/health` (unsigned).

use crate::server::*;

pub(crate) async fn info(State(app): State<Arc<App>>) -> Response {
    ok_json(&ServerInfo {
        hq_id: app.hq_id.clone(),
        server_key: app.key.public_key_openssh("yaddash-hq"),
        server_fingerprint: app.key.fingerprint(),
        max_bundle_bytes: app.settings.max_bundle_bytes,
        max_chunk_bytes: app.settings.max_chunk_bytes,
    })
}

pub(crate) async fn health(State(app): State<Arc<App>>) -> ApiResult<Response> {
    let counts = app.db(|s| s.counts()).await?;
    let rate_entries = app.rate.entries(&app).await?;
    Ok(ok_json(&serde_json::json!({
        "status": "ok",
        "backend": app.store.backend(),
        "blob_store": app.blobs.backend(),
        "counts": counts,
        "requests": app.metrics.requests.load(Ordering::Relaxed),
        "refused": app.metrics.refused.load(Ordering::Relaxed),
        "bundles_accepted": app.metrics.bundles_accepted.load(Ordering::Relaxed),
        "bytes_received": app.metrics.bytes_received.load(Ordering::Relaxed),
        "rate_entries": rate_entries,
    })))
}
