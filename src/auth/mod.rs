//! Who may do what: staff and portal sessions, API tokens, permissions, CSRF, throttling, audit.
pub mod permission;
pub mod throttle;

pub use permission::Permission;

use crate::config::Settings;
use crate::crypto;
use crate::db::request::request_db;
use crate::error::AppError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;

/// What a route needs. Every route declares one (see `http::routes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; the path must be listed in `PUBLIC_ROUTES`.
    Public,
    /// Any logged-in staff member.
    Staff,
    /// A staff member whose role has this permission (`permissions.action_name`).
    Perm(Permission),
    /// A logged-in client portal user.
    Portal,
}

/// The only routes anyone may call without logging in. `http::routes` refuses a Public route
/// that is not here.
pub const PUBLIC_ROUTES: &[&str] = &[
    "/healthz",
    "/readyz",
    "/static/{file}",
    "/api/openapi.json",
    "/login",
    "/password-reset",
    "/set-password/{token}",
    "/proposal/{token}/latest",
    "/portal/login",
    "/portal/password-reset",
    "/portal/set-password/{token}",
    "/inquire",
    "/proposal/{token}",
    "/proposal/{token}/accept",
    "/contract/{token}",
    "/contract/{token}/sign",
    "/brand/logo",
    "/webhooks/stripe",
    "/calendar/feed/{token}",
    "/d/{token}",
];

pub const STAFF_COOKIE: &str = "pf_session";
pub const PORTAL_COOKIE: &str = "pf_portal";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf";

/// A logged-in staff member (by session cookie or API token).
#[derive(Debug, Clone)]
pub struct Staff {
    pub contributor_id: i32,
    pub name: String,
    pub email: String,
    pub role: String,
    pub permissions: Vec<String>,
    /// The session's CSRF token (None when the request came with an API token).
    pub csrf: Option<String>,
    pub session_id: Option<String>,
}

impl Staff {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.iter().any(|p| p == permission.name())
    }
}

/// A logged-in client portal user.
#[derive(Debug, Clone)]
pub struct PortalUser {
    pub client_user_id: i32,
    pub client_id: i32,
    pub email: String,
    pub name: String,
    pub csrf: String,
    pub session_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Staff>()
            .cloned()
            .ok_or(AppError::Unauthorized)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PortalUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<PortalUser>()
            .cloned()
            .ok_or(AppError::Unauthorized)
    }
}

/// The value of a cookie in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Set-Cookie for a session: HttpOnly, SameSite=Lax, Secure over https.
pub fn session_cookie(state: &AppState, name: &str, value: &str) -> HeaderValue {
    let max_age = state.settings.session_absolute_hours as u64 * 3600;
    let secure = if state.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap()
}

pub fn clear_cookie(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    ))
    .unwrap()
}

/// Start a session for a staff member or a portal user; returns the session id.
pub async fn create_session(
    tx: &mut sqlx::PgConnection,
    contributor_id: Option<i32>,
    client_user_id: Option<i32>,
) -> Result<String, sqlx::Error> {
    let id = crypto::random_token();
    sqlx::query(
        "INSERT INTO auth_sessions (id, contributor_id, client_user_id, csrf_token)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(crypto::token_hash(&id))
    .bind(contributor_id)
    .bind(client_user_id)
    .bind(crypto::random_token())
    .execute(tx)
    .await?;
    Ok(id)
}

const STAFF_SELECT: &str = "
    SELECT co.id AS contributor_id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name,
           c.email, r.name AS role,
           COALESCE(array_agg(p.action_name::text) FILTER (WHERE p.id IS NOT NULL), '{}')
             AS permissions
    FROM contributors co
    JOIN contacts c ON c.id = co.contact_id
    JOIN roles r ON r.id = co.role_id
    JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
    LEFT JOIN role_permissions rp ON rp.role_id = r.id
    LEFT JOIN permissions p ON p.id = rp.permission_id";

#[derive(sqlx::FromRow)]
struct StaffRow {
    contributor_id: i32,
    name: String,
    email: String,
    role: String,
    permissions: Vec<String>,
}

impl StaffRow {
    fn staff(self, csrf: Option<String>, session_id: Option<String>) -> Staff {
        Staff {
            contributor_id: self.contributor_id,
            name: self.name,
            email: self.email,
            role: self.role,
            permissions: self.permissions,
            csrf,
            session_id,
        }
    }
}

/// How often "last used" / "last seen" is written: authentication reads, and writes at most
/// once a minute per token or session.
const TOUCH_EVERY: &str = "interval '1 minute'";

/// The staff member behind an API token (`$1`: the token's hash), touching the token. (The SQL
/// text is also what `projectflo bench api` gives pgbench.)
pub fn token_sql() -> String {
    // `::bpchar`: token_hash is CHAR(64); compared as text its unique index is not used.
    format!(
        "WITH t AS (SELECT id, contributor_id, last_used_at FROM api_tokens
                    WHERE token_hash = $1::bpchar AND revoked_at IS NULL
                      AND (expires_at IS NULL OR expires_at > now())),
              touched AS (UPDATE api_tokens a SET last_used_at = now() FROM t
                          WHERE a.id = t.id AND (t.last_used_at IS NULL
                            OR t.last_used_at < now() - {TOUCH_EVERY}))
         {STAFF_SELECT} WHERE co.id = (SELECT contributor_id FROM t)
         GROUP BY co.id, c.id, r.id"
    )
}

