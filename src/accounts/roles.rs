//! Roles and what each may do: the Settings > Roles matrix and saving one role's permissions.
//! The Owner role always has every permission, so the studio can never lock itself out.
use super::forms::FlashQuery;
use crate::audit;
use crate::auth::{Access, Permission, Staff};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::layout::{Layout, render};
use crate::http::routes::Routes;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgConnection;

pub fn routes() -> Routes {
    Routes::new()
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
}

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

/// A permission and the roles that have it.
#[derive(sqlx::FromRow)]
struct Grant {
    permission: String,
    description: String,
    role_ids: Vec<i32>,
}

/// The roles a staff member may be given: (id, name), in order.
pub async fn names(conn: &mut PgConnection) -> AppResult<Vec<(i32, String)>> {
    Ok(sqlx::query_as("SELECT id, name FROM roles ORDER BY id")
        .fetch_all(conn)
        .await?)
}

/// Every permission, in order, with the roles it is granted to.
async fn grants(conn: &mut PgConnection) -> AppResult<Vec<Grant>> {
    Ok(sqlx::query_as(
        "SELECT p.action_name AS permission, COALESCE(p.description, '') AS description,
                COALESCE(array_agg(rp.role_id) FILTER (WHERE rp.role_id IS NOT NULL), '{}')
                    AS role_ids
         FROM permissions p LEFT JOIN role_permissions rp ON rp.permission_id = p.id
         GROUP BY p.id ORDER BY p.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Lock a role for a change and return its name: 404 if there is none, 409 for the Owner.
async fn lock(tx: &mut PgConnection, id: i32) -> AppResult<String> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM roles WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(tx)
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
    Ok(name)
}

/// Every wanted name must be a permission: 422 naming the others.
async fn check_known(tx: &mut PgConnection, wanted: &[String]) -> AppResult<()> {
    let unknown: Vec<String> = sqlx::query_scalar(
        "SELECT w FROM unnest($1::text[]) w WHERE w NOT IN (SELECT action_name FROM permissions)",
    )
    .bind(wanted)
    .fetch_all(tx)
    .await?;
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(AppError::field(
            "perm",
            format!("unknown permission(s): {}", unknown.join(", ")),
        ))
    }
}

/// The permissions a role has, by name, sorted.
async fn granted(conn: &mut PgConnection, id: i32) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT p.action_name FROM role_permissions rp
         JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = $1 ORDER BY 1",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}

/// Give a role exactly these permissions.
async fn replace(tx: &mut PgConnection, id: i32, wanted: &[String]) -> AppResult<()> {
    sqlx::query("DELETE FROM role_permissions WHERE role_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO role_permissions (role_id, permission_id)
         SELECT $1, id FROM permissions WHERE action_name = ANY($2)",
    )
    .bind(id)
    .bind(wanted)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Save a role's permissions (any but the Owner's), with the before and after in the audit log.
pub async fn save(tx: &mut PgConnection, by: i32, id: i32, wanted: &[String]) -> AppResult<()> {
    let name = lock(tx, id).await?;
    check_known(tx, wanted).await?;
    let before = granted(tx, id).await?;
    replace(tx, id, wanted).await?;
    let mut after = wanted.to_vec();
    after.sort();
    after.dedup();
    audit::record(
        tx,
        Some(by),
        "roles.permissions.change",
        "role",
        Some(id),
        serde_json::json!({ "role": name, "before": before, "after": after }),
    )
    .await?;
    Ok(())
}

async fn roles(mut db: Db, staff: Staff, Query(q): Query<FlashQuery>) -> AppResult<Response> {
    let layout = Layout::load(&mut db, &staff, "Roles", "/settings").await?;
    let mut conn = db;
    let roles: Vec<RoleColumn> = names(&mut conn)
        .await?
        .into_iter()
        .map(|(id, name)| RoleColumn {
            id,
            locked: name == "Owner",
            name,
        })
        .collect();
    let rows = grants(&mut conn)
        .await?
        .into_iter()
        .map(|g| {
            let granted = roles.iter().map(|r| g.role_ids.contains(&r.id)).collect();
            (g.permission, g.description, granted)
        })
        .collect();
    let flash = (q.done == "saved").then(|| "The role's permissions are saved.".to_string());
    Ok(render(&RolesPage {
        layout,
        roles,
        rows,
        flash,
    }))
}

async fn save_role(
    mut db: Db,
    staff: Staff,
    Path(id): Path<i32>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let wanted: Vec<String> = fields
        .into_iter()
        .filter(|(k, _)| k == "perm")
        .map(|(_, v)| v)
        .collect();
    let mut tx = db.begin().await?;
    save(&mut tx, staff.contributor_id, id, &wanted).await?;
    tx.commit().await?;
    Ok(Redirect::to("/settings/roles?done=saved").into_response())
}
