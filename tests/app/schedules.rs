//! Payment schedules: templates in settings (refused by the field, nothing saved), a quote
//! choosing one, booking issuing its invoices (a fixed date, monthly payments), the built-in
//! one following the studio settings.
use crate::helpers::{TestApp, build_of};
use chrono::NaiveDate;
use projectflo::schedule::{self, Amount, Due, Part};
use rust_decimal::Decimal;

async fn count(app: &TestApp) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM payment_schedules),
                (SELECT count(*) FROM audit_log WHERE action LIKE 'payment_schedules.%')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// The form's fields for rows of (label, kind, amount, rule, days, date).
fn rows<'a>(name: &'a str, rows: &[[&'a str; 6]]) -> Vec<(String, String)> {
    let mut f = vec![("name".to_string(), name.to_string())];
    for (n, r) in rows.iter().enumerate() {
        for (k, v) in ["label", "kind", "amount", "rule", "days", "date"]
            .iter()
            .zip(r)
        {
            f.push((format!("{k}_{n}"), v.to_string()));
        }
    }
    f
}

async fn post(
    s: &crate::helpers::Session,
    path: &str,
    f: &[(String, String)],
) -> reqwest::Response {
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    s.post_form(path, &f).await
}

#[tokio::test]
async fn a_template_with_a_fixed_date_and_monthly_payments_books_the_right_invoices() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let page = owner.get("/settings").await.text().await.unwrap();
    assert!(page.contains("/settings/payment-schedules"), "{page}");
    let list = owner
        .get("/settings/payment-schedules")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Deposit and balance"), "{list}");
    assert!(list.contains("Deposit: 30%, on booking"), "{list}");
    let fixed = (chrono::Utc::now().date_naive() + chrono::Days::new(20)).to_string();
    let before = count(&app).await;

    // Refused by the field, nothing saved: a percent over 100, no "rest", two rests, a bad
    // date, bad days, no name.
    for (form, field) in [
        (
            rows(
                "X",
                &[
                    ["A", "percent", "150", "on_booking", "", ""],
                    ["B", "rest", "", "on_booking", "", ""],
                ],
            ),
            "amount_0",
        ),
        (
            rows("X", &[["A", "percent", "50", "on_booking", "", ""]]),
            "parts",
        ),
        (
            rows(
                "X",
                &[
                    ["A", "rest", "", "on_booking", "", ""],
                    ["B", "rest", "", "on_booking", "", ""],
                ],
            ),
            "parts",
        ),
        (
            rows("X", &[["A", "rest", "", "on_date", "", "2027-02-30"]]),
            "date_0",
        ),
        (
            rows("X", &[["A", "rest", "", "before_wedding", "-3", ""]]),
            "days_0",
        ),
        (
            rows(
                "X",
                &[
                    ["A", "fixed", "abc", "on_booking", "", ""],
                    ["B", "rest", "", "on_booking", "", ""],
                ],
            ),
            "amount_0",
        ),
        (rows("X", &[["A", "rest", "", "someday", "", ""]]), "rule_0"),
        (
            rows(" ", &[["A", "rest", "", "on_booking", "", ""]]),
            "name",
        ),
    ] {
        let resp = post(&owner, "/settings/payment-schedules", &form).await;
        assert_eq!(resp.status(), 422, "{form:?}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(&format!("id=\"error-{field}\"")),
            "{field}: {html}"
        );
    }
    assert_eq!(count(&app).await, before);

    let plan = rows(
        "Retainer, venue date, monthly",
        &[
            ["Retainer", "fixed", "500", "on_booking", "", ""],
            ["Venue payment", "percent", "10", "on_date", "", &fixed],
            ["Monthly", "rest", "", "monthly", "10", ""],
        ],
    );
    let saved = post(&owner, "/settings/payment-schedules", &plan).await;
    assert_eq!(saved.status(), 303);
    let id: i32 = sqlx::query_scalar(
        "SELECT id FROM payment_schedules WHERE name = 'Retainer, venue date, monthly'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // The same name again: 422 by the name.
    let again = post(&owner, "/settings/payment-schedules", &plan).await;
    assert_eq!(again.status(), 422);
    // The built-in one is edited in Studio settings: 409.
    let builtin: i32 = sqlx::query_scalar("SELECT id FROM payment_schedules WHERE builtin")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let edit = post(
        &owner,
        &format!("/settings/payment-schedules/{builtin}"),
        &plan,
    )
    .await;
    assert_eq!(edit.status(), 409);
    let form = owner
        .get(&format!("/settings/payment-schedules/{id}"))
        .await;
    assert_eq!(form.status(), 200);
    assert!(
        form.text()
            .await
            .unwrap()
            .contains("value=\"Venue payment\"")
    );

    // Ava's quote (sent, not accepted) chooses it in the builder; an unknown one is a 422.
    let sales = app.demo_login("Sales").await;
    let ava = build_of(&app, "ava.t@example.com").await;
    let bad = sales
        .post_form(
            &format!("/quotes/{ava}/payment-schedule"),
            &[("schedule", "99999")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let chose = sales
        .post_form(
            &format!("/quotes/{ava}/payment-schedule"),
            &[("schedule", &id.to_string())],
        )
        .await;
    assert_eq!(chose.status(), 303);
    let builder = sales
        .get(&format!("/quotes/{ava}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        builder.contains(&format!("<option value=\"{id}\" selected>")),
        "{builder}"
    );
    // Sofia accepted hers: her quote is locked (409), nothing changes.
    let sofia = build_of(&app, "sofia.garcia@example.com").await;
    let locked = sales
        .post_form(
            &format!("/quotes/{sofia}/payment-schedule"),
            &[("schedule", &id.to_string())],
        )
        .await;
    assert_eq!(locked.status(), 409);
    // A template a quote pays by is not deleted.
    let delete = owner
        .post_form(&format!("/settings/payment-schedules/{id}/delete"), &[])
        .await;
    assert_eq!(delete.status(), 409);

    let booked = sales
        .post_form(
            &format!("/quotes/{ava}/book"),
            &[("reason", "Signed on paper")],
        )
        .await;
    assert_eq!(booked.status(), 303);
    let (project, price, booked_on, wedding): (i32, Decimal, NaiveDate, NaiveDate) =
        sqlx::query_as(
            "SELECT p.id, b.approved_price, p.booking_date, p.wedding_date
             FROM builds b JOIN projects p ON p.id = b.project_id WHERE b.id = $1",
        )
        .bind(ava)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let rate: Decimal = sqlx::query_scalar(
        "SELECT COALESCE((SELECT tax_rate_percent FROM proposal_versions WHERE build_id = $1
                          ORDER BY version DESC LIMIT 1), 0)",
    )
    .bind(ava)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let invoices: Vec<(String, Decimal, Decimal, NaiveDate, Option<String>)> = sqlx::query_as(
        "SELECT description, total_amount, tax_amount, due_date, due_rule FROM invoices
         WHERE project_id = $1 ORDER BY id",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let parts = vec![
        Part {
            label: "Retainer".into(),
            amount: Amount::Fixed {
                value: Decimal::from(500),
            },
            due: Due::OnBooking,
        },
        Part {
            label: "Venue payment".into(),
            amount: Amount::Percent {
                value: Decimal::TEN,
            },
            due: Due::OnDate {
                date: fixed.parse().unwrap(),
            },
        },
        Part {
            label: "Monthly".into(),
            amount: Amount::Rest,
            due: Due::Monthly { days: 10 },
        },
    ];
    let expected = schedule::instalments(&parts, price, rate, booked_on, wedding);
    let got: Vec<_> = invoices
        .iter()
        .map(|i| (i.0.clone(), i.1, i.2, i.3))
        .collect();
    let want: Vec<_> = expected
        .iter()
        .map(|i| (i.description.clone(), i.total(), i.tax, i.due))
        .collect();
    assert_eq!(got, want);
    assert_eq!(invoices[0].3, booked_on);
    assert_eq!(invoices[1].3.to_string(), fixed);
    let monthly: Vec<_> = invoices
        .iter()
        .filter(|i| i.4.as_deref() == Some("monthly"))
        .collect();
    assert!(monthly.len() >= 2, "{invoices:?}");
    assert_eq!(monthly.last().unwrap().3, wedding - chrono::Days::new(10));
    let total: Decimal = invoices.iter().map(|i| i.1).sum();
    let tax: Decimal = invoices.iter().map(|i| i.2).sum();
    assert_eq!(total, price + projectflo::money::tax(price, rate));
    assert_eq!(tax, projectflo::money::tax(price, rate));
    // Booked, the quote keeps its schedule: choosing another is a 409.
    let after = sales
        .post_form(
            &format!("/quotes/{ava}/payment-schedule"),
            &[("schedule", &builtin.to_string())],
        )
        .await;
    assert_eq!(after.status(), 409);
}

