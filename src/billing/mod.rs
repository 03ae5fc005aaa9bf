//! Phase 4, money: invoices (the list, the invoice page, the overdue sweep), payments by hand,
//! refunds, void, credit notes applied to the next open invoice, and the API's idempotency.
//!
//! `status` is pure (the rule that moves an invoice's status); `invoices`, `payments`,
//! `credits` and `idempotency` hold the queries; `api` (JSON) and `pages` (HTML) parse, call
//! them in one transaction and answer; `jobs` is `projectflo jobs invoices`. Every change of an
//! invoice's money locks the invoice, then its project's build, and rewrites `amount_paid` and
//! `builds.total_paid` from the sums in the same transaction.
pub mod api;
pub mod credits;
pub mod document;
pub mod extras;
pub mod idempotency;
pub mod invoices;
pub mod jobs;
pub mod online;
pub mod pages;
pub mod payments;
pub mod pdf;
pub mod postpone;
pub mod postpone_pages;
pub mod reminders;
pub mod schedule_pages;
pub mod status;
pub mod stripe;
pub mod webhook;

use crate::http::routes::Routes;

pub use status::InvoiceStatus;

pub fn routes() -> Routes {
    Routes::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(webhook::routes())
        .merge(schedule_pages::routes())
        .merge(postpone_pages::routes())
        .merge(document::routes())
}
