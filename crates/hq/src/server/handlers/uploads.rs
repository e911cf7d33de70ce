//! Resumable uploads: `POST /v1/uploads`, chunks, status, completion.

use crate::server::*;

pub(crate) async fn upload_init(State(app): State<Arc<App>>, req: Request) -> ApiResult<Response> {
    // Up to 100k chunk hashes.
    let (_, body, device) = guard!(app, signed_request(&app, req, 8 << 20, Role::Device).await);
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
    let dev = device.id;
    // Only this device's own bundles: another device must not learn (or
    // get the receipt of) a bundle by knowing its file hash.
    if let Some(b) = app.db(move |st| st.bundle_by_file(dev, &file_sha)).await? {
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
    let uid = upload_id.clone();
    let existing = app.db(move |st| st.upload(&uid)).await?;
    if existing.is_none() {
        let (open, open_bytes) = app.db(move |st| st.uploads_of(dev)).await?;
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
        // Open uploads count too: their chunks take disk space already.
        if used.saturating_add(open_bytes).saturating_add(init.size) > s.device_quota_bytes {
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
    let uid = upload_id.clone();
    let received = app.blob(move |b| b.chunks(&uid)).await?;
    Ok(ok_json(&UploadStatus {
        upload_id,
        received,
        receipt: None,
    }))
}

pub(crate) async fn own_upload(
    app: &Arc<App>,
    id: String,
    device: &Principal,
) -> ApiResult<Upload> {
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

pub(crate) async fn upload_status(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, device) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Device).await
    );
    let u = guard!(app, own_upload(&app, id, &device).await);
    let uid = u.id.clone();
    let received = app.blob(move |b| b.chunks(&uid)).await?;
    Ok(ok_json(&UploadStatus {
        upload_id: u.id,
        received,
        receipt: None,
    }))
}

pub(crate) async fn upload_chunk(
    State(app): State<Arc<App>>,
    UrlPath((id, index)): UrlPath<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    // The body streams into a staging file (never held in memory), hashed
    // on the way; it is handed to the blob store only once it checked out.
    let (_, body, device) = guard!(
        app,
        signed_upload(&app, req, app.settings.max_chunk_bytes, Role::Device).await
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
    if body.len != expected_len {
        return Err(refused(
            &app,
            ApiError::new(
                422,
                "chunk_mismatch",
                format!(
                    "chunk {index} must be {expected_len} bytes, got {}",
                    body.len
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
    // Durable before the answer: fsynced and moved into place (files), or
    // stored by the object store.
    app.blob(move |b| b.put_chunk(&u.id, index, body.path))
        .await?;
    Ok(ok_json(&serde_json::json!({"stored": index})))
}

pub(crate) async fn upload_complete(
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
        // Durable before the metadata commit: renamed and the directory
        // fsynced (files), or stored by the object store.
        a.blobs
            .put_bundle(&bundle_id, &tmp)
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
        };
        let earlier = a.store.bundle_accept(&row, &text).map_err(ApiError::from)?;
        if earlier.is_none() {
            a.metrics.bundles_accepted.fetch_add(1, Ordering::Relaxed);
        }
        let receipt = earlier.unwrap_or(text);
        a.store.upload_delete(&u.id).map_err(ApiError::from)?;
        let _ = a.blobs.delete_upload(&u.id);
        Ok(ok_json(&Accepted { bundle_id, receipt }))
    })
    .await
    .map_err(ApiError::internal)?;
    result.map_err(|e| refused(&app, e))
}
