//! Shoot days: a booked project's coverage (its quote's `build_coverage_assignments`: scene,
//! operator type, how many) is the wedding day's schedule, each line with a start and an end
//! (the line's hours as sold, else its scene's default hours, one scene after another from
//! 10:00, until the studio sets its own,
//! `shoot_schedule`), and its crew: each person assigned to a line is a PROJECT_ASSIGNMENT
//! event over the line's times. Assigning someone who is not available is refused naming who,
//! when and why. A postponement moves the schedule and the crew's events with the wedding.
//! Each crew member hears of it in their inbox when they are put on a line, when their line's
//! times change (or the wedding moves), and when they are taken off (not when they did it
//! themselves).
use super::events::{self, Event, EventType, NewEvent};
use super::rules::{self, Scene};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

/// A booked project as its shoot day reads it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
#[schema(as = ShootProject)]
pub struct Project {
    pub id: i32,
    pub name: String,
    pub wedding_date: Option<NaiveDate>,
    /// Its quote (the build whose coverage is the schedule).
    pub build_id: Option<i32>,
}

/// One line of the wedding day: a scene, the operator type it needs, how many, when, who.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ShootLine)]
pub struct Line {
    /// The coverage line (`build_coverage_assignments.id`).
    pub id: i32,
    pub scene: String,
    pub operator_type_id: i32,
    pub operator_type: String,
    pub quantity: i32,
    /// Local wall time in the studio's zone.
    #[schema(value_type = String, example = "2027-06-12T10:00:00")]
    pub start: NaiveDateTime,
    #[schema(value_type = String, example = "2027-06-12T12:00:00")]
    pub end: NaiveDateTime,
    /// Whether the studio set these times (else they are the scenes' defaults).
    pub scheduled: bool,
    pub crew: Vec<Crew>,
}

/// A person on a line, by their assignment event.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CrewMember)]
pub struct Crew {
    pub event_id: i32,
    pub contributor_id: i32,
    pub name: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i32,
    scene_id: i32,
    scene: String,
    hours: Option<Decimal>,
    operator_type_id: i32,
    operator_type: String,
    quantity: i32,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
}

pub async fn project(conn: &mut PgConnection, id: i32) -> AppResult<Project> {
    sqlx::query_as(
        "SELECT p.id, COALESCE(p.project_name, 'Project #' || p.id) AS name, p.wedding_date,
                (SELECT b.id FROM builds b WHERE b.project_id = p.id ORDER BY b.id LIMIT 1) AS build_id
         FROM projects p WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("project {id}")))
}

/// The project's wedding day: its lines in scene order, with times and crew.
pub async fn lines(conn: &mut PgConnection, p: &Project, tz: &str) -> AppResult<Vec<Line>> {
    let Some(build) = p.build_id else {
        return Ok(vec![]);
    };
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, s.id AS scene_id, s.name AS scene, COALESCE(a.hours, s.default_hours) AS hours,
                o.id AS operator_type_id, o.name AS operator_type, a.quantity,
                sc.start_time, sc.end_time
         FROM build_coverage_assignments a
         JOIN coverage_scenes s ON s.id = a.coverage_scene_id
         JOIN operator_types o ON o.id = a.operator_type_id
         LEFT JOIN shoot_schedule sc ON sc.coverage_assignment_id = a.id
         WHERE a.build_id = $1
         ORDER BY s.id, o.id, a.id",
    )
    .bind(build)
    .fetch_all(&mut *conn)
    .await?;
    let crew: Vec<(i32, i32, i32, String)> = sqlx::query_as(
        "SELECT e.coverage_assignment_id, e.id, e.contributor_id,
                trim(concat_ws(' ', c.first_name, c.last_name))
         FROM calendar_events e
         JOIN contributors co ON co.id = e.contributor_id
         JOIN contacts c ON c.id = co.contact_id
         WHERE e.project_id = $1 AND e.coverage_assignment_id IS NOT NULL
           AND e.cancelled_at IS NULL
         ORDER BY e.id",
    )
    .bind(p.id)
    .fetch_all(&mut *conn)
    .await?;
    let day = p.wedding_date.unwrap_or_default();
    let scenes: Vec<Scene> = rows
        .iter()
        .map(|r| Scene {
            scene_id: r.scene_id,
            hours: r.hours,
        })
        .collect();
    let defaults = rules::default_schedule(day, &scenes);
    Ok(rows
        .into_iter()
        .zip(defaults)
        .map(|(r, (ds, de))| {
            let set = r.start_time.zip(r.end_time);
            Line {
                id: r.id,
                scene: r.scene,
                operator_type_id: r.operator_type_id,
                operator_type: r.operator_type,
                quantity: r.quantity,
                start: set.map_or(ds, |(s, _)| rules::local(s, tz)),
                end: set.map_or(de, |(_, e)| rules::local(e, tz)),
                scheduled: set.is_some(),
                crew: crew
                    .iter()
                    .filter(|c| c.0 == r.id)
                    .map(|c| Crew {
                        event_id: c.1,
                        contributor_id: c.2,
                        name: c.3.clone(),
                    })
                    .collect(),
            }
        })
        .collect())
}

