//! The proposal: "Send proposal" moves the build and the inquiry to Proposal Sent and gives the
//! couple a signed share link to a clean proposal page, where they can accept it.
use super::engine;
use super::pricing::{LineKind, Priced};
use super::status::BuildStatus;
use crate::auth::Access;
use crate::config::Settings;
use crate::db::Db;
use crate::http::form::Refusal;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult};
use crate::studio::Studio;
use crate::{audit, crypto, mail};
use askama::Template;
use axum::Form;
use axum::extract::Path;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/proposal/{token}", Access::Public, page)
        .post("/proposal/{token}/accept", Access::Public, accept)
}

/// Whom a build's proposal goes to, and what it holds.
#[derive(sqlx::FromRow)]
struct Recipient {
    inquiry_id: i32,
    contact_id: i32,
    email: String,
    first_name: Option<String>,
    live_price: Decimal,
    /// Coverage lines and films: a proposal needs at least one.
    parts: i64,
}

async fn recipient(tx: &mut PgConnection, build: i32) -> AppResult<Recipient> {
    Ok(sqlx::query_as(
        "SELECT i.id AS inquiry_id, c.id AS contact_id, c.email, c.first_name, b.live_price,
                (SELECT count(*) FROM build_coverage_assignments WHERE build_id = b.id)
                + (SELECT count(*) FROM build_deliverables WHERE build_id = b.id) AS parts
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&mut *tx)
    .await?)
}

/// Send (or send again, with a new link) the proposal of a build. Returns the link and the
/// email to send after the commit.
pub async fn send(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    build: i32,
    actor: i32,
) -> AppResult<(String, mail::Outgoing)> {
    let status = super::builds::lock(tx, build).await?;
    if !matches!(status, BuildStatus::Inquiry | BuildStatus::ProposalSent) {
        return Err(AppError::Conflict(format!(
            "this quote is {status}; proposals go out before booking"
        )));
    }
    let to = recipient(tx, build).await?;
    if to.parts == 0 {
        return Err(AppError::Conflict(
            "add coverage or a film before sending the proposal".into(),
        ));
    }
    let token = crypto::random_token();
    mark_sent(tx, build, &token).await?;
    let inquiry = to.inquiry_id;
    // The system's own move: a lead not yet sent one (New or Contacted) becomes Proposal Sent.
    crate::crm::transition(tx, inquiry, crate::crm::Move::ProposalSent, actor).await?;
    let link = format!("{}/proposal/{token}", settings.base_url());
    let outgoing = mail::queue(tx, settings, proposal_mail(studio, &to, &link)).await?;
    audit::record(
        tx,
        Some(actor),
        "builds.proposal.send",
        "build",
        Some(build),
        serde_json::json!({ "live_price": to.live_price }),
    )
    .await?;
    Ok((link, outgoing))
}

/// The build is sent with a new link (the old one stops working); an earlier acceptance goes.
async fn mark_sent(tx: &mut PgConnection, build: i32, token: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE builds SET status = $3, proposal_sent_at = now(), share_token_hash = $2,
                accepted_at = NULL, accepted_by = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(build)
    .bind(crypto::token_hash(token))
    .bind(BuildStatus::ProposalSent)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn proposal_mail(studio: &Studio, to: &Recipient, link: &str) -> mail::Mail {
    let name = &studio.studio_name;
    let price = studio.money(to.live_price);
    mail::Mail {
        to_contact_id: to.contact_id,
        to: to.email.clone(),
        subject: format!("Your wedding film proposal from {name}"),
        body: format!(
            "Hi {},\n\nHere is your proposal ({price}). Have a look, and accept it when you are \
             ready:\n\n{link}\n\n{name}",
            to.first_name.clone().unwrap_or_default(),
        ),
        log_summary: format!("Proposal link sent ({price})."),
    }
}

pub struct Section {
    pub title: &'static str,
    pub lines: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "quote/proposal.html")]
struct ProposalPage {
    studio: String,
    couple: String,
    wedding: Option<NaiveDate>,
    venue: Option<String>,
    sections: Vec<Section>,
    total: String,
    /// (the studio's local date, who) of the acceptance.
    accepted: Option<(String, String)>,
    open: bool,
    token: String,
    error: Option<String>,
}

/// The build a share link opens.
#[derive(sqlx::FromRow)]
struct Shared {
    build_id: i32,
    status: BuildStatus,
    couple: String,
    wedding_date: Option<NaiveDate>,
    venue_details: Option<String>,
    accepted_at: Option<DateTime<Utc>>,
    accepted_by: Option<String>,
}

