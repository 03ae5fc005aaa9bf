//! The live price in the database: load a build's rows, price them (pure `pricing`), and write
//! back component prices, engine-made lines and `live_price`, all in the caller's transaction.
//! The number of statements does not depend on the build's size: reads are one query per
//! table, writes go through `unnest` arrays.
use super::pricing::{self, ComponentIn, CoverageIn, EngineLine, Input, ManualLine, Priced};
use super::rules::{pricing_type, recipes, requirements, templates};
use crate::error::{AppError, AppResult};
use crate::studio::Studio;
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// Everything pricing needs for one build, at the studio's editing rate and in its currency.
pub async fn load(tx: &mut PgConnection, studio: &Studio, build: i32) -> AppResult<Input> {
    let coverage = coverage(tx, build).await?;
    let components = components(tx, build).await?;
    let templates = templates(tx).await?;
    let recipes = recipes(tx).await?;
    let requirements = requirements(tx).await?;
    let (manual, engine) = billable_lines(tx, build).await?;
    Ok(Input {
        currency: studio.currency_code.clone(),
        editing_rate: studio.editing_hourly_rate,
        coverage,
        components,
        templates,
        recipes,
        requirements,
        manual,
        engine,
    })
}

#[derive(sqlx::FromRow)]
struct CoverageRow {
    id: i32,
    label: String,
    pricing_type: String,
    hourly_rate: Option<Decimal>,
    fixed_price: Option<Decimal>,
    quantity: i32,
    hours: Option<Decimal>,
    scene_default_hours: Option<Decimal>,
    is_taxable: bool,
}

