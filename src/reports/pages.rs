//! The Reports pages: the index, each report (filters, chart, table, CSV link) and its CSV,
//! and Marketing spend (the list, add, delete). A refused filter shows the page again with
//! the message by the field (422); a refused entry shows the form again the same way.
use super::chart::{self, Chart, Series};
use super::range::{Filters, NONE, Range, month_label};
use super::spend::{self, NewSpend, Spend};
use super::{cashflow, marketing, pipeline, profit, team};
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
        .get("/reports/profit", view, profit_page)
        .get("/reports/profit.csv", view, profit_csv)
        .get("/reports/team", view, team_page)
        .get("/reports/team.csv", view, team_csv)
        .get("/reports/cash-flow", view, cash_flow)
        .get("/reports/cash-flow.csv", view, cash_flow_csv)
        .get("/reports/marketing", view, marketing_page)
        .get("/reports/marketing.csv", view, marketing_csv)
        .get("/reports/pipeline", view, pipeline_page)
        .get("/reports/pipeline.csv", view, pipeline_csv)
        .get("/reports/pipeline-stages.csv", view, pipeline_stages_csv)
        .get("/reports/spend", view, spend_list)
        .post("/reports/spend", view, spend_add)
        .post("/reports/spend/{id}/delete", view, spend_delete)
}

