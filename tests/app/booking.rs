//! Booking: one transaction makes the client, the project, the approved price, change order
//! version 1 and the schedule's invoices, or nothing at all.
use crate::helpers::{TestApp, build_of, scalar_of};
use rust_decimal::Decimal;

/// Everything booking writes, as one line to compare before and after.
async fn state(app: &TestApp, build: i32) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws(' | ', b.status::text, b.project_id, b.approved_price,
                b.configuration_locked_at IS NOT NULL, i.status::text, c.type::text,
                (SELECT count(*) FROM clients), (SELECT count(*) FROM projects),
                (SELECT count(*) FROM invoices), (SELECT count(*) FROM build_change_orders),
                (SELECT count(*) FROM client_users))
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn booking_makes_the_client_the_project_the_agreement_and_the_invoices() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let build = build_of(&app, "sofia.garcia@example.com").await;
    let before = state(&app, build).await;
    // On the couple's behalf only with a reason: by the field, nothing written.
    let refused = s
        .post_form(&format!("/quotes/{build}/book"), &[("reason", "  ")])
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"book-reason-error\""), "{html}");
    assert_eq!(state(&app, build).await, before);

    let done = s
        .post_form(
            &format!("/quotes/{build}/book"),
            &[("reason", "Signed the paper contract at the studio")],
        )
        .await;
    assert_eq!(done.status(), 303);
    let (status, project, approved, locked, inquiry, contact): (
        String,
        i32,
        Decimal,
        bool,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT b.status::text, b.project_id, b.approved_price, b.configuration_locked_at IS NOT NULL,
                i.status::text, c.type::text
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), inquiry.as_str(), contact.as_str(), locked),
        ("Booked", "Booked", "Client", true)
    );
    assert_eq!(approved, "1527.50".parse::<Decimal>().unwrap());
    // Change order version 1: the original agreement, with the configuration.
    let (version, delta, total, what, co_status, snapshot): (
        i32,
        Decimal,
        Decimal,
        String,
        String,
        bool,
    ) = sqlx::query_as(
        "SELECT version_number, price_delta, new_total_approved_price, description,
                    status::text, snapshot IS NOT NULL
             FROM build_change_orders WHERE build_id = $1",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (
            version,
            delta,
            total,
            what.as_str(),
            co_status.as_str(),
            snapshot
        ),
        (
            1,
            approved,
            approved,
            "Original agreement",
            "Approved",
            true
        )
    );
    // The schedule: 30% deposit due on booking, the rest 30 days before the wedding.
    let invoices: Vec<(String, Decimal, i32, String)> = sqlx::query_as(
        "SELECT n.invoice_number, n.total_amount, (n.due_date - n.issue_date), n.status
         FROM invoices n WHERE n.project_id = $1 ORDER BY n.due_date",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let wedding_in: i32 =
        sqlx::query_scalar("SELECT wedding_date - booking_date FROM projects WHERE id = $1")
            .bind(project)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(invoices.len(), 2);
    assert_eq!(invoices[0].1, "458.25".parse::<Decimal>().unwrap());
    assert_eq!(invoices[0].2, 0);
    assert_eq!(invoices[1].1, "1069.25".parse::<Decimal>().unwrap());
    assert_eq!(invoices[1].2, wedding_in - 30);
    assert!(
        invoices
            .iter()
            .all(|i| i.0.starts_with("GHF-") && i.3 == "Sent")
    );
    assert_ne!(invoices[0].0, invoices[1].0);
    // The couple is invited to the portal, and sees the project and its invoices there.
    let link = app.last_link_to("sofia.garcia@example.com").await;
    let path = link.trim_start_matches(&app.url("")).to_string();
    assert!(path.starts_with("/portal/set-password/"), "{link}");
    let pw = "sofia's portal password";
    let set = app
        .post_form(&path, &[("password", pw), ("confirm", pw)])
        .await;
    assert_eq!(set.status(), 303);
    let couple = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let home = couple
        .post(app.url("/portal/login"))
        .form(&[("email", "sofia.garcia@example.com"), ("password", pw)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Sofia Garcia wedding"), "{home}");
    assert!(
        home.contains(&invoices[0].0) && home.contains(&invoices[1].0),
        "{home}"
    );
    // The builder shows the booking; the board has the lead in Booked; the audit says why.
    let builder = s
        .get(&format!("/quotes/{build}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(builder.contains("id=\"booked\""), "{builder}");
    assert!(
        builder.contains(&invoices[0].0) && builder.contains("$458.25"),
        "{builder}"
    );
    let reason: String = sqlx::query_scalar(
        "SELECT details->>'reason' FROM audit_log WHERE action = 'builds.book' AND entity_id = $1",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reason, "Signed the paper contract at the studio");
    // Booking twice: a 409, nothing more written.
    let after = state(&app, build).await;
    let twice = s
        .post_form(&format!("/quotes/{build}/book"), &[("reason", "again")])
        .await;
    assert_eq!(twice.status(), 409);
    assert!(twice.text().await.unwrap().contains("already booked"));
    assert_eq!(state(&app, build).await, after);
}

#[tokio::test]
async fn two_bookings_of_one_quote_at_once_make_one_project() {
    let app = TestApp::demo().await;
    let build = build_of(&app, "sofia.garcia@example.com").await;
    let a = app.demo_login("Sales").await;
    let b = app.demo_login("Owner").await;
    let path = format!("/quotes/{build}/book");
    let form = [("reason", "Booked by phone")];
    let (ra, rb) = tokio::join!(a.post_form(&path, &form), b.post_form(&path, &form));
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 409]);
    let projects: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM builds b JOIN projects p ON p.id = b.project_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(projects, 1);
    let orders: i64 =
        sqlx::query_scalar("SELECT count(*) FROM build_change_orders WHERE build_id = $1")
            .bind(build)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(orders, 1);
}

