//! The list of quotes, starting an inquiry's quote (empty or from a package), and the open
//! inquiries a quote can start for.
use super::forms::{StartForm, num};
use super::packages;
use super::view::{self, QuoteRow};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult};
use crate::page;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/quotes", Access::Perm(Permission::BuildsView), list)
        .post(
            "/leads/{id}/quote",
            Access::Perm(Permission::BuildsEdit),
            start,
        )
        .get(
            "/quotes/{id}/copy-to",
            Access::Perm(Permission::BuildsEdit),
            copy_to,
        )
}

#[derive(Template)]
#[template(path = "quote/list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<QuoteRow>,
    /// The next page's cursor, when there are more quotes.
    next: Option<String>,
}

impl ListPage {
    fn money(&self, d: &Decimal) -> String {
        self.layout.settings.money(*d)
    }
}

#[derive(Deserialize)]
struct PageQuery {
    after: Option<String>,
}

async fn list(mut db: Db, staff: Staff, Query(q): Query<PageQuery>) -> AppResult<Response> {
    let after = page::After::parse(q.after.as_deref())?;
    let (rows, next) = view::quotes(&mut db, after).await?;
    Ok(render(&ListPage {
        layout: Layout::load(&mut db, &staff, "Quotes", "/quotes").await?,
        rows,
        next: next.map(|n| n.cursor()),
    }))
}

/// Open the inquiry's quote; without one, start it (from a package when one is chosen).
async fn start(
    mut db: Db,
    staff: Staff,
    Path(inquiry): Path<i32>,
    Form(f): Form<StartForm>,
) -> AppResult<Response> {
    let package = num::<i32>("package_id", &f.package_id)?;
    let mut tx = db.begin().await?;
    let id = packages::open_or_start(&mut tx, inquiry, package, Some(staff.contributor_id)).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/quotes/{id}")).into_response())
}

/// An open inquiry a quote can be copied to.
#[derive(sqlx::FromRow)]
pub struct OpenInquiry {
    pub id: i32,
    /// "Name · Mon DD, YYYY".
    pub label: String,
    pub created_at: DateTime<Utc>,
}

/// A page of the open inquiries without a quote, newest first by (created, id), from the
/// cursor on; the next page's cursor when more follow.
pub async fn open_inquiries(
    conn: &mut PgConnection,
    after: Option<page::After>,
) -> AppResult<(Vec<OpenInquiry>, Option<page::After>)> {
    let rows: Vec<OpenInquiry> = sqlx::query_as(
        "SELECT i.id, trim(concat_ws(' ', c.first_name, c.last_name))
                || COALESCE(' · ' || to_char(i.wedding_date, 'Mon DD, YYYY'), '') AS label,
                i.created_at
             FROM inquiries i JOIN contacts c ON c.id = i.contact_id
             WHERE i.status = ANY($1)
               AND NOT EXISTS (SELECT 1 FROM builds b WHERE b.inquiry_id = i.id)
               AND (i.created_at, i.id)
                   < (COALESCE($2::timestamptz, 'infinity'), COALESCE($3::int, 2147483647))
             ORDER BY i.created_at DESC, i.id DESC LIMIT $4",
    )
    .bind(&crate::crm::InquiryStatus::OPEN[..])
    .bind(after.map(|a| a.at))
    .bind(after.map(|a| a.id))
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |r| page::After {
        at: r.created_at,
        id: r.id,
    }))
}

#[derive(Template)]
#[template(path = "quote/copy_to.html")]
struct CopyToPage {
    layout: Layout,
    id: i32,
    rows: Vec<OpenInquiry>,
    /// Whether this is a later page (then a link back to the first).
    later: bool,
    /// The next page's address, when there are more.
    next: Option<String>,
}

/// Every open inquiry without a quote, a page at a time, each with a button to copy the quote
/// `id` to it (the builder's picker shows only the newest page).
async fn copy_to(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let after = page::After::parse(q.after.as_deref())?;
    let found: Option<i32> = sqlx::query_scalar("SELECT id FROM builds WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *db)
        .await?;
    found.ok_or_else(|| AppError::not_found("quote"))?;
    let (rows, next) = open_inquiries(&mut db, after).await?;
    let path = format!("/quotes/{id}/copy-to");
    Ok(render(&CopyToPage {
        layout: Layout::load(&mut db, &staff, "Copy the quote", "/quotes").await?,
        id,
        rows,
        later: after.is_some(),
        next: next.map(|n| page::next_href(&path, &[], &n)),
    }))
}
