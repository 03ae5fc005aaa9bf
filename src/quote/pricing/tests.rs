//! The pricing rules by hand, and a whole build's price by hand and as properties.
use super::*;
use proptest::prelude::*;
use serde_json::json;
use std::str::FromStr;

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
    let r = parse_effort_rules(
        &json!({"base_hours": 2, "hours_per_target_minute": 1.5, "min_hours": 3, "max_hours": 16}),
    )
    .unwrap();
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

// ---------------------------------------------------------------- a whole build

/// Demo-like rules: one hourly template for every component, a fixed one for style 2,
/// style 1 requires item 100 x1 and item 101 x2.
fn base() -> Input {
    Input {
        currency: "USD".into(),
        editing_rate: d("85"),
        coverage: base_coverage(),
        components: base_components(),
        templates: base_templates(),
        recipes: base_recipes(),
        requirements: base_requirements(),
        manual: vec![ManualLine {
            id: 7,
            label: "Rush".into(),
            quantity: 1,
            unit_price: d("350"),
            taxable: false,
        }],
        engine: vec![],
    }
}

fn base_coverage() -> Vec<CoverageIn> {
    vec![
        CoverageIn {
            id: 1,
            label: "Ceremony · Lead".into(),
            pricing: PricingType::Hourly,
            hourly_rate: Some(d("150")),
            fixed_price: None,
            quantity: 2,
            hours: Some(d("1.5")),
            scene_default_hours: Some(d("1")),
            taxable: true,
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
            taxable: false,
        },
    ]
}

fn base_components() -> Vec<ComponentIn> {
    vec![
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
    ]
}

fn base_templates() -> Vec<(i32, String, Template)> {
    vec![
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
    ]
}

fn base_recipes() -> Vec<Recipe> {
    vec![
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
    ]
}

fn base_requirements() -> Vec<Requirement> {
    vec![
        Requirement {
            style_id: 1,
            style: "Cinematic".into(),
            item_id: 100,
            item: "Music".into(),
            quantity: 1,
            current_price: d("85"),
            taxable: true,
        },
        Requirement {
            style_id: 1,
            style: "Cinematic".into(),
            item_id: 101,
            item: "Grade".into(),
            quantity: 2,
            current_price: d("12.50"),
            taxable: true,
        },
    ]
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
    // The fixed drone operator ($450) and the Rush add-on ($350) are not taxable.
    assert_eq!(p.taxable, d("1112.50"));
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
    fn excluding_a_component_removes_its_price_and_its_share_of_style_lines(
        i in arb_input(),
        pick in 0usize..12,
    ) {
        let pick = pick % i.components.len();
        prop_assume!(i.components[pick].included);
        let before = price(&i).unwrap();
        let mut j = i.clone();
        j.components[pick].included = false;
        let after = price(&j).unwrap();
        let comp_price = before.component_prices[pick].1;
        let style = i.components[pick].style_id;
        let share: Decimal = i
            .requirements
            .iter()
            .filter(|r| r.style_id == style)
            .map(|r| cents(Decimal::from(r.quantity) * r.current_price))
            .sum();
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