async fn find(conn: &mut PgConnection, token: &str) -> AppResult<Shared> {
    sqlx::query_as(
        "SELECT b.id AS build_id, b.status,
                trim(concat_ws(' ', c.first_name, c.last_name)) AS couple, i.wedding_date,
                i.venue_details, b.accepted_at, b.accepted_by
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE b.share_token_hash = $1",
    )
    .bind(crypto::token_hash(token))
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| {
        AppError::NotFound(
            "This proposal link is not valid any more. Ask the studio for a new one.".into(),
        )
    })
}

/// The proposal's lines by section, as the couple sees them (films not included are left out).
fn sections(priced: &Priced, studio: &Studio) -> Vec<Section> {
    use LineKind::*;
    let section = |title, kinds: &[LineKind]| Section {
        title,
        lines: priced
            .lines
            .iter()
            .filter(|l| {
                kinds.contains(&l.kind)
                    && !(l.kind == Component && l.amount.is_zero() && l.rule == "not included")
            })
            .map(|l| {
                (
                    l.description.clone(),
                    if l.quantity == Decimal::ONE {
                        String::new()
                    } else {
                        format!("× {}", l.quantity.normalize())
                    },
                    studio.money(l.amount),
                )
            })
            .collect(),
    };
    vec![
        section("Coverage", &[Coverage]),
        section("Films", &[Component]),
        section("Style and add-ons", &[StyleAddOn, AddOn]),
    ]
}

async fn render_page(
    db: &mut PgConnection,
    token: &str,
    error: Option<String>,
) -> AppResult<ProposalPage> {
    let mut tx = sqlx::Connection::begin(db).await?;
    let shared = find(&mut tx, token).await?;
    let studio = Studio::load(&mut tx).await?;
    let priced = engine::breakdown(&mut tx, &studio, shared.build_id).await?;
    tx.rollback().await?;
    let accepted = shared.accepted_at.map(|a| studio.day(&a));
    Ok(ProposalPage {
        sections: sections(&priced, &studio),
        total: studio.money(priced.total),
        studio: studio.studio_name,
        couple: shared.couple,
        wedding: shared.wedding_date,
        venue: shared.venue_details,
        accepted: accepted.map(|a| (a, shared.accepted_by.unwrap_or_default())),
        open: shared.status == BuildStatus::ProposalSent && shared.accepted_at.is_none(),
        token: token.to_string(),
        error,
    })
}

async fn page(mut db: Db, Path(token): Path<String>) -> AppResult<Response> {
    Ok(render(&render_page(&mut db, &token, None).await?))
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    name: String,
}

/// The couple accepts: recorded with their typed name, and the studio is told. A refusal
/// (no name: 422; already answered or changed: 409) shows the proposal again with the reason.
async fn accept(
    mut db: Db,
    Path(token): Path<String>,
    Form(f): Form<AcceptForm>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        record_acceptance(&mut tx, &token, &f.name).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(render(&render_page(&mut db, &token, None).await?)),
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = render_page(&mut db, &token, refusal.message.clone()).await?;
            Ok(refusal.respond(render(&page)))
        }
    }
}

/// Accept the proposal a share link opens, in the typed name, and tell Owners and Sales.
async fn record_acceptance(tx: &mut PgConnection, token: &str, name: &str) -> AppResult<()> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AppError::Validation {
            message: "Please type your full name to accept.".into(),
            errors: vec![],
        });
    }
    let build = find(tx, token).await?.build_id;
    let done = sqlx::query(
        "UPDATE builds SET accepted_at = now(), accepted_by = $2
         WHERE id = $1 AND status = $4 AND accepted_at IS NULL AND share_token_hash = $3",
    )
    .bind(build)
    .bind(name)
    .bind(crypto::token_hash(token))
    .bind(BuildStatus::ProposalSent)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict(
            "This proposal was already answered or has changed; ask the studio.".into(),
        ));
    }
    notify_sales(tx, name, build).await?;
    audit::record(
        tx,
        None,
        "builds.proposal.accept",
        "build",
        Some(build),
        serde_json::json!({ "name": name }),
    )
    .await?;
    Ok(())
}

/// A notification for every active Owner and Sales login.
async fn notify_sales(tx: &mut PgConnection, name: &str, build: i32) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message, link_url)
         SELECT co.id, $1, $2 FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
         WHERE r.name IN ('Owner', 'Sales')",
    )
    .bind(format!("{name} accepted proposal #{build}."))
    .bind(format!("/quotes/{build}"))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
