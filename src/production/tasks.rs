//! Tasks: the lists (a project's board, a person's "My tasks"; keyset by due day then id, so
//! the overdue come first), one task, assigning (planned hours follow the assignee), moving a
//! task by hand, and the status its blockers give it.
use super::rules::{self, Benchmark};
use crate::error::{AppError, AppResult};
use crate::recipes;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

/// A task as the lists and the API show it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Task {
    pub id: i32,
    pub project_id: i32,
    pub project_name: Option<String>,
    pub wedding_date: NaiveDate,
    pub build_component_id: i32,
    /// The film and the scene it is part of, e.g. "Highlight Film: Ceremony".
    pub part: String,
    pub task_template_id: i32,
    /// The template's name, e.g. "Highlight Rough Cut".
    pub name: String,
    pub phase: Option<String>,
    /// To-Do (waiting for its blockers), Ready to Start, In Progress, Completed or Archived.
    pub status: String,
    pub due_date: Option<NaiveDate>,
    pub assigned_to_contributor_id: Option<i32>,
    pub assignee: Option<String>,
    #[schema(value_type = Option<String>, example = "5.50")]
    pub planned_duration_hours: Option<Decimal>,
    /// Where the planned hours come from, e.g. "Leo's average over 14 tasks".
    pub planned_source: Option<String>,
    /// The sum of the task's time entries.
    #[schema(value_type = Option<String>, example = "4.25")]
    pub actual_duration_hours: Option<Decimal>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The tasks that must be Completed before this one is Ready to Start.
    pub blocked_by: Vec<i32>,
}

const SELECT: &str = "SELECT t.id, t.project_id, p.project_name, p.wedding_date,
        t.build_component_id, concat(d.name, ': ', s.name) AS part, t.task_template_id,
        tt.name, tt.phase, t.status::text AS status, t.due_date, t.assigned_to_contributor_id,
        trim(concat_ws(' ', c.first_name, c.last_name)) AS assignee, t.planned_duration_hours,
        t.planned_source, t.actual_duration_hours, t.completed_at,
        ARRAY(SELECT dp.blocking_task_id FROM task_dependencies dp
              WHERE dp.dependent_task_id = t.id ORDER BY 1) AS blocked_by
    FROM tasks t JOIN projects p ON p.id = t.project_id
    JOIN task_templates tt ON tt.id = t.task_template_id
    JOIN build_components bc ON bc.id = t.build_component_id
    JOIN build_deliverables bd ON bd.id = bc.build_deliverable_id
    JOIN deliverables d ON d.id = bd.deliverable_id
    JOIN coverage_scenes s ON s.id = bc.coverage_scene_id
    LEFT JOIN contributors co ON co.id = t.assigned_to_contributor_id
    LEFT JOIN contacts c ON c.id = co.contact_id";

/// Which tasks a list shows.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub project: Option<i32>,
    pub assignee: Option<i32>,
    /// One status; None: every status but Archived.
    pub status: Option<String>,
    /// Only tasks due before this day (overdue: today).
    pub due_before: Option<NaiveDate>,
    /// Only tasks not Completed (nor Archived).
    pub open_only: bool,
}

/// Before every day a list holds: the first page's cursor.
pub const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1, 1, 1).expect("a day");

/// A page's last row as a cursor: its day (days from 0001-01-01) and id, `days_id`.
pub fn cursor(day: NaiveDate, id: i32) -> DueCursor {
    DueCursor(format!("{}_{id}", (day - FIRST_DAY).num_days()))
}

/// The last row of a page from its cursor (`cursor`); anything else is a 422 naming `after`.
/// Every cursor the documented pattern allows (up to 7 digits of days, 9 of id) is a day
/// PostgreSQL can hold.
pub fn parse_after(s: Option<&str>) -> AppResult<Option<(NaiveDate, i32)>> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || AppError::field("after", "not a page cursor; follow the Link header's next");
    let (days, id) = s.split_once('_').ok_or_else(bad)?;
    let days: u32 = days.parse().map_err(|_| bad())?;
    if days > 9_999_999 {
        return Err(bad());
    }
    let day = FIRST_DAY + chrono::Days::new(days as u64);
    Ok(Some((day, id.parse().map_err(|_| bad())?)))
}

/// The cursor of a list's next page (`YYYY-MM-DD_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCursor(pub String);

impl crate::page::Cursor for DueCursor {
    fn cursor(&self) -> String {
        self.0.clone()
    }
}

