//! Changes to a build. Each locks the build row, changes its rows, keeps the scene-following
//! components in step with the coverage, and recomputes the live price, in the caller's
//! transaction: concurrent edits of one build run one after another.
pub use super::changes::{ComponentChange, CoverageChange};
use super::changes::{check_notes, check_quantity, must_exist, offered_price};
use super::engine;
use super::pricing::Priced;
use super::status::BuildStatus;
use crate::audit;
use crate::crm::InquiryStatus;
use crate::error::{AppError, AppResult};
use serde_json::json;
use sqlx::PgConnection;

/// Lock the build for a change; a Completed build, or one whose proposal the couple accepted,
/// cannot change (409). The status is read as
/// text: every change passes here, and reading the enum type would cost each new connection
/// one more statement (sqlx looks the type up once per connection).
pub async fn lock(tx: &mut PgConnection, build: i32) -> AppResult<BuildStatus> {
    let (status, accepted, pending): (String, Option<String>, Option<i32>) = sqlx::query_as(
        "SELECT status::text,
                CASE WHEN accepted_at IS NOT NULL AND status = 'Proposal Sent' THEN accepted_by END
                AS accepted,
                (SELECT version_number FROM build_change_orders o
                 WHERE o.build_id = b.id AND o.status = 'Pending Approval') AS pending
         FROM builds b WHERE id = $1 FOR UPDATE",
    )
    .bind(build)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found(&format!("quote {build}")))?;
    let status: BuildStatus = status.parse().map_err(anyhow::Error::msg)?;
    if let Some(accepted) = accepted {
        return Err(AppError::Conflict(format!(
            "{accepted} accepted this proposal, so the quote is locked; take the acceptance \
             back to change it"
        )));
    }
    if let Some(v) = pending {
        return Err(AppError::Conflict(format!(
            "change order {v} is waiting for the couple's answer, so the quote is locked; \
             record their answer first"
        )));
    }
    if status == BuildStatus::Completed {
        return Err(AppError::Conflict(
            "this quote is Completed and can no longer change".into(),
        ));
    }
    Ok(status)
}

/// Lock the build's row (whatever its state) and read its status.
pub async fn lock_row(tx: &mut PgConnection, build: i32) -> AppResult<BuildStatus> {
    let status: String =
        sqlx::query_scalar("SELECT status::text FROM builds WHERE id = $1 FOR UPDATE")
            .bind(build)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::not_found(&format!("quote {build}")))?;
    Ok(status.parse().map_err(anyhow::Error::msg)?)
}

/// The build exists: 404 otherwise.
pub async fn ensure_exists(tx: &mut PgConnection, build: i32) -> AppResult<()> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM builds WHERE id = $1)")
        .bind(build)
        .fetch_one(&mut *tx)
        .await?;
    if exists {
        Ok(())
    } else {
        Err(AppError::not_found(&format!("quote {build}")))
    }
}

/// Finish a change: scene-following components, the price, the audit entry.
async fn done(
    tx: &mut PgConnection,
    build: i32,
    actor: Option<i32>,
    action: &str,
    details: serde_json::Value,
) -> AppResult<Priced> {
    sync_scene_components(tx, build).await?;
    let priced = engine::recompute(tx, build).await?;
    audit::record(
        tx,
        actor,
        action,
        "build",
        Some(build),
        json!({ "change": details, "live_price": priced.total }),
    )
    .await?;
    Ok(priced)
}

