//! The dashboard's panels by role, each one bounded statement along an index: a person's
//! unfinished tasks, the week's shoot days, overdue invoices, and the projects at risk of late
//! delivery (the rule is pure, `risk`, with its tests beside it).
use crate::error::AppResult;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// The statuses of a task still to do.
const OPEN: &str = "('To-Do', 'Ready to Start', 'In Progress')";

/// How many rows a panel lists (each says how many there are in all).
pub const LIMIT: i64 = 8;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyTask {
    pub id: i32,
    pub template: String,
    pub project_id: i32,
    pub project: String,
    pub due_date: Option<NaiveDate>,
    pub status: String,
    /// Unfinished tasks of the person: all, due before today, due today.
    pub open: i64,
    pub overdue: i64,
    pub due_today: i64,
}

/// The person's unfinished tasks by due day (`idx_tasks_open_assignee_due`), the first few,
/// each row with the counts of all of them.
pub async fn my_tasks(
    conn: &mut PgConnection,
    me: i32,
    today: NaiveDate,
) -> AppResult<Vec<MyTask>> {
    Ok(sqlx::query_as(&format!(
        "WITH mine AS (
           SELECT t.id, t.task_template_id, t.project_id, t.due_date, t.status
           FROM tasks t WHERE t.assigned_to_contributor_id = $1 AND t.status IN {OPEN}
         ), n AS (
           SELECT count(*) AS open, count(*) FILTER (WHERE due_date < $2) AS overdue,
                  count(*) FILTER (WHERE due_date = $2) AS due_today FROM mine
         )
         SELECT m.id, tt.name AS template, m.project_id, COALESCE(p.project_name, '') AS project,
                m.due_date, m.status::text AS status, n.open, n.overdue, n.due_today
         FROM (SELECT * FROM mine ORDER BY due_date NULLS LAST, id LIMIT $3) m
         CROSS JOIN n
         JOIN task_templates tt ON tt.id = m.task_template_id
         JOIN projects p ON p.id = m.project_id
         ORDER BY m.due_date NULLS LAST, m.id"
    ))
    .bind(me)
    .bind(today)
    .bind(LIMIT)
    .fetch_all(conn)
    .await?)
}

/// Monday of `day`'s week, and the Monday after.
pub fn week_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = day - Duration::days(day.weekday().num_days_from_monday() as i64);
    (monday, monday + Duration::days(7))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Shoot {
    pub project_id: i32,
    pub project: String,
    pub starts: DateTime<Utc>,
    /// The crew, in order of call time.
    pub crew: String,
    /// Shoot days (projects) in the week in all.
    pub total: i64,
}

/// The week's shoot days (live crew assignments, `idx_calendar_events_shoots`), one row per
/// project with its crew: every one, or those `person` is on.
pub async fn shoots(
    conn: &mut PgConnection,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    person: Option<i32>,
) -> AppResult<Vec<Shoot>> {
    Ok(sqlx::query_as(
        "WITH e AS (
           SELECT e.project_id, e.contributor_id, e.start_time FROM calendar_events e
           WHERE e.event_type = 'PROJECT_ASSIGNMENT' AND e.cancelled_at IS NULL
             AND e.project_id IS NOT NULL AND e.start_time >= $1 AND e.start_time < $2
         ), s AS (
           SELECT e.project_id, min(e.start_time) AS starts,
                  string_agg(trim(concat_ws(' ', c.first_name, c.last_name)), ', '
                             ORDER BY e.start_time, c.first_name) AS crew
           FROM e JOIN contributors co ON co.id = e.contributor_id
           JOIN contacts c ON c.id = co.contact_id
           WHERE $3::int IS NULL
              OR e.project_id IN (SELECT project_id FROM e WHERE contributor_id = $3)
           GROUP BY 1
         )
         SELECT s.project_id, COALESCE(p.project_name, '') AS project, s.starts, s.crew,
                count(*) OVER () AS total
         FROM s JOIN projects p ON p.id = s.project_id
         ORDER BY s.starts, s.project_id LIMIT $4",
    )
    .bind(from)
    .bind(to)
    .bind(person)
    .bind(LIMIT)
    .fetch_all(conn)
    .await?)
}

