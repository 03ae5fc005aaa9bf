//! A quote chooses its payment schedule (`builds.payment_schedule_id`; none: the built-in one)
//! in the builder, while it can still change: not once the couple accepted (the contract's
//! text says the schedule), nor once booked (the invoices are issued). Audited.
use super::builds;
use super::status::BuildStatus;
use crate::auth::Staff;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::error::ApiPath;
use axum::Form;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgConnection;

#[derive(Deserialize, Default)]
pub struct ChoiceForm {
    #[serde(default)]
    schedule: String,
}

/// Set the quote's schedule: 404 for no quote, 409 when it is locked or booked, 422 by the
/// field for a schedule that is not there.
pub async fn set(
    tx: &mut PgConnection,
    build: i32,
    schedule: &str,
    actor: i32,
) -> AppResult<String> {
    let status = builds::lock(tx, build).await?;
    if status == BuildStatus::Booked {
        return Err(AppError::Conflict(
            "this quote is booked: its invoices are issued by the schedule it had".into(),
        ));
    }
    let choice = schedule.trim().parse::<i32>().ok();
    let template = match choice {
        Some(id) => crate::payment_schedules::get(tx, id).await.ok(),
        None => None,
    }
    .ok_or_else(|| AppError::field("schedule", "choose one of the payment schedules"))?;
    sqlx::query("UPDATE builds SET payment_schedule_id = $2 WHERE id = $1")
        .bind(build)
        .bind((!template.builtin).then_some(template.id))
        .execute(&mut *tx)
        .await?;
    crate::audit::record(
        tx,
        Some(actor),
        "builds.payment_schedule",
        "build",
        Some(build),
        serde_json::json!({ "schedule": template.name }),
    )
    .await?;
    Ok(template.name)
}

pub async fn choose(
    mut db: Db,
    staff: Staff,
    ApiPath(id): ApiPath<i32>,
    Form(f): Form<ChoiceForm>,
) -> AppResult<Response> {
    crate::db::transaction(&mut db, async |tx| {
        set(tx, id, &f.schedule, staff.contributor_id).await
    })
    .await?;
    Ok(Redirect::to(&format!("/quotes/{id}#proposal")).into_response())
}
