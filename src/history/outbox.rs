//! Settings > Email outbox: every email the app queued, newest first by keyset, filtered by
//! state (queued, failing, sent), with its tries, when the next one is due and the mail server's
//! last answer; a failing one can be retried at once. The sending itself is `mail::outbox`.
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::mail::{self, outbox};
use crate::page;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::{PgConnection, Postgres, QueryBuilder};

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::SettingsManage);
    Routes::new()
        .get("/settings/outbox", manage, outbox_page)
        .post("/settings/outbox/{id}/retry", manage, retry)
}

/// Which emails a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Show {
    #[default]
    All,
    /// Not sent, never tried yet.
    Queued,
    /// Not sent, tried and failed (retrying, or given up).
    Failing,
    Sent,
}

impl Show {
    const ALL: [(Show, &'static str, &'static str); 4] = [
        (Show::All, "all", "All"),
        (Show::Queued, "queued", "Queued"),
        (Show::Failing, "failing", "Failing"),
        (Show::Sent, "sent", "Sent"),
    ];

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|s| s.0 == self)
            .map_or("all", |s| s.1)
    }

    /// The condition on an `email_outbox` row; the unsent ones go by the partial index of
    /// unsent rows, a few however long the history.
    pub fn condition(self) -> &'static str {
        match self {
            Show::All => "true",
            Show::Queued => "sent_at IS NULL AND attempts = 0",
            Show::Failing => "sent_at IS NULL AND attempts > 0",
            Show::Sent => "sent_at IS NOT NULL",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct OutboxQuery {
    #[serde(default)]
    pub show: Show,
    #[serde(default)]
    pub after: Option<String>,
}

/// One queued email as the page lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct Row {
    pub id: i32,
    pub created_at: DateTime<Utc>,
    pub to_address: String,
    pub subject: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Row {
    pub fn state(&self) -> &'static str {
        match (self.sent_at, self.failed_at, self.attempts) {
            (Some(_), _, _) => "Sent",
            (None, Some(_), _) => "Failed: gave up",
            (None, None, 0) => "Queued",
            (None, None, _) => "Failing: retrying",
        }
    }

    pub fn can_retry(&self) -> bool {
        self.sent_at.is_none() && self.attempts > 0
    }
}

/// One page of the outbox, newest first, after the cursor; the next page's cursor when more
/// follow.
pub async fn rows(
    conn: &mut PgConnection,
    show: Show,
    after: Option<page::After>,
) -> AppResult<(Vec<Row>, Option<page::After>)> {
    let rows: Vec<Row> = query(show, after).build_query_as().fetch_all(conn).await?;
    Ok(page::split(rows, |r| page::After {
        at: r.created_at,
        id: r.id,
    }))
}

/// The statement of one page (binds: the cursor's time and id, the limit): along
/// `outbox_created_idx`, or `outbox_unsent_idx` for what is not sent yet.
pub fn query(show: Show, after: Option<page::After>) -> QueryBuilder<'static, Postgres> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT id, created_at, to_address, subject, attempts, next_attempt_at, last_error,
                failed_at, sent_at
         FROM email_outbox WHERE (created_at, id) < (COALESCE(",
    );
    qb.push_bind(after.map(|a| a.at))
        .push("::timestamptz, 'infinity'), ")
        .push_bind(after.map_or(i32::MAX, |a| a.id))
        .push(") AND ")
        .push(show.condition())
        .push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(page::SIZE + 1);
    qb
}

#[derive(Template)]
#[template(path = "settings/outbox.html")]
struct OutboxPage {
    layout: Layout,
    rows: Vec<Row>,
    show: &'static str,
    shows: [(Show, &'static str, &'static str); 4],
    smtp: bool,
    later: bool,
    next: Option<String>,
}

impl OutboxPage {
    fn time(&self, at: &Option<DateTime<Utc>>) -> String {
        at.map(|t| self.layout.settings.time(&t))
            .unwrap_or_default()
    }
}

async fn outbox_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    q: Result<Query<OutboxQuery>, QueryRejection>,
) -> AppResult<Response> {
    let Query(q) = q.map_err(|_| AppError::field("show", "choose a list from the tabs"))?;
    let after = page::After::parse(q.after.as_deref())?;
    let layout = Layout::load(&mut db, &staff, "Email outbox", "/settings").await?;
    let (rows, next) = rows(&mut db, q.show, after).await?;
    Ok(render(&OutboxPage {
        layout,
        rows,
        show: q.show.name(),
        shows: Show::ALL,
        smtp: state.settings.smtp_url.is_some(),
        later: after.is_some(),
        next: next.map(|n| n.cursor()),
    })
    .into_response())
}

/// "Retry now": the email is due at once and an attempt starts; the page shows how it went.
async fn retry(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    crate::db::transaction(&mut db, async |tx| {
        if !outbox::retry(tx, id).await? {
            return Err(AppError::Conflict(
                "this email is not waiting to be sent (sent already, or not in the outbox)".into(),
            ));
        }
        crate::audit::record(
            tx,
            Some(staff.contributor_id),
            "retry",
            "email_outbox",
            Some(id),
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    })
    .await?;
    mail::Outgoing::of(id, &state.settings)
        .send_and_wait(&state.db, &state.clock)
        .await;
    Ok(Redirect::to("/settings/outbox").into_response())
}
