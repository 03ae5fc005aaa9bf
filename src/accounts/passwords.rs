//! Staff passwords: asking for a reset link, choosing a password from a reset or invitation
//! link (the page staff and couples share), and changing one's own on My account.
use super::forms::NewPasswordForm;
use super::links;
use crate::auth::{self, Access, Staff};
use crate::config::Settings;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::{audit, crypto, mail};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
        .get("/password-reset", Access::Public, reset_page)
        .post("/password-reset", Access::Public, reset_request)
        .get("/set-password/{token}", Access::Public, set_password_page)
        .post("/set-password/{token}", Access::Public, set_password)
}

#[derive(Template)]
#[template(path = "auth/reset_request.html")]
struct ResetRequestPage {
    sent: bool,
    email: String,
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "auth/set_password.html")]
pub struct SetPasswordPage {
    pub action: String,
    pub error: Option<String>,
    pub invalid: bool,
}

/// The links a staff member may choose a password with.
const STAFF_LINKS: &[&str] = &["password_reset", "staff_invite"];

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

/// Whom a reset link goes to.
#[derive(sqlx::FromRow)]
struct Recipient {
    contributor_id: i32,
    contact_id: i32,
    email: String,
}

/// The active staff login with this (lowercased) email.
async fn recipient(conn: &mut PgConnection, email: &str) -> AppResult<Option<Recipient>> {
    Ok(sqlx::query_as(
        "SELECT co.id AS contributor_id, c.id AS contact_id, c.email
         FROM staff_credentials cr JOIN contributors co ON co.id = cr.contributor_id
         JOIN contacts c ON c.id = co.contact_id WHERE lower(c.email) = $1 AND cr.is_active",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?)
}

/// Send a reset link valid for an hour, if the email is an active login's; returns the mail to
/// send after the commit.
async fn request_reset(
    tx: &mut PgConnection,
    settings: &Settings,
    email: &str,
) -> AppResult<Option<mail::Outgoing>> {
    let Some(who) = recipient(tx, email).await? else {
        return Ok(None);
    };
    let id = who.contributor_id;
    let token = links::issue(tx, "password_reset", Some(id), None, 1).await?;
    let link = format!("{}/set-password/{token}", settings.base_url());
    let mail = mail::Mail {
        to_contact_id: who.contact_id,
        to: who.email,
        subject: "Reset your ProjectFlo password".into(),
        body: format!(
            "Someone asked to reset your ProjectFlo password. If it was you, open this link \
             within an hour:\n\n{link}\n\nIf not, ignore this email."
        ),
        log_summary: "Password reset link sent (valid 1 hour).".into(),
    };
    let outgoing = mail::queue(tx, settings, mail).await?;
    let action = "auth.password_reset.request";
    audit::record(
        tx,
        Some(id),
        action,
        "contributor",
        Some(id),
        serde_json::json!({}),
    )
    .await?;
    Ok(Some(outgoing))
}

/// A new password hash for a staff login (its sessions are the caller's business).
async fn set_hash(conn: &mut PgConnection, contributor_id: i32, hash: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE staff_credentials SET password_hash = $2, password_changed_at = now()
         WHERE contributor_id = $1",
    )
    .bind(contributor_id)
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// Set a staff password from a reset or invitation link; false when the link is used, expired
/// or not a staff member's (then nothing is to be committed). A reset ends every session and
/// token: whoever knew the old password is out.
async fn set_from_link(tx: &mut PgConnection, token: &str, hash: &str) -> AppResult<bool> {
    let used = links::consume(tx, token, STAFF_LINKS).await?;
    let Some(links::Used {
        contributor_id: Some(id),
        purpose,
        ..
    }) = used
    else {
        return Ok(false);
    };
    set_hash(tx, id, hash).await?;
    auth::end_all_access(tx, id).await?;
    let action = format!("auth.{purpose}.complete");
    audit::record(
        tx,
        Some(id),
        &action,
        "contributor",
        Some(id),
        serde_json::json!({}),
    )
    .await?;
    Ok(true)
}

/// What a set-password form answers, staff and portal alike: once set, the login page with
/// `done`; a refused password, the form again (422); a used or expired link, the form as
/// invalid (410).
pub fn set_password_answer(
    action: String,
    result: AppResult<bool>,
    done: &str,
) -> AppResult<Response> {
    match result {
        Ok(true) => Ok(Redirect::to(done).into_response()),
        Ok(false) => {
            let page = SetPasswordPage {
                action,
                error: None,
                invalid: true,
            };
            Ok((StatusCode::GONE, render(&page)).into_response())
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let page = SetPasswordPage {
                action,
                error: refusal.field("password").map(str::to_string),
                invalid: false,
            };
            Ok(refusal.respond(render(&page)))
        }
    }
}

/// The hash of the new password on My account, once the current one is right and the new one
/// passes the rule.
pub async fn new_hash(
    form: &ChangePasswordForm,
    current_hash: Option<String>,
) -> AppResult<String> {
    if !crypto::verify_password(form.current.clone(), current_hash).await {
        return Err(AppError::field(
            "current",
            "This is not your current password.",
        ));
    }
    let new = NewPasswordForm {
        password: form.password.clone(),
        confirm: form.confirm.clone(),
    };
    new.check()?;
    Ok(crypto::hash_password(new.password).await?)
}

/// The password hash of a staff login (None: not chosen yet).
pub async fn current_hash(
    conn: &mut PgConnection,
    contributor_id: i32,
) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM staff_credentials WHERE contributor_id = $1")
            .bind(contributor_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Change one's own password: other sessions end; this one stays.
pub async fn change(tx: &mut PgConnection, staff: &Staff, hash: &str) -> AppResult<()> {
    let id = staff.contributor_id;
    set_hash(tx, id, hash).await?;
    sqlx::query("DELETE FROM auth_sessions WHERE contributor_id = $1 AND id <> $2")
        .bind(id)
        .bind(&staff.session_id)
        .execute(&mut *tx)
        .await?;
    let action = "auth.password.change";
    audit::record(
        tx,
        Some(id),
        action,
        "contributor",
        Some(id),
        serde_json::json!({}),
    )
    .await?;
    Ok(())
}

async fn reset_page() -> Response {
    render(&ResetRequestPage {
        sent: false,
        email: String::new(),
    })
}

/// Same answer whether or not the account exists.
async fn reset_request(
    State(state): State<AppState>,
    mut db: Db,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    let email = form.email.trim().to_lowercase();
    let mut tx = db.begin().await?;
    let outgoing = request_reset(&mut tx, &state.settings, &email).await?;
    tx.commit().await?;
    if let Some(o) = outgoing {
        o.send();
    }
    Ok(render(&ResetRequestPage {
        sent: true,
        email: form.email,
    }))
}

async fn set_password_page(mut db: Db, Path(token): Path<String>) -> AppResult<Response> {
    let action = format!("/set-password/{token}");
    set_password_form(&mut db, &token, STAFF_LINKS, action).await
}

/// The "choose a password" page of an emailed link, staff or portal: the form, or a word that
/// the link is no longer valid.
pub async fn set_password_form(
    db: &mut PgConnection,
    token: &str,
    purposes: &[&str],
    action: String,
) -> AppResult<Response> {
    let valid = links::is_valid(db, token, purposes).await?;
    Ok(render(&SetPasswordPage {
        action,
        error: None,
        invalid: !valid,
    }))
}

async fn set_password(
    mut db: Db,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> AppResult<Response> {
    let action = format!("/set-password/{token}");
    let result = set_from_link_form(&mut db, &token, &form, set_from_link).await;
    set_password_answer(action, result, "/login?notice=password-set")
}

/// "Choose a password" from an emailed link, staff or portal: check the form, hash the
/// password, and let `set` use the link in one transaction (false: the link was not valid).
pub async fn set_from_link_form(
    db: &mut Db,
    token: &str,
    form: &NewPasswordForm,
    set: impl AsyncFnOnce(&mut PgConnection, &str, &str) -> AppResult<bool>,
) -> AppResult<bool> {
    form.check()?;
    // The slow hashing holds no connection.
    let hash = db
        .while_idle(crypto::hash_password(form.password.clone()))
        .await??;
    let mut tx = db.begin().await?;
    let done = set(&mut tx, token, &hash).await?;
    if done {
        tx.commit().await?;
    }
    Ok(done)
}