fn instant(field: &str, at: NaiveDateTime, tz: &str) -> AppResult<DateTime<Utc>> {
    rules::local_instant(at, tz).ok_or_else(|| {
        AppError::field(
            field,
            format!("{at} does not exist in {tz} (the clocks go forward)"),
        )
    })
}

/// The project locked (its shoot day changes one at a time) and the line of it named.
async fn locked_line(
    tx: &mut PgConnection,
    project_id: i32,
    line_id: i32,
    tz: &str,
) -> AppResult<(Project, Line)> {
    sqlx::query("SELECT id FROM projects WHERE id = $1 FOR UPDATE")
        .bind(project_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|_: sqlx::postgres::PgRow| ())
        .ok_or_else(|| AppError::not_found(&format!("project {project_id}")))?;
    let p = project(tx, project_id).await?;
    if p.wedding_date.is_none() {
        return Err(AppError::Conflict(
            "the project has no wedding date yet".into(),
        ));
    }
    let line = lines(tx, &p, tz)
        .await?
        .into_iter()
        .find(|l| l.id == line_id)
        .ok_or_else(|| {
            AppError::unknown_ref(
                "coverage_assignment_id",
                format!("no coverage line {line_id} in project {project_id}"),
            )
        })?;
    Ok((p, line))
}

/// Assign a person to a coverage line: a PROJECT_ASSIGNMENT event over the line's times.
/// Refused (409) when the line is full, they are on it already, or they are not available
/// then (naming who, when and why). The line's times are kept from then on.
pub async fn assign(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    (project_id, line_id, contributor_id): (i32, i32, i32),
    now: DateTime<Utc>,
) -> AppResult<Event> {
    let (p, line) = locked_line(tx, project_id, line_id, tz).await?;
    events::person_exists(tx, contributor_id).await?;
    if line.crew.iter().any(|c| c.contributor_id == contributor_id) {
        return Err(AppError::field_conflict(
            "contributor_id",
            "already on this line",
        ));
    }
    if line.crew.len() as i32 >= line.quantity {
        return Err(AppError::field_conflict(
            "contributor_id",
            format!(
                "{} needs {} {}; unassign someone first",
                line.scene, line.quantity, line.operator_type
            ),
        ));
    }
    let (start, end) = (
        instant("start", line.start, tz)?,
        instant("end", line.end, tz)?,
    );
    keep_times(tx, line.id, start, end).await?;
    let made = events::create(
        tx,
        tz,
        actor,
        &NewEvent {
            contributor_id,
            project_id: Some(p.id),
            coverage_assignment_id: Some(line.id),
            recurrence_id: None,
            title: format!("{}: {} ({})", p.name, line.scene, line.operator_type),
            event_type: EventType::ProjectAssignment,
            start,
            end,
            all_day: false,
            description: None,
        },
        now,
    )
    .await
    .map_err(|e| match e {
        AppError::FieldConflict { message, .. } => {
            AppError::field_conflict("contributor_id", message)
        }
        e => e,
    })?;
    let when = events::when(made.start_time, made.end_time, false, tz);
    let told = format!("You're on the crew: {}, {when}.", made.title);
    tell(tx, now, Some(actor), p.id, &[(contributor_id, told)]).await?;
    Ok(made)
}

