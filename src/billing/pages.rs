//! The staff Invoices area: the list (filter by status, totals outstanding and overdue, keyset
//! pages) and the invoice page (its line, totals, status, payments and refunds; record a
//! payment, refund, apply credit, send a draft, void). Forms answer in place with htmx (the
//! page again, the feedback by the form, a refused field's message by the field) and work as
//! plain forms without JavaScript (a redirect back).
use super::api::parse_status;
use super::credits;
use super::invoices::{self, Invoice, Payment, Refund};
use super::online;
use super::payments::{self, Method, NewPayment, NewRefund};
use super::status::InvoiceStatus;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::FieldError;
use crate::http::form::{Htmx, Refusal};
use crate::http::layout::{Layout, render, status_class};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::studio::Studio;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::InvoicesManage);
    Routes::new()
        .get("/invoices", manage, list)
        .get("/invoices/{id}", manage, page)
        .post("/invoices/{id}/payments", manage, record_payment)
        .post("/invoices/{id}/refunds", manage, refund)
        .post("/invoices/{id}/void", manage, void)
        .post("/invoices/{id}/send", manage, send)
        .post("/invoices/{id}/apply-credit", manage, apply_credit)
        .post("/invoices/{id}/refund-unapplied", manage, refund_unapplied)
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "billing/list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Invoice>,
    status: Option<InvoiceStatus>,
    next: Option<String>,
    outstanding: String,
    overdue: String,
}

impl ListPage {
    fn money(&self, d: &Decimal) -> String {
        self.layout.settings.money(*d)
    }

    fn statuses(&self) -> [InvoiceStatus; 6] {
        InvoiceStatus::ALL
    }

    fn is(&self, s: &InvoiceStatus) -> bool {
        self.status == Some(*s)
    }
}

async fn list(mut db: Db, staff: Staff, Query(q): Query<ListQuery>) -> AppResult<Response> {
    let status = parse_status(q.status.as_deref())?;
    let (rows, next) = invoices::list(&mut db, status, q.after.as_deref()).await?;
    let totals = invoices::totals(&mut db).await?;
    let layout = Layout::load(&mut db, &staff, "Invoices", "/invoices").await?;
    let mut query = vec![];
    if let Some(s) = status {
        query.push(("status".to_string(), s.as_str().to_string()));
    }
    Ok(render(&ListPage {
        next: next.map(|n| crate::page::next_href("/invoices", &query, &n)),
        outstanding: layout.settings.money(totals.outstanding),
        overdue: layout.settings.money(totals.overdue),
        layout,
        rows,
        status,
    }))
}

/// Which form a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Payment,
    Refund,
    Void,
    Send,
    Credit,
    Unapplied,
}

impl Part {
    fn key(self) -> &'static str {
        match self {
            Part::Payment => "payment",
            Part::Refund => "refund",
            Part::Void => "void",
            Part::Send => "send",
            Part::Credit => "credit",
            Part::Unapplied => "unapplied",
        }
    }
}

/// What the last change said, by its form.
struct Said {
    part: &'static str,
    ok: bool,
    message: Option<String>,
    fields: Vec<FieldError>,
}

/// The forms as typed, shown again when refused.
#[derive(Default, Deserialize, Clone)]
struct PaymentForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    payment_date: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    transaction_id: String,
}

#[derive(Default, Deserialize, Clone)]
struct RefundForm {
    #[serde(default)]
    payment_id: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    refund_date: String,
    #[serde(default)]
    reason: String,
}

#[derive(Default, Deserialize, Clone)]
struct VoidForm {
    #[serde(default)]
    reason: String,
}

/// One line of the payments and refunds history.
struct Event {
    day: String,
    what: String,
    method: String,
    reference: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "billing/invoice.html")]
struct InvoicePage {
    layout: Layout,
    i: Invoice,
    build: Option<i32>,
    issued: String,
    due: String,
    total: String,
    paid: String,
    owed: String,
    history: Vec<Event>,
    /// Payments that can still be refunded: id, label, what is left.
    refundable: Vec<(i32, String, String)>,
    credit: Option<String>,
    /// Paid by card beyond what was owed, to refund through Stripe: (session, the words).
    unapplied: Vec<(String, String)>,
    can_pay: bool,
    today: String,
    said: Option<Said>,
    payment: PaymentForm,
    refund: RefundForm,
    void: VoidForm,
    /// The control that gets the keyboard focus after a change.
    focus: Option<&'static str>,
    /// The tax, the reminders sent, whether the wedding may be moved from here.
    extra: super::extras::Extras,
}

