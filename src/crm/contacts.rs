//! Contacts: the couples (leads and clients) with how many inquiries each has made.
use super::inquiries::like_pattern;
use crate::error::AppResult;
use crate::page;
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
    /// The keys the list is sorted by (last name, first name, lowercased), for its cursor.
    #[serde(skip)]
    pub sort_last: String,
    #[serde(skip)]
    pub sort_first: String,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactSearch {
    /// Name or email contains.
    #[serde(default)]
    pub q: String,
    #[param(schema_with = page::key_param)]
    pub after: Option<String>,
}

const SELECT: &str = "
    SELECT c.id, trim(concat_ws(' ', c.first_name, c.last_name)) AS name, c.email,
           c.phone_number AS phone, c.type::text AS kind,
           (SELECT count(*) FROM inquiries i WHERE i.contact_id = c.id) AS inquiries,
           COALESCE(lower(c.last_name), '') AS sort_last,
           COALESCE(lower(c.first_name), '') AS sort_first
    FROM contacts c WHERE c.type IN ('Client Lead', 'Client')";

/// A page of the couples whose name or email contains `q` (all when it is empty), by name,
/// from the `after` cursor on (422 naming it when it is not one); the next page's cursor.
pub async fn search(
    conn: &mut PgConnection,
    s: &ContactSearch,
) -> AppResult<(Vec<ContactRow>, Option<page::Key>)> {
    let after = page::Key::parse(s.after.as_deref(), 2)?;
    let q = s.q.trim();
    // Nothing stored holds a NUL (PostgreSQL refuses it), so such a search matches nothing.
    if q.contains('\0') {
        return Ok((vec![], None));
    }
    let rows: Vec<ContactRow> = sqlx::query_as(&format!(
        "{SELECT}
           AND ($1 = '' OR trim(concat_ws(' ', c.first_name, c.last_name)) ILIKE $2
                OR c.email ILIKE $2)
           AND (COALESCE(lower(c.last_name), ''), COALESCE(lower(c.first_name), ''), c.id)
               > (COALESCE($4, ''), COALESCE($5, ''), COALESCE($3::int, 0))
         ORDER BY COALESCE(lower(c.last_name), ''), COALESCE(lower(c.first_name), ''), c.id
         LIMIT $6"
    ))
    .bind(q)
    .bind(like_pattern(q))
    .bind(after.as_ref().map(|a| a.id))
    .bind(after.as_ref().map(|a| a.text(0)))
    .bind(after.as_ref().map(|a| a.text(1)))
    .bind(page::SIZE + 1)
    .fetch_all(conn)
    .await?;
    Ok(page::split(rows, |c| page::Key {
        keys: vec![c.sort_last.clone(), c.sort_first.clone()],
        id: c.id,
    }))
}

/// One couple, if there is a lead or client with this id.
pub async fn find(conn: &mut PgConnection, id: i32) -> AppResult<Option<ContactRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} AND c.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}
