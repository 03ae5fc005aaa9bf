//! The Reports pages: the index, each report (filters, chart, table, CSV link) and its CSV,
//! and Marketing spend (the list, add, delete). A refused filter shows the page again with
//! the message by the field (422); a refused entry shows the form again the same way.
use super::chart::{self, Chart, Series};
use super::range::{Filters, NONE, month_label};
use super::spend::{self, NewSpend, Spend};
use super::{cashflow, marketing, pipeline};
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::FieldError;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppResult, AppState};
use crate::studio::Studio;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::ReportsView);
    Routes::new()
        .get("/reports", view, index)
        .get("/reports/cash-flow", view, cash_flow)
        .get("/reports/cash-flow.csv", view, cash_flow_csv)
        .get("/reports/marketing", view, marketing_page)
        .get("/reports/marketing.csv", view, marketing_csv)
        .get("/reports/pipeline", view, pipeline_page)
        .get("/reports/pipeline.csv", view, pipeline_csv)
        .get("/reports/spend", view, spend_list)
        .post("/reports/spend", view, spend_add)
        .post("/reports/spend/{id}/delete", view, spend_delete)
}

/// The reports, with what each tells (the index page and its test).
pub const REPORTS: &[(&str, &str, &str)] = &[
    (
        "/reports/cash-flow",
        "Cash flow",
        "Invoiced, collected and expected by month; outstanding and overdue today.",
    ),
    (
        "/reports/marketing",
        "Marketing ROI",
        "Inquiries, proposals, bookings, revenue and spend per lead source and campaign.",
    ),
    (
        "/reports/pipeline",
        "Pipeline",
        "Inquiries created each month by their status now, and the win rate.",
    ),
    (
        "/reports/spend",
        "Marketing spend",
        "What you spent on each lead source and campaign; the ROI report adds it up.",
    ),
];

#[derive(Template)]
#[template(path = "reports/index.html")]
struct Index {
    layout: Layout,
    reports: &'static [(&'static str, &'static str, &'static str)],
}

async fn index(mut db: Db, staff: Staff) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Reports", "/reports").await?;
    Ok(render(&Index {
        layout,
        reports: REPORTS,
    }))
}

/// One column of a table: its heading and whether it holds numbers (right-aligned).
pub struct Column {
    pub name: &'static str,
    pub num: bool,
}

pub struct Table {
    pub id: &'static str,
    pub caption: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    pub foot: Option<Vec<String>>,
}

