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

// ---------------------------------------------------------------- a whole build

/// A coverage assignment as pricing sees it.
#[derive(Debug, Clone)]
pub struct CoverageIn {
    pub id: i32,
    pub label: String,
    pub pricing: PricingType,
    pub hourly_rate: Option<Decimal>,
    pub fixed_price: Option<Decimal>,
    pub quantity: i32,
    /// The assignment's own hours, else the scene's default hours.
    pub hours: Option<Decimal>,
    pub scene_default_hours: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct ComponentIn {
    pub id: i32,
    pub label: String,
    pub deliverable_id: i32,
    pub scene_id: i32,
    pub style_id: i32,
    pub target_minutes: Option<Decimal>,
    pub included: bool,
}

/// A line a person added: quantity x price_at_time_of_add.
#[derive(Debug, Clone)]
pub struct ManualLine {
    pub id: i32,
    pub label: String,
    pub quantity: i32,
    pub unit_price: Decimal,
}

/// "Whenever style X is used, add item Y x quantity per component."
#[derive(Debug, Clone)]
pub struct Requirement {
    pub style_id: i32,
    pub style: String,
    pub item_id: i32,
    pub item: String,
    pub quantity: i32,
    pub current_price: Decimal,
}

/// An engine-made line (derived from the styles in use).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineLine {
    pub id: Option<i32>,
    pub style_id: i32,
    pub item_id: i32,
    pub label: String,
    pub quantity: i32,
    pub unit_price: Decimal,
}

#[derive(Debug, Clone)]
pub struct Input {
    /// The studio's currency, for the words of the rules.
    pub currency: String,
    pub editing_rate: Decimal,
    pub coverage: Vec<CoverageIn>,
    pub components: Vec<ComponentIn>,
    pub templates: Vec<(i32, String, Template)>,
    pub recipes: Vec<Recipe>,
    pub requirements: Vec<Requirement>,
    pub manual: Vec<ManualLine>,
    /// Engine-made lines already on the build: they keep the price they first had.
    pub engine: Vec<EngineLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Coverage,
    Component,
    StyleAddOn,
    AddOn,
}

/// One priced line of the breakdown.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Line {
    pub kind: LineKind,
    /// The row it prices (coverage assignment, component, or billable line).
    pub ref_id: Option<i32>,
    pub description: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = Option<String>)]
    pub hours: Option<Decimal>,
    /// The rule that made the line, in words.
    pub rule: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone)]
pub struct Priced {
    pub lines: Vec<Line>,
    pub total: Decimal,
    /// (component id, calculated price) for every component (0 when not included).
    pub component_prices: Vec<(i32, Decimal)>,
    /// The engine-made lines the build should hold now.
    pub engine: Vec<EngineLine>,
}

/// What pricing refuses: an hourly operator with no hours anywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingHours {
    pub coverage_id: i32,
    pub label: String,
}

fn fmt_h(h: Decimal) -> String {
    h.normalize().to_string()
}

