//! Settings > Workflows: the list (and a new one, for every booked project or for those whose
//! quote includes a film), and a workflow's steps: add, change, remove. A change to a workflow
//! that runs on projects first shows which projects and which of their future steps it moves
//! (the change tried in a transaction rolled back), and applies once confirmed.
use super::engine::{self, Change, Scope};
use super::fields;
use super::questionnaires::{self, Template};
use super::steps::{self, ACTIONS, CONDITIONS, Step, StepIn, TRIGGERS, Workflow};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::studio::Studio;
use askama::Template as Askama;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::SettingsManage);
    Routes::new()
        .get("/settings/workflows", manage, list)
        .post("/settings/workflows", manage, create)
        .get("/settings/workflows/{id}", manage, page)
        .post("/settings/workflows/{id}/steps", manage, add_step)
        .post("/settings/workflows/{id}/steps/{s}", manage, change_step)
        .post(
            "/settings/workflows/{id}/steps/{s}/delete",
            manage,
            delete_step,
        )
        .post("/settings/workflows/{id}/steps/{s}/move", manage, move_step)
        .post("/settings/workflows/{id}/rename", manage, rename)
        .post("/settings/workflows/{id}/pause", manage, pause)
        .post("/settings/workflows/{id}/resume", manage, resume)
        .post("/settings/workflows/{id}/delete", manage, delete)
}

#[derive(Askama)]
#[template(path = "workflows/workflows.html")]
struct ListPage {
    layout: Layout,
    workflows: Vec<Workflow>,
    films: Vec<(i32, String)>,
    refused: Option<Refusal>,
}

async fn list_page(mut db: Db, staff: &Staff, refused: Option<Refusal>) -> AppResult<Response> {
    let workflows = steps::workflows(&mut db).await?;
    let films: Vec<(i32, String)> =
        sqlx::query_as("SELECT id, name FROM deliverables ORDER BY name LIMIT 200")
            .fetch_all(&mut *db)
            .await?;
    let layout = Layout::load(&mut db, staff, "Workflows", "/settings").await?;
    let status = refused.as_ref().map(|r| r.status);
    let page = render(&ListPage {
        layout,
        workflows,
        films,
        refused,
    });
    Ok(match status {
        Some(s) => (s, page).into_response(),
        None => page,
    })
}

async fn list(db: Db, staff: Staff) -> AppResult<Response> {
    list_page(db, &staff, None).await
}

#[derive(Deserialize)]
struct NewForm {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    deliverable_id: String,
}

async fn create(mut db: Db, staff: Staff, Form(f): Form<NewForm>) -> AppResult<Response> {
    let deliverable = f.deliverable_id.trim().parse::<i32>().ok();
    let made = crate::db::transaction(&mut db, async |tx| {
        steps::create(
            tx,
            &f.name,
            Some(&f.description),
            deliverable,
            Some(staff.contributor_id),
        )
        .await
    })
    .await;
    match made {
        Ok(id) => Ok(Redirect::to(&format!("/settings/workflows/{id}")).into_response()),
        Err(e) => list_page(db, &staff, Some(Refusal::from_error(e)?)).await,
    }
}

#[derive(Askama)]
#[template(path = "workflows/workflow.html")]
struct WorkflowPage {
    layout: Layout,
    w: Workflow,
    steps: Vec<Step>,
    questionnaires: Vec<Template>,
    running: Vec<(i32, String, chrono::NaiveDate, i64)>,
    triggers: &'static [(&'static str, &'static str)],
    conditions: &'static [(&'static str, &'static str)],
    actions: &'static [(&'static str, &'static str)],
    fields: &'static [(&'static str, &'static str)],
    merge_fields: String,
    refused: Option<Refusal>,
    flash: Option<String>,
    /// A change waiting for confirmation: what it moves, and the form to send again.
    confirm: Option<Confirm>,
    blank: Step,
}

struct Confirm {
    action: String,
    hidden: Vec<(String, String)>,
    changes: Vec<Change>,
    studio: Studio,
}

impl Confirm {
    fn time(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map(|t| self.studio.time(&t))
            .unwrap_or_else(|| "its event".into())
    }
}

impl WorkflowPage {
    fn condition_words(&self, s: &Step) -> String {
        match s.condition.as_deref() {
            Some("questionnaire_not_submitted") => {
                let name = self
                    .questionnaires
                    .iter()
                    .find(|q| Some(q.id) == s.condition_questionnaire_id)
                    .map_or("a questionnaire", |q| q.name.as_str());
                format!("only if “{name}” is not yet submitted")
            }
            Some("balance_due") => "only if a balance is still due".into(),
            Some("field_equals") => format!(
                "only if {} is “{}”",
                fields::label(s.condition_field.as_deref().unwrap_or("")),
                s.condition_value.as_deref().unwrap_or("")
            ),
            _ => String::new(),
        }
    }

