//! The team calendar pages: `/calendar` (week or month, the whole team or one person, a role
//! filter; every event type; times in the studio's zone, all-day events on their local day),
//! adding, moving, resizing and deleting events in place with htmx (by the keyboard, by the
//! buttons, or by dragging a chip to another day), `/calendar/availability` (free/busy), and
//! `/calendar/feeds` (secret ICS feed URLs) with the public feed itself.
use super::availability::{self, Person};
use super::events::{self, Event, EventType, Filter};
use super::feeds;
use super::recurrences;
use super::rules::{self, Freq};
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
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let edit = Access::Perm(Permission::CalendarEdit);
    Routes::new()
        .get("/calendar", Access::Staff, page)
        .post("/calendar/events", edit, create)
        .get("/calendar/events/{id}", Access::Staff, open_event)
        .post("/calendar/events/{id}/move", edit, move_event)
        .post("/calendar/events/{id}/nudge", edit, nudge)
        .post("/calendar/events/{id}/delete", edit, delete)
        .post("/calendar/recurrences", edit, create_rule)
        .get("/calendar/availability", Access::Staff, availability_page)
        .get("/calendar/feeds", Access::Staff, feeds_page)
        .post("/calendar/feeds", Access::Staff, renew_feed)
        .post("/calendar/feeds/revoke", Access::Staff, revoke_feed)
        .get("/calendar/feed/{token}", Access::Public, feed)
}

/// Which view: what `/calendar`'s query and every form's hidden fields carry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct View {
    #[serde(default)]
    pub view: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    /// The event open in the side panel.
    #[serde(default)]
    pub open: Option<String>,
}

struct Parsed {
    month: bool,
    date: NaiveDate,
    person: Option<i32>,
    role: Option<String>,
}

fn parse_view(v: &View, today: NaiveDate) -> Parsed {
    let blank = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Parsed {
        month: v.view.as_deref() == Some("month"),
        date: blank(&v.date)
            .and_then(|d| crate::dates::parse(&d).ok())
            .unwrap_or(today),
        person: blank(&v.person).and_then(|p| p.parse().ok()),
        role: blank(&v.role),
    }
}

/// A chip on the grid.
pub struct Chip {
    pub id: i32,
    pub label: String,
    pub time: String,
    pub title: String,
    pub class: &'static str,
    pub movable: bool,
    pub cancelled: bool,
    pub all_day: bool,
}

pub struct Day {
    pub date: NaiveDate,
    pub iso: String,
    pub label: String,
    pub today: bool,
    pub other_month: bool,
    pub chips: Vec<Chip>,
}

pub struct Row {
    pub id: i32,
    pub name: String,
    pub role: String,
    pub days: Vec<Day>,
}

/// The event open in the panel.
pub struct Open {
    pub id: i32,
    pub title: String,
    pub person: String,
    pub kind: String,
    pub when: String,
    pub all_day: bool,
    pub start_date: String,
    pub start_time: String,
    pub end_date: String,
    pub end_time: String,
    pub movable: bool,
    /// A crew assignment: changed on its project's shoot day.
    pub crew: bool,
    pub project: Option<i32>,
}

#[derive(Template)]
#[template(path = "calendar/calendar.html")]
pub struct CalendarPage {
    pub layout: Layout,
    pub month: bool,
    pub heading: String,
    pub date: String,
    pub prev: String,
    pub next: String,
    pub today: String,
    pub person: Option<i32>,
    pub role: String,
    pub people: Vec<(i32, String, String)>,
    pub roles: Vec<String>,
    /// Week: one row per person. Month: one row of weeks (`id` 0).
    pub rows: Vec<Row>,
    pub weekdays: Vec<String>,
    pub open: Option<Open>,
    pub can_edit: bool,
    pub flash: Option<String>,
    pub refused: Option<Refusal>,
    /// What the new-event form had (kept when refused).
    pub form: NewForm,
    pub types: Vec<(&'static str, &'static str)>,
}

