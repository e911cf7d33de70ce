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
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let app = ctx.app_handle().clone();
    // Decrypting a large file takes a while: keep it off the UI thread.
    std::thread::spawn(move || {
        let Ok(id) = Uuid::parse_str(&id) else {
            responder.respond(status(StatusCode::BAD_REQUEST));
            return;
        };
        let state = app.state::<AppState>();
        let response = match state.attachment_content(id) {
            Ok(content) => {
                let total = content.bytes.len();
                // Seeking in <audio>/<video> asks for byte ranges; the whole
                // file is decrypted in memory either way (never to disk).
                let (code, body, content_range) = match range
                    .as_deref()
                    .map(|r| byte_range(r, total))
                {
                    None => (StatusCode::OK, content.bytes, None),
                    Some(Some((a, b))) => (
                        StatusCode::PARTIAL_CONTENT,
                        content.bytes[a..=b].to_vec(),
                        Some(format!("bytes {a}-{b}/{total}")),
                    ),
                    Some(None) => {
                        let mut r = status(StatusCode::RANGE_NOT_SATISFIABLE);
                        if let Ok(v) = header::HeaderValue::from_str(&format!("bytes */{total}")) {
                            r.headers_mut().insert(header::CONTENT_RANGE, v);
                        }
                        responder.respond(r);
                        return;
                    }
                };
                let mut b = Response::builder()
                    .status(code)
                    .header(header::CONTENT_TYPE, content.media_type)
                    .header(header::ACCEPT_RANGES, "bytes")
                    .header(header::CACHE_CONTROL, "no-store")
                    .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                    .header(header::CONTENT_SECURITY_POLICY, SANDBOX_CSP);
                if let Some(cr) = content_range {
                    b = b.header(header::CONTENT_RANGE, cr);
                }
                b.body(body)
                    .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
            }
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

/// Parses one `bytes=a-b`, `bytes=a-` or `bytes=-n` range of a body of
/// `total` bytes into inclusive offsets; `None` when it cannot be served.
pub fn byte_range(header: &str, total: usize) -> Option<(usize, usize)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    // One range only (what media elements ask for).
    let spec = spec.split(',').next()?.trim();
    let (a, b) = spec.split_once('-')?;
    if total == 0 {
        return None;
    }
    let (start, end) = if a.is_empty() {
        let n: usize = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        (total.saturating_sub(n), total - 1)
    } else {
        let start: usize = a.parse().ok()?;
        let end = if b.is_empty() {
            total - 1
        } else {
            b.parse::<usize>().ok()?.min(total - 1)
        };
        (start, end)
    };
    (start <= end && start < total).then_some((start, end))
}

#[cfg(test)]
mod range_tests {
    use super::byte_range;

    #[test]
    fn ranges_media_elements_send() {
        assert_eq!(byte_range("bytes=0-", 100), Some((0, 99)));
        assert_eq!(byte_range("bytes=10-19", 100), Some((10, 19)));
        assert_eq!(byte_range("bytes=90-200", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=20-10", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=0-", 0), None);
    }
}
