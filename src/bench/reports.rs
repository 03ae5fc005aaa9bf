//! `projectflo bench reports`: every report and the dashboard of each role at the size of a
//! synthetic studio (`seed --scale`: 10 years of 5,000 bookings, about 50,000 projects and 2
//! million tasks, by default), on a throwaway database of the same server. Each report is
//! timed three ways, one request after another as a person waits for a page: its query (the
//! report's function on one connection), its page (HTML over HTTP with a session) and its API
//! (JSON with an API token); the dashboard over HTTP for a person of each role (the demo's,
//! and the synthetic studio's busiest editor, videographer and sales person). Prints p50 and
//! p95 per target against the goal: p95 under 500 ms.
use super::load::{self, Measure};
use crate::clock::Clock;
use crate::config::Settings;
use crate::reports::range::Range;
use crate::reports::{cashflow, marketing, pipeline, profit, team};
use crate::state::AppState;
use crate::{accounts::tokens, app, auth, db, seed};
use anyhow::{Context, Result, bail};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use std::time::Instant;

pub struct Options {
    pub years: i32,
    pub per_year: i32,
    pub samples: usize,
}

/// The p95 goal, in milliseconds.
pub const P95_GOAL_MS: f64 = 500.0;

/// Requests (or queries) not timed before each target's samples.
const WARM: usize = 3;

pub async fn reports(admin: PgConnectOptions, settings: &Settings, opts: Options) -> Result<()> {
    let name = format!("projectflo_bench_{}", std::process::id());
    db::create_database_if_missing(&admin, &name)
        .await
        .context("creating the bench database")?;
    let result = run(admin.clone().database(&name), settings, &opts).await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    result.map(|rows| print(&rows, &opts))
}

/// One target's numbers.
pub struct Timed {
    pub name: String,
    pub how: &'static str,
    pub measure: Measure,
}

impl Timed {
    pub fn p50(&self) -> f64 {
        self.measure.percentile_ms(0.50)
    }

    pub fn p95(&self) -> f64 {
        self.measure.percentile_ms(0.95)
    }
}

/// Load the studio, then time every target; the rows to print (also what the test reads).
pub async fn run(
    options: PgConnectOptions,
    settings: &Settings,
    opts: &Options,
) -> Result<Vec<Timed>> {
    let pool = db::pool(options, 4).await?;
    db::migrate(&pool).await?;
    let t = Instant::now();
    seed::studio(&pool, Clock::System, opts.years, opts.per_year).await?;
    let loaded = t.elapsed();
    sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    let size: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM tasks),
                (SELECT count(*) FROM task_time_entries), (SELECT count(*) FROM inquiries),
                (SELECT count(*) FROM invoices), (SELECT count(*) FROM calendar_events)",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "bench reports: a studio of {} years at {} bookings a year, loaded in {:.1} s: {} \
         projects, {} tasks, {} time entries, {} inquiries, {} invoices, {} calendar events",
        opts.years,
        opts.per_year,
        loaded.as_secs_f64(),
        size.0,
        size.1,
        size.2,
        size.3,
        size.4,
        size.5
    );
    let result = time_all(&pool, settings, opts).await;
    pool.close().await;
    result
}

