//! Phase 2: the public lead form, new inquiries, the board and its moves, the inquiry and
//! contact pages, to-dos.
use crate::helpers::{Template, TestApp, assert_problem};
use serde_json::json;

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

async fn submit(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form("/inquire", fields).await
}

const JANE: &[(&str, &str)] = &[
    ("first_name", "Jane"),
    ("last_name", "Doe"),
    ("email", "jane.doe@example.net"),
    ("phone", "+1 555 0100"),
    ("wedding_date", "2027-09-18"),
    ("venue", "Sonoma Barn"),
    ("lead_source", "Instagram"),
    ("message", "We love your films!"),
    (
        "lead_source_details",
        "utm_source=instagram&utm_medium=social&utm_campaign=fall-27",
    ),
    ("campaign_id", "fall-27"),
];

#[tokio::test]
async fn the_public_form_makes_a_contact_an_inquiry_a_follow_up_and_tells_the_owner() {
    let app = TestApp::demo().await;
    let resp = submit(&app, JANE).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors *"),
        "embeddable"
    );
    assert!(resp.text().await.unwrap().contains("id=\"thanks\""));
    let (kind, first): (String, String) = sqlx::query_as(
        "SELECT type::text, first_name FROM contacts WHERE email = 'jane.doe@example.net'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), first.as_str()), ("Client Lead", "Jane"));
    type Row = (String, bool, String, String, String, bool);
    let (status, follow_up_ok, source, details, campaign, returning): Row = sqlx::query_as(
        "SELECT i.status::text,
                i.follow_up_due_date = (now() AT TIME ZONE 'America/Los_Angeles')::date + 1,
                i.lead_source, i.lead_source_details, i.campaign_id, i.is_returning
         FROM inquiries i JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'jane.doe@example.net'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(status, "New");
    assert!(follow_up_ok, "follow-up due the studio's next day");
    assert_eq!(
        (source.as_str(), campaign.as_str()),
        ("Instagram", "fall-27")
    );
    assert!(details.contains("utm_medium=social"));
    assert!(!returning);
    let (title, assignee, due_ok): (String, String, bool) = sqlx::query_as(
        "SELECT a.title, c.email, a.due_date = i.follow_up_due_date
         FROM activities a JOIN inquiries i ON i.id = a.inquiry_id
         JOIN contributors co ON co.id = a.assigned_to_contributor_id
         JOIN contacts c ON c.id = co.contact_id
         JOIN contacts lc ON lc.id = i.contact_id
         WHERE lc.email = 'jane.doe@example.net' AND a.activity_type = 'To-Do'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(title, "Follow up with Jane Doe");
    assert_eq!(
        assignee, "priya@goldenhour.example",
        "the only Sales person"
    );
    assert!(due_ok);
    let (msg, link): (String, String) = sqlx::query_as(
        "SELECT n.message, n.link_url
         FROM notifications n JOIN contributors co ON co.id = n.recipient_contributor_id
         JOIN contacts c ON c.id = co.contact_id WHERE c.email = 'maya@goldenhour.example'
           AND n.message LIKE 'New inquiry%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        msg.contains("New inquiry from Jane Doe (wedding Sep 18, 2027)"),
        "{msg}"
    );
    assert!(link.starts_with("/leads/"));
}

#[tokio::test]
async fn the_form_keeps_the_pages_utm_parameters() {
    let app = TestApp::demo().await;
    let html = app
        .get("/inquire?utm_source=google&utm_campaign=spring&gclid=x")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            "name=\"lead_source_details\" value=\"utm_source=google&#38;utm_campaign=spring\""
        ),
        "{html}"
    );
    assert!(html.contains("name=\"campaign_id\" value=\"spring\""));
    // No source chosen: the UTM source stands in.
    let mut f: Vec<(&str, &str)> = JANE
        .iter()
        .copied()
        .filter(|(k, _)| *k != "lead_source" && *k != "campaign_id")
        .collect();
    f.retain(|(k, _)| *k != "lead_source_details");
    f.push((
        "lead_source_details",
        "utm_source=google&utm_campaign=spring",
    ));
    submit(&app, &f).await;
    let (source, campaign): (String, String) =
        sqlx::query_as("SELECT lead_source, campaign_id FROM inquiries ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((source.as_str(), campaign.as_str()), ("google", "spring"));
}

#[tokio::test]
async fn a_second_inquiry_from_a_known_email_joins_the_contact_and_is_flagged() {
    let app = TestApp::demo().await;
    let contacts = count(&app, "SELECT count(*) FROM contacts").await;
    let resp = submit(
        &app,
        &[
            ("first_name", "Em"),
            ("email", "EMMA.Rodriguez@Example.com"),
            ("message", "Asking again"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        count(&app, "SELECT count(*) FROM contacts").await,
        contacts,
        "no new contact"
    );
    let (n, flagged, first): (i64, bool, String) = sqlx::query_as(
        "SELECT count(*), bool_or(i.is_returning), max(c.first_name) FROM inquiries i JOIN
            contacts c ON c.id = i.contact_id WHERE c.email = 'emma.rodriguez@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(n, 2);
    assert!(flagged);
    assert_eq!(first, "Emma", "the studio's record is not overwritten");
    let s = app.demo_login("Sales").await;
    let board = s.get("/leads").await.text().await.unwrap();
    assert!(board.contains("Returning"));
}

#[tokio::test]
async fn bad_input_is_named_by_the_field_and_writes_nothing() {
    let app = TestApp::demo().await;
    let before = count(&app, "SELECT count(*) FROM inquiries").await;
    let resp = submit(
        &app,
        &[
            ("first_name", ""),
            ("email", "not-an-email"),
            ("wedding_date", "next summer"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    for f in ["first_name", "email", "wedding_date"] {
        assert!(html.contains(&format!("id=\"error-{f}\"")), "{f}");
    }
    assert!(
        html.contains("value=\"next summer\""),
        "what was typed is kept"
    );
    let s = app.demo_login("Sales").await;
    let p = assert_problem(
        s.post_json(
            "/api/v1/inquiries",
            &json!({"first_name": "A", "email": "x"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "email");
    assert_eq!(count(&app, "SELECT count(*) FROM inquiries").await, before);
}

#[tokio::test]
async fn the_honeypot_and_the_rate_limit_stop_spam() {
    let app = TestApp::with_settings(Template::Demo, |s| s.lead_form_per_hour = 3).await;
    let before = count(&app, "SELECT count(*) FROM inquiries").await;
    let mut bot: Vec<(&str, &str)> = JANE.to_vec();
    bot.push(("website", "http://spam.example"));
    let resp = submit(&app, &bot).await;
    assert_eq!(resp.status(), 200, "bots see a thank-you");
    assert_eq!(
        count(&app, "SELECT count(*) FROM inquiries").await,
        before,
        "and nothing is stored"
    );
    for _ in 0..3 {
        assert_eq!(submit(&app, JANE).await.status(), 200);
    }
    let resp = submit(&app, JANE).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3600");
    assert_eq!(
        count(&app, "SELECT count(*) FROM inquiries").await,
        before + 3
    );
}

#[tokio::test]
async fn twenty_forms_at_once_with_one_email_make_one_contact_and_twenty_inquiries() {
    let app = TestApp::demo().await;
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let (c, url) = (app.client.clone(), app.url("/inquire"));
            let email = if n % 2 == 0 {
                "Same.Person@Example.net".to_string()
            } else {
                "same.person@example.NET".to_string()
            };
            tokio::spawn(async move {
                c.post(url)
                    .form(&[("first_name", "Sam"), ("email", email.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM contacts WHERE lower(email) = 'same.person@example.net'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM inquiries i JOIN contacts c ON c.id =
        i.contact_id WHERE lower(c.email) = 'same.person@example.net'"
        )
        .await,
        20
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM activities a JOIN contacts c ON c.id =
        a.contact_id WHERE lower(c.email) = 'same.person@example.net'"
        )
        .await,
        20
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM inquiries i JOIN contacts c ON c.id =
        i.contact_id WHERE lower(c.email) = 'same.person@example.net' AND NOT i.is_returning"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn follow_ups_go_round_robin_among_sales_and_fall_back_to_the_owner() {
    let app = TestApp::demo().await;
    let (_, second) = app.staff("Sales").await;
    let mut assignees = vec![];
    for n in 0..4 {
        submit(
            &app,
            &[
                ("first_name", "Lead"),
                ("email", &format!("lead{n}@example.net")),
            ],
        )
        .await;
        let a: String = sqlx::query_scalar(
            "SELECT c.email FROM activities a JOIN contributors co ON co.id =
                a.assigned_to_contributor_id JOIN contacts c ON c.id = co.contact_id ORDER BY
                a.id DESC LIMIT 1",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        assignees.push(a);
    }
    assert_ne!(assignees[0], assignees[1]);
    assert_eq!(assignees[0], assignees[2]);
    assert_eq!(assignees[1], assignees[3]);
    assert!(
        assignees.contains(&second) && assignees.contains(&"priya@goldenhour.example".to_string())
    );
    // No active Sales: the Owner follows up.
    sqlx::query(
        "UPDATE staff_credentials SET is_active = false WHERE contributor_id IN (SELECT
        co.id FROM contributors co JOIN roles r ON r.id = co.role_id WHERE r.name = 'Sales')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    submit(
        &app,
        &[("first_name", "Late"), ("email", "late@example.net")],
    )
    .await;
    let a: String = sqlx::query_scalar(
        "SELECT c.email FROM activities a JOIN contributors co ON
        co.id = a.assigned_to_contributor_id JOIN contacts c ON c.id = co.contact_id ORDER BY
        a.id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(a, "maya@goldenhour.example");
}

async fn inquiry_of(app: &TestApp, email: &str) -> i32 {
    sqlx::query_scalar(
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id = i.contact_id WHERE
        c.email = $1 ORDER BY i.id LIMIT 1",
    )
    .bind(email)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn moves_follow_the_allowed_transitions() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let emma = inquiry_of(&app, "emma.rodriguez@example.com").await;
    let status = |id: i32| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status::text FROM inquiries WHERE id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let p = assert_problem(
        s.post_json(
            &format!("/api/v1/inquiries/{emma}/status"),
            &json!({"status": "Booked"}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("only by booking"));
    let p = assert_problem(
        s.post_json(
            &format!("/api/v1/inquiries/{emma}/status"),
            &json!({"status": "Proposal Sent"}),
        )
        .await,
        409,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("from New to Contacted")
    );
    assert_eq!(status(emma).await, "New", "nothing changed");
    let resp = s
        .post_json(
            &format!("/api/v1/inquiries/{emma}/status"),
            &json!({"status": "Contacted"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // Through the page: the button, then an illegal move shows the reason and changes nothing.
    assert_eq!(
        s.post_form(
            &format!("/leads/{emma}/status"),
            &[("status", "Proposal Sent")]
        )
        .await
        .status(),
        303
    );
    let resp = s
        .post_form(&format!("/leads/{emma}/status"), &[("status", "Contacted")])
        .await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("not to Contacted"));
    assert_eq!(status(emma).await, "Proposal Sent");
    assert_eq!(
        s.post_form(
            &format!("/leads/{emma}/status"),
            &[("status", "Closed-Lost")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(status(emma).await, "Closed-Lost");
    assert_problem(
        s.post_json(
            "/api/v1/inquiries/99999/status",
            &json!({"status": "Contacted"}),
        )
        .await,
        404,
    )
    .await;
    let moves: i64 = count(
        &app,
        "SELECT count(*) FROM audit_log WHERE action = 'leads.inquiry.status'",
    )
    .await;
    assert_eq!(moves, 3);
    // A Bookkeeper may not move leads.
    assert_eq!(
        app.demo_login("Bookkeeper")
            .await
            .post_form(&format!("/leads/{emma}/status"), &[("status", "Contacted")])
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn the_board_filters_by_source_date_assignee_and_search() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Owner").await;
    let all = s.get("/leads").await.text().await.unwrap();
    for name in [
        "Emma Rodriguez",
        "Olivia Nguyen",
        "Ava Thompson",
        "Ethan Brown",
    ] {
        assert!(all.contains(name), "{name}");
    }
    let insta = s.get("/leads?source=Instagram").await.text().await.unwrap();
    assert!(
        insta.contains("Emma Rodriguez")
            && insta.contains("Ava Thompson")
            && !insta.contains("Noah Williams")
    );
    let q = s.get("/leads?q=NGUYEN").await.text().await.unwrap();
    assert!(q.contains("Olivia Nguyen") && !q.contains("Emma Rodriguez"));
    let by_email = s.get("/leads?q=noah.w%40").await.text().await.unwrap();
    assert!(by_email.contains("Noah Williams") && !by_email.contains("Olivia Nguyen"));
    let soon = s
        .get(&format!(
            "/leads?to={}",
            (chrono::Utc::now().date_naive() + chrono::Days::new(100))
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        soon.contains("Olivia Nguyen") && !soon.contains("Liam Johnson"),
        "weddings within 100 days"
    );
    let priya: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON
        c.id = co.contact_id WHERE c.email = 'priya@goldenhour.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let mine = s
        .get(&format!("/leads?assignee={priya}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(mine.contains("Emma Rodriguez"));
    let maya: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id
        = co.contact_id WHERE c.email = 'maya@goldenhour.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let none = s
        .get(&format!("/leads?assignee={maya}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!none.contains("Emma Rodriguez"));
    assert_eq!(
        s.get("/leads?from=soon").await.status(),
        422,
        "a bad date is named, not a 500"
    );
    // The API filters the same way.
    let api: Vec<serde_json::Value> = s
        .get("/api/v1/inquiries?source=Google")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api.len(), 2);
}

#[tokio::test]
async fn the_inquiry_page_logs_communications_and_keeps_documents() {
    let app = TestApp::with_settings(Template::Demo, |_| {}).await;
    let dir = std::env::temp_dir().join(format!("projectflo-uploads-{}", std::process::id()));
    let _ = dir;
    let s = app.demo_login("Sales").await;
    let ava = inquiry_of(&app, "ava.t@example.com").await;
    let page = s.get(&format!("/leads/{ava}")).await.text().await.unwrap();
    assert!(
        page.contains("Follow up with Ava Thompson")
            && page.contains("Coffee meeting at the studio")
    );
    assert_eq!(
        s.post_form(
            &format!("/leads/{ava}/communications"),
            &[("type", "Call"), ("notes", "Confirmed the date")]
        )
        .await
        .status(),
        303
    );
    let resp = s
        .post_form(
            &format!("/leads/{ava}/communications"),
            &[("type", "Fax"), ("notes", "x")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("choose Call, Email or Meeting")
    );
    let p = assert_problem(
        s.post_json(
            &format!("/api/v1/inquiries/{ava}/communications"),
            &json!({"type": "Email", "notes": ""}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "notes");
    let detail: serde_json::Value = s
        .get(&format!("/api/v1/inquiries/{ava}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["communications"][0]["notes"], "Confirmed the date");
    assert_eq!(detail["moves"], json!(["Closed-Lost"]));
}

#[tokio::test]
async fn documents_upload_to_the_data_dir_and_download() {
    let dir = std::env::temp_dir().join(format!(
        "projectflo-docs-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let d2 = dir.clone();
    let app = TestApp::with_settings(Template::Demo, move |s| s.data_dir = d2).await;
    let s = app.demo_login("Sales").await;
    let ava = inquiry_of(&app, "ava.t@example.com").await;
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"Q1: your story".to_vec())
                .file_name("../../etc/questionnaire.txt"),
        )
        .text("document_type", "Questionnaire");
    let resp = s
        .client
        .post(s.url(&format!("/leads/{ava}/documents?csrf={}", s.csrf)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (id, name, path): (i32, String, String) =
        sqlx::query_as("SELECT id, file_name, file_path FROM documents WHERE inquiry_id = $1")
            .bind(ava)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        name, "questionnaire.txt",
        "no path from the client reaches the disk"
    );
    assert!(dir.join(&path).exists());
    let body = s
        .get(&format!("/documents/{id}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"Q1: your story");
    let _ = std::fs::remove_dir_all(&dir);
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

#[tokio::test]
async fn contacts_show_every_inquiry_and_conversation() {
    let app = TestApp::demo().await;
    submit(
        &app,
        &[
            ("first_name", "Ava"),
            ("email", "ava.t@example.com"),
            ("message", "For my sister too"),
        ],
    )
    .await;
    let s = app.demo_login("Sales").await;
    let list = s.get("/contacts?q=thompson").await.text().await.unwrap();
    assert!(list.contains("ava.t@example.com") && !list.contains("emma.rodriguez"));
    let id: i32 = sqlx::query_scalar("SELECT id FROM contacts WHERE email = 'ava.t@example.com'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let page = s
        .get(&format!("/contacts/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        page.matches("/leads/").count() - page.matches("href=\"/leads/new\"").count(),
        2,
        "both inquiries"
    );
    assert!(page.contains("Sent the proposal link."));
    assert_eq!(
        s.get("/contacts/1").await.status(),
        404,
        "staff contacts are not leads"
    );
}

#[tokio::test]
async fn my_to_dos_put_overdue_first_and_can_be_done_or_reassigned() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let html = s.get("/todos").await.text().await.unwrap();
    // Liam (due 2 days ago) and Sofia (due yesterday) are overdue and come first.
    let liam = html.find("Follow up with Liam Johnson").unwrap();
    let sofia = html.find("Follow up with Sofia Garcia").unwrap();
    let emma = html.find("Follow up with Emma Rodriguez").unwrap();
    assert!(liam < sofia && sofia < emma, "overdue first");
    assert!(html.contains("Overdue"));
    // The dashboard lists them too.
    let dash = s.get("/").await.text().await.unwrap();
    assert!(dash.contains("id=\"overdue\"") && dash.contains("Follow up with Liam Johnson"));
    let todo: i32 =
        sqlx::query_scalar("SELECT id FROM activities WHERE title = 'Follow up with Liam Johnson'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        s.post_form(&format!("/todos/{todo}/complete"), &[])
            .await
            .status(),
        303
    );
    assert!(
        !s.get("/todos")
            .await
            .text()
            .await
            .unwrap()
            .contains("Follow up with Liam Johnson")
    );
    assert_problem(
        s.client
            .post(s.url(&format!("/api/v1/activities/{todo}/complete")))
            .header("x-csrf-token", &s.csrf)
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    let sofia_todo: i32 =
        sqlx::query_scalar("SELECT id FROM activities WHERE title = 'Follow up with Sofia Garcia'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let maya: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id
        = co.contact_id WHERE c.email = 'maya@goldenhour.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        s.post_form(
            &format!("/todos/{sofia_todo}/reassign"),
            &[("assignee", &maya.to_string())]
        )
        .await
        .status(),
        303
    );
    let mine: Vec<serde_json::Value> = app
        .demo_login("Owner")
        .await
        .get("/api/v1/activities/mine")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine[0]["title"], "Follow up with Sofia Garcia");
    assert_eq!(mine[0]["overdue"], true);
}

#[tokio::test]
async fn staff_enter_an_inquiry_by_hand() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let resp = s
        .post_form(
            "/leads",
            &[
                ("first_name", "Walk"),
                ("last_name", "In"),
                ("email", "walk.in@example.net"),
                ("wedding_date", "2027-05-01"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    let page = s.get(&to).await.text().await.unwrap();
    assert!(page.contains("Walk In") && page.contains("Follow up with Walk In"));
    let resp = s
        .post_form("/leads", &[("first_name", "No"), ("email", "nope")])
        .await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("id=\"error-email\""));
    let created: serde_json::Value = s
        .post_json(
            "/api/v1/inquiries",
            &json!({"first_name": "Api", "email": "api@example.net", "wedding_date": "2027-07-07"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["returning"], false);
    let by: Option<i32> =
        sqlx::query_scalar("SELECT created_by_contributor_id FROM inquiries WHERE id = $1")
            .bind(created["inquiry_id"].as_i64().unwrap() as i32)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(by.is_some());
}

#[tokio::test]
async fn settings_show_the_embed_snippet_that_passes_utm_parameters() {
    let app = TestApp::demo().await;
    let html = app
        .demo_login("Owner")
        .await
        .get("/settings/catalog")
        .await
        .text()
        .await
        .unwrap();
    let snippet = html
        .split("id=\"embed-snippet\">")
        .nth(1)
        .unwrap()
        .split("</p>")
        .next()
        .unwrap();
    assert!(
        snippet.contains(&format!("src=&#34;{}/inquire&#34;", app.url(""))),
        "{snippet}"
    );
    assert!(snippet.contains("location.search"));
}

#[tokio::test]
async fn contacts_and_to_dos_through_the_api() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let found: Vec<serde_json::Value> = s
        .get("/api/v1/contacts?q=garcia")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let id = found[0]["id"].as_i64().unwrap();
    let detail: serde_json::Value = s
        .get(&format!("/api/v1/contacts/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["inquiries"].as_array().unwrap().len(), 1);
    assert_eq!(detail["communications"][0]["type"], "Call");
    assert_problem(s.get("/api/v1/contacts/1").await, 404).await;
    let todo: i32 =
        sqlx::query_scalar("SELECT id FROM activities WHERE title = 'Follow up with Sofia Garcia'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let p = assert_problem(
        s.post_json(
            &format!("/api/v1/activities/{todo}/reassign"),
            &json!({"assigned_to_contributor_id": 9999}),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "assignee");
    let maya: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id
        = co.contact_id WHERE c.email = 'maya@goldenhour.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        s.post_json(
            &format!("/api/v1/activities/{todo}/reassign"),
            &json!({"assigned_to_contributor_id": maya})
        )
        .await
        .status(),
        204
    );
    let mine: Vec<serde_json::Value> = s.get("/api/v1/activities/mine").await.json().await.unwrap();
    assert!(
        mine.iter()
            .all(|a| a["title"] != "Follow up with Sofia Garcia")
    );
}

#[tokio::test]
async fn studio_settings_through_the_api() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let mut v: serde_json::Value = owner
        .get("/api/v1/studio-settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["currency_code"], "USD");
    v["editing_hourly_rate"] = json!("95.5");
    v["currency_code"] = json!("GBP");
    let put = |body: serde_json::Value| {
        owner
            .client
            .put(owner.url("/api/v1/studio-settings"))
            .header("x-csrf-token", &owner.csrf)
            .json(&body)
            .send()
    };
    let saved: serde_json::Value = put(v.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(saved["editing_hourly_rate"], "95.50");
    let mut bad = v.clone();
    bad["deposit_percent"] = json!("150");
    let p = assert_problem(put(bad).await.unwrap(), 422).await;
    assert_eq!(p["errors"][0]["field"], "deposit_percent");
    let sales = app.demo_login("Sales").await;
    let resp = sales.put_json("/api/v1/studio-settings", &v).await;
    assert_problem(resp, 403).await;
}

/// Instants on both sides of midnight in UTC and in the studio's time zone (Los Angeles,
/// UTC-7 in June): 16:30, 17:30 and 23:30 on June 14 and 00:30 on June 15 in the studio.
fn instants_around_midnight() -> Vec<projectflo::clock::Clock> {
    use chrono::TimeZone;
    [(14, 23), (15, 0), (15, 6), (15, 7)]
        .into_iter()
        .map(|(d, h)| {
            let t = chrono::Utc.with_ymd_and_hms(2026, 6, d, h, 30, 0).unwrap();
            projectflo::clock::Clock::Fixed(t)
        })
        .collect()
}

#[tokio::test]
async fn overdue_and_tomorrow_are_the_studios_dates_at_any_hour() {
    for clock in instants_around_midnight() {
        let app = TestApp::demo_at(clock).await;
        let today = clock.today("America/Los_Angeles");
        let s = app.demo_login("Sales").await;
        let todos: serde_json::Value = s.get("/api/v1/activities/mine").await.json().await.unwrap();
        let overdue = |name: &str| {
            let t = todos
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["title"].as_str().unwrap().ends_with(name))
                .unwrap_or_else(|| panic!("{name}'s follow-up in {todos}"));
            t["overdue"].as_bool().unwrap()
        };
        // Seeded due yesterday (Sofia) and two days ago (Liam): overdue; today (Noah) and
        // tomorrow (Emma): not.
        assert!(overdue("Sofia Garcia"), "at {:?}", clock.now());
        assert!(overdue("Liam Johnson"), "at {:?}", clock.now());
        assert!(!overdue("Noah Williams"), "at {:?}", clock.now());
        assert!(!overdue("Emma Rodriguez"), "at {:?}", clock.now());
        let sofia_due: chrono::NaiveDate = sqlx::query_scalar(
            "SELECT due_date FROM activities WHERE title = 'Follow up with Sofia Garcia'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(sofia_due, today.pred_opt().unwrap(), "at {:?}", clock.now());
        // A new inquiry's follow-up is due on the studio's tomorrow.
        let made = s
            .post_json(
                "/api/v1/inquiries",
                &serde_json::json!({"first_name": "Zoe", "last_name": "Park",
                    "email": "zoe.park@example.org"}),
            )
            .await;
        assert_eq!(made.status(), 201, "at {:?}", clock.now());
        let due: chrono::NaiveDate = sqlx::query_scalar(
            "SELECT follow_up_due_date FROM inquiries i JOIN contacts c ON c.id = i.contact_id
             WHERE c.email = 'zoe.park@example.org'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(due, today.succ_opt().unwrap(), "at {:?}", clock.now());
    }
}

#[tokio::test]
async fn a_refused_upload_leaves_no_file_behind() {
    let dir = std::env::temp_dir().join(format!(
        "projectflo-refused-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let d2 = dir.clone();
    let app = TestApp::with_settings(Template::Demo, move |s| s.data_dir = d2).await;
    let s = app.demo_login("Sales").await;
    let ava = inquiry_of(&app, "ava.t@example.com").await;
    // PostgreSQL refuses a NUL character in the document type: after the file was written.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"a contract".to_vec()).file_name("contract.pdf"),
        )
        .text("document_type", "Contract\u{0}");
    let resp = s
        .client
        .post(s.url(&format!("/leads/{ava}/documents?csrf={}", s.csrf)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM documents WHERE inquiry_id = $1")
        .bind(ava)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let files = std::fs::read_dir(dir.join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0, "the refused upload's file is gone");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_inquiries_api_walks_page_by_page_and_shows_each_inquiry_once() {
    let app = TestApp::demo().await;
    // Many inquiries share a created_at (one a day over three years): ties need the id.
    projectflo::seed::scale(&app.db, projectflo::clock::Clock::System, 1200)
        .await
        .unwrap();
    let s = app.demo_login("Sales").await;
    let token = s.api_token("pages").await;
    let mut seen: Vec<i64> = vec![];
    let mut next = Some(app.url("/api/v1/inquiries?q="));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let resp = app
            .client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        next = resp.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(
                l.ends_with(">; rel=\"next\"") && l.contains("q=&after="),
                "{l}"
            );
            app.url(&l[1..l.find('>').unwrap()])
        });
        let rows: Vec<serde_json::Value> = resp.json().await.unwrap();
        assert!(rows.len() <= 50 && !rows.is_empty());
        seen.extend(rows.iter().map(|r| r["id"].as_i64().unwrap()));
        pages += 1;
    }
    let all: Vec<i64> = sqlx::query_scalar("SELECT id::bigint FROM inquiries ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(pages > 20, "{pages} pages");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, all, "every inquiry exactly once");
    // A cursor not made by the server is refused by name.
    let bad = app
        .client
        .get(app.url("/api/v1/inquiries?after=yesterday"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let p = crate::helpers::assert_problem(bad, 422).await;
    assert_eq!(p["errors"][0]["field"], "after");
}

#[tokio::test]
async fn the_board_counts_every_inquiry_and_walks_each_column_page_by_page() {
    let app = TestApp::demo().await;
    projectflo::seed::scale(&app.db, projectflo::clock::Clock::System, 400)
        .await
        .unwrap();
    // Every New inquiry at one instant: the pages must tell them apart by id.
    sqlx::query("UPDATE inquiries SET created_at = date_trunc('day', now()) WHERE status = 'New'")
        .execute(&app.db)
        .await
        .unwrap();
    let s = app.demo_login("Owner").await;
    let board = s.get("/leads").await.text().await.unwrap();
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT status::text, count(*) FROM inquiries GROUP BY 1")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let card_ids = |html: &str| -> Vec<i64> {
        html.split("class=\"lead-card\"")
            .skip(1)
            .map(|t| {
                let t = t.split("data-id=\"").nth(1).unwrap();
                t.split('"').next().unwrap().parse().unwrap()
            })
            .collect()
    };
    assert!(card_ids(&board).len() <= 5 * 50, "a page a column");
    for (status, n) in &counts {
        assert!(*n > 50, "{status}: {n}");
        let column = board
            .split(&format!("data-status=\"{status}\""))
            .nth(1)
            .unwrap();
        let shown: i64 = column
            .split("class=\"muted count\">")
            .nth(1)
            .and_then(|t| t.split('<').next())
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap();
        assert_eq!(shown, *n, "{status}: counted over every row, not the page");
        let more = column
            .split("</section>")
            .next()
            .unwrap()
            .split("href=\"")
            .find(|t| t.contains("class=\"more\""))
            .map(|t| crate::helpers::unescape(t.split('"').next().unwrap()))
            .expect("a More link");
        assert!(more.starts_with("/leads?status="), "{more}");
        let (seen, pages) = s.walk(&more, card_ids).await;
        assert!(pages >= 1);
        let mut first: Vec<i64> = card_ids(column.split("</section>").next().unwrap());
        first.extend(seen);
        let all: Vec<i64> =
            sqlx::query_scalar("SELECT id::bigint FROM inquiries WHERE status::text = $1")
                .bind(status)
                .fetch_all(&app.db)
                .await
                .unwrap();
        crate::helpers::assert_each_once(first, all, status);
    }
    // A filtered board counts what matches, and its More link keeps the filter.
    let insta = s.get("/leads?source=Instagram").await.text().await.unwrap();
    let n: i64 = count(
        &app,
        "SELECT count(*) FROM inquiries WHERE status = 'New' AND lead_source = 'Instagram'",
    )
    .await;
    assert!(insta.contains(&format!("class=\"muted count\">{n}<")));
    // A cursor not made by the server is refused calmly.
    let bad = s.get("/leads?status=New&after=yesterday").await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn the_contacts_list_and_api_walk_page_by_page_and_show_each_couple_once() {
    let app = TestApp::demo().await;
    projectflo::seed::scale(&app.db, projectflo::clock::Clock::System, 90)
        .await
        .unwrap();
    // Couples with the same name (and some with none): the pages tell them apart by id.
    sqlx::query(
        "INSERT INTO contacts (first_name, last_name, email, type)
         SELECT CASE WHEN n % 7 = 0 THEN NULL ELSE 'Sam' END,
                CASE WHEN n % 5 = 0 THEN NULL ELSE 'O''Twin' END,
                'twin-' || n || '@example.test', 'Client Lead'
         FROM generate_series(1, 60) n",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let all: Vec<i64> = sqlx::query_scalar(
        "SELECT id::bigint FROM contacts WHERE type IN ('Client Lead', 'Client')",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let s = app.demo_login("Sales").await;
    let ids = |html: &str| -> Vec<i64> {
        html.split("<td><a href=\"/contacts/")
            .skip(1)
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    let (seen, pages) = s.walk("/contacts?q=", ids).await;
    assert!(pages >= 3, "{pages} pages");
    crate::helpers::assert_each_once(seen, all.clone(), "contacts page");
    // A search keeps its words on every page.
    let (twins, _) = s.walk("/contacts?q=twin-", ids).await;
    assert_eq!(twins.len(), 60);
    let token = s.api_token("pages").await;
    let (rows, pages) = s.walk_api(&token, "/api/v1/contacts?q=").await;
    assert!(pages >= 3, "{pages} pages");
    let seen = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    crate::helpers::assert_each_once(seen, all, "contacts API");
    assert!(
        rows[0].get("sort_last").is_none(),
        "the sort keys stay inside"
    );
    let bad = reqwest::Client::new()
        .get(s.url("/api/v1/contacts?after=1_zz"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = assert_problem(bad, 422).await;
    assert!(body.to_string().contains("after"), "{body}");
    assert_eq!(s.get("/contacts?after=nope").await.status(), 422);
}

#[tokio::test]
async fn my_to_dos_walk_page_by_page_overdue_first_and_show_each_once() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let me: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN roles r ON r.id = co.role_id WHERE r.name = 'Sales' ORDER BY co.id LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // 140 to-dos: many due the same day (overdue or not), some with no date at all.
    sqlx::query(
        "INSERT INTO activities (assigned_to_contributor_id, due_date, activity_type, title)
         SELECT $1, CASE n % 4 WHEN 0 THEN NULL WHEN 1 THEN current_date - 3
                             WHEN 2 THEN current_date + 5 ELSE current_date + n END,
                'To-Do', 'walk ' || n
         FROM generate_series(1, 140) n",
    )
    .bind(me)
    .execute(&app.db)
    .await
    .unwrap();
    let all: Vec<i64> = sqlx::query_scalar(
        "SELECT id::bigint FROM activities
         WHERE assigned_to_contributor_id = $1 AND status = 'Pending'",
    )
    .bind(me)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let ids = |html: &str| -> Vec<i64> {
        html.split("<tr data-id=\"")
            .skip(1)
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    let (seen, pages) = s.walk("/todos", ids).await;
    assert!(pages >= 3, "{pages} pages");
    crate::helpers::assert_each_once(seen, all.clone(), "to-dos page");
    let token = s.api_token("pages").await;
    let (rows, _) = s.walk_api(&token, "/api/v1/activities/mine").await;
    let overdue: Vec<bool> = rows
        .iter()
        .map(|r| r["overdue"].as_bool().unwrap())
        .collect();
    assert!(
        overdue.windows(2).all(|w| w[0] >= w[1]),
        "overdue first, across pages"
    );
    let nulls_last = rows.iter().skip_while(|r| !r["due_date"].is_null());
    assert!(nulls_last.into_iter().all(|r| r["due_date"].is_null()));
    let seen = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    crate::helpers::assert_each_once(seen, all, "to-dos API");
    assert_eq!(s.get("/todos?after=3_zz").await.status(), 422);
}

/// The counts per status as kept by the database, and as counted from the rows.
async fn status_counts(db: &sqlx::PgPool) -> (Vec<(String, i64)>, Vec<(String, i64)>) {
    let kept = sqlx::query_as(
        "SELECT status::text, n FROM inquiry_status_counts WHERE n > 0 ORDER BY status",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let counted = sqlx::query_as(
        "SELECT status::text, count(*) FROM inquiries GROUP BY status ORDER BY status",
    )
    .fetch_all(db)
    .await
    .unwrap();
    (kept, counted)
}

#[tokio::test]
async fn the_status_counts_follow_every_insert_move_and_delete_without_deadlocks() {
    let app = TestApp::demo().await;
    projectflo::seed::scale(&app.db, projectflo::clock::Clock::System, 500)
        .await
        .unwrap();
    let (kept, counted) = status_counts(&app.db).await;
    assert_eq!(kept, counted);
    for sql in [
        "UPDATE inquiries SET status = 'Contacted' WHERE id IN
           (SELECT id FROM inquiries WHERE status = 'New' ORDER BY id LIMIT 7)",
        "UPDATE inquiries SET notes = 'touched' WHERE id % 3 = 0",
        "DELETE FROM inquiries WHERE id IN (SELECT id FROM inquiries i WHERE status = 'Booked'
           AND NOT EXISTS (SELECT 1 FROM builds b WHERE b.inquiry_id = i.id) ORDER BY id LIMIT 5)",
    ] {
        sqlx::query(sql).execute(&app.db).await.unwrap();
        let (kept, counted) = status_counts(&app.db).await;
        assert_eq!(kept, counted, "after {sql}");
    }
    // Two transactions moving leads in opposite directions touch the same two counts: they
    // wait for each other, in status order, and neither is chosen as a deadlock victim.
    let ids: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT (SELECT id FROM inquiries WHERE status = 'New' ORDER BY id LIMIT 1 OFFSET n),
                (SELECT id FROM inquiries WHERE status = 'Contacted' ORDER BY id LIMIT 1 OFFSET n)
         FROM generate_series(0, 9) n",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let moves = ids.into_iter().flat_map(|(new, contacted)| {
        [(new, "Contacted"), (contacted, "New")].map(|(id, to)| {
            let db = app.db.clone();
            tokio::spawn(async move {
                let mut tx = db.begin().await?;
                sqlx::query("UPDATE inquiries SET status = $2::inquiries_status WHERE id = $1")
                    .bind(id)
                    .bind(to)
                    .execute(&mut *tx)
                    .await?;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                tx.commit().await
            })
        })
    });
    for m in moves.collect::<Vec<_>>() {
        m.await.unwrap().expect("no deadlock");
    }
    let (kept, counted) = status_counts(&app.db).await;
    assert_eq!(kept, counted);
}

#[tokio::test]
async fn a_couples_communications_walk_page_by_page_newest_first_and_show_each_once() {
    let app = TestApp::demo().await;
    let (inquiry, contact): (i32, i32) =
        sqlx::query_as("SELECT id, contact_id FROM inquiries ORDER BY id LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    // 130 more, many logged at the very same moment: the pages tell them apart by id.
    sqlx::query(
        "INSERT INTO communications_log (contact_id, communication_date, type, notes)
         SELECT $1, timestamptz '2026-05-01 10:00Z' - (n % 7) * interval '1 hour', 'Call',
                'walk ' || n
         FROM generate_series(1, 130) n",
    )
    .bind(contact)
    .execute(&app.db)
    .await
    .unwrap();
    let all: Vec<i64> = sqlx::query_scalar(
        "SELECT id::bigint FROM communications_log WHERE contact_id = $1
         ORDER BY communication_date DESC, id DESC",
    )
    .bind(contact)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let s = app.demo_login("Sales").await;
    let ids = |html: &str| -> Vec<i64> {
        html.split("data-comm=\"")
            .skip(1)
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    let (seen, pages) = s.walk(&format!("/contacts/{contact}"), ids).await;
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen, all, "newest first, each once");
    // The inquiry shows the newest page and leads on to the contact's second page.
    let html = s
        .get(&format!("/leads/{inquiry}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"older-communications\""), "{html}");
    let token = s.api_token("pages").await;
    let path = format!("/api/v1/contacts/{contact}/communications");
    let (rows, pages) = s.walk_api(&token, &path).await;
    assert!(pages >= 3, "{pages} pages");
    let seen: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(seen, all, "API: newest first, each once");
    let client = reqwest::Client::new();
    for detail in [
        format!("/api/v1/contacts/{contact}"),
        format!("/api/v1/inquiries/{inquiry}"),
    ] {
        let body: serde_json::Value = client
            .get(s.url(&detail))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["communications"].as_array().unwrap().len(), 50);
        let next = body["communications_next"].as_str().unwrap();
        assert!(next.starts_with(&format!("{path}?after=")), "{next}");
    }
    let bad = client
        .get(s.url(&format!("{path}?after=nope")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = assert_problem(bad, 422).await;
    assert!(body.to_string().contains("after"), "{body}");
    let page = s.get(&format!("/contacts/{contact}?after=nope")).await;
    assert_eq!(page.status(), 422);
}

/// The status of an inquiry's follow-up to-do (the one intake made) and whether it has a
/// completion time.
async fn follow_up(app: &TestApp, inquiry: i32) -> (String, bool) {
    sqlx::query_as(
        "SELECT status::text, completed_at IS NOT NULL FROM activities
         WHERE inquiry_id = $1 AND is_follow_up",
    )
    .bind(inquiry)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Another pending to-do on the inquiry, titled like the follow-up itself.
async fn another_to_do(app: &TestApp, inquiry: i32) -> i32 {
    sqlx::query_scalar(
        "INSERT INTO activities (assigned_to_contributor_id, contact_id, inquiry_id, due_date,
                                 activity_type, title)
         SELECT assigned_to_contributor_id, contact_id, inquiry_id, due_date, 'To-Do', title
         FROM activities WHERE inquiry_id = $1 AND is_follow_up RETURNING id",
    )
    .bind(inquiry)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// The `back` fields of the board's move forms, unescaped.
fn backs(html: &str) -> Vec<String> {
    html.split("name=\"back\" value=\"")
        .skip(1)
        .map(|t| crate::helpers::unescape(t.split('"').next().unwrap()))
        .collect()
}

#[tokio::test]
async fn moving_a_lead_to_contacted_closes_its_follow_up_to_do_and_no_other() {
    let app = TestApp::demo().await;
    let s = app.demo_login("Sales").await;
    let emma = inquiry_of(&app, "emma.rodriguez@example.com").await;
    let noah = inquiry_of(&app, "noah.w@example.com").await;
    let mia = inquiry_of(&app, "mia.davis@example.com").await;
    let mut others = vec![];
    for id in [emma, noah, mia] {
        assert_eq!(follow_up(&app, id).await, ("Pending".into(), false));
        others.push(another_to_do(&app, id).await);
    }
    // From the board, as a plain form (no JavaScript): back to the board as it was filtered,
    // saying what moved, the keyboard by the card's next move.
    let resp = s
        .post_form(
            &format!("/leads/{emma}/status"),
            &[("status", "Contacted"), ("back", "source=Instagram&q=emma")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        to,
        format!("/leads?source=Instagram&q=emma&moved={emma}&follow_up=done")
    );
    let board = s.get(&to).await.text().await.unwrap();
    assert!(
        board.contains("Moved Emma Rodriguez to Contacted; the follow-up to-do is done."),
        "{board}"
    );
    let contacted = board.split("data-status=\"Contacted\"").nth(1).unwrap();
    assert!(contacted.contains(&format!("id=\"lead-{emma}\"")));
    assert!(
        board.contains(&format!("id=\"move-{emma}-proposal-sent\" autofocus")),
        "{board}"
    );
    let next = backs(&board);
    assert!(!next.is_empty());
    assert!(
        next.iter().all(|b| b == "source=Instagram&q=emma"),
        "the filters, not the notice: {next:?}"
    );
    // From the API.
    let resp = s
        .post_json(
            &format!("/api/v1/inquiries/{noah}/status"),
            &json!({"status": "Contacted"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // From the inquiry page.
    let resp = s
        .post_form(&format!("/leads/{mia}/status"), &[("status", "Contacted")])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/leads/{mia}?done=contacted").as_str()
    );
    let page = s
        .get(&format!("/leads/{mia}?done=contacted"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Moved to Contacted; the follow-up to-do is done."));
    // Each follow-up is done, audited as the person's; the other to-dos are not touched.
    for (id, other) in [emma, noah, mia].into_iter().zip(others) {
        assert_eq!(
            follow_up(&app, id).await,
            ("Completed".into(), true),
            "{id}"
        );
        let status: String =
            sqlx::query_scalar("SELECT status::text FROM activities WHERE id = $1")
                .bind(other)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(status, "Pending", "another to-do of {id}");
    }
    let audited = count(
        &app,
        "SELECT count(*) FROM audit_log l JOIN activities a ON a.id = l.entity_id
         JOIN contributors co ON co.id = l.contributor_id JOIN contacts c ON c.id = co.contact_id
         WHERE l.action = 'leads.activity.complete' AND l.entity_type = 'activity'
           AND a.is_follow_up AND c.email = 'priya@goldenhour.example'",
    )
    .await;
    assert_eq!(audited, 3);
    // The next move closes nothing and says nothing of a to-do.
    let resp = s
        .post_form(
            &format!("/leads/{emma}/status"),
            &[("status", "Proposal Sent"), ("back", "")],
        )
        .await;
    assert_eq!(
        resp.headers()["location"],
        format!("/leads?moved={emma}").as_str()
    );
    let board = s
        .get(&format!("/leads?moved={emma}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(board.contains("Moved Emma Rodriguez to Proposal Sent."));
    // A refused move from the board: the board again with the reason by the card (409),
    // nothing changed.
    let resp = s
        .post_form(
            &format!("/leads/{emma}/status"),
            &[("status", "Booked"), ("back", "source=Instagram")],
        )
        .await;
    assert_eq!(resp.status(), 409);
    let board = resp.text().await.unwrap();
    let card = board
        .split(&format!("id=\"lead-{emma}\""))
        .nth(1)
        .unwrap()
        .split("</article>")
        .next()
        .unwrap();
    assert!(
        card.contains(&format!("role=\"alert\" id=\"move-error-{emma}\""))
            && card.contains("Not moved: an inquiry becomes Booked only by booking"),
        "{card}"
    );
    assert!(backs(&board).iter().all(|b| b == "source=Instagram"));
    let status: String = sqlx::query_scalar("SELECT status::text FROM inquiries WHERE id = $1")
        .bind(emma)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "Proposal Sent");
    let still = count(
        &app,
        "SELECT count(*) FROM activities WHERE status = 'Pending' AND NOT is_follow_up
           AND inquiry_id IS NOT NULL AND title LIKE 'Follow up with %'",
    )
    .await;
    assert_eq!(still, 3);
}

/// The start tag of the element with this id.
fn tag_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!(" id=\"{id}\"")).expect(id);
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

#[tokio::test]
async fn the_public_form_marks_its_required_fields_before_anything_is_sent() {
    let app = TestApp::demo().await;
    let html = app.get("/inquire").await.text().await.unwrap();
    assert!(html.contains("Fields marked * are required."), "{html}");
    assert!(!html.contains("field-error"), "no error yet");
    for (id, label) in [("first_name", "First name"), ("email", "Email")] {
        let input = tag_of(&html, id);
        assert!(
            input.contains(" required ") && input.contains("aria-required=\"true\""),
            "{input}"
        );
        assert!(
            html.contains(&format!(
                "<label for=\"{id}\">{label}<span class=\"required\" aria-hidden=\"true\"> \
                 *</span></label>"
            )),
            "{id}"
        );
    }
    for id in ["last_name", "phone", "wedding_date", "venue", "message"] {
        let input = tag_of(&html, id);
        assert!(!input.contains("required"), "{input}");
        assert!(html.contains(&format!("<label for=\"{id}\">")));
    }
    // The server still checks them (the form is sent as typed, `novalidate`).
    let resp = app.post_form("/inquire", &[("first_name", " ")]).await;
    assert_eq!(resp.status(), 422);
}
