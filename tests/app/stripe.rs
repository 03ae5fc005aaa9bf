//! Payments by card through Stripe Checkout and refunds through Stripe, against the local fake
//! of Stripe's API (`stripe_fake`): the couple's "Pay by card" makes a session for what is
//! owed in cents; the webhook is trusted only by its signature and records the payment once
//! however often (and however concurrently) it is delivered; refunds of card payments go
//! through Stripe first, and Stripe refusing records nothing. Off when not configured.
use crate::billing::{assert_invariants, d, money};
use crate::helpers::{Template, TestApp, assert_problem, scalar_of};
use crate::portal::{Couple, couple, portal_login};
use crate::stripe_fake::{FakeStripe, WEBHOOK_SECRET};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

static N: AtomicUsize = AtomicUsize::new(0);

async fn app_with(fake: &FakeStripe) -> TestApp {
    TestApp::with_settings(Template::Demo, |s| fake.configure(s)).await
}

/// A couple logged in to the portal with one Sent invoice of `total` (nothing paid).
async fn couple_owing(app: &TestApp, total: &str) -> (Couple, reqwest::Client, i32) {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let c = couple(app, &format!("Card{n}"), &format!("card{n}@example.com")).await;
    let invoice = c.records.iter().find(|r| r.0 == "invoices").unwrap().1;
    sqlx::query(
        "UPDATE invoices SET total_amount = $2, due_date = current_date + 10 WHERE id = $1",
    )
    .bind(invoice)
    .bind(d(total))
    .execute(&app.db)
    .await
    .unwrap();
    let portal = portal_login(app, &c, "a card paying couple").await;
    (c, portal, invoice)
}

async fn page(app: &TestApp, portal: &reqwest::Client, path: &str) -> String {
    let resp = portal.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// Press "Pay by card": the answer (a redirect to Stripe's page when it works).
async fn press_pay(app: &TestApp, portal: &reqwest::Client, invoice: i32) -> reqwest::Response {
    let html = page(app, portal, &format!("/portal/invoices/{invoice}")).await;
    portal
        .post(app.url(&format!("/portal/invoices/{invoice}/pay")))
        .form(&[("csrf", csrf_of(&html))])
        .send()
        .await
        .unwrap()
}

/// Pay by card up to Stripe's page; returns the session id.
async fn start_paying(
    app: &TestApp,
    fake: &FakeStripe,
    portal: &reqwest::Client,
    invoice: i32,
) -> String {
    let resp = press_pay(app, portal, invoice).await;
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("{}/pay/cs_test_", fake.base)),
        "{to}"
    );
    to.rsplit('/').next().unwrap().to_string()
}

const PAYMENTS: &str = "SELECT count(*) FROM payments WHERE invoice_id = $1";

