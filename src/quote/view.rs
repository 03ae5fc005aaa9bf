//! What the quote pages show, read in one query per panel: the list of quotes, and the
//! builder's head, coverage, films with their components, engine-made lines and pick lists.
use super::status::BuildStatus;
use crate::error::{AppError, AppResult};
use crate::page;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
pub struct QuoteRow {
    pub id: i32,
    pub couple: String,
    pub wedding_date: Option<NaiveDate>,
    pub status: BuildStatus,
    pub live_price: Decimal,
    pub accepted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Quotes changed last first, after (`$1` updated_at, `$2` id) when `$1` is not NULL, `$3` at most.
pub const QUOTES_SQL: &str =
    "SELECT b.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS couple, i.wedding_date,
            b.status, b.live_price, b.accepted_at, b.updated_at
     FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
     JOIN contacts c ON c.id = i.contact_id
     WHERE (b.updated_at, b.id)
           < (COALESCE($1::timestamptz, 'infinity'), COALESCE($2::int, 2147483647))
     ORDER BY b.updated_at DESC, b.id DESC LIMIT $3";

/// A page of quotes, changed last first, from the `after` cursor on; the cursor of the next
/// page when there is one.
pub async fn quotes(
    conn: &mut PgConnection,
    after: Option<page::After>,
) -> AppResult<(Vec<QuoteRow>, Option<page::After>)> {
    let rows: Vec<QuoteRow> = sqlx::query_as(QUOTES_SQL)
        .bind(after.map(|a| a.at))
        .bind(after.map(|a| a.id))
        .bind(page::SIZE + 1)
        .fetch_all(conn)
        .await?;
    Ok(page::split(rows, |q| page::After {
        at: q.updated_at,
        id: q.id,
    }))
}

/// The top of the builder: whose quote it is and where it stands.
#[derive(sqlx::FromRow)]
pub struct Head {
    pub inquiry_id: i32,
    pub couple: String,
    pub wedding_date: Option<NaiveDate>,
    pub status: BuildStatus,
    pub proposal_sent_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<String>,
    /// The last proposal version sent: its number, until when it can be accepted, and the
    /// configuration it froze.
    pub version: Option<i32>,
    pub valid_until: Option<NaiveDate>,
    pub sent_configuration: Option<sqlx::types::Json<super::packages::Configuration>>,
    /// Once booked: the project, the approved price and the invoices issued at booking
    /// (number, description, amount, due date).
    pub project_id: Option<i32>,
    pub approved_price: Decimal,
    pub live_price: Decimal,
    pub booked_at: Option<DateTime<Utc>>,
    pub invoices: sqlx::types::Json<Vec<InvoiceRow>>,
    /// The configuration of the last approved version of the agreement (once booked).
    pub approved_configuration: Option<sqlx::types::Json<super::packages::Configuration>>,
    /// The change order waiting for the couple: version, description, new total.
    pub pending_version: Option<i32>,
    pub pending_description: Option<String>,
    pub pending_total: Option<Decimal>,
}

/// An invoice of a booked quote: number, what for, amount (as text), due date.
pub type InvoiceRow = (String, Option<String>, String, NaiveDate);

/// The head of a quote; 404 when there is no such quote.
pub async fn head(conn: &mut PgConnection, build: i32) -> AppResult<Head> {
    let head: Option<Head> = sqlx::query_as(
        "SELECT i.id AS inquiry_id, trim(concat_ws(' ', c.first_name, c.last_name)) AS couple,
                i.wedding_date, b.status, b.proposal_sent_at, b.accepted_at, b.accepted_by,
                v.version, v.valid_until, v.configuration AS sent_configuration,
                b.project_id, b.approved_price, b.live_price, b.booked_at,
                COALESCE((SELECT json_agg(json_build_array(n.invoice_number, n.description,
                                   n.total_amount::text, n.due_date) ORDER BY n.due_date, n.id)
                          FROM invoices n WHERE n.project_id = b.project_id), '[]') AS invoices,
                o.version_number AS pending_version, o.description AS pending_description,
                o.new_total_approved_price AS pending_total,
                (SELECT a.snapshot FROM build_change_orders a WHERE a.build_id = b.id
                   AND a.status = 'Approved' ORDER BY a.version_number DESC LIMIT 1)
                   AS approved_configuration
         FROM builds b
         LEFT JOIN build_change_orders o ON o.build_id = b.id AND o.status = 'Pending Approval'
 JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id
         LEFT JOIN LATERAL (SELECT version, valid_until, configuration FROM proposal_versions
                            WHERE build_id = b.id ORDER BY version DESC LIMIT 1) v ON true
         WHERE b.id = $1",
    )
    .bind(build)
    .fetch_optional(conn)
    .await?;
    head.ok_or_else(|| AppError::not_found(&format!("quote {build}")))
}

#[derive(sqlx::FromRow)]
pub struct CoverageRow {
    pub id: i32,
    pub scene: String,
    pub operator: String,
    pub quantity: i32,
    pub hours: Option<Decimal>,
    pub default_hours: Option<Decimal>,
}

/// The coverage lines, with the scene's default hours.
pub async fn coverage(conn: &mut PgConnection, build: i32) -> AppResult<Vec<CoverageRow>> {
    Ok(sqlx::query_as(
        "SELECT a.id, s.name AS scene, o.name AS operator, a.quantity, a.hours, s.default_hours
         FROM build_coverage_assignments a JOIN coverage_scenes s ON s.id = a.coverage_scene_id
         JOIN operator_types o ON o.id = a.operator_type_id
         WHERE a.build_id = $1 ORDER BY a.id",
    )
    .bind(build)
    .fetch_all(conn)
    .await?)
}

/// A film of the quote and one of its components (none: a film without components).
#[derive(sqlx::FromRow)]
pub struct FilmRow {
    pub film_id: i32,
    pub film: String,
    pub component_id: Option<i32>,
    pub scene: Option<String>,
    pub style_id: Option<i32>,
    pub target_minutes: Option<Decimal>,
    pub included: bool,
    pub calculated_price: Option<Decimal>,
}

/// The films and their components, films in the order they were added.
pub async fn films(conn: &mut PgConnection, build: i32) -> AppResult<Vec<FilmRow>> {
    Ok(sqlx::query_as(
        "SELECT bd.id AS film_id, d.name AS film, c.id AS component_id, s.name AS scene,
                c.editing_style_id AS style_id, c.target_minutes,
                COALESCE(c.is_included, true) AS included, c.calculated_price
         FROM build_deliverables bd JOIN deliverables d ON d.id = bd.deliverable_id
         LEFT JOIN build_components c ON c.build_deliverable_id = bd.id
         LEFT JOIN coverage_scenes s ON s.id = c.coverage_scene_id
         WHERE bd.build_id = $1 ORDER BY bd.id, c.id",
    )
    .bind(build)
    .fetch_all(conn)
    .await?)
}

/// The ids of the billable lines the engine made (marked "auto" in the breakdown).
pub async fn engine_line_ids(conn: &mut PgConnection, build: i32) -> AppResult<Vec<i32>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM build_billable_items WHERE build_id = $1 AND is_engine_made",
    )
    .bind(build)
    .fetch_all(conn)
    .await?)
}