/// The reports, with what each tells (the index page and its test).
pub const REPORTS: &[(&str, &str, &str)] = &[
    (
        "/reports/profit",
        "Profitability",
        "Each project's price and payments against its labour, crew, expenses and fees: the margin, worst first.",
    ),
    (
        "/reports/team",
        "Team performance",
        "Planned against actual hours and the on-time rate, per person and task template, month by month.",
    ),
    (
        "/reports/cash-flow",
        "Cash flow",
        "Invoiced, collected and expected by month; outstanding and overdue at each month's end.",
    ),
    (
        "/reports/marketing",
        "Marketing ROI",
        "Inquiries, proposals, bookings, revenue and spend per lead source and campaign.",
    ),
    (
        "/reports/pipeline",
        "Pipeline",
        "Inquiries created each month by their status now, the win rate, and the days spent in each stage.",
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

/// One column of a table: its heading, whether it holds numbers (right-aligned), and, in a
/// sortable table, the link that sorts by it and whether it is the sorted one.
pub struct Column {
    pub name: &'static str,
    pub num: bool,
    pub href: Option<String>,
    /// `ascending` or `descending` on the column the rows are sorted by (`aria-sort`).
    pub sorted: Option<&'static str>,
}

pub struct Table {
    pub id: &'static str,
    pub caption: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    pub foot: Option<Vec<String>>,
    /// This table's own CSV, when it is not the report's main one.
    pub export: Option<String>,
}

fn columns(spec: &[(&'static str, bool)]) -> Vec<Column> {
    spec.iter()
        .map(|&(name, num)| Column {
            name,
            num,
            href: None,
            sorted: None,
        })
        .collect()
}

/// What a report is: its page's path (the CSV is the same with `.csv`), title, what it
/// counts, and which filters it reads besides the date range.
pub struct Meta {
    pub path: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub by_source: bool,
    pub by_person: bool,
}

/// The filters as parsed, with the studio and its today: what every report is made from.
pub struct Ctx {
    pub studio: Studio,
    pub today: chrono::NaiveDate,
    pub range: Range,
    pub source: Option<String>,
    pub person: Option<i32>,
}

impl Ctx {
    /// Parse the filters (every one is checked; those the report does not read are dropped).
    pub fn new(
        meta: &Meta,
        studio: Studio,
        today: chrono::NaiveDate,
        f: &Filters,
    ) -> AppResult<Ctx> {
        let range = f.range(today)?;
        let source = f.source()?;
        let person = f.person()?;
        Ok(Ctx {
            studio,
            today,
            range,
            source: source.filter(|_| meta.by_source),
            person: person.filter(|_| meta.by_person),
        })
    }

    /// Each report for these filters (its page, CSV and API read the same).
    pub async fn cash_flow(&self, db: &mut Db) -> AppResult<cashflow::CashFlow> {
        let s = &self.studio;
        let source = self.source.as_deref();
        cashflow::report(
            db,
            self.range,
            source,
            self.today,
            &s.time_zone,
            &s.currency_code,
        )
        .await
    }

    pub async fn marketing(&self, db: &mut Db) -> AppResult<marketing::Roi> {
        let (s, source) = (&self.studio, self.source.clone());
        marketing::report(
            db,
            self.range,
            source,
            self.person,
            &s.time_zone,
            &s.currency_code,
        )
        .await
    }

    pub async fn pipeline(&self, db: &mut Db) -> AppResult<pipeline::Pipeline> {
        let (source, tz) = (self.source.clone(), &self.studio.time_zone);
        pipeline::report(db, self.range, source, self.person, tz).await
    }

    pub async fn team(&self, db: &mut Db) -> AppResult<team::Team> {
        team::report(db, self.range, self.person, &self.studio.time_zone).await
    }

    /// For the CSV and the API: the studio read here.
    pub async fn load(state: &AppState, db: &mut Db, meta: &Meta, f: &Filters) -> AppResult<Ctx> {
        let studio = Studio::load(db).await?;
        let today = state.clock.today(&studio.time_zone);
        Ctx::new(meta, studio, today, f)
    }
}

#[derive(Template)]
#[template(path = "reports/report.html")]
struct ReportPage {
    layout: Layout,
    /// The report's own path (the filter form's action; `.csv` added for the export).
    path: &'static str,
    intro: &'static str,
    filters: Filters,
    /// Whether the report reads the lead source filter, and the person filter.
    by_source: bool,
    by_person: bool,
    /// The people of the person filter: (id, name).
    people: Vec<(i32, String)>,
    refusal: Option<Refusal>,
    /// Figures above the chart: (id, label, value).
    stats: Vec<(&'static str, &'static str, String)>,
    charts: Vec<String>,
    tables: Vec<Table>,
    notes: Vec<String>,
    /// The filters as a query string (for the CSV link).
    query: String,
    /// The cash flow's link to the coming months.
    coming: Option<String>,
    /// Hidden fields the filter form keeps (the profitability's order).
    keep: Vec<(&'static str, String)>,
    /// "Page 2 of 5" with the links before and after.
    pager: Option<Pager>,
}

pub struct Pager {
    pub label: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl ReportPage {
    fn problem(&self, field: &str) -> Option<&str> {
        self.refusal.as_ref().and_then(|r| r.field(field))
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn is_person(&self, id: &i32) -> bool {
        self.filters.person.as_deref().map(str::trim) == Some(id.to_string().as_str())
    }

    /// A blank page of `meta` (filters only) to fill in.
    fn new(layout: Layout, meta: &Meta, filters: Filters, people: Vec<(i32, String)>) -> Self {
        ReportPage {
            layout,
            path: meta.path,
            intro: meta.intro,
            filters,
            by_source: meta.by_source,
            by_person: meta.by_person,
            people,
            refusal: None,
            stats: vec![],
            charts: vec![],
            tables: vec![],
            notes: vec![],
            query: String::new(),
            coming: None,
            keep: vec![],
            pager: None,
        }
    }
}

/// The report's filters as a query string (the CSV link, the sort links): the range as
/// worked out, the source and person when the report reads them, and `extra`.
fn query_of(meta: &Meta, ctx: &Ctx, extra: &[(&str, String)]) -> String {
    let mut pairs = vec![
        ("from", ctx.range.from.to_string()),
        ("to", ctx.range.to.to_string()),
    ];
    if let Some(s) = &ctx.source {
        pairs.push(("source", s.clone()));
    }
    if let (true, Some(p)) = (meta.by_person, ctx.person) {
        pairs.push(("person", p.to_string()));
    }
    pairs.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// Active staff by name, and anyone else the filter names (the person filter's list).
async fn people(db: &mut Db, meta: &Meta) -> AppResult<Vec<(i32, String)>> {
    if !meta.by_person {
        return Ok(vec![]);
    }
    Ok(sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name))
         FROM contributors co JOIN contacts c ON c.id = co.contact_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         ORDER BY 2, 1",
    )
    .fetch_all(&mut **db)
    .await?)
}

/// A report page's start: the layout, the person list, and the filters parsed; a refused
/// filter is the page with the message by the field (422 or 409), no figures.
async fn start(
    state: &AppState,
    db: &mut Db,
    staff: &Staff,
    meta: &Meta,
    f: Filters,
) -> AppResult<Result<(ReportPage, Ctx), Response>> {
    let layout = Layout::load(db, staff, meta.title, "/reports").await?;
    let people = people(db, meta).await?;
    let studio = layout.settings.clone();
    let today = state.clock.today(&studio.time_zone);
    let ctx = Ctx::new(meta, studio, today, &f);
    let mut page = ReportPage::new(layout, meta, f, people);
    match ctx {
        Ok(ctx) => {
            page.query = query_of(meta, &ctx, &[]);
            Ok(Ok((page, ctx)))
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            page.refusal = Some(refusal.clone());
            Ok(Err(refusal.respond(render(&page))))
        }
    }
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

fn series(name: &str, values: impl Iterator<Item = Decimal>) -> Series {
    Series {
        name: name.into(),
        values: values.map(f64_of).collect(),
    }
}

fn month_labels<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<String> {
    keys.map(|k| cashflow::month_day(k).map(month_label).unwrap_or_default())
        .collect()
}

fn pct(d: Option<Decimal>) -> String {
    d.map(|d| format!("{d}%")).unwrap_or_else(|| "—".into())
}

fn hours(d: Decimal) -> String {
    format!("{d} h")
}

pub const PROFIT: Meta = Meta {
    path: "/reports/profit",
    title: "Profitability",
    intro: "The projects whose wedding is in the range. Price: the approved price (before tax, \
        approved change orders included); paid: money received, less refunds. Costs: hours \
        logged on the project's tasks and its shoot days, each at the person's hourly cost; its \
        expenses; card fees. Margin = price − costs. Click a heading to sort; the worst margins \
        come first. The chart shows the first 25 projects in the table's order.",
    by_source: true,
    by_person: true,
};

/// The columns of the profitability table: (heading, number, sort key).
const PROFIT_COLUMNS: [(&str, bool, profit::SortBy); 12] = [
    ("Project", false, profit::SortBy::Project),
    ("Wedding", false, profit::SortBy::WeddingDate),
    ("Source", false, profit::SortBy::Source),
    ("Price", true, profit::SortBy::Price),
    ("Paid", true, profit::SortBy::Paid),
    ("Hours", true, profit::SortBy::WorkHours),
    ("Labour", true, profit::SortBy::Labour),
    ("Crew", true, profit::SortBy::Crew),
    ("Expenses", true, profit::SortBy::Expenses),
    ("Fees", true, profit::SortBy::Fees),
    ("Margin", true, profit::SortBy::Margin),
    ("Margin %", true, profit::SortBy::MarginPercent),
];

/// The projects the profitability chart shows: the first of the page, in its order.
const CHARTED: usize = 25;

/// A chart label: a project's name, short.
fn short(name: &str) -> String {
    let name = name.strip_suffix(" wedding").unwrap_or(name);
    if name.chars().count() > 18 {
        format!("{}…", name.chars().take(17).collect::<String>())
    } else {
        name.to_string()
    }
}

async fn profit_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(f): Query<Filters>,
    Query(o): Query<profit::Order>,
) -> AppResult<Response> {
    let meta = &PROFIT;
    let (mut page, ctx) = match start(&state, &mut db, &staff, meta, f).await? {
        Ok(x) => x,
        Err(refused) => return Ok(refused),
    };
    let order = match o.parse() {
        Ok(o) => o,
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            page.refusal = Some(refusal.clone());
            return Ok(refusal.respond(render(&page)));
        }
    };
    let s = &ctx.studio;
    let r = profit::report(
        &mut db,
        ctx.range,
        ctx.source.clone(),
        ctx.person,
        order,
        &s.currency_code,
    )
    .await?;
    // The first projects of the page in its order (the worst ones by default).
    let charted = &r.rows[..r.rows.len().min(CHARTED)];
    page.charts.push(chart::bars(&Chart {
        title: "Margin per project".into(),
        labels: charted.iter().map(|x| short(&x.project)).collect(),
        series: vec![series("Margin", charted.iter().map(|x| x.margin))],
        format: chart::whole,
    }));
    let order_of = |by: profit::SortBy, desc: bool| {
        vec![
            ("sort", by.name().to_string()),
            ("dir", if desc { "desc" } else { "asc" }.to_string()),
        ]
    };
    let columns = PROFIT_COLUMNS
        .iter()
        .map(|&(name, num, by)| {
            let on = by == r.sort;
            // The sorted column's link turns the order round; another's sorts ascending.
            let desc = on && !r.descending;
            Column {
                name,
                num,
                href: Some(format!(
                    "{}?{}",
                    meta.path,
                    query_of(meta, &ctx, &order_of(by, desc))
                )),
                sorted: on.then_some(if r.descending {
                    "descending"
                } else {
                    "ascending"
                }),
            }
        })
        .collect();
    let row = |x: &profit::ProfitRow| {
        vec![
            x.project.clone(),
            x.wedding_date
                .map(|d| d.format("%b %-d, %Y").to_string())
                .unwrap_or_default(),
            x.source.clone(),
            s.money(x.price),
            s.money(x.paid),
            hours(x.work_hours),
            s.money(x.labour),
            s.money(x.crew),
            s.money(x.expenses),
            s.money(x.fees),
            s.money(x.margin),
            pct(x.margin_percent),
        ]
    };
    page.tables.push(Table {
        id: "profit",
        caption: "Profitability per project",
        columns,
        rows: r.rows.iter().map(row).collect(),
        foot: Some(row(&r.total)),
        export: None,
    });
    page.stats = vec![
        ("projects", "Projects", r.projects.to_string()),
        ("price", "Price", s.money(r.total.price)),
        ("cost", "Costs", s.money(r.total.cost)),
        ("margin", "Margin", s.money(r.total.margin)),
        ("margin-percent", "Margin %", pct(r.total.margin_percent)),
    ];
    if !r.total.uncosted_hours.is_zero() {
        page.notes.push(format!(
            "{} by people without an hourly cost are not in the costs (set it on their page \
             under Settings > Users).",
            hours(r.total.uncosted_hours)
        ));
    }
    let (fee_percent, fee_fixed) = card_fee(&mut db).await?;
    page.notes.push(format!(
        "Card fees are estimated from the studio's card rate (Settings > Studio), \
         {fee_percent}% + {} a card payment. Crew: {} of shoot days.",
        s.money(fee_fixed),
        hours(r.total.shoot_hours),
    ));
    let keep = order_of(r.sort, r.descending);
    page.query = query_of(meta, &ctx, &keep);
    if r.pages > 1 {
        let at = |n: usize| {
            let mut q = keep.clone();
            q.push(("page", n.to_string()));
            format!("{}?{}", meta.path, query_of(meta, &ctx, &q))
        };
        page.pager = Some(Pager {
            label: format!(
                "Page {} of {} ({} projects; the CSV has them all)",
                r.page, r.pages, r.projects
            ),
            prev: (r.page > 1).then(|| at(r.page - 1)),
            next: (r.page < r.pages).then(|| at(r.page + 1)),
        });
    }
    page.keep = keep;
    Ok(render(&page))
}

/// The studio's card fee: (percent, fixed amount a payment).
async fn card_fee(db: &mut Db) -> AppResult<(Decimal, Decimal)> {
    Ok(
        sqlx::query_as("SELECT card_fee_percent, card_fee_fixed FROM studio_settings")
            .fetch_one(&mut **db)
            .await?,
    )
}

async fn profit_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
    Query(o): Query<profit::Order>,
) -> AppResult<Response> {
    let ctx = Ctx::load(&state, &mut db, &PROFIT, &f).await?;
    let order = o.parse()?;
    let rows = profit::all(&mut db, ctx.range, ctx.source.as_deref(), ctx.person, order).await?;
    Ok(csv_response("profitability", profit::csv(&rows)?))
}

pub const TEAM: Meta = Meta {
    path: "/reports/team",
    title: "Team performance",
    intro: "The tasks completed in the range, per person and task template: planned against \
        actual hours (above 100% took longer than planned) and the on-time rate (completed on \
        or before the due day, in the studio's days); the same month by month.",
    by_source: false,
    by_person: true,
};

async fn team_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let meta = &TEAM;
    let (mut page, ctx) = match start(&state, &mut db, &staff, meta, f).await? {
        Ok(x) => x,
        Err(refused) => return Ok(refused),
    };
    let t = ctx.team(&mut db).await?;
    let labels = month_labels(t.months.iter().filter_map(|m| m.month.as_deref()));
    page.charts.push(chart::bars(&Chart {
        title: "Planned and actual hours by month".into(),
        labels: labels.clone(),
        series: vec![
            series("Planned", t.months.iter().map(|m| m.planned_hours)),
            series("Actual", t.months.iter().map(|m| m.actual_hours)),
        ],
        format: chart::whole,
    }));
    page.charts.push(chart::bars(&Chart {
        title: "On-time rate by month (%)".into(),
        labels,
        series: vec![series(
            "On time %",
            t.months
                .iter()
                .map(|m| m.on_time_percent.unwrap_or_default()),
        )],
        format: chart::whole,
    }));
    let figures = |x: &team::TeamRow| {
        vec![
            x.tasks.to_string(),
            hours(x.planned_hours),
            hours(x.actual_hours),
            pct(x.actual_vs_planned_percent),
            x.with_due_date.to_string(),
            x.on_time.to_string(),
            pct(x.on_time_percent),
        ]
    };
    let nums = [
        ("Tasks", true),
        ("Planned", true),
        ("Actual", true),
        ("Actual / planned", true),
        ("With a due day", true),
        ("On time", true),
        ("On-time rate", true),
    ];
    let mut by_person = vec![("Person", false), ("Task template", false)];
    by_person.extend(nums);
    let mut by_month = vec![("Month", false)];
    by_month.extend(nums);
    let mut foot = vec!["Total".to_string(), String::new()];
    foot.extend(figures(&t.total));
    page.tables = vec![
        Table {
            id: "team",
            caption: "Per person and task template",
            columns: columns(&by_person),
            rows: t
                .rows
                .iter()
                .map(|x| {
                    let mut v = vec![
                        x.person.clone().unwrap_or_default(),
                        x.template.clone().unwrap_or_default(),
                    ];
                    v.extend(figures(x));
                    v
                })
                .collect(),
            foot: Some(foot),
            export: None,
        },
        Table {
            id: "team-months",
            caption: "By month",
            columns: columns(&by_month),
            rows: t
                .months
                .iter()
                .map(|x| {
                    let mut v = vec![x.month.clone().unwrap_or_default()];
                    v.extend(figures(x));
                    v
                })
                .collect(),
            foot: None,
            export: None,
        },
    ];
    page.stats = vec![
        ("tasks", "Tasks completed", t.total.tasks.to_string()),
        (
            "actual-vs-planned",
            "Actual / planned",
            pct(t.total.actual_vs_planned_percent),
        ),
        ("on-time", "On time", pct(t.total.on_time_percent)),
    ];
    Ok(render(&page))
}

async fn team_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let ctx = Ctx::load(&state, &mut db, &TEAM, &f).await?;
    let t = ctx.team(&mut db).await?;
    Ok(csv_response("team-performance", team::csv(&t)?))
}

pub const CASH: Meta = Meta {
    path: "/reports/cash-flow",
    title: "Cash flow",
    intro: "Invoiced: issued invoices by issue date (credit notes subtract). \
        Collected: money received by payment date, less refunds (credits applied are not money). \
        Expected: still owed on open invoices due that month, from today on. \
        Outstanding and overdue at month end: what was owed when the month ended (this month: \
        today), and the part of it already past its due date. \
        With a lead source: the invoices of the weddings it brought.",
    by_source: true,
    by_person: false,
};

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
    let (mut page, ctx) = match start(&state, &mut db, &staff, &CASH, f).await? {
        Ok(x) => x,
        Err(refused) => return Ok(refused),
    };
    let s = &ctx.studio;
    let r = ctx.cash_flow(&mut db).await?;
    page.charts.push(chart::bars(&Chart {
        title: "Cash flow by month".into(),
        labels: month_labels(r.months.iter().map(|m| m.month.as_str())),
        series: vec![
            series("Invoiced", r.months.iter().map(|m| m.invoiced)),
            series("Collected", r.months.iter().map(|m| m.collected)),
            series("Expected", r.months.iter().map(|m| m.expected)),
        ],
        format: chart::whole,
    }));
    let past: Vec<&cashflow::CashMonth> = r
        .months
        .iter()
        .filter(|m| m.outstanding.is_some())
        .collect();
    if !past.is_empty() {
        page.charts.push(chart::bars(&Chart {
            title: "Outstanding and overdue at each month's end".into(),
            labels: month_labels(past.iter().map(|m| m.month.as_str())),
            series: vec![
                series("Outstanding", past.iter().filter_map(|m| m.outstanding)),
                series("Overdue", past.iter().filter_map(|m| m.overdue)),
            ],
            format: chart::whole,
        }));
    }
    let money = |d: Decimal| s.money(d);
    let maybe = |d: Option<Decimal>| d.map(money).unwrap_or_default();
    let row = |m: &cashflow::CashMonth| {
        vec![
            m.month.clone(),
            money(m.invoiced),
            money(m.collected),
            money(m.expected),
            maybe(m.outstanding),
            maybe(m.overdue),
        ]
    };
    page.tables.push(Table {
        id: "cash-flow",
        caption: "Cash flow by month",
        columns: columns(&[
            ("Month", false),
            ("Invoiced", true),
            ("Collected", true),
            ("Expected", true),
            ("Outstanding at month end", true),
            ("Overdue at month end", true),
        ]),
        rows: r.months.iter().map(row).collect(),
        foot: Some(row(&r.total)),
        export: None,
    });
    page.stats = vec![
        ("outstanding", "Outstanding today", money(r.outstanding)),
        ("overdue", "Overdue today", money(r.overdue)),
    ];
    page.coming = Some(coming_months(ctx.today));
    Ok(render(&page))
}

