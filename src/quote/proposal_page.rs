//! The proposal as the couple opens it (`/proposal/{token}`): the version their link names, or
//! the newest when the link is older; the first view is told to the studio; acceptance of the
//! version seen, which makes the contract and sends the first signing link.
use super::proposal::Section;
use super::status::BuildStatus;
use crate::auth::{self, Access};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult};
use crate::notify::{self, Kind, Mails};
use crate::studio::Studio;
use crate::{audit, crypto, mail};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/proposal/{token}", Access::Public, page)
        .get("/proposal/{token}/latest", Access::Public, latest)
        .post("/proposal/{token}/accept", Access::Public, accept)
}

#[derive(Template)]
#[template(path = "quote/proposal.html")]
struct ProposalPage {
    studio: String,
    couple: String,
    wedding: Option<NaiveDate>,
    venue: Option<String>,
    version: i32,
    sections: Vec<Section>,
    /// The price before tax, the tax (rate, amount) when the studio charges one, and the total.
    subtotal: String,
    tax: Option<(String, String)>,
    total: String,
    /// The studio's logo (its address, versioned), welcome and terms (HTML from their text).
    logo: Option<String>,
    intro: String,
    terms: String,
    /// The last day it can be accepted.
    valid_until: NaiveDate,
    /// The payments the total implies: (what, amount, when).
    schedule: Vec<(String, String, String)>,
    /// (the studio's local date, who) of the acceptance.
    accepted: Option<(String, String)>,
    /// The newer version that replaced this one, and the day it was sent.
    replaced_by: Option<(i32, String)>,
    withdrawn: bool,
    expired: bool,
    open: bool,
    token: String,
    error: Option<String>,
    /// The quote, and whether the couple opened this version before (not shown).
    build_id: i32,
    viewed: bool,
}

/// A version of a proposal, opened by its link (or, with `latest`, the newest version of the
/// same quote).
#[derive(sqlx::FromRow)]
struct Shown {
    build_id: i32,
    version: i32,
    sections: sqlx::types::Json<Vec<Section>>,
    total: Decimal,
    valid_until: NaiveDate,
    tax_rate_percent: Decimal,
    tax_amount: Decimal,
    accepted_at: Option<DateTime<Utc>>,
    accepted_by: Option<String>,
    withdrawn_at: Option<DateTime<Utc>>,
    viewed_at: Option<DateTime<Utc>>,
    latest: i32,
    latest_sent_at: DateTime<Utc>,
    status: BuildStatus,
    couple: String,
    wedding_date: Option<NaiveDate>,
    venue_details: Option<String>,
}

async fn find(conn: &mut PgConnection, token: &str, latest: bool) -> AppResult<Shown> {
    sqlx::query_as(
        "WITH t AS (SELECT build_id, version FROM proposal_versions WHERE token_hash = $1)
         SELECT v.build_id, v.version, v.sections, v.total, v.valid_until, v.tax_rate_percent,
                v.tax_amount, v.accepted_at,
                v.accepted_by, v.withdrawn_at, v.viewed_at, m.version AS latest, m.sent_at AS latest_sent_at,
                b.status, trim(concat_ws(' ', c.first_name, c.last_name)) AS couple,
                i.wedding_date, i.venue_details
         FROM t
         CROSS JOIN LATERAL (SELECT version, sent_at FROM proposal_versions
                             WHERE build_id = t.build_id ORDER BY version DESC LIMIT 1) m
         JOIN proposal_versions v
           ON v.build_id = t.build_id AND v.version = CASE WHEN $2 THEN m.version ELSE t.version END
         JOIN builds b ON b.id = t.build_id JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id",
    )
    .bind(crypto::token_hash(token))
    .bind(latest)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| {
        AppError::NotFound("This proposal link is not valid. Ask the studio for a new one.".into())
    })
}