#[tokio::test]
async fn paying_by_card_makes_a_checkout_session_for_what_is_owed_in_cents() {
    let fake = FakeStripe::start().await;
    let app = app_with(&fake).await;
    let (c, portal, invoice) = couple_owing(&app, "1260.50").await;
    let html = page(&app, &portal, &format!("/portal/invoices/{invoice}")).await;
    assert!(html.contains("id=\"pay-by-card\""), "{html}");
    assert!(html.contains("Pay $1,260.50 by card"), "{html}");

    let session = start_paying(&app, &fake, &portal, invoice).await;
    let seen = fake.seen("/v1/checkout/sessions");
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.field("mode"), Some("payment"));
    assert_eq!(
        s.field("line_items[0][price_data][unit_amount]"),
        Some("126050")
    );
    assert_eq!(s.field("line_items[0][price_data][currency]"), Some("usd"));
    assert_eq!(s.field("line_items[0][quantity]"), Some("1"));
    assert_eq!(
        s.field("client_reference_id"),
        Some(invoice.to_string().as_str())
    );
    assert_eq!(
        s.field("metadata[invoice_id]"),
        Some(invoice.to_string().as_str())
    );
    assert_eq!(s.field("customer_email"), Some(c.email.as_str()));
    let back = app.url(&format!("/portal/invoices/{invoice}"));
    assert_eq!(
        s.field("success_url"),
        Some(format!("{back}?paid={{CHECKOUT_SESSION_ID}}").as_str())
    );
    assert_eq!(
        s.field("cancel_url"),
        Some(format!("{back}?cancelled=1").as_str())
    );
    assert!(s.idempotency_key.as_deref().is_some_and(|k| !k.is_empty()));

    // Recorded: the session, its invoice, the amount, open.
    let row: (i32, rust_decimal::Decimal, String, String) = sqlx::query_as(
        "SELECT invoice_id, amount, currency, status FROM stripe_checkout_sessions WHERE id = $1",
    )
    .bind(&session)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(row, (invoice, d("1260.50"), "usd".into(), "open".into()));

    // A second press before paying gets the same session (Stripe's Idempotency-Key).
    let again = start_paying(&app, &fake, &portal, invoice).await;
    assert_eq!(again, session);
    let keys: Vec<_> = fake
        .seen("/v1/checkout/sessions")
        .into_iter()
        .map(|s| s.idempotency_key)
        .collect();
    assert_eq!(keys[0], keys[1]);

    // Cancelled on Stripe's page: back here, nothing charged, nothing recorded.
    let html = page(
        &app,
        &portal,
        &format!("/portal/invoices/{invoice}?cancelled=1"),
    )
    .await;
    assert!(html.contains("nothing was charged"), "{html}");
    assert_eq!(scalar_of::<i64>(&app, PAYMENTS, invoice).await, 0);

    // Someone else's invoice: 404, and Stripe is not called.
    let other = couple(&app, "Stranger", "stranger@example.com").await;
    let theirs = other.records.iter().find(|r| r.0 == "invoices").unwrap().1;
    let html = page(&app, &portal, &format!("/portal/invoices/{invoice}")).await;
    let resp = portal
        .post(app.url(&format!("/portal/invoices/{theirs}/pay")))
        .form(&[("csrf", csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(fake.seen("/v1/checkout/sessions").len(), 2);
}

#[tokio::test]
async fn the_webhook_records_the_payment_once_however_often_it_is_delivered() {
    let fake = FakeStripe::start().await;
    let app = app_with(&fake).await;
    let (_, portal, invoice) = couple_owing(&app, "1260.00").await;
    let session = start_paying(&app, &fake, &portal, invoice).await;
    let event = fake.pay(&session);
    let pi = fake.session(&session)["payment_intent"]
        .as_str()
        .unwrap()
        .to_string();
    let hook = app.url("/webhooks/stripe");

    // Three deliveries one after another, then fifty at once: one payment.
    for _ in 0..3 {
        let resp = FakeStripe::deliver(&hook, &event).await;
        assert_eq!(resp.status(), 200);
    }
    let storm: Vec<_> = (0..50)
        .map(|_| {
            let (hook, event) = (hook.clone(), event.clone());
            tokio::spawn(async move { FakeStripe::deliver(&hook, &event).await.status() })
        })
        .collect();
    for t in storm {
        assert_eq!(t.await.unwrap(), 200);
    }
    let payments: Vec<(rust_decimal::Decimal, String, Option<String>)> = sqlx::query_as(
        "SELECT amount, payment_method, transaction_id FROM payments WHERE invoice_id = $1",
    )
    .bind(invoice)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        payments,
        vec![(d("1260.00"), "Card".into(), Some(pi.clone()))]
    );
    assert!(
        money(&app, invoice)
            .await
            .starts_with("Paid | 1260.00 | 1260.00")
    );
    assert_invariants(&app).await;
    let status: String =
        sqlx::query_scalar("SELECT status FROM stripe_checkout_sessions WHERE id = $1")
            .bind(&session)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "paid");
    // Staff are told once, through the payment kind.
    let told: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT message) FROM notifications WHERE message LIKE 'Payment of $1,260.00%by card%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(told, 1);

    // The couple back from Stripe's page: paid, nothing more recorded; no button any more.
    let html = page(
        &app,
        &portal,
        &format!("/portal/invoices/{invoice}?paid={session}"),
    )
    .await;
    assert!(html.contains("your payment is received"), "{html}");
    assert!(!html.contains("id=\"pay-by-card\""));
    assert_eq!(scalar_of::<i64>(&app, PAYMENTS, invoice).await, 1);
    let resp = press_pay(&app, &portal, invoice).await;
    assert_eq!(resp.status(), 409);
}

