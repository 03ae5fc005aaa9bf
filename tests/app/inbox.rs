//! Notifications (issue 13): the unread count in every staff page's header and the Inbox, each
//! person's own only; opening one marks it read and goes to its record; "Mark all read"; the
//! inbox and its API walk page by page; a couple opening a proposal version tells Owners and
//! Sales once; the studio chooses which kinds also email the owner; proposals' open days.
use crate::helpers::{Session, TestApp, assert_each_once, assert_problem, contributor};
use crate::quotes::rows_read_for_a_deep_page;
use serde_json::{Value, json};

async fn scalar<T>(app: &TestApp, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// The unread count in a page's header, None when there is none to show.
fn header_count(html: &str) -> Option<String> {
    html.split("id=\"unread-count\">")
        .nth(1)
        .map(|t| t.split('<').next().unwrap().to_string())
}

/// The notifications on an inbox page, by their `data-notification` marks.
fn rows(html: &str) -> Vec<i64> {
    html.split("data-notification=\"")
        .skip(1)
        .map(|t| t.split('"').next().unwrap().parse().unwrap())
        .collect()
}

const MAYA: &str = "maya@goldenhour.example";
const PRIYA: &str = "priya@goldenhour.example";

#[tokio::test]
async fn the_header_and_the_inbox_show_my_notifications_only_and_opening_one_marks_it_read() {
    let app = TestApp::demo().await;
    let (maya, priya) = (
        contributor(&app, MAYA).await,
        contributor(&app, PRIYA).await,
    );
    // The demo told the Owner and Sales: Ava opened her proposal, Sofia accepted hers.
    let sofia_build: i32 = scalar(
        &app,
        "SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'sofia.garcia@example.com'",
    )
    .await;
    let accepted: i32 = sqlx::query_scalar(
        "SELECT id FROM notifications WHERE recipient_contributor_id = $1
         AND message = 'Sofia Garcia accepted proposal #' || $2 || '.'",
    )
    .bind(maya)
    .bind(sofia_build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let theirs: i32 = sqlx::query_scalar(
        "INSERT INTO notifications (recipient_contributor_id, message, link_url)
         VALUES ($1, 'Only for Priya', '/leads') RETURNING id",
    )
    .bind(priya)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let owner = app.demo_login("Owner").await;
    let sales = app.demo_login("Sales").await;
    // Every staff page's header: my unread notifications, not anyone else's.
    for page in ["/", "/leads", "/settings/studio"] {
        let html = owner.get(page).await.text().await.unwrap();
        assert_eq!(header_count(&html).as_deref(), Some("2"), "{page}");
        assert!(html.contains("href=\"/inbox\""), "{page}: the inbox link");
    }
    let html = sales.get("/").await.text().await.unwrap();
    assert_eq!(header_count(&html).as_deref(), Some("3"));
    // The inbox: mine, newest first, unread marked; not Priya's.
    let inbox = owner.get("/inbox").await.text().await.unwrap();
    assert!(!inbox.contains("Only for Priya"), "{inbox}");
    assert!(inbox.contains(&format!(
        "data-notification=\"{accepted}\" class=\"unread\""
    )));
    assert!(inbox.contains("Sofia Garcia accepted proposal"));
    // Two unread, and Olivia's booking, two approved changes and three payments (by bank
    // transfer, by card, online), read days ago; Chloe's booking and her two payments, read
    // months ago.
    assert_eq!(rows(&inbox).len(), 11);
    assert_eq!(inbox.matches("class=\"unread\"").count(), 2, "{inbox}");
    assert!(rows(&inbox).contains(&(accepted as i64)), "{inbox}");
    assert!(
        sales
            .get("/inbox")
            .await
            .text()
            .await
            .unwrap()
            .contains("Only for Priya")
    );
    // Another person's notification can be neither opened nor marked read: 404, nothing changes.
    let resp = owner.post_form(&format!("/inbox/{theirs}/open"), &[]).await;
    assert_eq!(resp.status(), 404);
    let resp = owner
        .post_json(&format!("/api/v1/notifications/{theirs}/read"), &json!({}))
        .await;
    assert_problem(resp, 404).await;
    let still: bool = sqlx::query_scalar("SELECT NOT is_read FROM notifications WHERE id = $1")
        .bind(theirs)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(still, "Priya's is still unread");
    // Opening one through the inbox marks it read and goes to its record.
    let resp = owner
        .post_form(&format!("/inbox/{accepted}/open"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/quotes/{sofia_build}").as_str()
    );
    let read: bool = sqlx::query_scalar("SELECT is_read FROM notifications WHERE id = $1")
        .bind(accepted)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(read);
    let inbox = owner.get("/inbox").await.text().await.unwrap();
    assert_eq!(header_count(&inbox).as_deref(), Some("1"));
    assert!(inbox.contains(&format!("data-notification=\"{accepted}\" class=\"read\"")));
    assert!(inbox.contains(&format!(
        "<a href=\"/quotes/{sofia_build}\">Sofia Garcia accepted"
    )));
    // Mark all read: mine only.
    let resp = owner.post_form("/inbox/read-all", &[]).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/inbox?done=read");
    let inbox = owner.get("/inbox?done=read").await.text().await.unwrap();
    assert_eq!(header_count(&inbox), None, "nothing unread");
    assert!(inbox.contains("Nothing unread."));
    let html = sales.get("/").await.text().await.unwrap();
    assert_eq!(header_count(&html).as_deref(), Some("3"));
    // The API: my notifications, and marking one read.
    let token = sales.api_token("inbox").await;
    let (listed, _) = sales.walk_api(&token, "/api/v1/notifications").await;
    let ids: Vec<i64> = listed.iter().map(|n| n["id"].as_i64().unwrap()).collect();
    let mine: Vec<i64> = sqlx::query_scalar(
        "SELECT id::bigint FROM notifications WHERE recipient_contributor_id = $1",
    )
    .bind(priya)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_each_once(ids, mine, "Priya's notifications");
    assert_eq!(listed[0]["message"], "Only for Priya");
    assert_eq!(listed[0]["is_read"], false);
    let resp = sales
        .post_json(&format!("/api/v1/notifications/{theirs}/read"), &json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    let n: Value = resp.json().await.unwrap();
    assert_eq!(
        (n["is_read"].as_bool(), n["link_url"].as_str()),
        (Some(true), Some("/leads"))
    );
    let resp = sales
        .post_json("/api/v1/notifications/read-all", &json!({}))
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["marked"], 2);
    let html = sales.get("/").await.text().await.unwrap();
    assert_eq!(header_count(&html), None);
}

#[tokio::test]
async fn the_inbox_walks_page_by_page_newest_first_and_stays_fast() {
    let app = TestApp::demo().await;
    let maya = contributor(&app, MAYA).await;
    // 130 more, many at the very same moment, some read; and plenty for someone else.
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message, link_url, is_read, created_at)
         SELECT $1, 'walk ' || n, '/leads', n % 3 = 0,
                timestamptz '2026-01-01Z' + (n % 5) * interval '1 hour'
         FROM generate_series(1, 130) n",
    )
    .bind(maya)
    .execute(&app.db)
    .await
    .unwrap();
    let all: Vec<i64> = sqlx::query_scalar(
        "SELECT id::bigint FROM notifications WHERE recipient_contributor_id = $1
         ORDER BY created_at DESC, id DESC",
    )
    .bind(maya)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let s = app.demo_login("Owner").await;
    let (seen, pages) = s.walk("/inbox", rows).await;
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen, all, "newest first, each once");
    let html = s.get("/").await.text().await.unwrap();
    assert_eq!(
        header_count(&html).as_deref(),
        Some("89"),
        "2 from the demo and 87 of the 130"
    );
    let token = s.api_token("walk").await;
    let (listed, _) = s.walk_api(&token, "/api/v1/notifications").await;
    let listed: Vec<i64> = listed.iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert_eq!(listed, all);
    assert_eq!(s.get("/inbox?after=nope").await.status(), 422);
    let client = reqwest::Client::new();
    let resp = client
        .get(s.url("/api/v1/notifications?after=nope"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(resp, 422).await["errors"][0]["field"],
        "after"
    );
    // Past a hundred unread, the header says 99+ and stops counting.
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message)
         SELECT $1, 'more ' || n FROM generate_series(1, 100) n",
    )
    .bind(maya)
    .execute(&app.db)
    .await
    .unwrap();
    let html = s.get("/").await.text().await.unwrap();
    assert_eq!(header_count(&html).as_deref(), Some("99+"));
    // At 100,000 notifications, a deep page and the header's count each read about a page.
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message, is_read, created_at)
         SELECT CASE WHEN n % 2 = 0 THEN $1 ELSE co.id END, 'many ' || n, n % 7 <> 0,
                timestamptz '2025-01-01Z' + n * interval '1 minute'
         FROM generate_series(1, 100000) n
         CROSS JOIN LATERAL (SELECT min(id) AS id FROM contributors WHERE id <> $1) co",
    )
    .bind(maya)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("ANALYZE notifications")
        .execute(&app.db)
        .await
        .unwrap();
    let (at, id): (chrono::DateTime<chrono::Utc>, i32) = sqlx::query_as(
        "SELECT created_at, id FROM notifications WHERE recipient_contributor_id = $1
         ORDER BY created_at DESC, id DESC OFFSET 20000 LIMIT 1",
    )
    .bind(maya)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let read = rows_read_for_a_deep_page(
        &app.db,
        "int, timestamptz, int, bigint",
        projectflo::inbox::notifications::PAGE_SQL,
        &format!("{maya}, '{}', {id}, 51", at.to_rfc3339()),
    )
    .await;
    assert!(read <= 120, "a deep inbox page read {read} rows");
    // The header's count: bounded by its cap for someone with many unread, and a few index
    // entries for someone with few, however many notifications others have.
    let priya = contributor(&app, PRIYA).await;
    for (who, most) in [(maya, 200), (priya, 20)] {
        let read = rows_read_for_a_deep_page(
            &app.db,
            "int",
            &projectflo::http::layout::load_sql(),
            &who.to_string(),
        )
        .await;
        assert!(read <= most, "the header's count read {read} rows");
    }
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
    let inbox = sales.get("/inbox").await.text().await.unwrap();
    assert!(
        inbox.contains(&format!("Ava Thompson opened proposal #{ava} (version 2).")),
        "{inbox}"
    );
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