impl CalendarPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }

    pub fn message(&self) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.message.as_deref())
    }

    /// The query of this view (for links), with the date given.
    pub fn at(&self, date: &str) -> String {
        let mut q = format!(
            "view={}&date={date}",
            if self.month { "month" } else { "week" }
        );
        if let Some(p) = self.person {
            q.push_str(&format!("&person={p}"));
        }
        if !self.role.is_empty() {
            q.push_str(&format!("&role={}", urlencode(&self.role)));
        }
        q
    }

    pub fn switch(&self, month: bool) -> String {
        let mut q = format!(
            "view={}&date={}",
            if month { "month" } else { "week" },
            self.date
        );
        if let Some(p) = self.person {
            q.push_str(&format!("&person={p}"));
        }
        if !self.role.is_empty() {
            q.push_str(&format!("&role={}", urlencode(&self.role)));
        }
        q
    }

    pub fn is_person(&self, id: &i32) -> bool {
        self.person == Some(*id)
    }

    /// The week's days, for the header.
    pub fn header_days(&self) -> &[Day] {
        self.rows
            .first()
            .map(|r| r.days.as_slice())
            .unwrap_or_default()
    }

    pub fn form_person(&self, id: &i32) -> bool {
        self.form.contributor_id.parse::<i32>().ok() == Some(*id)
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The new-event form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewForm {
    #[serde(default)]
    pub contributor_id: String,
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub all_day: Option<String>,
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub start_time: String,
    #[serde(default)]
    pub end_date: String,
    #[serde(default)]
    pub end_time: String,
    #[serde(default)]
    pub description: String,
    /// Repeat: "" (once), WEEKLY or YEARLY (all-day absences and holidays).
    #[serde(default)]
    pub repeat: String,
    #[serde(flatten)]
    pub view: View,
}

impl NewForm {
    pub fn is_all_day(&self) -> bool {
        self.all_day.is_some()
    }
}

const TYPES: [(&str, &str); 4] = [
    ("ABSENCE", "Absence (day off, leave)"),
    ("HOLIDAY", "Holiday"),
    ("PERSONAL", "Personal (not blocking)"),
    (
        "PROJECT_ASSIGNMENT",
        "Shoot assignment (from a project's shoot day)",
    ),
];

async fn people(conn: &mut PgConnection) -> AppResult<Vec<(i32, String, String)>> {
    Ok(sqlx::query_as(&format!(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, r.name AS role
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN roles r ON r.id = co.role_id
         WHERE {} ORDER BY name, co.id LIMIT 500",
        availability::ACTIVE
    ))
    .fetch_all(conn)
    .await?)
}

fn chip(e: &Event, tz: &str, with_name: bool) -> Chip {
    let (s, end) = (rules::local(e.start_time, tz), rules::local(e.end_time, tz));
    let time = if e.is_all_day {
        "All day".to_string()
    } else {
        format!("{}–{}", s.format("%H:%M"), end.format("%H:%M"))
    };
    Chip {
        id: e.id,
        label: if with_name {
            format!("{}: {}", e.person, e.title)
        } else {
            e.title.clone()
        },
        time,
        title: format!(
            "{} · {} · {}",
            e.person,
            e.event_type.label(),
            events::when(e.start_time, e.end_time, e.is_all_day, tz)
        ),
        class: e.event_type.class(),
        movable: e.recurrence_id.is_none()
            && e.coverage_assignment_id.is_none()
            && e.event_type != EventType::ExternalSync,
        cancelled: e.cancelled,
        all_day: e.is_all_day,
    }
}

fn on_day(e: &Event, d: NaiveDate, tz: &str) -> bool {
    let (s, t) = rules::all_day_range(d, d, tz);
    e.start_time < t && e.end_time > s
}

/// The calendar page for a view.
pub async fn view(
    conn: &mut PgConnection,
    staff: &Staff,
    state: &AppState,
    v: &View,
) -> AppResult<CalendarPage> {
    let layout = Layout::load(conn, staff, "Calendar", "/calendar").await?;
    let tz = layout.settings.time_zone.clone();
    let today = state.clock.today(&tz);
    let p = parse_view(v, today);
    let (first, last) = if p.month {
        let m1 = p.date.with_day(1).unwrap_or(p.date);
        let start = m1 - Duration::days(m1.weekday().num_days_from_monday() as i64);
        let next_month = (m1 + Duration::days(32)).with_day(1).unwrap_or(m1);
        let end_month = next_month - Duration::days(1);
        let end = end_month + Duration::days(6 - end_month.weekday().num_days_from_monday() as i64);
        (start, end)
    } else {
        let start = p.date - Duration::days(p.date.weekday().num_days_from_monday() as i64);
        (start, start + Duration::days(6))
    };
    let filter = Filter {
        contributor_id: p.person,
        role: p.role.clone(),
    };
    let list = events::list(conn, &tz, (first, last), &filter, None, 3000).await?;
    let everyone = people(conn).await?;
    let mut roles: Vec<String> = everyone.iter().map(|x| x.2.clone()).collect();
    roles.sort();
    roles.dedup();
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let day = |d: NaiveDate, evs: &[&Event], names: bool| Day {
        date: d,
        iso: d.to_string(),
        label: if p.month {
            d.format("%-d").to_string()
        } else {
            d.format("%a %-d %b").to_string()
        },
        today: d == today,
        other_month: p.month && d.month() != p.date.month(),
        chips: evs
            .iter()
            .filter(|e| on_day(e, d, &tz))
            .map(|e| chip(e, &tz, names))
            .collect(),
    };
    let rows = if p.month {
        let all: Vec<&Event> = list.iter().collect();
        days.chunks(7)
            .enumerate()
            .map(|(i, w)| Row {
                id: i as i32,
                name: String::new(),
                role: String::new(),
                days: w
                    .iter()
                    .map(|d| day(*d, &all, p.person.is_none()))
                    .collect(),
            })
            .collect()
    } else {
        everyone
            .iter()
            .filter(|x| p.person.is_none_or(|id| id == x.0))
            .filter(|x| p.role.as_ref().is_none_or(|r| *r == x.2))
            .map(|x| {
                let mine: Vec<&Event> = list.iter().filter(|e| e.contributor_id == x.0).collect();
                Row {
                    id: x.0,
                    name: x.1.clone(),
                    role: x.2.clone(),
                    days: days.iter().map(|d| day(*d, &mine, false)).collect(),
                }
            })
            .collect()
    };
    let open = match v.open.as_deref().and_then(|o| o.parse::<i32>().ok()) {
        Some(id) => Some(open_of(&events::get(conn, id).await?, &tz)),
        None => None,
    };
    let step = if p.month {
        let m1 = p.date.with_day(1).unwrap_or(p.date);
        let prev = (m1 - Duration::days(1)).with_day(1).unwrap_or(m1);
        let next = (m1 + Duration::days(32)).with_day(1).unwrap_or(m1);
        (prev, next)
    } else {
        (p.date - Duration::days(7), p.date + Duration::days(7))
    };
    let heading = if p.month {
        p.date.format("%B %Y").to_string()
    } else {
        format!(
            "Week of {} to {}",
            first.format("%b %-d"),
            last.format("%b %-d, %Y")
        )
    };
    Ok(CalendarPage {
        can_edit: staff.can(Permission::CalendarEdit),
        layout,
        month: p.month,
        heading,
        date: p.date.to_string(),
        prev: step.0.to_string(),
        next: step.1.to_string(),
        today: today.to_string(),
        person: p.person,
        role: p.role.unwrap_or_default(),
        people: everyone,
        roles,
        rows,
        weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            .map(String::from)
            .to_vec(),
        open,
        flash: None,
        refused: None,
        form: NewForm {
            start_date: p.date.to_string(),
            end_date: p.date.to_string(),
            start_time: "09:00".into(),
            end_time: "17:00".into(),
            ..NewForm::default()
        },
        types: TYPES.to_vec(),
    })
}

fn open_of(e: &Event, tz: &str) -> Open {
    let (s, t) = (rules::local(e.start_time, tz), rules::local(e.end_time, tz));
    let last = if e.is_all_day {
        (t - Duration::seconds(1)).date()
    } else {
        t.date()
    };
    Open {
        id: e.id,
        title: e.title.clone(),
        person: e.person.clone(),
        kind: e.event_type.label().to_string(),
        when: events::when(e.start_time, e.end_time, e.is_all_day, tz),
        all_day: e.is_all_day,
        start_date: s.date().to_string(),
        start_time: s.format("%H:%M").to_string(),
        end_date: last.to_string(),
        end_time: t.format("%H:%M").to_string(),
        movable: e.recurrence_id.is_none()
            && e.coverage_assignment_id.is_none()
            && e.event_type != EventType::ExternalSync
            && !e.cancelled,
        crew: e.coverage_assignment_id.is_some(),
        project: e.project_id,
    }
}

async fn page(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    Query(v): Query<View>,
) -> AppResult<Response> {
    Ok(render(&view(&mut db, &staff, &state, &v).await?))
}

async fn open_event(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
    Query(mut v): Query<View>,
) -> AppResult<Response> {
    v.open = Some(id.to_string());
    Ok(render(&view(&mut db, &staff, &state, &v).await?))
}

/// After a change: the page of the view (htmx swaps its region), or a redirect to it.
async fn answer(
    db: &mut Db,
    staff: &Staff,
    state: &AppState,
    htmx: Htmx,
    v: &View,
    result: AppResult<String>,
    form: Option<NewForm>,
) -> AppResult<Response> {
    match result {
        Ok(flash) => {
            if !htmx.0 {
                let mut to = format!(
                    "/calendar?view={}&date={}",
                    v.view.as_deref().unwrap_or("week"),
                    v.date.as_deref().unwrap_or("")
                );
                if let Some(p) = v.person.as_deref().filter(|p| !p.is_empty()) {
                    to.push_str(&format!("&person={}", urlencode(p)));
                }
                if let Some(r) = v.role.as_deref().filter(|r| !r.is_empty()) {
                    to.push_str(&format!("&role={}", urlencode(r)));
                }
                if let Some(o) = v.open.as_deref().filter(|o| !o.is_empty()) {
                    to.push_str(&format!("&open={}", urlencode(o)));
                }
                return Ok(Redirect::to(&to).into_response());
            }
            let mut page = view(db, staff, state, v).await?;
            page.flash = Some(flash);
            Ok(render(&page))
        }
        Err(e) => {
            let refused = Refusal::from_error(e)?;
            let mut page = view(db, staff, state, v).await?;
            if let Some(f) = form {
                page.form = f;
            }
            page.refused = Some(refused.clone());
            Ok(refused.respond(render(&page)))
        }
    }
}

async fn create(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    State(state): State<AppState>,
    Form(f): Form<NewForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let today_of = |tz: &str| state.clock.today(tz);
    let result = crate::db::transaction(&mut db, async |tx| {
        let studio = crate::studio::Studio::load(tx).await?;
        let tz = studio.time_zone;
        let contributor_id = f
            .contributor_id
            .trim()
            .parse()
            .map_err(|_| AppError::field("contributor_id", "choose who it is for"))?;
        let event_type = EventType::parse(f.event_type.trim())
            .ok_or_else(|| AppError::field("event_type", "choose what kind of event"))?;
        let title = events::title(&f.title)?;
        if !f.repeat.trim().is_empty() {
            let freq = Freq::parse(f.repeat.trim())
                .ok_or_else(|| AppError::field("repeat", "once, every week or every year"))?;
            if !f.is_all_day() {
                return Err(AppError::field("repeat", "only all-day events repeat"));
            }
            let first_day =
                crate::dates::parse(&f.start_date).map_err(|m| AppError::field("start", m))?;
            let rule = recurrences::NewRule {
                contributor_id,
                title,
                event_type,
                freq,
                first_day,
                until_day: None,
            };
            recurrences::create(tx, &tz, staff.contributor_id, &rule, (today_of(&tz), now))
                .await
                .map_err(|e| match e {
                    AppError::FieldConflict { message, .. } => {
                        AppError::field_conflict("start", message)
                    }
                    AppError::Validation { errors, message }
                        if errors.iter().any(|e| e.field == "event_type") =>
                    {
                        let _ = message;
                        AppError::field("repeat", "only absences and holidays repeat")
                    }
                    e => e,
                })?;
            return Ok(format!("{} added, repeating.", rule.title));
        }
        if event_type == EventType::ProjectAssignment {
            return Err(AppError::field(
                "event_type",
                "assign crew on the project's shoot day page",
            ));
        }
        let (start, end) = if f.is_all_day() {
            (f.start_date.clone(), f.end_date.clone())
        } else {
            (
                format!("{}T{}", f.start_date.trim(), f.start_time.trim()),
                format!("{}T{}", f.end_date.trim(), f.end_time.trim()),
            )
        };
        let event_type = super::api::NewType::of(event_type)
            .ok_or_else(|| AppError::field("event_type", "choose what kind of event"))?;
        let body = super::api::EventIn {
            contributor_id,
            title,
            event_type,
            all_day: f.is_all_day(),
            start,
            end,
            description: Some(f.description.clone()),
            project_id: None,
        };
        let e = super::api::new_event(&body, &tz)?;
        let made = events::create(tx, &tz, staff.contributor_id, &e, now).await?;
        Ok(format!("{} added for {}.", made.title, made.person))
    })
    .await;
    let v = f.view.clone();
    answer(&mut db, &staff, &state, htmx, &v, result, Some(f)).await
}

#[derive(Debug, Clone, Default, Deserialize)]
struct MoveForm {
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    end_date: String,
    #[serde(default)]
    end_time: String,
    /// For nudges: day-1, day+1, longer, shorter, days:N (dragged N days), or end:N (its
    /// edge dragged: the end N steps later, or earlier when negative).
    #[serde(default)]
    by: String,
    #[serde(flatten)]
    view: View,
}

async fn move_event(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
    Form(f): Form<MoveForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let result = crate::db::transaction(&mut db, async |tx| {
        let tz = crate::studio::Studio::load(tx).await?.time_zone;
        let e = events::get(tx, id).await?;
        let (start, end) = if e.is_all_day {
            (f.start_date.clone(), f.end_date.clone())
        } else {
            (
                format!("{}T{}", f.start_date.trim(), f.start_time.trim()),
                format!("{}T{}", f.end_date.trim(), f.end_time.trim()),
            )
        };
        let range = events::parse_times(e.is_all_day, &start, &end, &tz)?;
        let moved = events::change_times(tx, &tz, staff.contributor_id, id, range, now).await?;
        Ok(format!(
            "{} now {}.",
            moved.title,
            events::when(moved.start_time, moved.end_time, moved.is_all_day, &tz)
        ))
    })
    .await;
    let mut v = f.view.clone();
    v.open = Some(id.to_string());
    answer(&mut db, &staff, &state, htmx, &v, result, None).await
}

/// The new start and end of a nudge, as local wall times: a day earlier or later (or N days:
/// a drag), keeping its length; longer or shorter by 30 minutes (a day, all-day), or by N
/// such steps (its edge dragged), never to nothing.
pub fn nudged(
    by: &str,
    (s, e): (NaiveDateTime, NaiveDateTime),
    all_day: bool,
) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let step = if all_day {
        Duration::days(1)
    } else {
        Duration::minutes(30)
    };
    match by {
        "day-1" => Some((s - Duration::days(1), e - Duration::days(1))),
        "day+1" => Some((s + Duration::days(1), e + Duration::days(1))),
        "longer" => Some((s, e + step)),
        "shorter" => (e - step > s).then_some((s, e - step)),
        _ if by.starts_with("end:") => {
            let n: i64 = by.strip_prefix("end:")?.parse().ok()?;
            let end = e + step * i32::try_from(n).ok().filter(|n| n.abs() <= 1488)?;
            (end > s).then_some((s, end))
        }
        _ => {
            let n: i64 = by.strip_prefix("days:")?.parse().ok()?;
            (n.abs() <= 366).then(|| (s + Duration::days(n), e + Duration::days(n)))
        }
    }
}

