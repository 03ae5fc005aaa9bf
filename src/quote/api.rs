//! The JSON API of builds. Every change answers with the new price breakdown.
use super::builds::{self, ComponentChange, CoverageChange};
use super::engine;
use super::packages::{self, PackageRow};
use super::pricing::{Line, Priced};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, AppResult, json};
use crate::studio::Studio;
use axum::Json;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, Transaction};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new()
        .api(Access::Perm(Permission::BuildsEdit), routes!(create))
        .api(Access::Perm(Permission::BuildsView), routes!(get_price))
        .api(Access::Perm(Permission::BuildsEdit), routes!(add_coverage))
        .api(
            Access::Perm(Permission::BuildsEdit),
            routes!(update_coverage, remove_coverage),
        )
        .api(
            Access::Perm(Permission::BuildsEdit),
            routes!(add_deliverable),
        )
        .api(
            Access::Perm(Permission::BuildsEdit),
            routes!(remove_deliverable),
        )
        .api(
            Access::Perm(Permission::BuildsEdit),
            routes!(update_component),
        )
        .api(Access::Perm(Permission::BuildsEdit), routes!(add_billable))
        .api(
            Access::Perm(Permission::BuildsEdit),
            routes!(remove_billable),
        )
        .api(Access::Perm(Permission::BuildsView), routes!(list_packages))
        .api(Access::Perm(Permission::BuildsEdit), routes!(save_package))
        .api(
            Access::Perm(Permission::BuildsEdit),
            routes!(start_from_package),
        )
        .api(Access::Perm(Permission::BuildsEdit), routes!(duplicate))
}

/// Saved packages.
#[utoipa::path(
    get,
    path = "/api/v1/packages",
    tag = "quotes",
    responses((status = 200, body = Vec<PackageRow>))
)]
async fn list_packages(mut db: Db) -> AppResult<Json<Vec<PackageRow>>> {
    Ok(Json(packages::list(&mut db).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PackageIn {
    /// A name no other package has.
    #[schema(min_length = 1, max_length = 255)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub name: String,
    #[schema(pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedPackage {
    pub package_id: i32,
}

/// Save this build's configuration as a named package.
#[utoipa::path(
    post,
    path = "/api/v1/builds/{id}/package",
    tag = "quotes",
    params(("id" = i32, Path)),
    request_body = PackageIn,
    responses(
        (status = 201, body = CreatedPackage),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    )
)]
async fn save_package(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(p): ApiJson<PackageIn>,
) -> AppResult<(StatusCode, Json<CreatedPackage>)> {
    let mut tx = db.begin().await?;
    let actor = Some(staff.contributor_id);
    let package_id = packages::save(&mut tx, id, &p.name, p.description.as_deref(), actor).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedPackage { package_id })))
}

#[derive(Deserialize, ToSchema)]
pub struct InquiryRef {
    /// An inquiry with no quote yet (404 when there is none, 409 when it has a quote).
    #[serde(deserialize_with = "json::int")]
    pub inquiry_id: i32,
}

/// Start an inquiry's quote from a package.
#[utoipa::path(
    post,
    path = "/api/v1/packages/{id}/builds",
    tag = "quotes",
    params(("id" = i32, Path)),
    request_body = InquiryRef,
    responses(
        (status = 201, body = CreatedBuild),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    )
)]
async fn start_from_package(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(r): ApiJson<InquiryRef>,
) -> AppResult<(StatusCode, Json<CreatedBuild>)> {
    let mut tx = db.begin().await?;
    let actor = Some(staff.contributor_id);
    let build_id = packages::start_from_package(&mut tx, r.inquiry_id, id, actor).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedBuild { build_id })))
}

/// Copy this build's configuration into a new quote for another inquiry.
#[utoipa::path(
    post,
    path = "/api/v1/builds/{id}/duplicate",
    tag = "quotes",
    params(("id" = i32, Path)),
    request_body = InquiryRef,
    responses(
        (status = 201, body = CreatedBuild),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem)
    )
)]
async fn duplicate(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(r): ApiJson<InquiryRef>,
) -> AppResult<(StatusCode, Json<CreatedBuild>)> {
    let mut tx = db.begin().await?;
    let actor = Some(staff.contributor_id);
    let build_id = packages::duplicate(&mut tx, id, r.inquiry_id, actor).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedBuild { build_id })))
}

/// The price of a build, line by line.
#[derive(Debug, Serialize, ToSchema)]
pub struct Breakdown {
    pub build_id: i32,
    pub lines: Vec<Line>,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub currency: String,
}

