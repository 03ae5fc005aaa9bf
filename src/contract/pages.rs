//! The contract's page for staff, per quote: the text and its SHA-256, the signers (adding a
//! second partner before the first signature, sending a link again), the studio's
//! countersignature once the couple signed, the audit trail, voiding, the PDF.
use super::contracts::{self, Full, Invite, Stage};
use super::signatures::SignForm;
use super::text;
use crate::auth::{Access, Permission, Staff};
use crate::config::Settings;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::mail;
use crate::studio::Studio;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let view = Access::Perm(Permission::BuildsView);
    let edit = Access::Perm(Permission::BuildsEdit);
    Routes::new()
        .get("/quotes/{id}/contract", view, page)
        .post("/quotes/{id}/contract", edit, recreate)
        .get("/quotes/{id}/contract.pdf", view, pdf)
        .post("/quotes/{id}/contract/partner", edit, add_partner)
        .post(
            "/quotes/{id}/contract/signers/{signer}/resend",
            edit,
            resend,
        )
        .post("/quotes/{id}/contract/void", edit, void)
}

pub struct SignerView {
    pub id: i32,
    pub name: String,
    pub email: String,
    /// "Jun 10, 2026 14:03", when they signed.
    pub signed: Option<String>,
    pub link_sent: String,
}

pub struct TrailRow {
    pub who: String,
    pub role: &'static str,
    pub when: String,
    pub ip: String,
    pub user_agent: String,
    pub hash: String,
    pub consent: bool,
}

/// The contract in force, as the page shows it.
pub struct Current {
    pub stage: Stage,
    pub version: i32,
    pub created: String,
    pub locked: Option<String>,
    pub hash: String,
    pub html: String,
    pub signers: Vec<SignerView>,
    pub countersigned: Option<String>,
    pub trail: Vec<TrailRow>,
    pub document: Option<i32>,
    /// Why the last signature did not book the quote by itself.
    pub auto_book_note: Option<String>,
}

/// A void contract, kept on record.
pub struct Earlier {
    pub id: i32,
    pub version: i32,
    pub created: String,
    pub voided: String,
    pub reason: String,
    pub hash: String,
    pub trail: Vec<TrailRow>,
}

/// What was typed in the page's forms, kept when one is refused.
#[derive(Default)]
pub struct Drafts {
    pub partner_name: String,
    pub partner_email: String,
    pub countersign: SignForm,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "contract/page.html")]
struct ContractPage {
    layout: Layout,
    build: i32,
    inquiry_id: i32,
    couple: String,
    current: Option<Current>,
    earlier: Vec<Earlier>,
    /// Whether the couple's acceptance stands with no contract in force (then it can be made).
    can_recreate: bool,
    /// The quote is booked.
    booked: bool,
    may_edit: bool,
    flash: Option<String>,
    refused: Option<Refusal>,
    drafts: Drafts,
}

impl ContractPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }

    fn can_add_partner(&self) -> bool {
        self.may_edit
            && self
                .current
                .as_ref()
                .is_some_and(|c| c.locked.is_none() && c.signers.len() < 2)
    }

    fn can_countersign(&self) -> bool {
        self.may_edit
            && self
                .current
                .as_ref()
                .is_some_and(|c| c.stage == Stage::AwaitingCountersignature)
    }

    fn can_void(&self) -> bool {
        self.may_edit
            && self.current.as_ref().is_some_and(|c| {
                matches!(
                    c.stage,
                    Stage::AwaitingSignatures | Stage::AwaitingCountersignature
                )
            })
    }

    fn can_resend(&self) -> bool {
        self.may_edit
            && self
                .current
                .as_ref()
                .is_some_and(|c| c.stage == Stage::AwaitingSignatures)
    }
}

fn trail_rows(studio: &Studio, full: &Full) -> Vec<TrailRow> {
    full.signatures
        .iter()
        .map(|s| TrailRow {
            who: format!("{} ({})", s.signer_name, s.email),
            role: if s.role == "studio" {
                "Studio"
            } else {
                "Couple"
            },
            when: studio.time(&s.signed_at),
            ip: s.ip.clone(),
            user_agent: s.user_agent.clone(),
            hash: s.text_sha256.trim().to_string(),
            consent: s.consent,
        })
        .collect()
}

