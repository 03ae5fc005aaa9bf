//! The reports: each report's numbers against a hand computation on rows inserted here (in the
//! studio's zone, Los Angeles, across month ends), the filters, the CSV equal to the table, bad
//! dates refused by the field (page and API), and marketing spend (add, refuse, delete,
//! permissions, audit).
use crate::helpers::{Session, TestApp, assert_problem};
use chrono::{TimeZone, Utc};
use projectflo::clock::Clock;
use serde_json::{Value, json};

/// 2026-06-15 11:00 in Los Angeles.
fn clock() -> Clock {
    Clock::Fixed(Utc.with_ymd_and_hms(2026, 6, 15, 18, 0, 0).unwrap())
}

async fn app() -> (TestApp, Session) {
    let app = TestApp::with_settings_at(crate::helpers::Template::Empty, clock(), |_| {}).await;
    sqlx::query(
        "UPDATE studio_settings SET time_zone = 'America/Los_Angeles', currency_code = 'USD'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let owner = app.owner().await;
    (app, owner)
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::raw_sql(sql).execute(&app.db).await.unwrap();
}

/// The cells of a table's body and foot rows, as text.
pub fn cells(html: &str, id: &str) -> Vec<Vec<String>> {
    let table = html
        .split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("table {id}: {html}"))
        .split("</table>")
        .next()
        .unwrap();
    let body = table.split("</thead>").nth(1).unwrap();
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<t")
                .skip(1)
                .filter(|c| c.starts_with('d') || c.starts_with("h"))
                .map(|c| {
                    let text = c.split_once('>').unwrap().1;
                    crate::helpers::unescape(text.split("</t").next().unwrap())
                })
                .collect()
        })
        .collect()
}

