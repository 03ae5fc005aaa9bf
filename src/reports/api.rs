//! The reports in the JSON API: profitability, team performance, cash flow, marketing ROI and
//! pipeline (the same figures as the pages and their CSV), and marketing spend (list, add,
//! delete).
use super::cashflow::CashFlow;
use super::marketing::Roi;
use super::pages::{self, Ctx};
use super::pipeline::Pipeline;
use super::profit::{self, Profit};
use super::range::Filters;
use super::spend::{self, NewSpend, Spend, SpendIn};
use super::team::Team;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppResult, AppState};
use crate::page::{self, KeyPage};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::ReportsView);
    Routes::new()
        .api(view, routes!(profitability))
        .api(view, routes!(team_performance))
        .api(view, routes!(cash_flow))
        .api(view, routes!(marketing_roi))
        .api(view, routes!(pipeline_report))
        .api(view, routes!(spend_list, spend_create))
        .api(view, routes!(spend_delete))
}

/// Profitability per project, the projects whose wedding is in the range: approved price and
/// payments against labour, crew, expenses and card fees; margin. One page of 100 in the
/// asked order (the worst margin % first by default), and the total of every project.
#[utoipa::path(get, path = "/api/v1/reports/profitability", tag = "reports",
    params(Filters, profit::Order),
    responses(
        (status = 200, body = Profit),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn profitability(
    State(state): State<AppState>,
    mut db: Db,
    ApiQuery(f): ApiQuery<Filters>,
    ApiQuery(o): ApiQuery<profit::Order>,
) -> AppResult<Json<Profit>> {
    let ctx = Ctx::load(&state, &mut db, &pages::PROFIT, &f).await?;
    let order = o.parse()?;
    let p = profit::report(
        &mut db,
        ctx.range,
        ctx.source.clone(),
        ctx.person,
        order,
        &ctx.studio.currency_code,
    )
    .await?;
    Ok(Json(p))
}

/// Team performance: tasks completed in the range per person and task template (planned and
/// actual hours, on-time rate) and per month. `source` is not read.
#[utoipa::path(get, path = "/api/v1/reports/team-performance", tag = "reports", params(Filters),
    responses(
        (status = 200, body = Team),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn team_performance(
    State(state): State<AppState>,
    mut db: Db,
    ApiQuery(f): ApiQuery<Filters>,
) -> AppResult<Json<Team>> {
    let ctx = Ctx::load(&state, &mut db, &pages::TEAM, &f).await?;
    let t = ctx.team(&mut db).await?;
    Ok(Json(t))
}

/// Cash flow by the studio's local month: invoiced, collected, expected; outstanding and
/// overdue at today; with `source`, the invoices of the projects that lead source brought.
/// `person` is not read.
#[utoipa::path(get, path = "/api/v1/reports/cash-flow", tag = "reports", params(Filters),
    responses(
        (status = 200, body = CashFlow),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn cash_flow(
    State(state): State<AppState>,
    mut db: Db,
    ApiQuery(f): ApiQuery<Filters>,
) -> AppResult<Json<CashFlow>> {
    let ctx = Ctx::load(&state, &mut db, &pages::CASH, &f).await?;
    let r = ctx.cash_flow(&mut db).await?;
    Ok(Json(r))
}

/// Marketing ROI per lead source and per campaign: inquiries, proposals, bookings,
/// conversion, revenue, spend, ROI.
#[utoipa::path(get, path = "/api/v1/reports/marketing-roi", tag = "reports", params(Filters),
    responses(
        (status = 200, body = Roi),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn marketing_roi(
    State(state): State<AppState>,
    mut db: Db,
    ApiQuery(f): ApiQuery<Filters>,
) -> AppResult<Json<Roi>> {
    let ctx = Ctx::load(&state, &mut db, &pages::ROI, &f).await?;
    let r = ctx.marketing(&mut db).await?;
    Ok(Json(r))
}

/// The pipeline: inquiries created per month by their status now, the win rate, and the
/// average days the inquiries spent in each stage.
#[utoipa::path(get, path = "/api/v1/reports/pipeline", tag = "reports", params(Filters),
    responses(
        (status = 200, body = Pipeline),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn pipeline_report(
    State(state): State<AppState>,
    mut db: Db,
    ApiQuery(f): ApiQuery<Filters>,
) -> AppResult<Json<Pipeline>> {
    let ctx = Ctx::load(&state, &mut db, &pages::PIPELINE, &f).await?;
    Ok(Json(ctx.pipeline(&mut db).await?))
}

/// Marketing spend, newest day first, 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/reports/marketing-spend", tag = "reports", params(KeyPage),
    responses(
        (status = 200, body = Vec<Spend>, headers(
            ("Link" = String, description = "`<...?after=...>; rel=\"next\"` when there are more")
        )),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn spend_list(
    mut db: Db,
    ApiQuery(q): ApiQuery<KeyPage>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let (rows, next) = spend::list(&mut db, q.after.as_deref()).await?;
    Ok(page::with_next(
        Json(rows).into_response(),
        "/api/v1/reports/marketing-spend",
        raw.as_deref(),
        next,
    ))
}

/// Add a marketing spend entry; every bad field is named (422).
#[utoipa::path(post, path = "/api/v1/reports/marketing-spend", tag = "reports",
    request_body = SpendIn,
    responses(
        (status = 201, body = Spend),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn spend_create(
    mut db: Db,
    staff: Staff,
    ApiJson(n): ApiJson<SpendIn>,
) -> AppResult<Response> {
    let n = NewSpend::from(n);
    let s = crate::db::transaction(&mut db, async |tx| {
        spend::create(tx, &n, staff.contributor_id).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

/// Delete a marketing spend entry.
#[utoipa::path(delete, path = "/api/v1/reports/marketing-spend/{id}", tag = "reports",
    params(("id" = i32, Path)),
    responses(
        (status = 204),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn spend_delete(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<StatusCode> {
    crate::db::transaction(&mut db, async |tx| {
        spend::delete(tx, id, staff.contributor_id).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
