//! Settings > Users: the team with their roles and logins; inviting someone, changing a role,
//! deactivating and reactivating a login. The studio's last active Owner always stays one.
use super::invitations::{self, InviteForm};
use super::roles;
use crate::audit;
use crate::auth::{self, Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::form::Refusal;
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use crate::page;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

pub fn routes() -> Routes {
    let manage = Access::Perm(Permission::UsersManage);
    Routes::new()
        .get("/settings/users", manage, users)
        .post("/settings/users", manage, invite_user)
        .post("/settings/users/{id}/role", manage, change_role)
        .post("/settings/users/{id}/deactivate", manage, deactivate)
        .post("/settings/users/{id}/activate", manage, activate)
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
    /// What it is sorted by (active first, role, lowercased last and first name) as texts: the
    /// page cursor's.
    pub k_active: String,
    pub k_role: String,
    pub k_last: String,
    pub k_first: String,
}

#[derive(Template)]
#[template(path = "settings/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    /// Whether this is a later page (then a link back to the first).
    later: bool,
    /// The next page's address, when there are more.
    next: Option<String>,
    roles: Vec<(i32, String)>,
    me: i32,
    flash: Option<String>,
    invite_link: Option<String>,
    /// (field, problem) of a refused invitation.
    error: Option<(String, String)>,
    form: InviteForm,
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role_id: i32,
}

/// A page of the team: active logins first, then by role and name (then id), from the cursor
/// on; the next page's cursor when more follow.
pub async fn list(
    conn: &mut PgConnection,
    after: Option<&page::Key>,
) -> AppResult<(Vec<UserRow>, Option<page::Key>)> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "SELECT * FROM (
           SELECT co.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email,
                  r.id AS role_id, r.name AS role, COALESCE(cr.is_active, false) AS active,
                  (cr.password_hash IS NULL) AS invited,
                  CASE WHEN COALESCE(cr.is_active, false) THEN '0' ELSE '1' END AS k_active,
                  lpad(r.id::text, 10, '0') AS k_role,
                  COALESCE(lower(c.last_name), '') AS k_last,
                  COALESCE(lower(c.first_name), '') AS k_first
           FROM contributors co JOIN contacts c ON c.id = co.contact_id
           JOIN roles r ON r.id = co.role_id
           LEFT JOIN staff_credentials cr ON cr.contributor_id = co.id) u
         WHERE $1::int IS NULL
            OR (k_active, k_role, k_last, k_first, id) > ($2, $3, $4, $5, $1)
         ORDER BY k_active, k_role, k_last, k_first, id LIMIT $6",
    )
    .bind(after.map(|a| a.id))
    .bind(after.map(|a| a.text(0)))
    .bind(after.map(|a| a.text(1)))
    .bind(after.map(|a| a.text(2)))
    .bind(after.map(|a| a.text(3)))
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |u| page::Key {
        keys: vec![
            u.k_active.clone(),
            u.k_role.clone(),
            u.k_last.clone(),
            u.k_first.clone(),
        ],
        id: u.id,
    }))
}

/// Lock the active Owners and say whether `contributor_id` is the last one.
async fn is_last_owner(tx: &mut PgConnection, contributor_id: i32) -> AppResult<bool> {
    let owners: Vec<i32> = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN roles r ON r.id = co.role_id
         JOIN staff_credentials cr ON cr.contributor_id = co.id
         WHERE r.name = 'Owner' AND cr.is_active ORDER BY co.id FOR UPDATE OF co, cr",
    )
    .fetch_all(tx)
    .await?;
    Ok(owners == [contributor_id])
}

/// Give a team member another role; the last Owner keeps theirs (409).
pub async fn set_role(tx: &mut PgConnection, by: i32, id: i32, role_id: i32) -> AppResult<()> {
    let before: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT r.name, (SELECT name FROM roles WHERE id = $2)
         FROM contributors co JOIN roles r ON r.id = co.role_id WHERE co.id = $1 FOR UPDATE OF co",
    )
    .bind(id)
    .bind(role_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (old, new) = before.ok_or_else(|| AppError::not_found("team member"))?;
    let new = new.ok_or_else(|| AppError::field("role_id", "There is no such role."))?;
    if old == "Owner" && new != "Owner" && is_last_owner(tx, id).await? {
        return Err(AppError::Conflict(
            "This is the studio's only Owner. Make someone else Owner first.".into(),
        ));
    }
    sqlx::query("UPDATE contributors SET role_id = $2 WHERE id = $1")
        .bind(id)
        .bind(role_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        Some(by),
        "users.role.change",
        "contributor",
        Some(id),
        serde_json::json!({ "before": { "role": old }, "after": { "role": new } }),
    )
    .await?;
    Ok(())
}

