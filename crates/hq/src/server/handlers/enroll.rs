//! `POST /v1/enroll`.

use crate::server::*;

/// An enrollment body holds a code and two public keys: 16 KiB is plenty.
const ENROLL_BODY_LIMIT: u64 = 16 << 10;

pub(crate) async fn enroll(State(app): State<Arc<App>>, req: Request) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    // The signer is not enrolled yet (its key is in the body): check what
    // the headers allow, count the attempt in the server-wide enrollment
    // window (no per-signer table entry for made-up ids), and read at most
    // ENROLL_BODY_LIMIT bytes.
    let auth = guard!(app, parse_auth(&parts));
    guard!(app, check_time(&auth));
    guard!(app, app.rate.enroll(&app).await);
    let body = guard!(
        app,
        read_body(
            &app,
            body,
            &parts,
            ENROLL_BODY_LIMIT.min(app.settings.max_json_bytes)
        )
        .await
    );
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
        verify_signature(&parts, &body.hash, &auth, &signing_key)
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
    if code.expires_at > now().saturating_add(MAX_CODE_LIFETIME_SECS) {
        return Err(refused(
            &app,
            ApiError::new(
                403,
                "code_too_long",
                format!(
                    "the enrollment code is valid for more than {} days; ask a coordinator for a new one",
                    MAX_CODE_LIFETIME_SECS / 86_400
                ),
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
    // A code is only as good as its issuer: refused once the issuer is
    // revoked or removed from the coordinator set.
    if coordinator.revoked_from.is_some() {
        return Err(refused(
            &app,
            ApiError::new(
                403,
                "code_issuer_revoked",
                "the coordinator who issued this enrollment code was revoked; ask a current coordinator for a new one",
            ),
        ));
    }
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
    // Only a request with a valid code leaves a nonce behind.
    guard!(app, use_nonce(&app, &auth).await);
    let code_id = hex::encode(code.code_id);
    guard!(
        app,
        app.db(move |s| s.enroll(&code_id, &principal, now())).await
    );
    Ok(info(State(app)).await)
}
