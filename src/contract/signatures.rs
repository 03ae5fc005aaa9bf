//! Signatures: each partner signs (by their own link or their portal login), then the studio
//! countersigns; every signature keeps the typed name, the consent, the time, the address, the
//! browser and the SHA-256 of the text signed. The first one locks the text. Every function
//! works in the caller's transaction.
use super::contracts::{
    CONTRACT_COLUMNS, Contract, Full, Signer, lock_live, of_build, signatures, signers,
};
use super::rendering::names;
use super::trail::pdf_of;
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{AppError, AppResult, FieldError};
use crate::notify::{self, Kind, Mails};
use crate::studio::Studio;
use crate::{audit, crypto};
use serde::Deserialize;
use sqlx::PgConnection;
use std::path::Path;
/// A signature as typed on a signing form.
#[derive(Deserialize, Default, Clone)]
pub struct SignForm {
    #[serde(default)]
    pub name: String,
    /// "yes" when the "I agree to sign electronically" box is ticked.
    #[serde(default)]
    pub consent: String,
    /// The SHA-256 of the text the signer was shown.
    #[serde(default)]
    pub text_sha256: String,
}

/// Where a signature came from.
pub struct Origin {
    pub ip: String,
    pub user_agent: String,
}

/// The typed name, or 422 with each problem by its field.
fn check(f: &SignForm) -> AppResult<String> {
    let name = f.name.trim();
    let mut errors = vec![];
    if name.is_empty() || name.chars().count() > 255 {
        errors.push(FieldError {
            field: "name".into(),
            message: "type your full name to sign".into(),
        });
    }
    if f.consent != "yes" {
        errors.push(FieldError {
            field: "consent".into(),
            message: "tick the box to agree to sign electronically".into(),
        });
    }
    if errors.is_empty() {
        Ok(name.to_string())
    } else {
        Err(AppError::Validation {
            message: "Not signed: see below.".into(),
            errors,
        })
    }
}

/// The text shown must be the text in force (409 when it changed since the page was opened).
fn same_text(contract: &Contract, f: &SignForm) -> AppResult<()> {
    let shown = f.text_sha256.trim();
    if !shown.is_empty() && shown != contract.text_sha256.trim() {
        return Err(AppError::Conflict(
            "The contract changed since you opened it: read it again, then sign.".into(),
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_signature(
    tx: &mut PgConnection,
    clock: &Clock,
    contract: &Contract,
    role: &str,
    signer: Option<i32>,
    contributor: Option<i32>,
    name: &str,
    email: &str,
    origin: &Origin,
) -> AppResult<()> {
    let now = clock.now();
    let ua: String = origin.user_agent.chars().take(1000).collect();
    let ip: String = origin.ip.chars().take(64).collect();
    sqlx::query(
        "INSERT INTO contract_signatures (contract_id, role, signer_id, contributor_id,
             signer_name, email, consent, signed_at, ip, user_agent, text_sha256)
         VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8, $9, $10)",
    )
    .bind(contract.id)
    .bind(role)
    .bind(signer)
    .bind(contributor)
    .bind(name)
    .bind(email)
    .bind(now)
    .bind(&ip)
    .bind(&ua)
    .bind(&contract.text_sha256)
    .execute(&mut *tx)
    .await?;
    // The first signature locks the text.
    sqlx::query("UPDATE contracts SET locked_at = $2 WHERE id = $1 AND locked_at IS NULL")
        .bind(contract.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        contributor,
        "contracts.sign",
        "build",
        Some(contract.build_id),
        serde_json::json!({ "contract": contract.id, "role": role, "name": name, "ip": ip,
                            "sha256": contract.text_sha256.trim() }),
    )
    .await?;
    Ok(())
}

/// A signer's link, the contract it is for (locked when `lock`), and whether it stands.
/// A signer, the contract they sign (locked when asked), and whether it stands.
pub struct ForSigner {
    pub signer: Signer,
    pub full: Full,
    /// The contract in force for the quote now, when this one is void and another replaced it.
    pub replaced: bool,
}

/// The signer found (or not, `missing`), with their contract, its signers and signatures.
async fn with_contract(
    conn: &mut PgConnection,
    signer: Option<Signer>,
    missing: &str,
) -> AppResult<ForSigner> {
    let signer = signer.ok_or_else(|| AppError::NotFound(missing.into()))?;
    let contract: Contract = sqlx::query_as(&format!(
        "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE id = $1"
    ))
    .bind(signer.contract_id)
    .fetch_one(&mut *conn)
    .await?;
    let replaced: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM contracts WHERE build_id = $1 AND voided_at IS NULL)",
    )
    .bind(contract.build_id)
    .fetch_one(&mut *conn)
    .await?;
    let ids = [contract.id];
    let full = Full {
        signers: signers(conn, &ids).await?,
        signatures: signatures(conn, &ids)
            .await?
            .into_iter()
            .map(|s| s.1)
            .collect(),
        contract,
    };
    Ok(ForSigner {
        replaced: replaced && full.contract.voided_at.is_some(),
        signer,
        full,
    })
}

