//! What a project's page shows of this area (rendered here, placed by the project page): its
//! questionnaires with the answers that count, the wedding-day details they filled in, and each
//! workflow's timeline (what ran and when, what waits and why, what was skipped and why), with
//! the studio's actions: send a questionnaire, reopen one, approve a step (its email edited),
//! run or skip one. And the dashboard's "Approval needed" list.
use super::engine::{self, Run};
use super::fields;
use super::questionnaires::{self, Due, Sent, Template};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::studio::Studio;
use askama::Template as Askama;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::BookingsManage);
    Routes::new()
        .post("/projects/{id}/questionnaires", manage, send)
        .post("/projects/{id}/questionnaires/{q}/reopen", manage, reopen)
        .post("/workflow-steps/{id}/approve", manage, approve)
        .post("/workflow-steps/{id}/run", manage, run_now)
        .post("/workflow-steps/{id}/skip", manage, skip)
}

#[derive(Askama)]
#[template(path = "workflows/project_panel.html")]
struct Panel {
    project: i32,
    csrf: String,
    can_manage: bool,
    sent: Vec<Sent>,
    templates: Vec<Template>,
    fields: Vec<(&'static str, &'static str, String)>,
    runs: Vec<Run>,
    studio: Studio,
}

impl Panel {
    fn time(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map(|t| self.studio.time(&t)).unwrap_or_default()
    }

    /// The document of a file answer.
    fn document(&self, s: &Sent, q: impl std::borrow::Borrow<i32>) -> Option<i64> {
        s.answers
            .get(&q.borrow().to_string())
            .and_then(|v| v.get("document"))
            .and_then(|d| d.as_i64())
    }

    fn day(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        self.studio.day(at)
    }

    fn state_class(&self, state: &str) -> &'static str {
        match state {
            "done" => "status-paid",
            "approval" | "overdue" => "status-overdue",
            "failed" => "status-void",
            "skipped" => "status-archived",
            _ => "status-sent",
        }
    }
}

/// The project page's part: questionnaires, wedding-day details, workflow timeline (HTML).
pub async fn panel(
    conn: &mut PgConnection,
    staff: &Staff,
    studio: &Studio,
    project: i32,
) -> AppResult<String> {
    let panel = Panel {
        project,
        csrf: staff.csrf.clone().unwrap_or_default(),
        can_manage: staff.can(Permission::BookingsManage),
        sent: questionnaires::of_project(conn, project).await?,
        templates: questionnaires::templates(conn).await?,
        fields: fields::values(conn, project).await?,
        runs: engine::timeline(conn, project).await?,
        studio: studio.clone(),
    };
    panel
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering: {e}")))
}

#[derive(Askama)]
#[template(path = "workflows/approvals.html")]
struct Approvals {
    runs: Vec<Run>,
    studio: Studio,
}

impl Approvals {
    fn time(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map(|t| self.studio.time(&t)).unwrap_or_default()
    }
}

/// The dashboard's "Approval needed" list (steps waiting for approval, then those past when
/// attached and those failed), or nothing when there are none.
pub async fn approvals(conn: &mut PgConnection, studio: &Studio) -> AppResult<String> {
    let runs = engine::attention(conn, 20).await?;
    if runs.is_empty() {
        return Ok(String::new());
    }
    Approvals {
        runs,
        studio: studio.clone(),
    }
    .render()
    .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering: {e}")))
}

#[derive(Deserialize)]
struct SendForm {
    template_id: String,
    #[serde(default)]
    due_date: String,
}

async fn send(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<SendForm>,
) -> AppResult<Response> {
    let template: i32 = f
        .template_id
        .trim()
        .parse()
        .map_err(|_| AppError::field("template_id", "choose a questionnaire"))?;
    let due = match f.due_date.trim() {
        "" => None,
        d => Some(Due::On(
            crate::dates::parse(d).map_err(|m| AppError::field("due_date", m))?,
        )),
    };
    let studio = Studio::load(&mut db).await?;
    let (_, mail) = crate::db::transaction(&mut db, async |tx| {
        questionnaires::send(
            tx,
            &state.settings,
            &studio,
            &state.clock,
            id,
            template,
            due,
            Some(staff.contributor_id),
        )
        .await
    })
    .await?;
    if let Some(m) = mail {
        m.send(&state.db, &state.clock);
    }
    Ok(Redirect::to(&format!("/projects/{id}#questionnaires")).into_response())
}

async fn reopen(mut db: Db, staff: Staff, Path((id, q)): Path<(i32, i32)>) -> AppResult<Response> {
    let s = questionnaires::one(&mut db, None, q, false).await?;
    if s.project_id != id {
        return Err(AppError::not_found("questionnaire"));
    }
    crate::db::transaction(&mut db, async |tx| {
        questionnaires::reopen(tx, q, staff.contributor_id).await
    })
    .await?;
    Ok(Redirect::to(&format!("/projects/{id}#questionnaires")).into_response())
}

#[derive(Deserialize)]
struct ApproveForm {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

fn back(project: i32) -> Response {
    Redirect::to(&format!("/projects/{project}#workflow")).into_response()
}

async fn approve(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<ApproveForm>,
) -> AppResult<Response> {
    let run = engine::run(&mut db, id).await?;
    let studio = Studio::load(&mut db).await?;
    let edited = match (&f.subject, &f.body) {
        (Some(s), Some(b)) => Some((s.as_str(), b.as_str())),
        _ => None,
    };
    let (_, mails) = crate::db::transaction(&mut db, async |tx| {
        engine::approve(
            tx,
            &state.settings,
            &studio,
            &state.clock,
            id,
            edited,
            staff.contributor_id,
        )
        .await
    })
    .await?;
    crate::mail::send_all(mails, &state.db, &state.clock);
    Ok(back(run.project_id))
}

async fn run_now(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let run = engine::run(&mut db, id).await?;
    let studio = Studio::load(&mut db).await?;
    let (_, mails) = crate::db::transaction(&mut db, async |tx| {
        engine::run_now(
            tx,
            &state.settings,
            &studio,
            &state.clock,
            id,
            staff.contributor_id,
        )
        .await
    })
    .await?;
    crate::mail::send_all(mails, &state.db, &state.clock);
    Ok(back(run.project_id))
}

#[derive(Deserialize)]
struct SkipForm {
    #[serde(default)]
    reason: String,
}

async fn skip(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<SkipForm>,
) -> AppResult<Response> {
    let run = engine::run(&mut db, id).await?;
    let now = state.clock.now();
    crate::db::transaction(&mut db, async |tx| {
        engine::skip(tx, id, &f.reason, staff.contributor_id, &staff.name, now).await
    })
    .await?;
    Ok(back(run.project_id))
}
