//! Capacity: for each person who works on tasks, the hours still planned on their open tasks
//! per week (by due day; overdue work counts in this week) against their weekly capacity less
//! the weekdays their calendar marks as ABSENCE or HOLIDAY, for the next 12 weeks.
use crate::error::{AppError, AppResult};
use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use std::collections::BTreeMap;

pub const WEEKS: usize = 12;

/// The Monday of the week of `day`.
pub fn monday(day: NaiveDate) -> NaiveDate {
    day - Days::new(day.weekday().num_days_from_monday() as u64)
}

/// A week's capacity: `weekly` less a fifth of it for each weekday (Monday to Friday) of the
/// week that an absence (first day, last day, inclusive) covers.
pub fn capacity(weekly: Decimal, week: NaiveDate, absences: &[(NaiveDate, NaiveDate)]) -> Decimal {
    let absent = (0..5)
        .map(|i| week + Days::new(i))
        .filter(|d| absences.iter().any(|(from, to)| from <= d && d <= to))
        .count();
    (weekly * Decimal::from(5 - absent as i64) / Decimal::from(5)).round_dp(2)
}

/// The week (index from `first`) a task due on `due` counts in: overdue ones in the first.
pub fn week_of(first: NaiveDate, due: NaiveDate) -> Option<usize> {
    if due < first {
        return Some(0);
    }
    let i = ((due - first).num_days() / 7) as usize;
    (i < WEEKS).then_some(i)
}

/// One person's row.
pub struct Row {
    pub id: i32,
    pub name: String,
    pub weekly: Decimal,
    /// (planned hours, capacity) per week.
    pub weeks: Vec<(Decimal, Decimal)>,
}

impl Row {
    pub fn over(&self, i: usize) -> bool {
        self.weeks[i].0 > self.weeks[i].1
    }
}

/// The rows from `today`'s week on: four statements whatever the number of people and tasks.
pub async fn rows(conn: &mut PgConnection, today: NaiveDate, zone: &str) -> AppResult<Vec<Row>> {
    let first = monday(today);
    let end = first + Days::new(7 * WEEKS as u64);
    let people: Vec<(i32, String, Decimal)> = sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)), co.weekly_capacity_hours
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         JOIN role_permissions rp ON rp.role_id = co.role_id
         JOIN permissions p ON p.id = rp.permission_id AND p.action_name = 'tasks.work'
         ORDER BY 2, 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let load: Vec<(i32, NaiveDate, Decimal)> = sqlx::query_as(
        "SELECT assigned_to_contributor_id, due_date,
                sum(greatest(COALESCE(planned_duration_hours, 0)
                             - COALESCE(actual_duration_hours, 0), 0))
         FROM tasks
         WHERE assigned_to_contributor_id IS NOT NULL AND due_date < $1
           AND status IN ('To-Do', 'Ready to Start', 'In Progress')
         GROUP BY 1, 2",
    )
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    let absences: Vec<(i32, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT contributor_id, (start_time AT TIME ZONE $3)::date,
                ((end_time - interval '1 microsecond') AT TIME ZONE $3)::date
         FROM calendar_events
         WHERE event_type IN ('ABSENCE', 'HOLIDAY') AND cancelled_at IS NULL
           AND end_time > $1::date AND start_time < $2::date
         ORDER BY 1",
    )
    .bind(first)
    .bind(end)
    .bind(zone)
    .fetch_all(&mut *conn)
    .await?;
    let mut planned: BTreeMap<(i32, usize), Decimal> = BTreeMap::new();
    for (who, due, hours) in load {
        if let Some(w) = week_of(first, due) {
            *planned.entry((who, w)).or_default() += hours;
        }
    }
    Ok(people
        .into_iter()
        .map(|(id, name, weekly)| {
            let away: Vec<(NaiveDate, NaiveDate)> = absences
                .iter()
                .filter(|a| a.0 == id)
                .map(|a| (a.1, a.2))
                .collect();
            let weeks = (0..WEEKS)
                .map(|w| {
                    let week = first + Days::new(7 * w as u64);
                    let p = planned.get(&(id, w)).copied().unwrap_or_default();
                    (p, capacity(weekly, week, &away))
                })
                .collect();
            Row {
                id,
                name,
                weekly,
                weeks,
            }
        })
        .collect())
}

/// The Mondays of the weeks shown.
pub fn mondays(today: NaiveDate) -> Vec<NaiveDate> {
    let first = monday(today);
    (0..WEEKS)
        .map(|w| first + Days::new(7 * w as u64))
        .collect()
}

/// Set a person's weekly capacity (0 to 168 hours, 2 decimals at most).
pub async fn set_weekly(tx: &mut PgConnection, who: i32, hours: &str) -> AppResult<()> {
    let bad = || AppError::field("weekly_capacity_hours", "hours from 0 to 168, e.g. 32");
    let h: Decimal = hours.trim().parse().map_err(|_| bad())?;
    if h < Decimal::ZERO || h > Decimal::from(168) || h.scale() > 2 {
        return Err(bad());
    }
    let done = sqlx::query("UPDATE contributors SET weekly_capacity_hours = $2 WHERE id = $1")
        .bind(who)
        .bind(h)
        .execute(tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found(&format!("person {who}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_overdue_work_counts_now() {
        assert_eq!(monday(day("2026-12-03")), day("2026-11-30"));
        assert_eq!(monday(day("2026-11-30")), day("2026-11-30"));
        let first = day("2026-11-30");
        assert_eq!(week_of(first, day("2026-11-01")), Some(0));
        assert_eq!(week_of(first, day("2026-12-06")), Some(0));
        assert_eq!(week_of(first, day("2026-12-07")), Some(1));
        assert_eq!(week_of(first, first + Days::new(7 * 12)), None);
    }

    #[test]
    fn absences_take_a_fifth_per_weekday() {
        let week = day("2026-11-30");
        let w = Decimal::from(40);
        assert_eq!(capacity(w, week, &[]), Decimal::from(40));
        // Wednesday to the next Tuesday: three weekdays of this week.
        let away = [(day("2026-12-02"), day("2026-12-08"))];
        assert_eq!(capacity(w, week, &away), Decimal::from(16));
        // A weekend away costs nothing.
        let weekend = [(day("2026-12-05"), day("2026-12-06"))];
        assert_eq!(capacity(w, week, &weekend), Decimal::from(40));
    }
}
