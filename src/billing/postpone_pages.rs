//! The postponement page (`/projects/{id}/postpone`): the wedding date now, a new date to try,
//! the due dates that would move (before and after), and the button that moves them; a bad
//! date is a 422 by the field and changes nothing.
use super::postpone::{self, Move};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::error::ApiPath;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::BookingsManage);
    Routes::new()
        .get("/projects/{id}/postpone", manage, page)
        .post("/projects/{id}/postpone", manage, apply)
}

#[derive(Template)]
#[template(path = "billing/postpone.html")]
struct PostponePage {
    layout: Layout,
    id: i32,
    name: String,
    wedding: NaiveDate,
    /// The date typed (kept when refused).
    typed: String,
    /// The preview: the new day and what moves.
    preview: Option<(NaiveDate, Vec<Move>)>,
    /// The workflow steps the move re-times (old time, new time).
    steps: Vec<crate::workflows::engine::Change>,
    refused: Option<Refusal>,
    flash: Option<String>,
    /// The quote of the project (a link back).
    build: Option<i32>,
}

impl PostponePage {
    fn error(&self) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field("wedding_date"))
    }

    fn day(&self, d: &NaiveDate) -> String {
        d.format("%b %-d, %Y").to_string()
    }

    fn time(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map(|t| self.layout.settings.time(&t))
            .unwrap_or_else(|| "its event".into())
    }
}

#[derive(Deserialize, Default)]
struct DayQuery {
    #[serde(default)]
    wedding_date: Option<String>,
    #[serde(default)]
    moved: Option<usize>,
}

async fn view(
    conn: &mut PgConnection,
    staff: &Staff,
    state: &AppState,
    id: i32,
    typed: Option<String>,
) -> AppResult<(PostponePage, Option<AppError>)> {
    let p = postpone::project(conn, id, false).await?;
    let build = super::invoices::build_of(conn, id).await?;
    let layout = Layout::load(conn, staff, "Move the wedding date", "/invoices").await?;
    let today = state.clock.today(&layout.settings.time_zone);
    let (preview, error) = match typed.as_deref().filter(|t| !t.trim().is_empty()) {
        None => (None, None),
        Some(t) => match postpone::parse_day(t, &p, today) {
            Ok(to) => (
                Some((to, postpone::plan(conn, &p, to, today, false).await?)),
                None,
            ),
            Err(e) => (None, Some(e)),
        },
    };
    let steps = match &preview {
        Some((to, _)) => {
            let now = state.clock.now();
            crate::workflows::preview_wedding(conn, &layout.settings, id, *to, now).await?
        }
        None => vec![],
    };
    let page = PostponePage {
        layout,
        id,
        name: p.project_name.unwrap_or_else(|| format!("Project #{id}")),
        wedding: p.wedding_date,
        typed: typed.unwrap_or_default(),
        preview,
        steps,
        refused: None,
        flash: None,
        build,
    };
    Ok((page, error))
}

fn refuse(mut page: PostponePage, e: AppError) -> AppResult<Response> {
    let refused = Refusal::from_error(e)?;
    page.refused = Some(refused.clone());
    Ok(refused.respond(render(&page)))
}

async fn page(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
    Query(q): Query<DayQuery>,
) -> AppResult<Response> {
    let (mut page, error) = view(&mut db, &staff, &state, id, q.wedding_date).await?;
    if let Some(e) = error {
        return refuse(page, e);
    }
    page.flash = q.moved.map(|n| {
        format!(
            "The wedding is now on {}; {n} due date(s) moved with it.",
            page.wedding.format("%B %-d, %Y")
        )
    });
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
struct ApplyForm {
    #[serde(default)]
    wedding_date: String,
}

async fn apply(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
    Form(f): Form<ApplyForm>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let studio = crate::studio::Studio::load(tx).await?;
        postpone::apply(
            tx,
            &state.clock,
            &studio,
            id,
            &f.wedding_date,
            staff.contributor_id,
        )
        .await
    })
    .await;
    match result {
        Ok(moved) => Ok(
            Redirect::to(&format!("/projects/{id}/postpone?moved={}", moved.len())).into_response(),
        ),
        Err(e @ (AppError::Validation { .. } | AppError::FieldConflict { .. })) => {
            let (page, _) = view(&mut db, &staff, &state, id, None).await?;
            let page = PostponePage {
                typed: f.wedding_date,
                ..page
            };
            refuse(page, e)
        }
        Err(e) => Err(e),
    }
}