fn columns(spec: &[(&'static str, bool)]) -> Vec<Column> {
    spec.iter()
        .map(|&(name, num)| Column { name, num })
        .collect()
}

#[derive(Template)]
#[template(path = "reports/report.html")]
struct ReportPage {
    layout: Layout,
    /// The report's own path (the filter form's action; `.csv` added for the export).
    path: &'static str,
    intro: &'static str,
    filters: Filters,
    /// Whether the report reads the lead source filter.
    by_source: bool,
    refusal: Option<Refusal>,
    /// Figures above the chart: (id, label, value).
    stats: Vec<(&'static str, &'static str, String)>,
    chart: String,
    tables: Vec<Table>,
    notes: Vec<&'static str>,
    /// The filters as a query string (for the CSV link).
    query: String,
    /// The cash flow's link to the coming months.
    coming: Option<String>,
}

impl ReportPage {
    fn problem(&self, field: &str) -> Option<&str> {
        self.refusal.as_ref().and_then(|r| r.field(field))
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

fn query_of(f: &Filters, from: &str, to: &str) -> String {
    let mut pairs = vec![("from", from.to_string()), ("to", to.to_string())];
    if let Some(s) = f.source.as_deref().filter(|s| !s.trim().is_empty()) {
        pairs.push(("source", s.to_string()));
    }
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// The page with the filters' refusal: no figures, the message by the field, 422.
async fn refused(
    layout: Layout,
    path: &'static str,
    intro: &'static str,
    by_source: bool,
    filters: Filters,
    e: crate::error::AppError,
) -> AppResult<Response> {
    let refusal = Refusal::from_error(e)?;
    let page = ReportPage {
        layout,
        path,
        intro,
        filters,
        by_source,
        refusal: Some(refusal.clone()),
        stats: vec![],
        chart: String::new(),
        tables: vec![],
        notes: vec![],
        query: String::new(),
        coming: None,
    };
    Ok(refusal.respond(render(&page)))
}

fn f64_of(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

const CASH_INTRO: &str = "Invoiced: issued invoices by issue date (credit notes subtract). \
    Collected: money received by payment date, less refunds (credits applied are not money). \
    Expected: still owed on open invoices due that month, from today on.";

/// The cash flow of the coming six months (this month and the next five): what is expected.
fn coming_months(today: chrono::NaiveDate) -> String {
    let from = super::range::month_of(today);
    let to = from
        .checked_add_months(chrono::Months::new(6))
        .and_then(|d| d.pred_opt())
        .unwrap_or(today);
    format!("/reports/cash-flow?from={from}&to={to}")
}

async fn cash_flow(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Cash flow", "/reports").await?;
    let s = &layout.settings;
    let today = state.clock.today(&s.time_zone);
    let range = match f.range(today) {
        Ok(r) => r,
        Err(e) => return refused(layout, "/reports/cash-flow", CASH_INTRO, false, f, e).await,
    };
    let r = cashflow::report(&mut db, range, today, &s.time_zone, &s.currency_code).await?;
    let labels = r
        .months
        .iter()
        .map(|m| {
            cashflow::month_day(&m.month)
                .map(month_label)
                .unwrap_or_default()
        })
        .collect();
    let svg = chart::bars(&Chart {
        title: "Cash flow by month".into(),
        labels,
        series: vec![
            series("Invoiced", r.months.iter().map(|m| m.invoiced)),
            series("Collected", r.months.iter().map(|m| m.collected)),
            series("Expected", r.months.iter().map(|m| m.expected)),
        ],
        format: chart::whole,
    });
    let money = |d: Decimal| s.money(d);
    let row = |m: &cashflow::CashMonth| {
        vec![
            m.month.clone(),
            money(m.invoiced),
            money(m.collected),
            money(m.expected),
        ]
    };
    let table = Table {
        id: "cash-flow",
        caption: "Cash flow by month",
        columns: columns(&[
            ("Month", false),
            ("Invoiced", true),
            ("Collected", true),
            ("Expected", true),
        ]),
        rows: r.months.iter().map(row).collect(),
        foot: Some(row(&r.total)),
    };
    let page = ReportPage {
        path: "/reports/cash-flow",
        intro: CASH_INTRO,
        by_source: false,
        refusal: None,
        stats: vec![
            ("outstanding", "Outstanding today", money(r.outstanding)),
            ("overdue", "Overdue today", money(r.overdue)),
        ],
        chart: svg,
        tables: vec![table],
        notes: vec![],
        query: query_of(&f, &range.from.to_string(), &range.to.to_string()),
        filters: f,
        coming: Some(coming_months(today)),
        layout,
    };
    Ok(render(&page))
}

fn series(name: &str, values: impl Iterator<Item = Decimal>) -> Series {
    Series {
        name: name.into(),
        values: values.map(f64_of).collect(),
    }
}

async fn studio_today(state: &AppState, db: &mut Db) -> AppResult<(Studio, chrono::NaiveDate)> {
    let studio = Studio::load(db).await?;
    let today = state.clock.today(&studio.time_zone);
    Ok((studio, today))
}

async fn cash_flow_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let (s, today) = studio_today(&state, &mut db).await?;
    let range = f.range(today)?;
    let r = cashflow::report(&mut db, range, today, &s.time_zone, &s.currency_code).await?;
    Ok(csv_response("cash-flow", cashflow::csv(&r)?))
}

const ROI_INTRO: &str = "Inquiries created in the range by lead source and campaign; \
    proposals (a proposal sent), bookings and their revenue (the approved price); spend \
    entered under Marketing spend; ROI = (revenue − spend) / spend.";

fn pct(d: Option<Decimal>) -> String {
    d.map(|d| format!("{d}%")).unwrap_or_else(|| "—".into())
}

async fn marketing_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Marketing ROI", "/reports").await?;
    let s = &layout.settings;
    let today = state.clock.today(&s.time_zone);
    let parsed = f.range(today).and_then(|r| Ok((r, f.source()?)));
    let (range, source) = match parsed {
        Ok(r) => r,
        Err(e) => return refused(layout, "/reports/marketing", ROI_INTRO, true, f, e).await,
    };
    let r = marketing::report(&mut db, range, source, &s.time_zone, &s.currency_code).await?;
    let svg = chart::bars(&Chart {
        title: "Revenue and spend by lead source".into(),
        labels: r.sources.iter().map(|x| x.source.clone()).collect(),
        series: vec![
            series("Revenue", r.sources.iter().map(|x| x.revenue)),
            series("Spend", r.sources.iter().map(|x| x.spend)),
        ],
        format: chart::whole,
    });
    let row = |x: &marketing::RoiRow, with_campaign: bool| {
        let mut v = vec![x.source.clone()];
        if with_campaign {
            v.push(x.campaign.clone().unwrap_or_default());
        }
        v.extend([
            x.inquiries.to_string(),
            x.proposals.to_string(),
            x.bookings.to_string(),
            pct(x.conversion_percent),
            s.money(x.revenue),
            s.money(x.spend),
            pct(x.roi_percent),
        ]);
        v
    };
    let figures = [
        ("Inquiries", true),
        ("Proposals", true),
        ("Bookings", true),
        ("Conversion", true),
        ("Revenue", true),
        ("Spend", true),
        ("ROI", true),
    ];
    let mut by_source = vec![("Lead source", false)];
    by_source.extend(figures);
    let mut by_campaign = vec![("Lead source", false), ("Campaign", false)];
    by_campaign.extend(figures);
    let tables = vec![
        Table {
            id: "by-source",
            caption: "By lead source",
            columns: columns(&by_source),
            rows: r.sources.iter().map(|x| row(x, false)).collect(),
            foot: Some(row(&r.total, false)),
        },
        Table {
            id: "by-campaign",
            caption: "By campaign",
            columns: columns(&by_campaign),
            rows: r.campaigns.iter().map(|x| row(x, true)).collect(),
            foot: None,
        },
    ];
    let page = ReportPage {
        path: "/reports/marketing",
        intro: ROI_INTRO,
        by_source: true,
        refusal: None,
        stats: vec![
            ("revenue", "Revenue", s.money(r.total.revenue)),
            ("spend", "Spend", s.money(r.total.spend)),
            ("roi", "ROI", pct(r.total.roi_percent)),
        ],
        chart: svg,
        tables,
        notes: vec![],
        query: query_of(&f, &range.from.to_string(), &range.to.to_string()),
        filters: f,
        coming: None,
        layout,
    };
    Ok(render(&page))
}

async fn marketing_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let (s, today) = studio_today(&state, &mut db).await?;
    let range = f.range(today)?;
    let r = marketing::report(&mut db, range, f.source()?, &s.time_zone, &s.currency_code).await?;
    Ok(csv_response("marketing-roi", marketing::csv(&r)?))
}

const PIPELINE_INTRO: &str = "The inquiries created in each month, by the status they are in \
    now. Win rate = Booked / (Booked + Closed-Lost).";

const PIPELINE_NOTE: &str = "Average days per stage is not shown: only the moves people make \
    are logged, not the automatic ones (a proposal sent, a booking), so the time in each stage \
    cannot be worked out honestly.";

async fn pipeline_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Pipeline", "/reports").await?;
    let s = &layout.settings;
    let today = state.clock.today(&s.time_zone);
    let parsed = f.range(today).and_then(|r| Ok((r, f.source()?)));
    let (range, source) = match parsed {
        Ok(r) => r,
        Err(e) => return refused(layout, "/reports/pipeline", PIPELINE_INTRO, true, f, e).await,
    };
    let p = pipeline::report(&mut db, range, source, &s.time_zone).await?;
    let labels = p
        .months
        .iter()
        .map(|m| {
            cashflow::month_day(&m.month)
                .map(month_label)
                .unwrap_or_default()
        })
        .collect();
    let svg = chart::bars(&Chart {
        title: "Inquiries by month and status".into(),
        labels,
        series: pipeline::STATUSES
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                name: name.to_string(),
                values: p.months.iter().map(|m| m.counts()[i] as f64).collect(),
            })
            .collect(),
        format: chart::whole,
    });
    let row = |m: &pipeline::PipelineMonth| {
        let mut v = vec![m.month.clone()];
        v.extend(m.counts().iter().map(|n| n.to_string()));
        v.push(m.total.to_string());
        v
    };
    let mut cols = vec![("Month", false)];
    cols.extend(pipeline::STATUSES.iter().map(|s| (*s, true)));
    cols.push(("Total", true));
    let page = ReportPage {
        path: "/reports/pipeline",
        intro: PIPELINE_INTRO,
        by_source: true,
        refusal: None,
        stats: vec![
            ("inquiries", "Inquiries", p.total.total.to_string()),
            ("win-rate", "Win rate", pct(p.win_rate_percent)),
        ],
        chart: svg,
        tables: vec![Table {
            id: "pipeline",
            caption: "Inquiries by month and status",
            columns: columns(&cols),
            rows: p.months.iter().map(row).collect(),
            foot: Some(row(&p.total)),
        }],
        notes: vec![PIPELINE_NOTE],
        query: query_of(&f, &range.from.to_string(), &range.to.to_string()),
        filters: f,
        coming: None,
        layout,
    };
    Ok(render(&page))
}

