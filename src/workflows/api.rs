//! The JSON API of questionnaires and workflows: questionnaire templates (list, one, create
//! with their questions), a project's questionnaires with their answers (and sending one), a
//! project's workflow timeline, and the project fields an answer can fill in.
use super::engine::{self, Run};
use super::fields;
use super::questionnaires::{self, Due, Meta, Sent, Template};
use super::questions::Question;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::AppError;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, AppResult, AppState};
use crate::studio::Studio;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::ProjectsView);
    let settings = Access::Perm(Permission::SettingsManage);
    let bookings = Access::Perm(Permission::BookingsManage);
    Routes::new()
        .api(view, routes!(list_templates))
        .api(settings, routes!(create_template))
        .api(view, routes!(one_template))
        .api(view, routes!(project_questionnaires))
        .api(bookings, routes!(send_questionnaire))
        .api(view, routes!(project_workflow))
        .api(view, routes!(project_fields))
}

/// Every questionnaire template with its questions, by name.
#[utoipa::path(get, path = "/api/v1/questionnaire-templates", tag = "questionnaires",
    responses((status = 200, body = Vec<Template>)))]
async fn list_templates(mut db: Db) -> AppResult<Json<Vec<Template>>> {
    Ok(Json(questionnaires::templates(&mut db).await?))
}

