//! The quote builder: coverage, films and their components, add-ons, and the live breakdown,
//! updated in place (htmx) after every change. A refused change shows the builder again with
//! the reason and its status (409 or 422), nothing changed.
use super::builds;
use super::forms::{
    BillableForm, ComponentForm, CoverageForm, DeliverableForm, DuplicateForm, Nothing,
    PackageForm, need, num,
};
use super::pricing::{Line, LineKind};
use super::status::BuildStatus;
use super::view::{self, CoverageRow, FilmRow, Head};
use super::{booking, change_orders, engine, packages, pages, proposal};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::form::{Htmx, Refusal};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::studio::Studio;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sqlx::{Connection, PgConnection};

pub fn routes() -> Routes {
    let edit = Access::Perm(Permission::BuildsEdit);
    Routes::new()
        .get(
            "/quotes/{id}",
            Access::Perm(Permission::BuildsView),
            builder,
        )
        .post("/quotes/{id}/coverage", edit, add_coverage)
        .post("/quotes/{id}/coverage/{line}/delete", edit, remove_coverage)
        .post("/quotes/{id}/deliverables", edit, add_deliverable)
        .post(
            "/quotes/{id}/deliverables/{line}/delete",
            edit,
            remove_deliverable,
        )
        .post("/quotes/{id}/components/{line}", edit, update_component)
        .post("/quotes/{id}/billables", edit, add_billable)
        .post(
            "/quotes/{id}/billables/{line}/delete",
            edit,
            remove_billable,
        )
        .post("/quotes/{id}/proposal", edit, send_proposal)
        .post("/quotes/{id}/withdraw", edit, withdraw)
        .post("/quotes/{id}/book", edit, book)
        .post("/quotes/{id}/change-orders", edit, propose_change)
        .post(
            "/quotes/{id}/change-orders/{version}/answer",
            edit,
            record_answer,
        )
        .post("/quotes/{id}/package", edit, save_package)
        .post(
            "/quotes/{id}/payment-schedule",
            edit,
            super::schedule_choice::choose,
        )
        .post("/quotes/{id}/duplicate", edit, duplicate)
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
    /// (when, who): the instant in the studio's zone, so the template's date is its local one.
    accepted: Option<(DateTime<Tz>, String)>,
    coverage: Vec<CoverageView>,
    films: Vec<FilmView>,
    lines: Vec<LineView>,
    total: String,
    scenes: Vec<(i32, String)>,
    operators: Vec<(i32, String)>,
    deliverables: Vec<(i32, String)>,
    styles: Vec<(i32, String)>,
    /// Active add-ons: (id, "name (price)").
    items: Vec<(i32, String)>,
    /// Whether this person may configure quotes and send proposals.
    may_edit: bool,
    /// Whether the quote can change now: it may be edited and nothing locks it.
    can_edit: bool,
    /// Why the quote cannot change now (an acceptance, a change order waiting for an answer).
    locked: Option<String>,
    /// The last version sent: (number, open until, changed since it was sent).
    version: Option<(i32, NaiveDate, bool)>,
    /// Ask before taking the couple's acceptance back.
    confirm_withdraw: bool,
    /// Once booked: (project, approved price, day booked, invoices as (number, what, amount,
    /// due day)).
    booking: Option<(i32, String, String, Vec<InvoiceLine>)>,
    /// Once booked: the approved price differs from the live one (a change to propose).
    changed_since_approved: bool,
    /// The change order waiting for the couple: (version, description, new total).
    pending: Option<(i32, String, String)>,
    /// Why the build cannot be priced, if it cannot (shown in the price panel).
    price_error: Option<String>,
    /// What the last change said, shown in the part it came from.
    feedback: Option<Feedback>,
    drafts: Drafts,
    /// The control to focus after a change whose control is gone (a removal).
    focus: Option<&'static str>,
    share_link: Option<String>,
    /// Where the contract in force stands, when there is one (the page links to it).
    contract: Option<crate::contract::contracts::Stage>,
    /// Open inquiries without a quote (to duplicate this one into).
    open_inquiries: Vec<(i32, String)>,
    /// Whether there are more than the picker shows (then a link to all of them, page by page).
    more_inquiries: bool,
    /// The payment schedules to choose from: (id, name, the quote's).
    schedules: Vec<(i32, String, bool)>,
    /// Who can shoot on the wedding date (free first), once the inquiry has one.
    shooters: Vec<crate::calendar::availability::Shooter>,
}

