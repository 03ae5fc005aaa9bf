//! Workflows and questionnaires: answers checked by kind in the portal, conditional questions
//! ignored when hidden, submitted once with the mapped fields written, reminders once; a
//! workflow of 6 steps over 9 months runs each once at 9 AM local across both daylight-saving
//! changes, a postponement re-times it, approval waits and never expires, a crash mid-run
//! loses and duplicates nothing, two schedulers run each step once; and the couple fills the
//! timeline in a real browser.
use crate::helpers::{TestApp, assert_problem};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use projectflo::clock::Clock;
use projectflo::config::Settings;
use projectflo::workflows::engine;
use projectflo::workflows::steps::{self, StepIn};
use serde_json::json;

const LA: &str = "America/Los_Angeles";

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A booked couple (their contact, client, inquiry, project and quote), in Los Angeles time.
pub async fn booked(
    app: &TestApp,
    email: &str,
    wedding: NaiveDate,
    booked: NaiveDate,
) -> (i32, i32) {
    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("UPDATE studio_settings SET time_zone = $1")
        .bind(LA)
        .execute(&mut *tx)
        .await
        .unwrap();
    let contact: i32 = sqlx::query_scalar(
        "INSERT INTO contacts (first_name, last_name, email, type) VALUES ('Ana', 'Test', $1, 'Client')
         RETURNING id",
    )
    .bind(email)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let inquiry: i32 = sqlx::query_scalar(
        "INSERT INTO inquiries (contact_id, status, wedding_date) VALUES ($1, 'Booked', $2)
         RETURNING id",
    )
    .bind(contact)
    .bind(wedding)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let client: i32 = sqlx::query_scalar(
        "INSERT INTO clients (contact_id, inquiry_id) VALUES ($1, $2) RETURNING id",
    )
    .bind(contact)
    .bind(inquiry)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let project: i32 = sqlx::query_scalar(
        "INSERT INTO projects (client_id, project_name, wedding_date, booking_date)
         VALUES ($1, 'Ana''s wedding', $2, $3) RETURNING id",
    )
    .bind(client)
    .bind(wedding)
    .bind(booked)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO builds (client_id, inquiry_id, project_id, status) VALUES ($1, $2, $3, 'Booked')",
    )
    .bind(client)
    .bind(inquiry)
    .bind(project)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (project, client)
}

pub fn timed_email(name: &str, trigger: &str, amount: i32, unit: &str, direction: &str) -> StepIn {
    StepIn {
        name: name.into(),
        trigger: trigger.into(),
        offset_amount: amount,
        offset_unit: unit.into(),
        direction: direction.into(),
        at_time: "09:00".into(),
        action: "email".into(),
        subject: format!("{name} for {{couple}}"),
        body: "Dear {first_name}, {days_to_wedding} days to go. {studio}".into(),
        ..StepIn::default()
    }
}

/// A workflow for every booked project with these steps; returns its id.
pub async fn workflow(app: &TestApp, name: &str, list: Vec<StepIn>) -> i32 {
    let mut tx = app.db.begin().await.unwrap();
    // Only this workflow runs (the demo's own, and its runs, are set aside).
    sqlx::query("DELETE FROM project_workflows")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE workflow_templates SET active = false")
        .execute(&mut *tx)
        .await
        .unwrap();
    let id = steps::create(&mut tx, name, None, None, None)
        .await
        .unwrap();
    for s in &list {
        steps::save_step(&mut tx, id, None, s).await.unwrap();
    }
    tx.commit().await.unwrap();
    id
}

/// In the demo: only this project counts as booked for the workflows (the others' steps would
/// run in the same passes).
async fn only(app: &TestApp, project: i32) {
    sqlx::query("UPDATE projects SET booking_date = NULL WHERE id <> $1")
        .bind(project)
        .execute(&app.db)
        .await
        .unwrap();
}

pub async fn pass(app: &TestApp, at: DateTime<Utc>) -> engine::Pass {
    engine::pass(&app.db, &Settings::defaults(), &Clock::Fixed(at))
        .await
        .unwrap()
}

/// Emails recorded to this address.
async fn emails_to(app: &TestApp, email: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT notes FROM communications_log WHERE notes LIKE 'To: ' || $1 || '%' ORDER BY id",
    )
    .bind(email)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// (name, state, due instant, ran instant) of a project's runs, in order.