#[tokio::test]
async fn an_unused_template_is_deleted_and_audited() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let plan = rows(
        "Two halves",
        &[
            ["Half", "percent", "50", "after_booking", "14", ""],
            ["Rest", "rest", "", "before_wedding", "7", ""],
        ],
    );
    assert_eq!(
        post(&owner, "/settings/payment-schedules", &plan)
            .await
            .status(),
        303
    );
    let id: i32 = sqlx::query_scalar("SELECT id FROM payment_schedules WHERE name = 'Two halves'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let edited = rows(
        "Two halves",
        &[
            ["Half", "percent", "40", "after_booking", "14", ""],
            ["Rest", "rest", "", "before_wedding", "7", ""],
        ],
    );
    assert_eq!(
        post(
            &owner,
            &format!("/settings/payment-schedules/{id}"),
            &edited
        )
        .await
        .status(),
        303
    );
    let list = owner
        .get("/settings/payment-schedules")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Half: 40%, 14 days after booking"), "{list}");
    let gone = owner
        .post_form(&format!("/settings/payment-schedules/{id}/delete"), &[])
        .await;
    assert_eq!(gone.status(), 303);
    assert_eq!(
        owner
            .get(&format!("/settings/payment-schedules/{id}"))
            .await
            .status(),
        404
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity_type = 'payment_schedule' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "payment_schedules.create",
            "payment_schedules.update",
            "payment_schedules.delete"
        ]
    );
    // Sales may not manage them.
    let sales = app.demo_login("Sales").await;
    assert_eq!(sales.get("/settings/payment-schedules").await.status(), 403);
}

#[tokio::test]
async fn the_demo_couple_olivia_pays_in_three() {
    let app = TestApp::demo().await;
    let olivia = build_of(&app, "olivia.nguyen@example.com").await;
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT n.description, n.due_rule FROM invoices n JOIN builds b ON b.project_id = n.project_id
         WHERE b.id = $1 AND n.due_rule IS NOT NULL ORDER BY n.id",
    )
    .bind(olivia)
    .fetch_all(&app.db)
    .await
    .unwrap();
    // Last night's sweep reminded a couple; the settings page says what goes out next.
    let reminded: i64 = sqlx::query_scalar("SELECT count(*) FROM invoice_reminders")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(reminded >= 1);
    let owner = app.demo_login("Owner").await;
    let page = owner
        .get("/settings/payment-schedules")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"upcoming-reminders\""), "{page}");
    assert!(page.contains("overdue, reminder 2"), "{page}");
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names[..3],
        ["Deposit", "Second payment", "Balance"],
        "{rows:?}"
    );
}