async fn cash_flow_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let ctx = Ctx::load(&state, &mut db, &CASH, &f).await?;
    let r = ctx.cash_flow(&mut db).await?;
    Ok(csv_response("cash-flow", cashflow::csv(&r)?))
}

pub const ROI: Meta = Meta {
    path: "/reports/marketing",
    title: "Marketing ROI",
    intro: "Inquiries created in the range by lead source and campaign; \
        proposals (a proposal sent), bookings and their revenue (the approved price); spend \
        entered under Marketing spend; ROI = (revenue − spend) / spend. With a person: the \
        inquiries whose follow-up was given to them (spend is not anyone's and is left out).",
    by_source: true,
    by_person: true,
};

async fn marketing_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let (mut page, ctx) = match start(&state, &mut db, &staff, &ROI, f).await? {
        Ok(x) => x,
        Err(refused) => return Ok(refused),
    };
    let s = &ctx.studio;
    let r = ctx.marketing(&mut db).await?;
    page.charts.push(chart::bars(&Chart {
        title: "Revenue and spend by lead source".into(),
        labels: r.sources.iter().map(|x| x.source.clone()).collect(),
        series: vec![
            series("Revenue", r.sources.iter().map(|x| x.revenue)),
            series("Spend", r.sources.iter().map(|x| x.spend)),
        ],
        format: chart::whole,
    }));
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
    page.tables = vec![
        Table {
            id: "by-source",
            caption: "By lead source",
            columns: columns(&by_source),
            rows: r.sources.iter().map(|x| row(x, false)).collect(),
            foot: Some(row(&r.total, false)),
            export: None,
        },
        Table {
            id: "by-campaign",
            caption: "By campaign",
            columns: columns(&by_campaign),
            rows: r.campaigns.iter().map(|x| row(x, true)).collect(),
            foot: None,
            export: None,
        },
    ];
    page.stats = vec![
        ("revenue", "Revenue", s.money(r.total.revenue)),
        ("spend", "Spend", s.money(r.total.spend)),
        ("roi", "ROI", pct(r.total.roi_percent)),
    ];
    Ok(render(&page))
}

