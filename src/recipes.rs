//! The recipe rules shared by pricing (`quote::pricing`) and production (task generation),
//! pure: which task templates the recipes select for a component, and a template's effort hours
//! for a component (decisions.md, Phase 3).
use rust_decimal::Decimal;
use std::str::FromStr;

/// `{"base_hours": b, "hours_per_target_minute": m, "min_hours": lo, "max_hours": hi}`, each
/// optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EffortRules {
    pub base_hours: Option<Decimal>,
    pub hours_per_target_minute: Option<Decimal>,
    pub min_hours: Option<Decimal>,
    pub max_hours: Option<Decimal>,
}

const KEYS: [&str; 4] = [
    "base_hours",
    "hours_per_target_minute",
    "min_hours",
    "max_hours",
];

/// Parse and check a rules object: only the four keys, each a number >= 0, min <= max.
pub fn parse_effort_rules(v: &serde_json::Value) -> Result<EffortRules, String> {
    let obj = v.as_object().ok_or(
        "must be a JSON object like {\"base_hours\": 2, \"hours_per_target_minute\": 0.5}",
    )?;
    let mut r = EffortRules::default();
    for (k, val) in obj {
        let n = match val {
            serde_json::Value::Number(n) => Decimal::from_str(&n.to_string())
                .or_else(|_| Decimal::from_scientific(&n.to_string()))
                .map_err(|_| format!("{k} is not a usable number"))?,
            _ => return Err(format!("{k} must be a number")),
        };
        if n < Decimal::ZERO {
            return Err(format!("{k} must not be negative"));
        }
        match k.as_str() {
            "base_hours" => r.base_hours = Some(n),
            "hours_per_target_minute" => r.hours_per_target_minute = Some(n),
            "min_hours" => r.min_hours = Some(n),
            "max_hours" => r.max_hours = Some(n),
            other => {
                return Err(format!(
                    "unknown key {other:?}; the keys are {}",
                    KEYS.join(", ")
                ));
            }
        }
    }
    if let (Some(lo), Some(hi)) = (r.min_hours, r.max_hours) {
        if lo > hi {
            return Err("min_hours must not be more than max_hours".into());
        }
    }
    Ok(r)
}

/// Effort hours of a template for a component: `effort_hours` without rules; otherwise
/// clamp(b + m x target_minutes, lo, hi) with b defaulting to `effort_hours` and m to 0.
pub fn effort_hours(
    effort: Option<Decimal>,
    rules: Option<&EffortRules>,
    target_minutes: Option<Decimal>,
) -> Decimal {
    let effort = effort.unwrap_or_default();
    let Some(r) = rules else { return effort };
    let b = r.base_hours.unwrap_or(effort);
    let m = r.hours_per_target_minute.unwrap_or_default();
    let mut h = b + m * target_minutes.unwrap_or_default();
    if let Some(lo) = r.min_hours {
        h = h.max(lo);
    }
    if let Some(hi) = r.max_hours {
        h = h.min(hi);
    }
    h
}

/// A recipe row: NULL columns match anything.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub deliverable_id: Option<i32>,
    pub scene_id: Option<i32>,
    pub style_id: Option<i32>,
    pub template_id: i32,
    pub priority: i32,
}

/// The templates the recipes select for a component (deliverable, scene, style), each once,
/// in recipe priority order.
pub fn selected_templates(
    recipes: &[Recipe],
    deliverable: i32,
    scene: i32,
    style: i32,
) -> Vec<i32> {
    let mut hits: Vec<&Recipe> = recipes
        .iter()
        .filter(|r| {
            r.deliverable_id.is_none_or(|d| d == deliverable)
                && r.scene_id.is_none_or(|s| s == scene)
                && r.style_id.is_none_or(|s| s == style)
        })
        .collect();
    hits.sort_by_key(|r| (r.priority, r.template_id));
    let mut out: Vec<i32> = vec![];
    for r in hits {
        if !out.contains(&r.template_id) {
            out.push(r.template_id);
        }
    }
    out
}
