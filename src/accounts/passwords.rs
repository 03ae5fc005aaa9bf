//! Passwords: asking for a reset link and choosing a password from a reset or invitation link,
//! for staff and couples alike (one flow, `Logins` says whose), and changing one's own on
//! My account.
use super::forms::NewPasswordForm;
use super::links::{self, Owner};
use crate::auth::{self, Access, Staff, throttle};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::render;
use crate::http::routes::Routes;
use crate::{audit, crypto, mail};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;
use std::future::Future;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new()
        .get("/password-reset", Access::Public, reset_page::<StaffLogins>)
        .post(
            "/password-reset",
            Access::Public,
            reset_request::<StaffLogins>,
        )
        .get(
            "/set-password/{token}",
            Access::Public,
            set_password_page::<StaffLogins>,
        )
        .post(
            "/set-password/{token}",
            Access::Public,
            set_password::<StaffLogins>,
        )
}

/// A kind of login whose password an emailed link sets: staff (`StaffLogins`) or a couple's
/// portal login (`portal::login::CoupleLogins`). Asking for a link, the email, choosing the
/// password, ending the old sessions and the audit entries are the same for both; these are
/// the differences.
pub trait Logins: 'static {
    /// Whose links these logins' are.
    const OWNER: Owner;
    /// The links that choose a password: a reset, and this kind's invitation.
    const PURPOSES: &'static [&'static str];
    /// Reset requests are throttled under this name (`throttle::admit_reset`).
    const THROTTLE: &'static str;
    /// Where to ask for a link, the link's path before its token, and the login page.
    const RESET_PAGE: &'static str;
    const SET_PAGE: &'static str;
    const LOGIN_PAGE: &'static str;
    /// The audit log's prefix for these actions ("auth", "portal") and its kind of record.
    const AUDIT: &'static str;
    const ENTITY: &'static str;

    /// The active login with this (lowercased) email.
    fn recipient(
        conn: &mut PgConnection,
        email: &str,
    ) -> impl Future<Output = AppResult<Option<Recipient>>> + Send;

    /// Give the login this password hash; every session it has (and API token) ends.
    fn set_hash(
        tx: &mut PgConnection,
        id: i32,
        hash: &str,
    ) -> impl Future<Output = AppResult<()>> + Send;

    /// Whose name the pages and emails carry: ProjectFlo's for staff, the studio's for couples.
    fn brand(conn: &mut PgConnection) -> impl Future<Output = AppResult<String>> + Send;

    /// What the password is for, in the email: "ProjectFlo", "Golden Hour Films portal".
    fn what(brand: &str) -> String;

    /// Who did it, for the audit log: the staff member; nobody for a couple (their login is
    /// the entry's record).
    fn actor(id: i32) -> Option<i32>;
}

/// Whom a reset link goes to: the login's id (a contributor or a portal login) and its contact.
#[derive(sqlx::FromRow)]
pub struct Recipient {
    pub id: i32,
    pub contact_id: i32,
    pub email: String,
}

/// Staff logins: a team member's, by the email of their contact.
pub struct StaffLogins;

impl Logins for StaffLogins {
    const OWNER: Owner = Owner::Staff;
    const PURPOSES: &'static [&'static str] = &["password_reset", "staff_invite"];
    const THROTTLE: &'static str = "staff-reset";
    const RESET_PAGE: &'static str = "/password-reset";
    const SET_PAGE: &'static str = "/set-password";
    const LOGIN_PAGE: &'static str = "/login";
    const AUDIT: &'static str = "auth";
    const ENTITY: &'static str = "contributor";

    async fn recipient(conn: &mut PgConnection, email: &str) -> AppResult<Option<Recipient>> {
        Ok(sqlx::query_as(
            "SELECT co.id, c.id AS contact_id, c.email
             FROM staff_credentials cr JOIN contributors co ON co.id = cr.contributor_id
             JOIN contacts c ON c.id = co.contact_id WHERE lower(c.email) = $1 AND cr.is_active",
        )
        .bind(email)
        .fetch_optional(conn)
        .await?)
    }

    async fn set_hash(tx: &mut PgConnection, id: i32, hash: &str) -> AppResult<()> {
        set_staff_hash(tx, id, hash).await?;
        auth::end_all_access(tx, id).await?;
        Ok(())
    }

    async fn brand(_: &mut PgConnection) -> AppResult<String> {
        Ok("ProjectFlo".into())
    }

    fn what(brand: &str) -> String {
        brand.to_string()
    }

    fn actor(id: i32) -> Option<i32> {
        Some(id)
    }
}

#[derive(Template)]
#[template(path = "auth/reset_request.html")]
struct ResetRequestPage {
    brand: String,
    action: &'static str,
    login: &'static str,
    sent: bool,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "auth/set_password.html")]
struct SetPasswordPage {
    brand: String,
    action: String,
    /// Where to ask for a new link when this one no longer works.
    reset: &'static str,
    error: Option<String>,
    invalid: bool,
}

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

/// Send a reset link valid for an hour, if the email is an active login's; returns the mail to
/// send after the commit. The request is throttled first, whether or not the login exists.
async fn request_reset<L: Logins>(
    tx: &mut PgConnection,
    settings: &crate::config::Settings,
    email: &str,
    ip: &str,
) -> AppResult<Option<mail::Outgoing>> {
    throttle::admit_reset(tx, L::THROTTLE, email, ip).await?;
    let Some(who) = L::recipient(tx, email).await? else {
        return Ok(None);
    };
    let brand = L::brand(tx).await?;
    let token = links::issue(tx, "password_reset", L::OWNER, who.id, 1).await?;
    let link = format!("{}{}/{token}", settings.base_url(), L::SET_PAGE);
    let what = L::what(&brand);
    let mail = mail::Mail {
        to_contact_id: who.contact_id,
        to: who.email,
        subject: format!("Reset your {what} password"),
        body: format!(
            "Someone asked to reset your {what} password. If it was you, open this link \
             within an hour:\n\n{link}\n\nIf not, ignore this email."
        ),
        log_summary: "Password reset link sent (valid 1 hour).".into(),
    };
    let outgoing = mail::queue(tx, settings, mail).await?;
    let action = format!("{}.password_reset.request", L::AUDIT);
    let details = serde_json::json!({});
    audit::record(
        tx,
        L::actor(who.id),
        &action,
        L::ENTITY,
        Some(who.id),
        details,
    )
    .await?;
    Ok(Some(outgoing))
}

