//! Google Calendar two-way sync against a local fake of Google's OAuth and Calendar v3 APIs
//! (`google_fake`): the connect round trip over HTTP (state checked, the refresh token sealed
//! in the database), our events pushed to the "ProjectFlo" calendar and kept in step, busy
//! times pulled (incrementally, paged) that refuse an assignment naming them, edits and
//! deletions on their side followed, an expired access token refreshed, a 410 on the sync
//! token listing the calendar whole, 429s retried, errors shown to the person and the Owner,
//! and two runners at once running once.
use crate::google_fake::{ACCOUNT, FAMILY, FakeGoogle};
use crate::helpers::{Session, TestApp, assert_problem};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use projectflo::calendar::google::sync::{self, Outcome};
use projectflo::clock::Clock;
use projectflo::config::Settings;
use serde_json::{Value, json};

/// The demo on 2026-10-20 11:00 in Los Angeles (as the calendar tests).
fn clock() -> Clock {
    Clock::Fixed(Utc.with_ymd_and_hms(2026, 10, 20, 18, 0, 0).unwrap())
}

struct Google {
    app: TestApp,
    fake: FakeGoogle,
    settings: Settings,
    sam: i32,
}

async fn setup() -> Google {
    let fake = FakeGoogle::start().await;
    let app = TestApp::demo_at_with(clock(), |s| fake.configure(s)).await;
    let mut settings = Settings::defaults();
    fake.configure(&mut settings);
    settings.public_url = Some(app.url(""));
    let sam = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = 'sam@goldenhour.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    Google {
        app,
        fake,
        settings,
        sam,
    }
}

impl Google {
    async fn run(&self) -> Outcome {
        sync::run(&self.app.db, &self.settings, &clock(), None)
            .await
            .unwrap()
    }

    /// A run that went well for everyone.
    async fn sync(&self) {
        match self.run().await {
            Outcome::Ran(people) => {
                for p in people {
                    assert_eq!(p.error, None, "{p:?}");
                }
            }
            o => panic!("{o:?}"),
        }
    }

    async fn status(&self) -> (String, Option<String>) {
        sqlx::query_as(
            "SELECT sync_status::text, last_error FROM calendar_sync_tokens
             WHERE contributor_id = $1",
        )
        .bind(self.sam)
        .fetch_one(&self.app.db)
        .await
        .unwrap()
    }

    /// Sam's busy times pulled from Google: (external id, start).
    async fn busy(&self) -> Vec<(String, chrono::DateTime<Utc>)> {
        sqlx::query_as(
            "SELECT external_event_id, start_time FROM calendar_events
             WHERE contributor_id = $1 AND event_type = 'EXTERNAL_SYNC' ORDER BY 1",
        )
        .bind(self.sam)
        .fetch_all(&self.app.db)
        .await
        .unwrap()
    }

    fn ours(&self) -> String {
        self.fake
            .calendar_named("ProjectFlo")
            .expect("our calendar")
    }

    /// The pushed event of one of ours, in Google.
    fn pushed(&self, event: i64) -> Option<Value> {
        self.fake
            .events(&self.ours())
            .into_iter()
            .find(|e| e["id"] == format!("projectflo{event}"))
    }
}

/// The consent round trip as a browser makes it: our connect form, Google's consent page
/// (which sends the browser back at once), our callback. Returns the callback's address.
async fn connect(g: &Google, s: &Session) -> String {
    let r = s.post_form("/calendar/google/connect", &[]).await;
    assert_eq!(r.status(), 303);
    let consent = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        consent.starts_with(&format!("{}/o/oauth2/v2/auth?", g.fake.base)),
        "{consent}"
    );
    for part in [
        "access_type=offline",
        "response_type=code",
        "state=",
        "prompt=consent",
    ] {
        assert!(consent.contains(part), "{consent}");
    }
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = browser.get(&consent).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with(&g.app.url("/calendar/google/callback?")),
        "{back}"
    );
    let r = s.client.get(&back).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], "/calendar/google?done=connected");
    back
}

