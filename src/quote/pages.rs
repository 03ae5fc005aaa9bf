//! The quote builder: coverage, films and their components, add-ons, and the live breakdown,
//! updated in place (htmx) after every change; and the list of quotes.
use super::builds::{self, ComponentChange, CoverageChange};
use super::pricing::{Line, LineKind};
use super::status::BuildStatus;
use super::{engine, proposal};
use crate::auth::{Access, Permission, Staff};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::money;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .get("/quotes", Access::Perm(Permission::BuildsView), list)
        .post(
            "/leads/{id}/quote",
            Access::Perm(Permission::BuildsEdit),
            start,
        )
        .get(
            "/quotes/{id}",
            Access::Perm(Permission::BuildsView),
            builder,
        )
        .post(
            "/quotes/{id}/coverage",
            Access::Perm(Permission::BuildsEdit),
            add_coverage,
        )
        .post(
            "/quotes/{id}/coverage/{line}/delete",
            Access::Perm(Permission::BuildsEdit),
            remove_coverage,
        )
        .post(
            "/quotes/{id}/deliverables",
            Access::Perm(Permission::BuildsEdit),
            add_deliverable,
        )
        .post(
            "/quotes/{id}/deliverables/{line}/delete",
            Access::Perm(Permission::BuildsEdit),
            remove_deliverable,
        )
        .post(
            "/quotes/{id}/components/{line}",
            Access::Perm(Permission::BuildsEdit),
            update_component,
        )
        .post(
            "/quotes/{id}/billables",
            Access::Perm(Permission::BuildsEdit),
            add_billable,
        )
        .post(
            "/quotes/{id}/billables/{line}/delete",
            Access::Perm(Permission::BuildsEdit),
            remove_billable,
        )
        .post(
            "/quotes/{id}/proposal",
            Access::Perm(Permission::BuildsEdit),
            send_proposal,
        )
        .post(
            "/quotes/{id}/package",
            Access::Perm(Permission::BuildsEdit),
            save_package,
        )
        .post(
            "/quotes/{id}/duplicate",
            Access::Perm(Permission::BuildsEdit),
            duplicate,
        )
}

#[derive(Deserialize, Default)]
struct PackageForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

async fn save_package(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<PackageForm>,
) -> AppResult<Response> {
    change(&state, &staff, id, async |tx| {
        super::packages::save(
            tx,
            id,
            &f.name,
            Some(&f.description),
            Some(staff.contributor_id),
        )
        .await
    })
    .await
}

#[derive(Deserialize, Default)]
struct DuplicateForm {
    #[serde(default)]
    inquiry_id: String,
}

async fn duplicate(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<DuplicateForm>,
) -> AppResult<Response> {
    let result = async {
        let inquiry = need("inquiry_id", &f.inquiry_id)?;
        let mut tx = state.db.begin().await?;
        let copy =
            super::packages::duplicate(&mut tx, id, inquiry, Some(staff.contributor_id)).await?;
        tx.commit().await?;
        Ok(copy)
    }
    .await;
    match result {
        Ok(copy) => Ok(Redirect::to(&format!("/quotes/{copy}")).into_response()),
        Err(e) => after(&state, &staff, id, Err(e)).await,
    }
}

#[derive(sqlx::FromRow)]
pub struct QuoteRow {
    pub id: i32,
    pub couple: String,
    pub wedding_date: Option<NaiveDate>,
    pub status: BuildStatus,
    pub live_price: Decimal,
    pub accepted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Template)]
#[template(path = "quote/list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<QuoteRow>,
    currency: String,
}

impl ListPage {
    fn money(&self, d: &Decimal) -> String {
        money::format(*d, &self.currency)
    }
}

async fn currency(db: &sqlx::PgPool) -> AppResult<String> {
    Ok(
        sqlx::query_scalar("SELECT currency_code::text FROM studio_settings")
            .fetch_one(db)
            .await?,
    )
}

async fn list(State(state): State<AppState>, staff: Staff) -> AppResult<Response> {
    let rows = sqlx::query_as(
        "SELECT b.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS couple, i.wedding_date, b.status,
                b.live_price, b.accepted_at, b.updated_at
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         ORDER BY b.updated_at DESC LIMIT 500",
    )
    .fetch_all(&state.db)
    .await?;
    Ok(render(&ListPage {
        layout: Layout::load(&state.db, &staff, "Quotes", "/quotes").await?,
        rows,
        currency: currency(&state.db).await?,
    }))
}

#[derive(Deserialize, Default)]
struct StartForm {
    #[serde(default)]
    package_id: String,
}

