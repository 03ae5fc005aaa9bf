//! Profitability per project and team performance: every number against a hand computation on
//! rows inserted here (the studio in Los Angeles, today 2026-06-15), the order and the filters
//! (date range, lead source, person), the CSV equal to the table, the hours kept by the
//! database as time is logged, timers stop and crews change, and the person filter on the
//! reports about leads.
use crate::helpers::{Session, TestApp, assert_problem};
use chrono::{TimeZone, Utc};
use projectflo::clock::Clock;
use serde_json::Value;

/// 2026-06-15 11:00 in Los Angeles.
fn clock() -> Clock {
    Clock::Fixed(Utc.with_ymd_and_hms(2026, 6, 15, 18, 0, 0).unwrap())
}

async fn app() -> (TestApp, Session, String) {
    let app = TestApp::with_settings_at(crate::helpers::Template::Empty, clock(), |_| {}).await;
    sqlx::query(
        "UPDATE studio_settings SET time_zone = 'America/Los_Angeles', currency_code = 'USD'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let owner = app.owner().await;
    let token = owner.api_token("reports").await;
    (app, owner, token)
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::raw_sql(sql).execute(&app.db).await.unwrap();
}

async fn api(s: &Session, token: &str, path: &str) -> Value {
    let resp = s
        .client
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

/// People (two editors, a shooter, one without an hourly cost), a little catalog, and four
/// projects: A and B with hours, crews, expenses and payments; C married before the range; D
/// at no price with an expense.
pub const DATA: &str = "
INSERT INTO contacts (id, first_name, last_name, email, type) VALUES
  (9001, 'Ada', 'Editor', 'ada@t.example', 'Contributor'),
  (9002, 'Ben', 'Editor', 'ben@t.example', 'Contributor'),
  (9003, 'Cy', 'Shooter', 'cy@t.example', 'Contributor'),
  (9004, 'Dee', 'Nocost', 'dee@t.example', 'Contributor'),
  (9011, 'Amy', 'A', 'a@c.example', 'Client'), (9012, 'Bo', 'B', 'b@c.example', 'Client'),
  (9013, 'Cat', 'C', 'c@c.example', 'Client'), (9014, 'Dot', 'D', 'd@c.example', 'Client');
INSERT INTO contributors (id, contact_id, role_id, hourly_cost)
  SELECT v.id, v.contact, r.id, v.cost FROM (VALUES (9001, 9001, 'Editor', 40.00),
    (9002, 9002, 'Editor', 50.00), (9003, 9003, 'Videographer', 60.00),
    (9004, 9004, 'Editor', NULL)) v(id, contact, role, cost) JOIN roles r ON r.name = v.role;
INSERT INTO staff_credentials (contributor_id) VALUES (9001), (9002), (9003), (9004);
INSERT INTO coverage_scenes (id, name) VALUES (9601, 'Scene');
INSERT INTO deliverables (id, name) VALUES (9602, 'Film');
INSERT INTO editing_styles (id, name) VALUES (9603, 'Style');
INSERT INTO task_templates (id, name, phase, effort_hours, pricing_type) VALUES
  (9604, 'Cut', 'Post-Production', 1, 'Hourly'), (9605, 'Grade', 'Post-Production', 1, 'Hourly');
INSERT INTO inquiries (id, contact_id, status, lead_source) VALUES
  (9021, 9011, 'Booked', 'Instagram'), (9022, 9012, 'Booked', 'Google'),
  (9023, 9013, 'Booked', 'Google'), (9024, 9014, 'Booked', NULL);
INSERT INTO clients (id, contact_id) VALUES (9011, 9011), (9012, 9012), (9013, 9013), (9014, 9014);
INSERT INTO projects (id, client_id, project_name, wedding_date) VALUES
  (9101, 9011, 'Amy & Al wedding', '2026-03-14'), (9102, 9012, 'Bo & Bea wedding', '2026-05-02'),
  (9103, 9013, 'Cat & Cal wedding', '2025-06-30'), (9104, 9014, 'Dot & Don wedding', '2026-06-15');
INSERT INTO builds (id, inquiry_id, project_id, status, approved_price, live_price, total_paid) VALUES
  (9201, 9021, 9101, 'Completed', 5000, 5000, 5100), (9202, 9022, 9102, 'Booked', 3000, 3000, 3000),
  (9203, 9023, 9103, 'Completed', 4000, 4000, 4000), (9204, 9024, 9104, 'Booked', 0, 0, 0);
INSERT INTO build_deliverables (id, build_id, deliverable_id) VALUES
  (9301, 9201, 9602), (9302, 9202, 9602), (9303, 9203, 9602), (9304, 9204, 9602);
INSERT INTO build_components (id, build_deliverable_id, coverage_scene_id, editing_style_id) VALUES
  (9401, 9301, 9601, 9603), (9402, 9302, 9601, 9603), (9403, 9303, 9601, 9603),
  (9404, 9304, 9601, 9603), (9405, 9301, 9601, 9603), (9406, 9303, 9601, 9603);
INSERT INTO tasks (id, project_id, build_component_id, task_template_id, status) VALUES
  (9501, 9101, 9401, 9604, 'Completed'), (9502, 9101, 9401, 9605, 'Completed'),
  (9503, 9102, 9402, 9604, 'In Progress'), (9504, 9103, 9403, 9604, 'Completed');
-- A: Ada 10 h, Ben 4.5 h, Dee 2 h (no cost); B: Ben 30 h in two entries; C: Ada 99 h.
INSERT INTO task_time_entries (task_id, contributor_id, started_at, ended_at, hours) VALUES
  (9501, 9001, '2026-03-20T16:00Z', '2026-03-21T02:00Z', 10),
  (9502, 9002, '2026-03-22T16:00Z', '2026-03-22T20:30Z', 4.5),
  (9502, 9004, '2026-03-23T16:00Z', '2026-03-23T18:00Z', 2),
  (9503, 9002, '2026-05-10T16:00Z', '2026-05-11T06:00Z', 14),
  (9503, 9002, '2026-05-12T16:00Z', '2026-05-13T08:00Z', 16),
  (9504, 9001, '2025-07-01T16:00Z', '2025-07-05T19:00Z', 99);
-- Cy on A's wedding day 14:00-22:00 in Los Angeles (8 h) and B's for 10 h; a cancelled shoot
-- and an absence count nothing.
INSERT INTO calendar_events (contributor_id, project_id, title, start_time, end_time, event_type, cancelled_at) VALUES
  (9003, 9101, 'Shoot A', '2026-03-14T21:00Z', '2026-03-15T05:00Z', 'PROJECT_ASSIGNMENT', NULL),
  (9003, 9102, 'Shoot B', '2026-05-02T19:00Z', '2026-05-03T05:00Z', 'PROJECT_ASSIGNMENT', NULL),
  (9002, 9102, 'Shoot B, cancelled', '2026-05-02T19:00Z', '2026-05-03T05:00Z', 'PROJECT_ASSIGNMENT', now()),
  (9001, 9101, 'Day off', '2026-03-16T16:00Z', '2026-03-17T00:00Z', 'ABSENCE', NULL);
INSERT INTO project_expenses (project_id, expense_date, description, category, amount) VALUES
  (9101, '2026-03-14', 'Music', 'Licensing', 120.50), (9101, '2026-03-14', 'Travel', 'Travel', 300),
  (9102, '2026-05-01', 'Lens rental', 'Rental', 1200), (9104, '2026-06-10', 'Drive', 'Materials', 50);
INSERT INTO invoices (id, project_id, invoice_number, issue_date, due_date, total_amount, amount_paid, status) VALUES
  (9701, 9101, 'A1', '2026-01-01', '2026-01-01', 5100, 5100, 'Paid'),
  (9702, 9102, 'B1', '2026-01-01', '2026-01-01', 3000, 3000, 'Paid');
INSERT INTO payments (invoice_id, payment_date, amount, payment_method) VALUES
  (9701, '2026-01-02T18:00Z', 1000, 'Card'), (9701, '2026-02-02T18:00Z', 4100, 'Bank transfer'),
  (9702, '2026-01-02T18:00Z', 900, 'Card'), (9702, '2026-02-02T18:00Z', 2100, 'Card');
SELECT setval('contacts_id_seq', 200000); SELECT setval('contributors_id_seq', 200000);
SELECT setval('projects_id_seq', 200000); SELECT setval('builds_id_seq', 200000);
SELECT setval('tasks_id_seq', 200000); SELECT setval('invoices_id_seq', 200000);
";

/// A row of the API's answer as "project price paid hours labour shoot crew expenses fees cost
/// margin margin%".
fn line(r: &Value) -> String {
    let s = |k: &str| r[k].as_str().unwrap_or("—").to_string();
    format!(
        "{} {} {} {} {} {} {} {} {} {} {} {}",
        s("project"),
        s("price"),
        s("paid"),
        s("work_hours"),
        s("labour"),
        s("shoot_hours"),
        s("crew"),
        s("expenses"),
        s("fees"),
        s("cost"),
        s("margin"),
        s("margin_percent"),
    )
}

fn lines(r: &Value) -> Vec<String> {
    r["rows"].as_array().unwrap().iter().map(line).collect()
}

#[tokio::test]
async fn profitability_per_project_equals_the_hand_computation_sorted_filtered_and_as_csv() {
    let (app, owner, token) = app().await;
    exec(&app, DATA).await;
    // By hand, the default range (2025-07-01 to today; C married before it):
    // A: labour 10 x 40 + 4.5 x 50 = 625 (Dee's 2 h have no cost); crew 8 x 60 = 480;
    //    expenses 420.50; fees 2.9% x 1000 + 0.30 = 29.30 (the transfer costs nothing);
    //    cost 1554.80; margin 3445.20, 68.9%.
    // B: labour 30 x 50 = 1500; crew 10 x 60 = 600 (Ben's cancelled shoot counts nothing);
    //    expenses 1200; fees 26.40 + 61.20 = 87.60; cost 3387.60; margin -387.60, -12.9%.
    // D: no price, an expense of 50: margin -50, no margin %.
    // The worst first: D (no %), B, A.
    let r = api(&owner, &token, "/api/v1/reports/profitability").await;
    assert_eq!(
        lines(&r),
        [
            "Dot & Don wedding 0.00 0.00 0.00 0.00 0.00 0.00 50.00 0.00 50.00 -50.00 —",
            "Bo & Bea wedding 3000.00 3000.00 30.00 1500.00 10.00 600.00 1200.00 87.60 3387.60 -387.60 -12.9",
            "Amy & Al wedding 5000.00 5100.00 16.50 625.00 8.00 480.00 420.50 29.30 1554.80 3445.20 68.9",
        ]
    );
    assert_eq!(r["rows"][2]["uncosted_hours"], "2.00");
    // Total: price 8000; costs 2125 + 1080 + 1670.50 + 116.90 = 4992.40; margin 3007.60, 37.6%.
    assert_eq!(
        line(&r["total"]),
        "Total 8000.00 8100.00 46.50 2125.00 18.00 1080.00 1670.50 116.90 4992.40 3007.60 37.6"
    );
    assert_eq!(
        (r["projects"].as_i64(), r["pages"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        (r["sort"].as_str(), r["descending"].as_bool()),
        (Some("margin_percent"), Some(false))
    );

    // Sorted by any column, both ways.
    let names = |r: &Value| -> Vec<String> {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["project"].as_str().unwrap()[..3].to_string())
            .collect()
    };
    for (q, want) in [
        ("sort=labour&dir=desc", ["Bo ", "Amy", "Dot"]),
        ("sort=expenses", ["Dot", "Amy", "Bo "]),
        ("sort=wedding_date&dir=desc", ["Dot", "Bo ", "Amy"]),
        ("sort=project", ["Amy", "Bo ", "Dot"]),
        ("sort=margin&dir=desc", ["Amy", "Dot", "Bo "]),
    ] {
        let r = api(
            &owner,
            &token,
            &format!("/api/v1/reports/profitability?{q}"),
        )
        .await;
        assert_eq!(names(&r), want, "{q}");
    }
    // Filters: a lead source (the project's inquiry), a person (logged time or shot), a range.
    let r = api(
        &owner,
        &token,
        "/api/v1/reports/profitability?source=Google",
    )
    .await;
    assert_eq!(names(&r), ["Bo "]);
    let r = api(&owner, &token, "/api/v1/reports/profitability?person=9001").await;
    assert_eq!(names(&r), ["Amy"]);
    let r = api(&owner, &token, "/api/v1/reports/profitability?person=9003").await;
    assert_eq!(names(&r), ["Bo ", "Amy"]);
    let r = api(
        &owner,
        &token,
        "/api/v1/reports/profitability?from=2025-06-01&to=2025-06-30",
    )
    .await;
    assert_eq!(
        lines(&r),
        ["Cat & Cal wedding 4000.00 4000.00 99.00 3960.00 0.00 0.00 0.00 0.00 3960.00 40.00 1.0"]
    );

    // The page: the same figures, the chart, headings that sort, the CSV is the table.
    let html = owner.get("/reports/profit").await.text().await.unwrap();
    assert!(
        html.contains("<title id=\"chart-margin-per-project-t\">Margin per project</title>"),
        "{html}"
    );
    assert!(html.contains("id=\"stat-margin\">$3,007.60<"), "{html}");
    assert!(html.contains("id=\"stat-margin-percent\">37.6%<"));
    assert!(html.contains("aria-sort=\"ascending\""));
    assert!(
        html.contains(
            "href=\"/reports/profit?from=2025-07-01&#38;to=2026-06-15&#38;sort=labour&#38;dir=asc\""
        ),
        "{html}"
    );
    assert!(
        html.contains("2.00 h by people without an hourly cost"),
        "{html}"
    );
    let rows = crate::reports::cells(&html, "profit");
    assert_eq!(rows[1][0], "Bo & Bea wedding");
    assert_eq!(rows[1][10], "-$387.60");
    assert_eq!(rows[3][0], "Total");
    let csv = owner.get("/reports/profit.csv").await.text().await.unwrap();
    assert!(csv.starts_with("project_id,project,wedding_date,source,price,paid,work_hours,labour,shoot_hours,crew,expenses,fees,cost,margin,margin_percent\n9104,Dot & Don wedding,2026-06-15,(none),0.00,"), "{csv}");
    assert!(csv.ends_with(",Total,,,8000.00,8100.00,46.50,2125.00,18.00,1080.00,1670.50,116.90,4992.40,3007.60,37.6\n"), "{csv}");
    // Every number of the page's table is in the CSV's row, in order (the CSV adds the ids and
    // the shoot hours).
    let csv_rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(crate::reports::plain)
                .filter(|v| !v.is_empty())
                .collect()
        })
        .collect();
    for (t, c) in rows.iter().zip(&csv_rows) {
        let nums: Vec<String> = t[3..]
            .iter()
            .map(|v| crate::reports::plain(v))
            .filter(|v| !v.is_empty())
            .collect();
        let mut it = c.iter();
        for n in &nums {
            assert!(it.any(|x| x == n), "{n} of {t:?} in {c:?}");
        }
    }
    // Sorted the same way as asked.
    let csv = owner
        .get("/reports/profit.csv?sort=margin&dir=desc")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.lines().nth(1).unwrap().contains("Amy & Al"), "{csv}");

    // Hours follow the time entries and the crew as they change; costs the current rate.
    exec(
        &app,
        "UPDATE contributors SET hourly_cost = 80 WHERE id = 9001;
         INSERT INTO task_time_entries (task_id, contributor_id, started_at) VALUES
           (9501, 9002, '2026-06-15T16:00Z');
         UPDATE task_time_entries SET ended_at = started_at + interval '90 minutes', hours = 1.5
           WHERE ended_at IS NULL;
         DELETE FROM task_time_entries WHERE contributor_id = 9004;
         UPDATE calendar_events SET cancelled_at = now() WHERE title = 'Shoot A';",
    )
    .await;
    let r = api(&owner, &token, "/api/v1/reports/profitability?sort=project").await;
    // A: 10 x 80 + 6 x 50 = 1100; no crew.
    assert_eq!(
        lines(&r)[0],
        "Amy & Al wedding 5000.00 5100.00 16.00 1100.00 0.00 0.00 420.50 29.30 1549.80 3450.20 69.0"
    );
    assert_eq!(r["rows"][0]["uncosted_hours"], "0.00");
    let kept: Vec<(i32, i32, String, String)> = sqlx::query_as(
        "SELECT project_id, contributor_id, work_hours::text, shoot_hours::text FROM project_hours
         WHERE project_id = 9101 ORDER BY 2",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        kept,
        [
            (9101, 9001, "10.00".into(), "0.00".into()),
            (9101, 9002, "6.00".into(), "0.00".into()),
            (9101, 9003, "0.00".into(), "0.00".into()),
            (9101, 9004, "0.00".into(), "0.00".into()),
        ]
    );

    // project_costs (kept by triggers) equals its sums made from scratch, after a new expense, an
    // expense deleted, a card payment and another person's new rate.
    exec(
        &app,
        "INSERT INTO project_expenses (project_id, expense_date, description, category, amount)
           VALUES (9101, '2026-06-20', 'Drone permit', 'Permits', 75);
         DELETE FROM project_expenses WHERE id = (SELECT min(id) FROM project_expenses
                                                  WHERE project_id = 9101);
         INSERT INTO payments (invoice_id, payment_date, amount, payment_method)
           VALUES (9701, '2026-06-21T17:00Z', 250, 'Card');
         UPDATE contributors SET hourly_cost = NULL WHERE id = 9002;",
    )
    .await;
    let drift: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM projects p
         LEFT JOIN project_costs pc ON pc.project_id = p.id
         LEFT JOIN (SELECT h.project_id, sum(h.work_hours) AS w, sum(h.shoot_hours) AS s,
                           sum(h.work_hours * COALESCE(c.hourly_cost, 0)) AS l,
                           sum(h.shoot_hours * COALESCE(c.hourly_cost, 0)) AS cr,
                           COALESCE(sum(h.work_hours + h.shoot_hours)
                                    FILTER (WHERE c.hourly_cost IS NULL), 0) AS u
                    FROM project_hours h JOIN contributors c ON c.id = h.contributor_id
                    GROUP BY 1) h ON h.project_id = p.id
         LEFT JOIN (SELECT project_id, sum(amount) AS x FROM project_expenses GROUP BY 1) x
                ON x.project_id = p.id
         LEFT JOIN (SELECT i.project_id, sum(pm.amount) AS a, count(*) AS n
                    FROM payments pm JOIN invoices i ON i.id = pm.invoice_id
                    WHERE pm.payment_method = 'Card' GROUP BY 1) c ON c.project_id = p.id
         WHERE (COALESCE(pc.work_hours, 0), COALESCE(pc.shoot_hours, 0), COALESCE(pc.labour, 0),
                COALESCE(pc.crew, 0), COALESCE(pc.uncosted_hours, 0), COALESCE(pc.expenses, 0),
                COALESCE(pc.card_amount, 0), COALESCE(pc.card_payments, 0))
           IS DISTINCT FROM
               (COALESCE(h.w, 0), COALESCE(h.s, 0), COALESCE(h.l, 0), COALESCE(h.cr, 0),
                COALESCE(h.u, 0), COALESCE(x.x, 0), COALESCE(c.a, 0), COALESCE(c.n, 0)::int)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(drift, 0, "projects whose kept costs differ from their sums");
    let r = api(&owner, &token, "/api/v1/reports/profitability?sort=project").await;
    assert_eq!(r["rows"][0]["uncosted_hours"], "6.00", "{r}");
    assert_eq!(
        r["rows"][0]["fees"], "36.85",
        "2.9% of 1250 + 2 x 0.30: {r}"
    );

    // Bad orders are refused by the field.
    for (q, field) in [
        ("sort=price%3B", "sort"),
        ("dir=up", "dir"),
        ("page=0", "page"),
        ("person=leo", "person"),
    ] {
        let resp = owner
            .client
            .get(owner.url(&format!("/api/v1/reports/profitability?{q}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let p = assert_problem(resp, 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{q}: {p}");
        assert_eq!(
            owner.get(&format!("/reports/profit?{q}")).await.status(),
            422,
            "{q}"
        );
        assert_eq!(
            owner
                .get(&format!("/reports/profit.csv?{q}"))
                .await
                .status(),
            422,
            "{q}"
        );
    }
}

#[tokio::test]
async fn profitability_pages_hold_a_hundred_projects_and_the_total_is_of_all() {
    let (app, owner, token) = app().await;
    exec(&app, DATA).await;
    exec(
        &app,
        "INSERT INTO projects (id, client_id, project_name, wedding_date)
           SELECT 10000 + n, 9011, 'Bulk ' || n, date '2026-01-01' + n FROM generate_series(1, 150) n;
         INSERT INTO builds (project_id, status, approved_price)
           SELECT 10000 + n, 'Booked', 100 FROM generate_series(1, 150) n;",
    )
    .await;
    let r = api(&owner, &token, "/api/v1/reports/profitability?page=2").await;
    assert_eq!(
        (
            r["projects"].as_i64(),
            r["pages"].as_i64(),
            r["rows"].as_array().unwrap().len()
        ),
        (Some(153), Some(2), 53)
    );
    assert_eq!(r["total"]["price"], "23000.00");
    let html = owner.get("/reports/profit").await.text().await.unwrap();
    assert!(
        html.contains("Page 1 of 2 (153 projects; the CSV has them all)"),
        "{html}"
    );
    assert!(html.contains("rel=\"next\""));
    let csv = owner.get("/reports/profit.csv").await.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + 153 + 1);
}

#[tokio::test]
async fn team_performance_per_person_template_and_month_equals_the_hand_computation() {
    let (app, owner, token) = app().await;
    exec(&app, DATA).await;
    // Completed tasks: (id, person, template, planned, actual, due, completed).
    exec(
        &app,
        "INSERT INTO tasks (id, project_id, build_component_id, task_template_id, status,
                            assigned_to_contributor_id, planned_duration_hours,
                            actual_duration_hours, due_date, completed_at) VALUES
           -- Feb 28 at 21:00 in Los Angeles: done on the due day, in February.
           (9801, 9101, 9405, 9604, 'Completed', 9001, 4, 5, '2026-02-28', '2026-03-01T05:00Z'),
           -- Mar 1 at 01:00 in Los Angeles: a day late, in March.
           (9802, 9102, 9402, 9605, 'Completed', 9001, 6, 6, '2026-02-28', '2026-03-01T09:00Z'),
           (9803, 9103, 9403, 9605, 'Completed', 9001, 2, 1, NULL, '2026-04-10T18:00Z'),
           (9804, 9104, 9404, 9604, 'Completed', 9002, 10, 15, '2026-04-30', '2026-04-20T18:00Z'),
           (9805, 9104, 9404, 9605, 'Completed', 9002, 3, 3, '2026-05-01', '2026-05-02T18:00Z'),
           (9806, 9103, 9406, 9604, 'Completed', NULL, 1, 2, '2026-06-01', '2026-06-01T18:00Z');
         -- Not counted: unfinished, and completed before the range.
         UPDATE tasks SET planned_duration_hours = 5 WHERE id = 9503;
         UPDATE tasks SET completed_at = '2025-06-01T18:00Z', planned_duration_hours = 7,
           actual_duration_hours = 7, assigned_to_contributor_id = 9001 WHERE id = 9504;
         UPDATE tasks SET status = 'In Progress' WHERE id IN (9501, 9502);",
    )
    .await;
    // Ada: Cut (9801) and Grade (9802, 9803); Ben: Cut and Grade; nobody: Cut.
    let r = api(&owner, &token, "/api/v1/reports/team-performance").await;
    let row = |x: &Value| {
        format!(
            "{}/{} {} {}/{} {} {}/{} {}",
            x["person"]
                .as_str()
                .or(x["month"].as_str())
                .unwrap_or("Total"),
            x["template"].as_str().unwrap_or("-"),
            x["tasks"],
            x["planned_hours"].as_str().unwrap(),
            x["actual_hours"].as_str().unwrap(),
            x["actual_vs_planned_percent"].as_str().unwrap_or("—"),
            x["on_time"],
            x["with_due_date"],
            x["on_time_percent"].as_str().unwrap_or("—"),
        )
    };
    let rows: Vec<String> = r["rows"].as_array().unwrap().iter().map(row).collect();
    assert_eq!(
        rows,
        [
            "Ada Editor/Cut 1 4.00/5.00 125.0 1/1 100.0",
            "Ada Editor/Grade 2 8.00/7.00 87.5 0/1 0.0",
            "Ben Editor/Cut 1 10.00/15.00 150.0 1/1 100.0",
            "Ben Editor/Grade 1 3.00/3.00 100.0 0/1 0.0",
            "(unassigned)/Cut 1 1.00/2.00 200.0 1/1 100.0",
        ]
    );
    assert_eq!(row(&r["total"]), "Total/- 6 26.00/32.00 123.1 3/5 60.0");
    let months: Vec<String> = r["months"].as_array().unwrap().iter().map(row).collect();
    assert_eq!(months.len(), 12);
    assert_eq!(
        months[7..],
        [
            "2026-02/- 1 4.00/5.00 125.0 1/1 100.0",
            "2026-03/- 1 6.00/6.00 100.0 0/1 0.0",
            "2026-04/- 2 12.00/16.00 133.3 1/1 100.0",
            "2026-05/- 1 3.00/3.00 100.0 0/1 0.0",
            "2026-06/- 1 1.00/2.00 200.0 1/1 100.0",
        ]
    );
    assert_eq!(months[0], "2025-07/- 0 0.00/0.00 — 0/0 —");
    // One person.
    let r = api(
        &owner,
        &token,
        "/api/v1/reports/team-performance?person=9002",
    )
    .await;
    assert_eq!(r["rows"].as_array().unwrap().len(), 2);
    assert_eq!(row(&r["total"]), "Total/- 2 13.00/18.00 138.5 1/2 50.0");

    // The page: two charts, the tables; the CSV is the table.
    let html = owner.get("/reports/team").await.text().await.unwrap();
    assert!(
        html.contains("Planned and actual hours by month</title>"),
        "{html}"
    );
    assert!(html.contains("On-time rate by month (%)</title>"));
    assert!(
        html.contains("<option value=\"9001\">Ada Editor</option>"),
        "{html}"
    );
    assert!(html.contains("id=\"stat-on-time\">60.0%<"), "{html}");
    let csv = owner.get("/reports/team.csv").await.text().await.unwrap();
    crate::reports::assert_csv_is_the_table(&html, &["team", "team-months"], &csv);
    assert!(
        csv.contains("\nTotal,,,6,26.00,32.00,123.1,5,3,60.0\n"),
        "{csv}"
    );
    let html = owner
        .get("/reports/team?person=9001")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<option value=\"9001\" selected>Ada Editor</option>"),
        "{html}"
    );
    assert!(html.contains("id=\"stat-tasks\">3<"), "{html}");
}

