//! The Projects area: the list of booked weddings (wedding day, phase, progress, next task
//! due, balance due; keyset by wedding day) and a project's page gathering the couple, the
//! quote and contract, the invoices and the tasks, linking to the pages that hold the rest.
use super::tasks::{self, DueCursor, FIRST_DAY, Filter, Task};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::http::layout::{Layout, render, status_class};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::ProjectsView);
    Routes::new()
        .get("/projects", view, list)
        .get("/projects/{id}", view, page)
}

/// A project as the list shows it.
#[derive(sqlx::FromRow)]
pub struct ProjectRow {
    pub id: i32,
    pub project_name: Option<String>,
    pub wedding_date: NaiveDate,
    pub phase: Option<String>,
    pub done: i64,
    pub total: i64,
    pub next_task: Option<String>,
    pub next_task_id: Option<i32>,
    pub next_due: Option<NaiveDate>,
    pub owed: Decimal,
}

impl ProjectRow {
    pub fn percent(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            self.done * 100 / self.total
        }
    }
}

/// The list's columns for one project (lateral subqueries on the project's indexed rows).
const ROW: &str = "SELECT p.id, p.project_name, p.wedding_date,
        COALESCE(n.phase, CASE WHEN c.total > 0 AND c.done = c.total THEN 'Done' END, p.phase)
            AS phase,
        c.done, c.total, n.name AS next_task, n.id AS next_task_id, n.due_date AS next_due,
        b.owed
    FROM projects p
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE t.status = 'Completed') AS done, count(*) AS total
        FROM tasks t WHERE t.project_id = p.id AND t.status <> 'Archived') c
    LEFT JOIN LATERAL (
        SELECT t.id, tt.name, tt.phase, t.due_date
        FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
        WHERE t.project_id = p.id AND t.status IN ('To-Do', 'Ready to Start', 'In Progress')
        ORDER BY t.due_date, t.id LIMIT 1) n ON true
    CROSS JOIN LATERAL (
        SELECT COALESCE(sum(i.total_amount - COALESCE(i.amount_paid, 0))
                        FILTER (WHERE i.status IS DISTINCT FROM 'Void'
                                  AND i.status IS DISTINCT FROM 'Draft'), 0) AS owed
        FROM invoices i WHERE i.project_id = p.id) b";

/// A page of projects by wedding day (then id), 50 a page, and the next page's cursor.
pub async fn list_rows(
    conn: &mut PgConnection,
    after: Option<(NaiveDate, i32)>,
) -> AppResult<(Vec<ProjectRow>, Option<DueCursor>)> {
    let limit = crate::page::SIZE;
    let mut rows: Vec<ProjectRow> = sqlx::query_as(&format!(
        "{ROW} WHERE (p.wedding_date, p.id) > ($1, $2)
         ORDER BY p.wedding_date, p.id LIMIT $3"
    ))
    .bind(after.map_or(FIRST_DAY, |a| a.0))
    .bind(after.map_or(i32::MIN, |a| a.1))
    .bind(limit + 1)
    .fetch_all(conn)
    .await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| tasks::cursor(r.wedding_date, r.id))
    } else {
        None
    };
    Ok((rows, next))
}

#[derive(Template)]
#[template(path = "production/projects.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<ProjectRow>,
    next: Option<String>,
    today: NaiveDate,
}

impl ListPage {
    fn money(&self, d: &Decimal) -> String {
        self.layout.settings.money(*d)
    }

    fn past(&self, d: &NaiveDate) -> bool {
        *d < self.today
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    after: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let after = tasks::parse_after(q.after.as_deref())?;
    let (rows, next) = list_rows(&mut db, after).await?;
    let layout = Layout::load(&mut db, &staff, "Projects", "/projects").await?;
    let today = state.clock.today(&layout.settings.time_zone);
    Ok(render(&ListPage {
        next: next.map(|n| crate::page::next_href("/projects", &[], &n)),
        layout,
        rows,
        today,
    }))
}

#[derive(sqlx::FromRow)]
struct Couple {
    contact_id: i32,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    build_id: Option<i32>,
    has_contract: bool,
}

#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: i32,
    invoice_number: Option<String>,
    description: Option<String>,
    due_date: Option<NaiveDate>,
    status: Option<String>,
    total_amount: Decimal,
    owed: Decimal,
}

/// A crew member on the wedding day: who, what, from and to (studio-local times).
#[derive(sqlx::FromRow)]
struct CrewRow {
    name: String,
    title: String,
    start_time: chrono::DateTime<chrono::Utc>,
    end_time: chrono::DateTime<chrono::Utc>,
}

