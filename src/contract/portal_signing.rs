//! A partner signs in the couple's portal, logged in, instead of by their emailed link: the
//! contracts of the couple's quotes on which the portal user's email is a signer. The same
//! signature as by link (`signatures::sign`). Another couple's contract, or one the user does
//! not sign, is a 404.
use super::contracts::Stage;
use super::signatures::{self, ForSigner, SignForm};
use super::signing::origin;
use super::text;
use crate::auth::{Access, PortalUser};
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
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new()
        .get("/portal/contracts/{id}", Access::Portal, page)
        .post("/portal/contracts/{id}/sign", Access::Portal, sign)
        .get("/portal/contracts/{id}/pdf", Access::Portal, pdf)
}

/// The couple's contract as a PDF (signed and kept, or made now with its trail so far).
async fn pdf(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let ForSigner { full, .. } =
        signatures::for_portal(&mut db, user.client_id, &user.email, id, false).await?;
    let studio = Studio::load(&mut db).await?;
    super::trail::pdf_response(&mut db, &state.settings.data_dir, &studio, &full).await
}

#[derive(Template)]
#[template(path = "contract/portal_sign.html")]
struct PortalSignPage {
    studio: String,
    user: PortalUser,
    contract: i32,
    build: i32,
    signer: String,
    stage: Stage,
    html: String,
    hash: String,
    /// (who, when) of each signature so far.
    signed_by: Vec<(String, String)>,
    /// When this signer signed.
    signed: Option<String>,
    void: Option<String>,
    refused: Option<Refusal>,
    form: SignForm,
}

impl PortalSignPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.refused.as_ref().and_then(|r| r.field(field))
    }

    fn message(&self) -> Option<&str> {
        let r = self.refused.as_ref()?;
        if r.errors.is_empty() {
            r.message.as_deref()
        } else {
            None
        }
    }

    fn open(&self) -> bool {
        self.signed.is_none() && self.void.is_none()
    }
}

async fn sign_page(
    conn: &mut PgConnection,
    user: PortalUser,
    id: i32,
    refused: Option<Refusal>,
    form: SignForm,
) -> AppResult<PortalSignPage> {
    let ForSigner { signer, full, .. } =
        signatures::for_portal(conn, user.client_id, &user.email, id, false).await?;
    let studio = Studio::load(conn).await?;
    let c = &full.contract;
    Ok(PortalSignPage {
        contract: c.id,
        build: c.build_id,
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
        studio: studio.studio_name,
        user,
        refused,
        form,
    })
}

async fn page(mut db: Db, user: PortalUser, Path(id): Path<i32>) -> AppResult<Response> {
    Ok(render(
        &sign_page(&mut db, user, id, None, SignForm::default()).await?,
    ))
}

/// The portal user signs as the contract's signer with their email; then the page opens at
/// the confirmation.
async fn sign(
    State(state): State<AppState>,
    mut db: Db,
    user: PortalUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i32>,
    Form(f): Form<SignForm>,
) -> AppResult<Response> {
    let origin = origin(&peer, &headers);
    let result = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let found = signatures::for_portal(tx, user.client_id, &user.email, id, true).await?;
        let (_, mails) = signatures::sign(
            tx,
            &state.settings,
            &state.clock,
            &studio,
            &found,
            &f,
            &origin,
        )
        .await?;
        Ok(mails)
    })
    .await;
    match result {
        Ok(mails) => {
            mails.send();
            Ok(Redirect::to(&format!("/portal/contracts/{id}#signed")).into_response())
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = sign_page(&mut db, user, id, Some(refusal.clone()), f).await?;
            Ok(refusal.respond(render(&page)))
        }
    }
}
