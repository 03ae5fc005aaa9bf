//! The email outbox: an email whose change committed is sent exactly once by the outbox sender
//! even when the process stopped before sending it; a failing mail server's answer is kept and
//! shown, the email retried after its wait (or at once from the outbox page) and sent once;
//! senders racing on the same rows send each once; a workflow email step whose send was
//! interrupted is delivered once. Against a fake SMTP server that speaks SMTP, clock pinned.
use crate::helpers::{Template, TestApp};
use crate::smtp_fake::{FakeSmtp, message_id};
use chrono::{DateTime, Duration, TimeZone, Utc};
use projectflo::clock::Clock;
use projectflo::config::Settings;
use projectflo::mail::{self, Mail, outbox};
use std::collections::BTreeSet;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 17, 0, 0).unwrap()
}

fn settings(smtp: &FakeSmtp) -> Settings {
    let mut s = Settings::defaults();
    s.smtp_url = Some(smtp.url());
    s.mail_from = "Golden Hour Films <hello@goldenhour.example>".into();
    s
}

async fn app_with(smtp: &FakeSmtp) -> TestApp {
    let url = smtp.url();
    TestApp::with_settings_at(Template::Empty, Clock::Fixed(t0()), move |s| {
        s.smtp_url = Some(url);
        s.mail_from = "Golden Hour Films <hello@goldenhour.example>".into();
    })
    .await
}

