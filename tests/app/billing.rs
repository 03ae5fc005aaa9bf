//! Money: payments by hand, refunds, void, credit notes, the overdue sweep, idempotency. Every
//! refusal is a clear 4xx that changes nothing; the totals always equal the sums.
use crate::helpers::{Session, TestApp, assert_problem};
use crate::portal::couple;
use rust_decimal::Decimal;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

static N: AtomicUsize = AtomicUsize::new(0);

/// A booked couple's project with one Sent invoice of `total` due `due_in` days from the
/// studio's today; returns (invoice, project).
pub async fn invoice(app: &TestApp, total: &str, due_in: i64) -> (i32, i32) {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let tz: String = sqlx::query_scalar("SELECT time_zone FROM studio_settings")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let due = projectflo::clock::Clock::System.today(&tz) + chrono::Duration::days(due_in);
    let c = couple(app, &format!("Bill{n}"), &format!("bill{n}@example.com")).await;
    let id = c.records.iter().find(|r| r.0 == "invoices").unwrap().1;
    let project: i32 = sqlx::query_scalar(
        "UPDATE invoices SET total_amount = $2, due_date = $3 WHERE id = $1
         RETURNING project_id",
    )
    .bind(id)
    .bind(d(total))
    .bind(due)
    .fetch_one(&app.db)
    .await
    .unwrap();
    (id, project)
}

/// Everything money about an invoice and its project, as one line to compare.
pub async fn money(app: &TestApp, invoice: i32) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws(' | ', i.status, i.amount_paid, b.total_paid,
                (SELECT count(*) FROM payments), (SELECT count(*) FROM payment_refunds),
                i.void_reason)
         FROM invoices i LEFT JOIN builds b ON b.project_id = i.project_id WHERE i.id = $1",
    )
    .bind(invoice)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// The invariants, over every invoice and build: amount_paid = payments - refunds, and
