//! The staff UI shell: the layout, the dashboard, and the areas still to come.
use super::{AppError, AppResult, AppState};
use crate::auth::{Access, Staff};
use crate::http::routes::Routes;
use crate::money;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The areas in the navigation, in order: (path, label).
pub const NAV: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/leads", "Leads"),
    ("/quotes", "Quotes"),
    ("/projects", "Projects"),
    ("/tasks", "Tasks"),
    ("/calendar", "Calendar"),
    ("/invoices", "Invoices"),
    ("/reports", "Reports"),
    ("/settings", "Settings"),
];

/// What every page's layout needs.
pub struct Layout {
    pub title: String,
    pub active: &'static str,
    pub studio: String,
    pub user: String,
    pub role: String,
    pub csrf: String,
    /// The areas this person may open.
    pub nav: Vec<(&'static str, &'static str)>,
}

/// The access each navigation area needs.
pub fn area_access(path: &str) -> Access {
    AREA_ACCESS
        .iter()
        .find(|a| a.0 == path)
        .map_or(Access::Staff, |a| a.1)
}

pub fn allows(staff: &Staff, access: Access) -> bool {
    match access {
        Access::Perm(p) => staff.can(p),
        Access::Staff => true,
        Access::Public | Access::Portal => false,
    }
}

impl Layout {
    pub async fn load(
        db: &sqlx::PgPool,
        staff: &Staff,
        title: &str,
        active: &'static str,
    ) -> AppResult<Layout> {
        let studio: String = sqlx::query_scalar("SELECT studio_name FROM studio_settings")
            .fetch_one(db)
            .await?;
        Ok(Layout {
            title: title.into(),
            active,
            studio,
            user: staff.name.clone(),
            role: staff.role.clone(),
            csrf: staff.csrf.clone().unwrap_or_default(),
            nav: NAV
                .iter()
                .copied()
                .filter(|(p, _)| allows(staff, area_access(p)))
                .collect(),
        })
    }

    pub fn is_active(&self, path: &str) -> bool {
        self.active == path
    }
}

/// Render a template into a response; a template error is an internal error.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

/// What each not-yet-built area will need once it exists.
const AREA_ACCESS: &[(&str, Access)] = &[
    ("/leads", Access::Perm("leads.view")),
    ("/quotes", Access::Perm("builds.view")),
    ("/projects", Access::Perm("projects.view")),
    ("/tasks", Access::Staff),
    ("/calendar", Access::Staff),
    ("/invoices", Access::Perm("invoices.manage")),
    ("/reports", Access::Perm("reports.view")),
];

pub fn routes() -> Routes {
    let mut r = Routes::new().get("/", Access::Staff, dashboard);
    // Leads and Quotes have their own pages; the rest are still to come.
    for &(path, label) in NAV[3..NAV.len() - 1].iter() {
        r = r.get(
            path,
            area_access(path),
            move |s: State<AppState>, staff: Staff| coming_soon(s, staff, path, label),
        );
    }
    r
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    detail: &'a str,
}

pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        detail,
    };
    (status, render(&page)).into_response()
}

pub struct StatusBar {
    pub status: String,
    pub count: i64,
    pub percent: i64,
}

pub struct RecentInquiry {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub wedding_date: Option<NaiveDate>,
    pub status: String,
    pub source: String,
}

impl RecentInquiry {
    pub fn status_class(&self) -> String {
        status_class(&self.status)
    }
}

