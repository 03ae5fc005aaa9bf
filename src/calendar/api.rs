//! The JSON API of the calendar: events (a range, one, create, move or resize, delete),
//! recurring absences, a project's shoot day and its crew, and availability.
use super::availability::{self, Person};
use super::crew::{self, Line, Project};
use super::events::{self, Event, EventType, Filter, NewEvent};
use super::recurrences::{self, NewRule, Recurrence};
use super::rules::Freq;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::AppError;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppResult, AppState, json};
use crate::page;
use crate::studio::Studio;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let edit = Access::Perm(Permission::CalendarEdit);
    let crew = Access::Perm(Permission::BookingsManage);
    Routes::new()
        .api(Access::Staff, routes!(list_events))
        .api(edit, routes!(create_event))
        .api(Access::Staff, routes!(one_event))
        .api(edit, routes!(move_event))
        .api(edit, routes!(delete_event))
        .api(edit, routes!(create_recurrence))
        .api(Access::Perm(Permission::ProjectsView), routes!(shoot_day))
        .api(crew, routes!(set_line_times))
        .api(crew, routes!(assign_crew))
        .api(crew, routes!(unassign_crew))
        .api(Access::Staff, routes!(free_busy))
}

fn day_or_empty() -> utoipa::openapi::schema::Schema {
    json::or_empty(
        json::date(),
        "A local day (YYYY-MM-DD) in the studio's time zone.",
    )
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// The first local day; empty: today.
    #[param(schema_with = day_or_empty)]
    #[serde(default)]
    pub from: Option<String>,
    /// The last local day; empty: 6 days after `from`. Availability answers at most 62 days
    /// from `from`; a `to` before `from` is an empty range.
    #[param(schema_with = day_or_empty)]
    #[serde(default)]
    pub to: Option<String>,
    /// Only this person.
    #[serde(default)]
    pub contributor_id: Option<i32>,
    /// Only people in this role (e.g. Videographer).
    #[param(max_length = 255, pattern = r"^[^\x00]*$")]
    #[serde(default)]
    pub role: Option<String>,
    #[param(schema_with = page::after_param)]
    #[serde(default)]
    pub after: Option<String>,
}

struct Range {
    tz: String,
    days: (chrono::NaiveDate, chrono::NaiveDate),
    filter: Filter,
}

async fn range(db: &mut Db, state: &AppState, q: &RangeQuery) -> AppResult<Range> {
    let studio = Studio::load(db).await?;
    let today = state.clock.today(&studio.time_zone);
    let blank = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let from = blank(&q.from).unwrap_or_else(|| today.to_string());
    let to = match blank(&q.to) {
        Some(t) => t,
        None => crate::dates::parse(&from)
            .map(|f| (f + chrono::Duration::days(6)).to_string())
            .unwrap_or_default(),
    };
    let days = events::parse_range(&from, &to)?;
    Ok(Range {
        tz: studio.time_zone,
        days,
        filter: Filter {
            contributor_id: q.contributor_id,
            role: blank(&q.role),
        },
    })
}

/// Events overlapping the local days from `from` to `to` (deleted ones left out), by start,
/// 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/calendar/events", tag = "calendar", params(RangeQuery),
    responses(
        (status = 200, body = Vec<Event>, headers(
            ("Link" = String, description = "`<...?after=...>; rel=\"next\"` when there are more")
        )),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn list_events(
    mut db: Db,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RangeQuery>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let after = page::After::parse(q.after.as_deref())?;
    let r = range(&mut db, &state, &q).await?;
    let rows = events::list(&mut db, &r.tz, r.days, &r.filter, after, page::SIZE + 1).await?;
    let (rows, next) = page::split(rows, |e: &Event| page::After {
        at: e.start_time,
        id: e.id,
    });
    Ok(page::with_next(
        Json(rows).into_response(),
        "/api/v1/calendar/events",
        raw.as_deref(),
        next,
    ))
}

/// The kinds of event the API adds (EXTERNAL_SYNC comes from calendar sync only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NewType {
    ProjectAssignment,
    Absence,
    Holiday,
    Personal,
}

