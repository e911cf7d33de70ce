//! `yaddash-attachment://localhost/<attachment id>`: attachments decrypted
//! into memory and handed to the webview, never written to a file.

use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};
use uuid::Uuid;
use yaddash_api::{AppState, Code};

/// The scheme name (also in the CSP of tauri.conf.json and in the UI).
pub const SCHEME: &str = "yaddash-attachment";

/// Served attachments may not run anything even if one is HTML or SVG.
const SANDBOX_CSP: &str = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; sandbox";

pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    // Only our own window may read attachments.
    if ctx.webview_label() != "main" || request.method() != tauri::http::Method::GET {
        responder.respond(status(StatusCode::FORBIDDEN));
        return;
    }
    let id = request.uri().path().trim_start_matches('/').to_string();
    let app = ctx.app_handle().clone();
    // Decrypting a large file takes a while: keep it off the UI thread.
    std::thread::spawn(move || {
        let Ok(id) = Uuid::parse_str(&id) else {
            responder.respond(status(StatusCode::BAD_REQUEST));
            return;
        };
        let state = app.state::<AppState>();
        let response = match state.attachment_content(id) {
            Ok(content) => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, content.media_type)
                .header(header::CACHE_CONTROL, "no-store")
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .header(header::CONTENT_SECURITY_POLICY, SANDBOX_CSP)
                .body(content.bytes)
                .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR)),
            Err(e) => status(match e.code {
                Code::Locked => StatusCode::UNAUTHORIZED,
                Code::NotFound => StatusCode::NOT_FOUND,
                Code::Corrupt => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            }),
        };
        responder.respond(response);
    });
}

fn status(code: StatusCode) -> Response<Vec<u8>> {
    let mut r = Response::new(Vec::new());
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}