    /// Whether the option `id` is the one chosen.
    fn picked(&self, chosen: &Option<i32>, id: impl std::borrow::Borrow<i32>) -> bool {
        *chosen == Some(*id.borrow())
    }

    fn time_text(&self, s: &Step) -> String {
        s.at_time.format("%H:%M").to_string()
    }
}

fn blank_step() -> Step {
    Step {
        id: 0,
        workflow_id: 0,
        position: 0,
        name: String::new(),
        trigger: "wedding_date".into(),
        offset_amount: 1,
        offset_unit: "months".into(),
        direction: "before".into(),
        at_time: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
        trigger_questionnaire_id: None,
        condition: None,
        condition_questionnaire_id: None,
        condition_field: None,
        condition_value: None,
        action: "email".into(),
        subject: String::new(),
        body: String::new(),
        questionnaire_id: None,
        role: None,
        requires_approval: false,
    }
}

#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

async fn show(
    db: &mut PgConnection,
    staff: &Staff,
    id: i32,
    refused: Option<Refusal>,
    flash: Option<String>,
    confirm: Option<Confirm>,
) -> AppResult<Response> {
    let w = steps::workflow(db, id).await?;
    let all = steps::steps(db, id).await?;
    let questionnaires = questionnaires::templates(db).await?;
    let running = engine::running(db, id).await?;
    let layout = Layout::load(db, staff, &w.name, "/settings").await?;
    let status = refused.as_ref().map(|r| r.status);
    let page = render(&WorkflowPage {
        layout,
        w,
        steps: all,
        questionnaires,
        running,
        triggers: TRIGGERS,
        conditions: CONDITIONS,
        actions: ACTIONS,
        fields: fields::FIELDS,
        merge_fields: steps::MERGE_FIELDS.join(" "),
        refused,
        flash,
        confirm,
        blank: blank_step(),
    });
    Ok(match status {
        Some(s) => (s, page).into_response(),
        None => page,
    })
}

async fn page(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Query(d): Query<Done>,
) -> AppResult<Response> {
    let flash = d.done.map(|d| match d.as_str() {
        "added" => "Step added.".to_string(),
        "deleted" => "Step removed.".to_string(),
        "moved" => "Step moved.".to_string(),
        "renamed" => "Workflow renamed.".to_string(),
        "paused" => "Workflow paused: it joins no new booking.".to_string(),
        "resumed" => "Workflow resumed.".to_string(),
        _ => "Step saved.".to_string(),
    });
    show(&mut db, &staff, id, None, flash, None).await
}

type Fields = Vec<(String, String)>;

fn get<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn step_in(f: &Fields) -> AppResult<StepIn> {
    let id = |name: &str| get(f, name).trim().parse::<i32>().ok();
    Ok(StepIn {
        name: get(f, "name").to_string(),
        trigger: get(f, "trigger").to_string(),
        offset_amount: match get(f, "offset_amount").trim() {
            "" => 0,
            n => n
                .parse()
                .map_err(|_| AppError::field("offset_amount", "a whole number, 0 to 120"))?,
        },
        offset_unit: get(f, "offset_unit").to_string(),
        direction: get(f, "direction").to_string(),
        at_time: get(f, "at_time").to_string(),
        trigger_questionnaire_id: id("trigger_questionnaire_id"),
        condition: get(f, "condition").to_string(),
        condition_questionnaire_id: id("condition_questionnaire_id"),
        condition_field: get(f, "condition_field").to_string(),
        condition_value: get(f, "condition_value").to_string(),
        action: get(f, "action").to_string(),
        subject: get(f, "subject").to_string(),
        body: get(f, "body").to_string(),
        questionnaire_id: id("questionnaire_id"),
        role: get(f, "role").to_string(),
        requires_approval: !get(f, "requires_approval").is_empty(),
    })
}

