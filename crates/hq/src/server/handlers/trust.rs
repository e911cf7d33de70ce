//! The coordinator set: `GET /v1/trust`, `POST /v1/trust` (replace the
//! set), `POST /v1/coordinators/{id}/revoke`. Changes need approvals of a
//! majority of the current coordinators (see [`crate::trust`]).

use yaddash_wire::request::{coordinator_revocation_message, trust_update_message};

use crate::server::*;
use crate::trust::{quorum, valid_approvals};

async fn state(app: &Arc<App>) -> ApiResult<TrustState> {
    let (current, version) = app.db(|s| s.coordinators()).await?;
    Ok(TrustState {
        hq_id: app.hq_id.clone(),
        version,
        quorum: quorum(current.len()),
        coordinators: current
            .into_iter()
            .map(|p| CoordinatorKey {
                device_id: p.id,
                signing_key: p.signing_key,
                age_recipient: p.age_recipient,
            })
            .collect(),
    })
}

pub(crate) async fn trust_get(State(app): State<Arc<App>>, req: Request) -> ApiResult<Response> {
    guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    Ok(ok_json(&state(&app).await?))
}

fn check_change(app: &App, hq_id: &str, version: u64, current_version: u64) -> ApiResult<()> {
    if hq_id != app.hq_id {
        return Err(ApiError::new(
            422,
            "wrong_hq",
            "the change names another headquarters",
        ));
    }
    if version != current_version + 1 {
        return Err(ApiError::new(
            409,
            "stale_trust_version",
            format!(
                "the coordinator set is at version {current_version}; a change must name version {} (fetch GET /v1/trust and approve again)",
                current_version + 1
            ),
        ));
    }
    Ok(())
}

fn check_quorum(current: &[Principal], message: &[u8], approvals: &[Approval]) -> ApiResult<()> {
    let need = quorum(current.len());
    let got = valid_approvals(current, message, approvals);
    if got < need {
        return Err(ApiError::new(
            403,
            "quorum_not_met",
            format!(
                "this change needs approvals of {need} of the {} current coordinators; {got} valid approval(s) were given",
                current.len()
            ),
        ));
    }
    Ok(())
}

pub(crate) async fn trust_update(State(app): State<Arc<App>>, req: Request) -> ApiResult<Response> {
    let (_, body, _) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    let u: TrustUpdate = guard!(app, json(&body));
    let (current, version) = app.db(|s| s.coordinators()).await?;
    guard!(app, check_change(&app, &u.hq_id, u.version, version));
    let mut ids = std::collections::HashSet::new();
    if u.coordinators.is_empty() || !u.coordinators.iter().all(|c| ids.insert(c.device_id)) {
        return Err(refused(
            &app,
            ApiError::new(
                422,
                "bad_trust",
                "the new set must name at least one coordinator, each once",
            ),
        ));
    }
    for c in &u.coordinators {
        if parse_signing_public_key(&c.signing_key).is_err() || c.age_recipient.len() > 200 {
            return Err(refused(
                &app,
                ApiError::new(
                    422,
                    "bad_key",
                    format!("coordinator {}: not a usable Ed25519 key", c.device_id),
                ),
            ));
        }
    }
    let message = trust_update_message(&u.hq_id, u.version, &u.coordinators);
    guard!(app, check_quorum(&current, &message, &u.approvals));
    let set: Vec<Principal> = u
        .coordinators
        .into_iter()
        .map(|c| Principal {
            id: c.device_id,
            role: Role::Coordinator,
            signing_key: c.signing_key.trim().to_owned(),
            age_recipient: c.age_recipient,
            revoked_from: None,
        })
        .collect();
    guard!(
        app,
        app.db(move |s| s.set_coordinators(&set, Some(version), OffsetDateTime::now_utc()))
            .await
    );
    Ok(ok_json(&state(&app).await?))
}

pub(crate) async fn coordinator_revoke(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (_, body, _) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    let r: CoordinatorRevocation = guard!(app, json(&body));
    if id.parse::<Uuid>().ok() != Some(r.coordinator) {
        return Err(refused(
            &app,
            ApiError::new(
                400,
                "bad_id",
                "the path and the body name different coordinators",
            ),
        ));
    }
    let (current, version) = app.db(|s| s.coordinators()).await?;
    guard!(app, check_change(&app, &r.hq_id, r.version, version));
    let message = coordinator_revocation_message(&r.hq_id, r.version, r.coordinator);
    guard!(app, check_quorum(&current, &message, &r.approvals));
    let target = r.coordinator;
    guard!(
        app,
        app.db(move |s| s.revoke_coordinator(target, Some(version), OffsetDateTime::now_utc()))
            .await
    );
    Ok(ok_json(&state(&app).await?))
}