/// An email queued by a change that committed, whose process then stopped before sending it
/// (the handle to send it dropped). Returns the outbox row's id.
async fn queued_and_crashed(app: &TestApp, settings: &Settings, to: &str, subject: &str) -> i32 {
    let mut tx = app.db.begin().await.unwrap();
    let contact: i32 = sqlx::query_scalar(
        "INSERT INTO contacts (first_name, last_name, email, type) VALUES ('Ana', 'Test', $1, 'Client')
         RETURNING id",
    )
    .bind(to)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let outgoing = mail::queue(
        &mut tx,
        settings,
        Mail {
            to_contact_id: contact,
            to: to.into(),
            subject: subject.into(),
            body: format!("Your link: https://studio.example/set-password/{subject}-secret"),
            log_summary: "A link was sent.".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let id = outgoing.id();
    drop(outgoing);
    id
}

async fn pass(app: &TestApp, settings: &Settings, at: DateTime<Utc>) -> outbox::Pass {
    outbox::send_due(&app.db, settings, &Clock::Fixed(at))
        .await
        .unwrap()
}

/// (attempts, last error, next try, body, sent) of an outbox row.
type State = (
    i32,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
);

async fn state(app: &TestApp, id: i32) -> State {
    sqlx::query_as(
        "SELECT attempts, last_error, next_attempt_at, body, sent_at FROM email_outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_committed_but_never_sent_goes_out_once_from_jobs_outbox() {
    let mut smtp = FakeSmtp::start().await;
    let app = app_with(&smtp).await;
    let s = settings(&smtp);
    let id = queued_and_crashed(&app, &s, "ana@example.com", "Welcome").await;
    assert!(
        smtp.received().is_empty(),
        "nothing sent before the sender runs"
    );
    let smtp_url = smtp.url();
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_projectflo"))
            .args(["jobs", "outbox", "--at", "2027-03-01T17:05:00Z"])
            .env("DATABASE_URL", app.database_url())
            .env("PROJECTFLO_SMTP_URL", &smtp_url)
            .env(
                "PROJECTFLO_MAIL_FROM",
                "Golden Hour Films <hello@goldenhour.example>",
            )
            .env_remove("PROJECTFLO_BIND")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // `run` blocks this thread; the fake server answers from the runtime's other threads.
    let first = tokio::task::block_in_place(run);
    assert!(
        first.contains("Outbox: 1 emails sent, 0 attempts failed."),
        "{first}"
    );
    let raw = smtp.recv().await;
    assert!(raw.contains("To: ana@example.com"), "{raw}");
    assert!(raw.contains("Subject: Welcome"), "{raw}");
    assert_eq!(
        message_id(&raw),
        format!("<outbox-{id}@goldenhour.example>")
    );
    // Sent: the row keeps no body (it may hold a password-reset link), the log its summary.
    let (attempts, error, _, body, sent) = state(&app, id).await;
    assert_eq!((attempts, error, body), (1, None, None));
    assert_eq!(
        sent,
        Some(Utc.with_ymd_and_hms(2027, 3, 1, 17, 5, 0).unwrap())
    );
    let log: String = sqlx::query_scalar(
        "SELECT l.notes FROM communications_log l JOIN email_outbox o ON o.communication_id = l.id
         WHERE o.id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        log.contains("A link was sent.") && !log.contains("secret"),
        "{log}"
    );
    // Again: nothing more.
    let second = tokio::task::block_in_place(run);
    assert!(second.contains("Outbox: 0 emails sent"), "{second}");
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn a_server_down_is_retried_after_its_wait_shown_on_the_outbox_page_and_sent_once() {
    let mut smtp = FakeSmtp::start().await;
    let app = app_with(&smtp).await;
    let s = settings(&smtp);
    let a = queued_and_crashed(&app, &s, "ana@example.com", "First").await;
    let b = queued_and_crashed(&app, &s, "ben@example.com", "Second").await;
    smtp.set_up(false);
    let failed = pass(&app, &s, t0()).await;
    assert_eq!(failed, outbox::Pass { sent: 0, failed: 2 });
    for id in [a, b] {
        let (attempts, error, next, body, sent) = state(&app, id).await;
        assert_eq!(attempts, 1);
        assert!(
            error.as_deref().is_some_and(|e| e.contains("421")),
            "{error:?}"
        );
        assert_eq!(
            next,
            Some(t0() + Duration::minutes(1)),
            "retried after a minute"
        );
        assert!(body.is_some() && sent.is_none());
    }
    // The studio sees them failing, with the server's answer.
    let owner = app.owner().await;
    let page = owner.get("/settings/outbox?show=failing").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for (id, subject) in [(a, "First"), (b, "Second")] {
        let row = html
            .split(&format!("<tr data-id=\"{id}\">"))
            .nth(1)
            .expect("the row on the page")
            .split("</tr>")
            .next()
            .unwrap();
        assert!(
            row.contains(subject) && row.contains("Failing: retrying"),
            "{row}"
        );
        assert!(row.contains("421") && row.contains("<td>1</td>"), "{row}");
        assert!(row.contains("Retry now"), "{row}");
    }
    let settings_page = owner.get("/settings").await.text().await.unwrap();
    assert!(
        settings_page.contains("href=\"/settings/outbox\""),
        "reachable from Settings"
    );
    // Down still: a second failure waits two minutes.
    assert_eq!(pass(&app, &s, t0() + Duration::minutes(1)).await.failed, 2);
    assert_eq!(state(&app, a).await.2, Some(t0() + Duration::minutes(3)));
    // Up again: before the wait is over nothing goes.
    smtp.set_up(true);
    assert_eq!(
        pass(&app, &s, t0() + Duration::minutes(2)).await,
        outbox::Pass::default()
    );
    assert!(smtp.received().is_empty());
    // "Retry now" sends the first at once.
    let resp = owner
        .post_form(
            &format!("/settings/outbox/{a}/retry"),
            &[("csrf", &owner.csrf)],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let raw = smtp.recv().await;
    assert_eq!(message_id(&raw), format!("<outbox-{a}@goldenhour.example>"));
    assert_eq!(state(&app, a).await.0, 3);
    // The second after its wait; each once.
    let sent = pass(&app, &s, t0() + Duration::minutes(3)).await;
    assert_eq!(sent, outbox::Pass { sent: 1, failed: 0 });
    assert_eq!(
        pass(&app, &s, t0() + Duration::hours(9)).await,
        outbox::Pass::default()
    );
    let rest = smtp.received();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        message_id(&rest[0]),
        format!("<outbox-{b}@goldenhour.example>")
    );
    // A sent one cannot be retried; the page shows both sent.
    let again = owner
        .post_form(
            &format!("/settings/outbox/{a}/retry"),
            &[("csrf", &owner.csrf)],
        )
        .await;
    assert_eq!(again.status(), 409);
    let sent_page = owner
        .get("/settings/outbox?show=sent")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        sent_page.contains(&format!("data-id=\"{a}\""))
            && sent_page.contains(&format!("data-id=\"{b}\"")),
    );
    assert!(!sent_page.contains("Retry now"));
    // Only whoever manages the settings sees the outbox.
    let (editor, _) = app.staff("Editor").await;
    assert_eq!(editor.get("/settings/outbox").await.status(), 403);
}

#[tokio::test]
async fn a_refused_address_is_given_up_at_once_and_many_failures_end_in_giving_up() {
    let smtp = FakeSmtp::start().await;
    let app = app_with(&smtp).await;
    let s = settings(&smtp);
    let bad = queued_and_crashed(&app, &s, "not an address", "Bad").await;
    let down = queued_and_crashed(&app, &s, "ana@example.com", "Down").await;
    smtp.set_up(false);
    let mut at = t0();
    for _ in 0..outbox::MAX_ATTEMPTS {
        pass(&app, &s, at).await;
        at += Duration::hours(7);
    }
    let gave_up = |id: i32| {
        sqlx::query_scalar::<_, bool>(
            "SELECT failed_at IS NOT NULL FROM email_outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&app.db)
    };
    assert!(gave_up(bad).await.unwrap());
    assert_eq!(
        state(&app, bad).await.0,
        1,
        "a permanent refusal is not retried"
    );
    assert!(gave_up(down).await.unwrap());
    assert_eq!(state(&app, down).await.0, outbox::MAX_ATTEMPTS);
    assert_eq!(
        pass(&app, &s, at + Duration::days(30)).await,
        outbox::Pass::default()
    );
    let owner = app.owner().await;
    let html = owner
        .get("/settings/outbox?show=failing")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Failed: gave up") && html.contains("not retried"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn senders_racing_on_the_same_rows_send_each_once() {
    let mut smtp = FakeSmtp::start().await;
    let app = app_with(&smtp).await;
    let s = settings(&smtp);
    let mut ids = BTreeSet::new();
    for n in 0..24 {
        ids.insert(
            queued_and_crashed(&app, &s, &format!("c{n}@example.com"), &format!("Mail {n}")).await,
        );
    }
    // Two outbox passes and the requests' own attempts, all at once on the same rows.
    let clock = Clock::Fixed(t0());
    let immediate = async {
        for id in ids.iter().rev() {
            mail::Outgoing::of(*id, &s)
                .send_and_wait(&app.db, &clock)
                .await;
        }
    };
    let (p1, p2, ()) = tokio::join!(pass(&app, &s, t0()), pass(&app, &s, t0()), immediate);
    assert!(p1.sent + p2.sent <= 24 && p1.failed + p2.failed == 0);
    let mut seen = vec![];
    for _ in 0..24 {
        seen.push(message_id(&smtp.recv().await));
    }
    assert!(smtp.received().is_empty(), "no row sent twice");
    let expected: Vec<String> = ids
        .iter()
        .map(|id| format!("<outbox-{id}@goldenhour.example>"))
        .collect();
    seen.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(seen, expected_sorted, "each row once");
    let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE sent_at IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(unsent, 0);
}

#[tokio::test]
async fn a_workflow_email_whose_send_was_interrupted_is_delivered_once_by_the_sender() {
    use crate::workflows::{booked, day, la, timed_email, workflow};
    use projectflo::workflows::engine;
    let mut smtp = FakeSmtp::start().await;
    let app = app_with(&smtp).await;
    let s = settings(&smtp);
    let email = "ana.outbox@example.com";
    booked(&app, email, day(2027, 9, 18), day(2027, 2, 20)).await;
    workflow(
        &app,
        "One",
        vec![timed_email("Welcome", "booking_date", 1, "days", "after")],
    )
    .await;
    engine::pass(&app.db, &s, &Clock::Fixed(la(2027, 2, 20, 15)))
        .await
        .unwrap();
    // The scheduler runs the step and commits it with its email, then the process dies before
    // the send (its handle dropped).
    let at = Clock::Fixed(la(2027, 2, 21, 9));
    {
        let mut conn = app.db.acquire().await.unwrap();
        let studio = projectflo::studio::Studio::load(&mut conn).await.unwrap();
        let mut tx = app.db.begin().await.unwrap();
        let ran = engine::run_one(&mut tx, &s, &studio, &at).await.unwrap();
        let (_, outcome, mails) = ran.expect("the welcome step ran");
        assert!(outcome == engine::Outcome::Done);
        assert_eq!(mails.len(), 1);
        tx.commit().await.unwrap();
        drop(mails);
    }
    assert!(smtp.received().is_empty());
    // The next scheduler pass does not run the step again; the outbox sends its email once.
    let again = engine::pass(&app.db, &s, &Clock::Fixed(la(2027, 2, 21, 10)))
        .await
        .unwrap();
    assert_eq!(again.done, 0);
    assert!(smtp.received().is_empty());
    assert_eq!(pass(&app, &s, la(2027, 2, 21, 10)).await.sent, 1);
    assert_eq!(pass(&app, &s, la(2027, 2, 21, 11)).await.sent, 0);
    let raw = smtp.recv().await;
    assert!(
        raw.contains(&format!("To: {email}")) && raw.contains("Subject: Welcome"),
        "{raw}"
    );
    assert!(smtp.received().is_empty());
}

/// At 100,000 sent emails, a page of each tab of Settings > Email outbox (first and deep) and a
/// sender's claim read a page's worth of rows, not the history (`outbox_created_idx`, and
/// `outbox_unsent_idx` for what is not sent), even under a generic plan.
#[tokio::test]
async fn the_outbox_pages_and_the_senders_claim_read_a_few_rows_at_100_000() {
    use projectflo::history::outbox::{Show, query};
    let app = TestApp::demo().await;
    sqlx::raw_sql(
        "WITH logged AS (
           INSERT INTO communications_log (contact_id, type, notes)
           SELECT (SELECT min(id) FROM contacts), 'Email', 'sent' FROM generate_series(1, 100040)
           RETURNING id)
         INSERT INTO email_outbox (communication_id, to_address, subject, body, created_at,
                                   attempts, sent_at)
         SELECT id, 'c@example.com', 'Hello', NULL,
                TIMESTAMPTZ '2026-01-01' + id * interval '1 minute', 1,
                TIMESTAMPTZ '2026-01-01' + id * interval '1 minute'
         FROM logged;
         -- 30 queued and 10 failing among them, spread over the history.
         UPDATE email_outbox SET sent_at = NULL, body = 'b', attempts = 0
         WHERE id IN (SELECT id FROM email_outbox ORDER BY id OFFSET 1000 LIMIT 30);
         UPDATE email_outbox SET sent_at = NULL, body = 'b', attempts = 3, last_error = '421',
                next_attempt_at = TIMESTAMPTZ '2027-01-01'
         WHERE id IN (SELECT id FROM email_outbox ORDER BY id OFFSET 50000 LIMIT 10);
         ANALYZE email_outbox;",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let (at, id): (DateTime<Utc>, i32) = sqlx::query_as(
        "SELECT created_at, id FROM email_outbox ORDER BY created_at DESC, id DESC
         OFFSET 60000 LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    for show in [Show::All, Show::Queued, Show::Failing, Show::Sent] {
        let sql = query(show, None).sql().to_string();
        crate::quotes::assert_time_pages_read_one_page(&app.db, show.condition(), &sql, at, id)
            .await;
    }
    let read = crate::quotes::rows_read_for_a_deep_page(
        &app.db,
        "timestamptz, int",
        outbox::CLAIM_SQL,
        "'2026-12-01', NULL",
    )
    .await;
    assert!(read <= 60, "the claim read {read} rows");
}
