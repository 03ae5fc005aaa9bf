//! The JSON API of the catalogs and rules tables (any catalog by its slug) and of the studio
//! settings. Each handler calls the same function as its page.
use super::row::from_json;
use super::settings::{self, StudioSettings};
use super::{spec, store};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppResult};
use crate::page;
use axum::Json;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let edit = Access::Perm(Permission::CatalogEdit);
    Routes::new()
        .api(Access::Staff, routes!(api_list))
        .api(Access::Staff, routes!(api_get))
        .api(edit, routes!(api_create))
        .api(edit, routes!(api_update))
        .api(edit, routes!(api_delete))
        .api(Access::Staff, routes!(api_get_studio))
        .api(
            Access::Perm(Permission::SettingsManage),
            routes!(api_put_studio),
        )
}

/// The rows of a catalog (coverage-scenes, deliverables, editing-styles, operator-types,
/// billable-items, task-templates, default-components, style-requirements, task-recipes), by
/// name (rules tables by id), 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/catalog/{catalog}", tag = "catalog",
    params(
        ("catalog" = String, Path, description = "Catalog slug, e.g. coverage-scenes"),
        page::KeyPage,
    ),
    responses(
        (status = 200, body = Vec<Object>, headers(
            ("Link" = String, description = "`<...?after=...>; rel=\"next\"` when there are more")
        )),
        (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    ))]
async fn api_list(
    mut db: Db,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(p): ApiQuery<page::KeyPage>,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let c = spec::by_slug(&slug)?;
    let after = page::Key::parse(p.after.as_deref(), 1)?;
    let (rows, next) = store::page(&mut db, c, after.as_ref()).await?;
    let resp = Json(rows.iter().map(|r| r.to_json(c)).collect::<Vec<Value>>()).into_response();
    let path = format!("/api/v1/catalog/{}", c.slug);
    Ok(page::with_next(resp, &path, query.as_deref(), next))
}

/// One row of a catalog.
#[utoipa::path(get, path = "/api/v1/catalog/{catalog}/{id}", tag = "catalog",
    params(("catalog" = String, Path), ("id" = i32, Path)),
    responses(
        (status = 200, body = Object),
        (status = 404, body = crate::http::error::Problem)
    ))]
async fn api_get(
    mut db: Db,
    ApiPath((slug, id)): ApiPath<(String, i32)>,
) -> AppResult<Json<Value>> {
    let c = spec::by_slug(&slug)?;
    let row = store::get(&mut db, c, id).await?;
    Ok(Json(row.to_json(c)))
}

/// Add a row. Decimals may be sent as strings ("150.00") or numbers.
#[utoipa::path(post, path = "/api/v1/catalog/{catalog}", tag = "catalog",
    params(("catalog" = String, Path)), request_body = Object,
    responses(
        (status = 201, body = Object),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    ))]
async fn api_create(
    mut db: Db,
    staff: Staff,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let c = spec::by_slug(&slug)?;
    let values = from_json(c, body)?;
    let mut tx = db.begin().await?;
    let row = store::create(&mut tx, c, &values, staff.contributor_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.to_json(c))))
}

/// Replace a row's fields (every writable field; missing ones become empty).
#[utoipa::path(put, path = "/api/v1/catalog/{catalog}/{id}", tag = "catalog",
    params(("catalog" = String, Path), ("id" = i32, Path)), request_body = Object,
    responses(
        (status = 200, body = Object),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    ))]
async fn api_update(
    mut db: Db,
    staff: Staff,
    ApiPath((slug, id)): ApiPath<(String, i32)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let c = spec::by_slug(&slug)?;
    let values = from_json(c, body)?;
    let mut tx = db.begin().await?;
    let row = store::update(&mut tx, c, id, &values, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(Json(row.to_json(c)))
}

/// Delete a row that nothing uses (409 naming what uses it otherwise).
#[utoipa::path(delete, path = "/api/v1/catalog/{catalog}/{id}", tag = "catalog",
    params(("catalog" = String, Path), ("id" = i32, Path)),
    responses(
        (status = 204),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem)
    ))]
async fn api_delete(
    mut db: Db,
    staff: Staff,
    ApiPath((slug, id)): ApiPath<(String, i32)>,
) -> AppResult<StatusCode> {
    let c = spec::by_slug(&slug)?;
    let mut tx = db.begin().await?;
    store::delete(&mut tx, c, id, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The studio settings: currency, time zone, editing rate, tax, deposit, balance due days,
/// invoice prefix, task phases, how long proposals stay open, which notifications also email
/// the owner.
#[utoipa::path(get, path = "/api/v1/studio-settings", tag = "catalog",
    responses((status = 200, body = StudioSettings)))]
async fn api_get_studio(mut db: Db) -> AppResult<Json<StudioSettings>> {
    let s = settings::load(&mut db).await?;
    Ok(Json(StudioSettings::from(&s)))
}

/// Change the studio settings (every field, but delivery_weeks_after_wedding is kept when left
/// out; decimals as text, task_phase_order a list).
#[utoipa::path(put, path = "/api/v1/studio-settings", tag = "catalog",
    request_body = StudioSettings,
    responses(
        (status = 200, body = StudioSettings),
        (status = 422, body = crate::http::error::Problem)
    ))]
async fn api_put_studio(
    mut db: Db,
    staff: Staff,
    ApiJson(v): ApiJson<StudioSettings>,
) -> AppResult<Json<StudioSettings>> {
    let form = v.into_form()?;
    let mut tx = db.begin().await?;
    let saved = settings::update(&mut tx, &form, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(Json(StudioSettings::from(&saved)))
}