/// Price a whole build (decisions.md, Phase 3). Pure: same input, same output.
pub fn price(input: &Input) -> Result<Priced, MissingHours> {
    let mut lines = vec![];
    for c in &input.coverage {
        let qty = Decimal::from(c.quantity);
        let (unit, hours, rule) = match c.pricing {
            PricingType::Fixed => {
                let p = c.fixed_price.unwrap_or_default();
                (p, None, format!("{} x fixed price", c.quantity))
            }
            PricingType::Hourly => {
                let Some(h) = c.hours.or(c.scene_default_hours) else {
                    return Err(MissingHours {
                        coverage_id: c.id,
                        label: c.label.clone(),
                    });
                };
                let rate = c.hourly_rate.unwrap_or_default();
                let whose = if c.hours.is_some() {
                    "booked"
                } else {
                    "the scene's default"
                };
                (
                    rate * h,
                    Some((h * qty).normalize()),
                    format!(
                        "{} x {} h ({whose}) x {} per hour",
                        c.quantity,
                        fmt_h(h),
                        crate::money::format(rate, &input.currency)
                    ),
                )
            }
        };
        lines.push(Line {
            kind: LineKind::Coverage,
            ref_id: Some(c.id),
            description: c.label.clone(),
            quantity: qty,
            // Rounded once, from the exact unit price; the unit is shown in cents.
            unit_price: cents(unit),
            hours,
            rule,
            amount: cents(qty * unit),
        });
    }
    let mut component_prices = vec![];
    let mut style_uses: Vec<(i32, i32)> = vec![];
    for comp in &input.components {
        let mut amount = Decimal::ZERO;
        let mut hours = Decimal::ZERO;
        let mut parts = vec![];
        for t in selected_templates(
            &input.recipes,
            comp.deliverable_id,
            comp.scene_id,
            comp.style_id,
        ) {
            let Some((_, name, tpl)) = input.templates.iter().find(|x| x.0 == t) else {
                continue;
            };
            let (h, p) = template_price(tpl, comp.target_minutes, input.editing_rate);
            amount += p;
            hours += h;
            parts.push(match tpl.pricing {
                PricingType::Fixed => format!(
                    "{name} (fixed {})",
                    crate::money::format(p, &input.currency)
                ),
                PricingType::Hourly => format!("{name} ({} h)", fmt_h(h)),
            });
        }
        let rule = if !comp.included {
            "not included".to_string()
        } else if parts.is_empty() {
            "no task recipe matches this component".to_string()
        } else {
            format!(
                "{} at {} per hour",
                parts.join(" + "),
                crate::money::format(input.editing_rate, &input.currency)
            )
        };
        let amount = if comp.included { amount } else { Decimal::ZERO };
        component_prices.push((comp.id, amount));
        if comp.included {
            match style_uses.iter_mut().find(|s| s.0 == comp.style_id) {
                Some(s) => s.1 += 1,
                None => style_uses.push((comp.style_id, 1)),
            }
        }
        lines.push(Line {
            kind: LineKind::Component,
            ref_id: Some(comp.id),
            description: comp.label.clone(),
            quantity: Decimal::ONE,
            unit_price: amount,
            hours: (comp.included && !hours.is_zero()).then_some(hours.normalize()),
            rule,
            amount,
        });
    }
    // Engine-made lines: one per (style in use, required item), quantity scaling with the
    // number of included components in that style, priced when the line first appeared.
    let mut engine = vec![];
    for r in &input.requirements {
        let Some((_, uses)) = style_uses.iter().find(|s| s.0 == r.style_id) else {
            continue;
        };
        let existing = input
            .engine
            .iter()
            .find(|e| e.style_id == r.style_id && e.item_id == r.item_id);
        let line = EngineLine {
            id: existing.and_then(|e| e.id),
            style_id: r.style_id,
            item_id: r.item_id,
            label: format!("{} ({})", r.item, r.style),
            quantity: r.quantity * uses,
            unit_price: existing.map_or(r.current_price, |e| e.unit_price),
        };
        let qty = Decimal::from(line.quantity);
        lines.push(Line {
            kind: LineKind::StyleAddOn,
            ref_id: line.id,
            description: line.label.clone(),
            quantity: qty,
            unit_price: line.unit_price,
            hours: None,
            rule: format!(
                "{} per component x {} component(s) in {}",
                r.quantity, uses, r.style
            ),
            amount: cents(qty * line.unit_price),
        });
        engine.push(line);
    }
    for m in &input.manual {
        let qty = Decimal::from(m.quantity);
        lines.push(Line {
            kind: LineKind::AddOn,
            ref_id: Some(m.id),
            description: m.label.clone(),
            quantity: qty,
            unit_price: m.unit_price,
            hours: None,
            rule: "added by hand, at the price when added".into(),
            amount: cents(qty * m.unit_price),
        });
    }
    let total = lines.iter().map(|l| l.amount).sum();
    Ok(Priced {
        lines,
        total,
        component_prices,
        engine,
    })
}