async fn start(
    State(state): State<AppState>,
    staff: Staff,
    Path(inquiry): Path<i32>,
    Form(f): Form<StartForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let existing: Option<i32> = sqlx::query_scalar("SELECT id FROM builds WHERE inquiry_id = $1")
        .bind(inquiry)
        .fetch_optional(&mut *tx)
        .await?;
    let id = match (existing, num::<i32>("package_id", &f.package_id)?) {
        (Some(id), _) => id,
        (None, Some(package)) => {
            super::packages::start_from_package(
                &mut tx,
                inquiry,
                package,
                Some(staff.contributor_id),
            )
            .await?
        }
        (None, None) => {
            builds::create_for_inquiry(&mut tx, inquiry, Some(staff.contributor_id)).await?
        }
    };
    tx.commit().await?;
    Ok(Redirect::to(&format!("/quotes/{id}")).into_response())
}

pub struct CoverageView {
    pub id: i32,
    pub scene: String,
    pub operator: String,
    pub quantity: i32,
    pub hours: String,
}

pub struct ComponentView {
    pub id: i32,
    pub scene: String,
    pub style_id: i32,
    pub minutes: String,
    pub included: bool,
    pub price: String,
}

pub struct FilmView {
    pub id: i32,
    pub name: String,
    pub components: Vec<ComponentView>,
}

pub struct LineView {
    pub kind: &'static str,
    pub description: String,
    pub quantity: String,
    pub unit: String,
    pub hours: String,
    pub rule: String,
    pub amount: String,
    pub removable: Option<i32>,
    pub engine: bool,
}

#[derive(Template)]
#[template(path = "quote/builder.html")]
struct Builder {
    layout: Layout,
    id: i32,
    inquiry_id: i32,
    couple: String,
    wedding: Option<NaiveDate>,
    status: BuildStatus,
    sent_at: Option<DateTime<Utc>>,
    accepted: Option<(DateTime<Utc>, String)>,
    coverage: Vec<CoverageView>,
    films: Vec<FilmView>,
    lines: Vec<LineView>,
    total: String,
    scenes: Vec<(i32, String)>,
    operators: Vec<(i32, String)>,
    deliverables: Vec<(i32, String)>,
    styles: Vec<(i32, String)>,
    items: Vec<(i32, String)>,
    can_edit: bool,
    error: Option<String>,
    share_link: Option<String>,
    /// Open inquiries without a quote (to duplicate this one into).
    open_inquiries: Vec<(i32, String)>,
}

fn kind_label(k: LineKind) -> &'static str {
    match k {
        LineKind::Coverage => "Coverage",
        LineKind::Component => "Film",
        LineKind::StyleAddOn => "Style add-on",
        LineKind::AddOn => "Add-on",
    }
}

