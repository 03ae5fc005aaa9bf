//! A partner signs in the couple's portal, logged in, instead of by their emailed link: the
//! contracts of the couple's quotes on which the portal user's email is a signer. The same
//! signature as by link (`signatures::sign`). Another couple's contract, or one the user does
//! not sign, is a 404.
use super::signatures::{self, ForSigner, SignForm};
use super::signing::{SignView, origin};
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
    build: i32,
    /// Where the form goes, and its CSRF field.
    action: String,
    csrf: Option<String>,
    /// The contract as a PDF, where the signer may download it.
    pdf: Option<String>,
    v: SignView,
}

async fn sign_page(
    conn: &mut PgConnection,
    user: PortalUser,
    id: i32,
    refused: Option<Refusal>,
    form: SignForm,
) -> AppResult<PortalSignPage> {
    let found = signatures::for_portal(conn, user.client_id, &user.email, id, false).await?;
    let studio = Studio::load(conn).await?;
    let c = &found.full.contract;
    Ok(PortalSignPage {
        build: c.build_id,
        action: format!("/portal/contracts/{}/sign", c.id),
        csrf: Some(user.csrf.clone()),
        pdf: Some(format!("/portal/contracts/{}/pdf", c.id)),
        v: SignView::new(&studio, &found, refused, form),
        studio: studio.studio_name,
        user,
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
            mails.send(&state.db, &state.clock);
            Ok(Redirect::to(&format!("/portal/contracts/{id}#signed")).into_response())
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = sign_page(&mut db, user, id, Some(refusal.clone()), f).await?;
            Ok(refusal.respond(render(&page)))
        }
    }
}
