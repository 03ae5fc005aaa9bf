//! The workflow engine: workflows attached to the booked projects they apply to, each step a
//! row of `workflow_step_runs` per project (waiting for its event, scheduled at its instant,
//! overdue when already past at attachment: listed for the studio to run or skip, never fired
//! in a burst), run by the scheduler exactly once: a due step is claimed with
//! `FOR UPDATE SKIP LOCKED` and its new state and its outgoing email (the outbox,
//! `mail::queue`) are written in one transaction, the email sent after the commit. A step that
//! needs approval waits in the dashboard's "Approval needed" list until someone approves
//! (its email editable) or skips it: it never expires. A template edit and a postponement
//! re-time the future steps (`resync`).
use super::questionnaires;
use super::steps::{self, STEP_COLUMNS, Step};
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::mail::{self, Mail, Outgoing};
use crate::studio::Studio;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

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

/// What has happened on a project (for the steps that wait on an event).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Facts {
    pub wedding_date: NaiveDate,
    pub booking_date: Option<NaiveDate>,
    pub contract_signed: bool,
    pub invoice_paid: bool,
    /// Templates of the submitted questionnaires (0 for one whose template is gone).
    pub submitted: Vec<i32>,
    pub owed: rust_decimal::Decimal,
}

impl Facts {
    /// Whether the event a step waits for has happened.
    fn happened(&self, s: &Step) -> bool {
        match s.trigger.as_str() {
            "booked" => self.booking_date.is_some(),
            "contract_signed" => self.contract_signed,
            "invoice_paid" => self.invoice_paid,
            "questionnaire_submitted" => match s.trigger_questionnaire_id {
                Some(t) => self.submitted.contains(&t),
                None => !self.submitted.is_empty(),
            },
            _ => false,
        }
    }
}

/// The events of a project, as one SQL expression set per project row `p`.
const FACTS: &str = "SELECT p.wedding_date, p.booking_date,
        EXISTS (SELECT 1 FROM contracts k JOIN builds b ON b.id = k.build_id
                WHERE b.project_id = p.id AND k.voided_at IS NULL AND k.document_id IS NOT NULL)
            AS contract_signed,
        EXISTS (SELECT 1 FROM invoices i WHERE i.project_id = p.id AND i.status = 'Paid')
            AS invoice_paid,
        ARRAY(SELECT DISTINCT COALESCE(q.template_id, 0) FROM project_questionnaires q
              WHERE q.project_id = p.id AND q.status = 'Submitted') AS submitted,
        (SELECT COALESCE(sum(i.total_amount - COALESCE(i.amount_paid, 0)), 0) FROM invoices i
         WHERE i.project_id = p.id AND i.status IN ('Sent', 'Partially Paid', 'Overdue')) AS owed
    FROM projects p";

pub async fn facts(conn: &mut PgConnection, project: i32) -> AppResult<Facts> {
    sqlx::query_as(&format!("{FACTS} WHERE p.id = $1"))
        .bind(project)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("project {project}")))
}

/// How long after its instant a step still counts as on time when it is (re)scheduled.
const GRACE_MINUTES: i64 = 5;