impl NewType {
    pub fn event_type(self) -> EventType {
        match self {
            NewType::ProjectAssignment => EventType::ProjectAssignment,
            NewType::Absence => EventType::Absence,
            NewType::Holiday => EventType::Holiday,
            NewType::Personal => EventType::Personal,
        }
    }

    pub fn of(t: EventType) -> Option<NewType> {
        [
            NewType::ProjectAssignment,
            NewType::Absence,
            NewType::Holiday,
            NewType::Personal,
        ]
        .into_iter()
        .find(|n| n.event_type() == t)
    }
}

/// What a recurring rule stores: a day off (ABSENCE) or a HOLIDAY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleType {
    Absence,
    Holiday,
}

/// A new event. Times are the studio's local wall times; all-day events take days.
#[derive(Deserialize, ToSchema)]
pub struct EventIn {
    #[serde(deserialize_with = "json::int")]
    pub contributor_id: i32,
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub title: String,
    /// PROJECT_ASSIGNMENT (needs `project_id`), ABSENCE, HOLIDAY or PERSONAL.
    pub event_type: NewType,
    /// All day: `start` and `end` are the first and last local day (YYYY-MM-DD).
    #[serde(default)]
    pub all_day: bool,
    /// `YYYY-MM-DDTHH:MM` in the studio's time zone, or a day (YYYY-MM-DD) when `all_day`.
    #[schema(
        pattern = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?$"
    )]
    pub start: String,
    /// Excluded for times, included for days.
    #[schema(
        pattern = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?$"
    )]
    pub end: String,
    #[serde(default)]
    #[schema(max_length = 5000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "json::opt_int")]
    pub project_id: Option<i32>,
}

/// The new event checked (the JSON and the page's form alike).
pub fn new_event(e: &EventIn, tz: &str) -> AppResult<NewEvent> {
    let title = events::title(&e.title)?;
    if e.event_type == NewType::ProjectAssignment && e.project_id.is_none() {
        return Err(AppError::field_conflict(
            "project_id",
            "an assignment is for a project",
        ));
    }
    let description = e
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 5000 || d.contains('\0'))
    {
        return Err(AppError::field("description", "at most 5000 characters"));
    }
    let (start, end) = events::parse_times(e.all_day, &e.start, &e.end, tz)?;
    Ok(NewEvent {
        contributor_id: e.contributor_id,
        project_id: e.project_id,
        coverage_assignment_id: None,
        recurrence_id: None,
        title,
        event_type: e.event_type.event_type(),
        start,
        end,
        all_day: e.all_day,
        description,
    })
}

/// Add an event. A PROJECT_ASSIGNMENT or ABSENCE that overlaps one of the person's others (an
/// assignment also any holiday or synced busy time) is a 409 naming it: who, when and why.
#[utoipa::path(post, path = "/api/v1/calendar/events", tag = "calendar", request_body = EventIn,
    responses(
        (status = 201, body = Event),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn create_event(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EventIn>,
) -> AppResult<Response> {
    let event = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let e = new_event(&body, &studio.time_zone)?;
        events::create(
            tx,
            &studio.time_zone,
            staff.contributor_id,
            &e,
            state.clock.now(),
        )
        .await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(event)).into_response())
}

/// One event (deleted ones too, marked `cancelled`).
#[utoipa::path(get, path = "/api/v1/calendar/events/{id}", tag = "calendar",
    params(("id" = i32, Path)),
    responses((status = 200, body = Event), (status = 404, body = crate::http::error::Problem)))]
async fn one_event(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<Event>> {
    Ok(Json(events::get(&mut db, id).await?))
}

/// New times for an event: move it, or resize it.
#[derive(Deserialize, ToSchema)]
pub struct TimesIn {
    /// As when it was made: local wall times, or days for an all-day event.
    #[schema(
        pattern = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?$"
    )]
    pub start: String,
    #[schema(
        pattern = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?$"
    )]
    pub end: String,
}

