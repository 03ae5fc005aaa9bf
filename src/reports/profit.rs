//! Profitability per project: the projects whose wedding day is in the range (the wedding is
//! when the work is done and the price earned; the default range, the last 12 months up to
//! today, is the weddings that have happened), each with
//! - price: the approved price (the contract's total before tax, with the approved change
//!   orders: `builds.approved_price`, which booking sets and each approved change order moves);
//! - paid: money received on its invoices, less refunds (`builds.total_paid`; tax included, as
//!   paid; credits applied are not money);
//! - labour: hours logged on its tasks x each person's hourly cost;
//! - crew: hours of its shoot days (live PROJECT_ASSIGNMENT events) x each person's hourly cost;
//! - expenses: its `project_expenses`;
//! - fees: an estimate of the card processor's fees (the studio's `card_fee_percent` of the
//!   card payments plus `card_fee_fixed` per card payment, rounded once per project; the spec's
//!   payments have no fee);
//! - margin = price - (labour + crew + expenses + fees), and margin % of the price.
//!
//! Hours and costs come from `project_costs` (kept by the database as time is logged, crews
//! change, expenses and card payments are recorded, and hourly costs change), at the people's
//! current hourly cost; a person without one costs nothing and their hours are counted apart
//! ("hours without a cost"). One statement of lookups; the arithmetic, the order and the page
//! are pure functions below.
use super::range::{NONE, Range};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};

/// Rows on a page of the report (the page and the API); the CSV has every row.
pub const PAGE: usize = 100;

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    project_id: i32,
    project: String,
    wedding_date: NaiveDate,
    booking_date: Option<NaiveDate>,
    source: String,
    price: Decimal,
    paid: Decimal,
    work_hours: Decimal,
    labour: Decimal,
    shoot_hours: Decimal,
    crew: Decimal,
    expenses: Decimal,
    fees: Decimal,
    uncosted_hours: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProfitRow {
    pub project_id: i32,
    /// The project's name ("Olivia & Daniel wedding").
    pub project: String,
    /// Absent on the total.
    #[schema(value_type = Option<String>, format = Date)]
    pub wedding_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub booking_date: Option<NaiveDate>,
    /// The lead source of the project's inquiry, "(none)" without one.
    pub source: String,
    /// The approved price (before tax, approved change orders included).
    #[schema(value_type = String)]
    pub price: Decimal,
    /// Money received on the project's invoices, less refunds.
    #[schema(value_type = String)]
    pub paid: Decimal,
    /// Hours logged on the project's tasks.
    #[schema(value_type = String)]
    pub work_hours: Decimal,
    /// Those hours x each person's hourly cost.
    #[schema(value_type = String)]
    pub labour: Decimal,
    /// Hours of the project's shoot days (crew assignments).
    #[schema(value_type = String)]
    pub shoot_hours: Decimal,
    /// Those hours x each person's hourly cost.
    #[schema(value_type = String)]
    pub crew: Decimal,
    #[schema(value_type = String)]
    pub expenses: Decimal,
    /// Card processing fees (estimated from the studio's card fee settings).
    #[schema(value_type = String)]
    pub fees: Decimal,
    /// labour + crew + expenses + fees.
    #[schema(value_type = String)]
    pub cost: Decimal,
    /// price - cost.
    #[schema(value_type = String)]
    pub margin: Decimal,
    /// margin / price, in percent, one decimal; absent when the price is zero.
    #[schema(value_type = Option<String>)]
    pub margin_percent: Option<Decimal>,
    /// Hours (work and shoot) by people without an hourly cost: not in the costs.
    #[schema(value_type = String)]
    pub uncosted_hours: Decimal,
}

/// The columns the report sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    Project,
    WeddingDate,
    Source,
    Price,
    Paid,
    WorkHours,
    Labour,
    ShootHours,
    Crew,
    Expenses,
    Fees,
    Cost,
    Margin,
    MarginPercent,
}

