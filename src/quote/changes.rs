//! What a person asks to change in a build, checked before anything is written: coverage
//! (scene, operator, quantity, hours), a component (style, target minutes, included), an
//! add-on (an active item, notes). Each refusal names the field: 404 when it names no record,
//! 409 for an inactive item, 422 otherwise.
use crate::error::{AppError, AppResult};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;

pub struct CoverageChange {
    pub scene: i32,
    pub operator: i32,
    pub quantity: i32,
    pub hours: Option<Decimal>,
}

impl CoverageChange {
    /// Scene and operator exist, quantity and hours are sensible (422 naming the field).
    pub(super) async fn check(&self, tx: &mut PgConnection) -> AppResult<()> {
        must_exist(
            tx,
            "coverage_scenes",
            self.scene,
            "coverage_scene_id",
            "coverage scene",
        )
        .await?;
        must_exist(
            tx,
            "operator_types",
            self.operator,
            "operator_type_id",
            "operator type",
        )
        .await?;
        check_quantity(self.quantity)?;
        check_hours(self.hours)
    }

    pub(super) fn details(&self) -> serde_json::Value {
        json!({
            "scene": self.scene,
            "operator": self.operator,
            "quantity": self.quantity,
            "hours": self.hours,
        })
    }
}

pub struct ComponentChange {
    pub style: i32,
    pub target_minutes: Option<Decimal>,
    pub included: bool,
}

impl ComponentChange {
    /// The style exists and the target minutes are sensible (422 naming the field).
    pub(super) async fn check(&self, tx: &mut PgConnection) -> AppResult<()> {
        must_exist(
            tx,
            "editing_styles",
            self.style,
            "editing_style_id",
            "editing style",
        )
        .await?;
        check_minutes(self.target_minutes)
    }

    pub(super) fn details(&self, component: i32) -> serde_json::Value {
        json!({
            "component": component,
            "style": self.style,
            "target_minutes": self.target_minutes,
            "included": self.included,
        })
    }
}

/// A catalog row must exist: 404 naming the field otherwise.
pub(super) async fn must_exist(
    tx: &mut PgConnection,
    table: &str,
    id: i32,
    field: &str,
    what: &str,
) -> AppResult<()> {
    let ok: bool = sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if ok {
        Ok(())
    } else {
        Err(AppError::unknown_ref(
            field,
            format!("there is no {what} {id}"),
        ))
    }
}

/// The most of one thing a line may have (operators at a scene, units of an item).
pub const MAX_QUANTITY: i32 = 99;

pub(super) fn check_quantity(q: i32) -> AppResult<()> {
    if !(1..=MAX_QUANTITY).contains(&q) {
        Err(AppError::field(
            "quantity",
            format!("must be from 1 to {MAX_QUANTITY}"),
        ))
    } else {
        Ok(())
    }
}

pub(super) fn check_hours(h: Option<Decimal>) -> AppResult<()> {
    match h {
        Some(h) if h <= Decimal::ZERO || h > Decimal::from(24) => Err(AppError::field(
            "hours",
            "must be more than 0 and at most 24",
        )),
        Some(h) if h.normalize().scale() > 2 => {
            Err(AppError::field("hours", "must have at most 2 decimals"))
        }
        _ => Ok(()),
    }
}

pub(super) fn check_minutes(m: Option<Decimal>) -> AppResult<()> {
    match m {
        Some(m) if m < Decimal::ZERO || m > Decimal::from(100_000) => Err(AppError::field(
            "target_minutes",
            "must be between 0 and 100000",
        )),
        Some(m) if m.normalize().scale() > 2 => Err(AppError::field(
            "target_minutes",
            "must have at most 2 decimals",
        )),
        _ => Ok(()),
    }
}

/// Today's price of a billable item offered by hand: it must exist (404) and be active (409).
pub(super) async fn offered_price(tx: &mut PgConnection, item: i32) -> AppResult<Decimal> {
    let found: Option<(Decimal, bool, String)> =
        sqlx::query_as("SELECT price, is_active, name FROM billable_items WHERE id = $1")
            .bind(item)
            .fetch_optional(&mut *tx)
            .await?;
    let (price, active, name) = found.ok_or_else(|| {
        AppError::unknown_ref(
            "billable_item_id",
            format!("there is no billable item {item}"),
        )
    })?;
    if !active {
        return Err(AppError::Conflict(format!(
            "billable_item_id: \"{name}\" is no longer offered (inactive)"
        )));
    }
    Ok(price)
}

/// Notes on a line: trimmed, empty is none, at most 2000 characters (422).
pub(super) fn check_notes(notes: Option<&str>) -> AppResult<Option<&str>> {
    let notes = notes.map(str::trim).filter(|n| !n.is_empty());
    if notes.is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::field("notes", "must be at most 2000 characters"));
    }
    Ok(notes)
}