async fn render_page(
    db: &mut PgConnection,
    clock: &Clock,
    token: &str,
    latest: bool,
    error: Option<String>,
) -> AppResult<ProposalPage> {
    let shown = find(db, token, latest).await?;
    let studio = Studio::load(db).await?;
    let brand = super::proposal_settings::load(db).await?;
    let today = clock.today(&studio.time_zone);
    let expired = shown.valid_until < today;
    // The payment schedule the total implies, if the couple booked today.
    let template = crate::payment_schedules::of_build(db, shown.build_id).await?;
    let schedule = shown
        .wedding_date
        .map(|w| {
            let tax = shown.tax_amount;
            crate::schedule::instalments(&template.parts, shown.total, tax, today, w)
        })
        .unwrap_or_default()
        .into_iter()
        .map(|i| {
            let when = if i.due == today {
                "when you book".to_string()
            } else {
                format!("by {}", i.due.format("%B %-d, %Y"))
            };
            let what = crate::schedule::label(&template.parts, &i);
            (what, studio.money(i.total()), when)
        })
        .collect();
    let withdrawn = shown.withdrawn_at.is_some();
    let accepted = shown.accepted_at.filter(|_| !withdrawn).map(|a| {
        (
            studio.day(&a),
            shown.accepted_by.clone().unwrap_or_default(),
        )
    });
    let replaced_by =
        (shown.latest > shown.version).then(|| (shown.latest, studio.day(&shown.latest_sent_at)));
    Ok(ProposalPage {
        sections: shown.sections.0,
        subtotal: studio.money(shown.total),
        tax: (!shown.tax_rate_percent.is_zero()).then(|| {
            let rate = shown.tax_rate_percent.normalize().to_string();
            (rate, studio.money(shown.tax_amount))
        }),
        total: studio.money(shown.total + shown.tax_amount),
        logo: brand.logo,
        intro: crate::contract::text::to_html(&brand.intro, 2),
        terms: crate::contract::text::to_html(&brand.terms, 2),
        studio: studio.studio_name,
        couple: shown.couple,
        wedding: shown.wedding_date,
        schedule,
        venue: shown.venue_details,
        version: shown.version,
        valid_until: shown.valid_until,
        accepted,
        open: shown.status == BuildStatus::ProposalSent
            && shown.accepted_at.is_none()
            && replaced_by.is_none()
            && !expired,
        replaced_by,
        withdrawn,
        expired,
        token: token.to_string(),
        error,
        build_id: shown.build_id,
        viewed: shown.viewed_at.is_some(),
    })
}

async fn page(
    State(state): State<AppState>,
    mut db: Db,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    show(&state, &mut db, &headers, &token, false).await
}

/// The newest version of the quote an older link belongs to.
async fn latest(
    State(state): State<AppState>,
    mut db: Db,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    show(&state, &mut db, &headers, &token, true).await
}

/// The version the link shows; the first time the couple opens it, the studio is told. A
/// logged-in staff member (their session cookie or token came with the request) opening the
/// link does not count.
async fn show(
    state: &AppState,
    db: &mut Db,
    headers: &HeaderMap,
    token: &str,
    latest: bool,
) -> AppResult<Response> {
    let page = render_page(db, &state.clock, token, latest, None).await?;
    if !page.viewed
        && auth::authenticate_staff(db, &state.settings, headers)
            .await?
            .is_none()
    {
        let mut tx = db.begin().await?;
        let mails = record_view(&mut tx, &state.settings, &state.clock, &page).await?;
        tx.commit().await?;
        mails.send(&state.db, &state.clock);
    }
    Ok(render(&page))
}

/// The couple opened this version: the first time (once per version, whatever requests run at
/// once), mark it viewed and tell Owners and Sales, in the caller's transaction.
async fn record_view(
    tx: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
    page: &ProposalPage,
) -> AppResult<Mails> {
    let now = clock.now();
    let first: Option<i32> = sqlx::query_scalar(
        "UPDATE proposal_versions SET viewed_at = $3
         WHERE build_id = $1 AND version = $2 AND viewed_at IS NULL RETURNING version",
    )
    .bind(page.build_id)
    .bind(page.version)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    match first {
        Some(version) => {
            notify_viewed(tx, settings, now, &page.couple, page.build_id, version).await
        }
        None => Ok(Mails::default()),
    }
}

/// Tell Owners and Sales that the couple opened version `version` of the proposal of `build`.
pub async fn notify_viewed(
    tx: &mut PgConnection,
    settings: &Settings,
    now: DateTime<Utc>,
    couple: &str,
    build: i32,
    version: i32,
) -> AppResult<Mails> {
    let who = match couple.trim() {
        "" => "The couple",
        name => name,
    };
    let message = format!("{who} opened proposal #{build} (version {version}).");
    notify_sales(tx, settings, now, Kind::ProposalViewed, &message, build).await
}

/// Tell Owners and Sales that `name` accepted the proposal of `build`.
pub async fn notify_accepted(
    tx: &mut PgConnection,
    settings: &Settings,
    now: DateTime<Utc>,
    name: &str,
    build: i32,
) -> AppResult<Mails> {
    let message = format!("{name} accepted proposal #{build}.");
    notify_sales(tx, settings, now, Kind::ProposalAccepted, &message, build).await
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    name: String,
    /// The version the couple was looking at: only that one is accepted.
    #[serde(default)]
    version: String,
}

