//! Recurring absences: a weekly day off, a holiday every year. The rule is kept
//! (`calendar_recurrences`: WEEKLY or YEARLY from a first day, until a day or not, less
//! exceptions) and its occurrences are stored as all-day events, each the studio's local day
//! (so they keep their day across daylight-saving changes), from the first day up to
//! `HORIZON_DAYS` after today (and from a year back at most): the exclusion constraint then covers every occurrence like
//! any other absence, and a rule that would overlap an assignment is refused naming it.
//! Deleting one occurrence makes it an exception of the rule (`events::cancel`).
use super::events::{self, EventType};
use super::rules::{self, Freq};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

/// How far ahead occurrences are stored.
pub const HORIZON_DAYS: i64 = 730;

/// A rule as stored.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
#[schema(as = CalendarRecurrence)]
pub struct Recurrence {
    pub id: i32,
    pub contributor_id: i32,
    pub title: String,
    pub event_type: EventType,
    /// WEEKLY or YEARLY.
    pub freq: String,
    pub first_day: NaiveDate,
    pub until_day: Option<NaiveDate>,
    /// Days taken out.
    #[schema(value_type = Vec<String>)]
    pub exceptions: Vec<NaiveDate>,
}

pub const COLUMNS: &str =
    "id, contributor_id, title, event_type, freq, first_day, until_day, exceptions";

/// A new rule, as checked.
pub struct NewRule {
    pub contributor_id: i32,
    pub title: String,
    pub event_type: EventType,
    pub freq: Freq,
    pub first_day: NaiveDate,
    pub until_day: Option<NaiveDate>,
}

/// Store a rule and its occurrences up to the horizon, one event each; the first one in the
/// way of an occurrence refuses the whole rule (409 by `first_day`, naming it). Audited.
pub async fn create(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    r: &NewRule,
    (today, now): (NaiveDate, DateTime<Utc>),
) -> AppResult<Recurrence> {
    if !matches!(r.event_type, EventType::Absence | EventType::Holiday) {
        return Err(AppError::field("event_type", "ABSENCE or HOLIDAY"));
    }
    if r.until_day.is_some_and(|u| u < r.first_day) {
        return Err(AppError::field("until_day", "on or after the first day"));
    }
    events::person_exists(tx, r.contributor_id).await?;
    let rule: Recurrence = sqlx::query_as(&format!(
        "INSERT INTO calendar_recurrences (contributor_id, title, event_type, freq, first_day,
                                           until_day, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    ))
    .bind(r.contributor_id)
    .bind(&r.title)
    .bind(r.event_type)
    .bind(r.freq.as_str())
    .bind(r.first_day)
    .bind(r.until_day)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let horizon = today + Duration::days(HORIZON_DAYS);
    // Stored from a year back at most (older days block no one now) to the horizon.
    let from = r.first_day.max(today - Duration::days(366));
    let days = rules::occurrences(r.freq, r.first_day, r.until_day, &[], from, horizon);
    let ranges: Vec<(DateTime<Utc>, DateTime<Utc>)> = days
        .iter()
        .map(|d| rules::all_day_range(*d, *d, tz))
        .collect();
    let starts: Vec<DateTime<Utc>> = ranges.iter().map(|x| x.0).collect();
    let ends: Vec<DateTime<Utc>> = ranges.iter().map(|x| x.1).collect();
    let types = events::clashes_with(r.event_type);
    let check = async |conn: &mut PgConnection| -> AppResult<()> {
        if types.is_empty() {
            return Ok(());
        }
        let other: Option<events::Event> = sqlx::query_as(&format!(
            "SELECT {} FROM {} WHERE e.contributor_id = $1 AND e.cancelled_at IS NULL
               AND e.event_type::text = ANY($4::text[])
               AND EXISTS (SELECT 1 FROM unnest($2::timestamptz[], $3::timestamptz[]) AS o(s, t)
                           WHERE tstzrange(e.start_time, e.end_time, '[)') && tstzrange(o.s, o.t, '[)'))
             ORDER BY e.start_time, e.id LIMIT 1",
            events::COLUMNS,
            events::FROM
        ))
        .bind(r.contributor_id)
        .bind(&starts)
        .bind(&ends)
        .bind(types.iter().map(|t| t.as_str()).collect::<Vec<_>>())
        .fetch_optional(conn)
        .await?;
        match other {
            Some(o) => Err(events::refusal("first_day", &o, tz)),
            None => Ok(()),
        }
    };
    check(tx).await?;
    let insert = sqlx::query(
        "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, is_all_day,
                                      event_type, recurrence_id, created_at, updated_at)
         SELECT $1, $2, o.s, o.t, true, $3, $4, $5, $5
         FROM unnest($6::timestamptz[], $7::timestamptz[]) AS o(s, t)",
    )
    .bind(r.contributor_id)
    .bind(&r.title)
    .bind(r.event_type)
    .bind(rule.id)
    .bind(now)
    .bind(&starts)
    .bind(&ends);
    let mut sp = sqlx::Connection::begin(&mut *tx).await?;
    match insert.execute(&mut *sp).await {
        Ok(_) => sp.commit().await?,
        Err(e) => {
            sp.rollback().await?;
            check(tx).await?;
            return Err(e.into());
        }
    }
    crate::audit::record(
        tx,
        Some(actor),
        "calendar.recurrence_create",
        "calendar_recurrence",
        Some(rule.id),
        serde_json::json!({"freq": r.freq.as_str(), "first_day": r.first_day}),
    )
    .await?;
    Ok(rule)
}

