//! The invoice as a document: its PDF (staff page and portal) and "Email the invoice" (the
//! couple's email through the outbox with the link to the invoice in their portal, where the
//! PDF is too; `mail.rs` sends no attachments).
use super::invoices::{self, Invoice};
use super::pdf::{self, Sheet};
use crate::auth::{Access, Permission, Staff};
use crate::config::Settings;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::error::ApiPath;
use crate::http::routes::Routes;
use crate::mail::{self, Mail, Outgoing};
use crate::studio::Studio;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::InvoicesManage);
    Routes::new()
        .get("/invoices/{id}/invoice.pdf", manage, staff_pdf)
        .post("/invoices/{id}/email", manage, email)
}

/// The couple of an invoice's project: (contact id, email, names).
#[derive(sqlx::FromRow)]
struct Couple {
    contact_id: i32,
    email: Option<String>,
    couple: String,
}

async fn couple(conn: &mut PgConnection, project: i32) -> AppResult<Couple> {
    Ok(sqlx::query_as(
        "SELECT c.id AS contact_id, c.email, trim(concat_ws(' ', c.first_name, c.last_name)) AS couple
         FROM projects p JOIN clients cl ON cl.id = p.client_id
         JOIN contacts c ON c.id = cl.contact_id WHERE p.id = $1",
    )
    .bind(project)
    .fetch_one(conn)
    .await?)
}

/// The PDF of invoice `id`: (file name, bytes). 404 when there is none.
pub async fn pdf_of(conn: &mut PgConnection, id: i32) -> AppResult<(String, Vec<u8>)> {
    let studio = Studio::load(conn).await?;
    let i: Invoice = invoices::get(conn, id).await?;
    let tax: Decimal = sqlx::query_scalar("SELECT tax_amount FROM invoices WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let who = couple(conn, i.project_id).await?;
    let payments = invoices::payments(conn, id).await?;
    let day =
        |d: Option<chrono::NaiveDate>| d.map_or("-".into(), |d| d.format("%B %-d, %Y").to_string());
    let credit = i.is_credit_note();
    let mut totals = vec![];
    if !tax.is_zero() {
        totals.push(("Tax".to_string(), studio.money(tax)));
    }
    totals.push(("Total".into(), studio.money(i.total_amount)));
    totals.push((
        if credit { "Applied" } else { "Paid" }.into(),
        studio.money(i.amount_paid),
    ));
    totals.push((
        if credit { "Credit left" } else { "Still owed" }.into(),
        studio.money(i.owed),
    ));
    let sheet = Sheet {
        title: format!(
            "{} {}",
            if credit { "Credit note" } else { "Invoice" },
            i.title()
        ),
        studio: studio.studio_name.clone(),
        couple: who.couple,
        project: i.project_name.clone().unwrap_or_default(),
        facts: vec![
            ("Issued".into(), day(i.issue_date)),
            ("Due".into(), day(i.due_date)),
            ("Status".into(), i.status.clone()),
        ],
        description: i.description.clone().unwrap_or_default(),
        amount: studio.money(i.total_amount - tax),
        totals,
        payments: payments
            .iter()
            .map(|p| {
                (
                    studio.day(&p.payment_date),
                    p.method.clone(),
                    studio.money(p.amount),
                )
            })
            .collect(),
        footer: format!(
            "All amounts in {}. Thank you from {}.",
            studio.currency_code, studio.studio_name
        ),
    };
    let name = format!(
        "invoice-{}.pdf",
        i.title().replace(['/', '\\', '"', ' '], "-")
    );
    Ok((name, pdf::invoice(&sheet)))
}

/// A PDF answer, downloaded by its name.
pub fn pdf_response(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn staff_pdf(mut db: Db, _staff: Staff, ApiPath(id): ApiPath<i32>) -> AppResult<Response> {
    let (name, bytes) = pdf_of(&mut db, id).await?;
    Ok(pdf_response(&name, bytes))
}

/// Queue the invoice's email to the couple (in the caller's transaction), audited: 409 for a
/// draft or void invoice, or a couple without an email address.
pub async fn queue_email(
    tx: &mut PgConnection,
    settings: &Settings,
    id: i32,
    actor: i32,
) -> AppResult<Outgoing> {
    let studio = Studio::load(tx).await?;
    let i = invoices::get(tx, id).await?;
    if matches!(i.status.as_str(), "Draft" | "Void") {
        return Err(AppError::Conflict(format!(
            "this invoice is {}: it is not emailed",
            i.status
        )));
    }
    let who = couple(tx, i.project_id).await?;
    let Some(to) = who.email.filter(|e| !e.trim().is_empty()) else {
        return Err(AppError::Conflict(
            "the couple has no email address: add one to their contact first".into(),
        ));
    };
    let link = format!("{}/portal/invoices/{id}", settings.base_url());
    let due = i.due_date.map_or(String::new(), |d| {
        format!(", due on {}", d.format("%B %-d, %Y"))
    });
    let body = format!(
        "Dear {},\n\nHere is invoice {} ({}) for {}{due}. Still owed: {}.\n\n\
         See it, download it as a PDF and pay it in your portal: {link}\n\nThank you,\n{}",
        who.couple,
        i.title(),
        i.description.clone().unwrap_or_default(),
        studio.money(i.total_amount),
        studio.money(i.owed),
        studio.studio_name
    );
    let outgoing = mail::queue(
        tx,
        settings,
        Mail {
            to_contact_id: who.contact_id,
            to: to.clone(),
            subject: format!("{}: invoice {}", studio.studio_name, i.title()),
            body: body.clone(),
            log_summary: body,
        },
    )
    .await?;
    crate::audit::record(
        tx,
        Some(actor),
        "invoices.email",
        "invoice",
        Some(id),
        serde_json::json!({ "to": to }),
    )
    .await?;
    Ok(outgoing)
}

async fn email(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Response> {
    let settings = state.settings.clone();
    let outgoing = crate::db::transaction(&mut db, async |tx| {
        queue_email(tx, settings.as_ref(), id, staff.contributor_id).await
    })
    .await?;
    outgoing.send(&state.db, &state.clock);
    Ok(Redirect::to(&format!("/invoices/{id}?done=email")).into_response())
}