/// Make a change to a workflow and bring its running projects' future steps in line: at once
/// when no project runs it or the change is confirmed; otherwise tried, rolled back, and shown
/// for confirmation.
#[allow(clippy::too_many_arguments)]
async fn change(
    state: &AppState,
    db: &mut Db,
    staff: &Staff,
    id: i32,
    form: Fields,
    action: String,
    done: &str,
    f: impl AsyncFnOnce(&mut PgConnection) -> AppResult<()>,
) -> AppResult<Response> {
    steps::workflow(db, id).await?;
    let confirmed = !get(&form, "confirm").is_empty();
    let running = !engine::running(db, id).await?.is_empty();
    let studio = Studio::load(db).await?;
    let now = state.clock.now();
    let mut tx = db.begin().await?;
    let tried = async {
        f(&mut *tx).await?;
        engine::resync(&mut tx, &studio, now, Scope::Workflow(id)).await
    }
    .await;
    let changes = match tried {
        Ok(c) => c,
        Err(e) => {
            drop(tx);
            return show(db, staff, id, Some(Refusal::from_error(e)?), None, None).await;
        }
    };
    if running && !confirmed {
        tx.rollback().await?;
        let hidden = form.into_iter().filter(|(k, _)| k != "csrf").collect();
        let confirm = Confirm {
            action,
            hidden,
            changes,
            studio,
        };
        return show(db, staff, id, None, None, Some(confirm)).await;
    }
    crate::audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "workflows.edit",
        "workflow",
        Some(id),
        serde_json::json!({ "change": done, "future_steps_moved": changes.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/settings/workflows/{id}?done={done}")).into_response())
}

async fn add_step(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(form): Form<Fields>,
) -> AppResult<Response> {
    let s = step_in(&form);
    let action = format!("/settings/workflows/{id}/steps");
    change(
        &state,
        &mut db,
        &staff,
        id,
        form,
        action,
        "added",
        async |tx| steps::save_step(tx, id, None, &s?).await.map(|_| ()),
    )
    .await
}

async fn change_step(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path((id, step)): Path<(i32, i32)>,
    Form(form): Form<Fields>,
) -> AppResult<Response> {
    let s = step_in(&form);
    let action = format!("/settings/workflows/{id}/steps/{step}");
    change(
        &state,
        &mut db,
        &staff,
        id,
        form,
        action,
        "saved",
        async |tx| steps::save_step(tx, id, Some(step), &s?).await.map(|_| ()),
    )
    .await
}

async fn delete_step(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path((id, step)): Path<(i32, i32)>,
    Form(form): Form<Fields>,
) -> AppResult<Response> {
    let action = format!("/settings/workflows/{id}/steps/{step}/delete");
    change(
        &state,
        &mut db,
        &staff,
        id,
        form,
        action,
        "deleted",
        async |tx| steps::remove_step(tx, id, step).await,
    )
    .await
}

#[derive(Deserialize)]
struct MoveForm {
    /// "up" (earlier) or "down".
    to: String,
}

/// Move a step up or down the list. Only the order changes (no step's time moves), so it
/// applies at once, running projects' timelines included, with no confirmation.
async fn move_step(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path((id, step)): Path<(i32, i32)>,
    Form(f): Form<MoveForm>,
) -> AppResult<Response> {
    let up = match f.to.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(AppError::field("to", "move the step up or down")),
    };
    let studio = Studio::load(&mut db).await?;
    let now = state.clock.now();
    template_change(&mut db, &staff, id, "moved", async |tx| {
        steps::move_step(tx, id, step, up).await?;
        engine::resync(tx, &studio, now, Scope::Workflow(id)).await?;
        Ok(())
    })
    .await
}

/// A change that needs no confirmation (to the workflow itself, or its steps' order):
/// audited, then back to its page, or the page with the reason it was refused.
async fn template_change(
    db: &mut Db,
    staff: &Staff,
    id: i32,
    done: &str,
    f: impl AsyncFnOnce(&mut PgConnection) -> AppResult<()>,
) -> AppResult<Response> {
    let made = crate::db::transaction(db, async |tx| {
        f(tx).await?;
        crate::audit::record(
            tx,
            Some(staff.contributor_id),
            "workflows.edit",
            "workflow",
            Some(id),
            serde_json::json!({ "change": done }),
        )
        .await?;
        Ok(())
    })
    .await;
    match made {
        Ok(()) if done == "deleted" => Ok(Redirect::to("/settings/workflows").into_response()),
        Ok(()) => {
            Ok(Redirect::to(&format!("/settings/workflows/{id}?done={done}")).into_response())
        }
        Err(e) => show(db, staff, id, Some(Refusal::from_error(e)?), None, None).await,
    }
}

#[derive(Deserialize)]
struct RenameForm {
    name: String,
}

async fn rename(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<RenameForm>,
) -> AppResult<Response> {
    template_change(&mut db, &staff, id, "renamed", async |tx| {
        steps::rename(tx, id, &f.name).await
    })
    .await
}

async fn pause(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    template_change(&mut db, &staff, id, "paused", async |tx| {
        steps::set_active(tx, id, false).await
    })
    .await
}

async fn resume(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    template_change(&mut db, &staff, id, "resumed", async |tx| {
        steps::set_active(tx, id, true).await
    })
    .await
}

/// Delete a workflow that never joined a project; one that did is refused (pause it instead).
async fn delete(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    template_change(&mut db, &staff, id, "deleted", async |tx| {
        steps::delete(tx, id).await
    })
    .await
}
