//! The app: every area's routes merged once, the OpenAPI document built from the same router,
//! the middleware stack, and serving. Nothing below this module imports it.
use crate::auth::Access;
use crate::db;
use crate::http::routes::{RouteInfo, Routes};
use crate::http::{self, AppError};
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ProjectFlo API",
        description = "The JSON API of ProjectFlo. Send a personal API token (My account) as \
            `Authorization: Bearer <token>`; it has its owner's permissions. Errors are \
            application/problem+json (RFC 9457)."
    ),
    components(schemas(http::error::Problem, http::error::ProblemField))
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
        .merge(http::assets::routes())
        .merge(crate::dashboard::routes())
        .merge(crate::accounts::routes())
        .merge(crate::catalog::routes())
        .merge(crate::crm::routes())
        .merge(crate::quote::routes())
        .merge(crate::contract::routes())
        .merge(crate::billing::routes())
        .merge(crate::calendar::routes())
        .merge(crate::delivery::routes())
        .merge(crate::reports::routes())
        .merge(crate::portal::routes())
        .merge(crate::history::routes())
        .merge(crate::inbox::routes())
        .merge(crate::production::routes())
        .merge(crate::workflows::routes())
}

/// The app's routes, their OpenAPI document (built from the same router), and the table of
/// every route with its access.
pub fn app() -> (Router<AppState>, utoipa::openapi::OpenApi, Vec<RouteInfo>) {
    let (routes, mut table) = all_routes().into_parts();
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes)
        .split_for_parts();
    add_bearer_scheme(&mut openapi);
    http::openapi::document_errors(&mut openapi, &table);
    table.push(RouteInfo {
        method: axum::http::Method::GET,
        path: "/api/openapi.json".into(),
        access: Access::Public,
    });
    (router, openapi, table)
}

use crate::http::middleware::CSP;

pub fn router(state: AppState) -> Router {
    let (app, openapi, _) = app();
    let openapi = Arc::new(openapi);
    let request_id = HeaderName::from_static("x-request-id");
    let s = &state.settings;
    app.route(
        "/api/openapi.json",
        get(move || async move { Json(openapi.as_ref().clone()) }),
    )
    .fallback(|| async { AppError::NotFound("There is no page at this address.".into()) })
    .layer(middleware::from_fn(http::middleware::ui_errors))
    .layer(middleware::from_fn(db::request::scope))
    .layer(axum::Extension(state.clone()))
    .layer(DefaultBodyLimit::max(s.body_limit_bytes as usize))
    .layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(s.request_timeout_secs),
    ))
    .layer(CompressionLayer::new())
    // Pages and API answers hold people's data (and, once, a new API token in clear):
    // never stored by a browser or a proxy. Static files set their own caching.
    .layer(http::middleware::security_header(
        header::CACHE_CONTROL,
        "no-store",
    ))
    .layer(http::middleware::security_header(
        header::X_CONTENT_TYPE_OPTIONS,
        "nosniff",
    ))
    .layer(http::middleware::security_header(
        header::X_FRAME_OPTIONS,
        "DENY",
    ))
    .layer(http::middleware::security_header(
        header::REFERRER_POLICY,
        "same-origin",
    ))
    .layer(http::middleware::security_header(
        header::CONTENT_SECURITY_POLICY,
        CSP,
    ))
    .layer(PropagateRequestIdLayer::new(request_id.clone()))
    .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        let (method, path) = (req.method(), req.uri().path());
        tracing::info_span!("request", %method, %path, request_id = %id)
    }))
    .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
    .with_state(state)
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
