//! Questionnaires as stored: the studio's templates (`questionnaire_templates`, the questions
//! as JSON checked by `questions::check` before every save) and the copies sent to a project
//! (`project_questionnaires`): sent with a due date (fixed, or days before the wedding, moved
//! by a postponement), answered in the portal one answer at a time (saved as the couple goes),
//! submitted once (the required questions that show answered; the mapped answers written to the
//! project's fields in the same transaction), reopened by the studio, reminded before the due
//! day (each reminder once, through the outbox).
use super::fields;
use super::questions::{self, Answers, Question};
use crate::audit;
use crate::clock::Clock;
use crate::config::Settings;
use crate::crm::documents;
use crate::error::{AppError, AppResult};
use crate::mail::{self, Mail, Outgoing};
use crate::studio::Studio;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use sqlx::types::Json;
use utoipa::ToSchema;

/// A template with its questions.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Template {
    pub id: i32,
    pub name: String,
    pub description: Option<String>,
    /// A copy sent without a due date is due this many days before the wedding.
    pub due_days_before_wedding: i32,
    #[schema(value_type = Vec<Question>)]
    pub questions: Json<Vec<Question>>,
    pub updated_at: DateTime<Utc>,
}

const TEMPLATE: &str =
    "SELECT id, name, description, due_days_before_wedding, questions, updated_at
     FROM questionnaire_templates";

/// Every template, by name.
pub async fn templates(conn: &mut PgConnection) -> AppResult<Vec<Template>> {
    Ok(
        sqlx::query_as(&format!("{TEMPLATE} ORDER BY lower(name), id LIMIT 200"))
            .fetch_all(conn)
            .await?,
    )
}

pub async fn template(conn: &mut PgConnection, id: i32) -> AppResult<Template> {
    sqlx::query_as(&format!("{TEMPLATE} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("questionnaire {id}")))
}

/// A template's name, description and default due days, checked.
pub struct Meta<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub due_days_before_wedding: i32,
}

fn check_meta(m: &Meta) -> AppResult<()> {
    let name = m.name.trim();
    if name.is_empty() || m.name.chars().count() > 255 || name.contains('\0') {
        return Err(AppError::field_conflict(
            "name",
            "give the questionnaire a name (up to 255 characters)",
        ));
    }
    if m.description.is_some_and(|d| d.contains('\0')) {
        return Err(AppError::field_conflict(
            "description",
            "a character that cannot be kept",
        ));
    }
    if !(0..=730).contains(&m.due_days_before_wedding) {
        return Err(AppError::field_conflict(
            "due_days_before_wedding",
            "0 to 730 days before the wedding",
        ));
    }
    Ok(())
}

/// A new template (a name no other has: 409 otherwise). Audited.
pub async fn create(
    tx: &mut PgConnection,
    meta: &Meta<'_>,
    questions: &[Question],
    actor: Option<i32>,
) -> AppResult<i32> {
    check_meta(meta)?;
    questions::check(questions, &fields::keys())?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO questionnaire_templates (name, description, due_days_before_wedding, questions)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(meta.name.trim())
    .bind(meta.description.map(str::trim).filter(|d| !d.is_empty()))
    .bind(meta.due_days_before_wedding)
    .bind(Json(questions))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| taken_name(e, meta.name))?;
    audit::record(
        tx,
        actor,
        "questionnaires.create",
        "questionnaire_template",
        Some(id),
        serde_json::json!({ "name": meta.name.trim(), "questions": questions.len() }),
    )
    .await?;
    Ok(id)
}

fn taken_name(e: sqlx::Error, name: &str) -> AppError {
    let unique = e
        .as_database_error()
        .is_some_and(|d| d.code().as_deref() == Some("23505"));
    if unique {
        AppError::field_conflict(
            "name",
            format!("a questionnaire is already called \"{}\"", name.trim()),
        )
    } else {
        e.into()
    }
}

/// Change a template's name, description and default due days. Audited.
pub async fn update_meta(
    tx: &mut PgConnection,
    id: i32,
    meta: &Meta<'_>,
    actor: Option<i32>,
) -> AppResult<()> {
    check_meta(meta)?;
    let done = sqlx::query(
        "UPDATE questionnaire_templates SET name = $2, description = $3,
                due_days_before_wedding = $4, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(meta.name.trim())
    .bind(meta.description.map(str::trim).filter(|d| !d.is_empty()))
    .bind(meta.due_days_before_wedding)
    .execute(&mut *tx)
    .await
    .map_err(|e| taken_name(e, meta.name))?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found(&format!("questionnaire {id}")));
    }
    audit::record(
        tx,
        actor,
        "questionnaires.update",
        "questionnaire_template",
        Some(id),
        serde_json::json!({ "name": meta.name.trim() }),
    )
    .await?;
    Ok(())
}