impl Builder {
    /// What the last change said, when it came from `part`.
    fn said(&self, part: &str) -> Option<&Feedback> {
        self.feedback.as_ref().filter(|f| f.part == part)
    }

    fn component_said(&self, id: &i32) -> Option<&Feedback> {
        self.said(&Part::Component(*id).key())
    }

    /// The problem with one field of the change refused in `part`.
    fn problem(&self, part: &str, field: &str) -> Option<&str> {
        let f = self.said(part)?;
        let e = f.fields.iter().find(|e| e.field == field)?;
        Some(e.message.as_str())
    }

    fn component_problem(&self, id: &i32, field: &str) -> Option<&str> {
        self.problem(&Part::Component(*id).key(), field)
    }

    /// "version N" of the last version sent ("the proposal" for one sent before versions).
    /// How many who can shoot are free on the wedding date.
    fn free_shooters(&self) -> usize {
        self.shooters.iter().filter(|s| s.free).count()
    }

    fn version_label(&self) -> String {
        self.version
            .map_or("the proposal".into(), |v| format!("version {}", v.0))
    }

    fn autofocus(&self, id: &str) -> bool {
        self.focus == Some(id)
    }
}

/// An invoice as the builder shows it: number, what for, amount, due day.
type InvoiceLine = (String, String, String, String);

fn kind_label(k: LineKind) -> &'static str {
    match k {
        LineKind::Coverage => "Coverage",
        LineKind::Component => "Film",
        LineKind::StyleAddOn => "Style add-on",
        LineKind::AddOn => "Add-on",
    }
}

fn coverage_view(r: CoverageRow) -> CoverageView {
    CoverageView {
        id: r.id,
        scene: r.scene,
        operator: r.operator,
        quantity: r.quantity,
        hours: match (r.hours, r.default_hours) {
            (Some(h), _) => h.normalize().to_string(),
            (None, Some(d)) => format!("{} (scene default)", d.normalize()),
            (None, None) => "—".into(),
        },
    }
}

/// Rows of (film, component) into films, each with its components in order.
fn film_views(rows: Vec<FilmRow>, studio: &Studio) -> Vec<FilmView> {
    let mut films: Vec<FilmView> = vec![];
    for r in rows {
        if films.last().is_none_or(|f| f.id != r.film_id) {
            films.push(FilmView {
                id: r.film_id,
                name: r.film,
                components: vec![],
            });
        }
        let (Some(id), Some(scene), Some(style_id)) = (r.component_id, r.scene, r.style_id) else {
            continue;
        };
        let film = films.last_mut().expect("pushed above");
        film.components.push(ComponentView {
            id,
            scene,
            style_id,
            minutes: r
                .target_minutes
                .map(|m| m.normalize().to_string())
                .unwrap_or_default(),
            included: r.included,
            price: studio.money(r.calculated_price.unwrap_or_default()),
        });
    }
    films
}

fn line_view(l: Line, engine_ids: &[i32], studio: &Studio) -> LineView {
    LineView {
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
        unit: studio.money(l.unit_price),
        hours: l
            .hours
            .map(|h| h.normalize().to_string())
            .unwrap_or_default(),
        rule: l.rule,
        amount: studio.money(l.amount),
    }
}

/// The price panel: the breakdown from the rows as they are (nothing written). A build that
/// cannot be priced shows no lines and the reason.
async fn price_panel(
    conn: &mut PgConnection,
    studio: &Studio,
    build: i32,
) -> AppResult<(Vec<LineView>, String, Option<String>)> {
    let mut tx = conn.begin().await?;
    let priced = engine::breakdown(&mut tx, studio, build).await;
    tx.rollback().await?;
    let (lines, total, error) = match priced {
        Ok(p) => (p.lines, p.total, None),
        Err(e) => (vec![], Decimal::ZERO, Some(e.to_string())),
    };
    let engine_ids = view::engine_line_ids(conn, build).await?;
    let lines = lines
        .into_iter()
        .map(|l| line_view(l, &engine_ids, studio))
        .collect();
    Ok((lines, studio.money(total), error))
}