async fn coverage(tx: &mut PgConnection, build: i32) -> AppResult<Vec<CoverageIn>> {
    let rows: Vec<CoverageRow> = sqlx::query_as(
        "SELECT a.id, s.name || ' · ' || o.name AS label, o.pricing_type::text AS pricing_type,
                o.default_hourly_rate AS hourly_rate, o.default_fixed_price AS fixed_price,
                a.quantity, a.hours, s.default_hours AS scene_default_hours, o.is_taxable
         FROM build_coverage_assignments a JOIN coverage_scenes s ON s.id = a.coverage_scene_id
         JOIN operator_types o ON o.id = a.operator_type_id
         WHERE a.build_id = $1 ORDER BY a.id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CoverageIn {
            id: r.id,
            label: r.label,
            pricing: pricing_type(&r.pricing_type),
            hourly_rate: r.hourly_rate,
            fixed_price: r.fixed_price,
            quantity: r.quantity,
            hours: r.hours,
            scene_default_hours: r.scene_default_hours,
            taxable: r.is_taxable,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ComponentRow {
    id: i32,
    label: String,
    deliverable_id: i32,
    scene_id: i32,
    style_id: i32,
    target_minutes: Option<Decimal>,
    included: bool,
}

async fn components(tx: &mut PgConnection, build: i32) -> AppResult<Vec<ComponentIn>> {
    let rows: Vec<ComponentRow> = sqlx::query_as(
        "SELECT c.id, d.name || ' · ' || s.name || ' · ' || st.name AS label, bd.deliverable_id,
                c.coverage_scene_id AS scene_id, c.editing_style_id AS style_id,
                c.target_minutes, COALESCE(c.is_included, true) AS included
         FROM build_components c JOIN build_deliverables bd ON bd.id = c.build_deliverable_id
         JOIN deliverables d ON d.id = bd.deliverable_id
         JOIN coverage_scenes s ON s.id = c.coverage_scene_id
         JOIN editing_styles st ON st.id = c.editing_style_id
         WHERE bd.build_id = $1 ORDER BY bd.id, c.id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ComponentIn {
            id: r.id,
            label: r.label,
            deliverable_id: r.deliverable_id,
            scene_id: r.scene_id,
            style_id: r.style_id,
            target_minutes: r.target_minutes,
            included: r.included,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct BillableRow {
    id: i32,
    name: String,
    quantity: i32,
    price_at_time_of_add: Decimal,
    is_engine_made: bool,
    engine_style_id: Option<i32>,
    billable_item_id: i32,
    style_name: Option<String>,
    is_taxable: bool,
}

/// The build's billable lines: those people added, and those the engine made.
async fn billable_lines(
    tx: &mut PgConnection,
    build: i32,
) -> AppResult<(Vec<ManualLine>, Vec<EngineLine>)> {
    let rows: Vec<BillableRow> = sqlx::query_as(
        "SELECT l.id, b.name, l.quantity, l.price_at_time_of_add, l.is_engine_made,
                l.engine_style_id, l.billable_item_id,
                (SELECT name FROM editing_styles WHERE id = l.engine_style_id) AS style_name,
                b.is_taxable
         FROM build_billable_items l JOIN billable_items b ON b.id = l.billable_item_id
         WHERE l.build_id = $1 ORDER BY l.id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    let mut manual = vec![];
    let mut engine = vec![];
    for r in rows {
        match (r.is_engine_made, r.engine_style_id) {
            (true, Some(style_id)) => engine.push(EngineLine {
                id: Some(r.id),
                style_id,
                item_id: r.billable_item_id,
                label: format!("{} ({})", r.name, r.style_name.unwrap_or_default()),
                quantity: r.quantity,
                unit_price: r.price_at_time_of_add,
            }),
            _ => manual.push(ManualLine {
                id: r.id,
                label: r.name,
                quantity: r.quantity,
                unit_price: r.price_at_time_of_add,
                taxable: r.is_taxable,
            }),
        }
    }
    Ok((manual, engine))
}

/// Price from the rows as they are, without writing (the breakdown).
pub async fn breakdown(tx: &mut PgConnection, studio: &Studio, build: i32) -> AppResult<Priced> {
    let input = load(tx, studio, build).await?;
    pricing::price(&input).map_err(missing_hours)
}

fn missing_hours(m: pricing::MissingHours) -> AppError {
    AppError::field(
        "hours",
        format!(
            "{} is priced by the hour: give its hours, or set the scene's default hours in \
             Settings",
            m.label
        ),
    )
}

/// Recompute and store the live price of a build whose row the caller has locked. The studio's
/// rate and currency are read here, once, in the caller's transaction.
pub async fn recompute(tx: &mut PgConnection, build: i32) -> AppResult<Priced> {
    let studio = Studio::load(&mut *tx).await?;
    let input = load(tx, &studio, build).await?;
    let priced = pricing::price(&input).map_err(missing_hours)?;
    write_component_prices(tx, &priced).await?;
    write_engine_lines(tx, build, &priced.engine).await?;
    sqlx::query("UPDATE builds SET live_price = $2, updated_at = now() WHERE id = $1")
        .bind(build)
        .bind(priced.total)
        .execute(&mut *tx)
        .await?;
    Ok(priced)
}

/// Every component's calculated price, in one statement (only those that changed are written).
async fn write_component_prices(tx: &mut PgConnection, priced: &Priced) -> AppResult<()> {
    let (ids, prices): (Vec<i32>, Vec<Decimal>) = priced.component_prices.iter().cloned().unzip();
    sqlx::query(
        "UPDATE build_components c SET calculated_price = v.p
         FROM unnest($1::int[], $2::numeric[]) v(id, p)
         WHERE c.id = v.id AND c.calculated_price IS DISTINCT FROM v.p",
    )
    .bind(&ids)
    .bind(&prices)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The engine-made lines the build should hold: those whose style is no longer used go, new
/// ones come in at their price, kept ones change quantity only. People's lines are not touched.
async fn write_engine_lines(
    tx: &mut PgConnection,
    build: i32,
    engine: &[EngineLine],
) -> AppResult<()> {
    let styles: Vec<i32> = engine.iter().map(|e| e.style_id).collect();
    let items: Vec<i32> = engine.iter().map(|e| e.item_id).collect();
    let qtys: Vec<i32> = engine.iter().map(|e| e.quantity).collect();
    let unit: Vec<Decimal> = engine.iter().map(|e| e.unit_price).collect();
    sqlx::query(
        "DELETE FROM build_billable_items l WHERE l.build_id = $1 AND l.is_engine_made
         AND NOT EXISTS (SELECT 1 FROM unnest($2::int[], $3::int[]) u(s, i)
                         WHERE u.s = l.engine_style_id AND u.i = l.billable_item_id)",
    )
    .bind(build)
    .bind(&styles)
    .bind(&items)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO build_billable_items (build_id, billable_item_id, quantity,
                price_at_time_of_add, is_engine_made, engine_style_id, notes)
         SELECT $1, u.i, u.q, u.p, true, u.s, 'Added by the editing style'
         FROM unnest($2::int[], $3::int[], $4::int[], $5::numeric[]) u(s, i, q, p)
         ON CONFLICT (build_id, engine_style_id, billable_item_id) WHERE is_engine_made
         DO UPDATE SET quantity = EXCLUDED.quantity
         WHERE build_billable_items.quantity <> EXCLUDED.quantity",
    )
    .bind(build)
    .bind(&styles)
    .bind(&items)
    .bind(&qtys)
    .bind(&unit)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