/// A template's questions, locked for a change.
pub async fn lock_questions(tx: &mut PgConnection, id: i32) -> AppResult<Vec<Question>> {
    let found: Option<Json<Vec<Question>>> = sqlx::query_scalar(
        "SELECT questions FROM questionnaire_templates WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(tx)
    .await?;
    Ok(found
        .ok_or_else(|| AppError::not_found(&format!("questionnaire {id}")))?
        .0)
}

/// Save a template's questions (checked). Audited with what changed in words.
pub async fn save_questions(
    tx: &mut PgConnection,
    id: i32,
    questions: &[Question],
    change: &str,
    actor: Option<i32>,
) -> AppResult<()> {
    questions::check(questions, &fields::keys())?;
    sqlx::query(
        "UPDATE questionnaire_templates SET questions = $2, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(Json(questions))
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        actor,
        "questionnaires.questions",
        "questionnaire_template",
        Some(id),
        serde_json::json!({ "change": change, "questions": questions.len() }),
    )
    .await?;
    Ok(())
}

/// A questionnaire sent to a project.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Sent {
    pub id: i32,
    pub project_id: i32,
    pub template_id: Option<i32>,
    pub title: String,
    /// The questions as they were when it was sent.
    #[schema(value_type = Vec<Question>)]
    pub questions: Json<Vec<Question>>,
    /// Answers by question id: a text, a list of texts (multiple choice), or a file's
    /// `{document, name}`. Answers to questions hidden by their condition are kept but count
    /// for nothing.
    #[schema(value_type = Object)]
    pub answers: Json<Answers>,
    pub due_date: NaiveDate,
    /// Due this many days before the wedding (moves with a postponement); null: a fixed day.
    pub due_days_before_wedding: Option<i32>,
    /// Sent or Submitted.
    pub status: String,
    pub sent_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl Sent {
    pub fn submitted(&self) -> bool {
        self.status == "Submitted"
    }

    /// (question, answer in words) for the questions that show and have an answer.
    pub fn answered(&self) -> Vec<(Question, String)> {
        questions::effective(&self.questions, &self.answers)
            .into_iter()
            .map(|(q, a)| (q, questions::text(&a)))
            .collect()
    }
}

const SENT: &str = "SELECT q.id, q.project_id, q.template_id, q.title, q.questions, q.answers,
        q.due_date, q.due_days_before_wedding, q.status, q.sent_at, q.updated_at, q.submitted_at
    FROM project_questionnaires q";

/// A project's questionnaires, newest first.
pub async fn of_project(conn: &mut PgConnection, project: i32) -> AppResult<Vec<Sent>> {
    Ok(sqlx::query_as(&format!(
        "{SENT} WHERE q.project_id = $1 ORDER BY q.id DESC LIMIT 100"
    ))
    .bind(project)
    .fetch_all(conn)
    .await?)
}

/// A couple's questionnaires (their client's projects), open ones first.
pub async fn for_client(conn: &mut PgConnection, client: i32) -> AppResult<Vec<Sent>> {
    Ok(sqlx::query_as(&format!(
        "{SENT} JOIN projects p ON p.id = q.project_id WHERE p.client_id = $1
         ORDER BY q.status = 'Submitted', q.due_date, q.id LIMIT 100"
    ))
    .bind(client)
    .fetch_all(conn)
    .await?)
}

/// One questionnaire: the couple's own (`client`; 404 otherwise) or any (`None`, staff); with
/// `lock`, locked for a change.
pub async fn one(
    conn: &mut PgConnection,
    client: Option<i32>,
    id: i32,
    lock: bool,
) -> AppResult<Sent> {
    let sql = format!(
        "{SENT} JOIN projects p ON p.id = q.project_id
         WHERE q.id = $1 AND ($2::int IS NULL OR p.client_id = $2){}",
        if lock { " FOR UPDATE OF q" } else { "" }
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(client)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("questionnaire"))
}

/// The couple of a project, as an email goes to them.
#[derive(sqlx::FromRow)]
pub struct Couple {
    pub contact_id: i32,
    pub email: Option<String>,
    pub name: String,
    pub wedding_date: NaiveDate,
}

pub async fn couple(conn: &mut PgConnection, project: i32) -> AppResult<Couple> {
    sqlx::query_as(
        "SELECT c.id AS contact_id, c.email, trim(concat_ws(' ', c.first_name, c.last_name)) AS name,
                p.wedding_date
         FROM projects p JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id WHERE p.id = $1",
    )
    .bind(project)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("project {project}")))
}