impl SortBy {
    pub const ALL: [SortBy; 14] = [
        SortBy::Project,
        SortBy::WeddingDate,
        SortBy::Source,
        SortBy::Price,
        SortBy::Paid,
        SortBy::WorkHours,
        SortBy::Labour,
        SortBy::ShootHours,
        SortBy::Crew,
        SortBy::Expenses,
        SortBy::Fees,
        SortBy::Cost,
        SortBy::Margin,
        SortBy::MarginPercent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SortBy::Project => "project",
            SortBy::WeddingDate => "wedding_date",
            SortBy::Source => "source",
            SortBy::Price => "price",
            SortBy::Paid => "paid",
            SortBy::WorkHours => "work_hours",
            SortBy::Labour => "labour",
            SortBy::ShootHours => "shoot_hours",
            SortBy::Crew => "crew",
            SortBy::Expenses => "expenses",
            SortBy::Fees => "fees",
            SortBy::Cost => "cost",
            SortBy::Margin => "margin",
            SortBy::MarginPercent => "margin_percent",
        }
    }

    fn parse(s: &str) -> Option<SortBy> {
        SortBy::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// The order and the page of the report (query parameters of the page and the API; the CSV
/// takes the order too).
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Order {
    /// The column to sort by; empty: margin_percent (the worst projects first).
    #[param(schema_with = sort_or_empty)]
    #[serde(default)]
    pub sort: Option<String>,
    /// `asc` or `desc`; empty: ascending (the lowest first).
    #[param(schema_with = dir_or_empty)]
    #[serde(default)]
    pub dir: Option<String>,
    /// The page, from 1; empty: the first. 100 rows a page.
    #[param(schema_with = page_or_empty)]
    #[serde(default)]
    pub page: Option<String>,
}

fn sort_or_empty() -> utoipa::openapi::schema::Schema {
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(SortBy::ALL.map(SortBy::name).to_vec()));
    crate::http::json::or_empty(one, "The column to sort by; empty: margin_percent.")
}

fn dir_or_empty() -> utoipa::openapi::schema::Schema {
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["asc", "desc"]));
    crate::http::json::or_empty(one, "asc or desc; empty: asc.")
}

fn page_or_empty() -> utoipa::openapi::schema::Schema {
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some(r"^[1-9][0-9]{0,5}$"));
    crate::http::json::or_empty(one, "A page number from 1; empty: 1.")
}

/// The order as parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub by: SortBy,
    pub desc: bool,
    /// From 1.
    pub page: usize,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            by: SortBy::MarginPercent,
            desc: false,
            page: 1,
        }
    }
}

impl Order {
    /// The order these parameters name; a value outside the lists is a 422 by its field.
    pub fn parse(&self) -> AppResult<Sort> {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let by = match text(&self.sort) {
            None => SortBy::MarginPercent,
            Some(s) => SortBy::parse(&s)
                .ok_or_else(|| AppError::field("sort", "choose one of the report's columns"))?,
        };
        let desc = match text(&self.dir).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(AppError::field("dir", "asc or desc")),
        };
        let page = match text(&self.page) {
            None => 1,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=999_999).contains(p))
                .ok_or_else(|| AppError::field("page", "a page number from 1"))?,
        };
        Ok(Sort { by, desc, page })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profit {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub source: Option<String>,
    pub person: Option<i32>,
    pub currency: String,
    /// The column the rows are sorted by, and whether the highest come first.
    #[schema(value_type = String)]
    pub sort: SortBy,
    pub descending: bool,
    /// This page (from 1), the number of pages and of projects.
    pub page: usize,
    pub pages: usize,
    pub projects: usize,
    /// This page's projects, in the order asked.
    pub rows: Vec<ProfitRow>,
    /// Every project of the range added up (margin % of the summed price).
    pub total: ProfitRow,
}

/// margin / price in percent with one decimal (pure); none when the price is zero.
pub fn margin_percent(margin: Decimal, price: Decimal) -> Option<Decimal> {
    (!price.is_zero()).then(|| super::csv_cell::one(margin * Decimal::ONE_HUNDRED / price))
}

