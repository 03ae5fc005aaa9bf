//! Bad input gets the right 4xx with a readable message, on the API as problem+json and in the
//! UI as a friendly page; and nothing is written.
use crate::helpers::{TestApp, assert_problem};
use serde_json::json;

async fn scene_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM coverage_scenes")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    let resp = s
        .post_raw(
            "/api/v1/catalog/coverage-scenes",
            "application/json",
            "{\"name\": \"Vows\",",
        )
        .await;
    let body = assert_problem(resp, 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
    assert_eq!(scene_count(&app).await, 0);
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_422_problem_naming_it() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    let resp = s
        .post_json(
            "/api/v1/catalog/coverage-scenes",
            &json!({"name": "Vows", "default_hours": [1]}),
        )
        .await;
    let body = assert_problem(resp, 422).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("wrong type"), "{detail}");
    assert!(
        detail.contains("default_hours") || detail.contains("invalid type"),
        "{detail}"
    );
    let resp = s
        .post_json("/api/v1/catalog/coverage-scenes", &json!({"name": 42}))
        .await;
    assert_problem(resp, 422).await;
    assert_eq!(scene_count(&app).await, 0);
}

#[tokio::test]
async fn a_missing_content_type_is_a_415_problem() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    let resp = s
        .post_raw("/api/v1/catalog/coverage-scenes", "text/plain", "{}")
        .await;
    assert_problem(resp, 415).await;
}

#[tokio::test]
async fn validation_names_the_field() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    let resp = s
        .post_json("/api/v1/catalog/coverage-scenes", &json!({"name": "  "}))
        .await;
    let body = assert_problem(resp, 422).await;
    assert_eq!(body["errors"][0]["field"], "name");
    let resp = s
        .post_json(
            "/api/v1/catalog/coverage-scenes",
            &json!({"name": "Vows", "default_hours": "1.255"}),
        )
        .await;
    let body = assert_problem(resp, 422).await;
    assert_eq!(body["errors"][0]["field"], "default_hours");
    assert_eq!(scene_count(&app).await, 0);
}

#[tokio::test]
async fn a_created_scene_can_be_read_back_and_a_duplicate_is_a_409() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    let resp = s
        .post_json(
            "/api/v1/catalog/coverage-scenes",
            &json!({"name": "Vows", "default_hours": 1.5}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let scene: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(scene["default_hours"], "1.50");
    let got: serde_json::Value = s
        .get(&format!("/api/v1/catalog/coverage-scenes/{}", scene["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, scene);
    let resp = s
        .post_json("/api/v1/catalog/coverage-scenes", &json!({"name": "Vows"}))
        .await;
    let body = assert_problem(resp, 409).await;
    assert!(
        body["detail"].as_str().unwrap().contains("already exists"),
        "{body}"
    );
    assert_eq!(scene_count(&app).await, 1);
}

#[tokio::test]
async fn an_unknown_id_and_one_that_is_not_a_number_are_404_problems() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    let body = assert_problem(s.get("/api/v1/catalog/coverage-scenes/4242").await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("4242"), "{body}");
    // `abc` (or `None`, as a client may write a missing id) names nothing either.
    let body = assert_problem(s.get("/api/v1/catalog/coverage-scenes/abc").await, 404).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("nothing is at this address"),
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem_on_the_api_and_a_page_in_the_ui() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    assert_problem(s.get("/api/v1/no-such-thing").await, 404).await;
    let resp = s.get("/no-such-page").await;
    assert_eq!(resp.status(), 404);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains("There is no page at this address."), "{html}");
    assert!(html.contains("href=\"/\""), "a way back: {html}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = TestApp::spawn().await;
    let s = app.owner().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(11 * 1024 * 1024));
    let resp = s
        .post_raw("/api/v1/catalog/coverage-scenes", "application/json", &big)
        .await;
    assert_problem(resp, 413).await;
}