#[tokio::test]
async fn the_person_filter_on_the_lead_reports_is_the_sales_person_of_the_follow_up() {
    let (app, owner, token) = app().await;
    exec(&app, DATA).await;
    exec(
        &app,
        "UPDATE inquiries SET created_at = '2026-02-01T20:00Z';
         INSERT INTO activities (assigned_to_contributor_id, inquiry_id, activity_type, title, is_follow_up)
           VALUES (9001, 9021, 'To-Do', 'Follow up', true), (9002, 9022, 'To-Do', 'Follow up', true),
                  (9001, 9023, 'To-Do', 'Call', false);
         INSERT INTO marketing_spend (spent_on, lead_source, amount) VALUES ('2026-02-01', 'Instagram', 100);",
    )
    .await;
    let r = api(&owner, &token, "/api/v1/reports/pipeline?person=9001").await;
    assert_eq!(r["total"]["total"], 1);
    assert_eq!(r["person"], 9001);
    let r = api(&owner, &token, "/api/v1/reports/pipeline").await;
    assert_eq!(r["total"]["total"], 4);
    let r = api(&owner, &token, "/api/v1/reports/marketing-roi?person=9002").await;
    assert_eq!(r["total"]["inquiries"], 1);
    assert_eq!(r["sources"][0]["source"], "Google");
    assert_eq!(r["total"]["spend"], "0.00", "spend is no one's");
    let r = api(&owner, &token, "/api/v1/reports/marketing-roi").await;
    assert_eq!(r["total"]["spend"], "100.00");
    let html = owner
        .get("/reports/pipeline?person=9001")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"stat-inquiries\">1<"), "{html}");
    // Cash flow has no person filter.
    let html = owner.get("/reports/cash-flow").await.text().await.unwrap();
    assert!(!html.contains("id=\"f-person\""));
}

