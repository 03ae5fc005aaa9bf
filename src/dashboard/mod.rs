//! The home page of each role: the pipeline, what is overdue, what the proposals out are worth,
//! and the areas still to come.
use crate::auth::{Access, Permission, Staff};
use crate::http::layout::{Layout, NAV, area_access, render, status_class};
use crate::http::routes::Routes;
use crate::http::{AppResult, AppState};
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
    let db = &state.db;
    let layout = Layout::load(db, &staff, "Dashboard", "/").await?;
    // One query per panel; none loops over rows.
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s::text AS status_name, count(i.id)
         FROM unnest(enum_range(NULL::inquiries_status)) s
         LEFT JOIN inquiries i ON i.status = s GROUP BY s ORDER BY s",
    )
    .fetch_all(db)
    .await?;
    let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let count = |name: &str| counts.iter().find(|c| c.0 == name).map_or(0, |c| c.1);
    let open_leads = crate::crm::InquiryStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(|s| count(s.as_str()))
        .sum();
    let pipeline = counts
        .iter()
        .map(|(status, n)| StatusBar {
            status: status.clone(),
            count: *n,
            percent: n * 100 / max,
        })
        .collect();
    let weddings_next_90: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM inquiries WHERE status <> 'Closed-Lost'
         AND wedding_date BETWEEN $1 AND $1 + 90",
    )
    .bind(state.clock.today(&layout.settings.time_zone))
    .fetch_one(db)
    .await?;
    let proposals_value: Decimal = sqlx::query_scalar(
        "SELECT COALESCE(sum(live_price), 0) FROM builds WHERE status = 'Proposal Sent'",
    )
    .fetch_one(db)
    .await?;
    let recent = recent_inquiries(&mut *db.acquire().await?).await?;
    let catalog = catalog_counts(&mut *db.acquire().await?).await?;
    let who = (!staff.can(Permission::LeadsView)).then_some(staff.contributor_id);
    let overdue =
        crate::crm::activities::todos(&mut *db.acquire().await?, state.clock.now(), who, true)
            .await?;
    let proposals_value = layout.settings.money(proposals_value);
    let editing_rate = layout.settings.money(layout.settings.editing_hourly_rate);
    let page = Dashboard {
        show_leads: staff.can(Permission::LeadsView),
        overdue,
        layout,
        open_leads,
        proposals_out: count("Proposal Sent"),
        proposals_value,
        weddings_next_90,
        editing_rate,
        pipeline,
        recent,
        catalog: vec![
            ("Coverage scenes", catalog.scenes),
            ("Films", catalog.films),
            ("Editing styles", catalog.styles),
            ("Task templates", catalog.templates),
            ("Team members", catalog.team),
        ],
    };
    Ok(render(&page))
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
