//! The Invoices pages: the list (filter, keyset pages, one page of rows read at 100,000
//! invoices), the invoice page's forms (a refusal by the field, nothing changed), the couple's
//! invoice in the portal, and a payment recorded with the keyboard in Chromium.
use crate::billing::{assert_invariants, invoice, money, pay};
use crate::browser::{browser, login, type_in};
use crate::helpers::{TestApp, assert_each_once};
use fantoccini::Locator;
use serde_json::json;
use std::time::{Duration, Instant};

fn rows(html: &str) -> Vec<i64> {
    html.split("data-invoice=\"")
        .skip(1)
        .map(|t| t.split('"').next().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn the_list_filters_by_status_and_walks_every_invoice_once_newest_first() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (_, project) = invoice(&app, "100.00", 5).await;
    sqlx::query(
        "INSERT INTO invoices (project_id, invoice_number, issue_date, due_date, total_amount,
                               amount_paid, status)
         SELECT $1, 'W-' || n, current_date, current_date + 9, 10 * n,
                CASE WHEN n % 3 = 0 THEN 10 * n ELSE 0 END,
                CASE WHEN n % 3 = 0 THEN 'Paid' ELSE 'Sent' END
         FROM generate_series(1, 130) n",
    )
    .bind(project)
    .execute(&app.db)
    .await
    .unwrap();
    let all: Vec<i64> = sqlx::query_scalar("SELECT id::bigint FROM invoices ORDER BY id DESC")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let (seen, pages) = s.walk("/invoices", rows).await;
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen, all, "newest first, each once");
    let paid: Vec<i64> =
        sqlx::query_scalar("SELECT id::bigint FROM invoices WHERE status = 'Paid'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let (seen, _) = s.walk("/invoices?status=Paid", rows).await;
    assert_each_once(seen, paid, "Paid invoices");
    // The totals: what is owed on open invoices.
    let html = s.get("/invoices").await.text().await.unwrap();
    assert!(html.contains("id=\"total-outstanding\""), "{html}");
    assert_eq!(s.get("/invoices?status=Nope").await.status(), 422);
    assert_eq!(s.get("/invoices?after=nope").await.status(), 422);
    // The API walks the same list.
    let token = s.api_token("invoices").await;
    let (api, _) = s.walk_api(&token, "/api/v1/invoices?status=Sent").await;
    assert!(api.iter().all(|i| i["status"] == "Sent"));
    // Reached from the main navigation; not by roles without invoices.manage.
    assert!(html.contains("href=\"/invoices\""));
    let editor = app.demo_login("Editor").await;
    assert_eq!(editor.get("/invoices").await.status(), 403);
}

#[tokio::test]
async fn a_page_of_invoices_reads_one_page_of_rows_at_100_000() {
    let app = TestApp::demo().await;
    let (_, project) = invoice(&app, "100.00", 5).await;
    sqlx::query(
        "INSERT INTO invoices (project_id, invoice_number, issue_date, due_date, total_amount,
                               amount_paid, status)
         SELECT $1, 'X-' || n, current_date, current_date + (n % 60), 100, 0,
                (ARRAY['Sent', 'Paid', 'Paid', 'Paid', 'Overdue', 'Void'])[1 + n % 6]
         FROM generate_series(1, 100000) n",
    )
    .bind(project)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("ANALYZE invoices")
        .execute(&app.db)
        .await
        .unwrap();
    let deep: i32 =
        sqlx::query_scalar("SELECT id FROM invoices ORDER BY id DESC OFFSET 60000 LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    for (with_status, types, args) in [
        (false, "int, bigint", format!("{deep}, 51")),
        (true, "int, bigint, text", format!("{deep}, 51, 'Overdue'")),
        (
            true,
            "int, bigint, text",
            "2147483647, 51, 'Sent'".to_string(),
        ),
    ] {
        let sql = projectflo::billing::invoices::list_sql(with_status);
        let read = crate::quotes::rows_read_for_a_deep_page(&app.db, types, &sql, &args).await;
        assert!(read <= 120, "the invoices list read {read} rows ({args})");
    }
    let s = app.demo_login("Bookkeeper").await;
    let started = Instant::now();
    let resp = s.get("/invoices?status=Overdue").await;
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_payment_form_refuses_by_the_field_and_records_with_a_redirect() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (id, _) = invoice(&app, "800.00", 20).await;
    let path = format!("/invoices/{id}/payments");
    let before = money(&app, id).await;
    let form = |amount: &'static str, reference: &'static str| {
        [
            ("amount", amount),
            ("payment_date", ""),
            ("method", "Bank transfer"),
            ("transaction_id", reference),
        ]
    };
    let refused = s.post_form(&path, &form("900", "")).await;
    assert_eq!(refused.status(), 409);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"pay-amount-error\""), "{html}");
    assert!(html.contains("$800.00 is still owed"), "{html}");
    assert!(
        html.contains("value=\"900\""),
        "what was typed stays: {html}"
    );
    let refused = s.post_form(&path, &form("abc", "")).await;
    assert_eq!(refused.status(), 422);
    assert_eq!(money(&app, id).await, before);
    let done = s.post_form(&path, &form("300", "BANK-REF-9")).await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()["location"],
        format!("/invoices/{id}?done=payment")
    );
    let page = s
        .get(&format!("/invoices/{id}?done=payment"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("BANK-REF-9") && page.contains("Partially Paid"),
        "{page}"
    );
    let twice = s.post_form(&path, &form("10", "BANK-REF-9")).await;
    assert_eq!(twice.status(), 409);
    assert!(twice.text().await.unwrap().contains("already recorded"));
    assert_invariants(&app).await;
}