/// total_paid = the sum over the project's invoices; no invoice paid past its total.
pub async fn assert_invariants(app: &TestApp) {
    let broken: Vec<String> = sqlx::query_scalar(
        "SELECT 'invoice ' || i.id FROM invoices i
         WHERE COALESCE(i.amount_paid, 0) <>
               COALESCE((SELECT sum(amount) FROM payments p WHERE p.invoice_id = i.id), 0)
             - COALESCE((SELECT sum(r.amount) FROM payment_refunds r
                         JOIN payments p ON p.id = r.payment_id WHERE p.invoice_id = i.id), 0)
            OR (i.total_amount > 0 AND i.amount_paid > i.total_amount)
         UNION ALL
         SELECT 'build ' || b.id FROM builds b WHERE b.project_id IS NOT NULL
           AND b.total_paid <> (SELECT COALESCE(sum(amount_paid), 0) FROM invoices
                                WHERE project_id = b.project_id)",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(broken.is_empty(), "invariants broken: {broken:?}");
}

pub async fn pay(s: &Session, invoice: i32, body: serde_json::Value) -> reqwest::Response {
    s.post_json(&format!("/api/v1/invoices/{invoice}/payments"), &body)
        .await
}

#[tokio::test]
async fn a_payment_by_hand_moves_the_invoice_and_the_project_and_never_overpays() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (id, _) = invoice(&app, "1000.00", 30).await;
    let before = money(&app, id).await;
    // Every bad input: a clear 4xx, nothing changed.
    for (body, status) in [
        (json!({"amount": "1000.01", "method": "Cash"}), 409),
        (json!({"amount": "0", "method": "Cash"}), 422),
        (json!({"amount": "-5", "method": "Cash"}), 422),
        (json!({"amount": "10.001", "method": "Cash"}), 422),
        (json!({"amount": "10", "method": "Bitcoin"}), 422),
        (
            json!({"amount": "10", "method": "Cash", "payment_date": "2199-01-01"}),
            409,
        ),
        (
            json!({"amount": "10", "method": "Cash", "payment_date": "June 1"}),
            422,
        ),
    ] {
        let resp = pay(&s, id, body.clone()).await;
        assert_problem(resp, status).await;
        assert_eq!(money(&app, id).await, before, "{body}");
    }
    // Well-formed but more than is owed: a conflict with the invoice, naming the field.
    let over = pay(&s, id, json!({"amount": "1000.01", "method": "Cash"})).await;
    let problem = assert_problem(over, 409).await;
    assert_eq!(problem["errors"][0]["field"], "amount", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("$1,000.00"),
        "{problem}"
    );
    assert_problem(
        pay(&s, 999_999, json!({"amount": "1", "method": "Cash"})).await,
        404,
    )
    .await;

    let first = pay(
        &s,
        id,
        json!({"amount": "400", "method": "Bank transfer", "transaction_id": "BT-1"}),
    )
    .await;
    assert_eq!(first.status(), 201);
    let body: serde_json::Value = first.json().await.unwrap();
    assert_eq!(body["invoice"]["status"], "Partially Paid");
    assert_eq!(body["invoice"]["owed"], "600.00");
    // The same transaction id again, here or on another invoice: 409, nothing changed.
    let (other, _) = invoice(&app, "50.00", 30).await;
    let after_first = money(&app, id).await;
    for target in [id, other] {
        let again = pay(
            &s,
            target,
            json!({"amount": "1", "method": "Bank transfer", "transaction_id": " BT-1 "}),
        )
        .await;
        let p = assert_problem(again, 409).await;
        assert!(p["detail"].as_str().unwrap().contains("already recorded"));
    }
    assert_eq!(money(&app, id).await, after_first);
    assert_eq!(money(&app, other).await.split(" | ").nth(1), Some("0.00"));
    // The rest: Paid; then nothing more is taken.
    let rest = pay(
        &s,
        id,
        json!({"amount": 600, "method": "Cheque", "transaction_id": "CHQ 77"}),
    )
    .await;
    assert_eq!(rest.status(), 201);
    let paid = money(&app, id).await;
    assert!(paid.starts_with("Paid | 1000.00 | 1000.00"), "{paid}");
    assert_problem(
        pay(&s, id, json!({"amount": "1", "method": "Cash"})).await,
        409,
    )
    .await;
    assert_eq!(money(&app, id).await, paid);
    // Staff are told: the Owner and the Bookkeeper, linking to the invoice.
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications n JOIN contributors co ON co.id = n.recipient_contributor_id
         JOIN roles r ON r.id = co.role_id
         WHERE n.link_url = $1 AND r.name IN ('Owner', 'Bookkeeper') AND n.message LIKE 'Payment of%'",
    )
    .bind(format!("/invoices/{id}"))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        told >= 4,
        "two payments, told to the Owner and the Bookkeeper: {told}"
    );
    // A Sales person may not record payments.
    let sales = app.demo_login("Sales").await;
    assert_problem(
        pay(&sales, other, json!({"amount": "1", "method": "Cash"})).await,
        403,
    )
    .await;
    assert_invariants(&app).await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (id, _) = invoice(&app, "300.00", 30).await;
    let send = |key: &str, amount: &str| {
        s.client
            .post(s.url(&format!("/api/v1/invoices/{id}/payments")))
            .header("x-csrf-token", &s.csrf)
            .header("Idempotency-Key", key)
            .json(&json!({"amount": amount, "method": "Card"}))
            .send()
    };
    let first = send("key-1", "100").await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    let after = money(&app, id).await;
    // The same request again (100.00 is 100): the first answer, and no second payment.
    let again = send("key-1", "100.00").await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), first);
    assert_eq!(money(&app, id).await, after);
    // The same key with another amount: 422 naming the header, nothing changed.
    let other = assert_problem(send("key-1", "50").await.unwrap(), 422).await;
    assert_eq!(other["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(money(&app, id).await, after);
    // A key that is not one: 422. Another key: a new payment.
    assert_problem(send("", "50").await.unwrap(), 422).await;
    assert_eq!(send("key-2", "50").await.unwrap().status(), 201);
    // After 24 hours the key is free again.
    sqlx::query("UPDATE api_idempotency SET created_at = now() - interval '25 hours'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(send("key-1", "50").await.unwrap().status(), 201);
    let paid = money(&app, id).await;
    assert!(paid.starts_with("Partially Paid | 200.00"), "{paid}");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn concurrent_payments_on_one_invoice_never_overpay_and_each_transaction_id_counts_once() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (id, _) = invoice(&app, "1000.00", 30).await;
    let (second, _) = invoice(&app, "1000.00", 30).await;
    // 100 at once over separate connections: 100s with transaction ids repeating in threes,
    // some 450s that would overpay after a while, some on another invoice with the same ids,
    // and replays of one idempotency key.
    let mut requests = vec![];
    for n in 0..100 {
        let (target, body, key) = match n % 6 {
            0..=2 => (
                id,
                json!({"amount": "100", "method": "Card", "transaction_id": format!("T{}", n / 3)}),
                None,
            ),
            3 => (id, json!({"amount": "450", "method": "Cash"}), None),
            4 => (
                second,
                json!({"amount": "10", "method": "Card", "transaction_id": format!("T{}", (n - 4) / 3)}),
                None,
            ),
            _ => (id, json!({"amount": "1", "method": "Cash"}), Some("storm")),
        };
        let mut req = s
            .client
            .post(s.url(&format!("/api/v1/invoices/{target}/payments")))
            .header("x-csrf-token", &s.csrf)
            .json(&body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        requests.push(tokio::spawn(req.send()));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for r in requests {
        let status = r.await.unwrap().unwrap().status().as_u16();
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert!(
        statuses.keys().all(|s| [201, 409, 422].contains(s)),
        "only created or refused: {statuses:?}"
    );
    let (paid, total): (Decimal, Decimal) =
        sqlx::query_as("SELECT amount_paid, total_amount FROM invoices WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(paid <= total, "{paid} paid of {total}");
    let repeated: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT transaction_id FROM payments WHERE transaction_id IS NOT NULL
                               GROUP BY transaction_id HAVING count(*) > 1) t",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(repeated, 0, "each transaction id once");
    let keyed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payments WHERE invoice_id = $1 AND amount = 1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(keyed <= 1, "one payment for one idempotency key: {keyed}");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn refunds_are_limited_to_what_is_left_of_the_payment_and_move_the_status_back() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (id, _) = invoice(&app, "500.00", 30).await;
    let body: serde_json::Value = pay(&s, id, json!({"amount": "500", "method": "Cash"}))
        .await
        .json()
        .await
        .unwrap();
    let payment = body["payment_id"].as_i64().unwrap();
    let path = format!("/api/v1/payments/{payment}/refunds");
    let before = money(&app, id).await;
    for (body, status) in [
        (json!({"amount": "500.01", "reason": "too much"}), 409),
        (json!({"amount": "0", "reason": "nothing"}), 422),
        (json!({"amount": "10", "reason": "  "}), 422),
        (
            json!({"amount": "10", "reason": "later", "refund_date": "2199-01-01"}),
            409,
        ),
    ] {
        assert_problem(s.post_json(&path, &body).await, status).await;
        assert_eq!(money(&app, id).await, before, "{body}");
    }
    assert_problem(
        s.post_json(
            "/api/v1/payments/999999/refunds",
            &json!({"amount": "1", "reason": "x"}),
        )
        .await,
        404,
    )
    .await;
    let part = s
        .post_json(
            &path,
            &json!({"amount": "200", "reason": "Drone could not fly"}),
        )
        .await;
    assert_eq!(part.status(), 201);
    let part: serde_json::Value = part.json().await.unwrap();
    assert_eq!(part["invoice"]["status"], "Partially Paid");
    assert_eq!(part["invoice"]["amount_paid"], "300.00");
    // 300 left of the payment: 300.01 is refused, 300 is the rest.
    assert_problem(
        s.post_json(&path, &json!({"amount": "300.01", "reason": "x"}))
            .await,
        409,
    )
    .await;
    let rest = s
        .post_json(&path, &json!({"amount": "300", "reason": "Cancelled"}))
        .await;
    assert_eq!(rest.status(), 201);
    assert!(money(&app, id).await.starts_with("Sent | 0.00 | 0.00"));
    assert_problem(
        s.post_json(&path, &json!({"amount": "1", "reason": "x"}))
            .await,
        409,
    )
    .await;
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'invoices.refund' AND entity_id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 2);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_void_invoice_takes_no_payment_and_one_with_payments_is_not_voided() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (id, _) = invoice(&app, "250.00", 30).await;
    let void = format!("/api/v1/invoices/{id}/void");
    let body: serde_json::Value = pay(&s, id, json!({"amount": "50", "method": "Cash"}))
        .await
        .json()
        .await
        .unwrap();
    let before = money(&app, id).await;
    let p = assert_problem(
        s.post_json(&void, &json!({"reason": "Duplicate"})).await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("refund"), "{p}");
    assert_problem(s.post_json(&void, &json!({"reason": " "})).await, 422).await;
    assert_eq!(money(&app, id).await, before);
    let payment = body["payment_id"].as_i64().unwrap();
    let refund = s
        .post_json(
            &format!("/api/v1/payments/{payment}/refunds"),
            &json!({"amount": "50", "reason": "Issued twice"}),
        )
        .await;
    assert_eq!(refund.status(), 201);
    let voided = s.post_json(&void, &json!({"reason": "Issued twice"})).await;
    assert_eq!(voided.status(), 200);
    let voided: serde_json::Value = voided.json().await.unwrap();
    assert_eq!(voided["status"], "Void");
    assert_eq!(voided["void_reason"], "Issued twice");
    let after = money(&app, id).await;
    let p = assert_problem(
        pay(&s, id, json!({"amount": "1", "method": "Cash"})).await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("void"), "{p}");
    assert_problem(s.post_json(&void, &json!({"reason": "again"})).await, 409).await;
    assert_eq!(money(&app, id).await, after);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'invoices.void' AND entity_id = $1
           AND details->>'reason' = 'Issued twice'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn the_sweep_marks_overdue_by_the_clock_given_and_twice_changes_nothing() {
    use projectflo::billing::jobs::sweep;
    use projectflo::clock::Clock;
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (late, _) = invoice(&app, "100.00", -1).await;
    let (part, _) = invoice(&app, "100.00", -3).await;
    let (today, _) = invoice(&app, "100.00", 0).await;
    assert_eq!(
        pay(&s, part, json!({"amount": "40", "method": "Cash"}))
            .await
            .status(),
        201
    );
    // A payment keeps a late invoice late.
    assert!(money(&app, part).await.starts_with("Overdue | 40.00"));
    let now = Clock::Fixed(chrono::Utc::now());
    sqlx::query("UPDATE invoices SET status = 'Sent' WHERE id = $1")
        .bind(part)
        .execute(&app.db)
        .await
        .unwrap();
    let first = sweep(&app.db, &settings(), &now).await.unwrap();
    assert!(first.overdue >= 2, "{first:?}");
    let status = |id: i32| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM invoices WHERE id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(status(late).await, "Overdue");
    assert_eq!(status(part).await, "Overdue");
    assert_eq!(status(today).await, "Sent", "due today is not late yet");
    let second = sweep(&app.db, &settings(), &now).await.unwrap();
    assert_eq!(second.overdue, 0, "{second:?}");
    // Two days on, the one due today is late too; paying a late one in full makes it Paid.
    let later = Clock::Fixed(chrono::Utc::now() + chrono::Duration::days(2));
    sweep(&app.db, &settings(), &later).await.unwrap();
    assert_eq!(status(today).await, "Overdue");
    assert_eq!(
        pay(&s, late, json!({"amount": "100", "method": "Cash"}))
            .await
            .status(),
        201
    );
    assert_eq!(status(late).await, "Paid");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_credit_note_is_applied_to_the_next_open_invoice_of_the_project() {
    use projectflo::clock::Clock;
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let (first, project) = invoice(&app, "300.00", 10).await;
    // A later invoice and a credit note of 350 (a change order that lowered the price).
    let later: i32 = sqlx::query_scalar(
        "INSERT INTO invoices (project_id, invoice_number, issue_date, due_date, total_amount,
                               amount_paid, status)
         VALUES ($1, 'T-LATER', current_date, current_date + 40, 500, 0, 'Sent') RETURNING id",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let note: i32 = sqlx::query_scalar(
        "INSERT INTO invoices (project_id, invoice_number, issue_date, due_date, total_amount,
                               amount_paid, status, description)
         VALUES ($1, 'T-CREDIT', current_date, current_date, -350, 0, 'Sent',
                 'Credit note: change order 2') RETURNING id",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        pay(&s, first, json!({"amount": "100", "method": "Cash"}))
            .await
            .status(),
        201
    );
    // A credit note is not paid.
    assert_problem(
        pay(&s, note, json!({"amount": "1", "method": "Cash"})).await,
        409,
    )
    .await;
    let page = s
        .get(&format!("/invoices/{first}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"apply-credit\""), "{page}");
    let applied = s
        .post_form(&format!("/invoices/{note}/apply-credit"), &[])
        .await;
    assert_eq!(applied.status(), 303);
    let row = |id: i32| {
        let db = app.db.clone();
        async move {
            sqlx::query_as::<_, (String, Decimal)>(
                "SELECT status, amount_paid FROM invoices WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    // 200 closes the first (due first), the other 150 goes to the later one.
    assert_eq!(row(first).await, ("Paid".into(), d("300.00")));
    assert_eq!(row(later).await, ("Partially Paid".into(), d("150.00")));
    assert_eq!(row(note).await, ("Paid".into(), d("-350.00")));
    let total_paid: Decimal =
        sqlx::query_scalar("SELECT total_paid FROM builds WHERE project_id = $1")
            .bind(project)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(total_paid, d("100.00"), "money received, credit nets out");
    // Nothing more to apply: a 409 on the page; the sweep finds nothing either.
    let again = s
        .post_form(&format!("/invoices/{note}/apply-credit"), &[])
        .await;
    assert_eq!(again.status(), 409);
    let swept = projectflo::billing::jobs::sweep(&app.db, &settings(), &Clock::System)
        .await
        .unwrap();
    assert_eq!(swept.credits, 0);
    assert_invariants(&app).await;
}

fn settings() -> projectflo::config::Settings {
    projectflo::config::Settings::defaults()
}