/// The whole builder page, one query per panel.
async fn builder_view(
    db: &mut PgConnection,
    staff: &Staff,
    id: i32,
    feedback: Option<Feedback>,
    share_link: Option<String>,
) -> AppResult<Builder> {
    let head: Head = view::head(&mut *db, id).await?;
    let label = head
        .version
        .map_or("the proposal".into(), |v| format!("version {v}"));
    let locked = match (&head.accepted_by, head.pending_version) {
        (_, Some(v)) => Some(format!(
            "Locked: change order {v} is waiting for the couple's answer; nothing in this quote \
             can change until they answer."
        )),
        (Some(by), None) if head.status == BuildStatus::ProposalSent => Some(format!(
            "Locked: {by} accepted {label}, so nothing in this quote can change. To change it, \
             take the acceptance back under Proposal."
        )),
        _ => None,
    };
    let changed_since_approved = match (&head.approved_configuration, head.pending_version) {
        (Some(approved), None) => packages::configuration(db, id).await? != approved.0,
        _ => false,
    };
    let version = match (head.version, head.valid_until, &head.sent_configuration) {
        (Some(v), Some(until), Some(sent)) => {
            let now = packages::configuration(db, id).await?;
            Some((v, until, now != sent.0))
        }
        _ => None,
    };
    let title = format!("Quote #{id} · {}", head.couple);
    let layout = Layout::load(&mut *db, staff, &title, "/quotes").await?;
    let coverage = view::coverage(db, id).await?;
    let films = film_views(view::films(db, id).await?, &layout.settings);
    let (lines, total, price_error) = price_panel(db, &layout.settings, id).await?;
    let options = view::options(db).await?;
    let (open, more) = pages::open_inquiries(db, None).await?;
    let contract = crate::contract::contracts::stage_of(db, id).await?;
    let schedules = crate::payment_schedules::choices(db, id).await?;
    let shooters = match head.wedding_date {
        Some(day) => {
            crate::calendar::availability::who_can_shoot(db, &layout.settings.time_zone, day)
                .await?
        }
        None => vec![],
    };
    Ok(Builder {
        shooters,
        schedules,
        contract,
        id,
        inquiry_id: head.inquiry_id,
        couple: head.couple,
        wedding: head.wedding_date,
        status: head.status,
        sent_at: head.proposal_sent_at,
        accepted: head.accepted_at.map(|a| {
            let zone = crate::dates::zone(&layout.settings.time_zone);
            (a.with_timezone(&zone), head.accepted_by.unwrap_or_default())
        }),
        coverage: coverage.into_iter().map(coverage_view).collect(),
        films,
        lines,
        total,
        scenes: options.scenes.0,
        operators: options.operators.0,
        deliverables: options.deliverables.0,
        styles: options.styles.0,
        items: options
            .items
            .0
            .into_iter()
            .map(|(id, name, price)| {
                let price = price.parse().unwrap_or_default();
                (id, format!("{name} ({})", layout.settings.money(price)))
            })
            .collect(),
        may_edit: staff.can(Permission::BuildsEdit),
        can_edit: staff.can(Permission::BuildsEdit) && locked.is_none(),
        locked,
        version,
        confirm_withdraw: false,
        changed_since_approved,
        pending: head.pending_version.map(|v| {
            let total = layout
                .settings
                .money(head.pending_total.unwrap_or_default());
            (
                v,
                head.pending_description.clone().unwrap_or_default(),
                total,
            )
        }),
        booking: head.project_id.map(|p| {
            let st = &layout.settings;
            let invoices = head
                .invoices
                .0
                .iter()
                .map(|(n, what, amount, due)| {
                    let amount = st.money(amount.parse().unwrap_or_default());
                    let due = due.format("%b %-d, %Y").to_string();
                    (n.clone(), what.clone().unwrap_or_default(), amount, due)
                })
                .collect();
            let day = head.booked_at.map(|t| st.day(&t)).unwrap_or_default();
            (p, st.money(head.approved_price), day, invoices)
        }),
        price_error,
        feedback,
        drafts: Drafts::default(),
        focus: None,
        share_link,
        open_inquiries: open.into_iter().map(|o| (o.id, o.label)).collect(),
        more_inquiries: more.is_some(),
        layout,
    })
}

async fn builder(mut db: Db, staff: Staff, Path(id): Path<String>) -> AppResult<Response> {
    let id: i32 = id.parse().map_err(|_| AppError::not_found("quote"))?;
    Ok(render(
        &builder_view(&mut db, &staff, id, None, None).await?,
    ))
}