/// CSS class of a status badge: "Proposal Sent" -> "status-proposal-sent".
pub fn status_class(status: &str) -> String {
    format!("status-{}", status.to_lowercase().replace(' ', "-"))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    open_leads: i64,
    proposals_out: i64,
    /// What the quotes with the couples are worth, in the studio's currency.
    proposals_value: String,
    weddings_next_90: i64,
    editing_rate: String,
    pipeline: Vec<StatusBar>,
    recent: Vec<RecentInquiry>,
    catalog: Vec<(&'static str, i64)>,
    /// Overdue follow-ups: everyone's for people who see leads, else their own.
    overdue: Vec<crate::crm::ActivityRow>,
    /// Lead numbers and names only for people who may see leads.
    show_leads: bool,
}

async fn dashboard(State(state): State<AppState>, staff: Staff) -> AppResult<Response> {
    let db = &state.db;
    let layout = Layout::load(db, &staff, "Dashboard", "/").await?;
    // One query per panel; none loops over rows.
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s::text AS status_name, count(i.id) FROM unnest(enum_range(NULL::inquiries_status)) s
         LEFT JOIN inquiries i ON i.status = s GROUP BY s ORDER BY s",
    )
    .fetch_all(db)
    .await?;
    let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let count = |name: &str| counts.iter().find(|c| c.0 == name).map_or(0, |c| c.1);
    let open_leads = count("New") + count("Contacted") + count("Proposal Sent");
    let pipeline = counts
        .iter()
        .map(|(status, n)| StatusBar {
            status: status.clone(),
            count: *n,
            percent: n * 100 / max,
        })
        .collect();
    let weddings_next_90: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM inquiries WHERE status <> 'Closed-Lost'
         AND wedding_date BETWEEN current_date AND current_date + 90",
    )
    .fetch_one(db)
    .await?;
    let proposals_value: Decimal = sqlx::query_scalar(
        "SELECT COALESCE(sum(live_price), 0) FROM builds WHERE status = 'Proposal Sent'",
    )
    .fetch_one(db)
    .await?;
    let (rate, currency): (Decimal, String) =
        sqlx::query_as("SELECT editing_hourly_rate, currency_code FROM studio_settings")
            .fetch_one(db)
            .await?;
    let recent = sqlx::query_as::<_, (i32, Option<String>, Option<String>, String, Option<NaiveDate>, String, Option<String>)>(
        "SELECT i.id, c.first_name, c.last_name, c.email, i.wedding_date, i.status::text, i.lead_source
         FROM inquiries i JOIN contacts c ON c.id = i.contact_id
         ORDER BY i.created_at DESC, i.id DESC LIMIT 8",
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|(id, first, last, email, wedding_date, status, source)| RecentInquiry {
        id,
        name: format!("{} {}", first.unwrap_or_default(), last.unwrap_or_default()).trim().to_string(),
        email,
        wedding_date,
        status,
        source: source.unwrap_or_else(|| "—".into()),
    })
    .collect();
    let catalog: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM coverage_scenes), (SELECT count(*) FROM deliverables),
                (SELECT count(*) FROM editing_styles), (SELECT count(*) FROM task_templates),
                (SELECT count(*) FROM contributors)",
    )
    .fetch_one(db)
    .await?;
    let who = (!staff.can("leads.view")).then_some(staff.contributor_id);
    let overdue = crate::crm::todos(db, who, true).await?;
    let page = Dashboard {
        show_leads: staff.can("leads.view"),
        overdue,
        layout,
        open_leads,
        proposals_out: count("Proposal Sent"),
        proposals_value: money::format(proposals_value, &currency),
        weddings_next_90,
        editing_rate: money::format(rate, &currency),
        pipeline,
        recent,
        catalog: vec![
            ("Coverage scenes", catalog.0),
            ("Films", catalog.1),
            ("Editing styles", catalog.2),
            ("Task templates", catalog.3),
            ("Team members", catalog.4),
        ],
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "coming_soon.html")]
struct ComingSoon {
    layout: Layout,
    what: &'static str,
}

async fn coming_soon(
    State(state): State<AppState>,
    staff: Staff,
    path: &'static str,
    label: &'static str,
) -> AppResult<Response> {
    let what = match label {
        "Leads" => {
            "The leads board: every inquiry from your website form and your inbox, by status, with follow-ups."
        }
        "Quotes" => {
            "The quote builder: coverage, films and editing styles, with a price that follows the work."
        }
        "Projects" => {
            "Booked weddings: contract price, change orders and everything that happens after the yes."
        }
        "Tasks" => {
            "Editing and shooting tasks generated from each quote, with planned hours from each editor's real speed."
        }
        "Calendar" => {
            "The team calendar: shoots, absences and holidays, so no one is booked twice."
        }
        "Invoices" => "Deposits, balances and payments, in your currency.",
        _ => "Profit per project from real hours, team speed, and which lead sources pay off.",
    };
    let layout = Layout::load(&state.db, &staff, label, path).await?;
    Ok(render(&ComingSoon { layout, what }))
}
