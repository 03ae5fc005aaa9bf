//! The couple's login: logging in and out of the portal (its own session and cookie), and
//! their password: asking for a reset link and choosing a password from it or from their
//! invitation. The forms, checks and the password flow are the staff login's
//! (`accounts::login`, `accounts::passwords`); `CoupleLogins` says what differs.
use crate::accounts::forms::LoginForm;
use crate::accounts::links::Owner;
use crate::accounts::login::{self as staff_login, Credential, LoginPage, NextQuery, check_login};
use crate::accounts::passwords::{self, Logins, Recipient};
use crate::auth::{self, Access, PORTAL_COOKIE, PortalUser, throttle};
use crate::db::Db;
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::layout::render;
use crate::http::redirect::local_path;
use crate::http::routes::Routes;
use crate::studio::Studio;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    use passwords::{reset_page, reset_request, set_password, set_password_page};
    Routes::new()
        .get("/portal/login", Access::Public, login_page)
        .post("/portal/login", Access::Public, login)
        .post("/portal/logout", Access::Portal, logout)
        .get(
            "/portal/password-reset",
            Access::Public,
            reset_page::<CoupleLogins>,
        )
        .post(
            "/portal/password-reset",
            Access::Public,
            reset_request::<CoupleLogins>,
        )
        .get(
            "/portal/set-password/{token}",
            Access::Public,
            set_password_page::<CoupleLogins>,
        )
        .post(
            "/portal/set-password/{token}",
            Access::Public,
            set_password::<CoupleLogins>,
        )
}

/// Couples' portal logins, for the password flow: by their login's email, in the studio's
/// name.
pub struct CoupleLogins;

impl Logins for CoupleLogins {
    const OWNER: Owner = Owner::Couple;
    const PURPOSES: &'static [&'static str] = &["password_reset", "portal_invite"];
    const THROTTLE: &'static str = "portal-reset";
    const RESET_PAGE: &'static str = "/portal/password-reset";
    const SET_PAGE: &'static str = "/portal/set-password";
    const LOGIN_PAGE: &'static str = "/portal/login";
    const AUDIT: &'static str = "portal";
    const ENTITY: &'static str = "client_user";

    async fn recipient(conn: &mut PgConnection, email: &str) -> AppResult<Option<Recipient>> {
        Ok(sqlx::query_as(
            "SELECT cu.id, cl.contact_id, cu.email FROM client_users cu
             JOIN clients cl ON cl.id = cu.client_id WHERE lower(cu.email) = $1 AND cu.is_active",
        )
        .bind(email)
        .fetch_optional(conn)
        .await?)
    }

    async fn set_hash(tx: &mut PgConnection, id: i32, hash: &str) -> AppResult<()> {
        sqlx::query("UPDATE client_users SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM auth_sessions WHERE client_user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    async fn brand(conn: &mut PgConnection) -> AppResult<String> {
        Ok(Studio::load(conn).await?.studio_name)
    }

    fn what(brand: &str) -> String {
        format!("{brand} portal")
    }

    fn actor(_: i32) -> Option<i32> {
        None
    }
}

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
        reset: CoupleLogins::RESET_PAGE,
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
