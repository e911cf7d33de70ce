//! Signed-request checks.
//!
//! Order matters: everything that can be decided from the headers (are they
//! well-formed, is the time within the window, is the signer enrolled, in
//! the right role, not revoked, not over its rate) is decided BEFORE a byte
//! of the body is read, so an unknown or refused signer cannot make the
//! server read (up to 16 MiB of) a body. Only then is the body read (within
//! its limit), the signature over it verified, the request counted against
//! the signer's rate and the nonce recorded.

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

/// The time window (from the headers alone).
pub(crate) fn check_time(auth: &RequestAuth) -> ApiResult<()> {
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
    Ok(())
}

fn rate_limited(per_minute: u32) -> ApiError {
    ApiError::new(
        429,
        "rate_limited",
        format!("more than {per_minute} requests in a minute; slow down and retry"),
    )
}

/// Per-signer request counts over one-minute windows.
///
/// With a store that keeps them ([`Store::shared_rate`]: PostgreSQL) the
/// windows live in the database, so every instance using it counts into
/// the same windows and two instances behave as one. Otherwise (SQLite, one
/// instance) they live here, in a table of fixed capacity: only enrolled
/// signers ever get an entry (the signer is looked up first), and a full
/// table first forgets windows that are over; if it is still full, new
/// signers are refused (`rate_limited`) rather than letting it grow.
/// Enrollment, whose signer is not known yet, never gets an entry: it
/// shares one server-wide window (`enroll`).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    table: Mutex<HashMap<Uuid, (Instant, u32)>>,
    enroll: Mutex<(Instant, u32)>,
    per_minute: u32,
    enroll_per_minute: u32,
    capacity: usize,
    shared: bool,
}

const WINDOW: Duration = Duration::from_secs(60);

fn too_many_enrollments(per_minute: u32) -> ApiError {
    ApiError::new(
        429,
        "rate_limited",
        format!(
            "more than {per_minute} enrollment attempts in a minute at this server; retry in a minute"
        ),
    )
}

impl RateLimiter {
    pub(crate) fn new(s: &Settings, shared: bool) -> Self {
        Self {
            table: Mutex::new(HashMap::new()),
            enroll: Mutex::new((Instant::now(), 0)),
            per_minute: s.rate_per_minute,
            enroll_per_minute: s.enroll_per_minute,
            capacity: usize::try_from(s.max_rate_entries.max(1)).unwrap_or(usize::MAX),
            shared,
        }
    }

    /// Entries in the table (health endpoint).
    pub(crate) async fn entries(&self, app: &Arc<App>) -> ApiResult<u64> {
        if self.shared {
            return app.db(|s| s.rate_entries()).await;
        }
        Ok(self.table.lock().map(|t| t.len()).unwrap_or(0) as u64)
    }

    /// Before the body: refuses a signer already over its rate, without
    /// counting (a forged request must not use up a device's budget).
    pub(crate) async fn precheck(&self, app: &Arc<App>, signer: Uuid) -> ApiResult<()> {
        if self.shared {
            let n = app.db(move |s| s.rate_peek(&signer.to_string())).await?;
            if n >= self.per_minute {
                return Err(rate_limited(self.per_minute));
            }
            return Ok(());
        }
        let table = self
            .table
            .lock()
            .map_err(|_| ApiError::internal("rate lock"))?;
        match table.get(&signer) {
            Some((start, n)) if start.elapsed() < WINDOW && *n >= self.per_minute => {
                Err(rate_limited(self.per_minute))
            }
            _ => Ok(()),
        }
    }

    /// After the signature verified: counts the request.
    pub(crate) async fn count(&self, app: &Arc<App>, signer: Uuid) -> ApiResult<()> {
        if self.shared {
            let n = app.db(move |s| s.rate_hit(&signer.to_string())).await?;
            if n > self.per_minute {
                return Err(rate_limited(self.per_minute));
            }
            return Ok(());
        }
        let mut table = self
            .table
            .lock()
            .map_err(|_| ApiError::internal("rate lock"))?;
        if !table.contains_key(&signer) && table.len() >= self.capacity {
            table.retain(|_, (start, _)| start.elapsed() < WINDOW);
            if table.len() >= self.capacity {
                return Err(ApiError::new(
                    429,
                    "rate_limited",
                    "the server is serving too many clients at once; retry in a minute",
                ));
            }
        }
        let entry = table.entry(signer).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
        if entry.1 > self.per_minute {
            return Err(rate_limited(self.per_minute));
        }
        Ok(())
    }