fn row(r: &Row) -> ProfitRow {
    let two = super::csv_cell::two;
    let cost = r.labour + r.crew + r.expenses + r.fees;
    let margin = r.price - cost;
    ProfitRow {
        project_id: r.project_id,
        project: r.project.clone(),
        wedding_date: Some(r.wedding_date),
        booking_date: r.booking_date,
        source: r.source.clone(),
        price: two(r.price),
        paid: two(r.paid),
        work_hours: two(r.work_hours),
        labour: two(r.labour),
        shoot_hours: two(r.shoot_hours),
        crew: two(r.crew),
        expenses: two(r.expenses),
        fees: two(r.fees),
        cost: two(cost),
        margin: two(margin),
        margin_percent: margin_percent(margin, r.price),
        uncosted_hours: two(r.uncosted_hours),
    }
}

/// The added-up columns of a total (the page's read as the database's window sums).
#[derive(Default, sqlx::FromRow)]
struct Sums {
    #[sqlx(rename = "t_price")]
    price: Decimal,
    #[sqlx(rename = "t_paid")]
    paid: Decimal,
    #[sqlx(rename = "t_work_hours")]
    work_hours: Decimal,
    #[sqlx(rename = "t_labour")]
    labour: Decimal,
    #[sqlx(rename = "t_shoot_hours")]
    shoot_hours: Decimal,
    #[sqlx(rename = "t_crew")]
    crew: Decimal,
    #[sqlx(rename = "t_expenses")]
    expenses: Decimal,
    #[sqlx(rename = "t_fees")]
    fees: Decimal,
    #[sqlx(rename = "t_uncosted_hours")]
    uncosted_hours: Decimal,
}

/// The total row of these sums (pure): margin and margin % of the summed price, no wedding day.
fn total_of(s: &Sums) -> ProfitRow {
    let r = Row {
        project_id: 0,
        project: "Total".into(),
        wedding_date: NaiveDate::MIN, // replaced below: the total has no wedding day
        booking_date: None,
        source: String::new(),
        price: s.price,
        paid: s.paid,
        work_hours: s.work_hours,
        labour: s.labour,
        shoot_hours: s.shoot_hours,
        crew: s.crew,
        expenses: s.expenses,
        fees: s.fees,
        uncosted_hours: s.uncosted_hours,
    };
    ProfitRow {
        wedding_date: None,
        ..row(&r)
    }
}

/// Every row added up (pure).
pub fn total(rows: &[ProfitRow]) -> ProfitRow {
    let sum = |f: fn(&ProfitRow) -> Decimal| rows.iter().map(f).sum::<Decimal>();
    total_of(&Sums {
        price: sum(|r| r.price),
        paid: sum(|r| r.paid),
        work_hours: sum(|r| r.work_hours),
        labour: sum(|r| r.labour),
        shoot_hours: sum(|r| r.shoot_hours),
        crew: sum(|r| r.crew),
        expenses: sum(|r| r.expenses),
        fees: sum(|r| r.fees),
        uncosted_hours: sum(|r| r.uncosted_hours),
    })
}

/// The statement: the projects of the range (`idx_projects_wedding_date`), each with its build,
/// inquiry and `project_costs` row (migration 0062: hours, costs, expenses and card payments kept
/// by triggers) looked up by key. The lookups are LATERAL with `OFFSET 0` so that the plan stays
/// three index lookups per project whatever the planner guesses of the range's size (joined
/// plainly, it hashed all 150,000 inquiries and 50,000 builds to keep 5,000). The card fee
/// estimate: card_fee_percent of the card payments plus card_fee_fixed per payment.
pub const SQL: &str = "
SELECT p.id AS project_id, COALESCE(p.project_name, '') AS project, p.wedding_date,
       p.booking_date, COALESCE(NULLIF(btrim(q.lead_source), ''), $4) AS source,
       b.approved_price AS price, b.total_paid AS paid,
       COALESCE(round(pc.work_hours, 2), 0) AS work_hours,
       COALESCE(round(pc.labour, 2), 0) AS labour,
       COALESCE(round(pc.shoot_hours, 2), 0) AS shoot_hours,
       COALESCE(round(pc.crew, 2), 0) AS crew,
       COALESCE(pc.expenses, 0) AS expenses,
       COALESCE(round(pc.card_amount * s.card_fee_percent / 100
                      + pc.card_payments * s.card_fee_fixed, 2), 0) AS fees,
       COALESCE(pc.uncosted_hours, 0) AS uncosted_hours
