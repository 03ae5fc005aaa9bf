//! Availability: free/busy of a person, or of everyone with a role, over local days; and who
//! can shoot on a date (everyone who can fill an operator type, free or busy and why), which
//! the quote builder shows as soon as an inquiry has a wedding date. The calendar is the
//! source of truth: a person is busy during each of their live PROJECT_ASSIGNMENT, ABSENCE,
//! HOLIDAY and EXTERNAL_SYNC events.
use super::events::{self, EventType};
use super::rules;
use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

/// One busy interval.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BusyTime)]
pub struct Busy {
    pub event_id: i32,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub is_all_day: bool,
    pub event_type: EventType,
    pub title: String,
    /// When, as the studio reads it.
    pub when: String,
}

/// A person's free/busy over the range.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FreeBusy)]
pub struct Person {
    pub contributor_id: i32,
    pub name: String,
    pub role: String,
    pub busy: Vec<Busy>,
    /// The local days of the range with nothing blocking them.
    #[schema(value_type = Vec<String>, example = json!(["2027-06-12"]))]
    pub free_days: Vec<NaiveDate>,
}

/// An instant range [start, end).
type Span = (DateTime<Utc>, DateTime<Utc>);

#[derive(sqlx::FromRow)]
struct BusyRow {
    contributor_id: i32,
    id: i32,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    is_all_day: bool,
    event_type: EventType,
    title: String,
}

#[derive(sqlx::FromRow)]
struct Member {
    id: i32,
    name: String,
    role: String,
}

/// The most days one free/busy answer covers.
pub const MAX_DAYS: i64 = 62;

/// Active team members: no login, or a login that is not deactivated.
pub const ACTIVE: &str = "NOT EXISTS (SELECT 1 FROM staff_credentials cr
                                      WHERE cr.contributor_id = co.id AND NOT cr.is_active)";

/// Free/busy of `filter`'s people (every active member when it names none) over [from, to].
pub async fn free_busy(
    conn: &mut PgConnection,
    tz: &str,
    range: (NaiveDate, NaiveDate),
    filter: &events::Filter,
) -> AppResult<Vec<Person>> {
    let mut q = sqlx::QueryBuilder::new(format!(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, r.name AS role
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN roles r ON r.id = co.role_id WHERE {ACTIVE}"
    ));
    if let Some(id) = filter.contributor_id {
        q.push(" AND co.id = ").push_bind(id);
    }
    if let Some(role) = &filter.role {
        q.push(" AND r.name = ").push_bind(role.clone());
    }
    q.push(" ORDER BY name, co.id LIMIT 500");
    let members: Vec<Member> = q.build_query_as().fetch_all(&mut *conn).await?;
    let ids: Vec<i32> = members.iter().map(|m| m.id).collect();
    // At most MAX_DAYS days from the first; one that ends before it starts has none.
    let range = (
        range.0,
        range
            .1
            .min(range.0 + chrono::Duration::days(MAX_DAYS - 1))
            .max(range.0 - chrono::Duration::days(1)),
    );
    let (start, end) = rules::all_day_range(range.0, range.1, tz);
    let rows: Vec<BusyRow> = sqlx::query_as(
        "SELECT e.contributor_id, e.id, e.start_time, e.end_time, e.is_all_day, e.event_type,
                    e.title
             FROM calendar_events e
             WHERE e.contributor_id = ANY($1) AND e.cancelled_at IS NULL
               AND e.event_type <> 'PERSONAL'
               AND tstzrange(e.start_time, e.end_time, '[)') && tstzrange($2, $3, '[)')
             ORDER BY e.start_time, e.id",
    )
    .bind(&ids)
    .bind(start)
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    let days: Vec<(NaiveDate, Span)> = range
        .0
        .iter_days()
        .take_while(|d| *d <= range.1)
        .map(|d| (d, rules::all_day_range(d, d, tz)))
        .collect();
    Ok(members
        .into_iter()
        .map(|m| {
            let busy: Vec<Busy> = rows
                .iter()
                .filter(|r| r.contributor_id == m.id)
                .map(|r| Busy {
                    event_id: r.id,
                    start_time: r.start_time,
                    end_time: r.end_time,
                    is_all_day: r.is_all_day,
                    event_type: r.event_type,
                    title: r.title.clone(),
                    when: events::when(r.start_time, r.end_time, r.is_all_day, tz),
                })
                .collect();
            let free_days = days
                .iter()
                .filter(|(_, (s, e))| !busy.iter().any(|b| b.start_time < *e && b.end_time > *s))
                .map(|(d, _)| *d)
                .collect();
            Person {
                contributor_id: m.id,
                name: m.name,
                role: m.role,
                busy,
                free_days,
            }
        })
        .collect())
}

/// Someone who can shoot, and whether they are free on the day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shooter {
    pub contributor_id: i32,
    pub name: String,
    /// The operator types they can fill, e.g. "Lead Videographer, Drone Pilot".
    pub can: String,
    pub free: bool,
    /// Why not, when busy: "Wedding: Ceremony (shoot assignment), Jun 12, 2027 12:00–13:30".
    pub why: Option<String>,
}

/// Who can shoot on a local day: every active person who can fill an operator type (or, while
/// no one has any, everyone in the Videographer role), free first.
pub async fn who_can_shoot(
    conn: &mut PgConnection,
    tz: &str,
    day: NaiveDate,
) -> AppResult<Vec<Shooter>> {
    let people: Vec<(i32, String, String)> = sqlx::query_as(&format!(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name,
                COALESCE((SELECT string_agg(o.name, ', ' ORDER BY o.name)
                          FROM contributor_operator_types t JOIN operator_types o
                            ON o.id = t.operator_type_id
                          WHERE t.contributor_id = co.id), r.name) AS can
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN roles r ON r.id = co.role_id
         WHERE {ACTIVE}
           AND (EXISTS (SELECT 1 FROM contributor_operator_types t WHERE t.contributor_id = co.id)
                OR (NOT EXISTS (SELECT 1 FROM contributor_operator_types)
                    AND r.name = 'Videographer'))
         ORDER BY name, co.id LIMIT 200"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let filter = events::Filter::default();
    let busy = free_busy(conn, tz, (day, day), &filter).await?;
    let mut out: Vec<Shooter> = people
        .into_iter()
        .map(|(id, name, can)| {
            let first = busy
                .iter()
                .find(|p| p.contributor_id == id)
                .and_then(|p| p.busy.first());
            Shooter {
                contributor_id: id,
                name,
                can,
                free: first.is_none(),
                why: first.map(|b| format!("{} ({}), {}", b.title, b.event_type.label(), b.when)),
            }
        })
        .collect();
    out.sort_by_key(|s| !s.free);
    Ok(out)
}