const SIGNER_COLUMNS: &str = "g.id, g.contract_id, g.position, g.name, g.email, g.link_sent_at";

/// The signer a link belongs to and their contract (404 for an unknown link).
pub async fn for_link(conn: &mut PgConnection, token: &str, lock: bool) -> AppResult<ForSigner> {
    let signer: Option<Signer> = sqlx::query_as(&format!(
        "SELECT {SIGNER_COLUMNS}
         FROM contract_signers g JOIN contracts k ON k.id = g.contract_id
         WHERE g.token_hash = $1{}",
        if lock { " FOR UPDATE OF k" } else { "" }
    ))
    .bind(crypto::token_hash(token))
    .fetch_optional(&mut *conn)
    .await?;
    with_contract(
        conn,
        signer,
        "This signing link is not valid (a newer one may have been sent). Ask the studio for a \
         new one.",
    )
    .await
}

/// The quotes a portal client may see: those of their inquiry, given to them, or of their
/// projects (the same as the portal's quotes and documents).
const CLIENT_BUILDS: &str = "SELECT b.id FROM builds b WHERE b.client_id = $1
      OR b.inquiry_id = (SELECT inquiry_id FROM clients WHERE id = $1)
      OR b.project_id IN (SELECT p.id FROM projects p WHERE p.client_id = $1)";

/// The contract `contract` as signed by the portal user of `client` whose email is `email`: the
/// signer with that email, on a contract of one of the client's quotes (404 otherwise, whoever's
/// it is: a couple never learns of another's contract).
pub async fn for_portal(
    conn: &mut PgConnection,
    client: i32,
    email: &str,
    contract: i32,
    lock: bool,
) -> AppResult<ForSigner> {
    let signer: Option<Signer> = sqlx::query_as(&format!(
        "SELECT {SIGNER_COLUMNS}
         FROM contract_signers g JOIN contracts k ON k.id = g.contract_id
         WHERE k.id = $2 AND lower(g.email) = lower($3) AND k.build_id IN ({CLIENT_BUILDS}){}",
        if lock { " FOR UPDATE OF k" } else { "" }
    ))
    .bind(client)
    .bind(contract)
    .bind(email.trim())
    .fetch_optional(&mut *conn)
    .await?;
    with_contract(conn, signer, "contract").await
}

/// A contract waiting for (or signed by) a portal user, for their home page.
#[derive(sqlx::FromRow)]
pub struct PortalContract {
    pub contract_id: i32,
    pub build_id: i32,
    pub signed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The contracts in force of the client's quotes that the portal user (by email) signs.
pub async fn of_portal_user(
    conn: &mut PgConnection,
    client: i32,
    email: &str,
) -> AppResult<Vec<PortalContract>> {
    Ok(sqlx::query_as(&format!(
        "SELECT k.id AS contract_id, k.build_id,
                (SELECT s.signed_at FROM contract_signatures s WHERE s.signer_id = g.id) AS signed_at
         FROM contract_signers g JOIN contracts k ON k.id = g.contract_id
         WHERE k.voided_at IS NULL AND lower(g.email) = lower($2)
           AND k.build_id IN ({CLIENT_BUILDS})
         ORDER BY k.id"
    ))
    .bind(client)
    .bind(email.trim())
    .fetch_all(conn)
    .await?)
}

/// The partner signs (the signer and contract found by their link or their portal login, locked),
/// with their typed name and consent (422 without either), the text they were shown (409 when
/// it changed), from `origin`. Returns the contract's build and the notification emails to send
/// after the commit: Owners and Sales are told.
pub async fn sign(
    tx: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
    studio: &Studio,
    found: &ForSigner,
    f: &SignForm,
    origin: &Origin,
) -> AppResult<(i32, Mails)> {
    let name = check(f)?;
    let contract = &found.full.contract;
    if contract.voided_at.is_some() {
        return Err(AppError::Conflict(format!(
            "{} voided this contract, so it cannot be signed.",
            studio.studio_name
        )));
    }
    if let Some(s) = found.full.signature_of(found.signer.id) {
        return Err(AppError::Conflict(format!(
            "You signed this contract on {}.",
            studio.time(&s.signed_at)
        )));
    }
    same_text(contract, f)?;
    insert_signature(
        tx,
        clock,
        contract,
        "couple",
        Some(found.signer.id),
        None,
        &name,
        &found.signer.email,
        origin,
    )
    .await?;
    let last = found.full.waiting().len() == 1;
    let message = if last {
        format!(
            "{name} signed the contract for quote #{}; it is ready for your countersignature.",
            contract.build_id
        )
    } else {
        format!(
            "{name} signed the contract for quote #{}.",
            contract.build_id
        )
    };
    let mails = notify::staff(
        tx,
        settings,
        clock.now(),
        Kind::ContractSigned,
        &["Owner", "Sales"],
        &message,
        &format!("/quotes/{}/contract", contract.build_id),
    )
    .await?;
    Ok((contract.build_id, mails))
}

/// The partner signs by their link (see `sign`; 404 for an unknown link).
#[allow(clippy::too_many_arguments)]
pub async fn sign_by_link(
    tx: &mut PgConnection,
    settings: &Settings,
    clock: &Clock,
    studio: &Studio,
    token: &str,
    f: &SignForm,
    origin: &Origin,
) -> AppResult<(i32, Mails)> {
    check(f)?;
    let found = for_link(tx, token, true).await?;
    sign(tx, settings, clock, studio, &found, f, origin).await
}

/// A staff member who countersigns.
pub struct Countersigner<'a> {
    pub contributor_id: i32,
    pub email: &'a str,
}

