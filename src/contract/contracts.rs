//! Contracts: rendered from the accepted proposal version when the couple accepts it, signed
//! by each partner by their own link, then countersigned by the studio. The text is locked from
//! the first signature (the database refuses a change too); once everyone signed, the PDF is
//! stored with the inquiry's documents. Every function works in the caller's transaction. The
//! text itself is `rendering`, the signatures `signatures`, the audit trail and PDF `trail`.
use super::rendering::{render, template};
use super::text;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, FieldError};
use crate::studio::Studio;
use crate::{audit, crypto, mail};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A contract as stored.
#[derive(sqlx::FromRow, Clone)]
pub struct Contract {
    pub id: i32,
    pub build_id: i32,
    pub proposal_version: i32,
    pub template_id: Option<i32>,
    pub body: String,
    pub text_sha256: String,
    pub created_at: DateTime<Utc>,
    pub locked_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub document_id: Option<i32>,
    /// Why the last signature did not book the quote by itself, when it could not.
    pub auto_book_note: Option<String>,
}

pub(super) const CONTRACT_COLUMNS: &str = "id, build_id, proposal_version, template_id, body,
    text_sha256, created_at, locked_at, voided_at, void_reason, document_id, auto_book_note";

/// Someone who signs for the couple.
#[derive(sqlx::FromRow, Clone)]
pub struct Signer {
    pub id: i32,
    pub contract_id: i32,
    pub position: i32,
    pub name: String,
    pub email: String,
    pub link_sent_at: DateTime<Utc>,
}

/// A signature, as the audit trail shows it.
#[derive(sqlx::FromRow, Clone)]
pub struct Signature {
    pub id: i32,
    pub role: String,
    pub signer_id: Option<i32>,
    pub signer_name: String,
    pub email: String,
    pub consent: bool,
    pub signed_at: DateTime<Utc>,
    pub ip: String,
    pub user_agent: String,
    pub text_sha256: String,
}

/// A contract with its signers and signatures (in the order they signed).
pub struct Full {
    pub contract: Contract,
    pub signers: Vec<Signer>,
    pub signatures: Vec<Signature>,
}

/// Where a contract stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    AwaitingSignatures,
    AwaitingCountersignature,
    FullySigned,
    Void,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::AwaitingSignatures => "Awaiting signatures",
            Stage::AwaitingCountersignature => "Awaiting the studio's countersignature",
            Stage::FullySigned => "Fully signed",
            Stage::Void => "Void",
        }
    }
}

impl Full {
    /// The couple signer's signature, if they signed.
    pub fn signature_of(&self, signer: i32) -> Option<&Signature> {
        self.signatures.iter().find(|s| s.signer_id == Some(signer))
    }

    pub fn studio_signature(&self) -> Option<&Signature> {
        self.signatures.iter().find(|s| s.role == "studio")
    }

    /// The couple signers who have not signed yet.
    pub fn waiting(&self) -> Vec<&Signer> {
        self.signers
            .iter()
            .filter(|s| self.signature_of(s.id).is_none())
            .collect()
    }

    pub fn stage(&self) -> Stage {
        if self.contract.voided_at.is_some() {
            Stage::Void
        } else if !self.waiting().is_empty() {
            Stage::AwaitingSignatures
        } else if self.studio_signature().is_none() {
            Stage::AwaitingCountersignature
        } else {
            Stage::FullySigned
        }
    }
}

/// A signing link just made, to email after the commit.
pub struct Invite {
    pub signer_id: i32,
    pub name: String,
    pub email: String,
    /// The couple's contact (the communications log keeps the email there).
    pub contact_id: i32,
    pub token: String,
}

