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

#[derive(sqlx::FromRow)]
struct Replan {
    id: i32,
    person: String,
    average: Decimal,
    sample: i32,
    planned: Option<Decimal>,
    source: Option<String>,
}

/// After learning: the tasks not started yet (To-Do, Ready to Start) of a person who now has
/// an average for their template are planned at that average, with its source in words, as
/// assigning them would do today. Work under way keeps the plan it started with. Returns how
/// many tasks changed; a second run changes none.
pub async fn replan(tx: &mut PgConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let rows: Vec<Replan> = sqlx::query_as(
        "SELECT t.id, c.first_name AS person, b.contributor_average_hours AS average,
                b.sample_size AS sample, t.planned_duration_hours AS planned,
                t.planned_source AS source
         FROM tasks t
         JOIN contributor_task_benchmarks b ON b.contributor_id = t.assigned_to_contributor_id
              AND b.task_template_id = t.task_template_id
         JOIN contributors co ON co.id = t.assigned_to_contributor_id
         JOIN contacts c ON c.id = co.contact_id
         WHERE t.status IN ('To-Do', 'Ready to Start') AND b.sample_size > 0
           AND b.contributor_average_hours IS NOT NULL
         ORDER BY t.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let (mut ids, mut hours, mut sources) = (vec![], vec![], vec![]);
    for r in rows {
        let bench = super::rules::Benchmark {
            name: r.person,
            average: Some(r.average),
            sample: r.sample,
            default: None,
        };
        let (h, source) = super::rules::planned(Some(&bench), Decimal::ZERO);
        let words = source.words();
        if r.planned != Some(h) || r.source.as_deref() != Some(words.as_str()) {
            ids.push(r.id);
            hours.push(h);
            sources.push(words);
        }
    }
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "UPDATE tasks SET planned_duration_hours = x.h, planned_source = x.s, updated_at = $4
         FROM unnest($1::int[], $2::numeric[], $3::text[]) AS x(id, h, s) WHERE tasks.id = x.id",
    )
    .bind(&ids)
    .bind(&hours)
    .bind(&sources)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

/// "Due soon": each open task with an assignee, due from `today` to two days after, tells its
/// assignee once per due day (`tasks.due_soon_notified_for`; a moved due day is told again).
/// One statement: the marks and the notifications are written together. Returns how many.
pub async fn due_soon(
    tx: &mut PgConnection,
    today: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(sqlx::query(
        "WITH marked AS (
            UPDATE tasks t SET due_soon_notified_for = t.due_date
            WHERE t.status NOT IN ('Completed', 'Archived')
              AND t.assigned_to_contributor_id IS NOT NULL
              AND t.due_date BETWEEN $1 AND $1 + 2
              AND t.due_soon_notified_for IS DISTINCT FROM t.due_date
            RETURNING t.id, t.assigned_to_contributor_id AS c, t.due_date, t.task_template_id,
                      t.project_id)
         INSERT INTO notifications (recipient_contributor_id, message, link_url, created_at)
         SELECT m.c,
                'Due ' || CASE m.due_date - $1 WHEN 0 THEN 'today' WHEN 1 THEN 'tomorrow'
                                ELSE to_char(m.due_date, 'FMDay DD Mon') END
                || ': ' || tt.name || ' for ' || COALESCE(p.project_name, 'a wedding')
                || ' (task #' || m.id || ').',
                '/tasks/' || m.id, $2
         FROM marked m JOIN task_templates tt ON tt.id = m.task_template_id
         JOIN projects p ON p.id = m.project_id
         JOIN staff_credentials cr ON cr.contributor_id = m.c AND cr.is_active",
    )
    .bind(today)
    .bind(now)
    .execute(tx)
    .await?
    .rows_affected())
}
