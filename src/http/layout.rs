//! The staff UI shell: the layout every page shares, rendering, the error page.
use crate::auth::{Access, Permission, Staff};
use crate::error::{AppError, AppResult};
use crate::studio::Studio;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

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
    /// The studio's settings, read once for the whole request.
    pub settings: Studio,
    pub user: String,
    pub role: String,
    pub csrf: String,
    /// The areas this person may open.
    pub nav: Vec<(&'static str, &'static str)>,
    /// Their unread notifications, counted up to `UNREAD_CAP` (the header's inbox link).
    pub unread: i64,
}

/// The unread count stops here ("99+"), so the header costs the same however many there are.
pub const UNREAD_CAP: i64 = 100;

/// The layout's one query: the studio's settings and the person's unread notifications
/// (`$1`: their contributor id), counted up to the cap along the index of unread ones by
/// (recipient, id): the ORDER BY keeps even a generic plan on that index, stopping at the cap.
pub fn load_sql() -> String {
    format!(
        "SELECT {}, (SELECT count(*) FROM (SELECT 1 FROM notifications
                     WHERE recipient_contributor_id = $1 AND NOT is_read
                     ORDER BY id LIMIT {UNREAD_CAP}) u) AS unread
         FROM studio_settings",
        Studio::COLUMNS
    )
}

#[derive(sqlx::FromRow)]
struct Loaded {
    #[sqlx(flatten)]
    settings: Studio,
    unread: i64,
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
        db: &mut sqlx::PgConnection,
        staff: &Staff,
        title: &str,
        active: &'static str,
    ) -> AppResult<Layout> {
        let Loaded { settings, unread } = sqlx::query_as(&load_sql())
            .bind(staff.contributor_id)
            .fetch_one(db)
            .await?;
        Ok(Layout {
            unread,
            title: title.into(),
            active,
            studio: settings.studio_name.clone(),
            settings,
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

    /// The unread count as the header shows it: "3", or "99+" past the cap.
    pub fn unread_label(&self) -> String {
        if self.unread >= UNREAD_CAP {
            format!("{}+", UNREAD_CAP - 1)
        } else {
            self.unread.to_string()
        }
    }
}

/// Render a template into a response; a template error is an internal error.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

/// The access each menu item needs, for the navigation.
const AREA_ACCESS: &[(&str, Access)] = &[
    ("/leads", Access::Perm(Permission::LeadsView)),
    ("/quotes", Access::Perm(Permission::BuildsView)),
    ("/projects", Access::Perm(Permission::ProjectsView)),
    ("/tasks", Access::Perm(Permission::TasksWork)),
    ("/calendar", Access::Staff),
    ("/invoices", Access::Perm(Permission::InvoicesManage)),
    ("/reports", Access::Perm(Permission::ReportsView)),
];

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

/// CSS class of a status badge: "Proposal Sent" -> "status-proposal-sent".
pub fn status_class(status: &str) -> String {
    format!("status-{}", status.to_lowercase().replace(' ', "-"))
}
