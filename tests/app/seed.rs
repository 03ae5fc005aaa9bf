//! The demo studio: believable, complete, and loaded once however often the command runs.
use crate::helpers::TestApp;

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn the_demo_studio_has_what_the_pricing_engine_needs() {
    let app = TestApp::demo().await;
    let scenes: Vec<String> = sqlx::query_scalar("SELECT name FROM coverage_scenes")
        .fetch_all(&app.db)
        .await
        .unwrap();
    for s in [
        "Getting Ready",
        "First Look",
        "Ceremony",
        "Cocktail Hour",
        "Reception",
        "Drone Aerials",
    ] {
        assert!(scenes.iter().any(|x| x == s), "scene {s}");
    }
    let films: Vec<String> = sqlx::query_scalar("SELECT name FROM deliverables")
        .fetch_all(&app.db)
        .await
        .unwrap();
    for f in [
        "Highlight Film",
        "Feature Film",
        "Ceremony Edit",
        "Teaser",
        "Raw Footage",
    ] {
        assert!(films.iter().any(|x| x == f), "film {f}");
    }
    assert!(count(&app, "SELECT count(*) FROM editing_styles").await >= 3);
    assert_eq!(
        count(
            &app,
            "SELECT count(DISTINCT pricing_type) FROM operator_types"
        )
        .await,
        2
    );
    assert!(count(&app, "SELECT count(*) FROM operator_types").await >= 4);
    assert!(count(&app, "SELECT count(*) FROM billable_items").await >= 10);
    assert!(count(&app, "SELECT count(*) FROM task_templates").await >= 15);
    assert!(count(&app, "SELECT count(DISTINCT phase) FROM task_templates").await >= 3);
    assert!(count(&app, "SELECT count(*) FROM task_templates WHERE pricing_type = 'Fixed' AND fixed_price IS NOT NULL").await >= 3);
    assert!(count(&app, "SELECT count(*) FROM task_templates WHERE pricing_type = 'Hourly' AND effort_calculation_rules IS NOT NULL").await >= 5);
    // Every film has default components; one expands to every covered scene (NULL scene).
    assert_eq!(count(&app, "SELECT count(*) FROM deliverables d WHERE NOT EXISTS (SELECT 1 FROM deliverable_default_components x WHERE x.deliverable_id = d.id)").await, 0);
    assert!(
        count(
            &app,
            "SELECT count(*) FROM deliverable_default_components WHERE coverage_scene_id IS NULL"
        )
        .await
            >= 1
    );
    assert!(count(&app, "SELECT count(*) FROM editing_style_requirements").await >= 3);
    // Every style selects at least one task template through the recipes.
    assert_eq!(count(&app, "SELECT count(*) FROM editing_styles s WHERE NOT EXISTS (SELECT 1 FROM component_task_recipes r WHERE r.editing_style_id = s.id)").await, 0);
    // One staff member per role; contacts and inquiries in several statuses.
    assert_eq!(
        count(&app, "SELECT count(DISTINCT role_id) FROM contributors").await,
        6
    );
    assert_eq!(count(&app, "SELECT count(*) FROM contributors").await, 8);
    assert!(count(&app, "SELECT count(DISTINCT status) FROM inquiries").await >= 4);
    assert!(
        count(
            &app,
            "SELECT count(*) FROM activities WHERE activity_type = 'To-Do' AND status = 'Pending'"
        )
        .await
            >= 5
    );
    assert!(count(&app, "SELECT count(*) FROM role_permissions").await > 14);
    // Money: invoices in every status, payments by hand and online through
    // Stripe, a refund, a credit note applied, reminders sent.
    let statuses: String = sqlx::query_scalar(
        "SELECT string_agg(DISTINCT status::text, ', ' ORDER BY status::text) FROM invoices",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(statuses, "Draft, Overdue, Paid, Partially Paid, Sent, Void");
    for (what, sql) in [
        (
            "bank transfer",
            "SELECT count(*) FROM payments WHERE payment_method = 'Bank transfer'",
        ),
        (
            "online",
            "SELECT count(*) FROM stripe_checkout_sessions WHERE payment_id IS NOT NULL",
        ),
        ("refund", "SELECT count(*) FROM payment_refunds"),
        (
            "credit applied",
            "SELECT count(*) FROM payments WHERE credit_invoice_id IS NOT NULL",
        ),
        ("reminder", "SELECT count(*) FROM invoice_reminders"),
    ] {
        assert!(count(&app, sql).await >= 1, "{what}");
    }
}

#[tokio::test]
async fn seeding_twice_loads_nothing_twice() {
    let app = TestApp::demo().await;
    let before = count(&app, "SELECT (SELECT count(*) FROM inquiries) + (SELECT count(*) FROM contacts) + (SELECT count(*) FROM deliverable_default_components)").await;
    let (a, b) = tokio::join!(
        projectflo::seed::demo(&app.db),
        projectflo::seed::demo(&app.db)
    );
    assert!(!a.unwrap() && !b.unwrap());
    let after = count(&app, "SELECT (SELECT count(*) FROM inquiries) + (SELECT count(*) FROM contacts) + (SELECT count(*) FROM deliverable_default_components)").await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn two_seeds_at_once_on_an_empty_studio_load_it_once() {
    let app = TestApp::spawn().await;
    let (a, b) = tokio::join!(
        projectflo::seed::demo(&app.db),
        projectflo::seed::demo(&app.db)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one of them loads");
    assert_eq!(count(&app, "SELECT count(*) FROM coverage_scenes").await, 6);
    // The eight leads of demo.sql, Chloe (seed/postproduction.rs) and the two delivered
    // weddings of seed/delivery.rs.
    assert_eq!(count(&app, "SELECT count(*) FROM inquiries").await, 11);
}

#[tokio::test]
async fn the_scale_seed_adds_years_of_inquiries_with_a_quote_for_every_fifth() {
    let app = TestApp::demo().await;
    let (inquiries, builds) = (
        count(&app, "SELECT count(*) FROM inquiries").await,
        count(&app, "SELECT count(*) FROM builds").await,
    );
    projectflo::seed::scale(&app.db, projectflo::clock::Clock::System, 1000)
        .await
        .unwrap();
    assert_eq!(
        count(&app, "SELECT count(*) FROM inquiries").await,
        inquiries + 1000
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM builds").await,
        builds + 200
    );
    let statuses = count(&app, "SELECT count(DISTINCT status) FROM inquiries").await;
    assert_eq!(statuses, 5, "every status of the pipeline");
    let years = count(
        &app,
        "SELECT count(DISTINCT date_part('year', created_at)) FROM inquiries",
    )
    .await;
    assert!(years >= 3, "spread over years: {years}");
}

#[tokio::test]
async fn the_demo_has_a_past_wedding_in_post_production_that_fills_the_capacity_view() {
    let app = TestApp::demo().await;
    // Chloe's wedding six weeks ago: booked, paid in full, editing under way.
    let (weeks_ago, owed, done, going, waiting): (i32, rust_decimal::Decimal, i64, i64, i64) =
        sqlx::query_as(
            "SELECT (current_date - p.wedding_date) / 7,
                    (SELECT sum(total_amount - COALESCE(amount_paid, 0)) FROM invoices
                     WHERE project_id = p.id),
                    count(*) FILTER (WHERE t.status = 'Completed'),
                    count(*) FILTER (WHERE t.status = 'In Progress'),
                    count(*) FILTER (WHERE t.status IN ('To-Do', 'Ready to Start'))
             FROM projects p JOIN clients cl ON cl.id = p.client_id
             JOIN contacts c ON c.id = cl.contact_id AND c.email = 'chloe.martin@example.com'
             JOIN tasks t ON t.project_id = p.id GROUP BY p.id",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!((5..=6).contains(&weeks_ago), "{weeks_ago}");
    assert_eq!(owed, rust_decimal::Decimal::ZERO);
    assert!(
        done >= 3 && going >= 2 && waiting >= 3,
        "{done} {going} {waiting}"
    );
    // Three editors logged time on it, at different speeds.
    let editors = count(
        &app,
        "SELECT count(DISTINCT e.contributor_id) FROM task_time_entries e
         JOIN tasks t ON t.id = e.task_id JOIN projects p ON p.id = t.project_id
         JOIN clients cl ON cl.id = p.client_id JOIN contacts c ON c.id = cl.contact_id
         WHERE c.email = 'chloe.martin@example.com'",
    )
    .await;
    assert_eq!(editors, 3);
    // The Owner's capacity view shows planned hours in the coming weeks.
    let owner = app.demo_login("Owner").await;
    let page = owner.get("/capacity").await.text().await.unwrap();
    assert!(page.contains("Nina") && page.contains("Omar"), "{page}");
    let planned: i64 = count(
        &app,
        "SELECT count(*) FROM tasks WHERE status NOT IN ('Completed', 'Archived')
         AND assigned_to_contributor_id IS NOT NULL AND due_date < current_date + 84",
    )
    .await;
    assert!(planned >= 5, "{planned}");
}

#[tokio::test]
async fn the_demo_studio_has_two_delivered_weddings() {
    let app = TestApp::demo().await;
    // Hannah & Marcus: booked, paid in full, every task done with time, a film shared, the
    // survey answered 9 and 10; Zoe & Ben: delivered, survey sent, not answered, a receipt.
    let row: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM invoices i WHERE i.project_id = p.id
                 AND i.total_amount > COALESCE(i.amount_paid, 0)),
                (SELECT count(*) FROM tasks t WHERE t.project_id = p.id AND t.status <> 'Completed'),
                (SELECT count(*) FROM tasks t WHERE t.project_id = p.id AND t.status = 'Completed'
                 AND EXISTS (SELECT 1 FROM task_time_entries e WHERE e.task_id = t.id)),
                (SELECT count(*) FROM delivery_links l JOIN project_assets a ON a.id = l.asset_id
                 WHERE a.project_id = p.id AND a.asset_type = 'Export'),
                (SELECT count(*) FROM project_expenses x WHERE x.project_id = p.id)
         FROM projects p JOIN clients cl ON cl.id = p.client_id JOIN contacts c ON c.id = cl.contact_id
         WHERE c.email = 'hannah.lee@example.com' AND p.delivered_on IS NOT NULL",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((row.0, row.1), (0, 0), "paid in full, every task done");
    assert!(row.2 > 3 && row.3 >= 1 && row.4 == 3, "{row:?}");
    let hannah: (Option<i32>, Option<i32>) = sqlx::query_as(
        "SELECT s.satisfaction_rating, s.nps_score FROM client_feedback_surveys s
         JOIN projects p ON p.id = s.project_id JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id WHERE c.email = 'hannah.lee@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(hannah, (Some(9), Some(10)));
    let zoe: (Option<chrono::NaiveDate>, i64) = sqlx::query_as(
        "SELECT s.response_date, (SELECT count(*) FROM project_expenses x
                                  WHERE x.project_id = p.id AND x.receipt_path IS NOT NULL)
         FROM client_feedback_surveys s
         JOIN projects p ON p.id = s.project_id JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id WHERE c.email = 'zoe.carter@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(zoe, (None, 1));
    // Raw footage and project files stay with the studio: no link points at them.
    assert_eq!(
        count(&app, "SELECT count(*) FROM delivery_links l JOIN project_assets a ON a.id = l.asset_id WHERE a.asset_type <> 'Export'").await,
        0
    );
}

/// What is wrong with the seeded inquiries' ways through the stages: each starts in New (when
/// the inquiry came), each move starts where the last one ended, moves are in order and none
/// is after the seed's clock, and the last one ends in the status the inquiry is in.
async fn unbelievable_stage_histories(app: &TestApp, now: chrono::DateTime<chrono::Utc>) -> i64 {
    sqlx::query_scalar(
        "WITH h AS (
           SELECT c.*, i.status, i.created_at,
                  lag(c.to_status) OVER w AS prev_to, lag(c.changed_at) OVER w AS prev_at,
                  row_number() OVER w AS k, count(*) OVER (PARTITION BY c.inquiry_id) AS n
           FROM inquiry_stage_changes c JOIN inquiries i ON i.id = c.inquiry_id
           WINDOW w AS (PARTITION BY c.inquiry_id ORDER BY c.changed_at, c.id)
         )
         SELECT count(*) FROM h
         WHERE (k = 1 AND (from_status IS NOT NULL OR to_status <> 'New'
                           OR changed_at <> created_at))
            OR (k > 1 AND (from_status IS DISTINCT FROM prev_to OR changed_at < prev_at))
            OR changed_at > $1
            OR (k = n AND to_status <> status)",
    )
    .bind(now)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_seeded_inquiry_came_through_the_stages_in_believable_days() {
    use projectflo::reports::{pipeline, range::Range};
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 15, 18, 0, 0).unwrap();
    let clock = projectflo::clock::Clock::Fixed(now);
    let app = TestApp::demo_at(clock).await;
    projectflo::seed::scale(&app.db, clock, 500).await.unwrap();
    // Every inquiry has its way: one change at least, and those past New more.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM inquiries i WHERE (SELECT count(*) FROM inquiry_stage_changes c
               WHERE c.inquiry_id = i.id) < CASE WHEN i.status = 'New' THEN 1 ELSE 2 END",
        )
        .await,
        0
    );
    assert_eq!(unbelievable_stage_histories(&app, now).await, 0);
    // The pipeline of the last three years has days for each stage people pass through, and
    // they are a matter of days, not hours or years.
    let mut conn = app.db.acquire().await.unwrap();
    let range = Range {
        from: chrono::NaiveDate::from_ymd_opt(2023, 7, 1).unwrap(),
        to: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
    };
    let p = pipeline::report(&mut conn, range, None, None, "America/Los_Angeles")
        .await
        .unwrap();
    for s in &p.stages[..3] {
        let days = s.average_days.unwrap_or_else(|| panic!("{s:?}"));
        assert!(
            days >= rust_decimal::Decimal::ONE && days <= rust_decimal::Decimal::from(20),
            "{s:?}"
        );
        assert!(s.moved_on >= 20, "{s:?}");
    }
}