#[tokio::test]
async fn coming_back_from_stripe_records_the_payment_before_the_webhook() {
    let fake = FakeStripe::start().await;
    let app = app_with(&fake).await;
    let (_, portal, invoice) = couple_owing(&app, "300.00").await;
    let session = start_paying(&app, &fake, &portal, invoice).await;
    let event = fake.pay(&session);
    let html = page(
        &app,
        &portal,
        &format!("/portal/invoices/{invoice}?paid={session}"),
    )
    .await;
    assert!(html.contains("your payment is received"), "{html}");
    assert_eq!(
        fake.seen(&format!("/v1/checkout/sessions/{session}")).len(),
        1
    );
    assert_eq!(scalar_of::<i64>(&app, PAYMENTS, invoice).await, 1);
    // The webhook after it: acknowledged, nothing more.
    let resp = FakeStripe::deliver(&app.url("/webhooks/stripe"), &event).await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["outcome"], "already recorded");
    assert_eq!(scalar_of::<i64>(&app, PAYMENTS, invoice).await, 1);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_webhook_with_a_bad_or_old_signature_is_refused_and_records_nothing() {
    let fake = FakeStripe::start().await;
    // The app's clock stands a day ahead of the system's: the signature's age is measured by it.
    let now = chrono::Utc::now() + chrono::Duration::days(1);
    let clock = projectflo::clock::Clock::Fixed(now);
    let app = TestApp::with_settings_at(Template::Demo, clock, |s| fake.configure(s)).await;
    let (_, portal, invoice) = couple_owing(&app, "500.00").await;
    let session = start_paying(&app, &fake, &portal, invoice).await;
    let event = fake.pay(&session);
    let hook = app.url("/webhooks/stripe");
    let t = now.timestamp();
    let refused = [
        // Another secret.
        FakeStripe::deliver_at(&hook, &event, t, "whsec_not_ours").await,
        // The body changed after signing.
        reqwest::Client::new()
            .post(&hook)
            .header(
                "stripe-signature",
                FakeStripe::signature(WEBHOOK_SECRET, t, &event),
            )
            .body(event.replace("\"paid\"", "\"paid\" "))
            .send()
            .await
            .unwrap(),
        // No signature at all.
        reqwest::Client::new()
            .post(&hook)
            .body(event.clone())
            .send()
            .await
            .unwrap(),
        // Signed more than five minutes ago by the app's clock (though now by the system's).
        FakeStripe::deliver_at(&hook, &event, t - 301, WEBHOOK_SECRET).await,
        FakeStripe::deliver(&hook, &event).await,
    ];
    for (n, resp) in refused.into_iter().enumerate() {
        assert_eq!(resp.status(), 400, "delivery {n}");
    }
    assert_eq!(scalar_of::<i64>(&app, PAYMENTS, invoice).await, 0);
    assert!(money(&app, invoice).await.starts_with("Sent | 0"));
    // Five minutes old exactly is still in time.
    let resp = FakeStripe::deliver_at(&hook, &event, t - 300, WEBHOOK_SECRET).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(scalar_of::<i64>(&app, PAYMENTS, invoice).await, 1);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_card_payment_after_one_by_hand_never_overpays_and_the_rest_is_flagged() {
    let fake = FakeStripe::start().await;
    let app = app_with(&fake).await;
    let (_, portal, invoice) = couple_owing(&app, "1000.00").await;
    let session = start_paying(&app, &fake, &portal, invoice).await;
    // Meanwhile the studio records 700 by bank transfer.
    let staff = app.demo_login("Bookkeeper").await;
    let resp = crate::billing::pay(
        &staff,
        invoice,
        json!({"amount": "700", "method": "Bank transfer", "transaction_id": format!("BT-{session}")}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let event = fake.pay(&session);
    let resp = FakeStripe::deliver(&app.url("/webhooks/stripe"), &event).await;
    assert_eq!(resp.status(), 200);
    // What fits (300) is recorded; the other 700 is kept to refund, and staff are told.
    let card: rust_decimal::Decimal = sqlx::query_scalar(
        "SELECT amount FROM payments WHERE invoice_id = $1 AND payment_method = 'Card'",
    )
    .bind(invoice)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(card, d("300.00"));
    assert!(
        money(&app, invoice)
            .await
            .starts_with("Paid | 1000.00 | 1000.00")
    );
    let unapplied: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT unapplied FROM stripe_checkout_sessions WHERE id = $1")
            .bind(&session)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(unapplied, d("700.00"));
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE message LIKE '$700.00 was paid by card%refund it%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(told > 0);
    assert_invariants(&app).await;
    // The staff invoice page says so.
    let html = staff
        .get(&format!("/invoices/{invoice}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"stripe-unapplied\""), "{html}");

    // "Refund it through Stripe": the 700 goes back to the couple; the invoice's money stays.
    let before = money(&app, invoice).await;
    let path = format!("/invoices/{invoice}/refund-unapplied");
    // Stripe refusing first: said by the button, nothing marked, and the next press is new.
    fake.refuse_refunds(Some("The balance is too low."));
    let resp = staff
        .post_form(&path, &[("session", session.as_str())])
        .await;
    assert_eq!(resp.status(), 409);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("The balance is too low.")
    );
    fake.refuse_refunds(None);
    let resp = staff
        .post_form(&path, &[("session", session.as_str())])
        .await;
    assert_eq!(resp.status(), 303);
    let pi = fake.session(&session)["payment_intent"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(fake.refunded(&pi), 70_000);
    assert_eq!(money(&app, invoice).await, before);
    let html = staff
        .get(&format!("/invoices/{invoice}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("id=\"stripe-unapplied\""), "{html}");
    let resp = staff
        .post_form(&path, &[("session", session.as_str())])
        .await;
    assert_eq!(resp.status(), 409);
    assert_eq!(fake.refunded(&pi), 70_000);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_refund_of_a_card_payment_goes_through_stripe_and_a_refusal_records_nothing() {
    let fake = FakeStripe::start().await;
    let app = app_with(&fake).await;
    let (_, portal, invoice) = couple_owing(&app, "800.00").await;
    let session = start_paying(&app, &fake, &portal, invoice).await;
    let event = fake.pay(&session);
    let pi = fake.session(&session)["payment_intent"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = FakeStripe::deliver(&app.url("/webhooks/stripe"), &event).await;
    assert_eq!(resp.status(), 200);
    let payment: i32 = sqlx::query_scalar("SELECT id FROM payments WHERE invoice_id = $1")
        .bind(invoice)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let staff = app.demo_login("Bookkeeper").await;
    let refund =
        |amount: &str| json!({"amount": amount, "reason": "The second shooter could not come"});
    let path = format!("/api/v1/payments/{payment}/refunds");

    // Stripe refuses: its message, nothing recorded.
    fake.refuse_refunds(Some(
        "Your account has insufficient funds to cover the refund.",
    ));
    let before = money(&app, invoice).await;
    let problem = assert_problem(staff.post_json(&path, &refund("150")).await, 422).await;
    assert!(
        problem.to_string().contains("insufficient funds"),
        "{problem}"
    );
    assert_eq!(money(&app, invoice).await, before);
    // The same by the staff page: Stripe's words by the amount field.
    let form = [
        ("payment_id", payment.to_string()),
        ("amount", "150".to_string()),
        ("reason", "The second shooter could not come".to_string()),
    ];
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = staff
        .post_form(&format!("/invoices/{invoice}/refunds"), &fields)
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("insufficient funds"), "{html}");
    assert_eq!(money(&app, invoice).await, before);

    // Stripe agrees: refunded there in cents, then recorded with Stripe's refund id.
    fake.refuse_refunds(None);
    let resp = staff.post_json(&path, &refund("150")).await;
    assert_eq!(resp.status(), 201);
    let seen = fake.seen("/v1/refunds");
    let last = seen.last().unwrap();
    assert_eq!(last.field("payment_intent"), Some(pi.as_str()));
    assert_eq!(last.field("amount"), Some("15000"));
    assert!(last.idempotency_key.is_some());
    let recorded: Vec<(rust_decimal::Decimal, Option<String>)> = sqlx::query_as(
        "SELECT r.amount, r.stripe_refund_id FROM payment_refunds r WHERE r.payment_id = $1",
    )
    .bind(payment)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].0, d("150.00"));
    assert!(recorded[0].1.as_deref().unwrap().starts_with("re_test_"));
    assert!(
        money(&app, invoice)
            .await
            .starts_with("Partially Paid | 650.00 | 650.00")
    );
    assert_invariants(&app).await;

    // Stripe refunds but its answer is lost: nothing recorded, and asking again for the same
    // refund gets Stripe's refund back (the same Idempotency-Key) and records it, once.
    fake.lose_next_answer();
    let before = money(&app, invoice).await;
    let problem = assert_problem(staff.post_json(&path, &refund("100")).await, 422).await;
    assert!(
        problem
            .to_string()
            .contains("ask for the same refund again"),
        "{problem}"
    );
    assert_eq!(money(&app, invoice).await, before);
    assert_eq!(fake.refunded(&pi), 25_000);
    // Another amount meanwhile: finish that one first.
    let problem = assert_problem(staff.post_json(&path, &refund("20")).await, 409).await;
    assert!(problem.to_string().contains("$100.00"), "{problem}");
    let resp = staff.post_json(&path, &refund("100")).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(fake.refunded(&pi), 25_000);
    let keys: Vec<_> = fake
        .seen("/v1/refunds")
        .into_iter()
        .rev()
        .take(2)
        .map(|s| s.idempotency_key)
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert!(
        money(&app, invoice)
            .await
            .starts_with("Partially Paid | 550.00 | 550.00")
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM stripe_refund_attempts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_invariants(&app).await;

    // More than is left: refused here before Stripe is asked.
    let calls = fake.seen("/v1/refunds").len();
    assert_problem(staff.post_json(&path, &refund("550.01")).await, 409).await;
    assert_eq!(fake.seen("/v1/refunds").len(), calls);

    // A payment by hand is refunded without Stripe.
    let hand =
        crate::billing::pay(&staff, invoice, json!({"amount": "50", "method": "Cash"})).await;
    assert_eq!(hand.status(), 201);
    let hand: serde_json::Value = hand.json().await.unwrap();
    let resp = staff
        .post_json(
            &format!("/api/v1/payments/{}/refunds", hand["payment_id"]),
            &refund("50"),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(fake.seen("/v1/refunds").len(), calls);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn without_stripe_keys_there_is_no_button_and_no_call() {
    let app = TestApp::demo().await;
    let (_, portal, invoice) = couple_owing(&app, "400.00").await;
    let count = "SELECT count(*) FROM stripe_checkout_sessions";
    let before: i64 = sqlx::query_scalar(count).fetch_one(&app.db).await.unwrap();
    let html = page(&app, &portal, &format!("/portal/invoices/{invoice}")).await;
    assert!(!html.contains("pay-by-card"), "{html}");
    assert!(!html.contains("by card</button>"));
    let resp = press_pay(&app, &portal, invoice).await;
    assert_eq!(resp.status(), 409);
    let text = resp.text().await.unwrap();
    assert!(text.contains("not set up"), "{text}");
    let resp = FakeStripe::deliver(&app.url("/webhooks/stripe"), "{}").await;
    assert_eq!(resp.status(), 404);
    let sessions: i64 = sqlx::query_scalar(count).fetch_one(&app.db).await.unwrap();
    assert_eq!(sessions, before, "no session made");
}

#[tokio::test]
async fn a_couple_pays_by_card_in_the_portal_and_the_studio_sees_the_invoice_paid() {
    use crate::browser::browser;
    let fake = FakeStripe::start().await;
    let app = app_with(&fake).await;
    fake.send_webhooks_to(&app.url("/webhooks/stripe"));
    let (c, _, invoice) = couple_owing(&app, "1260.50").await;
    let Some(b) = browser().await else { return };
    b.goto(&app.url("/portal/login")).await.unwrap();
    pay_in_browser(
        &app,
        b,
        &c.email,
        "a card paying couple",
        invoice,
        d("1260.50"),
        None,
    )
    .await;
    // The studio sees the invoice Paid, and the build's total paid follows.
    let staff = app.demo_login("Bookkeeper").await;
    let html = staff
        .get(&format!("/invoices/{invoice}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Paid"), "{html}");
    assert!(money(&app, invoice).await.starts_with("Paid | 1260.50"));
    assert_eq!(fake.seen("/v1/checkout/sessions").len(), 1);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_booked_couple_pays_the_deposit_by_card_and_the_balance_is_reminded_on_its_day() {
    use crate::browser::browser;
    use chrono::{Days, NaiveDate};
    use projectflo::clock::Clock;
    use rust_decimal::Decimal;
    let fake = FakeStripe::start().await;
    let app = app_with(&fake).await;
    fake.send_webhooks_to(&app.url("/webhooks/stripe"));
    let (_, deposit, balance, _) = crate::postpone::book_sofia(&app).await;
    // Booking invited Sofia to the portal: she sets her password from the email's link.
    let email = "sofia.garcia@example.com";
    let link = app.last_link_to(email).await;
    let set = link.trim_start_matches(&app.url("")).to_string();
    assert!(set.starts_with("/portal/set-password/"), "{link}");
    let pw = "sofia pays by card";
    let resp = app
        .post_form(&set, &[("password", pw), ("confirm", pw)])
        .await;
    assert_eq!(resp.status(), 303);
    let owed: Decimal = scalar_of(
        &app,
        "SELECT total_amount FROM invoices WHERE id = $1",
        deposit,
    )
    .await;
    let Some(b) = browser().await else { return };
    pay_in_browser(&app, b, email, pw, deposit, owed, Some("portal-pay.png")).await;
    // The studio sees the deposit Paid and the wedding's balance: what the balance invoice owes.
    let keeper = app.demo_login("Bookkeeper").await;
    let html = keeper
        .get(&format!("/invoices/{deposit}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"invoice-status\" tabindex=\"-1\">Paid<"),
        "{html}"
    );
    let left: Decimal = scalar_of(
        &app,
        "SELECT total_amount FROM invoices WHERE id = $1",
        balance,
    )
    .await;
    let said = format!(
        "<strong>{} balance</strong>",
        projectflo::money::format(left, "USD")
    );
    assert!(html.contains(&said), "{said}: {html}");
    // The balance's reminder: the nightly sweep, run with the clock of each day (noon in the
    // studio's zone), mails it seven days before the due date, not eight.
    let balance_due = crate::postpone::due(&app, balance).await;
    let settings = projectflo::config::Settings::defaults();
    let sweep = |day: NaiveDate| {
        let clock = Clock::Fixed(day.and_hms_opt(20, 0, 0).unwrap().and_utc());
        let (db, settings) = (app.db.clone(), settings.clone());
        async move {
            projectflo::billing::jobs::sweep(&db, &settings, &clock)
                .await
                .unwrap()
        }
    };
    let balance_number: String = scalar_of(
        &app,
        "SELECT invoice_number FROM invoices WHERE id = $1",
        balance,
    )
    .await;
    let subject = format!("invoice {balance_number} is due on");
    let outbox = || {
        let db = app.db.clone();
        let subject = subject.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM communications_log
                 WHERE notes LIKE 'To: sofia.garcia@example.com%' AND notes LIKE '%' || $1 || '%'",
            )
            .bind(subject)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    sweep(balance_due - Days::new(8)).await;
    assert_eq!(outbox().await, 0, "not eight days before");
    sweep(balance_due - Days::new(7)).await;
    assert_eq!(outbox().await, 1, "seven days before");
    // The deposit, paid, is never reminded; the lead's page shows the reminder in its
    // communications.
    let reminded = "SELECT EXISTS (SELECT 1 FROM invoice_reminders WHERE invoice_id = $1)";
    assert!(!scalar_of::<bool>(&app, reminded, deposit).await);
    let lead: i32 = sqlx::query_scalar(
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id = i.contact_id WHERE c.email = $1",
    )
    .bind(email)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let page = app
        .demo_login("Sales")
        .await
        .get(&format!("/leads/{lead}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&subject), "{page}");
    assert_invariants(&app).await;
}

/// In Chromium: the couple logs in to the portal, presses "Pay by card" on the invoice, pays
/// `owed` on the fake Stripe's page, and is back on the invoice with the payment shown. With a
/// `screenshot` name, the invoice before paying is saved under `target/screenshots/` (the
/// README's picture of the couple paying).
async fn pay_in_browser(
    app: &TestApp,
    b: fantoccini::Client,
    email: &str,
    password: &str,
    invoice: i32,
    owed: rust_decimal::Decimal,
    screenshot: Option<&str>,
) {
    use crate::browser::{click, type_in, wait_for_path, wait_text};
    use fantoccini::Locator;
    b.goto(&app.url("/portal/login")).await.unwrap();
    type_in(&b, Locator::Id("email"), email).await;
    type_in(&b, Locator::Id("password"), &format!("{password}\u{E007}")).await;
    wait_for_path(&b, "/portal").await;
    // From the invoice, "Pay by card" leads to Stripe's page for what is owed.
    b.goto(&app.url(&format!("/portal/invoices/{invoice}")))
        .await
        .unwrap();
    if let Some(name) = screenshot {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), b.screenshot().await.unwrap()).unwrap();
    }
    click(&b, Locator::Css("#pay-by-card button")).await;
    b.wait()
        .for_element(Locator::Id("stripe-pay"))
        .await
        .unwrap();
    assert_eq!(
        wait_text(&b, Locator::Css("h1")).await,
        format!("Pay {owed} USD")
    );
    click(&b, Locator::Id("stripe-pay")).await;
    // Back in the portal: the payment is there.
    wait_for_path(&b, &format!("/portal/invoices/{invoice}")).await;
    let shown = wait_text(&b, Locator::Id("portal-payments")).await;
    assert!(
        shown.contains(&projectflo::money::format(owed, "USD")),
        "{shown}"
    );
    b.close().await.unwrap();
}
