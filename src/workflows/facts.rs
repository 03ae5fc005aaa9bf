//! What has happened on a project, as the workflow steps waiting on an event read it, and a
//! step's state from it (`initial`): shared by attaching, waking, running and re-timing.
use super::steps::Step;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgConnection;

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
pub const FACTS: &str = "SELECT p.wedding_date, p.booking_date,
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
pub const GRACE_MINUTES: i64 = 5;

/// A step's state and instant on a project from what is known now: a timed step is scheduled
/// at its instant, or overdue when that is past; an event step whose event has happened is due
/// now on a fresh booking (the welcome email), else overdue (the studio decides); otherwise it
/// waits.
pub fn initial(
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

pub const FACTS_WITH_ID: &str = "SELECT p.id, p.booking_date,
        EXISTS (SELECT 1 FROM contracts k JOIN builds b ON b.id = k.build_id
                WHERE b.project_id = p.id AND k.voided_at IS NULL AND k.document_id IS NOT NULL)
            AS contract_signed,
        EXISTS (SELECT 1 FROM invoices i WHERE i.project_id = p.id AND i.status = 'Paid')
            AS invoice_paid,
        ARRAY(SELECT DISTINCT COALESCE(q.template_id, 0) FROM project_questionnaires q
              WHERE q.project_id = p.id AND q.status = 'Submitted') AS submitted
    FROM projects p
    WHERE p.id IN (SELECT project_id FROM workflow_step_runs WHERE state = 'waiting')";
