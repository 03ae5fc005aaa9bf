//! Google Calendar pages: `/calendar/google` (the person's own: connect, the calendars pulled,
//! the sync's state and last error, sync now, disconnect), the consent round trip
//! (`/calendar/google/connect` -> Google -> `/calendar/google/callback`, its state parameter
//! made for this person and login session, single use, ten minutes), and
//! `/calendar/google/team` (the Owner's: every person's sync state, or how to turn sync on).
use super::client;
use super::sync::{self, Outcome};
use super::{Status, TeamRow};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .get("/calendar/google", Access::Staff, page)
        .post("/calendar/google/connect", Access::Staff, connect)
        .get("/calendar/google/callback", Access::Staff, callback)
        .post("/calendar/google/calendars", Access::Staff, choose)
        .post("/calendar/google/sync", Access::Staff, sync_now)
        .post("/calendar/google/disconnect", Access::Staff, disconnect)
        .get(
            "/calendar/google/team",
            Access::Perm(Permission::UsersManage),
            team,
        )
}

/// A calendar as the page lists it.
pub struct CalRow {
    pub id: String,
    pub summary: String,
    pub primary: bool,
    pub selected: bool,
}

/// The person's connection as the page shows it.
pub struct Shown {
    pub account: String,
    pub status: &'static str,
    pub error: bool,
    pub disabled: bool,
    pub last_sync: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub connected: String,
    pub calendars: Vec<CalRow>,
}

#[derive(Template)]
#[template(path = "calendar/google.html")]
struct GooglePage {
    layout: Layout,
    on: bool,
    link: Option<Shown>,
    flash: Option<String>,
    problem: Option<String>,
    minutes: u64,
    owner: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

fn flash(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "connected" => {
                "Google Calendar connected. Your events go to its \"ProjectFlo\" \
                            calendar, and your busy times come back, at the next sync (or \
                            press Sync now)."
            }
            "saved" => "Saved: the calendars ticked are read for your busy times.",
            "synced" => "Synced.",
            "busy" => "A sync is under way already; yours follows in a moment.",
            "disconnected" => {
                "Disconnected. The \"ProjectFlo\" calendar stays in your Google \
                               account until you delete it there."
            }
            _ => return None,
        }
        .to_string(),
    )
}

async fn view(
    db: &mut Db,
    staff: &Staff,
    state: &AppState,
    flash: Option<String>,
    problem: Option<String>,
) -> AppResult<GooglePage> {
    let layout = Layout::load(db, staff, "Google Calendar", "/calendar").await?;
    let link = match super::link_of(db, staff.contributor_id).await? {
        None => None,
        Some(l) => {
            let cals = super::calendars(db, &l).await?;
            let t = |x: &chrono::DateTime<chrono::Utc>| layout.settings.time(x);
            Some(Shown {
                account: l
                    .account
                    .clone()
                    .unwrap_or_else(|| "your Google account".into()),
                status: l.sync_status.label(),
                error: l.sync_status == Status::Error,
                disabled: l.sync_status == Status::Disabled,
                last_sync: l.last_sync_at.as_ref().map(t),
                last_error: l.last_error.clone(),
                last_error_at: l.last_error_at.as_ref().map(t),
                connected: t(&l.connected_at),
                calendars: cals
                    .into_iter()
                    .map(|c| CalRow {
                        id: c.calendar_id,
                        summary: c.summary,
                        primary: c.is_primary,
                        selected: c.selected,
                    })
                    .collect(),
            })
        }
    };
    Ok(GooglePage {
        on: state.settings.google().is_some(),
        link,
        flash,
        problem,
        minutes: state.settings.google_sync_minutes,
        owner: staff.can(Permission::UsersManage),
        layout,
    })
}

async fn page(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    Query(q): Query<Done>,
) -> AppResult<Response> {
    let f = flash(q.done.as_deref());
    Ok(render(&view(&mut db, &staff, &state, f, None).await?))
}

fn off() -> AppError {
    AppError::Conflict(
        "Google Calendar sync is not turned on in this studio (the Owner's Google Calendar \
         page says how)"
            .into(),
    )
}

