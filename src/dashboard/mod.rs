//! The home page of each role. Every panel is shown to the people whose permissions it is for
//! (roles are the studio's to change, so permissions decide, not role names): the pipeline,
//! the latest inquiries and what the proposals out are worth to those who see leads; today's
//! to-dos to those who work leads; their own unfinished tasks to those who work on tasks, and
//! the projects at risk of late delivery (theirs, or every one for those who plan everyone's
//! tasks); this week's shoot days (every one for planners, else one's own for people on a
//! crew); overdue invoices and this month's money to those who manage invoices (the money
//! also to those who see reports); the studio setup to those who edit the catalogs. Each
//! panel is one bounded statement along an index (`panels`), at any size.
pub mod panels;

use crate::auth::{Access, Permission, Staff};
use crate::crm::{self, InquiryStatus};
use crate::db::Db;
use crate::http::layout::{Layout, render, status_class};
use crate::http::routes::Routes;
use crate::http::{AppResult, AppState};
use crate::money;
use crate::quote::BuildStatus;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use sqlx::types::Json;

pub fn routes() -> Routes {
    Routes::new().get("/", Access::Staff, dashboard)
}

pub struct StatusBar {
    pub status: String,
    pub count: i64,
    pub percent: i64,
}

pub struct RecentInquiry {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub wedding_date: Option<NaiveDate>,
    pub status: String,
    pub source: String,
}

