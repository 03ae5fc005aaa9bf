//! The studio's countersignature, the contract's last signature (the studio always signs after
//! the couple): its handler is quote's, not contract's, because when the studio's setting says
//! so the same transaction books the quote (`auto_book::after_signature`), and contract may not
//! call quote. The contract's page (`contract::pages`) shows the form and the outcome.
use super::auto_book::{self, AfterSignature};
use crate::auth::{Access, Permission, Staff};
use crate::contract::pages::{Drafts, answer};
use crate::contract::signatures::{self, Countersigner, SignForm};
use crate::contract::signing::origin;
use crate::db::Db;
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::routes::Routes;
use crate::studio::Studio;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new().post(
        "/quotes/{id}/contract/countersign",
        Access::Perm(Permission::BuildsEdit),
        countersign,
    )
}

/// The studio countersigns (the staff member's typed name and consent), from this request's
/// address and browser; the signed PDF joins the documents, and the quote is booked when the
/// setting says so. The PDF file is kept and the emails sent once the transaction commits.
async fn countersign(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i32>,
    Form(f): Form<SignForm>,
) -> AppResult<Response> {
    let origin = origin(&peer, &headers);
    let result = crate::db::transaction(&mut db, async |tx| {
        let studio = Studio::load(tx).await?;
        let who = Countersigner {
            contributor_id: staff.contributor_id,
            email: &staff.email,
        };
        let clock = &state.clock;
        signatures::countersign(tx, clock, &studio, id, &who, &f, &origin).await?;
        let file = signatures::keep_pdf(
            tx,
            &studio,
            &state.settings.data_dir,
            id,
            staff.contributor_id,
        )
        .await?;
        let after =
            auto_book::after_signature(tx, Some(&state.settings), &studio, clock, id).await?;
        Ok((file, after))
    })
    .await;
    let result = result.map(|(file, after)| {
        file.keep();
        let done = match &after {
            AfterSignature::Booked(_) => "countersigned-booked",
            AfterSignature::Manual => "countersigned-manual",
            _ => "countersigned",
        };
        after.send(&state.db, &state.clock);
        done
    });
    let drafts = Drafts {
        countersign: f,
        ..Drafts::default()
    };
    answer(&mut db, &staff, id, result, drafts).await
}
