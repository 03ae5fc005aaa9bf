//! `projectflo jobs nightly`: the studio's nightly run, also scheduled inside `serve`. It learns
//! from the completed tasks (`production::nightly`: each person's average per template and each
//! template's average; the tasks not started yet planned again at the new averages), tells
//! assignees of tasks due within two days and emails the daily digests (`production::digest`), sweeps the invoices (`billing::jobs`: credits applied, Overdue,
//! reminders), and stores the coming days of recurring absences (`calendar::recurrences`, two
//! years ahead). Safe to run twice and from several instances at once: the learning runs under an
//! advisory lock and writes only numbers that change; every invoice change locks its rows.
use crate::billing::jobs::Swept;
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::AppResult;
use crate::production::nightly::{self, Learned};
use sqlx::PgPool;

/// What a nightly run did.
pub struct Nightly {
    pub learned: Vec<Learned>,
    /// Tasks not started yet planned again at their assignee's new average.
    pub replanned: u64,
    /// "Due soon" notifications sent.
    pub due_soon: u64,
    /// Daily digests emailed.
    pub digests: usize,
    pub swept: Swept,
    /// Days of recurring absences stored.
    pub absences: u64,
    /// Download-link reminders and surveys sent.
    pub link_reminders: usize,
    pub surveys: usize,
}

impl Nightly {
    /// What it changed, in lines for the terminal or the log.
    pub fn report(&self) -> String {
        let mut out = vec![];
        if self.learned.is_empty() {
            out.push("Benchmarks: nothing changed.".to_string());
        } else {
            out.push(format!("Benchmarks: {} changed.", self.learned.len()));
            out.extend(
                nightly::lines(&self.learned)
                    .into_iter()
                    .map(|l| format!("  {l}")),
            );
        }
        out.push(format!(
            "Tasks: {} re-planned at a new average, {} \"due soon\" notifications, {} daily \
             digests emailed.",
            self.replanned, self.due_soon, self.digests
        ));
        let s = &self.swept;
        out.push(format!(
            "Invoices: {} marked overdue, {} credit applications, {} idempotency answers \
             forgotten, {} reminders sent.",
            s.overdue, s.credits, s.forgotten, s.reminders
        ));
        out.push(format!(
            "Calendar: {} days of recurring absences stored.",
            self.absences
        ));
        out.push(format!(
            "Delivery: {} download-link reminders, {} surveys sent.",
            self.link_reminders, self.surveys
        ));
        out.join("\n")
    }
}

pub async fn nightly(pool: &PgPool, settings: &Settings, clock: &Clock) -> AppResult<Nightly> {
    let mut conn = pool.acquire().await?;
    let now = clock.now();
    let (learned, replanned) = crate::db::transaction(&mut conn, async |tx| {
        let learned = nightly::learn(tx, now).await?;
        Ok((learned, nightly::replan(tx, now).await?))
    })
    .await?;
    let zone = crate::studio::Studio::load(&mut conn).await?.time_zone;
    let today = clock.today(&zone);
    let (due_soon, mails) = crate::db::transaction(&mut conn, async |tx| {
        let due_soon = nightly::due_soon(tx, today, now).await?;
        let mails = crate::production::digest::queue(tx, settings, today, now).await?;
        Ok((due_soon, mails))
    })
    .await?;
    let digests = mails.len();
    for m in mails {
        m.send_and_wait(pool, clock).await;
    }
    let absences = crate::calendar::recurrences::extend_all(&mut conn, clock).await?;
    let reminders = crate::delivery::links::remind_expiring(&mut conn, settings, clock).await?;
    let surveys = crate::delivery::surveys::send_due(&mut conn, settings, clock).await?;
    drop(conn);
    let (link_reminders, sent_surveys) = (reminders.len(), surveys.len());
    for m in reminders.into_iter().chain(surveys) {
        m.send_and_wait(pool, clock).await;
    }
    let swept = crate::billing::jobs::sweep(pool, settings, clock).await?;
    Ok(Nightly {
        learned,
        replanned,
        due_soon,
        digests,
        swept,
        absences,
        link_reminders,
        surveys: sent_surveys,
    })
}

/// Inside `serve`, when Google Calendar sync is on: a sync run every `google_sync_minutes`, the
/// first half a minute after start. One runner at a time across instances (an advisory lock):
/// an instance that finds another at it skips its turn.
pub fn schedule_calendar_sync(pool: PgPool, settings: Settings) {
    if settings.google().is_none() {
        return;
    }
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        loop {
            match crate::calendar::google::sync::run(&pool, &settings, &Clock::System, None).await {
                Ok(out) => tracing::info!(report = %out.report(), "Google Calendar sync"),
                Err(e) => tracing::error!(error = %e, "Google Calendar sync failed"),
            }
            let minutes = settings.google_sync_minutes;
            tokio::time::sleep(std::time::Duration::from_secs(minutes * 60)).await;
        }
    });
}

/// Inside `serve`: the workflow scheduler, a pass every minute (the first a minute after start):
/// steps due run, each once however many instances run it (`workflows::engine::pass`).
pub fn schedule_workflows(pool: PgPool, settings: Settings) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            match crate::workflows::engine::pass(&pool, &settings, &Clock::System).await {
                Ok(p) if p.done + p.approval + p.skipped + p.failed + p.attached > 0 => {
                    tracing::info!(report = %p.report(), "workflow pass")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "workflow pass failed"),
            }
        }
    });
}

/// Inside `serve`: the email outbox sender, a pass every 30 seconds (the first right after
/// start, for what a stopped process left unsent): queued emails due are sent, each once
/// however many instances run it (`mail::outbox::send_due`).
pub fn schedule_outbox(pool: PgPool, settings: Settings) {
    tokio::spawn(async move {
        loop {
            match crate::mail::outbox::send_due(&pool, &settings, &Clock::System).await {
                Ok(p) if p.sent + p.failed > 0 => {
                    tracing::info!(report = %p.report(), "outbox pass")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox pass failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        }
    });
}

/// Inside `serve`: the nightly run once a day, the first check a minute after start and then
/// every hour; it runs when the studio's local day has changed since the last run and it is
/// 02:00 or later there. Another instance running it too is harmless (see above).
pub fn schedule(pool: PgPool, settings: Settings) {
    tokio::spawn(async move {
        let mut last: Option<chrono::NaiveDate> = None;
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        loop {
            let clock = Clock::System;
            let zone = match pool.acquire().await {
                Ok(mut c) => crate::studio::Studio::load(&mut c)
                    .await
                    .map(|s| s.time_zone)
                    .unwrap_or_else(|_| "UTC".into()),
                Err(_) => "UTC".into(),
            };
            let today = clock.today(&zone);
            let hour = {
                use chrono::Timelike;
                let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
                clock.now().with_timezone(&tz).hour()
            };
            if last != Some(today) && hour >= 2 {
                match nightly(&pool, &settings, &clock).await {
                    Ok(n) => {
                        tracing::info!(report = %n.report(), "nightly run");
                        last = Some(today);
                    }
                    Err(e) => tracing::error!(error = %e, "nightly run failed"),
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
}
