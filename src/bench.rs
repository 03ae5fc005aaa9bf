//! `projectflo bench pricing`: the time of one change to an 80-component build, recompute
//! included, each in its own committed transaction, on a throwaway database of the same server.
//! `projectflo bench api`: see `api`.
pub mod api;
mod load;
pub mod reports;

use crate::quote::builds::{self, ComponentChange, CoverageChange};
use crate::{db, seed};
use anyhow::{Context, Result};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use std::time::{Duration, Instant};

pub async fn pricing(admin: PgConnectOptions, changes: usize) -> Result<()> {
    let name = format!("projectflo_bench_{}", std::process::id());
    db::create_database_if_missing(&admin, &name)
        .await
        .context("creating the bench database")?;
    let result = run(admin.clone().database(&name), changes).await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    result
}

async fn run(options: PgConnectOptions, changes: usize) -> Result<()> {
    let pool: PgPool = db::pool(options, 4).await?;
    db::migrate(&pool).await?;
    seed::demo(&pool).await?;
    let build = build_of_80_components(&pool).await?;
    let comps: Vec<i32> = sqlx::query_scalar(
        "SELECT c.id FROM build_components c
         JOIN build_deliverables bd ON bd.id = c.build_deliverable_id
         WHERE bd.build_id = $1 ORDER BY c.id",
    )
    .bind(build)
    .fetch_all(&pool)
    .await?;
    let times = time_changes(&pool, build, &comps, changes).await?;
    report(&times, comps.len());
    pool.close().await;
    Ok(())
}

fn err(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// An 80-component build: 40 covered scenes x Highlight Film and Raw Footage.
async fn build_of_80_components(pool: &PgPool) -> Result<i32> {
    let mut tx = pool.begin().await?;
    let inquiry: i32 =
        sqlx::query_scalar("SELECT id FROM inquiries WHERE status = $1 ORDER BY id LIMIT 1")
            .bind(crate::crm::InquiryStatus::New)
            .fetch_one(&mut *tx)
            .await?;
    let build = builds::create_for_inquiry(&mut tx, inquiry, None)
        .await
        .map_err(err)?;
    let operator: i32 =
        sqlx::query_scalar("SELECT id FROM operator_types WHERE name = 'Lead Videographer'")
            .fetch_one(&mut *tx)
            .await?;
    let scenes: Vec<i32> = sqlx::query_scalar(
        "INSERT INTO coverage_scenes (name, default_hours)
         SELECT 'Bench scene ' || n, 1 FROM generate_series(0, 39) n RETURNING id",
    )
    .fetch_all(&mut *tx)
    .await?;
    for scene in scenes {
        let change = CoverageChange {
            scene,
            operator,
            quantity: 1,
            hours: None,
        };
        builds::add_coverage(&mut tx, build, &change, None)
            .await
            .map_err(err)?;
    }
    let films: Vec<i32> = sqlx::query_scalar(
        "SELECT id FROM deliverables WHERE name IN ('Highlight Film', 'Raw Footage') ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?;
    for film in films {
        builds::add_deliverable(&mut tx, build, film, None)
            .await
            .map_err(err)?;
    }
    tx.commit().await?;
    Ok(build)
}

/// The time of each of `changes` component changes, each committed (after 20 that warm the
/// caches), sorted.
async fn time_changes(
    pool: &PgPool,
    build: i32,
    comps: &[i32],
    changes: usize,
) -> Result<Vec<Duration>> {
    let styles: Vec<i32> = sqlx::query_scalar("SELECT id FROM editing_styles ORDER BY id")
        .fetch_all(pool)
        .await?;
    let mut times: Vec<Duration> = Vec::with_capacity(changes);
    for n in 0..changes + 20 {
        let change = ComponentChange {
            style: styles[n % styles.len()],
            target_minutes: Some(rust_decimal::Decimal::from((n % 5) as i64)),
            included: n % 7 != 0,
        };
        let t = Instant::now();
        let mut tx = pool.begin().await?;
        builds::update_component(&mut tx, build, comps[n % comps.len()], &change, None)
            .await
            .map_err(err)?;
        tx.commit().await?;
        if n >= 20 {
            times.push(t.elapsed());
        }
    }
    times.sort();
    Ok(times)
}

fn report(times: &[Duration], components: usize) {
    let pct = |p: f64| {
        times[((times.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(times.len() - 1)]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "pricing bench: {} changes to one build of {} components (recompute included, each \
         committed): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        components,
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*times.last().unwrap())
    );
}
