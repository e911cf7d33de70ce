//! The routes.

use super::*;

/// The router, for tests and for [`serve`].
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/health", get(health))
        .route("/v1/enroll", post(enroll))
        .route("/v1/devices/{id}/revoke", post(revoke))
        .route("/v1/uploads", post(upload_init))
        .route("/v1/uploads/{id}", get(upload_status))
        .route("/v1/uploads/{id}/chunks/{index}", put(upload_chunk))
        .route("/v1/uploads/{id}/complete", post(upload_complete))
        .route("/v1/receipts", get(receipts_get).post(receipts_post))
        .route("/v1/bundles", get(bundles_list))
        .route("/v1/bundles/{id}", get(bundle_download))
        .route("/v1/bundles/{id}/ack", post(bundle_ack))
        .route("/v1/trust", get(trust_get).post(trust_update))
        .route("/v1/coordinators/{id}/revoke", post(coordinator_revoke))
        .fallback(|| async {
            ApiError::new(
                404,
                "no_such_endpoint",
                "no such endpoint; check the server URL",
            )
        })
        .with_state(app)
}
