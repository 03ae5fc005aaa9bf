//! The couple's signing page, opened by a partner's own link (no login): the contract, its
//! fingerprint, who signed so far, and the form: "I agree to sign electronically" and the
//! typed name. A refusal shows the page again with the reason by the field, nothing stored.
use super::contracts::Stage;
use super::signatures::{self, ForSigner, Origin, SignForm};
use super::text;
use crate::auth::Access;
use crate::db::Db;
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::studio::Studio;
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new()
        .get("/contract/{token}", Access::Public, page)
        .post("/contract/{token}/sign", Access::Public, sign)
}

/// Where a request came from: the peer's address (as the login records it) and the browser's
/// User-Agent.
pub fn origin(peer: &SocketAddr, headers: &HeaderMap) -> Origin {
    Origin {
        ip: peer.ip().to_string(),
        user_agent: headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("unknown")
            .to_string(),
    }
}

/// What a partner sees of the contract they sign, by link or in the portal: the text, its
/// fingerprint, who signed so far, whether they did, and the form with any refusal.
pub struct SignView {
    pub signer: String,
    pub stage: Stage,
    pub html: String,
    pub hash: String,
    /// (who, when) of each signature so far.
    pub signed_by: Vec<(String, String)>,
    /// When this signer signed.
    pub signed: Option<String>,
    pub void: Option<String>,
    pub refused: Option<Refusal>,
    pub form: SignForm,
}

impl SignView {
    pub fn new(
        studio: &Studio,
        found: &ForSigner,
        refused: Option<Refusal>,
        form: SignForm,
    ) -> Self {
        let (signer, full) = (&found.signer, &found.full);
        let c = &full.contract;
        SignView {
            signer: signer.name.clone(),
            stage: full.stage(),
            html: text::to_html(&c.body, 2),
            hash: c.text_sha256.trim().to_string(),
            signed_by: full
                .signatures
                .iter()
                .map(|s| (s.signer_name.clone(), studio.time(&s.signed_at)))
                .collect(),
            signed: full
                .signature_of(signer.id)
                .map(|s| studio.time(&s.signed_at)),
            void: c.void_reason.clone(),
            refused,
            form,
        }
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }

    /// A refusal not about one field.
    pub fn message(&self) -> Option<&str> {
        let r = self.refused.as_ref()?;
        if r.errors.is_empty() {
            r.message.as_deref()
        } else {
            None
        }
    }

    pub fn open(&self) -> bool {
        self.signed.is_none() && self.void.is_none()
    }

    pub fn fully_signed(&self) -> bool {
        self.stage == Stage::FullySigned
    }
}

#[derive(Template)]
#[template(path = "contract/sign.html")]
struct SignPage {
    studio: String,
    /// Where the form goes, and its CSRF field (none: the link is the proof).
    action: String,
    csrf: Option<String>,
    /// The contract as a PDF, where the signer may download it.
    pdf: Option<String>,
    v: SignView,
    replaced: bool,
}

async fn sign_page(
    conn: &mut PgConnection,
    token: &str,
    refused: Option<Refusal>,
    form: SignForm,
) -> AppResult<SignPage> {
    let found = signatures::for_link(conn, token, false).await?;
    let studio = Studio::load(conn).await?;
    Ok(SignPage {
        action: format!("/contract/{token}/sign"),
        csrf: None,
        pdf: None,
        v: SignView::new(&studio, &found, refused, form),
        replaced: found.replaced,
        studio: studio.studio_name,
    })
}

async fn page(mut db: Db, Path(token): Path<String>) -> AppResult<Response> {
    Ok(render(
        &sign_page(&mut db, &token, None, SignForm::default()).await?,
    ))
}

/// The partner signs; then the page opens at the confirmation.
async fn sign(
    State(state): State<AppState>,
    mut db: Db,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<SignForm>,
) -> AppResult<Response> {
    let origin = origin(&peer, &headers);
    let result = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let (_, mails) = signatures::sign_by_link(
            tx,
            &state.settings,
            &state.clock,
            &studio,
            &token,
            &f,
            &origin,
        )
        .await?;
        Ok(mails)
    })
    .await;
    match result {
        Ok(mails) => {
            mails.send(&state.db, &state.clock);
            Ok(Redirect::to(&format!("/contract/{token}#signed")).into_response())
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = sign_page(&mut db, &token, Some(refusal.clone()), f).await?;
            Ok(refusal.respond(render(&page)))
        }
    }
}
