//! The JSON API of production: tasks (list, one, move, assign), time (timer, entries),
//! comments, dependencies, and generation rerun by hand.
use super::comments::{self, Comment};
use super::tasks::{self, Filter, Task};
use super::time::{self, Entry};
use super::{dependencies, generation, rules};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::AppError;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppResult, AppState, json};
use crate::studio::Studio;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let work = Access::Perm(Permission::TasksWork);
    let manage = Access::Perm(Permission::TasksManage);
    Routes::new()
        .api(work, routes!(list))
        .api(work, routes!(one))
        .api(work, routes!(move_task))
        .api(manage, routes!(assign))
        .api(work, routes!(start_timer))
        .api(work, routes!(stop_timer))
        .api(work, routes!(add_time))
        .api(work, routes!(add_comment))
        .api(manage, routes!(add_dependency))
        .api(manage, routes!(remove_dependency))
        .api(manage, routes!(generate))
}

/// A person with only `tasks.work` works on their own tasks and unassigned ones; `tasks.manage`
/// on every task.
pub async fn check_may_work(conn: &mut PgConnection, staff: &Staff, task: i32) -> AppResult<()> {
    let allowed = tasks::may_work(conn, task, staff.contributor_id).await?;
    if allowed || staff.can(Permission::TasksManage) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this task is someone else's: ask whoever plans the tasks".into(),
        ))
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this project's tasks.
    #[serde(default)]
    pub project: Option<i32>,
    /// Only this person's tasks.
    #[serde(default)]
    pub assignee: Option<i32>,
    /// Only tasks in this status; empty: every status but Archived.
    #[param(schema_with = status_filter)]
    #[serde(default)]
    pub status: Option<String>,
    /// The page after this cursor (from the Link header); empty: the first.
    #[param(schema_with = after_param)]
    #[serde(default)]
    pub after: Option<String>,
}

fn status_filter() -> utoipa::openapi::schema::Schema {
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(rules::STATUSES.to_vec()));
    json::or_empty(one, "Only tasks in this status; empty: all but Archived.")
}

fn after_param() -> utoipa::openapi::schema::Schema {
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some(r"^[0-9]{1,7}_[0-9]{1,9}$"));
    json::or_empty(one, "The page after this cursor; empty: the first.")
}

fn status_schema() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(rules::STATUSES.to_vec()))
        .into()
}

/// Tasks, due first (the overdue at the top), 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(ListQuery),
    responses(
        (status = 200, body = Vec<Task>, headers(
            ("Link" = String, description = "`<...?after=...>; rel=\"next\"` when there are more")
        )),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn list(
    mut db: Db,
    ApiQuery(q): ApiQuery<ListQuery>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let filter = Filter {
        project: q.project,
        assignee: q.assignee,
        status: tasks::parse_status(q.status.as_deref())?,
        due_before: None,
        open_only: false,
    };
    let after = tasks::parse_after(q.after.as_deref())?;
    let (rows, next) = tasks::list(&mut db, &filter, after, crate::page::SIZE).await?;
    Ok(crate::page::with_next(
        Json(rows).into_response(),
        "/api/v1/tasks",
        raw.as_deref(),
        next,
    ))
}

/// A task with its time entries and comments.
#[derive(Serialize, ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: Task,
    pub time_entries: Vec<Entry>,
    pub comments: Vec<Comment>,
}

async fn detail(conn: &mut PgConnection, id: i32) -> AppResult<TaskDetail> {
    Ok(TaskDetail {
        task: tasks::get(conn, id).await?,
        time_entries: time::of_task(conn, id).await?,
        comments: comments::of_task(conn, id).await?,
    })
}