/// The couple accepts the version they saw: recorded with their typed name, and the studio is
/// told; the page then opens at the confirmation. A refusal (no name: 422; replaced, expired or
/// already answered: 409) shows the proposal again with the reason by the form.
async fn accept(
    State(state): State<AppState>,
    mut db: Db,
    Path(token): Path<String>,
    Form(f): Form<AcceptForm>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        let studio = Studio::load(&mut tx).await?;
        let (latest, mails) =
            record_acceptance(&mut tx, &state.settings, &state.clock, &studio, &token, &f).await?;
        tx.commit().await?;
        mails.send(&state.db, &state.clock);
        Ok(latest)
    }
    .await;
    match result {
        Ok(latest) => {
            let to = if latest {
                format!("/proposal/{token}/latest#accepted")
            } else {
                format!("/proposal/{token}#accepted")
            };
            Ok(axum::response::Redirect::to(&to).into_response())
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = render_page(
                &mut db,
                &state.clock,
                &token,
                false,
                refusal.message.clone(),
            )
            .await?;
            Ok(refusal.respond(render(&page)))
        }
    }
}

/// What decides whether a version can still be accepted.
#[derive(sqlx::FromRow)]
struct Answerable {
    latest: i32,
    valid_until: NaiveDate,
    accepted_at: Option<DateTime<Utc>>,
    withdrawn_at: Option<DateTime<Utc>>,
}

/// Accept the version the couple saw, in the typed name, and tell Owners and Sales; the
/// contract is rendered from that version (`contract::contracts::create`). Returns whether the
/// link is older than the version accepted (then the page to show is `latest`) and the emails
/// (the first signer's link among them) to send after the commit.
async fn record_acceptance(
    tx: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
    studio: &Studio,
    token: &str,
    f: &AcceptForm,
) -> AppResult<(bool, Mails)> {
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AppError::Validation {
            message: "Please type your full name to accept.".into(),
            errors: vec![],
        });
    }
    let shown = find(tx, token, false).await?;
    let version: i32 = match f.version.trim() {
        "" => shown.version,
        v => v
            .parse()
            .map_err(|_| AppError::field("version", "is not a version number"))?,
    };
    // The build first, as sending a new version does: the two wait for each other.
    let status = super::builds::lock_row(tx, shown.build_id).await?;
    let v: Option<Answerable> = sqlx::query_as(
        "SELECT (SELECT max(version) FROM proposal_versions WHERE build_id = $1) AS latest,
                valid_until, accepted_at, withdrawn_at
         FROM proposal_versions WHERE build_id = $1 AND version = $2",
    )
    .bind(shown.build_id)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(Answerable {
        latest,
        valid_until,
        accepted_at,
        withdrawn_at,
    }) = v
    else {
        return Err(AppError::Conflict(
            "This version of the proposal does not exist.".into(),
        ));
    };
    let refuse = |m: String| Err(AppError::Conflict(m));
    if latest > version {
        return refuse(format!(
            "This proposal was replaced by version {latest}: please look at the new one."
        ));
    }
    if accepted_at.is_some() && withdrawn_at.is_none() {
        return refuse("This proposal is already accepted.".into());
    }
    if withdrawn_at.is_some() || status != BuildStatus::ProposalSent {
        return refuse(
            "The studio is revising this proposal; they will send you the new version.".into(),
        );
    }
    if valid_until < clock.today(&studio.time_zone) {
        return refuse(format!(
            "This proposal could be accepted until {}; ask the studio for a new one.",
            valid_until.format("%B %-d, %Y")
        ));
    }
    let now = clock.now();
    sqlx::query("UPDATE proposal_versions SET accepted_at = $3, accepted_by = $4 WHERE build_id = $1 AND version = $2")
        .bind(shown.build_id)
        .bind(version)
        .bind(now)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE builds SET accepted_at = $2, accepted_by = $3, updated_at = $2 WHERE id = $1",
    )
    .bind(shown.build_id)
    .bind(now)
    .bind(name)
    .execute(&mut *tx)
    .await?;
    let mut mails = notify_accepted(tx, settings, now, name, shown.build_id).await?;
    audit::record(
        tx,
        None,
        "builds.proposal.accept",
        "build",
        Some(shown.build_id),
        serde_json::json!({ "name": name, "version": version }),
    )
    .await?;
    let invite =
        crate::contract::contracts::create(tx, studio, clock, shown.build_id, version, None)
            .await?;
    let link = crate::contract::contracts::signing_link(&settings.base_url(), &invite.token);
    let mail = crate::contract::contracts::invite_mail(studio, &invite, &link);
    mails.push(mail::queue(tx, settings, mail).await?);
    Ok((version > shown.version, mails))
}

/// A notification for every active Owner and Sales login, linking to the quote.
async fn notify_sales(
    tx: &mut PgConnection,
    settings: &Settings,
    now: DateTime<Utc>,
    kind: Kind,
    message: &str,
    build: i32,
) -> AppResult<Mails> {
    let link = format!("/quotes/{build}");
    notify::staff(tx, settings, now, kind, &["Owner", "Sales"], message, &link).await
}