impl InvoicePage {
    fn said(&self, part: &str) -> Option<&Said> {
        self.said.as_ref().filter(|s| s.part == part)
    }

    fn problem(&self, part: &str, field: &str) -> Option<&str> {
        let s = self.said(part)?;
        s.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.as_str())
    }

    fn autofocus(&self, id: &str) -> bool {
        self.focus == Some(id)
    }

    fn methods(&self) -> [Method; 4] {
        Method::ALL
    }

    fn method_is(&self, m: &Method) -> bool {
        self.payment.method == m.as_str()
            || (self.payment.method.is_empty() && *m == Method::BankTransfer)
    }

    fn status_class(&self) -> String {
        status_class(&self.i.status)
    }

    fn is_void(&self) -> bool {
        self.i.status() == InvoiceStatus::Void
    }

    fn is_draft(&self) -> bool {
        self.i.status() == InvoiceStatus::Draft
    }
}

fn history(studio: &Studio, payments: &[Payment], refunds: &[Refund]) -> Vec<Event> {
    let mut out: Vec<(chrono::DateTime<chrono::Utc>, i32, Event)> = vec![];
    for p in payments {
        let what = match (&p.credit_invoice_number, p.amount < Decimal::ZERO) {
            (Some(n), false) => format!("Credit from {n}"),
            (Some(n), true) => format!("Credit applied to {n}"),
            (None, _) => format!("Payment #{}", p.id),
        };
        let event = Event {
            day: studio.day(&p.payment_date),
            what,
            method: p.method.clone(),
            reference: p.transaction_id.clone().unwrap_or_default(),
            amount: studio.money(p.amount),
        };
        out.push((p.payment_date, p.id * 2, event));
    }
    for r in refunds {
        let event = Event {
            day: studio.day(&r.refund_date),
            what: format!("Refund of payment #{}: {}", r.payment_id, r.reason),
            method: String::new(),
            reference: String::new(),
            amount: studio.money(-r.amount),
        };
        out.push((r.refund_date, r.payment_id * 2 + 1, event));
    }
    out.sort_by_key(|(at, n, _)| (*at, *n));
    out.into_iter().map(|e| e.2).collect()
}

async fn view(
    state: &AppState,
    db: &mut PgConnection,
    staff: &Staff,
    id: i32,
    said: Option<Said>,
) -> AppResult<InvoicePage> {
    let i = invoices::get(db, id).await?;
    let title = format!(
        "{} · {}",
        i.title(),
        i.project_name.clone().unwrap_or_default()
    );
    let layout = Layout::load(db, staff, &title, "/invoices").await?;
    let studio = &layout.settings;
    let payments = invoices::payments(db, id).await?;
    let refunds = invoices::refunds(db, id).await?;
    let build = invoices::build_of(db, i.project_id).await?;
    let available = credits::available(db, i.project_id).await?;
    let credit = if i.is_credit_note() && i.status().is_open() {
        Some(format!(
            "{} of this credit note is left to apply to the project's next open invoice.",
            studio.money(-i.owed)
        ))
    } else if credits::can_take(i.status(), i.owed, available) {
        Some(format!(
            "The project has {} of credit from a credit note to apply.",
            studio.money(available)
        ))
    } else {
        None
    };
    let day = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%b %-d, %Y").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let today = state.clock.today(&studio.time_zone);
    let unapplied = online::unapplied(db, id)
        .await?
        .into_iter()
        .map(|(session, pi, amount)| {
            let words = format!(
                "{} was paid by card through Stripe ({pi}) after the invoice was paid or \
                 voided: it is not recorded as a payment here. Refund it to the couple.",
                studio.money(amount)
            );
            (session, words)
        })
        .collect();
    let extra = super::extras::load(db, staff, studio, id).await?;
    Ok(InvoicePage {
        unapplied,
        extra,
        build,
        issued: day(i.issue_date),
        due: day(i.due_date),
        total: studio.money(i.total_amount),
        paid: studio.money(i.amount_paid),
        owed: studio.money(i.owed),
        history: history(studio, &payments, &refunds),
        refundable: payments
            .iter()
            .filter(|p| p.refundable() > Decimal::ZERO)
            .map(|p| {
                let label = format!("#{} · {}", p.id, studio.day(&p.payment_date));
                (p.id, label, studio.money(p.refundable()))
            })
            .collect(),
        credit,
        can_pay: i.status().is_open() && i.total_amount > Decimal::ZERO,
        today: today.to_string(),
        payment: PaymentForm {
            amount: i.owed.max(Decimal::ZERO).to_string(),
            ..PaymentForm::default()
        },
        refund: RefundForm::default(),
        void: VoidForm::default(),
        focus: None,
        said,
        layout,
        i,
    })
}