/// Start the consent round trip: a state parameter for this person and session, then to
/// Google's consent page.
async fn connect(mut db: Db, staff: Staff, State(state): State<AppState>) -> AppResult<Response> {
    let g = state.settings.google().ok_or_else(off)?;
    let now = state.clock.now();
    let st = crate::db::transaction(&mut db, async |tx| {
        super::new_state(tx, staff.contributor_id, staff.session_id.as_deref(), now).await
    })
    .await?;
    Ok(Redirect::to(&client::consent_url(&g, &st)).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct Back {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Google sends the person back here: the state checked (theirs, this session's, unused,
/// recent), the code exchanged for tokens, the refresh token sealed and kept.
async fn callback(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    Query(q): Query<Back>,
) -> AppResult<Response> {
    let g = state.settings.google().ok_or_else(off)?;
    let now = state.clock.now();
    let st = q.state.as_deref().unwrap_or("");
    crate::db::transaction(&mut db, async |tx| {
        super::take_state(
            tx,
            st,
            staff.contributor_id,
            staff.session_id.as_deref(),
            now,
        )
        .await
    })
    .await?;
    match grant(&g, &q).await {
        Ok((tokens, refresh)) => {
            crate::db::transaction(&mut db, async |tx| {
                super::connect(
                    tx,
                    g.token_key,
                    staff.contributor_id,
                    &tokens,
                    &refresh,
                    now,
                )
                .await
            })
            .await?;
            Ok(Redirect::to("/calendar/google?done=connected").into_response())
        }
        Err(m) => {
            let page = view(&mut db, &staff, &state, None, Some(m)).await?;
            Ok((axum::http::StatusCode::CONFLICT, render(&page)).into_response())
        }
    }
}

/// What Google's return brings: tokens with a refresh token, or why not (in people's words).
async fn grant(
    g: &crate::config::GoogleSettings<'_>,
    q: &Back,
) -> Result<(client::Tokens, String), String> {
    if let Some(e) = q.error.as_deref() {
        return Err(if e == "access_denied" {
            "You did not allow ProjectFlo to use your Google Calendar; nothing was connected."
                .to_string()
        } else {
            format!("Google did not connect the calendar ({}).", clip(e))
        });
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err("Google sent no authorization code; try again.".into());
    };
    let tokens = client::exchange_code(g, code)
        .await
        .map_err(|f| format!("Google did not connect the calendar: {f}"))?;
    let Some(refresh) = tokens.refresh_token.clone() else {
        return Err(
            "Google gave no offline access (no refresh token). Remove ProjectFlo under \
             \"Third-party apps with account access\" in your Google account, then connect \
             again."
                .into(),
        );
    };
    Ok((tokens, refresh))
}

fn clip(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(60)
        .collect()
}

fn linked(l: Option<super::Link>) -> AppResult<super::Link> {
    l.ok_or_else(|| AppError::Conflict("your Google Calendar is not connected".into()))
}

/// The calendars to read busy times from: every `cal` ticked.
async fn choose(mut db: Db, staff: Staff, body: String) -> AppResult<Response> {
    let chosen: Vec<String> = url::form_urlencoded::parse(body.as_bytes())
        .filter(|(k, _)| k == "cal")
        .map(|(_, v)| v.into_owned())
        .collect();
    crate::db::transaction(&mut db, async |tx| {
        let l = linked(super::link_of(tx, staff.contributor_id).await?)?;
        super::choose(tx, &l, &chosen).await
    })
    .await?;
    Ok(Redirect::to("/calendar/google?done=saved").into_response())
}

/// Sync this person now (the same run as the background one, for them only).
async fn sync_now(staff: Staff, State(state): State<AppState>) -> AppResult<Response> {
    let out = sync::run(
        &state.db,
        &state.settings,
        &state.clock,
        Some(staff.contributor_id),
    )
    .await?;
    let done = match out {
        Outcome::Off => return Err(off()),
        Outcome::Busy => "busy",
        Outcome::Ran(_) => "synced",
    };
    Ok(Redirect::to(&format!("/calendar/google?done={done}")).into_response())
}

/// Disconnect: the connection, its calendars and the busy times pulled are forgotten, and
/// Google is asked to revoke the grant.
async fn disconnect(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
) -> AppResult<Response> {
    let g = state.settings.google();
    let token = crate::db::transaction(&mut db, async |tx| {
        super::disconnect(tx, g.as_ref().map(|g| g.token_key), staff.contributor_id).await
    })
    .await?;
    if let (Some(g), Some(t)) = (&g, token) {
        client::revoke(g, &t).await;
    }
    Ok(Redirect::to("/calendar/google?done=disconnected").into_response())
}

/// A person of the team as the Owner's page shows them.
pub struct TeamShown {
    pub name: String,
    pub role: String,
    pub connected: bool,
    pub account: String,
    pub status: &'static str,
    pub error: bool,
    pub last_sync: String,
    pub last_error: String,
    pub calendars: i64,
}

#[derive(Template)]
#[template(path = "calendar/google_team.html")]
struct TeamPage {
    layout: Layout,
    on: bool,
    people: Vec<TeamShown>,
    redirect_uri: String,
    minutes: u64,
}

async fn team(mut db: Db, staff: Staff, State(state): State<AppState>) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Google Calendar sync", "/calendar").await?;
    let rows: Vec<TeamRow> = super::team(&mut db).await?;
    let t = |x: &chrono::DateTime<chrono::Utc>| layout.settings.time(x);
    let people = rows
        .into_iter()
        .map(|r| TeamShown {
            connected: r.connected,
            account: r.account.clone().unwrap_or_default(),
            status: r.sync_status.map_or("Not connected", Status::label),
            error: r.sync_status.is_some_and(|s| s != Status::Active),
            last_sync: r.last_sync_at.as_ref().map(t).unwrap_or_default(),
            last_error: match (&r.last_error, &r.last_error_at) {
                (Some(e), Some(at)) => format!("{} ({e})", t(at)),
                (Some(e), None) => e.clone(),
                _ => String::new(),
            },
            calendars: r.calendars,
            name: r.name,
            role: r.role,
        })
        .collect();
    let page = TeamPage {
        on: state.settings.google().is_some(),
        people,
        redirect_uri: format!("{}/calendar/google/callback", state.settings.base_url()),
        minutes: state.settings.google_sync_minutes,
        layout,
    };
    Ok(render(&page))
}
