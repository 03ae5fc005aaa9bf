//! My account: the staff member's own page, to change their password and to create and revoke
//! their API tokens.
use super::passwords::{self, ChangePasswordForm};
use super::tokens::{self, NewTokenForm, TokenRow};
use crate::auth::{Access, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::page;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/account", Access::Staff, account)
        .post("/account/password", Access::Staff, change_password)
        .post("/account/digest", Access::Staff, set_digest)
        .post("/account/tokens", Access::Staff, create_token)
        .post("/account/tokens/{id}/revoke", Access::Staff, revoke_token)
}

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    tokens: Vec<TokenRow>,
    /// Whether the tokens shown are a later page (then a link back to the newest).
    later: bool,
    /// The next (older) page of tokens, when there are more.
    next: Option<String>,
    new_token: Option<String>,
    /// Whether they get the daily email digest, and the last one sent (when, its text).
    digest: bool,
    last_digest: Option<(String, String)>,
    flash: Option<String>,
    /// (field, problem) of a refused form.
    error: Option<(String, String)>,
}

async fn account_page(
    conn: &mut PgConnection,
    staff: &Staff,
    new_token: Option<String>,
    flash: Option<String>,
    error: Option<(String, String)>,
    after: Option<page::After>,
) -> AppResult<AccountPage> {
    let layout = Layout::load(conn, staff, "My account", "/account").await?;
    let (tokens, next) = tokens::list(conn, staff.contributor_id, after).await?;
    let (digest, last) = crate::production::digest::choice(conn, staff.contributor_id).await?;
    let last_digest = last.map(|(at, text)| (layout.settings.day(&at), text));
    Ok(AccountPage {
        digest,
        last_digest,
        layout,
        email: staff.email.clone(),
        tokens,
        later: after.is_some(),
        next: next.map(|n| page::next_href("/account", &[], &n)),
        new_token,
        flash,
        error,
    })
}

/// The page again with a refused form's reason by its field.
async fn refused(conn: &mut PgConnection, staff: &Staff, e: AppError) -> AppResult<Response> {
    let refusal = Refusal::from_error(e)?;
    let error = refusal
        .errors
        .first()
        .map(|f| (f.field.clone(), f.message.clone()));
    let page = account_page(conn, staff, None, None, error, None).await?;
    Ok(refusal.respond(render(&page)))
}

/// `?done=` after a change, for the flash message; `?after=` for a later page of tokens.
#[derive(serde::Deserialize)]
struct AccountQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    after: Option<String>,
}

async fn account(mut db: Db, staff: Staff, Query(q): Query<AccountQuery>) -> AppResult<Response> {
    let after = page::After::parse(q.after.as_deref())?;
    let flash = match q.done.as_str() {
        "password" => {
            Some("Your password is changed. Your other sessions have been logged out.".to_string())
        }
        "revoked" => Some("The token is revoked.".to_string()),
        "digest-on" => Some("You will get a daily digest by email.".to_string()),
        "digest-off" => Some("The daily digest is off.".to_string()),
        _ => None,
    };
    Ok(render(
        &account_page(&mut db, &staff, None, flash, None, after).await?,
    ))
}

async fn change_password(
    mut db: Db,
    staff: Staff,
    Form(form): Form<ChangePasswordForm>,
) -> AppResult<Response> {
    let result = async {
        let current = passwords::current_hash(&mut db, staff.contributor_id).await?;
        // The slow hashing holds no connection.
        let hash = db.while_idle(passwords::new_hash(&form, current)).await??;
        let mut tx = db.begin().await?;
        passwords::change(&mut tx, &staff, &hash).await?;
        tx.commit().await?;
        AppResult::Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/account?done=password").into_response()),
        Err(e) => refused(&mut db, &staff, e).await,
    }
}

async fn create_token(
    mut db: Db,
    staff: Staff,
    Form(form): Form<NewTokenForm>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        let token = tokens::create(&mut tx, staff.contributor_id, &form).await?;
        tx.commit().await?;
        AppResult::Ok(token)
    }
    .await;
    match result {
        Ok(token) => Ok(render(
            &account_page(&mut db, &staff, Some(token), None, None, None).await?,
        )),
        Err(e) => refused(&mut db, &staff, e).await,
    }
}

async fn revoke_token(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    tokens::revoke(&mut tx, staff.contributor_id, id).await?;
    tx.commit().await?;
    Ok(Redirect::to("/account?done=revoked").into_response())
}

/// The daily digest's box: ticked sends `digest=on`; unticked sends nothing.
#[derive(serde::Deserialize)]
struct DigestForm {
    #[serde(default)]
    digest: Option<String>,
}

async fn set_digest(mut db: Db, staff: Staff, Form(f): Form<DigestForm>) -> AppResult<Response> {
    let on = f.digest.is_some();
    crate::production::digest::set(&mut db, staff.contributor_id, on).await?;
    let done = if on { "digest-on" } else { "digest-off" };
    Ok(Redirect::to(&format!("/account?done={done}")).into_response())
}
