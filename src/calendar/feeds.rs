//! ICS feeds: each person's secret, revocable feed URL (their assignments, absences,
//! holidays and shoot days) and a studio-wide one for the Owner, for Google, Apple or Outlook
//! calendars to subscribe to. Only the token's SHA-256 is stored; making a new URL revokes
//! the old one. Timed events are written in UTC (`...Z`, no VTIMEZONE needed), all-day ones
//! as the studio's local dates (`VALUE=DATE`), recurring absences as one VEVENT with an RRULE
//! and their exceptions as EXDATE, deleted events as STATUS:CANCELLED (so subscribers drop
//! them), and each wedding a person crews as an all-day "Shoot day".
use super::events::{self, Event};
use super::recurrences::{self, Recurrence};
use super::rules::{self, ics_date, ics_line, ics_text, ics_utc};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgConnection;

/// Whose feed a token opens.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Feed {
    pub contributor_id: i32,
    pub studio_wide: bool,
}

/// A new feed URL's token for the person (or the studio, `studio_wide`), revoking the one
/// before. The token is shown once; only its hash is kept.
pub async fn renew(
    tx: &mut PgConnection,
    contributor: i32,
    studio_wide: bool,
    now: DateTime<Utc>,
) -> AppResult<String> {
    revoke(tx, contributor, studio_wide, now).await?;
    let token = crate::crypto::random_token();
    sqlx::query(
        "INSERT INTO calendar_feeds (contributor_id, studio_wide, token_hash, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(contributor)
    .bind(studio_wide)
    .bind(crate::crypto::token_hash(&token))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        tx,
        Some(contributor),
        "calendar.feed_renew",
        "contributor",
        Some(contributor),
        serde_json::json!({"studio_wide": studio_wide}),
    )
    .await?;
    Ok(token)
}

/// Revoke the person's live feed URL (if any). Returns whether there was one.
pub async fn revoke(
    tx: &mut PgConnection,
    contributor: i32,
    studio_wide: bool,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = sqlx::query(
        "UPDATE calendar_feeds SET revoked_at = $3
         WHERE contributor_id = $1 AND studio_wide = $2 AND revoked_at IS NULL",
    )
    .bind(contributor)
    .bind(studio_wide)
    .bind(now)
    .execute(tx)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// When the person's live feeds were made: (their own, the studio's).
pub async fn live(
    conn: &mut PgConnection,
    contributor: i32,
) -> AppResult<(Option<DateTime<Utc>>, Option<DateTime<Utc>>)> {
    let rows: Vec<(bool, DateTime<Utc>)> = sqlx::query_as(
        "SELECT studio_wide, created_at FROM calendar_feeds
         WHERE contributor_id = $1 AND revoked_at IS NULL",
    )
    .bind(contributor)
    .fetch_all(conn)
    .await?;
    let at = |w: bool| rows.iter().find(|r| r.0 == w).map(|r| r.1);
    Ok((at(false), at(true)))
}

/// The feed a token opens: live, its person active, and a studio-wide feed only while they
/// are an Owner. Anything else is not found.
pub async fn open(conn: &mut PgConnection, token: &str) -> AppResult<Feed> {
    let token = token.strip_suffix(".ics").unwrap_or(token);
    sqlx::query_as(&format!(
        "SELECT f.contributor_id, f.studio_wide FROM calendar_feeds f
         JOIN contributors co ON co.id = f.contributor_id
         JOIN roles r ON r.id = co.role_id
         WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND {}
           AND (NOT f.studio_wide OR r.name = 'Owner')",
        super::availability::ACTIVE
    ))
    .bind(crate::crypto::token_hash(token))
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found("calendar feed"))
}

/// How far back a feed reaches.
pub const PAST_DAYS: i64 = 180;

/// A wedding someone crews: its project and day.
#[derive(sqlx::FromRow)]
struct ShootDay {
    project_id: i32,
    name: String,
    day: NaiveDate,
}

