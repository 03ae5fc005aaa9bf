//! Calendar events: the team's assignments, absences, holidays, synced busy times and personal
//! events. Reading a range, creating, moving or resizing, cancelling. Two PROJECT_ASSIGNMENT
//! or ABSENCE events of one person never overlap: the exclusion constraint
//! `calendar_events_no_double_booking` says so, and a refusal (SQLSTATE 23P01, or the check
//! before it) is a 409 naming the event in the way: who, when, why.
use super::rules;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};
use utoipa::ToSchema;

/// The spec's `calendar_event_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, Serialize, Deserialize, ToSchema)]
#[sqlx(type_name = "calendar_event_type", rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = CalendarEventType)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    ProjectAssignment,
    Absence,
    Holiday,
    ExternalSync,
    Personal,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        EventType::ProjectAssignment,
        EventType::Absence,
        EventType::Holiday,
        EventType::ExternalSync,
        EventType::Personal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ProjectAssignment => "PROJECT_ASSIGNMENT",
            EventType::Absence => "ABSENCE",
            EventType::Holiday => "HOLIDAY",
            EventType::ExternalSync => "EXTERNAL_SYNC",
            EventType::Personal => "PERSONAL",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            EventType::ProjectAssignment => "shoot assignment",
            EventType::Absence => "absence",
            EventType::Holiday => "holiday",
            EventType::ExternalSync => "busy (synced)",
            EventType::Personal => "personal",
        }
    }

    /// CSS class of its chip.
    pub fn class(self) -> &'static str {
        match self {
            EventType::ProjectAssignment => "ev-assignment",
            EventType::Absence => "ev-absence",
            EventType::Holiday => "ev-holiday",
            EventType::ExternalSync => "ev-external",
            EventType::Personal => "ev-personal",
        }
    }

    /// Whether the person is unavailable during it (decisions.md, Calendar).
    pub fn blocks(self) -> bool {
        !matches!(self, EventType::Personal)
    }
}

/// One event as the calendar, the API and the feeds read it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
#[schema(as = CalendarEvent)]
pub struct Event {
    pub id: i32,
    pub contributor_id: i32,
    /// The person's name.
    pub person: String,
    /// The person's role.
    pub role: String,
    pub project_id: Option<i32>,
    pub title: String,
    pub event_type: EventType,
    /// The instant it starts (UTC); an all-day event starts at the studio's local midnight.
    pub start_time: DateTime<Utc>,
    /// The instant it ends, excluded; an all-day event ends at the local midnight after its
    /// last day.
    pub end_time: DateTime<Utc>,
    pub is_all_day: bool,
    pub description: Option<String>,
    /// The coverage line of a shoot assignment.
    pub coverage_assignment_id: Option<i32>,
    /// The recurring absence this occurrence belongs to.
    pub recurrence_id: Option<i32>,
    pub cancelled: bool,
    #[serde(skip)]
    #[schema(ignore)]
    pub updated_at: DateTime<Utc>,
}

/// The columns an `Event` is read from (`e`: calendar_events, `c`: contacts, `r`: roles).
pub const COLUMNS: &str = "e.id, e.contributor_id,
    trim(concat_ws(' ', c.first_name, c.last_name)) AS person, r.name AS role, e.project_id,
    e.title, e.event_type, e.start_time, e.end_time, e.is_all_day, e.description,
    e.coverage_assignment_id, e.recurrence_id, e.cancelled_at IS NOT NULL AS cancelled,
    e.updated_at";

/// FROM calendar_events with the person's name and role.
pub const FROM: &str = "calendar_events e
    JOIN contributors co ON co.id = e.contributor_id
    JOIN contacts c ON c.id = co.contact_id
    JOIN roles r ON r.id = co.role_id";

/// Which events a range read returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub contributor_id: Option<i32>,
    pub role: Option<String>,
}

/// A range of local days [from, to] read: plausible dates (422 naming `from` or `to`). A
/// range that ends before it starts is empty.
pub fn parse_range(from: &str, to: &str) -> AppResult<(NaiveDate, NaiveDate)> {
    let f = crate::dates::parse(from).map_err(|m| AppError::field("from", m))?;
    let t = crate::dates::parse(to).map_err(|m| AppError::field("to", m))?;
    Ok((f, t))
}

