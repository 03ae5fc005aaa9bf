//! The rules as a quote applies them, read from the rules tables: what a film with some covered
//! scenes (and, if chosen, one style for every component) gives, as the input of the quote's
//! own pricing (`quote::pricing::price`), so that the preview prices exactly as a quote does.
use crate::error::AppResult;
use crate::quote::pricing::{ComponentIn, Input, Requirement};
use crate::quote::rules::{recipes, requirements, templates};
use crate::studio::Studio;
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// What to preview: a film, the scenes a quote covers, and one style for all (else each
/// default component's own).
pub struct Choice {
    pub film: i32,
    pub scenes: Vec<i32>,
    pub style: Option<i32>,
}

#[derive(sqlx::FromRow)]
struct DefaultComponent {
    coverage_scene_id: Option<i32>,
    default_editing_style_id: i32,
    default_target_minutes: Option<Decimal>,
    default_is_included: bool,
}

/// (id, name) of every row of a catalog table, in the order they were added.
pub async fn names(conn: &mut PgConnection, table: &str) -> AppResult<Vec<(i32, String)>> {
    let sql = format!("SELECT id, name FROM {table} ORDER BY id");
    Ok(sqlx::query_as(&sql).fetch_all(conn).await?)
}

/// Pricing's input for the choice: the film's components (numbered from 0 in the order of
/// its default components, then of the chosen scenes), the task rules and the style rules;
/// no coverage and no lines added by hand.
pub async fn input(conn: &mut PgConnection, studio: &Studio, choice: &Choice) -> AppResult<Input> {
    let defaults: Vec<DefaultComponent> = sqlx::query_as(
        "SELECT coverage_scene_id, default_editing_style_id, default_target_minutes,
                default_is_included
         FROM deliverable_default_components WHERE deliverable_id = $1 ORDER BY id",
    )
    .bind(choice.film)
    .fetch_all(&mut *conn)
    .await?;
    let components = components(choice, &defaults);
    let requirements = in_order_of_use(requirements(conn).await?, &components);
    Ok(Input {
        currency: studio.currency_code.clone(),
        editing_rate: studio.editing_hourly_rate,
        coverage: vec![],
        components,
        templates: templates(conn).await?,
        recipes: recipes(conn).await?,
        requirements,
        manual: vec![],
        engine: vec![],
    })
}

/// A default component for one scene gives one component; one for no scene gives one per
/// chosen scene.
fn components(choice: &Choice, defaults: &[DefaultComponent]) -> Vec<ComponentIn> {
    let mut out = vec![];
    for d in defaults {
        let scenes = match d.coverage_scene_id {
            Some(s) => vec![s],
            None => choice.scenes.clone(),
        };
        for scene_id in scenes {
            out.push(ComponentIn {
                id: out.len() as i32,
                label: String::new(),
                deliverable_id: choice.film,
                scene_id,
                style_id: choice.style.unwrap_or(d.default_editing_style_id),
                target_minutes: d.default_target_minutes,
                included: d.default_is_included,
            });
        }
    }
    out
}

/// The style rules grouped by the style's first included component, so that the lines the
/// styles add are listed style by style as the components use them.
fn in_order_of_use(mut reqs: Vec<Requirement>, components: &[ComponentIn]) -> Vec<Requirement> {
    let first_use = |style: i32| {
        components
            .iter()
            .filter(|c| c.included)
            .position(|c| c.style_id == style)
            .unwrap_or(usize::MAX)
    };
    reqs.sort_by_key(|r| first_use(r.style_id));
    reqs
}
