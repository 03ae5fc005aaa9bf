//! The studio's delivery pages: the project page's Delivery sections (assets with the resumable
//! uploader, download links, documents, expenses, the survey) and their actions, the surveys
//! list with the NPS summary, and Settings > Delivery.
use super::assets::{self, Asset};
use super::expenses::{self, Expense, NewExpense, Receipt};
use super::links::{self, DeliverySettings, Link};
use super::range::{self, Served};
use super::surveys::{self, Survey};
use super::uploads::ASSET_TYPES;
use crate::auth::{Access, Permission, Staff};
use crate::crm::documents::{self, Listed, Parent, Upload};
use crate::db::Db;
use crate::error::AppError;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppResult, AppState};
use askama::Template;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::ProjectsView);
    let work = Access::Perm(Permission::TasksWork);
    let manage = Access::Perm(Permission::TasksManage);
    let money = Access::Perm(Permission::InvoicesManage);
    let settings = Access::Perm(Permission::SettingsManage);
    Routes::new()
        .get("/projects/{id}/assets/{asset}/file", view, asset_file)
        .post("/projects/{id}/assets/{asset}/links", manage, make_link)
        .post("/projects/{id}/links/{link}/revoke", manage, revoke_link)
        .post("/projects/{id}/delivered", manage, delivered)
        .post("/projects/{id}/documents", work, upload_document)
        .get("/projects/{id}/documents/{doc}", view, project_document)
        .post("/documents/{id}/archive", Access::Staff, archive)
        .post("/documents/{id}/restore", Access::Staff, restore)
        .post("/projects/{id}/expenses", money, add_expense)
        .get("/projects/{id}/expenses/{expense}/receipt", money, receipt)
        .get("/surveys", view, survey_list)
        .get("/settings/delivery", settings, settings_page)
        .post("/settings/delivery", settings, save_settings)
}

/// What the project page shows of delivery.
pub struct Section {
    pub project: i32,
    pub assets: Vec<Asset>,
    /// (link, file name) newest first.
    pub links: Vec<(Link, String)>,
    pub documents: Vec<Listed>,
    pub show_archived: bool,
    pub expenses: Vec<Expense>,
    pub expenses_total: rust_decimal::Decimal,
    pub survey: Option<Survey>,
    pub delivered_on: Option<NaiveDate>,
    pub asset_types: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub scenes: Vec<(i32, String)>,
    pub can_manage: bool,
    pub can_money: bool,
    pub can_work: bool,
    pub now: DateTime<Utc>,
    /// The new expense form, dated today.
    pub form: NewExpense,
}

impl Section {
    pub fn size(&self, b: &Option<i64>) -> String {
        assets::size(*b)
    }

    pub fn live(&self, l: &Link) -> bool {
        l.live(self.now)
    }

    pub fn exported(&self, a: &Asset) -> bool {
        a.asset_type.as_deref() == Some("Export")
    }

    /// A fresh form has no errors.
    pub fn error(&self, _field: &str) -> String {
        String::new()
    }

    /// The start of a checksum.
    pub fn short(&self, sha: &str) -> String {
        sha.chars().take(12).collect()
    }
}

