//! Pull: the calendars a person chose, read as EXTERNAL_SYNC busy times, incrementally by sync
//! token and page by page; a 410 Gone on the token lists the calendar whole again and removes
//! what it no longer names.
use super::client::{Failure, Session, seg};
use super::{Cal, Counts, Link, MAX_PAGES, db};
use crate::calendar::rules;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

/// The title of a busy time pulled from Google (their events' own titles stay private).
pub const BUSY_TITLE: &str = "Busy (Google Calendar)";

/// What one Google event means for the person's availability.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Busy over [start, end).
    Busy {
        id: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        all_day: bool,
    },
    /// Not (or no longer) busy: deleted, free ("transparent"), declined, or one of ours.
    Free(String),
}

/// Read one item of an events list (None: not an event).
pub fn item(v: &Value, tz: &str) -> Option<Item> {
    let id = v["id"].as_str()?.to_string();
    let declined = v["attendees"].as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x["self"] == json!(true) && x["responseStatus"] == "declined")
    });
    if v["status"] == "cancelled"
        || v["transparency"] == "transparent"
        || v["extendedProperties"]["private"]["projectflo_event_id"].is_string()
        || declined
    {
        return Some(Item::Free(id));
    }
    let instant = |t: &Value| -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(t["dateTime"].as_str()?)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let day = |t: &Value| NaiveDate::parse_from_str(t["date"].as_str()?, "%Y-%m-%d").ok();
    let (start, end, all_day) = match (instant(&v["start"]), instant(&v["end"])) {
        (Some(s), Some(e)) => (s, e, false),
        _ => {
            let (first, after) = (day(&v["start"])?, day(&v["end"])?);
            let last = after.pred_opt().filter(|l| *l >= first).unwrap_or(first);
            let (s, e) = rules::all_day_range(first, last, tz);
            (s, e, true)
        }
    };
    if end <= start {
        return Some(Item::Free(id));
    }
    Some(Item::Busy {
        id,
        start,
        end,
        all_day,
    })
}

/// One chosen calendar pulled: from its sync token (or whole, from a day back, when there is
/// none), page by page; the next sync token kept at the end. A 410 on the token: whole again.
pub async fn pull(
    conn: &mut PgConnection,
    s: &mut Session<'_>,
    tz: &str,
    link: &Link,
    cal: &Cal,
    now: DateTime<Utc>,
) -> Result<Counts, Failure> {
    let path = format!("/calendars/{}/events", seg(&cal.calendar_id));
    let mut token = cal.sync_token.clone();
    let mut again = false;
    let time_min = (now - Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    'listing: loop {
        let mut n = Counts::default();
        let mut seen: Vec<String> = vec![];
        let mut page: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q: Vec<(&str, &str)> = vec![("singleEvents", "true"), ("maxResults", "250")];
            match &token {
                Some(t) => q.push(("syncToken", t)),
                None => {
                    q.push(("timeMin", &time_min));
                    q.push(("showDeleted", "false"));
                }
            }
            if let Some(p) = &page {
                q.push(("pageToken", p));
            }
            let v = match s.call(Method::GET, &path, &q, None, "events list").await {
                Err(Failure::Gone) if token.is_some() && !again => {
                    tracing::info!(
                        contributor = link.contributor_id,
                        "Google no longer honours a sync token: listing the calendar whole"
                    );
                    token = None;
                    again = true;
                    continue 'listing;
                }
                r => r?,
            };
            let items: Vec<Item> = v["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| item(i, tz))
                .collect();
            if token.is_none() {
                seen.extend(items.iter().filter_map(|i| match i {
                    Item::Busy { id, .. } => Some(id.clone()),
                    Item::Free(_) => None,
                }));
            }
            let c = apply(conn, link.contributor_id, &cal.calendar_id, &items, now)
                .await
                .map_err(db)?;
            n.added += c.added;
            n.changed += c.changed;
            n.removed += c.removed;
            page = v["nextPageToken"].as_str().map(str::to_string);
            if page.is_some() {
                continue;
            }
            let next = v["nextSyncToken"].as_str().map(str::to_string);
            let mut tx = conn.begin().await.map_err(db)?;
            if token.is_none() {
                // A whole listing: what it did not name is gone.
                let gone = sqlx::query(
                    "DELETE FROM calendar_events WHERE contributor_id = $1
                       AND event_type = 'EXTERNAL_SYNC' AND external_calendar_id = $2
                       AND NOT (external_event_id = ANY($3))",
                )
                .bind(link.contributor_id)
                .bind(&cal.calendar_id)
                .bind(&seen)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                n.removed += gone.rows_affected();
            }
            sqlx::query(
                "UPDATE calendar_sync_calendars SET sync_token = $3
                 WHERE sync_id = $1 AND calendar_id = $2",
            )
            .bind(link.id)
            .bind(&cal.calendar_id)
            .bind(next)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)?;
            return Ok(n);
        }
        return Err(Failure::Other(format!(
            "the calendar \"{}\" has more than {MAX_PAGES} pages of changes; the next run goes on",
            cal.summary
        )));
    }
}

