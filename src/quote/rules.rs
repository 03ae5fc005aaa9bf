//! The pricing rules as `pricing` reads them: every task template, task recipe and style
//! requirement, one query each. Both a build's price (`engine`) and the rules preview
//! (`catalog::preview`) load them here.
use super::pricing::{self, PricingType, Recipe, Requirement, Template};
use crate::error::AppResult;
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// A catalog pricing type as pricing reads it (anything but "Fixed" is hourly).
pub fn pricing_type(s: &str) -> PricingType {
    if s == "Fixed" {
        PricingType::Fixed
    } else {
        PricingType::Hourly
    }
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    id: i32,
    name: String,
    pricing_type: String,
    effort_hours: Option<Decimal>,
    effort_calculation_rules: Option<serde_json::Value>,
    fixed_price: Option<Decimal>,
}

/// Every task template by (id, name, template); rules that do not parse count as none.
pub async fn templates(tx: &mut PgConnection) -> AppResult<Vec<(i32, String, Template)>> {
    let rows: Vec<TemplateRow> = sqlx::query_as(
        "SELECT id, name, pricing_type::text AS pricing_type, effort_hours,
                effort_calculation_rules, fixed_price
         FROM task_templates",
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let rules = r
                .effort_calculation_rules
                .and_then(|v| pricing::parse_effort_rules(&v).ok());
            let template = Template {
                id: r.id,
                pricing: pricing_type(&r.pricing_type),
                effort_hours: r.effort_hours,
                rules,
                fixed_price: r.fixed_price,
            };
            (r.id, r.name, template)
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct RecipeRow {
    deliverable_id: Option<i32>,
    scene_id: Option<i32>,
    style_id: Option<i32>,
    template_id: i32,
    priority: i32,
}

pub async fn recipes(tx: &mut PgConnection) -> AppResult<Vec<Recipe>> {
    let rows: Vec<RecipeRow> = sqlx::query_as(
        "SELECT deliverable_id, coverage_scene_id AS scene_id, editing_style_id AS style_id,
                task_template_id AS template_id, priority
         FROM component_task_recipes",
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Recipe {
            deliverable_id: r.deliverable_id,
            scene_id: r.scene_id,
            style_id: r.style_id,
            template_id: r.template_id,
            priority: r.priority,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct RequirementRow {
    style_id: i32,
    style: String,
    item_id: i32,
    item: String,
    quantity: i32,
    current_price: Decimal,
    is_taxable: bool,
}

pub async fn requirements(tx: &mut PgConnection) -> AppResult<Vec<Requirement>> {
    let rows: Vec<RequirementRow> = sqlx::query_as(
        "SELECT r.editing_style_id AS style_id, st.name AS style, r.billable_item_id AS item_id,
                b.name AS item, r.quantity, b.price AS current_price, b.is_taxable
         FROM editing_style_requirements r JOIN editing_styles st ON st.id = r.editing_style_id
         JOIN billable_items b ON b.id = r.billable_item_id ORDER BY r.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Requirement {
            style_id: r.style_id,
            style: r.style,
            item_id: r.item_id,
            item: r.item,
            quantity: r.quantity,
            current_price: r.current_price,
            taxable: r.is_taxable,
        })
        .collect())
}
