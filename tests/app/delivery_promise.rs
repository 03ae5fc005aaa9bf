//! Production, continued: the promised delivery (a studio setting kept per project, moved by a
//! postponement), the projected delivery from the editors' real queues (staff page and portal),
//! and what the nightly run adds: planned hours re-planned at a new average, "due soon"
//! notifications once per due day, and the optional daily digest.
use crate::helpers::{TestApp, build_of, contributor, scalar_of};
use chrono::{Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use projectflo::clock::Clock;
use rust_decimal::Decimal;

/// Tuesday 10 March 2026, 11:00 in Los Angeles (the demo studio's zone): the pinned "now".
fn clock() -> Clock {
    Clock::Fixed(Utc.with_ymd_and_hms(2026, 3, 10, 18, 0, 0).unwrap())
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

async fn project_of(app: &TestApp, email: &str) -> i32 {
    let build = build_of(app, email).await;
    scalar_of(app, "SELECT project_id FROM builds WHERE id = $1", build).await
}

async fn nightly(app: &TestApp, at: Clock) -> projectflo::jobs::Nightly {
    projectflo::jobs::nightly(&app.db, &projectflo::config::Settings::defaults(), &at)
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str, id: i32) -> i64 {
    scalar_of::<i64>(app, sql, id).await
}

#[tokio::test]
async fn the_nightly_run_replans_from_the_new_average_tells_what_is_due_soon_once_and_emails_the_digest()
 {
    let app = TestApp::demo_at(clock()).await;
    let project = project_of(&app, "olivia.nguyen@example.com").await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    // Olivia's two audio mixes (ceremony, reception), not started: both go to Leo.
    let mixes: Vec<i32> = sqlx::query_scalar(
        "SELECT t.id FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
         WHERE t.project_id = $1 AND tt.name = 'Audio Mix & Master' ORDER BY t.id",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(mixes.len(), 2);
    let owner = app.demo_login("Owner").await;
    let resp = owner
        .post_json(
            "/api/v1/tasks/assign",
            &serde_json::json!({"task_ids": mixes, "assignee": leo}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // Only these two count: every other audio mix of the demo (Chloe's) is taken back.
    sqlx::query(
        "UPDATE tasks SET status = 'To-Do', actual_duration_hours = NULL, completed_at = NULL
         WHERE task_template_id = (SELECT task_template_id FROM tasks WHERE id = $1)
           AND id <> ALL($2)",
    )
    .bind(mixes[0])
    .bind(&mixes)
    .execute(&app.db)
    .await
    .unwrap();
    // Leo finishes the first in 3.25 h; the second is due tomorrow.
    sqlx::query(
        "UPDATE tasks SET status = 'Completed', completed_at = now(),
                actual_duration_hours = 3.25 WHERE id = $1",
    )
    .bind(mixes[0])
    .execute(&app.db)
    .await
    .unwrap();
    let tomorrow = today() + Days::new(1);
    sqlx::query("UPDATE tasks SET due_date = $2 WHERE id = $1")
        .bind(mixes[1])
        .bind(tomorrow)
        .execute(&app.db)
        .await
        .unwrap();
    // Leo asks for the daily digest on My account.
    let leo_s = app.demo_login("Editor").await;
    let resp = leo_s
        .post_form("/account/digest", &[("digest", "on")])
        .await;
    assert_eq!(resp.status(), 303);
    let account = leo_s.get("/account").await.text().await.unwrap();
    assert!(account.contains("name=\"digest\" value=\"on\" checked"));
    assert!(!account.contains("The last digest"));

    let first = nightly(&app, clock()).await;
    let planned: (Decimal, String) =
        sqlx::query_as("SELECT planned_duration_hours, planned_source FROM tasks WHERE id = $1")
            .bind(mixes[1])
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        planned,
        ("3.25".parse().unwrap(), "Leo's average over 1 task".into())
    );
    assert!(first.replanned >= 1);
    assert!(first.report().contains("re-planned"), "{}", first.report());
    let told = "SELECT count(*) FROM notifications WHERE link_url = '/tasks/' || $1
                AND message LIKE 'Due %'";
    assert_eq!(count(&app, told, mixes[1]).await, 1);
    let message: String = scalar_of(
        &app,
        "SELECT message FROM notifications WHERE link_url = '/tasks/' || $1
         AND message LIKE 'Due %'",
        mixes[1],
    )
    .await;
    assert!(
        message.starts_with("Due tomorrow: Audio Mix & Master for "),
        "{message}"
    );
    // The digest went to Leo: the task due tomorrow is in it, and My account shows it.
    let digests = "SELECT count(*) FROM communications_log l JOIN contributors co
                   ON co.contact_id = l.contact_id WHERE co.id = $1
                   AND l.notes LIKE '%Subject: Your day at the studio%'";
    assert_eq!(count(&app, digests, leo).await, 1);
    assert_eq!(first.digests, 1);
    let account = leo_s.get("/account").await.text().await.unwrap();
    assert!(account.contains("The last digest"), "{account}");
    assert!(account.contains("Audio Mix &#38; Master for"), "{account}");

    // The same night again: nothing re-planned, told or emailed twice.
    let again = nightly(&app, clock()).await;
    assert_eq!((again.replanned, again.digests), (0, 0));
    assert_eq!(count(&app, told, mixes[1]).await, 1);
    assert_eq!(count(&app, digests, leo).await, 1);

    // The due day moves (to Thursday): told again the next day, "tomorrow" once more.
    sqlx::query("UPDATE tasks SET due_date = $2 WHERE id = $1")
        .bind(mixes[1])
        .bind(today() + Days::new(2))
        .execute(&app.db)
        .await
        .unwrap();
    let next_day = Clock::Fixed(Utc.with_ymd_and_hms(2026, 3, 11, 18, 0, 0).unwrap());
    let third = nightly(&app, next_day).await;
    assert_eq!(
        count(&app, told, mixes[1]).await,
        2,
        "a moved due day is told again"
    );
    assert_eq!(third.digests, 1, "a new day, a new digest");
    sqlx::query("UPDATE tasks SET due_date = $2 WHERE id = $1")
        .bind(mixes[1])
        .bind(today() + Days::new(4))
        .execute(&app.db)
        .await
        .unwrap();
    let fourth = Clock::Fixed(Utc.with_ymd_and_hms(2026, 3, 12, 18, 0, 0).unwrap());
    // Moved again, to Saturday: told on Thursday, by its weekday.
    nightly(&app, fourth).await;
    assert_eq!(count(&app, told, mixes[1]).await, 3);
    let latest: String = sqlx::query_scalar(
        "SELECT message FROM notifications WHERE link_url = '/tasks/' || $1
         AND message LIKE 'Due %' ORDER BY id DESC LIMIT 1",
    )
    .bind(mixes[1])
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(latest.starts_with("Due Saturday 14 Mar: "), "{latest}");

    // Digest off: no more emails.
    let resp = leo_s.post_form("/account/digest", &[]).await;
    assert_eq!(resp.status(), 303);
    let fifth = Clock::Fixed(Utc.with_ymd_and_hms(2026, 3, 13, 18, 0, 0).unwrap());
    assert_eq!(nightly(&app, fifth).await.digests, 0);
    assert_eq!(count(&app, digests, leo).await, 3);
}

#[tokio::test]
async fn the_delivery_weeks_are_a_studio_setting_and_a_promise_made_is_kept() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let page = owner.get("/settings/studio").await.text().await.unwrap();
    assert!(
        page.contains("name=\"delivery_weeks_after_wedding\""),
        "{page}"
    );
    let phases: String = scalar_of(
        &app,
        "SELECT array_to_string(task_phase_order, E'\\n') FROM studio_settings WHERE $1 = $1",
        0,
    )
    .await;
    let mut form = vec![
        ("studio_name", "Golden Hour Films"),
        ("currency_code", "USD"),
        ("time_zone", "America/Los_Angeles"),
        ("editing_hourly_rate", "85"),
        ("tax_rate_percent", "0"),
        ("deposit_percent", "30"),
        ("balance_due_days_before_wedding", "30"),
        ("invoice_prefix", "GHF-"),
        ("task_phase_order", phases.as_str()),
        ("proposal_valid_days", "30"),
        ("delivery_weeks_after_wedding", "0"),
    ];
    for bad in ["0", "105", "eight", ""] {
        form[10].1 = bad;
        let resp = owner.post_form("/settings/studio", &form).await;
        assert_eq!(resp.status(), 422, "{bad}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("id=\"error-delivery_weeks_after_wedding\"")
                && html.contains("enter a whole number of weeks from 1 to 104"),
            "{bad}"
        );
    }
    let weeks = "SELECT delivery_weeks_after_wedding FROM studio_settings WHERE $1 = $1";
    assert_eq!(scalar_of::<i32>(&app, weeks, 0).await, 12);
    form[10].1 = "8";
    assert_eq!(
        owner.post_form("/settings/studio", &form).await.status(),
        303
    );
    assert_eq!(scalar_of::<i32>(&app, weeks, 0).await, 8);
    // The API shows it, and a request that leaves it out keeps it.
    let api: serde_json::Value = owner
        .get("/api/v1/studio-settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["delivery_weeks_after_wedding"], 8);
    let mut body = api.clone();
    body.as_object_mut()
        .unwrap()
        .remove("delivery_weeks_after_wedding");
    let resp = owner.put_json("/api/v1/studio-settings", &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(scalar_of::<i32>(&app, weeks, 0).await, 8);
    // JSON Schema counts 7.0 as an integer, so the API reads it as 7 (the fuzzer sent 11.0).
    body["delivery_weeks_after_wedding"] = serde_json::json!(7.0);
    let resp = owner.put_json("/api/v1/studio-settings", &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(scalar_of::<i32>(&app, weeks, 0).await, 7);
    body["delivery_weeks_after_wedding"] = serde_json::json!(8);
    let resp = owner.put_json("/api/v1/studio-settings", &body).await;
    assert_eq!(resp.status(), 200);

    // Olivia's promise (12 weeks, made at her booking) stays; Sofia, booked now, gets 8.
    let olivia = project_of(&app, "olivia.nguyen@example.com").await;
    let promise = "SELECT promised_delivery_date - wedding_date FROM projects WHERE id = $1";
    assert_eq!(count_days(&app, promise, olivia).await, 84);
    let (sofia, _, _, wedding) = crate::postpone::book_sofia(&app).await;
    assert_eq!(count_days(&app, promise, sofia).await, 56);
    let last_due: NaiveDate = scalar_of(
        &app,
        "SELECT max(due_date) FROM tasks WHERE project_id = $1",
        sofia,
    )
    .await;
    // Due days count back from the new promise (the last phase a week or none before it).
    let promise = wedding + Days::new(56);
    assert!(
        last_due <= promise && last_due >= promise - Days::new(7),
        "{last_due}"
    );
    // The project page says so.
    let page = owner
        .get(&format!("/projects/{sofia}"))
        .await
        .text()
        .await
        .unwrap();
    let promised = (wedding + Days::new(56)).format("%b %-d, %Y").to_string();
    assert!(page.contains(&promised), "{page}");
    // A postponement moves the promise with the wedding.
    let to = wedding + Days::new(14);
    let resp = owner
        .post_form(
            &format!("/projects/{sofia}/postpone"),
            &[("wedding_date", &to.to_string())],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let moved: NaiveDate = scalar_of(
        &app,
        "SELECT promised_delivery_date FROM projects WHERE id = $1",
        sofia,
    )
    .await;
    assert_eq!(moved, to + Days::new(56));
}

async fn count_days(app: &TestApp, sql: &str, id: i32) -> i32 {
    scalar_of::<i32>(app, sql, id).await
}

/// `days` working days after `from`, by hand.
fn workdays_after(from: NaiveDate, days: u32) -> NaiveDate {
    let mut d = from;
    let mut left = days;
    while left > 0 {
        d = d.succ_opt().unwrap();
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

#[tokio::test]
async fn the_couple_sees_the_delivery_the_editors_queue_gives_once_the_wedding_is_past() {
    let app = TestApp::demo_at(clock()).await;
    let project = project_of(&app, "olivia.nguyen@example.com").await;
    let leo = contributor(&app, "leo@goldenhour.example").await;
    // Leo alone has work anywhere: Olivia's open tasks, 4 h each, and one 12 h task of
    // another project due earlier (ahead of them in his queue); nobody else has any.
    sqlx::query(
        "UPDATE tasks SET assigned_to_contributor_id = NULL
         WHERE status NOT IN ('Completed', 'Archived')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let open: i64 = sqlx::query_scalar(
        "WITH o AS (UPDATE tasks SET assigned_to_contributor_id = $2,
                           planned_duration_hours = 4, actual_duration_hours = NULL,
                           due_date = $3
                    WHERE project_id = $1 AND status NOT IN ('Completed', 'Archived')
                    RETURNING id)
         SELECT count(*) FROM o",
    )
    .bind(project)
    .bind(leo)
    .bind(today() + Days::new(30))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(open >= 4, "{open}");
    let (sofia, _, _, _) = crate::postpone::book_sofia(&app).await;
    sqlx::query(
        "UPDATE tasks SET assigned_to_contributor_id = $2, planned_duration_hours = 12,
                due_date = $3
         WHERE id = (SELECT min(id) FROM tasks WHERE project_id = $1)",
    )
    .bind(sofia)
    .bind(leo)
    .bind(today() + Days::new(3))
    .execute(&app.db)
    .await
    .unwrap();
    // The wedding was a week ago; Leo works 40 h a week (8 h a weekday).
    sqlx::query("UPDATE projects SET wedding_date = $2, promised_delivery_date = $3 WHERE id = $1")
        .bind(project)
        .bind(today() - Days::new(7))
        .bind(today() + Days::new(2))
        .execute(&app.db)
        .await
        .unwrap();
    // Leo is not away (the demo's leave and holidays taken off).
    sqlx::query(
        "DELETE FROM calendar_events WHERE contributor_id = $1
         AND event_type IN ('ABSENCE', 'HOLIDAY')",
    )
    .bind(leo)
    .execute(&app.db)
    .await
    .unwrap();
    // By hand: (12 + 4 x open) hours at 8 a day, rounded up to whole weekdays after today.
    let hours = 12 + 4 * open as u32;
    let expected = workdays_after(today(), hours.div_ceil(8));
    let shown = expected.format("%b %-d, %Y").to_string();
    let owner = app.demo_login("Owner").await;
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    let projected = &page[page.find("id=\"project-projected\"").unwrap()..];
    let projected = &projected[..projected.find("</dd>").unwrap()];
    assert!(projected.contains(&shown), "{shown}: {projected}");
    assert!(projected.contains("later than promised"), "{projected}");
    assert!(
        projected.contains(&format!("{}.00 h of work left", 4 * open)),
        "{projected}"
    );
    // Two days of leave for Leo (Wednesday and Thursday): two weekdays later.
    sqlx::query(
        "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, is_all_day,
                                      event_type)
         VALUES ($1, 'Leave', (date '2026-03-11')::timestamp AT TIME ZONE 'America/Los_Angeles',
                 (date '2026-03-13')::timestamp AT TIME ZONE 'America/Los_Angeles', true,
                 'ABSENCE')",
    )
    .bind(leo)
    .execute(&app.db)
    .await
    .unwrap();
    let expected = workdays_after(expected, 2);
    let shown = expected.format("%b %-d, %Y").to_string();
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&shown), "{shown}");

    // The couple sees the same day in the portal, beside the promise.
    let client: i32 = scalar_of(
        &app,
        "SELECT client_id FROM projects WHERE id = $1",
        project,
    )
    .await;
    let couple = crate::portal::Couple {
        client_id: client,
        email: "olivia.nguyen@example.com".into(),
        records: vec![],
    };
    let portal = crate::portal::portal_login(&app, &couple, "a long portal password").await;
    let html = portal
        .get(app.url(&format!("/portal/projects/{project}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Expected from our editors"), "{html}");
    assert!(
        html.contains(&expected.format("%B %-d, %Y").to_string()) || html.contains(&shown),
        "{html}"
    );

    // Every task done: no projection, and the page says so.
    sqlx::query(
        "UPDATE tasks SET status = 'Completed' WHERE project_id = $1 AND status <> 'Archived'",
    )
    .bind(project)
    .execute(&app.db)
    .await
    .unwrap();
    let page = owner
        .get(&format!("/projects/{project}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Every task is done"), "{page}");
}