/// The staff member `$1` (a contributor id) with the permissions of their role.
pub fn staff_sql() -> String {
    format!("{STAFF_SELECT} WHERE co.id = $1 GROUP BY co.id, c.id, r.id")
}

/// A live session of one kind (`owner`: `contributor_id` or `client_user_id`) by its hash `$1`,
/// idle for less than `$2` seconds and younger than `$3` seconds, touched at most once a minute.
pub fn session_sql(owner: &str) -> String {
    format!(
        "WITH s AS (SELECT id, csrf_token, {owner} AS owner, last_seen_at FROM auth_sessions
                    WHERE id = $1 AND {owner} IS NOT NULL
                      AND last_seen_at > now() - make_interval(secs => $2)
                      AND created_at > now() - make_interval(secs => $3)),
              touched AS (UPDATE auth_sessions a SET last_seen_at = now() FROM s
                          WHERE a.id = s.id AND s.last_seen_at < now() - {TOUCH_EVERY})
         SELECT id, csrf_token, owner FROM s"
    )
}

/// The staff member behind a session cookie or an `Authorization: Bearer` token, if valid.
/// Sessions past their idle or absolute lifetime are deleted; a valid token or session is
/// touched when it was last touched over a minute ago (else the check only reads).
pub async fn authenticate_staff(
    db: &mut PgConnection,
    settings: &Settings,
    headers: &HeaderMap,
) -> Result<Option<Staff>, AppError> {
    if let Some(token) = bearer(headers) {
        let row: Option<StaffRow> = sqlx::query_as(&token_sql())
            .bind(crypto::token_hash(&token))
            .fetch_optional(&mut *db)
            .await?;
        return Ok(row.map(|r| r.staff(None, None)));
    }
    let Some(sid) = cookie(headers, STAFF_COOKIE) else {
        return Ok(None);
    };
    let Some((session_hash, csrf, contributor_id)) =
        touch_session(&mut *db, settings, &sid, "contributor_id").await?
    else {
        return Ok(None);
    };
    let row: Option<StaffRow> = sqlx::query_as(&staff_sql())
        .bind(contributor_id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| r.staff(Some(csrf), Some(session_hash))))
}

/// The portal user behind the portal session cookie, if valid.
pub async fn authenticate_portal(
    db: &mut PgConnection,
    settings: &Settings,
    headers: &HeaderMap,
) -> Result<Option<PortalUser>, AppError> {
    let Some(sid) = cookie(headers, PORTAL_COOKIE) else {
        return Ok(None);
    };
    let Some((session_id, csrf, client_user_id)) =
        touch_session(&mut *db, settings, &sid, "client_user_id").await?
    else {
        return Ok(None);
    };
    let row: Option<(i32, String, String)> = sqlx::query_as(
        "SELECT cu.client_id, cu.email, trim(concat_ws(' ', c.first_name, c.last_name))
         FROM client_users cu JOIN clients cl ON cl.id = cu.client_id
         JOIN contacts c ON c.id = cl.contact_id
         WHERE cu.id = $1 AND cu.is_active",
    )
    .bind(client_user_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(client_id, email, name)| PortalUser {
        client_user_id,
        client_id,
        email,
        name,
        csrf,
        session_id,
    }))
}