/// The email that carries a signer's link.
pub fn invite_mail(studio: &Studio, invite: &Invite, link: &str) -> mail::Mail {
    let studio_name = &studio.studio_name;
    let first = invite.name.split_whitespace().next().unwrap_or_default();
    mail::Mail {
        to_contact_id: invite.contact_id,
        to: invite.email.clone(),
        subject: format!("Your contract with {studio_name} is ready to sign"),
        body: format!(
            "Hi {first},\n\nYour wedding film contract with {studio_name} is ready. Read it and \
             sign it here (this link is yours alone; your partner gets their own):\n\n{link}\n\n\
             {studio_name}"
        ),
        log_summary: format!("Contract signing link sent to {}.", invite.name),
    }
}

/// The link a signer opens.
pub fn signing_link(base_url: &str, token: &str) -> String {
    format!("{base_url}/contract/{token}")
}

/// A new signer's row and link.
async fn add_signer(
    tx: &mut PgConnection,
    clock: &Clock,
    contract: i32,
    position: i32,
    name: &str,
    email: &str,
    contact_id: i32,
) -> AppResult<Invite> {
    let token = crypto::random_token();
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO contract_signers (contract_id, position, name, email, contact_id, token_hash,
                                       link_sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(contract)
    .bind(position)
    .bind(name)
    .bind(email)
    .bind(contact_id)
    .bind(crypto::token_hash(&token))
    .bind(clock.now())
    .fetch_one(&mut *tx)
    .await?;
    Ok(Invite {
        signer_id: id,
        name: name.into(),
        email: email.into(),
        contact_id,
        token,
    })
}

/// The couple of a build: their contact, name and email.
#[derive(sqlx::FromRow)]
struct Couple {
    contact_id: i32,
    name: String,
    email: String,
}

async fn couple(tx: &mut PgConnection, build: i32) -> AppResult<Couple> {
    Ok(sqlx::query_as(
        "SELECT c.id AS contact_id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name,
                c.email
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&mut *tx)
    .await?)
}

/// The couple accepted `version` of the build's proposal (the caller holds the build's lock):
/// the contract is rendered from that version with the template in use and stored with the
/// SHA-256 of its text; the inquiry's contact is its first signer. Returns their link to
/// email. A contract still in force for the build is replaced when nobody signed it yet
/// (409 otherwise).
pub async fn create(
    tx: &mut PgConnection,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    version: i32,
    actor: Option<i32>,
) -> AppResult<Invite> {
    if let Some(live) = lock_live(tx, build).await? {
        if live.locked_at.is_some() {
            return Err(AppError::Conflict(
                "this quote's contract is already signed; void it first".into(),
            ));
        }
        void_row(tx, clock, &live, "Replaced by a new contract.", actor).await?;
    }
    let (template_id, template) = template(tx).await?;
    let couple = couple(tx, build).await?;
    let body = render(
        tx,
        studio,
        build,
        version,
        &template,
        std::slice::from_ref(&couple.name),
    )
    .await?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO contracts (build_id, proposal_version, template_id, body, text_sha256,
                                created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(build)
    .bind(version)
    .bind(template_id)
    .bind(&body)
    .bind(text::sha256_hex(&body))
    .bind(clock.now())
    .fetch_one(&mut *tx)
    .await?;
    let invite = add_signer(
        tx,
        clock,
        id,
        1,
        &couple.name,
        &couple.email,
        couple.contact_id,
    )
    .await?;
    audit::record(
        tx,
        actor,
        "contracts.create",
        "build",
        Some(build),
        serde_json::json!({ "contract": id, "version": version, "sha256": text::sha256_hex(&body) }),
    )
    .await?;
    Ok(invite)
}

/// The build's contract in force, locked for a change.
pub(super) async fn lock_live(tx: &mut PgConnection, build: i32) -> AppResult<Option<Contract>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE build_id = $1 AND voided_at IS NULL
         FOR UPDATE"
    ))
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?)
}