impl RecentInquiry {
    pub fn status_class(&self) -> String {
        status_class(&self.status)
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    open_leads: String,
    proposals_out: String,
    /// What the quotes with the couples are worth, in the studio's currency.
    proposals_value: String,
    /// Accepted proposals waiting to be booked, and what they are worth.
    accepted: String,
    accepted_value: String,
    weddings_next_90: String,
    editing_rate: String,
    pipeline: Vec<StatusBar>,
    recent: Vec<RecentInquiry>,
    catalog: Vec<(&'static str, i64)>,
    /// Overdue follow-ups: everyone's for people who see leads, else their own.
    overdue: Vec<crate::crm::ActivityRow>,
    /// Lead numbers and names only for people who may see leads.
    show_leads: bool,
    /// The studio setup card and the editing rate, for those who edit the catalogs.
    show_setup: bool,
    /// My to-dos due today or before (those who work leads).
    todos: Option<Vec<crate::crm::ActivityRow>>,
    /// My unfinished tasks (those who work on tasks).
    tasks: Option<Vec<panels::MyTask>>,
    /// This week's shoot days: (everyone's?, the shoots); the week's first day.
    shoots: Option<(bool, Vec<panels::Shoot>)>,
    week: NaiveDate,
    /// Projects at risk of late delivery: (everyone's?, the first of them, how many).
    at_risk: Option<(bool, panels::AtRisk)>,
    /// Overdue invoices (those who manage invoices).
    invoices: Option<Vec<panels::OverdueInvoice>>,
    /// This month's money: invoiced, collected, outstanding and overdue today.
    revenue: Option<crate::reports::cashflow::CashFlow>,
    today: NaiveDate,
    /// Workflow steps waiting for approval (and those past or failed): HTML, or empty.
    approvals: String,
}

impl Dashboard {
    fn money(&self, d: &Decimal) -> String {
        self.layout.settings.money(*d)
    }

    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        crate::dates::shown(
            *at,
            &self.layout.settings.time_zone,
            crate::dates::Shown::Time,
        )
    }

    fn days_to(&self, d: &NaiveDate) -> String {
        match (*d - self.today).num_days() {
            0 => "today".into(),
            1 => "tomorrow".into(),
            -1 => "yesterday".into(),
            n if n < 0 => format!("{} days ago", -n),
            n => format!("in {n} days"),
        }
    }

    fn reason(&self, r: &panels::Risk) -> String {
        match r {
            panels::Risk::Late(1) => "1 task overdue".into(),
            panels::Risk::Late(n) => format!("{n} tasks overdue"),
            panels::Risk::NoTime(left, have) => {
                format!("{left} h of work left, {have} h available to its people before delivery")
            }
        }
    }
}

async fn dashboard(State(state): State<AppState>, mut db: Db, staff: Staff) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Dashboard", "/").await?;
    let tz = layout.settings.time_zone.clone();
    let today = state.clock.today(&tz);
    let now = state.clock.now();
    let me = staff.contributor_id;
    // The figures, then the overdue to-dos; then one statement for each panel the person sees.
    let f = figures(&mut db, today).await?;
    let who = (!staff.can(Permission::LeadsView)).then_some(me);
    // The first page of them (the to-dos page has the rest).
    let (overdue, _) = crm::activities::todos(&mut db, now, who, true, None).await?;
    let todos = match staff.can(Permission::LeadsEdit) {
        true => {
            let (mine, _) = crm::activities::todos(&mut db, now, Some(me), false, None).await?;
            Some(
                mine.into_iter()
                    .filter(|a| a.due_date.is_some_and(|d| d <= today))
                    .take(panels::LIMIT as usize)
                    .collect(),
            )
        }
        false => None,
    };
    let works = staff.can(Permission::TasksWork);
    let plans = staff.can(Permission::TasksManage);
    let tasks = match works {
        true => Some(panels::my_tasks(&mut db, me, today).await?),
        false => None,
    };
    let (monday, next_monday) = panels::week_of(today);
    let week = (
        crate::dates::start_of_day(monday, &tz),
        crate::dates::start_of_day(next_monday, &tz),
    );
    let shoots = if plans {
        Some((true, panels::shoots(&mut db, week, None).await?))
    } else if panels::shoots_at_all(&mut db, me).await? {
        Some((false, panels::shoots(&mut db, week, Some(me)).await?))
    } else {
        None
    };
    let at_risk = if plans || works {
        Some((
            plans,
            panels::at_risk(&mut db, today, (!plans).then_some(me)).await?,
        ))
    } else {
        None
    };
    let invoices = match staff.can(Permission::InvoicesManage) {
        true => Some(panels::overdue_invoices(&mut db, today).await?),
        false => None,
    };
    let revenue = if staff.can(Permission::InvoicesManage) || staff.can(Permission::ReportsView) {
        let month = crate::reports::range::Range {
            from: crate::reports::range::month_of(today),
            to: today,
        };
        let s = &layout.settings;
        Some(
            crate::reports::cashflow::report(&mut db, month, None, today, &tz, &s.currency_code)
                .await?,
        )
    } else {
        None
    };
    let pipeline = Pipeline::of(&f.pipeline);
    let approvals = if staff.can(Permission::BookingsManage) {
        crate::workflows::project_pages::approvals(&mut db, &layout.settings).await?
    } else {
        String::new()
    };
    let page = Dashboard {
        show_setup: staff.can(Permission::CatalogEdit),
        todos,
        tasks,
        shoots,
        week: monday,
        at_risk,
        invoices,
        revenue,
        today,
        approvals,
        show_leads: staff.can(Permission::LeadsView),
        overdue,
        open_leads: money::count(pipeline.open),
        proposals_out: money::count(pipeline.proposals_out - f.accepted),
        accepted: money::count(f.accepted),
        accepted_value: layout.settings.money(f.accepted_value),
        proposals_value: layout.settings.money(f.proposals_value),
        weddings_next_90: money::count(f.weddings_next_90),
        editing_rate: layout.settings.money(layout.settings.editing_hourly_rate),
        pipeline: pipeline.bars,
        recent: f.recent.0.into_iter().map(RecentInquiry::from).collect(),
        catalog: vec![
            ("Coverage scenes", f.scenes),
            ("Films", f.films),
            ("Editing styles", f.styles),
            ("Task templates", f.templates),
            ("Team members", f.team),
        ],
        layout,
    };
    Ok(render(&page))
}

/// The inquiries by status, as bars, with the open ones and the proposals out counted.
struct Pipeline {
    bars: Vec<StatusBar>,
    open: i64,
    proposals_out: i64,
}