/// Validate and touch a session of one kind; returns (stored id, csrf, owner id).
async fn touch_session(
    db: &mut PgConnection,
    settings: &Settings,
    sid: &str,
    owner: &str,
) -> Result<Option<(String, String, i32)>, AppError> {
    let idle = settings.session_idle_minutes as f64 * 60.0;
    let absolute = settings.session_absolute_hours as f64 * 3600.0;
    let hash = crypto::token_hash(sid);
    let alive: Option<(String, String, i32)> = sqlx::query_as(&session_sql(owner))
        .bind(&hash)
        .bind(idle)
        .bind(absolute)
        .fetch_optional(&mut *db)
        .await?;
    if alive.is_none() {
        // Only an expired session of this realm ends here: a session id sent in the other
        // realm's cookie simply does not authenticate.
        sqlx::query(&format!(
            "DELETE FROM auth_sessions WHERE id = $1 AND {owner} IS NOT NULL"
        ))
        .bind(&hash)
        .execute(db)
        .await?;
    }
    Ok(alive)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Not logged in: 401 on the API, a redirect to the right login page in the UI.
fn unauthenticated(req: &Request, portal: bool) -> Response {
    let path = req.uri().path();
    if is_api(path) {
        return AppError::Unauthorized.into_response();
    }
    let next = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let login = if portal { "/portal/login" } else { "/login" };
    let to = format!("{login}?next={}", urlencode(next));
    if req.headers().contains_key("hx-request") {
        return (StatusCode::UNAUTHORIZED, [("hx-redirect", to)]).into_response();
    }
    Redirect::to(&to).into_response()
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .to_string()
}

/// Enforce `access` for one route: authenticate, check the permission, check CSRF on
/// state-changing cookie requests, and hand the principal to the handler.
pub async fn guard(access: Access, req: Request, next: Next) -> Response {
    match check(access, req).await {
        Ok(req) => next.run(req).await,
        Err(resp) => resp,
    }
}

async fn check(access: Access, mut req: Request) -> Result<Request, Response> {
    if access == Access::Public {
        return Ok(req);
    }
    let state = req
        .extensions()
        .get::<AppState>()
        .cloned()
        .expect("AppState extension");
    // The request's own connection, shared with the handler (see `db::request`).
    let mut db = request_db(req.extensions())
        .map_err(|e| e.into_response())?
        .conn()
        .await
        .map_err(|e| e.into_response())?;
    let csrf = if access == Access::Portal {
        let Some(user) = authenticate_portal(&mut db, &state.settings, req.headers())
            .await
            .map_err(|e| e.into_response())?
        else {
            return Err(unauthenticated(&req, true));
        };
        let csrf = Some(user.csrf.clone());
        req.extensions_mut().insert(user);
        csrf
    } else {
        let Some(staff) = authenticate_staff(&mut db, &state.settings, req.headers())
            .await
            .map_err(|e| e.into_response())?
        else {
            return Err(unauthenticated(&req, false));
        };
        if let Access::Perm(p) = access {
            if !staff.can(p) {
                return Err(AppError::Forbidden(format!(
                    "Your role ({}) does not allow this. \
                     Ask the studio owner for the \"{p}\" permission.",
                    staff.role
                ))
                .into_response());
            }
        }
        let csrf = staff.csrf.clone();
        req.extensions_mut().insert(staff);
        csrf
    };
    drop(db);
    // API tokens are not sent by browsers on their own: only cookie sessions need the CSRF token.
    match csrf {
        Some(expected) if unsafe_method(req.method()) => {
            let limit = state.settings.body_limit_bytes as usize;
            verify_csrf(req, &expected, limit).await
        }
        _ => Ok(req),
    }
}

/// The CSRF token must come as the X-CSRF-Token header (htmx, fetch) or the `csrf` form field.
async fn verify_csrf(req: Request, expected: &str, limit: usize) -> Result<Request, Response> {
    let forbidden = || {
        AppError::Forbidden(
            "This form has expired or did not come from ProjectFlo. Reload the page and try again."
                .into(),
        )
        .into_response()
    };
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return if h.as_bytes() == expected.as_bytes() {
            Ok(req)
        } else {
            Err(forbidden())
        };
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // File uploads (multipart) carry the token in the form's action URL: `?csrf=...`.
    if content_type.starts_with("multipart/form-data") {
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
        let ok = query.iter().any(|(k, v)| k == CSRF_FIELD && v == expected);
        return if ok { Ok(req) } else { Err(forbidden()) };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(forbidden());
    }
    let (parts, body) = req.into_parts();
    // The form is read up to the server's body limit, as any handler would read it.
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        AppError::BadRequest {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "This form is too large: the server accepts at most {} MiB.",
                limit / (1024 * 1024)
            ),
        }
        .into_response()
    })?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let ok = fields.iter().any(|(k, v)| k == CSRF_FIELD && v == expected);
    if !ok {
        return Err(forbidden());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// End every session and API token of a staff member (deactivation, password reset).
pub async fn end_all_access(
    tx: &mut sqlx::PgConnection,
    contributor_id: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM auth_sessions WHERE contributor_id = $1")
        .bind(contributor_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE api_tokens SET revoked_at = now() WHERE contributor_id = $1 AND revoked_at IS NULL",
    )
    .bind(contributor_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
