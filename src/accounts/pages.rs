//! Staff log in and out, reset and set passwords, manage their API tokens; the Owner manages
//! users, roles, and reads the audit log.
use crate::auth::{self, Access, Permission, STAFF_COOKIE, Staff, throttle};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::{audit, crypto, mail};
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::net::SocketAddr;

pub fn routes() -> Routes {
    Routes::new()
        .get("/login", Access::Public, login_page)
        .post("/login", Access::Public, login)
        .post("/logout", Access::Staff, logout)
        .get("/password-reset", Access::Public, reset_page)
        .post("/password-reset", Access::Public, reset_request)
        .get("/set-password/{token}", Access::Public, set_password_page)
        .post("/set-password/{token}", Access::Public, set_password)
        .get("/account", Access::Staff, account)
        .post("/account/password", Access::Staff, change_password)
        .post("/account/tokens", Access::Staff, create_token)
        .post("/account/tokens/{id}/revoke", Access::Staff, revoke_token)
        .get("/settings", Access::Staff, settings_index)
        .get(
            "/settings/users",
            Access::Perm(Permission::UsersManage),
            users,
        )
        .post(
            "/settings/users",
            Access::Perm(Permission::UsersManage),
            invite_user,
        )
        .post(
            "/settings/users/{id}/role",
            Access::Perm(Permission::UsersManage),
            change_role,
        )
        .post(
            "/settings/users/{id}/deactivate",
            Access::Perm(Permission::UsersManage),
            deactivate,
        )
        .post(
            "/settings/users/{id}/activate",
            Access::Perm(Permission::UsersManage),
            activate,
        )
        .get(
            "/settings/roles",
            Access::Perm(Permission::UsersManage),
            roles,
        )
        .post(
            "/settings/roles/{id}",
            Access::Perm(Permission::UsersManage),
            save_role,
        )
        .get(
            "/settings/audit",
            Access::Perm(Permission::SettingsManage),
            audit_log,
        )
        .api(Access::Staff, utoipa_axum::routes!(me))
}

// ---------------------------------------------------------------- log in / log out

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub title: &'static str,
    pub action: &'static str,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub reset_link: bool,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    notice: String,
}

/// Only local paths are followed after login (no open redirect).
pub fn safe_next(next: &str, default: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        default.to_string()
    }
}

async fn login_page(Query(q): Query<NextQuery>) -> Response {
    let notice = match q.notice.as_str() {
        "logged-out" => Some("You are logged out.".to_string()),
        "password-set" => Some("Your password is set. Log in with it now.".to_string()),
        _ => None,
    };
    render(&LoginPage {
        title: "Log in to ProjectFlo",
        action: "/login",
        email: String::new(),
        next: safe_next(&q.next, "/"),
        error: None,
        notice,
        reset_link: true,
    })
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
}

pub const BAD_LOGIN: &str = "That email and password do not match an account.";

