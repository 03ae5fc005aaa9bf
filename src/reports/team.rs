//! Team performance: the tasks completed in the range (by the instant they were completed, in
//! the studio's local days), per person and task template: how many, planned and actual hours,
//! how far off the plan (actual / planned), and the on-time rate (completed on or before the
//! due day, the completion instant read as the studio's local date; tasks without a due day
//! are not counted in the rate); and the trend, the same figures per local month. One
//! aggregate statement (GROUPING SETS): the range's whole months from `task_month_totals`
//! (kept by the database), the days around them from the tasks; the arithmetic below is
//! pure.
use super::range::{Range, month_key, month_of};
use crate::error::AppResult;
use chrono::NaiveDate;
use chrono::{Datelike, Months};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

/// Shown for tasks completed without an assignee.
pub const NOBODY: &str = "(unassigned)";

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    /// A month's row (else a person and template's).
    by_month: bool,
    person_id: Option<i32>,
    person: Option<String>,
    template_id: Option<i32>,
    template: Option<String>,
    month: Option<String>,
    tasks: i64,
    planned: Decimal,
    actual: Decimal,
    with_due: i64,
    on_time: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TeamRow {
    /// The person (absent on a month's row and on the total); "(unassigned)" for none.
    pub person_id: Option<i32>,
    pub person: Option<String>,
    pub template_id: Option<i32>,
    pub template: Option<String>,
    /// `YYYY-MM` on a month's row.
    pub month: Option<String>,
    /// Tasks completed.
    pub tasks: i64,
    #[schema(value_type = String)]
    pub planned_hours: Decimal,
    #[schema(value_type = String)]
    pub actual_hours: Decimal,
    /// actual / planned, in percent, one decimal (100.0 = as planned; above: slower); absent
    /// without planned hours.
    #[schema(value_type = Option<String>)]
    pub actual_vs_planned_percent: Option<Decimal>,
    /// Tasks with a due day, and of them those completed on or before it.
    pub with_due_date: i64,
    pub on_time: i64,
    /// on_time / with_due_date, in percent, one decimal; absent without due days.
    #[schema(value_type = Option<String>)]
    pub on_time_percent: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Team {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub person: Option<i32>,
    /// Per person and template: people by name, their templates by name.
    pub rows: Vec<TeamRow>,
    /// Every month of the range, in order (months without completed tasks are zero).
    pub months: Vec<TeamRow>,
    pub total: TeamRow,
}

/// part / whole in percent with one decimal (pure); none when the whole is zero.
pub fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| super::csv_cell::one(part * Decimal::ONE_HUNDRED / whole))
}

fn team_row(r: &Row) -> TeamRow {
    TeamRow {
        person_id: r.person_id,
        person: r.person.clone(),
        template_id: r.template_id,
        template: r.template.clone(),
        month: r.month.clone(),
        tasks: r.tasks,
        planned_hours: super::csv_cell::two(r.planned),
        actual_hours: super::csv_cell::two(r.actual),
        actual_vs_planned_percent: percent(r.actual, r.planned),
        with_due_date: r.with_due,
        on_time: r.on_time,
        on_time_percent: percent(Decimal::from(r.on_time), Decimal::from(r.with_due)),
    }
}

/// Days from the first to before the second.
pub type Span = (NaiveDate, NaiveDate);

/// The range's whole months (the first day of the first, the first day after the last), and
/// the days around them that are not a whole month (at most two spans) (pure).
pub fn split(range: Range) -> (Option<Span>, Vec<Span>) {
    let end = range.end();
    let first = if range.from.day() == 1 {
        range.from
    } else {
        month_of(range.from)
            .checked_add_months(Months::new(1))
            .unwrap_or(end)
    };
    let last = month_of(end);
    if first < last {
        let spans = [(range.from, first), (last, end)]
            .into_iter()
            .filter(|(a, b)| a < b)
            .collect();
        (Some((first, last)), spans)
    } else {
        (None, vec![(range.from, end)])
    }
}

