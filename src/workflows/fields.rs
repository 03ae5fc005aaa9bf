//! A project's fields that a questionnaire answer can fill in (and a workflow condition or an
//! email's merge field can read): the spec's `projects.project_name` and
//! `inquiries.venue_details` (the venue), and the wedding-day details the spec has no column
//! for, kept in `project_fields` (one row per project and key). Any question maps to any of
//! them whatever its kind: the answer is kept as people read it (a list joined with commas).
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// (key, label): every field, in the order pages show them.
pub const FIELDS: &[(&str, &str)] = &[
    ("project_name", "Project name"),
    ("venue", "Venue"),
    ("ceremony_venue", "Ceremony venue"),
    ("ceremony_time", "Ceremony time"),
    ("reception_venue", "Reception venue"),
    ("reception_time", "Reception time"),
    ("guest_count", "Number of guests"),
    ("getting_ready_location", "Getting-ready location"),
    ("first_look", "First look"),
    ("planner", "Wedding planner"),
    ("first_dance_song", "First dance song"),
];

/// The keys alone.
pub fn keys() -> Vec<&'static str> {
    FIELDS.iter().map(|f| f.0).collect()
}

pub fn label(key: &str) -> &str {
    FIELDS.iter().find(|f| f.0 == key).map_or(key, |f| f.1)
}

/// The project's fields that have a value: (key, label, value), in `FIELDS` order. One query.
pub async fn values(
    conn: &mut PgConnection,
    project: i32,
) -> AppResult<Vec<(&'static str, &'static str, String)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'project_name', project_name FROM projects WHERE id = $1 AND project_name <> ''
         UNION ALL
         SELECT 'venue', i.venue_details FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         WHERE b.project_id = $1 AND i.venue_details <> ''
         UNION ALL
         SELECT key, value FROM project_fields WHERE project_id = $1",
    )
    .bind(project)
    .fetch_all(conn)
    .await?;
    Ok(FIELDS
        .iter()
        .filter_map(|(k, l)| {
            rows.iter()
                .find(|r| r.0 == *k)
                .map(|r| (*k, *l, r.1.clone()))
        })
        .collect())
}

/// One field's value, if it has one.
pub async fn value(conn: &mut PgConnection, project: i32, key: &str) -> AppResult<Option<String>> {
    Ok(values(conn, project)
        .await?
        .into_iter()
        .find(|v| v.0 == key)
        .map(|v| v.2))
}

/// Fill in fields (key, value) of a project, in the caller's transaction; unknown keys are
/// refused earlier (`questions::check`). One statement per kind of storage.
pub async fn set(
    tx: &mut PgConnection,
    project: i32,
    values: &[(String, String)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let get = |k: &str| values.iter().rev().find(|v| v.0 == k).map(|v| v.1.clone());
    if let Some(name) = get("project_name") {
        let name: String = name.chars().take(255).collect();
        sqlx::query("UPDATE projects SET project_name = $2 WHERE id = $1")
            .bind(project)
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(venue) = get("venue") {
        sqlx::query(
            "UPDATE inquiries SET venue_details = $2
             WHERE id IN (SELECT inquiry_id FROM builds WHERE project_id = $1)",
        )
        .bind(project)
        .bind(venue)
        .execute(&mut *tx)
        .await?;
    }
    // The last value of each key (one row each: ON CONFLICT touches a row once).
    let last: std::collections::BTreeMap<&str, &str> = values
        .iter()
        .filter(|v| v.0 != "project_name" && v.0 != "venue")
        .map(|v| (v.0.as_str(), v.1.as_str()))
        .collect();
    let (keys, vals): (Vec<&str>, Vec<&str>) = last.into_iter().unzip();
    sqlx::query(
        "INSERT INTO project_fields (project_id, key, value, updated_at)
         SELECT $1, k, v, $4 FROM unnest($2::text[], $3::text[]) AS x(k, v)
         ON CONFLICT (project_id, key) DO UPDATE SET value = EXCLUDED.value,
             updated_at = EXCLUDED.updated_at",
    )
    .bind(project)
    .bind(&keys)
    .bind(&vals)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