/// The first cell of every body row of the profitability table, as the browser shows them.
async fn projects_shown(c: &fantoccini::Client) -> Vec<String> {
    let mut out = vec![];
    for cell in c
        .find_all(fantoccini::Locator::Css("#profit tbody tr td:first-child"))
        .await
        .unwrap()
    {
        out.push(cell.text().await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_owner_opens_profitability_sorts_filters_and_exports_the_csv() {
    use crate::browser::{browser, click, login, wait_for_path};
    use fantoccini::Locator;
    let (app, _owner, _token) = app().await;
    exec(&app, DATA).await;
    let Some(c) = browser().await else { return };
    let (_, email) = app.staff("Owner").await;
    login(&c, &app, &email, crate::helpers::TEST_PASSWORD).await;
    // From the dashboard's money panel to the report.
    click(&c, Locator::LinkText("Profitability")).await;
    wait_for_path(&c, "/reports/profit").await;
    assert_eq!(
        projects_shown(&c).await,
        ["Dot & Don wedding", "Bo & Bea wedding", "Amy & Al wedding"],
        "the worst first"
    );
    // Sort by labour, then the other way round.
    click(&c, Locator::Css("#profit thead a[href*='sort=labour']")).await;
    c.wait()
        .for_element(Locator::Css(
            "#profit th[aria-sort='ascending'] a[href*='sort=labour']",
        ))
        .await
        .unwrap();
    assert_eq!(projects_shown(&c).await[0], "Dot & Don wedding");
    click(&c, Locator::Css("#profit thead a[href*='sort=labour']")).await;
    c.wait()
        .for_element(Locator::Css("#profit th[aria-sort='descending']"))
        .await
        .unwrap();
    assert_eq!(projects_shown(&c).await[0], "Bo & Bea wedding");
    // Only the projects Cy shot; the order stays.
    c.find(Locator::Css("#f-person option[value='9003']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, Locator::Css("#report-filter button[type='submit']")).await;
    c.wait()
        .for_element(Locator::Css("#f-person option[value='9003'][selected]"))
        .await
        .unwrap();
    assert_eq!(
        projects_shown(&c).await,
        ["Bo & Bea wedding", "Amy & Al wedding"]
    );
    let url = c.current_url().await.unwrap();
    assert!(
        url.query().unwrap().contains("sort=labour")
            && url.query().unwrap().contains("person=9003"),
        "{url}"
    );
    // Export: the link's CSV, read with the browser's own session cookie, is this table.
    let href = c
        .find(Locator::Id("csv-link"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        href.starts_with("/reports/profit.csv?") && href.contains("person=9003"),
        "{href}"
    );
    let cookie = c
        .get_all_cookies()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.name() == projectflo::auth::STAFF_COOKIE)
        .expect("the session cookie");
    let resp = reqwest::Client::new()
        .get(app.url(&href))
        .header("cookie", format!("{}={}", cookie.name(), cookie.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("profitability.csv")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].starts_with("9102,Bo & Bea wedding,2026-05-02,Google,3000.00,3000.00,30.00,1500.00,10.00,600.00,1200.00,87.60,3387.60,-387.60,-12.9"), "{csv}");
    assert!(lines[2].starts_with("9101,Amy & Al wedding,"), "{csv}");
    assert!(lines[3].starts_with(",Total,,,8000.00,"), "{csv}");
    c.close().await.unwrap();
}
