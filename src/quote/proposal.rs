//! The proposal: "Send proposal" freezes the build as a numbered version (configuration, lines
//! and total as the couple sees them), moves the build and the inquiry to Proposal Sent and
//! gives the couple a link to that version, where they can accept it. The couple keeps seeing
//! the version they were sent until the next is sent; an older link says it was replaced and
//! links to the newest. Acceptance locks the build; the studio can take it back (withdraw) to
//! change the quote, then sends a new version.
use super::engine;
use super::pricing::{LineKind, Priced};
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

/// Whom a build's proposal goes to, and what it holds.
#[derive(sqlx::FromRow)]
struct Recipient {
    inquiry_id: i32,
    contact_id: i32,
    email: String,
    first_name: Option<String>,
    /// Coverage lines and films: a proposal needs at least one.
    parts: i64,
}

async fn recipient(tx: &mut PgConnection, build: i32) -> AppResult<Recipient> {
    Ok(sqlx::query_as(
        "SELECT i.id AS inquiry_id, c.id AS contact_id, c.email, c.first_name,
                (SELECT count(*) FROM build_coverage_assignments WHERE build_id = b.id)
                + (SELECT count(*) FROM build_deliverables WHERE build_id = b.id) AS parts
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&mut *tx)
    .await?)
}

/// Send the build's proposal as its next version. Returns the couple's link, the version
/// number and the email to send after the commit.
pub async fn send(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    actor: i32,
) -> AppResult<(String, i32, mail::Outgoing)> {
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
    let sent = freeze(tx, studio, clock, build, Some(actor)).await?;
    let (version, valid_until) = (sent.version, sent.valid_until);
    // The system's own move: a lead not yet sent one (New or Contacted) becomes Proposal Sent.
    crate::crm::transition(tx, to.inquiry_id, crate::crm::Move::ProposalSent, actor).await?;
    let link = format!("{}/proposal/{}", settings.base_url(), sent.token);
    let mail = proposal_mail(studio, &to, sent.total, version, valid_until, &link);
    let outgoing = mail::queue(tx, settings, mail).await?;
    audit::record(
        tx,
        Some(actor),
        "builds.proposal.send",
        "build",
        Some(build),
        serde_json::json!({ "version": version, "total": sent.total }),
    )
    .await?;
    Ok((link, version, outgoing))
}

/// A version just frozen: its link's token, number, total and last day to accept.
pub struct Sent {
    pub token: String,
    pub version: i32,
    pub total: Decimal,
    pub valid_until: NaiveDate,
}

/// Freeze the build as its next proposal version (configuration, lines as the couple sees
/// them, total), with a new link; the build is Proposal Sent and no longer accepted.
pub async fn freeze(
    tx: &mut PgConnection,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    actor: Option<i32>,
) -> AppResult<Sent> {
    let configuration = super::packages::configuration(tx, build).await?;
    let priced = engine::breakdown(tx, studio, build).await?;
    let about = about_lines(tx, build).await?;
    let tax = crate::money::tax(priced.total, studio.tax_rate_percent);
    let token = crypto::random_token();
    let now = clock.now();
    let days = chrono::Days::new(studio.proposal_valid_days.max(1) as u64);
    let valid_until = clock.today(&studio.time_zone) + days;
    let version: i32 = sqlx::query_scalar(
        "INSERT INTO proposal_versions (build_id, version, token_hash, configuration, sections,
                                        total, sent_at, sent_by, valid_until, tax_rate_percent,
                                        tax_amount)
         SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10
         FROM proposal_versions WHERE build_id = $1
         RETURNING version",
    )
    .bind(build)
    .bind(crypto::token_hash(&token))
    .bind(serde_json::to_value(&configuration).map_err(anyhow::Error::from)?)
    .bind(serde_json::to_value(sections(&priced, studio, &about)).map_err(anyhow::Error::from)?)
    .bind(priced.total)
    .bind(now)
    .bind(actor)
    .bind(valid_until)
    .bind(studio.tax_rate_percent)
    .bind(tax)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE builds SET status = $2, proposal_sent_at = $3, accepted_at = NULL,
                accepted_by = NULL, updated_at = $3
         WHERE id = $1",
    )
    .bind(build)
    .bind(BuildStatus::ProposalSent)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(Sent {
        token,
        version,
        total: priced.total,
        valid_until,
    })
}

