//! The accounts API: who the caller is (`GET /api/v1/me`).
use crate::auth::{Access, Staff};
use crate::http::routes::Routes;
use axum::Json;
use serde::Serialize;

pub fn routes() -> Routes {
    Routes::new().api(Access::Staff, utoipa_axum::routes!(me))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub contributor_id: i32,
    pub name: String,
    pub email: String,
    pub role: String,
    pub permissions: Vec<String>,
}

/// Who the caller is, and what they may do.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = crate::http::error::Problem))
)]
async fn me(staff: Staff) -> Json<Me> {
    Json(Me {
        contributor_id: staff.contributor_id,
        name: staff.name,
        email: staff.email,
        role: staff.role,
        permissions: staff.permissions,
    })
}
