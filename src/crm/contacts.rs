//! Contacts: the couples (leads and clients) with how many inquiries each has made.
use super::inquiries::like_pattern;
use crate::error::AppResult;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct ContactRow {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub inquiries: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactSearch {
    /// Name or email contains.
    #[serde(default)]
    pub q: String,
}

const SELECT: &str = "
    SELECT c.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email,
           c.phone_number AS phone, c.type::text AS kind,
           (SELECT count(*) FROM inquiries i WHERE i.contact_id = c.id) AS inquiries
    FROM contacts c WHERE c.type IN ('Client Lead', 'Client')";

/// Couples whose name or email contains `q` (all when it is empty), by name; at most 500.
pub async fn search(conn: &mut PgConnection, q: &str) -> AppResult<Vec<ContactRow>> {
    let q = q.trim();
    // Nothing stored holds a NUL (PostgreSQL refuses it), so such a search matches nothing.
    if q.contains('\0') {
        return Ok(vec![]);
    }
    Ok(sqlx::query_as(&format!(
        "{SELECT}
           AND ($1 = '' OR trim(concat_ws(' ', c.first_name, c.last_name)) ILIKE $2
                OR c.email ILIKE $2)
         ORDER BY lower(c.last_name), lower(c.first_name) LIMIT 500"
    ))
    .bind(q)
    .bind(like_pattern(q))
    .fetch_all(conn)
    .await?)
}

/// One couple, if there is a lead or client with this id.
pub async fn find(conn: &mut PgConnection, id: i32) -> AppResult<Option<ContactRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} AND c.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}