/// One questionnaire template with its questions.
#[utoipa::path(get, path = "/api/v1/questionnaire-templates/{id}", tag = "questionnaires",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = Template),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn one_template(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<Template>> {
    Ok(Json(questionnaires::template(&mut db, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct TemplateIn {
    /// A name no other questionnaire has.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    /// A copy sent without a due date is due this many days before the wedding (default 30).
    #[serde(default, deserialize_with = "crate::http::json::opt_int")]
    #[schema(minimum = 0, maximum = 730)]
    pub due_days_before_wedding: Option<i32>,
    /// The questions in order. Ids unique; a condition names an earlier question (and, for a
    /// choice, one of its choices); `maps_to` one of `GET /api/v1/project-fields`. A list
    /// that breaks one of these is a 409 naming `questions[i].field`.
    #[schema(max_items = 200)]
    pub questions: Vec<Question>,
}

/// What the schema itself refuses (422, by the field): lengths, ranges, NUL, the field key's
/// shape. What it lets through but the questionnaire's rules refuse is a 409 (`questions::check`).
fn schema_check(t: &TemplateIn) -> AppResult<()> {
    let fits = |s: &str, max: usize, words: bool| {
        !s.contains('\0') && s.chars().count() <= max && (!words || !s.trim().is_empty())
    };
    let bad = |field: String, message: &str| Err(AppError::field(&field, message));
    if !fits(&t.name, 255, true) {
        return bad("name".into(), "a name of 1 to 255 characters");
    }
    if t.description.as_deref().is_some_and(|d| d.contains('\0')) {
        return bad("description".into(), "text without NUL");
    }
    if t.due_days_before_wedding
        .is_some_and(|d| !(0..=730).contains(&d))
    {
        return bad("due_days_before_wedding".into(), "0 to 730 days");
    }
    if t.questions.len() > 200 {
        return bad("questions".into(), "at most 200 questions");
    }
    for (i, q) in t.questions.iter().enumerate() {
        let at = |what: &str| format!("questions[{i}].{what}");
        if !(1..=100_000).contains(&q.id) {
            return bad(at("id"), "an id from 1 to 100000");
        }
        if !fits(&q.label, 500, true) {
            return bad(at("label"), "1 to 500 characters");
        }
        if !fits(&q.help, 1000, false) {
            return bad(at("help"), "up to 1000 characters");
        }
        if q.options.len() > 50 {
            return bad(at("options"), "at most 50 choices");
        }
        if q.show_if
            .as_ref()
            .is_some_and(|s| !fits(&s.value, 500, false))
        {
            return bad(at("show_if"), "a value of up to 500 characters");
        }
        let key_ok =
            |m: &String| m.len() <= 64 && m.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if q.maps_to.as_ref().is_some_and(|m| !key_ok(m)) {
            return bad(at("maps_to"), "a field key (a-z and _)");
        }
    }
    Ok(())
}

/// Create a questionnaire template with its questions (short text, long text, number, date,
/// time, single and multiple choice, file upload, section heading; required; conditional on
/// an earlier answer; mapped to a project field).
#[utoipa::path(post, path = "/api/v1/questionnaire-templates", tag = "questionnaires",
    request_body = TemplateIn,
    responses(
        (status = 201, body = Template),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn create_template(
    mut db: Db,
    staff: Staff,
    ApiJson(t): ApiJson<TemplateIn>,
) -> AppResult<(StatusCode, Json<Template>)> {
    schema_check(&t)?;
    let meta = Meta {
        name: &t.name,
        description: t.description.as_deref(),
        due_days_before_wedding: t.due_days_before_wedding.unwrap_or(30),
    };
    let made = crate::db::transaction(&mut db, async |tx| {
        let id =
            questionnaires::create(tx, &meta, &t.questions, Some(staff.contributor_id)).await?;
        questionnaires::template(tx, id).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

async fn project_exists(conn: &mut PgConnection, id: i32) -> AppResult<()> {
    let found: Option<i32> = sqlx::query_scalar("SELECT id FROM projects WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| AppError::not_found(&format!("project {id}")))
}

/// A project's questionnaires, newest first, with their answers (those to questions hidden by
/// their condition are kept but count for nothing).
#[utoipa::path(get, path = "/api/v1/projects/{id}/questionnaires", tag = "questionnaires",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = Vec<Sent>),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn project_questionnaires(
    mut db: Db,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Json<Vec<Sent>>> {
    project_exists(&mut db, id).await?;
    Ok(Json(questionnaires::of_project(&mut db, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SendIn {
    #[serde(deserialize_with = "crate::http::json::int")]
    pub template_id: i32,
    /// Due on this day (today or later); absent: the template's days before the wedding.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date,
        pattern = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub due_date: Option<String>,
}

/// Send a questionnaire to the couple of a project (their portal; an email with the link).
#[utoipa::path(post, path = "/api/v1/projects/{id}/questionnaires", tag = "questionnaires",
    params(("id" = i32, Path)),
    request_body = SendIn,
    responses(
        (status = 201, body = Sent),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn send_questionnaire(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(s): ApiJson<SendIn>,
) -> AppResult<(StatusCode, Json<Sent>)> {
    project_exists(&mut db, id).await?;
    let due = match s.due_date.as_deref() {
        None => None,
        Some(d) => Some(Due::On(
            crate::dates::parse(d).map_err(|m| AppError::field("due_date", m))?,
        )),
    };
    let studio = Studio::load(&mut db).await?;
    let (sent, mail) = crate::db::transaction(&mut db, async |tx| {
        let (qid, mail) = questionnaires::send(
            tx,
            &state.settings,
            &studio,
            &state.clock,
            id,
            s.template_id,
            due,
            Some(staff.contributor_id),
        )
        .await?;
        Ok((questionnaires::one(tx, None, qid, false).await?, mail))
    })
    .await?;
    if let Some(m) = mail {
        m.send(&state.db, &state.clock);
    }
    Ok((StatusCode::CREATED, Json(sent)))
}

/// A project's workflow timeline: every step of the workflows attached to it, with its state
/// (waiting, scheduled, overdue, approval, done, skipped, failed), when it is due or ran, and
/// why it was skipped or failed.
#[utoipa::path(get, path = "/api/v1/projects/{id}/workflow", tag = "workflows",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = Vec<Run>),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn project_workflow(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<Vec<Run>>> {
    project_exists(&mut db, id).await?;
    Ok(Json(engine::timeline(&mut db, id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ProjectField {
    pub key: String,
    pub label: String,
}

/// The project fields a questionnaire answer can fill in (`maps_to`).
#[utoipa::path(get, path = "/api/v1/project-fields", tag = "questionnaires",
    responses((status = 200, body = Vec<ProjectField>)))]
async fn project_fields() -> Json<Vec<ProjectField>> {
    Json(
        fields::FIELDS
            .iter()
            .map(|(k, l)| ProjectField {
                key: k.to_string(),
                label: l.to_string(),
            })
            .collect(),
    )
}