#[tokio::test]
async fn connecting_keeps_the_tokens_sealed_checks_the_state_and_disconnect_forgets_them() {
    let g = setup().await;
    let sam = g.app.demo_login("Videographer").await;
    let html = sam.get("/calendar/google").await.text().await.unwrap();
    assert!(html.contains("Connect Google Calendar"), "{html}");
    let back = connect(&g, &sam).await;
    let html = sam
        .get("/calendar/google?done=connected")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Google Calendar connected"), "{html}");
    assert!(html.contains("id=\"sync-status\""), "{html}");

    // The tokens are in the database only sealed: no byte of the row spells them.
    let refresh = g.fake.refresh_tokens();
    assert_eq!(refresh.len(), 1);
    let row: String = sqlx::query_scalar(
        "SELECT row_to_json(t)::text FROM calendar_sync_tokens t WHERE contributor_id = $1",
    )
    .bind(g.sam)
    .fetch_one(&g.app.db)
    .await
    .unwrap();
    assert!(!row.contains(&refresh[0]), "{row}");
    assert!(
        !row.contains("fake-refresh") && !row.contains("ya29."),
        "{row}"
    );
    let sealed: String = sqlx::query_scalar(
        "SELECT refresh_token FROM calendar_sync_tokens WHERE contributor_id = $1",
    )
    .bind(g.sam)
    .fetch_one(&g.app.db)
    .await
    .unwrap();
    assert!(sealed.starts_with("gcm1:"), "{sealed}");
    let key = g.settings.google_token_key.clone().unwrap();
    let context = format!("calendar_sync_tokens:{}:refresh", g.sam);
    assert_eq!(
        projectflo::crypto::open(&key, &context, &sealed).unwrap(),
        refresh[0]
    );
    // Nor in the audit log.
    let audit: String = sqlx::query_scalar(
        "SELECT COALESCE(string_agg(row_to_json(a)::text, ''), '') FROM audit_log a",
    )
    .fetch_one(&g.app.db)
    .await
    .unwrap();
    assert!(!audit.contains("fake-refresh") && !audit.contains("ya29."));

    // The same answer from Google twice: the state is used up.
    let r = sam.client.get(&back).send().await.unwrap();
    assert_eq!(r.status(), 409);
    // A state made for Sam does not connect the Owner (a forged return).
    let r = sam.post_form("/calendar/google/connect", &[]).await;
    let consent = r.headers()["location"].to_str().unwrap().to_string();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = browser.get(&consent).send().await.unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_string();
    let owner = g.app.demo_login("Owner").await;
    let r = owner.client.get(&back).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("start again"), "{html}");
    let owners: i64 = sqlx::query_scalar("SELECT count(*) FROM calendar_sync_tokens")
        .fetch_one(&g.app.db)
        .await
        .unwrap();
    assert_eq!(owners, 1);
    // Refusing consent on Google's side connects nothing and says so.
    let r = sam.post_form("/calendar/google/connect", &[]).await;
    let consent = r.headers()["location"].to_str().unwrap().to_string();
    let state = url::Url::parse(&consent)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let r = sam
        .get(&format!(
            "/calendar/google/callback?error=access_denied&state={state}"
        ))
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("You did not allow"));

    // The Owner's page lists every person's sync state.
    let html = owner
        .get("/calendar/google/team")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sam Okafor"), "{html}");
    assert!(html.contains("Active"), "{html}");
    assert!(html.contains("Not connected"), "{html}");
    assert!(!html.contains("fake-refresh"));
    // Others may not read it.
    assert_eq!(sam.get("/calendar/google/team").await.status(), 403);

    // Disconnect: the grant revoked at Google, the connection and its busy times forgotten.
    g.sync().await;
    g.fake.busy(
        ACCOUNT,
        "lunch1",
        "2026-10-22T12:00:00-07:00",
        "2026-10-22T13:00:00-07:00",
    );
    g.sync().await;
    assert_eq!(g.busy().await.len(), 1);
    let r = sam.post_form("/calendar/google/disconnect", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(g.fake.revoked(), refresh);
    assert!(g.busy().await.is_empty());
    let html = sam.get("/calendar/google").await.text().await.unwrap();
    assert!(html.contains("Connect Google Calendar"));
}

