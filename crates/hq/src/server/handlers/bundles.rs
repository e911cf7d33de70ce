//! Coordinator side: list, download (ranges), acknowledge.

use crate::server::*;

pub(crate) async fn bundles_list(
    State(app): State<Arc<App>>,
    Query(q): Query<After>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, coordinator) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    let (after, limit) = (q.after, q.limit.unwrap_or(500).clamp(1, 5000));
    // Pending for this coordinator: not yet acknowledged by it.
    let me = coordinator.id;
    let rows = app.db(move |s| s.bundles_pending(me, after, limit)).await?;
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
pub(crate) struct FileBody {
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

pub(crate) fn parse_range(h: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
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

pub(crate) async fn bundle_download(
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
    let bid = row.bundle_id.clone();
    let len = app.blob(move |b| b.bundle_len(&bid)).await?;
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
    let blobs = Arc::clone(&app.blobs);
    let bid = row.bundle_id.clone();
    tokio::task::spawn_blocking(move || {
        let run = || -> io::Result<()> {
            let mut f = blobs.open_bundle(&bid, start, count)?;
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

pub(crate) async fn bundle_ack(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, coordinator) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    if !is_hex64(&id) {
        return Err(ApiError::new(404, "no_such_bundle", "no such bundle"));
    }
    let bid = id.clone();
    // Acknowledgements are per coordinator: retention deletes a bundle only
    // once every current coordinator has acknowledged it.
    let me = coordinator.id;
    guard!(app, app.db(move |s| s.bundle_ack(&bid, me, now())).await);
    Ok(ok_json(&serde_json::json!({"acknowledged": id})))
}
