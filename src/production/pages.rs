//! The task pages: a project's board and "My tasks" (kanban by status, filters, the overdue
//! first, bulk assign, moves by button or keyboard, htmx in place), and a task's page (timer,
//! time by hand, comments, blockers, assignee with where the planned hours come from). Forms
//! work without JavaScript (a redirect back); a refused form shows the task page again with
//! the reason by the field.
use super::api::check_may_work;
use super::comments::{self, Comment};
use super::tasks::{self, Filter, Task};
use super::time::{self, Entry};
use super::{capacity, dependencies, rules};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render, status_class};
use crate::http::redirect::local_path;
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use askama::Template;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let work = Access::Perm(Permission::TasksWork);
    let manage = Access::Perm(Permission::TasksManage);
    let view = Access::Perm(Permission::ProjectsView);
    Routes::new()
        .get("/tasks", work, my_tasks)
        .get("/projects/{id}/tasks", view, board)
        .get("/tasks/{id}", view, task_page)
        .post("/tasks/{id}/move", work, move_task)
        .post("/tasks/{id}/timer", work, start_timer)
        .post("/timer/stop", work, stop_timer)
        .post("/tasks/{id}/time", work, add_time)
        .post("/tasks/{id}/comments", work, add_comment)
        .post("/tasks/{id}/assign", manage, assign_one)
        .post("/tasks/{id}/dependencies", manage, add_dependency)
        .post("/tasks/assign", manage, bulk_assign)
        .get("/capacity", manage, capacity_page)
        .post("/capacity/{id}", manage, set_capacity)
}

#[derive(Template)]
#[template(path = "production/capacity.html")]
struct CapacityPage {
    layout: Layout,
    rows: Vec<capacity::Row>,
    mondays: Vec<NaiveDate>,
    refused: Option<(i32, Refusal)>,
}

impl CapacityPage {
    fn error(&self, id: &i32) -> Option<&str> {
        self.refused
            .as_ref()
            .filter(|(who, _)| who == id)
            .and_then(|(_, r)| r.field("weekly_capacity_hours"))
    }
}

async fn show_capacity(
    db: &mut PgConnection,
    staff: &Staff,
    state: &AppState,
    refused: Option<(i32, Refusal)>,
) -> AppResult<Response> {
    let layout = Layout::load(db, staff, "Capacity", "/tasks").await?;
    let zone = layout.settings.time_zone.clone();
    let today = state.clock.today(&zone);
    let page = CapacityPage {
        rows: capacity::rows(db, today, &zone).await?,
        mondays: capacity::mondays(today),
        layout,
        refused: refused.clone(),
    };
    Ok(match refused {
        Some((_, r)) => r.respond(render(&page)),
        None => render(&page),
    })
}

async fn capacity_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
) -> AppResult<Response> {
    show_capacity(&mut db, &staff, &state, None).await
}

#[derive(Deserialize)]
struct CapacityForm {
    #[serde(default)]
    weekly_capacity_hours: String,
}

async fn set_capacity(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<CapacityForm>,
) -> AppResult<Response> {
    let hours = f.weekly_capacity_hours.clone();
    let done = crate::db::transaction(&mut db, async |tx| {
        capacity::set_weekly(tx, id, &hours).await?;
        crate::audit::record(
            tx,
            Some(staff.contributor_id),
            "contributors.capacity",
            "contributor",
            Some(id),
            serde_json::json!({ "weekly_capacity_hours": hours.trim() }),
        )
        .await?;
        Ok(())
    })
    .await;
    match done {
        Ok(()) => Ok(Redirect::to("/capacity").into_response()),
        Err(e) => {
            let refused = Refusal::from_error(e)?;
            show_capacity(&mut db, &staff, &state, Some((id, refused))).await
        }
    }
}

/// The columns of a board, in order (Archived tasks are not on it).
const COLUMNS: [&str; 4] = [
    rules::TODO,
    rules::READY,
    rules::IN_PROGRESS,
    rules::COMPLETED,
];

pub struct Column {
    pub status: &'static str,
    pub cards: Vec<Task>,
}

#[derive(Template)]
#[template(path = "production/board.html")]
struct BoardPage {
    layout: Layout,
    /// The project's board, or None: the person's own tasks.
    project: Option<(i32, String)>,
    columns: Vec<Column>,
    staff: Vec<(i32, String)>,
    assignee: Option<i32>,
    show: String,
    can_manage: bool,
    today: NaiveDate,
    back: String,
    next: Option<String>,
    running: Option<i32>,
}