type Head = (
    i32,
    String,
    Option<NaiveDate>,
    BuildStatus,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

async fn builder_view(
    state: &AppState,
    staff: &Staff,
    id: i32,
    error: Option<String>,
    share_link: Option<String>,
) -> AppResult<Builder> {
    let db = &state.db;
    let head: Option<Head> = sqlx::query_as(
        "SELECT i.id, trim(concat_ws(' ', c.first_name, c.last_name)), i.wedding_date, b.status, b.proposal_sent_at, b.accepted_at, b.accepted_by
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id WHERE b.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let (inquiry_id, couple, wedding, status, sent_at, accepted_at, accepted_by) =
        head.ok_or_else(|| AppError::not_found(&format!("quote {id}")))?;
    let cur = currency(db).await?;
    let coverage = sqlx::query_as::<_, (i32, String, String, i32, Option<Decimal>, Option<Decimal>)>(
        "SELECT a.id, s.name, o.name, a.quantity, a.hours, s.default_hours FROM build_coverage_assignments a
         JOIN coverage_scenes s ON s.id = a.coverage_scene_id JOIN operator_types o ON o.id = a.operator_type_id WHERE a.build_id = $1 ORDER BY a.id",
    )
    .bind(id)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|(id, scene, operator, quantity, hours, default)| CoverageView {
        id,
        scene,
        operator,
        quantity,
        hours: match (hours, default) {
            (Some(h), _) => h.normalize().to_string(),
            (None, Some(d)) => format!("{} (scene default)", d.normalize()),
            (None, None) => "—".into(),
        },
    })
    .collect();
    let comps = sqlx::query_as::<_, (i32, String, i32, String, i32, Option<Decimal>, bool, Option<Decimal>)>(
        "SELECT bd.id, d.name, c.id, s.name, c.editing_style_id, c.target_minutes, COALESCE(c.is_included, true), c.calculated_price
         FROM build_deliverables bd JOIN deliverables d ON d.id = bd.deliverable_id
         JOIN build_components c ON c.build_deliverable_id = bd.id JOIN coverage_scenes s ON s.id = c.coverage_scene_id
         WHERE bd.build_id = $1 ORDER BY bd.id, c.id",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    let film_names: Vec<(i32, String)> = sqlx::query_as("SELECT bd.id, d.name FROM build_deliverables bd JOIN deliverables d ON d.id = bd.deliverable_id WHERE bd.build_id = $1 ORDER BY bd.id")
        .bind(id)
        .fetch_all(db)
        .await?;
    let films = film_names
        .into_iter()
        .map(|(bd, name)| FilmView {
            id: bd,
            name,
            components: comps
                .iter()
                .filter(|c| c.0 == bd)
                .map(
                    |(_, _, cid, scene, style, minutes, included, price)| ComponentView {
                        id: *cid,
                        scene: scene.clone(),
                        style_id: *style,
                        minutes: minutes
                            .map(|m| m.normalize().to_string())
                            .unwrap_or_default(),
                        included: *included,
                        price: money::format(price.unwrap_or_default(), &cur),
                    },
                )
                .collect(),
        })
        .collect();
    let mut tx = db.begin().await?;
    let studio = crate::studio::Studio::load(&mut tx).await?;
    let priced = engine::breakdown(&mut tx, &studio, id).await;
    tx.rollback().await?;
    let (lines, total, error) = match priced {
        Ok(p) => (p.lines, p.total, error),
        Err(e) => (vec![], Decimal::ZERO, error.or(Some(e.to_string()))),
    };
    let engine_ids: Vec<i32> = sqlx::query_scalar(
        "SELECT id FROM build_billable_items WHERE build_id = $1 AND is_engine_made",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    let lines = lines
        .into_iter()
        .map(|l: Line| LineView {
            kind: kind_label(l.kind),
            removable: (l.kind == LineKind::AddOn).then_some(l.ref_id).flatten(),
            engine: l.kind == LineKind::StyleAddOn
                || l.ref_id.is_some_and(|r| {
                    engine_ids.contains(&r)
                        && l.kind != LineKind::Coverage
                        && l.kind != LineKind::Component
                }),
            description: l.description,
            quantity: l.quantity.normalize().to_string(),
            unit: money::format(l.unit_price, &cur),
            hours: l
                .hours
                .map(|h| h.normalize().to_string())
                .unwrap_or_default(),
            rule: l.rule,
            amount: money::format(l.amount, &cur),
        })
        .collect();
    let names = |sql: &'static str| async move {
        sqlx::query_as::<_, (i32, String)>(sql).fetch_all(db).await
    };
    Ok(Builder {
        layout: Layout::load(db, staff, &format!("Quote #{id} · {couple}"), "/quotes").await?,
        id,
        inquiry_id,
        couple,
        wedding,
        status,
        sent_at,
        accepted: accepted_at.map(|a| (a, accepted_by.unwrap_or_default())),
        coverage,
        films,
        lines,
        total: money::format(total, &cur),
        scenes: names("SELECT id, name FROM coverage_scenes ORDER BY id").await?,
        operators: names("SELECT id, name FROM operator_types ORDER BY id").await?,
        deliverables: names("SELECT id, name FROM deliverables ORDER BY id").await?,
        styles: names("SELECT id, name FROM editing_styles ORDER BY id").await?,
        items: names("SELECT id, name || ' (' || price::text || ')' FROM billable_items WHERE is_active ORDER BY lower(name)").await?,
                can_edit: staff.can(Permission::BuildsEdit),
        error,
        share_link,
        open_inquiries: names(
            "SELECT i.id, trim(concat_ws(' ', c.first_name, c.last_name)) || COALESCE(' · ' || to_char(i.wedding_date, 'Mon DD, YYYY'), '')
             FROM inquiries i JOIN contacts c ON c.id = i.contact_id
             WHERE i.status IN ('New', 'Contacted', 'Proposal Sent') AND NOT EXISTS (SELECT 1 FROM builds b WHERE b.inquiry_id = i.id)
             ORDER BY i.id DESC LIMIT 200",
        )
        .await?,
    })
}

async fn builder(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: i32 = id.parse().map_err(|_| AppError::not_found("quote"))?;
    Ok(render(&builder_view(&state, &staff, id, None, None).await?))
}

/// After a change: back to the builder (htmx swaps the builder in place); a refused change
/// shows the builder again with the reason, nothing changed.
async fn after(
    state: &AppState,
    staff: &Staff,
    id: i32,
    result: AppResult<()>,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/quotes/{id}")).into_response()),
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let status = e.status();
            let msg = format!("Not changed: {e}");
            Ok((
                status,
                render(&builder_view(state, staff, id, Some(msg), None).await?),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

/// Run one change of the build in its own transaction, then show the builder (in place).
async fn change<T>(
    state: &AppState,
    staff: &Staff,
    id: i32,
    f: impl AsyncFnOnce(&mut sqlx::PgConnection) -> AppResult<T>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = state.db.begin().await?;
        f(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    after(state, staff, id, result).await
}

/// A number from a form field: empty is None; anything else must parse.
fn num<T: std::str::FromStr>(field: &str, v: &str) -> AppResult<Option<T>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| AppError::field(field, format!("{v:?} is not a number")))
}

fn need<T: std::str::FromStr>(field: &str, v: &str) -> AppResult<T> {
    num(field, v)?.ok_or_else(|| AppError::field(field, "is required"))
}

#[derive(Deserialize, Default)]
struct CoverageForm {
    #[serde(default)]
    coverage_scene_id: String,
    #[serde(default)]
    operator_type_id: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    hours: String,
}

async fn add_coverage(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<CoverageForm>,
) -> AppResult<Response> {
    change(&state, &staff, id, async |tx| {
        let c = CoverageChange {
            scene: need("coverage_scene_id", &f.coverage_scene_id)?,
            operator: need("operator_type_id", &f.operator_type_id)?,
            quantity: num("quantity", &f.quantity)?.unwrap_or(1),
            hours: num("hours", &f.hours)?,
        };
        builds::add_coverage(tx, id, &c, Some(staff.contributor_id)).await
    })
    .await
}

async fn remove_coverage(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, line)): Path<(i32, i32)>,
) -> AppResult<Response> {
    change(&state, &staff, id, async |tx| {
        builds::remove_coverage(tx, id, line, Some(staff.contributor_id)).await
    })
    .await
}

#[derive(Deserialize, Default)]
struct DeliverableForm {
    #[serde(default)]
    deliverable_id: String,
}

async fn add_deliverable(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<DeliverableForm>,
) -> AppResult<Response> {
    change(&state, &staff, id, async |tx| {
        let d = need("deliverable_id", &f.deliverable_id)?;
        builds::add_deliverable(tx, id, d, Some(staff.contributor_id)).await
    })
    .await
}

async fn remove_deliverable(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, line)): Path<(i32, i32)>,
) -> AppResult<Response> {
    change(&state, &staff, id, async |tx| {
        builds::remove_deliverable(tx, id, line, Some(staff.contributor_id)).await
    })
    .await
}