async fn nudge(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
    Form(f): Form<MoveForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let result = crate::db::transaction(&mut db, async |tx| {
        let tz = crate::studio::Studio::load(tx).await?.time_zone;
        let e = events::get(tx, id).await?;
        let wall = (
            rules::local(e.start_time, &tz),
            rules::local(e.end_time, &tz),
        );
        let (s, t) = nudged(f.by.trim(), wall, e.is_all_day)
            .ok_or_else(|| AppError::field("by", "it cannot be shorter than that"))?;
        let at = |w: NaiveDateTime| {
            rules::local_instant(w, &tz).ok_or_else(|| {
                AppError::field(
                    "start",
                    format!("{w} does not exist in {tz} (the clocks go forward)"),
                )
            })
        };
        let range = if e.is_all_day {
            rules::all_day_range(s.date(), (t - Duration::seconds(1)).date(), &tz)
        } else {
            (at(s)?, at(t)?)
        };
        let moved = events::change_times(tx, &tz, staff.contributor_id, id, range, now).await?;
        Ok(format!(
            "{} now {}.",
            moved.title,
            events::when(moved.start_time, moved.end_time, moved.is_all_day, &tz)
        ))
    })
    .await;
    let mut v = f.view.clone();
    v.open = Some(id.to_string());
    answer(&mut db, &staff, &state, htmx, &v, result, None).await
}

