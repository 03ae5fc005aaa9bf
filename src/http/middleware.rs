//! Middleware of our own: problem+json -> friendly page outside `/api`, security headers.
use super::error;
use super::layout;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every answer: nothing from elsewhere, no inline code.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; frame-ancestors 'none'; form-action 'self'";

/// The same policy for a page whose form may end up elsewhere (paying by card: the studio's
/// answer sends the browser on to Stripe's page, and browsers hold a form's redirects to
/// `form-action` too).
pub fn csp_with_forms_to(origins: &str) -> HeaderValue {
    let policy = CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {origins}"),
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(CSP))
}

pub fn security_header(
    name: HeaderName,
    value: &'static str,
) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Outside `/api`, a problem+json answer becomes a friendly page with the same status.
pub async fn ui_errors(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/problem+json");
    if is_api || !is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let problem: Option<error::Problem> = serde_json::from_slice(&bytes).ok();
    let (title, detail) = problem.map(|p| (p.title, p.detail)).unwrap_or_default();
    let mut page = layout::error_page(parts.status, &title, &detail);
    *page.status_mut() = parts.status;
    for name in [header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            page.headers_mut().insert(name, v.clone());
        }
    }
    page
}
