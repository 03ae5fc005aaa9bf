//! A demo quote described in a few lines, and the quote builder's own functions that build it.
use anyhow::Result;

pub struct DemoQuote {
    pub email: &'static str,
    pub coverage: &'static [(&'static str, &'static str, i32, Option<&'static str>)],
    pub films: &'static [&'static str],
    pub add_ons: &'static [(&'static str, i32, &'static str)],
}

pub const LEAD: &str = "Lead Videographer";

pub async fn id(tx: &mut sqlx::PgConnection, table: &str, name: &str) -> Result<i32> {
    Ok(
        sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE name = $1"))
            .bind(name)
            .fetch_one(tx)
            .await?,
    )
}

pub async fn demo_build(tx: &mut sqlx::PgConnection, q: &DemoQuote) -> Result<i32> {
    use crate::quote::builds::{self, CoverageChange};
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let inquiry: i32 = sqlx::query_scalar(
        "SELECT i.id FROM inquiries i JOIN contacts c ON c.id = i.contact_id WHERE c.email = $1",
    )
    .bind(q.email)
    .fetch_one(&mut *tx)
    .await?;
    let build = builds::create_for_inquiry(tx, inquiry, None)
        .await
        .map_err(err)?;
    for &(scene, operator, quantity, hours) in q.coverage {
        let change = CoverageChange {
            scene: id(tx, "coverage_scenes", scene).await?,
            operator: id(tx, "operator_types", operator).await?,
            quantity,
            hours: hours.map(|h| h.parse()).transpose()?,
        };
        builds::add_coverage(tx, build, &change, None)
            .await
            .map_err(err)?;
    }
    for film in q.films {
        let film = id(tx, "deliverables", film).await?;
        builds::add_deliverable(tx, build, film, None)
            .await
            .map_err(err)?;
    }
    for &(item, quantity, note) in q.add_ons {
        let item = id(tx, "billable_items", item).await?;
        builds::add_billable(tx, build, item, quantity, Some(note), None)
            .await
            .map_err(err)?;
    }
    Ok(build)
}