/// The part of the builder a change comes from: its feedback shows there, by its controls.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Coverage,
    Films,
    Component(i32),
    AddOns,
    Package,
    Proposal,
}

impl Part {
    fn key(self) -> String {
        match self {
            Part::Coverage => "coverage".into(),
            Part::Films => "films".into(),
            Part::Component(id) => format!("component-{id}"),
            Part::AddOns => "addons".into(),
            Part::Package => "package".into(),
            Part::Proposal => "proposal".into(),
        }
    }
}

/// What the builder says after a change, in the part it came from.
pub struct Feedback {
    part: String,
    ok: bool,
    /// A message for the part as a whole (a refusal not about one field, or a success).
    message: Option<String>,
    /// Each refused field's problem, shown by the field.
    fields: Vec<crate::error::FieldError>,
}

/// The builder's add forms as typed: blank, or what a refused change sent (shown again).
#[derive(Default)]
struct Drafts {
    coverage: CoverageForm,
    billable: BillableForm,
    package: PackageForm,
    /// The change order form: description, discount percent, discount reason.
    change: (String, String, String),
}

/// How to answer a change: where it came from, whether htmx swaps the answer in, what to say
/// when it works, and where keyboard focus goes when the control it was on is gone.
struct Answer {
    part: Part,
    htmx: Htmx,
    notice: Option<String>,
    focus: Option<&'static str>,
    drafts: Drafts,
}

impl Answer {
    fn new(part: Part, htmx: Htmx) -> Self {
        Answer {
            part,
            htmx,
            notice: None,
            focus: None,
            drafts: Drafts::default(),
        }
    }

    fn focus(mut self, id: &'static str) -> Self {
        self.focus = Some(id);
        self
    }
}

/// After a change: the builder again. With htmx it is answered in place, with the feedback by
/// the part the change came from; without, a redirect to that part. A refused change shows the
/// builder with the reason by the control and what was typed, nothing changed.
async fn after(
    db: &mut PgConnection,
    staff: &Staff,
    id: i32,
    answer: Answer,
    result: AppResult<()>,
) -> AppResult<Response> {
    let part = answer.part.key();
    let (feedback, drafts, focus, status) = match result {
        Ok(()) if !answer.htmx.0 => {
            return Ok(Redirect::to(&format!("/quotes/{id}#{part}")).into_response());
        }
        Ok(()) => {
            let said = answer.notice.map(|m| Feedback {
                part,
                ok: true,
                message: Some(m),
                fields: vec![],
            });
            (said, Drafts::default(), answer.focus, None)
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let said = Feedback {
                part,
                ok: false,
                message: refusal.errors.is_empty().then(|| {
                    refusal
                        .message
                        .clone()
                        .unwrap_or_else(|| "not changed".into())
                }),
                fields: refusal.errors.clone(),
            };
            (Some(said), answer.drafts, None, Some(refusal))
        }
    };
    let mut page = builder_view(db, staff, id, feedback, None).await?;
    page.drafts = drafts;
    page.focus = focus;
    Ok(match status {
        Some(refusal) => refusal.respond(render(&page)),
        None => render(&page),
    })
}

/// Run one change of the build in its own transaction, then answer with the builder.
async fn change<T>(
    db: &mut PgConnection,
    staff: &Staff,
    id: i32,
    answer: Answer,
    f: impl AsyncFnOnce(&mut PgConnection) -> AppResult<T>,
) -> AppResult<Response> {
    let result = crate::db::transaction(db, f).await.map(|_| ());
    after(db, staff, id, answer, result).await
}

async fn add_coverage(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<CoverageForm>,
) -> AppResult<Response> {
    let mut answer = Answer::new(Part::Coverage, htmx);
    answer.drafts.coverage = f.clone();
    change(&mut db, &staff, id, answer, async |tx| {
        builds::add_coverage(tx, id, &f.change()?, Some(staff.contributor_id)).await
    })
    .await
}

async fn remove_coverage(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path((id, line)): Path<(i32, i32)>,
) -> AppResult<Response> {
    let answer = Answer::new(Part::Coverage, htmx).focus("add-scene");
    change(&mut db, &staff, id, answer, async |tx| {
        builds::remove_coverage(tx, id, line, Some(staff.contributor_id)).await
    })
    .await
}

