//! A staff member's notifications: a page of them newest first (keyset, by the index on
//! (recipient, created_at DESC, id DESC)), opening one (marks it read; only the recipient's own),
//! and marking them all read. Every query names the recipient: nobody reads or opens another
//! person's notifications.
use crate::error::{AppError, AppResult};
use crate::page;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

/// One notification, as the inbox and the API show it.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Notification {
    pub id: i32,
    pub message: String,
    /// The record it is about: a path on this site, e.g. `/leads/12`.
    pub link_url: Option<String>,
    pub is_read: bool,
    pub created_at: DateTime<Utc>,
}

/// The query `page` runs: `$1` the recipient, `$2`/`$3` the cursor (NULL: the first page),
/// `$4` the rows to read.
pub const PAGE_SQL: &str = "SELECT id, message, link_url, is_read, created_at FROM notifications
     WHERE recipient_contributor_id = $1
       AND (created_at, id) < (COALESCE($2::timestamptz, 'infinity'), COALESCE($3::int, 2147483647))
     ORDER BY created_at DESC, id DESC LIMIT $4";

/// One page of `who`'s notifications, newest first, after the cursor `after` (a cursor that is
/// not one is a 422 naming `after`); the next page's cursor when more follow.
pub async fn page(
    conn: &mut PgConnection,
    who: i32,
    after: Option<&str>,
) -> AppResult<(Vec<Notification>, Option<page::After>)> {
    let after = page::After::parse(after)?;
    let rows: Vec<Notification> = sqlx::query_as(PAGE_SQL)
        .bind(who)
        .bind(after.map(|a| a.at))
        .bind(after.map(|a| a.id))
        .bind(page::SIZE + 1)
        .fetch_all(conn)
        .await?;
    Ok(page::split(rows, |n| page::After {
        at: n.created_at,
        id: n.id,
    }))
}

/// Mark `who`'s notification `id` read; the notification. Another person's (or none) is a 404.
pub async fn open(tx: &mut PgConnection, who: i32, id: i32) -> AppResult<Notification> {
    sqlx::query_as(
        "UPDATE notifications SET is_read = true
         WHERE id = $1 AND recipient_contributor_id = $2
         RETURNING id, message, link_url, is_read, created_at",
    )
    .bind(id)
    .bind(who)
    .fetch_optional(tx)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("notification {id}")))
}

/// Mark every unread notification of `who` read; how many there were.
pub async fn read_all(tx: &mut PgConnection, who: i32) -> AppResult<u64> {
    Ok(sqlx::query(
        "UPDATE notifications SET is_read = true
         WHERE recipient_contributor_id = $1 AND NOT is_read",
    )
    .bind(who)
    .execute(tx)
    .await?
    .rows_affected())
}