/// A person's rules (or every rule), for the feeds.
pub async fn of(conn: &mut PgConnection, contributor: Option<i32>) -> AppResult<Vec<Recurrence>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM calendar_recurrences
         WHERE $1::int IS NULL OR contributor_id = $1 ORDER BY id LIMIT 1000"
    ))
    .bind(contributor)
    .fetch_all(conn)
    .await?)
}

/// Store every rule's days from the day after its last stored one up to `HORIZON_DAYS` after
/// today (less its exceptions), one transaction per rule, the rule row locked so that two runs
/// do not store a day twice. A day another assignment or absence already holds is left to it
/// (`ON CONFLICT DO NOTHING` on the exclusion constraint). Returns the days stored.
pub async fn extend_all(conn: &mut PgConnection, clock: &crate::clock::Clock) -> AppResult<u64> {
    let studio = crate::studio::Studio::load(conn).await?;
    let tz = studio.time_zone;
    let today = clock.today(&tz);
    let horizon = today + Duration::days(HORIZON_DAYS);
    let ids: Vec<i32> = sqlx::query_scalar(
        "SELECT id FROM calendar_recurrences WHERE until_day IS NULL OR until_day > $1 ORDER BY id",
    )
    .bind(today)
    .fetch_all(&mut *conn)
    .await?;
    let mut added = 0;
    for id in ids {
        added += crate::db::transaction(conn, async |tx| {
            let r: Recurrence = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM calendar_recurrences WHERE id = $1 FOR UPDATE"
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let last: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT max(start_time) FROM calendar_events WHERE recurrence_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let from = last
                .map(|t| rules::local(t, &tz).date() + Duration::days(1))
                .unwrap_or(r.first_day)
                .max(today - Duration::days(366));
            let Some(freq) = Freq::parse(&r.freq) else {
                return Ok(0);
            };
            let days =
                rules::occurrences(freq, r.first_day, r.until_day, &r.exceptions, from, horizon);
            let ranges: Vec<(DateTime<Utc>, DateTime<Utc>)> = days
                .iter()
                .map(|d| rules::all_day_range(*d, *d, &tz))
                .collect();
            let starts: Vec<DateTime<Utc>> = ranges.iter().map(|x| x.0).collect();
            let ends: Vec<DateTime<Utc>> = ranges.iter().map(|x| x.1).collect();
            let n = sqlx::query(
                "INSERT INTO calendar_events (contributor_id, title, start_time, end_time,
                                              is_all_day, event_type, recurrence_id, created_at,
                                              updated_at)
                 SELECT $1, $2, o.s, o.t, true, $3, $4, $5, $5
                 FROM unnest($6::timestamptz[], $7::timestamptz[]) AS o(s, t)
                 ON CONFLICT DO NOTHING",
            )
            .bind(r.contributor_id)
            .bind(&r.title)
            .bind(r.event_type)
            .bind(r.id)
            .bind(clock.now())
            .bind(&starts)
            .bind(&ends)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok(n)
        })
        .await?;
    }
    Ok(added)
}
