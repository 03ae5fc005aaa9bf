//! The shoot day page (`/projects/{id}/shoot-day`): the wedding day's schedule from the
//! project's coverage, its times (set per line), and its crew: assign a person per line
//! (those who can fill the line's operator type first, each marked free or busy), take them
//! off. Changes swap the page's region in place with htmx; a refusal (someone unavailable:
//! who, when and why) shows by the line's picker.
use super::availability;
use super::crew::{self, Line, Project};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::error::ApiPath;
use crate::http::form::{Htmx, Refusal};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::ProjectsView);
    let manage = Access::Perm(Permission::BookingsManage);
    Routes::new()
        .get("/projects/{id}/shoot-day", view, page)
        .post("/projects/{id}/shoot-day/{line}/crew", manage, assign)
        .post("/projects/{id}/shoot-day/{line}/times", manage, times)
        .post("/projects/{id}/crew/{event}/remove", manage, remove)
}

/// A person the picker offers.
pub struct Candidate {
    pub id: i32,
    pub name: String,
    /// "Lead Videographer, Drone Pilot": what they can fill.
    pub can: String,
    /// Free during the line's times, or why not.
    pub busy: Option<String>,
    pub fits: bool,
}

pub struct LineView {
    pub line: Line,
    pub candidates: Vec<Candidate>,
}

#[derive(Template)]
#[template(path = "calendar/shoot_day.html")]
struct ShootDayPage {
    layout: Layout,
    project: Project,
    lines: Vec<LineView>,
    can_manage: bool,
    flash: Option<String>,
    refused: Option<(i32, Refusal)>,
}

impl ShootDayPage {
    fn error_for(&self, line: &i32, field: &str) -> Option<&str> {
        self.refused
            .as_ref()
            .filter(|(l, _)| l == line)
            .and_then(|(_, r)| r.field(field).or(r.message.as_deref()))
    }

    fn day(&self) -> String {
        self.project
            .wedding_date
            .map(|d| d.format("%A %B %-d, %Y").to_string())
            .unwrap_or_else(|| "no wedding date yet".into())
    }
}

#[derive(sqlx::FromRow)]
struct Skill {
    contributor_id: i32,
    operator_type_id: i32,
}

async fn view(conn: &mut PgConnection, staff: &Staff, id: i32) -> AppResult<ShootDayPage> {
    let layout = Layout::load(conn, staff, "Shoot day", "/calendar").await?;
    let tz = layout.settings.time_zone.clone();
    let project = crew::project(conn, id).await?;
    let lines = crew::lines(conn, &project, &tz).await?;
    let skills: Vec<Skill> =
        sqlx::query_as("SELECT contributor_id, operator_type_id FROM contributor_operator_types")
            .fetch_all(&mut *conn)
            .await?;
    let who = match project.wedding_date {
        Some(d) => {
            let range = (d, d.succ_opt().unwrap_or(d));
            availability::free_busy(conn, &tz, range, &Default::default()).await?
        }
        None => vec![],
    };
    let lines = lines
        .into_iter()
        .map(|line| {
            let s = super::rules::local_instant(line.start, &tz);
            let e = super::rules::local_instant(line.end, &tz);
            let mut candidates: Vec<Candidate> = who
                .iter()
                .filter(|p| {
                    !line
                        .crew
                        .iter()
                        .any(|c| c.contributor_id == p.contributor_id)
                })
                .map(|p| {
                    let busy = p
                        .busy
                        .iter()
                        .find(|b| match (s, e) {
                            (Some(s), Some(e)) => b.start_time < e && b.end_time > s,
                            _ => false,
                        })
                        .map(|b| format!("{} ({}), {}", b.title, b.event_type.label(), b.when));
                    let mine: Vec<&Skill> = skills
                        .iter()
                        .filter(|k| k.contributor_id == p.contributor_id)
                        .collect();
                    Candidate {
                        id: p.contributor_id,
                        name: p.name.clone(),
                        can: p.role.clone(),
                        busy,
                        fits: mine
                            .iter()
                            .any(|k| k.operator_type_id == line.operator_type_id),
                    }
                })
                .collect();
            candidates.sort_by_key(|c| (!c.fits, c.busy.is_some()));
            LineView { line, candidates }
        })
        .collect();
    Ok(ShootDayPage {
        can_manage: staff.can(Permission::BookingsManage),
        layout,
        project,
        lines,
        flash: None,
        refused: None,
    })
}

async fn page(mut db: Db, staff: Staff, ApiPath(id): ApiPath<i32>) -> AppResult<Response> {
    Ok(render(&view(&mut db, &staff, id).await?))
}

async fn answer(
    db: &mut Db,
    staff: &Staff,
    htmx: Htmx,
    id: i32,
    line: i32,
    result: AppResult<String>,
) -> AppResult<Response> {
    match result {
        Ok(flash) if !htmx.0 => {
            let _ = flash;
            Ok(Redirect::to(&format!("/projects/{id}/shoot-day")).into_response())
        }
        Ok(flash) => {
            let mut page = view(db, staff, id).await?;
            page.flash = Some(flash);
            Ok(render(&page))
        }
        Err(e) => {
            let refused = Refusal::from_error(e)?;
            let mut page = view(db, staff, id).await?;
            page.refused = Some((line, refused.clone()));
            Ok(refused.respond(render(&page)))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct AssignForm {
    #[serde(default)]
    contributor_id: String,
}

async fn assign(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    State(state): State<AppState>,
    ApiPath((id, line)): ApiPath<(i32, i32)>,
    Form(f): Form<AssignForm>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let tz = crate::studio::Studio::load(tx).await?.time_zone;
        let who: i32 = f
            .contributor_id
            .trim()
            .parse()
            .map_err(|_| AppError::field("contributor_id", "choose someone"))?;
        let e = crew::assign(
            tx,
            &tz,
            staff.contributor_id,
            (id, line, who),
            state.clock.now(),
        )
        .await?;
        Ok(format!("{} assigned: {}.", e.person, e.title))
    })
    .await;
    answer(&mut db, &staff, htmx, id, line, result).await
}

#[derive(Debug, Default, Deserialize)]
struct TimesForm {
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
}

async fn times(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    State(state): State<AppState>,
    ApiPath((id, line)): ApiPath<(i32, i32)>,
    Form(f): Form<TimesForm>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let tz = crate::studio::Studio::load(tx).await?.time_zone;
        let l = crew::set_times(
            tx,
            &tz,
            staff.contributor_id,
            (id, line),
            (&f.start, &f.end),
            state.clock.now(),
        )
        .await?;
        Ok(format!(
            "{} now {}–{}.",
            l.scene,
            l.start.format("%H:%M"),
            l.end.format("%H:%M")
        ))
    })
    .await;
    answer(&mut db, &staff, htmx, id, line, result).await
}

async fn remove(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    State(state): State<AppState>,
    ApiPath((id, event)): ApiPath<(i32, i32)>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let tz = crate::studio::Studio::load(tx).await?.time_zone;
        crew::unassign(
            tx,
            &tz,
            staff.contributor_id,
            (id, event),
            state.clock.now(),
        )
        .await?;
        Ok("Taken off the crew.".to_string())
    })
    .await;
    answer(&mut db, &staff, htmx, id, 0, result).await
}
