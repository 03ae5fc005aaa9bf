//! The JSON API of invoices: the list, one invoice with its payments and refunds, recording a
//! payment (with `Idempotency-Key`), refunding a payment, voiding an invoice.
use super::idempotency;
use super::invoices::{self, Invoice, Payment, Refund, Settled};
use super::online;
use super::payments::{self, Method, NewPayment, NewRefund};
use super::status::InvoiceStatus;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::AppError;
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, ApiQuery, AppResult, AppState, json};
use crate::page;
use crate::studio::Studio;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::InvoicesManage);
    Routes::new()
        .api(manage, routes!(list))
        .api(manage, routes!(one))
        .api(manage, routes!(record_payment))
        .api(manage, routes!(refund_payment))
        .api(manage, routes!(void_invoice))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only invoices in this status; empty: all.
    #[param(schema_with = status_filter)]
    #[serde(default)]
    pub status: Option<String>,
    #[param(schema_with = page::key_param)]
    #[serde(default)]
    pub after: Option<String>,
}

fn status_filter() -> utoipa::openapi::schema::Schema {
    let names: Vec<&str> = InvoiceStatus::ALL.iter().map(|s| s.as_str()).collect();
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(names));
    json::or_empty(one, "Only invoices in this status; empty: every status.")
}

/// A status filter as sent (empty: none); another word is a 422 naming `status`.
pub fn parse_status(s: Option<&str>) -> AppResult<Option<InvoiceStatus>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            AppError::field(
                "status",
                "one of Draft, Sent, Partially Paid, Paid, Overdue, Void",
            )
        }),
    }
}

/// Invoices, newest first, 50 a page; the next page is in the `Link` header.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices", params(ListQuery),
    responses(
        (status = 200, body = Vec<Invoice>, headers(
            ("Link" = String, description = "`<...?after=...>; rel=\"next\"` when there are more")
        )),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn list(
    mut db: Db,
    ApiQuery(q): ApiQuery<ListQuery>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let status = parse_status(q.status.as_deref())?;
    let (rows, next) = invoices::list(&mut db, status, q.after.as_deref()).await?;
    Ok(page::with_next(
        Json(rows).into_response(),
        "/api/v1/invoices",
        raw.as_deref(),
        next,
    ))
}

/// An invoice with its payments and refunds.
#[derive(Serialize, ToSchema)]
pub struct InvoiceDetail {
    #[serde(flatten)]
    pub invoice: Invoice,
    /// The studio's currency code (every amount is in it).
    pub currency: String,
    pub payments: Vec<Payment>,
    pub refunds: Vec<Refund>,
}

/// One invoice: what it is for, due, total, paid, owed, status, its payments and refunds.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices",
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = InvoiceDetail),
        (status = 404, body = crate::http::error::Problem),
    ))]
