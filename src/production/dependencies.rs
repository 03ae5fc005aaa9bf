//! Dependencies added and removed by hand, within one project. A dependency that would close a
//! cycle is refused with the cycle named, task by task (409). The project row is locked, so two
//! requests cannot each add half of a cycle.
use super::{rules, tasks};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// `blocking` must be Completed before `dependent` is Ready to Start.
pub async fn add(
    tx: &mut PgConnection,
    blocking: i32,
    dependent: i32,
    now: DateTime<Utc>,
    actor: Option<i32>,
) -> AppResult<()> {
    let projects: Vec<(i32, i32)> =
        sqlx::query_as("SELECT id, project_id FROM tasks WHERE id IN ($1, $2)")
            .bind(blocking)
            .bind(dependent)
            .fetch_all(&mut *tx)
            .await?;
    let project_of = |id: i32| projects.iter().find(|p| p.0 == id).map(|p| p.1);
    let Some(project) = project_of(dependent) else {
        return Err(AppError::not_found(&format!("task {dependent}")));
    };
    match project_of(blocking) {
        None => {
            return Err(AppError::unknown_ref(
                "blocking_task_id",
                format!("task {blocking} not found"),
            ));
        }
        Some(p) if p != project => {
            return Err(AppError::field_conflict(
                "blocking_task_id",
                "a task can only wait for a task of the same project",
            ));
        }
        Some(_) => {}
    }
    sqlx::query("SELECT id FROM projects WHERE id = $1 FOR UPDATE")
        .bind(project)
        .execute(&mut *tx)
        .await?;
    let edges = tasks::edges(tx, project).await?;
    if edges.contains(&(blocking, dependent)) {
        return Ok(());
    }
    if let Some(cycle) = rules::cycle(&edges, blocking, dependent) {
        let names: Vec<String> = cycle.iter().map(|t| format!("#{t}")).collect();
        return Err(AppError::field_conflict(
            "blocking_task_id",
            format!("that would make a cycle: {}", names.join(" -> ")),
        ));
    }
    sqlx::query(
        "INSERT INTO task_dependencies (blocking_task_id, dependent_task_id) VALUES ($1, $2)
         ON CONFLICT (blocking_task_id, dependent_task_id) DO NOTHING",
    )
    .bind(blocking)
    .bind(dependent)
    .execute(&mut *tx)
    .await?;
    // A person's change is audited (the demo's seeding is not).
    if actor.is_some() {
        crate::audit::record(
            tx,
            actor,
            "tasks.dependency.add",
            "task",
            Some(dependent),
            serde_json::json!({ "blocking_task": blocking }),
        )
        .await?;
    }
    tasks::refresh_readiness(tx, project, now).await?;
    Ok(())
}

/// Remove a dependency (404 when there is none).
pub async fn remove(
    tx: &mut PgConnection,
    blocking: i32,
    dependent: i32,
    now: DateTime<Utc>,
    actor: Option<i32>,
) -> AppResult<()> {
    let project: Option<i32> = sqlx::query_scalar(
        "DELETE FROM task_dependencies d USING tasks t
         WHERE d.blocking_task_id = $1 AND d.dependent_task_id = $2 AND t.id = d.dependent_task_id
         RETURNING t.project_id",
    )
    .bind(blocking)
    .bind(dependent)
    .fetch_optional(&mut *tx)
    .await?;
    let project = project.ok_or_else(|| {
        AppError::not_found(&format!(
            "dependency of task {dependent} on task {blocking}"
        ))
    })?;
    // A person's change is audited (the demo's seeding is not).
    if actor.is_some() {
        crate::audit::record(
            tx,
            actor,
            "tasks.dependency.remove",
            "task",
            Some(dependent),
            serde_json::json!({ "blocking_task": blocking }),
        )
        .await?;
    }
    tasks::refresh_readiness(tx, project, now).await?;
    Ok(())
}