/// The shared login check of staff and portal: throttle, look up, verify (in constant-ish time).
/// Returns the account id on success.
pub async fn check_login(
    db: &PgPool,
    realm: &str,
    lookup_sql: &str,
    form: &LoginForm,
    ip: &str,
) -> AppResult<Option<(i32, i64)>> {
    let account = form.email.trim().to_lowercase();
    let attempt = throttle::begin_attempt(db, realm, &account, ip).await?;
    let row: Option<(i32, Option<String>)> = sqlx::query_as(lookup_sql)
        .bind(&account)
        .fetch_optional(db)
        .await?;
    let (id, hash) = match row {
        Some((id, hash)) => (Some(id), hash),
        None => (None, None),
    };
    let ok = crypto::verify_password(form.password.clone(), hash).await;
    Ok(if ok { id.map(|id| (id, attempt)) } else { None })
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let lookup = "SELECT cr.contributor_id, cr.password_hash FROM staff_credentials cr
                  JOIN contributors co ON co.id = cr.contributor_id JOIN contacts c ON c.id = co.contact_id
                  WHERE lower(c.email) = $1 AND cr.is_active";
    let page = |error: &str| LoginPage {
        title: "Log in to ProjectFlo",
        action: "/login",
        email: form.email.clone(),
        next: safe_next(&form.next, "/"),
        error: Some(error.to_string()),
        notice: None,
        reset_link: true,
    };
    let checked = match check_login(&state.db, "staff", lookup, &form, &peer.ip().to_string()).await
    {
        Err(AppError::RateLimited { retry_after_secs }) => {
            let msg = format!(
                "Too many attempts. Try again in {} minutes.",
                retry_after_secs.div_ceil(60)
            );
            let mut resp = (
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                render(&page(&msg)),
            )
                .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
            return Ok(resp);
        }
        other => other?,
    };
    let Some((contributor_id, attempt)) = checked else {
        return Ok((
            axum::http::StatusCode::UNAUTHORIZED,
            render(&page(BAD_LOGIN)),
        )
            .into_response());
    };
    let mut tx = state.db.begin().await?;
    throttle::succeeded(&mut tx, attempt).await?;
    // A new session id at every login; the old one (if any) ends.
    if let Some(old) = auth::cookie(&headers, STAFF_COOKIE) {
        sqlx::query("DELETE FROM auth_sessions WHERE id = $1")
            .bind(crypto::token_hash(&old))
            .execute(&mut *tx)
            .await?;
    }
    let sid = auth::create_session(&mut tx, Some(contributor_id), None).await?;
    audit::record(
        &mut tx,
        Some(contributor_id),
        "auth.login",
        "contributor",
        Some(contributor_id),
        serde_json::json!({ "ip": peer.ip().to_string() }),
    )
    .await?;
    tx.commit().await?;
    let mut resp = Redirect::to(&safe_next(&form.next, "/")).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        auth::session_cookie(&state, STAFF_COOKIE, &sid),
    );
    Ok(resp)
}

async fn logout(State(state): State<AppState>, staff: Staff) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    sqlx::query("DELETE FROM auth_sessions WHERE id = $1")
        .bind(&staff.session_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "auth.logout",
        "contributor",
        Some(staff.contributor_id),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    let mut resp = Redirect::to("/login?notice=logged-out").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_cookie(STAFF_COOKIE));
    Ok(resp)
}

// ---------------------------------------------------------------- password reset and invitations

#[derive(Template)]
#[template(path = "auth/reset_request.html")]
struct ResetRequestPage {
    sent: bool,
    email: String,
}