/// The builder's pick lists, each as (id, name).
#[derive(sqlx::FromRow)]
pub struct Options {
    pub scenes: Json<Vec<(i32, String)>>,
    pub operators: Json<Vec<(i32, String)>>,
    pub deliverables: Json<Vec<(i32, String)>>,
    pub styles: Json<Vec<(i32, String)>>,
    /// Active billable items: (id, name, price as text).
    pub items: Json<Vec<(i32, String, String)>>,
}

pub async fn options(conn: &mut PgConnection) -> AppResult<Options> {
    Ok(sqlx::query_as(
        "SELECT
           COALESCE((SELECT json_agg(json_build_array(id, name) ORDER BY id)
                     FROM coverage_scenes), '[]') AS scenes,
           COALESCE((SELECT json_agg(json_build_array(id, name) ORDER BY id)
                     FROM operator_types), '[]') AS operators,
           COALESCE((SELECT json_agg(json_build_array(id, name) ORDER BY id)
                     FROM deliverables), '[]') AS deliverables,
           COALESCE((SELECT json_agg(json_build_array(id, name) ORDER BY id)
                     FROM editing_styles), '[]') AS styles,
           COALESCE((SELECT json_agg(json_build_array(id, name, price::text)
                                     ORDER BY lower(name))
                     FROM billable_items WHERE is_active), '[]') AS items",
    )
    .fetch_one(conn)
    .await?)
}