impl BoardPage {
    fn class(&self, s: &str) -> String {
        status_class(s)
    }

    fn overdue(&self, t: &Task) -> bool {
        t.status != rules::COMPLETED && t.due_date.is_some_and(|d| d < self.today)
    }

    /// The moves of a card: (status, label, key), forward first.
    fn moves(&self, t: &Task) -> Vec<(&'static str, &'static str, &'static str)> {
        match t.status.as_str() {
            rules::TODO | rules::READY => vec![(rules::IN_PROGRESS, "Start", "forward")],
            rules::IN_PROGRESS => vec![
                (rules::COMPLETED, "Complete", "forward"),
                (rules::READY, "Put back", "back"),
            ],
            rules::COMPLETED => vec![(rules::IN_PROGRESS, "Reopen", "back")],
            _ => vec![],
        }
    }

    fn assignee_is(&self, id: &i32) -> bool {
        self.assignee == Some(*id)
    }

    fn hours(&self, d: &Option<rust_decimal::Decimal>) -> String {
        d.map_or("—".into(), |h| format!("{h} h"))
    }

    fn showing(&self, s: &str) -> bool {
        self.show == s
    }
}

#[derive(Deserialize, Default)]
struct BoardQuery {
    #[serde(default)]
    assignee: Option<String>,
    /// open (default), all, or one status.
    #[serde(default)]
    show: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// Active staff, by name (the assign menus).
async fn staff_list(conn: &mut PgConnection) -> AppResult<Vec<(i32, String)>> {
    Ok(sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name))
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         ORDER BY 2, 1",
    )
    .fetch_all(conn)
    .await?)
}

#[allow(clippy::too_many_arguments)]
async fn show_board(
    db: &mut PgConnection,
    staff: &Staff,
    state: &AppState,
    project: Option<i32>,
    assignee: Option<i32>,
    q: &BoardQuery,
    path: &str,
    title: String,
) -> AppResult<Response> {
    let show = q.show.clone().unwrap_or_else(|| "open".into());
    let status = match show.as_str() {
        "open" | "all" => None,
        s => tasks::parse_status(Some(s))?,
    };
    let filter = Filter {
        project,
        assignee,
        status,
        due_before: None,
        open_only: show == "open",
    };
    let after = tasks::parse_after(q.after.as_deref())?;
    let (rows, next) = tasks::list(db, &filter, after, 200).await?;
    let project_name = match project {
        Some(p) => Some((p, project_title(db, p).await?)),
        None => None,
    };
    let layout = Layout::load(db, staff, &title, "/tasks").await?;
    let today = state.clock.today(&layout.settings.time_zone);
    let columns = COLUMNS
        .iter()
        .map(|s| Column {
            status: s,
            cards: rows.iter().filter(|t| t.status == *s).cloned().collect(),
        })
        .collect();
    let mut query = vec![("show".to_string(), show.clone())];
    if let (Some(a), Some(_)) = (assignee, project) {
        query.push(("assignee".into(), a.to_string()));
    }
    let back = format!(
        "{path}?{}",
        serde_urlencoded::to_string(&query).unwrap_or_default()
    );
    Ok(render(&BoardPage {
        next: next.map(|n| crate::page::next_href(path, &query, &n)),
        running: time::running(db, staff.contributor_id).await?.map(|r| r.1),
        staff: staff_list(db).await?,
        can_manage: staff.can(Permission::TasksManage),
        layout,
        project: project_name,
        columns,
        assignee,
        show,
        today,
        back,
    }))
}

async fn project_title(db: &mut PgConnection, project: i32) -> AppResult<String> {
    let name: Option<Option<String>> =
        sqlx::query_scalar("SELECT project_name FROM projects WHERE id = $1")
            .bind(project)
            .fetch_optional(db)
            .await?;
    let name = name.ok_or_else(|| AppError::not_found(&format!("project {project}")))?;
    Ok(name.unwrap_or_else(|| format!("Project #{project}")))
}

fn parse_id(s: Option<&str>, field: &str) -> AppResult<Option<i32>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| AppError::field(field, "pick someone from the list")),
    }
}