/// Tell crew members about their shoot (`to`: who, what), linking to the project's shoot day;
/// not the person who made the change.
async fn tell(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    actor: Option<i32>,
    project_id: i32,
    to: &[(i32, String)],
) -> AppResult<()> {
    let to: Vec<&(i32, String)> = to.iter().filter(|t| Some(t.0) != actor).collect();
    if to.is_empty() {
        return Ok(());
    }
    let who: Vec<i32> = to.iter().map(|t| t.0).collect();
    let messages: Vec<String> = to.iter().map(|t| t.1.clone()).collect();
    let links = vec![format!("/projects/{project_id}/shoot-day"); to.len()];
    crate::notify::people(tx, now, &who, &messages, &links).await
}

async fn keep_times(
    tx: &mut PgConnection,
    line: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO shoot_schedule (coverage_assignment_id, start_time, end_time)
         VALUES ($1, $2, $3)
         ON CONFLICT (coverage_assignment_id) DO UPDATE SET start_time = $2, end_time = $3",
    )
    .bind(line)
    .bind(start)
    .bind(end)
    .execute(tx)
    .await?;
    Ok(())
}

/// Set a line's times (local HH:MM on the wedding day; an end before the start is after
/// midnight); its crew's events move with it, each checked against what is in the way.
pub async fn set_times(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    (project_id, line_id): (i32, i32),
    (start, end): (&str, &str),
    now: DateTime<Utc>,
) -> AppResult<Line> {
    let (p, line) = locked_line(tx, project_id, line_id, tz).await?;
    let day = p.wedding_date.unwrap_or_default();
    let hm = |field: &str, s: &str| {
        NaiveTime::parse_from_str(s.trim(), "%H:%M")
            .map_err(|_| AppError::field(field, "a time as HH:MM, e.g. 14:30"))
    };
    let (s, e) = (hm("start", start)?, hm("end", end)?);
    let s = day.and_time(s);
    let mut e = day.and_time(e);
    if e <= s {
        e += chrono::Duration::days(1);
    }
    let (si, ei) = (instant("start", s, tz)?, instant("end", e, tz)?);
    move_line(tx, tz, actor, (&p, &line), (si, ei), now).await
}

/// Set a line's times as local wall times on or about the wedding day (`YYYY-MM-DDTHH:MM`;
/// the API): a start before the end, within a day of the wedding, at most 24 hours long.
/// What is well-formed but refused is a 409 naming `start` or `end`; the crew move with it.
pub async fn set_line_times(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    (project_id, line_id): (i32, i32),
    (start, end): (&str, &str),
    now: DateTime<Utc>,
) -> AppResult<Line> {
    let (p, line) = locked_line(tx, project_id, line_id, tz).await?;
    let wall = |field: &str, s: &str| {
        rules::parse_local(s).map_err(|m| AppError::field_conflict(field, m))
    };
    let (s, e) = (wall("start", start)?, wall("end", end)?);
    let day = p.wedding_date.unwrap_or_default();
    if (s.date() - day).num_days().abs() > 1 {
        return Err(AppError::field_conflict(
            "start",
            format!("within a day of the wedding ({day})"),
        ));
    }
    if e <= s {
        return Err(AppError::field_conflict(
            "end",
            "the end is after the start",
        ));
    }
    if e - s > chrono::Duration::hours(24) {
        return Err(AppError::field_conflict(
            "end",
            "at most 24 hours after the start",
        ));
    }
    let at = |field: &str, w: NaiveDateTime| {
        rules::local_instant(w, tz).ok_or_else(|| {
            AppError::field_conflict(
                field,
                format!("{w} does not exist in {tz} (the clocks go forward)"),
            )
        })
    };
    let range = (at("start", s)?, at("end", e)?);
    move_line(tx, tz, actor, (&p, &line), range, now).await
}

