//! Pricing rules (decisions.md, Phase 3), pure: no I/O. Money is `Decimal`, rounded to cents
//! half away from zero once per line.
use crate::money::cents;
use rust_decimal::Decimal;

pub use crate::recipes::{
    EffortRules, Recipe, effort_hours, parse_effort_rules, selected_templates,
};

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
    /// Whether the studio charges tax on this operator's work.
    pub taxable: bool,
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
    pub taxable: bool,
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
    pub taxable: bool,
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
    /// Whether the studio's tax applies to this line (billable items and operator types can
    /// be marked non-taxable; films always are).
    pub taxable: bool,
}

#[derive(Debug, Clone)]
pub struct Priced {
    pub lines: Vec<Line>,
    pub total: Decimal,
    /// The part of the total the tax applies to: the sum of the taxable lines.
    pub taxable: Decimal,
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

/// Price a whole build (decisions.md, Phase 3). Pure: same input, same output. The lines come
/// in this order: coverage, components, engine-made style lines, add-ons by hand.
pub fn price(input: &Input) -> Result<Priced, MissingHours> {
    let mut lines = input
        .coverage
        .iter()
        .map(|c| coverage_line(c, &input.currency))
        .collect::<Result<Vec<Line>, MissingHours>>()?;
    let components: Vec<Line> = input
        .components
        .iter()
        .map(|c| component_line(input, c))
        .collect();
    let component_prices = input
        .components
        .iter()
        .zip(&components)
        .map(|(c, l)| (c.id, l.amount))
        .collect();
    let (engine, style_lines) = style_add_ons(input);
    lines.extend(components);
    lines.extend(style_lines);
    lines.extend(input.manual.iter().map(add_on_line));
    Ok(Priced {
        total: total(&lines),
        taxable: lines.iter().filter(|l| l.taxable).map(|l| l.amount).sum(),
        lines,
        component_prices,
        engine,
    })
}

/// A coverage line: quantity x (fixed price, or hours x hourly rate); the unit is rounded once,
/// from the exact unit price, and shown in cents.
fn coverage_line(c: &CoverageIn, currency: &str) -> Result<Line, MissingHours> {
    let qty = Decimal::from(c.quantity);
    let (unit, hours, rule) = match c.pricing {
        PricingType::Fixed => (
            c.fixed_price.unwrap_or_default(),
            None,
            format!("{} x fixed price", c.quantity),
        ),
        PricingType::Hourly => hourly_coverage(c, currency)?,
    };
    Ok(Line {
        kind: LineKind::Coverage,
        ref_id: Some(c.id),
        description: c.label.clone(),
        quantity: qty,
        unit_price: cents(unit),
        hours,
        rule,
        amount: cents(qty * unit),
        taxable: c.taxable,
    })
}

/// An hourly operator's (unit price, total hours, rule): the booked hours, else the scene's
/// default hours; with neither, pricing refuses.
fn hourly_coverage(
    c: &CoverageIn,
    currency: &str,
) -> Result<(Decimal, Option<Decimal>, String), MissingHours> {
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
    let rule = format!(
        "{} x {} h ({whose}) x {} per hour",
        c.quantity,
        fmt_h(h),
        crate::money::format(rate, currency)
    );
    Ok((
        rate * h,
        Some((h * Decimal::from(c.quantity)).normalize()),
        rule,
    ))
}

/// A component line: the sum of the templates its recipes select, or 0 when not included.
fn component_line(input: &Input, comp: &ComponentIn) -> Line {
    let (amount, hours, parts) = component_work(input, comp);
    let amount = if comp.included { amount } else { Decimal::ZERO };
    Line {
        kind: LineKind::Component,
        ref_id: Some(comp.id),
        description: comp.label.clone(),
        quantity: Decimal::ONE,
        unit_price: amount,
        hours: (comp.included && !hours.is_zero()).then_some(hours.normalize()),
        rule: component_rule(input, comp, &parts),
        amount,
        taxable: true,
    }
}

/// The (price, hours) of the templates the recipes select for a component, and each in words.
fn component_work(input: &Input, comp: &ComponentIn) -> (Decimal, Decimal, Vec<String>) {
    let mut amount = Decimal::ZERO;
    let mut hours = Decimal::ZERO;
    let mut parts = vec![];
    let selected = selected_templates(
        &input.recipes,
        comp.deliverable_id,
        comp.scene_id,
        comp.style_id,
    );
    for t in selected {
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
    (amount, hours, parts)
}

/// A component's rule in words, from its templates' words.
fn component_rule(input: &Input, comp: &ComponentIn, parts: &[String]) -> String {
    if !comp.included {
        "not included".to_string()
    } else if parts.is_empty() {
        "no task recipe matches this component".to_string()
    } else {
        format!(
            "{} at {} per hour",
            parts.join(" + "),
            crate::money::format(input.editing_rate, &input.currency)
        )
    }
}

/// How many included components use each style, styles in order of first use.
fn style_uses(components: &[ComponentIn]) -> Vec<(i32, i32)> {
    let mut uses: Vec<(i32, i32)> = vec![];
    for comp in components.iter().filter(|c| c.included) {
        match uses.iter_mut().find(|s| s.0 == comp.style_id) {
            Some(s) => s.1 += 1,
            None => uses.push((comp.style_id, 1)),
        }
    }
    uses
}

/// Engine-made lines: one per (style in use, required item), quantity scaling with the
/// number of included components in that style, priced when the line first appeared.
/// Returns the lines the build should hold and their lines of the breakdown.
fn style_add_ons(input: &Input) -> (Vec<EngineLine>, Vec<Line>) {
    let uses = style_uses(&input.components);
    input
        .requirements
        .iter()
        .filter_map(|r| {
            let (_, n) = uses.iter().find(|s| s.0 == r.style_id)?;
            let engine = engine_line(r, *n, &input.engine);
            let line = style_add_on_line(&engine, r, *n);
            Some((engine, line))
        })
        .unzip()
}

/// The engine-made line for a requirement: the one already on the build keeps its id and
/// price; a new one takes the item's current price.
fn engine_line(r: &Requirement, uses: i32, on_the_build: &[EngineLine]) -> EngineLine {
    let existing = on_the_build
        .iter()
        .find(|e| e.style_id == r.style_id && e.item_id == r.item_id);
    EngineLine {
        id: existing.and_then(|e| e.id),
        style_id: r.style_id,
        item_id: r.item_id,
        label: format!("{} ({})", r.item, r.style),
        quantity: r.quantity * uses,
        unit_price: existing.map_or(r.current_price, |e| e.unit_price),
    }
}

fn style_add_on_line(e: &EngineLine, r: &Requirement, uses: i32) -> Line {
    let qty = Decimal::from(e.quantity);
    Line {
        kind: LineKind::StyleAddOn,
        ref_id: e.id,
        description: e.label.clone(),
        quantity: qty,
        unit_price: e.unit_price,
        hours: None,
        rule: format!(
            "{} per component x {} component(s) in {}",
            r.quantity, uses, r.style
        ),
        amount: cents(qty * e.unit_price),
        taxable: r.taxable,
    }
}

/// A line a person added: quantity x the price when it was added.
fn add_on_line(m: &ManualLine) -> Line {
    let qty = Decimal::from(m.quantity);
    Line {
        kind: LineKind::AddOn,
        ref_id: Some(m.id),
        description: m.label.clone(),
        quantity: qty,
        unit_price: m.unit_price,
        hours: None,
        rule: "added by hand, at the price when added".into(),
        amount: cents(qty * m.unit_price),
        taxable: m.taxable,
    }
}

/// The total: the sum of the lines, each already in cents.
fn total(lines: &[Line]) -> Decimal {
    lines.iter().map(|l| l.amount).sum()
}

#[cfg(test)]
mod tests;
