//! Postponement, reminders, the invoice PDF and email: moving a booked wedding moves only the
//! unpaid due dates that count from it (shown first, audited, bad dates change nothing);
//! reminders go out once per stage, never for paid invoices; the PDF and the email.
use crate::billing::{assert_invariants, pay};
use crate::helpers::TestApp;
use crate::helpers::build_of;
use chrono::{Days, NaiveDate};
use projectflo::clock::Clock;
use serde_json::json;

/// Book Sofia (the built-in schedule: the deposit on booking, the balance 30 days before the
/// wedding): (project, deposit invoice, balance invoice, wedding day).
pub async fn book_sofia(app: &TestApp) -> (i32, i32, i32, NaiveDate) {
    let sales = app.demo_login("Sales").await;
    let sofia = build_of(app, "sofia.garcia@example.com").await;
    let booked = sales
        .post_form(
            &format!("/quotes/{sofia}/book"),
            &[("reason", "Signed on paper")],
        )
        .await;
    assert_eq!(booked.status(), 303);
    sqlx::query_as(
        "SELECT p.id, (SELECT id FROM invoices WHERE project_id = p.id AND description = 'Deposit'),
                (SELECT id FROM invoices WHERE project_id = p.id AND description = 'Balance'),
                p.wedding_date
         FROM builds b JOIN projects p ON p.id = b.project_id WHERE b.id = $1",
    )
    .bind(sofia)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Every due date of the project, the wedding day (project and inquiry) and the audit count.
async fn state(app: &TestApp, project: i32) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws(' | ', (SELECT string_agg(id || ':' || due_date || ':' || status, ',' ORDER BY id)
                                  FROM invoices WHERE project_id = p.id),
                p.wedding_date, (SELECT max(i.wedding_date) FROM inquiries i JOIN builds b
                                 ON b.inquiry_id = i.id WHERE b.project_id = p.id),
                (SELECT count(*) FROM audit_log WHERE action = 'projects.postpone'))
         FROM projects p WHERE p.id = $1",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

pub async fn due(app: &TestApp, invoice: i32) -> NaiveDate {
    sqlx::query_scalar("SELECT due_date FROM invoices WHERE id = $1")
        .bind(invoice)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn postponing_previews_then_moves_only_unpaid_wedding_relative_due_dates() {
    let app = TestApp::demo().await;
    let (project, deposit, balance, wedding) = book_sofia(&app).await;
    // A paid invoice that counted from the wedding too: it stays.
    let paid: i32 = sqlx::query_scalar(
        "INSERT INTO invoices (project_id, invoice_number, issue_date, due_date, total_amount,
                               amount_paid, status, description, due_rule, due_days)
         VALUES ($1, 'T-PAID', now()::date, $2, 100, 100, 'Paid', 'Paid early', 'before_wedding', 10)
         RETURNING id",
    )
    .bind(project)
    .bind(wedding - Days::new(10))
    .fetch_one(&app.db)
    .await
    .unwrap();
    let owner = app.demo_login("Owner").await;
    let page = owner
        .get(&format!("/invoices/{balance}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/projects/{project}/postpone")),
        "{page}"
    );
    let before = state(&app, project).await;
    let (deposit_due, balance_due) = (due(&app, deposit).await, due(&app, balance).await);

    // Bad dates: 422 by the field, nothing changed; an unknown project is a 404.
    let path = format!("/projects/{project}/postpone");
    for bad in ["2027-13-01", "soon", "2001-01-01", &wedding.to_string()] {
        let preview = owner.get(&format!("{path}?wedding_date={bad}")).await;
        assert_eq!(preview.status(), 422, "{bad}");
        assert!(
            preview
                .text()
                .await
                .unwrap()
                .contains("id=\"error-wedding_date\"")
        );
        let post = owner.post_form(&path, &[("wedding_date", bad)]).await;
        assert_eq!(post.status(), 422, "{bad}");
    }
    assert_eq!(owner.get("/projects/999999/postpone").await.status(), 404);
    assert_eq!(
        owner
            .post_form(
                "/projects/999999/postpone",
                &[("wedding_date", "2030-01-01")]
            )
            .await
            .status(),
        404
    );
    assert_eq!(state(&app, project).await, before);

    // The preview: the balance moves by 30 days, nothing else is listed; nothing changes yet.
    let to = wedding + Days::new(30);
    let preview = owner.get(&format!("{path}?wedding_date={to}")).await;
    assert_eq!(preview.status(), 200);
    let html = preview.text().await.unwrap();
    let moved_to = balance_due + Days::new(30);
    assert!(
        html.contains(&moved_to.format("%b %-d, %Y").to_string()),
        "{html}"
    );
    assert!(html.contains(&format!("/invoices/{balance}")), "{html}");
    assert!(!html.contains(&format!("/invoices/{deposit}\"")), "{html}");
    assert!(!html.contains("T-PAID"), "{html}");
    assert_eq!(state(&app, project).await, before);

    // Applied: the wedding (project and inquiry) and the balance move; the deposit (on booking)
    // and the paid one stay; audited with what moved.
    let done = owner
        .post_form(&path, &[("wedding_date", &to.to_string())])
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(due(&app, balance).await, moved_to);
    let status: String = sqlx::query_scalar("SELECT status FROM invoices WHERE id = $1")
        .bind(balance)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "Sent");
    assert_eq!(due(&app, deposit).await, deposit_due);
    assert_eq!(due(&app, paid).await, wedding - Days::new(10));
    let (p_day, i_day): (NaiveDate, NaiveDate) = sqlx::query_as(
        "SELECT p.wedding_date, i.wedding_date FROM projects p JOIN builds b ON b.project_id = p.id
         JOIN inquiries i ON i.id = b.inquiry_id WHERE p.id = $1",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((p_day, i_day), (to, to));
    let details: serde_json::Value = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'projects.postpone' AND entity_id = $1",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(details["moved"].as_array().unwrap().len(), 1, "{details}");
    assert_eq!(details["moved"][0]["invoice"], balance);
    let log = owner.get("/settings/audit").await.text().await.unwrap();
    assert!(log.contains("Moved the wedding date"), "{log}");
    // Sales (bookings.manage) may; the Bookkeeper may not, and sees no link.
    let keeper = app.demo_login("Bookkeeper").await;
    assert_eq!(keeper.get(&path).await.status(), 403);
    let page = keeper
        .get(&format!("/invoices/{balance}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&path), "{page}");
}

#[tokio::test]
async fn reminders_go_out_once_per_stage_and_never_for_paid_invoices() {
    let app = TestApp::demo().await;
    let (_, deposit, balance, _) = book_sofia(&app).await;
    let keeper = app.demo_login("Bookkeeper").await;
    let owed: String = sqlx::query_scalar("SELECT total_amount::text FROM invoices WHERE id = $1")
        .bind(deposit)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let paid = pay(&keeper, deposit, json!({"amount": owed, "method": "Cash"})).await;
    assert_eq!(paid.status(), 201);
    let balance_due = due(&app, balance).await;
    let settings = projectflo::config::Settings::defaults();
    let at = |day: NaiveDate| {
        // Noon in the studio's zone (America/Los_Angeles in the demo) is 20:00 UTC.
        Clock::Fixed(day.and_hms_opt(20, 0, 0).unwrap().and_utc())
    };
    let sent = |id: i32| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT stage FROM invoice_reminders WHERE invoice_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&db)
            .await
            .unwrap()
        }
    };
    let sweep = |clock: Clock| {
        let (db, settings) = (app.db.clone(), settings.clone());
        async move {
            projectflo::billing::jobs::sweep(&db, &settings, &clock)
                .await
                .unwrap()
        }
    };
    // Eight days before: nothing yet. Seven days before, twice: one reminder.
    sweep(at(balance_due - Days::new(8))).await;
    assert!(sent(balance).await.is_empty());
    sweep(at(balance_due - Days::new(7))).await;
    sweep(at(balance_due - Days::new(7))).await;
    sweep(at(balance_due - Days::new(2))).await;
    assert_eq!(sent(balance).await, ["before"]);
    // On the due day, then overdue two days after and weekly, at most three times however
    // often it runs.
    sweep(at(balance_due)).await;
    sweep(at(balance_due + Days::new(1))).await;
    assert_eq!(sent(balance).await, ["before", "due"]);
    for days in [2, 2, 3, 9, 9, 16, 23, 30, 60] {
        sweep(at(balance_due + Days::new(days))).await;
    }
    assert_eq!(
        sent(balance).await,
        ["before", "due", "overdue-1", "overdue-2", "overdue-3"]
    );
    // The paid deposit never got one.
    assert!(sent(deposit).await.is_empty());
    // Through the outbox, to the couple, with the portal link; on the invoice page.
    let mails: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM communications_log
         WHERE notes LIKE 'To: sofia.garcia@example.com%' AND notes LIKE '%/portal/invoices/' || $1 || '%'
           AND notes LIKE '%reminder%'",
    )
    .bind(balance)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(mails, 5);
    let page = keeper
        .get(&format!("/invoices/{balance}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Reminder sent on"), "{page}");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn reminder_settings_are_refused_by_the_field() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let path = "/settings/payment-schedules/reminders";
    let bad = owner
        .post_form(
            path,
            &[
                ("reminder_days_before", "-1"),
                ("reminder_overdue_every_days", "7"),
                ("reminder_overdue_max", "3"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("id=\"error-reminder_days_before\"")
    );
    let bad = owner
        .post_form(
            path,
            &[
                ("reminder_days_before", "3"),
                ("reminder_first_overdue_days", "0"),
                ("reminder_overdue_every_days", "14"),
                ("reminder_overdue_max", "2"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let good = owner
        .post_form(
            path,
            &[
                ("reminder_days_before", "3"),
                ("reminder_first_overdue_days", "5"),
                ("reminder_overdue_every_days", "14"),
                ("reminder_overdue_max", "2"),
            ],
        )
        .await;
    assert_eq!(good.status(), 303);
    let saved: (i32, bool, i32, i32, i32) = sqlx::query_as(
        "SELECT reminder_days_before, reminder_on_due_day, reminder_first_overdue_days,
                reminder_overdue_every_days, reminder_overdue_max
         FROM studio_settings",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // The due-day box left unticked: no reminder on the day.
    assert_eq!(saved, (3, false, 5, 14, 2));
}

#[tokio::test]
async fn the_invoice_pdf_and_email_with_its_tax() {
    let app = TestApp::demo().await;
    let (_, deposit, _, _) = book_sofia(&app).await;
    let keeper = app.demo_login("Bookkeeper").await;
    let (number, tax): (String, rust_decimal::Decimal) =
        sqlx::query_as("SELECT invoice_number, tax_amount FROM invoices WHERE id = $1")
            .bind(deposit)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = keeper
        .get(&format!("/invoices/{deposit}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("invoice.pdf"), "{page}");
    if !tax.is_zero() {
        assert!(page.contains("id=\"invoice-tax\""), "{page}");
    }
    let pdf = keeper
        .get(&format!("/invoices/{deposit}/invoice.pdf"))
        .await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let needle = format!("(Invoice {number})");
    assert!(bytes.windows(needle.len()).any(|w| w == needle.as_bytes()));
    assert_eq!(
        keeper.get("/invoices/999999/invoice.pdf").await.status(),
        404
    );

    let emailed = keeper
        .post_form(&format!("/invoices/{deposit}/email"), &[])
        .await;
    assert_eq!(emailed.status(), 303);
    let mails: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM communications_log
         WHERE notes LIKE 'To: sofia.garcia@example.com%' AND notes LIKE '%invoice ' || $1 || '%'
           AND notes LIKE '%/portal/invoices/' || $2 || '%'",
    )
    .bind(&number)
    .bind(deposit)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(mails, 1);
    assert_eq!(
        keeper
            .post_form("/invoices/999999/email", &[])
            .await
            .status(),
        404
    );
    // A void invoice is not emailed (409), nothing queued.
    let void: i32 = sqlx::query_scalar("SELECT id FROM invoices WHERE status = 'Void' LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM communications_log")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        keeper
            .post_form(&format!("/invoices/{void}/email"), &[])
            .await
            .status(),
        409
    );
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM communications_log")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn the_couple_downloads_their_invoice_pdf_and_sees_its_tax_in_the_portal() {
    let app = TestApp::demo().await;
    let (_, deposit, _, _) = book_sofia(&app).await;
    let link = app.last_link_to("sofia.garcia@example.com").await;
    let path = link.trim_start_matches(&app.url("")).to_string();
    let pw = "sofia's portal password";
    let set = app
        .post_form(&path, &[("password", pw), ("confirm", pw)])
        .await;
    assert_eq!(set.status(), 303);
    let couple = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    couple
        .post(app.url("/portal/login"))
        .form(&[("email", "sofia.garcia@example.com"), ("password", pw)])
        .send()
        .await
        .unwrap();
    let page = || async {
        couple
            .get(app.url(&format!("/portal/invoices/{deposit}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    // The demo studio charges no tax: no tax line. With tax in the invoice, its amount.
    assert!(!page().await.contains("Tax (included)"));
    sqlx::query("UPDATE invoices SET tax_amount = 24.75 WHERE id = $1")
        .bind(deposit)
        .execute(&app.db)
        .await
        .unwrap();
    let page = page().await;
    assert!(
        page.contains("Tax (included)") && page.contains("$24.75"),
        "{page}"
    );
    assert!(
        page.contains(&format!("/portal/invoices/{deposit}/invoice.pdf")),
        "{page}"
    );
    let pdf = couple
        .get(app.url(&format!("/portal/invoices/{deposit}/invoice.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    // Someone else's invoice: 404, as if it were not there.
    let other: i32 = sqlx::query_scalar(
        "SELECT i.id FROM invoices i JOIN projects p ON p.id = i.project_id
         WHERE p.project_name NOT LIKE 'Sofia%' LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let theirs = couple
        .get(app.url(&format!("/portal/invoices/{other}/invoice.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 404);
}