/// A step's state and instant on a project from what is known now: a timed step is scheduled
/// at its instant, or overdue when that is past; an event step whose event has happened is due
/// now on a fresh booking (the welcome email), else overdue (the studio decides); otherwise it
/// waits.
fn initial(
    s: &Step,
    f: &Facts,
    tz: &str,
    now: DateTime<Utc>,
    fresh: bool,
) -> (&'static str, Option<DateTime<Utc>>) {
    if s.timed() {
        return match s.due_at(f.wedding_date, f.booking_date, tz) {
            Some(at) if at + Duration::minutes(GRACE_MINUTES) >= now => ("scheduled", Some(at)),
            Some(at) => ("overdue", Some(at)),
            None => ("waiting", None),
        };
    }
    match (f.happened(s), fresh) {
        (true, true) => ("scheduled", Some(now)),
        (true, false) => ("overdue", Some(now)),
        (false, _) => ("waiting", None),
    }
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

const FACTS_WITH_ID: &str = "SELECT p.id, p.booking_date,
        EXISTS (SELECT 1 FROM contracts k JOIN builds b ON b.id = k.build_id
                WHERE b.project_id = p.id AND k.voided_at IS NULL AND k.document_id IS NOT NULL)
            AS contract_signed,
        EXISTS (SELECT 1 FROM invoices i WHERE i.project_id = p.id AND i.status = 'Paid')
            AS invoice_paid,
        ARRAY(SELECT DISTINCT COALESCE(q.template_id, 0) FROM project_questionnaires q
              WHERE q.project_id = p.id AND q.status = 'Submitted') AS submitted
    FROM projects p
    WHERE p.id IN (SELECT project_id FROM workflow_step_runs WHERE state = 'waiting')";

/// What one step's run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Approval,
    Skipped,
    Failed,
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
    let (outcome, mails) = execute(tx, settings, studio, clock, id, false).await?;
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
            m.send_and_wait().await;
        }
        match outcome {
            Outcome::Done => out.done += 1,
            Outcome::Approval => out.approval += 1,
            Outcome::Skipped => out.skipped += 1,
            Outcome::Failed => out.failed += 1,
        }
    }
    let reminders = questionnaires::remind(&mut conn, settings, clock).await?;
    out.reminders = reminders.len();
    for m in reminders {
        m.send_and_wait().await;
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct Locked {
    project_id: i32,
    state: String,
    subject: Option<String>,
    body: Option<String>,
    step_id: Option<i32>,
}

async fn lock(tx: &mut PgConnection, id: i32) -> AppResult<Locked> {
    sqlx::query_as(
        "SELECT project_id, state, subject, body, step_id FROM workflow_step_runs
         WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(tx)
    .await?
    .ok_or_else(|| AppError::not_found("workflow step"))
}

async fn finish(
    tx: &mut PgConnection,
    id: i32,
    state: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query("UPDATE workflow_step_runs SET state = $2, reason = $3, ran_at = $4 WHERE id = $1")
        .bind(id)
        .bind(state)
        .bind(reason)
        .bind(now)
        .execute(tx)
        .await?;
    Ok(())
}

/// Run a step (locked in `tx`): its condition checked (false: skipped, with why); one that
/// needs approval and is not `approved` waits for it (its email written out to edit); else its
/// action done (an email, a questionnaire sent, a to-do, a notification) and marked done, or
/// failed with why.
async fn execute(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    id: i32,
    approved: bool,
) -> AppResult<(Outcome, Vec<Outgoing>)> {
    let now = clock.now();
    let r = lock(tx, id).await?;
    let step: Option<Step> = sqlx::query_as(&format!(
        "SELECT {STEP_COLUMNS} FROM workflow_steps s WHERE s.id = $1"
    ))
    .bind(r.step_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(step) = step else {
        finish(
            tx,
            id,
            "skipped",
            "the step was removed from the workflow",
            now,
        )
        .await?;
        return Ok((Outcome::Skipped, vec![]));
    };
    let f = facts(tx, r.project_id).await?;
    if let Some(why) = condition_fails(tx, &step, &f, r.project_id).await? {
        finish(tx, id, "skipped", &why, now).await?;
        return Ok((Outcome::Skipped, vec![]));
    }
    let merge = merge_fields(tx, settings, studio, clock, r.project_id).await?;
    if step.requires_approval && !approved {
        let (subject, body) = (merge.fill(&step.subject), merge.fill(&step.body));
        sqlx::query(
            "UPDATE workflow_step_runs SET state = 'approval', subject = $2, body = $3
             WHERE id = $1",
        )
        .bind(id)
        .bind(subject)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        let to = owners(tx).await?;
        let message = format!("Approval needed: \"{}\" for {}", step.name, merge.project);
        let link = format!("/projects/{}#workflow", r.project_id);
        crate::notify::people(
            tx,
            now,
            &to,
            &vec![message; to.len()],
            &vec![link; to.len()],
        )
        .await?;
        return Ok((Outcome::Approval, vec![]));
    }
    let subject = r.subject.unwrap_or_else(|| merge.fill(&step.subject));
    let body = r.body.unwrap_or_else(|| merge.fill(&step.body));
    let mut mails = vec![];
    let done: Result<String, String> = match step.action.as_str() {
        "email" => match &merge.email {
            Some(email) => {
                mails.push(
                    mail::queue(
                        tx,
                        settings,
                        Mail {
                            to_contact_id: merge.contact_id,
                            to: email.clone(),
                            subject: subject.clone(),
                            body: body.clone(),
                            log_summary: body.clone(),
                        },
                    )
                    .await?,
                );
                Ok(format!("Emailed {email}: \"{subject}\""))
            }
            None => Err("the couple has no email address".into()),
        },
        "questionnaire" => match step.questionnaire_id {
            Some(t) => {
                match questionnaires::send(tx, settings, studio, clock, r.project_id, t, None, None)
                    .await
                {
                    Ok((_, mail)) => {
                        mails.extend(mail);
                        let name: String = sqlx::query_scalar(
                            "SELECT name FROM questionnaire_templates WHERE id = $1",
                        )
                        .bind(t)
                        .fetch_one(&mut *tx)
                        .await?;
                        Ok(format!("Sent the questionnaire \"{name}\""))
                    }
                    Err(e) => Err(format!("the questionnaire could not be sent: {e}")),
                }
            }
            None => Err("the questionnaire was deleted".into()),
        },
        "todo" => {
            let role = step.role.clone().unwrap_or_else(|| "Owner".into());
            let made: Option<String> = sqlx::query_scalar(
                "INSERT INTO activities (assigned_to_contributor_id, project_id, due_date,
                                         activity_type, title, notes)
                 SELECT co.id, $2, $3, 'To-Do', left($4, 255), $5
                 FROM contributors co JOIN roles ro ON ro.id = co.role_id
                 JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
                 WHERE ro.name = $1 ORDER BY co.id LIMIT 1
                 RETURNING (SELECT trim(concat_ws(' ', c.first_name, c.last_name))
                            FROM contacts c JOIN contributors x ON x.contact_id = c.id
                            WHERE x.id = assigned_to_contributor_id)",
            )
            .bind(&role)
            .bind(r.project_id)
            .bind(clock.today(&studio.time_zone))
            .bind(&subject)
            .bind(Some(body.clone()).filter(|b| !b.is_empty()))
            .fetch_optional(&mut *tx)
            .await?;
            match made {
                Some(who) => Ok(format!("To-do for {who}: \"{subject}\"")),
                None => Err(format!("nobody active has the role {role}")),
            }
        }
        _ => {
            let role = step.role.clone().unwrap_or_else(|| "Owner".into());
            let told = sqlx::query(
                "INSERT INTO notifications (recipient_contributor_id, message, link_url, created_at)
                 SELECT co.id, $2, $3, $4 FROM contributors co JOIN roles ro ON ro.id = co.role_id
                 JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
                 WHERE ro.name = $1",
            )
            .bind(&role)
            .bind(&subject)
            .bind(format!("/projects/{}", r.project_id))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if told > 0 {
                Ok(format!("Told the {role}s: \"{subject}\""))
            } else {
                Err(format!("nobody active has the role {role}"))
            }
        }
    };
    match done {
        Ok(what) => {
            sqlx::query(
                "UPDATE workflow_step_runs SET state = 'done', reason = $2, ran_at = $3,
                        subject = $4, body = $5
                 WHERE id = $1",
            )
            .bind(id)
            .bind(what)
            .bind(now)
            .bind(subject)
            .bind(body)
            .execute(&mut *tx)
            .await?;
            Ok((Outcome::Done, mails))
        }
        Err(why) => {
            finish(tx, id, "failed", &why, now).await?;
            Ok((Outcome::Failed, vec![]))
        }
    }
}

async fn owners(tx: &mut PgConnection) -> AppResult<Vec<i32>> {
    Ok(sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN roles r ON r.id = co.role_id
         WHERE r.name IN ('Owner', 'Admin') ORDER BY co.id",
    )
    .fetch_all(tx)
    .await?)
}

/// Why a step's condition is false now (None: it holds).
async fn condition_fails(
    tx: &mut PgConnection,
    s: &Step,
    f: &Facts,
    project: i32,
) -> AppResult<Option<String>> {
    Ok(match s.condition.as_deref() {
        Some("questionnaire_not_submitted") => {
            let t = s.condition_questionnaire_id.unwrap_or(0);
            f.submitted
                .contains(&t)
                .then(|| "the couple has already submitted the questionnaire".to_string())
        }
        Some("balance_due") => (f.owed <= rust_decimal::Decimal::ZERO)
            .then(|| "nothing is owed on the project".to_string()),
        Some("field_equals") => {
            let key = s.condition_field.clone().unwrap_or_default();
            let want = s.condition_value.clone().unwrap_or_default();
            let have = super::fields::value(tx, project, &key).await?;
            let equal = have
                .as_deref()
                .is_some_and(|h| h.trim().eq_ignore_ascii_case(want.trim()));
            (!equal).then(|| {
                format!(
                    "{} is \"{}\", not \"{want}\"",
                    super::fields::label(&key),
                    have.unwrap_or_default()
                )
            })
        }
        _ => None,
    })
}

/// The values an email's merge fields are filled with.
pub struct Merge {
    pub project: String,
    pub contact_id: i32,
    pub email: Option<String>,
    pairs: Vec<(String, String)>,
}

impl Merge {
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (k, v) in &self.pairs {
            out = out.replace(k.as_str(), v);
        }
        out
    }
}

