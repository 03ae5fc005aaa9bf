//! The shoot day over the API (a coverage line's start and end read and set, problem+json by
//! field on bad input) and the crew hearing of their shoots in their inbox: put on a line,
//! their line's times changed, the wedding moved, taken off (not when they did it themselves).
use crate::helpers::{TestApp, assert_problem};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use projectflo::clock::Clock;
use serde_json::{Value, json};

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

async fn told(app: &TestApp, who: i32) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT message, link_url FROM notifications WHERE recipient_contributor_id = $1
         ORDER BY id",
    )
    .bind(who)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

fn field(p: &Value) -> &str {
    p["errors"][0]["field"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn line_times_are_read_and_set_through_the_api_and_the_crew_hear_of_it() {
    let app = TestApp::demo_at(clock()).await;
    let owner = app.demo_login("Owner").await;
    let (project, wedding): (i32, NaiveDate) = sqlx::query_as(
        "SELECT p.id, p.wedding_date FROM projects p JOIN builds b ON b.project_id = p.id
         JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'olivia.nguyen@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let (sam, maya) = (
        id_of(&app, "sam@goldenhour.example").await,
        id_of(&app, "maya@goldenhour.example").await,
    );
    let shoot_link = format!("/projects/{project}/shoot-day");
    // The demo put Sam on the reception (Maya did): Sam was told; Maya, on the ceremony by
    // her own hand, was not.
    let sams = told(&app, sam).await;
    assert!(
        sams.iter()
            .any(|t| t.0.starts_with("You're on the crew: ") && t.1 == shoot_link),
        "{sams:?}"
    );
    assert!(!told(&app, maya).await.iter().any(|t| t.0.contains("crew")));

    // Read: each line's start and end (local wall times).
    let day: Value = owner
        .get(&format!("/api/v1/projects/{project}/shoot-day"))
        .await
        .json()
        .await
        .unwrap();
    let line = day["lines"][1]["id"].as_i64().unwrap();
    assert!(
        day["lines"][1]["start"]
            .as_str()
            .unwrap()
            .starts_with(&wedding.to_string())
    );
    let path = format!("/api/v1/projects/{project}/shoot-day/lines/{line}");
    // Set: the line and Sam's assignment move; Sam is told.
    let before = told(&app, sam).await.len();
    let r = owner
        .put_json(
            &path,
            &json!({"start": format!("{wedding}T15:00"), "end": format!("{wedding}T19:30")}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let l: Value = r.json().await.unwrap();
    assert_eq!(l["start"], format!("{wedding}T15:00:00"));
    assert_eq!(l["end"], format!("{wedding}T19:30:00"));
    assert_eq!(l["scheduled"], true);
    let day: Value = owner
        .get(&format!("/api/v1/projects/{project}/shoot-day"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(day["lines"][1]["end"], format!("{wedding}T19:30:00"));
    let sam_event = day["lines"][1]["crew"][0]["event_id"].as_i64().unwrap();
    let e: Value = owner
        .get(&format!("/api/v1/calendar/events/{sam_event}"))
        .await
        .json()
        .await
        .unwrap();
    let start: chrono::DateTime<Utc> = e["start_time"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        start
            .with_timezone(&chrono_tz::America::Los_Angeles)
            .format("%H:%M")
            .to_string(),
        "15:00"
    );
    let sams = told(&app, sam).await;
    assert_eq!(sams.len(), before + 1);
    let last = &sams.last().unwrap().0;
    assert!(
        last.starts_with("Your shoot moved: ") && last.contains("15:00–19:30"),
        "{last}"
    );
    // The same times again: nothing to tell.
    owner
        .put_json(
            &path,
            &json!({"start": format!("{wedding}T15:00"), "end": format!("{wedding}T19:30")}),
        )
        .await;
    assert_eq!(told(&app, sam).await.len(), before + 1);

    // Bad input: problem+json naming the field.
    let cases = [
        // (start, end, status, field)
        (
            format!("{wedding}T15:00"),
            format!("{wedding}T14:00"),
            409,
            "end",
        ),
        (
            format!("{wedding}T15:00"),
            format!("{wedding}T15:00"),
            409,
            "end",
        ),
        (
            format!("{wedding}T15:00"),
            format!("{}T16:00", wedding + Duration::days(1)),
            409,
            "end",
        ),
        (
            format!("{}T15:00", wedding + Duration::days(5)),
            format!("{}T16:00", wedding + Duration::days(5)),
            409,
            "start",
        ),
        ("15:00".to_string(), "18:00".to_string(), 422, "start"),
        (
            format!("{wedding}T15:00"),
            "tomorrow".to_string(),
            422,
            "end",
        ),
        (
            format!("{wedding}T15:00"),
            format!("{wedding}T25:00"),
            409,
            "end",
        ),
    ];
    for (s, e, status, f) in cases {
        let r = owner.put_json(&path, &json!({"start": s, "end": e})).await;
        let p = assert_problem(r, status).await;
        assert_eq!(field(&p), f, "{s} {e}: {p}");
    }
    let r = owner.put_json(&path, &json!({"start": 1})).await;
    assert_problem(r, 422).await;
    let r = owner
        .put_json(
            &format!("/api/v1/projects/{project}/shoot-day/lines/999999"),
            &json!({"start": format!("{wedding}T15:00"), "end": format!("{wedding}T16:00")}),
        )
        .await;
    assert_problem(r, 404).await;
    // Only those who manage bookings set times.
    let editor = app.demo_login("Editor").await;
    let r = editor
        .put_json(
            &path,
            &json!({"start": format!("{wedding}T15:00"), "end": format!("{wedding}T16:00")}),
        )
        .await;
    assert_eq!(r.status(), 403);

    // Taken off: told; put back on: told; the Owner putting herself on: not told.
    let r = owner
        .delete(&format!("/api/v1/projects/{project}/crew/{sam_event}"))
        .await;
    assert_eq!(r.status(), 204);
    assert!(
        told(&app, sam)
            .await
            .last()
            .unwrap()
            .0
            .starts_with("You're off the crew: ")
    );
    let r = owner
        .post_json(
            &format!("/api/v1/projects/{project}/crew"),
            &json!({"coverage_assignment_id": line, "contributor_id": sam}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert!(
        told(&app, sam)
            .await
            .last()
            .unwrap()
            .0
            .starts_with("You're on the crew: ")
    );

    // The wedding moves a week: the crew are told their new times.
    let to = wedding + Duration::days(7);
    let r = owner
        .post_form(
            &format!("/projects/{project}/postpone"),
            &[("wedding_date", &to.to_string())],
        )
        .await;
    assert_eq!(r.status(), 303);
    let last = told(&app, sam).await.last().unwrap().0.clone();
    assert!(last.starts_with("The wedding moved: "), "{last}");
    assert!(
        last.contains(&to.format("%b %-d, %Y").to_string()),
        "{last}"
    );
    // Sam reads it in the inbox.
    let sam_session = app.demo_login("Videographer").await;
    let inbox = sam_session.get("/inbox").await.text().await.unwrap();
    assert!(inbox.contains("The wedding moved"), "{inbox}");
    assert_eq!(told(&app, sam).await.last().unwrap().1, shoot_link);
}