FROM studio_settings s, projects p
CROSS JOIN LATERAL (SELECT b.approved_price, b.total_paid, b.inquiry_id FROM builds b
                    WHERE b.project_id = p.id OFFSET 0) b
LEFT JOIN LATERAL (SELECT q.lead_source FROM inquiries q WHERE q.id = b.inquiry_id OFFSET 0) q
       ON true
LEFT JOIN LATERAL (SELECT * FROM project_costs pc WHERE pc.project_id = p.id OFFSET 0) pc ON true
WHERE p.wedding_date >= $1 AND p.wedding_date < $2
  AND ($3::text IS NULL OR COALESCE(NULLIF(btrim(q.lead_source), ''), $4) = $3)
  AND ($5::int IS NULL OR EXISTS (SELECT 1 FROM project_hours ph
                                  WHERE ph.project_id = p.id AND ph.contributor_id = $5))";

/// Every project of the range that the filters keep, in the order asked (the CSV).
pub async fn all(
    conn: &mut PgConnection,
    range: Range,
    source: Option<&str>,
    person: Option<i32>,
    order: Sort,
) -> AppResult<Vec<ProfitRow>> {
    let rows: Vec<Row> = sqlx::query_as(&ordered_sql(order, false))
        .bind(range.from)
        .bind(range.end())
        .bind(source)
        .bind(NONE)
        .bind(person)
        .fetch_all(conn)
        .await?;
    Ok(rows.iter().map(row).collect())
}

/// A page's row with the range's count and sums (window aggregates over every row of the range,
/// computed before the page is cut).
#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    row: Row,
    projects: i64,
    #[sqlx(flatten)]
    sums: Sums,
}

/// `SQL` sorted and, for a page, cut to it and added up by the database: a page moves 100 rows,
/// not the range's thousands. The order: the column (margin % by its exact ratio, an absent
/// one below every number), then the wedding day and the id.
fn ordered_sql(order: Sort, paged: bool) -> String {
    let cost = "(labour + crew + expenses + fees)";
    let key = match order.by {
        SortBy::Project => "lower(project)".to_string(),
        SortBy::Cost => cost.to_string(),
        SortBy::Margin => format!("(price - {cost})"),
        SortBy::MarginPercent => {
            format!("(CASE WHEN price <> 0 THEN (price - {cost}) * 100 / price END)")
        }
        other => other.name().to_string(),
    };
    let dir = if order.desc {
        "DESC NULLS LAST"
    } else {
        "ASC NULLS FIRST"
    };
    let (sums, cut) = if paged {
        (
            ", count(*) OVER () AS projects, sum(price) OVER () AS t_price,
             sum(paid) OVER () AS t_paid, sum(work_hours) OVER () AS t_work_hours,
             sum(labour) OVER () AS t_labour, sum(shoot_hours) OVER () AS t_shoot_hours,
             sum(crew) OVER () AS t_crew, sum(expenses) OVER () AS t_expenses,
             sum(fees) OVER () AS t_fees, sum(uncosted_hours) OVER () AS t_uncosted_hours",
            format!("LIMIT {PAGE} OFFSET $6"),
        )
    } else {
        ("", String::new())
    };
    format!(
        "WITH r AS ({SQL}) SELECT r.*{sums} FROM r ORDER BY {key} {dir}, wedding_date, project_id {cut}"
    )
}

/// One page in the asked order, the range's count and its total.
async fn page(
    conn: &mut PgConnection,
    range: Range,
    source: Option<&str>,
    person: Option<i32>,
    order: Sort,
) -> AppResult<(Vec<ProfitRow>, usize, ProfitRow)> {
    let offset = (order.page as i64 - 1) * PAGE as i64;
    let rows: Vec<PageRow> = sqlx::query_as(&ordered_sql(order, true))
        .bind(range.from)
        .bind(range.end())
        .bind(source)
        .bind(NONE)
        .bind(person)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
    let (projects, total) = rows
        .first()
        .map_or((0, total_of(&Sums::default())), |first| {
            (first.projects as usize, total_of(&first.sums))
        });
    Ok((rows.iter().map(|r| row(&r.row)).collect(), projects, total))
}