async fn void_row(
    tx: &mut PgConnection,
    clock: &Clock,
    contract: &Contract,
    reason: &str,
    actor: Option<i32>,
) -> AppResult<()> {
    sqlx::query("UPDATE contracts SET voided_at = $2, void_reason = $3 WHERE id = $1")
        .bind(contract.id)
        .bind(clock.now())
        .bind(reason)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        actor,
        "contracts.void",
        "build",
        Some(contract.build_id),
        serde_json::json!({ "contract": contract.id, "reason": reason }),
    )
    .await?;
    Ok(())
}

/// Who signed so far, for a refusal: "Sofia Garcia signed on Jun 10, 2026".
async fn signed_so_far(tx: &mut PgConnection, studio: &Studio, contract: i32) -> AppResult<String> {
    let rows: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT signer_name, signed_at FROM contract_signatures WHERE contract_id = $1
         ORDER BY signed_at, id",
    )
    .bind(contract)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .iter()
        .map(|(n, at)| format!("{n} signed on {}", studio.day(at)))
        .collect::<Vec<_>>()
        .join(", "))
}

/// The studio takes the couple's acceptance back (`quote::proposal::withdraw`): an unsigned
/// contract is voided with it; a signed one is never dropped silently, so the withdrawal is
/// refused (409) until a person voids the contract on its page, where the void stays visible.
pub async fn on_withdraw(
    tx: &mut PgConnection,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    actor: i32,
) -> AppResult<()> {
    let Some(live) = lock_live(tx, build).await? else {
        return Ok(());
    };
    if live.locked_at.is_some() {
        let who = signed_so_far(tx, studio, live.id).await?;
        return Err(AppError::Conflict(format!(
            "The contract is signed ({who}), so the acceptance cannot be taken back: void the \
             contract on its page first; it stays on record as void."
        )));
    }
    void_row(
        tx,
        clock,
        &live,
        "The studio took the acceptance back to change the quote.",
        Some(actor),
    )
    .await
}

/// Void the build's contract in force, with the reason (shown on the contract and in its
/// PDF). A fully signed contract cannot be voided (409): changes go through a change order.
pub async fn void(
    tx: &mut PgConnection,
    clock: &Clock,
    build: i32,
    reason: &str,
    actor: i32,
) -> AppResult<()> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::field(
            "reason",
            "say why the contract is void (at most 1,000 characters)",
        ));
    }
    let live = lock_live(tx, build)
        .await?
        .ok_or_else(|| AppError::Conflict("this quote has no contract in force".into()))?;
    if fully_signed(tx, build).await? {
        return Err(AppError::Conflict(
            "The contract is fully signed and cannot be voided; changes go through a change order."
                .into(),
        ));
    }
    void_row(tx, clock, &live, reason, Some(actor)).await
}

/// Make the contract again from the version the couple accepted, after the last one was
/// voided (409 when one is in force or no acceptance stands).
pub async fn recreate(
    tx: &mut PgConnection,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    actor: i32,
) -> AppResult<Invite> {
    sqlx::query("SELECT 1 FROM builds WHERE id = $1 FOR UPDATE")
        .bind(build)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("quote {build}")))?;
    if lock_live(tx, build).await?.is_some() {
        return Err(AppError::Conflict(
            "this quote already has a contract in force".into(),
        ));
    }
    let version: Option<i32> = sqlx::query_scalar(
        "SELECT version FROM proposal_versions
         WHERE build_id = $1 AND accepted_at IS NOT NULL AND withdrawn_at IS NULL
         ORDER BY version DESC LIMIT 1",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?;
    let version = version.ok_or_else(|| {
        AppError::Conflict("the couple has not accepted a proposal for this quote".into())
    })?;
    create(tx, studio, clock, build, version, Some(actor)).await
}

