//! The team calendar: no double-booking under 50 concurrent requests (the database's exclusion
//! constraint, 409s naming who, when and why), all-day events on the studio's local day across
//! daylight saving, recurring absences with an exception, crew on a booked wedding (refused
//! when someone is on leave), postponement moving the crew, availability, the quote builder's
//! "who can shoot", the pages with htmx, and ICS feeds parsed back by an iCalendar library.
use crate::helpers::{Session, TestApp, assert_problem};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use projectflo::clock::Clock;
use serde_json::{Value, json};

/// The demo on 2026-10-20 11:00 in Los Angeles (the studio's zone): Olivia's wedding is 75
/// days on, after the clocks go back on November 1.
fn clock() -> Clock {
    Clock::Fixed(Utc.with_ymd_and_hms(2026, 10, 20, 18, 0, 0).unwrap())
}

async fn id_of(app: &TestApp, email: &str) -> i32 {
    sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = $1",
    )
    .bind(email)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn olivia(app: &TestApp) -> (i32, NaiveDate) {
    sqlx::query_as(
        "SELECT p.id, p.wedding_date FROM projects p JOIN builds b ON b.project_id = p.id
         JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'olivia.nguyen@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn patch(s: &Session, path: &str, body: &Value) -> reqwest::Response {
    s.client
        .patch(s.url(path))
        .header("x-csrf-token", &s.csrf)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn fifty_concurrent_conflicting_assignments_store_exactly_the_non_overlapping_set() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let (project, _) = olivia(&app).await;
    let (_, email) = app.staff("Videographer").await;
    let who = id_of(&app, &email).await;
    // Ten one-hour slots, each asked for five times, all at once: fifty API clients, each its
    // own HTTP connection (and so its own database connection on the server).
    let token = owner.api_token("storm").await;
    let mut tasks = vec![];
    for n in 0..50 {
        let slot = n % 10;
        let (url, token) = (owner.url("/api/v1/calendar/events"), token.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({
                "contributor_id": who, "title": format!("Shoot {n}"),
                "event_type": "PROJECT_ASSIGNMENT", "project_id": project,
                "start": format!("2027-02-10T{:02}:00", 8 + slot),
                "end": format!("2027-02-10T{:02}:00", 9 + slot),
            });
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (slot, status, r.text().await.unwrap())
        }));
    }
    let mut created = [0; 10];
    let mut refused = 0;
    for t in tasks {
        let (slot, status, body) = t.await.unwrap();
        match status {
            201 => created[slot] += 1,
            409 => {
                refused += 1;
                assert!(body.contains("is not available"), "{body}");
                assert!(body.contains("Feb 10, 2027"), "{body}");
                assert!(body.contains("Test Videographer"), "{body}");
            }
            s => panic!("{s}: {body}"),
        }
    }
    assert_eq!(created, [1; 10], "one per slot");
    assert_eq!(refused, 40);
    let stored = count(
        &app,
        &format!("SELECT count(*) FROM calendar_events WHERE contributor_id = {who}"),
    )
    .await;
    assert_eq!(stored, 10);
    let overlaps = count(
        &app,
        &format!(
            "SELECT count(*) FROM calendar_events a JOIN calendar_events b
               ON a.contributor_id = b.contributor_id AND a.id < b.id
              AND tstzrange(a.start_time, a.end_time) && tstzrange(b.start_time, b.end_time)
             WHERE a.contributor_id = {who}"
        ),
    )
    .await;
    assert_eq!(overlaps, 0);
}