/// The project page's delivery sections (a few bounded queries).
pub async fn section(
    conn: &mut PgConnection,
    staff: &Staff,
    project: i32,
    show_archived: bool,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> AppResult<Section> {
    let assets = assets::of_project(conn, project).await?;
    let links = links::of_project(conn, project)
        .await?
        .into_iter()
        .map(|l| {
            let name = assets
                .iter()
                .find(|a| a.id == l.asset_id)
                .and_then(|a| a.file_name.clone())
                .unwrap_or_else(|| format!("Asset #{}", l.asset_id));
            (l, name)
        })
        .collect();
    let documents = documents::of(conn, Parent::Project(project), show_archived).await?;
    let can_money = staff.can(Permission::InvoicesManage);
    let expenses = if can_money {
        expenses::of_project(conn, project).await?
    } else {
        vec![]
    };
    let expenses_total = expenses.iter().map(|e| e.amount).sum();
    let survey = surveys::of_project(conn, project).await?;
    let delivered_on: Option<NaiveDate> =
        sqlx::query_scalar("SELECT delivered_on FROM projects WHERE id = $1")
            .bind(project)
            .fetch_one(&mut *conn)
            .await?;
    let scenes: Vec<(i32, String)> =
        sqlx::query_as("SELECT id, name FROM coverage_scenes ORDER BY name LIMIT 200")
            .fetch_all(&mut *conn)
            .await?;
    Ok(Section {
        project,
        assets,
        links,
        documents,
        show_archived,
        expenses,
        expenses_total,
        survey,
        delivered_on,
        asset_types: &ASSET_TYPES,
        categories: &expenses::CATEGORIES,
        scenes,
        can_manage: staff.can(Permission::TasksManage),
        can_money,
        can_work: staff.can(Permission::TasksWork),
        now,
        form: NewExpense {
            expense_date: today.format("%Y-%m-%d").to_string(),
            ..NewExpense::default()
        },
    })
}

fn back_to(project: i32, anchor: &str) -> Response {
    Redirect::to(&format!("/projects/{project}#{anchor}")).into_response()
}

/// An asset's file for the studio (any type), with ranges.
async fn asset_file(
    State(state): State<AppState>,
    mut db: Db,
    Path((project, asset)): Path<(i32, i32)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let a = assets::stored(&mut db, asset).await?;
    let owner: Option<i32> =
        sqlx::query_scalar("SELECT project_id FROM project_assets WHERE id = $1")
            .bind(asset)
            .fetch_optional(&mut *db)
            .await?;
    if owner != Some(project) {
        return Err(AppError::not_found("asset"));
    }
    drop(db);
    let key = a.storage_path.unwrap_or_default();
    let object = state.storage.open(&key).await?;
    let name = a.file_name.unwrap_or_else(|| "asset".into());
    let kind = a
        .content_type
        .unwrap_or_else(|| range::content_type_of(&name).into());
    let served = Served {
        object,
        name: &name,
        content_type: &kind,
        sha256: a.sha256.as_deref(),
        attachment: true,
    };
    range::serve(&headers, served).await
}

#[derive(Template)]
#[template(path = "delivery/link_made.html")]
struct LinkMade {
    layout: Layout,
    project: i32,
    url: String,
}

async fn make_link(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path((project, asset)): Path<(i32, i32)>,
) -> AppResult<Response> {
    let owner: Option<i32> =
        sqlx::query_scalar("SELECT project_id FROM project_assets WHERE id = $1")
            .bind(asset)
            .fetch_optional(&mut *db)
            .await?;
    if owner != Some(project) {
        return Err(AppError::not_found("asset"));
    }
    let mut tx = db.begin().await?;
    let made = links::create(
        &mut tx,
        &state.settings,
        &state.clock,
        asset,
        Some(staff.contributor_id),
    )
    .await?;
    tx.commit().await?;
    if let Some(m) = made.outgoing {
        m.send(&state.db, &state.clock);
    }
    let layout = Layout::load(&mut db, &staff, "Download link made", "/projects").await?;
    Ok(render(&LinkMade {
        layout,
        project,
        url: made.url,
    }))
}

async fn revoke_link(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path((project, link)): Path<(i32, i32)>,
) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    let of = links::revoke(&mut tx, &state.clock, link, Some(staff.contributor_id)).await?;
    if of != project {
        return Err(AppError::not_found("link"));
    }
    tx.commit().await?;
    Ok(back_to(project, "project-links"))
}

async fn delivered(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(project): Path<i32>,
) -> AppResult<Response> {
    let studio = crate::studio::Studio::load(&mut db).await?;
    let mut tx = db.begin().await?;
    let zone = &studio.time_zone;
    assets::mark_delivered(&mut tx, &state.clock, zone, project, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(back_to(project, "project-assets"))
}

#[derive(Template)]
#[template(path = "delivery/refused.html")]
struct Refused {
    layout: Layout,
    project: i32,
    /// Which form: "document" or "expense".
    which: &'static str,
    refusal: Refusal,
    form: NewExpense,
    categories: &'static [&'static str],
}

impl Refused {
    fn error(&self, field: &str) -> String {
        self.refusal.field(field).unwrap_or_default().to_string()
    }
}

async fn refused(
    db: &mut Db,
    staff: &Staff,
    project: i32,
    which: &'static str,
    e: AppError,
    form: NewExpense,
) -> AppResult<Response> {
    let refusal = Refusal::from_error(e)?;
    let title = if which == "expense" {
        "Add an expense"
    } else {
        "Add a document"
    };
    let layout = Layout::load(db, staff, title, "/projects").await?;
    let page = render(&Refused {
        layout,
        project,
        which,
        refusal: refusal.clone(),
        form,
        categories: &expenses::CATEGORIES,
    });
    Ok(refusal.respond(page))
}

fn unreadable(
    field: &'static str,
) -> impl Fn(axum::extract::multipart::MultipartError) -> AppError {
    move |e| AppError::field(field, e.body_text())
}