async fn pipeline_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let (s, today) = studio_today(&state, &mut db).await?;
    let range = f.range(today)?;
    let p = pipeline::report(&mut db, range, f.source()?, &s.time_zone).await?;
    Ok(csv_response("pipeline", pipeline::csv(&p)?))
}

#[derive(Deserialize, Default)]
struct SpendQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "reports/spend.html")]
struct SpendPage {
    layout: Layout,
    rows: Vec<Spend>,
    next: Option<String>,
    form: NewSpend,
    errors: Vec<FieldError>,
    message: Option<String>,
    done: Option<&'static str>,
    /// The lead sources the studio's inquiries use (suggestions for the form).
    sources: Vec<String>,
    today: String,
}

impl SpendPage {
    fn problem(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn money(&self, d: &Decimal) -> String {
        self.layout.settings.money(*d)
    }

    fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

async fn spend_view(
    state: &AppState,
    db: &mut Db,
    staff: &Staff,
    after: Option<&str>,
    form: NewSpend,
    refusal: Option<&Refusal>,
    done: Option<&'static str>,
) -> AppResult<SpendPage> {
    let (rows, next) = spend::list(db, after).await?;
    let sources: Vec<String> = sqlx::query_scalar(
        "SELECT lead_source FROM inquiries WHERE lead_source IS NOT NULL AND btrim(lead_source) <> ''
         GROUP BY lead_source ORDER BY count(*) DESC, lead_source LIMIT 50",
    )
    .fetch_all(&mut **db)
    .await?;
    let layout = Layout::load(db, staff, "Marketing spend", "/reports").await?;
    let today = state.clock.today(&layout.settings.time_zone).to_string();
    Ok(SpendPage {
        next: next.map(|n| crate::page::next_href("/reports/spend", &[], &n)),
        layout,
        rows,
        form,
        errors: refusal.map(|r| r.errors.clone()).unwrap_or_default(),
        message: refusal.and_then(|r| r.message.clone()),
        done,
        sources: sources.into_iter().filter(|s| s != NONE).collect(),
        today,
    })
}

async fn spend_list(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(q): Query<SpendQuery>,
) -> AppResult<Response> {
    let done = match q.done.as_deref() {
        Some("added") => Some("The spend is added."),
        Some("deleted") => Some("The spend is deleted."),
        _ => None,
    };
    let page = spend_view(
        &state,
        &mut db,
        &staff,
        q.after.as_deref(),
        NewSpend::default(),
        None,
        done,
    )
    .await?;
    Ok(render(&page))
}

async fn spend_add(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Form(f): Form<NewSpend>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        spend::create(tx, &f, staff.contributor_id).await
    })
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/reports/spend?done=added").into_response()),
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = spend_view(&state, &mut db, &staff, None, f, Some(&refusal), None).await?;
            Ok(refusal.respond(render(&page)))
        }
    }
}

async fn spend_delete(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    crate::db::transaction(&mut db, async |tx| {
        spend::delete(tx, id, staff.contributor_id).await
    })
    .await?;
    Ok(Redirect::to("/reports/spend?done=deleted").into_response())
}