#[tokio::test]
async fn the_database_refuses_an_overlap_even_past_the_app() {
    let app = TestApp::demo_at(clock()).await;
    let sam = id_of(&app, "sam@goldenhour.example").await;
    let insert = |start: &str, end: &str| {
        format!(
            "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, event_type)
             VALUES ({sam}, 'x', '{start}', '{end}', 'ABSENCE')"
        )
    };
    sqlx::query(&insert("2027-05-01T10:00Z", "2027-05-01T12:00Z"))
        .execute(&app.db)
        .await
        .unwrap();
    let e = sqlx::query(&insert("2027-05-01T11:00Z", "2027-05-01T13:00Z"))
        .execute(&app.db)
        .await
        .unwrap_err();
    assert_eq!(e.as_database_error().unwrap().code().unwrap(), "23P01");
    // Touching ends do not overlap; a personal event overlaps freely.
    sqlx::query(&insert("2027-05-01T12:00Z", "2027-05-01T13:00Z"))
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        &insert("2027-05-01T11:00Z", "2027-05-01T13:00Z").replace("'ABSENCE'", "'PERSONAL'"),
    )
    .execute(&app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn all_day_events_cover_the_local_day_and_block_assignments_on_it() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let (_, email) = app.staff("Videographer").await;
    let who = id_of(&app, &email).await;
    let (project, _) = olivia(&app).await;
    // March 14, 2027: the clocks go forward in Los Angeles; the day is 23 hours.
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &json!({"contributor_id": who, "title": "On leave", "event_type": "ABSENCE",
                    "all_day": true, "start": "2027-03-14", "end": "2027-03-14"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["start_time"], "2027-03-14T08:00:00Z");
    assert_eq!(e["end_time"], "2027-03-15T07:00:00Z");
    assert_eq!(e["is_all_day"], true);
    let assign = |start: &str, end: &str| {
        json!({"contributor_id": who, "title": "Shoot", "event_type": "PROJECT_ASSIGNMENT",
               "project_id": project, "start": start, "end": end})
    };
    // 23:30 local that evening is still the day off...
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &assign("2027-03-14T23:00", "2027-03-14T23:30"),
        )
        .await;
    let p = assert_problem(r, 409).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("Mar 14, 2027 (all day): On leave (absence)"),
        "{p}"
    );
    // ...and midnight after it is free.
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &assign("2027-03-15T00:00", "2027-03-15T02:00"),
        )
        .await;
    assert_eq!(r.status(), 201);
    // A time the clocks skip is refused by its field (409: the shape is right, the calendar
    // refuses it); so is an end before the start.
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &assign("2027-03-14T02:30", "2027-03-14T04:00"),
        )
        .await;
    let p = assert_problem(r, 409).await;
    assert!(p["detail"].as_str().unwrap().starts_with("start:"), "{p}");
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &assign("2027-03-20T10:00", "2027-03-20T09:00"),
        )
        .await;
    let p = assert_problem(r, 409).await;
    assert!(p["detail"].as_str().unwrap().starts_with("end:"), "{p}");
}