/// When a sent questionnaire is due.
#[derive(Debug, Clone, Copy)]
pub enum Due {
    /// On this day.
    On(NaiveDate),
    /// This many days before the wedding (moves with it).
    BeforeWedding(i32),
}

/// Send a template to a project: its questions copied, due as said (never before today), the
/// couple emailed a link to their portal (in the outbox, sent after the commit). Audited.
#[allow(clippy::too_many_arguments)]
pub async fn send(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    project: i32,
    template_id: i32,
    due: Option<Due>,
    actor: Option<i32>,
) -> AppResult<(i32, Option<Outgoing>)> {
    let t = template(tx, template_id)
        .await
        .map_err(|_| AppError::unknown_ref("template_id", "there is no such questionnaire"))?;
    let couple = couple(tx, project).await?;
    let today = clock.today(&studio.time_zone);
    let due = due.unwrap_or(Due::BeforeWedding(t.due_days_before_wedding));
    let (due_date, days) = match due {
        Due::On(d) => (d, None),
        Due::BeforeWedding(n) => {
            if !(0..=730).contains(&n) {
                return Err(AppError::field_conflict(
                    "due_days_before_wedding",
                    "0 to 730 days before the wedding",
                ));
            }
            (days_before(couple.wedding_date, n), Some(n))
        }
    };
    if due_date < today {
        return Err(AppError::field_conflict(
            "due_date",
            "the due date is today or later",
        ));
    }
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO project_questionnaires (project_id, template_id, title, questions, due_date,
                                             due_days_before_wedding, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(project)
    .bind(t.id)
    .bind(&t.name)
    .bind(&t.questions)
    .bind(due_date)
    .bind(days)
    .bind(clock.now())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        tx,
        actor,
        "questionnaires.send",
        "project",
        Some(project),
        serde_json::json!({ "questionnaire": id, "title": t.name, "due": due_date }),
    )
    .await?;
    let outgoing = match &couple.email {
        Some(email) => {
            let link = format!("{}/portal/questionnaires/{id}", settings.base_url());
            let body = format!(
                "Dear {},\n\nPlease fill in \"{}\" by {}: it helps us film your day as you \
                 imagine it. Your answers are saved as you go; send them when you are done.\n\n\
                 {link}\n\nThank you,\n{}",
                couple.name,
                t.name,
                due_date.format("%B %-d, %Y"),
                studio.studio_name
            );
            Some(
                mail::queue(
                    tx,
                    settings,
                    Mail {
                        to_contact_id: couple.contact_id,
                        to: email.clone(),
                        subject: format!("{}: {}", studio.studio_name, t.name),
                        body: body.clone(),
                        log_summary: body,
                    },
                )
                .await?,
            )
        }
        None => None,
    };
    Ok((id, outgoing))
}

/// `n` days before `day` (the day itself when out of range).
pub fn days_before(day: NaiveDate, n: i32) -> NaiveDate {
    day.checked_sub_days(Days::new(n.max(0) as u64))
        .unwrap_or(day)
}

fn refuse_if_submitted(s: &Sent) -> AppResult<()> {
    if s.submitted() {
        return Err(AppError::Conflict(
            "this questionnaire was sent to the studio; ask them to reopen it to change an answer"
                .into(),
        ));
    }
    Ok(())
}

