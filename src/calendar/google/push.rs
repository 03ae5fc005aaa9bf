//! Push: our events of a person (assignments, absences, holidays, personal events) to their
//! "ProjectFlo" Google calendar. New ones inserted under an id of ours, changed ones (their
//! digest differs from what Google was sent) patched, one deleted on Google's side put back,
//! cancelled ones deleted there.
use super::client::{Failure, Session, seg};
use super::{Counts, Link, db};
use crate::calendar::events::EventType;
use crate::calendar::rules;
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgConnection;

/// Our events pushed: from a month back to this many days ahead.
const PUSH_AHEAD_DAYS: i64 = 400;
/// At most this many pushes per person per run (the rest follow next run).
const PUSH_LIMIT: i64 = 500;

/// One of our events waiting to be pushed.
#[derive(Debug, sqlx::FromRow)]
struct Pending {
    id: i32,
    title: String,
    description: Option<String>,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    is_all_day: bool,
    event_type: EventType,
    digest: String,
    cancelled: bool,
    google_event_id: Option<String>,
}

/// The Google event id of one of ours: fixed, so that an insert whose answer was lost, or a
/// push to a calendar used again, finds it rather than doubling it (base32hex: a-v, 0-9).
pub fn google_id(event: i32) -> String {
    format!("projectflo{event}")
}

/// An event of ours as Google takes it: times in UTC with the studio's zone, an all-day one
/// as local dates (the end date excluded, as Google counts).
fn body(p: &Pending, tz: &str) -> Value {
    let (start, end) = if p.is_all_day {
        let day = |t| json!({"date": rules::local(t, tz).date().to_string()});
        (day(p.start_time), day(p.end_time))
    } else {
        let at = |t: DateTime<Utc>| json!({"dateTime": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "timeZone": tz});
        (at(p.start_time), at(p.end_time))
    };
    json!({
        "summary": p.title,
        "description": p.description.clone().unwrap_or_default(),
        "start": start,
        "end": end,
        "status": "confirmed",
        "transparency": if p.event_type.blocks() { "opaque" } else { "transparent" },
        "extendedProperties": {"private": {"projectflo_event_id": p.id.to_string()}},
    })
}

/// Our events of theirs to their ProjectFlo calendar: new ones inserted, changed ones patched
/// (one deleted in Google comes back), cancelled ones deleted.
pub async fn push(
    conn: &mut PgConnection,
    s: &mut Session<'_>,
    tz: &str,
    link: &Link,
    cal: &str,
    now: DateTime<Utc>,
) -> Result<Counts, Failure> {
    let pending: Vec<Pending> = sqlx::query_as(
        "SELECT e.id, e.title, e.description, e.start_time, e.end_time, e.is_all_day,
                e.event_type, d.digest, e.cancelled_at IS NOT NULL AS cancelled,
                p.google_event_id
         FROM calendar_events e
         CROSS JOIN LATERAL (SELECT md5(concat_ws('|', e.title, e.description,
             extract(epoch FROM e.start_time), extract(epoch FROM e.end_time), e.is_all_day,
             e.event_type, $6::text)) AS digest) d
         LEFT JOIN calendar_pushed_events p ON p.event_id = e.id AND p.sync_id = $2
         WHERE e.contributor_id = $1 AND e.event_type <> 'EXTERNAL_SYNC'
           AND ((p.event_id IS NULL AND e.cancelled_at IS NULL AND e.end_time > $3
                 AND e.start_time < $4)
             OR (p.event_id IS NOT NULL AND p.deleted_at IS NULL
                 AND (e.cancelled_at IS NOT NULL OR d.digest <> p.pushed_digest)))
         ORDER BY e.start_time, e.id LIMIT $5",
    )
    .bind(link.contributor_id)
    .bind(link.id)
    .bind(now - Duration::days(31))
    .bind(now + Duration::days(PUSH_AHEAD_DAYS))
    .bind(PUSH_LIMIT)
    .bind(tz)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let events = format!("/calendars/{}/events", seg(cal));
    let mut n = Counts::default();
    for p in pending {
        if p.cancelled {
            if let Some(gid) = &p.google_event_id {
                let path = format!("{events}/{}", seg(gid));
                match s
                    .call(Method::DELETE, &path, &[], None, "events delete")
                    .await
                {
                    Ok(_) | Err(Failure::NotFound | Failure::Gone) => {}
                    Err(f) => return Err(f),
                }
                n.removed += 1;
            }
            sqlx::query(
                "UPDATE calendar_pushed_events SET deleted_at = $3
                 WHERE event_id = $1 AND sync_id = $2",
            )
            .bind(p.id)
            .bind(link.id)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            continue;
        }
        let b = body(&p, tz);
        let patched = match &p.google_event_id {
            Some(gid) => {
                let path = format!("{events}/{}", seg(gid));
                match s
                    .call(Method::PATCH, &path, &[], Some(&b), "events patch")
                    .await
                {
                    Ok(_) => Some(gid.clone()),
                    Err(Failure::NotFound | Failure::Gone) => None,
                    Err(f) => return Err(f),
                }
            }
            None => None,
        };
        let gid = match patched {
            Some(gid) => {
                n.changed += 1;
                gid
            }
            None => {
                let gid = google_id(p.id);
                let mut with_id = b.clone();
                with_id["id"] = json!(gid);
                match s
                    .call(Method::POST, &events, &[], Some(&with_id), "events insert")
                    .await
                {
                    Ok(_) => {}
                    // Ours already (an answer lost, or a calendar used again): made current.
                    Err(Failure::Exists) => {
                        let path = format!("{events}/{}", seg(&gid));
                        s.call(Method::PUT, &path, &[], Some(&with_id), "events update")
                            .await?;
                    }
                    Err(f) => return Err(f),
                }
                n.added += 1;
                gid
            }
        };
        sqlx::query(
            "INSERT INTO calendar_pushed_events (event_id, sync_id, google_event_id, pushed_digest)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (event_id, sync_id) DO UPDATE SET google_event_id = $3,
                 pushed_digest = $4, deleted_at = NULL",
        )
        .bind(p.id)
        .bind(link.id)
        .bind(&gid)
        .bind(&p.digest)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(n)
}
