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
        // Tasks opens on the person's own: "My tasks".
        let heading = if *path == "/tasks" { "My tasks" } else { label };
        assert!(
            html.contains(&format!("<h1>{heading}</h1>")),
            "{path}: {html}"
        );
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

/// Sessions of this test's database left idle inside a transaction, waited for up to 5 s to
/// reach zero (connections go back to the pool in the background).
async fn idle_in_transaction(app: &TestApp) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state = 'idle in transaction'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        if n == 0 || std::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_server_ends_sessions_left_idle_in_a_transaction() {
    let app = TestApp::spawn().await;
    let pool = projectflo::db::pool(app.options.clone(), 1).await.unwrap();
    let timeout: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(timeout, "1min", "the server-side backstop");
}

#[tokio::test]
async fn requests_cancelled_mid_transaction_under_load_leave_nothing_stuck() {
    let app = TestApp::demo().await;
    // 200 logins and lead-form posts (each a transaction), cut off after 0 to 15 ms.
    let tasks: Vec<_> = (0..200u64)
        .map(|i| {
            let url = app.url(if i % 2 == 0 { "/login" } else { "/inquire" });
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_millis(i % 16))
                    .build()
                    .unwrap();
                let form = [("email", "maya@goldenhour.example"), ("password", "wrong")];
                let _ = client.post(url).form(&form).send().await;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(idle_in_transaction(&app).await, 0);
    // And the pool still answers at once.
    let started = std::time::Instant::now();
    let resp = app.get("/readyz").await;
    assert_eq!(resp.status(), 200);
    let login = app
        .post_form(
            "/login",
            &[("email", "maya@goldenhour.example"), ("password", "x")],
        )
        .await;
    assert!(login.status() == 401 || login.status() == 429);
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

#[tokio::test]
async fn a_request_takes_one_connection_for_all_its_statements() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = TestApp::demo().await;
    let token = app.demo_login("Owner").await.api_token("one").await;
    let lead: i32 = sqlx::query_scalar("SELECT min(id) FROM inquiries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    // A second server on the same database, whose pool counts each connection handed out
    // (opened, or taken idle).
    let taken = Arc::new(AtomicUsize::new(0));
    let (opened, reused) = (taken.clone(), taken.clone());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .after_connect(move |_, _| {
            opened.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(()) })
        })
        .before_acquire(move |_, _| {
            reused.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(true) })
        })
        .connect_with(app.options.clone())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = projectflo::state::AppState::new(pool, projectflo::config::Settings::defaults());
    tokio::spawn(projectflo::app::serve(
        listener,
        state,
        std::future::pending(),
    ));
    // The token check, then the handler's statements: the inquiry page runs a dozen.
    for path in [
        "/api/v1/inquiries",
        &format!("/leads/{lead}"),
        "/",
        "/quotes",
    ] {
        taken.store(0, Ordering::SeqCst);
        let resp = app
            .client
            .get(format!("http://{addr}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(
            taken.load(Ordering::SeqCst),
            1,
            "connections taken for {path}"
        );
    }
}