impl Breakdown {
    /// A build's price, in the studio's currency.
    pub fn new(build_id: i32, priced: Priced, studio: &Studio) -> Breakdown {
        Breakdown {
            build_id,
            lines: priced.lines,
            total: priced.total,
            currency: studio.currency_code.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedBuild {
    pub build_id: i32,
}

/// Start the quote of an inquiry (one per inquiry).
#[utoipa::path(
    post,
    path = "/api/v1/inquiries/{id}/build",
    tag = "quotes",
    params(("id" = i32, Path)),
    responses(
        (status = 201, body = CreatedBuild),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem)
    )
)]
async fn create(
    mut db: Db,
    staff: Staff,
    ApiPath(inquiry): ApiPath<i32>,
) -> AppResult<(StatusCode, Json<CreatedBuild>)> {
    let mut tx = db.begin().await?;
    let build_id = builds::create_for_inquiry(&mut tx, inquiry, Some(staff.contributor_id)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedBuild { build_id })))
}

/// Every line of the price (kind, description, quantity, unit price, hours, rule, amount)
/// and the total.
#[utoipa::path(
    get,
    path = "/api/v1/builds/{id}/price",
    tag = "quotes",
    summary = "Every line of the price (kind, description, quantity, unit price, hours, rule, \
               amount) and the total.",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = Breakdown),
        (status = 404, body = crate::http::error::Problem)
    )
)]
async fn get_price(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    builds::ensure_exists(&mut tx, id).await?;
    let studio = Studio::load(&mut tx).await?;
    let priced = engine::breakdown(&mut tx, &studio, id).await?;
    tx.rollback().await?;
    Ok(Json(Breakdown::new(id, priced, &studio)))
}

#[derive(Deserialize, ToSchema)]
pub struct CoverageIn {
    #[serde(deserialize_with = "json::int")]
    pub coverage_scene_id: i32,
    #[serde(deserialize_with = "json::int")]
    pub operator_type_id: i32,
    #[serde(default = "one", deserialize_with = "json::int")]
    #[schema(minimum = 1, maximum = 99, default = 1)]
    pub quantity: i32,
    #[serde(default, deserialize_with = "json::opt_decimal")]
    #[schema(schema_with = hours_schema)]
    pub hours: Option<Decimal>,
}

fn hours_schema() -> utoipa::openapi::schema::Schema {
    json::decimal_schema(
        r"^(([1-9]|1[0-9]|2[0-3])(\.[0-9]{1,2})?|24(\.00?)?|0\.(0[1-9]|[1-9][0-9]?))$",
        (1, 24),
        true,
        "Hours booked, more than 0 and at most 24, at most 2 decimals (hourly operators); \
         absent or null: the scene's default hours.",
    )
}

fn one() -> i32 {
    1
}

impl CoverageIn {
    fn change(&self) -> CoverageChange {
        CoverageChange {
            scene: self.coverage_scene_id,
            operator: self.operator_type_id,
            quantity: self.quantity,
            hours: self.hours,
        }
    }
}

/// Commit a change and answer with the new breakdown, in the studio's currency.
async fn finish(
    mut tx: Transaction<'_, Postgres>,
    build: i32,
    priced: Priced,
) -> AppResult<Json<Breakdown>> {
    let studio = Studio::load(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(Breakdown::new(build, priced, &studio)))
}

/// Add coverage: a scene, an operator type, how many, and hours.
#[utoipa::path(
    post,
    path = "/api/v1/builds/{id}/coverage",
    tag = "quotes",
    params(("id" = i32, Path)),
    request_body = CoverageIn,
    responses(
        (status = 200, body = Breakdown),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    )
)]
async fn add_coverage(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(c): ApiJson<CoverageIn>,
) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    let (_, p) = builds::add_coverage(&mut tx, id, &c.change(), Some(staff.contributor_id)).await?;
    finish(tx, id, p).await
}

/// Change a coverage line.
#[utoipa::path(
    put,
    path = "/api/v1/builds/{id}/coverage/{line}",
    tag = "quotes",
    params(("id" = i32, Path), ("line" = i32, Path)),
    request_body = CoverageIn,
    responses(
        (status = 200, body = Breakdown),
        (status = 409, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    )
)]
async fn update_coverage(
    mut db: Db,
    staff: Staff,
    ApiPath((id, line)): ApiPath<(i32, i32)>,
    ApiJson(c): ApiJson<CoverageIn>,
) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    let p =
        builds::update_coverage(&mut tx, id, line, &c.change(), Some(staff.contributor_id)).await?;
    finish(tx, id, p).await
}

/// Remove a coverage line (components that followed that scene go with it).
#[utoipa::path(
    delete,
    path = "/api/v1/builds/{id}/coverage/{line}",
    tag = "quotes",
    params(("id" = i32, Path), ("line" = i32, Path)),
    responses(
        (status = 200, body = Breakdown),
        (status = 409, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem)
    )
)]
async fn remove_coverage(
    mut db: Db,
    staff: Staff,
    ApiPath((id, line)): ApiPath<(i32, i32)>,
) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    let p = builds::remove_coverage(&mut tx, id, line, Some(staff.contributor_id)).await?;
    finish(tx, id, p).await
}