#[tokio::test]
async fn a_failure_at_the_last_step_of_booking_leaves_nothing_behind() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let build = build_of(&app, "sofia.garcia@example.com").await;
    let before = state(&app, build).await;
    // The last writes fail: by then the client, the project, the build, the inquiry and the
    // agreement are written in the transaction.
    sqlx::raw_sql(
        "CREATE FUNCTION pg_temp_fail() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
         CREATE TRIGGER fail_invoices BEFORE INSERT ON invoices
           FOR EACH ROW EXECUTE FUNCTION pg_temp_fail();",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let failed = s
        .post_form(&format!("/quotes/{build}/book"), &[("reason", "By phone")])
        .await;
    assert_eq!(failed.status(), 500);
    assert_eq!(state(&app, build).await, before, "nothing left behind");
    // Once the failure is gone, the same booking goes through.
    sqlx::raw_sql("DROP TRIGGER fail_invoices ON invoices")
        .execute(&app.db)
        .await
        .unwrap();
    let done = s
        .post_form(&format!("/quotes/{build}/book"), &[("reason", "By phone")])
        .await;
    assert_eq!(done.status(), 303);
}

async fn olivia(app: &TestApp) -> (i32, i32) {
    sqlx::query_as(
        "SELECT b.id, b.client_id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'olivia.nguyen@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn change_orders_are_proposed_answered_and_kept_as_versions() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let (build, client) = olivia(&app).await;
    // The demo's waiting change (Rush Delivery, version 4): the couple declined it by phone.
    let declined = s
        .post_form(
            &format!("/quotes/{build}/change-orders/4/answer"),
            &[("answer", "decline")],
        )
        .await;
    assert_eq!(declined.status(), 303);
    let approved = "SELECT approved_price FROM builds WHERE id = $1";
    let live = "SELECT live_price FROM builds WHERE id = $1";
    let first = scalar_of::<Decimal>(&app, approved, build).await;
    let first_live = scalar_of::<Decimal>(&app, live, build).await;
    let propose = format!("/quotes/{build}/change-orders");
    let nothing = s.post_form(&propose, &[("description", "Nothing")]).await;
    assert_eq!(nothing.status(), 409);
    // After booking the quote still changes; the live price follows, the approved one does not.
    let item: i32 = sqlx::query_scalar(
        "SELECT id FROM billable_items WHERE is_active
         AND id NOT IN (SELECT billable_item_id FROM editing_style_requirements)
         AND id NOT IN (SELECT billable_item_id FROM build_billable_items WHERE build_id = $1)
         ORDER BY id LIMIT 1",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let added = s
        .post_form(
            &format!("/quotes/{build}/billables"),
            &[("billable_item_id", &item.to_string()), ("quantity", "1")],
        )
        .await;
    assert_eq!(added.status(), 303);
    let delta = scalar_of::<Decimal>(&app, live, build).await - first_live;
    assert!(delta > Decimal::ZERO);
    assert_eq!(scalar_of::<Decimal>(&app, approved, build).await, first);
    let builder = s
        .get(&format!("/quotes/{build}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        builder.contains("id=\"changed-since-approved\""),
        "{builder}"
    );
    // A discount needs its reason: by the field, nothing written.
    let orders = "SELECT count(*)::numeric FROM build_change_orders WHERE build_id = $1";
    let before_orders = scalar_of::<Decimal>(&app, orders, build).await;
    let bad = s
        .post_form(
            &propose,
            &[("description", "An extra"), ("discount_percent", "10")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("id=\"change-reason-error\"")
    );
    assert_eq!(
        scalar_of::<Decimal>(&app, orders, build).await,
        before_orders
    );
    let ok = s
        .post_form(
            &propose,
            &[
                ("description", "An extra for the couple"),
                ("discount_percent", "10"),
                ("discount_reason", "Returning couple"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    let cents = |d: Decimal| {
        d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    };
    let expected = first + delta - cents(delta * Decimal::new(10, 2));
    let asked = "SELECT new_total_approved_price FROM build_change_orders
                 WHERE build_id = $1 AND version_number = 5 AND status = 'Pending Approval'";
    assert_eq!(scalar_of::<Decimal>(&app, asked, build).await, expected);
    // While the couple has not answered: nothing else changes, and no second change order.
    let locked = s
        .post_form(
            &format!("/quotes/{build}/billables"),
            &[("billable_item_id", &item.to_string())],
        )
        .await;
    assert_eq!(locked.status(), 409);
    assert_eq!(
        s.post_form(&propose, &[("description", "More")])
            .await
            .status(),
        409
    );

    // The couple approves in the portal.
    let invite = s
        .post_form(&format!("/settings/portal/{client}/invite"), &[])
        .await;
    assert_eq!(invite.status(), 200);
    let link = app.last_link_to("olivia.nguyen@example.com").await;
    let path = link.trim_start_matches(&app.url("")).to_string();
    let pw = "olivia's portal password";
    assert_eq!(
        app.post_form(&path, &[("password", pw), ("confirm", pw)])
            .await
            .status(),
        303
    );
    let couple = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    couple
        .post(app.url("/portal/login"))
        .form(&[("email", "olivia.nguyen@example.com"), ("password", pw)])
        .send()
        .await
        .unwrap();
    let get = |p: String| {
        let c = couple.clone();
        let url = app.url(&p);
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let quote = get(format!("/portal/quotes/{build}")).await;
    assert!(
        quote.contains(&format!("href=\"/portal/changes/{build}\"")),
        "{quote}"
    );
    let page = get(format!("/portal/changes/{build}")).await;
    assert!(
        page.contains("An extra for the couple") && page.contains("id=\"approve-5\""),
        "{page}"
    );
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let approved_resp = couple
        .post(app.url(&format!("/portal/changes/{build}/5")))
        .form(&[("csrf", csrf.as_str()), ("answer", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(approved_resp.status(), 303);
    assert_eq!(scalar_of::<Decimal>(&app, approved, build).await, expected);
    let invoiced =
        "SELECT total_amount FROM invoices n JOIN builds b ON b.project_id = n.project_id
                    WHERE b.id = $1 AND n.description = 'Change order 5'";
    assert_eq!(
        scalar_of::<Decimal>(&app, invoiced, build).await,
        expected - first
    );
    let again = couple
        .post(app.url(&format!("/portal/changes/{build}/5")))
        .form(&[("csrf", csrf.as_str()), ("answer", "decline")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409, "answered once");

    // Another change, declined (recorded by the studio): the approved configuration comes back
    // exactly, and the next version number is new.
    let snapshot: serde_json::Value = sqlx::query_scalar(
        "SELECT snapshot FROM build_change_orders WHERE build_id = $1 AND version_number = 5",
    )
    .bind(build)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let line: i32 = sqlx::query_scalar(
        "SELECT id FROM build_billable_items WHERE build_id = $1 AND billable_item_id = $2",
    )
    .bind(build)
    .bind(item)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let removed = s
        .post_form(&format!("/quotes/{build}/billables/{line}/delete"), &[])
        .await;
    assert_eq!(removed.status(), 303);
    assert_eq!(
        s.post_form(&propose, &[("description", "Without the extra")])
            .await
            .status(),
        303
    );
    let declined = s
        .post_form(
            &format!("/quotes/{build}/change-orders/6/answer"),
            &[("answer", "decline")],
        )
        .await;
    assert_eq!(declined.status(), 303);
    let mut conn = app.db.acquire().await.unwrap();
    let now = projectflo::quote::packages::configuration(&mut conn, build)
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&now).unwrap(), snapshot);
    assert_eq!(scalar_of::<Decimal>(&app, approved, build).await, expected);
    assert_eq!(
        scalar_of::<Decimal>(&app, live, build).await,
        first_live + delta
    );
    // The history: every version, with what changed and the running approved total.
    let history = s
        .get(&format!("/quotes/{build}/changes"))
        .await
        .text()
        .await
        .unwrap();
    for v in 1..=5 {
        assert!(
            history.contains(&format!("id=\"version-{v}\"")),
            "{history}"
        );
    }
    assert!(
        history.contains("Declined") && history.contains("Original agreement"),
        "{history}"
    );
    assert!(history.contains("Returning couple"), "{history}");
}

#[tokio::test]
async fn the_tax_on_a_change_is_on_its_taxable_lines_only() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let (build, _) = olivia(&app).await;
    let answer = |v: i32, a: &'static str| {
        let s = &s;
        async move {
            s.post_form(
                &format!("/quotes/{build}/change-orders/{v}/answer"),
                &[("answer", a)],
            )
            .await
            .status()
        }
    };
    assert_eq!(answer(4, "decline").await, 303);
    sqlx::query("UPDATE studio_settings SET tax_rate_percent = 10")
        .execute(&app.db)
        .await
        .unwrap();
    // Travel ($60 a unit) is not taxable in the demo; Audio Restoration ($120) is.
    for (item, qty) in [("Travel (per 50 miles)", "2"), ("Audio Restoration", "1")] {
        let id: i32 = sqlx::query_scalar("SELECT id FROM billable_items WHERE name = $1")
            .bind(item)
            .fetch_one(&app.db)
            .await
            .unwrap();
        let added = s
            .post_form(
                &format!("/quotes/{build}/billables"),
                &[("billable_item_id", &id.to_string()), ("quantity", qty)],
            )
            .await;
        assert_eq!(added.status(), 303, "{item}");
    }
    let proposed = s
        .post_form(
            &format!("/quotes/{build}/change-orders"),
            &[("description", "Travel to the venue and audio clean-up")],
        )
        .await;
    assert_eq!(proposed.status(), 303);
    assert_eq!(answer(5, "approve").await, 303);
    let (amount, tax): (Decimal, Decimal) = sqlx::query_as(
        "SELECT total_amount - tax_amount, tax_amount FROM invoices
         WHERE description = 'Change order 5'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // $240.00 more; the tax is 10% of the $120.00 taxable, not of $240.00.
    assert_eq!(
        (amount, tax),
        (Decimal::new(24000, 2), Decimal::new(1200, 2))
    );
}