/// A default with a NULL scene gives one component per covered scene: add the missing ones,
/// remove those whose scene is no longer covered. Two statements whatever the size.
async fn sync_scene_components(tx: &mut PgConnection, build: i32) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO build_components (build_deliverable_id, coverage_scene_id, editing_style_id,
                target_minutes, is_included, default_component_id, follows_coverage)
         SELECT bd.id, sc.scene, dc.default_editing_style_id, dc.default_target_minutes,
                dc.default_is_included, dc.id, true
         FROM build_deliverables bd
         JOIN deliverable_default_components dc
           ON dc.deliverable_id = bd.deliverable_id AND dc.coverage_scene_id IS NULL
         CROSS JOIN (SELECT DISTINCT coverage_scene_id AS scene
                     FROM build_coverage_assignments WHERE build_id = $1) sc
         WHERE bd.build_id = $1 AND NOT EXISTS (
           SELECT 1 FROM build_components c
           WHERE c.build_deliverable_id = bd.id AND c.default_component_id = dc.id
             AND c.coverage_scene_id = sc.scene)
         ORDER BY bd.id, dc.id, sc.scene",
    )
    .bind(build)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM build_components c USING build_deliverables bd
         WHERE c.build_deliverable_id = bd.id AND bd.build_id = $1 AND c.follows_coverage
           AND NOT EXISTS (SELECT 1 FROM build_coverage_assignments a
                           WHERE a.build_id = $1 AND a.coverage_scene_id = c.coverage_scene_id)",
    )
    .bind(build)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The build of an inquiry, if it has one.
pub async fn of_inquiry(tx: &mut PgConnection, inquiry: i32) -> AppResult<Option<i32>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM builds WHERE inquiry_id = $1")
            .bind(inquiry)
            .fetch_optional(&mut *tx)
            .await?,
    )
}

/// A build for an inquiry (one per inquiry), status Inquiry.
pub async fn create_for_inquiry(
    tx: &mut PgConnection,
    inquiry: i32,
    actor: Option<i32>,
) -> AppResult<i32> {
    let found: Option<(String, Option<i32>)> = sqlx::query_as(
        "SELECT i.status::text, (SELECT id FROM builds WHERE inquiry_id = i.id)
         FROM inquiries i WHERE i.id = $1 FOR UPDATE",
    )
    .bind(inquiry)
    .fetch_optional(&mut *tx)
    .await?;
    let (status, existing) =
        found.ok_or_else(|| AppError::not_found(&format!("inquiry {inquiry}")))?;
    if let Some(b) = existing {
        return Err(AppError::Conflict(format!(
            "this inquiry already has quote {b}"
        )));
    }
    let status: InquiryStatus = status.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    if status == InquiryStatus::ClosedLost {
        return Err(AppError::Conflict(format!("this inquiry is {status}")));
    }
    let id: i32 =
        sqlx::query_scalar("INSERT INTO builds (inquiry_id, status) VALUES ($1, $2) RETURNING id")
            .bind(inquiry)
            .bind(BuildStatus::Inquiry)
            .fetch_one(&mut *tx)
            .await?;
    audit::record(
        tx,
        actor,
        "builds.create",
        "build",
        Some(id),
        json!({ "inquiry": inquiry }),
    )
    .await?;
    Ok(id)
}

pub async fn add_coverage(
    tx: &mut PgConnection,
    build: i32,
    c: &CoverageChange,
    actor: Option<i32>,
) -> AppResult<(i32, Priced)> {
    lock(tx, build).await?;
    c.check(tx).await?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO build_coverage_assignments
                (build_id, coverage_scene_id, operator_type_id, quantity, hours)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(build)
    .bind(c.scene)
    .bind(c.operator)
    .bind(c.quantity)
    .bind(c.hours)
    .fetch_one(&mut *tx)
    .await?;
    let p = done(tx, build, actor, "builds.coverage.add", c.details()).await?;
    Ok((id, p))
}

