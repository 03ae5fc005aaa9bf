//! Marketing ROI per lead source and per campaign (within its source): inquiries created in
//! the range, proposals (the inquiry's quote has a proposal version, or the inquiry reached
//! Proposal Sent or Booked), bookings (quotes Booked, or Completed after booking), conversion
//! (bookings / inquiries), revenue (approved price of the booked quotes), spend
//! (`marketing_spend` in the range) and ROI = (revenue - spend) / spend. An empty source or
//! campaign is "(none)". With a person: the inquiries whose follow-up to-do was given to them
//! (the sales person the lead went to, round robin), and no spend (spend is not anyone's).
//! One aggregate statement (GROUPING SETS), no query per row.
use super::range::{NONE, Range};
use crate::error::AppResult;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Row {
    source: String,
    campaign: Option<String>,
    inquiries: i64,
    proposals: i64,
    bookings: i64,
    revenue: Decimal,
    spend: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RoiRow {
    /// The lead source, "(none)" for inquiries without one.
    pub source: String,
    /// The campaign within the source ("(none)" for none); absent on a source's own row.
    pub campaign: Option<String>,
    pub inquiries: i64,
    pub proposals: i64,
    pub bookings: i64,
    /// Bookings / inquiries, in percent, one decimal; absent without inquiries.
    #[schema(value_type = Option<String>)]
    pub conversion_percent: Option<Decimal>,
    /// The approved price of the booked quotes.
    #[schema(value_type = String)]
    pub revenue: Decimal,
    #[schema(value_type = String)]
    pub spend: Decimal,
    /// (revenue - spend) / spend, in percent, one decimal; absent without spend.
    #[schema(value_type = Option<String>)]
    pub roi_percent: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Roi {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The lead source filter, if any.
    pub source: Option<String>,
    /// The person filter, if any: the inquiries whose follow-up is theirs (no spend then).
    pub person: Option<i32>,
    pub currency: String,
    /// One row per lead source, the most revenue first.
    pub sources: Vec<RoiRow>,
    /// One row per campaign within its source, in the same order.
    pub campaigns: Vec<RoiRow>,
    /// Every source added up.
    pub total: RoiRow,
}

/// Bookings out of inquiries, in percent with one decimal (pure); none without inquiries.
pub fn conversion(bookings: i64, inquiries: i64) -> Option<Decimal> {
    (inquiries > 0).then(|| {
        super::csv_cell::one(
            Decimal::from(bookings) * Decimal::ONE_HUNDRED / Decimal::from(inquiries),
        )
    })
}

/// (revenue - spend) / spend in percent with one decimal (pure); none without spend.
pub fn roi(revenue: Decimal, spend: Decimal) -> Option<Decimal> {
    (spend > Decimal::ZERO)
        .then(|| super::csv_cell::one((revenue - spend) * Decimal::ONE_HUNDRED / spend))
}

const SQL: &str = "
WITH i AS (
  SELECT COALESCE(NULLIF(btrim(q.lead_source), ''), $5) AS source,
         COALESCE(NULLIF(btrim(q.campaign_id), ''), $5) AS campaign,
         (q.status IN ('Proposal Sent', 'Booked')
          OR EXISTS (SELECT 1 FROM proposal_versions pv WHERE pv.build_id = b.id)) AS proposed,
         COALESCE(b.status IN ('Booked', 'Completed'), false) AS booked,
         CASE WHEN b.status IN ('Booked', 'Completed') THEN b.approved_price ELSE 0 END AS revenue
  FROM inquiries q LEFT JOIN builds b ON b.inquiry_id = q.id
  WHERE q.created_at >= $1 AND q.created_at < $2
    AND ($7::int IS NULL OR EXISTS (SELECT 1 FROM activities a WHERE a.inquiry_id = q.id
                                    AND a.is_follow_up AND a.assigned_to_contributor_id = $7))
), ia AS (
  SELECT source, CASE WHEN grouping(campaign) = 0 THEN campaign END AS campaign,
         count(*) AS inquiries, count(*) FILTER (WHERE proposed) AS proposals,
         count(*) FILTER (WHERE booked) AS bookings, sum(revenue) AS revenue
  FROM i WHERE $6::text IS NULL OR source = $6
  GROUP BY GROUPING SETS ((source), (source, campaign))
), s AS (
  SELECT COALESCE(NULLIF(btrim(lead_source), ''), $5) AS source,
         COALESCE(NULLIF(btrim(campaign_id), ''), $5) AS campaign, amount
  FROM marketing_spend WHERE spent_on >= $3 AND spent_on < $4 AND $7::int IS NULL
), sa AS (
  SELECT source, CASE WHEN grouping(campaign) = 0 THEN campaign END AS campaign,
         sum(amount) AS spend
  FROM s WHERE $6::text IS NULL OR source = $6
  GROUP BY GROUPING SETS ((source), (source, campaign))
)
SELECT COALESCE(ia.source, sa.source) AS source, COALESCE(ia.campaign, sa.campaign) AS campaign,
       COALESCE(ia.inquiries, 0) AS inquiries, COALESCE(ia.proposals, 0) AS proposals,
       COALESCE(ia.bookings, 0) AS bookings, COALESCE(ia.revenue, 0)::numeric(14,2) AS revenue,
       COALESCE(sa.spend, 0)::numeric(14,2) AS spend
FROM ia FULL JOIN sa
  ON ia.source = sa.source AND COALESCE(ia.campaign, '') = COALESCE(sa.campaign, '')";

pub async fn report(
    conn: &mut PgConnection,
    range: Range,
    source: Option<String>,
    person: Option<i32>,
    time_zone: &str,
    currency: &str,
) -> AppResult<Roi> {
    let rows: Vec<Row> = sqlx::query_as(SQL)
        .bind(crate::dates::start_of_day(range.from, time_zone))
        .bind(crate::dates::start_of_day(range.end(), time_zone))
        .bind(range.from)
        .bind(range.end())
        .bind(NONE)
        .bind(source.as_deref())
        .bind(person)
        .fetch_all(conn)
        .await?;
    Ok(assemble(rows, range, source, person, currency))
}

fn row(r: &Row) -> RoiRow {
    RoiRow {
        source: r.source.clone(),
        campaign: r.campaign.clone(),
        inquiries: r.inquiries,
        proposals: r.proposals,
        bookings: r.bookings,
        conversion_percent: conversion(r.bookings, r.inquiries),
        revenue: super::csv_cell::two(r.revenue),
        spend: super::csv_cell::two(r.spend),
        roi_percent: roi(r.revenue, r.spend),
    }
}

/// The rows in order: sources by revenue (then name), each source's campaigns by revenue
/// (then name), and the total (pure).
fn assemble(
    rows: Vec<Row>,
    range: Range,
    source: Option<String>,
    person: Option<i32>,
    currency: &str,
) -> Roi {
    let mut sources: Vec<RoiRow> = rows
        .iter()
        .filter(|r| r.campaign.is_none())
        .map(row)
        .collect();
    sources.sort_by(|a, b| {
        b.revenue
            .cmp(&a.revenue)
            .then_with(|| a.source.cmp(&b.source))
    });
    let rank = |s: &str| {
        sources
            .iter()
            .position(|r| r.source == s)
            .unwrap_or(usize::MAX)
    };
    let mut campaigns: Vec<RoiRow> = rows
        .iter()
        .filter(|r| r.campaign.is_some())
        .map(row)
        .collect();
    campaigns.sort_by(|a, b| {
        rank(&a.source)
            .cmp(&rank(&b.source))
            .then_with(|| b.revenue.cmp(&a.revenue))
            .then_with(|| a.campaign.cmp(&b.campaign))
    });
    let sum = Row {
        source: "Total".into(),
        campaign: None,
        inquiries: sources.iter().map(|r| r.inquiries).sum(),
        proposals: sources.iter().map(|r| r.proposals).sum(),
        bookings: sources.iter().map(|r| r.bookings).sum(),
        revenue: sources.iter().map(|r| r.revenue).sum(),
        spend: sources.iter().map(|r| r.spend).sum(),
    };
    Roi {
        from: range.from,
        to: range.to,
        source,
        person,
        currency: currency.to_string(),
        total: row(&sum),
        sources,
        campaigns,
    }
}

fn opt(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// Both tables as one CSV (a `campaign` column, empty on the sources' rows), the same numbers
/// as the page.
pub fn csv(r: &Roi) -> AppResult<String> {
    let mut rows = vec![
        [
            "source",
            "campaign",
            "inquiries",
            "proposals",
            "bookings",
            "conversion_percent",
            "revenue",
            "spend",
            "roi_percent",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for x in r.sources.iter().chain(&r.campaigns).chain([&r.total]) {
        rows.push(vec![
            x.source.clone(),
            x.campaign.clone().unwrap_or_default(),
            x.inquiries.to_string(),
            x.proposals.to_string(),
            x.bookings.to_string(),
            opt(x.conversion_percent),
            super::csv_cell::amount(x.revenue),
            super::csv_cell::amount(x.spend),
            opt(x.roi_percent),
        ]);
    }
    super::csv_cell::csv_of(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn conversion_and_roi_in_percent() {
        assert_eq!(conversion(1, 3), Some(d("33.3")));
        assert_eq!(conversion(2, 3), Some(d("66.7")));
        assert_eq!(conversion(0, 0), None);
        assert_eq!(roi(d("3000"), d("1000")), Some(d("200.0")));
        assert_eq!(roi(d("0"), d("250")), Some(d("-100.0")));
        assert_eq!(roi(d("500"), d("0")), None);
        assert_eq!(roi(d("1"), d("3")), Some(d("-66.7")));
    }

    fn r(
        source: &str,
        campaign: Option<&str>,
        inq: i64,
        booked: i64,
        revenue: &str,
        spend: &str,
    ) -> Row {
        Row {
            source: source.into(),
            campaign: campaign.map(String::from),
            inquiries: inq,
            proposals: booked,
            bookings: booked,
            revenue: d(revenue),
            spend: d(spend),
        }
    }

    #[test]
    fn sources_by_revenue_and_campaigns_under_their_source() {
        let range = Range {
            from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        };
        let rows = vec![
            r("Google", None, 2, 0, "0", "100"),
            r("Google", Some("g1"), 2, 0, "0", "100"),
            r("Instagram", Some("b"), 1, 1, "1000", "0"),
            r("Instagram", None, 3, 2, "3000", "500"),
            r("Instagram", Some("a"), 2, 1, "2000", "500"),
        ];
        let roi = assemble(rows, range, None, None, "USD");
        let names: Vec<&str> = roi.sources.iter().map(|r| r.source.as_str()).collect();
        assert_eq!(names, ["Instagram", "Google"]);
        let c: Vec<&str> = roi
            .campaigns
            .iter()
            .map(|r| r.campaign.as_deref().unwrap())
            .collect();
        assert_eq!(c, ["a", "b", "g1"]);
        assert_eq!(roi.total.inquiries, 5);
        assert_eq!(roi.total.revenue, d("3000"));
        assert_eq!(roi.total.spend, d("600"));
        assert_eq!(roi.total.roi_percent, Some(d("400.0")));
        assert_eq!(roi.total.conversion_percent, Some(d("40.0")));
        assert_eq!(roi.sources[1].roi_percent, Some(d("-100.0")));
    }
}
