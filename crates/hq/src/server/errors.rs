//! Error answers: a status, a stable code and a human message.

use super::*;

/// An error answer: status, stable code, human message. Never carries
/// client-supplied content.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message: message.into(),
        }
    }
    pub(crate) fn internal(what: impl std::fmt::Display) -> Self {
        eprintln!("yaddash-hq: internal error: {what}");
        Self::new(
            500,
            "internal",
            "the server failed; the request can be retried",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody {
            code: self.code.into(),
            message: self.message,
        })
        .unwrap_or_default();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::CodeUsed => Self::new(
                409,
                "code_used",
                "this enrollment code was already used; ask a coordinator for a new one",
            ),
            StoreError::AlreadyEnrolled => Self::new(
                409,
                "already_enrolled",
                "a device with this id is already enrolled with another key",
            ),
            StoreError::NotFound => Self::new(404, "not_found", "no such item"),
            e @ StoreError::StaleTrust { .. } => {
                Self::new(409, "stale_trust_version", e.to_string())
            }
            e @ StoreError::CoordinatorRevoked(_) => {
                Self::new(409, "coordinator_revoked", e.to_string())
            }
            e @ StoreError::LastCoordinator => Self::new(409, "last_coordinator", e.to_string()),
            other => Self::internal(other),
        }
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn refused(app: &App, e: ApiError) -> ApiError {
    app.metrics.refused.fetch_add(1, Ordering::Relaxed);
    e
}

macro_rules! guard {
    ($app:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Err($crate::server::errors::refused(&$app, e)),
        }
    };
}
