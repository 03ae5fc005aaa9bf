//! Re-timing: after a template edit or a postponement the future steps (waiting, scheduled,
//! overdue) follow their template and the project's dates; and which projects an edit would
//! change.
use super::facts::{Facts, facts, initial};
use super::steps::{STEP_COLUMNS, Step};
use crate::error::AppResult;
use crate::studio::Studio;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;

/// One future step whose time a change moves.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub project_id: i32,
    pub project: String,
    pub step: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub state: String,
}

#[derive(sqlx::FromRow)]
struct Future {
    run_id: Option<i32>,
    project_workflow_id: i32,
    project_id: i32,
    project: String,
    state: Option<String>,
    due_at: Option<DateTime<Utc>>,
    step_id: i32,
}

/// Which runs to bring in line with their template.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Every project running this workflow (after a template edit).
    Workflow(i32),
    /// This project's workflows (after a postponement).
    Project(i32),
}

/// Bring the future steps (waiting, scheduled, overdue) in line with their template and the
/// project's dates: a timed step re-timed (overdue when the new instant is past), a new step
/// added, a removed step's future run skipped, names and order followed; done, skipped,
/// failed and approval-waiting runs stay. Returns the changes of time, for the page to show.
pub async fn resync(
    tx: &mut PgConnection,
    studio: &Studio,
    now: DateTime<Utc>,
    scope: Scope,
) -> AppResult<Vec<Change>> {
    let (workflow, project) = match scope {
        Scope::Workflow(w) => (Some(w), None),
        Scope::Project(p) => (None, Some(p)),
    };
    // Removed steps: their future runs are skipped.
    sqlx::query(
        "UPDATE workflow_step_runs r SET state = 'skipped', ran_at = $3,
                reason = 'removed from the workflow before it ran'
         FROM project_workflows pw
         WHERE pw.id = r.project_workflow_id AND r.step_id IS NULL
           AND r.state IN ('waiting', 'scheduled', 'overdue')
           AND ($1::int IS NULL OR pw.workflow_id = $1) AND ($2::int IS NULL OR r.project_id = $2)",
    )
    .bind(workflow)
    .bind(project)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Every (attached project, step) with its run if any; the runs locked.
    let rows: Vec<Future> = sqlx::query_as(
        "SELECT r.id AS run_id, pw.id AS project_workflow_id, pw.project_id,
                COALESCE(p.project_name, 'Project #' || p.id) AS project, r.state, r.due_at,
                s.id AS step_id
         FROM project_workflows pw JOIN projects p ON p.id = pw.project_id
         JOIN workflow_steps s ON s.workflow_id = pw.workflow_id
         LEFT JOIN workflow_step_runs r ON r.project_workflow_id = pw.id AND r.step_id = s.id
         WHERE ($1::int IS NULL OR pw.workflow_id = $1) AND ($2::int IS NULL OR pw.project_id = $2)
         ORDER BY pw.id, s.position
         FOR UPDATE OF pw",
    )
    .bind(workflow)
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let step_ids: Vec<i32> = rows.iter().map(|r| r.step_id).collect();
    let all_steps: Vec<Step> = sqlx::query_as(&format!(
        "SELECT {STEP_COLUMNS} FROM workflow_steps s WHERE s.id = ANY($1)"
    ))
    .bind(&step_ids)
    .fetch_all(&mut *tx)
    .await?;
    let mut changes = vec![];
    let mut facts_of: std::collections::HashMap<i32, Facts> = Default::default();
    for row in rows {
        let Some(s) = all_steps.iter().find(|s| s.id == row.step_id) else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(e) = facts_of.entry(row.project_id) {
            e.insert(facts(tx, row.project_id).await?);
        }
        let f = &facts_of[&row.project_id];
        let future = row
            .state
            .as_deref()
            .is_none_or(|st| matches!(st, "waiting" | "scheduled" | "overdue"));
        if !future {
            sqlx::query("UPDATE workflow_step_runs SET name = $2, position = $3 WHERE id = $1")
                .bind(row.run_id)
                .bind(&s.name)
                .bind(s.position)
                .execute(&mut *tx)
                .await?;
            continue;
        }
        // An event step already due or listed stays as it is.
        let keep = !s.timed() && matches!(row.state.as_deref(), Some("scheduled" | "overdue"));
        let (state, due) = if keep {
            (row.state.clone().unwrap_or_default(), row.due_at)
        } else {
            let (st, due) = initial(s, f, &studio.time_zone, now, false);
            (st.to_string(), due)
        };
        match row.run_id {
            Some(id) => {
                sqlx::query(
                    "UPDATE workflow_step_runs SET name = $2, position = $3, state = $4,
                            due_at = $5
                     WHERE id = $1",
                )
                .bind(id)
                .bind(&s.name)
                .bind(s.position)
                .bind(&state)
                .bind(due)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO workflow_step_runs (project_workflow_id, project_id, step_id,
                                                     position, name, state, due_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(row.project_workflow_id)
                .bind(row.project_id)
                .bind(s.id)
                .bind(s.position)
                .bind(&s.name)
                .bind(&state)
                .bind(due)
                .execute(&mut *tx)
                .await?;
            }
        }
        if row.run_id.is_none() || row.due_at != due || row.state.as_deref() != Some(&state) {
            changes.push(Change {
                project_id: row.project_id,
                project: row.project.clone(),
                step: s.name.clone(),
                from: row.due_at,
                to: due,
                state,
            });
        }
    }
    Ok(changes)
}

/// The projects running a workflow that still have steps ahead: (id, name, wedding day,
/// steps ahead), what an edit of the template would change.
pub async fn running(
    conn: &mut PgConnection,
    workflow: i32,
) -> AppResult<Vec<(i32, String, NaiveDate, i64)>> {
    Ok(sqlx::query_as(
        "SELECT p.id, COALESCE(p.project_name, 'Project #' || p.id), p.wedding_date,
                count(r.id) FILTER (WHERE r.state IN ('waiting', 'scheduled', 'overdue', 'approval'))
         FROM project_workflows pw JOIN projects p ON p.id = pw.project_id
         LEFT JOIN workflow_step_runs r ON r.project_workflow_id = pw.id
         WHERE pw.workflow_id = $1
         GROUP BY p.id HAVING count(r.id) FILTER
             (WHERE r.state IN ('waiting', 'scheduled', 'overdue', 'approval')) > 0
         ORDER BY p.wedding_date, p.id LIMIT 200",
    )
    .bind(workflow)
    .fetch_all(conn)
    .await?)
}