/// The statement. The whole months of the range from `task_month_totals` (kept by the
/// database: a row per month, person and template); the days around them from the completed
/// tasks themselves along `idx_tasks_completed_at`, each task's local day found by a binary
/// search of the range's local midnights (`width_bucket`, cheaper than converting every
/// instant to the studio's zone). Both summed twice, by (person, template) and by month;
/// names joined after.
pub const SQL: &str = "
WITH days AS (
  SELECT array(SELECT ($6::date + i)::timestamp AT TIME ZONE $3
               FROM generate_series(0, $7::date - $6::date) i) AS starts
), spans AS (
  SELECT $1::timestamptz AS a, $2::timestamptz AS b UNION ALL SELECT $8, $9
), raw AS (
  SELECT t.assigned_to_contributor_id AS person_id, t.task_template_id AS template_id,
         COALESCE(t.planned_duration_hours, 0) AS planned,
         COALESCE(t.actual_duration_hours, 0) AS actual,
         t.due_date, $6::date + width_bucket(t.completed_at, days.starts) - 1 AS done_on
  FROM spans
  JOIN tasks t ON t.status = 'Completed' AND t.completed_at >= spans.a
              AND t.completed_at < spans.b
  CROSS JOIN days
  WHERE $4::int IS NULL OR t.assigned_to_contributor_id = $4
), parts AS (
  SELECT date_trunc('month', done_on)::date AS month, person_id, template_id, count(*) AS tasks,
         sum(planned) AS planned, sum(actual) AS actual, count(due_date) AS with_due,
         count(*) FILTER (WHERE done_on <= due_date) AS on_time
  FROM raw GROUP BY 1, 2, 3
  UNION ALL
  SELECT month, NULLIF(contributor_id, 0), task_template_id, tasks, planned, actual, with_due,
         on_time
  FROM task_month_totals
  WHERE month >= $10 AND month < $11 AND tasks <> 0
    AND ($4::int IS NULL OR contributor_id = $4)
), g AS (
  SELECT grouping(month) = 0 AS by_month, person_id, template_id, month,
         sum(tasks)::bigint AS tasks, sum(planned) AS planned, sum(actual) AS actual,
         sum(with_due)::bigint AS with_due, sum(on_time)::bigint AS on_time
  FROM parts GROUP BY GROUPING SETS ((person_id, template_id), (month))
)
SELECT g.by_month, g.person_id,
       CASE WHEN g.by_month THEN NULL WHEN g.person_id IS NULL THEN $5
            ELSE trim(concat_ws(' ', c.first_name, c.last_name)) END AS person,
       g.template_id, tt.name AS template, to_char(g.month, 'YYYY-MM') AS month, g.tasks,
       g.planned, g.actual, g.with_due, g.on_time
FROM g
LEFT JOIN contributors co ON co.id = g.person_id
LEFT JOIN contacts c ON c.id = co.contact_id
LEFT JOIN task_templates tt ON tt.id = g.template_id";

pub async fn report(
    conn: &mut PgConnection,
    range: Range,
    person: Option<i32>,
    time_zone: &str,
) -> AppResult<Team> {
    let (whole, spans) = split(range);
    let at = |d: NaiveDate| crate::dates::start_of_day(d, time_zone);
    let span = |i: usize| {
        spans
            .get(i)
            .map(|&(a, b)| (at(a), at(b)))
            .unwrap_or((at(range.from), at(range.from)))
    };
    let (whole_from, whole_to) = whole.unwrap_or((range.from, range.from));
    let rows: Vec<Row> = sqlx::query_as(SQL)
        .bind(span(0).0)
        .bind(span(0).1)
        .bind(time_zone)
        .bind(person)
        .bind(NOBODY)
        .bind(range.from)
        .bind(range.end())
        .bind(span(1).0)
        .bind(span(1).1)
        .bind(whole_from)
        .bind(whole_to)
        .fetch_all(conn)
        .await?;
    Ok(assemble(rows, range, person))
}

/// Rows by person then template (names, then ids), every month of the range filled, the
/// total of every row (pure).
fn assemble(rows: Vec<Row>, range: Range, person: Option<i32>) -> Team {
    let mut people: Vec<TeamRow> = rows.iter().filter(|r| !r.by_month).map(team_row).collect();
    people.sort_by(|a, b| {
        let unassigned = |r: &TeamRow| r.person_id.is_none();
        unassigned(a)
            .cmp(&unassigned(b))
            .then_with(|| a.person.cmp(&b.person))
            .then_with(|| a.person_id.cmp(&b.person_id))
            .then_with(|| a.template.cmp(&b.template))
            .then_with(|| a.template_id.cmp(&b.template_id))
    });
    let months = range
        .months()
        .into_iter()
        .map(|m| {
            let key = month_key(m);
            match rows
                .iter()
                .find(|r| r.by_month && r.month.as_deref() == Some(&key))
            {
                Some(r) => team_row(r),
                None => team_row(&empty(Some(key))),
            }
        })
        .collect::<Vec<_>>();
    let mut sum = empty(None);
    for r in rows.iter().filter(|r| !r.by_month) {
        sum.tasks += r.tasks;
        sum.planned += r.planned;
        sum.actual += r.actual;
        sum.with_due += r.with_due;
        sum.on_time += r.on_time;
    }
    Team {
        from: range.from,
        to: range.to,
        person,
        rows: people,
        months,
        total: team_row(&sum),
    }
}