async fn upload_document(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(project): Path<i32>,
    mut form: Multipart,
) -> AppResult<Response> {
    let mut upload = Upload {
        name: String::new(),
        kind: "Other".into(),
        data: vec![],
    };
    while let Some(field) = form.next_field().await.map_err(unreadable("file"))? {
        match field.name() {
            Some("file") => {
                upload.name = field.file_name().unwrap_or("document").to_string();
                upload.data = field.bytes().await.map_err(unreadable("file"))?.to_vec();
            }
            Some("document_type") => upload.kind = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)")
        .bind(project)
        .fetch_one(&mut *db)
        .await?;
    if !exists {
        return Err(AppError::not_found("project"));
    }
    let dir = &state.settings.data_dir;
    let mut tx = db.begin().await?;
    let parent = Parent::Project(project);
    match documents::store_for(&mut tx, dir, parent, &upload, staff.contributor_id).await {
        Ok((_, file)) => {
            tx.commit().await?;
            file.keep();
            Ok(back_to(project, "project-documents"))
        }
        Err(e) => {
            drop(tx);
            refused(
                &mut db,
                &staff,
                project,
                "document",
                e,
                NewExpense::default(),
            )
            .await
        }
    }
}

/// A project's document, for the studio (archived ones too).
async fn project_document(
    State(state): State<AppState>,
    mut db: Db,
    Path((project, doc)): Path<(i32, i32)>,
) -> AppResult<Response> {
    let of: Option<Option<i32>> =
        sqlx::query_scalar("SELECT project_id FROM documents WHERE id = $1")
            .bind(doc)
            .fetch_optional(&mut *db)
            .await?;
    if of != Some(Some(project)) {
        return Err(AppError::not_found("document"));
    }
    let (name, bytes) = documents::read_any(&mut db, &state.settings.data_dir, doc, true).await?;
    let name = name.unwrap_or_else(|| "document".into()).replace('"', "");
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                range::content_type_of(&name).to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Archive or restore a document: an inquiry's needs `leads.edit`, a project's `tasks.work`.
async fn set_archived(db: &mut Db, staff: &Staff, id: i32, archived: bool) -> AppResult<Response> {
    let of: Option<(Option<i32>, Option<i32>)> =
        sqlx::query_as("SELECT inquiry_id, project_id FROM documents WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **db)
            .await?;
    let need = match of {
        None => return Err(AppError::not_found("document")),
        Some((_, Some(_))) => Permission::TasksWork,
        Some(_) => Permission::LeadsEdit,
    };
    if !staff.can(need) {
        return Err(AppError::Forbidden(format!(
            "Your role ({}) does not allow this. Ask the studio owner for the \"{need}\" permission.",
            staff.role
        )));
    }
    let mut tx = db.begin().await?;
    let parent = documents::set_archived(&mut tx, id, archived, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(match parent {
        Parent::Project(p) => back_to(p, "project-documents"),
        Parent::Inquiry(i) => Redirect::to(&format!("/leads/{i}#documents")).into_response(),
    })
}

async fn archive(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    set_archived(&mut db, &staff, id, true).await
}

async fn restore(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    set_archived(&mut db, &staff, id, false).await
}

async fn add_expense(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(project): Path<i32>,
    mut form: Multipart,
) -> AppResult<Response> {
    let mut e = NewExpense::default();
    let mut receipt = Receipt {
        name: String::new(),
        data: vec![],
    };
    while let Some(field) = form.next_field().await.map_err(unreadable("receipt"))? {
        let name = field.name().unwrap_or("").to_string();
        if name == "receipt" {
            receipt.name = field.file_name().unwrap_or("receipt").to_string();
            receipt.data = field.bytes().await.map_err(unreadable("receipt"))?.to_vec();
            continue;
        }
        let text = field.text().await.unwrap_or_default();
        match name.as_str() {
            "expense_date" => e.expense_date = text,
            "description" => e.description = text,
            "category" => e.category = text,
            "amount" => e.amount = text,
            _ => {}
        }
    }
    let dir = &state.settings.data_dir;
    let now = state.clock.now();
    let mut tx = db.begin().await?;
    let made = expenses::create(
        &mut tx,
        dir,
        project,
        &e,
        Some(&receipt),
        staff.contributor_id,
        now,
    )
    .await;
    match made {
        Ok((_, file)) => {
            tx.commit().await?;
            if let Some(f) = file {
                f.keep();
            }
            Ok(back_to(project, "project-expenses"))
        }
        Err(err) => {
            drop(tx);
            refused(&mut db, &staff, project, "expense", err, e).await
        }
    }
}

async fn receipt(
    State(state): State<AppState>,
    mut db: Db,
    Path((project, expense)): Path<(i32, i32)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (name, key) = expenses::receipt(&mut db, project, expense).await?;
    drop(db);
    let served = Served {
        object: state.storage.open(&key).await?,
        name: &name,
        content_type: range::content_type_of(&name),
        sha256: None,
        attachment: true,
    };
    range::serve(&headers, served).await
}

#[derive(Template)]
#[template(path = "delivery/surveys.html")]
struct SurveyList {
    layout: Layout,
    rows: Vec<Survey>,
    next: Option<String>,
    sent: i64,
    answered: usize,
    nps: Option<i64>,
    average_satisfaction: Option<String>,
    promoters: usize,
    passives: usize,
    detractors: usize,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    after: Option<String>,
}

fn parse_after(s: Option<&str>) -> AppResult<Option<(NaiveDate, i32)>> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || AppError::field("after", "not a page of this list");
    let (d, id) = s.split_once('_').ok_or_else(bad)?;
    let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad())?;
    Ok(Some((d, id.parse().map_err(|_| bad())?)))
}

async fn survey_list(mut db: Db, staff: Staff, Query(q): Query<ListQuery>) -> AppResult<Response> {
    let after = parse_after(q.after.as_deref())?;
    let (rows, more) = surveys::list(&mut db, after).await?;
    let next = if more {
        rows.last().and_then(|r| {
            r.sent_date
                .map(|d| format!("/surveys?after={}_{}", d.format("%Y-%m-%d"), r.id))
        })
    } else {
        None
    };
    let (answers, sent) = surveys::summary(&mut db).await?;
    let scores: Vec<i32> = answers.iter().map(|a| a.1).collect();
    let average_satisfaction = (!answers.is_empty()).then(|| {
        let sum: i64 = answers.iter().map(|a| i64::from(a.0)).sum();
        let tenths = (sum * 10 + answers.len() as i64 / 2) / answers.len() as i64;
        format!("{}.{}", tenths / 10, tenths % 10)
    });
    let layout = Layout::load(&mut db, &staff, "Client surveys", "/projects").await?;
    Ok(render(&SurveyList {
        layout,
        rows,
        next,
        sent,
        answered: answers.len(),
        nps: surveys::nps(&scores),
        average_satisfaction,
        promoters: scores.iter().filter(|s| **s >= 9).count(),
        passives: scores.iter().filter(|s| (7..=8).contains(*s)).count(),
        detractors: scores.iter().filter(|s| **s <= 6).count(),
    }))
}

#[derive(Template)]
#[template(path = "delivery/settings.html")]
struct SettingsPage {
    layout: Layout,
    values: (String, String, String),
    refusal: Option<Refusal>,
    saved: bool,
}

impl SettingsPage {
    fn error(&self, field: &str) -> String {
        self.refusal
            .as_ref()
            .and_then(|r| r.field(field))
            .unwrap_or_default()
            .to_string()
    }
}

#[derive(Deserialize, Default)]
struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

async fn settings_page(mut db: Db, staff: Staff, Query(q): Query<Saved>) -> AppResult<Response> {
    let s = links::settings(&mut db).await?;
    let layout = Layout::load(&mut db, &staff, "Delivery and surveys", "/settings").await?;
    Ok(render(&SettingsPage {
        layout,
        values: (
            s.survey_after_days.to_string(),
            s.delivery_link_days.to_string(),
            s.delivery_reminder_days.to_string(),
        ),
        refusal: None,
        saved: q.saved.is_some(),
    }))
}

#[derive(Deserialize, Default)]
struct SettingsForm {
    #[serde(default)]
    survey_after_days: String,
    #[serde(default)]
    delivery_link_days: String,
    #[serde(default)]
    delivery_reminder_days: String,
}

async fn save_settings(
    mut db: Db,
    staff: Staff,
    Form(f): Form<SettingsForm>,
) -> AppResult<Response> {
    let num = |s: &str| s.trim().parse::<i32>().unwrap_or(-1);
    let s = DeliverySettings {
        survey_after_days: num(&f.survey_after_days),
        delivery_link_days: num(&f.delivery_link_days),
        delivery_reminder_days: num(&f.delivery_reminder_days),
    };
    let mut tx = db.begin().await?;
    match links::save_settings(&mut tx, s, staff.contributor_id).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to("/settings/delivery?saved=1").into_response())
        }
        Err(e) => {
            drop(tx);
            let refusal = Refusal::from_error(e)?;
            let layout = Layout::load(&mut db, &staff, "Delivery and surveys", "/settings").await?;
            let page = render(&SettingsPage {
                layout,
                values: (
                    f.survey_after_days,
                    f.delivery_link_days,
                    f.delivery_reminder_days,
                ),
                refusal: Some(refusal.clone()),
                saved: false,
            });
            Ok(refusal.respond(page))
        }
    }
}
