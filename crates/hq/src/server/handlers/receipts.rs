//! `GET` and `POST /v1/receipts`.

use crate::server::*;

pub(crate) async fn receipts_get(
    State(app): State<Arc<App>>,
    Query(q): Query<After>,
    req: Request,
) -> ApiResult<Response> {
    let (_, _, device) = guard!(
        app,
        signed_request(&app, req, app.settings.max_json_bytes, Role::Device).await
    );
    let after = q.after;
    let receipts = app.db(move |s| s.receipts(device.id, after)).await?;
    Ok(ok_json(&ReceiptList { receipts }))
}

pub(crate) async fn receipts_post(
    State(app): State<Arc<App>>,
    req: Request,
) -> ApiResult<Response> {
    let (_, body, coordinator) = guard!(
        app,
        signed_request(&app, req, 16 << 20, Role::Coordinator).await
    );
    let post: ReceiptPost = guard!(app, json(&body));
    let mut checked = Vec::new();
    for text in post.receipts {
        let r = guard!(
            app,
            verify_receipt(&text, &coordinator.signing_key).map_err(|e| ApiError::new(
                422,
                "bad_receipt",
                format!("a receipt was refused: {e}")
            ))
        );
        if r.kind != ReceiptKind::CoordinatorImported {
            return Err(refused(
                &app,
                ApiError::new(
                    422,
                    "bad_receipt",
                    "only coordinator-imported receipts can be posted",
                ),
            ));
        }
        checked.push((r.device_id, text));
    }
    let n = checked.len();
    app.db(move |s| {
        let at = now();
        for (device, text) in &checked {
            s.receipt_add(*device, text, at)?;
        }
        Ok(())
    })
    .await?;
    Ok(ok_json(&serde_json::json!({"stored": n})))
}