#[cfg(test)]
mod build_tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// Demo-like rules: one hourly template for every component, a fixed one for style 2,
    /// style 1 requires item 100 x1 and item 101 x2.
    fn base() -> Input {
        Input {
            currency: "USD".into(),
            editing_rate: d("85"),
            coverage: vec![
                CoverageIn {
                    id: 1,
                    label: "Ceremony · Lead".into(),
                    pricing: PricingType::Hourly,
                    hourly_rate: Some(d("150")),
                    fixed_price: None,
                    quantity: 2,
                    hours: Some(d("1.5")),
                    scene_default_hours: Some(d("1")),
                },
                CoverageIn {
                    id: 2,
                    label: "Reception · Drone".into(),
                    pricing: PricingType::Fixed,
                    hourly_rate: None,
                    fixed_price: Some(d("450")),
                    quantity: 1,
                    hours: None,
                    scene_default_hours: None,
                },
            ],
            components: vec![
                ComponentIn {
                    id: 10,
                    label: "A".into(),
                    deliverable_id: 1,
                    scene_id: 1,
                    style_id: 1,
                    target_minutes: Some(d("2")),
                    included: true,
                },
                ComponentIn {
                    id: 11,
                    label: "B".into(),
                    deliverable_id: 1,
                    scene_id: 2,
                    style_id: 1,
                    target_minutes: Some(d("1")),
                    included: true,
                },
                ComponentIn {
                    id: 12,
                    label: "C".into(),
                    deliverable_id: 2,
                    scene_id: 1,
                    style_id: 2,
                    target_minutes: None,
                    included: true,
                },
            ],
            templates: vec![
                (
                    1,
                    "Cut".into(),
                    Template {
                        id: 1,
                        pricing: PricingType::Hourly,
                        effort_hours: Some(d("1")),
                        rules: Some(EffortRules {
                            base_hours: Some(d("1")),
                            hours_per_target_minute: Some(d("0.5")),
                            min_hours: None,
                            max_hours: None,
                        }),
                        fixed_price: None,
                    },
                ),
                (
                    2,
                    "Export".into(),
                    Template {
                        id: 2,
                        pricing: PricingType::Fixed,
                        effort_hours: None,
                        rules: None,
                        fixed_price: Some(d("60")),
                    },
                ),
            ],
            recipes: vec![
                Recipe {
                    deliverable_id: None,
                    scene_id: None,
                    style_id: None,
                    template_id: 1,
                    priority: 1,
                },
                Recipe {
                    deliverable_id: None,
                    scene_id: None,
                    style_id: Some(2),
                    template_id: 2,
                    priority: 2,
                },
            ],
            requirements: vec![
                Requirement {
                    style_id: 1,
                    style: "Cinematic".into(),
                    item_id: 100,
                    item: "Music".into(),
                    quantity: 1,
                    current_price: d("85"),
                },
                Requirement {
                    style_id: 1,
                    style: "Cinematic".into(),
                    item_id: 101,
                    item: "Grade".into(),
                    quantity: 2,
                    current_price: d("12.50"),
                },
            ],
            manual: vec![ManualLine {
                id: 7,
                label: "Rush".into(),
                quantity: 1,
                unit_price: d("350"),
            }],
            engine: vec![],
        }
    }

    #[test]
    fn every_rule_by_hand() {
        let p = price(&base()).unwrap();
        let amounts: Vec<(LineKind, String)> = p
            .lines
            .iter()
            .map(|l| (l.kind, l.amount.to_string()))
            .collect();
        assert_eq!(
            amounts,
            [
                (LineKind::Coverage, "450.00".into()),   // 2 x 1.5 h x $150
                (LineKind::Coverage, "450.00".into()),   // 1 x fixed $450
                (LineKind::Component, "170.00".into()),  // (1 + 0.5 x 2) h x $85
                (LineKind::Component, "127.50".into()),  // (1 + 0.5 x 1) h x $85
                (LineKind::Component, "145.00".into()),  // 1 h x $85 + fixed $60
                (LineKind::StyleAddOn, "170.00".into()), // 1 x 2 components x $85
                (LineKind::StyleAddOn, "50.00".into()),  // 2 x 2 components x $12.50
                (LineKind::AddOn, "350.00".into()),
            ]
        );
        assert_eq!(p.total, d("1912.50"));
        assert_eq!(
            p.component_prices,
            [(10, d("170.00")), (11, d("127.50")), (12, d("145.00"))]
        );
    }

    #[test]
    fn hourly_coverage_falls_back_to_the_scene_hours_and_refuses_none() {
        let mut i = base();
        i.coverage[0].hours = None;
        assert_eq!(
            price(&i).unwrap().lines[0].amount,
            d("300.00"),
            "2 x 1 h x $150"
        );
        i.coverage[0].scene_default_hours = None;
        assert_eq!(
            price(&i).unwrap_err(),
            MissingHours {
                coverage_id: 1,
                label: "Ceremony · Lead".into()
            }
        );
    }

    #[test]
    fn engine_lines_keep_the_price_they_first_had() {
        let mut i = base();
        let first = price(&i).unwrap().engine;
        i.engine = first
            .iter()
            .map(|e| EngineLine {
                id: Some(e.item_id),
                ..e.clone()
            })
            .collect();
        i.requirements[0].current_price = d("99");
        let again = price(&i).unwrap();
        assert_eq!(
            again.engine[0].unit_price,
            d("85"),
            "the catalog price change does not reprice the quote"
        );
    }

    #[test]
    fn a_style_no_longer_used_loses_its_lines() {
        let mut i = base();
        i.components[0].style_id = 2;
        i.components[1].included = false;
        let p = price(&i).unwrap();
        assert!(p.engine.is_empty());
        assert!(p.lines.iter().all(|l| l.kind != LineKind::StyleAddOn));
    }

    fn arb_input() -> impl Strategy<Value = Input> {
        (
            prop::collection::vec((1..4i32, 1..3i32, 0..20u32, any::<bool>()), 1..12),
            1..5i32,
            0..30000i64,
        )
            .prop_map(|(comps, cov_qty, rate_cents)| {
                let mut i = base();
                i.editing_rate = Decimal::new(rate_cents, 2);
                i.coverage[0].quantity = cov_qty;
                i.components = comps
                    .into_iter()
                    .enumerate()
                    .map(|(n, (scene, style, minutes, included))| ComponentIn {
                        id: 100 + n as i32,
                        label: format!("c{n}"),
                        deliverable_id: 1,
                        scene_id: scene,
                        style_id: style,
                        target_minutes: Some(Decimal::from(minutes) / Decimal::from(4)),
                        included,
                    })
                    .collect();
                i
            })
    }

    proptest! {
        #[test]
        fn the_total_is_the_sum_of_the_lines(i in arb_input()) {
            let p = price(&i).unwrap();
            prop_assert_eq!(p.total, p.lines.iter().map(|l| l.amount).sum::<Decimal>());
            for l in &p.lines {
                prop_assert_eq!(l.amount, cents(l.amount), "every line in cents");
            }
        }

        #[test]
        fn excluding_a_component_removes_its_price_and_its_share_of_style_lines(i in arb_input(), pick in 0usize..12) {
            let pick = pick % i.components.len();
            prop_assume!(i.components[pick].included);
            let before = price(&i).unwrap();
            let mut j = i.clone();
            j.components[pick].included = false;
            let after = price(&j).unwrap();
            let comp_price = before.component_prices[pick].1;
            let style = i.components[pick].style_id;
            let share: Decimal = i.requirements.iter().filter(|r| r.style_id == style).map(|r| cents(Decimal::from(r.quantity) * r.current_price)).sum();
            prop_assert_eq!(before.total - after.total, comp_price + share);
        }

        #[test]
        fn the_order_of_the_rows_does_not_change_the_total(i in arb_input()) {
            let mut j = i.clone();
            j.components.reverse();
            j.coverage.reverse();
            j.requirements.reverse();
            j.recipes.reverse();
            prop_assert_eq!(price(&i).unwrap().total, price(&j).unwrap().total);
        }
    }
}
