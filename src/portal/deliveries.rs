//! The couple's films and survey: each film shared with them through a live download link
//! (an export: nothing else is ever reachable here), played in the page and downloaded with
//! ranges; the link itself (`/d/<token>`, from their email) works without logging in until it
//! expires or is revoked; and the survey, answered once, checked by the field.
use crate::auth::{Access, PortalUser};
use crate::db::Db;
use crate::delivery::links::{self, Opened};
use crate::delivery::range::{self, Served};
use crate::delivery::surveys::{self, Answer, Survey};
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::studio::Studio;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/portal/deliveries/{id}", Access::Portal, film)
        .get("/portal/deliveries/{id}/file", Access::Portal, film_file)
        .get("/d/{token}", Access::Public, by_link)
        .get("/portal/surveys/{id}", Access::Portal, survey)
        .post("/portal/surveys/{id}", Access::Portal, answer)
}

/// A line of the portal's home page: (href, title, detail).
pub type Line = (String, String, String);

/// The home page's "Your films": one per live link.
pub async fn film_items(
    conn: &mut PgConnection,
    studio: &Studio,
    client: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<Line>> {
    Ok(links::for_client(conn, client, now)
        .await?
        .into_iter()
        .map(|f| {
            (
                format!("/portal/deliveries/{}", f.link_id),
                f.file_name.clone().unwrap_or_else(|| "Your film".into()),
                format!("Download until {}", studio.day(&f.expires_at)),
            )
        })
        .collect())
}

/// The home page's surveys.
pub async fn survey_items(conn: &mut PgConnection, client: i32) -> AppResult<Vec<Line>> {
    Ok(surveys::for_client(conn, client)
        .await?
        .into_iter()
        .map(|s| {
            let title = format!(
                "Your survey: {}",
                s.project_name
                    .clone()
                    .unwrap_or_else(|| "your wedding".into())
            );
            let detail = if s.response_date.is_some() {
                "Answered: thank you!"
            } else {
                "Three quick questions"
            };
            (
                format!("/portal/surveys/{}", s.id),
                title,
                detail.to_string(),
            )
        })
        .collect())
}

#[derive(Template)]
#[template(path = "portal/film.html")]
struct FilmPage {
    studio: String,
    user: PortalUser,
    title: String,
    id: i32,
    video: bool,
    content_type: String,
    until: String,
    size: String,
}

async fn film(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let studio = Studio::load(&mut db).await?;
    let f = links::for_client_one(&mut db, user.client_id, id, state.clock.now()).await?;
    let name = f.file_name.clone().unwrap_or_else(|| "Your film".into());
    let content_type = kind_of(&f);
    let until = studio.day(&f.expires_at);
    Ok(render(&FilmPage {
        studio: studio.studio_name,
        user,
        video: content_type.starts_with("video/"),
        title: name,
        id,
        content_type,
        until,
        size: crate::delivery::assets::size(f.size_bytes),
    }))
}

fn kind_of(f: &Opened) -> String {
    f.content_type
        .clone()
        .unwrap_or_else(|| range::content_type_of(f.file_name.as_deref().unwrap_or("")).to_string())
}

#[derive(serde::Deserialize, Default)]
struct FileQuery {
    /// Download (attachment) rather than play in the page.
    #[serde(default)]
    download: Option<String>,
}

async fn serve(
    state: &AppState,
    f: Opened,
    headers: &HeaderMap,
    attachment: bool,
) -> AppResult<Response> {
    let object = state
        .storage
        .open(f.storage_path.as_deref().unwrap_or(""))
        .await?;
    let name = f.file_name.clone().unwrap_or_else(|| "film".into());
    let kind = kind_of(&f);
    let served = Served {
        object,
        name: &name,
        content_type: &kind,
        sha256: f.sha256.as_deref(),
        attachment,
    };
    range::serve(headers, served).await
}

/// A film of the couple's, played or downloaded, with ranges (404 unless it is theirs and its
/// link is live).
async fn film_file(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
    Query(q): Query<FileQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let f = links::for_client_one(&mut db, user.client_id, id, state.clock.now()).await?;
    drop(db);
    serve(&state, f, &headers, q.download.is_some()).await
}

/// The link from the email: the film while the link is live (404 once it has expired or been
/// revoked).
async fn by_link(
    State(state): State<AppState>,
    mut db: Db,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let f = links::by_token(&mut db, &token, state.clock.now()).await?;
    drop(db);
    serve(&state, f, &headers, true).await
}

#[derive(Template)]
#[template(path = "portal/survey.html")]
struct SurveyPage {
    studio: String,
    user: PortalUser,
    survey: Survey,
    values: Answer,
    refusal: Option<Refusal>,
    thanks: bool,
}

impl SurveyPage {
    fn error(&self, field: &str) -> String {
        self.refusal
            .as_ref()
            .and_then(|r| r.field(field))
            .unwrap_or_default()
            .to_string()
    }
}

#[derive(serde::Deserialize, Default)]
struct Thanks {
    #[serde(default)]
    thanks: Option<String>,
}

async fn survey(
    mut db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
    Query(q): Query<Thanks>,
) -> AppResult<Response> {
    let studio = Studio::load(&mut db).await?;
    let survey = surveys::for_client_one(&mut db, user.client_id, id).await?;
    Ok(render(&SurveyPage {
        studio: studio.studio_name,
        user,
        survey,
        values: Answer::default(),
        refusal: None,
        thanks: q.thanks.is_some(),
    }))
}

async fn answer(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
    Form(a): Form<Answer>,
) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    match surveys::answer(&mut tx, &state.clock, user.client_id, id, &a).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/portal/surveys/{id}?thanks=1")).into_response())
        }
        Err(e) => {
            drop(tx);
            let refusal = Refusal::from_error(e)?;
            let studio = Studio::load(&mut db).await?;
            let survey = surveys::for_client_one(&mut db, user.client_id, id).await?;
            let page = render(&SurveyPage {
                studio: studio.studio_name,
                user,
                survey,
                values: a,
                refusal: Some(refusal.clone()),
                thanks: false,
            });
            Ok(refusal.respond(page))
        }
    }
}