#[derive(Deserialize, Default)]
struct Notice {
    #[serde(default)]
    done: String,
}

fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "payment" => "The payment is recorded.",
        "refund" => "The refund is recorded.",
        "void" => "The invoice is void.",
        "send" => "The invoice is sent.",
        "credit" => "The credit is applied.",
        "unapplied" => "Refunded through Stripe.",
        "email" => "The invoice is emailed to the couple, with the link to it in their portal.",
        _ => return None,
    })
}

async fn page(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> AppResult<Response> {
    let id: i32 = id.parse().map_err(|_| AppError::not_found("invoice"))?;
    let said = done_message(&n.done).map(|m| Said {
        part: "top",
        ok: true,
        message: Some(m.into()),
        fields: vec![],
    });
    Ok(render(&view(&state, &mut db, &staff, id, said).await?))
}

/// After a change: with htmx the page again, in place, saying what happened by the form (and
/// the focus on that message); without, a redirect back. A refused change shows the page with
/// the reason by the field and what was typed, nothing changed.
#[allow(clippy::too_many_arguments)]
async fn after(
    state: &AppState,
    db: &mut PgConnection,
    staff: &Staff,
    id: i32,
    part: Part,
    htmx: Htmx,
    result: AppResult<String>,
    keep: impl FnOnce(&mut InvoicePage),
) -> AppResult<Response> {
    match result {
        Ok(_) if !htmx.0 => {
            Ok(Redirect::to(&format!("/invoices/{id}?done={}", part.key())).into_response())
        }
        Ok(message) => {
            let said = Said {
                part: part.key(),
                ok: true,
                message: Some(message),
                fields: vec![],
            };
            let mut page = view(state, db, staff, id, Some(said)).await?;
            page.focus = Some("invoice-status");
            Ok(render(&page))
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let said = Said {
                part: part.key(),
                ok: false,
                message: refusal
                    .errors
                    .is_empty()
                    .then(|| refusal.message.clone().unwrap_or_default()),
                fields: refusal.errors.clone(),
            };
            let mut page = view(state, db, staff, id, Some(said)).await?;
            keep(&mut page);
            page.focus = refusal.errors.first().map(|f| focus_of(part, &f.field));
            Ok(refusal.respond(render(&page)))
        }
    }
}

/// The id of the control a refused field is typed in.
fn focus_of(part: Part, field: &str) -> &'static str {
    match (part, field) {
        (Part::Payment, "payment_date") => "pay-date",
        (Part::Payment, "transaction_id") => "pay-reference",
        (Part::Payment, _) => "pay-amount",
        (Part::Refund, "reason") => "refund-reason",
        (Part::Refund, "refund_date") => "refund-date",
        (Part::Refund, _) => "refund-amount",
        _ => "void-reason",
    }
}

async fn record_payment(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<PaymentForm>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let today = state.clock.today(&studio.time_zone);
        let method = Method::parse(&f.method)
            .ok_or_else(|| AppError::field("method", "choose how it was paid"))?;
        let p = NewPayment {
            amount: payments::amount("amount", &f.amount)?,
            date: payments::day("payment_date", &f.payment_date, today)?,
            method,
            transaction_id: payments::reference(Some(&f.transaction_id))?,
        };
        let actor = Some(staff.contributor_id);
        let r = payments::record(tx, &state.settings, &studio, &state.clock, id, &p, actor).await?;
        let message = format!(
            "Recorded {} {}: the invoice is {}.",
            studio.money(p.amount),
            method.by(),
            r.invoice.status
        );
        Ok((message, r.mails))
    })
    .await;
    let result = result.map(|(message, mails)| {
        mails.send(&state.db, &state.clock);
        message
    });
    let keep = |page: &mut InvoicePage| page.payment = f.clone();
    after(
        &state,
        &mut db,
        &staff,
        id,
        Part::Payment,
        htmx,
        result,
        keep,
    )
    .await
}