/// One page of items stored, in one transaction: busy times inserted or moved, the others
/// removed.
async fn apply(
    conn: &mut PgConnection,
    contributor: i32,
    calendar: &str,
    items: &[Item],
    now: DateTime<Utc>,
) -> Result<Counts, sqlx::Error> {
    // The last word on an id in the page counts.
    let mut busy: Vec<(&str, DateTime<Utc>, DateTime<Utc>, bool)> = vec![];
    let mut free: Vec<&str> = vec![];
    for i in items {
        let id = match i {
            Item::Busy { id, .. } | Item::Free(id) => id.as_str(),
        };
        busy.retain(|b| b.0 != id);
        free.retain(|f| *f != id);
        match i {
            Item::Busy {
                start,
                end,
                all_day,
                ..
            } => busy.push((id, *start, *end, *all_day)),
            Item::Free(_) => free.push(id),
        }
    }
    let mut tx = conn.begin().await?;
    let written: Vec<bool> = sqlx::query_scalar(
        "INSERT INTO calendar_events (contributor_id, title, start_time, end_time, is_all_day,
             event_type, external_calendar_id, external_event_id, created_at, updated_at)
         SELECT $1, $2, x.s, x.e, x.a, 'EXTERNAL_SYNC', $3, x.id, $8, $8
         FROM unnest($4::text[], $5::timestamptz[], $6::timestamptz[], $7::bool[]) AS x(id, s, e, a)
         ON CONFLICT (contributor_id, external_calendar_id, external_event_id)
             WHERE external_event_id IS NOT NULL
         DO UPDATE SET start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
             is_all_day = EXCLUDED.is_all_day, cancelled_at = NULL, updated_at = EXCLUDED.updated_at
         WHERE (calendar_events.start_time, calendar_events.end_time, calendar_events.is_all_day)
               IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.is_all_day)
         RETURNING xmax = 0",
    )
    .bind(contributor)
    .bind(BUSY_TITLE)
    .bind(calendar)
    .bind(busy.iter().map(|b| b.0).collect::<Vec<_>>())
    .bind(busy.iter().map(|b| b.1).collect::<Vec<_>>())
    .bind(busy.iter().map(|b| b.2).collect::<Vec<_>>())
    .bind(busy.iter().map(|b| b.3).collect::<Vec<_>>())
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let removed = sqlx::query(
        "DELETE FROM calendar_events WHERE contributor_id = $1 AND event_type = 'EXTERNAL_SYNC'
           AND external_calendar_id = $2 AND external_event_id = ANY($3)",
    )
    .bind(contributor)
    .bind(calendar)
    .bind(&free)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    let added = written.iter().filter(|x| **x).count() as u64;
    Ok(Counts {
        added,
        changed: written.len() as u64 - added,
        removed,
    })
}

#[cfg(test)]
mod tests {
    use super::super::push::google_id;
    use super::*;

    #[test]
    fn items_are_busy_times_or_free() {
        let tz = "America/Los_Angeles";
        let busy = item(
            &json!({"id": "a1", "status": "confirmed",
                    "start": {"dateTime": "2027-06-12T10:00:00-07:00"},
                    "end": {"dateTime": "2027-06-12T12:00:00-07:00"}}),
            tz,
        )
        .unwrap();
        let Item::Busy {
            start,
            end,
            all_day,
            ..
        } = busy
        else {
            panic!("{busy:?}")
        };
        assert_eq!(start.to_rfc3339(), "2027-06-12T17:00:00+00:00");
        assert_eq!((end - start).num_hours(), 2);
        assert!(!all_day);
        // An all-day event: Google's end date is excluded; the studio's local days.
        let Some(Item::Busy {
            start,
            end,
            all_day,
            ..
        }) = item(
            &json!({"id": "d", "start": {"date": "2026-11-01"}, "end": {"date": "2026-11-02"}}),
            tz,
        )
        else {
            panic!()
        };
        assert!(all_day);
        assert_eq!(start.to_rfc3339(), "2026-11-01T07:00:00+00:00");
        assert_eq!((end - start).num_hours(), 25);
        for free in [
            json!({"id": "c", "status": "cancelled"}),
            json!({"id": "t", "transparency": "transparent",
                   "start": {"date": "2027-01-01"}, "end": {"date": "2027-01-02"}}),
            json!({"id": "o", "extendedProperties": {"private": {"projectflo_event_id": "4"}},
                   "start": {"date": "2027-01-01"}, "end": {"date": "2027-01-02"}}),
            json!({"id": "x", "attendees": [{"self": true, "responseStatus": "declined"}],
                   "start": {"date": "2027-01-01"}, "end": {"date": "2027-01-02"}}),
            json!({"id": "z", "start": {"dateTime": "2027-06-12T10:00:00Z"},
                   "end": {"dateTime": "2027-06-12T10:00:00Z"}}),
        ] {
            assert!(matches!(item(&free, tz), Some(Item::Free(_))), "{free}");
        }
        assert_eq!(item(&json!({"status": "confirmed"}), tz), None);
        assert_eq!(google_id(42), "projectflo42");
    }
}
