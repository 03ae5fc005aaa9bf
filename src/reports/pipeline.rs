//! Pipeline: the inquiries created in each of the studio's local months, by the status they
//! are in now, the win rate = Booked / (Booked + Closed-Lost) of those inquiries, and the
//! average days they spent in each stage (with a person: the inquiries whose follow-up to-do
//! was given to them). The stages come from `inquiry_stage_changes`, which the database writes
//! at every change of status (migration 0063): a stay in a stage runs from the change into it
//! to the next change; the average counts the stays that have ended, and the stays not yet
//! ended are counted apart. Two aggregate statements along `idx_inquiries_created` (and
//! `idx_inquiry_stage_changes_inquiry`); the months are filled in here (pure).
use super::range::{NONE, Range, month_key};
use crate::crm::InquiryStatus;
use crate::error::AppResult;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{FromRow, PgConnection};
use utoipa::ToSchema;

/// The statuses in their order on the board.
pub const STATUSES: [&str; 5] = ["New", "Contacted", "Proposal Sent", "Booked", "Closed-Lost"];

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PipelineMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub new: i64,
    pub contacted: i64,
    pub proposal_sent: i64,
    pub booked: i64,
    pub closed_lost: i64,
    pub total: i64,
}

impl PipelineMonth {
    fn empty(month: String) -> Self {
        PipelineMonth {
            month,
            new: 0,
            contacted: 0,
            proposal_sent: 0,
            booked: 0,
            closed_lost: 0,
            total: 0,
        }
    }

    /// The counts in `STATUSES` order.
    pub fn counts(&self) -> [i64; 5] {
        [
            self.new,
            self.contacted,
            self.proposal_sent,
            self.booked,
            self.closed_lost,
        ]
    }

    fn add(&mut self, status: &str, n: i64) {
        match status {
            "New" => self.new += n,
            "Contacted" => self.contacted += n,
            "Proposal Sent" => self.proposal_sent += n,
            "Booked" => self.booked += n,
            _ => self.closed_lost += n,
        }
        self.total += n;
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pipeline {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub source: Option<String>,
    /// The person filter: the inquiries whose follow-up is theirs.
    pub person: Option<i32>,
    /// Every month of the range: the inquiries created in it, by their status now.
    pub months: Vec<PipelineMonth>,
    pub total: PipelineMonth,
    /// Booked / (Booked + Closed-Lost), in percent, one decimal; absent when none is decided.
    #[schema(value_type = Option<String>)]
    pub win_rate_percent: Option<Decimal>,
    /// The time these inquiries spent in each stage, one entry per status in board order.
    pub stages: Vec<StageTime>,
}

/// The stays of the report's inquiries in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct StageTime {
    pub stage: String,
    /// The average days of the stays that have ended (one decimal); absent when none has.
    #[schema(value_type = Option<String>)]
    pub average_days: Option<Decimal>,
    /// Stays that have ended (the inquiry moved on).
    pub moved_on: i64,
    /// Stays not yet ended (the inquiries in this stage now).
    pub in_it_now: i64,
}

/// Booked out of the decided ones, in percent with one decimal (pure).
pub fn win_rate(booked: i64, lost: i64) -> Option<Decimal> {
    let decided = booked + lost;
    (decided > 0).then(|| {
        (Decimal::from(booked) * Decimal::ONE_HUNDRED / Decimal::from(decided)).round_dp(1)
    })
}

#[derive(sqlx::FromRow)]
struct Count {
    month: String,
    status: String,
    n: i64,
}

/// The report's inquiries: created in the range ($1, $2), from the source ($4; `(none)` is
/// $5) and given to the person ($6) when asked. $3 is the time zone.
macro_rules! cohort {
    () => {
        "SELECT id, created_at, status FROM inquiries
         WHERE created_at >= $1 AND created_at < $2
           AND ($4::text IS NULL OR COALESCE(NULLIF(btrim(lead_source), ''), $5) = $4)
           AND ($6::int IS NULL OR EXISTS (SELECT 1 FROM activities a
                                           WHERE a.inquiry_id = inquiries.id AND a.is_follow_up
                                             AND a.assigned_to_contributor_id = $6))"
    };
}

const COUNTS_SQL: &str = concat!(
    "WITH cohort AS (",
    cohort!(),
    ")
     SELECT to_char(date_trunc('month', created_at AT TIME ZONE $3), 'YYYY-MM') AS month,
            status::text AS status, count(*) AS n
     FROM cohort GROUP BY 1, 2"
);

/// Each stay: from a change into a stage to the inquiry's next change (none yet: still there).
/// Each inquiry's changes are one index lookup, already in order (LATERAL with `OFFSET 0`, so
/// that the plan does not turn into a scan of every change when the planner guesses the range
/// is large).
pub const STAGES_SQL: &str = concat!(
    "WITH cohort AS (",
    cohort!(),
    "), stays AS (
       SELECT s.* FROM cohort CROSS JOIN LATERAL (
         SELECT c.to_status AS stage, c.changed_at AS entered,
                lead(c.changed_at) OVER (ORDER BY c.changed_at, c.id) AS left_at
         FROM inquiry_stage_changes c WHERE c.inquiry_id = cohort.id
         ORDER BY c.changed_at, c.id OFFSET 0) s
     )
     SELECT stage::text AS stage,
            round(avg(greatest(extract(epoch FROM left_at - entered), 0))
                    FILTER (WHERE left_at IS NOT NULL) / 86400, 1) AS average_days,
            count(left_at) AS moved_on, count(*) - count(left_at) AS in_it_now
     FROM stays GROUP BY stage"
);

