//! The couple's questionnaires: each question its own small form, saved as they go (htmx posts
//! an answer when it changes; without script, each has a Save button), the conditional questions
//! shown or hidden as the answers they depend on change (the server sends the dependents again
//! with the answer's "Saved"), a file question uploaded, and the whole sent once. Anything not
//! theirs is a 404; a submitted one is read-only until the studio reopens it.
use crate::auth::{Access, PortalUser};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::form::{Htmx, Refusal};
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::studio::Studio;
use crate::workflows::questionnaires::{self, Sent};
use crate::workflows::questions::{self, Question};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/portal/questionnaires/{id}", Access::Portal, page)
        .post(
            "/portal/questionnaires/{id}/answers/{q}",
            Access::Portal,
            answer,
        )
        .post(
            "/portal/questionnaires/{id}/files/{q}",
            Access::Portal,
            file,
        )
        .post("/portal/questionnaires/{id}/submit", Access::Portal, submit)
}

/// The couple's questionnaires for their portal's home: (link, title, detail).
pub async fn items(
    conn: &mut PgConnection,
    client: i32,
) -> AppResult<Vec<(String, String, String)>> {
    Ok(questionnaires::for_client(conn, client)
        .await?
        .into_iter()
        .map(|s| {
            let detail = if s.submitted() {
                "Sent to the studio".to_string()
            } else {
                format!("To fill in by {}", s.due_date.format("%B %-d, %Y"))
            };
            (format!("/portal/questionnaires/{}", s.id), s.title, detail)
        })
        .collect())
}

/// One question as its own form (or a heading), shown or hidden.
#[derive(Template)]
#[template(path = "portal/question.html")]
struct QuestionView<'a> {
    sent: i32,
    q: &'a Question,
    /// The answer so far: one text, or the ticked choices.
    values: Vec<String>,
    /// A file answer's name.
    file: Option<String>,
    visible: bool,
    locked: bool,
    csrf: &'a str,
    /// What the last save said ("Saved", or why not).
    status: Option<(bool, String)>,
    oob: bool,
}

impl QuestionView<'_> {
    fn value(&self) -> &str {
        self.values.first().map_or("", String::as_str)
    }

    fn ticked(&self, option: &str) -> bool {
        self.values.iter().any(|v| v == option)
    }

    fn kind(&self) -> &'static str {
        self.q.kind.name()
    }
}

fn view<'a>(
    s: &Sent,
    q: &'a Question,
    visible: bool,
    csrf: &'a str,
    status: Option<(bool, String)>,
    oob: bool,
) -> QuestionView<'a> {
    let answer = s.answers.get(&q.id.to_string());
    let values = match answer {
        Some(serde_json::Value::String(v)) => vec![v.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => vec![],
    };
    let file = answer
        .and_then(|a| a.get("name"))
        .and_then(|n| n.as_str())
        .map(String::from);
    QuestionView {
        sent: s.id,
        q,
        values,
        file,
        visible,
        locked: s.submitted(),
        csrf,
        status,
        oob,
    }
}

fn html(t: &impl Template) -> AppResult<String> {
    t.render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering: {e}")))
}

#[derive(Template)]
#[template(path = "portal/questionnaire.html")]
struct Page {
    studio: String,
    user: PortalUser,
    id: i32,
    title: String,
    due: String,
    submitted: Option<String>,
    message: Option<String>,
    questions: Vec<String>,
}

async fn show(
    conn: &mut PgConnection,
    user: PortalUser,
    id: i32,
    refused: Option<Refusal>,
) -> AppResult<Response> {
    let studio = Studio::load(conn).await?;
    let s = questionnaires::one(conn, Some(user.client_id), id, false).await?;
    let shown = questions::visible(&s.questions, &s.answers);
    let mut rendered = vec![];
    for (q, visible) in s.questions.iter().zip(shown) {
        let status = refused
            .as_ref()
            .and_then(|r| r.field(&format!("q{}", q.id)))
            .map(|m| (false, m.to_string()));
        rendered.push(html(&view(&s, q, visible, &user.csrf, status, false))?);
    }
    let status = refused.as_ref().map(|r| r.status);
    let page = render(&Page {
        studio: studio.studio_name.clone(),
        id,
        title: s.title.clone(),
        due: s.due_date.format("%B %-d, %Y").to_string(),
        submitted: s.submitted_at.map(|at| studio.day(&at)),
        message: refused.and_then(|r| r.message),
        questions: rendered,
        user,
    });
    Ok(match status {
        Some(st) => (st, page).into_response(),
        None => page,
    })
}