fn current(studio: &Studio, full: &Full) -> Current {
    let c = &full.contract;
    Current {
        stage: full.stage(),
        version: c.proposal_version,
        created: studio.time(&c.created_at),
        locked: c.locked_at.map(|l| studio.time(&l)),
        hash: c.text_sha256.trim().to_string(),
        html: text::to_html(&c.body, 3),
        signers: full
            .signers
            .iter()
            .map(|s| SignerView {
                id: s.id,
                name: s.name.clone(),
                email: s.email.clone(),
                signed: full.signature_of(s.id).map(|g| studio.time(&g.signed_at)),
                link_sent: studio.time(&s.link_sent_at),
            })
            .collect(),
        countersigned: full
            .studio_signature()
            .map(|s| format!("{} on {}", s.signer_name, studio.time(&s.signed_at))),
        trail: trail_rows(studio, full),
        document: c.document_id,
        auto_book_note: c.auto_book_note.clone(),
    }
}

/// The quote's inquiry and couple (404 for no such quote).
async fn head(conn: &mut PgConnection, build: i32) -> AppResult<(i32, String, bool, bool)> {
    let found: Option<(i32, String, bool, bool)> = sqlx::query_as(
        "SELECT i.id, trim(concat_ws(' ', c.first_name, c.last_name)),
                EXISTS (SELECT 1 FROM proposal_versions v WHERE v.build_id = b.id
                          AND v.accepted_at IS NOT NULL AND v.withdrawn_at IS NULL),
                b.project_id IS NOT NULL
         FROM builds b JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
         WHERE b.id = $1",
    )
    .bind(build)
    .fetch_optional(conn)
    .await?;
    found.ok_or_else(|| AppError::not_found("quote"))
}

async fn contract_page(
    db: &mut PgConnection,
    staff: &Staff,
    build: i32,
    flash: Option<String>,
    refused: Option<Refusal>,
    drafts: Drafts,
) -> AppResult<ContractPage> {
    let (inquiry_id, couple, accepted, booked) = head(db, build).await?;
    let all = contracts::of_build(db, build).await?;
    let layout = Layout::load(db, staff, &format!("Contract · Quote #{build}"), "/quotes").await?;
    let studio = &layout.settings;
    let mut current_one = None;
    let mut earlier = vec![];
    for full in &all {
        let c = &full.contract;
        match (c.voided_at, &c.void_reason) {
            (Some(v), reason) => earlier.push(Earlier {
                id: c.id,
                version: c.proposal_version,
                created: studio.time(&c.created_at),
                voided: studio.time(&v),
                reason: reason.clone().unwrap_or_default(),
                hash: c.text_sha256.trim().to_string(),
                trail: trail_rows(studio, full),
            }),
            (None, _) => current_one = Some(current(studio, full)),
        }
    }
    Ok(ContractPage {
        build,
        inquiry_id,
        couple,
        can_recreate: accepted && current_one.is_none(),
        booked,
        current: current_one,
        earlier,
        may_edit: staff.can(Permission::BuildsEdit),
        flash,
        refused,
        drafts,
        layout,
    })
}

#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: String,
}

fn said(done: &str) -> Option<String> {
    Some(
        match done {
            "partner" => "The partner is added; their signing link is on its way by email.",
            "resent" => "A new signing link is on its way by email; the old one no longer works.",
            "countersigned" => {
                "Countersigned: the contract is fully signed, and its PDF is in the inquiry's documents."
            }
            "countersigned-booked" => {
                "Countersigned: the contract is fully signed and the wedding is booked (the \
                 project, the invoices and the couple's portal invitation are made)."
            }
            "countersigned-manual" => {
                "Countersigned: the contract is fully signed. Booking is by hand (Settings > \
                 Contract): book it from the quote."
            }
            "void" => "The contract is void; it stays here on record.",
            "made" => "The contract is made; the signing link is on its way by email.",
            _ => return None,
        }
        .to_string(),
    )
}