/// Save one answer (the couple's own questionnaire, not yet submitted): checked by the
/// question's kind, cleared when empty. Returns the questionnaire as saved.
pub async fn answer(
    tx: &mut PgConnection,
    client: Option<i32>,
    id: i32,
    question: i32,
    values: &[String],
    now: DateTime<Utc>,
) -> AppResult<Sent> {
    let mut s = one(tx, client, id, true).await?;
    refuse_if_submitted(&s)?;
    let q = s
        .questions
        .iter()
        .find(|q| q.id == question && q.kind.asks() && q.kind != questions::Kind::File)
        .ok_or_else(|| AppError::not_found("question"))?;
    let key = question.to_string();
    match questions::parse_answer(q, values)? {
        Some(v) => s.answers.insert(key, v),
        None => s.answers.remove(&key),
    };
    sqlx::query("UPDATE project_questionnaires SET answers = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(&s.answers)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    s.updated_at = Some(now);
    Ok(s)
}

/// A file answer: kept under `data_dir/uploads` as one of the project's documents (which the
/// couple and the studio can open), the answer naming it. The caller keeps the file after the
/// commit (`StoredFile::keep`), else it is removed.
#[allow(clippy::too_many_arguments)]
pub async fn answer_file(
    tx: &mut PgConnection,
    data_dir: &std::path::Path,
    client: Option<i32>,
    id: i32,
    question: i32,
    name: &str,
    data: &[u8],
    now: DateTime<Utc>,
) -> AppResult<documents::StoredFile> {
    let mut s = one(tx, client, id, true).await?;
    refuse_if_submitted(&s)?;
    s.questions
        .iter()
        .find(|q| q.id == question && q.kind == questions::Kind::File)
        .ok_or_else(|| AppError::not_found("question"))?;
    if data.is_empty() {
        return Err(AppError::field("file", "choose a file to upload"));
    }
    let safe = documents::safe_name(name);
    let (key, file) = documents::write_upload(data_dir, name, data).await?;
    let document: i32 = sqlx::query_scalar(
        "INSERT INTO documents (project_id, file_name, file_path, document_type)
         VALUES ($1, $2, $3, 'Questionnaire') RETURNING id",
    )
    .bind(s.project_id)
    .bind(&safe)
    .bind(key)
    .fetch_one(&mut *tx)
    .await?;
    s.answers.insert(
        question.to_string(),
        serde_json::json!({ "document": document, "name": safe }),
    );
    sqlx::query("UPDATE project_questionnaires SET answers = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(&s.answers)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    Ok(file)
}

/// Submit: once (409 after), every required question that shows answered (422 naming each
/// `q<id>` otherwise); the answers of mapped questions that show fill in the project's fields
/// in the same transaction; the studio is told in its inbox. Returns the fields filled in.
pub async fn submit(
    tx: &mut PgConnection,
    client: Option<i32>,
    id: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<(String, String)>> {
    let s = one(tx, client, id, true).await?;
    refuse_if_submitted(&s)?;
    questions::check_submission(&s.questions, &s.answers)?;
    let mapped: Vec<(String, String)> = s
        .answered()
        .into_iter()
        .filter_map(|(q, a)| q.maps_to.map(|m| (m, a)))
        .collect();
    fields::set(tx, s.project_id, &mapped, now).await?;
    sqlx::query(
        "UPDATE project_questionnaires SET status = 'Submitted', submitted_at = $2, updated_at = $2
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let couple = couple(tx, s.project_id).await?;
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message, link_url, created_at)
         SELECT co.id, $1, $2, $3 FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         WHERE r.name IN ('Owner', 'Admin', 'Sales')",
    )
    .bind(format!("{} sent \"{}\"", couple.name, s.title))
    .bind(format!("/projects/{}#questionnaires", s.project_id))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        None,
        "questionnaires.submit",
        "project",
        Some(s.project_id),
        serde_json::json!({ "questionnaire": id, "fields": mapped }),
    )
    .await?;
    Ok(mapped)
}

/// The studio opens a submitted questionnaire again for the couple to change (409 when it is
/// open). Audited.
pub async fn reopen(tx: &mut PgConnection, id: i32, actor: i32) -> AppResult<Sent> {
    let s = one(tx, None, id, true).await?;
    if !s.submitted() {
        return Err(AppError::Conflict(
            "this questionnaire is open already".into(),
        ));
    }
    sqlx::query(
        "UPDATE project_questionnaires SET status = 'Sent', submitted_at = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        Some(actor),
        "questionnaires.reopen",
        "project",
        Some(s.project_id),
        serde_json::json!({ "questionnaire": id, "title": s.title }),
    )
    .await?;
    one(tx, None, id, false).await
}

/// A postponement: the open questionnaires due a number of days before the wedding follow it.
pub async fn follow_wedding(
    tx: &mut PgConnection,
    project: i32,
    wedding: NaiveDate,
) -> AppResult<u64> {
    Ok(sqlx::query(
        "UPDATE project_questionnaires SET due_date = $2::date - due_days_before_wedding
         WHERE project_id = $1 AND due_days_before_wedding IS NOT NULL AND status = 'Sent'",
    )
    .bind(project)
    .bind(wedding)
    .execute(tx)
    .await?
    .rows_affected())
}
