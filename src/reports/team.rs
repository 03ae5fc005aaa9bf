//! Team performance: the tasks completed in the range (by the instant they were completed, in
//! the studio's local days), per person and task template: how many, planned and actual hours,
//! how far off the plan (actual / planned), and the on-time rate (completed on or before the
//! due day, the completion instant read as the studio's local date; tasks without a due day
//! are not counted in the rate); and the trend, the same figures per local month. One
//! aggregate statement (GROUPING SETS) read from `idx_tasks_completed_at` alone; the
//! arithmetic below is pure.
use super::range::{Range, month_key};
use crate::error::AppResult;
use chrono::NaiveDate;
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

/// The statement: completed tasks by the completion instant along `idx_tasks_completed_at`,
/// grouped twice, by (person, template) and by local day (the days then rolled up into
/// months); names joined after grouping. A task's local day is found by a binary search of the
/// range's local midnights (`width_bucket`), which costs a fraction of converting every
/// instant to the studio's zone.
pub const SQL: &str = "
WITH days AS (
  SELECT array(SELECT ($6::date + i)::timestamp AT TIME ZONE $3
               FROM generate_series(0, $7::date - $6::date) i) AS starts
), t AS (
  SELECT t.assigned_to_contributor_id AS person_id, t.task_template_id AS template_id,
         COALESCE(t.planned_duration_hours, 0) AS planned,
         COALESCE(t.actual_duration_hours, 0) AS actual,
         t.due_date, $6::date + width_bucket(t.completed_at, days.starts) - 1 AS done_on
  FROM tasks t, days
  WHERE t.status = 'Completed' AND t.completed_at >= $1 AND t.completed_at < $2
    AND ($4::int IS NULL OR t.assigned_to_contributor_id = $4)
), g AS (
  SELECT grouping(done_on) = 0 AS by_day, person_id, template_id, done_on, count(*) AS tasks,
         sum(planned) AS planned, sum(actual) AS actual,
         count(*) FILTER (WHERE due_date IS NOT NULL) AS with_due,
         count(*) FILTER (WHERE done_on <= due_date) AS on_time
  FROM t GROUP BY GROUPING SETS ((person_id, template_id), (done_on))
), m AS (
  SELECT true AS by_month, NULL::int AS person_id, NULL::int AS template_id,
         to_char(date_trunc('month', done_on), 'YYYY-MM') AS month, sum(tasks)::bigint AS tasks,
         sum(planned) AS planned, sum(actual) AS actual, sum(with_due)::bigint AS with_due,
         sum(on_time)::bigint AS on_time
  FROM g WHERE by_day GROUP BY 4
  UNION ALL
  SELECT false, person_id, template_id, NULL, tasks, planned, actual, with_due, on_time
  FROM g WHERE NOT by_day
)
SELECT m.by_month, m.person_id,
       CASE WHEN m.by_month THEN NULL
            ELSE COALESCE(trim(concat_ws(' ', c.first_name, c.last_name)), $5) END AS person,
       m.template_id, tt.name AS template, m.month, m.tasks, m.planned, m.actual, m.with_due,
       m.on_time
FROM m
LEFT JOIN contributors co ON co.id = m.person_id
LEFT JOIN contacts c ON c.id = co.contact_id
LEFT JOIN task_templates tt ON tt.id = m.template_id";

pub async fn report(
    conn: &mut PgConnection,
    range: Range,
    person: Option<i32>,
    time_zone: &str,
) -> AppResult<Team> {
    let rows: Vec<Row> = sqlx::query_as(SQL)
        .bind(crate::dates::start_of_day(range.from, time_zone))
        .bind(crate::dates::start_of_day(range.end(), time_zone))
        .bind(time_zone)
        .bind(person)
        .bind(NOBODY)
        .bind(range.from)
        .bind(range.end())
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