async fn add_deliverable(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<DeliverableForm>,
) -> AppResult<Response> {
    let answer = Answer::new(Part::Films, htmx);
    change(&mut db, &staff, id, answer, async |tx| {
        let d = need("deliverable_id", &f.deliverable_id)?;
        builds::add_deliverable(tx, id, d, Some(staff.contributor_id)).await
    })
    .await
}

async fn remove_deliverable(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path((id, line)): Path<(i32, i32)>,
) -> AppResult<Response> {
    let answer = Answer::new(Part::Films, htmx).focus("add-film");
    change(&mut db, &staff, id, answer, async |tx| {
        builds::remove_deliverable(tx, id, line, Some(staff.contributor_id)).await
    })
    .await
}

async fn update_component(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path((id, line)): Path<(i32, i32)>,
    Form(f): Form<ComponentForm>,
) -> AppResult<Response> {
    let answer = Answer::new(Part::Component(line), htmx);
    change(&mut db, &staff, id, answer, async |tx| {
        builds::update_component(tx, id, line, &f.change()?, Some(staff.contributor_id)).await
    })
    .await
}

async fn add_billable(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<BillableForm>,
) -> AppResult<Response> {
    let mut answer = Answer::new(Part::AddOns, htmx);
    answer.drafts.billable = f.clone();
    change(&mut db, &staff, id, answer, async |tx| {
        let item = need("billable_item_id", &f.billable_item_id)?;
        let qty = num("quantity", &f.quantity)?.unwrap_or(1);
        let actor = Some(staff.contributor_id);
        builds::add_billable(tx, id, item, qty, Some(&f.notes), actor).await
    })
    .await
}

async fn remove_billable(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path((id, line)): Path<(i32, i32)>,
) -> AppResult<Response> {
    let answer = Answer::new(Part::AddOns, htmx).focus("add-item");
    change(&mut db, &staff, id, answer, async |tx| {
        builds::remove_billable(tx, id, line, Some(staff.contributor_id)).await
    })
    .await
}

async fn save_package(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<PackageForm>,
) -> AppResult<Response> {
    let mut answer = Answer::new(Part::Package, htmx);
    answer.notice = Some(format!(
        "Saved as the package \u{201c}{}\u{201d}. Pick it when you start a quote.",
        f.name.trim()
    ));
    answer.drafts.package = f.clone();
    change(&mut db, &staff, id, answer, async |tx| {
        let actor = Some(staff.contributor_id);
        packages::save(tx, id, &f.name, Some(&f.description), actor).await
    })
    .await
}

/// Copy the quote into a new one for another inquiry, and open the copy.
async fn duplicate(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<DuplicateForm>,
) -> AppResult<Response> {
    let result = async {
        let inquiry = need("inquiry_id", &f.inquiry_id)?;
        let mut tx = db.begin().await?;
        let copy = packages::duplicate(&mut tx, id, inquiry, Some(staff.contributor_id)).await?;
        tx.commit().await?;
        Ok(copy)
    }
    .await;
    match result {
        Ok(copy) => Ok(Redirect::to(&format!("/quotes/{copy}")).into_response()),
        Err(e) => {
            after(
                &mut db,
                &staff,
                id,
                Answer::new(Part::Package, htmx),
                Err(e),
            )
            .await
        }
    }
}

