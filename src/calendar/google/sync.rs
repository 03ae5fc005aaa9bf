//! The sync run: for each connected person, their calendar list refreshed, their "ProjectFlo"
//! calendar made if it is missing, our events pushed to it (new ones inserted, changed ones
//! patched, cancelled ones deleted there), then each calendar they chose pulled as
//! EXTERNAL_SYNC busy times: incrementally by sync token, page by page; a 410 Gone on the
//! token lists it whole again and removes what is no longer there. The outcome is kept on the
//! connection (`sync_status`, `last_error`), for the person's page and the Owner's.
//!
//! One runner at a time across instances: the run holds a transaction-level advisory lock on
//! a connection of its own (released with it, whatever happens); a second runner finds it
//! taken and does nothing.
use super::client::{Failure, Session};
use super::pull::pull;
use super::push::push;
use super::{
    CALENDAR_NAME, Counts, LINK_COLUMNS, Link, MAX_PAGES, Status, calendars, db, open_token,
    seal_token,
};
use crate::clock::Clock;
use crate::config::{GoogleSettings, Settings};
use crate::error::AppResult;
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};

/// The advisory lock key of the sync run ("PFGSYNC1" in ASCII).
pub const LOCK_KEY: i64 = 0x5046_4753_594e_4331;

/// What a run did.
#[derive(Debug)]
pub enum Outcome {
    /// Google sync is not configured.
    Off,
    /// Another runner holds the lock.
    Busy,
    Ran(Vec<PersonRun>),
}

#[derive(Debug)]
pub struct PersonRun {
    pub contributor_id: i32,
    pub pushed: Counts,
    pub pulled: Counts,
    pub error: Option<String>,
}