async fn one(mut db: Db, ApiPath(id): ApiPath<i32>) -> AppResult<Json<InvoiceDetail>> {
    let invoice = invoices::get(&mut db, id).await?;
    let studio = Studio::load(&mut db).await?;
    Ok(Json(InvoiceDetail {
        invoice,
        currency: studio.currency_code,
        payments: invoices::payments(&mut db, id).await?,
        refunds: invoices::refunds(&mut db, id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PaymentIn {
    /// More than 0 and at most what the invoice still owes.
    #[serde(deserialize_with = "json::decimal_text")]
    #[schema(schema_with = amount_schema)]
    pub amount: String,
    /// The studio's local day it was paid, not after today; absent or empty: today.
    #[serde(default)]
    #[schema(schema_with = date_schema)]
    pub payment_date: Option<String>,
    pub method: Method,
    /// The reference (cheque number, bank reference, card slip); accepted once across all
    /// payments. Absent or empty: none.
    #[serde(default)]
    #[schema(max_length = 255, pattern = r"^[^\x00]*$")]
    pub transaction_id: Option<String>,
}

fn amount_schema() -> utoipa::openapi::schema::Schema {
    json::decimal_schema(
        r"^([1-9][0-9]{0,7}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$",
        (1, 99_999_999),
        false,
        "An amount more than 0, at most 2 decimals, e.g. \"250.50\".",
    )
}

fn date_schema() -> utoipa::openapi::schema::Schema {
    json::or_empty(
        json::date(),
        "YYYY-MM-DD, the studio's local day, not after today; empty: today.",
    )
}

#[derive(Serialize, ToSchema)]
pub struct PaymentRecorded {
    pub payment_id: i32,
    /// The invoice after the payment.
    pub invoice: Settled,
}

/// Record a payment made by hand. Send an `Idempotency-Key` to make retries safe: the first
/// answer is replayed for 24 h (with `Idempotent-Replayed: true`); the same key with other
/// parameters is a 422. Overpaying (409, naming `amount`), a transaction id already recorded (409), a void or
/// draft invoice or a credit note (409) change nothing.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/payments", tag = "invoices",
    params(("id" = i32, Path),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
         pattern = r"^[!-~]{1,255}$",
         description = "1 to 255 visible ASCII characters; the first answer is replayed for 24 h")),
    request_body = PaymentIn,
    responses(
        (status = 201, body = PaymentRecorded, headers(
            ("Idempotent-Replayed" = String, description = "`true` on a replayed answer")
        )),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn record_payment(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i32>,
    ApiJson(p): ApiJson<PaymentIn>,
) -> AppResult<Response> {
    let key = idempotency::key(headers.get(idempotency::HEADER))?;
    let who = staff.contributor_id;
    let mut tx = db.begin().await?;
    let studio = Studio::load(&mut tx).await?;
    let today = state.clock.today(&studio.time_zone);
    let payment = NewPayment {
        amount: payments::amount("amount", &p.amount)?,
        date: payments::day(
            "payment_date",
            p.payment_date.as_deref().unwrap_or(""),
            today,
        )?,
        method: p.method,
        transaction_id: payments::reference(p.transaction_id.as_deref())?,
    };
    if let Some(key) = &key {
        let params = serde_json::json!({
            "invoice": id, "amount": payment.amount, "date": payment.date,
            "method": payment.method.as_str(), "transaction_id": payment.transaction_id,
        });
        let fingerprint = idempotency::fingerprint("POST /api/v1/invoices/{id}/payments", &params);
        if let Some(stored) = idempotency::claim(&mut tx, who, key, &fingerprint).await? {
            tx.rollback().await?;
            let status = StatusCode::from_u16(stored.status as u16).unwrap_or(StatusCode::OK);
            let replayed = [("idempotent-replayed", "true")];
            return Ok((status, replayed, Json(stored.body)).into_response());
        }
    }
    let settings = &state.settings;
    let recorded = payments::record(
        &mut tx,
        settings,
        &studio,
        &state.clock,
        id,
        &payment,
        Some(who),
    )
    .await?;
    let body = PaymentRecorded {
        payment_id: recorded.payment_id,
        invoice: recorded.invoice,
    };
    let body = serde_json::to_value(&body).map_err(anyhow::Error::from)?;
    if let Some(key) = &key {
        idempotency::finish(&mut tx, who, key, 201, &body).await?;
    }
    tx.commit().await?;
    recorded.mails.send(&state.db, &state.clock);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct RefundIn {
    /// More than 0 and at most the payment less its earlier refunds.
    #[serde(deserialize_with = "json::decimal_text")]
    #[schema(schema_with = amount_schema)]
    pub amount: String,
    /// The studio's local day of the refund, not after today; absent or empty: today.
    #[serde(default)]
    #[schema(schema_with = date_schema)]
    pub refund_date: Option<String>,
    /// Why it is refunded.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Refunded {
    pub refund_id: i32,
    /// The invoice after the refund.
    pub invoice: Settled,
}

/// Refund part or all of a payment (never more than is left of it; a credit applied is not
/// refunded: 409). A card payment taken through Stripe is refunded through Stripe first; when
/// Stripe refuses, nothing is recorded and the 422 on `amount` carries Stripe's message.
#[utoipa::path(post, path = "/api/v1/payments/{id}/refunds", tag = "invoices",
    params(("id" = i32, Path)),
    request_body = RefundIn,
    responses(
        (status = 201, body = Refunded),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn refund_payment(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(r): ApiJson<RefundIn>,
) -> AppResult<(StatusCode, Json<Refunded>)> {
    let clock = state.clock;
    let studio = Studio::load(&mut db).await?;
    let today = clock.today(&studio.time_zone);
    let refund = NewRefund {
        amount: payments::amount("amount", &r.amount)?,
        date: payments::day("refund_date", r.refund_date.as_deref().unwrap_or(""), today)?,
        reason: &r.reason,
        stripe_refund_id: None,
    };
    // A card payment taken through Stripe is refunded there first, with no transaction open.
    let settings = &state.settings;
    let actor = Some(staff.contributor_id);
    let out = online::refund(&mut db, settings, &studio, &clock, id, &refund, actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(Refunded {
            refund_id: out.0,
            invoice: out.1,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct VoidIn {
    /// Why the invoice is void.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"
    )]
    pub reason: String,
}

/// Void an invoice with a reason (409 when it is void already, or has payments not refunded).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/void", tag = "invoices",
    params(("id" = i32, Path)),
    request_body = VoidIn,
    responses(
        (status = 200, body = Invoice),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
async fn void_invoice(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    ApiJson(v): ApiJson<VoidIn>,
) -> AppResult<Json<Invoice>> {
    let clock = state.clock;
    let actor = Some(staff.contributor_id);
    let invoice = crate::db::transaction(&mut db, async |tx| {
        invoices::void(tx, &clock, id, &v.reason, actor).await?;
        invoices::get(tx, id).await
    })
    .await?;
    Ok(Json(invoice))
}
