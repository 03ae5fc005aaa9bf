//! The workflow engine: workflows attached to the booked projects they apply to, each step a
//! row of `workflow_step_runs` per project (waiting for its event, scheduled at its instant,
//! overdue when already past at attachment: listed for the studio to run or skip, never fired
//! in a burst), run by the scheduler exactly once: a due step is claimed with
//! `FOR UPDATE SKIP LOCKED` and its new state and its outgoing email (the outbox,
//! `mail::queue`) are written in one transaction, the email sent after the commit. A step that
//! needs approval waits in the dashboard's "Approval needed" list until someone approves
//! (its email editable) or skips it: it never expires. A template edit and a postponement
//! re-time the future steps (`resync`).
use super::facts::{FACTS_WITH_ID, facts, initial};
use super::steps;
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::mail::Outgoing;
use crate::studio::Studio;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

pub use super::actions::{Outcome, approve, run_now, skip};
pub use super::retime::{Change, Scope, resync, running};
/// A step's run on a project, as the timeline shows it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Run {
    pub id: i32,
    pub project_id: i32,
    pub project_workflow_id: i32,
    pub workflow: String,
    pub step_id: Option<i32>,
    pub position: i32,
    pub name: String,
    /// waiting, scheduled, overdue, approval, done, skipped or failed.
    pub state: String,
    pub due_at: Option<DateTime<Utc>>,
    pub ran_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub project: String,
    pub action: Option<String>,
    pub when: Option<String>,
}

impl Run {
    pub fn state_words(&self) -> &'static str {
        match self.state.as_str() {
            "waiting" => "Waiting",
            "scheduled" => "Scheduled",
            "overdue" => "Past when attached: run or skip",
            "approval" => "Approval needed",
            "done" => "Done",
            "skipped" => "Skipped",
            _ => "Failed",
        }
    }

    pub fn is_email(&self) -> bool {
        self.action.as_deref() == Some("email")
    }
}

const RUN: &str = "SELECT r.id, r.project_id, r.project_workflow_id, w.name AS workflow, r.step_id,
        r.position, r.name, r.state, r.due_at, r.ran_at, r.reason, r.subject, r.body,
        COALESCE(p.project_name, 'Project #' || p.id) AS project, s.action, NULL::text AS when
    FROM workflow_step_runs r JOIN project_workflows pw ON pw.id = r.project_workflow_id
    JOIN workflow_templates w ON w.id = pw.workflow_id JOIN projects p ON p.id = r.project_id
    LEFT JOIN workflow_steps s ON s.id = r.step_id";

/// A project's timeline: every step of its workflows, in order.
pub async fn timeline(conn: &mut PgConnection, project: i32) -> AppResult<Vec<Run>> {
    Ok(sqlx::query_as(&format!(
        "{RUN} WHERE r.project_id = $1 ORDER BY w.name, r.position, r.id LIMIT 200"
    ))
    .bind(project)
    .fetch_all(conn)
    .await?)
}

