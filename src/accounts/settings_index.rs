//! The Settings page: the sections this person may open.
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::AppResult;
use crate::http::layout::{Layout, allows, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::response::Response;

pub fn routes() -> Routes {
    Routes::new().get("/settings", Access::Staff, settings_index)
}

/// (path, label, access needed, what it is for): every settings page, so each is found by
/// clicks from the navigation.
const SECTIONS: &[(&str, &str, Access, &str)] = &[
    (
        "/settings/studio",
        "Studio settings",
        Access::Perm(Permission::SettingsManage),
        "Name, currency, time zone, tax, deposit and the editing rate.",
    ),
    (
        "/settings/delivery",
        "Delivery and surveys",
        Access::Perm(Permission::SettingsManage),
        "How long the couple's download links work, the reminder before they expire, and when the survey goes out after delivery.",
    ),
    (
        "/settings/proposal",
        "Proposal page",
        Access::Perm(Permission::SettingsManage),
        "Your logo, a welcome and the terms couples read on their proposal.",
    ),
    (
        "/settings/contract",
        "Contract template",
        Access::Perm(Permission::SettingsManage),
        "The contract couples sign, with merge fields filled in from the accepted proposal.",
    ),
    (
        "/settings/payment-schedules",
        "Payment schedules",
        Access::Perm(Permission::SettingsManage),
        "How couples pay: a deposit and the balance, or your own instalments, for a quote to choose.",
    ),
    (
        "/settings/questionnaires",
        "Questionnaires",
        Access::Perm(Permission::SettingsManage),
        "Forms the couple fills in their portal (timeline, shot list, music), with conditional \
         questions and answers that fill in the project's details.",
    ),
    (
        "/settings/workflows",
        "Workflows",
        Access::Perm(Permission::SettingsManage),
        "Timed emails, questionnaires, to-dos and approvals that run between booking and the \
         wedding.",
    ),
    (
        "/settings/catalog",
        "Catalogs and rules",
        Access::Staff,
        "Coverage, films, styles, add-ons, task templates and the pricing rules; the lead-form \
         code for your website.",
    ),
    (
        "/settings/rules-preview",
        "Rules preview",
        Access::Staff,
        "Try a configuration and see its price, line by line, with the reasons.",
    ),
    (
        "/settings/users",
        "Users",
        Access::Perm(Permission::UsersManage),
        "Invite staff, change their role, deactivate logins.",
    ),
    (
        "/settings/roles",
        "Roles",
        Access::Perm(Permission::UsersManage),
        "What each role may do.",
    ),
    (
        "/settings/audit",
        "Audit log",
        Access::Perm(Permission::SettingsManage),
        "Every change: who, what and when.",
    ),
    (
        "/settings/outbox",
        "Email outbox",
        Access::Perm(Permission::SettingsManage),
        "Every email sent or waiting to be sent, with failed tries and the mail server's answer; \
         retry one now.",
    ),
    (
        "/calendar/google",
        "Google Calendar",
        Access::Staff,
        "Connect your own Google Calendar: your shoots go to it, your busy times come back.",
    ),
    (
        "/calendar/google/team",
        "Google Calendar sync",
        Access::Perm(Permission::UsersManage),
        "Every person's Google Calendar sync and its last error, or how to turn sync on.",
    ),
    (
        "/settings/portal",
        "Client portal",
        Access::Perm(Permission::BookingsManage),
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
        .filter(|s| allows(&staff, s.2))
        .map(|s| (s.0, s.1, s.3))
        .collect();
    let page = SettingsIndex {
        layout: Layout::load(&mut db, &staff, "Settings", "/settings").await?,
        sections,
    };
    Ok(render(&page))
}