    /// One server-wide window for enrollment attempts.
    pub(crate) async fn enroll(&self, app: &Arc<App>) -> ApiResult<()> {
        if self.shared {
            let n = app.db(|s| s.rate_hit("enroll")).await?;
            if n > self.enroll_per_minute {
                return Err(too_many_enrollments(self.enroll_per_minute));
            }
            return Ok(());
        }
        let mut w = self
            .enroll
            .lock()
            .map_err(|_| ApiError::internal("rate lock"))?;
        if w.0.elapsed() >= WINDOW {
            *w = (Instant::now(), 0);
        }
        if w.1 >= self.enroll_per_minute {
            return Err(too_many_enrollments(self.enroll_per_minute));
        }
        w.1 += 1;
        Ok(())
    }
}

/// Verifies the signature over the body with `signing_key`.
pub(crate) fn verify_signature(
    parts: &Parts,
    body_hash: &Sha256Hash,
    auth: &RequestAuth,
    signing_key: &str,
) -> ApiResult<()> {
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
        body_hash,
    )
    .map_err(|_| {
        ApiError::new(
            401,
            "bad_signature",
            "the request signature does not verify",
        )
    })
}

/// Records the nonce (after the signature verified).
pub(crate) async fn use_nonce(app: &Arc<App>, auth: &RequestAuth) -> ApiResult<()> {
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

/// From the headers alone: well-formed, in the time window, an enrolled
/// signer in `role`, not revoked, not over its rate.
pub(crate) async fn check_headers(
    app: &Arc<App>,
    parts: &Parts,
    role: Role,
) -> ApiResult<(RequestAuth, Principal)> {
    let auth = parse_auth(parts)?;
    check_time(&auth)?;
    let signer = auth.signer;
    let principal = app.db(move |s| s.principal(signer)).await?.ok_or_else(|| {
        ApiError::new(
            401,
            "unknown_signer",
            "the signing key is not enrolled at this server",
        )
    })?;
    if let Some(from) = principal.revoked_from
        && from <= OffsetDateTime::now_utc()
    {
        return Err(ApiError::new(
            403,
            "revoked",
            match principal.role {
                Role::Coordinator => "this coordinator was revoked",
                Role::Device => "this device was revoked by a coordinator",
            },
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
    app.rate.precheck(app, principal.id).await?;
    Ok((auth, principal))
}

/// After the body: the signature over it, then the rate and the nonce.
pub(crate) async fn check_body(
    app: &Arc<App>,
    parts: &Parts,
    auth: &RequestAuth,
    principal: &Principal,
    body_hash: &Sha256Hash,
) -> ApiResult<()> {
    verify_signature(parts, body_hash, auth, &principal.signing_key)?;
    app.rate.count(app, principal.id).await?;
    use_nonce(app, auth).await?;
    app.metrics.requests.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Every signed endpoint starts the same way: from the headers, the
/// signer's standing; then the body (at most `limit` bytes, in memory), the
/// signature, the rate and the nonce.
pub(crate) async fn signed_request(
    app: &Arc<App>,
    req: Request,
    limit: u64,
    role: Role,
) -> ApiResult<(Parts, ReadBody, Principal)> {
    let (parts, body) = req.into_parts();
    let (auth, principal) = check_headers(app, &parts, role).await?;
    let body = read_body(app, body, &parts, limit).await?;
    check_body(app, &parts, &auth, &principal, &body.hash).await?;
    Ok((parts, body, principal))
}

/// [`signed_request`] for a chunk: the body is streamed into a staging
/// file instead of memory.
pub(crate) async fn signed_upload(
    app: &Arc<App>,
    req: Request,
    limit: u64,
    role: Role,
) -> ApiResult<(Parts, Spooled, Principal)> {
    let (parts, body) = req.into_parts();
    let (auth, principal) = check_headers(app, &parts, role).await?;
    let body = spool_body(app, body, &parts, limit).await?;
    check_body(app, &parts, &auth, &principal, &body.hash).await?;
    Ok((parts, body, principal))
}
