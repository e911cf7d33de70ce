//! `POST /v1/devices/{id}/revoke`.

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
    app.db(move |s| s.revoke(id, from)).await?;
    Ok(ok_json(&serde_json::json!({"revoked": id})))
}
