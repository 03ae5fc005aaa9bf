//! The projected delivery day of a project, from the real queue: each person with open work on
//! the project works through their own open tasks in the order the lists show them (due day,
//! then number), at their weekly capacity spread over the five weekdays, starting the day after
//! the later of today and the wedding, skipping the days their calendar marks ABSENCE or
//! HOLIDAY. The project is done when the last of them reaches its last task there; its
//! unassigned work is done by the whole editing team after that. Planned hours less the hours
//! already logged are what is left of a task.
use crate::error::AppResult;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use rust_decimal::Decimal;
use sqlx::PgConnection;

/// Days away: (first, last), inclusive.
pub type Away = [(NaiveDate, NaiveDate)];

/// `days` working days (Monday to Friday, not away) after `from`: 0 is `from` itself.
pub fn add_workdays(from: NaiveDate, days: u32, away: &Away) -> NaiveDate {
    let mut d = from;
    let mut left = days;
    while left > 0 {
        d = d + Days::new(1);
        let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        if !weekend && !away.iter().any(|(a, b)| *a <= d && d <= *b) {
            left -= 1;
        }
    }
    d
}

/// Working days for `hours` at `weekly` hours a week (whole days, rounded up; at least one day
/// for any work left). None when there is work but no capacity to do it.
pub fn workdays(hours: Decimal, weekly: Decimal) -> Option<u32> {
    if hours <= Decimal::ZERO {
        return Some(0);
    }
    if weekly <= Decimal::ZERO {
        return None;
    }
    let days = (hours * Decimal::from(5) / weekly).ceil();
    u32::try_from(days.mantissa() / 10i128.pow(days.scale())).ok()
}

/// One person's queue: the hours up to and including the project's last task in it, their
/// weekly hours, the days they are away.
pub struct Line<'a> {
    pub hours: Decimal,
    pub weekly: Decimal,
    pub away: &'a Away,
}

