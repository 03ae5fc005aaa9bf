//! The quote pages' forms: the fields as typed, read into the changes `builds` makes. An empty
//! number field is none; anything else must parse (422 naming the field).
use super::changes::{ComponentChange, CoverageChange};
use crate::error::{AppError, AppResult};
use serde::Deserialize;

/// A number from a form field: empty is None; anything else must parse.
pub fn num<T: std::str::FromStr>(field: &str, v: &str) -> AppResult<Option<T>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| AppError::field(field, format!("\u{201c}{v}\u{201d} is not a number")))
}

/// A number that must be there.
pub fn need<T: std::str::FromStr>(field: &str, v: &str) -> AppResult<T> {
    num(field, v)?.ok_or_else(|| AppError::field(field, "is required"))
}

#[derive(Deserialize, Default, Clone)]
pub struct StartForm {
    #[serde(default)]
    pub package_id: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct PackageForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct DuplicateForm {
    #[serde(default)]
    pub inquiry_id: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct CoverageForm {
    #[serde(default)]
    pub coverage_scene_id: String,
    #[serde(default)]
    pub operator_type_id: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub hours: String,
}

impl CoverageForm {
    pub fn change(&self) -> AppResult<CoverageChange> {
        Ok(CoverageChange {
            scene: need("coverage_scene_id", &self.coverage_scene_id)?,
            operator: need("operator_type_id", &self.operator_type_id)?,
            quantity: num("quantity", &self.quantity)?.unwrap_or(1),
            hours: num("hours", &self.hours)?,
        })
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct DeliverableForm {
    #[serde(default)]
    pub deliverable_id: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct ComponentForm {
    #[serde(default)]
    pub editing_style_id: String,
    #[serde(default)]
    pub target_minutes: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub is_included: Option<String>,
}

impl ComponentForm {
    pub fn change(&self) -> AppResult<ComponentChange> {
        Ok(ComponentChange {
            style: need("editing_style_id", &self.editing_style_id)?,
            target_minutes: num("target_minutes", &self.target_minutes)?,
            included: self.is_included.is_some(),
        })
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct BillableForm {
    #[serde(default)]
    pub billable_item_id: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub notes: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct Nothing {}