async fn delete(
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
    Form(v): Form<View>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let result = crate::db::transaction(&mut db, async |tx| {
        let tz = crate::studio::Studio::load(tx).await?.time_zone;
        let e = events::get(tx, id).await?;
        events::cancel(tx, &tz, staff.contributor_id, id, now).await?;
        Ok(format!("{} deleted.", e.title))
    })
    .await;
    let v = View { open: None, ..v };
    answer(&mut db, &staff, &state, htmx, &v, result, None).await
}

async fn create_rule(
    db: Db,
    staff: Staff,
    htmx: Htmx,
    state: State<AppState>,
    Form(mut f): Form<NewForm>,
) -> AppResult<Response> {
    f.all_day = Some("on".into());
    if f.repeat.trim().is_empty() {
        f.repeat = "WEEKLY".into();
    }
    create(db, staff, htmx, state, Form(f)).await
}

#[derive(Template)]
#[template(path = "calendar/availability.html")]
struct AvailabilityPage {
    layout: Layout,
    from: String,
    to: String,
    person: Option<i32>,
    role: String,
    people: Vec<(i32, String, String)>,
    roles: Vec<String>,
    answer: Vec<Person>,
    refused: Option<Refusal>,
}

impl AvailabilityPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }

    fn is_person(&self, id: &i32) -> bool {
        self.person == Some(*id)
    }

    fn day(&self, d: &NaiveDate) -> String {
        d.format("%a %b %-d").to_string()
    }
}