/// Live events overlapping the local days [from, to] (the studio's zone), by start, after
/// the page cursor, at most `limit`.
pub async fn list(
    conn: &mut PgConnection,
    tz: &str,
    (from, to): (NaiveDate, NaiveDate),
    filter: &Filter,
    after: Option<crate::page::After>,
    limit: i64,
) -> AppResult<Vec<Event>> {
    if to < from {
        return Ok(vec![]);
    }
    let (start, end) = rules::all_day_range(from, to, tz);
    let mut q = sqlx::QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM {FROM}
         WHERE e.cancelled_at IS NULL
           AND tstzrange(e.start_time, e.end_time, '[)') && tstzrange("
    ));
    q.push_bind(start).push(", ").push_bind(end).push(", '[)')");
    if let Some(id) = filter.contributor_id {
        q.push(" AND e.contributor_id = ").push_bind(id);
    }
    if let Some(role) = &filter.role {
        q.push(" AND r.name = ").push_bind(role.clone());
    }
    let after = after.unwrap_or(crate::page::After {
        // Before any event (1900-01-01), in PostgreSQL's range.
        at: DateTime::<Utc>::from_timestamp(-2_208_988_800, 0).unwrap_or_default(),
        id: 0,
    });
    q.push(" AND (e.start_time, e.id) > (")
        .push_bind(after.at)
        .push(", ")
        .push_bind(after.id)
        .push(") ORDER BY e.start_time, e.id LIMIT ")
        .push_bind(limit);
    Ok(q.build_query_as().fetch_all(conn).await?)
}

pub async fn get(conn: &mut PgConnection, id: i32) -> AppResult<Event> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM {FROM} WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("event {id}")))
}

/// Times as sent: all-day, two local days (the last one included); else two local wall times
/// (`YYYY-MM-DDTHH:MM`) in the studio's zone. A request in the documented shape that the
/// calendar refuses (a day that does not exist, a time the clocks skip, an end before the
/// start, a time on an all-day event) is a 409 naming `start` or `end`, never a 422.
pub fn parse_times(
    all_day: bool,
    start: &str,
    end: &str,
    tz: &str,
) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let no = |field: &str, m: String| AppError::field_conflict(field, m);
    if all_day {
        let day = |field: &str, s: &str| {
            if s.contains('T') {
                return Err(no(field, "an all-day event takes days, YYYY-MM-DD".into()));
            }
            crate::dates::parse(s).map_err(|m| no(field, m))
        };
        let first = day("start", start)?;
        let last = day("end", end)?;
        if last < first {
            return Err(no("end", "the last day is on or after the first".into()));
        }
        if (last - first).num_days() > 366 {
            return Err(no("end", "at most a year".into()));
        }
        return Ok(rules::all_day_range(first, last, tz));
    }
    let at = |field: &str, s: &str| {
        let wall = rules::parse_local(s).map_err(|m| no(field, m))?;
        rules::local_instant(wall, tz).ok_or_else(|| {
            no(
                field,
                format!("{wall} does not exist in {tz} (the clocks go forward)"),
            )
        })
    };
    let (s, e) = (at("start", start)?, at("end", end)?);
    if e <= s {
        return Err(no("end", "the end is after the start".into()));
    }
    if (e - s).num_days() > 31 {
        return Err(no("end", "at most 31 days; use all-day for longer".into()));
    }
    Ok((s, e))
}

/// "Jun 14, 2026 (all day)", "Jun 14–16, 2026 (all day)" or "Jun 14, 2026 10:00–14:30".
pub fn when(start: DateTime<Utc>, end: DateTime<Utc>, all_day: bool, tz: &str) -> String {
    let (s, e) = (rules::local(start, tz), rules::local(end, tz));
    if all_day {
        let last = (e - chrono::Duration::seconds(1)).date();
        if last == s.date() {
            return format!("{} (all day)", s.format("%b %-d, %Y"));
        }
        return format!(
            "{} to {} (all day)",
            s.format("%b %-d, %Y"),
            last.format("%b %-d, %Y")
        );
    }
    if s.date() == e.date() {
        format!("{}–{}", s.format("%b %-d, %Y %H:%M"), e.format("%H:%M"))
    } else {
        format!(
            "{} to {}",
            s.format("%b %-d, %Y %H:%M"),
            e.format("%b %-d, %Y %H:%M")
        )
    }
}

/// The first live event of `contributor` overlapping [start, end) that blocks them (of the
/// given types), other than `except`.
pub async fn in_the_way(
    conn: &mut PgConnection,
    contributor: i32,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    types: &[EventType],
    except: Option<i32>,
) -> AppResult<Option<Event>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {FROM}
         WHERE e.contributor_id = $1 AND e.cancelled_at IS NULL
           AND tstzrange(e.start_time, e.end_time, '[)') && tstzrange($2, $3, '[)')
           AND e.event_type::text = ANY($4::text[]) AND e.id IS DISTINCT FROM $5
         ORDER BY e.start_time, e.id LIMIT 1"
    ))
    .bind(contributor)
    .bind(start)
    .bind(end)
    .bind(types.iter().map(|t| t.as_str()).collect::<Vec<_>>())
    .bind(except)
    .fetch_optional(conn)
    .await?)
}