/// The studio takes the couple's acceptance back to change the quote: the accepted version is
/// marked withdrawn (its link says the proposal is being revised), the build opens again.
pub async fn withdraw(
    tx: &mut PgConnection,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    actor: i32,
) -> AppResult<i32> {
    // An unsigned contract goes with the acceptance; a signed one is refused (409) until a
    // person voids it on its page.
    crate::contract::contracts::on_withdraw(tx, studio, clock, build, actor).await?;
    let version: Option<i32> = sqlx::query_scalar(
        "UPDATE proposal_versions v SET withdrawn_at = $2
         FROM builds b
         WHERE b.id = $1 AND v.build_id = b.id AND b.status = $3
           AND v.accepted_at IS NOT NULL AND v.withdrawn_at IS NULL
         RETURNING v.version",
    )
    .bind(build)
    .bind(clock.now())
    .bind(BuildStatus::ProposalSent)
    .fetch_optional(&mut *tx)
    .await?;
    let version = version.ok_or_else(|| {
        AppError::Conflict("this quote has no accepted proposal to take back".into())
    })?;
    sqlx::query(
        "UPDATE builds SET accepted_at = NULL, accepted_by = NULL, updated_at = $2 WHERE id = $1",
    )
    .bind(build)
    .bind(clock.now())
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        Some(actor),
        "builds.proposal.withdraw",
        "build",
        Some(build),
        serde_json::json!({ "version": version }),
    )
    .await?;
    Ok(version)
}

fn proposal_mail(
    studio: &Studio,
    to: &Recipient,
    total: Decimal,
    version: i32,
    valid_until: NaiveDate,
    link: &str,
) -> mail::Mail {
    let name = &studio.studio_name;
    let price = studio.money(total);
    let until = valid_until.format("%B %-d, %Y");
    mail::Mail {
        to_contact_id: to.contact_id,
        to: to.email.clone(),
        subject: format!("Your wedding film proposal from {name}"),
        body: format!(
            "Hi {},\n\nHere is your proposal ({price}). Have a look, and accept it when you are \
             ready; it is open until {until}:\n\n{link}\n\n{name}",
            to.first_name.clone().unwrap_or_default(),
        ),
        log_summary: format!("Proposal version {version} sent ({price})."),
    }
}

/// A part of the proposal as the couple sees it: (what, quantity, amount) per line, and what
/// each line is in the catalog's words (empty when it says what the line before said).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Section {
    pub title: String,
    pub lines: Vec<(String, String, String)>,
    #[serde(default)]
    pub about: Vec<String>,
}

impl Section {
    /// (what, quantity, amount, about) of each line.
    pub fn rows(&self) -> Vec<(&str, &str, &str, &str)> {
        self.lines
            .iter()
            .enumerate()
            .map(|(i, (what, qty, amount))| {
                let about = self.about.get(i).map_or("", String::as_str);
                (what.as_str(), qty.as_str(), amount.as_str(), about)
            })
            .collect()
    }
}

/// The catalog's couple-facing words for each line of a build, by (table, row): the scene's
/// description for coverage, the film's and its style's for a film, the item's for add-ons.
async fn about_lines(
    conn: &mut PgConnection,
    build: i32,
) -> AppResult<std::collections::HashMap<(i16, i32), String>> {
    let rows: Vec<(i16, i32, Option<String>)> = sqlx::query_as(
        "SELECT 0::int2, a.id, s.description
         FROM build_coverage_assignments a JOIN coverage_scenes s ON s.id = a.coverage_scene_id
         WHERE a.build_id = $1
         UNION ALL
         SELECT 1::int2, c.id, concat_ws(' ', d.description || '.', e.name || ': ' || e.description || '.')
         FROM build_deliverables bd JOIN build_components c ON c.build_deliverable_id = bd.id
         JOIN deliverables d ON d.id = bd.deliverable_id
         JOIN editing_styles e ON e.id = c.editing_style_id
         WHERE bd.build_id = $1
         UNION ALL
         SELECT 2::int2, bi.id, i.description
         FROM build_billable_items bi JOIN billable_items i ON i.id = bi.billable_item_id
         WHERE bi.build_id = $1",
    )
    .bind(build)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(item, id, about)| Some(((item, id), about?.trim().to_string())))
        .collect())
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
    proposal_intro: String,
    proposal_terms: String,
    logo_version: Option<i64>,
}

