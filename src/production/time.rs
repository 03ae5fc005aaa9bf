//! Time worked on tasks: a timer per person (one running at a time, the database says so) and
//! entries by hand. `tasks.actual_duration_hours` is always the sum of the task's finished
//! entries, rewritten in the same transaction as every change.
use super::rules;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Entry {
    pub id: i32,
    pub task_id: i32,
    pub contributor_id: i32,
    pub person: String,
    pub started_at: DateTime<Utc>,
    /// None while the timer runs.
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, example = "1.50")]
    pub hours: Option<Decimal>,
    pub is_manual: bool,
    pub note: Option<String>,
}

const SELECT: &str = "SELECT e.id, e.task_id, e.contributor_id,
        trim(concat_ws(' ', c.first_name, c.last_name)) AS person, e.started_at, e.ended_at,
        e.hours, e.is_manual, e.note
    FROM task_time_entries e JOIN contributors co ON co.id = e.contributor_id
    JOIN contacts c ON c.id = co.contact_id";

/// The task's entries, oldest first (a task has tens, not thousands).
pub async fn of_task(conn: &mut PgConnection, task: i32) -> AppResult<Vec<Entry>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE e.task_id = $1 ORDER BY e.started_at, e.id"
    ))
    .bind(task)
    .fetch_all(conn)
    .await?)
}

/// The person's running timer, if any: (entry, task).
pub async fn running(conn: &mut PgConnection, who: i32) -> AppResult<Option<(i32, i32)>> {
    Ok(sqlx::query_as(
        "SELECT id, task_id FROM task_time_entries WHERE contributor_id = $1 AND ended_at IS NULL",
    )
    .bind(who)
    .fetch_optional(conn)
    .await?)
}

/// Lock a task that time may be logged on: not Completed nor Archived (409). Returns its status.
async fn lock_open(tx: &mut PgConnection, task: i32) -> AppResult<String> {
    let status: String =
        sqlx::query_scalar("SELECT status::text FROM tasks WHERE id = $1 FOR UPDATE")
            .bind(task)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::not_found(&format!("task {task}")))?;
    if status == rules::COMPLETED || status == rules::ARCHIVED {
        return Err(AppError::Conflict(format!(
            "task #{task} is {status}: reopen it to log time"
        )));
    }
    Ok(status)
}

/// Start the person's timer on a task; a task waiting or ready moves to In Progress. A timer
/// already running (on any task) is a 409 naming it.
pub async fn start(
    tx: &mut PgConnection,
    task: i32,
    who: i32,
    now: DateTime<Utc>,
) -> AppResult<Entry> {
    let status = lock_open(tx, task).await?;
    if let Some((_, on)) = running(tx, who).await? {
        return Err(AppError::Conflict(format!(
            "your timer is running on task #{on}: stop it first"
        )));
    }
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO task_time_entries (task_id, contributor_id, started_at, created_at)
         VALUES ($1, $2, $3, $3) RETURNING id",
    )
    .bind(task)
    .bind(who)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    // Started: In Progress (the tasks it blocks were waiting for it already, so nothing else
    // moves).
    if status != rules::IN_PROGRESS {
        sqlx::query("UPDATE tasks SET status = 'In Progress', updated_at = $2 WHERE id = $1")
            .bind(task)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    get(tx, id).await
}

async fn get(conn: &mut PgConnection, id: i32) -> AppResult<Entry> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE e.id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await?)
}

/// Stop the person's running timer (409 when none runs); its hours are the time it ran.
pub async fn stop(tx: &mut PgConnection, who: i32, now: DateTime<Utc>) -> AppResult<Entry> {
    let Some((id, task)) = running(tx, who).await? else {
        return Err(AppError::Conflict("no timer of yours is running".into()));
    };
    sqlx::query(
        "UPDATE task_time_entries
         SET ended_at = greatest($2, started_at),
             hours = round((extract(epoch FROM greatest($2, started_at) - started_at) / 3600)::numeric, 2)
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    total(tx, task).await?;
    get(tx, id).await
}

/// Stop every timer running on a task (it is being completed).
pub async fn stop_on_task(tx: &mut PgConnection, task: i32, now: DateTime<Utc>) -> AppResult<()> {
    let stopped = sqlx::query(
        "UPDATE task_time_entries
         SET ended_at = greatest($2, started_at),
             hours = round((extract(epoch FROM greatest($2, started_at) - started_at) / 3600)::numeric, 2)
         WHERE task_id = $1 AND ended_at IS NULL",
    )
    .bind(task)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if stopped.rows_affected() > 0 {
        total(tx, task).await?;
    }
    Ok(())
}

/// Hours as typed: more than 0, at most 24, two decimals at most.
pub fn parse_hours(s: &str) -> AppResult<Decimal> {
    let bad = || {
        AppError::field(
            "hours",
            "a number of hours more than 0 and at most 24, e.g. 1.5",
        )
    };
    let h: Decimal = s.trim().parse().map_err(|_| bad())?;
    if h <= Decimal::ZERO || h > Decimal::from(24) || h.scale() > 2 {
        return Err(bad());
    }
    Ok(h)
}

/// An entry by hand: hours worked (`parse_hours`), dated now, with an optional note.
pub async fn add(
    tx: &mut PgConnection,
    task: i32,
    who: i32,
    hours: Decimal,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Entry> {
    lock_open(tx, task).await?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(AppError::field("note", "at most 500 characters"));
    }
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO task_time_entries (task_id, contributor_id, started_at, ended_at, hours,
                                        is_manual, note, created_at)
         VALUES ($1, $2, $3, $3, $4, true, $5, $3) RETURNING id",
    )
    .bind(task)
    .bind(who)
    .bind(now)
    .bind(hours)
    .bind(note)
    .fetch_one(&mut *tx)
    .await?;
    total(tx, task).await?;
    get(tx, id).await
}

/// `actual_duration_hours` = the sum of the task's finished entries (None without any).
async fn total(tx: &mut PgConnection, task: i32) -> AppResult<()> {
    sqlx::query(
        "UPDATE tasks SET actual_duration_hours =
             (SELECT sum(hours) FROM task_time_entries WHERE task_id = $1 AND hours IS NOT NULL)
         WHERE id = $1",
    )
    .bind(task)
    .execute(tx)
    .await?;
    Ok(())
}