#[derive(Debug, Default, Deserialize)]
struct AvailabilityQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    person: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

async fn availability_page(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    Query(q): Query<AvailabilityQuery>,
) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Availability", "/calendar").await?;
    let tz = layout.settings.time_zone.clone();
    let today = state.clock.today(&tz);
    let blank = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let from = blank(&q.from).unwrap_or_else(|| today.to_string());
    let to = blank(&q.to).unwrap_or_else(|| {
        crate::dates::parse(&from)
            .map(|f| (f + Duration::days(6)).to_string())
            .unwrap_or_default()
    });
    let person = blank(&q.person).and_then(|p| p.parse().ok());
    let role = blank(&q.role);
    let everyone = people(&mut db).await?;
    let mut roles: Vec<String> = everyone.iter().map(|x| x.2.clone()).collect();
    roles.sort();
    roles.dedup();
    let filter = Filter {
        contributor_id: person,
        role: role.clone(),
    };
    let (answer, refused) = match events::parse_range(&from, &to) {
        Ok(range) => (
            availability::free_busy(&mut db, &tz, range, &filter).await?,
            None,
        ),
        Err(e) => (vec![], Some(Refusal::from_error(e)?)),
    };
    let status = refused.as_ref().map(|r| r.status);
    let page = AvailabilityPage {
        layout,
        from,
        to,
        person,
        role: role.unwrap_or_default(),
        people: everyone,
        roles,
        answer,
        refused,
    };
    Ok(match status {
        Some(s) => (s, render(&page)).into_response(),
        None => render(&page),
    })
}