pub async fn update_coverage(
    tx: &mut PgConnection,
    build: i32,
    id: i32,
    c: &CoverageChange,
    actor: Option<i32>,
) -> AppResult<Priced> {
    lock(tx, build).await?;
    c.check(tx).await?;
    // The line as it was, for the audit entry: the row's old values, read by the same UPDATE.
    let before: Option<serde_json::Value> = sqlx::query_scalar(
        "UPDATE build_coverage_assignments l
         SET coverage_scene_id = $3, operator_type_id = $4, quantity = $5, hours = $6
         FROM build_coverage_assignments old
         WHERE l.id = $2 AND l.build_id = $1 AND old.id = l.id
         RETURNING jsonb_build_object('scene', old.coverage_scene_id,
             'operator', old.operator_type_id, 'quantity', old.quantity, 'hours', old.hours)",
    )
    .bind(build)
    .bind(id)
    .bind(c.scene)
    .bind(c.operator)
    .bind(c.quantity)
    .bind(c.hours)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(before) = before else {
        return Err(AppError::not_found(&format!("coverage line {id}")));
    };
    done(
        tx,
        build,
        actor,
        "builds.coverage.update",
        json!({ "coverage": id, "before": before, "after": c.details() }),
    )
    .await
}

pub async fn remove_coverage(
    tx: &mut PgConnection,
    build: i32,
    id: i32,
    actor: Option<i32>,
) -> AppResult<Priced> {
    let line = Line {
        table: "build_coverage_assignments",
        what: format!("coverage line {id}"),
        was: "jsonb_build_object('scene', coverage_scene_id, 'operator', operator_type_id,
              'quantity', quantity, 'hours', hours)",
    };
    let audit = ("builds.coverage.remove", json!({ "coverage": id }));
    remove_line(tx, build, id, line, audit, actor).await
}

/// A line of a build to delete: its table, what a 404 calls it, and what the audit entry
/// keeps of it (a jsonb expression over its columns).
struct Line {
    table: &'static str,
    what: String,
    was: &'static str,
}

/// Delete one line of the build (404 when the build has no such line), then recompute and
/// audit the change, with what the line was as `before`.
async fn remove_line(
    tx: &mut PgConnection,
    build: i32,
    id: i32,
    line: Line,
    (action, mut details): (&str, serde_json::Value),
    actor: Option<i32>,
) -> AppResult<Priced> {
    lock(tx, build).await?;
    let was: Option<serde_json::Value> = sqlx::query_scalar(&format!(
        "DELETE FROM {} WHERE id = $2 AND build_id = $1 RETURNING {}",
        line.table, line.was
    ))
    .bind(build)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(was) = was else {
        return Err(AppError::not_found(&line.what));
    };
    details["before"] = was;
    done(tx, build, actor, action, details).await
}

/// Add a film: its components come from the film's default components.
pub async fn add_deliverable(
    tx: &mut PgConnection,
    build: i32,
    deliverable: i32,
    actor: Option<i32>,
) -> AppResult<(i32, Priced)> {
    lock(tx, build).await?;
    must_exist(tx, "deliverables", deliverable, "deliverable_id", "film").await?;
    let already: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM build_deliverables
                        WHERE build_id = $1 AND deliverable_id = $2)",
    )
    .bind(build)
    .bind(deliverable)
    .fetch_one(&mut *tx)
    .await?;
    if already {
        return Err(AppError::Conflict(
            "this film is already in the quote".into(),
        ));
    }
    let bd: i32 = sqlx::query_scalar(
        "INSERT INTO build_deliverables (build_id, deliverable_id) VALUES ($1, $2) RETURNING id",
    )
    .bind(build)
    .bind(deliverable)
    .fetch_one(&mut *tx)
    .await?;
    add_fixed_components(tx, bd, deliverable).await?;
    let p = done(
        tx,
        build,
        actor,
        "builds.deliverable.add",
        json!({ "deliverable": deliverable }),
    )
    .await?;
    Ok((bd, p))
}

