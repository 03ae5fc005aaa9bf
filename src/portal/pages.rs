//! The couple's pages: the portal's home, listing their wedding, quotes, invoices, documents
//! and films, and a page for each of those. Anything not theirs is a 404.
use super::documents::{self, Document};
use super::invoices::{self, Invoice};
use super::projects::{self, Project};
use super::quotes::{self, Quote};
use crate::auth::{Access, PortalUser};
use crate::billing::online;
use crate::db::Db;
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::studio::Studio;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

pub fn routes() -> Routes {
    Routes::new()
        .get("/portal", Access::Portal, home)
        .get("/portal/projects/{id}", Access::Portal, project)
        .get("/portal/quotes/{id}", Access::Portal, quote)
        .get("/portal/invoices/{id}", Access::Portal, invoice)
        .post("/portal/invoices/{id}/pay", Access::Portal, pay)
        .get(
            "/portal/invoices/{id}/invoice.pdf",
            Access::Portal,
            invoice_pdf,
        )
        .get("/portal/documents/{id}", Access::Portal, document)
        .get("/portal/documents/{id}/file", Access::Portal, document_file)
}

pub struct Item {
    pub href: String,
    pub title: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct Home {
    studio: String,
    user: PortalUser,
    sections: Vec<(&'static str, Vec<Item>)>,
}

#[derive(Template)]
#[template(path = "portal/detail.html")]
struct Detail {
    studio: String,
    user: PortalUser,
    title: String,
    rows: Vec<(&'static str, String)>,
    /// A link to what the couple can do next: (href, label).
    action: Option<(String, String)>,
    /// The record's file, when it has one to download (a document).
    download: Option<String>,
    /// The studio's notes for the couple (client-visible task comments): (when, text).
    updates: Vec<(String, String)>,
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%B %-d, %Y").to_string())
        .unwrap_or_else(|| "—".into())
}

fn project_title(p: &Project) -> String {
    p.project_name
        .clone()
        .unwrap_or_else(|| "Your wedding".into())
}

fn invoice_title(i: &Invoice) -> String {
    i.invoice_number
        .clone()
        .unwrap_or_else(|| format!("Invoice #{}", i.id))
}

fn document_title(d: &Document) -> String {
    d.file_name
        .clone()
        .unwrap_or_else(|| format!("Document #{}", d.id))
}

fn project_item(p: Project) -> Item {
    Item {
        href: format!("/portal/projects/{}", p.id),
        title: project_title(&p),
        detail: p.wedding_date.format("%B %-d, %Y").to_string(),
    }
}

fn quote_item(q: Quote, studio: &Studio) -> Item {
    Item {
        href: format!("/portal/quotes/{}", q.id),
        title: format!("Quote #{}", q.id),
        detail: format!(
            "{} · {}{}",
            q.status,
            studio.money(q.price()),
            if q.change_waiting {
                " · a change waits for your answer"
            } else {
                ""
            }
        ),
    }
}

fn invoice_item(i: Invoice, studio: &Studio) -> Item {
    let owed = if i.owed() > rust_decimal::Decimal::ZERO {
        format!(" · {} to pay", studio.money(i.owed()))
    } else {
        String::new()
    };
    Item {
        href: format!("/portal/invoices/{}", i.id),
        title: invoice_title(&i),
        detail: format!(
            "{} · {}{owed}",
            studio.money(i.total_amount),
            i.status.clone().unwrap_or_default()
        ),
    }
}

fn line_item((href, title, detail): super::deliveries::Line) -> Item {
    Item {
        href,
        title,
        detail,
    }
}

fn document_item(d: Document) -> Item {
    Item {
        href: format!("/portal/documents/{}", d.id),
        title: document_title(&d),
        detail: d.document_type.unwrap_or_default(),
    }
}

async fn home(State(state): State<AppState>, db: Db, user: PortalUser) -> AppResult<Response> {
    let mut conn = db;
    let studio = Studio::load(&mut conn).await?;
    let client = user.client_id;
    let projects = projects::for_client(&mut conn, client).await?;
    let quotes = quotes::for_client(&mut conn, client).await?;
    let invoices = invoices::for_client(&mut conn, client).await?;
    let documents = documents::for_client(&mut conn, client).await?;
    let films =
        super::deliveries::film_items(&mut conn, &studio, client, state.clock.now()).await?;
    let surveys = super::deliveries::survey_items(&mut conn, client).await?;
    let contracts =
        crate::contract::signatures::of_portal_user(&mut conn, client, &user.email).await?;
    let contracts = contracts
        .into_iter()
        .map(|c| Item {
            href: format!("/portal/contracts/{}", c.contract_id),
            title: format!("Contract for quote #{}", c.build_id),
            detail: match c.signed_at {
                Some(at) => format!("You signed it on {}", studio.day(&at)),
                None => "Waiting for your signature".into(),
            },
        })
        .collect();
    let questionnaires = super::questionnaires::items(&mut conn, client)
        .await?
        .into_iter()
        .map(|(href, title, detail)| Item {
            href,
            title,
            detail,
        })
        .collect();
    let sections = vec![
        ("Contracts to sign", contracts),
        ("Questionnaires", questionnaires),
        (
            "Your wedding",
            projects.into_iter().map(project_item).collect(),
        ),
        (
            "Quotes",
            quotes.into_iter().map(|q| quote_item(q, &studio)).collect(),
        ),
        (
            "Invoices",
            invoices
                .into_iter()
                .map(|i| invoice_item(i, &studio))
                .collect(),
        ),
        (
            "Documents",
            documents.into_iter().map(document_item).collect(),
        ),
        ("Your films", films.into_iter().map(line_item).collect()),
        (
            "Tell us how we did",
            surveys.into_iter().map(line_item).collect(),
        ),
    ];
    Ok(render(&Home {
        studio: studio.studio_name,
        user,
        sections,
    }))
}

async fn project(
    State(state): State<AppState>,
    db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let mut conn = db;
    let studio = Studio::load(&mut conn).await?;
    let p = projects::one(&mut conn, user.client_id, id).await?;
    let today = state.clock.today(&studio.time_zone);
    let delivery =
        crate::production::projection::delivery(&mut conn, p.id, today, &studio.time_zone).await?;
    let promised = delivery.promised.unwrap_or_else(|| {
        crate::production::rules::delivery(p.wedding_date, studio.delivery_weeks_after_wedding)
    });
    let mut rows = vec![
        ("Wedding date", date(Some(p.wedding_date))),
        (
            "Stage",
            p.phase.clone().unwrap_or_else(|| "Planning".into()),
        ),
        ("Films promised by", date(Some(promised))),
    ];
    // Once the editing has begun: when the editors' real queue says the films will be ready.
    if let (Some(day), true) = (delivery.projected, p.wedding_date <= today) {
        rows.push(("Expected from our editors' queue", date(Some(day))));
    }
    // The studio's notes on the editing that it chose to share (client-visible comments).
    let updates = crate::production::comments::for_couple(&mut conn, p.id)
        .await?
        .into_iter()
        .map(|c| (studio.day(&c.created_at), c.comment_text))
        .collect();
    Ok(render(&Detail {
        studio: studio.studio_name,
        title: project_title(&p),
        user,
        rows,
        action: None,
        download: None,
        updates,
    }))
}

async fn quote(db: Db, user: PortalUser, Path(id): Path<i32>) -> AppResult<Response> {
    let mut conn = db;
    let studio = Studio::load(&mut conn).await?;
    let q = quotes::one(&mut conn, user.client_id, id).await?;
    let rows = vec![
        ("Status", q.status.clone()),
        ("Price", studio.money(q.price())),
        ("Paid so far", studio.money(q.total_paid)),
    ];
    let action = match (q.change_waiting, q.has_versions) {
        (true, _) => Some("A change waits for your answer: see it"),
        (false, true) => Some("Versions of your agreement"),
        _ => None,
    }
    .map(|label| (format!("/portal/changes/{id}"), label.to_string()));
    Ok(render(&Detail {
        studio: studio.studio_name,
        user,
        title: format!("Quote #{id}"),
        rows,
        action,
        download: None,
        updates: vec![],
    }))
}

#[derive(Template)]
#[template(path = "portal/invoice.html")]
struct InvoicePage {
    id: i32,
    studio: String,
    user: PortalUser,
    title: String,
    rows: Vec<(&'static str, String)>,
    /// The link to its PDF.
    pdf: String,
    /// Payments and refunds: date, what, amount.
    history: Vec<(String, String, String)>,
    /// "Pay by card" is offered: Stripe is set up and something is owed.
    can_pay_by_card: bool,
    /// What "Still to pay" the button pays.
    owed: String,
    /// Said after the couple comes back from Stripe: (is it good news, the words).
    notice: Option<(bool, String)>,
}

#[derive(serde::Deserialize, Default)]
struct Back {
    /// The Checkout Session the couple paid in (Stripe's success address).
    #[serde(default)]
    paid: Option<String>,
    #[serde(default)]
    cancelled: Option<String>,
}

/// One of the couple's invoices: what it is for, when due, the total, what is paid and still to
/// pay, its status, and its payments and refunds.
/// The invoice's PDF, for the couple whose invoice it is (404 otherwise).
async fn invoice_pdf(mut db: Db, user: PortalUser, Path(id): Path<i32>) -> AppResult<Response> {
    invoices::one(&mut db, user.client_id, id).await?;
    let (name, bytes) = crate::billing::document::pdf_of(&mut db, id).await?;
    Ok(crate::billing::document::pdf_response(&name, bytes))
}

async fn invoice(
    State(state): State<AppState>,
    db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
    Query(back): Query<Back>,
) -> AppResult<Response> {
    let mut conn = db;
    invoices::one(&mut conn, user.client_id, id).await?;
    // Back from Stripe's page: ask Stripe and record the payment now if it is paid (the
    // webhook records it otherwise, once either way).
    let notice = match (&back.paid, &back.cancelled) {
        (Some(session), _) => {
            let settings = &state.settings;
            let paid = online::returned(&mut conn, settings, &state.clock, id, session).await?;
            Some(if paid {
                (true, "Thank you: your payment is received.".to_string())
            } else {
                (
                    true,
                    "Thank you: your payment is being confirmed; it shows here in a moment."
                        .to_string(),
                )
            })
        }
        (None, Some(_)) => Some((
            false,
            "The payment was cancelled: nothing was charged.".to_string(),
        )),
        _ => None,
    };
    let studio = Studio::load(&mut conn).await?;
    let i = invoices::one(&mut conn, user.client_id, id).await?;
    let paid = i.amount_paid.unwrap_or_default();
    let credit = i.total_amount < rust_decimal::Decimal::ZERO;
    let mut rows = vec![
        ("For", i.description.clone().unwrap_or_default()),
        ("Issued", date(i.issue_date)),
        ("Due", date(i.due_date)),
        ("Tax (included)", studio.money(i.tax_amount)),
        ("Total", studio.money(i.total_amount)),
        (if credit { "Applied" } else { "Paid" }, studio.money(paid)),
        (
            if credit {
                "Credit left"
            } else {
                "Still to pay"
            },
            studio.money(i.owed()),
        ),
        ("Status", i.status.clone().unwrap_or_default()),
    ];
    // Like the staff page: the tax line only when there is tax.
    rows.retain(|r| r.0 != "Tax (included)" || !i.tax_amount.is_zero());
    let payments = crate::billing::invoices::payments(&mut conn, id).await?;
    let refunds = crate::billing::invoices::refunds(&mut conn, id).await?;
    let mut history: Vec<(chrono::DateTime<chrono::Utc>, (String, String, String))> = vec![];
    for p in payments {
        let what = match (&p.credit_invoice_number, credit) {
            (Some(n), false) => format!("Credit from {n}"),
            (Some(n), true) => format!("Credit applied to {n}"),
            (None, _) => format!("Payment ({})", p.method.to_lowercase()),
        };
        let row = (studio.day(&p.payment_date), what, studio.money(p.amount));
        history.push((p.payment_date, row));
    }
    for r in refunds {
        let row = (
            studio.day(&r.refund_date),
            "Refund".to_string(),
            studio.money(-r.amount),
        );
        history.push((r.refund_date, row));
    }
    history.sort_by_key(|h| h.0);
    let open = matches!(
        i.status.as_deref().unwrap_or("Sent"),
        "Sent" | "Partially Paid" | "Overdue"
    );
    let zero = rust_decimal::Decimal::ZERO;
    let can_pay_by_card =
        online::enabled(&state.settings) && open && i.total_amount > zero && i.owed() > zero;
    let mut page = render(&InvoicePage {
        can_pay_by_card,
        owed: studio.money(i.owed()),
        notice,
        id,
        studio: studio.studio_name,
        user,
        title: invoice_title(&i),
        pdf: format!("/portal/invoices/{id}/invoice.pdf"),
        rows,
        history: history.into_iter().map(|h| h.1).collect(),
    });
    if can_pay_by_card {
        let csp = online::checkout_origins(&state.settings);
        page.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            crate::http::middleware::csp_with_forms_to(&csp),
        );
    }
    Ok(page)
}

/// "Pay by card": a Stripe Checkout Session for what is still owed, and off to Stripe's page.
/// Not set up, nothing owed, or not theirs: a 409 or 404 saying so.
async fn pay(
    State(state): State<AppState>,
    db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let mut conn = db;
    invoices::one(&mut conn, user.client_id, id).await?;
    let payer = online::Payer {
        client_user_id: user.client_user_id,
        email: &user.email,
    };
    let url = online::checkout(&mut conn, &state.settings, &state.clock, id, &payer).await?;
    Ok(axum::response::Redirect::to(&url).into_response())
}

async fn document(db: Db, user: PortalUser, Path(id): Path<i32>) -> AppResult<Response> {
    let mut conn = db;
    let studio = Studio::load(&mut conn).await?;
    let d = documents::one(&mut conn, user.client_id, id).await?;
    let rows = vec![
        ("Kind", d.document_type.clone().unwrap_or_default()),
        (
            "Added",
            d.upload_date.map_or("—".into(), |u| studio.day(&u)),
        ),
    ];
    Ok(render(&Detail {
        studio: studio.studio_name,
        user,
        title: document_title(&d),
        rows,
        action: None,
        download: Some(format!("/portal/documents/{id}/file")),
        updates: vec![],
    }))
}

/// One of the couple's documents, to download (404 when it is not theirs or has no file).
async fn document_file(
    axum::extract::State(state): axum::extract::State<crate::http::AppState>,
    db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let mut conn = db;
    let d = documents::one(&mut conn, user.client_id, id).await?;
    let (name, bytes) =
        crate::crm::documents::read(&mut conn, &state.settings.data_dir, d.id).await?;
    let name = name.unwrap_or_else(|| "document".into()).replace('"', "");
    let kind = if name.to_lowercase().ends_with(".pdf") {
        "application/pdf"
    } else {
        "application/octet-stream"
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, kind.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