#[derive(Template)]
#[template(path = "calendar/feeds.html")]
struct FeedsPage {
    layout: Layout,
    mine: Option<String>,
    studio: Option<String>,
    owner: bool,
    /// A URL just made (shown once).
    new_url: Option<String>,
}

async fn feeds_view(
    conn: &mut PgConnection,
    staff: &Staff,
    new_url: Option<String>,
) -> AppResult<FeedsPage> {
    let layout = Layout::load(conn, staff, "Calendar feeds", "/calendar").await?;
    let (mine, studio) = feeds::live(conn, staff.contributor_id).await?;
    Ok(FeedsPage {
        mine: mine.map(|t| layout.settings.time(&t)),
        studio: studio.map(|t| layout.settings.time(&t)),
        owner: staff.role == "Owner",
        layout,
        new_url,
    })
}

async fn feeds_page(mut db: Db, staff: Staff) -> AppResult<Response> {
    Ok(render(&feeds_view(&mut db, &staff, None).await?))
}

#[derive(Debug, Default, Deserialize)]
struct FeedForm {
    #[serde(default)]
    studio: Option<String>,
}

async fn renew_feed(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    Form(f): Form<FeedForm>,
) -> AppResult<Response> {
    let wide = f.studio.is_some();
    if wide && staff.role != "Owner" {
        return Err(AppError::Forbidden(
            "the studio-wide feed is the Owner's".into(),
        ));
    }
    let token = crate::db::transaction(&mut db, async |tx| {
        feeds::renew(tx, staff.contributor_id, wide, state.clock.now()).await
    })
    .await?;
    let base = state.settings.base_url().trim_end_matches('/').to_string();
    let url = format!("{base}/calendar/feed/{token}.ics");
    Ok(render(&feeds_view(&mut db, &staff, Some(url)).await?))
}