/// Send the proposal (its next version), then show the builder with the couple's link.
async fn send_proposal(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Query(_): Query<Nothing>,
) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    let studio = Studio::load(&mut tx).await?;
    let clock = &state.clock;
    let sent = proposal::send(
        &mut tx,
        &state.settings,
        &studio,
        clock,
        id,
        staff.contributor_id,
    )
    .await;
    match sent {
        Ok((link, _, outgoing)) => {
            tx.commit().await?;
            outgoing.send(&state.db, &state.clock);
            let page = builder_view(&mut db, &staff, id, None, Some(link)).await?;
            Ok(render(&page))
        }
        Err(e) => {
            drop(tx);
            let answer = Answer::new(Part::Proposal, Htmx(true));
            after(&mut db, &staff, id, answer, Err(e)).await
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct WithdrawForm {
    #[serde(default)]
    confirm: String,
}

/// Take the couple's acceptance back so the quote can change: first says what that does and
/// asks; with `confirm=yes` does it.
async fn withdraw(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<WithdrawForm>,
) -> AppResult<Response> {
    if f.confirm != "yes" {
        let mut page = builder_view(&mut db, &staff, id, None, None).await?;
        page.confirm_withdraw = true;
        page.focus = Some("withdraw-confirmed");
        return Ok(render(&page));
    }
    let mut answer = Answer::new(Part::Proposal, htmx);
    let version = page_version(&mut db, id).await?;
    answer.notice = Some(format!(
        "You took back the acceptance of version {version}. Change the quote, then send version {}.",
        version + 1
    ));
    let studio = Studio::load(&mut db).await?;
    change(&mut db, &staff, id, answer, async |tx| {
        proposal::withdraw(tx, &studio, &state.clock, id, staff.contributor_id).await
    })
    .await
}

/// The number of the last version sent (0 when none was).
async fn page_version(db: &mut PgConnection, id: i32) -> AppResult<i32> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(max(version), 0) FROM proposal_versions WHERE build_id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await?)
}

#[derive(serde::Deserialize, Default)]
struct BookForm {
    #[serde(default)]
    reason: String,
}

/// Book the wedding on the couple's behalf (with the reason), then show the booking.
async fn book(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<BookForm>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        let studio = Studio::load(&mut tx).await?;
        let by = booking::Booker::Staff {
            id: staff.contributor_id,
            reason: &f.reason,
        };
        let booked = booking::book(
            &mut tx,
            Some(&state.settings),
            &studio,
            &state.clock,
            id,
            by,
        )
        .await?;
        tx.commit().await?;
        Ok(booked)
    }
    .await;
    let mut answer = Answer::new(Part::Proposal, htmx);
    let result = result.map(|b| {
        let invited = if b.invitation.is_some() {
            "; the couple is invited to the portal"
        } else {
            ""
        };
        answer.notice = Some(format!(
            "Booked: project #{}; invoices {} issued{invited}.",
            b.project_id,
            b.invoices.join(" and "),
        ));
        b.send(&state.db, &state.clock);
    });
    after(&mut db, &staff, id, answer, result).await
}

#[derive(serde::Deserialize, Default)]
struct ChangeForm {
    #[serde(default)]
    description: String,
    #[serde(default)]
    discount_percent: String,
    #[serde(default)]
    discount_reason: String,
}

/// Propose the change since the last approved version to the couple.
async fn propose_change(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<ChangeForm>,
) -> AppResult<Response> {
    let mut answer = Answer::new(Part::Proposal, htmx);
    answer.notice =
        Some("Change proposed: the couple can approve or decline it in their portal.".into());
    answer.drafts.change = (
        f.description.clone(),
        f.discount_percent.clone(),
        f.discount_reason.clone(),
    );
    let proposal = change_orders::Proposal {
        description: &f.description,
        discount_percent: &f.discount_percent,
        discount_reason: &f.discount_reason,
    };
    let result = crate::db::transaction(&mut db, async |tx| {
        change_orders::propose(tx, &state.clock, id, &proposal, staff.contributor_id).await
    })
    .await
    .map(|_| ());
    after(&mut db, &staff, id, answer, result).await
}

#[derive(serde::Deserialize, Default)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
}

/// Record the couple's answer to a change order (given by phone or email).
async fn record_answer(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path((id, version)): Path<(i32, i32)>,
    Form(f): Form<AnswerForm>,
) -> AppResult<Response> {
    let mut answer = Answer::new(Part::Proposal, htmx);
    let result = async {
        let approve = match f.answer.as_str() {
            "approve" => true,
            "decline" => false,
            _ => return Err(AppError::field("answer", "is approve or decline")),
        };
        answer.notice = Some(format!(
            "Recorded: the couple {} change order {version}.",
            if approve { "approved" } else { "declined" }
        ));
        let by = change_orders::Answerer::Staff(staff.contributor_id);
        let settings = &state.settings;
        let mails = crate::db::transaction(&mut db, async |tx| {
            let studio = Studio::load(tx).await?;
            change_orders::answer(
                tx,
                settings,
                &studio,
                &state.clock,
                id,
                version,
                approve,
                by,
            )
            .await
        })
        .await?;
        mails.send(&state.db, &state.clock);
        Ok(())
    }
    .await;
    after(&mut db, &staff, id, answer, result).await
}