#[derive(Deserialize, Default)]
struct ComponentForm {
    #[serde(default)]
    editing_style_id: String,
    #[serde(default)]
    target_minutes: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    is_included: Option<String>,
}

async fn update_component(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, line)): Path<(i32, i32)>,
    Form(f): Form<ComponentForm>,
) -> AppResult<Response> {
    change(&state, &staff, id, async |tx| {
        let c = ComponentChange {
            style: need("editing_style_id", &f.editing_style_id)?,
            target_minutes: num("target_minutes", &f.target_minutes)?,
            included: f.is_included.is_some(),
        };
        builds::update_component(tx, id, line, &c, Some(staff.contributor_id)).await
    })
    .await
}

#[derive(Deserialize, Default)]
struct BillableForm {
    #[serde(default)]
    billable_item_id: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    notes: String,
}

async fn add_billable(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<BillableForm>,
) -> AppResult<Response> {
    change(&state, &staff, id, async |tx| {
        let item = need("billable_item_id", &f.billable_item_id)?;
        let qty = num("quantity", &f.quantity)?.unwrap_or(1);
        builds::add_billable(
            tx,
            id,
            item,
            qty,
            Some(&f.notes),
            Some(staff.contributor_id),
        )
        .await
    })
    .await
}

async fn remove_billable(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, line)): Path<(i32, i32)>,
) -> AppResult<Response> {
    change(&state, &staff, id, async |tx| {
        builds::remove_billable(tx, id, line, Some(staff.contributor_id)).await
    })
    .await
}

#[derive(Deserialize, Default)]
struct Nothing {}

async fn send_proposal(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Query(_): Query<Nothing>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let studio = crate::studio::Studio::load(&mut tx).await?;
    match proposal::send(&mut tx, &state.settings, &studio, id, staff.contributor_id).await {
        Ok((link, outgoing)) => {
            tx.commit().await?;
            outgoing.send().await;
            Ok(render(
                &builder_view(&state, &staff, id, None, Some(link)).await?,
            ))
        }
        Err(e) => {
            drop(tx);
            after(&state, &staff, id, Err(e)).await
        }
    }
}