async fn revoke_feed(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    Form(f): Form<FeedForm>,
) -> AppResult<Response> {
    crate::db::transaction(&mut db, async |tx| {
        feeds::revoke(
            tx,
            staff.contributor_id,
            f.studio.is_some(),
            state.clock.now(),
        )
        .await
    })
    .await?;
    Ok(Redirect::to("/calendar/feeds").into_response())
}

/// The feed itself: public, opened by its secret token.
async fn feed(
    mut db: Db,
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> AppResult<Response> {
    let f = feeds::open(&mut db, &token).await?;
    let studio = crate::studio::Studio::load(&mut db).await?;
    let text = feeds::ics(
        &mut db,
        f,
        &studio.studio_name,
        &studio.time_zone,
        state.clock.now(),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::nudged;
    use chrono::NaiveDateTime;

    #[test]
    fn nudges_move_by_a_day_or_resize_by_a_step() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let ev = (t("2027-06-12 10:00"), t("2027-06-12 11:00"));
        assert_eq!(nudged("day+1", ev, false).unwrap().0, t("2027-06-13 10:00"));
        assert_eq!(nudged("day-1", ev, false).unwrap().1, t("2027-06-11 11:00"));
        assert_eq!(
            nudged("longer", ev, false).unwrap().1,
            t("2027-06-12 11:30")
        );
        assert_eq!(
            nudged("shorter", ev, false).unwrap().1,
            t("2027-06-12 10:30")
        );
        assert_eq!(
            nudged("days:-3", ev, false).unwrap().0,
            t("2027-06-09 10:00")
        );
        let short = (t("2027-06-12 10:00"), t("2027-06-12 10:30"));
        assert!(nudged("shorter", short, false).is_none());
        assert!(nudged("days:9999", ev, false).is_none());
        // The edge dragged: the end moves by steps, never to or before the start.
        assert_eq!(
            nudged("end:3", ev, false).unwrap(),
            (ev.0, t("2027-06-12 12:30"))
        );
        assert_eq!(
            nudged("end:-1", ev, false).unwrap().1,
            t("2027-06-12 10:30")
        );
        assert!(nudged("end:-2", ev, false).is_none());
        assert_eq!(nudged("end:2", ev, true).unwrap().1, t("2027-06-14 11:00"));
        assert!(nudged("end:99999", ev, false).is_none());
        assert!(nudged("sideways", ev, false).is_none());
    }
}
