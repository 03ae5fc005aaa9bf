//! Google Calendar two-way sync (optional: off unless `Settings::google` is set). Each person
//! may connect their Google account (OAuth 2, authorization code flow with offline access);
//! their refresh token (and the last access token) are kept sealed with AES-256-GCM
//! (`crypto::seal`, the key a setting), never logged and never in the API. Our events of theirs
//! (assignments, absences, holidays, personal events) are pushed to a dedicated "ProjectFlo"
//! calendar in their account and kept in step; the calendars they choose are pulled as
//! EXTERNAL_SYNC busy times (incrementally, by sync token), which make them unavailable like
//! any other blocking event.
//!
//! `client` speaks Google's HTTP APIs (retries, refresh on 401), `sync` is the background run
//! (one runner at a time across instances) with `push` and `pull`, `pages` the person's page, the connect flow and
//! the Owner's overview. This module holds the connection's queries.
pub mod client;
pub mod pages;
pub mod pull;
pub mod push;
pub mod sync;

use crate::crypto::{self, SealKey};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

/// The name of the calendar our events are pushed to, in each connected account.
pub const CALENDAR_NAME: &str = "ProjectFlo";

/// What a run added, changed and removed (pushed or pulled).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
}

/// At most this many pages of one listing per run.
const MAX_PAGES: usize = 200;

/// A failure of ours (the database) during a run, as the run reports it (the details go to
/// the server log only).
fn db(e: impl std::fmt::Display) -> client::Failure {
    tracing::error!(error = %e, "Google Calendar sync: database error");
    client::Failure::Other("ProjectFlo could not save what it synced (see the server log)".into())
}

/// The spec's `calendar_sync_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "calendar_sync_status")]
pub enum Status {
    /// Syncing (the last run went well, or none has run yet).
    Active,
    /// The last run failed; the next one tries again.
    Error,
    /// Google refused the grant: nothing runs until the person connects again.
    Disabled,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::Error => "Error",
            Status::Disabled => "Disabled",
        }
    }
}

/// One person's connection (`calendar_sync_tokens`), tokens still sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Link {
    pub id: i32,
    pub contributor_id: i32,
    pub refresh_token: String,
    pub access_token: Option<String>,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub google_calendar_id: Option<String>,
    pub account: Option<String>,
    pub sync_status: Status,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub connected_at: DateTime<Utc>,
}

pub const LINK_COLUMNS: &str = "id, contributor_id, refresh_token, access_token, access_expires_at,
    google_calendar_id, account, sync_status, last_sync_at, last_error, last_error_at, connected_at";

/// What a sealed token is bound to: its person and which token it is.
fn context(contributor: i32, which: &str) -> String {
    format!("calendar_sync_tokens:{contributor}:{which}")
}

pub fn seal_token(key: &SealKey, contributor: i32, which: &str, token: &str) -> String {
    crypto::seal(key, &context(contributor, which), token)
}

pub fn open_token(
    key: &SealKey,
    contributor: i32,
    which: &str,
    sealed: &str,
) -> anyhow::Result<String> {
    crypto::open(key, &context(contributor, which), sealed)
}

/// A person's connection, if any.
pub async fn link_of(conn: &mut PgConnection, contributor: i32) -> AppResult<Option<Link>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LINK_COLUMNS} FROM calendar_sync_tokens WHERE contributor_id = $1"
    ))
    .bind(contributor)
    .fetch_optional(conn)
    .await?)
}

/// A new state parameter for `staff`'s consent round trip (only its hash is kept).
pub async fn new_state(
    tx: &mut PgConnection,
    contributor: i32,
    session: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let state = crypto::random_token();
    sqlx::query("DELETE FROM google_oauth_states WHERE created_at < $1")
        .bind(now - Duration::minutes(STATE_MINUTES))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO google_oauth_states (state_hash, contributor_id, session_id, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(crypto::token_hash(&state))
    .bind(contributor)
    .bind(session)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(state)
}

/// How long a state parameter is good for.
const STATE_MINUTES: i64 = 10;

/// Use a state parameter: good once, for the person and session it was made for, for ten
/// minutes. Anything else is refused (a forged or replayed return from the consent page).
pub async fn take_state(
    tx: &mut PgConnection,
    state: &str,
    contributor: i32,
    session: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let found: Option<i32> = sqlx::query_scalar(
        "DELETE FROM google_oauth_states
         WHERE state_hash = $1 AND contributor_id = $2 AND session_id IS NOT DISTINCT FROM $3
           AND created_at > $4
         RETURNING contributor_id",
    )
    .bind(crypto::token_hash(state))
    .bind(contributor)
    .bind(session)
    .bind(now - Duration::minutes(STATE_MINUTES))
    .fetch_optional(tx)
    .await?;
    found.map(|_| ()).ok_or_else(|| {
        AppError::Conflict(
            "this answer from Google does not belong to a connection you started here in the \
             last ten minutes (or was used already): start again with Connect Google Calendar"
                .into(),
        )
    })
}

/// A calendar of the person's account (`calendar_sync_calendars`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Cal {
    pub calendar_id: String,
    pub summary: String,
    pub is_primary: bool,
    pub selected: bool,
    pub sync_token: Option<String>,
}

