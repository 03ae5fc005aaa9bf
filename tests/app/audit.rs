//! Every write records who, what, which record and a before/after summary, in the same
//! transaction; Settings > Audit log lists it with filters.
use crate::helpers::TestApp;

#[tokio::test]
async fn a_write_is_audited_in_its_own_transaction() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Admin").await;
    let resp = s
        .post_json(
            "/api/v1/catalog/coverage-scenes",
            &serde_json::json!({"name": "Sparkler Exit", "default_hours": 0.5}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let (who, action, entity, id, details): (Option<i32>, String, Option<String>, Option<i32>, serde_json::Value) = sqlx::query_as(
        "SELECT contributor_id, action, entity_type, entity_id, details FROM audit_log WHERE action LIKE 'catalog.%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let jordan: i32 = sqlx::query_scalar("SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id WHERE c.email = 'jordan@goldenhour.example'").fetch_one(&app.db).await.unwrap();
    assert_eq!(who, Some(jordan));
    assert_eq!(action, "catalog.coverage-scenes.create");
    assert_eq!(entity.as_deref(), Some("coverage_scenes"));
    assert!(id.is_some());
    assert_eq!(details["after"]["name"], "Sparkler Exit");
    // A failed write leaves no audit entry either.
    let resp = s
        .post_json(
            "/api/v1/catalog/coverage-scenes",
            &serde_json::json!({"name": "Sparkler Exit"}),
        )
        .await;
    assert_eq!(resp.status(), 409);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'catalog.%'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_audit_page_filters_by_person_record_and_date() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let admin = app.demo_login("Admin").await;
    admin
        .post_json(
            "/api/v1/catalog/coverage-scenes",
            &serde_json::json!({"name": "Sparkler Exit"}),
        )
        .await;
    owner.api_token("reports").await;
    let jordan: i32 = sqlx::query_scalar("SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id WHERE c.email = 'jordan@goldenhour.example'").fetch_one(&app.db).await.unwrap();
    let (scene, token) = ("Added a coverage scene", "Created an API token");
    let all = owner.get("/settings/audit").await.text().await.unwrap();
    assert!(all.contains(scene) && all.contains(token), "{all}");
    let by_jordan = owner
        .get(&format!("/settings/audit?person={jordan}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(by_jordan.contains(scene) && !by_jordan.contains(token));
    let tokens = owner
        .get("/settings/audit?entity=api_token")
        .await
        .text()
        .await
        .unwrap();
    assert!(tokens.contains(token) && !tokens.contains(scene));
    assert!(
        tokens.contains("<option value=\"api_token\" selected>API tokens</option>"),
        "the kinds of record by their names: {tokens}"
    );
    let old = owner
        .get("/settings/audit?from=2020-01-01&to=2020-12-31")
        .await
        .text()
        .await
        .unwrap();
    assert!(old.contains("Nothing matches these filters."));
    let resp = owner.get("/settings/audit?from=yesterday").await;
    assert_eq!(resp.status(), 422, "a bad date is named, not a 500");
}

#[tokio::test]
async fn the_audit_log_walks_page_by_page_and_shows_each_entry_once() {
    let app = TestApp::demo().await;
    // 130 entries of one kind, half of them at one instant: ties are told apart by id.
    sqlx::query(
        "INSERT INTO audit_log (action, entity_type, entity_id, \"timestamp\")
         SELECT 'test.walk', 'walk', n,
                CASE WHEN n % 2 = 0 THEN now() ELSE now() - n * interval '1 minute' END
         FROM generate_series(1, 130) n",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let owner = app.demo_login("Owner").await;
    let ids = |html: &str| -> Vec<i64> {
        html.split("<tr data-id=\"")
            .skip(1)
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    let (seen, pages) = owner.walk("/settings/audit?entity=walk", ids).await;
    assert_eq!(pages, 3);
    let all: Vec<i64> =
        sqlx::query_scalar("SELECT id::bigint FROM audit_log WHERE entity_type = 'walk'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    crate::helpers::assert_each_once(seen, all, "audit entries");
    let everything = owner.walk("/settings/audit", ids).await.0.len() as i64;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(everything, n);
    let bad = owner.get("/settings/audit?after=page2").await;
    assert_eq!(
        bad.status(),
        422,
        "a cursor not made here is named, not a 500"
    );
    assert!(bad.text().await.unwrap().contains("id=\"error-after\""));
}

/// The id a query finds.
async fn one_id(app: &TestApp, sql: &str) -> i32 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn the_audit_log_says_in_words_what_people_did_and_to_which_record() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let (inquiry, couple): (i32, String) = sqlx::query_as(
        "SELECT i.id, trim(concat_ws(' ', c.first_name, c.last_name)) FROM inquiries i
         JOIN contacts c ON c.id = i.contact_id
         WHERE i.status = 'New' AND NOT EXISTS (SELECT 1 FROM builds b WHERE b.inquiry_id = i.id)
         ORDER BY i.id LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // A status move, a quote with coverage changed and an add-on, its proposal sent, a new
    // catalog row and an API token: all through the app.
    let moved = s
        .post_form(
            &format!("/leads/{inquiry}/status"),
            &[("status", "Contacted")],
        )
        .await;
    assert_eq!(moved.status(), 303);
    let started = s
        .client
        .post(s.url(&format!("/api/v1/inquiries/{inquiry}/build")))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap();
    let started: serde_json::Value = started.json().await.unwrap();
    let build = started["build_id"].as_i64().unwrap();
    let scene = one_id(
        &app,
        "SELECT id FROM coverage_scenes WHERE name = 'Ceremony'",
    )
    .await;
    let lead = one_id(
        &app,
        "SELECT id FROM operator_types WHERE name = 'Lead Videographer'",
    )
    .await;
    let rush = one_id(
        &app,
        "SELECT id FROM billable_items WHERE name = 'Rush Delivery'",
    )
    .await;
    let coverage =
        serde_json::json!({"coverage_scene_id": scene, "operator_type_id": lead, "quantity": 1});
    let resp = s
        .post_json(&format!("/api/v1/builds/{build}/coverage"), &coverage)
        .await;
    assert_eq!(resp.status(), 200);
    let line = one_id(
        &app,
        &format!("SELECT id FROM build_coverage_assignments WHERE build_id = {build}"),
    )
    .await;
    let mut twice = coverage.clone();
    twice["quantity"] = 2.into();
    let resp = s
        .put_json(&format!("/api/v1/builds/{build}/coverage/{line}"), &twice)
        .await;
    assert_eq!(resp.status(), 200);
    let resp = s
        .post_json(
            &format!("/api/v1/builds/{build}/billables"),
            &serde_json::json!({"billable_item_id": rush}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = s.post_form(&format!("/quotes/{build}/proposal"), &[]).await;
    assert_eq!(resp.status(), 200);
    let resp = s
        .post_json(
            "/api/v1/catalog/coverage-scenes",
            &serde_json::json!({"name": "Sparkler Exit", "default_hours": 0.5}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let sparkler = one_id(
        &app,
        "SELECT id FROM coverage_scenes WHERE name = 'Sparkler Exit'",
    )
    .await;
    s.api_token("reports").await;

    let page = s.get("/settings/audit").await.text().await.unwrap();
    let quote = format!("<a href=\"/quotes/{build}\">Quote #{build} · {couple}</a>");
    let lead_link = format!("<a href=\"/leads/{inquiry}\">Inquiry · {couple}</a>");
    let catalog_link = format!(
        "<a href=\"/settings/catalog/coverage-scenes/{sparkler}\">Coverage scene · Sparkler Exit</a>"
    );
    for said in [
        "<td>Changed status New → Contacted</td>",
        "<td>Started a quote</td>",
        "<td>Added coverage</td>",
        "<li>Scene: Ceremony</li>",
        "<li>Operator: Lead Videographer</li>",
        "<td>Changed coverage</td>",
        "<li>Quantity: 1 → 2</li>",
        "<td>Added an add-on</td>",
        "<li>Add-on: Rush Delivery</li>",
        "<li>Price: $350.00</li>",
        "<td>Sent the proposal</td>",
        "<td>Added a coverage scene</td>",
        "<li>Name: Sparkler Exit</li>",
        "<li>Default hours: 0.50</li>",
        "<td>Created an API token</td>",
        "<li>Name: reports</li>",
        "<td>Logged in</td>",
        quote.as_str(),
        lead_link.as_str(),
        catalog_link.as_str(),
    ] {
        assert!(page.contains(said), "{said} in {page}");
    }
    let table = page
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    for internal in [
        "build #",
        "contributor #",
        "{\"",
        "{&#34;",
        "&quot;",
        "builds.",
        "catalog.",
        "auth.",
        "coverage_scenes",
        "api_token<",
    ] {
        assert!(!table.contains(internal), "{internal} in {table}");
    }
}

#[tokio::test]
async fn a_page_of_the_audit_log_reads_one_page_of_entries_at_100_000() {
    let app = TestApp::demo().await;
    // 100,000 entries about real quotes, inquiries and catalog rows, with ids in the details.
    sqlx::query(
        "INSERT INTO audit_log (action, entity_type, entity_id, details, \"timestamp\")
         SELECT CASE n % 3 WHEN 0 THEN 'builds.coverage.update' WHEN 1 THEN 'leads.inquiry.status'
                ELSE 'catalog.coverage-scenes.update' END,
                CASE n % 3 WHEN 0 THEN 'build' WHEN 1 THEN 'inquiry' ELSE 'coverage_scenes' END,
                CASE n % 3 WHEN 0 THEN (SELECT min(id) FROM builds)
                           WHEN 1 THEN (SELECT min(id) FROM inquiries)
                           ELSE (SELECT min(id) FROM coverage_scenes) END,
                jsonb_build_object('change', jsonb_build_object('coverage', n,
                    'after', jsonb_build_object('scene', 1, 'operator', 1, 'quantity', 2))),
                now() - n * interval '1 second'
         FROM generate_series(1, 100000) n",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("ANALYZE audit_log")
        .execute(&app.db)
        .await
        .unwrap();
    let sql = projectflo::history::log::query(&Default::default(), "UTC")
        .sql()
        .to_string();
    let (at, id): (chrono::DateTime<chrono::Utc>, i32) = sqlx::query_as(
        "SELECT \"timestamp\", id FROM audit_log ORDER BY \"timestamp\" DESC, id DESC
         OFFSET 60000 LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    crate::quotes::assert_time_pages_read_one_page(&app.db, "the audit log", &sql, at, id).await;
    // The names come with the page: an owner's page answers with every entry in words.
    let owner = app.demo_login("Owner").await;
    let started = std::time::Instant::now();
    let page = owner.get("/settings/audit").await.text().await.unwrap();
    assert!(page.contains("<td>Changed coverage</td>"), "{page}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
