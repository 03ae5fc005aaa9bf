//! Cash flow by the studio's local month: invoiced (issued invoices by issue date, neither Draft
//! nor Void; credit notes, negative, net it), collected (payments by payment date less refunds
//! by refund date; method 'Credit' pairs move no money and are left out), expected (what is
//! still owed on open invoices due in that month, from today on, to the end of the range's last
//! month), and outstanding and overdue at today and at the end of each month before.
//!
//! What was owed at a month's end is worked back from what is owed now: the open invoices by
//! due month (a small set, `idx_invoices_open`), less every change to what is owed since then
//! (an invoice issued, a payment, a refund, a void), bucketed by month and due month in SQL and
//! walked back here (pure, `month_ends`). So the statement reads only the range's own rows,
//! never every invoice the studio ever sent. Three aggregate statements in all.
//! A lead source keeps the invoices of the projects whose inquiry came from it (`from_source`).
use super::range::{NONE, Range};
use crate::error::AppResult;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct CashMonth {
    /// The month, `YYYY-MM` (the studio's local months).
    pub month: String,
    /// Issued invoices (not Draft or Void) by issue date; credit notes subtract.
    #[schema(value_type = String)]
    pub invoiced: Decimal,
    /// Money received by payment date, less refunds by refund date (credits applied are not
    /// money and are left out).
    #[schema(value_type = String)]
    pub collected: Decimal,
    /// Still owed on open invoices due in this month on or after today (the whole of the
    /// range's last month counts).
    #[schema(value_type = String)]
    pub expected: Decimal,
    /// Owed at the end of this month (invoices issued, not void, less what was paid by then);
    /// for the month of today, at today; null for months still to come and in the total.
    #[sqlx(default)]
    #[schema(value_type = Option<String>)]
    pub outstanding: Option<Decimal>,
    /// The part of `outstanding` whose due date had passed by then.
    #[sqlx(default)]
    #[schema(value_type = Option<String>)]
    pub overdue: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashFlow {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The studio's local today, which outstanding, overdue and expected are counted at.
    #[schema(value_type = String, format = Date)]
    pub today: NaiveDate,
    /// The studio's currency code (every amount is in it).
    pub currency: String,
    /// Still owed on every open invoice (Sent, Partially Paid, Overdue) at today.
    #[schema(value_type = String)]
    pub outstanding: Decimal,
    /// The part of it due before today.
    #[schema(value_type = String)]
    pub overdue: Decimal,
    /// Every month of the range, in order (months with nothing are zero).
    pub months: Vec<CashMonth>,
    /// The months added up.
    pub total: CashMonth,
}

/// What open invoices owe now, by due month (the first of it; None: no due date).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OwedNow {
    pub due_month: Option<NaiveDate>,
    pub owed: Decimal,
    /// The part due before today.
    pub overdue: Decimal,
}

/// The changes to what is owed in one month (issued +, paid -, refunded +, voided -), of the
/// invoices due in one month.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Change {
    pub month: NaiveDate,
    pub due_month: Option<NaiveDate>,
    pub amount: Decimal,
}