/// The report: one page of the projects in the asked order, and the total of every project.
pub async fn report(
    conn: &mut PgConnection,
    range: Range,
    source: Option<String>,
    person: Option<i32>,
    order: Sort,
    currency: &str,
) -> AppResult<Profit> {
    let (rows, mut projects, mut total) =
        page(conn, range, source.as_deref(), person, order).await?;
    if rows.is_empty() && order.page > 1 {
        // Past the last page: the count and total still say what the range holds.
        let first = Sort { page: 1, ..order };
        (_, projects, total) = page(conn, range, source.as_deref(), person, first).await?;
    }
    Ok(Profit {
        from: range.from,
        to: range.to,
        source,
        person,
        currency: currency.to_string(),
        sort: order.by,
        descending: order.desc,
        page: order.page,
        pages: projects.div_ceil(PAGE).max(1),
        projects,
        rows,
        total,
    })
}

fn opt(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// Every project (all pages) and the total as CSV, the same numbers as the page.
pub fn csv(rows: &[ProfitRow]) -> AppResult<String> {
    let amount = super::csv_cell::amount;
    let mut out = vec![
        [
            "project_id",
            "project",
            "wedding_date",
            "source",
            "price",
            "paid",
            "work_hours",
            "labour",
            "shoot_hours",
            "crew",
            "expenses",
            "fees",
            "cost",
            "margin",
            "margin_percent",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let t = total(rows);
    for (i, r) in rows.iter().chain([&t]).enumerate() {
        let last = i == rows.len();
        out.push(vec![
            if last {
                String::new()
            } else {
                r.project_id.to_string()
            },
            r.project.clone(),
            r.wedding_date.map(|d| d.to_string()).unwrap_or_default(),
            r.source.clone(),
            amount(r.price),
            amount(r.paid),
            amount(r.work_hours),
            amount(r.labour),
            amount(r.shoot_hours),
            amount(r.crew),
            amount(r.expenses),
            amount(r.fees),
            amount(r.cost),
            amount(r.margin),
            opt(r.margin_percent),
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

    fn r(id: i32, price: &str, labour: &str, expenses: &str, fees: &str) -> ProfitRow {
        row(&Row {
            project_id: id,
            project: format!("P{id}"),
            wedding_date: NaiveDate::from_ymd_opt(2026, 1, id as u32).unwrap(),
            booking_date: None,
            source: "Google".into(),
            price: d(price),
            paid: d("0"),
            work_hours: d("10"),
            labour: d(labour),
            shoot_hours: d("0"),
            crew: d("100"),
            expenses: d(expenses),
            fees: d(fees),
            uncosted_hours: d("0"),
        })
    }

    #[test]
    fn the_margin_is_the_price_less_every_cost() {
        let x = r(1, "5000", "1200.50", "300", "45.25");
        assert_eq!(x.cost, d("1645.75"));
        assert_eq!(x.margin, d("3354.25"));
        assert_eq!(x.margin_percent, Some(d("67.1")));
        assert_eq!(x.cost.to_string(), "1645.75");
        let free = r(2, "0", "10", "0", "0");
        assert_eq!(free.margin, d("-110"));
        assert_eq!(free.margin_percent, None);
        assert_eq!(margin_percent(d("-1"), d("3")), Some(d("-33.3")));
    }

    #[test]
    fn bad_orders_name_their_field() {
        let o = |s: &str, dir: &str, page: &str| Order {
            sort: Some(s.into()),
            dir: Some(dir.into()),
            page: Some(page.into()),
        };
        assert_eq!(o("", "", "").parse().unwrap(), Sort::default());
        let s = o("labour", "desc", "2").parse().unwrap();
        assert_eq!((s.by, s.desc, s.page), (SortBy::Labour, true, 2));
        for (bad, field) in [
            (o("price; drop", "", ""), "sort"),
            (o("", "up", ""), "dir"),
            (o("", "", "0"), "page"),
            (o("", "", "x"), "page"),
        ] {
            match bad.parse().unwrap_err() {
                AppError::Validation { errors, .. } => assert_eq!(errors[0].field, field),
                e => panic!("{e:?}"),
            }
        }
    }
}
