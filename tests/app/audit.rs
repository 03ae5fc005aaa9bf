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
    let all = owner.get("/settings/audit").await.text().await.unwrap();
    assert!(all.contains("catalog.coverage-scenes.create") && all.contains("auth.token.create"));
    let by_jordan = owner
        .get(&format!("/settings/audit?person={jordan}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        by_jordan.contains("catalog.coverage-scenes.create")
            && !by_jordan.contains("auth.token.create")
    );
    let tokens = owner
        .get("/settings/audit?entity=api_token")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        tokens.contains("auth.token.create") && !tokens.contains("catalog.coverage-scenes.create")
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