/// Whether the project `$project` came from the source `$src` (`(none)`, written `$none`: from
/// no source), or no source is asked for: one lookup along the unique `builds.project_id` and
/// the inquiry's primary key, per row of the range (a set of every invoice of the source
/// would read every invoice the studio ever sent).
macro_rules! from_source {
    ($project:literal, $src:literal, $none:literal) => {
        concat!(
            "(",
            $src,
            "::text IS NULL OR COALESCE(
               (SELECT NULLIF(btrim(q.lead_source), '') FROM builds b
                JOIN inquiries q ON q.id = b.inquiry_id WHERE b.project_id = ",
            $project,
            "), ",
            $none,
            ") = ",
            $src,
            ")"
        )
    };
}

/// The months of the range: one statement, reading invoices along `idx_invoices_issue_date`,
/// payments along `idx_payments_payment_date`, refunds along
/// `idx_payment_refunds_refund_date` and what is owed along `idx_invoices_open`.
const MONTHS_SQL: &str = concat!(
    "WITH months AS (
  SELECT generate_series($1::date, $2::date, interval '1 month')::date AS m
), inv AS (
  SELECT date_trunc('month', issue_date)::date AS m, sum(total_amount) AS amount
  FROM invoices
  WHERE issue_date >= $3 AND issue_date < $4 AND status NOT IN ('Draft', 'Void')
    AND ",
    from_source!("invoices.project_id", "$10", "$11"),
    "
  GROUP BY 1
), paid AS (
  SELECT date_trunc('month', payment_date AT TIME ZONE $7)::date AS m, sum(amount) AS amount
  FROM payments
  WHERE payment_date >= $5 AND payment_date < $6 AND payment_method <> 'Credit'
    AND ",
    from_source!(
        "(SELECT i.project_id FROM invoices i WHERE i.id = payments.invoice_id)",
        "$10",
        "$11"
    ),
    "
  GROUP BY 1
), refunded AS (
  SELECT date_trunc('month', r.refund_date AT TIME ZONE $7)::date AS m, sum(r.amount) AS amount
  FROM payment_refunds r JOIN payments p ON p.id = r.payment_id
  WHERE r.refund_date >= $5 AND r.refund_date < $6 AND p.payment_method <> 'Credit'
    AND ",
    from_source!(
        "(SELECT i.project_id FROM invoices i WHERE i.id = p.invoice_id)",
        "$10",
        "$11"
    ),
    "
  GROUP BY 1
), owed AS (
  SELECT date_trunc('month', due_date)::date AS m,
         sum(total_amount - COALESCE(amount_paid, 0)) AS amount
  FROM invoices
  WHERE status IN ('Sent', 'Partially Paid', 'Overdue') AND total_amount > 0
    AND due_date >= greatest($8::date, $3::date) AND due_date < $9
    AND ",
    from_source!("invoices.project_id", "$10", "$11"),
    "
  GROUP BY 1
)
SELECT to_char(months.m, 'YYYY-MM') AS month,
       COALESCE(inv.amount, 0)::numeric(14,2) AS invoiced,
       (COALESCE(paid.amount, 0) - COALESCE(refunded.amount, 0))::numeric(14,2) AS collected,
       COALESCE(owed.amount, 0)::numeric(14,2) AS expected
FROM months
LEFT JOIN inv ON inv.m = months.m
LEFT JOIN paid ON paid.m = months.m
LEFT JOIN refunded ON refunded.m = months.m
LEFT JOIN owed ON owed.m = months.m
ORDER BY months.m"
);

/// What the open invoices owe now ($1 today), by due month, along `idx_invoices_open`.
const OWED_NOW_SQL: &str = concat!(
    "SELECT date_trunc('month', i.due_date)::date AS due_month,
       sum(i.total_amount - COALESCE(i.amount_paid, 0)) AS owed,
       COALESCE(sum(i.total_amount - COALESCE(i.amount_paid, 0))
                FILTER (WHERE i.due_date < $1), 0) AS overdue
FROM invoices i
WHERE i.status IN ('Sent', 'Partially Paid', 'Overdue') AND i.total_amount > 0
  AND ",
    from_source!("i.project_id", "$2", "$3"),
    "
GROUP BY 1"
);