/// Move or resize an event; checked like a new one (409 naming what is in the way).
#[utoipa::path(patch, path = "/api/v1/calendar/events/{id}", tag = "calendar",
    params(("id" = i32, Path)), request_body = TimesIn,
    responses(
        (status = 200, body = Event),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn move_event(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(body): ApiJson<TimesIn>,
) -> AppResult<Json<Event>> {
    let event = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let tz = studio.time_zone;
        let e = events::get(tx, id).await?;
        let range = events::parse_times(e.is_all_day, &body.start, &body.end, &tz)?;
        events::change_times(tx, &tz, staff.contributor_id, id, range, state.clock.now()).await
    })
    .await?;
    Ok(Json(event))
}

/// Delete an event: kept as cancelled (subscribed calendars are told), it blocks no one. One
/// day of a recurring absence becomes an exception of its rule.
#[utoipa::path(delete, path = "/api/v1/calendar/events/{id}", tag = "calendar",
    params(("id" = i32, Path)),
    responses(
        (status = 204),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
    ))]
async fn delete_event(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<StatusCode> {
    crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        events::cancel(
            tx,
            &studio.time_zone,
            staff.contributor_id,
            id,
            state.clock.now(),
        )
        .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A recurring absence: every week on the first day's weekday, or every year on its date.
#[derive(Deserialize, ToSchema)]
pub struct RecurrenceIn {
    #[serde(deserialize_with = "json::int")]
    pub contributor_id: i32,
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub title: String,
    /// ABSENCE (a day off) or HOLIDAY.
    pub event_type: RuleType,
    pub freq: Freq,
    #[schema(schema_with = json::date)]
    pub first_day: String,
    /// The last day it can fall on; absent or empty: no end.
    #[serde(default)]
    #[schema(schema_with = day_or_empty)]
    pub until_day: Option<String>,
}

/// The rule checked (the JSON and the page's form alike).
pub fn new_rule(r: &RecurrenceIn) -> AppResult<NewRule> {
    let title = events::title(&r.title)?;
    let first_day =
        crate::dates::parse(&r.first_day).map_err(|m| AppError::field("first_day", m))?;
    let until_day = match r
        .until_day
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(u) => Some(crate::dates::parse(u).map_err(|m| AppError::field("until_day", m))?),
    };
    if until_day.is_some_and(|u| u < first_day) {
        return Err(AppError::field_conflict(
            "until_day",
            "on or after the first day",
        ));
    }
    Ok(NewRule {
        contributor_id: r.contributor_id,
        title,
        event_type: match r.event_type {
            RuleType::Absence => EventType::Absence,
            RuleType::Holiday => EventType::Holiday,
        },
        freq: r.freq,
        first_day,
        until_day,
    })
}

/// Add a recurring absence; its days are stored up to two years ahead as all-day events of
/// the studio's local day. One that overlaps an assignment or another absence is a 409
/// naming it.
#[utoipa::path(post, path = "/api/v1/calendar/recurrences", tag = "calendar",
    request_body = RecurrenceIn,
    responses(
        (status = 201, body = Recurrence),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn create_recurrence(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RecurrenceIn>,
) -> AppResult<Response> {
    let rule = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let r = new_rule(&body)?;
        let tz = studio.time_zone;
        let when = (state.clock.today(&tz), state.clock.now());
        recurrences::create(tx, &tz, staff.contributor_id, &r, when).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

/// A project's wedding day: its coverage lines, times and crew.
#[derive(Serialize, ToSchema)]
pub struct ShootDay {
    pub project: Project,
    pub lines: Vec<Line>,
}

/// The shoot day of a project: each coverage line (scene, operator type needed, how many),
/// its local start and end, and who is assigned.
#[utoipa::path(get, path = "/api/v1/projects/{id}/shoot-day", tag = "calendar",
    params(("id" = i32, Path)),
    responses((status = 200, body = ShootDay), (status = 404, body = crate::http::error::Problem)))]
async fn shoot_day(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<ShootDay>> {
    let studio = Studio::load(&mut db).await?;
    let project = crew::project(&mut db, id).await?;
    let lines = crew::lines(&mut db, &project, &studio.time_zone).await?;
    Ok(Json(ShootDay { project, lines }))
}

/// A shoot-day line's new times: local wall times in the studio's zone.
#[derive(Deserialize, ToSchema)]
pub struct LineTimesIn {
    /// When the line starts, `YYYY-MM-DDTHH:MM`: within a day of the wedding.
    #[schema(
        pattern = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        example = "2027-06-12T14:00"
    )]
    pub start: String,
    /// When it ends (excluded), after the start, at most 24 hours later.
    #[schema(
        pattern = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        example = "2027-06-12T18:30"
    )]
    pub end: String,
}

