//! Phase 1: the studio's catalogs and rules. So far: coverage scenes.
use crate::auth::{Access, Staff, audit};
use crate::http::routes::Routes;
use crate::http::{ApiJson, ApiPath, AppError, AppResult, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new()
        .api(Access::Staff, routes!(list_scenes))
        .api(Access::Staff, routes!(get_scene))
        .api(Access::Perm("catalog.edit"), routes!(create_scene))
}

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Scene {
    pub id: i32,
    pub name: String,
    pub description: Option<String>,
    /// Hours an hourly operator is booked for this scene when a quote names none.
    #[schema(value_type = Option<String>, example = "2.5")]
    pub default_hours: Option<Decimal>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScene {
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Option<f64>, example = 2.5)]
    #[serde(default)]
    pub default_hours: Option<Decimal>,
}

impl NewScene {
    /// Every rule, with the field named in the message.
    fn validate(&self) -> AppResult<()> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(AppError::field("name", "is required"));
        }
        if name.chars().count() > 255 {
            return Err(AppError::field("name", "must be at most 255 characters"));
        }
        if let Some(h) = self.default_hours {
            if h <= Decimal::ZERO || h > Decimal::from(24) {
                return Err(AppError::field(
                    "default_hours",
                    "must be more than 0 and at most 24",
                ));
            }
            if h.normalize().scale() > 2 {
                return Err(AppError::field(
                    "default_hours",
                    "must have at most 2 decimals",
                ));
            }
        }
        Ok(())
    }
}

const SCENE_COLUMNS: &str = "id, name, description, default_hours";

/// List coverage scenes.
#[utoipa::path(get, path = "/api/v1/coverage-scenes", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<Scene>)))]
async fn list_scenes(State(state): State<AppState>) -> AppResult<Json<Vec<Scene>>> {
    let rows = sqlx::query_as(&format!(
        "SELECT {SCENE_COLUMNS} FROM coverage_scenes ORDER BY id"
    ))
    .fetch_all(&state.db)
    .await?;
    Ok(Json(rows))
}

/// One coverage scene.
#[utoipa::path(get, path = "/api/v1/coverage-scenes/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = i32, Path, description = "Scene id")),
    responses((status = 200, body = Scene), (status = 404, body = crate::http::error::Problem)))]
async fn get_scene(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i32>,
) -> AppResult<Json<Scene>> {
    sqlx::query_as(&format!(
        "SELECT {SCENE_COLUMNS} FROM coverage_scenes WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.db)
    .await?
    .map(Json)
    .ok_or_else(|| AppError::not_found(&format!("coverage scene {id}")))
}

/// Create a coverage scene.
#[utoipa::path(post, path = "/api/v1/coverage-scenes", tag = "catalog", request_body = NewScene,
    security(("bearer" = ["catalog.edit"])),
    responses((status = 201, body = Scene), (status = 409, body = crate::http::error::Problem),
              (status = 422, body = crate::http::error::Problem)))]
async fn create_scene(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(new): ApiJson<NewScene>,
) -> AppResult<(StatusCode, Json<Scene>)> {
    new.validate()?;
    let mut tx = state.db.begin().await?;
    let scene: Scene = sqlx::query_as(&format!(
        "INSERT INTO coverage_scenes (name, description, default_hours) VALUES ($1, $2, $3) RETURNING {SCENE_COLUMNS}"
    ))
    .bind(new.name.trim())
    .bind(new.description.as_deref().map(str::trim).filter(|d| !d.is_empty()))
    .bind(new.default_hours)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(format!("a coverage scene named \"{}\" already exists", new.name.trim())),
        other => other,
    })?;
    let details = serde_json::json!({ "after": { "name": scene.name, "default_hours": scene.default_hours } });
    audit::record(
        &mut tx,
        Some(staff.contributor_id),
        "catalog.scene.create",
        "coverage_scene",
        Some(scene.id),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(scene)))
}