pub async fn merge_fields(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    project: i32,
) -> AppResult<Merge> {
    let c = questionnaires::couple(tx, project).await?;
    let first: String = sqlx::query_scalar(
        "SELECT COALESCE(c.first_name, '') FROM projects p JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id WHERE p.id = $1",
    )
    .bind(project)
    .fetch_one(&mut *tx)
    .await?;
    let name: Option<String> =
        sqlx::query_scalar("SELECT project_name FROM projects WHERE id = $1")
            .bind(project)
            .fetch_one(&mut *tx)
            .await?;
    let fields = super::fields::values(tx, project).await?;
    let today = clock.today(&studio.time_zone);
    let mut pairs = vec![
        ("{couple}".to_string(), c.name.clone()),
        ("{first_name}".to_string(), first),
        (
            "{wedding_date}".to_string(),
            c.wedding_date.format("%B %-d, %Y").to_string(),
        ),
        (
            "{days_to_wedding}".to_string(),
            (c.wedding_date - today).num_days().to_string(),
        ),
        ("{studio}".to_string(), studio.studio_name.clone()),
        (
            "{portal_link}".to_string(),
            format!("{}/portal", settings.base_url()),
        ),
    ];
    for key in ["venue", "ceremony_time", "guest_count"] {
        let v = fields
            .iter()
            .find(|f| f.0 == key)
            .map(|f| f.2.clone())
            .unwrap_or_default();
        pairs.push((format!("{{{key}}}"), v));
    }
    Ok(Merge {
        project: name.unwrap_or_else(|| format!("{}'s wedding", c.name)),
        contact_id: c.contact_id,
        email: c.email,
        pairs,
    })
}