/// A status as sent: one of the five, else a 422 naming `status`.
pub fn parse_status(s: Option<&str>) -> AppResult<Option<String>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => rules::STATUSES
            .iter()
            .find(|x| **x == s)
            .map(|x| Some(x.to_string()))
            .ok_or_else(|| AppError::field("status", rules::STATUSES.join(", "))),
    }
}

/// The list's query: the cursor, then only the filters that are set (one plan per
/// combination, each on an index in the list's order), then the limit.
fn list_query<'a>(
    f: &'a Filter,
    after: (NaiveDate, i32),
    limit: i64,
) -> sqlx::QueryBuilder<'a, sqlx::Postgres> {
    let mut q = sqlx::QueryBuilder::new(SELECT);
    q.push(" WHERE t.due_date IS NOT NULL AND (t.due_date, t.id) > (")
        .push_bind(after.0)
        .push(", ")
        .push_bind(after.1)
        .push(")");
    if let Some(p) = f.project {
        q.push(" AND t.project_id = ").push_bind(p);
    }
    if let Some(a) = f.assignee {
        q.push(" AND t.assigned_to_contributor_id = ").push_bind(a);
    }
    match (&f.status, f.open_only) {
        (Some(s), _) => {
            q.push(" AND t.status = ")
                .push_bind(s.as_str())
                .push("::tasks_status");
        }
        (None, true) => {
            q.push(" AND t.status IN ('To-Do', 'Ready to Start', 'In Progress')");
        }
        (None, false) => {
            q.push(" AND t.status <> 'Archived'");
        }
    }
    if let Some(d) = f.due_before {
        q.push(" AND t.due_date < ").push_bind(d);
    }
    q.push(" ORDER BY t.due_date, t.id LIMIT ").push_bind(limit);
    q
}

/// The list's SQL for these filters (the benchmarks and plan tests read it): parameters are
/// the cursor's day and id, then the filters set, in `Filter`'s order, then the limit.
pub fn list_sql(f: &Filter) -> String {
    list_query(f, (FIRST_DAY, 0), 0).sql().to_string()
}

/// A page of tasks, due first (then by id); `limit` rows and the cursor of the next page. The
/// first page compares with the smallest (day, id), so that the cursor is always an index
/// condition, even in a generic plan.
pub async fn list(
    conn: &mut PgConnection,
    f: &Filter,
    after: Option<(NaiveDate, i32)>,
    limit: i64,
) -> AppResult<(Vec<Task>, Option<DueCursor>)> {
    let after = after.unwrap_or((FIRST_DAY, i32::MIN));
    let mut rows: Vec<Task> = list_query(f, after, limit + 1)
        .build_query_as()
        .fetch_all(conn)
        .await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .and_then(|t| t.due_date.map(|d| cursor(d, t.id)))
    } else {
        None
    };
    Ok((rows, next))
}

