//! Workflow templates and their steps as stored (`workflow_templates`, `workflow_steps`), and a
//! step's rules in words and times: its due instant on a project (`Step::due_at`, through
//! `timing`), what it waits for, its condition and its action as people read them.
use super::timing::{self, Unit};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

pub const TRIGGERS: &[(&str, &str)] = &[
    ("booked", "When the wedding is booked"),
    ("contract_signed", "When everyone has signed the contract"),
    ("invoice_paid", "When an invoice is paid"),
    (
        "questionnaire_submitted",
        "When the couple submits a questionnaire",
    ),
    ("wedding_date", "A time before or after the wedding date"),
    ("booking_date", "A time after the booking date"),
];

pub const CONDITIONS: &[(&str, &str)] = &[
    ("", "Always"),
    (
        "questionnaire_not_submitted",
        "Only if a questionnaire is not yet submitted",
    ),
    ("balance_due", "Only if a balance is still due"),
    ("field_equals", "Only if a project field equals a value"),
];

pub const ACTIONS: &[(&str, &str)] = &[
    ("email", "Send an email to the couple"),
    ("questionnaire", "Send a questionnaire"),
    ("todo", "Create a to-do"),
    ("notify", "Notify the team"),
];

/// The merge fields an email's subject and body may hold.
pub const MERGE_FIELDS: &[&str] = &[
    "{couple}",
    "{first_name}",
    "{wedding_date}",
    "{days_to_wedding}",
    "{studio}",
    "{portal_link}",
    "{venue}",
    "{ceremony_time}",
    "{guest_count}",
];

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Workflow {
    pub id: i32,
    pub name: String,
    pub description: Option<String>,
    /// `all`: every booked project; `deliverable`: the booked projects whose quote includes
    /// the film `deliverable_id` (the studio's "package").
    pub scope: String,
    pub deliverable_id: Option<i32>,
    pub deliverable: Option<String>,
    pub active: bool,
    pub steps: i64,
    pub running: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Step {
    pub id: i32,
    pub workflow_id: i32,
    pub position: i32,
    pub name: String,
    pub trigger: String,
    pub offset_amount: i32,
    pub offset_unit: String,
    pub direction: String,
    #[schema(value_type = String)]
    pub at_time: NaiveTime,
    pub trigger_questionnaire_id: Option<i32>,
    pub condition: Option<String>,
    pub condition_questionnaire_id: Option<i32>,
    pub condition_field: Option<String>,
    pub condition_value: Option<String>,
    pub action: String,
    pub subject: String,
    pub body: String,
    pub questionnaire_id: Option<i32>,
    pub role: Option<String>,
    pub requires_approval: bool,
}

pub const STEP_COLUMNS: &str = "s.id, s.workflow_id, s.position, s.name, s.trigger,
    s.offset_amount, s.offset_unit, s.direction, s.at_time, s.trigger_questionnaire_id,
    s.condition, s.condition_questionnaire_id, s.condition_field, s.condition_value, s.action,
    s.subject, s.body, s.questionnaire_id, s.role, s.requires_approval";

impl Step {
    /// At a time relative to a date (else on an event).
    pub fn timed(&self) -> bool {
        matches!(self.trigger.as_str(), "wedding_date" | "booking_date")
    }

    /// The instant a timed step is due on a project (None for an event, or a booking date
    /// unknown).
    pub fn due_at(
        &self,
        wedding: NaiveDate,
        booking: Option<NaiveDate>,
        time_zone: &str,
    ) -> Option<DateTime<Utc>> {
        let anchor = match self.trigger.as_str() {
            "wedding_date" => wedding,
            "booking_date" => booking?,
            _ => return None,
        };
        let unit = Unit::parse(&self.offset_unit).unwrap_or(Unit::Days);
        Some(timing::due(
            anchor,
            self.offset_amount,
            unit,
            self.direction == "before",
            self.at_time,
            time_zone,
        ))
    }

    /// When it runs, in words: "3 months before the wedding at 09:00".
    pub fn when(&self) -> String {
        if !self.timed() {
            return TRIGGERS
                .iter()
                .find(|t| t.0 == self.trigger)
                .map_or(self.trigger.clone(), |t| t.1.to_string());
        }
        let anchor = if self.trigger == "wedding_date" {
            "the wedding"
        } else {
            "booking"
        };
        let unit = self.offset_unit.trim_end_matches('s');
        let amount = if self.offset_amount == 0 {
            format!("On the day of {anchor}")
        } else {
            format!(
                "{} {unit}{} {} {anchor}",
                self.offset_amount,
                if self.offset_amount == 1 { "" } else { "s" },
                self.direction
            )
        };
        format!("{amount} at {}", self.at_time.format("%H:%M"))
    }

    /// What it does, in words.
    pub fn what(&self) -> String {
        let action = ACTIONS
            .iter()
            .find(|a| a.0 == self.action)
            .map_or(self.action.as_str(), |a| a.1);
        let approval = if self.requires_approval {
            " (after approval)"
        } else {
            ""
        };
        format!("{action}{approval}")
    }
}

/// Every workflow, by name, with its step count and the projects it runs on.
pub async fn workflows(conn: &mut PgConnection) -> AppResult<Vec<Workflow>> {
    Ok(sqlx::query_as(&format!(
        "{WORKFLOW} ORDER BY lower(w.name), w.id LIMIT 200"
    ))
    .fetch_all(conn)
    .await?)
}

const WORKFLOW: &str = "SELECT w.id, w.name, w.description, w.scope, w.deliverable_id,
        d.name AS deliverable, w.active,
        (SELECT count(*) FROM workflow_steps s WHERE s.workflow_id = w.id) AS steps,
        (SELECT count(*) FROM project_workflows pw WHERE pw.workflow_id = w.id) AS running
    FROM workflow_templates w LEFT JOIN deliverables d ON d.id = w.deliverable_id";

pub async fn workflow(conn: &mut PgConnection, id: i32) -> AppResult<Workflow> {
    sqlx::query_as(&format!("{WORKFLOW} WHERE w.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("workflow {id}")))
}

/// A workflow's steps in order.
pub async fn steps(conn: &mut PgConnection, workflow: i32) -> AppResult<Vec<Step>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {STEP_COLUMNS} FROM workflow_steps s WHERE s.workflow_id = $1
         ORDER BY s.position, s.id"
    ))
    .bind(workflow)
    .fetch_all(conn)
    .await?)
}