async fn reset_page() -> Response {
    render(&ResetRequestPage {
        sent: false,
        email: String::new(),
    })
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

/// Same answer whether or not the account exists.
async fn reset_request(
    State(state): State<AppState>,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    let email = form.email.trim().to_lowercase();
    let mut tx = state.db.begin().await?;
    let who: Option<(i32, i32, String)> = sqlx::query_as(
        "SELECT co.id, c.id, c.email FROM staff_credentials cr JOIN contributors co ON co.id = cr.contributor_id
         JOIN contacts c ON c.id = co.contact_id WHERE lower(c.email) = $1 AND cr.is_active",
    )
    .bind(&email)
    .fetch_optional(&mut *tx)
    .await?;
    let mut outgoing = None;
    if let Some((contributor_id, contact_id, to)) = who {
        let token = issue_token(&mut tx, "password_reset", Some(contributor_id), None, 1).await?;
        let link = format!("{}/set-password/{token}", state.settings.base_url());
        outgoing = Some(
            mail::queue(&mut tx, &state.settings, mail::Mail {
                to_contact_id: contact_id,
                to,
                subject: "Reset your ProjectFlo password".into(),
                body: format!("Someone asked to reset your ProjectFlo password. If it was you, open this link within an hour:\n\n{link}\n\nIf not, ignore this email."),
                log_summary: "Password reset link sent (valid 1 hour).".into(),
            })
            .await?,
        );
        audit::record(
            &mut tx,
            Some(contributor_id),
            "auth.password_reset.request",
            "contributor",
            Some(contributor_id),
            serde_json::json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    if let Some(o) = outgoing {
        o.send().await;
    }
    Ok(render(&ResetRequestPage {
        sent: true,
        email: form.email,
    }))
}

/// A single-use token (stored hashed) valid for `hours`.
pub async fn issue_token(
    tx: &mut sqlx::PgConnection,
    purpose: &str,
    contributor_id: Option<i32>,
    client_user_id: Option<i32>,
    hours: i64,
) -> Result<String, sqlx::Error> {
    let token = crypto::random_token();
    sqlx::query(
        "INSERT INTO one_time_tokens (token_hash, purpose, contributor_id, client_user_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5::int))",
    )
    .bind(crypto::token_hash(&token))
    .bind(purpose)
    .bind(contributor_id)
    .bind(client_user_id)
    .bind(hours as i32)
    .execute(tx)
    .await?;
    Ok(token)
}

#[derive(Template)]
#[template(path = "auth/set_password.html")]
pub struct SetPasswordPage {
    pub action: String,
    pub error: Option<String>,
    pub invalid: bool,
}

/// Is the token still usable (unused, unexpired) for one of these purposes?
pub async fn token_valid(db: &PgPool, token: &str, purposes: &[&str]) -> Result<bool, sqlx::Error> {
    let purposes: Vec<String> = purposes.iter().map(|p| p.to_string()).collect();
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM one_time_tokens WHERE token_hash = $1 AND purpose = ANY($2)
                        AND used_at IS NULL AND expires_at > now())",
    )
    .bind(crypto::token_hash(token))
    .bind(&purposes)
    .fetch_one(db)
    .await
}

const STAFF_TOKENS: &[&str] = &["password_reset", "staff_invite"];

async fn set_password_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let valid = token_valid(&state.db, &token, STAFF_TOKENS).await?;
    Ok(render(&SetPasswordPage {
        action: format!("/set-password/{token}"),
        error: None,
        invalid: !valid,
    }))
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

impl NewPasswordForm {
    pub fn check(&self) -> Result<(), String> {
        crypto::check_new_password(&self.password).map_err(|m| format!("The password {m}."))?;
        if self.password != self.confirm {
            return Err("The two passwords are not the same.".into());
        }
        Ok(())
    }
}

/// Use a token: mark it used (once, even under concurrent tries) and return whose it is.
pub async fn consume_token(
    tx: &mut sqlx::PgConnection,
    token: &str,
    purposes: &[&str],
) -> Result<Option<(Option<i32>, Option<i32>, String)>, sqlx::Error> {
    let purposes: Vec<String> = purposes.iter().map(|p| p.to_string()).collect();
    sqlx::query_as(
        "UPDATE one_time_tokens SET used_at = now()
         WHERE token_hash = $1 AND purpose = ANY($2) AND used_at IS NULL AND expires_at > now()
         RETURNING contributor_id, client_user_id, purpose",
    )
    .bind(crypto::token_hash(token))
    .bind(&purposes)
    .fetch_optional(tx)
    .await
}

async fn set_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> AppResult<Response> {
    let action = format!("/set-password/{token}");
    if let Err(e) = form.check() {
        let page = SetPasswordPage {
            action,
            error: Some(e),
            invalid: false,
        };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let hash = crypto::hash_password(form.password.clone()).await?;
    let mut tx = state.db.begin().await?;
    let Some((Some(contributor_id), _, purpose)) =
        consume_token(&mut tx, &token, STAFF_TOKENS).await?
    else {
        let page = SetPasswordPage {
            action,
            error: None,
            invalid: true,
        };
        return Ok((axum::http::StatusCode::GONE, render(&page)).into_response());
    };
    sqlx::query("UPDATE staff_credentials SET password_hash = $2, password_changed_at = now() WHERE contributor_id = $1")
        .bind(contributor_id)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    // A reset ends every session and token: whoever knew the old password is out.
    auth::end_all_access(&mut tx, contributor_id).await?;
    audit::record(
        &mut tx,
        Some(contributor_id),
        &format!("auth.{purpose}.complete"),
        "contributor",
        Some(contributor_id),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/login?notice=password-set").into_response())
}

// ---------------------------------------------------------------- my account

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    pub id: i32,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    pub fn status(&self) -> &'static str {
        if self.revoked_at.is_some() {
            "Revoked"
        } else if self.expires_at.is_some_and(|e| e < Utc::now()) {
            "Expired"
        } else {
            "Active"
        }
    }
}

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    flash: Option<String>,
    error: Option<(String, String)>,
}

#[derive(Deserialize, Default)]
struct FlashQuery {
    #[serde(default)]
    done: String,
}