impl Pipeline {
    fn of(counts: &[(InquiryStatus, i64)]) -> Pipeline {
        let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
        let count = |status| counts.iter().find(|c| c.0 == status).map_or(0, |c| c.1);
        Pipeline {
            open: InquiryStatus::OPEN.into_iter().map(count).sum(),
            proposals_out: count(InquiryStatus::ProposalSent),
            bars: InquiryStatus::ALL
                .iter()
                .map(|&status| StatusBar {
                    status: status.to_string(),
                    count: count(status),
                    percent: count(status) * 100 / max,
                })
                .collect(),
        }
    }
}

/// Every figure of the dashboard, read in one query, each from an index or a small table:
/// the inquiries per status (kept by the database, `inquiry_status_counts`), the booked weddings
/// in the next 90 days from the studio's today, what the proposals out are worth, the eight newest
/// inquiries, and how much of the catalog there is.
#[derive(sqlx::FromRow)]
struct Figures {
    pipeline: Json<Vec<(InquiryStatus, i64)>>,
    weddings_next_90: i64,
    proposals_value: Decimal,
    /// Proposals the couple accepted, waiting to be booked (no longer "out").
    accepted: i64,
    accepted_value: Decimal,
    recent: Json<Vec<RecentRow>>,
    scenes: i64,
    films: i64,
    styles: i64,
    templates: i64,
    team: i64,
}

async fn figures(conn: &mut PgConnection, today: NaiveDate) -> AppResult<Figures> {
    Ok(sqlx::query_as(
        "SELECT (SELECT COALESCE(json_agg(json_build_array(status, n)), '[]')
                   FROM inquiry_status_counts) AS pipeline,
                (SELECT count(*) FROM inquiries WHERE status = $2
                   AND wedding_date BETWEEN $1 AND $1 + 90) AS weddings_next_90,
                (SELECT COALESCE(sum(live_price), 0) FROM builds
                   WHERE status = $3 AND accepted_at IS NULL) AS proposals_value,
                (SELECT count(*) FROM builds WHERE status = $3 AND accepted_at IS NOT NULL)
                   AS accepted,
                (SELECT COALESCE(sum(live_price), 0) FROM builds
                   WHERE status = $3 AND accepted_at IS NOT NULL) AS accepted_value,
                (SELECT COALESCE(json_agg(r), '[]') FROM (
                   SELECT i.id, c.first_name, c.last_name, c.email, i.wedding_date,
                          i.status, i.lead_source
                   FROM inquiries i JOIN contacts c ON c.id = i.contact_id
                   ORDER BY i.created_at DESC, i.id DESC LIMIT 8) r) AS recent,
                (SELECT count(*) FROM coverage_scenes) AS scenes,
                (SELECT count(*) FROM deliverables) AS films,
                (SELECT count(*) FROM editing_styles) AS styles,
                (SELECT count(*) FROM task_templates) AS templates,
                (SELECT count(*) FROM contributors) AS team",
    )
    .bind(today)
    .bind(InquiryStatus::Booked)
    .bind(BuildStatus::ProposalSent)
    .fetch_one(conn)
    .await?)
}

#[derive(serde::Deserialize)]
struct RecentRow {
    id: i32,
    first_name: Option<String>,
    last_name: Option<String>,
    email: String,
    wedding_date: Option<NaiveDate>,
    status: InquiryStatus,
    lead_source: Option<String>,
}

impl From<RecentRow> for RecentInquiry {
    fn from(r: RecentRow) -> Self {
        RecentInquiry {
            id: r.id,
            name: format!(
                "{} {}",
                r.first_name.unwrap_or_default(),
                r.last_name.unwrap_or_default()
            )
            .trim()
            .to_string(),
            email: r.email,
            wedding_date: r.wedding_date,
            status: r.status.to_string(),
            source: r.lead_source.unwrap_or_else(|| "—".into()),
        }
    }
}