#[derive(Deserialize, ToSchema)]
pub struct DeliverableIn {
    #[serde(deserialize_with = "json::int")]
    pub deliverable_id: i32,
}

/// Add a film; its components are made from the film's default components.
#[utoipa::path(
    post,
    path = "/api/v1/builds/{id}/deliverables",
    tag = "quotes",
    params(("id" = i32, Path)),
    request_body = DeliverableIn,
    responses(
        (status = 200, body = Breakdown),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    )
)]
async fn add_deliverable(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(d): ApiJson<DeliverableIn>,
) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    let (_, p) =
        builds::add_deliverable(&mut tx, id, d.deliverable_id, Some(staff.contributor_id)).await?;
    finish(tx, id, p).await
}

/// Remove a film and its components.
#[utoipa::path(
    delete,
    path = "/api/v1/builds/{id}/deliverables/{line}",
    tag = "quotes",
    params(("id" = i32, Path), ("line" = i32, Path)),
    responses(
        (status = 200, body = Breakdown),
        (status = 409, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem)
    )
)]
async fn remove_deliverable(
    mut db: Db,
    staff: Staff,
    ApiPath((id, line)): ApiPath<(i32, i32)>,
) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    let p = builds::remove_deliverable(&mut tx, id, line, Some(staff.contributor_id)).await?;
    finish(tx, id, p).await
}

#[derive(Deserialize, ToSchema)]
pub struct ComponentIn {
    #[serde(deserialize_with = "json::int")]
    pub editing_style_id: i32,
    #[serde(default, deserialize_with = "json::opt_decimal")]
    #[schema(schema_with = minutes_schema)]
    pub target_minutes: Option<Decimal>,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub is_included: bool,
}

fn minutes_schema() -> utoipa::openapi::schema::Schema {
    json::decimal_schema(
        r"^((0|[1-9][0-9]{0,4})(\.[0-9]{1,2})?|100000(\.00?)?)$",
        (0, 100_000),
        true,
        "Target length in minutes, 0 to 100000, at most 2 decimals; absent or null: none.",
    )
}

fn yes() -> bool {
    true
}

/// Change a component's style, target minutes, or whether it is included.
#[utoipa::path(
    put,
    path = "/api/v1/builds/{id}/components/{component}",
    tag = "quotes",
    params(("id" = i32, Path), ("component" = i32, Path)),
    request_body = ComponentIn,
    responses(
        (status = 200, body = Breakdown),
        (status = 409, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    )
)]
async fn update_component(
    mut db: Db,
    staff: Staff,
    ApiPath((id, component)): ApiPath<(i32, i32)>,
    ApiJson(c): ApiJson<ComponentIn>,
) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    let change = ComponentChange {
        style: c.editing_style_id,
        target_minutes: c.target_minutes,
        included: c.is_included,
    };
    let p = builds::update_component(&mut tx, id, component, &change, Some(staff.contributor_id))
        .await?;
    finish(tx, id, p).await
}

#[derive(Deserialize, ToSchema)]
pub struct BillableIn {
    /// An active billable item (404 when there is none, 409 when it is inactive).
    #[serde(deserialize_with = "json::int")]
    pub billable_item_id: i32,
    #[serde(default = "one", deserialize_with = "json::int")]
    #[schema(minimum = 1, maximum = 99, default = 1)]
    pub quantity: i32,
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub notes: Option<String>,
}

/// Add a billable item by hand (active items only), at today's price.
#[utoipa::path(
    post,
    path = "/api/v1/builds/{id}/billables",
    tag = "quotes",
    params(("id" = i32, Path)),
    request_body = BillableIn,
    responses(
        (status = 200, body = Breakdown),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)
    )
)]
async fn add_billable(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(b): ApiJson<BillableIn>,
) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    let (_, p) = builds::add_billable(
        &mut tx,
        id,
        b.billable_item_id,
        b.quantity,
        b.notes.as_deref(),
        Some(staff.contributor_id),
    )
    .await?;
    finish(tx, id, p).await
}

/// Remove a line added by hand (engine-made lines follow the styles: 409).
#[utoipa::path(
    delete,
    path = "/api/v1/builds/{id}/billables/{line}",
    tag = "quotes",
    params(("id" = i32, Path), ("line" = i32, Path)),
    responses(
        (status = 200, body = Breakdown),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem)
    )
)]
async fn remove_billable(
    mut db: Db,
    staff: Staff,
    ApiPath((id, line)): ApiPath<(i32, i32)>,
) -> AppResult<Json<Breakdown>> {
    let mut tx = db.begin().await?;
    let p = builds::remove_billable(&mut tx, id, line, Some(staff.contributor_id)).await?;
    finish(tx, id, p).await
}
