//! The proposal: "Send proposal" moves the build and the inquiry to Proposal Sent and gives the
//! couple a signed share link to a clean proposal page, where they can accept it.
use super::engine;
use super::status::BuildStatus;
use crate::auth::Access;
use crate::config::Settings;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::money;
use crate::{audit, crypto, mail};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/proposal/{token}", Access::Public, page)
        .post("/proposal/{token}/accept", Access::Public, accept)
}

/// Send (or send again, with a new link) the proposal of a build. Returns the link and the
/// email to send after the commit.
pub async fn send(
    tx: &mut PgConnection,
    settings: &Settings,
    build: i32,
    actor: i32,
) -> AppResult<(String, mail::Outgoing)> {
    let status = super::builds::lock(tx, build).await?;
    if !matches!(status, BuildStatus::Inquiry | BuildStatus::ProposalSent) {
        return Err(AppError::Conflict(format!(
            "this quote is {status}; proposals go out before booking"
        )));
    }
    let (inquiry, contact, email, first, live, parts): (i32, i32, String, Option<String>, rust_decimal::Decimal, i64) = sqlx::query_as(
        "SELECT i.id, c.id, c.email, c.first_name, b.live_price,
                (SELECT count(*) FROM build_coverage_assignments WHERE build_id = b.id) + (SELECT count(*) FROM build_deliverables WHERE build_id = b.id)
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&mut *tx)
    .await?;
    if parts == 0 {
        return Err(AppError::Conflict(
            "add coverage or a film before sending the proposal".into(),
        ));
    }
    let token = crypto::random_token();
    sqlx::query("UPDATE builds SET status = 'Proposal Sent', proposal_sent_at = now(), share_token_hash = $2, accepted_at = NULL, accepted_by = NULL, updated_at = now() WHERE id = $1")
        .bind(build)
        .bind(crypto::token_hash(&token))
        .execute(&mut *tx)
        .await?;
    // The system's own move: an open inquiry (New or Contacted) becomes Proposal Sent.
    sqlx::query("UPDATE inquiries SET status = 'Proposal Sent', updated_at = now() WHERE id = $1 AND status IN ('New', 'Contacted')").bind(inquiry).execute(&mut *tx).await?;
    let (studio, currency): (String, String) =
        sqlx::query_as("SELECT studio_name, currency_code::text FROM studio_settings")
            .fetch_one(&mut *tx)
            .await?;
    let link = format!("{}/proposal/{token}", settings.base_url());
    let outgoing = mail::queue(tx, settings, mail::Mail {
        to_contact_id: contact,
        to: email,
        subject: format!("Your wedding film proposal from {studio}"),
        body: format!("Hi {},\n\nHere is your proposal ({}). Have a look, and accept it when you are ready:\n\n{link}\n\n{studio}", first.unwrap_or_default(), money::format(live, &currency)),
        log_summary: format!("Proposal link sent ({}).", money::format(live, &currency)),
    })
    .await?;
    audit::record(
        tx,
        Some(actor),
        "builds.proposal.send",
        "build",
        Some(build),
        serde_json::json!({ "live_price": live }),
    )
    .await?;
    Ok((link, outgoing))
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
    accepted: Option<(DateTime<Utc>, String)>,
    open: bool,
    token: String,
    error: Option<String>,
}

type Found = (
    i32,
    BuildStatus,
    String,
    Option<NaiveDate>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
);

async fn find(db: &sqlx::PgPool, token: &str) -> AppResult<Found> {
    sqlx::query_as(
        "SELECT b.id, b.status, trim(concat_ws(' ', c.first_name, c.last_name)), i.wedding_date, i.venue_details, b.accepted_at, b.accepted_by
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id WHERE b.share_token_hash = $1",
    )
    .bind(crypto::token_hash(token))
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound("This proposal link is not valid any more. Ask the studio for a new one.".into()))
}

async fn render_page(
    state: &AppState,
    token: &str,
    error: Option<String>,
) -> AppResult<ProposalPage> {
    let (build, status, couple, wedding, venue, accepted_at, accepted_by) =
        find(&state.db, token).await?;
    let mut tx = state.db.begin().await?;
    let priced = engine::breakdown(&mut tx, build).await?;
    tx.rollback().await?;
    let (studio, currency): (String, String) =
        sqlx::query_as("SELECT studio_name, currency_code::text FROM studio_settings")
            .fetch_one(&state.db)
            .await?;
    use super::pricing::LineKind::*;
    let section = |title, kinds: &[super::pricing::LineKind]| Section {
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
                    if l.quantity == rust_decimal::Decimal::ONE {
                        String::new()
                    } else {
                        format!("× {}", l.quantity.normalize())
                    },
                    money::format(l.amount, &currency),
                )
            })
            .collect(),
    };
    let sections = vec![
        section("Coverage", &[Coverage]),
        section("Films", &[Component]),
        section("Style and add-ons", &[StyleAddOn, AddOn]),
    ];
    Ok(ProposalPage {
        studio,
        couple,
        wedding,
        venue,
        sections,
        total: money::format(priced.total, &currency),
        accepted: accepted_at.map(|a| (a, accepted_by.unwrap_or_default())),
        open: status == BuildStatus::ProposalSent && accepted_at.is_none(),
        token: token.to_string(),
        error,
    })
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    Ok(render(&render_page(&state, &token, None).await?))
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    name: String,
}

/// The couple accepts: recorded with their typed name, and the studio is told.
async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(f): Form<AcceptForm>,
) -> AppResult<Response> {
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        let page = render_page(
            &state,
            &token,
            Some("Please type your full name to accept.".into()),
        )
        .await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let (build, ..) = find(&state.db, &token).await?;
    let mut tx = state.db.begin().await?;
    let done = sqlx::query("UPDATE builds SET accepted_at = now(), accepted_by = $2 WHERE id = $1 AND status = 'Proposal Sent' AND accepted_at IS NULL AND share_token_hash = $3")
        .bind(build)
        .bind(name)
        .bind(crypto::token_hash(&token))
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        drop(tx);
        let page = render_page(
            &state,
            &token,
            Some("This proposal was already answered or has changed; ask the studio.".into()),
        )
        .await?;
        return Ok((axum::http::StatusCode::CONFLICT, render(&page)).into_response());
    }
    sqlx::query(
        "INSERT INTO notifications (recipient_contributor_id, message, link_url)
         SELECT co.id, $1, $2 FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active WHERE r.name IN ('Owner', 'Sales')",
    )
    .bind(format!("{name} accepted proposal #{build}."))
    .bind(format!("/quotes/{build}"))
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        None,
        "builds.proposal.accept",
        "build",
        Some(build),
        serde_json::json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(render(&render_page(&state, &token, None).await?))
}