/// Set the start and end of a shoot-day line (a coverage line of the project's quote); its
/// crew's assignments move with it, each checked against what is in the way, and each crew
/// member is told. A malformed time is a 422 naming the field; a well-formed one the day
/// refuses (an end not after the start, a start not within a day of the wedding, more than
/// 24 hours, a time the clocks skip, someone now unavailable) is a 409 naming it.
#[utoipa::path(put, path = "/api/v1/projects/{id}/shoot-day/lines/{line}", tag = "calendar",
    params(("id" = i32, Path), ("line" = i32, Path)), request_body = LineTimesIn,
    responses(
        (status = 200, body = Line),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn set_line_times(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiPath((id, line)): ApiPath<(i32, i32)>,
    ApiJson(body): ApiJson<LineTimesIn>,
) -> AppResult<Json<Line>> {
    // The documented shape (a malformed value is a 422); the day's own checks come after.
    let shape = |field: &str, s: &str| {
        let b = s.as_bytes();
        let ok = (b.len() == 16 || (b.len() == 19 && b[16] == b':'))
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                _ => c.is_ascii_digit(),
            });
        if ok {
            Ok(())
        } else {
            Err(AppError::field(
                field,
                "a local date and time, YYYY-MM-DDTHH:MM",
            ))
        }
    };
    shape("start", &body.start)?;
    shape("end", &body.end)?;
    let line = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let (times, now) = ((body.start.as_str(), body.end.as_str()), state.clock.now());
        crew::set_line_times(
            tx,
            &studio.time_zone,
            staff.contributor_id,
            (id, line),
            times,
            now,
        )
        .await
    })
    .await?;
    Ok(Json(line))
}

#[derive(Deserialize, ToSchema)]
pub struct CrewIn {
    /// The coverage line (from the shoot day's `lines`).
    #[serde(deserialize_with = "json::int")]
    pub coverage_assignment_id: i32,
    #[serde(deserialize_with = "json::int")]
    pub contributor_id: i32,
}

/// Assign a person to a coverage line: a PROJECT_ASSIGNMENT event over the line's times.
/// Someone unavailable then is a 409 naming who, when and why; so is a full line.
#[utoipa::path(post, path = "/api/v1/projects/{id}/crew", tag = "calendar",
    params(("id" = i32, Path)), request_body = CrewIn,
    responses(
        (status = 201, body = Event),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn assign_crew(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(body): ApiJson<CrewIn>,
) -> AppResult<Response> {
    let event = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let who = (id, body.coverage_assignment_id, body.contributor_id);
        crew::assign(
            tx,
            &studio.time_zone,
            staff.contributor_id,
            who,
            state.clock.now(),
        )
        .await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(event)).into_response())
}

/// Take a person off a project's crew (their assignment event is deleted, kept as cancelled).
#[utoipa::path(delete, path = "/api/v1/projects/{id}/crew/{event_id}", tag = "calendar",
    params(("id" = i32, Path), ("event_id" = i32, Path)),
    responses(
        (status = 204),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
    ))]
async fn unassign_crew(
    mut db: Db,
    staff: Staff,
    State(state): State<AppState>,
    ApiPath((id, event_id)): ApiPath<(i32, i32)>,
) -> AppResult<StatusCode> {
    crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let now = state.clock.now();
        crew::unassign(
            tx,
            &studio.time_zone,
            staff.contributor_id,
            (id, event_id),
            now,
        )
        .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Free/busy over local days: for one person (`contributor_id`), everyone in a role
/// (`role`), or the whole active team; each with their busy intervals and free days.
#[utoipa::path(get, path = "/api/v1/availability", tag = "calendar", params(RangeQuery),
    responses(
        (status = 200, body = Vec<Person>),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn free_busy(
    mut db: Db,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<Vec<Person>>> {
    let r = range(&mut db, &state, &q).await?;
    Ok(Json(
        availability::free_busy(&mut db, &r.tz, r.days, &r.filter).await?,
    ))
}