/// A second partner (name and email) signs too: added before the first signature (409 after,
/// or when there are two already); the text is rendered again with both names. Returns their
/// link to email.
pub async fn add_partner(
    tx: &mut PgConnection,
    studio: &Studio,
    clock: &Clock,
    build: i32,
    name: &str,
    email: &str,
    actor: i32,
) -> AppResult<Invite> {
    let (name, email) = (name.trim(), email.trim());
    let mut errors = vec![];
    if name.is_empty() || name.chars().count() > 255 {
        errors.push(FieldError {
            field: "partner_name".into(),
            message: "type the partner's full name".into(),
        });
    }
    let at = email.find('@');
    if email.len() > 255 || !at.is_some_and(|i| i > 0 && i + 1 < email.len()) {
        errors.push(FieldError {
            field: "partner_email".into(),
            message: "type an email address such as name@example.com".into(),
        });
    }
    if !errors.is_empty() {
        return Err(AppError::Validation {
            message: "The partner is not added: see the fields below.".into(),
            errors,
        });
    }
    let live = lock_live(tx, build)
        .await?
        .ok_or_else(|| AppError::Conflict("this quote has no contract yet".into()))?;
    if live.locked_at.is_some() {
        let who = signed_so_far(tx, studio, live.id).await?;
        return Err(AppError::Conflict(format!(
            "The contract is signed ({who}), so its signers cannot change any more."
        )));
    }
    let signers: Vec<Signer> = signers(tx, &[live.id]).await?;
    if signers.len() >= 2 {
        return Err(AppError::Conflict(
            "The contract has two signers already.".into(),
        ));
    }
    if signers.iter().any(|s| s.email.eq_ignore_ascii_case(email)) {
        return Err(AppError::field(
            "partner_email",
            "each partner signs with their own email address",
        ));
    }
    let couple = couple(tx, build).await?;
    let invite = add_signer(tx, clock, live.id, 2, name, email, couple.contact_id).await?;
    let mut all: Vec<String> = signers.into_iter().map(|s| s.name).collect();
    all.push(name.to_string());
    let template = match live.template_id {
        Some(t) => {
            sqlx::query_scalar("SELECT body FROM contract_templates WHERE id = $1")
                .bind(t)
                .fetch_one(&mut *tx)
                .await?
        }
        None => template(tx).await?.1,
    };
    let body = render(tx, studio, build, live.proposal_version, &template, &all).await?;
    sqlx::query("UPDATE contracts SET body = $2, text_sha256 = $3 WHERE id = $1")
        .bind(live.id)
        .bind(&body)
        .bind(text::sha256_hex(&body))
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        Some(actor),
        "contracts.signer.add",
        "build",
        Some(build),
        serde_json::json!({ "contract": live.id, "name": name, "email": email,
                            "sha256": text::sha256_hex(&body) }),
    )
    .await?;
    Ok(invite)
}

/// A new link for a signer who has not signed (the old one stops working).
pub async fn resend(
    tx: &mut PgConnection,
    clock: &Clock,
    build: i32,
    signer: i32,
    actor: i32,
) -> AppResult<Invite> {
    let live = lock_live(tx, build)
        .await?
        .ok_or_else(|| AppError::Conflict("this quote has no contract in force".into()))?;
    let token = crypto::random_token();
    let found: Option<(String, String, Option<i32>, bool)> = sqlx::query_as(
        "UPDATE contract_signers g SET token_hash = $3, link_sent_at = $4
         WHERE g.id = $2 AND g.contract_id = $1
         RETURNING g.name, g.email, g.contact_id,
                   EXISTS (SELECT 1 FROM contract_signatures s WHERE s.signer_id = g.id)",
    )
    .bind(live.id)
    .bind(signer)
    .bind(crypto::token_hash(&token))
    .bind(clock.now())
    .fetch_optional(&mut *tx)
    .await?;
    let (name, email, contact, signed) = found.ok_or_else(|| AppError::not_found("signer"))?;
    if signed {
        return Err(AppError::Conflict(format!("{name} has signed already.")));
    }
    let contact_id = match contact {
        Some(c) => c,
        None => couple(tx, build).await?.contact_id,
    };
    audit::record(
        tx,
        Some(actor),
        "contracts.signer.resend",
        "build",
        Some(build),
        serde_json::json!({ "contract": live.id, "name": name, "email": email }),
    )
    .await?;
    Ok(Invite {
        signer_id: signer,
        name,
        email,
        contact_id,
        token,
    })
}