async fn account_page(
    state: &AppState,
    staff: &Staff,
    new_token: Option<String>,
    flash: Option<String>,
    error: Option<(String, String)>,
) -> AppResult<AccountPage> {
    let tokens = sqlx::query_as(
        "SELECT id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens
         WHERE contributor_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC LIMIT 100",
    )
    .bind(staff.contributor_id)
    .fetch_all(&state.db)
    .await?;
    Ok(AccountPage {
        layout: Layout::load(&state.db, staff, "My account", "/account").await?,
        email: staff.email.clone(),
        tokens,
        new_token,
        flash,
        error,
    })
}

async fn account_error(
    state: &AppState,
    staff: &Staff,
    field: &str,
    msg: &str,
) -> AppResult<Response> {
    let page = account_page(
        state,
        staff,
        None,
        None,
        Some((field.to_string(), msg.to_string())),
    )
    .await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

async fn account(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<FlashQuery>,
) -> AppResult<Response> {
    let flash = match q.done.as_str() {
        "password" => {
            Some("Your password is changed. Your other sessions have been logged out.".to_string())
        }
        "revoked" => Some("The token is revoked.".to_string()),
        _ => None,
    };
    Ok(render(
        &account_page(&state, &staff, None, flash, None).await?,
    ))
}

#[derive(Deserialize)]
struct ChangePasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<ChangePasswordForm>,
) -> AppResult<Response> {
    let current: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM staff_credentials WHERE contributor_id = $1")
            .bind(staff.contributor_id)
            .fetch_one(&state.db)
            .await?;
    if !crypto::verify_password(form.current.clone(), current).await {
        return account_error(
            &state,
            &staff,
            "current",
            "This is not your current password.",
        )
        .await;
    }
    let new = NewPasswordForm {
        password: form.password,
        confirm: form.confirm,
    };
    if let Err(e) = new.check() {
        return account_error(&state, &staff, "password", &e).await;
    }
    let hash = crypto::hash_password(new.password).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE staff_credentials SET password_hash = $2, password_changed_at = now() WHERE contributor_id = $1")
        .bind(staff.contributor_id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    // Other sessions end; this one stays.
    sqlx::query("DELETE FROM auth_sessions WHERE contributor_id = $1 AND id <> $2")
        .bind(staff.contributor_id)
        .bind(&staff.session_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "auth.password.change",
        "contributor",
        Some(staff.contributor_id),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/account?done=password").into_response())
}

#[derive(Deserialize)]
struct NewTokenForm {
    #[serde(default)]
    name: String,
    /// Days until it expires; empty for never.
    #[serde(default)]
    expires_in_days: String,
}

async fn create_token(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<NewTokenForm>,
) -> AppResult<Response> {
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return account_error(
            &state,
            &staff,
            "name",
            "Give the token a name of 1 to 100 characters, e.g. the app that will use it.",
        )
        .await;
    }
    let days: Option<i32> = match form.expires_in_days.trim() {
        "" => None,
        d => match d.parse::<i32>() {
            Ok(n) if (1..=3650).contains(&n) => Some(n),
            _ => {
                return account_error(
                    &state,
                    &staff,
                    "expires_in_days",
                    "Enter a number of days from 1 to 3650, or leave it empty.",
                )
                .await;
            }
        },
    };
    let token = format!("pf_{}", crypto::random_token());
    let mut tx = state.db.begin().await?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO api_tokens (contributor_id, name, token_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(days => $4)) RETURNING id",
    )
    .bind(staff.contributor_id)
    .bind(&name)
    .bind(crypto::token_hash(&token))
    .bind(days)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "auth.token.create",
        "api_token",
        Some(id),
        serde_json::json!({ "name": name, "expires_in_days": days }),
    )
    .await?;
    tx.commit().await?;
    Ok(render(
        &account_page(&state, &staff, Some(token), None, None).await?,
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let done = sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND contributor_id = $2 AND revoked_at IS NULL")
        .bind(id)
        .bind(staff.contributor_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("API token"));
    }
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "auth.token.revoke",
        "api_token",
        Some(id),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/account?done=revoked").into_response())
}

// ---------------------------------------------------------------- settings: users

#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsIndex {
    layout: Layout,
    sections: Vec<(&'static str, &'static str, &'static str)>,
}