/// Whether the person is on a crew at all (can fill an operator type).
pub async fn shoots_at_all(conn: &mut PgConnection, person: i32) -> AppResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM contributor_operator_types WHERE contributor_id = $1)",
    )
    .bind(person)
    .fetch_one(conn)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverdueInvoice {
    pub id: i32,
    pub number: String,
    pub project: String,
    pub due_date: NaiveDate,
    pub owed: Decimal,
    /// Overdue invoices in all, and what they still owe.
    pub total: i64,
    pub total_owed: Decimal,
}

/// Open invoices due before today (`idx_invoices_open`), the oldest first, each row with the
/// count and sum of all of them.
pub async fn overdue_invoices(
    conn: &mut PgConnection,
    today: NaiveDate,
) -> AppResult<Vec<OverdueInvoice>> {
    Ok(sqlx::query_as(
        "WITH o AS (
           SELECT id, project_id, invoice_number, due_date,
                  total_amount - COALESCE(amount_paid, 0) AS owed
           FROM invoices
           WHERE status IN ('Sent', 'Partially Paid', 'Overdue') AND total_amount > 0
             AND due_date < $1
         ), n AS (SELECT count(*) AS total, COALESCE(sum(owed), 0) AS total_owed FROM o)
         SELECT o.id, COALESCE(o.invoice_number, '') AS number,
                COALESCE(p.project_name, '') AS project, o.due_date, o.owed, n.total,
                n.total_owed
         FROM (SELECT * FROM o ORDER BY due_date, id LIMIT $2) o
         CROSS JOIN n JOIN projects p ON p.id = o.project_id
         ORDER BY o.due_date, o.id",
    )
    .bind(today)
    .bind(LIMIT)
    .fetch_all(conn)
    .await?)
}

/// How far ahead a project's unfinished work is looked at: a project is considered once one of
/// its unfinished tasks is due within these days (or already past due).
pub const HORIZON_DAYS: i64 = 28;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub project_id: i32,
    pub project: String,
    /// The promised delivery day (the wedding + the studio's delivery weeks).
    pub delivery: NaiveDate,
    /// Unfinished tasks, and of them those past their due day.
    pub open: i64,
    pub late: i64,
    /// Planned hours not yet logged on the unfinished tasks (none below zero).
    pub remaining: Decimal,
    /// The weekly capacity of the people assigned to them (unassigned tasks bring none).
    pub weekly_capacity: Decimal,
}

/// Why a project is at risk of late delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Risk {
    /// Tasks past their due day (the due days count back from the promised delivery, so the
    /// plan is already slipping).
    Late(i64),
    /// More hours left than the assignees could work by the delivery day even if they did
    /// nothing else: (hours left, hours available).
    NoTime(Decimal, Decimal),
}

/// The rule (pure). A project is at risk when one of its unfinished tasks is past its due day,
/// or when its unfinished tasks' remaining planned hours exceed the hours its assignees have
/// until the promised delivery at their weekly capacity (counting from today, the delivery day
/// included). The second is a floor (people work on several projects; the capacity page shows
/// each person's load); the first catches the rest as soon as a step slips.
pub fn risk(c: &Candidate, today: NaiveDate) -> Option<Risk> {
    if c.late > 0 {
        return Some(Risk::Late(c.late));
    }
    let days = ((c.delivery - today).num_days() + 1).max(0);
    let available = (c.weekly_capacity * Decimal::from(days) / Decimal::from(7)).round_dp(1);
    (c.remaining > available).then_some(Risk::NoTime(c.remaining, available))
}

