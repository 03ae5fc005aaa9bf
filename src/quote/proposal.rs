//! The proposal: "Send proposal" freezes the build as a numbered version (configuration, lines
//! in the catalog's words, total and tax as the couple sees them), moves the build and the
//! inquiry to Proposal Sent and gives the couple a link to that version (`proposal_page`), where
//! they can accept it. The couple keeps seeing the version they were sent until the next is
//! sent. Acceptance locks the build; the studio can take it back (withdraw) to change the
//! quote, then sends a new version.
use super::engine;
use super::pricing::{LineKind, Priced};
use super::status::BuildStatus;
use crate::clock::Clock;
use crate::config::Settings;
use crate::http::{AppError, AppResult};
use crate::studio::Studio;
use crate::{audit, crypto, mail};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;

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
    let (inquiry, sent_at) = (to.inquiry_id, clock.now());
    crate::crm::transition(tx, inquiry, crate::crm::Move::ProposalSent, actor, sent_at).await?;
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
    let tax = crate::money::tax(priced.taxable, studio.tax_rate_percent);
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
                        // Tax is on the taxable lines only: say which are not.
                        if l.taxable || studio.tax_rate_percent.is_zero() {
                            l.description.clone()
                        } else {
                            format!("{} (no tax)", l.description)
                        },
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