async fn page(mut db: Db, user: PortalUser, Path(id): Path<i32>) -> AppResult<Response> {
    show(&mut db, user, id, None).await
}

/// The answer's form: `value` once, or once per ticked choice.
async fn answer(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    Htmx(htmx): Htmx,
    Path((id, q)): Path<(i32, i32)>,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let values: Vec<String> = form
        .into_iter()
        .filter(|(k, _)| k == "value")
        .map(|(_, v)| v)
        .collect();
    let now = state.clock.now();
    let client = user.client_id;
    let saved = crate::db::transaction(&mut db, async |tx| {
        questionnaires::answer(tx, Some(client), id, q, &values, now).await
    })
    .await;
    if !htmx {
        return match saved {
            Ok(_) => Ok(
                Redirect::to(&format!("/portal/questionnaires/{id}#question-{q}")).into_response(),
            ),
            Err(e) => {
                let mut r = Refusal::from_error(e)?;
                for err in &mut r.errors {
                    err.field = format!("q{q}");
                }
                show(&mut db, user, id, Some(r)).await
            }
        };
    }
    match saved {
        Ok(s) => {
            // "Saved", and the questions whose showing depends on this answer, again.
            let shown = questions::visible(&s.questions, &s.answers);
            let deps = questions::dependents(&s.questions, q);
            let mut out =
                format!("<span id=\"saved-{q}\" class=\"hint saved\" role=\"status\">Saved</span>");
            for (question, visible) in s.questions.iter().zip(shown) {
                if deps.contains(&question.id) {
                    out.push_str(&html(&view(&s, question, visible, &user.csrf, None, true))?);
                }
            }
            Ok(axum::response::Html(out).into_response())
        }
        Err(e) => {
            let status = e.status();
            if !matches!(status.as_u16(), 409 | 422) {
                return Err(e);
            }
            let message = match &e {
                AppError::Validation { errors, .. } => errors
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_else(|| e.to_string()),
                other => other.to_string(),
            };
            let escaped = message
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            Ok((
                status,
                axum::response::Html(format!(
                    "<span id=\"saved-{q}\" class=\"field-error\" role=\"alert\">Not saved: {escaped}</span>"
                )),
            )
                .into_response())
        }
    }
}

async fn file(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    Path((id, q)): Path<(i32, i32)>,
    mut form: Multipart,
) -> AppResult<Response> {
    let mut name = String::from("file");
    let mut data = vec![];
    let unreadable =
        |e: axum::extract::multipart::MultipartError| AppError::field("file", e.body_text());
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        if field.name() == Some("file") {
            name = field.file_name().unwrap_or("file").to_string();
            data = field.bytes().await.map_err(unreadable)?.to_vec();
        }
    }
    let now = state.clock.now();
    let dir = state.settings.data_dir.clone();
    let client = user.client_id;
    let stored = crate::db::transaction(&mut db, async |tx| {
        questionnaires::answer_file(tx, &dir, Some(client), id, q, &name, &data, now).await
    })
    .await;
    match stored {
        Ok(file) => {
            file.keep();
            Ok(Redirect::to(&format!("/portal/questionnaires/{id}#question-{q}")).into_response())
        }
        Err(e) => {
            let mut r = Refusal::from_error(e)?;
            for err in &mut r.errors {
                err.field = format!("q{q}");
            }
            show(&mut db, user, id, Some(r)).await
        }
    }
}

async fn submit(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let client = user.client_id;
    let sent = crate::db::transaction(&mut db, async |tx| {
        questionnaires::submit(tx, Some(client), id, now).await
    })
    .await;
    match sent {
        Ok(_) => Ok((
            StatusCode::SEE_OTHER,
            [("location", format!("/portal/questionnaires/{id}"))],
        )
            .into_response()),
        Err(e) => {
            let r = Refusal::from_error(e)?;
            show(&mut db, user, id, Some(r)).await
        }
    }
}
