//! The lists paginated last (API tokens, portal clients, the team, the quote's inquiry picker,
//! the catalogs): each walked page by page over more rows than a page holds, each row once;
//! a cursor that is not one is a 422, never a 500.
use crate::helpers::{Session, TestApp, assert_each_once, assert_problem};

/// The ids of a page's rows marked `data-{attr}="id"`.
fn marked(attr: &str) -> impl Fn(&str) -> Vec<i64> {
    let mark = format!("data-{attr}=\"");
    move |html: &str| {
        html.split(mark.as_str())
            .skip(1)
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect()
    }
}

async fn ids(app: &TestApp, sql: &str) -> Vec<i64> {
    sqlx::query_scalar(sql).fetch_all(&app.db).await.unwrap()
}

async fn bad_cursor_is_422(s: &Session, path: &str) {
    let resp = s.get(&format!("{path}?after=nope")).await;
    assert_eq!(resp.status(), 422, "{path}");
}

#[tokio::test]
async fn my_api_tokens_walk_page_by_page_newest_first() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    s.api_token("mine").await;
    let me: i32 = sqlx::query_scalar("SELECT contributor_id FROM api_tokens WHERE name = 'mine'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    // 120 more, many made at the very same moment.
    sqlx::query(
        "INSERT INTO api_tokens (contributor_id, name, token_hash, created_at, revoked_at)
         SELECT $1, 'walk ' || n, encode(sha256(('walk' || n)::bytea), 'hex'),
                timestamptz '2026-01-01Z' + (n % 4) * interval '1 day',
                CASE WHEN n % 3 = 0 THEN now() END
         FROM generate_series(1, 120) n",
    )
    .bind(me)
    .execute(&app.db)
    .await
    .unwrap();
    let all: Vec<i64> = sqlx::query_scalar(
        "SELECT id::bigint FROM api_tokens WHERE contributor_id = $1
         ORDER BY created_at DESC, id DESC",
    )
    .bind(me)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let (seen, pages) = s.walk("/account", marked("token")).await;
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen, all, "newest first, each once");
    bad_cursor_is_422(&s, "/account").await;
}

#[tokio::test]
async fn the_portal_clients_walk_page_by_page_by_name() {
    let app = TestApp::demo().await;
    // 80 couples, many with the same name (in either case) or none: told apart by id.
    sqlx::query(
        "WITH c AS (
           INSERT INTO contacts (first_name, last_name, email, type)
           SELECT CASE WHEN n % 6 = 0 THEN NULL ELSE 'Sam' END,
                  CASE n % 3 WHEN 0 THEN NULL WHEN 1 THEN 'Twin' ELSE 'twin' END,
                  'client-' || n || '@example.test', 'Client'
           FROM generate_series(1, 80) n RETURNING id)
         INSERT INTO clients (contact_id) SELECT id FROM c",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let all = ids(&app, "SELECT id::bigint FROM clients").await;
    let s = app.demo_login("Owner").await;
    let (seen, pages) = s.walk("/settings/portal", marked("client")).await;
    assert!(pages >= 2, "{pages} pages");
    assert_each_once(seen, all, "portal clients");
    bad_cursor_is_422(&s, "/settings/portal").await;
}

#[tokio::test]
async fn the_team_walks_page_by_page() {
    let app = TestApp::demo().await;
    // 80 more people in every role, active, deactivated or invited, many with one name.
    sqlx::query(
        "WITH c AS (
           INSERT INTO contacts (first_name, last_name, email, type)
           SELECT 'Alex', CASE WHEN n % 4 = 0 THEN NULL ELSE 'Crew' END,
                  'crew-' || n || '@example.test', 'Contributor'
           FROM generate_series(1, 80) n RETURNING id),
         co AS (
           INSERT INTO contributors (contact_id, role_id)
           SELECT c.id, (SELECT id FROM roles ORDER BY id OFFSET c.id % (SELECT count(*) FROM roles) LIMIT 1)
           FROM c RETURNING id)
         INSERT INTO staff_credentials (contributor_id, password_hash, is_active)
         SELECT id, CASE WHEN id % 3 = 0 THEN NULL ELSE 'x' END, id % 2 = 0 FROM co",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let all = ids(&app, "SELECT id::bigint FROM contributors").await;
    let s = app.demo_login("Owner").await;
    let (seen, pages) = s.walk("/settings/users", marked("user")).await;
    assert!(pages >= 2, "{pages} pages");
    assert_each_once(seen, all, "team");
    bad_cursor_is_422(&s, "/settings/users").await;
}