/// Every change to what invoices owe from the local day $1 (its start $2) on, by month and due
/// month ($3 the time zone): invoices issued (not drafts; a void one only when its void is
/// dated) along `idx_invoices_issue_date`, payments (credits applied too: they settle) along
/// `idx_payments_payment_date`, refunds along `idx_payment_refunds_refund_date`, voids along
/// `idx_invoices_voided_at` (the amount they still owed).
pub const CHANGES_SQL: &str = concat!(
    "WITH changes AS (
  SELECT i.issue_date AS d, i.due_date AS due, i.total_amount AS amount
  FROM invoices i
  WHERE i.issue_date >= $1 AND i.total_amount > 0 AND i.status <> 'Draft'
    AND (i.status <> 'Void' OR i.voided_at IS NOT NULL)
    AND ",
    from_source!("i.project_id", "$4", "$5"),
    "
  UNION ALL
  SELECT (p.payment_date AT TIME ZONE $3)::date, i.due_date, -p.amount
  FROM payments p
  CROSS JOIN LATERAL (SELECT i.due_date, i.project_id FROM invoices i
                      WHERE i.id = p.invoice_id AND i.total_amount > 0 AND i.status <> 'Draft'
                      OFFSET 0) i
  WHERE p.payment_date >= $2
    AND ",
    from_source!("i.project_id", "$4", "$5"),
    "
  UNION ALL
  SELECT (r.refund_date AT TIME ZONE $3)::date, i.due_date, r.amount
  FROM payment_refunds r JOIN payments p ON p.id = r.payment_id
  JOIN invoices i ON i.id = p.invoice_id
  WHERE r.refund_date >= $2 AND i.total_amount > 0 AND i.status <> 'Draft'
    AND ",
    from_source!("i.project_id", "$4", "$5"),
    "
  UNION ALL
  SELECT (i.voided_at AT TIME ZONE $3)::date, i.due_date,
         -(i.total_amount - COALESCE(i.amount_paid, 0))
  FROM invoices i
  WHERE i.voided_at >= $2 AND i.total_amount > 0
    AND ",
    from_source!("i.project_id", "$4", "$5"),
    "
)
SELECT date_trunc('month', d)::date AS month, date_trunc('month', due)::date AS due_month,
       sum(amount) AS amount
FROM changes GROUP BY 1, 2"
);

/// The report; with a `source`, only the invoices (and their payments) of projects whose
/// inquiry came from it (`(none)`: from no source).
pub async fn report(
    conn: &mut PgConnection,
    range: Range,
    source: Option<&str>,
    today: NaiveDate,
    time_zone: &str,
    currency: &str,
) -> AppResult<CashFlow> {
    let months_of = range.months();
    let (first, last) = (months_of[0], *months_of.last().unwrap_or(&months_of[0]));
    let mut months: Vec<CashMonth> = sqlx::query_as(MONTHS_SQL)
        .bind(first)
        .bind(last)
        .bind(range.from)
        .bind(range.end())
        .bind(crate::dates::start_of_day(range.from, time_zone))
        .bind(crate::dates::start_of_day(range.end(), time_zone))
        .bind(time_zone)
        .bind(today)
        .bind(
            last.checked_add_months(chrono::Months::new(1))
                .unwrap_or(range.end()),
        )
        .bind(source)
        .bind(NONE)
        .fetch_all(&mut *conn)
        .await?;
    let owed: Vec<OwedNow> = sqlx::query_as(OWED_NOW_SQL)
        .bind(today)
        .bind(source)
        .bind(NONE)
        .fetch_all(&mut *conn)
        .await?;
    // The changes since the end of the range's first month (all that is needed to walk back).
    let since = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first)
        .min(today);
    let changes: Vec<Change> = sqlx::query_as(CHANGES_SQL)
        .bind(since)
        .bind(crate::dates::start_of_day(since, time_zone))
        .bind(time_zone)
        .bind(source)
        .bind(NONE)
        .fetch_all(&mut *conn)
        .await?;
    month_ends(&mut months, today, &owed, &changes);
    let (outstanding, overdue) = at_today(&owed);
    let two = super::csv_cell::two;
    for m in &mut months {
        m.invoiced = two(m.invoiced);
        m.collected = two(m.collected);
        m.expected = two(m.expected);
        m.outstanding = m.outstanding.map(two);
        m.overdue = m.overdue.map(two);
    }
    Ok(CashFlow {
        from: range.from,
        to: range.to,
        today,
        currency: currency.to_string(),
        outstanding: two(outstanding),
        overdue: two(overdue),
        total: total(&months),
        months,
    })
}