impl Outcome {
    /// In lines for the terminal or the log.
    pub fn report(&self) -> String {
        match self {
            Outcome::Off => "Google Calendar sync is off (set PROJECTFLO_GOOGLE_CLIENT_ID, \
                             PROJECTFLO_GOOGLE_CLIENT_SECRET and PROJECTFLO_GOOGLE_TOKEN_KEY)."
                .into(),
            Outcome::Busy => "Google Calendar sync: another run is under way; nothing done.".into(),
            Outcome::Ran(people) if people.is_empty() => {
                "Google Calendar sync: no one is connected.".into()
            }
            Outcome::Ran(people) => people
                .iter()
                .map(|p| match &p.error {
                    Some(e) => format!("Google Calendar sync, person {}: {e}", p.contributor_id),
                    None => format!(
                        "Google Calendar sync, person {}: pushed {} new, {} changed, {} deleted; \
                         pulled {} busy times, {} changed, {} removed.",
                        p.contributor_id,
                        p.pushed.added,
                        p.pushed.changed,
                        p.pushed.removed,
                        p.pulled.added,
                        p.pulled.changed,
                        p.pulled.removed
                    ),
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// One run over every connected person (or only `only`), unless another runner is at it.
pub async fn run(
    pool: &PgPool,
    settings: &Settings,
    clock: &Clock,
    only: Option<i32>,
) -> AppResult<Outcome> {
    let Some(g) = settings.google() else {
        return Ok(Outcome::Off);
    };
    let mut lock_conn = pool.acquire().await?;
    let mut lock = lock_conn.begin().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .fetch_one(&mut *lock)
        .await?;
    if !got {
        return Ok(Outcome::Busy);
    }
    let mut conn = pool.acquire().await?;
    let tz = crate::studio::Studio::load(&mut conn).await?.time_zone;
    let links: Vec<Link> = sqlx::query_as(&format!(
        "SELECT {LINK_COLUMNS} FROM calendar_sync_tokens
         WHERE sync_status <> 'Disabled' AND ($1::int IS NULL OR contributor_id = $1)
         ORDER BY id"
    ))
    .bind(only)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for link in links {
        out.push(person(&mut conn, &g, &tz, link, clock.now()).await?);
    }
    lock.commit().await?;
    Ok(Outcome::Ran(out))
}

/// One person's sync; its outcome is recorded on their connection.
async fn person(
    conn: &mut PgConnection,
    g: &GoogleSettings<'_>,
    tz: &str,
    link: Link,
    now: DateTime<Utc>,
) -> AppResult<PersonRun> {
    let who = link.contributor_id;
    let mut run = PersonRun {
        contributor_id: who,
        pushed: Counts::default(),
        pulled: Counts::default(),
        error: None,
    };
    let Ok(refresh) = open_token(g.token_key, who, "refresh", &link.refresh_token) else {
        let m = "the stored Google token does not open with the token key (was the key \
                 changed?): connect Google Calendar again";
        record(conn, &link, Err((Status::Disabled, m.into())), None, now).await?;
        run.error = Some(m.into());
        return Ok(run);
    };
    let access = link
        .access_token
        .as_deref()
        .filter(|_| {
            link.access_expires_at
                .is_none_or(|t| t > now + Duration::seconds(60))
        })
        .and_then(|a| open_token(g.token_key, who, "access", a).ok());
    let mut s = Session {
        g,
        access,
        refresh_token: refresh,
        refreshed: None,
    };
    let result = both_ways(conn, &mut s, tz, &link, now).await;
    let refreshed = s
        .refreshed
        .take()
        .map(|(a, life)| (seal_token(g.token_key, who, "access", &a), life));
    let outcome = match result {
        Ok((pushed, pulled)) => {
            run.pushed = pushed;
            run.pulled = pulled;
            Ok(())
        }
        Err(Failure::Revoked(m)) => Err((Status::Disabled, m)),
        Err(f) => Err((Status::Error, f.to_string())),
    };
    if let Err((_, m)) = &outcome {
        tracing::warn!(contributor = who, error = %m, "Google Calendar sync failed");
        run.error = Some(m.clone());
    }
    record(conn, &link, outcome, refreshed, now).await?;
    Ok(run)
}

/// The run's outcome on the connection, with the new access token (sealed already) and its
/// lifetime if one was fetched.
async fn record(
    conn: &mut PgConnection,
    link: &Link,
    outcome: Result<(), (Status, String)>,
    refreshed: Option<(String, Option<i64>)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (status, error) = match outcome {
        Ok(()) => (Status::Active, None),
        Err((s, m)) => (s, Some(m)),
    };
    sqlx::query(
        "UPDATE calendar_sync_tokens SET sync_status = $2, last_error = $3,
             last_error_at = CASE WHEN $3::text IS NULL THEN NULL ELSE $4 END,
             last_sync_at = CASE WHEN $3::text IS NULL THEN $4 ELSE last_sync_at END,
             access_token = COALESCE($5, access_token),
             access_expires_at = CASE WHEN $5::text IS NULL THEN access_expires_at ELSE $6 END
         WHERE id = $1",
    )
    .bind(link.id)
    .bind(status)
    .bind(error)
    .bind(now)
    .bind(refreshed.as_ref().map(|(a, _)| a.clone()))
    .bind(
        refreshed
            .as_ref()
            .and_then(|(_, s)| s.map(|s| now + Duration::seconds(s))),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Push, then pull each chosen calendar.
async fn both_ways(
    conn: &mut PgConnection,
    s: &mut Session<'_>,
    tz: &str,
    link: &Link,
    now: DateTime<Utc>,
) -> Result<(Counts, Counts), Failure> {
    let ours = calendar_list(conn, s, tz, link).await?;
    let mut link = link.clone();
    link.google_calendar_id = Some(ours.clone());
    let pushed = push(conn, s, tz, &link, &ours, now).await?;
    let mut pulled = Counts::default();
    for cal in calendars(conn, &link).await.map_err(db)? {
        if cal.selected {
            let c = pull(conn, s, tz, &link, &cal, now).await?;
            pulled.added += c.added;
            pulled.changed += c.changed;
            pulled.removed += c.removed;
        }
    }
    Ok((pushed, pulled))
}

/// Their calendars as Google lists them now, stored (a new one is pulled if it is the
/// primary; one gone takes its busy times with it); then our own calendar, made if it is
/// missing. Returns its id.
async fn calendar_list(
    conn: &mut PgConnection,
    s: &mut Session<'_>,
    tz: &str,
    link: &Link,
) -> Result<String, Failure> {
    let mut listed: Vec<(String, String, bool)> = vec![];
    let mut page: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut q = vec![("maxResults", "250")];
        if let Some(p) = &page {
            q.push(("pageToken", p));
        }
        let v = s
            .call(
                Method::GET,
                "/users/me/calendarList",
                &q,
                None,
                "calendarList",
            )
            .await?;
        for c in v["items"].as_array().into_iter().flatten() {
            let Some(id) = c["id"].as_str() else { continue };
            let name = c["summaryOverride"]
                .as_str()
                .or(c["summary"].as_str())
                .unwrap_or(id);
            listed.push((id.into(), name.into(), c["primary"] == json!(true)));
        }
        page = v["nextPageToken"].as_str().map(str::to_string);
        if page.is_none() {
            break;
        }
    }
    let ours = match link
        .google_calendar_id
        .as_ref()
        .filter(|id| listed.iter().any(|c| &c.0 == *id))
    {
        Some(id) => id.clone(),
        // A calendar of ours from an earlier connection is used again (its events carry our
        // ids, so nothing is doubled); else a new one.
        None => match listed.iter().find(|c| c.1 == CALENDAR_NAME && !c.2) {
            Some(c) => c.0.clone(),
            None => {
                let made = s
                    .call(
                        Method::POST,
                        "/calendars",
                        &[],
                        Some(&json!({
                            "summary": CALENDAR_NAME,
                            "description": "Your shoots, absences and holidays from ProjectFlo. \
                                            Changes made here are replaced by ProjectFlo's.",
                            "timeZone": tz,
                        })),
                        "calendars insert",
                    )
                    .await?;
                made["id"]
                    .as_str()
                    .ok_or_else(|| Failure::Other("Google made no calendar".into()))?
                    .to_string()
            }
        },
    };
    let ids: Vec<&str> = listed.iter().map(|c| c.0.as_str()).collect();
    let names: Vec<&str> = listed.iter().map(|c| c.1.as_str()).collect();
    let primary: Vec<bool> = listed.iter().map(|c| c.2).collect();
    let account = listed.iter().find(|c| c.2).map(|c| c.0.clone());
    let mut tx = conn.begin().await.map_err(db)?;
    sqlx::query(
        "INSERT INTO calendar_sync_calendars (sync_id, calendar_id, summary, is_primary, selected)
         SELECT $1, x.id, x.name, x.p, x.p AND x.id <> $5
         FROM unnest($2::text[], $3::text[], $4::bool[]) AS x(id, name, p)
         ON CONFLICT (sync_id, calendar_id) DO UPDATE SET summary = EXCLUDED.summary,
             is_primary = EXCLUDED.is_primary",
    )
    .bind(link.id)
    .bind(&ids)
    .bind(&names)
    .bind(&primary)
    .bind(&ours)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    // Calendars gone from the list, and our own, are not pulled.
    sqlx::query(
        "DELETE FROM calendar_sync_calendars
         WHERE sync_id = $1 AND (NOT (calendar_id = ANY($2)) OR calendar_id = $3)",
    )
    .bind(link.id)
    .bind(&ids)
    .bind(&ours)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        "DELETE FROM calendar_events e WHERE e.contributor_id = $1
           AND e.event_type = 'EXTERNAL_SYNC'
           AND NOT EXISTS (SELECT 1 FROM calendar_sync_calendars k WHERE k.sync_id = $2
                           AND k.calendar_id = e.external_calendar_id AND k.selected)",
    )
    .bind(link.contributor_id)
    .bind(link.id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    if link.google_calendar_id.as_deref() != Some(ours.as_str()) {
        // Another calendar: everything is pushed to it afresh.
        sqlx::query("DELETE FROM calendar_pushed_events WHERE sync_id = $1")
            .bind(link.id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    sqlx::query(
        "UPDATE calendar_sync_tokens SET google_calendar_id = $2, account = COALESCE($3, account)
         WHERE id = $1",
    )
    .bind(link.id)
    .bind(&ours)
    .bind(account)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(ours)
}
