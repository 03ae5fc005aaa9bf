//! The live price in the database: load a build's rows, price them (pure `pricing`), and write
//! back component prices, engine-made lines and `live_price`, all in the caller's transaction.
//! The number of statements does not depend on the build's size: reads are one query per
//! table, writes go through `unnest` arrays.
use super::pricing::{
    self, ComponentIn, CoverageIn, EngineLine, Input, ManualLine, Priced, PricingType, Recipe,
    Requirement, Template,
};
use crate::error::{AppError, AppResult};
use rust_decimal::Decimal;
use sqlx::PgConnection;

fn pricing_type(s: &str) -> PricingType {
    if s == "Fixed" {
        PricingType::Fixed
    } else {
        PricingType::Hourly
    }
}

/// Everything pricing needs for one build.
pub async fn load(tx: &mut PgConnection, build: i32) -> AppResult<Input> {
    let (editing_rate, currency): (Decimal, String) =
        sqlx::query_as("SELECT editing_hourly_rate, currency_code::text FROM studio_settings")
            .fetch_one(&mut *tx)
            .await?;
    let coverage = sqlx::query_as::<_, (i32, String, String, Option<Decimal>, Option<Decimal>, i32, Option<Decimal>, Option<Decimal>)>(
        "SELECT a.id, s.name || ' · ' || o.name, o.pricing_type::text, o.default_hourly_rate, o.default_fixed_price,
                a.quantity, a.hours, s.default_hours
         FROM build_coverage_assignments a JOIN coverage_scenes s ON s.id = a.coverage_scene_id
         JOIN operator_types o ON o.id = a.operator_type_id WHERE a.build_id = $1 ORDER BY a.id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(id, label, pt, rate, fixed, quantity, hours, scene_hours)| CoverageIn {
        id, label, pricing: pricing_type(&pt), hourly_rate: rate, fixed_price: fixed, quantity, hours, scene_default_hours: scene_hours,
    })
    .collect();
    let components = sqlx::query_as::<_, (i32, String, i32, i32, i32, Option<Decimal>, bool)>(
        "SELECT c.id, d.name || ' · ' || s.name || ' · ' || st.name, bd.deliverable_id, c.coverage_scene_id, c.editing_style_id,
                c.target_minutes, COALESCE(c.is_included, true)
         FROM build_components c JOIN build_deliverables bd ON bd.id = c.build_deliverable_id
         JOIN deliverables d ON d.id = bd.deliverable_id JOIN coverage_scenes s ON s.id = c.coverage_scene_id
         JOIN editing_styles st ON st.id = c.editing_style_id WHERE bd.build_id = $1 ORDER BY bd.id, c.id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(id, label, deliverable_id, scene_id, style_id, target_minutes, included)| ComponentIn {
        id, label, deliverable_id, scene_id, style_id, target_minutes, included,
    })
    .collect();
    let templates = sqlx::query_as::<_, (i32, String, String, Option<Decimal>, Option<serde_json::Value>, Option<Decimal>)>(
        "SELECT id, name, pricing_type::text, effort_hours, effort_calculation_rules, fixed_price FROM task_templates",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(id, name, pt, effort, rules, fixed)| {
        let rules = rules.and_then(|r| pricing::parse_effort_rules(&r).ok());
        (id, name, Template { id, pricing: pricing_type(&pt), effort_hours: effort, rules, fixed_price: fixed })
    })
    .collect();
    let recipes = sqlx::query_as::<_, (Option<i32>, Option<i32>, Option<i32>, i32, i32)>(
        "SELECT deliverable_id, coverage_scene_id, editing_style_id, task_template_id, priority FROM component_task_recipes",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(d, s, st, t, p)| Recipe { deliverable_id: d, scene_id: s, style_id: st, template_id: t, priority: p })
    .collect();
    let requirements = sqlx::query_as::<_, (i32, String, i32, String, i32, Decimal)>(
        "SELECT r.editing_style_id, st.name, r.billable_item_id, b.name, r.quantity, b.price FROM editing_style_requirements r
         JOIN editing_styles st ON st.id = r.editing_style_id JOIN billable_items b ON b.id = r.billable_item_id ORDER BY r.id",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(style_id, style, item_id, item, quantity, current_price)| Requirement { style_id, style, item_id, item, quantity, current_price })
    .collect();
    let lines = sqlx::query_as::<_, (i32, String, i32, Decimal, bool, Option<i32>, i32, Option<String>)>(
        "SELECT l.id, b.name, l.quantity, l.price_at_time_of_add, l.is_engine_made, l.engine_style_id, l.billable_item_id,
                (SELECT name FROM editing_styles WHERE id = l.engine_style_id)
         FROM build_billable_items l JOIN billable_items b ON b.id = l.billable_item_id WHERE l.build_id = $1 ORDER BY l.id",
    )
    .bind(build)
    .fetch_all(&mut *tx)
    .await?;
    let mut manual = vec![];
    let mut engine = vec![];
    for (id, name, quantity, price, engine_made, style, item, style_name) in lines {
        match (engine_made, style) {
            (true, Some(style_id)) => engine.push(EngineLine {
                id: Some(id),
                style_id,
                item_id: item,
                label: format!("{name} ({})", style_name.unwrap_or_default()),
                quantity,
                unit_price: price,
            }),
            _ => manual.push(ManualLine {
                id,
                label: name,
                quantity,
                unit_price: price,
            }),
        }
    }
    Ok(Input {
        currency,
        editing_rate,
        coverage,
        components,
        templates,
        recipes,
        requirements,
        manual,
        engine,
    })
}

/// Price from the rows as they are, without writing (the breakdown).
pub async fn breakdown(tx: &mut PgConnection, build: i32) -> AppResult<Priced> {
    let input = load(tx, build).await?;
    pricing::price(&input).map_err(missing_hours)
}

fn missing_hours(m: pricing::MissingHours) -> AppError {
    AppError::field(
        "hours",
        format!(
            "{} is priced by the hour: give its hours, or set the scene's default hours in Settings",
            m.label
        ),
    )
}

/// Recompute and store the live price of a build whose row the caller has locked.
pub async fn recompute(tx: &mut PgConnection, build: i32) -> AppResult<Priced> {
    let input = load(tx, build).await?;
    let priced = pricing::price(&input).map_err(missing_hours)?;
    let (ids, prices): (Vec<i32>, Vec<Decimal>) = priced.component_prices.iter().cloned().unzip();
    sqlx::query(
        "UPDATE build_components c SET calculated_price = v.p FROM unnest($1::int[], $2::numeric[]) v(id, p)
         WHERE c.id = v.id AND c.calculated_price IS DISTINCT FROM v.p",
    )
    .bind(&ids)
    .bind(&prices)
    .execute(&mut *tx)
    .await?;
    let styles: Vec<i32> = priced.engine.iter().map(|e| e.style_id).collect();
    let items: Vec<i32> = priced.engine.iter().map(|e| e.item_id).collect();
    let qtys: Vec<i32> = priced.engine.iter().map(|e| e.quantity).collect();
    let unit: Vec<Decimal> = priced.engine.iter().map(|e| e.unit_price).collect();
    // Engine-made lines whose style is no longer used go; the engine never touches people's lines.
    sqlx::query(
        "DELETE FROM build_billable_items l WHERE l.build_id = $1 AND l.is_engine_made
         AND NOT EXISTS (SELECT 1 FROM unnest($2::int[], $3::int[]) u(s, i) WHERE u.s = l.engine_style_id AND u.i = l.billable_item_id)",
    )
    .bind(build)
    .bind(&styles)
    .bind(&items)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO build_billable_items (build_id, billable_item_id, quantity, price_at_time_of_add, is_engine_made, engine_style_id, notes)
         SELECT $1, u.i, u.q, u.p, true, u.s, 'Added by the editing style'
         FROM unnest($2::int[], $3::int[], $4::int[], $5::numeric[]) u(s, i, q, p)
         ON CONFLICT (build_id, engine_style_id, billable_item_id) WHERE is_engine_made
         DO UPDATE SET quantity = EXCLUDED.quantity WHERE build_billable_items.quantity <> EXCLUDED.quantity",
    )
    .bind(build)
    .bind(&styles)
    .bind(&items)
    .bind(&qtys)
    .bind(&unit)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE builds SET live_price = $2, updated_at = now() WHERE id = $1")
        .bind(build)
        .bind(priced.total)
        .execute(&mut *tx)
        .await?;
    Ok(priced)
}
