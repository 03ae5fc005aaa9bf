//! The to-do pages: my to-dos, and completing or reassigning one from any page that lists it.
use super::activities::{self, ActivityRow};
use super::pages::Notice;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::page;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .get("/todos", Access::Staff, my_todos)
        .post("/todos/{id}/complete", Access::Staff, complete)
        .post(
            "/todos/{id}/reassign",
            Access::Perm(Permission::LeadsEdit),
            reassign,
        )
}

#[derive(Template)]
#[template(path = "crm/todos.html")]
struct TodosPage {
    layout: Layout,
    rows: Vec<ActivityRow>,
    staff: Vec<(i32, String)>,
    can_reassign: bool,
    flash: Option<String>,
    /// The next page's cursor, when there are more to-dos.
    next: Option<String>,
}

async fn my_todos(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(n): Query<Notice>,
) -> AppResult<Response> {
    let flash = match n.done.as_str() {
        "completed" => Some("Done.".to_string()),
        "reassigned" => Some("Reassigned.".to_string()),
        _ => None,
    };
    let layout = Layout::load(&mut db, &staff, "My to-dos", "/leads").await?;
    let mut conn = db;
    let now = state.clock.now();
    let who = Some(staff.contributor_id);
    let (rows, next) = activities::todos(&mut conn, now, who, false, n.after.as_deref()).await?;
    Ok(render(&TodosPage {
        layout,
        rows,
        next: next.map(|n| page::Cursor::cursor(&n)),
        staff: activities::team(&mut conn).await?,
        can_reassign: staff.can(Permission::LeadsEdit),
        flash,
    }))
}

/// Where to go back to (a page of this site; else /todos), and whom to give a to-do to.
#[derive(Deserialize, Default)]
struct Back {
    #[serde(default)]
    back: String,
    #[serde(default)]
    assignee: Option<i32>,
}

fn back_to(back: &str, done: &str) -> Response {
    let to = crate::http::redirect::local_path(back, "/todos");
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}done={done}")).into_response()
}

async fn complete(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(b): Form<Back>,
) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    activities::complete(&mut tx, id, &staff).await?;
    tx.commit().await?;
    Ok(back_to(&b.back, "completed"))
}

async fn reassign(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(b): Form<Back>,
) -> AppResult<Response> {
    let to = b
        .assignee
        .ok_or_else(|| AppError::field("assignee", "choose a team member"))?;
    let mut tx = db.begin().await?;
    activities::reassign(&mut tx, id, to, staff.contributor_id).await?;
    tx.commit().await?;
    Ok(back_to(&b.back, "reassigned"))
}
