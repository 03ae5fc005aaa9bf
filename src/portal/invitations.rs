//! Settings > Client portal: the studio's clients and their portal logins; inviting a couple
//! sends them a link, valid 7 days, to choose their password.
use crate::accounts::links::{self, Owner};
use crate::auth::{Access, Permission, Staff};
use crate::config::Settings;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::{audit, mail, page};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
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

#[derive(sqlx::FromRow)]
pub struct ClientRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub portal: String,
    pub contact_id: i32,
    /// The name it is sorted by (lowercased last and first name): the page cursor's texts.
    pub sort_last: String,
    pub sort_first: String,
}

#[derive(Template)]
#[template(path = "settings/portal.html")]
struct ClientsPage {
    layout: Layout,
    clients: Vec<ClientRow>,
    /// Whether this is a later page (then a link back to the first).
    later: bool,
    /// The next page's address, when there are more clients.
    next: Option<String>,
    flash: Option<String>,
    invite_link: Option<String>,
}

/// The couple a client is: their contact, email and first name.
#[derive(sqlx::FromRow)]
struct Couple {
    contact_id: i32,
    email: String,
    first_name: String,
}

/// A sent invitation.
pub struct Invited {
    pub email: String,
    pub link: String,
    /// The email, to send after the commit.
    pub outgoing: mail::Outgoing,
}

/// A page of the clients by name (last, first, lowercased; the contacts list's order and
/// index), each with where their portal login stands, from the cursor on; the next page's
/// cursor when more follow. The cursor names the couple's contact (one per client).
pub async fn list(
    conn: &mut PgConnection,
    after: Option<&page::Key>,
) -> AppResult<(Vec<ClientRow>, Option<page::Key>)> {
    let rows: Vec<ClientRow> = sqlx::query_as(
        "SELECT cl.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email,
                CASE WHEN cu.id IS NULL THEN 'Not invited'
                     WHEN cu.password_hash = '!' THEN 'Invited'
                     WHEN NOT cu.is_active THEN 'Disabled'
                     ELSE 'Active' END AS portal,
                c.id AS contact_id,
                COALESCE(lower(c.last_name), '') AS sort_last,
                COALESCE(lower(c.first_name), '') AS sort_first
         FROM clients cl JOIN contacts c ON c.id = cl.contact_id
         LEFT JOIN client_users cu ON cu.client_id = cl.id
         WHERE (COALESCE(lower(c.last_name), ''), COALESCE(lower(c.first_name), ''), c.id)
               > (COALESCE($2, ''), COALESCE($3, ''), COALESCE($1::int, 0))
         ORDER BY COALESCE(lower(c.last_name), ''), COALESCE(lower(c.first_name), ''), c.id
         LIMIT $4",
    )
    .bind(after.map(|a| a.id))
    .bind(after.map(|a| a.text(0)))
    .bind(after.map(|a| a.text(1)))
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |c| page::Key {
        keys: vec![c.sort_last.clone(), c.sort_first.clone()],
        id: c.contact_id,
    }))
}

/// Lock a client for an invitation and return the couple (404 if there is no such client).
async fn couple(tx: &mut PgConnection, client_id: i32) -> AppResult<Couple> {
    let found: Option<Couple> = sqlx::query_as(
        "SELECT c.id AS contact_id, c.email, COALESCE(c.first_name, '') AS first_name
         FROM clients cl JOIN contacts c ON c.id = cl.contact_id WHERE cl.id = $1
         FOR UPDATE OF cl",
    )
    .bind(client_id)
    .fetch_optional(tx)
    .await?;
    found.ok_or_else(|| AppError::not_found("client"))
}

/// The client's portal login, waiting for a password; an invited one is invited again.
async fn portal_login(tx: &mut PgConnection, client_id: i32, email: &str) -> AppResult<i32> {
    Ok(sqlx::query_scalar(
        "INSERT INTO client_users (client_id, email, password_hash, invited_at)
         VALUES ($1, $2, '!', now())
         ON CONFLICT (client_id) DO UPDATE SET invited_at = now() RETURNING id",
    )
    .bind(client_id)
    .bind(email)
    .fetch_one(tx)
    .await?)
}

/// Invite a client's couple to the portal, by `by`: the login, the link and its email
/// (queued), the audit entry.
pub async fn invite_couple(
    tx: &mut PgConnection,
    settings: &Settings,
    studio: &str,
    by: Option<i32>,
    client_id: i32,
) -> AppResult<Invited> {
    let couple = couple(tx, client_id).await?;
    let client_user_id = portal_login(tx, client_id, &couple.email).await?;
    let token = links::issue(tx, "portal_invite", Owner::Couple, client_user_id, 7 * 24).await?;
    let link = format!("{}/portal/set-password/{token}", settings.base_url());
    let mail = mail::Mail {
        to_contact_id: couple.contact_id,
        to: couple.email.clone(),
        subject: format!("Your wedding film portal at {studio}"),
        body: format!(
            "Hi {},\n\nYour portal shows your quote, invoices, documents and, when they are \
             ready, your films. Choose your password within 7 days here:\n\n{link}\n\n{studio}",
            couple.first_name
        ),
        log_summary: "Portal invitation sent (valid 7 days).".into(),
    };
    let outgoing = mail::queue(tx, settings, mail).await?;
    let details = serde_json::json!({ "email": couple.email });
    audit::record(tx, by, "portal.invite", "client", Some(client_id), details).await?;
    Ok(Invited {
        email: couple.email,
        link,
        outgoing,
    })
}

async fn clients_page(
    db: &mut PgConnection,
    layout: Layout,
    flash: Option<String>,
    invite_link: Option<String>,
    after: Option<&page::Key>,
) -> AppResult<ClientsPage> {
    let (clients, next) = list(&mut *db, after).await?;
    Ok(ClientsPage {
        layout,
        clients,
        later: after.is_some(),
        next: next.map(|n| page::next_href("/settings/portal", &[], &n)),
        flash,
        invite_link,
    })
}

/// The clients, a page at a time (`?after=`; 422 for a cursor that is not one).
async fn clients(mut db: Db, staff: Staff, Query(q): Query<page::KeyPage>) -> AppResult<Response> {
    let after = page::Key::parse(q.after.as_deref(), 2)?;
    let layout = Layout::load(&mut db, &staff, "Client portal", "/settings").await?;
    let page = clients_page(&mut db, layout, None, None, after.as_ref()).await?;
    Ok(render(&page))
}

async fn invite(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Path(client_id): Path<i32>,
) -> AppResult<Response> {
    // The layout first: the invitation's email signs with the studio's name from its settings.
    let layout = Layout::load(&mut db, &staff, "Client portal", "/settings").await?;
    let studio = layout.settings.studio_name.clone();
    let by = staff.contributor_id;
    let mut tx = db.begin().await?;
    let invited = invite_couple(&mut tx, &state.settings, &studio, Some(by), client_id).await?;
    tx.commit().await?;
    invited.outgoing.send(&state.db, &state.clock);
    let shown = state.settings.smtp_url.is_none().then_some(invited.link);
    let flash = Some(format!("{} is invited to the portal.", invited.email));
    Ok(render(
        &clients_page(&mut db, layout, flash, shown, None).await?,
    ))
}
