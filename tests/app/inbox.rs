//! Notifications (issue 13): a couple opening a proposal version tells Owners and Sales once.
use crate::helpers::{Session, TestApp};

async fn scalar<T>(app: &TestApp, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// The share link of a new proposal version of `build`, sent by `s`.
async fn send(s: &Session, build: i32) -> String {
    let html = s
        .post_form(&format!("/quotes/{build}/proposal"), &[])
        .await
        .text()
        .await
        .unwrap();
    html.split("id=\"share-link\">")
        .nth(1)
        .unwrap_or_else(|| panic!("a share link: {html}"))
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

async fn viewed(app: &TestApp, build: i32, version: i32) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM notifications WHERE message = $1")
        .bind(format!(
            "Ava Thompson opened proposal #{build} (version {version})."
        ))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_couple_opening_a_proposal_version_tells_owners_and_sales_once() {
    let app = TestApp::demo().await;
    let ava: i32 = scalar(
        &app,
        "SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'ava.t@example.com'",
    )
    .await;
    let told: i64 = scalar(
        &app,
        "SELECT count(*) FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         WHERE r.name IN ('Owner', 'Sales')",
    )
    .await;
    assert!(told >= 2);
    let sales = app.demo_login("Sales").await;
    let v2 = send(&sales, ava).await;
    assert_eq!(viewed(&app, ava, 2).await, 0, "not opened yet");
    // The couple opens it twice: one notification for each Owner and Sales person.
    for _ in 0..2 {
        assert_eq!(app.client.get(&v2).send().await.unwrap().status(), 200);
    }
    assert_eq!(viewed(&app, ava, 2).await, told);
    let at: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
        "SELECT viewed_at FROM proposal_versions WHERE build_id = $1 AND version = 2",
    )
    .bind(ava)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(at.is_some());
    // Staff opening the link (logged in) do not count; the couple then does, once, even through
    // an older link that shows the newest version.
    let v3 = send(&sales, ava).await;
    assert_eq!(sales.client.get(&v3).send().await.unwrap().status(), 200);
    assert_eq!(viewed(&app, ava, 3).await, 0, "a staff member's view");
    let latest = format!("{v2}/latest");
    assert_eq!(app.client.get(&latest).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(&v3).send().await.unwrap().status(), 200);
    assert_eq!(viewed(&app, ava, 3).await, told);
    assert_eq!(viewed(&app, ava, 2).await, told, "still once for version 2");
}
