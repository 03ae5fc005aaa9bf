//! The couple's portal: its own login and session; a portal user sees only their own client's
//! projects, quotes, invoices, documents and deliveries (anything else is a 404).
use crate::accounts::forms::{LoginForm, NewPasswordForm, safe_next};
use crate::accounts::links;
use crate::accounts::login::{Credential, LoginPage, check_login};
use crate::accounts::passwords::SetPasswordPage;
use crate::auth::{Access, PORTAL_COOKIE, Permission, PortalUser, Staff};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::http::{AppError, AppResult, AppState};
use crate::money;
use crate::{audit, crypto, mail};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
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
        .get("/portal", Access::Portal, home)
        .get("/portal/projects/{id}", Access::Portal, project)
        .get("/portal/quotes/{id}", Access::Portal, quote)
        .get("/portal/invoices/{id}", Access::Portal, invoice)
        .get("/portal/documents/{id}", Access::Portal, document)
        .get("/portal/deliveries/{id}", Access::Portal, delivery)
        .get(
            "/settings/portal",
            Access::Perm(Permission::BookingsManage),
            clients,
        )
        .post(
            "/settings/portal/{client_id}/invite",
            Access::Perm(Permission::BookingsManage),
            invite,
        )
}

fn login_form(
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
) -> LoginPage {
    LoginPage {
        title: "Your wedding film portal",
        action: "/portal/login",
        email,
        next,
        error,
        notice,
        reset_link: false,
    }
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    notice: String,
}

async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    let notice = match q.notice.as_str() {
        "logged-out" => Some("You are logged out.".to_string()),
        "password-set" => Some("Your password is set. Log in with it now.".to_string()),
        _ => None,
    };
    render(&login_form(
        String::new(),
        safe_next(&q.next, "/portal"),
        None,
        notice,
    ))
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(&form.next, "/portal");
    let next = if next.starts_with("/portal") {
        next
    } else {
        "/portal".into()
    };
    let ip = peer.ip().to_string();
    let checked = check_login(&state.db, "portal", &form, &ip, credential).await;
    let (client_user_id, attempt) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            return crate::accounts::login::refused(e, |error| {
                login_form(form.email.clone(), next.clone(), Some(error), None)
            });
        }
    };
    let mut tx = state.db.begin().await?;
    crate::auth::throttle::succeeded(&mut tx, attempt).await?;
    let sid = crate::auth::create_session(&mut tx, None, Some(client_user_id)).await?;
    sqlx::query("UPDATE client_users SET last_login_date = now() WHERE id = $1")
        .bind(client_user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut resp = Redirect::to(&next).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        crate::auth::session_cookie(&state, PORTAL_COOKIE, &sid),
    );
    Ok(resp)
}

async fn credential(conn: &mut sqlx::PgConnection, email: &str) -> AppResult<Option<Credential>> {
    Ok(sqlx::query_as(
        "SELECT id, NULLIF(password_hash, '!') AS hash FROM client_users
         WHERE lower(email) = $1 AND is_active",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?)
}

async fn logout(State(state): State<AppState>, user: PortalUser) -> AppResult<Response> {
    sqlx::query("DELETE FROM auth_sessions WHERE id = $1")
        .bind(&user.session_id)
        .execute(&state.db)
        .await?;
    let mut resp = Redirect::to("/portal/login?notice=logged-out").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, crate::auth::clear_cookie(PORTAL_COOKIE));
    Ok(resp)
}

const PORTAL_TOKENS: &[&str] = &["portal_invite", "password_reset"];

async fn set_password_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let valid = links::is_valid(&mut *state.db.acquire().await?, &token, PORTAL_TOKENS).await?;
    Ok(render(&SetPasswordPage {
        action: format!("/portal/set-password/{token}"),
        error: None,
        invalid: !valid,
    }))
}

