//! Health, readiness, and the cross-cutting HTTP behaviour.
use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_200() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_when_a_migration_is_missing() {
    let app = TestApp::spawn().await;
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let resp = app.get("/readyz").await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.text().await.unwrap(), "migrations pending");
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process is still up"
    );
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let resp = app.get("/login").await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["x-request-id"].to_str().unwrap().len(), 36);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    // A request id sent by a proxy is kept.
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/static/htmx.min.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn static_files_are_embedded() {
    let app = TestApp::spawn().await;
    let css = app.get("/static/app.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains("--accent"));
    assert!(
        app.get("/static/htmx.min.js")
            .await
            .text()
            .await
            .unwrap()
            .contains("htmx")
    );
    assert_eq!(app.get("/static/nope.js").await.status(), 404);
}

#[tokio::test]
async fn every_area_has_a_page() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    for (path, label) in projectflo::http::layout::NAV {
        let resp = s.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(&format!("<h1>{label}</h1>")),
            "{path}: {html}"
        );
        if !["/", "/settings", "/leads", "/quotes"].contains(path) {
            assert!(
                html.contains("not built yet"),
                "{path} says plainly it is not built yet"
            );
        }
    }
}

#[tokio::test]
async fn pages_and_api_answers_are_never_stored_but_static_files_are_cached() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let token = s.api_token("cache check").await;
    let cache = |r: &reqwest::Response| {
        r.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_string())
    };
    for path in ["/account", "/", "/leads"] {
        let r = s.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(cache(&r).as_deref(), Some("no-store"), "{path}");
    }
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(cache(&r).as_deref(), Some("no-store"));
    let r = app.get("/proposal/not-a-token").await;
    assert_eq!(cache(&r).as_deref(), Some("no-store"));
    let r = app.get("/static/app.css").await;
    assert_eq!(cache(&r).as_deref(), Some("public, max-age=3600"));
}
