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

/// The dashboard by role, on rows inserted here (Los Angeles; today Monday 2026-06-15): each
/// panel's figures against a hand computation, and each role sees the panels that are theirs.
#[tokio::test]
async fn each_role_sees_its_panels_with_figures_that_equal_the_hand_computation() {
    let clock = Clock::Fixed(chrono::Utc.with_ymd_and_hms(2026, 6, 15, 18, 0, 0).unwrap());
    let app = TestApp::with_settings_at(crate::helpers::Template::Empty, clock, |_| {}).await;
    sqlx::query("UPDATE studio_settings SET time_zone = 'America/Los_Angeles'")
        .execute(&app.db)
        .await
        .unwrap();
    let mut s = std::collections::HashMap::new();
    let mut id = std::collections::HashMap::new();
    for role in ["Owner", "Sales", "Editor", "Videographer", "Bookkeeper"] {
        let (session, email) = app.staff(role).await;
        let who: i32 = sqlx::query_scalar(
            "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
             WHERE c.email = $1",
        )
        .bind(&email)
        .fetch_one(&app.db)
        .await
        .unwrap();
        s.insert(role, session);
        id.insert(role, who);
    }
    let (owner, sales, editor, shooter) =
        (id["Owner"], id["Sales"], id["Editor"], id["Videographer"]);
    sqlx::raw_sql(&format!(
        "INSERT INTO contacts (id, first_name, last_name, email, type) VALUES
           (9011, 'Amy', 'A', 'a@c.example', 'Client'), (9012, 'Bo', 'B', 'b@c.example', 'Client'),
           (9013, 'Cy', 'C', 'c@c.example', 'Client'), (9014, 'Di', 'D', 'd@c.example', 'Client');
         INSERT INTO clients (id, contact_id) VALUES (9011, 9011), (9012, 9012), (9013, 9013), (9014, 9014);
         -- Promised delivery 12 weeks after the wedding: P1 Jun 6, P2 Jul 18, P3 Sep 12, P4 Aug 8.
         INSERT INTO projects (id, client_id, project_name, wedding_date) VALUES
           (9101, 9011, 'Pone wedding', '2026-03-14'), (9102, 9012, 'Ptwo wedding', '2026-04-25'),
           (9103, 9013, 'Pthree wedding', '2026-06-20'), (9104, 9014, 'Pfour wedding', '2026-05-16');
         INSERT INTO coverage_scenes (id, name) VALUES (9601, 'Scene');
         INSERT INTO deliverables (id, name) VALUES (9602, 'Film');
         INSERT INTO editing_styles (id, name) VALUES (9603, 'Style');
         INSERT INTO builds (id, project_id, status) VALUES
           (9201, 9101, 'Booked'), (9202, 9102, 'Booked'), (9203, 9103, 'Booked'), (9204, 9104, 'Booked');
         INSERT INTO build_deliverables (id, build_id, deliverable_id) VALUES
           (9301, 9201, 9602), (9302, 9202, 9602), (9303, 9203, 9602), (9304, 9204, 9602);
         INSERT INTO task_templates (id, name, phase, effort_hours, pricing_type)
           SELECT 9700 + n, 'Step ' || n, 'Post-Production', 1, 'Hourly' FROM generate_series(1, 7) n;
         INSERT INTO build_components (id, build_deliverable_id, coverage_scene_id, editing_style_id) VALUES
           (9401, 9301, 9601, 9603), (9402, 9302, 9601, 9603), (9403, 9303, 9601, 9603), (9404, 9304, 9601, 9603);
         INSERT INTO tasks (project_id, build_component_id, task_template_id, status, due_date,
                            assigned_to_contributor_id, planned_duration_hours, actual_duration_hours) VALUES
           (9101, 9401, 9701, 'To-Do', '2026-06-06', {editor}, 3, NULL),
           (9102, 9402, 9702, 'In Progress', '2026-06-15', {editor}, 10, 4),
           (9102, 9402, 9703, 'To-Do', '2026-07-11', {editor}, 20, NULL),
           (9104, 9404, 9704, 'To-Do', '2026-08-01', {editor}, 5, NULL),
           (9102, 9402, 9705, 'Completed', '2026-06-01', {editor}, 2, 2),
           (9103, 9403, 9706, 'To-Do', '2026-09-05', {shooter}, 1, NULL),
           (9104, 9404, 9707, 'To-Do', '2026-07-10', NULL, 400, NULL);
         INSERT INTO operator_types (id, name, pricing_type, default_fixed_price) VALUES (9801, 'Lead', 'Fixed', 100);
         INSERT INTO contributor_operator_types VALUES ({shooter}, 9801);
         -- Saturday Jun 20: the videographer from 13:00, the owner from 15:00 (Los Angeles).
         INSERT INTO calendar_events (contributor_id, project_id, title, start_time, end_time, event_type, cancelled_at) VALUES
           ({shooter}, 9103, 'Shoot', '2026-06-20T20:00Z', '2026-06-21T05:00Z', 'PROJECT_ASSIGNMENT', NULL),
           ({owner}, 9103, 'Shoot', '2026-06-20T22:00Z', '2026-06-21T05:00Z', 'PROJECT_ASSIGNMENT', NULL),
           ({shooter}, 9102, 'Last week', '2026-06-13T20:00Z', '2026-06-14T05:00Z', 'PROJECT_ASSIGNMENT', NULL),
           ({shooter}, 9104, 'Next week', '2026-06-22T20:00Z', '2026-06-23T05:00Z', 'PROJECT_ASSIGNMENT', NULL),
           ({owner}, 9101, 'Cancelled', '2026-06-16T20:00Z', '2026-06-17T05:00Z', 'PROJECT_ASSIGNMENT', now());
         INSERT INTO invoices (id, project_id, invoice_number, issue_date, due_date, total_amount, amount_paid, status) VALUES
           (9501, 9101, 'INV-1', '2026-05-01', '2026-06-01', 1000, 400, 'Partially Paid'),
           (9502, 9102, 'INV-2', '2026-06-01', '2026-06-14', 500, 0, 'Overdue'),
           (9503, 9102, 'INV-3', '2026-06-10', '2026-06-15', 700, 0, 'Sent'),
           (9504, 9104, 'INV-4', '2026-06-02', '2026-06-10', 300, 300, 'Paid'),
           (9505, 9104, 'INV-5', '2026-06-03', '2026-05-01', 800, 0, 'Void');
         INSERT INTO payments (id, invoice_id, payment_date, amount, payment_method) VALUES
           (9601, 9501, '2026-06-02T18:00Z', 400, 'Bank transfer'),
           (9602, 9504, '2026-06-10T18:00Z', 300, 'Card'),
           -- May 31 at 22:00 in Los Angeles: last month.
           (9603, 9501, '2026-06-01T05:00Z', 999, 'Cash');
         INSERT INTO payment_refunds (payment_id, amount, refund_date, reason)
           VALUES (9602, 50, '2026-06-12T18:00Z', 'Surcharge');
         INSERT INTO activities (assigned_to_contributor_id, due_date, activity_type, title, status) VALUES
           ({sales}, '2026-06-15', 'To-Do', 'Call the venue', 'Pending'),
           ({sales}, '2026-06-14', 'To-Do', 'Send the brochure', 'Pending'),
           ({sales}, '2026-06-16', 'To-Do', 'Tomorrow', 'Pending'),
           ({sales}, '2026-06-15', 'To-Do', 'Done already', 'Completed');"
    ))
    .execute(&app.db)
    .await
    .unwrap();
    let page = |role: &'static str| {
        let session = &s[role];
        async move { session.get("/").await.text().await.unwrap() }
    };
    let section = |html: &str, id: &str| -> Option<String> {
        html.split(&format!("id=\"{id}\""))
            .nth(1)
            .map(|rest| rest.split("</section>").next().unwrap().to_string())
    };

    // The editor: their tasks (4 unfinished, 1 overdue, 1 due today) by due day, and their
    // projects at risk: P1 (a task past due); P2 has 26 h left and 34 days x 40 h a week.
    let html = page("Editor").await;
    let tasks = section(&html, "my-tasks").expect("the editor's tasks");
    assert!(
        tasks.contains("4 unfinished · <strong>1</strong> overdue · 1 due today"),
        "{tasks}"
    );
    let order: Vec<usize> = ["Step 1", "Step 2", "Step 3", "Step 4"]
        .iter()
        .map(|t| tasks.find(t).unwrap_or_else(|| panic!("{t}: {tasks}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "by due day");
    assert!(!tasks.contains("Step 5"), "completed");
    let risk = section(&html, "at-risk").unwrap();
    assert!(risk.contains("My projects at risk"), "{risk}");
    assert!(
        risk.contains("Pone wedding") && risk.contains("1 task overdue"),
        "{risk}"
    );
    assert!(!risk.contains("Ptwo") && !risk.contains("Pfour"), "{risk}");
    for other in [
        "my-todos",
        "shoots",
        "overdue-invoices",
        "revenue",
        "recent-h",
        "pipeline-h",
    ] {
        assert!(
            section(&html, other).is_none() && !html.contains(&format!("id=\"{other}\"")),
            "{other}"
        );
    }

    // The owner: everything. At risk: P1 (late) and P4 (405 h left; 55 days x 40 h / 7 =
    // 314.3 h); shoots this week: P3 with its crew by call time; invoices; money.
    let html = page("Owner").await;
    let risk = section(&html, "at-risk").unwrap();
    assert!(risk.contains("2 at risk"), "{risk}");
    assert!(
        risk.contains("405.00 h of work left, 314.3 h available to its people before delivery"),
        "{risk}"
    );
    assert!(
        risk.find("Pone").unwrap() < risk.find("Pfour").unwrap(),
        "soonest delivery first"
    );
    let shoots = section(&html, "shoots").unwrap();
    assert!(
        shoots.contains("Shoots this week") && shoots.contains("1 in the week of Jun 15"),
        "{shoots}"
    );
    assert!(
        shoots.contains("Pthree wedding") && shoots.contains("Test Videographer, Test Owner"),
        "{shoots}"
    );
    assert!(shoots.contains("Jun 20, 2026 13:00"), "{shoots}");
    for panel in [
        "my-todos",
        "my-tasks",
        "overdue-invoices",
        "revenue",
        "pipeline-h",
    ] {
        assert!(html.contains(&format!("id=\"{panel}\"")), "{panel}");
    }

    // The bookkeeper: overdue invoices (INV-1 owes 600, INV-2 500: 2 owing 1,100; INV-3 is due
    // today) and this month's money: collected 400 + 300 - 50 (the May 31 payment is May's),
    // invoiced 500 + 700 + 300 (not the void one), outstanding 600 + 500 + 700, overdue 1,100.
    let html = page("Bookkeeper").await;
    let inv = section(&html, "overdue-invoices").unwrap();
    assert!(
        inv.contains("2 overdue, owing <strong>$1,100.00</strong>"),
        "{inv}"
    );
    assert!(inv.find("INV-1").unwrap() < inv.find("INV-2").unwrap());
    assert!(!inv.contains("INV-3") && !inv.contains("INV-4"));
    assert!(html.contains("id=\"revenue-collected\">$650.00<"), "{html}");
    assert!(html.contains("id=\"revenue-invoiced\">$1,500.00<"));
    assert!(html.contains("id=\"revenue-outstanding\">$1,800.00<"));
    assert!(html.contains("id=\"revenue-overdue\">$1,100.00<"));
    for other in ["my-todos", "my-tasks", "shoots", "at-risk", "pipeline-h"] {
        assert!(!html.contains(&format!("id=\"{other}\"")), "{other}");
    }

    // Sales: today's to-dos (the overdue one first; not tomorrow's, not the done one) and the
    // pipeline; no tasks, invoices or money.
    let html = page("Sales").await;
    let todos = section(&html, "my-todos").unwrap();
    assert!(
        todos.find("Send the brochure").unwrap() < todos.find("Call the venue").unwrap(),
        "{todos}"
    );
    assert!(!todos.contains("Tomorrow") && !todos.contains("Done already"));
    assert!(html.contains("id=\"pipeline-h\""));
    for other in [
        "my-tasks",
        "overdue-invoices",
        "revenue",
        "at-risk",
        "shoots",
    ] {
        assert!(!html.contains(&format!("id=\"{other}\"")), "{other}");
    }

    // The videographer: their shoots this week (on a crew), their tasks.
    let html = page("Videographer").await;
    let shoots = section(&html, "shoots").unwrap();
    assert!(
        shoots.contains("My shoots this week") && shoots.contains("Pthree wedding"),
        "{shoots}"
    );
    assert!(html.contains("id=\"my-tasks\""));
    for other in ["my-todos", "overdue-invoices", "revenue"] {
        assert!(!html.contains(&format!("id=\"{other}\"")), "{other}");
    }
}
