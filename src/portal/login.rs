//! The couple's login: logging in and out of the portal (its own session and cookie), and
//! choosing a password from an invitation link. The forms and checks are the staff login's.
use crate::accounts::forms::{LoginForm, NewPasswordForm};
use crate::accounts::links;
use crate::accounts::login::{self as staff_login, Credential, LoginPage, NextQuery, check_login};
use crate::accounts::passwords::{set_from_link_form, set_password_answer, set_password_form};
use crate::audit;
use crate::auth::{self, Access, PORTAL_COOKIE, PortalUser, throttle};
use crate::db::Db;
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::layout::render;
use crate::http::redirect::local_path;
use crate::http::routes::Routes;
use crate::studio::Studio;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new()
        .get("/portal/login", Access::Public, login_page)
        .post("/portal/login", Access::Public, login)
        .post("/portal/logout", Access::Portal, logout)
        .get(
            "/portal/set-password/{token}",
            Access::Public,
            set_password_page,
        )
        .post("/portal/set-password/{token}", Access::Public, set_password)
}

/// The links a couple may choose a password with.
const PORTAL_LINKS: &[&str] = &["portal_invite", "password_reset"];

fn login_form(
    studio: String,
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
) -> LoginPage {
    LoginPage {
        brand: studio,
        title: "Your wedding film portal",
        action: "/portal/login",
        email,
        next,
        error,
        notice,
        reset_link: false,
    }
}

/// Where to go after logging in: a portal page, the portal's home otherwise.
fn portal_next(next: &str) -> String {
    let next = local_path(next, "/portal");
    if next.starts_with("/portal") {
        next
    } else {
        "/portal".into()
    }
}

/// The active portal login with this (lowercased) email; an invited couple has no password.
async fn credential(conn: &mut PgConnection, email: &str) -> AppResult<Option<Credential>> {
    Ok(sqlx::query_as(
        "SELECT id, NULLIF(password_hash, '!') AS hash FROM client_users
         WHERE lower(email) = $1 AND is_active",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?)
}

/// A portal login that passed: the attempt counts as a success and a session starts. Returns
/// the session's token.
async fn start_session(
    tx: &mut PgConnection,
    client_user_id: i32,
    attempt: i64,
) -> AppResult<String> {
    throttle::succeeded(tx, attempt).await?;
    let sid = auth::create_session(tx, None, Some(client_user_id)).await?;
    sqlx::query("UPDATE client_users SET last_login_date = now() WHERE id = $1")
        .bind(client_user_id)
        .execute(&mut *tx)
        .await?;
    Ok(sid)
}

/// Set a couple's password from their link; false when the link is used, expired or not a
/// couple's (then nothing is to be committed). Their sessions end.
async fn set_from_link(tx: &mut PgConnection, token: &str, hash: &str) -> AppResult<bool> {
    let used = links::consume(tx, token, PORTAL_LINKS).await?;
    let Some(links::Used {
        client_user_id: Some(id),
        ..
    }) = used
    else {
        return Ok(false);
    };
    sqlx::query("UPDATE client_users SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM auth_sessions WHERE client_user_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let action = "portal.password.set";
    audit::record(
        tx,
        None,
        action,
        "client_user",
        Some(id),
        serde_json::json!({}),
    )
    .await?;
    Ok(true)
}

async fn login_page(mut db: Db, Query(q): Query<NextQuery>) -> AppResult<Response> {
    Ok(render(&login_form(
        Studio::load(&mut db).await?.studio_name,
        String::new(),
        local_path(&q.next, "/portal"),
        None,
        staff_login::notice(&q.notice),
    )))
}

async fn login(
    State(state): State<AppState>,
    mut db: Db,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = portal_next(&form.next);
    let ip = peer.ip().to_string();
    let checked = check_login(&mut db, "portal", &form, &ip, credential).await;
    let (client_user_id, attempt) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            let studio = Studio::load(&mut db).await?.studio_name;
            let page = |error| login_form(studio, form.email, next, Some(error), None);
            return staff_login::refused(e, page);
        }
    };
    let mut tx = db.begin().await?;
    let sid = start_session(&mut tx, client_user_id, attempt).await?;
    tx.commit().await?;
    let mut resp = Redirect::to(&next).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        auth::session_cookie(&state, PORTAL_COOKIE, &sid),
    );
    Ok(resp)
}

async fn logout(db: Db, user: PortalUser) -> AppResult<Response> {
    let mut conn = db;
    staff_login::delete_session(&mut conn, Some(&user.session_id)).await?;
    let mut resp = Redirect::to("/portal/login?notice=logged-out").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_cookie(PORTAL_COOKIE));
    Ok(resp)
}

async fn set_password_page(mut db: Db, Path(token): Path<String>) -> AppResult<Response> {
    let action = format!("/portal/set-password/{token}");
    set_password_form(&mut db, &token, PORTAL_LINKS, action).await
}

async fn set_password(
    mut db: Db,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> AppResult<Response> {
    let action = format!("/portal/set-password/{token}");
    let result = set_from_link_form(&mut db, &token, &form, set_from_link).await;
    set_password_answer(action, result, "/portal/login?notice=password-set")
}