/// One task: its part of the film, status, due day, assignee, planned hours and where they come
/// from, actual hours, blockers, time entries and comments.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = TaskDetail),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn one(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<TaskDetail>> {
    Ok(Json(detail(&mut db, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct MoveIn {
    /// In Progress, Completed, or Ready to Start (put back); To-Do and Ready to Start otherwise
    /// follow the blockers, Archived follows the configuration.
    #[schema(schema_with = status_schema)]
    pub status: String,
}

/// Move a task: start, complete (sets `completed_at`, stops its timers; the tasks it blocked
/// become Ready to Start), reopen (they go back to To-Do). A move not allowed is a 409 naming
/// `status`.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/status", tag = "tasks",
    params(("id" = i32, Path)),
    request_body = MoveIn,
    responses(
        (status = 200, body = Task),
        (status = 403, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn move_task(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(m): ApiJson<MoveIn>,
) -> AppResult<Json<Task>> {
    let to = tasks::parse_status(Some(&m.status))?
        .ok_or_else(|| AppError::field("status", rules::STATUSES.join(", ")))?;
    let now = state.clock.now();
    let task = crate::db::transaction(&mut db, async |tx| {
        check_may_work(tx, &staff, id).await?;
        tasks::move_to(tx, id, &to, now).await?;
        tasks::get(tx, id).await
    })
    .await?;
    Ok(Json(task))
}

/// A whole number as the document says it (`2` and `2.0` alike).
#[derive(Deserialize)]
struct Whole(#[serde(deserialize_with = "json::int")] i32);

fn ints<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<i32>, D::Error> {
    Ok(Vec::<Whole>::deserialize(d)?
        .into_iter()
        .map(|w| w.0)
        .collect())
}

#[derive(Deserialize, ToSchema)]
pub struct AssignIn {
    /// The tasks (1 to 200).
    #[serde(deserialize_with = "ints")]
    #[schema(min_items = 1, max_items = 200)]
    pub task_ids: Vec<i32>,
    /// The staff member; null or absent: nobody.
    #[serde(default, deserialize_with = "json::opt_int")]
    pub assignee: Option<i32>,
}

/// Assign tasks (one or many) to a person; their planned hours are recomputed from that
/// person's own history for each template (else their usual hours, else the template's
/// effort). The person is told in their inbox.
#[utoipa::path(post, path = "/api/v1/tasks/assign", tag = "tasks",
    request_body = AssignIn,
    responses(
        (status = 200, body = Vec<Task>),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn assign(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiJson(a): ApiJson<AssignIn>,
) -> AppResult<Json<Vec<Task>>> {
    if a.task_ids.is_empty() || a.task_ids.len() > 200 {
        return Err(AppError::field("task_ids", "1 to 200 tasks"));
    }
    let now = state.clock.now();
    let mut ids = a.task_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let out = crate::db::transaction(&mut db, async |tx| {
        tasks::assign(tx, &ids, a.assignee, now, Some(staff.contributor_id)).await?;
        tasks::by_ids(tx, &ids).await
    })
    .await?;
    Ok(Json(out))
}

/// Start your timer on a task (a task waiting or ready moves to In Progress). A timer of yours
/// already running is a 409 naming its task; a Completed or Archived task is a 409.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/timer", tag = "tasks",
    params(("id" = i32, Path)),
    responses(
        (status = 201, body = Entry),
        (status = 403, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
    ))]
async fn start_timer(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<(StatusCode, Json<Entry>)> {
    let now = state.clock.now();
    let entry = crate::db::transaction(&mut db, async |tx| {
        check_may_work(tx, &staff, id).await?;
        time::start(tx, id, staff.contributor_id, now).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Stop your running timer (409 when none runs): the entry's hours are the time it ran, and its
/// task's actual hours the sum of its entries.
#[utoipa::path(post, path = "/api/v1/timer/stop", tag = "tasks",
    responses(
        (status = 200, body = Entry),
        (status = 409, body = crate::http::error::Problem),
    ))]
async fn stop_timer(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
) -> AppResult<Json<Entry>> {
    let now = state.clock.now();
    let entry = crate::db::transaction(&mut db, async |tx| {
        time::stop(tx, staff.contributor_id, now).await
    })
    .await?;
    Ok(Json(entry))
}

#[derive(Deserialize, ToSchema)]
pub struct TimeIn {
    /// Hours worked: more than 0, at most 24, up to 2 decimals, e.g. "1.5".
    #[serde(deserialize_with = "json::decimal_text")]
    #[schema(schema_with = hours_schema)]
    pub hours: String,
    /// What was done (up to 500 characters); absent or empty: nothing.
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
}

fn hours_schema() -> utoipa::openapi::schema::Schema {
    json::decimal_schema(
        r"^(([1-9]|1[0-9]|2[0-3])(\.[0-9]{1,2})?|24(\.00?)?|0\.(0[1-9]|[1-9][0-9]?))$",
        (1, 24),
        false,
        "Hours more than 0 and at most 24, at most 2 decimals, e.g. \"1.5\".",
    )
}

/// Log time on a task by hand.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/time-entries", tag = "tasks",
    params(("id" = i32, Path)),
    request_body = TimeIn,
    responses(
        (status = 201, body = Entry),
        (status = 403, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn add_time(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(t): ApiJson<TimeIn>,
) -> AppResult<(StatusCode, Json<Entry>)> {
    let hours = time::parse_hours(&t.hours)?;
    let now = state.clock.now();
    let entry = crate::db::transaction(&mut db, async |tx| {
        check_may_work(tx, &staff, id).await?;
        time::add(tx, id, staff.contributor_id, hours, t.note.as_deref(), now).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

#[derive(Deserialize, ToSchema)]
pub struct CommentIn {
    /// 1 to 5000 characters; `@leo` or `@leo.martins` tells that person.
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub comment_text: String,
    /// Internal (staff only, the default) or Client-Visible (the couple reads it in the portal).
    #[serde(default)]
    #[schema(schema_with = visibility_schema)]
    pub visibility: Option<String>,
}

fn visibility_schema() -> utoipa::openapi::schema::Schema {
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["Internal", "Client-Visible"]));
    json::or_empty(one, "Internal or Client-Visible; empty: Internal.")
}

/// Comment on a task; the people it @mentions are told.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/comments", tag = "tasks",
    params(("id" = i32, Path)),
    request_body = CommentIn,
    responses(
        (status = 201, body = Comment),
        (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn add_comment(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(c): ApiJson<CommentIn>,
) -> AppResult<(StatusCode, Json<Comment>)> {
    let visibility = c
        .visibility
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("Internal");
    let now = state.clock.now();
    let who = staff.contributor_id;
    let comment = crate::db::transaction(&mut db, async |tx| {
        comments::add(tx, id, who, &c.comment_text, visibility, now).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

#[derive(Deserialize, ToSchema)]
pub struct DependencyIn {
    /// The task that must be Completed first (same project).
    #[serde(deserialize_with = "json::int")]
    pub blocking_task_id: i32,
}

/// Make a task wait for another of the same project. A dependency that would close a cycle is a
/// 409 naming the cycle (`#3 -> #5 -> #3`).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/dependencies", tag = "tasks",
    params(("id" = i32, Path)),
    request_body = DependencyIn,
    responses(
        (status = 200, body = Task),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn add_dependency(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(d): ApiJson<DependencyIn>,
) -> AppResult<Json<Task>> {
    let now = state.clock.now();
    let task = crate::db::transaction(&mut db, async |tx| {
        let who = Some(staff.contributor_id);
        dependencies::add(tx, d.blocking_task_id, id, now, who).await?;
        tasks::get(tx, id).await
    })
    .await?;
    Ok(Json(task))
}

/// Stop a task waiting for another.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}/dependencies/{blocking}", tag = "tasks",
    params(("id" = i32, Path), ("blocking" = i32, Path)),
    responses(
        (status = 200, body = Task),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn remove_dependency(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath((id, blocking)): ApiPath<(i32, i32)>,
) -> AppResult<Json<Task>> {
    let now = state.clock.now();
    let task = crate::db::transaction(&mut db, async |tx| {
        dependencies::remove(tx, blocking, id, now, Some(staff.contributor_id)).await?;
        tasks::get(tx, id).await
    })
    .await?;
    Ok(Json(task))
}

/// Run task generation for a booked project again (it is idempotent: it adds what is missing,
/// archives what went away, never duplicates).
#[utoipa::path(post, path = "/api/v1/projects/{id}/tasks/generate", tag = "tasks",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = GeneratedOut),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn generate(
    State(state): State<AppState>,
    mut db: Db,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Json<GeneratedOut>> {
    let now = state.clock.now();
    let g = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let weeks = studio.delivery_weeks_after_wedding;
        generation::generate(tx, id, &studio.task_phase_order, weeks, now).await
    })
    .await?;
    Ok(Json(GeneratedOut {
        added: g.added as i64,
        archived: g.archived as i64,
        restored: g.restored as i64,
    }))
}

/// What a generation run did.
#[derive(Serialize, ToSchema)]
pub struct GeneratedOut {
    pub added: i64,
    pub archived: i64,
    pub restored: i64,
}