/// The refusal naming the event in the way: who, when, why.
pub fn refusal(field: &str, other: &Event, tz: &str) -> AppError {
    AppError::field_conflict(
        field,
        format!(
            "{} is not available {}: {} ({})",
            other.person,
            when(other.start_time, other.end_time, other.is_all_day, tz),
            other.title,
            other.event_type.label()
        ),
    )
}

/// The types an event of `t` may not overlap: an assignment needs the person free of every
/// blocking event; an absence may not overlap an assignment or another absence (the
/// constraint's pair); other events overlap freely.
pub fn clashes_with(t: EventType) -> &'static [EventType] {
    match t {
        EventType::ProjectAssignment => &[
            EventType::ProjectAssignment,
            EventType::Absence,
            EventType::Holiday,
            EventType::ExternalSync,
        ],
        EventType::Absence => &[EventType::ProjectAssignment, EventType::Absence],
        _ => &[],
    }
}

/// Run `write` (an INSERT or UPDATE of `contributor`'s event over [start, end)) in a
/// savepoint, after checking nothing is in the way. When the exclusion constraint refuses it
/// (a concurrent writer got there first), the savepoint is rolled back and the event now in
/// the way is named.
pub async fn guarded<T>(
    tx: &mut PgConnection,
    tz: &str,
    field: &str,
    (contributor, event_type): (i32, EventType),
    range: (DateTime<Utc>, DateTime<Utc>),
    except: Option<i32>,
    write: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
) -> AppResult<T> {
    let types = clashes_with(event_type);
    if !types.is_empty() {
        if let Some(other) = in_the_way(tx, contributor, range, types, except).await? {
            return Err(refusal(field, &other, tz));
        }
    }
    let mut sp = tx.begin().await?;
    match write(&mut sp).await {
        Ok(v) => {
            sp.commit().await?;
            Ok(v)
        }
        Err(e) if is_exclusion(&e) => {
            sp.rollback().await?;
            match in_the_way(tx, contributor, range, types, except).await? {
                Some(other) => Err(refusal(field, &other, tz)),
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

fn is_exclusion(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23P01")
}

/// A new event, as checked.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub contributor_id: i32,
    pub project_id: Option<i32>,
    pub coverage_assignment_id: Option<i32>,
    pub recurrence_id: Option<i32>,
    pub title: String,
    pub event_type: EventType,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub all_day: bool,
    pub description: Option<String>,
}

/// A title checked: not blank, at most 255 characters.
pub fn title(s: &str) -> AppResult<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(AppError::field("title", "say what it is, e.g. Day off"));
    }
    if t.chars().count() > 255 || t.contains('\0') {
        return Err(AppError::field("title", "at most 255 characters"));
    }
    Ok(t.to_string())
}

/// The person named by `contributor_id` exists (404 naming the field otherwise).
pub async fn person_exists(conn: &mut PgConnection, id: i32) -> AppResult<()> {
    let found: Option<i32> = sqlx::query_scalar("SELECT id FROM contributors WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| AppError::unknown_ref("contributor_id", format!("no team member {id}")))
}

/// Insert an event in the caller's transaction (checked against what is in the way), audited.
pub async fn create(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    e: &NewEvent,
    now: DateTime<Utc>,
) -> AppResult<Event> {
    person_exists(tx, e.contributor_id).await?;
    if let Some(p) = e.project_id {
        let found: Option<i32> = sqlx::query_scalar("SELECT id FROM projects WHERE id = $1")
            .bind(p)
            .fetch_optional(&mut *tx)
            .await?;
        found.ok_or_else(|| AppError::unknown_ref("project_id", format!("no project {p}")))?;
    }
    let id: i32 = guarded(
        tx,
        tz,
        "start",
        (e.contributor_id, e.event_type),
        (e.start, e.end),
        None,
        async |sp| {
            sqlx::query_scalar(
                "INSERT INTO calendar_events (contributor_id, project_id, title, start_time,
                     end_time, is_all_day, event_type, description, coverage_assignment_id,
                     recurrence_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            )
            .bind(e.contributor_id)
            .bind(e.project_id)
            .bind(&e.title)
            .bind(e.start)
            .bind(e.end)
            .bind(e.all_day)
            .bind(e.event_type)
            .bind(&e.description)
            .bind(e.coverage_assignment_id)
            .bind(e.recurrence_id)
            .bind(now)
            .fetch_one(sp)
            .await
        },
    )
    .await?;
    crate::audit::record(
        tx,
        Some(actor),
        "calendar.event_create",
        "calendar_event",
        Some(id),
        serde_json::json!({"contributor_id": e.contributor_id, "type": e.event_type,
                           "start": e.start, "end": e.end, "title": e.title}),
    )
    .await?;
    get(tx, id).await
}

/// Lock a live event for a change (404 if there is none, 409 if cancelled).
pub async fn lock(tx: &mut PgConnection, id: i32) -> AppResult<Event> {
    let e: Event = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE e.id = $1 FOR UPDATE OF e"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("event {id}")))?;
    if e.cancelled {
        return Err(AppError::Conflict(format!("event {id} was deleted")));
    }
    Ok(e)
}

/// Move or resize an event (new start and end), checked against what is in the way. An
/// occurrence of a recurring absence is changed through its rule, not alone; a synced event
/// comes from its calendar.
pub async fn change_times(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    id: i32,
    range: (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> AppResult<Event> {
    move_event(tx, tz, (actor, false), id, range, now).await
}

/// A shoot assignment is part of its project's shoot day: it moves with its line's times.
fn on_a_shoot_day(e: &Event) -> AppResult<()> {
    match (e.coverage_assignment_id, e.project_id) {
        (Some(_), Some(p)) => Err(AppError::Conflict(format!(
            "this is a crew assignment: change it on the shoot day (/projects/{p}/shoot-day)"
        ))),
        _ => Ok(()),
    }
}

/// `change_times`, or (`crew`) the shoot day moving its own line's assignment.
pub(super) async fn move_event(
    tx: &mut PgConnection,
    tz: &str,
    (actor, crew): (i32, bool),
    id: i32,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> AppResult<Event> {
    let e = lock(tx, id).await?;
    if !crew {
        on_a_shoot_day(&e)?;
    }
    if e.recurrence_id.is_some() {
        return Err(AppError::Conflict(
            "this is one day of a recurring absence: delete this day, or change the rule".into(),
        ));
    }
    if e.event_type == EventType::ExternalSync {
        return Err(AppError::Conflict(
            "a synced event changes in its own calendar".into(),
        ));
    }
    guarded(
        tx,
        tz,
        "start",
        (e.contributor_id, e.event_type),
        (start, end),
        Some(id),
        async |sp| {
            sqlx::query(
                "UPDATE calendar_events SET start_time = $2, end_time = $3, updated_at = $4
                 WHERE id = $1",
            )
            .bind(id)
            .bind(start)
            .bind(end)
            .bind(now)
            .execute(sp)
            .await
        },
    )
    .await?;
    crate::audit::record(
        tx,
        Some(actor),
        "calendar.event_move",
        "calendar_event",
        Some(id),
        serde_json::json!({"from": [e.start_time, e.end_time], "to": [start, end]}),
    )
    .await?;
    get(tx, id).await
}

/// Delete an event: it is kept as cancelled (subscribed calendars are told), blocks no one,
/// and leaves the calendar. One day of a recurring absence becomes an exception of its rule.
pub async fn cancel(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    id: i32,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let e = lock(tx, id).await?;
    on_a_shoot_day(&e)?;
    cancel_locked(tx, tz, actor, e, now).await
}

/// Cancel an event already locked (the shoot day's unassign comes here directly).
pub(super) async fn cancel_locked(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    e: Event,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let id = e.id;
    if e.event_type == EventType::ExternalSync {
        return Err(AppError::Conflict(
            "a synced event changes in its own calendar".into(),
        ));
    }
    sqlx::query("UPDATE calendar_events SET cancelled_at = $2, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if let Some(rule) = e.recurrence_id {
        let day = rules::local(e.start_time, tz).date();
        sqlx::query(
            "UPDATE calendar_recurrences SET exceptions = array_append(exceptions, $2)
             WHERE id = $1 AND NOT ($2 = ANY(exceptions))",
        )
        .bind(rule)
        .bind(day)
        .execute(&mut *tx)
        .await?;
    }
    crate::audit::record(
        tx,
        Some(actor),
        "calendar.event_delete",
        "calendar_event",
        Some(id),
        serde_json::json!({"title": e.title, "contributor_id": e.contributor_id}),
    )
    .await?;
    Ok(())
}