/// The studio countersigns, once every couple signer has signed (409 before, naming who is
/// still to sign), so the countersignature is always the last one. The signed PDF is kept
/// separately (`keep_pdf`).
pub async fn countersign(
    tx: &mut PgConnection,
    clock: &Clock,
    studio: &Studio,
    build: i32,
    who: &Countersigner<'_>,
    f: &SignForm,
    origin: &Origin,
) -> AppResult<()> {
    let name = check(f)?;
    let live = lock_live(tx, build)
        .await?
        .ok_or_else(|| AppError::Conflict("this quote has no contract in force".into()))?;
    let ids = [live.id];
    let full = Full {
        signers: signers(tx, &ids).await?,
        signatures: signatures(tx, &ids)
            .await?
            .into_iter()
            .map(|s| s.1)
            .collect(),
        contract: live.clone(),
    };
    let waiting: Vec<String> = full.waiting().iter().map(|s| s.name.clone()).collect();
    if !waiting.is_empty() {
        return Err(AppError::Conflict(format!(
            "The studio countersigns after the couple: still waiting for {} to sign.",
            names(&waiting)
        )));
    }
    if let Some(s) = full.studio_signature() {
        return Err(AppError::Conflict(format!(
            "{} countersigned already on {}.",
            s.signer_name,
            studio.time(&s.signed_at)
        )));
    }
    same_text(&live, f)?;
    insert_signature(
        tx,
        clock,
        &live,
        "studio",
        None,
        Some(who.contributor_id),
        &name,
        who.email,
        origin,
    )
    .await
}

/// Once everyone signed: the PDF, with the whole trail, joins the inquiry's documents. Returns
/// the stored file, to keep once the transaction commits.
pub async fn keep_pdf(
    tx: &mut PgConnection,
    studio: &Studio,
    data_dir: &Path,
    build: i32,
    actor: i32,
) -> AppResult<crate::crm::documents::StoredFile> {
    let mut signed = of_build(tx, build).await?;
    let full = signed.remove(0);
    let (inquiry, couple_name): (i32, String) = sqlx::query_as(
        "SELECT i.id, trim(concat_ws(' ', c.first_name, c.last_name))
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE b.id = $1",
    )
    .bind(build)
    .fetch_one(&mut *tx)
    .await?;
    let bytes = pdf_of(studio, &full);
    let upload = crate::crm::documents::Upload {
        name: format!(
            "Contract {couple_name} version {} signed.pdf",
            full.contract.proposal_version
        ),
        kind: "Contract".into(),
        data: bytes,
    };
    let (document, file) =
        crate::crm::documents::store_with_id(tx, data_dir, inquiry, &upload, actor).await?;
    sqlx::query("UPDATE contracts SET document_id = $2 WHERE id = $1")
        .bind(full.contract.id)
        .bind(document)
        .execute(&mut *tx)
        .await?;
    Ok(file)
}