/// What needs the studio: steps waiting for approval (oldest first), then those past when
/// attached and those failed. Never expires.
pub async fn attention(conn: &mut PgConnection, limit: i64) -> AppResult<Vec<Run>> {
    Ok(sqlx::query_as(&format!(
        "{RUN} WHERE r.state IN ('approval', 'overdue', 'failed')
         ORDER BY r.state <> 'approval', r.due_at, r.id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

pub async fn run(conn: &mut PgConnection, id: i32) -> AppResult<Run> {
    sqlx::query_as(&format!("{RUN} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("workflow step"))
}

/// Attach a workflow to a project (once: another instance doing it too is harmless): a run per
/// step, scheduled, waiting or overdue (`initial`). Returns whether it attached.
pub async fn attach(
    tx: &mut PgConnection,
    studio: &Studio,
    project: i32,
    workflow: i32,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let attached: Option<i32> = sqlx::query_scalar(
        "INSERT INTO project_workflows (project_id, workflow_id, attached_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(project)
    .bind(workflow)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(pw) = attached else {
        return Ok(false);
    };
    let f = facts(tx, project).await?;
    let today = now
        .with_timezone(&crate::dates::zone(&studio.time_zone))
        .date_naive();
    let fresh = f
        .booking_date
        .is_some_and(|b| b >= today - Duration::days(1));
    let all = steps::steps(tx, workflow).await?;
    let mut ids = vec![];
    let mut states = vec![];
    let mut dues = vec![];
    for s in &all {
        let (state, due) = initial(s, &f, &studio.time_zone, now, fresh);
        ids.push(s.id);
        states.push(state);
        dues.push(due);
    }
    sqlx::query(
        "INSERT INTO workflow_step_runs (project_workflow_id, project_id, step_id, position, name,
                                         state, due_at)
         SELECT $1, $2, s.id, s.position, s.name, x.state, x.due
         FROM unnest($3::int[], $4::text[], $5::timestamptz[]) AS x(step, state, due)
         JOIN workflow_steps s ON s.id = x.step",
    )
    .bind(pw)
    .bind(project)
    .bind(&ids)
    .bind(&states)
    .bind(&dues)
    .execute(&mut *tx)
    .await?;
    Ok(true)
}

/// Attach every active workflow to the booked projects it applies to that do not have it yet
/// (weddings from today on); returns how many were attached.
pub async fn attach_new(conn: &mut PgConnection, clock: &Clock) -> AppResult<usize> {
    let studio = Studio::load(conn).await?;
    let today = clock.today(&studio.time_zone);
    let pairs: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT p.id, w.id FROM workflow_templates w
         JOIN projects p ON p.booking_date IS NOT NULL AND p.wedding_date >= $1
         WHERE w.active
           AND NOT EXISTS (SELECT 1 FROM project_workflows pw
                           WHERE pw.project_id = p.id AND pw.workflow_id = w.id)
           AND (w.scope = 'all' OR EXISTS (
                SELECT 1 FROM builds b JOIN build_deliverables bd ON bd.build_id = b.id
                WHERE b.project_id = p.id AND bd.deliverable_id = w.deliverable_id))
         ORDER BY p.id, w.id LIMIT 200",
    )
    .bind(today)
    .fetch_all(&mut *conn)
    .await?;
    let mut n = 0;
    for (project, workflow) in pairs {
        let now = clock.now();
        let done = crate::db::transaction(conn, async |tx| {
            attach(tx, &studio, project, workflow, now).await
        })
        .await?;
        n += usize::from(done);
    }
    Ok(n)
}

/// The waiting steps whose event has happened become due now. One statement (two instances
/// running it at once: the second finds them no longer waiting).
pub async fn wake(conn: &mut PgConnection, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(sqlx::query(&format!(
        "UPDATE workflow_step_runs r SET state = 'scheduled', due_at = $1
         FROM workflow_steps s, ({FACTS_WITH_ID}) f
         WHERE r.state = 'waiting' AND s.id = r.step_id AND f.id = r.project_id
           AND CASE s.trigger
                 WHEN 'booked' THEN f.booking_date IS NOT NULL
                 WHEN 'contract_signed' THEN f.contract_signed
                 WHEN 'invoice_paid' THEN f.invoice_paid
                 WHEN 'questionnaire_submitted' THEN
                   CASE WHEN s.trigger_questionnaire_id IS NULL THEN cardinality(f.submitted) > 0
                        ELSE s.trigger_questionnaire_id = ANY(f.submitted) END
                 ELSE false END"
    ))
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Claim the next due step (skipping those another instance holds) and run it, in the
/// caller's transaction: its state and its email are written there; the email is sent by the
/// caller after the commit. None when nothing is due.
pub async fn run_one(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
) -> AppResult<Option<(i32, Outcome, Vec<Outgoing>)>> {
    let claimed: Option<i32> = sqlx::query_scalar(
        "SELECT id FROM workflow_step_runs WHERE state = 'scheduled' AND due_at <= $1
         ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind(clock.now())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = claimed else {
        return Ok(None);
    };
    let (outcome, mails) = super::actions::execute(tx, settings, studio, clock, id, false).await?;
    Ok(Some((id, outcome, mails)))
}

/// What a scheduler pass did.
#[derive(Debug, Default, Clone)]
pub struct Pass {
    pub attached: usize,
    pub woke: u64,
    pub done: usize,
    pub approval: usize,
    pub skipped: usize,
    pub failed: usize,
    pub reminders: usize,
}

impl Pass {
    pub fn report(&self) -> String {
        format!(
            "Workflows: {} attached, {} steps woken by their event, {} done, {} waiting for \
             approval, {} skipped, {} failed; {} questionnaire reminders sent.",
            self.attached,
            self.woke,
            self.done,
            self.approval,
            self.skipped,
            self.failed,
            self.reminders
        )
    }
}

/// One pass of the scheduler: attach, wake, run every due step (each in its own transaction,
/// its email sent after the commit), remind the questionnaires due. Safe from several
/// instances at once.
pub async fn pass(pool: &PgPool, settings: &Settings, clock: &Clock) -> AppResult<Pass> {
    let mut conn = pool.acquire().await?;
    let mut out = Pass {
        attached: attach_new(&mut conn, clock).await?,
        woke: wake(&mut conn, clock.now()).await?,
        ..Pass::default()
    };
    let studio = Studio::load(&mut conn).await?;
    // Bounded: a pass runs at most this many steps; the next pass goes on.
    for _ in 0..500 {
        let ran = crate::db::transaction(&mut conn, async |tx| {
            run_one(tx, settings, &studio, clock).await
        })
        .await?;
        let Some((_, outcome, mails)) = ran else {
            break;
        };
        for m in mails {
            m.send_and_wait(pool, clock).await;
        }
        match outcome {
            Outcome::Done => out.done += 1,
            Outcome::Approval => out.approval += 1,
            Outcome::Skipped => out.skipped += 1,
            Outcome::Failed => out.failed += 1,
        }
    }
    let reminders = super::questionnaire_reminders::remind(&mut conn, settings, clock).await?;
    out.reminders = reminders.len();
    for m in reminders {
        m.send_and_wait(pool, clock).await;
    }
    Ok(out)
}