#[tokio::test]
async fn moving_resizing_and_deleting_events_by_the_api() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let (_, email) = app.staff("Videographer").await;
    let who = id_of(&app, &email).await;
    let make = |start: &str, end: &str| {
        json!({"contributor_id": who, "title": "Leave", "event_type": "ABSENCE",
               "start": start, "end": end})
    };
    let a: Value = owner
        .post_json(
            "/api/v1/calendar/events",
            &make("2027-04-01T09:00", "2027-04-01T12:00"),
        )
        .await
        .json()
        .await
        .unwrap();
    let b: Value = owner
        .post_json(
            "/api/v1/calendar/events",
            &make("2027-04-01T13:00", "2027-04-01T15:00"),
        )
        .await
        .json()
        .await
        .unwrap();
    // Resizing a into b is refused naming b; moving it earlier is fine.
    let r = patch(
        &owner,
        &format!("/api/v1/calendar/events/{}", a["id"]),
        &json!({"start": "2027-04-01T09:00", "end": "2027-04-01T14:00"}),
    )
    .await;
    let p = assert_problem(r, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("13:00–15:00"), "{p}");
    let r = patch(
        &owner,
        &format!("/api/v1/calendar/events/{}", a["id"]),
        &json!({"start": "2027-04-01T08:00", "end": "2027-04-01T13:00"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["end_time"],
        "2027-04-01T20:00:00Z"
    );
    // Deleted: kept as cancelled, no longer in the way, gone from the list.
    let r = owner
        .delete(&format!("/api/v1/calendar/events/{}", b["id"]))
        .await;
    assert_eq!(r.status(), 204);
    let r = owner
        .delete(&format!("/api/v1/calendar/events/{}", b["id"]))
        .await;
    assert_problem(r, 409).await;
    let list: Vec<Value> = owner
        .get(&format!(
            "/api/v1/calendar/events?from=2027-04-01&to=2027-04-01&contributor_id={who}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &make("2027-04-01T13:00", "2027-04-01T15:00"),
        )
        .await;
    assert_eq!(r.status(), 201);
    // Bad input is a 4xx problem and changes nothing.
    let before = count(&app, "SELECT count(*) FROM calendar_events").await;
    for body in [
        json!({"contributor_id": 999999, "title": "x", "event_type": "ABSENCE",
               "start": "2027-04-02T09:00", "end": "2027-04-02T10:00"}),
        json!({"contributor_id": who, "title": " ", "event_type": "ABSENCE",
               "start": "2027-04-02T09:00", "end": "2027-04-02T10:00"}),
        json!({"contributor_id": who, "title": "x", "event_type": "EXTERNAL_SYNC",
               "start": "2027-04-02T09:00", "end": "2027-04-02T10:00"}),
        json!({"contributor_id": who, "title": "x", "event_type": "ABSENCE",
               "start": "0000-04-02T09:00", "end": "2027-04-02T10:00"}),
    ] {
        let r = owner.post_json("/api/v1/calendar/events", &body).await;
        assert!(r.status().is_client_error(), "{body}: {}", r.status());
    }
    let r = owner
        .get("/api/v1/calendar/events?from=2027-02-30&to=2027-12-31")
        .await;
    assert_eq!(assert_problem(r, 422).await["errors"][0]["field"], "from");
    // A year at once is fine (the list is paged); a range ending before it starts is empty.
    let r = owner
        .get("/api/v1/calendar/events?from=2027-01-01&to=2027-12-31")
        .await;
    assert_eq!(r.status(), 200);
    let r = owner
        .get("/api/v1/calendar/events?from=2027-04-02&to=2027-04-01")
        .await;
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 0);
    assert_eq!(
        count(&app, "SELECT count(*) FROM calendar_events").await,
        before
    );
}

#[tokio::test]
async fn a_weekly_day_off_keeps_its_local_day_across_dst_and_one_day_can_be_taken_out() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let (_, email) = app.staff("Editor").await;
    let who = id_of(&app, &email).await;
    // Every Friday from October 2, 2026 (the clocks go back on November 1).
    let r = owner
        .post_json(
            "/api/v1/calendar/recurrences",
            &json!({"contributor_id": who, "title": "Day off", "event_type": "ABSENCE",
                    "freq": "WEEKLY", "first_day": "2026-10-02", "until_day": "2026-11-27"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let rule: Value = r.json().await.unwrap();
    let days: Vec<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT start_time, end_time FROM calendar_events WHERE recurrence_id = $1 ORDER BY 1",
    )
    .bind(rule["id"].as_i64().unwrap() as i32)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(days.len(), 9);
    let tz = chrono_tz::America::Los_Angeles;
    for (s, e) in &days {
        let (ls, le) = (s.with_timezone(&tz), e.with_timezone(&tz));
        assert_eq!(ls.format("%a %H:%M").to_string(), "Fri 00:00");
        assert_eq!(le.format("%a %H:%M").to_string(), "Sat 00:00");
    }
    // Before the change the day starts at 07:00 UTC, after it at 08:00.
    assert_eq!(days[0].0.to_rfc3339(), "2026-10-02T07:00:00+00:00");
    assert_eq!(days[5].0.to_rfc3339(), "2026-11-06T08:00:00+00:00");
    // One Friday taken out: an exception of the rule, no longer blocking.
    let nov6: i32 = sqlx::query_scalar(
        "SELECT id FROM calendar_events WHERE recurrence_id = $1 AND start_time = '2026-11-06T08:00Z'",
    )
    .bind(rule["id"].as_i64().unwrap() as i32)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        owner
            .delete(&format!("/api/v1/calendar/events/{nov6}"))
            .await
            .status(),
        204
    );
    let exceptions: Vec<NaiveDate> =
        sqlx::query_scalar("SELECT exceptions FROM calendar_recurrences WHERE id = $1")
            .bind(rule["id"].as_i64().unwrap() as i32)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(exceptions, [NaiveDate::from_ymd_opt(2026, 11, 6).unwrap()]);
    let busy: Vec<Value> = owner
        .get(&format!(
            "/api/v1/availability?from=2026-11-06&to=2026-11-13&contributor_id={who}"
        ))
        .await
        .json()
        .await
        .unwrap();
    let free: Vec<&str> = busy[0]["free_days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(free.contains(&"2026-11-06"));
    assert!(!free.contains(&"2026-11-13"));
    // A rule that would land on an assignment is refused, naming it.
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &json!({"contributor_id": who, "title": "Shoot", "event_type": "ABSENCE",
                    "start": "2026-12-03T10:00", "end": "2026-12-03T12:00"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = owner
        .post_json(
            "/api/v1/calendar/recurrences",
            &json!({"contributor_id": who, "title": "Thursdays off", "event_type": "ABSENCE",
                    "freq": "WEEKLY", "first_day": "2026-11-05"}),
        )
        .await;
    let p = assert_problem(r, 409).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("Dec 3, 2026 10:00–12:00"),
        "{p}"
    );
}

#[tokio::test]
async fn crew_assignment_refuses_someone_on_leave_and_postponement_moves_the_crew() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let (project, wedding) = olivia(&app).await;
    let day: Value = owner
        .get(&format!("/api/v1/projects/{project}/shoot-day"))
        .await
        .json()
        .await
        .unwrap();
    let lines = day["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{day}");
    // The demo's crew: Maya on the ceremony, Sam on the reception, at the scenes' hours.
    assert_eq!(lines[0]["crew"][0]["name"], "Maya Chen");
    assert_eq!(lines[1]["crew"][0]["name"], "Sam Okafor");
    assert_eq!(lines[0]["start"], format!("{wedding}T10:00:00"));
    // Sam off the reception; a new second shooter on leave that day is refused with why.
    let sam_event = lines[1]["crew"][0]["event_id"].as_i64().unwrap();
    let r = owner
        .delete(&format!("/api/v1/projects/{project}/crew/{sam_event}"))
        .await;
    assert_eq!(r.status(), 204);
    let (_, email) = app.staff("Videographer").await;
    let who = id_of(&app, &email).await;
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &json!({"contributor_id": who, "title": "Family trip", "event_type": "ABSENCE",
                    "all_day": true, "start": wedding.to_string(), "end": wedding.to_string()}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let line = lines[1]["id"].as_i64().unwrap();
    let r = owner
        .post_json(
            &format!("/api/v1/projects/{project}/crew"),
            &json!({"coverage_assignment_id": line, "contributor_id": who}),
        )
        .await;
    let p = assert_problem(r, 409).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("Test Videographer is not available"),
        "{detail}"
    );
    assert!(detail.contains("Family trip (absence)"), "{detail}");
    // Sam again: fine.
    let sam = id_of(&app, "sam@goldenhour.example").await;
    let r = owner
        .post_json(
            &format!("/api/v1/projects/{project}/crew"),
            &json!({"coverage_assignment_id": line, "contributor_id": sam}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // A crew assignment changes on the shoot day, not alone; there its line's times move it.
    let sam_on: Value = r.json().await.unwrap();
    let path = format!("/api/v1/calendar/events/{}", sam_on["id"]);
    let r = patch(
        &owner,
        &path,
        &json!({"start": format!("{wedding}T08:00"), "end": format!("{wedding}T09:00")}),
    )
    .await;
    assert!(
        assert_problem(r, 409).await["detail"]
            .as_str()
            .unwrap()
            .contains("shoot day")
    );
    assert_problem(owner.delete(&path).await, 409).await;
    let r = owner
        .post_form(
            &format!("/projects/{project}/shoot-day/{line}/times"),
            &[("start", "12:00"), ("end", "18:00")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let moved: Value = owner.get(&path).await.json().await.unwrap();
    let la = chrono_tz::America::Los_Angeles;
    let start: DateTime<Utc> = moved["start_time"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        start.with_timezone(&la).format("%H:%M").to_string(),
        "12:00"
    );
    // A full line refuses a second person.
    let maya = id_of(&app, "maya@goldenhour.example").await;
    let r = owner
        .post_json(
            &format!("/api/v1/projects/{project}/crew"),
            &json!({"coverage_assignment_id": line, "contributor_id": maya}),
        )
        .await;
    assert_problem(r, 409).await;
    // The wedding moves a week later: the crew's events move with it, same local times.
    let before: Vec<(DateTime<Utc>,)> = sqlx::query_as(
        "SELECT start_time FROM calendar_events WHERE project_id = $1 AND cancelled_at IS NULL
         ORDER BY id",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let to = wedding + chrono::Duration::days(7);
    let r = owner
        .post_form(
            &format!("/projects/{project}/postpone"),
            &[("wedding_date", &to.to_string())],
        )
        .await;
    assert_eq!(r.status(), 303);
    let after: Vec<(DateTime<Utc>,)> = sqlx::query_as(
        "SELECT start_time FROM calendar_events WHERE project_id = $1 AND cancelled_at IS NULL
         ORDER BY id",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(before.len(), 2);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.0 - b.0, chrono::Duration::days(7));
    }
    // Moving it onto a crew member's absence is refused by the date field, naming why.
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &json!({"contributor_id": maya, "title": "Surgery", "event_type": "ABSENCE",
                    "all_day": true, "start": (to + chrono::Duration::days(7)).to_string(),
                    "end": (to + chrono::Duration::days(7)).to_string()}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = owner
        .post_form(
            &format!("/projects/{project}/postpone"),
            &[(
                "wedding_date",
                &(to + chrono::Duration::days(7)).to_string(),
            )],
        )
        .await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("Maya Chen is not available"), "{html}");
    assert!(html.contains("Surgery"));
    let wedding_now: NaiveDate =
        sqlx::query_scalar("SELECT wedding_date FROM projects WHERE id = $1")
            .bind(project)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(wedding_now, to);
}

#[tokio::test]
async fn availability_by_role_and_who_can_shoot_in_the_quote_builder() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let (_, wedding) = olivia(&app).await;
    let people: Vec<Value> = owner
        .get(&format!(
            "/api/v1/availability?from={wedding}&to={wedding}&role=Videographer"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["name"], "Sam Okafor");
    assert_eq!(people[0]["busy"][0]["event_type"], "PROJECT_ASSIGNMENT");
    assert_eq!(people[0]["free_days"].as_array().unwrap().len(), 0);
    // Ava's quote: her wedding date is free for both shooters, unless someone is away.
    let ava: (i32, NaiveDate) = sqlx::query_as(
        "SELECT b.id, i.wedding_date FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'ava.t@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let sam = id_of(&app, "sam@goldenhour.example").await;
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &json!({"contributor_id": sam, "title": "Another wedding", "event_type": "ABSENCE",
                    "all_day": true, "start": ava.1.to_string(), "end": ava.1.to_string()}),
        )
        .await;
    assert!(r.status() == 201 || r.status() == 409);
    let html = owner
        .get(&format!("/quotes/{}", ava.0))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"who-can-shoot\""), "{html}");
    assert!(html.contains("Maya Chen"));
    assert!(html.contains("1 of 2 free that day"), "{html}");
    assert!(html.contains("busy:") || html.contains("busy"));
    let r = owner
        .get("/calendar/availability?from=2027-02-30&to=2027-12-31")
        .await;
    assert_eq!(r.status(), 422);
    let year: Vec<Value> = owner
        .get("/api/v1/availability?from=2027-01-01&to=2027-12-31&role=Editor")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        year[0]["free_days"].as_array().unwrap().len(),
        62,
        "at most 62 days"
    );
    let r = owner
        .get(&format!(
            "/calendar/availability?from={wedding}&to={wedding}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Sam Okafor"));
}

#[tokio::test]
async fn the_week_and_month_views_show_every_type_and_change_events_in_place() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let sam = id_of(&app, "sam@goldenhour.example").await;
    let (_, wedding) = olivia(&app).await;
    let week = owner
        .get(&format!("/calendar?view=week&date={wedding}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(week.contains("class=\"chip ev-assignment\""), "{week}");
    assert!(week.contains("Sam Okafor"));
    assert!(week.contains("10:00–11:30"), "the ceremony, local time");
    let month = owner
        .get("/calendar?view=month&date=2026-10-20")
        .await
        .text()
        .await
        .unwrap();
    assert!(month.contains("October 2026"));
    assert!(month.contains("ev-absence") && month.contains("Day off"));
    let filtered = owner
        .get("/calendar?view=week&date=2026-10-20&role=Editor")
        .await
        .text()
        .await
        .unwrap();
    assert!(filtered.contains("Leo Martins") && !filtered.contains("data-person-row=\"1\""));
    // Add by the form through htmx: a refusal comes back by its field, 422, nothing stored.
    let before = count(&app, "SELECT count(*) FROM calendar_events").await;
    let r = owner
        .client
        .post(owner.url("/calendar/events"))
        .header("hx-request", "true")
        .header("x-csrf-token", &owner.csrf)
        .form(&[
            ("contributor_id", sam.to_string().as_str()),
            ("event_type", "PERSONAL"),
            ("title", ""),
            ("start_date", "2026-10-22"),
            ("start_time", "09:00"),
            ("end_date", "2026-10-22"),
            ("end_time", "10:00"),
            ("view", "week"),
            ("date", "2026-10-22"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"error-title\""));
    assert_eq!(
        count(&app, "SELECT count(*) FROM calendar_events").await,
        before
    );
    let r = owner
        .client
        .post(owner.url("/calendar/events"))
        .header("hx-request", "true")
        .header("x-csrf-token", &owner.csrf)
        .form(&[
            ("contributor_id", sam.to_string().as_str()),
            ("event_type", "PERSONAL"),
            ("title", "Gear check"),
            ("start_date", "2026-10-22"),
            ("start_time", "09:00"),
            ("end_date", "2026-10-22"),
            ("end_time", "10:00"),
            ("view", "week"),
            ("date", "2026-10-22"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Gear check added for Sam Okafor."), "{html}");
    let id: i32 = sqlx::query_scalar("SELECT id FROM calendar_events WHERE title = 'Gear check'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    // The keyboard's nudges (the same requests as the buttons): a day later, then longer.
    for by in ["day+1", "longer", "days:-2"] {
        let r = owner
            .client
            .post(owner.url(&format!("/calendar/events/{id}/nudge")))
            .header("hx-request", "true")
            .header("x-csrf-token", &owner.csrf)
            .form(&[("by", by), ("view", "week"), ("date", "2026-10-22")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{by}");
    }
    let (s, e): (DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as("SELECT start_time, end_time FROM calendar_events WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(s.to_rfc3339(), "2026-10-21T16:00:00+00:00");
    assert_eq!(e - s, chrono::Duration::minutes(90));
    // Delete from the panel.
    let r = owner
        .post_form(
            &format!("/calendar/events/{id}/delete"),
            &[("view", "week")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM calendar_events WHERE id = {id} AND cancelled_at IS NOT NULL"
            )
        )
        .await,
        1
    );
    // The shoot day page lists the crew and the picker says who is busy.
    let (project, _) = olivia(&app).await;
    let page = owner
        .get(&format!("/projects/{project}/shoot-day"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Ceremony · Lead Videographer"), "{page}");
    assert!(page.contains("Maya Chen"));
}

/// The feed's events, parsed by the `ical` crate: (summary, properties as "NAME;params:value").
fn parse_ics(text: &str) -> Vec<(String, Vec<String>)> {
    let reader = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let mut out = vec![];
    for cal in reader {
        let cal = cal.expect("a valid iCalendar");
        for e in cal.events {
            let mut summary = String::new();
            let props = e
                .properties
                .iter()
                .map(|p| {
                    if p.name == "SUMMARY" {
                        summary = p.value.clone().unwrap_or_default();
                    }
                    let params = p
                        .params
                        .as_ref()
                        .map(|ps| {
                            ps.iter()
                                .map(|(k, v)| format!(";{k}={}", v.join(",")))
                                .collect::<String>()
                        })
                        .unwrap_or_default();
                    format!("{}{params}:{}", p.name, p.value.clone().unwrap_or_default())
                })
                .collect();
            out.push((summary, props));
        }
    }
    out
}

#[tokio::test]
async fn ics_feeds_parse_back_with_dates_times_rules_and_cancellations_and_can_be_revoked() {
    let app = TestApp::demo_at(clock()).await;
    let sam_session = app.demo_login("Videographer").await;
    let owner = app.demo_login("Owner").await;
    let sam = id_of(&app, "sam@goldenhour.example").await;
    // Something deleted, with text that needs escaping.
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &json!({"contributor_id": sam, "title": "Call; notes, etc", "event_type": "PERSONAL",
                    "start": "2026-10-27T09:00", "end": "2026-10-27T10:00"}),
        )
        .await;
    let gone: Value = r.json().await.unwrap();
    owner
        .delete(&format!("/api/v1/calendar/events/{}", gone["id"]))
        .await;
    let html = sam_session
        .post_form("/calendar/feeds", &[])
        .await
        .text()
        .await
        .unwrap();
    let url = html
        .split("readonly value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the new feed URL")
        .to_string();
    let path = &url[url.find("/calendar/feed/").expect(&url)..];
    // Public: no session needed.
    let r = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("\r\n"));
    let events = parse_ics(&text);
    let find = |s: &str| {
        events
            .iter()
            .find(|e| e.0.starts_with(s))
            .unwrap_or_else(|| panic!("{s} in {text}"))
    };
    // Timed (an assignment): UTC.
    let shoot = events
        .iter()
        .find(|e| e.1.iter().any(|p| p == "CATEGORIES:PROJECT_ASSIGNMENT"))
        .expect("an assignment");
    assert!(
        shoot
            .1
            .iter()
            .any(|p| p.starts_with("DTSTART:") && p.ends_with('Z')),
        "{shoot:?}"
    );
    // The weekly day off: an all-day RRULE.
    let off = find("Day off");
    assert!(
        off.1.iter().any(|p| p.starts_with("DTSTART;VALUE=DATE:")),
        "{off:?}"
    );
    assert!(off.1.iter().any(|p| p == "RRULE:FREQ=WEEKLY"), "{off:?}");
    // The shoot day: all-day, the wedding's local date.
    let (_, wedding) = olivia(&app).await;
    let start = format!("DTSTART;VALUE=DATE:{}", wedding.format("%Y%m%d"));
    let day = events
        .iter()
        .find(|e| e.0.starts_with("Shoot day:") && e.1.contains(&start));
    assert!(day.is_some(), "{start} on a shoot day in {text}");
    // The deleted one: cancelled, its text escaped (the parser keeps TEXT as written).
    let cancelled = find("Call");
    assert_eq!(cancelled.0, r"Call\; notes\, etc", "{cancelled:?}");
    assert!(cancelled.1.iter().any(|p| p == "STATUS:CANCELLED"));
    // Taking out one day off shows as an EXDATE.
    let off_day: i32 = sqlx::query_scalar(
        "SELECT id FROM calendar_events WHERE recurrence_id IS NOT NULL AND contributor_id = $1
         ORDER BY start_time DESC LIMIT 1",
    )
    .bind(sam)
    .fetch_one(&app.db)
    .await
    .unwrap();
    owner
        .delete(&format!("/api/v1/calendar/events/{off_day}"))
        .await;
    let text = reqwest::get(app.url(path))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = parse_ics(&text);
    let off = events.iter().find(|e| e.0 == "Day off").unwrap();
    assert!(
        off.1.iter().any(|p| p.starts_with("EXDATE;VALUE=DATE:")),
        "{off:?}"
    );
    // The studio-wide feed is the Owner's: everyone, named.
    let html = owner
        .post_form("/calendar/feeds", &[("studio", "1")])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"feed-url\""));
    let r = sam_session
        .post_form("/calendar/feeds", &[("studio", "1")])
        .await;
    assert_eq!(r.status(), 403);
    // Revoked: the URL is gone.
    let r = sam_session.post_form("/calendar/feeds/revoke", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(reqwest::get(app.url(path)).await.unwrap().status(), 404);
    assert_eq!(
        reqwest::get(app.url("/calendar/feed/nope.ics"))
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn the_nightly_step_stores_recurring_days_up_to_the_horizon_once_and_yields_to_assignments() {
    let app = TestApp::demo_at(clock()).await;
    let sam = id_of(&app, "sam@goldenhour.example").await;
    let (project, _) = olivia(&app).await;
    let last: DateTime<Utc> = sqlx::query_scalar(
        "SELECT max(start_time) FROM calendar_events
         WHERE contributor_id = $1 AND recurrence_id IS NOT NULL",
    )
    .bind(sam)
    .fetch_one(&app.db)
    .await
    .unwrap();
    // Five weeks on, Sam's day off is taken by a shoot booked before the rule reached it.
    let taken = last + chrono::Duration::weeks(5);
    sqlx::query(
        "INSERT INTO calendar_events (contributor_id, project_id, title, start_time, end_time,
                                      event_type)
         VALUES ($1, $2, 'Shoot', $3, $3 + interval '4 hours', 'PROJECT_ASSIGNMENT')",
    )
    .bind(sam)
    .bind(project)
    .bind(taken + chrono::Duration::hours(10))
    .execute(&app.db)
    .await
    .unwrap();
    let later = Clock::Fixed(clock().now() + chrono::Duration::days(60));
    let mut conn = app.db.acquire().await.unwrap();
    let added = projectflo::calendar::recurrences::extend_all(&mut conn, &later)
        .await
        .unwrap();
    // About 60 days of weekly days off, less the one taken (and maybe a yearly holiday).
    assert!((7..=10).contains(&added), "{added}");
    assert_eq!(
        projectflo::calendar::recurrences::extend_all(&mut conn, &later)
            .await
            .unwrap(),
        0,
        "twice stores nothing twice"
    );
    let on_taken: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM calendar_events WHERE contributor_id = $1 AND recurrence_id IS NOT NULL
           AND start_time = $2",
    )
    .bind(sam)
    .bind(taken)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(on_taken, 0);
}

#[tokio::test]
async fn the_event_list_walks_page_by_page_each_event_once_even_at_the_same_instant() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("walk").await;
    let (_, email) = app.staff("Editor").await;
    let who = id_of(&app, &email).await;
    // 130 personal events, many starting at the very same instant.
    sqlx::query(
        "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, event_type)
         SELECT $1, 'Walk ' || n, timestamptz '2027-05-03T16:00Z' + (n % 4) * interval '1 hour',
                timestamptz '2027-05-03T16:00Z' + (n % 4 + 1) * interval '1 hour', 'PERSONAL'
         FROM generate_series(1, 130) n",
    )
    .bind(who)
    .execute(&app.db)
    .await
    .unwrap();
    let all: Vec<i64> =
        sqlx::query_scalar("SELECT id::bigint FROM calendar_events WHERE contributor_id = $1")
            .bind(who)
            .fetch_all(&app.db)
            .await
            .unwrap();
    let (rows, pages) = owner
        .walk_api(
            &token,
            &format!("/api/v1/calendar/events?from=2027-05-01&to=2027-05-31&contributor_id={who}"),
        )
        .await;
    assert_eq!(pages, 3);
    let seen: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    crate::helpers::assert_each_once(seen, all, "events");
    let r = owner.get("/api/v1/calendar/events?after=nope").await;
    assert_problem(r, 422).await;
}

#[tokio::test]
async fn crew_skills_say_who_can_shoot() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let (maya, sam, leo) = (
        id_of(&app, "maya@goldenhour.example").await,
        id_of(&app, "sam@goldenhour.example").await,
        id_of(&app, "leo@goldenhour.example").await,
    );
    let ty = |name: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i32>("SELECT id FROM operator_types WHERE name = $1")
                .bind(name)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let (lead, second) = (ty("Lead Videographer").await, ty("Second Shooter").await);
    let page = owner
        .get("/calendar/crew-skills")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("value=\"{sam}:{second}\" id=\"can-{sam}-{second}\" aria-label=\"Sam Okafor: Second Shooter\" checked")), "{page}");
    let r = owner
        .post_form(
            "/calendar/crew-skills",
            &[
                ("can", &format!("{maya}:{lead}")),
                ("can", &format!("{leo}:{second}")),
                ("can", "junk"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let ava: i32 = sqlx::query_scalar(
        "SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = 'ava.t@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let html = owner
        .get(&format!("/quotes/{ava}"))
        .await
        .text()
        .await
        .unwrap();
    let box_ = html
        .split("id=\"shooters\"")
        .nth(1)
        .unwrap()
        .split("</ul>")
        .next()
        .unwrap();
    assert!(
        box_.contains("Leo Martins") && box_.contains("Maya Chen"),
        "{box_}"
    );
    assert!(!box_.contains("Sam Okafor"), "{box_}");
    let editor = app.demo_login("Editor").await;
    let r = editor.post_form("/calendar/crew-skills", &[]).await;
    assert_eq!(r.status(), 403);
}
