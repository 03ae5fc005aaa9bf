//! Pricing rules (decisions.md, Phase 3), pure: no I/O. Money is `Decimal`, rounded to cents
//! half away from zero once per line.
use crate::money::cents;
use rust_decimal::Decimal;
use std::str::FromStr;

/// `{"base_hours": b, "hours_per_target_minute": m, "min_hours": lo, "max_hours": hi}`, each optional.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PricingType {
    Hourly,
    Fixed,
}

/// A task template as pricing sees it.
#[derive(Debug, Clone)]
pub struct Template {
    pub id: i32,
    pub pricing: PricingType,
    pub effort_hours: Option<Decimal>,
    pub rules: Option<EffortRules>,
    pub fixed_price: Option<Decimal>,
}

/// One template's price for a component: Fixed -> fixed_price; Hourly -> hours x rate.
pub fn template_price(
    t: &Template,
    target_minutes: Option<Decimal>,
    editing_rate: Decimal,
) -> (Decimal, Decimal) {
    match t.pricing {
        PricingType::Fixed => (Decimal::ZERO, cents(t.fixed_price.unwrap_or_default())),
        PricingType::Hourly => {
            let h = effort_hours(t.effort_hours, t.rules.as_ref(), target_minutes);
            (h, cents(h * editing_rate))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn effort_without_rules_is_the_templates_hours() {
        assert_eq!(effort_hours(Some(d("2.5")), None, Some(d("10"))), d("2.5"));
        assert_eq!(effort_hours(None, None, None), Decimal::ZERO);
    }

    #[test]
    fn effort_rules_scale_with_target_minutes_and_clamp() {
        let r = parse_effort_rules(&json!({"base_hours": 2, "hours_per_target_minute": 1.5, "min_hours": 3, "max_hours": 16})).unwrap();
        assert_eq!(effort_hours(Some(d("4")), Some(&r), Some(d("4"))), d("8.0"));
        assert_eq!(
            effort_hours(Some(d("4")), Some(&r), Some(d("0"))),
            d("3"),
            "clamped up to min"
        );
        assert_eq!(
            effort_hours(Some(d("4")), Some(&r), Some(d("30"))),
            d("16"),
            "clamped down to max"
        );
    }

    #[test]
    fn base_defaults_to_effort_hours_and_rate_to_zero() {
        let r = parse_effort_rules(&json!({"max_hours": 3})).unwrap();
        assert_eq!(effort_hours(Some(d("4")), Some(&r), Some(d("10"))), d("3"));
        let r = parse_effort_rules(&json!({})).unwrap();
        assert_eq!(
            effort_hours(Some(d("1.25")), Some(&r), Some(d("10"))),
            d("1.25")
        );
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        assert!(
            parse_effort_rules(&json!({"base": 1}))
                .unwrap_err()
                .contains("unknown key")
        );
        assert!(
            parse_effort_rules(&json!({"base_hours": -1}))
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            parse_effort_rules(&json!({"base_hours": "2"}))
                .unwrap_err()
                .contains("must be a number")
        );
        assert!(
            parse_effort_rules(&json!({"min_hours": 5, "max_hours": 2}))
                .unwrap_err()
                .contains("min_hours")
        );
        assert!(parse_effort_rules(&json!([1])).is_err());
    }

    #[test]
    fn template_prices_are_fixed_or_hours_times_rate_in_cents() {
        let fixed = Template {
            id: 1,
            pricing: PricingType::Fixed,
            effort_hours: None,
            rules: None,
            fixed_price: Some(d("120")),
        };
        assert_eq!(
            template_price(&fixed, None, d("85")),
            (Decimal::ZERO, d("120.00"))
        );
        let hourly = Template {
            id: 2,
            pricing: PricingType::Hourly,
            effort_hours: Some(d("1.333")),
            rules: None,
            fixed_price: None,
        };
        // 1.333 x 85 = 113.305 -> 113.31 (half away from zero)
        assert_eq!(
            template_price(&hourly, None, d("85")),
            (d("1.333"), d("113.31"))
        );
    }

    #[test]
    fn recipes_match_on_their_non_null_columns_and_a_template_counts_once() {
        let recipes = vec![
            Recipe {
                deliverable_id: None,
                scene_id: None,
                style_id: None,
                template_id: 10,
                priority: 10,
            },
            Recipe {
                deliverable_id: Some(1),
                scene_id: None,
                style_id: None,
                template_id: 20,
                priority: 20,
            },
            Recipe {
                deliverable_id: None,
                scene_id: None,
                style_id: Some(7),
                template_id: 30,
                priority: 5,
            },
            Recipe {
                deliverable_id: Some(1),
                scene_id: None,
                style_id: Some(7),
                template_id: 30,
                priority: 40,
            },
            Recipe {
                deliverable_id: Some(2),
                scene_id: Some(3),
                style_id: None,
                template_id: 40,
                priority: 1,
            },
        ];
        assert_eq!(selected_templates(&recipes, 1, 3, 7), vec![30, 10, 20]);
        assert_eq!(selected_templates(&recipes, 2, 3, 8), vec![40, 10]);
        assert_eq!(selected_templates(&recipes, 2, 4, 8), vec![10]);
    }
}