async fn set_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> AppResult<Response> {
    let action = format!("/portal/set-password/{token}");
    if let Err(e) = form.check() {
        let refusal = crate::http::form::Refusal::from_error(e)?;
        return Ok(refusal.respond(render(&SetPasswordPage {
            action,
            error: refusal.field("password").map(str::to_string),
            invalid: false,
        })));
    }
    let hash = crypto::hash_password(form.password.clone()).await?;
    let mut tx = state.db.begin().await?;
    let Some(links::Used {
        client_user_id: Some(client_user_id),
        ..
    }) = links::consume(&mut tx, &token, PORTAL_TOKENS).await?
    else {
        return Ok((
            StatusCode::GONE,
            render(&SetPasswordPage {
                action,
                error: None,
                invalid: true,
            }),
        )
            .into_response());
    };
    sqlx::query("UPDATE client_users SET password_hash = $2 WHERE id = $1")
        .bind(client_user_id)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM auth_sessions WHERE client_user_id = $1")
        .bind(client_user_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        None,
        "portal.password.set",
        "client_user",
        Some(client_user_id),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/portal/login?notice=password-set").into_response())
}

// ---------------------------------------------------------------- the couple's pages

pub struct Item {
    pub href: String,
    pub title: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct Home {
    studio: String,
    user: PortalUser,
    sections: Vec<(&'static str, Vec<Item>)>,
}

async fn studio(db: &sqlx::PgPool) -> AppResult<(String, String)> {
    Ok(
        sqlx::query_as("SELECT studio_name, currency_code FROM studio_settings")
            .fetch_one(db)
            .await?,
    )
}

/// The client's own projects, as a subquery bound to $1 (client id).
const OWN_PROJECTS: &str = "SELECT id FROM projects WHERE client_id = $1";

async fn home(State(state): State<AppState>, user: PortalUser) -> AppResult<Response> {
    let db = &state.db;
    let (studio, currency) = studio(db).await?;
    let projects: Vec<(i32, Option<String>, NaiveDate)> =
        sqlx::query_as("SELECT id, project_name, wedding_date FROM projects WHERE client_id = $1 ORDER BY wedding_date")
            .bind(user.client_id)
            .fetch_all(db)
            .await?;
    let quotes: Vec<(i32, String, Decimal, Decimal)> = sqlx::query_as(&format!(
        "SELECT id, status::text, live_price, approved_price FROM builds
         WHERE client_id = $1 OR project_id IN ({OWN_PROJECTS}) ORDER BY id"
    ))
    .bind(user.client_id)
    .fetch_all(db)
    .await?;
    let invoices: Vec<(i32, Option<String>, Decimal, Option<String>)> = sqlx::query_as(&format!(
        "SELECT id, invoice_number, total_amount, status FROM invoices WHERE project_id IN ({OWN_PROJECTS}) ORDER BY issue_date, id"
    ))
    .bind(user.client_id)
    .fetch_all(db)
    .await?;
    let documents: Vec<(i32, Option<String>, Option<String>)> = sqlx::query_as(&format!(
        "SELECT id, file_name, document_type FROM documents
         WHERE status = 'Active' AND (project_id IN ({OWN_PROJECTS})
               OR inquiry_id = (SELECT inquiry_id FROM clients WHERE id = $1)) ORDER BY upload_date DESC"
    ))
    .bind(user.client_id)
    .fetch_all(db)
    .await?;
    let deliveries: Vec<(i32, Option<String>)> = sqlx::query_as(&format!(
        "SELECT id, file_name FROM project_assets WHERE asset_type = 'Export' AND project_id IN ({OWN_PROJECTS}) ORDER BY id"
    ))
    .bind(user.client_id)
    .fetch_all(db)
    .await?;
    let sections = vec![
        (
            "Your wedding",
            projects
                .into_iter()
                .map(|(id, name, date)| Item {
                    href: format!("/portal/projects/{id}"),
                    title: name.unwrap_or_else(|| "Your wedding".into()),
                    detail: date.format("%B %-d, %Y").to_string(),
                })
                .collect(),
        ),
        (
            "Quotes",
            quotes
                .into_iter()
                .map(|(id, status, live, approved)| Item {
                    href: format!("/portal/quotes/{id}"),
                    title: format!("Quote #{id}"),
                    detail: format!(
                        "{status} · {}",
                        money::format(if approved.is_zero() { live } else { approved }, &currency)
                    ),
                })
                .collect(),
        ),
        (
            "Invoices",
            invoices
                .into_iter()
                .map(|(id, number, total, status)| Item {
                    href: format!("/portal/invoices/{id}"),
                    title: number.unwrap_or_else(|| format!("Invoice #{id}")),
                    detail: format!(
                        "{} · {}",
                        money::format(total, &currency),
                        status.unwrap_or_default()
                    ),
                })
                .collect(),
        ),
        (
            "Documents",
            documents
                .into_iter()
                .map(|(id, name, kind)| Item {
                    href: format!("/portal/documents/{id}"),
                    title: name.unwrap_or_else(|| format!("Document #{id}")),
                    detail: kind.unwrap_or_default(),
                })
                .collect(),
        ),
        (
            "Your films",
            deliveries
                .into_iter()
                .map(|(id, name)| Item {
                    href: format!("/portal/deliveries/{id}"),
                    title: name.unwrap_or_else(|| format!("Film #{id}")),
                    detail: String::new(),
                })
                .collect(),
        ),
    ];
    Ok(render(&Home {
        studio,
        user,
        sections,
    }))
}

#[derive(Template)]
#[template(path = "portal/detail.html")]
struct Detail {
    studio: String,
    user: PortalUser,
    title: String,
    rows: Vec<(&'static str, String)>,
}

fn detail(
    studio: String,
    user: PortalUser,
    title: String,
    rows: Vec<(&'static str, String)>,
) -> Response {
    render(&Detail {
        studio,
        user,
        title,
        rows,
    })
}

/// (number, issued, due, total, paid, status)
type InvoiceRow = (
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Decimal,
    Option<Decimal>,
    Option<String>,
);
/// (file name, kind, uploaded)
type DocumentRow = (Option<String>, Option<String>, Option<DateTime<Utc>>);

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%B %-d, %Y").to_string())
        .unwrap_or_else(|| "—".into())
}

async fn project(
    State(state): State<AppState>,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (studio, _) = studio(&state.db).await?;
    let row: Option<(Option<String>, NaiveDate, Option<String>)> = sqlx::query_as(
        "SELECT project_name, wedding_date, phase FROM projects WHERE id = $2 AND client_id = $1",
    )
    .bind(user.client_id)
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let (name, wedding, phase) = row.ok_or_else(|| AppError::not_found("project"))?;
    let rows = vec![
        ("Wedding date", date(Some(wedding))),
        ("Stage", phase.unwrap_or_else(|| "Planning".into())),
    ];
    Ok(detail(
        studio,
        user,
        name.unwrap_or_else(|| "Your wedding".into()),
        rows,
    ))
}

async fn quote(
    State(state): State<AppState>,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (studio, currency) = studio(&state.db).await?;
    let row: Option<(String, Decimal, Decimal, Decimal)> = sqlx::query_as(&format!(
        "SELECT status::text, live_price, approved_price, total_paid FROM builds
         WHERE id = $2 AND (client_id = $1 OR project_id IN ({OWN_PROJECTS}))"
    ))
    .bind(user.client_id)
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let (status, live, approved, paid) = row.ok_or_else(|| AppError::not_found("quote"))?;
    let rows = vec![
        ("Status", status),
        (
            "Price",
            money::format(if approved.is_zero() { live } else { approved }, &currency),
        ),
        ("Paid so far", money::format(paid, &currency)),
    ];
    Ok(detail(studio, user, format!("Quote #{id}"), rows))
}

async fn invoice(
    State(state): State<AppState>,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (studio, currency) = studio(&state.db).await?;
    let row: Option<InvoiceRow> = sqlx::query_as(&format!(
        "SELECT invoice_number, issue_date, due_date, total_amount, amount_paid, status FROM invoices
         WHERE id = $2 AND project_id IN ({OWN_PROJECTS})"
    ))
    .bind(user.client_id)
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let (number, issued, due, total, paid, status) =
        row.ok_or_else(|| AppError::not_found("invoice"))?;
    let paid = paid.unwrap_or_default();
    let rows = vec![
        ("Issued", date(issued)),
        ("Due", date(due)),
        ("Total", money::format(total, &currency)),
        ("Paid", money::format(paid, &currency)),
        ("Still to pay", money::format(total - paid, &currency)),
        ("Status", status.unwrap_or_default()),
    ];
    Ok(detail(
        studio,
        user,
        number.unwrap_or_else(|| format!("Invoice #{id}")),
        rows,
    ))
}

async fn document(
    State(state): State<AppState>,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (studio, _) = studio(&state.db).await?;
    let row: Option<DocumentRow> = sqlx::query_as(&format!(
        "SELECT file_name, document_type, upload_date FROM documents
         WHERE id = $2 AND status = 'Active' AND (project_id IN ({OWN_PROJECTS})
               OR inquiry_id = (SELECT inquiry_id FROM clients WHERE id = $1))"
    ))
    .bind(user.client_id)
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let (name, kind, uploaded) = row.ok_or_else(|| AppError::not_found("document"))?;
    let rows = vec![
        ("Kind", kind.unwrap_or_default()),
        ("Added", date(uploaded.map(|u| u.date_naive()))),
    ];
    Ok(detail(
        studio,
        user,
        name.unwrap_or_else(|| format!("Document #{id}")),
        rows,
    ))
}

async fn delivery(
    State(state): State<AppState>,
    user: PortalUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (studio, _) = studio(&state.db).await?;
    let row: Option<(Option<String>,)> = sqlx::query_as(&format!(
        "SELECT file_name FROM project_assets WHERE id = $2 AND asset_type = 'Export' AND project_id IN ({OWN_PROJECTS})"
    ))
    .bind(user.client_id)
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let (name,) = row.ok_or_else(|| AppError::not_found("film"))?;
    Ok(detail(
        studio,
        user,
        name.unwrap_or_else(|| format!("Film #{id}")),
        vec![("Status", "Ready".into())],
    ))
}

// ---------------------------------------------------------------- staff: invite couples

#[derive(sqlx::FromRow)]
pub struct ClientRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub portal: String,
}

#[derive(Template)]
#[template(path = "settings/portal.html")]
struct ClientsPage {
    layout: Layout,
    clients: Vec<ClientRow>,
    flash: Option<String>,
    invite_link: Option<String>,
}

async fn clients_page(
    state: &AppState,
    staff: &Staff,
    flash: Option<String>,
    invite_link: Option<String>,
) -> AppResult<ClientsPage> {
    let clients = sqlx::query_as(
        "SELECT cl.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email,
                CASE WHEN cu.id IS NULL THEN 'Not invited'
                     WHEN cu.password_hash = '!' THEN 'Invited'
                     WHEN NOT cu.is_active THEN 'Disabled'
                     ELSE 'Active' END AS portal
         FROM clients cl JOIN contacts c ON c.id = cl.contact_id LEFT JOIN client_users cu ON cu.client_id = cl.id
         ORDER BY c.last_name, c.first_name LIMIT 500",
    )
    .fetch_all(&state.db)
    .await?;
    Ok(ClientsPage {
        layout: Layout::load(&state.db, staff, "Client portal", "/settings").await?,
        clients,
        flash,
        invite_link,
    })
}

async fn clients(State(state): State<AppState>, staff: Staff) -> AppResult<Response> {
    Ok(render(&clients_page(&state, &staff, None, None).await?))
}

async fn invite(
    State(state): State<AppState>,
    staff: Staff,
    Path(client_id): Path<i32>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let client: Option<(i32, String, String)> = sqlx::query_as(
        "SELECT c.id, c.email, COALESCE(c.first_name, '') FROM clients cl JOIN contacts c ON c.id = cl.contact_id WHERE cl.id = $1 FOR UPDATE OF cl",
    )
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (contact_id, email, first) = client.ok_or_else(|| AppError::not_found("client"))?;
    let client_user_id: i32 = sqlx::query_scalar(
        "INSERT INTO client_users (client_id, email, password_hash, invited_at) VALUES ($1, $2, '!', now())
         ON CONFLICT (client_id) DO UPDATE SET invited_at = now() RETURNING id",
    )
    .bind(client_id)
    .bind(&email)
    .fetch_one(&mut *tx)
    .await?;
    let token = links::issue(&mut tx, "portal_invite", None, Some(client_user_id), 7 * 24).await?;
    let link = format!("{}/portal/set-password/{token}", state.settings.base_url());
    let (studio, _) = studio(&state.db).await?;
    let outgoing = mail::queue(&mut tx, &state.settings, mail::Mail {
        to_contact_id: contact_id,
        to: email.clone(),
        subject: format!("Your wedding film portal at {studio}"),
        body: format!("Hi {first},\n\nYour portal shows your quote, invoices, documents and, when they are ready, your films. Choose your password within 7 days here:\n\n{link}\n\n{studio}"),
        log_summary: "Portal invitation sent (valid 7 days).".into(),
    })
    .await?;
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "portal.invite",
        "client",
        Some(client_id),
        serde_json::json!({ "email": email }),
    )
    .await?;
    tx.commit().await?;
    outgoing.send().await;
    let shown = state.settings.smtp_url.is_none().then_some(link);
    Ok(render(
        &clients_page(
            &state,
            &staff,
            Some(format!("{email} is invited to the portal.")),
            shown,
        )
        .await?,
    ))
}