/// The calendars that can be pulled (all of theirs but our own), the primary first.
pub async fn calendars(conn: &mut PgConnection, link: &Link) -> AppResult<Vec<Cal>> {
    Ok(sqlx::query_as(
        "SELECT calendar_id, summary, is_primary, selected, sync_token
         FROM calendar_sync_calendars
         WHERE sync_id = $1 AND calendar_id IS DISTINCT FROM $2
         ORDER BY is_primary DESC, lower(summary), calendar_id",
    )
    .bind(link.id)
    .bind(&link.google_calendar_id)
    .fetch_all(conn)
    .await?)
}

/// Store a new connection (or renew one): the tokens sealed, status Active, errors cleared.
pub async fn connect(
    tx: &mut PgConnection,
    key: &SealKey,
    contributor: i32,
    tokens: &client::Tokens,
    refresh: &str,
    now: DateTime<Utc>,
) -> AppResult<Link> {
    let link: Link = sqlx::query_as(&format!(
        "INSERT INTO calendar_sync_tokens (contributor_id, provider, refresh_token, access_token,
             access_expires_at, sync_status, connected_at)
         VALUES ($1, 'Google', $2, $3, $4, 'Active', $5)
         ON CONFLICT (contributor_id) DO UPDATE SET refresh_token = $2, access_token = $3,
             access_expires_at = $4, sync_status = 'Active', connected_at = $5,
             last_error = NULL, last_error_at = NULL
         RETURNING {LINK_COLUMNS}"
    ))
    .bind(contributor)
    .bind(seal_token(key, contributor, "refresh", refresh))
    .bind(seal_token(key, contributor, "access", &tokens.access_token))
    .bind(tokens.expires_in.map(|s| now + Duration::seconds(s)))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    crate::audit::record(
        tx,
        Some(contributor),
        "calendar.google_connect",
        "contributor",
        Some(contributor),
        serde_json::json!({}),
    )
    .await?;
    Ok(link)
}

/// Forget a connection: its calendars, what was pushed, and the busy times pulled from it.
/// Returns the refresh token (to revoke at Google after the commit), if it still opens.
pub async fn disconnect(
    tx: &mut PgConnection,
    key: Option<&SealKey>,
    contributor: i32,
) -> AppResult<Option<String>> {
    let gone: Option<String> = sqlx::query_scalar(
        "DELETE FROM calendar_sync_tokens WHERE contributor_id = $1 RETURNING refresh_token",
    )
    .bind(contributor)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM calendar_events WHERE contributor_id = $1 AND event_type = 'EXTERNAL_SYNC'",
    )
    .bind(contributor)
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        tx,
        Some(contributor),
        "calendar.google_disconnect",
        "contributor",
        Some(contributor),
        serde_json::json!({}),
    )
    .await?;
    Ok(gone.and_then(|t| open_token(key?, contributor, "refresh", &t).ok()))
}

/// The calendars a person chose to pull: the others' busy times are removed and their sync
/// tokens forgotten (choosing one again lists it whole).
pub async fn choose(tx: &mut PgConnection, link: &Link, chosen: &[String]) -> AppResult<()> {
    sqlx::query(
        "UPDATE calendar_sync_calendars SET selected = (calendar_id = ANY($2)),
             sync_token = CASE WHEN calendar_id = ANY($2) THEN sync_token END
         WHERE sync_id = $1",
    )
    .bind(link.id)
    .bind(chosen)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM calendar_events WHERE contributor_id = $1 AND event_type = 'EXTERNAL_SYNC'
           AND NOT (external_calendar_id = ANY($2))",
    )
    .bind(link.contributor_id)
    .bind(chosen)
    .execute(tx)
    .await?;
    Ok(())
}

/// One person of the team as the Owner's overview reads them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamRow {
    pub contributor_id: i32,
    pub name: String,
    pub role: String,
    pub connected: bool,
    pub account: Option<String>,
    pub sync_status: Option<Status>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub calendars: i64,
}

/// Every active staff member with their sync state.
pub async fn team(conn: &mut PgConnection) -> AppResult<Vec<TeamRow>> {
    Ok(sqlx::query_as(
        "SELECT co.id AS contributor_id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name,
                r.name AS role, t.id IS NOT NULL AS connected, t.account, t.sync_status,
                t.last_sync_at, t.last_error, t.last_error_at,
                (SELECT count(*) FROM calendar_sync_calendars k
                 WHERE k.sync_id = t.id AND k.selected) AS calendars
         FROM contributors co
         JOIN contacts c ON c.id = co.contact_id
         JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         LEFT JOIN calendar_sync_tokens t ON t.contributor_id = co.id
         ORDER BY lower(c.first_name), lower(c.last_name), co.id
         LIMIT 500",
    )
    .fetch_all(conn)
    .await?)
}