pub(super) async fn signers(conn: &mut PgConnection, contracts: &[i32]) -> AppResult<Vec<Signer>> {
    Ok(sqlx::query_as(
        "SELECT id, contract_id, position, name, email, link_sent_at FROM contract_signers
         WHERE contract_id = ANY($1) ORDER BY contract_id, position",
    )
    .bind(contracts)
    .fetch_all(conn)
    .await?)
}

pub(super) async fn signatures(
    conn: &mut PgConnection,
    contracts: &[i32],
) -> AppResult<Vec<(i32, Signature)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        contract_id: i32,
        #[sqlx(flatten)]
        s: Signature,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT contract_id, id, role, signer_id, signer_name, email, consent, signed_at, ip,
                user_agent, text_sha256
         FROM contract_signatures WHERE contract_id = ANY($1) ORDER BY signed_at, id",
    )
    .bind(contracts)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.contract_id, r.s)).collect())
}

/// The build's contracts, the one in force (if any) first, then the void ones, newest first;
/// each with its signers and signatures (three queries).
pub async fn of_build(conn: &mut PgConnection, build: i32) -> AppResult<Vec<Full>> {
    let contracts: Vec<Contract> = sqlx::query_as(&format!(
        "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE build_id = $1
         ORDER BY voided_at IS NOT NULL, id DESC LIMIT 50"
    ))
    .bind(build)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i32> = contracts.iter().map(|c| c.id).collect();
    let mut all_signers = signers(conn, &ids).await?;
    let mut all_signatures = signatures(conn, &ids).await?;
    Ok(contracts
        .into_iter()
        .map(|contract| {
            let id = contract.id;
            let (signers, rest): (Vec<Signer>, Vec<Signer>) =
                all_signers.drain(..).partition(|s| s.contract_id == id);
            all_signers = rest;
            let (mine, rest): (Vec<_>, Vec<_>) = all_signatures.drain(..).partition(|s| s.0 == id);
            all_signatures = rest;
            Full {
                contract,
                signers,
                signatures: mine.into_iter().map(|s| s.1).collect(),
            }
        })
        .collect())
}

/// Whether the build's contract in force is fully signed: every couple signer and the studio.
/// (Booking may call this to book once the contract is signed.)
pub async fn fully_signed(tx: &mut PgConnection, build: i32) -> AppResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (
           SELECT 1 FROM contracts k WHERE k.build_id = $1 AND k.voided_at IS NULL
             AND EXISTS (SELECT 1 FROM contract_signatures s
                         WHERE s.contract_id = k.id AND s.role = 'studio')
             AND NOT EXISTS (SELECT 1 FROM contract_signers g WHERE g.contract_id = k.id
                               AND NOT EXISTS (SELECT 1 FROM contract_signatures s
                                               WHERE s.signer_id = g.id)))",
    )
    .bind(build)
    .fetch_one(tx)
    .await?)
}

/// Where the build's contract in force stands (None without one): one query, for the pages
/// that link to it.
pub async fn stage_of(conn: &mut PgConnection, build: i32) -> AppResult<Option<Stage>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT (SELECT count(*) FROM contract_signers g WHERE g.contract_id = k.id
                   AND NOT EXISTS (SELECT 1 FROM contract_signatures s WHERE s.signer_id = g.id)),
                (SELECT count(*) FROM contract_signatures s
                 WHERE s.contract_id = k.id AND s.role = 'studio')
         FROM contracts k WHERE k.build_id = $1 AND k.voided_at IS NULL",
    )
    .bind(build)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(waiting, studio)| match (waiting, studio) {
        (w, _) if w > 0 => Stage::AwaitingSignatures,
        (_, 0) => Stage::AwaitingCountersignature,
        _ => Stage::FullySigned,
    }))
}
