//! The dashboard: every figure agrees with the rows it stands for, at any size.
use crate::helpers::TestApp;
use chrono::TimeZone;
use projectflo::clock::Clock;

/// The number shown in the row of the pipeline for `status`.
fn bar(html: &str, status: &str) -> i64 {
    let row = &html[html
        .find(&format!("<th scope=\"row\">{status}</th>"))
        .unwrap()..];
    let cell = &row[row.find("<td class=\"num\">").unwrap() + 16..];
    cell[..cell.find('<').unwrap()]
        .replace(',', "")
        .parse()
        .unwrap()
}

/// The big number of the key figure labelled `label`.
fn kpi(html: &str, label: &str) -> i64 {
    let before = &html[..html.find(label).unwrap()];
    let value = &before[before.rfind("kpi-value\">").unwrap() + 11..];
    value[..value.find('<').unwrap()]
        .replace(',', "")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_figures_agree_with_the_rows_they_count() {
    // 23:30 in New York is already the next day in UTC: "the next 90 days" start on the
    // studio's date.
    let clock = Clock::Fixed(chrono::Utc.with_ymd_and_hms(2026, 6, 11, 3, 30, 0).unwrap());
    let app = TestApp::demo_at(clock).await;
    sqlx::query("UPDATE studio_settings SET time_zone = 'America/New_York'")
        .execute(&app.db)
        .await
        .unwrap();
    projectflo::seed::scale(&app.db, clock, 400).await.unwrap();
    // Booked weddings on the studio's today (already tomorrow in UTC), on its 90th day, and
    // one day past it.
    sqlx::query(
        "INSERT INTO inquiries (contact_id, wedding_date, status)
         SELECT (SELECT min(id) FROM contacts), d, 'Booked'
         FROM unnest(ARRAY['2026-06-10', '2026-09-08', '2026-09-09']::date[]) d",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let html = app
        .demo_login("Owner")
        .await
        .get("/")
        .await
        .text()
        .await
        .unwrap();
    let count = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    for status in ["New", "Contacted", "Proposal Sent", "Booked", "Closed-Lost"] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM inquiries WHERE status::text = $1")
            .bind(status)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(bar(&html, status), n, "{status}");
    }
    let open = count(
        "SELECT count(*) FROM inquiries WHERE status IN ('New', 'Contacted', 'Proposal Sent')",
    )
    .await;
    assert_eq!(kpi(&html, "Open leads"), open);
    let soon = count(
        "SELECT count(*) FROM inquiries WHERE status = 'Booked'
           AND wedding_date BETWEEN '2026-06-10' AND date '2026-06-10' + 90",
    )
    .await;
    assert!(soon > 0, "booked weddings ahead in the scaled studio");
    assert_eq!(kpi(&html, "Booked weddings in the next 90 days"), soon);
    let newest: String = sqlx::query_scalar(
        "SELECT c.email FROM inquiries i JOIN contacts c ON c.id = i.contact_id
         ORDER BY i.created_at DESC, i.id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let latest = &html[html.find("Latest inquiries").unwrap()..];
    assert!(
        latest.contains(&newest),
        "the newest inquiry leads the list"
    );
}