async fn find(conn: &mut PgConnection, token: &str, latest: bool) -> AppResult<Shown> {
    sqlx::query_as(
        "WITH t AS (SELECT build_id, version FROM proposal_versions WHERE token_hash = $1)
         SELECT v.build_id, v.version, v.sections, v.total, v.valid_until, v.tax_rate_percent,
                v.tax_amount, v.accepted_at,
                v.accepted_by, v.withdrawn_at, v.viewed_at, m.version AS latest, m.sent_at AS latest_sent_at,
                b.status, trim(concat_ws(' ', c.first_name, c.last_name)) AS couple,
                i.wedding_date, i.venue_details, ss.proposal_intro, ss.proposal_terms,
                CASE WHEN ss.logo IS NOT NULL
                     THEN extract(epoch FROM ss.logo_updated_at)::bigint END AS logo_version
         FROM t CROSS JOIN studio_settings ss
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

/// The proposal's lines by section, as the couple sees them (films not included are left out),
/// each with the catalog's words for it.
fn sections(
    priced: &Priced,
    studio: &Studio,
    about: &std::collections::HashMap<(i16, i32), String>,
) -> Vec<Section> {
    use LineKind::*;
    let section = |title: &str, kinds: &[LineKind]| {
        let lines: Vec<_> = priced
            .lines
            .iter()
            .filter(|l| {
                kinds.contains(&l.kind)
                    && !(l.kind == Component && l.amount.is_zero() && l.rule == "not included")
            })
            .collect();
        let mut said = "";
        Section {
            title: title.into(),
            about: lines
                .iter()
                .map(|l| {
                    let table = match l.kind {
                        Coverage => 0,
                        Component => 1,
                        StyleAddOn | AddOn => 2,
                    };
                    let words = l.ref_id.and_then(|id| about.get(&(table, id)));
                    let words = words.map_or("", String::as_str);
                    let new = if words == said { "" } else { words };
                    said = words;
                    new.to_string()
                })
                .collect(),
            lines: lines
                .iter()
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
        }
    };
    vec![
        section("Coverage", &[Coverage]),
        section("Films", &[Component]),
        section("Style and add-ons", &[StyleAddOn, AddOn]),
    ]
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
    let today = clock.today(&studio.time_zone);
    let expired = shown.valid_until < today;
    // The payment schedule the total implies, if the couple booked today.
    let schedule = shown
        .wedding_date
        .map(|w| {
            let days = studio.balance_due_days_before_wedding;
            let (rate, deposit) = (shown.tax_rate_percent, studio.deposit_percent);
            crate::money::schedule(shown.total, rate, deposit, today, w, days)
        })
        .unwrap_or_default()
        .into_iter()
        .map(|i| {
            let when = if i.due == today {
                "when you book".to_string()
            } else {
                format!("by {}", i.due.format("%B %-d, %Y"))
            };
            let what = if i.description == "Deposit" {
                format!("Deposit ({}%)", studio.deposit_percent.normalize())
            } else {
                i.description.to_string()
            };
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
        logo: shown.logo_version.map(|v| format!("/brand/logo?v={v}")),
        intro: crate::contract::text::to_html(&shown.proposal_intro, 2),
        terms: crate::contract::text::to_html(&shown.proposal_terms, 2),
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
        mails.send();
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
        mails.send();
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
