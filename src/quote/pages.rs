//! The list of quotes, starting an inquiry's quote (empty or from a package), and the open
//! inquiries a quote can start for.
use super::forms::{StartForm, num};
use super::packages;
use super::view::{self, QuoteRow};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::AppResult;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::page;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
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

/// Open inquiries without a quote, newest first: "Name · Mon DD, YYYY".
pub async fn open_inquiries(conn: &mut PgConnection) -> AppResult<Vec<(i32, String)>> {
    Ok(sqlx::query_as(
        "SELECT i.id, trim(concat_ws(' ', c.first_name, c.last_name))
                || COALESCE(' · ' || to_char(i.wedding_date, 'Mon DD, YYYY'), '')
             FROM inquiries i JOIN contacts c ON c.id = i.contact_id
             WHERE i.status = ANY($1)
               AND NOT EXISTS (SELECT 1 FROM builds b WHERE b.inquiry_id = i.id)
             ORDER BY i.id DESC LIMIT 200",
    )
    .bind(&crate::crm::InquiryStatus::OPEN[..])
    .fetch_all(conn)
    .await?)
}