/// A line's new times kept, its crew's events moved (each checked against what is in the
/// way) and told.
async fn move_line(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    (p, line): (&Project, &Line),
    (si, ei): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> AppResult<Line> {
    keep_times(tx, line.id, si, ei).await?;
    let mut told = vec![];
    let was = (
        rules::local_instant(line.start, tz),
        rules::local_instant(line.end, tz),
    );
    for c in &line.crew {
        let e = events::move_event(tx, tz, (actor, true), c.event_id, (si, ei), now).await?;
        if was != (Some(si), Some(ei)) {
            let when = events::when(si, ei, false, tz);
            told.push((
                c.contributor_id,
                format!("Your shoot moved: {}, now {when}.", e.title),
            ));
        }
    }
    tell(tx, now, Some(actor), p.id, &told).await?;
    let p = project(tx, p.id).await?;
    Ok(lines(tx, &p, tz)
        .await?
        .into_iter()
        .find(|l| l.id == line.id)
        .expect("the line just changed"))
}

/// Unassign: the assignment event is cancelled (subscribers are told).
pub async fn unassign(
    tx: &mut PgConnection,
    tz: &str,
    actor: i32,
    (project_id, event_id): (i32, i32),
    now: DateTime<Utc>,
) -> AppResult<()> {
    let e = events::lock(tx, event_id).await?;
    if e.project_id != Some(project_id) || e.coverage_assignment_id.is_none() {
        return Err(AppError::not_found(&format!(
            "crew assignment {event_id} of project {project_id}"
        )));
    }
    let when = events::when(e.start_time, e.end_time, false, tz);
    let told = (
        e.contributor_id,
        format!("You're off the crew: {}, {when}.", e.title),
    );
    events::cancel_locked(tx, tz, actor, e, now).await?;
    tell(tx, now, Some(actor), project_id, &[told]).await
}

/// The wedding moved from `from` to `to`: the shoot day's kept times and its crew's events
/// move by as many days at the same local wall times (daylight saving worked out again). In
/// the caller's transaction (the project locked by it); an event that would now clash is a
/// 409 by `wedding_date` naming who, when and why.
pub async fn follow_wedding(
    tx: &mut PgConnection,
    tz: &str,
    project_id: i32,
    (from, to): (NaiveDate, NaiveDate),
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let shift = to - from;
    let moved = |at: DateTime<Utc>| -> AppResult<DateTime<Utc>> {
        let wall = rules::local(at, tz) + shift;
        instant("wedding_date", wall, tz)
    };
    let kept: Vec<(i32, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT sc.coverage_assignment_id, sc.start_time, sc.end_time
         FROM shoot_schedule sc
         JOIN build_coverage_assignments a ON a.id = sc.coverage_assignment_id
         JOIN builds b ON b.id = a.build_id
         WHERE b.project_id = $1 ORDER BY 1 FOR UPDATE OF sc",
    )
    .bind(project_id)
    .fetch_all(&mut *tx)
    .await?;
    for (line, s, e) in kept {
        keep_times(tx, line, moved(s)?, moved(e)?).await?;
    }
    let ids: Vec<i32> = sqlx::query_scalar(
        "SELECT id FROM calendar_events
         WHERE project_id = $1 AND event_type = 'PROJECT_ASSIGNMENT' AND cancelled_at IS NULL
         ORDER BY id FOR UPDATE",
    )
    .bind(project_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut told = vec![];
    for id in &ids {
        let e = events::get(tx, *id).await?;
        let range = (moved(e.start_time)?, moved(e.end_time)?);
        let when = events::when(range.0, range.1, false, tz);
        told.push((
            e.contributor_id,
            format!("The wedding moved: {}, now {when}.", e.title),
        ));
        events::guarded(
            tx,
            tz,
            "wedding_date",
            (e.contributor_id, e.event_type),
            range,
            Some(e.id),
            async |sp| {
                sqlx::query(
                    "UPDATE calendar_events SET start_time = $2, end_time = $3, updated_at = $4
                     WHERE id = $1",
                )
                .bind(e.id)
                .bind(range.0)
                .bind(range.1)
                .bind(now)
                .execute(sp)
                .await
            },
        )
        .await?;
    }
    tell(tx, now, None, project_id, &told).await?;
    Ok(ids.len())
}