async fn my_tasks(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(q): Query<BoardQuery>,
) -> AppResult<Response> {
    let me = staff.contributor_id;
    show_board(
        &mut db,
        &staff,
        &state,
        None,
        Some(me),
        &q,
        "/tasks",
        "My tasks".into(),
    )
    .await
}

async fn board(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Query(q): Query<BoardQuery>,
) -> AppResult<Response> {
    let assignee = parse_id(q.assignee.as_deref(), "assignee")?;
    let name = project_title(&mut db, id).await?;
    let path = format!("/projects/{id}/tasks");
    let title = format!("Tasks: {name}");
    show_board(
        &mut db,
        &staff,
        &state,
        Some(id),
        assignee,
        &q,
        &path,
        title,
    )
    .await
}

#[derive(Template)]
#[template(path = "production/task.html")]
struct TaskPage {
    layout: Layout,
    task: Task,
    entries: Vec<Entry>,
    comments: Vec<Comment>,
    blockers: Vec<(i32, String, String)>,
    staff: Vec<(i32, String)>,
    can_manage: bool,
    may_work: bool,
    running: Option<i32>,
    refused: Option<Refusal>,
    today: NaiveDate,
}

impl TaskPage {
    fn class(&self, s: &str) -> String {
        status_class(s)
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }

    fn message(&self) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.message.as_deref())
    }

    fn hours(&self, d: &Option<rust_decimal::Decimal>) -> String {
        d.map_or("—".into(), |h| format!("{h} h"))
    }

    fn overdue(&self) -> bool {
        self.task.status != rules::COMPLETED && self.task.due_date.is_some_and(|d| d < self.today)
    }

    fn time(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        self.layout.settings.time(at)
    }

    fn timer_here(&self) -> bool {
        self.running == Some(self.task.id)
    }

    fn is_assignee(&self, id: &i32) -> bool {
        self.task.assigned_to_contributor_id == Some(*id)
    }

    fn moves(&self) -> Vec<(&'static str, &'static str)> {
        match self.task.status.as_str() {
            rules::TODO | rules::READY => vec![(rules::IN_PROGRESS, "Start")],
            rules::IN_PROGRESS => vec![(rules::COMPLETED, "Complete"), (rules::READY, "Put back")],
            rules::COMPLETED => vec![(rules::IN_PROGRESS, "Reopen")],
            _ => vec![],
        }
    }
}

async fn show_task(
    db: &mut PgConnection,
    staff: &Staff,
    state: &AppState,
    id: i32,
    refused: Option<Refusal>,
) -> AppResult<Response> {
    let task = tasks::get(db, id).await?;
    let blockers: Vec<(i32, String, String)> = sqlx::query_as(
        "SELECT b.id, tt.name, b.status::text FROM task_dependencies d
         JOIN tasks b ON b.id = d.blocking_task_id
         JOIN task_templates tt ON tt.id = b.task_template_id
         WHERE d.dependent_task_id = $1 ORDER BY b.id",
    )
    .bind(id)
    .fetch_all(&mut *db)
    .await?;
    let title = format!("{} (task #{id})", task.name);
    let layout = Layout::load(db, staff, &title, "/tasks").await?;
    let today = state.clock.today(&layout.settings.time_zone);
    let may_work = staff.can(Permission::TasksManage)
        || (staff.can(Permission::TasksWork)
            && task
                .assigned_to_contributor_id
                .is_none_or(|a| a == staff.contributor_id));
    let page = TaskPage {
        entries: time::of_task(db, id).await?,
        comments: comments::of_task(db, id).await?,
        running: time::running(db, staff.contributor_id).await?.map(|r| r.1),
        staff: staff_list(db).await?,
        can_manage: staff.can(Permission::TasksManage),
        may_work,
        layout,
        task,
        blockers,
        refused: refused.clone(),
        today,
    };
    Ok(match refused {
        Some(r) => r.respond(render(&page)),
        None => render(&page),
    })
}

async fn task_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    show_task(&mut db, &staff, &state, id, None).await
}

/// Run a task form's action in one transaction; done: back where the form said (or the task
/// page); refused: the task page again with the reason.
async fn act(
    db: &mut PgConnection,
    staff: &Staff,
    state: &AppState,
    id: i32,
    back: Option<&str>,
    action: impl AsyncFnOnce(&mut PgConnection) -> AppResult<()>,
) -> AppResult<Response> {
    match crate::db::transaction(db, action).await {
        Ok(()) => {
            let to = local_path(back.unwrap_or(""), &format!("/tasks/{id}"));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let refused = Refusal::from_error(e)?;
            show_task(db, staff, state, id, Some(refused)).await
        }
    }
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    back: Option<String>,
}