/// Outstanding and overdue at the end of each month that has ended (at its last instant: what
/// was issued, paid, refunded and voided on its days counts), and at today for today's month
/// (pure). What is owed at a month's end is what is owed now less every change dated after it;
/// overdue counts the invoices due before the month's end.
pub fn month_ends(
    months: &mut [CashMonth],
    today: NaiveDate,
    owed: &[OwedNow],
    changes: &[Change],
) {
    let due_before = |due: Option<NaiveDate>, end: NaiveDate| due.is_some_and(|d| d < end);
    // What was owed when `end` began (with `due`: only on invoices due before it).
    let at = |end: NaiveDate, due: bool| -> Decimal {
        let kept = |d: Option<NaiveDate>| !due || due_before(d, end);
        let now: Decimal = owed
            .iter()
            .filter(|o| kept(o.due_month))
            .map(|o| o.owed)
            .sum();
        let since: Decimal = changes
            .iter()
            .filter(|c| c.month >= end && kept(c.due_month))
            .map(|c| c.amount)
            .sum();
        now - since
    };
    let today_figures = at_today(owed);
    for m in months.iter_mut() {
        let Some(start) = month_day(&m.month).filter(|s| *s <= today) else {
            continue;
        };
        let end = start
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(start);
        let (outstanding, overdue) = if end > today {
            today_figures
        } else {
            (at(end, false), at(end, true))
        };
        (m.outstanding, m.overdue) = (Some(outstanding), Some(overdue));
    }
}

/// What open invoices owe at today, and the part of it overdue (pure).
pub fn at_today(owed: &[OwedNow]) -> (Decimal, Decimal) {
    let sum = |f: fn(&OwedNow) -> Decimal| owed.iter().map(f).sum();
    (sum(|o| o.owed), sum(|o| o.overdue))
}

/// The months added up (pure).
pub fn total(months: &[CashMonth]) -> CashMonth {
    CashMonth {
        month: "Total".into(),
        invoiced: super::csv_cell::two(months.iter().map(|m| m.invoiced).sum()),
        collected: super::csv_cell::two(months.iter().map(|m| m.collected).sum()),
        expected: super::csv_cell::two(months.iter().map(|m| m.expected).sum()),
        outstanding: None,
        overdue: None,
    }
}

/// The table as CSV: the same rows and numbers as the page (plain amounts, two decimals).
pub fn csv(r: &CashFlow) -> AppResult<String> {
    let mut rows = vec![vec![
        "month".to_string(),
        "invoiced".into(),
        "collected".into(),
        "expected".into(),
        "outstanding".into(),
        "overdue".into(),
    ]];
    let maybe = |d: Option<Decimal>| d.map(super::csv_cell::amount).unwrap_or_default();
    for m in r.months.iter().chain([&r.total]) {
        rows.push(vec![
            m.month.clone(),
            super::csv_cell::amount(m.invoiced),
            super::csv_cell::amount(m.collected),
            super::csv_cell::amount(m.expected),
            maybe(m.outstanding),
            maybe(m.overdue),
        ]);
    }
    super::csv_cell::csv_of(&rows)
}

/// A month key back to the first day of that month (for chart labels).
pub fn month_day(key: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::super::range::month_key;
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_total_adds_up_every_column() {
        let months = vec![
            CashMonth {
                month: "2026-01".into(),
                invoiced: d("100.50"),
                collected: d("-20"),
                expected: d("0"),
                outstanding: None,
                overdue: None,
            },
            CashMonth {
                month: "2026-02".into(),
                invoiced: d("-10.25"),
                collected: d("70"),
                expected: d("5"),
                outstanding: Some(d("1")),
                overdue: None,
            },
        ];
        let t = total(&months);
        assert_eq!(
            (t.invoiced, t.collected, t.expected),
            (d("90.25"), d("50"), d("5"))
        );
        assert_eq!(month_key(month_day("2026-02").unwrap()), "2026-02");
    }
}