async fn marketing_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let ctx = Ctx::load(&state, &mut db, &ROI, &f).await?;
    let r = ctx.marketing(&mut db).await?;
    Ok(csv_response("marketing-roi", marketing::csv(&r)?))
}

pub const PIPELINE: Meta = Meta {
    path: "/reports/pipeline",
    title: "Pipeline",
    intro: "The inquiries created in each month, by the status they are in now, and the days \
        they spent in each stage. Win rate = Booked / (Booked + Closed-Lost). With a person: the \
        inquiries whose follow-up was given to them.",
    by_source: true,
    by_person: true,
};

const PIPELINE_NOTE: &str = "Days in each stage: a stay runs from the inquiry's move into the \
    stage to its next move, whoever or whatever made it (a person, a proposal sent, a booking). \
    The average counts the stays that have ended; \"In it now\" counts those that have not. \
    Booked and Closed-Lost are where inquiries end, so they rarely have an average.";

async fn pipeline_page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let (mut page, ctx) = match start(&state, &mut db, &staff, &PIPELINE, f).await? {
        Ok(x) => x,
        Err(refused) => return Ok(refused),
    };
    let p = ctx.pipeline(&mut db).await?;
    page.charts.push(chart::bars(&Chart {
        title: "Inquiries by month and status".into(),
        labels: month_labels(p.months.iter().map(|m| m.month.as_str())),
        series: pipeline::STATUSES
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                name: name.to_string(),
                values: p.months.iter().map(|m| m.counts()[i] as f64).collect(),
            })
            .collect(),
        format: chart::whole,
    }));
    let row = |m: &pipeline::PipelineMonth| {
        let mut v = vec![m.month.clone()];
        v.extend(m.counts().iter().map(|n| n.to_string()));
        v.push(m.total.to_string());
        v
    };
    let mut cols = vec![("Month", false)];
    cols.extend(pipeline::STATUSES.iter().map(|s| (*s, true)));
    cols.push(("Total", true));
    page.tables.push(Table {
        id: "pipeline",
        caption: "Inquiries by month and status",
        columns: columns(&cols),
        rows: p.months.iter().map(row).collect(),
        foot: Some(row(&p.total)),
        export: None,
    });
    page.stats = vec![
        ("inquiries", "Inquiries", p.total.total.to_string()),
        ("win-rate", "Win rate", pct(p.win_rate_percent)),
    ];
    page.charts.push(chart::bars(&Chart {
        title: "Average days in each stage".into(),
        labels: p.stages.iter().map(|s| s.stage.clone()).collect(),
        series: vec![Series {
            name: "Average days".into(),
            values: p
                .stages
                .iter()
                .map(|s| s.average_days.and_then(|d| d.to_f64()).unwrap_or(0.0))
                .collect(),
        }],
        format: chart::one_decimal,
    }));
    page.tables.push(Table {
        id: "stages",
        caption: "Days in each stage",
        columns: columns(&[
            ("Stage", false),
            ("Average days", true),
            ("Moved on", true),
            ("In it now", true),
        ]),
        rows: p
            .stages
            .iter()
            .map(|s| {
                vec![
                    s.stage.clone(),
                    s.average_days.map_or("—".into(), |d| d.to_string()),
                    s.moved_on.to_string(),
                    s.in_it_now.to_string(),
                ]
            })
            .collect(),
        foot: None,
        export: Some(format!("/reports/pipeline-stages.csv?{}", page.query)),
    });
    page.notes.push(PIPELINE_NOTE.into());
    Ok(render(&page))
}

async fn pipeline_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let ctx = Ctx::load(&state, &mut db, &PIPELINE, &f).await?;
    let p = ctx.pipeline(&mut db).await?;
    Ok(csv_response("pipeline", pipeline::csv(&p)?))
}

async fn pipeline_stages_csv(
    State(state): State<AppState>,
    mut db: Db,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let ctx = Ctx::load(&state, &mut db, &PIPELINE, &f).await?;
    let p = ctx.pipeline(&mut db).await?;
    Ok(csv_response("pipeline-stages", pipeline::stages_csv(&p)?))
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