async fn move_task(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<MoveForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let to = f.status.clone();
    act(&mut db, &staff, &state, id, f.back.as_deref(), async |tx| {
        check_may_work(tx, &staff, id).await?;
        let to = tasks::parse_status(Some(&to))?
            .ok_or_else(|| AppError::field("status", rules::STATUSES.join(", ")))?;
        tasks::move_to(tx, id, &to, now).await
    })
    .await
}

#[derive(Deserialize)]
struct BackForm {
    #[serde(default)]
    back: Option<String>,
}

async fn start_timer(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<BackForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let who = staff.contributor_id;
    act(&mut db, &staff, &state, id, f.back.as_deref(), async |tx| {
        check_may_work(tx, &staff, id).await?;
        time::start(tx, id, who, now).await.map(|_| ())
    })
    .await
}

async fn stop_timer(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Form(f): Form<BackForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let who = staff.contributor_id;
    crate::db::transaction(&mut db, async |tx| time::stop(tx, who, now).await).await?;
    Ok(Redirect::to(&local_path(f.back.as_deref().unwrap_or(""), "/tasks")).into_response())
}

#[derive(Deserialize)]
struct TimeForm {
    #[serde(default)]
    hours: String,
    #[serde(default)]
    note: String,
}

async fn add_time(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<TimeForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let who = staff.contributor_id;
    act(&mut db, &staff, &state, id, None, async |tx| {
        check_may_work(tx, &staff, id).await?;
        let hours = time::parse_hours(&f.hours)?;
        time::add(tx, id, who, hours, Some(&f.note), now)
            .await
            .map(|_| ())
    })
    .await
}

#[derive(Deserialize)]
struct CommentForm {
    #[serde(default)]
    comment_text: String,
    #[serde(default)]
    visibility: String,
}

async fn add_comment(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<CommentForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let who = staff.contributor_id;
    let visibility = if f.visibility.is_empty() {
        "Internal"
    } else {
        f.visibility.as_str()
    };
    act(&mut db, &staff, &state, id, None, async |tx| {
        comments::add(tx, id, who, &f.comment_text, visibility, now)
            .await
            .map(|_| ())
    })
    .await
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    assignee: String,
}

async fn assign_one(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<AssignForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    act(&mut db, &staff, &state, id, None, async |tx| {
        let assignee = parse_id(Some(&f.assignee), "assignee")?;
        let who = Some(staff.contributor_id);
        tasks::assign(tx, &[id], assignee, now, who)
            .await
            .map(|_| ())
    })
    .await
}

#[derive(Deserialize)]
struct DependencyForm {
    #[serde(default)]
    blocking_task_id: String,
}

async fn add_dependency(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<DependencyForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    act(&mut db, &staff, &state, id, None, async |tx| {
        let blocking: i32 = f
            .blocking_task_id
            .trim()
            .trim_start_matches('#')
            .parse()
            .map_err(|_| AppError::field("blocking_task_id", "a task number, e.g. 12"))?;
        dependencies::add(tx, blocking, id, now, Some(staff.contributor_id)).await
    })
    .await
}

/// Bulk assign from a board: `task` repeated, `assignee`, `back`.
async fn bulk_assign(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    body: Bytes,
) -> AppResult<Response> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::field("task", "pick the tasks to assign"))?;
    let value = |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.as_str());
    let mut ids: Vec<i32> = pairs
        .iter()
        .filter(|p| p.0 == "task")
        .filter_map(|p| p.1.parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let back = local_path(value("back").unwrap_or(""), "/tasks");
    if ids.is_empty() || ids.len() > 200 {
        return Err(AppError::field("task", "pick 1 to 200 tasks to assign"));
    }
    let assignee = parse_id(value("assignee"), "assignee")?;
    let now = state.clock.now();
    crate::db::transaction(&mut db, async |tx| {
        let who = Some(staff.contributor_id);
        tasks::assign(tx, &ids, assignee, now, who)
            .await
            .map(|_| ())
    })
    .await?;
    Ok(Redirect::to(&back).into_response())
}