/// A workflow's name, trimmed, or why it cannot be one.
fn checked_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 || name.contains('\0') {
        return Err(AppError::field(
            "name",
            "give the workflow a name (up to 255 characters)",
        ));
    }
    Ok(name)
}

/// A unique violation on the name said by the field.
fn taken(e: sqlx::Error, name: &str) -> AppError {
    if e.as_database_error()
        .is_some_and(|d| d.code().as_deref() == Some("23505"))
    {
        AppError::field_conflict("name", format!("a workflow is already called \"{name}\""))
    } else {
        e.into()
    }
}

/// Rename a workflow (the projects' timelines show the new name).
pub async fn rename(tx: &mut PgConnection, id: i32, name: &str) -> AppResult<()> {
    let name = checked_name(name)?;
    let done =
        sqlx::query("UPDATE workflow_templates SET name = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(|e| taken(e, name))?;
    match done.rows_affected() {
        0 => Err(AppError::not_found("workflow")),
        _ => Ok(()),
    }
}

/// Pause (false) or resume (true) a workflow. A paused workflow joins no newly booked project;
/// the projects it already runs on go on with their steps (stopping them would leave steps
/// whose time passed meanwhile to fire late or be lost: the studio skips one on the project
/// page instead).
pub async fn set_active(tx: &mut PgConnection, id: i32, active: bool) -> AppResult<()> {
    let done =
        sqlx::query("UPDATE workflow_templates SET active = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(active)
            .execute(&mut *tx)
            .await?;
    match done.rows_affected() {
        0 => Err(AppError::not_found("workflow")),
        _ => Ok(()),
    }
}

/// Delete a workflow that has never joined a project. One that has (running or finished) is
/// refused, so no project's timeline loses what ran: pause it instead.
pub async fn delete(tx: &mut PgConnection, id: i32) -> AppResult<()> {
    let w: Option<(i64,)> = sqlx::query_as(
        "SELECT (SELECT count(*) FROM project_workflows pw WHERE pw.workflow_id = w.id)
         FROM workflow_templates w WHERE w.id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((projects,)) = w else {
        return Err(AppError::not_found("workflow"));
    };
    if projects > 0 {
        return Err(AppError::Conflict(format!(
            "this workflow has joined {projects} project{}: pause it instead (it joins no new \
             booking; the projects' timelines stay)",
            if projects == 1 { "" } else { "s" }
        )));
    }
    sqlx::query("DELETE FROM workflow_templates WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A new workflow (no steps yet): for every booked project, or for those whose quote includes
/// the film `deliverable`.
pub async fn create(
    tx: &mut PgConnection,
    name: &str,
    description: Option<&str>,
    deliverable: Option<i32>,
    actor: Option<i32>,
) -> AppResult<i32> {
    let name = checked_name(name)?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO workflow_templates (name, description, scope, deliverable_id)
         VALUES ($1, $2, CASE WHEN $3::int IS NULL THEN 'all' ELSE 'deliverable' END, $3)
         RETURNING id",
    )
    .bind(name)
    .bind(description.map(str::trim).filter(|d| !d.is_empty()))
    .bind(deliverable)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| taken(e, name))?;
    crate::audit::record(
        tx,
        actor,
        "workflows.create",
        "workflow",
        Some(id),
        serde_json::json!({ "name": name }),
    )
    .await?;
    Ok(id)
}

/// A step as the form (or the demo) says it, checked.
#[derive(Debug, Clone, Default)]
pub struct StepIn {
    pub name: String,
    pub trigger: String,
    pub offset_amount: i32,
    pub offset_unit: String,
    pub direction: String,
    pub at_time: String,
    pub trigger_questionnaire_id: Option<i32>,
    pub condition: String,
    pub condition_questionnaire_id: Option<i32>,
    pub condition_field: String,
    pub condition_value: String,
    pub action: String,
    pub subject: String,
    pub body: String,
    pub questionnaire_id: Option<i32>,
    pub role: String,
    pub requires_approval: bool,
}

fn one_of(field: &str, value: &str, allowed: &[(&str, &str)]) -> AppResult<()> {
    if allowed.iter().any(|a| a.0 == value) {
        Ok(())
    } else {
        Err(AppError::field(
            field,
            format!(
                "one of: {}",
                allowed.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
            ),
        ))
    }
}

impl StepIn {
    pub fn check(&self) -> AppResult<NaiveTime> {
        if self.name.trim().is_empty() || self.name.chars().count() > 255 {
            return Err(AppError::field(
                "name",
                "name the step (up to 255 characters)",
            ));
        }
        one_of("trigger", &self.trigger, TRIGGERS)?;
        one_of("condition", &self.condition, CONDITIONS)?;
        one_of("action", &self.action, ACTIONS)?;
        if !(0..=120).contains(&self.offset_amount) {
            return Err(AppError::field("offset_amount", "0 to 120"));
        }
        if Unit::parse(&self.offset_unit).is_none() {
            return Err(AppError::field("offset_unit", "days, weeks or months"));
        }
        if !matches!(self.direction.as_str(), "before" | "after") {
            return Err(AppError::field("direction", "before or after"));
        }
        if self.trigger == "booking_date" && self.direction == "before" && self.offset_amount > 0 {
            return Err(AppError::field(
                "direction",
                "a step counted from the booking runs after it",
            ));
        }
        let at = NaiveTime::parse_from_str(self.at_time.trim(), "%H:%M")
            .map_err(|_| AppError::field("at_time", "a time of day as HH:MM, e.g. 09:00"))?;
        if self.condition == "questionnaire_not_submitted"
            && self.condition_questionnaire_id.is_none()
        {
            return Err(AppError::field(
                "condition_questionnaire_id",
                "which questionnaire",
            ));
        }
        if self.condition == "field_equals"
            && !super::fields::keys().contains(&self.condition_field.as_str())
        {
            return Err(AppError::field("condition_field", "which project field"));
        }
        if self.action == "email" && (self.subject.trim().is_empty() || self.body.trim().is_empty())
        {
            return Err(AppError::field("subject", "the email's subject and text"));
        }
        if self.action == "questionnaire" && self.questionnaire_id.is_none() {
            return Err(AppError::field("questionnaire_id", "which questionnaire"));
        }
        if matches!(self.action.as_str(), "todo" | "notify") && self.subject.trim().is_empty() {
            return Err(AppError::field(
                "subject",
                "what the to-do or the message says",
            ));
        }
        Ok(at)
    }
}

/// Add a step at the end, or change the step `id`; returns its id.
pub async fn save_step(
    tx: &mut PgConnection,
    workflow: i32,
    id: Option<i32>,
    s: &StepIn,
) -> AppResult<i32> {
    let at = s.check()?;
    let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let sql = match id {
        None => {
            "INSERT INTO workflow_steps (workflow_id, position, name, trigger, offset_amount,
                 offset_unit, direction, at_time, trigger_questionnaire_id, condition,
                 condition_questionnaire_id, condition_field, condition_value, action, subject,
                 body, questionnaire_id, role, requires_approval)
             SELECT $1, COALESCE(max(position), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                    $12, $13, $14, $15, $16, $17, $18, $19
             FROM workflow_steps WHERE workflow_id = $1
             RETURNING id"
        }
        Some(_) => {
            "UPDATE workflow_steps SET name = $3, trigger = $4, offset_amount = $5,
                 offset_unit = $6, direction = $7, at_time = $8, trigger_questionnaire_id = $9,
                 condition = $10, condition_questionnaire_id = $11, condition_field = $12,
                 condition_value = $13, action = $14, subject = $15, body = $16,
                 questionnaire_id = $17, role = $18, requires_approval = $19
             WHERE workflow_id = $1 AND id = $2 RETURNING id"
        }
    };
    let saved: Option<i32> = sqlx::query_scalar(sql)
        .bind(workflow)
        .bind(id)
        .bind(s.name.trim())
        .bind(&s.trigger)
        .bind(s.offset_amount)
        .bind(&s.offset_unit)
        .bind(&s.direction)
        .bind(at)
        .bind(s.trigger_questionnaire_id)
        .bind(opt(&s.condition))
        .bind(s.condition_questionnaire_id)
        .bind(opt(&s.condition_field))
        .bind(opt(&s.condition_value))
        .bind(&s.action)
        .bind(s.subject.trim())
        .bind(s.body.trim())
        .bind(s.questionnaire_id)
        .bind(opt(&s.role))
        .bind(s.requires_approval)
        .fetch_optional(&mut *tx)
        .await?;
    saved.ok_or_else(|| AppError::not_found("step"))
}

/// Move a step one place up (earlier) or down in its workflow's order, swapping it with its
/// neighbour (the positions' uniqueness is checked at the commit). A step already first (or
/// last) stays. Only the order changes: no step's time moves.
pub async fn move_step(tx: &mut PgConnection, workflow: i32, id: i32, up: bool) -> AppResult<()> {
    let done = sqlx::query(
        "WITH me AS (
             SELECT position FROM workflow_steps WHERE workflow_id = $1 AND id = $2 FOR UPDATE),
         other AS (
             SELECT s.id, s.position FROM workflow_steps s, me
             WHERE s.workflow_id = $1
               AND CASE WHEN $3 THEN s.position < me.position ELSE s.position > me.position END
             ORDER BY CASE WHEN $3 THEN -s.position ELSE s.position END LIMIT 1 FOR UPDATE)
         UPDATE workflow_steps w
         SET position = CASE WHEN w.id = $2 THEN other.position ELSE me.position END
         FROM me, other
         WHERE w.workflow_id = $1 AND w.id IN ($2, other.id)",
    )
    .bind(workflow)
    .bind(id)
    .bind(up)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        let known: Option<i32> =
            sqlx::query_scalar("SELECT id FROM workflow_steps WHERE workflow_id = $1 AND id = $2")
                .bind(workflow)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        known.ok_or_else(|| AppError::not_found("step"))?;
    }
    Ok(())
}

/// Remove a step from its workflow.
pub async fn remove_step(tx: &mut PgConnection, workflow: i32, id: i32) -> AppResult<()> {
    let done = sqlx::query("DELETE FROM workflow_steps WHERE workflow_id = $1 AND id = $2")
        .bind(workflow)
        .bind(id)
        .execute(tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("step"));
    }
    Ok(())
}