/// The projects with unfinished work due within the horizon (`idx_tasks_open_due_project`): every
/// one, or those where `person` has such a task; each one's unfinished tasks counted along
/// `idx_tasks_project_due` (per project, LATERAL: a hash join over every unfinished task of
/// the studio was ten times slower at 2 million tasks).
pub async fn candidates(
    conn: &mut PgConnection,
    today: NaiveDate,
    person: Option<i32>,
) -> AppResult<Vec<Candidate>> {
    Ok(sqlx::query_as(&format!(
        "WITH c AS (
           SELECT DISTINCT t.project_id FROM tasks t
           WHERE t.status IN {OPEN} AND t.due_date < $1 + $3::int
             AND ($2::int IS NULL OR t.assigned_to_contributor_id = $2)
         )
         SELECT c.project_id, p.project, p.delivery, o.open, o.late, o.remaining,
                COALESCE((SELECT sum(co.weekly_capacity_hours) FROM contributors co
                          WHERE co.id = ANY (o.people)), 0) AS weekly_capacity
         FROM c
         CROSS JOIN LATERAL (
           SELECT COALESCE(p.project_name, '') AS project,
                  p.wedding_date + 7 * s.delivery_weeks_after_wedding AS delivery
           FROM projects p, studio_settings s WHERE p.id = c.project_id) p
         CROSS JOIN LATERAL (
           SELECT count(*) AS open, count(*) FILTER (WHERE t.due_date < $1) AS late,
                  COALESCE(sum(GREATEST(COALESCE(t.planned_duration_hours, 0)
                                        - COALESCE(t.actual_duration_hours, 0), 0)), 0)
                    AS remaining,
                  array_agg(DISTINCT t.assigned_to_contributor_id)
                    FILTER (WHERE t.assigned_to_contributor_id IS NOT NULL) AS people
           FROM tasks t WHERE t.project_id = c.project_id AND t.status IN {OPEN}) o"
    ))
    .bind(today)
    .bind(person)
    .bind(HORIZON_DAYS as i32)
    .fetch_all(conn)
    .await?)
}

/// Projects at risk with the reason, the first `LIMIT` of them, and how many in all.
pub type AtRisk = (Vec<(Candidate, Risk)>, usize);

/// The projects at risk, the soonest delivery first, with the reason; and how many in all.
pub async fn at_risk(
    conn: &mut PgConnection,
    today: NaiveDate,
    person: Option<i32>,
) -> AppResult<AtRisk> {
    let mut risky: Vec<(Candidate, Risk)> = candidates(conn, today, person)
        .await?
        .into_iter()
        .filter_map(|c| risk(&c, today).map(|r| (c, r)))
        .collect();
    risky.sort_by(|a, b| {
        a.0.delivery
            .cmp(&b.0.delivery)
            .then_with(|| a.0.project_id.cmp(&b.0.project_id))
    });
    let n = risky.len();
    risky.truncate(LIMIT as usize);
    Ok((risky, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn c(late: i64, remaining: i64, weekly: i64, delivery: NaiveDate) -> Candidate {
        Candidate {
            project_id: 1,
            project: "P".into(),
            delivery,
            open: 3,
            late,
            remaining: Decimal::from(remaining),
            weekly_capacity: Decimal::from(weekly),
        }
    }

    #[test]
    fn a_late_task_or_too_little_time_puts_a_project_at_risk() {
        let today = day(6, 15);
        // A task past its due day, however much time is left.
        assert_eq!(risk(&c(2, 1, 40, day(9, 1)), today), Some(Risk::Late(2)));
        // Two weeks (14 days and the delivery day) at 40 h a week: 85.7 h.
        assert_eq!(risk(&c(0, 80, 40, day(6, 29)), today), None);
        assert_eq!(
            risk(&c(0, 90, 40, day(6, 29)), today),
            Some(Risk::NoTime(Decimal::from(90), Decimal::new(857, 1)))
        );
        // Nobody assigned: any hours left are at risk.
        assert!(matches!(
            risk(&c(0, 3, 0, day(7, 29)), today),
            Some(Risk::NoTime(..))
        ));
        // Delivery already past with work left.
        assert!(risk(&c(0, 1, 40, day(6, 1)), today).is_some());
        // Nothing left.
        assert_eq!(risk(&c(0, 0, 0, day(6, 1)), today), None);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-06-15 is a Monday; 2026-06-21 a Sunday.
        assert_eq!(week_of(day(6, 15)), (day(6, 15), day(6, 22)));
        assert_eq!(week_of(day(6, 21)), (day(6, 15), day(6, 22)));
    }
}
