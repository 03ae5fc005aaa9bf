//! The versions of a booked quote's agreement, side by side with what changed and the running
//! approved total (staff); and the couple's page where they approve or decline a change order
//! (portal).
use super::change_orders::{self, Answerer, Version};
use super::packages::Configuration;
use super::view;
use crate::auth::{Access, Permission, PortalUser, Staff};
use crate::db::Db;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::studio::Studio;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;
use std::collections::{BTreeSet, HashMap};

pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/quotes/{id}/changes",
            Access::Perm(Permission::BuildsView),
            history,
        )
        .get("/portal/changes/{build}", Access::Portal, couple_page)
        .post(
            "/portal/changes/{build}/{version}",
            Access::Portal,
            couple_answer,
        )
}

/// Names of the catalog rows a configuration uses, by kind ("scene", "operator", "film",
/// "style", "item") and id.
async fn names(conn: &mut PgConnection) -> AppResult<HashMap<(&'static str, i32), String>> {
    let o = view::options(conn).await?;
    let mut map = HashMap::new();
    for (kind, list) in [
        ("scene", o.scenes.0),
        ("operator", o.operators.0),
        ("film", o.deliverables.0),
        ("style", o.styles.0),
    ] {
        for (id, name) in list {
            map.insert((kind, id), name);
        }
    }
    for (id, name, _) in o.items.0 {
        map.insert(("item", id), name);
    }
    Ok(map)
}

fn read(c: &Configuration, names: &HashMap<(&'static str, i32), String>) -> BTreeSet<String> {
    let name = |kind: &str, id: i32| {
        ["scene", "operator", "film", "style", "item"]
            .into_iter()
            .find(|k| *k == kind)
            .and_then(|k| names.get(&(k, id)).cloned())
            .unwrap_or_else(|| format!("(deleted {kind})"))
    };
    change_orders::lines(c, &name)
}

/// A version as a page shows it.
pub struct VersionView {
    pub version: i32,
    pub status: String,
    pub description: String,
    pub delta: String,
    pub discount: Option<String>,
    pub total: String,
    /// The approved total after this version (it stays when a version is declined or waits).
    pub running: String,
    pub proposed: String,
    pub answered: Option<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// Every version with what it changed from the approved one before it.
fn views(
    versions: Vec<Version>,
    studio: &Studio,
    names: &HashMap<(&'static str, i32), String>,
) -> Vec<VersionView> {
    let mut approved: Option<(BTreeSet<String>, rust_decimal::Decimal)> = None;
    let mut out = vec![];
    for v in versions {
        let lines = v
            .snapshot
            .as_ref()
            .map(|s| read(&s.0, names))
            .unwrap_or_default();
        let (added, removed) = match &approved {
            Some((before, _)) => (
                lines.difference(before).cloned().collect(),
                before.difference(&lines).cloned().collect(),
            ),
            None => (lines.iter().cloned().collect(), vec![]),
        };
        if v.status == "Approved" {
            approved = Some((lines, v.new_total_approved_price));
        }
        let running = approved.as_ref().map(|a| a.1).unwrap_or_default();
        out.push(VersionView {
            version: v.version_number,
            description: v.description,
            delta: studio.money(v.price_delta),
            discount: v.discount_percentage.filter(|d| !d.is_zero()).map(|d| {
                let why = v.discount_reason.unwrap_or_default();
                format!("{}% off: {why}", d.normalize())
            }),
            total: studio.money(v.new_total_approved_price),
            running: studio.money(running),
            proposed: v.created_at.map(|t| studio.time(&t)).unwrap_or_default(),
            answered: v.answered_at.map(|t| studio.time(&t)),
            status: v.status,
            added,
            removed,
        });
    }
    out
}

#[derive(Template)]
#[template(path = "quote/changes.html")]
struct History {
    layout: Layout,
    id: i32,
    versions: Vec<VersionView>,
}

async fn history(mut db: Db, staff: Staff, Path(id): Path<String>) -> AppResult<Response> {
    let id: i32 = id.parse().map_err(|_| AppError::not_found("quote"))?;
    let head = view::head(&mut db, id).await?;
    let title = format!("Versions of quote #{id} · {}", head.couple);
    let layout = Layout::load(&mut db, &staff, &title, "/quotes").await?;
    let versions = change_orders::history(&mut db, id).await?;
    let names = names(&mut db).await?;
    let versions = views(versions, &layout.settings, &names);
    Ok(render(&History {
        layout,
        id,
        versions,
    }))
}

#[derive(Template)]
#[template(path = "quote/portal_change.html")]
struct CouplePage {
    studio: String,
    user: PortalUser,
    build: i32,
    versions: Vec<VersionView>,
    error: Option<String>,
}

/// The build, when it is this couple's (404 otherwise).
async fn theirs(conn: &mut PgConnection, user: &PortalUser, build: &str) -> AppResult<i32> {
    let build: i32 = build.parse().map_err(|_| AppError::not_found("quote"))?;
    let found: Option<i32> =
        sqlx::query_scalar("SELECT id FROM builds WHERE id = $1 AND client_id = $2")
            .bind(build)
            .bind(user.client_id)
            .fetch_optional(conn)
            .await?;
    found.ok_or_else(|| AppError::not_found("quote"))
}

async fn couple_view(
    conn: &mut PgConnection,
    user: PortalUser,
    build: i32,
    error: Option<String>,
) -> AppResult<CouplePage> {
    let studio = Studio::load(conn).await?;
    let versions = change_orders::history(conn, build).await?;
    let names = names(conn).await?;
    let mut versions = views(versions, &studio, &names);
    versions.reverse();
    Ok(CouplePage {
        studio: studio.studio_name,
        user,
        build,
        versions,
        error,
    })
}

async fn couple_page(
    mut db: Db,
    user: PortalUser,
    Path(build): Path<String>,
) -> AppResult<Response> {
    let build = theirs(&mut db, &user, &build).await?;
    Ok(render(&couple_view(&mut db, user, build, None).await?))
}

#[derive(serde::Deserialize, Default)]
struct CoupleAnswer {
    #[serde(default)]
    answer: String,
}

/// The couple approves or declines a change order; a refusal shows the page with the reason.
async fn couple_answer(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    Path((build, version)): Path<(String, i32)>,
    Form(f): Form<CoupleAnswer>,
) -> AppResult<Response> {
    let build = theirs(&mut db, &user, &build).await?;
    let result = async {
        let approve = match f.answer.as_str() {
            "approve" => true,
            "decline" => false,
            _ => return Err(AppError::field("answer", "is approve or decline")),
        };
        crate::db::transaction(&mut db, async |tx| {
            let studio = Studio::load(tx).await?;
            change_orders::answer(
                tx,
                &state.settings,
                &studio,
                &state.clock,
                build,
                version,
                approve,
                Answerer::Couple,
            )
            .await
        })
        .await
    }
    .await;
    let result = result.map(|mails| mails.send(&state.db, &state.clock));
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/portal/changes/{build}#answered")).into_response()),
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = couple_view(&mut db, user, build, refusal.message.clone()).await?;
            Ok(refusal.respond(render(&page)))
        }
    }
}