/// A new password hash for a staff login (its sessions are the caller's business).
async fn set_staff_hash(conn: &mut PgConnection, contributor_id: i32, hash: &str) -> AppResult<()> {
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

/// Set a password from a reset or invitation link; false when the link is used, expired or
/// not this kind of login's (then nothing is to be committed). Whoever knew the old password
/// is out: every session (and API token) ends, and every other link of the login waiting to
/// be used stops working.
async fn set_from_link<L: Logins>(
    tx: &mut PgConnection,
    token: &str,
    hash: &str,
) -> AppResult<bool> {
    let Some(used) = links::consume(tx, token, L::OWNER, L::PURPOSES).await? else {
        return Ok(false);
    };
    let id = used.id;
    L::set_hash(tx, id, hash).await?;
    links::retire_all(tx, L::OWNER, id).await?;
    let action = format!("{}.{}.complete", L::AUDIT, used.purpose);
    let details = serde_json::json!({});
    audit::record(tx, L::actor(id), &action, L::ENTITY, Some(id), details).await?;
    Ok(true)
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
    set_staff_hash(tx, id, hash).await?;
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

/// The "reset your password" page of a kind of login.
pub async fn reset_page<L: Logins>(mut db: Db) -> AppResult<Response> {
    Ok(render(&ResetRequestPage {
        brand: L::brand(&mut db).await?,
        action: L::RESET_PAGE,
        login: L::LOGIN_PAGE,
        sent: false,
        email: String::new(),
        error: None,
    }))
}

/// Asking for a reset link: the same answer whether or not the login exists (the email goes
/// out after the answer); 429 with Retry-After when throttled, for any email alike.
pub async fn reset_request<L: Logins>(
    State(state): State<AppState>,
    mut db: Db,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    let email = form.email.trim().to_lowercase();
    let ip = peer.ip().to_string();
    let mut tx = db.begin().await?;
    let requested = request_reset::<L>(&mut tx, &state.settings, &email, &ip).await;
    let outgoing = match requested {
        Ok(outgoing) => outgoing,
        Err(AppError::RateLimited { retry_after_secs }) => {
            drop(tx);
            let page = ResetRequestPage {
                brand: L::brand(&mut db).await?,
                action: L::RESET_PAGE,
                login: L::LOGIN_PAGE,
                sent: false,
                email: form.email,
                error: Some(format!(
                    "Too many requests. Try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                )),
            };
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, render(&page)).into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
            return Ok(resp);
        }
        Err(e) => return Err(e),
    };
    tx.commit().await?;
    if let Some(o) = outgoing {
        o.send(&state.db, &state.clock);
    }
    Ok(render(&ResetRequestPage {
        brand: L::brand(&mut db).await?,
        action: L::RESET_PAGE,
        login: L::LOGIN_PAGE,
        sent: true,
        email: form.email,
        error: None,
    }))
}

/// The "choose a password" page of an emailed link: the form, or a word that the link is no
/// longer valid (with a way to ask for a new one).
pub async fn set_password_page<L: Logins>(
    mut db: Db,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let valid = links::is_valid(&mut db, &token, L::OWNER, L::PURPOSES).await?;
    Ok(render(&SetPasswordPage {
        brand: L::brand(&mut db).await?,
        action: format!("{}/{token}", L::SET_PAGE),
        reset: L::RESET_PAGE,
        error: None,
        invalid: !valid,
    }))
}

/// Choosing a password from an emailed link: once set, the login page says so; a refused
/// password shows the form again (422); a used or expired link, the form as invalid (410).
pub async fn set_password<L: Logins>(
    mut db: Db,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> AppResult<Response> {
    let result = set_from_link_form::<L>(&mut db, &token, &form).await;
    let page = |error, invalid, brand| SetPasswordPage {
        brand,
        action: format!("{}/{token}", L::SET_PAGE),
        reset: L::RESET_PAGE,
        error,
        invalid,
    };
    match result {
        Ok(true) => {
            let done = format!("{}?notice=password-set", L::LOGIN_PAGE);
            Ok(Redirect::to(&done).into_response())
        }
        Ok(false) => {
            let html = render(&page(None, true, L::brand(&mut db).await?));
            Ok((StatusCode::GONE, html).into_response())
        }
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let error = refusal.field("password").map(str::to_string);
            Ok(refusal.respond(render(&page(error, false, L::brand(&mut db).await?))))
        }
    }
}

/// Check the form, hash the password, and use the link in one transaction (false: the link
/// was not valid).
async fn set_from_link_form<L: Logins>(
    db: &mut Db,
    token: &str,
    form: &NewPasswordForm,
) -> AppResult<bool> {
    form.check()?;
    // The slow hashing holds no connection.
    let hash = db
        .while_idle(crypto::hash_password(form.password.clone()))
        .await??;
    let mut tx = db.begin().await?;
    let done = set_from_link::<L>(&mut tx, token, &hash).await?;
    if done {
        tx.commit().await?;
    }
    Ok(done)
}