#[derive(Template)]
#[template(path = "production/project.html")]
struct ProjectPage {
    layout: Layout,
    project: ProjectRow,
    booking_date: Option<NaiveDate>,
    couple: Couple,
    invoices: Vec<InvoiceRow>,
    open: Vec<Task>,
    today: NaiveDate,
    can_invoices: bool,
    projection: super::projection::Delivery,
    crew: Vec<CrewRow>,
    delivery: crate::delivery::pages::Section,
    /// Questionnaires, wedding-day details and the workflow timeline (`workflows`), as HTML.
    workflow: String,
}

impl ProjectPage {
    fn money(&self, d: &Decimal) -> String {
        self.layout.settings.money(*d)
    }

    fn class(&self, s: &str) -> String {
        status_class(s)
    }

    fn overdue(&self, t: &Task) -> bool {
        t.due_date.is_some_and(|d| d < self.today)
    }

    /// A crew member's hours on the day, in the studio's time zone ("2:00 PM – 8:00 PM").
    fn hours(&self, c: &CrewRow) -> String {
        let tz: chrono_tz::Tz = self
            .layout
            .settings
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::UTC);
        let f = |t: &chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%-I:%M %p");
        format!("{} – {}", f(&c.start_time), f(&c.end_time))
    }

    /// Whether the queue says the films will be later than promised.
    fn late(&self) -> bool {
        matches!((self.projection.projected, self.projection.promised), (Some(a), Some(b)) if a > b)
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    /// Show archived documents too.
    #[serde(default)]
    archived: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let project: ProjectRow = sqlx::query_as(&format!("{ROW} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(&mut *db)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("project {id}")))?;
    let booking_date: Option<NaiveDate> =
        sqlx::query_scalar("SELECT booking_date FROM projects WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *db)
            .await?;
    let couple: Couple = sqlx::query_as(
        "SELECT c.id AS contact_id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name,
                c.email, c.phone_number AS phone, b.id AS build_id,
                EXISTS (SELECT 1 FROM contracts k WHERE k.build_id = b.id) AS has_contract
         FROM projects p JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id
         LEFT JOIN builds b ON b.project_id = p.id
         WHERE p.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *db)
    .await?;
    let invoices: Vec<InvoiceRow> = sqlx::query_as(
        "SELECT id, invoice_number, description, due_date, status, total_amount,
                CASE WHEN status IN ('Void', 'Draft') THEN 0
                     ELSE total_amount - COALESCE(amount_paid, 0) END AS owed
         FROM invoices WHERE project_id = $1 ORDER BY due_date, id LIMIT 100",
    )
    .bind(id)
    .fetch_all(&mut *db)
    .await?;
    let filter = Filter {
        project: Some(id),
        open_only: true,
        ..Filter::default()
    };
    let (open, _) = tasks::list(&mut db, &filter, None, 8).await?;
    let title = project
        .project_name
        .clone()
        .unwrap_or_else(|| format!("Project #{id}"));
    let layout = Layout::load(&mut db, &staff, &title, "/projects").await?;
    let today = state.clock.today(&layout.settings.time_zone);
    let projection =
        super::projection::delivery(&mut db, id, today, &layout.settings.time_zone).await?;
    let crew: Vec<CrewRow> = sqlx::query_as(
        "SELECT trim(concat_ws(' ', c.first_name, c.last_name)) AS name, e.title, e.start_time,
                e.end_time
         FROM calendar_events e JOIN contributors co ON co.id = e.contributor_id
         JOIN contacts c ON c.id = co.contact_id
         WHERE e.project_id = $1 AND e.event_type = 'PROJECT_ASSIGNMENT'
           AND e.cancelled_at IS NULL
         ORDER BY e.start_time, e.id LIMIT 50",
    )
    .bind(id)
    .fetch_all(&mut *db)
    .await?;
    let show_archived = q.archived.is_some();
    let now = state.clock.now();
    let delivery =
        crate::delivery::pages::section(&mut db, &staff, id, show_archived, now, today).await?;
    let workflow =
        crate::workflows::project_pages::panel(&mut db, &staff, &layout.settings, id).await?;
    Ok(render(&ProjectPage {
        workflow,
        crew,
        projection,
        delivery,
        can_invoices: staff.can(Permission::InvoicesManage),
        layout,
        project,
        booking_date,
        couple,
        invoices,
        open,
        today,
    }))
}