async fn settings_index(State(state): State<AppState>, staff: Staff) -> AppResult<Response> {
    let all = [
        (
            "/settings/users",
            "Users",
            Permission::UsersManage,
            "Invite staff, change their role, deactivate logins.",
        ),
        (
            "/settings/roles",
            "Roles",
            Permission::UsersManage,
            "What each role may do.",
        ),
        (
            "/settings/audit",
            "Audit log",
            Permission::SettingsManage,
            "Every change: who, what and when.",
        ),
        (
            "/settings/portal",
            "Client portal",
            Permission::BookingsManage,
            "Invite couples to their portal.",
        ),
    ];
    let sections = all
        .iter()
        .filter(|s| staff.can(s.2))
        .map(|s| (s.0, s.1, s.3))
        .collect();
    let page = SettingsIndex {
        layout: Layout::load(&state.db, &staff, "Settings", "/settings").await?,
        sections,
    };
    Ok(render(&page))
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub role_id: i32,
    pub role: String,
    pub active: bool,
    pub invited: bool,
}

#[derive(Template)]
#[template(path = "settings/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    roles: Vec<(i32, String)>,
    me: i32,
    flash: Option<String>,
    invite_link: Option<String>,
    error: Option<(String, String)>,
    form: InviteForm,
}

#[derive(Deserialize, Default, Clone)]
struct InviteForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role_id: i32,
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    flash: Option<String>,
    invite_link: Option<String>,
    error: Option<(String, String)>,
    form: InviteForm,
) -> AppResult<UsersPage> {
    let users = sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email, r.id AS role_id, r.name AS role,
                COALESCE(cr.is_active, false) AS active, (cr.password_hash IS NULL) AS invited
         FROM contributors co JOIN contacts c ON c.id = co.contact_id JOIN roles r ON r.id = co.role_id
         LEFT JOIN staff_credentials cr ON cr.contributor_id = co.id
         ORDER BY COALESCE(cr.is_active, false) DESC, r.id, c.last_name, c.first_name",
    )
    .fetch_all(&state.db)
    .await?;
    Ok(UsersPage {
        layout: Layout::load(&state.db, staff, "Users", "/settings").await?,
        users,
        roles: auth::role_names(&state.db).await?,
        me: staff.contributor_id,
        flash,
        invite_link,
        error,
        form,
    })
}

async fn users(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<FlashQuery>,
) -> AppResult<Response> {
    let flash = match q.done.as_str() {
        "role" => Some("The role is changed.".to_string()),
        "deactivated" => {
            Some("The login is deactivated; its sessions and tokens ended.".to_string())
        }
        "activated" => Some("The login is active again.".to_string()),
        _ => None,
    };
    Ok(render(
        &users_page(&state, &staff, flash, None, None, InviteForm::default()).await?,
    ))
}

/// A plausible email address (the real check is the email that arrives).
pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    let parts: Vec<&str> = email.split('@').collect();
    email.len() <= 255
        && !email.contains(char::is_whitespace)
        && parts.len() == 2
        && !parts[0].is_empty()
        && parts[1].contains('.')
        && !parts[1].starts_with('.')
        && !parts[1].ends_with('.')
}