#[tokio::test]
async fn the_couple_sees_what_is_owed_and_their_payments() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let c = crate::portal::couple(&app, "Rosa", "rosa.pay@example.com").await;
    let id = c.records.iter().find(|r| r.0 == "invoices").unwrap().1;
    assert_eq!(
        pay(
            &s,
            id,
            json!({"amount": "260", "method": "Cheque", "transaction_id": "CHQ-1"})
        )
        .await
        .status(),
        201
    );
    let couple = crate::portal::portal_login(&app, &c, "rosa's portal password").await;
    let home = couple
        .get(app.url("/portal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("$1,000.00 to pay"), "{home}");
    let page = couple
        .get(app.url(&format!("/portal/invoices/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Partially Paid") && page.contains("$1,000.00"),
        "{page}"
    );
    assert!(
        page.contains("id=\"portal-payments\"") && page.contains("$260.00"),
        "{page}"
    );
    // A draft is the studio's own: not shown to the couple.
    sqlx::query("UPDATE invoices SET status = 'Draft' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    let draft = couple
        .get(app.url(&format!("/portal/invoices/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(draft.status(), 404);
}

#[tokio::test]
async fn a_payment_is_recorded_on_the_invoice_page_with_the_keyboard() {
    let app = TestApp::demo().await;
    let (id, _) = invoice(&app, "450.00", 20).await;
    let Some(c) = browser().await else { return };
    login(
        &c,
        &app,
        "grace@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    c.goto(&app.url(&format!("/invoices/{id}"))).await.unwrap();
    c.execute("window.__stillHere = true;", vec![])
        .await
        .unwrap();
    let status = |c: &fantoccini::Client| {
        let c = c.clone();
        async move {
            // htmx may swap the badge between finding it and reading it: read it again then.
            for _ in 0..50 {
                if let Ok(e) = c.find(Locator::Id("invoice-status")).await
                    && let Ok(t) = e.text().await
                {
                    return t;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("the invoice's status badge could not be read")
        }
    };
    c.wait()
        .for_element(Locator::Id("invoice-status"))
        .await
        .unwrap();
    assert_eq!(status(&c).await, "Sent");
    // Too much first: the message by the field, focus on it.
    let amount = c.find(Locator::Id("pay-amount")).await.unwrap();
    amount.send_keys("\u{E009}a").await.unwrap(); // Ctrl+A
    amount.send_keys("500").await.unwrap();
    amount.send_keys("\u{E007}").await.unwrap(); // Enter
    let error = c
        .wait()
        .for_element(Locator::Id("pay-amount-error"))
        .await
        .unwrap();
    assert!(error.text().await.unwrap().contains("$450.00"));
    // Then 150, with a reference, by the keyboard: Tab to the method, choose, Enter.
    let amount = c.find(Locator::Id("pay-amount")).await.unwrap();
    amount.send_keys("\u{E009}a").await.unwrap();
    amount.send_keys("150").await.unwrap();
    type_in(&c, Locator::Id("pay-reference"), "DEP-150").await;
    c.find(Locator::Id("pay-reference"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&c).await != "Partially Paid" {
        assert!(Instant::now() < deadline, "the status did not change");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let feedback = c.find(Locator::Id("payment-feedback")).await.unwrap();
    assert!(feedback.text().await.unwrap().contains("$150.00"));
    let owed = c.find(Locator::Id("invoice-owed")).await.unwrap();
    assert_eq!(owed.text().await.unwrap(), "$300.00");
    let still = c
        .execute("return window.__stillHere === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, json!(true), "answered in place, no page load");
    c.close().await.unwrap();
    assert!(
        money(&app, id)
            .await
            .starts_with("Partially Paid | 150.00 | 150.00")
    );
}
