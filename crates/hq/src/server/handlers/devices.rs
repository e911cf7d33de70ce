//! `POST /v1/devices/{id}/revoke`: a revocation only ever moves earlier;
//! the answer names the device's last bundle the server had accepted.

use crate::server::*;

pub(crate) async fn revoke(
    State(app): State<Arc<App>>,
    UrlPath(id): UrlPath<String>,
    req: Request,
) -> ApiResult<Response> {
    let (_, body, _) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Coordinator).await
    );
    let id: Uuid = guard!(
        app,
        id.parse()
            .map_err(|_| ApiError::new(400, "bad_id", "not a device id"))
    );
    let r: RevokeRequest = guard!(app, json(&body));
    let from = guard!(
        app,
        OffsetDateTime::parse(&r.from, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::new(400, "bad_time", "`from` must be an RFC 3339 time"))
    );
    let r = app.db(move |s| s.revoke(id, from)).await?;
    Ok(ok_json(&RevokeAnswer {
        revoked: id,
        revoked_from: r
            .revoked_from
            .format(&time::format_description::well_known::Rfc3339)
            .ok(),
        last_bundle: r
            .last_bundle
            .map(|(server_seq, bundle_id, received_at)| HeldBundle {
                server_seq,
                bundle_id,
                received_at,
            }),
    }))
}