/// A cell as a plain number: `$1,234.50` -> `1234.50`, `-$5.00` -> `-5.00`, `33.3%` -> `33.3`.
pub fn plain(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    if s == "-" || s.is_empty() {
        String::new()
    } else {
        s
    }
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// Every number of the page's table equals the CSV's, row by row.
pub fn assert_csv_is_the_table(html: &str, ids: &[&str], csv: &str) {
    let mut table: Vec<Vec<String>> = vec![];
    for id in ids {
        table.extend(cells(html, id));
    }
    let csv = csv_rows(csv);
    assert_eq!(table.len(), csv.len(), "{table:?}\n{csv:?}");
    for (t, c) in table.iter().zip(&csv) {
        let t: Vec<String> = t
            .iter()
            .map(|v| plain(v))
            .filter(|v| !v.is_empty())
            .collect();
        let c: Vec<String> = c
            .iter()
            .map(|v| plain(v))
            .filter(|v| !v.is_empty())
            .collect();
        assert_eq!(t, c);
    }
}

async fn cash_flow_data(app: &TestApp) {
    exec(
        app,
        "INSERT INTO contacts (id, first_name, last_name, email, type)
           VALUES (9001, 'Ada', 'Cash', 'ada.cash@example.com', 'Client');
         INSERT INTO clients (id, contact_id) VALUES (9001, 9001);
         INSERT INTO projects (id, client_id, project_name, wedding_date)
           VALUES (9001, 9001, 'Cash wedding', '2026-09-01');
         INSERT INTO invoices (id, project_id, invoice_number, issue_date, due_date, total_amount, amount_paid, status) VALUES
           (9101, 9001, 'A', '2026-01-10', '2026-01-20', 1000, 1000, 'Paid'),
           (9102, 9001, 'B', '2026-02-05', '2026-07-10', 2000, 300, 'Partially Paid'),
           (9103, 9001, 'C', '2026-02-20', '2026-05-01', 300, 0, 'Overdue'),
           (9104, 9001, 'D', '2026-03-01', '2026-03-30', 999, 0, 'Draft'),
           (9105, 9001, 'E', '2026-03-02', '2026-03-30', 777, 0, 'Void'),
           (9106, 9001, 'F', '2026-03-15', '2026-03-15', -100, -100, 'Paid'),
           (9107, 9001, 'G', '2026-06-01', '2026-06-20', 400, 100, 'Partially Paid'),
           (9108, 9001, 'H', '2025-12-20', '2026-08-05', 250, 0, 'Sent'),
           (9109, 9001, 'I', '2026-06-02', '2026-09-05', 80, 0, 'Sent');
         INSERT INTO payments (id, invoice_id, payment_date, amount, payment_method, credit_invoice_id) VALUES
           -- Feb 28 at 21:00 in Los Angeles: February.
           (9201, 9101, '2026-03-01T05:00:00Z', 1000, 'Card', NULL),
           (9202, 9102, '2026-03-10T20:00:00Z', 500, 'Bank transfer', NULL),
           -- A credit note applied: not money.
           (9203, 9107, '2026-06-05T20:00:00Z', 100, 'Credit', 9106),
           (9204, 9106, '2026-06-05T20:00:00Z', -100, 'Credit', 9107);
         INSERT INTO payment_refunds (payment_id, amount, refund_date, reason)
           VALUES (9202, 200, '2026-04-02T12:00:00Z', 'Overpaid');
         -- E was voided on April 10 (it was owed, and overdue, at the end of March).
         UPDATE invoices SET voided_at = '2026-04-10T18:00:00Z' WHERE id = 9105;
         SELECT setval('invoices_id_seq', 200000); SELECT setval('payments_id_seq', 200000);
         SELECT setval('contacts_id_seq', 200000); SELECT setval('clients_id_seq', 200000);
         SELECT setval('projects_id_seq', 200000);",
    )
    .await;
}

#[tokio::test]
async fn cash_flow_by_local_month_equals_the_hand_computation_in_page_csv_and_api() {
    let (app, owner) = app().await;
    cash_flow_data(&app).await;
    let q = "from=2026-01-01&to=2026-08-31";
    let token = owner.api_token("reports").await;
    let api: Value = owner
        .client
        .get(owner.url(&format!("/api/v1/reports/cash-flow?{q}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // By hand: invoiced Jan 1000; Feb 2000 + 300; Mar -100 (the credit note; the draft and the
    // void one not counted); Jun 400 + 80. Collected: Feb 1000 (paid Feb 28 in LA), Mar 500,
    // Apr -200 (the refund); the credit pair moves no money. Expected (due from today, Jun 15):
    // Jun 300 (G), Jul 1700 (B), Aug 250 (H); C is overdue, I is due after the range.
    let months: Vec<(String, String, String, String)> = api["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_string(),
                m["invoiced"].as_str().unwrap().to_string(),
                m["collected"].as_str().unwrap().to_string(),
                m["expected"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("2026-01", "1000.00", "0.00", "0.00"),
        ("2026-02", "2300.00", "1000.00", "0.00"),
        ("2026-03", "-100.00", "500.00", "0.00"),
        ("2026-04", "0.00", "-200.00", "0.00"),
        ("2026-05", "0.00", "0.00", "0.00"),
        ("2026-06", "480.00", "0.00", "300.00"),
        ("2026-07", "0.00", "0.00", "1700.00"),
        ("2026-08", "0.00", "0.00", "250.00"),
    ];
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|w| (w.0.into(), w.1.into(), w.2.into(), w.3.into()))
        .collect();
    assert_eq!(months, want);
    assert_eq!(api["total"]["invoiced"], "3680.00");
    assert_eq!(api["total"]["collected"], "1300.00");
    assert_eq!(api["total"]["expected"], "2250.00");
    // Outstanding at today: B 1700 + C 300 + G 300 + H 250 + I 80; overdue: C.
    assert_eq!(api["outstanding"], "2630.00");
    assert_eq!(api["overdue"], "300.00");
    assert_eq!(api["today"], "2026-06-15");
    assert_eq!(api["currency"], "USD");
    // At each month's end, by hand:
    //   Jan: A 1000 (due Jan 20: overdue) + H 250 = 1250.
    //   Feb: A paid (Feb 28 in LA); H 250 + B 2000 + C 300 = 2550, none due yet.
    //   Mar: B 1500 (500 paid) + C 300 + H 250 + E 777 (voided only in April; due Mar 30:
    //        overdue) = 2827.
    //   Apr: E void, B 1700 (200 refunded): 2250, none due before May 1.
    //   May: 2250, C due May 1: overdue 300.
    //   Jun (today's month): at today, 2630 and 300. Jul, Aug: still to come.
    let ends: Vec<String> = api["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {} {}",
                m["month"].as_str().unwrap(),
                m["outstanding"].as_str().unwrap_or("-"),
                m["overdue"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        ends,
        [
            "2026-01 1250.00 1000.00",
            "2026-02 2550.00 0.00",
            "2026-03 2827.00 777.00",
            "2026-04 2250.00 0.00",
            "2026-05 2250.00 300.00",
            "2026-06 2630.00 300.00",
            "2026-07 - -",
            "2026-08 - -",
        ]
    );
    assert!(api["total"]["outstanding"].is_null());

    // The page: the same figures, a chart, and the CSV is the table.
    let html = owner
        .get(&format!("/reports/cash-flow?{q}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("role=\"img\""), "{html}");
    assert!(html.contains("<title id=\"chart-cash-flow-by-month-t\">Cash flow by month</title>"));
    assert!(
        html.contains("id=\"stat-outstanding\">$2,630.00<"),
        "{html}"
    );
    assert!(html.contains("id=\"stat-overdue\">$300.00<"));
    let rows = cells(&html, "cash-flow");
    assert_eq!(
        rows[1],
        [
            "2026-02",
            "$2,300.00",
            "$1,000.00",
            "$0.00",
            "$2,550.00",
            "$0.00"
        ]
    );
    assert_eq!(rows[2][1], "-$100.00");
    assert_eq!(rows[7][4..], ["", ""], "August has not ended");
    assert_eq!(
        rows[8],
        ["Total", "$3,680.00", "$1,300.00", "$2,250.00", "", ""]
    );
    assert!(html.contains("Outstanding and overdue at each month"));
    assert!(
        html.contains(&format!(
            "href=\"/reports/cash-flow.csv?{}\"",
            q.replace('&', "&#38;")
        )),
        "{html}"
    );
    let csv_resp = owner.get(&format!("/reports/cash-flow.csv?{q}")).await;
    assert_eq!(csv_resp.status(), 200);
    assert!(
        csv_resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv_resp.text().await.unwrap();
    assert!(
        csv.starts_with(
            "month,invoiced,collected,expected,outstanding,overdue\n\
             2026-01,1000.00,0.00,0.00,1250.00,1000.00\n"
        ),
        "{csv}"
    );
    assert!(csv.ends_with("Total,3680.00,1300.00,2250.00,,\n"), "{csv}");
    assert_csv_is_the_table(&html, &["cash-flow"], &csv);

    // A narrower range: only March; by default the last 12 months up to today.
    let r: Value = owner
        .client
        .get(owner.url("/api/v1/reports/cash-flow?from=2026-03-01&to=2026-03-31"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["months"].as_array().unwrap().len(), 1);
    assert_eq!(r["total"]["invoiced"], "-100.00");
    let r: Value = owner
        .client
        .get(owner.url("/api/v1/reports/cash-flow"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some("2025-07-01"), Some("2026-06-15"))
    );
    assert_eq!(r["months"].as_array().unwrap().len(), 12);
    // Within the default range H (issued Dec 20) counts too; expected: the rest of June (G).
    assert_eq!(r["total"]["invoiced"], "3930.00");
    assert_eq!(r["total"]["expected"], "300.00");
    // The link to the coming six months: June to November, everything still owed by due month.
    let html = owner.get("/reports/cash-flow").await.text().await.unwrap();
    assert!(
        html.contains("href=\"/reports/cash-flow?from=2026-06-01&#38;to=2026-11-30\""),
        "{html}"
    );
    let r = api_get(
        &owner,
        &token,
        "/api/v1/reports/cash-flow?from=2026-06-01&to=2026-11-30",
    )
    .await;
    assert_eq!(r["total"]["expected"], "2330.00");
    assert_eq!(r["months"][3]["expected"], "80.00");

    // By lead source: a wedding Google brought (its deposit invoiced in May, paid by card, the
    // rest due in July) stands alone; "(none)" is the figures above.
    exec(
        &app,
        "INSERT INTO contacts (id, first_name, last_name, email, type)
           VALUES (9002, 'Bo', 'Search', 'bo.search@example.com', 'Client');
         INSERT INTO clients (id, contact_id) VALUES (9002, 9002);
         INSERT INTO inquiries (id, contact_id, status, lead_source)
           VALUES (9002, 9002, 'Booked', 'Google');
         INSERT INTO projects (id, client_id, project_name, wedding_date)
           VALUES (9002, 9002, 'Search wedding', '2026-10-03');
         INSERT INTO builds (id, inquiry_id, project_id, status, approved_price, live_price)
           VALUES (9002, 9002, 9002, 'Booked', 3000, 3000);
         INSERT INTO invoices (id, project_id, invoice_number, issue_date, due_date, total_amount, amount_paid, status) VALUES
           (9110, 9002, 'J', '2026-05-04', '2026-05-04', 600, 600, 'Paid'),
           (9111, 9002, 'K', '2026-05-04', '2026-07-20', 2400, 0, 'Sent');
         INSERT INTO payments (id, invoice_id, payment_date, amount, payment_method)
           VALUES (9205, 9110, '2026-05-05T18:00:00Z', 600, 'Card');",
    )
    .await;
    let google = api_get(
        &owner,
        &token,
        &format!("/api/v1/reports/cash-flow?{q}&source=Google"),
    )
    .await;
    let may = &google["months"][4];
    assert_eq!(
        (&may["month"], &may["invoiced"], &may["collected"]),
        (&json!("2026-05"), &json!("3000.00"), &json!("600.00")),
        "{google}"
    );
    assert_eq!(google["total"]["invoiced"], "3000.00");
    assert_eq!(google["total"]["expected"], "2400.00");
    assert_eq!(google["outstanding"], "2400.00");
    assert_eq!(google["overdue"], "0.00");
    // At April's end Google had brought nothing owed; at May's end K (due in July).
    assert_eq!(google["months"][3]["outstanding"], "0.00");
    assert_eq!(
        (&may["outstanding"], &may["overdue"]),
        (&json!("2400.00"), &json!("0.00"))
    );
    let none = api_get(
        &owner,
        &token,
        &format!("/api/v1/reports/cash-flow?{q}&source=(none)"),
    )
    .await;
    assert_eq!(none["total"], api["total"]);
    assert_eq!(none["months"], api["months"], "every month's end as before");
    assert_eq!(none["outstanding"], "2630.00");
    let html = owner
        .get(&format!("/reports/cash-flow?{q}&source=Google"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        cells(&html, "cash-flow")[8],
        ["Total", "$3,000.00", "$600.00", "$2,400.00", "", ""]
    );
}

async fn leads_data(app: &TestApp) {
    exec(
        app,
        "INSERT INTO contacts (id, first_name, last_name, email, type) VALUES
           (9301, 'I', 'One', 'i1@example.com', 'Client Lead'), (9302, 'I', 'Two', 'i2@example.com', 'Client Lead'),
           (9303, 'I', 'Three', 'i3@example.com', 'Client Lead'), (9304, 'I', 'Four', 'i4@example.com', 'Client Lead'),
           (9305, 'I', 'Five', 'i5@example.com', 'Client Lead'), (9306, 'I', 'Six', 'i6@example.com', 'Client Lead'),
           (9307, 'I', 'Seven', 'i7@example.com', 'Client Lead');
         INSERT INTO inquiries (id, contact_id, status, lead_source, campaign_id, created_at) VALUES
           (9401, 9301, 'New', 'Instagram', 'spring', '2026-02-01T20:00:00Z'),
           (9402, 9302, 'New', 'Instagram', 'spring', '2026-02-10T20:00:00Z'),
           (9403, 9303, 'New', 'Instagram', NULL, '2026-03-01T20:00:00Z'),
           (9404, 9304, 'New', 'Google', 'g1', '2026-04-01T20:00:00Z'),
           (9405, 9305, 'Booked', NULL, NULL, '2026-04-02T20:00:00Z'),
           -- Dec 31 in Los Angeles: before the range.
           (9406, 9306, 'New', 'Instagram', 'spring', '2026-01-01T04:00:00Z'),
           -- June 30 at 20:00 in Los Angeles: in the range.
           (9407, 9307, 'New', ' Google ', 'g1', '2026-07-01T03:00:00Z');
         -- The moves, each at the updated_at it sets (9405 was entered Booked).
         UPDATE inquiries SET status = 'Contacted', updated_at = '2026-02-03T20:00:00Z' WHERE id = 9401;
         UPDATE inquiries SET status = 'Proposal Sent', updated_at = '2026-02-08T20:00:00Z' WHERE id = 9401;
         UPDATE inquiries SET status = 'Booked', updated_at = '2026-02-18T20:00:00Z' WHERE id = 9401;
         UPDATE inquiries SET status = 'Contacted', updated_at = '2026-02-11T08:00:00Z' WHERE id = 9402;
         UPDATE inquiries SET status = 'Proposal Sent', updated_at = '2026-02-14T08:00:00Z' WHERE id = 9402;
         UPDATE inquiries SET status = 'Proposal Sent', updated_at = '2026-03-03T20:00:00Z' WHERE id = 9403;
         UPDATE inquiries SET status = 'Closed-Lost', updated_at = '2026-03-10T20:00:00Z' WHERE id = 9403;
         UPDATE inquiries SET status = 'Booked', updated_at = '2026-02-20T20:00:00Z' WHERE id = 9406;
         INSERT INTO builds (id, inquiry_id, status, approved_price) VALUES
           (9501, 9401, 'Booked', 5000), (9502, 9402, 'Proposal Sent', 4000),
           (9503, 9403, 'Inquiry', 3000), (9505, 9405, 'Completed', 1000),
           (9506, 9406, 'Booked', 7000);
         INSERT INTO proposal_versions (build_id, version, token_hash, configuration, sections, total, sent_at, valid_until)
           VALUES (9503, 1, repeat('a', 64), '{}', '[]', 3000, '2026-03-02T20:00:00Z', '2026-04-01');
         INSERT INTO marketing_spend (spent_on, lead_source, campaign_id, amount) VALUES
           ('2026-01-15', 'Instagram', 'spring', 1000), ('2026-06-30', 'Instagram', NULL, 500),
           ('2026-02-01', 'Google', 'g1', 300), ('2026-03-01', 'Facebook', NULL, 200),
           ('2026-07-01', 'Instagram', 'spring', 999), ('2025-12-31', 'Instagram', 'spring', 888);
         SELECT setval('contacts_id_seq', 200000); SELECT setval('inquiries_id_seq', 200000);
         SELECT setval('builds_id_seq', 200000);",
    )
    .await;
}

async fn api_get(s: &Session, token: &str, path: &str) -> Value {
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

fn roi_line(r: &Value) -> String {
    format!(
        "{}/{} {} {} {} {} {} {} {}",
        r["source"].as_str().unwrap(),
        r["campaign"].as_str().unwrap_or("-"),
        r["inquiries"],
        r["proposals"],
        r["bookings"],
        r["conversion_percent"].as_str().unwrap_or("—"),
        r["revenue"].as_str().unwrap(),
        r["spend"].as_str().unwrap(),
        r["roi_percent"].as_str().unwrap_or("—"),
    )
}

#[tokio::test]
async fn marketing_roi_per_source_and_campaign_equals_the_hand_computation() {
    let (app, owner) = app().await;
    leads_data(&app).await;
    let token = owner.api_token("reports").await;
    let q = "from=2026-01-01&to=2026-06-30";
    let r = api_get(
        &owner,
        &token,
        &format!("/api/v1/reports/marketing-roi?{q}"),
    )
    .await;
    let sources: Vec<String> = r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(roi_line)
        .collect();
    // By hand. Instagram: 3 inquiries (the Dec 31 one is out), 3 proposals (Booked, Proposal
    // Sent, a proposal version), 1 booking of 5000, spend 1000 + 500 (not Jul 1 or Dec 31),
    // ROI (5000 - 1500) / 1500. (none): the Completed quote. Facebook: spend only. Google: the
    // trimmed ' Google ' of June 30 in LA counts.
    assert_eq!(
        sources,
        [
            "Instagram/- 3 3 1 33.3 5000.00 1500.00 233.3",
            "(none)/- 1 1 1 100.0 1000.00 0.00 —",
            "Facebook/- 0 0 0 — 0.00 200.00 -100.0",
            "Google/- 2 0 0 0.0 0.00 300.00 -100.0",
        ]
    );
    let campaigns: Vec<String> = r["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(roi_line)
        .collect();
    assert_eq!(
        campaigns,
        [
            "Instagram/spring 2 2 1 50.0 5000.00 1000.00 400.0",
            "Instagram/(none) 1 1 0 0.0 0.00 500.00 -100.0",
            "(none)/(none) 1 1 1 100.0 1000.00 0.00 —",
            "Facebook/(none) 0 0 0 — 0.00 200.00 -100.0",
            "Google/g1 2 0 0 0.0 0.00 300.00 -100.0",
        ]
    );
    assert_eq!(
        roi_line(&r["total"]),
        "Total/- 6 4 2 33.3 6000.00 2000.00 200.0"
    );

    // Filtered by source; "(none)" is the inquiries without one.
    let r = api_get(
        &owner,
        &token,
        &format!("/api/v1/reports/marketing-roi?{q}&source=Instagram"),
    )
    .await;
    assert_eq!(r["sources"].as_array().unwrap().len(), 1);
    assert_eq!(
        roi_line(&r["total"]),
        "Total/- 3 3 1 33.3 5000.00 1500.00 233.3"
    );
    let r = api_get(
        &owner,
        &token,
        &format!("/api/v1/reports/marketing-roi?{q}&source=%28none%29"),
    )
    .await;
    assert_eq!(roi_line(&r["total"]), "Total/- 1 1 1 100.0 1000.00 0.00 —");

    // The page and its CSV: the same numbers.
    let html = owner
        .get(&format!("/reports/marketing?{q}"))
        .await
        .text()
        .await
        .unwrap();
    let rows = cells(&html, "by-source");
    assert_eq!(
        rows[0],
        [
            "Instagram",
            "3",
            "3",
            "1",
            "33.3%",
            "$5,000.00",
            "$1,500.00",
            "233.3%"
        ]
    );
    assert_eq!(
        rows[4],
        [
            "Total",
            "6",
            "4",
            "2",
            "33.3%",
            "$6,000.00",
            "$2,000.00",
            "200.0%"
        ]
    );
    assert!(html.contains("role=\"img\""));
    assert!(
        html.contains("href=\"/reports/spend\""),
        "reachable from the report"
    );
    let csv = owner
        .get(&format!("/reports/marketing.csv?{q}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("source,campaign,inquiries,proposals,bookings,conversion_percent,revenue,spend,roi_percent\n"));
    assert!(
        csv.contains("\nInstagram,spring,2,2,1,50.0,5000.00,1000.00,400.0\n"),
        "{csv}"
    );
    // The CSV's source rows, campaign rows and total in the page's order.
    let csv_sources: String = csv
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some(""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_csv_is_the_table(&html, &["by-source"], &format!("header\n{csv_sources}"));
    let csv_campaigns: String = csv
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) != Some(""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_csv_is_the_table(&html, &["by-campaign"], &format!("header\n{csv_campaigns}"));
}

#[tokio::test]
async fn the_pipeline_counts_inquiries_by_local_month_and_status_and_the_win_rate() {
    let (app, owner) = app().await;
    leads_data(&app).await;
    let token = owner.api_token("reports").await;
    let q = "from=2026-01-01&to=2026-06-30";
    let p = api_get(&owner, &token, &format!("/api/v1/reports/pipeline?{q}")).await;
    let line = |m: &Value| {
        format!(
            "{} {} {} {} {} {} {}",
            m["month"].as_str().unwrap(),
            m["new"],
            m["contacted"],
            m["proposal_sent"],
            m["booked"],
            m["closed_lost"],
            m["total"]
        )
    };
    let months: Vec<String> = p["months"].as_array().unwrap().iter().map(line).collect();
    assert_eq!(
        months,
        [
            "2026-01 0 0 0 0 0 0",
            "2026-02 0 0 1 1 0 2",
            "2026-03 0 0 0 0 1 1",
            "2026-04 1 0 0 1 0 2",
            "2026-05 0 0 0 0 0 0",
            "2026-06 1 0 0 0 0 1",
        ]
    );
    assert_eq!(line(&p["total"]), "Total 2 0 1 2 1 6");
    // Booked 2 / (Booked 2 + Closed-Lost 1).
    assert_eq!(p["win_rate_percent"], "66.7");
    let p = api_get(
        &owner,
        &token,
        &format!("/api/v1/reports/pipeline?{q}&source=Google"),
    )
    .await;
    assert_eq!(line(&p["total"]), "Total 2 0 0 0 0 2");
    assert!(p["win_rate_percent"].is_null());

    let html = owner
        .get(&format!("/reports/pipeline?{q}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"stat-win-rate\">66.7%<"), "{html}");
    assert_eq!(
        html.matches("class=\"legend\"").count(),
        5,
        "one series per status (the days chart has one series, no legend)"
    );
    assert!(
        html.contains("Average days in each stage"),
        "the days chart"
    );
    let csv = owner
        .get(&format!("/reports/pipeline.csv?{q}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.ends_with("Total,2,0,1,2,1,6\n"), "{csv}");
    assert_csv_is_the_table(&html, &["pipeline"], &csv);

    // Days in each stage, of the six inquiries created in the range (9406 is not; 9405 was
    // entered Booked and has no stay before it):
    //   New: 9401 2 days, 9402 0.5, 9403 2 -> 4.5 / 3 = 1.5; 9404 and 9407 are in it now.
    //   Contacted: 9401 5 days, 9402 3 -> 4.0.
    //   Proposal Sent: 9401 10 days, 9403 7 -> 8.5; 9402 is in it now.
    //   Booked: 9401 and 9405 in it; Closed-Lost: 9403.
    let p = api_get(&owner, &token, &format!("/api/v1/reports/pipeline?{q}")).await;
    let stages: Vec<String> = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s["stage"].as_str().unwrap(),
                s["average_days"].as_str().unwrap_or("-"),
                s["moved_on"],
                s["in_it_now"]
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            "New 1.5 3 2",
            "Contacted 4.0 2 0",
            "Proposal Sent 8.5 2 1",
            "Booked - 0 2",
            "Closed-Lost - 0 1",
        ]
    );
    let google = api_get(
        &owner,
        &token,
        &format!("/api/v1/reports/pipeline?{q}&source=Google"),
    )
    .await;
    assert_eq!(google["stages"][0]["in_it_now"], 2);
    assert!(google["stages"][0]["average_days"].is_null());
    let stages_csv = owner
        .get(&format!("/reports/pipeline-stages.csv?{q}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        stages_csv.replace("\r\n", "\n"),
        "stage,average_days,moved_on,in_it_now\nNew,1.5,3,2\nContacted,4.0,2,0\n\
         Proposal Sent,8.5,2,1\nBooked,,0,2\nClosed-Lost,,0,1\n"
    );
    assert_csv_is_the_table(&html, &["stages"], &stages_csv.replace(",,", ",—,"));
    assert!(
        crate::helpers::unescape(&html).contains(&format!(
            "id=\"stages-csv\" href=\"/reports/pipeline-stages.csv?{q}\""
        )),
        "the stages table links its own CSV"
    );
}

/// The application stamps each move with its clock (not the database's), wherever it is made:
/// an inquiry taken at one instant and moved two and a half days later spent 2.5 days in New.
#[tokio::test]
async fn a_move_is_timed_by_the_clock_of_the_app_that_makes_it() {
    let (app, owner) = app().await;
    let token = owner.api_token("leads").await;
    let resp = owner
        .client
        .post(owner.url("/api/v1/inquiries"))
        .bearer_auth(&token)
        .json(&json!({"email": "timed@example.com", "first_name": "Tia", "last_name": "Timed", "lead_source": "Google"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["inquiry_id"]
        .as_i64()
        .unwrap();
    let later = Clock::Fixed(Utc.with_ymd_and_hms(2026, 6, 18, 6, 0, 0).unwrap());
    let later_app = app.also_at(later, |_| {}).await;
    let resp = owner
        .client
        .post(later_app.url(&format!("/api/v1/inquiries/{id}/status")))
        .bearer_auth(&token)
        .json(&json!({"status": "Contacted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let times: Vec<(Option<String>, String, chrono::DateTime<Utc>)> = sqlx::query_as(
        "SELECT from_status::text, to_status::text, changed_at FROM inquiry_stage_changes
         WHERE inquiry_id = $1 ORDER BY id",
    )
    .bind(id as i32)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        times,
        [
            (None, "New".into(), clock().now()),
            (Some("New".into()), "Contacted".into(), later.now()),
        ]
    );
    let p = api_get(
        &owner,
        &token,
        "/api/v1/reports/pipeline?from=2026-06-01&to=2026-06-30",
    )
    .await;
    assert_eq!(p["stages"][0]["average_days"], "2.5");
    assert_eq!(p["stages"][1]["in_it_now"], 1);
}

#[tokio::test]
async fn bad_filters_are_refused_by_the_field_on_pages_csv_and_api() {
    let (_app, owner) = app().await;
    let token = owner.api_token("reports").await;
    for page in [
        "/reports/cash-flow",
        "/reports/marketing",
        "/reports/pipeline",
    ] {
        // Not a day: 422; well-formed days the range refuses (backwards, too long): 409.
        for (q, field, status) in [
            ("from=2026-02-30", "from", 422),
            ("from=yesterday", "from", 422),
            ("to=0000-01-01", "to", 422),
            ("from=2026-05-02&to=2026-05-01", "to", 409),
            ("from=2000-01-01&to=2026-01-01", "to", 409),
        ] {
            let resp = owner.get(&format!("{page}?{q}")).await;
            assert_eq!(resp.status(), status, "{page}?{q}");
            let html = resp.text().await.unwrap();
            assert!(
                html.contains(&format!("id=\"f-{field}-error\"")),
                "{page}?{q}: {html}"
            );
            assert!(html.contains("aria-invalid=\"true\""));
            assert_eq!(owner.get(&format!("{page}.csv?{q}")).await.status(), status);
        }
    }
    for api in ["cash-flow", "marketing-roi", "pipeline"] {
        for (q, field, status) in [
            ("from=2026-13-01", "from", 422),
            ("to=2026-01-01&from=2026-02-01", "to", 409),
        ] {
            let resp = owner
                .client
                .get(owner.url(&format!("/api/v1/reports/{api}?{q}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let p = assert_problem(resp, status).await;
            assert_eq!(p["errors"][0]["field"], field, "{api}?{q}: {p}");
        }
    }
    let long = "x".repeat(256);
    let resp = owner
        .client
        .get(owner.url(&format!("/api/v1/reports/marketing-roi?source={long}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let p = assert_problem(resp, 422).await;
    assert_eq!(p["errors"][0]["field"], "source");
}

#[tokio::test]
async fn spend_is_added_refused_by_the_field_listed_and_deleted_with_reports_view_only() {
    let (app, owner) = app().await;
    // The page: a refusal names each bad field and keeps what was typed; nothing is stored.
    let resp = owner
        .post_form(
            "/reports/spend",
            &[
                ("spent_on", "2026-02-30"),
                ("lead_source", " "),
                ("amount", "-5"),
                ("campaign_id", "spring"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    for id in ["s-day-error", "s-source-error", "s-amount-error"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
    }
    assert!(html.contains("value=\"spring\""), "what was typed stays");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM marketing_spend")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Added.
    let resp = owner
        .post_form(
            "/reports/spend",
            &[
                ("spent_on", "2026-03-01"),
                ("lead_source", "Instagram"),
                ("amount", "250.50"),
                ("campaign_id", ""),
                ("notes", "Reels boost"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, "/reports/spend?done=added");
    let html = owner.get(&to).await.text().await.unwrap();
    assert!(html.contains("The spend is added."), "{html}");
    assert!(html.contains("$250.50"));
    assert!(html.contains("Reels boost"));
    let id: i32 = sqlx::query_scalar("SELECT id FROM marketing_spend")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'reports.marketing_spend.create' AND entity_id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // The API: a list, a create (201), a refusal by the field (422), a delete (204, then 404).
    let token = owner.api_token("spend").await;
    let list = api_get(&owner, &token, "/api/v1/reports/marketing-spend").await;
    assert_eq!(list[0]["amount"], "250.50");
    assert_eq!(list[0]["lead_source"], "Instagram");
    assert!(list[0]["campaign_id"].is_null());
    let post = |body: Value| {
        owner
            .client
            .post(owner.url("/api/v1/reports/marketing-spend"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let resp = post(serde_json::json!({"spent_on": "2026-04-01", "lead_source": "Google", "campaign_id": "g1", "amount": "99.99"})).await.unwrap();
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["campaign_id"], "g1");
    let resp =
        post(serde_json::json!({"spent_on": "2026-04-01", "lead_source": "Google", "amount": "0"}))
            .await
            .unwrap();
    let p = assert_problem(resp, 422).await;
    assert_eq!(p["errors"][0]["field"], "amount");
    let resp =
        post(serde_json::json!({"spent_on": "04/01/2026", "lead_source": "Google", "amount": "5"}))
            .await
            .unwrap();
    let p = assert_problem(resp, 422).await;
    assert_eq!(p["errors"][0]["field"], "spent_on");
    let del = |id: i64| {
        owner
            .client
            .delete(owner.url(&format!("/api/v1/reports/marketing-spend/{id}")))
            .bearer_auth(&token)
            .send()
    };
    let new_id = created["id"].as_i64().unwrap();
    assert_eq!(del(new_id).await.unwrap().status(), 204);
    assert_problem(del(new_id).await.unwrap(), 404).await;
    // A role without reports.view: 403 everywhere, nothing changed.
    let (editor, _) = app.staff("Editor").await;
    assert_eq!(editor.get("/reports").await.status(), 403);
    assert_eq!(editor.get("/reports/spend").await.status(), 403);
    assert_eq!(editor.get("/reports/cash-flow.csv").await.status(), 403);
    let resp = editor
        .post_form(
            "/reports/spend",
            &[
                ("spent_on", "2026-03-01"),
                ("lead_source", "X"),
                ("amount", "5"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        editor
            .post_form(&format!("/reports/spend/{id}/delete"), &[])
            .await
            .status(),
        403
    );
    // The page's delete.
    let resp = owner
        .post_form(&format!("/reports/spend/{id}/delete"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        owner
            .get(&to)
            .await
            .text()
            .await
            .unwrap()
            .contains("The spend is deleted.")
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM marketing_spend")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'reports.marketing_spend.delete'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn the_spend_list_walks_every_entry_once_newest_day_first() {
    let (app, owner) = app().await;
    exec(
        &app,
        "INSERT INTO marketing_spend (spent_on, lead_source, amount)
         SELECT DATE '2026-01-01' + (n % 40), 'Source ' || n, n FROM generate_series(1, 120) n",
    )
    .await;
    let all: Vec<i64> = sqlx::query_scalar(
        "SELECT id::bigint FROM marketing_spend ORDER BY spent_on DESC, id DESC",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let ids = |html: &str| -> Vec<i64> {
        html.split("data-spend=\"")
            .skip(1)
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    let (seen, pages) = owner.walk("/reports/spend", ids).await;
    assert_eq!(pages, 3);
    assert_eq!(seen, all);
    let token = owner.api_token("spend").await;
    let (api, _) = owner
        .walk_api(&token, "/api/v1/reports/marketing-spend")
        .await;
    let api: Vec<i64> = api.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(api, all);
    assert_eq!(owner.get("/reports/spend?after=nope").await.status(), 422);
    // Of the cursor's shape but not made here: still a place in the list (the top).
    assert_eq!(owner.get("/reports/spend?after=0_").await.status(), 200);
}

#[tokio::test]
async fn the_reports_page_lists_every_report_and_is_in_the_navigation() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Bookkeeper").await;
    let html = s.get("/reports").await.text().await.unwrap();
    assert!(!html.contains("not built yet"), "no longer a placeholder");
    for (href, name, _) in projectflo::reports::pages::REPORTS {
        assert!(
            html.contains(&format!("<a href=\"{href}\">{name}</a>")),
            "{name}"
        );
        assert_eq!(s.get(href).await.status(), 200, "{href}");
    }
    assert!(html.contains("href=\"/reports\""));
    // The demo's reports have figures to show: the yearly listing on The Knot paid for
    // itself with Olivia's booking; Instagram's reels brought Zoe Carter's delivered wedding.
    let html = s.get("/reports/marketing").await.text().await.unwrap();
    assert!(html.contains("Instagram"), "{html}");
    let token = s.api_token("reports").await;
    let r = api_get(&s, &token, "/api/v1/reports/marketing-roi").await;
    let source = |name: &str| {
        r["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["source"] == name)
            .unwrap_or_else(|| panic!("{name}: {r}"))
            .clone()
    };
    let knot = source("The Knot");
    assert_eq!(
        (knot["bookings"].as_i64(), knot["spend"].as_str()),
        (Some(1), Some("1200.00")),
        "{knot}"
    );
    assert!(
        knot["roi_percent"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            > 0.0,
        "{knot}"
    );
    let insta = source("Instagram");
    assert_eq!(
        (insta["bookings"].as_i64(), insta["spend"].as_str()),
        (Some(1), Some("1700.00")),
        "{insta}"
    );
    let roi: f64 = insta["roi_percent"].as_str().unwrap().parse().unwrap();
    assert!(roi > 0.0, "{insta}");
    let spend = api_get(&s, &token, "/api/v1/reports/marketing-spend").await;
    assert_eq!(spend.as_array().unwrap().len(), 12);
}

#[tokio::test]
async fn the_reports_read_their_ranges_along_indexes_at_100_000_rows() {
    let (app, _owner) = app().await;
    cash_flow_data(&app).await;
    exec(
        &app,
        "INSERT INTO invoices (project_id, invoice_number, issue_date, due_date, total_amount, amount_paid, status)
           SELECT 9001, 'S-' || n, DATE '2016-01-01' + (n % 3650), DATE '2016-01-01' + (n % 3650), 10, 10, 'Paid'
           FROM generate_series(1, 100000) n;
         INSERT INTO payments (invoice_id, payment_date, amount, payment_method)
           SELECT 9101, TIMESTAMPTZ '2016-01-01' + (n % 3650) * interval '1 day', 1, 'Cash'
           FROM generate_series(1, 100000) n;
         INSERT INTO marketing_spend (spent_on, lead_source, amount)
           SELECT DATE '2016-01-01' + (n % 3650), 'S' || (n % 7), 1 FROM generate_series(1, 100000) n;
         ANALYZE invoices; ANALYZE payments; ANALYZE marketing_spend;",
    )
    .await;
    for (sql, index) in [
        (
            "EXPLAIN SELECT sum(total_amount) FROM invoices WHERE issue_date >= '2025-01-01' AND issue_date < '2025-07-01' AND status NOT IN ('Draft', 'Void')",
            "idx_invoices_issue_date",
        ),
        (
            "EXPLAIN SELECT sum(amount) FROM payments WHERE payment_date >= '2025-01-01' AND payment_date < '2025-07-01' AND payment_method <> 'Credit'",
            "idx_payments_payment_date",
        ),
        (
            "EXPLAIN SELECT sum(amount) FROM marketing_spend WHERE spent_on >= '2025-01-01' AND spent_on < '2025-04-01'",
            "idx_marketing_spend_spent_on",
        ),
    ] {
        let plan: Vec<String> = sqlx::query_scalar(sql).fetch_all(&app.db).await.unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{sql}\n{plan}");
    }
    // Outstanding at each month's end: the changes of a year, along the indexes of each kind.
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN {}",
        projectflo::reports::cashflow::CHANGES_SQL
    ))
    .bind(chrono::NaiveDate::from_ymd_opt(2025, 2, 1).unwrap())
    .bind(Utc.with_ymd_and_hms(2025, 2, 1, 8, 0, 0).unwrap())
    .bind("America/Los_Angeles")
    .bind(None::<String>)
    .bind("(none)")
    .fetch_all(&app.db)
    .await
    .unwrap();
    let plan = plan.join("\n");
    for index in [
        "idx_invoices_issue_date",
        "idx_payments_payment_date",
        "idx_invoices_voided_at",
    ] {
        assert!(plan.contains(index), "{index}\n{plan}");
    }
    assert!(!plan.contains("Seq Scan on invoices"), "{plan}");
    assert!(!plan.contains("Seq Scan on payments"), "{plan}");
}

/// The pipeline's days per stage at 100,000 inquiries (and 200,000 changes): the inquiries of
/// the range along `idx_inquiries_created`, their changes along
/// `idx_inquiry_stage_changes_inquiry`, never a scan of either table.
#[tokio::test]
async fn the_days_per_stage_read_along_indexes_at_100_000_inquiries() {
    let (app, _owner) = app().await;
    exec(
        &app,
        "INSERT INTO contacts (id, first_name, email, type)
           SELECT 100000 + n, 'C', 'c' || n || '@example.com', 'Client Lead'
           FROM generate_series(1, 100000) n;
         INSERT INTO inquiries (contact_id, status, created_at, updated_at)
           SELECT 100000 + n, 'New', TIMESTAMPTZ '2016-01-01' + (n % 3650) * interval '1 day',
                  TIMESTAMPTZ '2016-01-01' + (n % 3650) * interval '1 day'
           FROM generate_series(1, 100000) n;
         UPDATE inquiries SET status = 'Contacted', updated_at = updated_at + interval '2 days';
         ANALYZE inquiries; ANALYZE inquiry_stage_changes;",
    )
    .await;
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN {}",
        projectflo::reports::pipeline::STAGES_SQL
    ))
    .bind(Utc.with_ymd_and_hms(2025, 1, 1, 8, 0, 0).unwrap())
    .bind(Utc.with_ymd_and_hms(2025, 7, 1, 7, 0, 0).unwrap())
    .bind("America/Los_Angeles")
    .bind(None::<String>)
    .bind("(none)")
    .bind(None::<i32>)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("idx_inquiries_created"), "{plan}");
    assert!(plan.contains("idx_inquiry_stage_changes_inquiry"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}