/// Approve a step waiting for approval, with its email as edited (subject and text), and run
/// it now. 409 when it is not waiting for approval. Audited.
#[allow(clippy::too_many_arguments)]
pub async fn approve(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    id: i32,
    edited: Option<(&str, &str)>,
    actor: i32,
) -> AppResult<(Outcome, Vec<Outgoing>)> {
    let r = lock(tx, id).await?;
    if r.state != "approval" {
        return Err(AppError::Conflict(
            "this step is not waiting for approval".into(),
        ));
    }
    if let Some((subject, body)) = edited {
        if subject.trim().is_empty() || subject.contains('\0') || body.contains('\0') {
            return Err(AppError::field("subject", "the email's subject"));
        }
        sqlx::query("UPDATE workflow_step_runs SET subject = $2, body = $3 WHERE id = $1")
            .bind(id)
            .bind(subject.trim())
            .bind(body.trim())
            .execute(&mut *tx)
            .await?;
    }
    let out = execute(tx, settings, studio, clock, id, true).await?;
    crate::audit::record(
        tx,
        Some(actor),
        "workflows.approve",
        "project",
        Some(r.project_id),
        serde_json::json!({ "step": id }),
    )
    .await?;
    Ok(out)
}

/// Run now a step that was past when attached (or failed): the person running it approves it.
pub async fn run_now(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    id: i32,
    actor: i32,
) -> AppResult<(Outcome, Vec<Outgoing>)> {
    let r = lock(tx, id).await?;
    if !matches!(r.state.as_str(), "overdue" | "failed") {
        return Err(AppError::Conflict(
            "only a step past when attached, or failed, is run by hand".into(),
        ));
    }
    let out = execute(tx, settings, studio, clock, id, true).await?;
    crate::audit::record(
        tx,
        Some(actor),
        "workflows.run",
        "project",
        Some(r.project_id),
        serde_json::json!({ "step": id }),
    )
    .await?;
    Ok(out)
}

/// Skip a step that has not run, with the reason given (and who). Audited.
pub async fn skip(
    tx: &mut PgConnection,
    id: i32,
    reason: &str,
    actor: i32,
    who: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let r = lock(tx, id).await?;
    if matches!(r.state.as_str(), "done" | "skipped") {
        return Err(AppError::Conflict(format!(
            "this step is {} already",
            r.state
        )));
    }
    let reason = reason.trim();
    let why = if reason.is_empty() {
        format!("Skipped by {who}")
    } else {
        format!("Skipped by {who}: {reason}")
    };
    finish(tx, id, "skipped", &why, now).await?;
    crate::audit::record(
        tx,
        Some(actor),
        "workflows.skip",
        "project",
        Some(r.project_id),
        serde_json::json!({ "step": id, "reason": reason }),
    )
    .await?;
    Ok(())
}

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
        if !facts_of.contains_key(&row.project_id) {
            let f = facts(tx, row.project_id).await?;
            facts_of.insert(row.project_id, f);
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
