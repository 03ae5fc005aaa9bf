//! Comments on tasks: Internal (staff only) or Client-Visible (the couple reads them in the
//! portal). @mentions (`@leo`, `@leo.martins`) tell the people named, in their inbox.
use super::rules;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Comment {
    pub id: i32,
    pub task_id: i32,
    pub contributor_id: Option<i32>,
    pub author: Option<String>,
    pub comment_text: String,
    /// Internal or Client-Visible.
    pub visibility: String,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT m.id, m.task_id, m.contributor_id,
        nullif(trim(concat_ws(' ', c.first_name, c.last_name)), '') AS author, m.comment_text,
        COALESCE(m.visibility::text, 'Internal') AS visibility, m.created_at
    FROM task_comments m LEFT JOIN contributors co ON co.id = m.contributor_id
    LEFT JOIN contacts c ON c.id = co.contact_id";

/// The task's comments, oldest first.
pub async fn of_task(conn: &mut PgConnection, task: i32) -> AppResult<Vec<Comment>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE m.task_id = $1 ORDER BY m.created_at, m.id"
    ))
    .bind(task)
    .fetch_all(conn)
    .await?)
}

/// The client-visible comments on a project's tasks, newest first (the couple's portal).
pub async fn for_couple(conn: &mut PgConnection, project: i32) -> AppResult<Vec<Comment>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} JOIN tasks t ON t.id = m.task_id
         WHERE t.project_id = $1 AND m.visibility = 'Client-Visible'
         ORDER BY m.created_at DESC, m.id DESC LIMIT 50"
    ))
    .bind(project)
    .fetch_all(conn)
    .await?)
}

/// Add a comment; the staff it @mentions are told. Returns it.
pub async fn add(
    tx: &mut PgConnection,
    task: i32,
    who: i32,
    text: &str,
    visibility: &str,
    now: DateTime<Utc>,
) -> AppResult<Comment> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 5000 || text.contains('\0') {
        return Err(AppError::field(
            "comment_text",
            "write 1 to 5000 characters",
        ));
    }
    if visibility != "Internal" && visibility != "Client-Visible" {
        return Err(AppError::field("visibility", "Internal or Client-Visible"));
    }
    let name: Option<String> = sqlx::query_scalar(
        "SELECT tt.name FROM tasks t JOIN task_templates tt ON tt.id = t.task_template_id
         WHERE t.id = $1",
    )
    .bind(task)
    .fetch_optional(&mut *tx)
    .await?;
    let name = name.ok_or_else(|| AppError::not_found(&format!("task {task}")))?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO task_comments (task_id, contributor_id, comment_text, visibility, created_at)
         VALUES ($1, $2, $3, $4::task_comment_visibility, $5) RETURNING id",
    )
    .bind(task)
    .bind(who)
    .bind(text)
    .bind(visibility)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if text.contains('@') {
        let staff: Vec<(i32, String, String)> = sqlx::query_as(
            "SELECT co.id, COALESCE(c.first_name, ''), COALESCE(c.last_name, '')
             FROM contributors co JOIN contacts c ON c.id = co.contact_id
             JOIN staff_credentials cr ON cr.contributor_id = co.id AND cr.is_active
             ORDER BY co.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let to: Vec<i32> = rules::mentions(text, &staff)
            .into_iter()
            .filter(|m| *m != who)
            .collect();
        if !to.is_empty() {
            let author = staff
                .iter()
                .find(|s| s.0 == who)
                .map_or("Someone".to_string(), |s| s.1.clone());
            let message = format!("{author} mentioned you on {name} (task #{task}).");
            let messages = vec![message; to.len()];
            let links = vec![format!("/tasks/{task}"); to.len()];
            crate::notify::people(tx, now, &to, &messages, &links).await?;
        }
    }
    Ok(sqlx::query_as(&format!("{SELECT} WHERE m.id = $1"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?)
}