/// The demo's people by role, and the synthetic studio's busiest editor, videographer and
/// sales person (given a login), each with a session.
async fn people(pool: &PgPool) -> Result<Vec<(String, String)>> {
    let mut tx = pool.begin().await?;
    let mut who: Vec<(String, i32)> = vec![];
    for (email, role) in seed::DEMO_STAFF {
        let id: i32 = sqlx::query_scalar(
            "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
             WHERE c.email = $1",
        )
        .bind(email)
        .fetch_one(&mut *tx)
        .await?;
        who.push((role.to_string(), id));
    }
    for (role, sql) in [
        (
            "Editor (busiest)",
            "SELECT assigned_to_contributor_id FROM tasks WHERE assigned_to_contributor_id IS NOT NULL
             GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "Videographer (busiest)",
            "SELECT contributor_id FROM calendar_events WHERE event_type = 'PROJECT_ASSIGNMENT'
             GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            "Sales (busiest)",
            "SELECT assigned_to_contributor_id FROM activities GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        ),
    ] {
        let id: i32 = sqlx::query_scalar(sql).fetch_one(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO staff_credentials (contributor_id, password_hash)
             VALUES ($1, NULL) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        who.push((role.to_string(), id));
    }
    let mut out = vec![];
    for (role, id) in who {
        let session = auth::create_session(&mut tx, Some(id), None).await?;
        out.push((role, format!("{}={session}", auth::STAFF_COOKIE)));
    }
    tx.commit().await?;
    Ok(out)
}

/// The report functions as their pages call them, by name.
async fn query(
    conn: &mut sqlx::PgConnection,
    name: &str,
    range: Range,
    today: chrono::NaiveDate,
    tz: &str,
) -> Result<()> {
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    match name {
        "profitability" => {
            profit::report(conn, range, None, None, profit::Sort::default(), "USD")
                .await
                .map_err(err)?;
        }
        "team" => {
            team::report(conn, range, None, tz).await.map_err(err)?;
        }
        "cash flow" => {
            cashflow::report(conn, range, None, today, tz, "USD")
                .await
                .map_err(err)?;
        }
        "marketing ROI" => {
            marketing::report(conn, range, None, None, tz, "USD")
                .await
                .map_err(err)?;
        }
        "pipeline" => {
            pipeline::report(conn, range, None, None, tz)
                .await
                .map_err(err)?;
        }
        other => bail!("no report {other}"),
    }
    Ok(())
}

async fn time_all(pool: &PgPool, settings: &Settings, opts: &Options) -> Result<Vec<Timed>> {
    let studio = {
        let mut conn = pool.acquire().await?;
        crate::studio::Studio::load(&mut conn)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let today = Clock::System.today(&studio.time_zone);
    let range = Range::last_12_months(today);
    let mut rows = vec![];
    // The queries, on one connection.
    let reports = [
        (
            "profitability",
            "/reports/profit",
            "/api/v1/reports/profitability",
        ),
        ("team", "/reports/team", "/api/v1/reports/team-performance"),
        (
            "cash flow",
            "/reports/cash-flow",
            "/api/v1/reports/cash-flow",
        ),
        (
            "marketing ROI",
            "/reports/marketing",
            "/api/v1/reports/marketing-roi",
        ),
        ("pipeline", "/reports/pipeline", "/api/v1/reports/pipeline"),
    ];
    {
        let mut conn = pool.acquire().await?;
        for (name, _, _) in reports {
            let mut times = vec![];
            for i in 0..opts.samples + WARM {
                let t = Instant::now();
                query(&mut conn, name, range, today, &studio.time_zone).await?;
                if i >= WARM {
                    times.push(t.elapsed());
                }
            }
            rows.push(Timed {
                name: name.to_string(),
                how: "query",
                measure: load::of(times),
            });
        }
    }
    let people = people(pool).await?;
    let owner_cookie = ("cookie", people[0].1.clone());
    let token = {
        let mut tx = pool.begin().await?;
        let owner: i32 = sqlx::query_scalar(
            "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
             WHERE c.email = $1",
        )
        .bind(seed::DEMO_STAFF[0].0)
        .fetch_one(&mut *tx)
        .await?;
        let form = tokens::NewTokenForm {
            name: "bench reports".into(),
            expires_in_days: String::new(),
        };
        let token = tokens::create(&mut tx, owner, &form)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
        token
    };
    let bearer = ("authorization", format!("Bearer {token}"));
    // A person who worked on many projects, for the person filter.
    let busy: i32 = sqlx::query_scalar(
        "SELECT contributor_id FROM project_hours GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(pool.clone(), settings.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let mut http = vec![];
    for (name, page, api) in reports {
        http.push((
            name.to_string(),
            "page",
            page.to_string(),
            owner_cookie.clone(),
        ));
        http.push((name.to_string(), "API", api.to_string(), bearer.clone()));
    }
    http.push((
        "profitability, by margin desc, page 2".into(),
        "page",
        "/reports/profit?sort=margin&dir=desc&page=2".into(),
        owner_cookie.clone(),
    ));
    http.push((
        "profitability, one person".into(),
        "page",
        format!("/reports/profit?person={busy}"),
        owner_cookie.clone(),
    ));
    http.push((
        "profitability, all 10 years".into(),
        "CSV",
        format!(
            "/reports/profit.csv?from={}&to={today}",
            today
                .checked_sub_months(chrono::Months::new(119))
                .unwrap_or(today)
        ),
        owner_cookie.clone(),
    ));
    http.push((
        "team, one person".into(),
        "page",
        format!("/reports/team?person={busy}"),
        owner_cookie.clone(),
    ));
    for (role, cookie) in &people {
        http.push((
            format!("dashboard, {role}"),
            "page",
            "/".into(),
            ("cookie", cookie.clone()),
        ));
    }
    let mut result = Ok(());
    for (name, how, path, header) in http {
        match load::sample(addr, &path, &header, opts.samples, WARM).await {
            Ok(measure) => rows.push(Timed { name, how, measure }),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = stop.send(());
    server.await??;
    result.map(|()| rows)
}

fn print(rows: &[Timed], opts: &Options) {
    println!();
    println!(
        "{:<42}  {:<5}  {:>8}  {:>8}  {:>8}  result",
        "target", "how", "p50 ms", "p95 ms", "max ms"
    );
    let mut missed = 0;
    for r in rows {
        let p95 = r.p95();
        let ok = p95 < P95_GOAL_MS;
        missed += usize::from(!ok);
        println!(
            "{:<42}  {:<5}  {:>8.1}  {:>8.1}  {:>8.1}  {}",
            r.name,
            r.how,
            r.p50(),
            p95,
            r.measure.percentile_ms(1.0),
            if ok { "meets" } else { "MISSES" }
        );
    }
    println!(
        "\n{} samples each, one request after another, after {WARM} that warm the caches; goal: \
         p95 < {P95_GOAL_MS} ms; {} of {} targets meet it. Default filters (the last 12 months) \
         unless named.",
        opts.samples,
        rows.len() - missed,
        rows.len()
    );
}
