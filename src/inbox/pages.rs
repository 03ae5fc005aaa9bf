//! The Inbox page (`/inbox`, linked from every staff page's header with the unread count): the
//! person's notifications newest first, 50 a page, unread ones marked; opening one marks it read
//! and goes to its record; "Mark all read".
use super::notifications::{self, Notification};
use crate::auth::{Access, Staff};
use crate::db::Db;
use crate::error::AppResult;
use crate::http::layout::{Layout, render};
use crate::http::redirect::local_path;
use crate::http::routes::Routes;
use askama::Template;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .get("/inbox", Access::Staff, inbox)
        .post("/inbox/read-all", Access::Staff, read_all)
        .post("/inbox/{id}/open", Access::Staff, open)
}

#[derive(Deserialize, Default)]
struct InboxQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    done: String,
}

/// A notification as the page shows it.
struct Row {
    id: i32,
    message: String,
    /// Where it leads (a path on this site), if anywhere.
    href: Option<String>,
    is_read: bool,
    at: DateTime<Utc>,
}

impl From<Notification> for Row {
    fn from(n: Notification) -> Row {
        Row {
            href: n.link_url.as_deref().map(|l| local_path(l, "/inbox")),
            id: n.id,
            message: n.message,
            is_read: n.is_read,
            at: n.created_at,
        }
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    rows: Vec<Row>,
    /// Whether this is a later page (then a link back to the newest).
    later: bool,
    next: Option<String>,
    flash: Option<&'static str>,
}

async fn inbox(mut db: Db, staff: Staff, Query(q): Query<InboxQuery>) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Inbox", "/inbox").await?;
    let after = q.after.as_deref().filter(|a| !a.is_empty());
    let (rows, next) = notifications::page(&mut db, staff.contributor_id, after).await?;
    Ok(render(&InboxPage {
        layout,
        rows: rows.into_iter().map(Row::from).collect(),
        later: after.is_some(),
        next: next.map(|n| n.cursor()),
        flash: (q.done == "read").then_some("Every notification is marked read."),
    }))
}

/// Open a notification: marked read, then its record (or the inbox when it links nowhere).
async fn open(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    let n = notifications::open(&mut tx, staff.contributor_id, id).await?;
    tx.commit().await?;
    let to = n
        .link_url
        .as_deref()
        .map_or("/inbox".into(), |l| local_path(l, "/inbox"));
    Ok(Redirect::to(&to).into_response())
}

async fn read_all(mut db: Db, staff: Staff) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    notifications::read_all(&mut tx, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(Redirect::to("/inbox?done=read").into_response())
}