async fn invite_user(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    let fail = |field: &str, msg: &str, status| {
        let (state, staff, form) = (&state, &staff, form.clone());
        let (field, msg) = (field.to_string(), msg.to_string());
        async move {
            let page = users_page(state, staff, None, None, Some((field, msg)), form).await?;
            AppResult::Ok((status, render(&page)).into_response())
        }
    };
    let unprocessable = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    let email = form.email.trim().to_string();
    if form.first_name.trim().is_empty() || form.first_name.len() > 255 {
        return fail("first_name", "Enter the first name.", unprocessable).await;
    }
    if form.last_name.len() > 255 {
        return fail("last_name", "The last name is too long.", unprocessable).await;
    }
    if !valid_email(&email) {
        return fail(
            "email",
            "Enter an email address like name@studio.com.",
            unprocessable,
        )
        .await;
    }
    let roles = auth::role_names(&state.db).await?;
    if !roles.iter().any(|r| r.0 == form.role_id) {
        return fail("role_id", "Choose a role.", unprocessable).await;
    }
    let mut tx = state.db.begin().await?;
    let existing: Option<(i32, String, bool)> = sqlx::query_as(
        "SELECT c.id, c.type::text, EXISTS (SELECT 1 FROM contributors co WHERE co.contact_id = c.id)
         FROM contacts c WHERE lower(c.email) = lower($1) FOR UPDATE",
    )
    .bind(&email)
    .fetch_optional(&mut *tx)
    .await?;
    let contact_id = match existing {
        Some((_, _, true)) => return fail("email", "This person is already on the team.", axum::http::StatusCode::CONFLICT).await,
        Some((_, kind, false)) if kind != "Contributor" => {
            return fail("email", "This email belongs to a client or lead; use another address for the staff login.", axum::http::StatusCode::CONFLICT).await;
        }
        Some((id, _, _)) => id,
        None => sqlx::query_scalar(
            "INSERT INTO contacts (first_name, last_name, email, type) VALUES ($1, NULLIF($2, ''), $3, 'Contributor') RETURNING id",
        )
        .bind(form.first_name.trim())
        .bind(form.last_name.trim())
        .bind(&email)
        .fetch_one(&mut *tx)
        .await?,
    };
    let contributor_id: i32 = sqlx::query_scalar(
        "INSERT INTO contributors (contact_id, role_id, contributor_type) VALUES ($1, $2, 'Internal') RETURNING id",
    )
    .bind(contact_id)
    .bind(form.role_id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO staff_credentials (contributor_id) VALUES ($1)")
        .bind(contributor_id)
        .execute(&mut *tx)
        .await?;
    let token = issue_token(&mut tx, "staff_invite", Some(contributor_id), None, 7 * 24).await?;
    let link = format!("{}/set-password/{token}", state.settings.base_url());
    let outgoing = mail::queue(
        &mut tx,
        &state.settings,
        mail::Mail {
            to_contact_id: contact_id,
            to: email.clone(),
            subject: format!("{} invited you to ProjectFlo", staff.name),
            body: format!(
                "{} invited you to ProjectFlo. Choose your password within 7 days here:\n\n{link}",
                staff.name
            ),
            log_summary: "Invitation link sent (valid 7 days).".into(),
        },
    )
    .await?;
    let role = roles
        .iter()
        .find(|r| r.0 == form.role_id)
        .map(|r| r.1.clone())
        .unwrap_or_default();
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "users.invite",
        "contributor",
        Some(contributor_id),
        serde_json::json!({ "after": { "email": email, "role": role } }),
    )
    .await?;
    tx.commit().await?;
    outgoing.send().await;
    let shown = state.settings.smtp_url.is_none().then_some(link);
    let flash = Some(format!("{email} is invited as {role}."));
    Ok(render(
        &users_page(&state, &staff, flash, shown, None, InviteForm::default()).await?,
    ))
}

/// Lock the active Owners and say whether `contributor_id` is the last one.
async fn is_last_owner(
    tx: &mut sqlx::PgConnection,
    contributor_id: i32,
) -> Result<bool, sqlx::Error> {
    let owners: Vec<i32> = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id
         WHERE r.name = 'Owner' AND cr.is_active ORDER BY co.id FOR UPDATE OF co, cr",
    )
    .fetch_all(tx)
    .await?;
    Ok(owners == [contributor_id])
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role_id: i32,
}

