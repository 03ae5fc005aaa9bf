//! Running one step on one project (locked in the caller's transaction): its condition
//! checked (false: skipped, saying why), held for approval when it needs it (its email written
//! out to edit), else its action done: an email to the couple through the outbox, a
//! questionnaire sent, a to-do, a notification; done or failed with why. And the studio's hand
//! on a step: approve (with the email edited), run now, skip.
use super::facts::{Facts, facts};
use super::questionnaires;
use super::steps::{STEP_COLUMNS, Step};
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::mail::{self, Mail, Outgoing};
use crate::studio::Studio;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// What one step's run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Approval,
    Skipped,
    Failed,
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
pub async fn execute(
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
