//! The home page of each role: the pipeline, what is overdue, what the proposals out are worth,
//! and the areas still to come.
use crate::auth::{Access, Permission, Staff};
use crate::crm::{self, InquiryStatus};
use crate::http::layout::{Layout, NAV, area_access, render, status_class};
use crate::http::routes::Routes;
use crate::http::{AppResult, AppState};
use crate::quote::BuildStatus;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let mut r = Routes::new().get("/", Access::Staff, dashboard);
    // Leads and Quotes have their own pages; the rest are still to come.
    for &(path, label) in NAV[3..NAV.len() - 1].iter() {
        r = r.get(
            path,
            area_access(path),
            move |s: State<AppState>, staff: Staff| coming_soon(s, staff, path, label),
        );
    }
    r
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
    open_leads: i64,
    proposals_out: i64,
    /// What the quotes with the couples are worth, in the studio's currency.
    proposals_value: String,
    weddings_next_90: i64,
    editing_rate: String,
    pipeline: Vec<StatusBar>,
    recent: Vec<RecentInquiry>,
    catalog: Vec<(&'static str, i64)>,
    /// Overdue follow-ups: everyone's for people who see leads, else their own.
    overdue: Vec<crate::crm::ActivityRow>,
    /// Lead numbers and names only for people who may see leads.
    show_leads: bool,
}

async fn dashboard(State(state): State<AppState>, staff: Staff) -> AppResult<Response> {
    let layout = Layout::load(&state.db, &staff, "Dashboard", "/").await?;
    let conn = &mut *state.db.acquire().await?;
    // One query per panel; none loops over rows.
    let pipeline = pipeline(conn).await?;
    let today = state.clock.today(&layout.settings.time_zone);
    let ahead = ahead(conn, today).await?;
    let who = (!staff.can(Permission::LeadsView)).then_some(staff.contributor_id);
    // The first page of them (the to-dos page has the rest).
    let (overdue, _) = crm::activities::todos(conn, state.clock.now(), who, true, None).await?;
    let catalog = catalog_counts(conn).await?;
    let page = Dashboard {
        show_leads: staff.can(Permission::LeadsView),
        overdue,
        open_leads: pipeline.open,
        proposals_out: pipeline.proposals_out,
        proposals_value: layout.settings.money(ahead.proposals_value),
        weddings_next_90: ahead.weddings_next_90,
        editing_rate: layout.settings.money(layout.settings.editing_hourly_rate),
        pipeline: pipeline.bars,
        recent: recent_inquiries(conn).await?,
        catalog: vec![
            ("Coverage scenes", catalog.scenes),
            ("Films", catalog.films),
            ("Editing styles", catalog.styles),
            ("Task templates", catalog.templates),
            ("Team members", catalog.team),
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

async fn pipeline(conn: &mut PgConnection) -> AppResult<Pipeline> {
    let counts: Vec<(InquiryStatus, i64)> = sqlx::query_as(
        "SELECT s, count(i.id) FROM unnest(enum_range(NULL::inquiries_status)) s
         LEFT JOIN inquiries i ON i.status = s GROUP BY s ORDER BY s",
    )
    .fetch_all(conn)
    .await?;
    let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let count = |status| counts.iter().find(|c| c.0 == status).map_or(0, |c| c.1);
    Ok(Pipeline {
        open: InquiryStatus::OPEN.into_iter().map(count).sum(),
        proposals_out: count(InquiryStatus::ProposalSent),
        bars: counts
            .iter()
            .map(|&(status, n)| StatusBar {
                status: status.to_string(),
                count: n,
                percent: n * 100 / max,
            })
            .collect(),
    })
}

/// What lies ahead: weddings in the next 90 days (from the studio's today) and what the
/// proposals out are worth.
#[derive(sqlx::FromRow)]
struct Ahead {
    weddings_next_90: i64,
    proposals_value: Decimal,
}

async fn ahead(conn: &mut PgConnection, today: NaiveDate) -> AppResult<Ahead> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM inquiries WHERE status <> $2
                   AND wedding_date BETWEEN $1 AND $1 + 90) AS weddings_next_90,
                (SELECT COALESCE(sum(live_price), 0) FROM builds WHERE status = $3)
                   AS proposals_value",
    )
    .bind(today)
    .bind(InquiryStatus::ClosedLost)
    .bind(BuildStatus::ProposalSent)
    .fetch_one(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct RecentRow {
    id: i32,
    first_name: Option<String>,
    last_name: Option<String>,
    email: String,
    wedding_date: Option<NaiveDate>,
    status: String,
    lead_source: Option<String>,
}

/// The eight inquiries that came in last.
async fn recent_inquiries(conn: &mut PgConnection) -> AppResult<Vec<RecentInquiry>> {
    let rows: Vec<RecentRow> = sqlx::query_as(
        "SELECT i.id, c.first_name, c.last_name, c.email, i.wedding_date,
                i.status::text AS status, i.lead_source
         FROM inquiries i JOIN contacts c ON c.id = i.contact_id
         ORDER BY i.created_at DESC, i.id DESC LIMIT 8",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RecentInquiry {
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
            status: r.status,
            source: r.lead_source.unwrap_or_else(|| "—".into()),
        })
        .collect())
}

/// How much of the catalog there is.
#[derive(sqlx::FromRow)]
struct CatalogCounts {
    scenes: i64,
    films: i64,
    styles: i64,
    templates: i64,
    team: i64,
}

async fn catalog_counts(conn: &mut PgConnection) -> AppResult<CatalogCounts> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM coverage_scenes) AS scenes,
                (SELECT count(*) FROM deliverables) AS films,
                (SELECT count(*) FROM editing_styles) AS styles,
                (SELECT count(*) FROM task_templates) AS templates,
                (SELECT count(*) FROM contributors) AS team",
    )
    .fetch_one(conn)
    .await?)
}

#[derive(Template)]
#[template(path = "coming_soon.html")]
struct ComingSoon {
    layout: Layout,
    what: &'static str,
}

async fn coming_soon(
    State(state): State<AppState>,
    staff: Staff,
    path: &'static str,
    label: &'static str,
) -> AppResult<Response> {
    let what = match label {
        "Leads" => {
            "The leads board: every inquiry from your website form and your inbox, by status, \
             with follow-ups."
        }
        "Quotes" => {
            "The quote builder: coverage, films and editing styles, with a price that follows \
             the work."
        }
        "Projects" => {
            "Booked weddings: contract price, change orders and everything that happens after \
             the yes."
        }
        "Tasks" => {
            "Editing and shooting tasks generated from each quote, with planned hours from each \
             editor's real speed."
        }
        "Calendar" => {
            "The team calendar: shoots, absences and holidays, so no one is booked twice."
        }
        "Invoices" => "Deposits, balances and payments, in your currency.",
        _ => "Profit per project from real hours, team speed, and which lead sources pay off.",
    };
    let layout = Layout::load(&state.db, &staff, label, path).await?;
    Ok(render(&ComingSoon { layout, what }))
}