/// A new film's components with a fixed scene, from the film's default components (those
/// with no scene follow the coverage: `sync_scene_components`).
async fn add_fixed_components(tx: &mut PgConnection, bd: i32, deliverable: i32) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO build_components (build_deliverable_id, coverage_scene_id, editing_style_id,
                target_minutes, is_included, default_component_id, follows_coverage)
         SELECT $1, dc.coverage_scene_id, dc.default_editing_style_id, dc.default_target_minutes,
                dc.default_is_included, dc.id, false
         FROM deliverable_default_components dc
         WHERE dc.deliverable_id = $2 AND dc.coverage_scene_id IS NOT NULL ORDER BY dc.id",
    )
    .bind(bd)
    .bind(deliverable)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn remove_deliverable(
    tx: &mut PgConnection,
    build: i32,
    bd: i32,
    actor: Option<i32>,
) -> AppResult<Priced> {
    let line = Line {
        table: "build_deliverables",
        what: format!("film {bd} of this quote"),
        was: "jsonb_build_object('deliverable', deliverable_id)",
    };
    // The work done on a booked film stays on record: exclude its parts instead.
    let worked = crate::production::tasks::worked_on_film(tx, bd).await?;
    if worked > 0 {
        return Err(AppError::Conflict(format!(
            "work is logged on {worked} task(s) of this film: exclude its parts instead of \
             removing it, so that the work stays on record"
        )));
    }
    let audit = (
        "builds.deliverable.remove",
        json!({ "build_deliverable": bd }),
    );
    remove_line(tx, build, bd, line, audit, actor).await
}

pub async fn update_component(
    tx: &mut PgConnection,
    build: i32,
    id: i32,
    c: &ComponentChange,
    actor: Option<i32>,
) -> AppResult<Priced> {
    lock(tx, build).await?;
    c.check(tx).await?;
    let before: Option<serde_json::Value> = sqlx::query_scalar(
        "UPDATE build_components c SET editing_style_id = $3, target_minutes = $4, is_included = $5
         FROM build_deliverables bd, build_components old
         WHERE c.id = $2 AND bd.id = c.build_deliverable_id AND bd.build_id = $1 AND old.id = c.id
         RETURNING jsonb_build_object('style', old.editing_style_id,
             'target_minutes', old.target_minutes, 'included', old.is_included)",
    )
    .bind(build)
    .bind(id)
    .bind(c.style)
    .bind(c.target_minutes)
    .bind(c.included)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(before) = before else {
        return Err(AppError::not_found(&format!(
            "component {id} of this quote"
        )));
    };
    let mut details = c.details(id);
    details["before"] = before;
    done(tx, build, actor, "builds.component.update", details).await
}

/// Add a billable item by hand, at today's price (active items only).
pub async fn add_billable(
    tx: &mut PgConnection,
    build: i32,
    item: i32,
    quantity: i32,
    notes: Option<&str>,
    actor: Option<i32>,
) -> AppResult<(i32, Priced)> {
    lock(tx, build).await?;
    check_quantity(quantity)?;
    let price = offered_price(tx, item).await?;
    let notes = check_notes(notes)?;
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO build_billable_items
                (build_id, billable_item_id, quantity, price_at_time_of_add, notes)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(build)
    .bind(item)
    .bind(quantity)
    .bind(price)
    .bind(notes)
    .fetch_one(&mut *tx)
    .await?;
    let p = done(
        tx,
        build,
        actor,
        "builds.billable.add",
        json!({ "item": item, "quantity": quantity, "price": price }),
    )
    .await?;
    Ok((id, p))
}

pub async fn remove_billable(
    tx: &mut PgConnection,
    build: i32,
    id: i32,
    actor: Option<i32>,
) -> AppResult<Priced> {
    lock(tx, build).await?;
    let engine: Option<bool> = sqlx::query_scalar(
        "SELECT is_engine_made FROM build_billable_items WHERE id = $2 AND build_id = $1",
    )
    .bind(build)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    match engine {
        None => return Err(AppError::not_found(&format!("line {id} of this quote"))),
        Some(true) => {
            return Err(AppError::Conflict(
                "this line comes with an editing style; change the style to remove it".into(),
            ));
        }
        Some(false) => {}
    }
    let before: serde_json::Value = sqlx::query_scalar(
        "DELETE FROM build_billable_items WHERE id = $1
         RETURNING jsonb_build_object('item', billable_item_id, 'quantity', quantity,
             'price', price_at_time_of_add)",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    done(
        tx,
        build,
        actor,
        "builds.billable.remove",
        json!({ "line": id, "before": before }),
    )
    .await
}
