//! Router assembly, middleware, health checks, static assets and the UI error pages.
pub mod error;
pub mod pages;
pub mod routes;

use crate::auth::Access;
use crate::config::Settings;
use crate::db;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
pub use error::{ApiJson, ApiPath, ApiQuery, AppError, AppResult};
use routes::{RouteInfo, Routes};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
}

impl AppState {
    pub fn new(db: PgPool, settings: Settings) -> Self {
        AppState {
            db,
            settings: Arc::new(settings),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ProjectFlo API",
        description = "The JSON API of ProjectFlo. Send a personal API token (My account) as `Authorization: Bearer <token>`; it has its owner's permissions. Errors are application/problem+json (RFC 9457)."
    ),
    components(schemas(error::Problem, error::ProblemField))
)]
struct ApiDoc;

/// The `bearer` security scheme the operations name.
fn add_bearer_scheme(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
}

/// Every route of the app, each with the access it needs.
fn all_routes() -> Routes {
    Routes::new()
        .get("/healthz", Access::Public, || async { "ok" })
        .get("/readyz", Access::Public, readyz)
        .get("/static/{file}", Access::Public, asset)
        .merge(pages::routes())
        .merge(crate::auth::pages::routes())
        .merge(crate::catalog::routes())
        .merge(crate::crm::routes())
        .merge(crate::quote::api::routes())
        .merge(crate::quote::pages::routes())
        .merge(crate::quote::proposal::routes())
        .merge(crate::portal::routes())
}

/// The app's routes, their OpenAPI document (built from the same router), and the table of
/// every route with its access.
pub fn app() -> (Router<AppState>, utoipa::openapi::OpenApi, Vec<RouteInfo>) {
    let (routes, mut table) = all_routes().into_parts();
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes)
        .split_for_parts();
    add_bearer_scheme(&mut openapi);
    table.push(RouteInfo {
        method: axum::http::Method::GET,
        path: "/api/openapi.json".into(),
        access: Access::Public,
    });
    (router, openapi, table)
}

pub fn router(state: AppState) -> Router {
    let (app, openapi, _) = app();
    let openapi = Arc::new(openapi);
    let request_id = HeaderName::from_static("x-request-id");
    let s = &state.settings;
    app.route("/api/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .fallback(|| async { AppError::NotFound("There is no page at this address.".into()) })
        .layer(middleware::from_fn(ui_errors))
        .layer(axum::Extension(state.clone()))
        .layer(DefaultBodyLimit::max(s.body_limit_bytes as usize))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(s.request_timeout_secs)))
        .layer(CompressionLayer::new())
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Serve until `shutdown` resolves, then finish in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// 200 when the database answers and every migration is applied, else 503.
async fn readyz(State(state): State<AppState>) -> Response {
    match db::migrations_current(&state.db).await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Static files, embedded in the binary.
async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, mime): (&'static [u8], &str) = match file.as_str() {
        "app.css" => (
            include_bytes!("../../static/app.css"),
            "text/css; charset=utf-8",
        ),
        "htmx.min.js" => (
            include_bytes!("../../static/htmx.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "app.js" => (
            include_bytes!("../../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (include_bytes!("../../static/favicon.svg"), "image/svg+xml"),
        _ => return AppError::NotFound("There is no such file.".into()).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Outside `/api`, a problem+json answer becomes a friendly page with the same status.
async fn ui_errors(req: Request, next: Next) -> Response {
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
    let mut page = pages::error_page(parts.status, &title, &detail);
    *page.status_mut() = parts.status;
    for name in [header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            page.headers_mut().insert(name, v.clone());
        }
    }
    page
}