/// Turn a login on or off; off ends its sessions and tokens at once. Nobody turns off their
/// own login, and the studio's last active Owner stays on (409).
pub async fn set_active(tx: &mut PgConnection, by: i32, id: i32, active: bool) -> AppResult<()> {
    if !active && id == by {
        return Err(AppError::Conflict(
            "You cannot deactivate your own login.".into(),
        ));
    }
    if !active && is_last_owner(tx, id).await? {
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
        let what = if active {
            "inactive login"
        } else {
            "active login"
        };
        return Err(AppError::not_found(what));
    }
    if !active {
        auth::end_all_access(tx, id).await?;
    }
    let action = if active {
        "users.activate"
    } else {
        "users.deactivate"
    };
    let details =
        serde_json::json!({ "before": { "active": !active }, "after": { "active": active } });
    audit::record(tx, Some(by), action, "contributor", Some(id), details).await?;
    Ok(())
}

async fn users_page(
    db: &mut PgConnection,
    staff: &Staff,
    flash: Option<String>,
    invite_link: Option<String>,
    error: Option<(String, String)>,
    form: InviteForm,
    after: Option<&page::Key>,
) -> AppResult<UsersPage> {
    let layout = Layout::load(db, staff, "Users", "/settings").await?;
    let (users, next) = list(db, after).await?;
    Ok(UsersPage {
        layout,
        users,
        later: after.is_some(),
        next: next.map(|n| page::next_href("/settings/users", &[], &n)),
        roles: roles::names(db).await?,
        me: staff.contributor_id,
        flash,
        invite_link,
        error,
        form,
    })
}

/// `?done=` after a change, for the flash message; `?after=` for a later page.
#[derive(Deserialize)]
struct UsersQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    after: Option<String>,
}

async fn users(mut db: Db, staff: Staff, Query(q): Query<UsersQuery>) -> AppResult<Response> {
    let after = page::Key::parse(q.after.as_deref(), 4)?;
    let flash = match q.done.as_str() {
        "role" => Some("The role is changed.".to_string()),
        "deactivated" => {
            Some("The login is deactivated; its sessions and tokens ended.".to_string())
        }
        "activated" => Some("The login is active again.".to_string()),
        _ => None,
    };
    Ok(render(
        &users_page(
            &mut db,
            &staff,
            flash,
            None,
            None,
            InviteForm::default(),
            after.as_ref(),
        )
        .await?,
    ))
}

/// Where the invitation form shows a refusal: by its field; a conflict is about the email.
fn invite_error(refusal: &Refusal) -> Option<(String, String)> {
    match refusal.errors.first() {
        Some(e) => Some((e.field.clone(), e.message.clone())),
        None => refusal.message.clone().map(|m| ("email".to_string(), m)),
    }
}

async fn invite_user(
    State(state): State<AppState>,
    mut db: Db,
    staff: Staff,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    let result = async {
        let mut tx = db.begin().await?;
        let invited = invitations::invite(&mut tx, &state.settings, &staff, &form).await?;
        tx.commit().await?;
        AppResult::Ok(invited)
    }
    .await;
    let invited = match result {
        Ok(invited) => invited,
        Err(e) => {
            let refusal = Refusal::from_error(e)?;
            let error = invite_error(&refusal);
            let page = users_page(&mut db, &staff, None, None, error, form, None).await?;
            return Ok(refusal.respond(render(&page)));
        }
    };
    invited.outgoing.send(&state.db, &state.clock);
    let shown = state.settings.smtp_url.is_none().then_some(invited.link);
    let flash = Some(format!("{} is invited as {}.", invited.email, invited.role));
    let page = users_page(
        &mut db,
        &staff,
        flash,
        shown,
        None,
        InviteForm::default(),
        None,
    )
    .await?;
    Ok(render(&page))
}

async fn change_role(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    set_role(&mut tx, staff.contributor_id, id, form.role_id).await?;
    tx.commit().await?;
    Ok(Redirect::to("/settings/users?done=role").into_response())
}

async fn deactivate(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    set_active(&mut tx, staff.contributor_id, id, false).await?;
    tx.commit().await?;
    Ok(Redirect::to("/settings/users?done=deactivated").into_response())
}

async fn activate(mut db: Db, staff: Staff, Path(id): Path<i32>) -> AppResult<Response> {
    let mut tx = db.begin().await?;
    set_active(&mut tx, staff.contributor_id, id, true).await?;
    tx.commit().await?;
    Ok(Redirect::to("/settings/users?done=activated").into_response())
}
