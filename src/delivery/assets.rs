//! A project's assets as the studio sees them, and "Mark delivered" (final delivery).
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

#[derive(Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Asset {
    pub id: i32,
    pub project_id: i32,
    pub file_name: Option<String>,
    /// Raw Footage, Audio File, Project File or Export.
    pub asset_type: Option<String>,
    pub coverage_scene_id: Option<i32>,
    pub scene: Option<String>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub uploaded_at: Option<DateTime<Utc>>,
}

/// The project's assets, exports first, then by upload (at most 500).
pub async fn of_project(conn: &mut PgConnection, project: i32) -> AppResult<Vec<Asset>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.project_id, a.file_name, a.asset_type::text AS asset_type,
                a.coverage_scene_id, s.name AS scene, a.size_bytes, a.sha256, a.uploaded_at
         FROM project_assets a LEFT JOIN coverage_scenes s ON s.id = a.coverage_scene_id
         WHERE a.project_id = $1
         ORDER BY (a.asset_type = 'Export') DESC, a.id DESC LIMIT 500",
    )
    .bind(project)
    .fetch_all(conn)
    .await?)
}

/// An asset's file, for the studio to download: (name, key, sha256, content type).
#[derive(sqlx::FromRow)]
pub struct Stored {
    pub file_name: Option<String>,
    pub storage_path: Option<String>,
    pub sha256: Option<String>,
    pub content_type: Option<String>,
}

pub async fn stored(conn: &mut PgConnection, id: i32) -> AppResult<Stored> {
    sqlx::query_as(
        "SELECT file_name, storage_path, sha256, content_type FROM project_assets WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found("asset"))
}

/// Human sizes: "1.4 GB".
pub fn size(bytes: Option<i64>) -> String {
    let Some(b) = bytes else {
        return "—".into();
    };
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1000.0 && u < units.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Final delivery: the project's films are all delivered, today (the studio's day). Needs at
/// least one export shared with a link (409 otherwise); the survey follows
/// `survey_after_days` later. Marking again keeps the first day.
pub async fn mark_delivered(
    tx: &mut PgConnection,
    clock: &Clock,
    time_zone: &str,
    project: i32,
    actor: i32,
) -> AppResult<NaiveDate> {
    let shared: Option<bool> = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM delivery_links l JOIN project_assets a ON a.id = l.asset_id
                        WHERE a.project_id = p.id AND a.asset_type = 'Export')
         FROM projects p WHERE p.id = $1 FOR UPDATE",
    )
    .bind(project)
    .fetch_optional(&mut *tx)
    .await?;
    match shared {
        None => return Err(AppError::not_found("project")),
        Some(false) => {
            return Err(AppError::Conflict(
                "share at least one export with the couple first".into(),
            ));
        }
        Some(true) => {}
    }
    let today = clock.today(time_zone);
    let day: NaiveDate = sqlx::query_scalar(
        "UPDATE projects SET delivered_on = COALESCE(delivered_on, $2) WHERE id = $1
         RETURNING delivered_on",
    )
    .bind(project)
    .bind(today)
    .fetch_one(&mut *tx)
    .await?;
    crate::audit::record(
        tx,
        Some(actor),
        "projects.delivered",
        "project",
        Some(project),
        serde_json::json!({ "delivered_on": day }),
    )
    .await?;
    Ok(day)
}
