//! The rules preview: for a film, some covered scenes and (optionally) one style, what would a
//! quote get: components, the task templates each needs and their prices, and the billable
//! lines the styles add. Lets the owner check the rules before a couple sees a quote. Priced
//! by the quote's own pricing (`quote::pricing::price`), in the studio's currency.
use super::rules::{self, Choice};
use crate::auth::{Access, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::quote::pricing::{self, ComponentIn, Input, LineKind, PricingType};
use crate::studio::Studio;
use axum::extract::RawQuery;
use axum::response::Response;
use rust_decimal::Decimal;
use sqlx::PgConnection;

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

/// A line the styles add.
pub struct PreviewExtra {
    pub item: String,
    pub quantity: Decimal,
    pub unit_price: String,
    pub amount: String,
}

/// The names the form offers: (id, name) of every film, scene and style.
struct Names {
    films: Vec<(i32, String)>,
    scenes: Vec<(i32, String)>,
    styles: Vec<(i32, String)>,
}

impl Names {
    async fn load(conn: &mut PgConnection) -> AppResult<Names> {
        Ok(Names {
            films: rules::names(conn, "deliverables").await?,
            scenes: rules::names(conn, "coverage_scenes").await?,
            styles: rules::names(conn, "editing_styles").await?,
        })
    }
}

fn name_of(list: &[(i32, String)], id: i32) -> String {
    list.iter()
        .find(|x| x.0 == id)
        .map(|x| x.1.clone())
        .unwrap_or_default()
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
    extras: Vec<PreviewExtra>,
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

/// `?film=1&scene=3&scene=5&style=2`: the ids of each name that parse.
fn ids(query: Option<&str>, name: &str) -> Vec<i32> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    pairs
        .iter()
        .filter(|(n, _)| n == name)
        .filter_map(|(_, v)| v.parse::<i32>().ok())
        .collect()
}

/// One component as the page shows it: each task the recipes select, with its price.
fn component(
    input: &Input,
    names: &Names,
    comp: &ComponentIn,
    price: Decimal,
    studio: &Studio,
) -> PreviewComponent {
    let rate = input.editing_rate;
    let recipes = &input.recipes;
    let (film, scene, style) = (comp.deliverable_id, comp.scene_id, comp.style_id);
    let tasks = pricing::selected_templates(recipes, film, scene, style)
        .into_iter()
        .filter_map(|t| input.templates.iter().find(|x| x.0 == t))
        .map(|(_, name, tpl)| {
            let (hours, p) = pricing::template_price(tpl, comp.target_minutes, rate);
            let how = match tpl.pricing {
                PricingType::Fixed => "fixed price".to_string(),
                PricingType::Hourly => {
                    format!("{} h × {}", hours.normalize(), studio.money(rate))
                }
            };
            PreviewTask {
                name: name.clone(),
                how,
                price: studio.money(p),
            }
        })
        .collect();
    PreviewComponent {
        scene: name_of(&names.scenes, comp.scene_id),
        style: name_of(&names.styles, comp.style_id),
        minutes: comp
            .target_minutes
            .map(|m| m.normalize().to_string())
            .unwrap_or_else(|| "—".into()),
        included: comp.included,
        tasks,
        price: studio.money(price),
    }
}

/// What a quote would get, as the page shows it.
#[derive(Default)]
struct Outcome {
    components: Vec<PreviewComponent>,
    extras: Vec<PreviewExtra>,
    total: Decimal,
}

/// Price the choice with the quote's pricing; the components and the lines the styles add.
async fn outcome(
    conn: &mut PgConnection,
    studio: &Studio,
    choice: &Choice,
    names: &Names,
) -> AppResult<Outcome> {
    let input = rules::input(conn, studio, choice).await?;
    let priced = pricing::price(&input).map_err(|m| {
        AppError::Internal(anyhow::anyhow!("the preview has no coverage: {}", m.label))
    })?;
    let components = input
        .components
        .iter()
        .zip(&priced.component_prices)
        .map(|(comp, (_, price))| component(&input, names, comp, *price, studio))
        .collect();
    let extras = priced
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::StyleAddOn)
        .map(|l| PreviewExtra {
            item: l.description.clone(),
            quantity: l.quantity,
            unit_price: studio.money(l.unit_price),
            amount: studio.money(l.amount),
        })
        .collect();
    Ok(Outcome {
        components,
        extras,
        total: priced.total,
    })
}

pub async fn page(mut db: Db, staff: Staff, RawQuery(q): RawQuery) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Rules preview", "/settings").await?;
    let film = ids(q.as_deref(), "film").first().copied();
    let chosen_scenes = ids(q.as_deref(), "scene");
    let style = ids(q.as_deref(), "style").first().copied();
    let mut conn = db;
    let names = Names::load(&mut conn).await?;
    let outcome = match film {
        Some(film) => {
            let scenes = chosen_scenes.clone();
            let choice = Choice {
                film,
                scenes,
                style,
            };
            outcome(&mut conn, &layout.settings, &choice, &names).await?
        }
        None => Outcome::default(),
    };
    let s = &layout.settings;
    let (total, rate) = (s.money(outcome.total), s.money(s.editing_hourly_rate));
    let page = PreviewPage {
        layout,
        films: names.films,
        scenes: names.scenes,
        styles: names.styles,
        film,
        chosen_scenes,
        style,
        components: outcome.components,
        extras: outcome.extras,
        total,
        rate,
    };
    Ok(render(&page))
}