async fn refund(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<RefundForm>,
) -> AppResult<Response> {
    let result = refund_through(&state, &mut db, &staff, id, &f).await;
    let keep = |page: &mut InvoicePage| page.refund = f.clone();
    after(
        &state,
        &mut db,
        &staff,
        id,
        Part::Refund,
        htmx,
        result,
        keep,
    )
    .await
}

/// Check, refund at Stripe when the payment was taken through it (no transaction open), then
/// record the refund in one transaction.
async fn refund_through(
    state: &AppState,
    db: &mut Db,
    staff: &Staff,
    id: i32,
    f: &RefundForm,
) -> AppResult<String> {
    let studio = Studio::load(db).await?;
    let today = state.clock.today(&studio.time_zone);
    let payment: i32 = f
        .payment_id
        .parse()
        .map_err(|_| AppError::field("payment_id", "choose the payment to refund"))?;
    let theirs: Option<i32> =
        sqlx::query_scalar("SELECT id FROM payments WHERE id = $1 AND invoice_id = $2")
            .bind(payment)
            .bind(id)
            .fetch_optional(&mut **db)
            .await?;
    theirs.ok_or_else(|| AppError::field("payment_id", "not a payment of this invoice"))?;
    let r = NewRefund {
        amount: payments::amount("amount", &f.amount)?,
        date: payments::day("refund_date", &f.refund_date, today)?,
        reason: &f.reason,
        stripe_refund_id: None,
    };
    let actor = Some(staff.contributor_id);
    let (settings, clock) = (&state.settings, &state.clock);
    let (_, settled) = online::refund(db, settings, &studio, clock, payment, &r, actor).await?;
    Ok(format!(
        "Refunded {}: the invoice is {}.",
        studio.money(r.amount),
        settled.status
    ))
}

async fn void(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<VoidForm>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let actor = Some(staff.contributor_id);
        invoices::void(tx, &state.clock, id, &f.reason, actor).await?;
        Ok("The invoice is void.".to_string())
    })
    .await;
    let keep = |page: &mut InvoicePage| page.void = f.clone();
    after(&state, &mut db, &staff, id, Part::Void, htmx, result, keep).await
}

async fn send(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let actor = Some(staff.contributor_id);
        let s = invoices::send(tx, &state.clock, &studio, id, actor).await?;
        Ok(format!("Sent: the invoice is {}.", s.status))
    })
    .await;
    after(
        &state,
        &mut db,
        &staff,
        id,
        Part::Send,
        htmx,
        result,
        |_| {},
    )
    .await
}

#[derive(Default, Deserialize, Clone)]
struct UnappliedForm {
    #[serde(default)]
    session: String,
}

/// Refund through Stripe what a card payment brought beyond what the invoice owed.
async fn refund_unapplied(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
    Form(f): Form<UnappliedForm>,
) -> AppResult<Response> {
    let result = async {
        let studio = Studio::load(&mut db).await?;
        let (settings, clock) = (&state.settings, &state.clock);
        let actor = Some(staff.contributor_id);
        let amount =
            online::refund_unapplied(&mut db, settings, &studio, clock, id, &f.session, actor)
                .await?;
        Ok(format!(
            "Refunded {} to the couple through Stripe.",
            studio.money(amount)
        ))
    }
    .await;
    after(
        &state,
        &mut db,
        &staff,
        id,
        Part::Unapplied,
        htmx,
        result,
        |_| {},
    )
    .await
}

async fn apply_credit(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    htmx: Htmx,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let result = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let project = invoices::get(tx, id).await?.project_id;
        let actor = Some(staff.contributor_id);
        let applied = credits::apply(tx, &state.clock, &studio, project, actor).await?;
        if applied.is_empty() {
            return Err(AppError::Conflict(
                "there is no credit to apply, or nothing owed to apply it to".into(),
            ));
        }
        let total: Decimal = applied.iter().map(|a| a.amount).sum();
        Ok(format!("Applied {} of credit.", studio.money(total)))
    })
    .await;
    after(
        &state,
        &mut db,
        &staff,
        id,
        Part::Credit,
        htmx,
        result,
        |_| {},
    )
    .await
}