#[tokio::test]
async fn every_open_inquiry_is_reachable_from_the_quote_copy_picker() {
    let app = TestApp::demo().await;
    let build: i32 = sqlx::query_scalar(
        "WITH c AS (INSERT INTO contacts (first_name, last_name, email, type)
                    VALUES ('Pick', 'Er', 'picker@example.test', 'Client Lead') RETURNING id),
              i AS (INSERT INTO inquiries (contact_id, created_at)
                    SELECT c.id, timestamptz '2026-02-01Z' + (n % 5) * interval '1 hour'
                    FROM c, generate_series(1, 121) n RETURNING id)
         INSERT INTO builds (inquiry_id, status) SELECT min(id), 'Inquiry' FROM i RETURNING id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let all = ids(
        &app,
        "SELECT i.id::bigint FROM inquiries i
         WHERE i.status IN ('New', 'Contacted', 'Proposal Sent')
           AND NOT EXISTS (SELECT 1 FROM builds b WHERE b.inquiry_id = i.id)",
    )
    .await;
    let s = app.demo_login("Owner").await;
    let html = s
        .get(&format!("/quotes/{build}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"more-inquiries\""), "{html}");
    let path = format!("/quotes/{build}/copy-to");
    let (seen, pages) = s.walk(&path, marked("inquiry")).await;
    assert!(pages >= 3, "{pages} pages");
    assert_each_once(seen, all, "open inquiries");
    bad_cursor_is_422(&s, &path).await;
}

#[tokio::test]
async fn the_catalogs_walk_page_by_page_in_the_page_and_the_api() {
    let app = TestApp::demo().await;
    // 120 more scenes, in pairs that differ only by case (the list is by lowercased name).
    sqlx::query(
        "INSERT INTO coverage_scenes (name)
         SELECT CASE WHEN n % 2 = 0 THEN 'walk ' ELSE 'WALK ' END || (n / 2)
         FROM generate_series(1, 120) n",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let s = app.demo_login("Owner").await;
    let all = ids(&app, "SELECT id::bigint FROM coverage_scenes").await;
    let path = "/settings/catalog/coverage-scenes";
    let (seen, pages) = s.walk(path, marked("row")).await;
    assert!(pages >= 3, "{pages} pages");
    assert_each_once(seen, all.clone(), "scenes page");
    bad_cursor_is_422(&s, path).await;
    let token = s.api_token("catalog").await;
    let (rows, pages) = s.walk_api(&token, "/api/v1/catalog/coverage-scenes").await;
    assert!(pages >= 3, "{pages} pages");
    let seen = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_each_once(seen, all, "scenes API");
    // Every catalog, rules tables (by id) too, reads whole through the API.
    for (slug, table) in [
        ("deliverables", "deliverables"),
        ("editing-styles", "editing_styles"),
        ("operator-types", "operator_types"),
        ("billable-items", "billable_items"),
        ("task-templates", "task_templates"),
        ("default-components", "deliverable_default_components"),
        ("style-requirements", "editing_style_requirements"),
        ("task-recipes", "component_task_recipes"),
    ] {
        let all = ids(&app, &format!("SELECT id::bigint FROM {table}")).await;
        if all.is_empty() {
            continue;
        }
        let (rows, _) = s.walk_api(&token, &format!("/api/v1/catalog/{slug}")).await;
        let seen = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_each_once(seen, all, slug);
    }
    let bad = reqwest::Client::new()
        .get(s.url("/api/v1/catalog/coverage-scenes?after=1_zz"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = assert_problem(bad, 422).await;
    assert!(body.to_string().contains("after"), "{body}");
}