async fn page(
    mut db: Db,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> AppResult<Response> {
    let id: i32 = id.parse().map_err(|_| AppError::not_found("quote"))?;
    let page = contract_page(&mut db, &staff, id, said(&q.done), None, Drafts::default()).await?;
    Ok(render(&page))
}

/// After a change: back to the page with what it did, or the page again with the refusal.
pub async fn answer(
    db: &mut PgConnection,
    staff: &Staff,
    build: i32,
    result: AppResult<&str>,
    drafts: Drafts,
) -> AppResult<Response> {
    match result {
        Ok(done) => {
            Ok(Redirect::to(&format!("/quotes/{build}/contract?done={done}")).into_response())
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = contract_page(db, staff, build, None, Some(refusal.clone()), drafts).await?;
            Ok(refusal.respond(render(&page)))
        }
    }
}

/// Queue a signer's link email in the transaction; returns the sender for after the commit.
async fn mail_invite(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &Studio,
    invite: &Invite,
) -> AppResult<mail::Outgoing> {
    let link = contracts::signing_link(&settings.base_url(), &invite.token);
    Ok(mail::queue(tx, settings, contracts::invite_mail(studio, invite, &link)).await?)
}

#[derive(Deserialize, Default)]
struct PartnerForm {
    #[serde(default)]
    partner_name: String,
    #[serde(default)]
    partner_email: String,
}

async fn add_partner(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<PartnerForm>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        let studio = Studio::load(&mut tx).await?;
        let invite = contracts::add_partner(
            &mut tx,
            &studio,
            &state.clock,
            id,
            &f.partner_name,
            &f.partner_email,
            staff.contributor_id,
        )
        .await?;
        let outgoing = mail_invite(&mut tx, &state.settings, &studio, &invite).await?;
        tx.commit().await?;
        outgoing.send(&state.db, &state.clock);
        Ok("partner")
    }
    .await;
    let drafts = Drafts {
        partner_name: f.partner_name,
        partner_email: f.partner_email,
        ..Drafts::default()
    };
    answer(&mut db, &staff, id, result, drafts).await
}

async fn resend(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path((id, signer)): Path<(i32, i32)>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        let studio = Studio::load(&mut tx).await?;
        let invite =
            contracts::resend(&mut tx, &state.clock, id, signer, staff.contributor_id).await?;
        let outgoing = mail_invite(&mut tx, &state.settings, &studio, &invite).await?;
        tx.commit().await?;
        outgoing.send(&state.db, &state.clock);
        Ok("resent")
    }
    .await;
    answer(&mut db, &staff, id, result, Drafts::default()).await
}

async fn recreate(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        let studio = Studio::load(&mut tx).await?;
        let invite =
            contracts::recreate(&mut tx, &studio, &state.clock, id, staff.contributor_id).await?;
        let outgoing = mail_invite(&mut tx, &state.settings, &studio, &invite).await?;
        tx.commit().await?;
        outgoing.send(&state.db, &state.clock);
        Ok("made")
    }
    .await;
    answer(&mut db, &staff, id, result, Drafts::default()).await
}

#[derive(Deserialize, Default)]
struct VoidForm {
    #[serde(default)]
    reason: String,
}

async fn void(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(f): Form<VoidForm>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        contracts::void(&mut tx, &state.clock, id, &f.reason, staff.contributor_id).await?;
        tx.commit().await?;
        Ok("void")
    }
    .await;
    let drafts = Drafts {
        reason: f.reason,
        ..Drafts::default()
    };
    answer(&mut db, &staff, id, result, drafts).await
}

/// The contract in force as a PDF: the signed copy kept with the documents once everyone
/// signed; before that, made now with the trail so far (404 when there is no contract).
async fn pdf(
    State(state): State<AppState>,
    mut db: Db,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let studio = Studio::load(&mut db).await?;
    let all = contracts::of_build(&mut db, id).await?;
    let full = all
        .into_iter()
        .next()
        .filter(|f| f.contract.voided_at.is_none())
        .ok_or_else(|| AppError::not_found("contract"))?;
    super::trail::pdf_response(&mut db, &state.settings.data_dir, &studio, &full).await
}