pub async fn report(
    conn: &mut PgConnection,
    range: Range,
    source: Option<String>,
    person: Option<i32>,
    time_zone: &str,
) -> AppResult<Pipeline> {
    let from = crate::dates::start_of_day(range.from, time_zone);
    let to = crate::dates::start_of_day(range.end(), time_zone);
    let mut run = async |sql: &'static str| {
        sqlx::query(sql)
            .bind(from)
            .bind(to)
            .bind(time_zone)
            .bind(source.as_deref())
            .bind(NONE)
            .bind(person)
            .fetch_all(&mut *conn)
            .await
    };
    let counts: Vec<Count> = run(COUNTS_SQL)
        .await?
        .iter()
        .map(Count::from_row)
        .collect::<Result<_, _>>()?;
    let stages: Vec<StageTime> = run(STAGES_SQL)
        .await?
        .iter()
        .map(StageTime::from_row)
        .collect::<Result<_, _>>()?;
    let months = fill(
        &range,
        counts
            .iter()
            .map(|c| (c.month.as_str(), c.status.as_str(), c.n)),
    );
    let mut total = PipelineMonth::empty("Total".into());
    for m in &months {
        for (s, n) in STATUSES.iter().zip(m.counts()) {
            total.add(s, n);
        }
    }
    Ok(Pipeline {
        from: range.from,
        to: range.to,
        source,
        person,
        win_rate_percent: win_rate(total.booked, total.closed_lost),
        months,
        total,
        stages: in_board_order(stages),
    })
}

/// One entry per status, in `STATUSES` order (a stage no inquiry was in is zero) (pure).
pub fn in_board_order(found: Vec<StageTime>) -> Vec<StageTime> {
    STATUSES
        .iter()
        .map(|s| {
            found
                .iter()
                .find(|f| f.stage == *s)
                .cloned()
                .unwrap_or(StageTime {
                    stage: s.to_string(),
                    average_days: None,
                    moved_on: 0,
                    in_it_now: 0,
                })
        })
        .collect()
}

/// Every month of the range with its counts (pure): months without inquiries are zero.
pub fn fill<'a>(
    range: &Range,
    counts: impl Iterator<Item = (&'a str, &'a str, i64)>,
) -> Vec<PipelineMonth> {
    let mut months: Vec<PipelineMonth> = range
        .months()
        .into_iter()
        .map(|m| PipelineMonth::empty(month_key(m)))
        .collect();
    for (month, status, n) in counts {
        if let Some(m) = months.iter_mut().find(|m| m.month == month) {
            m.add(status, n);
        }
    }
    months
}

/// The table as CSV, the same numbers as the page.
pub fn csv(p: &Pipeline) -> AppResult<String> {
    let mut rows = vec![
        [
            "month",
            "new",
            "contacted",
            "proposal_sent",
            "booked",
            "closed_lost",
            "total",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for m in p.months.iter().chain([&p.total]) {
        let mut row = vec![m.month.clone()];
        row.extend(m.counts().iter().map(|n| n.to_string()));
        row.push(m.total.to_string());
        rows.push(row);
    }
    super::csv_cell::csv_of(&rows)
}

/// The days per stage as CSV, the same numbers as the page's second table.
pub fn stages_csv(p: &Pipeline) -> AppResult<String> {
    let mut rows = vec![
        ["stage", "average_days", "moved_on", "in_it_now"]
            .map(String::from)
            .to_vec(),
    ];
    for s in &p.stages {
        rows.push(vec![
            s.stage.clone(),
            s.average_days.map(|d| d.to_string()).unwrap_or_default(),
            s.moved_on.to_string(),
            s.in_it_now.to_string(),
        ]);
    }
    super::csv_cell::csv_of(&rows)
}

/// The status names (so that the list above stays the database's enum).
pub fn statuses() -> Vec<String> {
    InquiryStatus::ALL.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_win_rate_counts_only_decided_inquiries() {
        assert_eq!(win_rate(1, 3), Some(Decimal::new(250, 1)));
        assert_eq!(win_rate(2, 1), Some(Decimal::new(667, 1)));
        assert_eq!(win_rate(0, 0), None);
        assert_eq!(win_rate(0, 4), Some(Decimal::ZERO.round_dp(1)));
    }

    #[test]
    fn months_are_filled_and_statuses_counted() {
        let range = Range {
            from: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        };
        let m = fill(
            &range,
            [
                ("2026-01", "New", 2),
                ("2026-03", "Booked", 1),
                ("2026-03", "Closed-Lost", 4),
                ("2025-12", "New", 9),
            ]
            .into_iter(),
        );
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].counts(), [2, 0, 0, 0, 0]);
        assert_eq!(m[1].total, 0);
        assert_eq!(m[2].counts(), [0, 0, 0, 1, 4]);
        assert_eq!(m[2].total, 5);
    }

    #[test]
    fn the_statuses_are_the_databases() {
        assert_eq!(statuses(), STATUSES.map(String::from).to_vec());
    }
}
