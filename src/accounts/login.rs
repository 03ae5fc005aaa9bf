//! Logging in and out: the login page staff and couples share, the throttled password check
//! both use, and the staff session (a new one at every login, ended at logout).
use super::forms::LoginForm;
use crate::auth::{self, Access, STAFF_COOKIE, Staff, throttle};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::layout::render;
use crate::http::redirect::local_path;
use crate::http::routes::Routes;
use crate::{audit, crypto};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new()
        .get("/login", Access::Public, login_page)
        .post("/login", Access::Public, login)
        .post("/logout", Access::Staff, logout)
}

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    /// Whose login this is: ProjectFlo for staff, the studio's name for its couples.
    pub brand: String,
    pub title: &'static str,
    pub action: &'static str,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// Where to ask for a reset link ("Forgot your password?").
    pub reset: &'static str,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub notice: String,
}

pub const BAD_LOGIN: &str = "That email and password do not match an account.";

/// The message of a `?notice=` the login page is sent to.
pub fn notice(notice: &str) -> Option<String> {
    match notice {
        "logged-out" => Some("You are logged out.".to_string()),
        "password-set" => Some("Your password is set. Log in with it now.".to_string()),
        _ => None,
    }
}

fn staff_page(
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
) -> LoginPage {
    LoginPage {
        brand: "ProjectFlo".into(),
        title: "Log in to ProjectFlo",
        action: "/login",
        email,
        next,
        error,
        notice,
        reset: "/password-reset",
    }
}

/// An account's id and password hash (None: no password yet).
#[derive(sqlx::FromRow)]
pub struct Credential {
    pub id: i32,
    pub hash: Option<String>,
}

/// The active staff login with this (lowercased) email.
pub async fn staff_credential(
    conn: &mut PgConnection,
    email: &str,
) -> AppResult<Option<Credential>> {
    Ok(sqlx::query_as(
        "SELECT cr.contributor_id AS id, cr.password_hash AS hash FROM staff_credentials cr
         JOIN contributors co ON co.id = cr.contributor_id JOIN contacts c ON c.id = co.contact_id
         WHERE lower(c.email) = $1 AND cr.is_active",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?)
}

/// The shared login check of staff and portal: throttle, look up, verify (in constant-ish
/// time). Returns the account id and the attempt; `Unauthorized` when the email and password
/// do not match, `RateLimited` when throttled.
pub async fn check_login(
    db: &mut Db,
    realm: &str,
    form: &LoginForm,
    ip: &str,
    lookup: impl AsyncFnOnce(&mut PgConnection, &str) -> AppResult<Option<Credential>>,
) -> AppResult<(i32, i64)> {
    let account = form.email.trim().to_lowercase();
    let attempt = throttle::begin_attempt(db, realm, &account, ip).await?;
    let found = lookup(db, &account).await?;
    let (id, hash) = found.map_or((None, None), |c| (Some(c.id), c.hash));
    // The slow hashing holds no connection.
    let ok = db
        .while_idle(crypto::verify_password(form.password.clone(), hash))
        .await?;
    match id {
        Some(id) if ok => Ok((id, attempt)),
        _ => Err(AppError::Unauthorized),
    }
}

/// A refused login: the form again with the reason, 429 with Retry-After when throttled, 401
/// when the email and password do not match. Any other error stays one.
pub fn refused(e: AppError, page: impl FnOnce(String) -> LoginPage) -> AppResult<Response> {
    match e {
        AppError::RateLimited { retry_after_secs } => {
            let msg = format!(
                "Too many attempts. Try again in {} minutes.",
                retry_after_secs.div_ceil(60)
            );
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, render(&page(msg))).into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
            Ok(resp)
        }
        AppError::Unauthorized => {
            Ok((StatusCode::UNAUTHORIZED, render(&page(BAD_LOGIN.into()))).into_response())
        }
        other => Err(other),
    }
}

/// End one session (by its stored id, the token's hash).
pub async fn delete_session(conn: &mut PgConnection, id: Option<&str>) -> AppResult<()> {
    sqlx::query("DELETE FROM auth_sessions WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A staff login that passed: the attempt counts as a success, the old session (if any) ends
/// and a new one starts. Returns the new session's token.
async fn start_session(
    tx: &mut PgConnection,
    contributor_id: i32,
    attempt: i64,
    old_session: Option<&str>,
    ip: &str,
) -> AppResult<String> {
    throttle::succeeded(tx, attempt).await?;
    if let Some(old) = old_session {
        delete_session(tx, Some(&crypto::token_hash(old))).await?;
    }
    let sid = auth::create_session(tx, Some(contributor_id), None).await?;
    audit::record(
        tx,
        Some(contributor_id),
        "auth.login",
        "contributor",
        Some(contributor_id),
        serde_json::json!({ "ip": ip }),
    )
    .await?;
    Ok(sid)
}

/// Logging out: the session ends.
async fn end_session(tx: &mut PgConnection, staff: &Staff) -> AppResult<()> {
    delete_session(tx, staff.session_id.as_deref()).await?;
    audit::record(
        tx,
        Some(staff.contributor_id),
        "auth.logout",
        "contributor",
        Some(staff.contributor_id),
        serde_json::json!({}),
    )
    .await?;
    Ok(())
}

async fn login_page(Query(q): Query<NextQuery>) -> Response {
    render(&staff_page(
        String::new(),
        local_path(&q.next, "/"),
        None,
        notice(&q.notice),
    ))
}

async fn login(
    State(state): State<AppState>,
    mut db: Db,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = local_path(&form.next, "/");
    let ip = peer.ip().to_string();
    let checked = check_login(&mut db, "staff", &form, &ip, staff_credential).await;
    let (contributor_id, attempt) = match checked {
        Ok(ok) => ok,
        Err(e) => return refused(e, |error| staff_page(form.email, next, Some(error), None)),
    };
    // A new session id at every login; the old one (if any) ends.
    let old = auth::cookie(&headers, STAFF_COOKIE);
    let mut tx = db.begin().await?;
    let sid = start_session(&mut tx, contributor_id, attempt, old.as_deref(), &ip).await?;
    tx.commit().await?;
    let mut resp = Redirect::to(&next).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        auth::session_cookie(&state, STAFF_COOKIE, &sid),
    );
    Ok(resp)
}

async fn logout(mut db: Db, staff: Staff) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    end_session(&mut tx, &staff).await?;
    tx.commit().await?;
    let mut resp = Redirect::to("/login?notice=logged-out").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_cookie(STAFF_COOKIE));
    Ok(resp)
}
