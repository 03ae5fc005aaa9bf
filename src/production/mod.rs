//! Phase 5, production: tasks generated from the recipes when a wedding is booked and after
//! each answered change order, planned hours from each person's own history, due days counted
//! back from the promised delivery, dependencies (by phase order, and by hand), time, comments,
//! the pages (Projects, a project, its board, My tasks) and the nightly learning.
//!
//! `rules` is pure (generation's plan, planned hours, due days, cycles, readiness); the other
//! files hold the queries. Quote calls `generate` from booking and change orders, billing calls
//! `tasks::shift_due_dates` from a postponement; production imports neither.
pub mod api;
pub mod capacity;
pub mod comments;
pub mod dependencies;
pub mod digest;
pub mod generation;
pub mod nightly;
pub mod pages;
pub mod project_pages;
pub mod projection;
pub mod rules;
pub mod tasks;
pub mod time;

use crate::error::AppResult;
use crate::http::routes::Routes;
use crate::studio::Studio;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

pub use generation::Generated;

pub fn routes() -> Routes {
    Routes::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(project_pages::routes())
}

/// Generate the project's tasks by the studio's phases and delivery promise (booking and change
/// orders call this in their transaction).
pub async fn generate(
    tx: &mut PgConnection,
    studio: &Studio,
    project: i32,
    now: DateTime<Utc>,
) -> AppResult<Generated> {
    generation::generate(
        tx,
        project,
        &studio.task_phase_order,
        studio.delivery_weeks_after_wedding,
        now,
    )
    .await
}
