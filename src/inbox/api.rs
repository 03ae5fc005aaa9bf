//! The JSON API of the inbox: my notifications (keyset), marking one or all read.
use super::notifications::{self, Notification};
use crate::auth::{Access, Staff};
use crate::db::Db;
use crate::http::routes::Routes;
use crate::http::{ApiPath, ApiQuery, AppResult};
use crate::page;
use axum::Json;
use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new()
        .api(Access::Staff, routes!(api_notifications))
        .api(Access::Staff, routes!(api_read_notification))
        .api(Access::Staff, routes!(api_read_all_notifications))
}

/// My notifications, newest first, 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "inbox", params(page::AfterPage),
    responses(
        (status = 200, body = Vec<Notification>, headers(
            ("Link" = String, description = "`<...?after=...>; rel=\"next\"` when there are more")
        )),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn api_notifications(
    mut db: Db,
    staff: Staff,
    ApiQuery(p): ApiQuery<page::AfterPage>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let (rows, next) =
        notifications::page(&mut db, staff.contributor_id, p.after.as_deref()).await?;
    let resp = Json(rows).into_response();
    Ok(page::with_next(
        resp,
        "/api/v1/notifications",
        query.as_deref(),
        next,
    ))
}

/// Mark one of my notifications read (another person's is a 404); the notification.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "inbox",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = Notification),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn api_read_notification(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Json<Notification>> {
    let mut tx = db.begin().await?;
    let n = notifications::open(&mut tx, staff.contributor_id, id).await?;
    tx.commit().await?;
    Ok(Json(n))
}

#[derive(Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many were unread.
    pub marked: u64,
}

/// Mark all my notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "inbox",
    responses((status = 200, body = MarkedRead)))]
async fn api_read_all_notifications(mut db: Db, staff: Staff) -> AppResult<Json<MarkedRead>> {
    let mut tx = db.begin().await?;
    let marked = notifications::read_all(&mut tx, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(Json(MarkedRead { marked }))
}