/// The projected day: `start` plus the queue that ends last, then the unassigned hours on the
/// team. None when some work has no one with capacity to do it.
pub fn projected(
    start: NaiveDate,
    queues: &[Line<'_>],
    unassigned: Decimal,
    team_weekly: Decimal,
) -> Option<NaiveDate> {
    let mut last = start;
    for q in queues {
        last = last.max(add_workdays(start, workdays(q.hours, q.weekly)?, q.away));
    }
    Some(add_workdays(last, workdays(unassigned, team_weekly)?, &[]))
}

/// A project's delivery: the promise and the projection (None once every task is done, or when
/// work is left that nobody has capacity for).
pub struct Delivery {
    pub promised: Option<NaiveDate>,
    pub projected: Option<NaiveDate>,
    /// Hours of work left on the project.
    pub hours_left: Decimal,
}

#[derive(sqlx::FromRow)]
struct Queue {
    who: i32,
    through: Decimal,
    weekly: Decimal,
}

/// The project's delivery as of `today`: three statements whatever the size of the queues.
pub async fn delivery(
    conn: &mut PgConnection,
    project: i32,
    today: NaiveDate,
    zone: &str,
) -> AppResult<Delivery> {
    let (wedding, promised): (NaiveDate, Option<NaiveDate>) =
        sqlx::query_as("SELECT wedding_date, promised_delivery_date FROM projects WHERE id = $1")
            .bind(project)
            .fetch_one(&mut *conn)
            .await?;
    // Each assignee's queue over every project, cumulated in list order, read at this
    // project's last task in it.
    let queues: Vec<Queue> = sqlx::query_as(
        "WITH people AS (
            SELECT DISTINCT assigned_to_contributor_id AS c FROM tasks
            WHERE project_id = $1 AND status NOT IN ('Completed', 'Archived')
              AND assigned_to_contributor_id IS NOT NULL),
         queue AS (
            SELECT t.project_id, t.assigned_to_contributor_id AS c,
                   sum(greatest(COALESCE(t.planned_duration_hours, 0)
                                - COALESCE(t.actual_duration_hours, 0), 0))
                     OVER (PARTITION BY t.assigned_to_contributor_id
                           ORDER BY t.due_date NULLS LAST, t.id) AS through
            FROM tasks t JOIN people ON people.c = t.assigned_to_contributor_id
            WHERE t.status NOT IN ('Completed', 'Archived'))
         SELECT q.c AS who, max(q.through) AS through, co.weekly_capacity_hours AS weekly
         FROM queue q JOIN contributors co ON co.id = q.c
         WHERE q.project_id = $1 GROUP BY q.c, co.weekly_capacity_hours",
    )
    .bind(project)
    .fetch_all(&mut *conn)
    .await?;
    let (unassigned, left, team): (Decimal, Decimal, Decimal) = sqlx::query_as(
        "SELECT COALESCE(sum(r) FILTER (WHERE t.assigned_to_contributor_id IS NULL), 0),
                COALESCE(sum(r), 0),
                (SELECT COALESCE(sum(co.weekly_capacity_hours), 0) FROM contributors co
                 JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
                 WHERE EXISTS (SELECT 1 FROM role_permissions rp
                               JOIN permissions p ON p.id = rp.permission_id
                               WHERE rp.role_id = co.role_id AND p.action_name = 'tasks.work'))
         FROM (SELECT assigned_to_contributor_id,
                      greatest(COALESCE(planned_duration_hours, 0)
                               - COALESCE(actual_duration_hours, 0), 0) AS r
               FROM tasks WHERE project_id = $1
                 AND status NOT IN ('Completed', 'Archived')) t",
    )
    .bind(project)
    .fetch_one(&mut *conn)
    .await?;
    // Their days away from the start on, as local days (first, last).
    let start = today.max(wedding);
    let people: Vec<i32> = queues.iter().map(|q| q.who).collect();
    let away: Vec<(i32, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT contributor_id, (start_time AT TIME ZONE $3)::date,
                ((end_time - interval '1 microsecond') AT TIME ZONE $3)::date
         FROM calendar_events
         WHERE contributor_id = ANY($1) AND event_type IN ('ABSENCE', 'HOLIDAY')
           AND cancelled_at IS NULL AND end_time > $2::date
         ORDER BY 1, 2",
    )
    .bind(&people)
    .bind(start)
    .bind(zone)
    .fetch_all(&mut *conn)
    .await?;
    let away: Vec<Vec<(NaiveDate, NaiveDate)>> = people
        .iter()
        .map(|p| {
            let days = away.iter().filter(|a| a.0 == *p).map(|a| (a.1, a.2));
            days.collect()
        })
        .collect();
    let lines: Vec<Line<'_>> = queues
        .iter()
        .zip(&away)
        .map(|(q, days)| Line {
            hours: q.through,
            weekly: q.weekly,
            away: days,
        })
        .collect();
    let open = !queues.is_empty() || unassigned > Decimal::ZERO;
    let projected = if open {
        projected(start, &lines, unassigned, team)
    } else {
        None
    };
    Ok(Delivery {
        promised,
        projected,
        hours_left: left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn workdays_skip_the_weekend() {
        // Friday 4 Dec 2026 + 1 working day is Monday 7 Dec.
        assert_eq!(add_workdays(day("2026-12-04"), 1, &[]), day("2026-12-07"));
        assert_eq!(add_workdays(day("2026-12-04"), 0, &[]), day("2026-12-04"));
        assert_eq!(add_workdays(day("2026-12-01"), 5, &[]), day("2026-12-08"));
        // Away Monday to Wednesday: Friday + 1 is Thursday 10 Dec.
        let away = [(day("2026-12-07"), day("2026-12-09"))];
        assert_eq!(add_workdays(day("2026-12-04"), 1, &away), day("2026-12-10"));
    }

    #[test]
    fn hours_become_whole_days_at_the_persons_pace() {
        // 40 h a week is 8 h a day: 8 h is one day, 8.5 h two, 0 none.
        assert_eq!(workdays(d("8"), d("40")), Some(1));
        assert_eq!(workdays(d("8.5"), d("40")), Some(2));
        assert_eq!(workdays(d("0"), d("40")), Some(0));
        // Half-time (20 h a week): 8 h is two days.
        assert_eq!(workdays(d("8"), d("20")), Some(2));
        assert_eq!(workdays(d("1"), d("0")), None);
    }

    #[test]
    fn the_slowest_queue_and_then_the_unassigned_work_decide() {
        // Tuesday 1 Dec: Leo has 24 h up to the project (3 days), Nina 10 h at 20 h a week (3
        // days); 16 unassigned hours on a 80 h team is one day more: 4 working days, Monday 7.
        let line = |h: &str, w: &str, away| Line {
            hours: d(h),
            weekly: d(w),
            away,
        };
        let q = [line("24", "40", &[]), line("10", "20", &[])];
        assert_eq!(
            projected(day("2026-12-01"), &q, d("16"), d("80")),
            Some(day("2026-12-07"))
        );
        // Nina away Thursday and Friday: her 3 days end on Tuesday 8; then the team's day.
        let away = [(day("2026-12-03"), day("2026-12-04"))];
        let q = [line("24", "40", &[]), line("10", "20", &away)];
        assert_eq!(
            projected(day("2026-12-01"), &q, d("16"), d("80")),
            Some(day("2026-12-09"))
        );
        // Nobody with capacity for the unassigned work: no projection.
        assert_eq!(projected(day("2026-12-01"), &q, d("1"), d("0")), None);
    }
}