async fn runs(
    app: &TestApp,
    project: i32,
) -> Vec<(String, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> {
    sqlx::query_as(
        "SELECT name, state, due_at, ran_at FROM workflow_step_runs WHERE project_id = $1
         ORDER BY position, id",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

pub fn la(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono_tz::America::Los_Angeles
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn six_steps() -> Vec<StepIn> {
    vec![
        timed_email("Welcome", "booking_date", 1, "days", "after"),
        timed_email("Six months to go", "wedding_date", 6, "months", "before"),
        timed_email("Three months to go", "wedding_date", 3, "months", "before"),
        timed_email("One month to go", "wedding_date", 1, "months", "before"),
        timed_email("One week to go", "wedding_date", 1, "weeks", "before"),
        timed_email("Two weeks after", "wedding_date", 2, "weeks", "after"),
    ]
}

#[tokio::test]
async fn six_steps_over_nine_months_run_once_each_at_nine_local_across_daylight_saving() {
    let app = TestApp::spawn().await;
    let email = "ana.dst@example.com";
    // Booked on Feb 20, 2027 (PST); the wedding on Nov 20, 2027 (PST again): between them the
    // clocks go forward on Mar 14 and back on Nov 7.
    let (project, _) = booked(&app, email, day(2027, 11, 20), day(2027, 2, 20)).await;
    workflow(&app, "Nine months", six_steps()).await;
    let attached = pass(&app, la(2027, 2, 20, 15)).await;
    assert_eq!(attached.attached, 1);
    assert_eq!(attached.done, 0, "nothing is due yet");
    let expected = [
        la(2027, 2, 21, 9),  // PST, UTC-8
        la(2027, 5, 20, 9),  // PDT, UTC-7
        la(2027, 8, 20, 9),  // PDT
        la(2027, 10, 20, 9), // PDT
        la(2027, 11, 13, 9), // PST: after the autumn change
        la(2027, 12, 4, 9),  // PST
    ];
    assert_eq!(expected[0].to_rfc3339(), "2027-02-21T17:00:00+00:00");
    assert_eq!(expected[1].to_rfc3339(), "2027-05-20T16:00:00+00:00");
    let due: Vec<_> = runs(&app, project).await.iter().map(|r| r.2).collect();
    assert_eq!(due, expected.map(Some).to_vec());
    for (n, at) in expected.iter().enumerate() {
        // A minute before: nothing; at the instant: this step; again: nothing more.
        assert_eq!(pass(&app, *at - chrono::Duration::minutes(1)).await.done, 0);
        assert_eq!(emails_to(&app, email).await.len(), n);
        assert_eq!(pass(&app, *at).await.done, 1, "step {n} at {at}");
        assert_eq!(pass(&app, *at + chrono::Duration::minutes(3)).await.done, 0);
        let sent = emails_to(&app, email).await;
        assert_eq!(sent.len(), n + 1);
        let r = &runs(&app, project).await[n];
        assert_eq!((r.1.as_str(), r.3), ("done", Some(*at)), "{r:?}");
        let local = r.3.unwrap().with_timezone(&chrono_tz::America::Los_Angeles);
        assert_eq!(local.format("%H:%M").to_string(), "09:00");
    }
    assert!(emails_to(&app, email).await[1].contains("Subject: Six months to go for Ana Test"));
    // The timeline on the project page says what ran and when.
    let owner = app.owner().await;
    let html = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"workflow-timeline\""), "{html}");
    assert_eq!(html.matches("data-state=\"done\"").count(), 6);
    assert!(html.contains("Ran Nov 13, 2027 09:00"), "{html}");
}

#[tokio::test]
async fn a_postponement_re_times_the_future_steps_at_the_same_local_time() {
    let at = la(2027, 2, 20, 15);
    let app = TestApp::demo_at(Clock::Fixed(at)).await;
    let email = "ana.moves@example.com";
    let (project, _) = booked(&app, email, day(2027, 9, 18), day(2027, 2, 20)).await;
    only(&app, project).await;
    workflow(&app, "Nine months", six_steps()).await;
    pass(&app, at).await;
    let before = runs(&app, project).await;
    // Moved by five weeks, from September (PDT) to October 23 (PDT); the week before it is
    // then Oct 16, the two weeks after Nov 6 (PDT, the day before the change).
    let maya: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'maya@goldenhour.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let studio = projectflo::studio::Studio::load(&mut tx).await.unwrap();
    projectflo::billing::postpone::apply(
        &mut tx,
        &Clock::Fixed(at),
        &studio,
        project,
        "2027-10-23",
        maya,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let after = runs(&app, project).await;
    assert_eq!(
        after[0].2, before[0].2,
        "counted from the booking: unchanged"
    );
    let due: Vec<_> = after[1..].iter().map(|r| r.2.unwrap()).collect();
    assert_eq!(
        due,
        [
            la(2027, 4, 23, 9),
            la(2027, 7, 23, 9),
            la(2027, 9, 23, 9),
            la(2027, 10, 16, 9),
            la(2027, 11, 6, 9),
        ]
    );
    assert!(after.iter().all(|r| r.1 == "scheduled"));
    // Only the new times run.
    assert_eq!(pass(&app, la(2027, 3, 18, 9)).await.done, 1, "the welcome");
    assert_eq!(pass(&app, before[1].2.unwrap()).await.done, 0);
    assert_eq!(pass(&app, la(2027, 4, 23, 9)).await.done, 1);
}

#[tokio::test]
async fn approval_waits_without_expiring_and_its_email_is_edited_before_it_goes() {
    let at = la(2027, 2, 20, 15);
    let app = TestApp::demo_at(Clock::Fixed(at)).await;
    let email = "ana.approve@example.com";
    let (project, _) = booked(&app, email, day(2027, 9, 18), day(2027, 2, 20)).await;
    only(&app, project).await;
    let mut step = timed_email("Check-in", "booking_date", 1, "weeks", "after");
    step.requires_approval = true;
    workflow(&app, "Approved", vec![step]).await;
    pass(&app, at).await;
    let due = la(2027, 2, 27, 9);
    assert_eq!(pass(&app, due).await.approval, 1);
    // Weeks later it still waits, and nothing went.
    for later in [1, 30, 120] {
        let p = pass(&app, due + chrono::Duration::days(later)).await;
        assert_eq!((p.done, p.approval, p.skipped), (0, 0, 0));
    }
    assert!(emails_to(&app, email).await.is_empty());
    let run: (i32, String, String) =
        sqlx::query_as("SELECT id, state, subject FROM workflow_step_runs WHERE project_id = $1")
            .bind(project)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(run.1, "approval");
    assert_eq!(run.2, "Check-in for Ana Test");
    // The dashboard lists it; approving with an edited email sends the edit, once.
    let owner = app.demo_login("Owner").await;
    let home = owner.get("/").await.text().await.unwrap();
    assert!(home.contains("id=\"approval-needed\""), "{home}");
    assert!(home.contains(&format!("#step-{}", run.0)), "{home}");
    let resp = owner
        .post_form(
            &format!("/workflow-steps/{}/approve", run.0),
            &[("subject", "A warm hello"), ("body", "Edited by Maya.")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let sent = emails_to(&app, email).await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Subject: A warm hello") && sent[0].contains("Edited by Maya."));
    let again = owner
        .post_form(&format!("/workflow-steps/{}/approve", run.0), &[])
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(emails_to(&app, email).await.len(), 1);
}

#[tokio::test]
async fn a_crash_between_claiming_and_sending_loses_and_duplicates_nothing() {
    let app = TestApp::spawn().await;
    let email = "ana.crash@example.com";
    let (project, _) = booked(&app, email, day(2027, 9, 18), day(2027, 2, 20)).await;
    workflow(
        &app,
        "One",
        vec![timed_email("Welcome", "booking_date", 1, "days", "after")],
    )
    .await;
    pass(&app, la(2027, 2, 20, 15)).await;
    let at = Clock::Fixed(la(2027, 2, 21, 9));
    let settings = Settings::defaults();
    // The claim transaction runs the step and writes its email, then dies before committing.
    {
        let mut conn = app.db.acquire().await.unwrap();
        let studio = projectflo::studio::Studio::load(&mut conn).await.unwrap();
        let mut tx = app.db.begin().await.unwrap();
        let ran = engine::run_one(&mut tx, &settings, &studio, &at)
            .await
            .unwrap();
        assert!(ran.is_some_and(|r| r.1 == engine::Outcome::Done));
        drop(tx); // the process dies: rolled back, nothing sent
    }
    assert!(emails_to(&app, email).await.is_empty());
    assert_eq!(runs(&app, project).await[0].1, "scheduled");
    // The next run sends it, once; later runs send nothing.
    assert_eq!(pass(&app, la(2027, 2, 21, 9)).await.done, 1);
    assert_eq!(pass(&app, la(2027, 2, 21, 10)).await.done, 0);
    assert_eq!(emails_to(&app, email).await.len(), 1);
    assert_eq!(runs(&app, project).await[0].1, "done");
}

#[tokio::test]
async fn two_schedulers_run_each_step_once() {
    let app = TestApp::spawn().await;
    let mut projects = vec![];
    for n in 0..12 {
        let email = format!("couple{n}@example.com");
        projects.push(
            booked(&app, &email, day(2027, 9, 18), day(2027, 2, 20))
                .await
                .0,
        );
    }
    workflow(&app, "Busy", six_steps()).await;
    pass(&app, la(2027, 2, 20, 15)).await;
    // Two instances, each its own pool, both running every step due by Mar 1.
    let at = la(2027, 3, 1, 12);
    let mut tasks = vec![];
    for _ in 0..2 {
        let pool = projectflo::db::pool(app.options.clone(), 2).await.unwrap();
        tasks.push(tokio::spawn(async move {
            engine::pass(&pool, &Settings::defaults(), &Clock::Fixed(at))
                .await
                .unwrap()
                .done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 12, "each project's welcome once, between the two");
    let per_couple: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM communications_log WHERE notes LIKE 'To: couple%' GROUP BY contact_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(per_couple, vec![1; 12]);
}

#[tokio::test]
async fn steps_past_when_attached_are_listed_to_run_or_skip_never_fired() {
    let app = TestApp::spawn().await;
    let email = "ana.late@example.com";
    // The workflow is made after the booking: two of its steps are already past.
    let (project, _) = booked(&app, email, day(2027, 9, 18), day(2027, 2, 20)).await;
    workflow(&app, "Late", six_steps()).await;
    let p = pass(&app, la(2027, 6, 1, 12)).await;
    assert_eq!((p.attached, p.done), (1, 0));
    assert!(emails_to(&app, email).await.is_empty());
    let states: Vec<String> = runs(&app, project).await.into_iter().map(|r| r.1).collect();
    assert_eq!(
        states,
        [
            "overdue",
            "overdue",
            "scheduled",
            "scheduled",
            "scheduled",
            "scheduled"
        ]
    );
    let ids: Vec<i32> = sqlx::query_scalar(
        "SELECT id FROM workflow_step_runs WHERE project_id = $1 ORDER BY position",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let owner = app.owner().await;
    let html = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("id=\"run-{}\"", ids[0])), "{html}");
    assert_eq!(
        owner
            .post_form(&format!("/workflow-steps/{}/run", ids[0]), &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        owner
            .post_form(
                &format!("/workflow-steps/{}/skip", ids[1]),
                &[("reason", "we met in person")]
            )
            .await
            .status(),
        303
    );
    let after = runs(&app, project).await;
    assert_eq!(after[0].1, "done");
    assert_eq!(after[1].1, "skipped");
    assert_eq!(emails_to(&app, email).await.len(), 1);
    let reason: String = sqlx::query_scalar("SELECT reason FROM workflow_step_runs WHERE id = $1")
        .bind(ids[1])
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(reason.ends_with(": we met in person"), "{reason}");
}

#[tokio::test]
async fn editing_a_template_shows_the_running_projects_and_applies_after_confirmation() {
    let app = TestApp::spawn().await;
    let (project, _) = booked(
        &app,
        "ana.edit@example.com",
        day(2027, 9, 18),
        day(2027, 2, 20),
    )
    .await;
    let id = workflow(&app, "Editable", six_steps()).await;
    pass(&app, la(2027, 2, 20, 15)).await;
    let step: i32 = sqlx::query_scalar(
        "SELECT id FROM workflow_steps WHERE workflow_id = $1 AND name = 'One week to go'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let owner = app.owner().await;
    let form = [
        ("name", "Ten days to go"),
        ("trigger", "wedding_date"),
        ("offset_amount", "10"),
        ("offset_unit", "days"),
        ("direction", "before"),
        ("at_time", "08:00"),
        ("action", "email"),
        ("subject", "Ten days"),
        ("body", "Soon!"),
        ("condition", ""),
    ];
    let url = format!("/settings/workflows/{id}/steps/{step}");
    let html = owner.post_form(&url, &form).await.text().await.unwrap();
    assert!(html.contains("id=\"confirm-change\""), "{html}");
    assert!(
        html.contains("Ana&#x27;s wedding") || html.contains("Ana&#39;s wedding"),
        "{html}"
    );
    assert!(html.contains("Sep 8, 2027 08:00"), "{html}");
    let due_week = runs(&app, project).await[4].2;
    assert_eq!(due_week, Some(la(2027, 9, 11, 9)), "not applied yet");
    let mut confirmed = form.to_vec();
    confirmed.push(("confirm", "1"));
    assert_eq!(owner.post_form(&url, &confirmed).await.status(), 303);
    let r = &runs(&app, project).await[4];
    assert_eq!(
        (r.0.as_str(), r.2),
        ("Ten days to go", Some(la(2027, 9, 8, 8)))
    );
}

/// Send the demo's timeline to a project through the API; returns the questionnaire's id.
async fn send_timeline(app: &TestApp, project: i32) -> i32 {
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("questionnaires").await;
    let templates: serde_json::Value = app
        .client
        .get(app.url("/api/v1/questionnaire-templates"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let timeline = templates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Wedding-day timeline")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/projects/{project}/questionnaires")))
        .bearer_auth(&token)
        .json(&json!({ "template_id": timeline }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let sent: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(sent["status"], "Sent");
    sent["id"].as_i64().unwrap() as i32
}

async fn olivia(app: &TestApp) -> (i32, i32) {
    sqlx::query_as(
        "SELECT p.id, p.client_id FROM projects p JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id WHERE c.email = 'olivia.nguyen@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn portal_answers_are_checked_by_kind_and_submitted_once_with_mapped_fields() {
    let app = TestApp::demo().await;
    let (project, client) = olivia(&app).await;
    let sent = send_timeline(&app, project).await;
    let couple = crate::portal::Couple {
        client_id: client,
        email: "olivia.nguyen@example.com".into(),
        records: vec![],
    };
    let portal = crate::portal::portal_login(&app, &couple, "olivia's portal password").await;
    let csrf = {
        let html = portal
            .get(app.url(&format!("/portal/questionnaires/{sent}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Ceremony start time"), "{html}");
        assert!(
            html.contains("id=\"question-7\"") && html.contains("hidden"),
            "the first-look place is hidden until the answer is Yes"
        );
        html.split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let answer = |q: i32, values: Vec<&'static str>| {
        let mut form: Vec<(&str, String)> = vec![("csrf", csrf.clone())];
        form.extend(values.into_iter().map(|v| ("value", v.to_string())));
        portal
            .post(app.url(&format!("/portal/questionnaires/{sent}/answers/{q}")))
            .header("hx-request", "true")
            .form(&form)
            .send()
    };
    // Kinds: a time, a number, a date, a choice among the options.
    for (q, bad) in [
        (5, "4.30pm"),
        (11, "lots"),
        (12, "2027-02-30"),
        (6, "Maybe"),
    ] {
        let resp = answer(q, vec![bad]).await.unwrap();
        assert_eq!(resp.status(), 422, "question {q}: {bad}");
        assert!(resp.text().await.unwrap().contains("Not saved"));
    }
    for (q, good) in [
        (4, "Filoli, Woodside"),
        (5, "16:30"),
        (11, "140"),
        (6, "No"),
    ] {
        let resp = answer(q, vec![good]).await.unwrap();
        assert_eq!(resp.status(), 200, "question {q}");
    }
    // A hidden question's answer is kept but ignored; showing it brings it back (and the
    // server sends the question shown again with the "Saved").
    let shown = answer(6, vec!["Yes"]).await.unwrap().text().await.unwrap();
    assert!(shown.contains("id=\"saved-6\""), "{shown}");
    assert!(
        shown.contains("id=\"question-7\"") && shown.contains("hx-swap-oob"),
        "{shown}"
    );
    assert!(
        !shown
            .split("id=\"question-7\"")
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap()
            .contains("hidden")
    );
    // Required and shown: submission names it.
    let resp = portal
        .post(app.url(&format!("/portal/questionnaires/{sent}/submit")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let refused = resp.text().await.unwrap();
    assert!(
        refused.contains("needs an answer") && refused.contains("id=\"refused\""),
        "{refused}"
    );
    answer(7, vec!["By the fountain at 15:00"]).await.unwrap();
    answer(6, vec!["No"]).await.unwrap();
    let resp = portal
        .post(app.url(&format!("/portal/questionnaires/{sent}/submit")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    // Once: an answer or a second submission is refused until the studio reopens it.
    assert_eq!(answer(4, vec!["Elsewhere"]).await.unwrap().status(), 409);
    // The mapped fields were written with the submission; the hidden answer counts for nothing.
    let fields: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM project_fields WHERE project_id = $1 ORDER BY key")
            .bind(project)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(
        fields.contains(&("ceremony_time".into(), "16:30".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("guest_count".into(), "140".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("first_look".into(), "No".into())),
        "{fields:?}"
    );
    let api: serde_json::Value = {
        let owner = app.demo_login("Owner").await;
        let token = owner.api_token("answers").await;
        app.client
            .get(app.url(&format!("/api/v1/projects/{project}/questionnaires")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let mine = api
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == sent)
        .unwrap();
    assert_eq!(mine["status"], "Submitted");
    assert_eq!(mine["answers"]["5"], "16:30");
    let owner = app.demo_login("Owner").await;
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Filoli, Woodside"), "{page}");
    assert!(
        !page.contains("By the fountain"),
        "a hidden answer is not shown"
    );
    // The studio reopens it: the couple can change it again.
    let resp = owner
        .post_form(
            &format!("/projects/{project}/questionnaires/{sent}/reopen"),
            &[],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(answer(4, vec!["Elsewhere"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn questionnaire_templates_through_the_api_are_checked_whole() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("builder").await;
    let post = |body: serde_json::Value| {
        app.client
            .post(app.url("/api/v1/questionnaire-templates"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let good = json!({
        "name": "Vendors",
        "questions": [
            { "id": 1, "kind": "single_choice", "label": "Do you have a planner?", "options": ["Yes", "No"] },
            { "id": 2, "kind": "short_text", "label": "Planner's name", "required": true,
              "show_if": { "question": 1, "value": "Yes" }, "maps_to": "planner" },
        ]
    });
    let resp = post(good.clone()).await.unwrap();
    assert_eq!(resp.status(), 201);
    let made: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(made["questions"][1]["maps_to"], "planner");
    assert_problem(post(good).await.unwrap(), 409).await;
    let later = json!({ "name": "Bad order", "questions": [
        { "id": 2, "kind": "short_text", "label": "Name", "show_if": { "question": 1, "value": "Yes" } },
        { "id": 1, "kind": "single_choice", "label": "Planner?", "options": ["Yes", "No"] },
    ]});
    let body = assert_problem(post(later).await.unwrap(), 409).await;
    assert!(body.to_string().contains("questions[0].show_if"), "{body}");
    let unknown = json!({ "name": "Bad field", "questions": [
        { "id": 1, "kind": "number", "label": "Shoe size", "maps_to": "shoe_size" } ]});
    assert_problem(post(unknown).await.unwrap(), 409).await;
    let kind =
        json!({ "name": "Bad kind", "questions": [{ "id": 1, "kind": "colour", "label": "x" }]});
    assert_problem(post(kind).await.unwrap(), 422).await;
    // White space is what Rust's trim takes, and the schema says the same: a name of U+0085
    // alone (white space to Rust, not to JSON Schema's `\s`) is refused by the field, and one
    // of U+FEFF alone (the other way round) is taken. The fuzzer found the first.
    let nel =
        json!({ "name": "\u{85}", "questions": [{ "id": 1, "kind": "short_text", "label": "x" }] });
    let body = assert_problem(post(nel).await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "name", "{body}");
    let bom = json!({ "name": "\u{FEFF}", "questions": [{ "id": 1, "kind": "short_text", "label": "x" }] });
    assert_eq!(post(bom).await.unwrap().status(), 201);
    let doc = app.get("/api/openapi.json").await.text().await.unwrap();
    assert!(!doc.contains(r"[^\\s\\x00]"), "no `\\s` in a pattern");
    assert!(
        doc.contains(r"[^\\x00\\t\\n\\x0B\\x0C\\r \\x85\\xA0"),
        "the white space spelled out"
    );
}

#[tokio::test]
async fn questionnaire_reminders_go_once_each_before_the_due_day() {
    let app = TestApp::demo().await;
    let (project, _) = olivia(&app).await;
    let sent = send_timeline(&app, project).await;
    let due: NaiveDate =
        sqlx::query_scalar("SELECT due_date FROM project_questionnaires WHERE id = $1")
            .bind(sent)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let noon = |d: NaiveDate| d.and_hms_opt(20, 0, 0).unwrap().and_utc();
    let reminders = async |at| pass(&app, at).await.reminders;
    assert_eq!(reminders(noon(due - chrono::Duration::days(4))).await, 0);
    assert_eq!(reminders(noon(due - chrono::Duration::days(3))).await, 1);
    assert_eq!(reminders(noon(due - chrono::Duration::days(2))).await, 0);
    assert_eq!(reminders(noon(due)).await, 1);
    assert_eq!(reminders(noon(due + chrono::Duration::days(1))).await, 0);
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM questionnaire_reminders WHERE project_questionnaire_id = $1",
    )
    .bind(sent)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(count, 2);
}

#[tokio::test]
async fn the_demo_has_questionnaires_and_a_workflow_with_steps_done_waiting_and_to_approve() {
    let app = TestApp::demo().await;
    let (project, _) = olivia(&app).await;
    let states: Vec<String> = runs(&app, project).await.into_iter().map(|r| r.1).collect();
    for s in ["done", "approval", "scheduled", "overdue"] {
        assert!(states.iter().any(|x| x == s), "{s}: {states:?}");
    }
    let owner = app.demo_login("Owner").await;
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Wedding-day timeline"), "{page}");
    assert!(page.contains("id=\"field-ceremony_time\">16:30<"), "{page}");
    let builder = owner
        .get("/settings/questionnaires")
        .await
        .text()
        .await
        .unwrap();
    for name in ["Wedding-day timeline", "Shot list", "Music choices"] {
        assert!(builder.contains(name), "{name}");
    }
    let settings = owner.get("/settings").await.text().await.unwrap();
    assert!(
        settings.contains("/settings/workflows") && settings.contains("/settings/questionnaires")
    );
}

#[tokio::test]
async fn the_builder_adds_moves_and_removes_questions_with_the_keyboards_forms() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let resp = owner
        .post_form(
            "/settings/questionnaires",
            &[
                ("name", "Getting to know you"),
                ("due_days_before_wedding", "20"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let at = resp.headers()["location"].to_str().unwrap().to_string();
    let id: i32 = at.rsplit('/').next().unwrap().parse().unwrap();
    let add = format!("/settings/questionnaires/{id}/questions");
    let pets = [
        ("kind", "single_choice"),
        ("label", "Pets at the wedding?"),
        ("options", "Yes\nNo"),
    ];
    assert_eq!(owner.post_form(&add, &pets).await.status(), 303);
    let names = [
        ("kind", "short_text"),
        ("label", "Their names"),
        ("show_if_question", "1"),
        ("show_if_value", "Yes"),
        ("maps_to", "planner"),
    ];
    assert_eq!(owner.post_form(&add, &names).await.status(), 303);
    // A condition on a choice that is not one: refused, nothing saved.
    let maybe = [
        ("kind", "short_text"),
        ("label", "x"),
        ("show_if_question", "1"),
        ("show_if_value", "Maybe"),
    ];
    let bad = owner.post_form(&add, &maybe).await;
    assert_eq!(bad.status(), 409);
    assert!(bad.text().await.unwrap().contains("Not saved"));
    // Moving the conditional question above its condition is refused; the other way is fine.
    let up = owner
        .post_form(
            &format!("/settings/questionnaires/{id}/questions/2/move"),
            &[("direction", "up")],
        )
        .await;
    assert_eq!(up.status(), 409);
    let html = owner
        .get(&format!("/settings/questionnaires/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.find("Pets at the wedding?").unwrap() < html.find("Their names").unwrap());
    assert!(
        html.contains("shows if “Pets at the wedding?” is “Yes”"),
        "{html}"
    );
    let del = owner
        .post_form(
            &format!("/settings/questionnaires/{id}/questions/1/delete"),
            &[],
        )
        .await;
    assert_eq!(del.status(), 303);
    let qs: serde_json::Value =
        sqlx::query_scalar("SELECT questions FROM questionnaire_templates WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(qs.as_array().unwrap().len(), 1);
    assert!(qs[0]["show_if"].is_null(), "its condition went with it");
}

#[tokio::test]
async fn the_couple_fills_the_timeline_in_the_browser_and_the_studio_sees_it() {
    use crate::browser::{browser, click, type_in, wait_for_path};
    use fantoccini::Locator;
    let app = TestApp::demo().await;
    let (project, client) = olivia(&app).await;
    let sent = send_timeline(&app, project).await;
    let couple = crate::portal::Couple {
        client_id: client,
        email: "olivia.nguyen@example.com".into(),
        records: vec![],
    };
    let pw = "olivia fills the timeline";
    crate::portal::portal_login(&app, &couple, pw).await;
    let Some(b) = browser().await else { return };
    b.goto(&app.url("/portal/login")).await.unwrap();
    type_in(&b, Locator::Id("email"), &couple.email).await;
    type_in(&b, Locator::Id("password"), &format!("{pw}\u{E007}")).await;
    wait_for_path(&b, "/portal").await;
    // From the portal's home to the questionnaire.
    click(
        &b,
        Locator::Css(&format!("a[href='/portal/questionnaires/{sent}']")),
    )
    .await;
    wait_for_path(&b, &format!("/portal/questionnaires/{sent}")).await;
    let saved = async |q: i32| {
        b.wait()
            .for_element(Locator::XPath(&format!(
                "//*[@id='saved-{q}' and text()='Saved']"
            )))
            .await
            .unwrap();
    };
    type_in(&b, Locator::Id("a-4"), "Filoli, Woodside").await;
    saved(4).await;
    b.execute(
        "const t = document.getElementById('a-5'); t.value = '16:30';
         t.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![],
    )
    .await
    .unwrap();
    saved(5).await;
    // The first-look place shows only once the answer is Yes.
    let place = b.find(Locator::Id("question-7")).await.unwrap();
    assert!(!place.is_displayed().await.unwrap());
    click(&b, Locator::Id("a-6-1")).await;
    saved(6).await;
    b.wait()
        .for_element(Locator::Css("#question-7:not([hidden])"))
        .await
        .unwrap();
    assert!(
        b.find(Locator::Id("question-7"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    type_in(&b, Locator::Id("a-7"), "In the rose garden at 15:00").await;
    saved(7).await;
    type_in(&b, Locator::Id("a-11"), "135").await;
    saved(11).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("portal-questionnaire.png"),
        b.screenshot().await.unwrap(),
    )
    .unwrap();
    click(&b, Locator::Id("submit-questionnaire")).await;
    b.wait()
        .for_element(Locator::Id("submitted"))
        .await
        .unwrap();
    b.close().await.unwrap();
    // The studio sees the answers on the project, and the mapped fields.
    let owner = app.demo_login("Owner").await;
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("In the rose garden at 15:00"), "{page}");
    assert!(page.contains("id=\"field-ceremony_time\">16:30<"), "{page}");
    assert!(page.contains("id=\"field-guest_count\">135<"), "{page}");
    assert!(
        page.contains("id=\"field-ceremony_venue\">Filoli, Woodside<"),
        "{page}"
    );
}

/// Not a check: the README's pictures of a workflow's timeline on a project and of the
/// questionnaire builder, saved to `target/screenshots/` (`cargo test -- --ignored
/// workflow_screenshots`).
#[tokio::test]
#[ignore]
async fn workflow_screenshots() {
    use crate::browser::{browser, login};
    let app = TestApp::demo().await;
    let (project, _) = olivia(&app).await;
    let Some(b) = browser().await else { return };
    login(
        &b,
        &app,
        "maya@goldenhour.example",
        projectflo::seed::DEMO_PASSWORD,
    )
    .await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    b.goto(&app.url(&format!("/projects/{project}#workflow")))
        .await
        .unwrap();
    b.execute(
        "document.body.style.zoom = '0.6'; document.getElementById('workflow').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    std::fs::write(dir.join("workflow.png"), b.screenshot().await.unwrap()).unwrap();
    let timeline: i32 = sqlx::query_scalar(
        "SELECT id FROM questionnaire_templates WHERE name = 'Wedding-day timeline'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    b.goto(&app.url(&format!("/settings/questionnaires/{timeline}")))
        .await
        .unwrap();
    b.execute(
        "document.body.style.zoom = '0.8'; document.querySelector('#q-7 details').open = true;
         document.getElementById('q-5').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    std::fs::write(
        dir.join("questionnaire-builder.png"),
        b.screenshot().await.unwrap(),
    )
    .unwrap();
    b.close().await.unwrap();
}

#[tokio::test]
async fn two_jobs_workflows_processes_at_once_run_each_step_once() {
    let app = TestApp::spawn().await;
    for n in 0..6 {
        let email = format!("proc{n}@example.com");
        booked(&app, &email, day(2027, 9, 18), day(2027, 2, 20)).await;
    }
    workflow(&app, "Processes", six_steps()).await;
    let run = |at: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_projectflo"))
            .args(["jobs", "workflows", "--at", at])
            .env("DATABASE_URL", app.database_url())
            .env_remove("PROJECTFLO_BIND")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let attach = run("2027-02-20T23:00:00Z").wait_with_output().unwrap();
    assert!(
        attach.status.success(),
        "{}",
        String::from_utf8_lossy(&attach.stderr)
    );
    assert!(String::from_utf8_lossy(&attach.stdout).contains("Workflows: 6 attached"));
    let (a, b) = (run("2027-03-01T20:00:00Z"), run("2027-03-01T20:00:00Z"));
    let done: usize = [a, b]
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let n = text.split(" steps woken by their event, ").nth(1).unwrap();
            n.split(" done").next().unwrap().parse::<usize>().unwrap()
        })
        .sum();
    assert_eq!(done, 6, "each project's welcome once, between the two");
    let per_couple: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM communications_log WHERE notes LIKE 'To: proc%' GROUP BY contact_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(per_couple, vec![1; 6]);
}

#[tokio::test]
async fn a_file_answer_is_uploaded_kept_as_a_project_document_and_shown_to_the_studio() {
    let app = TestApp::demo().await;
    let (project, client) = olivia(&app).await;
    let owner = app.demo_login("Owner").await;
    let shots: i32 =
        sqlx::query_scalar("SELECT id FROM questionnaire_templates WHERE name = 'Shot list'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let resp = owner
        .post_form(
            &format!("/projects/{project}/questionnaires"),
            &[("template_id", &shots.to_string()), ("due_date", "")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let sent: i32 = sqlx::query_scalar(
        "SELECT max(id) FROM project_questionnaires WHERE project_id = $1 AND template_id = $2",
    )
    .bind(project)
    .bind(shots)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let couple = crate::portal::Couple {
        client_id: client,
        email: "olivia.nguyen@example.com".into(),
        records: vec![],
    };
    let portal = crate::portal::portal_login(&app, &couple, "olivia uploads a mood board").await;
    let html = portal
        .get(app.url(&format!("/portal/questionnaires/{sent}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"a mood board".to_vec()).file_name("../mood board.png"),
    );
    let resp = portal
        .post(app.url(&format!(
            "/portal/questionnaires/{sent}/files/6?csrf={csrf}"
        )))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let doc: (String, String) = sqlx::query_as(
        "SELECT file_name, document_type FROM documents WHERE project_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        doc,
        ("mood board.png".to_string(), "Questionnaire".to_string())
    );
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(">mood board.png</a>"), "{page}");
}
