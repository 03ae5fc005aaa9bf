//! Workflows and questionnaires: the months between booking and the wedding run themselves.
//!
//! - `questions` (pure): question kinds, a template's rules, conditions, answers by kind.
//! - `fields`: the project fields an answer fills in (and a condition or a merge field reads).
//! - `questionnaires`: templates and the copies sent to projects; answers, submission,
//!   reopening, reminders. `questionnaire_pages` (Settings > Questionnaires, the builder) and
//!   `api` (JSON).
//! - `timing` (pure): a timed step's instant in the studio's zone, DST-correct.
//! - `steps`: workflow templates and their steps; `engine`: attaching, waking, claiming and
//!   running steps exactly once, approvals, re-timing; `workflow_pages` (Settings > Workflows)
//!   and `project_pages` (the project page's panel, the dashboard's list, the step actions).
//!
//! Billing's postponement calls `follow_wedding`; the scheduler (`jobs`) calls `engine::pass`.
//! The portal's pages for the couple are `portal::questionnaires`.
pub mod actions;
pub mod api;
pub mod engine;
pub mod facts;
pub mod fields;
pub mod project_pages;
pub mod questionnaire_pages;
pub mod questionnaire_reminders;
pub mod questionnaires;
pub mod questions;
pub mod retime;
pub mod steps;
pub mod timing;
pub mod workflow_pages;

use crate::error::AppResult;
use crate::http::routes::Routes;
use crate::studio::Studio;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .merge(api::routes())
        .merge(questionnaire_pages::routes())
        .merge(workflow_pages::routes())
        .merge(project_pages::routes())
}

/// A postponement (in its transaction, after the project's new wedding date is written): the
/// open questionnaires due days before the wedding and every future timed step follow it.
/// Returns the steps whose time moved.
pub async fn follow_wedding(
    tx: &mut PgConnection,
    studio: &Studio,
    project: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<engine::Change>> {
    let wedding: chrono::NaiveDate =
        sqlx::query_scalar("SELECT wedding_date FROM projects WHERE id = $1")
            .bind(project)
            .fetch_one(&mut *tx)
            .await?;
    questionnaires::follow_wedding(tx, project, wedding).await?;
    engine::resync(tx, studio, now, engine::Scope::Project(project)).await
}

/// What a postponement to `to` would re-time: the project's future timed steps, each with its
/// time now and after (worked out by `follow_wedding` itself in a transaction rolled back, so
/// the preview cannot differ from what the move does). Writes nothing.
pub async fn preview_wedding(
    conn: &mut PgConnection,
    studio: &Studio,
    project: i32,
    to: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<engine::Change>> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("UPDATE projects SET wedding_date = $2 WHERE id = $1")
        .bind(project)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    let moved = follow_wedding(&mut tx, studio, project, now).await?;
    tx.rollback().await?;
    Ok(moved)
}