/// The feed's calendar text.
pub async fn ics(
    conn: &mut PgConnection,
    feed: Feed,
    studio_name: &str,
    tz: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let who = (!feed.studio_wide).then_some(feed.contributor_id);
    let since = now - Duration::days(PAST_DAYS);
    let list: Vec<Event> = sqlx::query_as(&format!(
        "SELECT {} FROM {} WHERE ($1::int IS NULL OR e.contributor_id = $1)
           AND e.end_time > $2 AND e.recurrence_id IS NULL AND e.event_type <> 'EXTERNAL_SYNC'
         ORDER BY e.start_time, e.id LIMIT 5000",
        events::COLUMNS,
        events::FROM
    ))
    .bind(who)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let rules_ = recurrences::of(conn, who).await?;
    let names: Vec<(i32, String)> = sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name))
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE $1::int IS NULL OR co.id = $1",
    )
    .bind(who)
    .fetch_all(&mut *conn)
    .await?;
    let shoots: Vec<ShootDay> = sqlx::query_as(
        "SELECT p.id AS project_id, COALESCE(p.project_name, 'Project #' || p.id) AS name,
                p.wedding_date AS day
         FROM projects p
         WHERE p.wedding_date IS NOT NULL AND p.wedding_date >= $2::date
           AND EXISTS (SELECT 1 FROM calendar_events e
                       WHERE e.project_id = p.id AND e.event_type = 'PROJECT_ASSIGNMENT'
                         AND e.cancelled_at IS NULL
                         AND ($1::int IS NULL OR e.contributor_id = $1))
         ORDER BY p.wedding_date, p.id LIMIT 1000",
    )
    .bind(who)
    .bind(since.date_naive())
    .fetch_all(&mut *conn)
    .await?;
    let person = |id: i32| {
        names
            .iter()
            .find(|n| n.0 == id)
            .map(|n| n.1.clone())
            .unwrap_or_default()
    };
    let title = if feed.studio_wide {
        format!("{studio_name}: team")
    } else {
        format!("{studio_name}: {}", person(feed.contributor_id))
    };
    let mut out = String::new();
    let mut line = |s: String| out.push_str(&ics_line(&s));
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//ProjectFlo//Team calendar//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", ics_text(&title)));
    line(format!("X-WR-TIMEZONE:{tz}"));
    let stamp = ics_utc(now);
    let summary = |name: &str, title: &str| {
        if feed.studio_wide {
            format!("{name}: {title}")
        } else {
            title.to_string()
        }
    };
    for e in &list {
        line("BEGIN:VEVENT".into());
        line(format!("UID:event-{}@projectflo", e.id));
        line(format!("DTSTAMP:{stamp}"));
        line(format!("LAST-MODIFIED:{}", ics_utc(e.updated_at)));
        line(format!(
            "SEQUENCE:{}",
            e.updated_at.timestamp() - 1_600_000_000
        ));
        if e.is_all_day {
            let first = rules::local(e.start_time, tz).date();
            let next = rules::local(e.end_time, tz).date();
            line(format!("DTSTART;VALUE=DATE:{}", ics_date(first)));
            line(format!("DTEND;VALUE=DATE:{}", ics_date(next)));
        } else {
            line(format!("DTSTART:{}", ics_utc(e.start_time)));
            line(format!("DTEND:{}", ics_utc(e.end_time)));
        }
        line(format!(
            "SUMMARY:{}",
            ics_text(&summary(&e.person, &e.title))
        ));
        if let Some(d) = e.description.as_deref().filter(|d| !d.is_empty()) {
            line(format!("DESCRIPTION:{}", ics_text(d)));
        }
        line(format!("CATEGORIES:{}", e.event_type.as_str()));
        line(format!(
            "STATUS:{}",
            if e.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            }
        ));
        line(format!(
            "TRANSP:{}",
            if e.event_type.blocks() {
                "OPAQUE"
            } else {
                "TRANSPARENT"
            }
        ));
        line("END:VEVENT".into());
    }
    for r in &rules_ {
        line("BEGIN:VEVENT".into());
        rule_lines(
            r,
            &stamp,
            &summary(&person(r.contributor_id), &r.title),
            &mut line,
        );
        line("END:VEVENT".into());
    }
    for s in &shoots {
        line("BEGIN:VEVENT".into());
        line(format!("UID:shoot-{}@projectflo", s.project_id));
        line(format!("DTSTAMP:{stamp}"));
        line(format!("DTSTART;VALUE=DATE:{}", ics_date(s.day)));
        line(format!(
            "DTEND;VALUE=DATE:{}",
            ics_date(s.day.succ_opt().unwrap_or(s.day))
        ));
        line(format!(
            "SUMMARY:{}",
            ics_text(&format!("Shoot day: {}", s.name))
        ));
        line("CATEGORIES:SHOOT_DAY".into());
        line("STATUS:CONFIRMED".into());
        line("TRANSP:TRANSPARENT".into());
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    Ok(out)
}

/// A recurring absence as one VEVENT: the first day, the RRULE, its exceptions.
fn rule_lines(r: &Recurrence, stamp: &str, summary: &str, line: &mut impl FnMut(String)) {
    line(format!("UID:recurrence-{}@projectflo", r.id));
    line(format!("DTSTAMP:{stamp}"));
    line(format!("DTSTART;VALUE=DATE:{}", ics_date(r.first_day)));
    line(format!(
        "DTEND;VALUE=DATE:{}",
        ics_date(r.first_day.succ_opt().unwrap_or(r.first_day))
    ));
    let until = r
        .until_day
        .map(|u| format!(";UNTIL={}", ics_date(u)))
        .unwrap_or_default();
    line(format!("RRULE:FREQ={}{until}", r.freq));
    if !r.exceptions.is_empty() {
        let days: Vec<String> = r.exceptions.iter().map(|d| ics_date(*d)).collect();
        line(format!("EXDATE;VALUE=DATE:{}", days.join(",")));
    }
    line(format!("SUMMARY:{}", ics_text(summary)));
    line(format!("CATEGORIES:{}", r.event_type.as_str()));
    line("STATUS:CONFIRMED".into());
    line("TRANSP:OPAQUE".into());
}