/// The studio settings as the page's form sends them (from the API's view of them), with
/// `changes` in place of the fields they name.
async fn studio_form(s: &Session, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let v: Value = s.get("/api/v1/studio-settings").await.json().await.unwrap();
    let mut form: Vec<(String, String)> = v
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.as_str() != "notify_email_kinds")
        .map(|(k, v)| {
            let text = match v {
                Value::String(t) => t.clone(),
                Value::Array(a) => a
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .filter(|(k, _)| !changes.iter().any(|c| c.0 == k))
        .collect();
    form.extend(changes.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form
}

async fn post_settings(s: &Session, form: &[(String, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    s.post_form("/settings/studio", &fields).await
}

async fn valid_days(app: &TestApp) -> i32 {
    scalar(app, "SELECT proposal_valid_days FROM studio_settings").await
}

#[tokio::test]
async fn how_long_proposals_stay_open_is_a_studio_setting() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let page = s.get("/settings/studio").await.text().await.unwrap();
    assert!(
        page.contains("name=\"proposal_valid_days\" value=\"30\""),
        "{page}"
    );
    for bad in ["0", "400", "ten", ""] {
        let resp = post_settings(&s, &studio_form(&s, &[("proposal_valid_days", bad)]).await).await;
        assert_eq!(resp.status(), 422, "{bad}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(
                "id=\"error-proposal_valid_days\">enter a whole number of days from 1 to 365<"
            ),
            "{bad}: {html}"
        );
        assert!(html.contains(&format!("name=\"proposal_valid_days\" value=\"{bad}\"")));
        assert_eq!(valid_days(&app).await, 30, "{bad}: nothing saved");
    }
    let resp = post_settings(&s, &studio_form(&s, &[("proposal_valid_days", "45")]).await).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(valid_days(&app).await, 45);
    let page = s.get("/settings/studio").await.text().await.unwrap();
    assert!(page.contains("name=\"proposal_valid_days\" value=\"45\""));
    // The API: shown, saved, refused by the field.
    let mut v: Value = s.get("/api/v1/studio-settings").await.json().await.unwrap();
    assert_eq!(v["proposal_valid_days"], "45");
    for bad in [json!(0), json!(400), json!("366"), json!("1.5")] {
        v["proposal_valid_days"] = bad.clone();
        let resp = s.put_json("/api/v1/studio-settings", &v).await;
        let p = assert_problem(resp, 422).await;
        assert_eq!(p["errors"][0]["field"], "proposal_valid_days", "{bad}: {p}");
        assert_eq!(valid_days(&app).await, 45, "{bad}: nothing saved");
    }
    v["proposal_valid_days"] = json!(365);
    let resp = s.put_json("/api/v1/studio-settings", &v).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["proposal_valid_days"],
        "365"
    );
    assert_eq!(valid_days(&app).await, 365);
    // A proposal sent now is open for as long.
    let ava: i32 = scalar(
        &app,
        "SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'ava.t@example.com'",
    )
    .await;
    send(&s, ava).await;
    let days: i32 = sqlx::query_scalar(
        "SELECT valid_until - (sent_at AT TIME ZONE (SELECT time_zone FROM studio_settings))::date
         FROM proposal_versions WHERE build_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(ava)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(days, 365);
}

async fn emails_to(app: &TestApp, email: &str, like: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM communications_log
         WHERE notes LIKE 'To: ' || $1 || '%' AND notes LIKE $2",
    )
    .bind(email)
    .bind(like)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_studio_chooses_which_notifications_also_email_the_owner() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let lead = |email: &'static str| {
        let app = &app;
        async move {
            let fields = [
                ("first_name", "Noor"),
                ("last_name", "Haddad"),
                ("email", email),
            ];
            assert_eq!(app.post_form("/inquire", &fields).await.status(), 200);
        }
    };
    // None by default: the inbox only.
    let page = s.get("/settings/studio").await.text().await.unwrap();
    assert!(!page.contains(" checked"), "{page}");
    lead("noor.1@example.net").await;
    assert_eq!(
        emails_to(&app, MAYA, "%New inquiry from Noor Haddad%").await,
        0
    );
    // A kind that is not one is refused by the field; nothing changes.
    let form = studio_form(&s, &[("notify_email_kinds", "new_lead")]).await;
    let mut bad = form.clone();
    bad.push(("notify_email_kinds".into(), "payments".into()));
    let resp = post_settings(&s, &bad).await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("id=\"error-notify_email_kinds\"")
    );
    let kinds: Vec<String> = scalar(&app, "SELECT notify_email_kinds FROM studio_settings").await;
    assert!(kinds.is_empty());
    // New leads on: the Owner gets an email with the link to the lead, and the inbox note.
    assert_eq!(post_settings(&s, &form).await.status(), 303);
    let page = s.get("/settings/studio").await.text().await.unwrap();
    assert!(page.contains("value=\"new_lead\" checked"), "{page}");
    assert!(!page.contains("value=\"proposal_accepted\" checked"));
    let v: Value = s.get("/api/v1/studio-settings").await.json().await.unwrap();
    assert_eq!(v["notify_email_kinds"], json!(["new_lead"]));
    lead("noor.2@example.net").await;
    assert_eq!(
        emails_to(&app, MAYA, "%New inquiry from Noor Haddad%").await,
        1
    );
    let inquiry: i32 = scalar(
        &app,
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'noor.2@example.net'",
    )
    .await;
    assert_eq!(
        app.last_link_to(MAYA).await,
        app.url(&format!("/leads/{inquiry}"))
    );
    // Sales are told in their inbox only, never by email.
    assert_eq!(emails_to(&app, PRIYA, "%").await, 0);
    // A kind that is off sends nothing: accepting Ava's proposal reaches the inbox only.
    let mut v = v;
    v["notify_email_kinds"] = json!(["proposal_viewed"]);
    assert_eq!(
        s.put_json("/api/v1/studio-settings", &v).await.status(),
        200
    );
    let ava: i32 = scalar(
        &app,
        "SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'ava.t@example.com'",
    )
    .await;
    let link = send(&s, ava).await;
    assert_eq!(app.client.get(&link).send().await.unwrap().status(), 200);
    assert_eq!(
        emails_to(&app, MAYA, "%Ava Thompson opened proposal%").await,
        1
    );
    let path = link.trim_start_matches(&app.url(""));
    let accept = [("name", "Ava Thompson"), ("version", "2")];
    let resp = app.post_form(&format!("{path}/accept"), &accept).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(emails_to(&app, MAYA, "%accepted proposal%").await, 0);
    let unread: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications n JOIN contributors co ON co.id = n.recipient_contributor_id
         JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = $1 AND n.message = 'Ava Thompson accepted proposal #' || $2 || '.'",
    )
    .bind(MAYA)
    .bind(ava)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(unread, 1);
}
