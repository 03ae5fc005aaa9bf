//! The learning half of `projectflo jobs nightly`: each person's average hours per template
//! from their completed tasks (`contributor_task_benchmarks.contributor_average_hours`, with
//! how many tasks it is over), and each template's average from everyone's
//! (`task_templates.average_duration_hours`). A plain mean of `actual_duration_hours` per task,
//! rounded to hundredths: not weighted by the film's length (docs/architecture.md says why).
//!
//! One transaction under a transaction-level advisory lock, so that several instances run it
//! one at a time; every write only touches rows whose numbers change, so a second run (or the
//! second of two concurrent runs) changes nothing.
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;

/// The advisory lock key of the nightly learning ("PFNIGHT1" in ASCII).
const LOCK: i64 = 0x5046_4e49_4748_5431;

/// One number the run changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Learned {
    /// The person's name; None for a template's overall average.
    pub person: Option<String>,
    pub template: String,
    /// The new average (None: no completed task left to learn from).
    pub hours: Option<Decimal>,
    pub tasks: i32,
}

/// Learn from the completed tasks; returns what changed.
pub async fn learn(tx: &mut PgConnection, now: DateTime<Utc>) -> AppResult<Vec<Learned>> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK)
        .execute(&mut *tx)
        .await?;
    let mut changed: Vec<Learned> = sqlx::query_as(
        "WITH done AS (
            SELECT assigned_to_contributor_id AS c, task_template_id AS t,
                   round(avg(actual_duration_hours), 2) AS h, count(*)::int AS n
            FROM tasks
            WHERE status = 'Completed' AND assigned_to_contributor_id IS NOT NULL
              AND actual_duration_hours IS NOT NULL
            GROUP BY 1, 2),
         wanted AS (
            SELECT COALESCE(d.c, b.contributor_id) AS c, COALESCE(d.t, b.task_template_id) AS t,
                   d.h, COALESCE(d.n, 0) AS n
            FROM done d FULL JOIN contributor_task_benchmarks b
                 ON b.contributor_id = d.c AND b.task_template_id = d.t),
         upserted AS (
            INSERT INTO contributor_task_benchmarks
                   (contributor_id, task_template_id, contributor_average_hours, sample_size,
                    learned_at)
            SELECT c, t, h, n, $1 FROM wanted
            ON CONFLICT (contributor_id, task_template_id) DO UPDATE
            SET contributor_average_hours = EXCLUDED.contributor_average_hours,
                sample_size = EXCLUDED.sample_size, learned_at = EXCLUDED.learned_at
            WHERE (contributor_task_benchmarks.contributor_average_hours,
                   contributor_task_benchmarks.sample_size)
                  IS DISTINCT FROM (EXCLUDED.contributor_average_hours, EXCLUDED.sample_size)
            RETURNING contributor_id, task_template_id, contributor_average_hours, sample_size)
         SELECT trim(concat_ws(' ', ct.first_name, ct.last_name)) AS person, tt.name AS template,
                u.contributor_average_hours AS hours, u.sample_size AS tasks
         FROM upserted u JOIN task_templates tt ON tt.id = u.task_template_id
         JOIN contributors co ON co.id = u.contributor_id JOIN contacts ct ON ct.id = co.contact_id
         ORDER BY tt.name, person",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let templates: Vec<Learned> = sqlx::query_as(
        "WITH done AS (
            SELECT task_template_id AS t, round(avg(actual_duration_hours), 2) AS h,
                   count(*)::int AS n
            FROM tasks
            WHERE status = 'Completed' AND actual_duration_hours IS NOT NULL
            GROUP BY 1),
         updated AS (
            UPDATE task_templates tt SET average_duration_hours = d.h,
                   average_sample_size = COALESCE(d.n, 0)
            FROM task_templates x LEFT JOIN done d ON d.t = x.id
            WHERE tt.id = x.id
              AND (tt.average_duration_hours, tt.average_sample_size)
                  IS DISTINCT FROM (d.h, COALESCE(d.n, 0))
            RETURNING tt.name, tt.average_duration_hours, tt.average_sample_size)
         SELECT NULL::text AS person, name AS template, average_duration_hours AS hours,
                average_sample_size AS tasks
         FROM updated ORDER BY name",
    )
    .fetch_all(&mut *tx)
    .await?;
    changed.extend(templates);
    Ok(changed)
}

/// What changed, a line each ("Leo Martins, Highlight Rough Cut: 5.25 h over 3 tasks").
pub fn lines(changed: &[Learned]) -> Vec<String> {
    changed
        .iter()
        .map(|l| {
            let who = l.person.as_deref().unwrap_or("Everyone");
            match l.hours {
                Some(h) => format!("{who}, {}: {h} h over {} task(s)", l.template, l.tasks),
                None => format!("{who}, {}: no completed task to learn from", l.template),
            }
        })
        .collect()
}
