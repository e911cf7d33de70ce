//! Signed-request checks.

use super::*;

pub(crate) fn parse_auth(parts: &Parts) -> ApiResult<RequestAuth> {
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

pub(crate) fn path_and_query(parts: &Parts) -> &str {
    parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
}

/// Checks time window, signature, rate and nonce for a known key.
pub(crate) async fn check_signed(
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
pub(crate) async fn authenticate(
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
pub(crate) async fn signed_request(
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