async fn change_role(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let before: Option<(String, String)> = sqlx::query_as(
        "SELECT r.name, (SELECT name FROM roles WHERE id = $2) FROM contributors co JOIN roles r ON r.id = co.role_id WHERE co.id = $1 FOR UPDATE OF co",
    )
    .bind(id)
    .bind(form.role_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((old, Some(new))) = before.map(|(o, n)| (o, Some(n))) else {
        return Err(AppError::not_found("team member"));
    };
    if old == "Owner" && new != "Owner" && is_last_owner(&mut tx, id).await? {
        return Err(AppError::Conflict(
            "This is the studio's only Owner. Make someone else Owner first.".into(),
        ));
    }
    sqlx::query("UPDATE contributors SET role_id = $2 WHERE id = $1")
        .bind(id)
        .bind(form.role_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "users.role.change",
        "contributor",
        Some(id),
        serde_json::json!({ "before": { "role": old }, "after": { "role": new } }),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/settings/users?done=role").into_response())
}

async fn deactivate(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    if id == staff.contributor_id {
        return Err(AppError::Conflict(
            "You cannot deactivate your own login.".into(),
        ));
    }
    set_active(&state, &staff, id, false).await?;
    Ok(Redirect::to("/settings/users?done=deactivated").into_response())
}

async fn activate(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    set_active(&state, &staff, id, true).await?;
    Ok(Redirect::to("/settings/users?done=activated").into_response())
}

/// Turn a login on or off in one transaction; off ends its sessions and tokens at once, and the
/// studio's last active Owner stays on.
async fn set_active(state: &AppState, staff: &Staff, id: i32, active: bool) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    if !active && is_last_owner(&mut tx, id).await? {
        return Err(AppError::Conflict(
            "This is the studio's only active Owner.".into(),
        ));
    }
    let done = sqlx::query(
        "UPDATE staff_credentials SET is_active = $2 WHERE contributor_id = $1 AND is_active <> $2",
    )
    .bind(id)
    .bind(active)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found(if active {
            "inactive login"
        } else {
            "active login"
        }));
    }
    if !active {
        auth::end_all_access(&mut tx, id).await?;
    }
    let action = if active {
        "users.activate"
    } else {
        "users.deactivate"
    };
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        action,
        "contributor",
        Some(id),
        serde_json::json!({ "before": { "active": !active }, "after": { "active": active } }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- settings: roles

pub struct RoleColumn {
    pub id: i32,
    pub name: String,
    pub locked: bool,
}

#[derive(Template)]
#[template(path = "settings/roles.html")]
struct RolesPage {
    layout: Layout,
    roles: Vec<RoleColumn>,
    /// (permission, description, granted per role in `roles` order)
    rows: Vec<(String, String, Vec<bool>)>,
    flash: Option<String>,
}

async fn roles(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<FlashQuery>,
) -> AppResult<Response> {
    let roles: Vec<RoleColumn> = auth::role_names(&state.db)
        .await?
        .into_iter()
        .map(|(id, name)| RoleColumn {
            id,
            locked: name == "Owner",
            name,
        })
        .collect();
    let grants: Vec<(String, String, Vec<i32>)> = sqlx::query_as(
        "SELECT p.action_name, COALESCE(p.description, ''), COALESCE(array_agg(rp.role_id) FILTER (WHERE rp.role_id IS NOT NULL), '{}')
         FROM permissions p LEFT JOIN role_permissions rp ON rp.permission_id = p.id GROUP BY p.id ORDER BY p.id",
    )
    .fetch_all(&state.db)
    .await?;
    let rows = grants
        .into_iter()
        .map(|(p, d, ids)| {
            let granted = roles.iter().map(|r| ids.contains(&r.id)).collect();
            (p, d, granted)
        })
        .collect();
    let flash = (q.done == "saved").then(|| "The role's permissions are saved.".to_string());
    Ok(render(&RolesPage {
        layout: Layout::load(&state.db, &staff, "Roles", "/settings").await?,
        roles,
        rows,
        flash,
    }))
}

async fn save_role(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let wanted: Vec<String> = fields
        .into_iter()
        .filter(|(k, _)| k == "perm")
        .map(|(_, v)| v)
        .collect();
    let mut tx = state.db.begin().await?;
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM roles WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(name) = name else {
        return Err(AppError::not_found("role"));
    };
    if name == "Owner" {
        return Err(AppError::Conflict(
            "The Owner role always has every permission, so the studio can never lock itself out."
                .into(),
        ));
    }
    let unknown: Vec<String> = sqlx::query_scalar(
        "SELECT w FROM unnest($1::text[]) w WHERE w NOT IN (SELECT action_name FROM permissions)",
    )
    .bind(&wanted)
    .fetch_all(&mut *tx)
    .await?;
    if !unknown.is_empty() {
        return Err(AppError::field(
            "perm",
            format!("unknown permission(s): {}", unknown.join(", ")),
        ));
    }
    let before: Vec<String> = sqlx::query_scalar(
        "SELECT p.action_name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = $1 ORDER BY 1",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM role_permissions WHERE role_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO role_permissions (role_id, permission_id) SELECT $1, id FROM permissions WHERE action_name = ANY($2)")
        .bind(id)
        .bind(&wanted)
        .execute(&mut *tx)
        .await?;
    let mut after = wanted.clone();
    after.sort();
    after.dedup();
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "roles.permissions.change",
        "role",
        Some(id),
        serde_json::json!({ "role": name, "before": before, "after": after }),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/settings/roles?done=saved").into_response())
}

// ---------------------------------------------------------------- settings: audit log

#[derive(Deserialize, Default)]
struct AuditFilter {
    #[serde(default)]
    person: Option<i32>,
    #[serde(default)]
    entity: String,
    #[serde(default)]
    from: Option<NaiveDate>,
    #[serde(default)]
    to: Option<NaiveDate>,
    #[serde(default)]
    page: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    pub who: Option<String>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<i32>,
    pub details: Option<serde_json::Value>,
}

impl AuditPage {
    fn person_is(&self, id: &i32) -> bool {
        self.person == Some(*id)
    }
}

impl AuditRow {
    pub fn details_text(&self) -> String {
        self.details
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "settings/audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<AuditRow>,
    people: Vec<(i32, String)>,
    entities: Vec<String>,
    person: Option<i32>,
    entity: String,
    from: String,
    to: String,
    page: i64,
    has_next: bool,
    query_base: String,
}

const AUDIT_PAGE: i64 = 50;

async fn audit_log(
    State(state): State<AppState>,
    staff: Staff,
    q: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let Query(f) = q.map_err(|_| {
        AppError::field(
            "filters",
            "use a person from the list and dates like 2026-11-25",
        )
    })?;
    let page = f.page.unwrap_or(1).max(1);
    let mut rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT a.\"timestamp\" AS at, trim(concat_ws(' ', c.first_name, c.last_name)) AS who, a.action,
                a.entity_type, a.entity_id, a.details
         FROM audit_log a LEFT JOIN contributors co ON co.id = a.contributor_id LEFT JOIN contacts c ON c.id = co.contact_id
         WHERE ($1::int IS NULL OR a.contributor_id = $1)
           AND ($2 = '' OR a.entity_type = $2)
           AND ($3::date IS NULL OR a.\"timestamp\" >= $3::date)
           AND ($4::date IS NULL OR a.\"timestamp\" < $4::date + 1)
         ORDER BY a.\"timestamp\" DESC, a.id DESC LIMIT $5 OFFSET $6",
    )
    .bind(f.person)
    .bind(&f.entity)
    .bind(f.from)
    .bind(f.to)
    .bind(AUDIT_PAGE + 1)
    .bind((page - 1) * AUDIT_PAGE)
    .fetch_all(&state.db)
    .await?;
    let has_next = rows.len() as i64 > AUDIT_PAGE;
    rows.truncate(AUDIT_PAGE as usize);
    let people = sqlx::query_as(
        "SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)) FROM contributors co JOIN contacts c ON c.id = co.contact_id ORDER BY 2",
    )
    .fetch_all(&state.db)
    .await?;
    let entities = sqlx::query_scalar(
        "SELECT DISTINCT entity_type FROM audit_log WHERE entity_type IS NOT NULL ORDER BY 1",
    )
    .fetch_all(&state.db)
    .await?;
    let from = f.from.map(|d| d.to_string()).unwrap_or_default();
    let to = f.to.map(|d| d.to_string()).unwrap_or_default();
    let query_base = serde_urlencoded::to_string([
        (
            "person",
            f.person.map(|p| p.to_string()).unwrap_or_default(),
        ),
        ("entity", f.entity.clone()),
        ("from", from.clone()),
        ("to", to.clone()),
    ])
    .unwrap_or_default();
    Ok(render(&AuditPage {
        layout: Layout::load(&state.db, &staff, "Audit log", "/settings").await?,
        rows,
        people,
        entities,
        person: f.person,
        entity: f.entity,
        from,
        to,
        page,
        has_next,
        query_base,
    }))
}

// ---------------------------------------------------------------- API

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub contributor_id: i32,
    pub name: String,
    pub email: String,
    pub role: String,
    pub permissions: Vec<String>,
}

/// Who the caller is, and what they may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = crate::http::error::Problem)))]
async fn me(staff: Staff) -> Json<Me> {
    Json(Me {
        contributor_id: staff.contributor_id,
        name: staff.name,
        email: staff.email,
        role: staff.role,
        permissions: staff.permissions,
    })
}