fn empty(month: Option<String>) -> Row {
    Row {
        by_month: month.is_some(),
        person_id: None,
        person: None,
        template_id: None,
        template: None,
        month,
        tasks: 0,
        planned: Decimal::ZERO,
        actual: Decimal::ZERO,
        with_due: 0,
        on_time: 0,
    }
}

fn opt(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// Both tables as one CSV: the (person, template) rows, the total, then the months (a `month`
/// column, empty on the others); the same numbers as the page.
pub fn csv(t: &Team) -> AppResult<String> {
    let amount = super::csv_cell::amount;
    let mut out = vec![
        [
            "person",
            "template",
            "month",
            "tasks",
            "planned_hours",
            "actual_hours",
            "actual_vs_planned_percent",
            "with_due_date",
            "on_time",
            "on_time_percent",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let total = TeamRow {
        person: Some("Total".into()),
        ..t.total.clone()
    };
    for r in t.rows.iter().chain([&total]).chain(&t.months) {
        out.push(vec![
            r.person.clone().unwrap_or_default(),
            r.template.clone().unwrap_or_default(),
            r.month.clone().unwrap_or_default(),
            r.tasks.to_string(),
            amount(r.planned_hours),
            amount(r.actual_hours),
            opt(r.actual_vs_planned_percent),
            r.with_due_date.to_string(),
            r.on_time.to_string(),
            opt(r.on_time_percent),
        ]);
    }
    super::csv_cell::csv_of(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn r(person: Option<(i32, &str)>, template: &str, month: Option<&str>, n: i64) -> Row {
        Row {
            by_month: month.is_some(),
            person_id: person.map(|p| p.0),
            person: person.map(|p| p.1.to_string()),
            template_id: Some(1),
            template: Some(template.into()),
            month: month.map(String::from),
            tasks: n,
            planned: d("10"),
            actual: d("12.5"),
            with_due: n,
            on_time: n - 1,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_range_is_whole_months_and_the_days_around_them() {
        let r = |a, b| Range { from: a, to: b };
        // The default: eleven whole months and this month's days so far.
        assert_eq!(
            split(r(day(2025, 7, 1), day(2026, 6, 15))),
            (
                Some((day(2025, 7, 1), day(2026, 6, 1))),
                vec![(day(2026, 6, 1), day(2026, 6, 16))]
            )
        );
        // Ragged both ends.
        assert_eq!(
            split(r(day(2026, 1, 10), day(2026, 4, 30))),
            (
                Some((day(2026, 2, 1), day(2026, 5, 1))),
                vec![(day(2026, 1, 10), day(2026, 2, 1))]
            )
        );
        assert_eq!(
            split(r(day(2026, 1, 10), day(2026, 3, 5))),
            (
                Some((day(2026, 2, 1), day(2026, 3, 1))),
                vec![
                    (day(2026, 1, 10), day(2026, 2, 1)),
                    (day(2026, 3, 1), day(2026, 3, 6))
                ]
            )
        );
        // Within one month, or across one month's end: days only.
        assert_eq!(
            split(r(day(2026, 1, 10), day(2026, 1, 20))),
            (None, vec![(day(2026, 1, 10), day(2026, 1, 21))])
        );
        assert_eq!(
            split(r(day(2026, 1, 10), day(2026, 2, 20))),
            (None, vec![(day(2026, 1, 10), day(2026, 2, 21))])
        );
        // Exactly whole months.
        assert_eq!(
            split(r(day(2026, 1, 1), day(2026, 12, 31))),
            (Some((day(2026, 1, 1), day(2027, 1, 1))), vec![])
        );
    }

    #[test]
    fn rates_people_and_months_add_up() {
        let range = Range {
            from: NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(),
        };
        let rows = vec![
            r(Some((2, "Nina")), "Grade", None, 4),
            r(None, "Cut", None, 2),
            r(Some((1, "Leo")), "Cut", None, 3),
            r(None, "", Some("2026-02"), 9),
        ];
        let t = assemble(rows, range, None);
        let names: Vec<_> = t.rows.iter().map(|r| r.person.clone()).collect();
        assert_eq!(names, [Some("Leo".into()), Some("Nina".into()), None]);
        assert_eq!(t.months.len(), 3);
        assert_eq!(t.months[1].tasks, 9);
        assert_eq!(t.months[0].tasks, 0);
        assert_eq!(t.months[0].on_time_percent, None);
        assert_eq!(t.total.tasks, 9);
        assert_eq!(t.total.planned_hours, d("30.00"));
        assert_eq!(t.total.actual_vs_planned_percent, Some(d("125.0")));
        assert_eq!(t.total.on_time_percent, Some(d("66.7")));
        assert_eq!(percent(d("1"), d("0")), None);
    }
}