#[tokio::test]
async fn our_events_are_pushed_and_kept_in_step_and_busy_times_come_back_and_block() {
    let g = setup().await;
    let sam = g.app.demo_login("Videographer").await;
    connect(&g, &sam).await;
    g.sync().await;
    // The "ProjectFlo" calendar holds each of Sam's events of the window, with our id.
    let mine: Vec<(i32, String)> = sqlx::query_as(
        "SELECT id, title FROM calendar_events WHERE contributor_id = $1
           AND cancelled_at IS NULL AND event_type <> 'EXTERNAL_SYNC'
           AND end_time > $2 AND start_time < $3 ORDER BY id",
    )
    .bind(g.sam)
    .bind(clock().now() - Duration::days(31))
    .bind(clock().now() + Duration::days(400))
    .fetch_all(&g.app.db)
    .await
    .unwrap();
    assert!(mine.len() > 5, "{mine:?}");
    assert_eq!(g.fake.events(&g.ours()).len(), mine.len());
    for (id, title) in &mine {
        let e = g.pushed(*id as i64).expect("pushed");
        assert_eq!(e["summary"], title.as_str());
    }
    // The weekly day off is pushed as all-day dates; the reception with times in the zone.
    let reception = mine.iter().find(|m| m.1.contains("Reception")).unwrap().0;
    let e = g.pushed(reception as i64).unwrap();
    assert_eq!(e["start"]["timeZone"], "America/Los_Angeles");
    assert!(e["start"]["dateTime"].as_str().unwrap().ends_with('Z'));
    let day_off = sqlx::query_scalar::<_, i32>(
        "SELECT id FROM calendar_events WHERE contributor_id = $1 AND recurrence_id IS NOT NULL
           AND start_time > $2 ORDER BY start_time LIMIT 1",
    )
    .bind(g.sam)
    .bind(clock().now())
    .fetch_one(&g.app.db)
    .await
    .unwrap();
    let e = g.pushed(day_off as i64).unwrap();
    assert!(
        e["start"]["date"].is_string() && e["end"]["date"].is_string(),
        "{e}"
    );
    let (s, t) = (
        e["start"]["date"]
            .as_str()
            .unwrap()
            .parse::<NaiveDate>()
            .unwrap(),
        e["end"]["date"]
            .as_str()
            .unwrap()
            .parse::<NaiveDate>()
            .unwrap(),
    );
    assert_eq!(
        t - s,
        Duration::days(1),
        "Google's end date is the day after"
    );

    // Ours change: a new absence is inserted, a moved one patched, a deleted one deleted.
    let owner = g.app.demo_login("Owner").await;
    let r = owner
        .post_json(
            "/api/v1/calendar/events",
            &json!({"contributor_id": g.sam, "title": "Camera service", "event_type": "PERSONAL",
                    "start": "2026-10-27T09:00", "end": "2026-10-27T11:00"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let added: Value = r.json().await.unwrap();
    let added_id = added["id"].as_i64().unwrap();
    let inserts = g.fake.count("POST", "/events");
    g.sync().await;
    assert_eq!(
        g.fake.count("POST", "/events"),
        inserts + 1,
        "only the new one"
    );
    assert_eq!(g.pushed(added_id).unwrap()["summary"], "Camera service");
    let r = owner
        .client
        .patch(owner.url(&format!("/api/v1/calendar/events/{added_id}")))
        .header("x-csrf-token", &owner.csrf)
        .json(&json!({"start": "2026-10-28T14:00", "end": "2026-10-28T16:30"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    g.sync().await;
    let e = g.pushed(added_id).unwrap();
    assert_eq!(e["start"]["dateTime"], "2026-10-28T21:00:00Z");
    assert_eq!(e["end"]["dateTime"], "2026-10-28T23:30:00Z");
    assert_eq!(g.fake.count("PATCH", &format!("/projectflo{added_id}")), 1);
    let r = owner
        .delete(&format!("/api/v1/calendar/events/{added_id}"))
        .await;
    assert_eq!(r.status(), 204);
    g.sync().await;
    assert!(g.pushed(added_id).is_none(), "deleted in Google too");
    assert_eq!(g.fake.count("DELETE", &format!("/projectflo{added_id}")), 1);
    // Nothing changed: nothing is sent.
    let before = g.fake.seen().len();
    g.sync().await;
    let writes = g.fake.seen()[before..]
        .iter()
        .filter(|s| s.method != "GET")
        .count();
    assert_eq!(writes, 0);

    // Their busy time, pulled from the primary calendar (not from Family, not chosen).
    let (project, wedding): (i32, NaiveDate) = sqlx::query_as(
        "SELECT p.id, p.wedding_date FROM projects p JOIN builds b ON b.project_id = p.id
         JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE c.email = 'olivia.nguyen@example.com'",
    )
    .fetch_one(&g.app.db)
    .await
    .unwrap();
    let day: Value = owner
        .get(&format!("/api/v1/projects/{project}/shoot-day"))
        .await
        .json()
        .await
        .unwrap();
    let line = &day["lines"][1];
    let (start, end) = (
        line["start"].as_str().unwrap().to_string(),
        line["end"].as_str().unwrap().to_string(),
    );
    let sam_on = line["crew"][0]["event_id"].as_i64().unwrap();
    let r = owner
        .delete(&format!("/api/v1/projects/{project}/crew/{sam_on}"))
        .await;
    assert_eq!(r.status(), 204);
    // Wall times of the wedding day (after the clocks went back: -08:00).
    g.fake.busy(
        ACCOUNT,
        "bday1",
        &format!("{start}-08:00"),
        &format!("{end}-08:00"),
    );
    g.fake.busy(
        FAMILY,
        "fam1",
        &format!("{wedding}T08:00:00-08:00"),
        &format!("{wedding}T09:00:00-08:00"),
    );
    for i in 0..4 {
        // More than a page (the fake's pages hold two).
        g.fake.busy(
            ACCOUNT,
            &format!("gym{i}"),
            &format!("2026-11-0{}T07:00:00-08:00", i + 3),
            &format!("2026-11-0{}T08:00:00-08:00", i + 3),
        );
    }
    g.sync().await;
    let busy = g.busy().await;
    assert_eq!(busy.len(), 5, "{busy:?}");
    assert!(busy.iter().all(|b| b.0 != "fam1"), "Family is not chosen");
    assert!(
        g.fake
            .seen()
            .iter()
            .any(|s| s.path.ends_with("/events") && s.query.contains_key("pageToken")),
        "paged"
    );
    let title: String =
        sqlx::query_scalar("SELECT title FROM calendar_events WHERE external_event_id = 'bday1'")
            .fetch_one(&g.app.db)
            .await
            .unwrap();
    assert_eq!(title, "Busy (Google Calendar)", "their titles stay private");
    // Assigning Sam over it is refused, naming it.
    let assign = json!({"coverage_assignment_id": line["id"], "contributor_id": g.sam});
    let r = owner
        .post_json(&format!("/api/v1/projects/{project}/crew"), &assign)
        .await;
    let p = assert_problem(r, 409).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("Sam Okafor is not available"), "{detail}");
    assert!(detail.contains("Busy (Google Calendar)"), "{detail}");
    // The availability answer says so too.
    let free: Value = owner
        .get(&format!(
            "/api/v1/availability?from={wedding}&to={wedding}&contributor_id={}",
            g.sam
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        free.to_string().contains("Busy (Google Calendar)"),
        "{free}"
    );

    // They move it in Google to the evening before: followed (incrementally); Sam can shoot.
    let lists = g.fake.count("GET", &format!("/calendars/{ACCOUNT}/events"));
    let eve = wedding - Duration::days(1);
    g.fake.busy(
        ACCOUNT,
        "bday1",
        &format!("{eve}T18:00:00-08:00"),
        &format!("{eve}T20:00:00-08:00"),
    );
    g.sync().await;
    let incremental = g
        .fake
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with(&format!("{ACCOUNT}/events")))
        .skip(lists)
        .collect::<Vec<_>>();
    assert!(
        !incremental.is_empty()
            && incremental
                .iter()
                .all(|s| s.query.contains_key("syncToken"))
    );
    let moved = g.busy().await.into_iter().find(|b| b.0 == "bday1").unwrap();
    let expected = chrono::DateTime::parse_from_rfc3339(&format!("{eve}T18:00:00-08:00"))
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(moved.1, expected);
    let r = owner
        .post_json(&format!("/api/v1/projects/{project}/crew"), &assign)
        .await;
    assert_eq!(r.status(), 201);
    // They delete one in Google: it goes here too. They choose Family as well: it comes in.
    g.fake.remove_event(ACCOUNT, "gym0");
    let r = sam
        .client
        .post(sam.url("/calendar/google/calendars"))
        .form(&[
            ("csrf", sam.csrf.as_str()),
            ("cal", ACCOUNT),
            ("cal", FAMILY),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = sam.post_form("/calendar/google/sync", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/calendar/google?done=synced");
    let ids: Vec<String> = g.busy().await.into_iter().map(|b| b.0).collect();
    assert!(!ids.contains(&"gym0".to_string()), "{ids:?}");
    assert!(ids.contains(&"fam1".to_string()), "{ids:?}");
    // The busy times are on the team calendar as synced busy times.
    let html = owner
        .get(&format!("/calendar?view=week&date={eve}&person={}", g.sam))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("ev-external"), "{html}");
    // Ours are not pulled back from our own calendar, and busy times are not pushed.
    assert!(
        g.fake
            .events(&g.ours())
            .iter()
            .all(|e| e["summary"] != "Busy (Google Calendar)")
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_a_410_lists_whole_again_and_429s_are_retried() {
    let g = setup().await;
    let sam = g.app.demo_login("Videographer").await;
    connect(&g, &sam).await;
    g.fake.busy(
        ACCOUNT,
        "a",
        "2026-10-23T10:00:00-07:00",
        "2026-10-23T11:00:00-07:00",
    );
    g.fake.busy(
        ACCOUNT,
        "b",
        "2026-10-24T10:00:00-07:00",
        "2026-10-24T11:00:00-07:00",
    );
    g.sync().await;
    assert_eq!(g.busy().await.len(), 2);

    // The access token expires: 401, a refresh_token grant, the call again; the new access
    // token is kept, sealed.
    let sealed = |g: &Google| {
        let db = g.app.db.clone();
        let sam = g.sam;
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT access_token FROM calendar_sync_tokens WHERE contributor_id = $1",
            )
            .bind(sam)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let before = sealed(&g).await;
    g.fake.expire_access_tokens();
    let refreshes = g.fake.count("POST", "/token:refresh_token");
    g.sync().await;
    assert_eq!(g.fake.count("POST", "/token:refresh_token"), refreshes + 1);
    assert!(g.fake.seen().iter().any(|s| s.status == 401));
    let after = sealed(&g).await;
    assert_ne!(before, after);
    assert!(after.starts_with("gcm1:") && !after.contains("ya29"));
    assert_eq!(g.status().await, ("Active".into(), None));

    // Google forgets the sync tokens and "a" vanished without a trace: 410, then the whole
    // calendar again, and what it no longer names is removed.
    g.fake.forget_event(ACCOUNT, "a");
    g.fake.expire_sync_tokens();
    let seen = g.fake.seen().len();
    g.sync().await;
    let calls: Vec<_> = g.fake.seen()[seen..]
        .iter()
        .filter(|s| s.path.ends_with(&format!("{ACCOUNT}/events")))
        .cloned()
        .collect();
    assert_eq!(calls[0].status, 410, "{calls:?}");
    assert!(
        calls[1..]
            .iter()
            .all(|c| !c.query.contains_key("syncToken") && c.status == 200)
    );
    let ids: Vec<String> = g.busy().await.into_iter().map(|b| b.0).collect();
    assert_eq!(ids, ["b"]);

    // 429 (and 503) are tried again after a short wait; the run succeeds.
    g.fake.throttle(2);
    g.fake.busy(
        ACCOUNT,
        "c",
        "2026-10-25T10:00:00-07:00",
        "2026-10-25T11:00:00-07:00",
    );
    let seen = g.fake.seen().len();
    g.sync().await;
    assert_eq!(
        g.fake.seen()[seen..]
            .iter()
            .filter(|s| s.status == 429)
            .count(),
        2
    );
    g.fake.unavailable(1);
    g.sync().await;
    assert_eq!(g.busy().await.len(), 2);

    // Retries are bounded: Google throttling every call leaves the run in Error, shown to
    // Sam and to the Owner; the next good run clears it.
    g.fake.throttle(1000);
    let started = std::time::Instant::now();
    match g.run().await {
        Outcome::Ran(p) => assert!(p[0].error.as_deref().unwrap().contains("429")),
        o => panic!("{o:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let (status, error) = g.status().await;
    assert_eq!(status, "Error");
    assert!(error.unwrap().contains("429"));
    let html = sam.get("/calendar/google").await.text().await.unwrap();
    assert!(html.contains("id=\"last-error\""), "{html}");
    assert!(html.contains("429"));
    let owner = g.app.demo_login("Owner").await;
    let html = owner
        .get("/calendar/google/team")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Error") && html.contains("429"), "{html}");
    g.fake.throttle(0);
    g.sync().await;
    assert_eq!(g.status().await, ("Active".into(), None));

    // A refresh token Google no longer honours: Disabled, "connect again", no more runs.
    let token = g.fake.refresh_tokens()[0].clone();
    let client = reqwest::Client::new();
    client
        .post(format!("{}/revoke", g.fake.base))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    g.fake.expire_access_tokens();
    match g.run().await {
        Outcome::Ran(p) => assert!(
            p[0].error
                .as_deref()
                .unwrap()
                .contains("connect Google Calendar again")
        ),
        o => panic!("{o:?}"),
    }
    assert_eq!(g.status().await.0, "Disabled");
    match g.run().await {
        Outcome::Ran(p) => assert!(p.is_empty()),
        o => panic!("{o:?}"),
    }
    let html = sam.get("/calendar/google").await.text().await.unwrap();
    assert!(html.contains("Connect again"), "{html}");
}

#[tokio::test]
async fn two_runners_at_once_run_once() {
    let g = setup().await;
    let sam = g.app.demo_login("Videographer").await;
    connect(&g, &sam).await;
    // Each call to Google takes a while, so the first runner is still at it.
    g.fake.delay(20);
    let (a, b) = tokio::join!(g.run(), async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        g.run().await
    });
    let ran = [&a, &b]
        .iter()
        .filter(|o| matches!(o, Outcome::Ran(_)))
        .count();
    let busy = [&a, &b]
        .iter()
        .filter(|o| matches!(o, Outcome::Busy))
        .count();
    assert_eq!((ran, busy), (1, 1), "{a:?} {b:?}");
    // Each event inserted once; our calendar made once.
    let inserts = g.fake.count("POST", "/events");
    assert_eq!(inserts, g.fake.events(&g.ours()).len());
    assert_eq!(g.fake.count("POST", "/calendar/v3/calendars"), 1);
    assert!(Outcome::Busy.report().contains("another run"));
    // Without Google configured, nothing runs.
    let off = sync::run(&g.app.db, &Settings::defaults(), &clock(), None)
        .await
        .unwrap();
    assert!(matches!(off, Outcome::Off));
}

#[tokio::test]
async fn with_google_off_the_pages_say_how_to_turn_it_on() {
    let app = TestApp::demo().await;
    let owner = app.demo_login("Owner").await;
    let html = owner
        .get("/calendar/google/team")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("how to turn it on"), "{html}");
    assert!(html.contains("PROJECTFLO_GOOGLE_CLIENT_ID"));
    assert!(html.contains(&format!("{}/calendar/google/callback", app.url(""))));
    assert!(html.contains("Sam Okafor") && html.contains("Not connected"));
    let html = owner.get("/calendar/google").await.text().await.unwrap();
    assert!(html.contains("Google Calendar sync is off"), "{html}");
    let r = owner.post_form("/calendar/google/connect", &[]).await;
    assert_eq!(r.status(), 409);
    let sam = app.demo_login("Videographer").await;
    let html = sam.get("/calendar/google").await.text().await.unwrap();
    assert!(html.contains("The Owner can turn it on"), "{html}");
}

#[tokio::test]
async fn the_command_runs_one_sync_or_says_it_is_off() {
    let g = setup().await;
    let sam = g.app.demo_login("Videographer").await;
    connect(&g, &sam).await;
    let command = |google: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_projectflo"));
        for (k, _) in std::env::vars() {
            if k.starts_with("PROJECTFLO_") {
                c.env_remove(k);
            }
        }
        c.args(["jobs", "calendar-sync", "--at", "2026-10-20T18:00:00Z"])
            .env("DATABASE_URL", g.app.database_url())
            .env("PROJECTFLO_LOG", "warn");
        if google {
            let s = &g.settings;
            c.env(
                "PROJECTFLO_GOOGLE_CLIENT_ID",
                s.google_client_id.as_ref().unwrap(),
            )
            .env(
                "PROJECTFLO_GOOGLE_CLIENT_SECRET",
                crate::google_fake::CLIENT_SECRET,
            )
            .env(
                "PROJECTFLO_GOOGLE_TOKEN_KEY",
                "5f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
            )
            .env("PROJECTFLO_GOOGLE_TOKEN_URL", &s.google_token_url)
            .env("PROJECTFLO_GOOGLE_CALENDAR_API", &s.google_calendar_api)
            .env("PROJECTFLO_GOOGLE_BACKOFF_MS", "1");
        }
        c
    };
    let (mut off, mut on) = (command(false), command(true));
    // Off the test's runtime: the fake Google answers on it meanwhile.
    let (off, on) =
        tokio::task::spawn_blocking(move || (off.output().unwrap(), on.output().unwrap()))
            .await
            .unwrap();
    assert!(
        off.status.success(),
        "{}",
        String::from_utf8_lossy(&off.stderr)
    );
    assert!(String::from_utf8_lossy(&off.stdout).contains("sync is off"));
    let text = String::from_utf8_lossy(&on.stdout).to_string();
    assert!(
        on.status.success(),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
    assert!(
        text.contains(&format!("person {}: pushed", g.sam)),
        "{text}"
    );
    assert!(g.fake.calendar_named("ProjectFlo").is_some());
    // A client id without its secret and key stops start-up naming the setting.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_projectflo"))
        .args(["jobs", "calendar-sync", "--google-client-id", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("google-client-secret"));
}
