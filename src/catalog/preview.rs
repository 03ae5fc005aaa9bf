//! The rules preview: for a film, some covered scenes and (optionally) one style, what would a
//! quote get: components, the task templates each needs and their prices, and the billable
//! lines the styles add. Lets the owner check the rules before a couple sees a quote.
use crate::auth::{Access, Staff};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppResult, AppState};
use crate::money;
use crate::quote::pricing::{self, PricingType, Recipe, Template};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use rust_decimal::Decimal;
use std::collections::HashMap;

pub fn routes() -> Routes {
    Routes::new().get("/settings/rules-preview", Access::Staff, page)
}

pub struct PreviewTask {
    pub name: String,
    pub how: String,
    pub price: String,
}

pub struct PreviewComponent {
    pub scene: String,
    pub style: String,
    pub minutes: String,
    pub included: bool,
    pub tasks: Vec<PreviewTask>,
    pub price: String,
}

#[derive(askama::Template)]
#[template(path = "catalog/preview.html")]
struct PreviewPage {
    layout: Layout,
    films: Vec<(i32, String)>,
    scenes: Vec<(i32, String)>,
    styles: Vec<(i32, String)>,
    film: Option<i32>,
    chosen_scenes: Vec<i32>,
    style: Option<i32>,
    components: Vec<PreviewComponent>,
    extras: Vec<(String, i64, String, String)>,
    total: String,
    rate: String,
}

impl PreviewPage {
    fn scene_chosen(&self, id: &i32) -> bool {
        self.chosen_scenes.contains(id)
    }
    fn film_is(&self, id: &i32) -> bool {
        self.film == Some(*id)
    }
    fn style_is(&self, id: &i32) -> bool {
        self.style == Some(*id)
    }
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(q): RawQuery,
) -> AppResult<Response> {
    let db = &state.db;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let int = |k: &str| {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .filter_map(|(_, v)| v.parse::<i32>().ok())
            .collect::<Vec<_>>()
    };
    let film = int("film").first().copied();
    let chosen_scenes = int("scene");
    let style = int("style").first().copied();
    let names = |table: &str| format!("SELECT id, name FROM {table} ORDER BY id");
    let films: Vec<(i32, String)> = sqlx::query_as(&names("deliverables")).fetch_all(db).await?;
    let scenes: Vec<(i32, String)> = sqlx::query_as(&names("coverage_scenes"))
        .fetch_all(db)
        .await?;
    let styles: Vec<(i32, String)> = sqlx::query_as(&names("editing_styles"))
        .fetch_all(db)
        .await?;
    let (rate, currency): (Decimal, String) =
        sqlx::query_as("SELECT editing_hourly_rate, currency_code::text FROM studio_settings")
            .fetch_one(db)
            .await?;
    let name_of = |list: &[(i32, String)], id: i32| {
        list.iter()
            .find(|x| x.0 == id)
            .map(|x| x.1.clone())
            .unwrap_or_default()
    };
    let mut components = vec![];
    let mut extras = vec![];
    let mut total = Decimal::ZERO;
    if let Some(film_id) = film {
        let defaults: Vec<(Option<i32>, i32, Option<Decimal>, bool)> = sqlx::query_as(
            "SELECT coverage_scene_id, default_editing_style_id, default_target_minutes, default_is_included
             FROM deliverable_default_components WHERE deliverable_id = $1 ORDER BY id",
        )
        .bind(film_id)
        .fetch_all(db)
        .await?;
        let recipes: Vec<Recipe> = sqlx::query_as::<_, (Option<i32>, Option<i32>, Option<i32>, i32, i32)>(
            "SELECT deliverable_id, coverage_scene_id, editing_style_id, task_template_id, priority FROM component_task_recipes",
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|(d, s, st, t, p)| Recipe { deliverable_id: d, scene_id: s, style_id: st, template_id: t, priority: p })
        .collect();
        let templates: HashMap<i32, (String, Template)> = sqlx::query_as::<_, (i32, String, String, Option<Decimal>, Option<serde_json::Value>, Option<Decimal>)>(
            "SELECT id, name, pricing_type::text, effort_hours, effort_calculation_rules, fixed_price FROM task_templates",
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|(id, name, pt, effort, rules, fixed)| {
            let pricing = if pt == "Fixed" { PricingType::Fixed } else { PricingType::Hourly };
            let rules = rules.and_then(|r| pricing::parse_effort_rules(&r).ok());
            (id, (name, Template { id, pricing, effort_hours: effort, rules, fixed_price: fixed }))
        })
        .collect();
        let mut style_uses: Vec<(i32, i64)> = vec![];
        for (scene, default_style, minutes, included) in defaults {
            let scene_ids: Vec<i32> = match scene {
                Some(s) => vec![s],
                None => chosen_scenes.clone(),
            };
            for scene_id in scene_ids {
                let style_id = style.unwrap_or(default_style);
                let mut tasks = vec![];
                let mut price = Decimal::ZERO;
                for t in pricing::selected_templates(&recipes, film_id, scene_id, style_id) {
                    let Some((name, tpl)) = templates.get(&t) else {
                        continue;
                    };
                    let (hours, p) = pricing::template_price(tpl, minutes, rate);
                    let how = match tpl.pricing {
                        PricingType::Fixed => "fixed price".to_string(),
                        PricingType::Hourly => format!(
                            "{} h × {}",
                            hours.normalize(),
                            money::format(rate, &currency)
                        ),
                    };
                    if included {
                        price += p;
                    }
                    tasks.push(PreviewTask {
                        name: name.clone(),
                        how,
                        price: money::format(p, &currency),
                    });
                }
                if included {
                    total += price;
                    match style_uses.iter_mut().find(|s| s.0 == style_id) {
                        Some(s) => s.1 += 1,
                        None => style_uses.push((style_id, 1)),
                    }
                }
                components.push(PreviewComponent {
                    scene: name_of(&scenes, scene_id),
                    style: name_of(&styles, style_id),
                    minutes: minutes
                        .map(|m| m.normalize().to_string())
                        .unwrap_or_else(|| "—".into()),
                    included,
                    tasks,
                    price: money::format(if included { price } else { Decimal::ZERO }, &currency),
                });
            }
        }
        let reqs: Vec<(i32, String, i32, Decimal)> = sqlx::query_as(
            "SELECT r.editing_style_id, b.name, r.quantity, b.price FROM editing_style_requirements r
             JOIN billable_items b ON b.id = r.billable_item_id ORDER BY r.id",
        )
        .fetch_all(db)
        .await?;
        for (style_id, n) in style_uses {
            for (_, item, qty, price) in reqs.iter().filter(|r| r.0 == style_id) {
                let q = *qty as i64 * n;
                let amount = money::cents(*price * Decimal::from(q));
                total += amount;
                extras.push((
                    format!("{item} ({})", name_of(&styles, style_id)),
                    q,
                    money::format(*price, &currency),
                    money::format(amount, &currency),
                ));
            }
        }
    }
    let page = PreviewPage {
        layout: Layout::load(db, &staff, "Rules preview", "/settings").await?,
        films,
        scenes,
        styles,
        film,
        chosen_scenes,
        style,
        components,
        extras,
        total: money::format(total, &currency),
        rate: money::format(rate, &currency),
    };
    Ok(render(&page))
}
