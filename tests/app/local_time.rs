//! Every instant a page, the portal or an email shows is in the studio's time zone (its IANA
//! name, daylight saving included), never UTC.
use crate::helpers::TestApp;
use crate::portal::{couple, portal_login};
use chrono::{TimeZone, Utc};
use projectflo::clock::Clock;

/// 02:30 UTC on June 15 is 22:30 on June 14 in New York (EDT); 02:30 UTC on January 15 is
/// 21:30 on January 14 (EST).
const SUMMER: &str = "2026-06-15 02:30:00+00";
const SUMMER_LOCAL: &str = "Jun 14, 2026 22:30";
const WINTER: &str = "2026-01-15 02:30:00+00";
const WINTER_LOCAL: &str = "Jan 14, 2026 21:30";

async fn sql(app: &TestApp, query: &str) {
    sqlx::query(query).execute(&app.db).await.unwrap();
}

fn assert_local(page: &str, what: &str) {
    assert!(
        !page.contains("Jun 15, 2026 02:30") && !page.contains("Jan 15, 2026 02:30"),
        "{what} shows UTC: {page}"
    );
    assert!(!page.contains(" UTC"), "{what} says UTC: {page}");
}

#[tokio::test]
async fn staff_pages_and_the_portal_show_the_studios_local_time() {
    // The clock stands at the summer instant: "today" is pinned too.
    let now = Utc.with_ymd_and_hms(2026, 6, 15, 2, 30, 0).unwrap();
    let app = TestApp::demo_at(Clock::Fixed(now)).await;
    sql(
        &app,
        "UPDATE studio_settings SET time_zone = 'America/New_York'",
    )
    .await;
    let (build, inquiry, contact): (i32, i32, i32) = sqlx::query_as(
        "SELECT b.id, b.inquiry_id, i.contact_id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         ORDER BY b.id LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let owner = app.demo_login("Owner").await;
    // A call logged through the app, then dated at the two instants (the database's clock
    // wrote them; the test pins them).
    for notes in ["Summer call", "Winter call"] {
        let resp = owner
            .post_form(
                &format!("/leads/{inquiry}/communications"),
                &[("type", "Call"), ("notes", notes)],
            )
            .await;
        assert_eq!(resp.status(), 303);
    }
    sql(&app, &format!("UPDATE communications_log SET communication_date = '{SUMMER}' WHERE notes = 'Summer call'")).await;
    sql(&app, &format!("UPDATE communications_log SET communication_date = '{WINTER}' WHERE notes = 'Winter call'")).await;
    sql(&app, &format!(
        "UPDATE audit_log SET \"timestamp\" = CASE WHEN id = (SELECT min(id) FROM audit_log WHERE action = 'leads.communication.log')
             THEN '{SUMMER}'::timestamptz ELSE '{WINTER}'::timestamptz END
         WHERE action = 'leads.communication.log'"
    ))
    .await;
    sql(&app, &format!(
        "UPDATE builds SET proposal_sent_at = '{SUMMER}', accepted_at = '{SUMMER}', accepted_by = 'Ava',
                updated_at = '{SUMMER}' WHERE id = {build}"
    ))
    .await;

    // The two entries among the demo's many: the log filtered to the first half of 2026.
    let audit = owner
        .get("/settings/audit?from=2026-01-01&to=2026-06-30")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        audit.contains(SUMMER_LOCAL) && audit.contains(WINTER_LOCAL),
        "{audit}"
    );
    assert!(audit.contains("<th>When</th>"), "{audit}");
    assert_local(&audit, "the audit log");
    // Its date filter reads local days: the summer entry is on June 14 in New York.
    let june_14 = owner
        .get("/settings/audit?from=2026-06-14&to=2026-06-14")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        june_14.contains(SUMMER_LOCAL) && !june_14.contains(WINTER_LOCAL),
        "{june_14}"
    );
    let june_15 = owner
        .get("/settings/audit?from=2026-06-15&to=2026-06-15")
        .await
        .text()
        .await
        .unwrap();
    assert!(!june_15.contains(SUMMER_LOCAL), "{june_15}");

    for page in [format!("/leads/{inquiry}"), format!("/contacts/{contact}")] {
        let html = owner.get(&page).await.text().await.unwrap();
        assert!(
            html.contains(SUMMER_LOCAL) && html.contains(WINTER_LOCAL),
            "{page}: {html}"
        );
        assert_local(&html, &page);
    }
    let builder = owner
        .get(&format!("/quotes/{build}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        builder.contains(&format!("Sent {SUMMER_LOCAL}.")),
        "{builder}"
    );
    assert!(builder.contains("Accepted by Ava on Jun 14<"), "{builder}");
    assert_local(&builder, "the builder");
    let quotes = owner.get("/quotes").await.text().await.unwrap();
    assert!(quotes.contains(SUMMER_LOCAL), "{quotes}");
    // The couple's proposal page says the day they accepted, in the studio's zone.
    sqlx::query(&format!(
        "UPDATE proposal_versions SET token_hash = $1, accepted_at = '{SUMMER}', accepted_by = 'Ava'
         WHERE build_id = $2 AND version = 1"
    ))
    .bind(projectflo::crypto::token_hash("local-time-link"))
    .bind(build)
    .execute(&app.db)
    .await
    .unwrap();
    let proposal = app
        .get("/proposal/local-time-link")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        proposal.contains("Accepted by Ava on Jun 14, 2026."),
        "{proposal}"
    );

    // My account: a token used at the summer instant.
    owner.api_token("nightly export").await;
    sql(&app, &format!(
        "UPDATE api_tokens SET created_at = '{SUMMER}', last_used_at = '{SUMMER}' WHERE name = 'nightly export'"
    ))
    .await;
    let account = owner.get("/account").await.text().await.unwrap();
    assert!(
        account.contains("<td>Jun 14, 2026</td>") && account.contains(SUMMER_LOCAL),
        "{account}"
    );

    // The portal: a document added at the summer instant was added on June 14.
    let anna = couple(&app, "Anna", "anna@example.org").await;
    let doc: i32 = sqlx::query_scalar(
        "UPDATE documents SET upload_date = $1::timestamptz
         WHERE project_id IN (SELECT id FROM projects WHERE client_id = $2) RETURNING id",
    )
    .bind(SUMMER)
    .bind(anna.client_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let portal = portal_login(&app, &anna, "anna's portal password").await;
    let page = portal
        .get(app.url(&format!("/portal/documents/{doc}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<strong>Jun 14, 2026</strong>"), "{page}");
}
