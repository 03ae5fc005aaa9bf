//! The Settings page: the sections this person may open.
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::AppResult;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::response::Response;

pub fn routes() -> Routes {
    Routes::new().get("/settings", Access::Staff, settings_index)
}

/// (path, label, permission needed, what it is for)
const SECTIONS: &[(&str, &str, Permission, &str)] = &[
    (
        "/settings/users",
        "Users",
        Permission::UsersManage,
        "Invite staff, change their role, deactivate logins.",
    ),
    (
        "/settings/roles",
        "Roles",
        Permission::UsersManage,
        "What each role may do.",
    ),
    (
        "/settings/audit",
        "Audit log",
        Permission::SettingsManage,
        "Every change: who, what and when.",
    ),
    (
        "/settings/portal",
        "Client portal",
        Permission::BookingsManage,
        "Invite couples to their portal.",
    ),
];

#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsIndex {
    layout: Layout,
    sections: Vec<(&'static str, &'static str, &'static str)>,
}

async fn settings_index(mut db: Db, staff: Staff) -> AppResult<Response> {
    let sections = SECTIONS
        .iter()
        .filter(|s| staff.can(s.2))
        .map(|s| (s.0, s.1, s.3))
        .collect();
    let page = SettingsIndex {
        layout: Layout::load(&mut db, &staff, "Settings", "/settings").await?,
        sections,
    };
    Ok(render(&page))
}