pub async fn get(conn: &mut PgConnection, id: i32) -> AppResult<Task> {
    sqlx::query_as(&format!("{SELECT} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("task {id}")))
}

/// Tasks by id, in id order.
pub async fn by_ids(conn: &mut PgConnection, ids: &[i32]) -> AppResult<Vec<Task>> {
    Ok(
        sqlx::query_as(&format!("{SELECT} WHERE t.id = ANY($1) ORDER BY t.id"))
            .bind(ids)
            .fetch_all(conn)
            .await?,
    )
}

/// The dependencies among the project's tasks, (blocking, dependent).
pub async fn edges(tx: &mut PgConnection, project: i32) -> AppResult<Vec<(i32, i32)>> {
    Ok(sqlx::query_as(
        "SELECT d.blocking_task_id, d.dependent_task_id FROM task_dependencies d
         JOIN tasks t ON t.id = d.dependent_task_id WHERE t.project_id = $1",
    )
    .bind(project)
    .fetch_all(tx)
    .await?)
}

#[derive(sqlx::FromRow)]
struct Waiting {
    id: i32,
    status: String,
    assigned_to_contributor_id: Option<i32>,
    name: String,
    blockers: Vec<String>,
}

/// Set To-Do / Ready to Start from the blockers (`rules::readiness`) for the project's waiting
/// tasks; the assignees of tasks that became Ready to Start are told. Returns them.
pub async fn refresh_readiness(
    tx: &mut PgConnection,
    project: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<i32>> {
    let waiting: Vec<Waiting> = sqlx::query_as(
        "SELECT t.id, t.status::text AS status, t.assigned_to_contributor_id, tt.name,
                ARRAY(SELECT b.status::text FROM task_dependencies d
                      JOIN tasks b ON b.id = d.blocking_task_id
                      WHERE d.dependent_task_id = t.id) AS blockers
         FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
         WHERE t.project_id = $1 AND t.status IN ('To-Do', 'Ready to Start')",
    )
    .bind(project)
    .fetch_all(&mut *tx)
    .await?;
    let (mut ids, mut statuses, mut unblocked) = (vec![], vec![], vec![]);
    let (mut to, mut messages) = (vec![], vec![]);
    for w in &waiting {
        let blockers: Vec<&str> = w.blockers.iter().map(String::as_str).collect();
        let status = rules::readiness(&w.status, &blockers);
        if status != w.status {
            ids.push(w.id);
            statuses.push(status.to_string());
            if status == rules::READY {
                unblocked.push(w.id);
                if let Some(a) = w.assigned_to_contributor_id {
                    to.push(a);
                    messages.push((
                        w.id,
                        format!("Ready to start: {} (task #{}).", w.name, w.id),
                    ));
                }
            }
        }
    }
    if !ids.is_empty() {
        sqlx::query(
            "UPDATE tasks SET status = x.s::tasks_status, updated_at = $3
             FROM unnest($1::int[], $2::text[]) AS x(id, s) WHERE tasks.id = x.id",
        )
        .bind(&ids)
        .bind(&statuses)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    if !to.is_empty() {
        let (tasks, texts): (Vec<i32>, Vec<String>) = messages.into_iter().unzip();
        let links: Vec<String> = tasks.iter().map(|t| format!("/tasks/{t}")).collect();
        crate::notify::people(tx, now, &to, &texts, &links).await?;
    }
    Ok(unblocked)
}

#[derive(sqlx::FromRow)]
struct ToPlan {
    id: i32,
    name: String,
    status: String,
    effort_hours: Option<Decimal>,
    effort_calculation_rules: Option<serde_json::Value>,
    target_minutes: Option<Decimal>,
    person: Option<String>,
    average: Option<Decimal>,
    sample: Option<i32>,
    default_hours: Option<Decimal>,
}

/// Assign tasks to a person (None: unassign), their planned hours recomputed from the person's
/// benchmark for each template (`rules::planned`). The person is told in one notification;
/// audited (by `actor`). Archived and Completed tasks cannot be reassigned (409).
pub async fn assign(
    tx: &mut PgConnection,
    ids: &[i32],
    assignee: Option<i32>,
    now: DateTime<Utc>,
    actor: Option<i32>,
) -> AppResult<Vec<i32>> {
    if let Some(a) = assignee {
        let active: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM contributors co
                            JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
                            WHERE co.id = $1)",
        )
        .bind(a)
        .fetch_one(&mut *tx)
        .await?;
        if !active {
            return Err(AppError::unknown_ref(
                "assignee",
                format!("no active staff member {a}"),
            ));
        }
    }
    let rows: Vec<ToPlan> = sqlx::query_as(
        "SELECT t.id, tt.name, t.status::text AS status, tt.effort_hours,
                tt.effort_calculation_rules, bc.target_minutes, c.first_name AS person,
                b.contributor_average_hours AS average, b.sample_size AS sample,
                b.contributor_default_hours AS default_hours
         FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
         JOIN build_components bc ON bc.id = t.build_component_id
         LEFT JOIN contributors co ON co.id = $2
         LEFT JOIN contacts c ON c.id = co.contact_id
         LEFT JOIN contributor_task_benchmarks b
                ON b.contributor_id = $2 AND b.task_template_id = t.task_template_id
         WHERE t.id = ANY($1) ORDER BY t.id FOR UPDATE OF t",
    )
    .bind(ids)
    .bind(assignee)
    .fetch_all(&mut *tx)
    .await?;
    if let Some(missing) = ids.iter().find(|id| !rows.iter().any(|r| r.id == **id)) {
        return Err(AppError::not_found(&format!("task {missing}")));
    }
    if let Some(r) = rows
        .iter()
        .find(|r| r.status == rules::ARCHIVED || r.status == rules::COMPLETED)
    {
        return Err(AppError::Conflict(format!(
            "task #{} ({}) is {}: it cannot be reassigned",
            r.id, r.name, r.status
        )));
    }
    let (mut hours, mut sources) = (vec![], vec![]);
    for r in &rows {
        let rules_obj = r
            .effort_calculation_rules
            .as_ref()
            .and_then(|v| recipes::parse_effort_rules(v).ok());
        let effort = recipes::effort_hours(r.effort_hours, rules_obj.as_ref(), r.target_minutes);
        let bench = assignee.map(|_| Benchmark {
            name: r.person.clone().unwrap_or_default(),
            average: r.average,
            sample: r.sample.unwrap_or(0),
            default: r.default_hours,
        });
        let (h, source) = rules::planned(bench.as_ref(), effort);
        hours.push(h);
        sources.push(source.words());
    }
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    sqlx::query(
        "UPDATE tasks SET assigned_to_contributor_id = $2, planned_duration_hours = x.h,
                planned_source = x.s, updated_at = $5
         FROM unnest($1::int[], $3::numeric[], $4::text[]) AS x(id, h, s) WHERE tasks.id = x.id",
    )
    .bind(&ids)
    .bind(assignee)
    .bind(&hours)
    .bind(&sources)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let (Some(a), Some(first)) = (assignee, rows.first()) {
        let message = if rows.len() == 1 {
            format!("Assigned to you: {} (task #{}).", first.name, first.id)
        } else {
            format!("{} tasks assigned to you.", rows.len())
        };
        let link = if rows.len() == 1 {
            format!("/tasks/{}", first.id)
        } else {
            "/my-tasks".to_string()
        };
        crate::notify::people(tx, now, &[a], &[message], &[link]).await?;
    }
    let planned: Vec<String> = hours.iter().map(|h| h.to_string()).collect();
    // A person's change is audited (the demo's seeding is not).
    if actor.is_some() {
        crate::audit::record(
            tx,
            actor,
            "tasks.assign",
            "task",
            ids.first().copied(),
            serde_json::json!({ "tasks": ids, "assignee": assignee, "planned_hours": planned }),
        )
        .await?;
    }
    Ok(ids)
}

/// Move a task by hand (`rules::can_move`). Completing sets `completed_at` and stops timers
/// running on it; reopening clears it. The project's waiting tasks follow (Ready to Start when
/// all their blockers are Completed, back to To-Do when one is reopened).
pub async fn move_to(
    tx: &mut PgConnection,
    id: i32,
    to: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (project, from): (i32, String) =
        sqlx::query_as("SELECT project_id, status::text FROM tasks WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::not_found(&format!("task {id}")))?;
    if from == to {
        return Ok(());
    }
    if !rules::can_move(&from, to) {
        return Err(AppError::field_conflict(
            "status",
            format!("a task {from} cannot move to {to} by hand"),
        ));
    }
    if to == rules::COMPLETED {
        super::time::stop_on_task(tx, id, now).await?;
    }
    sqlx::query(
        "UPDATE tasks SET status = $2::tasks_status, updated_at = $3,
                completed_at = CASE WHEN $2 = 'Completed' THEN $3 ELSE NULL END
         WHERE id = $1",
    )
    .bind(id)
    .bind(to)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    refresh_readiness(tx, project, now).await?;
    Ok(())
}

/// Whether a person may work on the task: it is theirs, or nobody's.
pub async fn may_work(conn: &mut PgConnection, id: i32, who: i32) -> AppResult<bool> {
    let assignee: Option<Option<i32>> =
        sqlx::query_scalar("SELECT assigned_to_contributor_id FROM tasks WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    match assignee {
        None => Err(AppError::not_found(&format!("task {id}"))),
        Some(a) => Ok(a.is_none_or(|a| a == who)),
    }
}

/// How many tasks of a build's film (`build_deliverables.id`) have work on them: time logged,
/// or In Progress or Completed. Quote refuses to remove such a film (its components' tasks
/// would go with it, by the schema's cascade).
pub async fn worked_on_film(conn: &mut PgConnection, build_deliverable: i32) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM tasks t JOIN build_components bc ON bc.id = t.build_component_id
         WHERE bc.build_deliverable_id = $1
           AND (t.status IN ('In Progress', 'Completed')
                OR EXISTS (SELECT 1 FROM task_time_entries e WHERE e.task_id = t.id))",
    )
    .bind(build_deliverable)
    .fetch_one(conn)
    .await?)
}

/// Postponement: the promised delivery day and the due days of the project's unfinished tasks
/// move by the days the wedding moved.
pub async fn shift_due_dates(tx: &mut PgConnection, project: i32, days: i64) -> AppResult<u64> {
    sqlx::query(
        "UPDATE projects SET promised_delivery_date = promised_delivery_date + $2::int
         WHERE id = $1",
    )
    .bind(project)
    .bind(days as i32)
    .execute(&mut *tx)
    .await?;
    Ok(sqlx::query(
        "UPDATE tasks SET due_date = due_date + $2::int
         WHERE project_id = $1 AND status NOT IN ('Completed', 'Archived') AND due_date IS NOT NULL",
    )
    .bind(project)
    .bind(days as i32)
    .execute(tx)
    .await?
    .rows_affected())
}
