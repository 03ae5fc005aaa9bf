//! `projectflo bench api`: the real app, served in-process on a throwaway database of the same
//! server, under an HTTP load of N keep-alive connections, against pgbench running the same SQL
//! (the same statement texts, the same parameters, prepared) with the same N connections over
//! the same kind of socket. Each round runs, for each target, the HTTP load and then pgbench, so
//! that both see the same conditions; the ratio HTTP/pgbench is what the app costs on top of
//! its SQL.
//!
//! The SQL is each request's own statements (authentication and handler), taken from the
//! functions the app runs them from. Not counted as the request's SQL: sqlx's ping of every
//! connection it takes back, an extra round trip of the app's. The board and the dashboard
//! are measured over HTTP only (their rates at any `--scale`).
use super::load::{self, Measure};
use crate::accounts::tokens;
use crate::catalog::{spec, store};
use crate::config::Settings;
use crate::quote::view;
use crate::state::AppState;
use crate::{app, auth, crm, crypto, db, page, seed};
use anyhow::{Context, Result, bail};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Options {
    pub connections: usize,
    pub seconds: u64,
    pub rounds: usize,
    pub scale: i32,
}

/// One request measured over HTTP and with pgbench.
struct Target {
    name: &'static str,
    path: String,
    /// The credential header: (name, value).
    header: (&'static str, String),
    credential: &'static str,
    statements: Vec<Statement>,
    /// The smallest HTTP/pgbench ratio that meets the goal.
    goal: f64,
}

/// A statement as the app runs it: SQL text with `$n` parameters, and their values.
#[derive(Clone)]
struct Statement {
    sql: String,
    params: Vec<Param>,
}

#[derive(Clone)]
enum Param {
    /// NULL, of this type (pgbench variables cannot be NULL).
    Null(&'static str),
    Value(String),
}

fn val(v: impl ToString) -> Param {
    Param::Value(v.to_string())
}

/// The p99 latency goal, in milliseconds.
const P99_GOAL_MS: f64 = 20.0;

pub async fn api(admin: PgConnectOptions, settings: &Settings, opts: Options) -> Result<()> {
    let bin = db::embedded::find_bin_dir(settings.pg_bin_dir.as_deref())
        .context("pgbench comes with the PostgreSQL server binaries")?;
    let pgbench = bin.join("pgbench");
    if !pgbench.is_file() {
        bail!("pgbench not found in {}", bin.display());
    }
    let name = format!("projectflo_bench_{}", std::process::id());
    db::create_database_if_missing(&admin, &name)
        .await
        .context("creating the bench database")?;
    let result = run(admin.clone().database(&name), settings, &pgbench, &opts).await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    result
}

async fn run(
    options: PgConnectOptions,
    settings: &Settings,
    pgbench: &Path,
    opts: &Options,
) -> Result<()> {
    let pool = db::pool(options.clone(), opts.connections as u32 + 2).await?;
    db::migrate(&pool).await?;
    seed::demo(&pool).await?;
    if opts.scale > 0 {
        seed::scale(&pool, crate::clock::Clock::System, opts.scale).await?;
    }
    // Fresh statistics, as autovacuum would have them for a studio's years of leads.
    sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    let targets = targets(&pool, settings).await?;
    for t in &targets {
        check_statements(&pool, t).await?;
    }
    let work = std::env::temp_dir().join(format!("projectflo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = measure(&pool, settings, pgbench, &options, opts, &targets, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    pool.close().await;
    result
}

/// The three targets, with an API token and a session of the demo Owner.
async fn targets(pool: &PgPool, settings: &Settings) -> Result<Vec<Target>> {
    let mut tx = pool.begin().await?;
    let owner: i32 = sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = $1",
    )
    .bind(seed::DEMO_STAFF[0].0)
    .fetch_one(&mut *tx)
    .await
    .context("the demo Owner")?;
    let form = tokens::NewTokenForm {
        name: "bench".into(),
        expires_in_days: String::new(),
    };
    let token = tokens::create(&mut tx, owner, &form)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let session = auth::create_session(&mut tx, Some(owner), None).await?;
    let catalog = spec::by_slug("coverage-scenes").map_err(|e| anyhow::anyhow!("{e}"))?;
    let row: i32 = sqlx::query_scalar(&format!("SELECT min(id) FROM {}", catalog.table))
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;

    let bearer = ("authorization", format!("Bearer {token}"));
    let token_check = Statement {
        sql: auth::token_sql(),
        params: vec![val(crypto::token_hash(&token))],
    };
    let limit = page::SIZE + 1;
    let single = Target {
        name: "single-row",
        path: format!("/api/v1/catalog/{}/{row}", catalog.slug),
        header: bearer.clone(),
        credential: "API token",
        statements: vec![
            token_check.clone(),
            Statement {
                sql: store::select_sql(catalog),
                params: vec![val(row)],
            },
        ],
        goal: 0.6,
    };
    let list = Target {
        name: "list",
        path: "/api/v1/inquiries".into(),
        header: bearer,
        credential: "API token",
        statements: vec![
            token_check,
            Statement {
                sql: crm::inquiries::list_sql(),
                params: vec![val(limit)],
            },
        ],
        goal: 0.4,
    };
    let idle = settings.session_idle_minutes as f64 * 60.0;
    let absolute = settings.session_absolute_hours as f64 * 3600.0;
    let page = Target {
        name: "page",
        path: "/quotes".into(),
        header: ("cookie", format!("{}={session}", auth::STAFF_COOKIE)),
        credential: "session cookie",
        statements: vec![
            Statement {
                sql: auth::session_sql("contributor_id"),
                params: vec![val(crypto::token_hash(&session)), val(idle), val(absolute)],
            },
            Statement {
                sql: auth::staff_sql(),
                params: vec![val(owner)],
            },
            Statement {
                sql: view::QUOTES_SQL.into(),
                params: vec![Param::Null("timestamptz"), Param::Null("int"), val(limit)],
            },
            Statement {
                sql: crate::http::layout::load_sql(),
                params: vec![val(owner)],
            },
        ],
        goal: 0.4,
    };
    // Measured over HTTP only, for their rates at any size: the board and the dashboard run
    // several statements each, their SQL is what `page` shows for one.
    let http_only = |name, path: &str| Target {
        name,
        path: path.into(),
        header: page.header.clone(),
        credential: "session cookie",
        statements: vec![],
        goal: 0.0,
    };
    let (board, dashboard) = (http_only("board", "/leads"), http_only("dashboard", "/"));
    Ok(vec![single, list, page, board, dashboard])
}

/// Each statement, with its parameters as literals, finds rows: pgbench is not measuring a
/// lookup that misses.
async fn check_statements(pool: &PgPool, t: &Target) -> Result<()> {
    use sqlx::Executor;
    let mut conn = pool.acquire().await?;
    for (i, s) in t.statements.iter().enumerate() {
        let args: Vec<String> = s
            .params
            .iter()
            .map(|p| match p {
                Param::Null(ty) => format!("NULL::{ty}"),
                Param::Value(v) => format!("'{}'", v.replace('\'', "''")),
            })
            .collect();
        conn.execute(format!("PREPARE bench_check AS {}", s.sql).as_str())
            .await?;
        let execute = if args.is_empty() {
            "EXECUTE bench_check".to_string()
        } else {
            format!("EXECUTE bench_check({})", args.join(", "))
        };
        let rows = conn.fetch_all(execute.as_str()).await?;
        conn.execute("DEALLOCATE bench_check").await?;
        if rows.is_empty() {
            bail!("statement {} of {} finds no row", i + 1, t.name);
        }
    }
    Ok(())
}

/// One round's numbers for one target.
struct Run {
    http: Measure,
    tps: f64,
}

async fn measure(
    pool: &PgPool,
    settings: &Settings,
    pgbench: &Path,
    options: &PgConnectOptions,
    opts: &Options,
    targets: &[Target],
    work: &Path,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(pool.clone(), settings.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(listener, state, async {
        let _ = stopped.await;
    }));
    println!(
        "bench api: {} connections, {} s per run, rounds: {}; per round and target the HTTP \
         load, then pgbench",
        opts.connections, opts.seconds, opts.rounds
    );
    let mut scripts = Vec::new();
    for t in targets {
        let check = load::check(addr, &t.path, &t.header).await?;
        let (text, vars) = pgbench_script(&t.statements);
        let file = work.join(format!("{}.sql", t.name));
        tracing::debug!(target = t.name, script = %text, vars = ?vars, "pgbench script");
        std::fs::write(&file, text)?;
        scripts.push((file, vars));
        println!(
            "  {:<10}  GET {} ({}; {} statements; {} bytes)",
            t.name,
            t.path,
            t.credential,
            t.statements.len(),
            check
        );
    }
    let duration = Duration::from_secs(opts.seconds);
    let mut runs: Vec<Vec<Run>> = targets.iter().map(|_| Vec::new()).collect();
    for _ in 0..opts.rounds {
        for (i, t) in targets.iter().enumerate() {
            let http = load::run(addr, &t.path, &t.header, opts.connections, duration).await?;
            let (file, vars) = &scripts[i];
            let url = settings.database_url.as_deref();
            let tps = match t.statements.is_empty() {
                true => f64::NAN,
                false => run_pgbench(pgbench, options, file, vars, opts, url).await?,
            };
            runs[i].push(Run { http, tps });
        }
    }
    let _ = stop.send(());
    server.await??;
    report(targets, &runs, opts);
    Ok(())
}

/// A pgbench script of the statements, each parameter a variable (`-D name=value`); a NULL
/// stays a parameter, as `NULLIF(:nul, 'null')` of its type, so plans are made as the app's.
fn pgbench_script(statements: &[Statement]) -> (String, Vec<String>) {
    let mut text = String::new();
    let mut vars = vec!["nul=null".to_string()];
    for (i, s) in statements.iter().enumerate() {
        let mut chars = s.sql.chars().peekable();
        while let Some(ch) = chars.next() {
            let mut digits = String::new();
            while ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                digits.push(chars.next().unwrap());
            }
            let Ok(n) = digits.parse::<usize>() else {
                text.push(ch);
                continue;
            };
            match &s.params[n - 1] {
                Param::Null(ty) => text.push_str(&format!("NULLIF(:nul, 'null')::{ty}")),
                Param::Value(v) => {
                    text.push_str(&format!(":s{i}p{n}"));
                    vars.push(format!("s{i}p{n}={v}"));
                }
            }
        }
        text.push_str(";\n");
    }
    vars.sort();
    vars.dedup();
    (text, vars)
}

async fn run_pgbench(
    pgbench: &Path,
    options: &PgConnectOptions,
    script: &PathBuf,
    vars: &[String],
    opts: &Options,
    database_url: Option<&str>,
) -> Result<f64> {
    let mut cmd = tokio::process::Command::new(pgbench);
    cmd.args(["-n", "-M", "prepared"])
        .args(["-c", &opts.connections.to_string()])
        .args(["-j", &opts.connections.min(2).to_string()])
        .args(["-T", &opts.seconds.to_string()])
        .arg("-f")
        .arg(script);
    for v in vars {
        cmd.arg("-D").arg(v);
    }
    match options.get_socket() {
        Some(dir) => cmd.arg("-h").arg(dir),
        None => cmd.arg("-h").arg(options.get_host()),
    };
    cmd.args(["-p", &options.get_port().to_string()])
        .args(["-U", options.get_username()])
        .arg(options.get_database().unwrap_or("postgres"));
    if let Some(pw) = database_url.and_then(password) {
        cmd.env("PGPASSWORD", pw);
    }
    let out = cmd.output().await.context("running pgbench")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok());
    match tps {
        Some(tps) if out.status.success() => Ok(tps),
        _ => bail!(
            "pgbench failed: {}{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            stdout.trim()
        ),
    }
}

/// The password of the DATABASE_URL setting, if any (PgConnectOptions does not give it back).
fn password(database_url: &str) -> Option<String> {
    let url = url::Url::parse(database_url).ok()?;
    let pw = percent_encoding::percent_decode_str(url.password()?);
    pw.decode_utf8().ok().map(|p| p.into_owned())
}

fn report(targets: &[Target], runs: &[Vec<Run>], opts: &Options) {
    println!();
    println!(
        "{:<10}  {:>5}  {:>10}  {:>7}  {:>7}  {:>7}  {:>11}  {:>5}  {:>6}  result",
        "target",
        "round",
        "HTTP req/s",
        "p50 ms",
        "p99 ms",
        "non-200",
        "pgbench tps",
        "ratio",
        "goal"
    );
    for (t, runs) in targets.iter().zip(runs) {
        let row = |round: &str, http: &Measure, tps: f64| {
            let ratio = http.rate() / tps;
            let p99 = http.percentile_ms(0.99);
            if tps.is_nan() {
                let result = match p99 < P99_GOAL_MS {
                    true => "meets (p99; HTTP only)".to_string(),
                    false => format!("MISSES (p99 >= {P99_GOAL_MS} ms; HTTP only)"),
                };
                println!(
                    "{:<10}  {:>5}  {:>10.1}  {:>7.2}  {:>7.2}  {:>7}  {:>11}  {:>5}  {:>6}  {result}",
                    t.name,
                    round,
                    http.rate(),
                    http.percentile_ms(0.50),
                    p99,
                    http.errors,
                    "-",
                    "-",
                    "-",
                );
                return;
            }
            let result = match (ratio >= t.goal, p99 < P99_GOAL_MS) {
                (true, true) => "meets".to_string(),
                (false, true) => "MISSES (ratio)".to_string(),
                (true, false) => format!("MISSES (p99 >= {P99_GOAL_MS} ms)"),
                (false, false) => format!("MISSES (ratio, p99 >= {P99_GOAL_MS} ms)"),
            };
            println!(
                "{:<10}  {:>5}  {:>10.1}  {:>7.2}  {:>7.2}  {:>7}  {:>11.1}  {:>5.2}  {:>6}  {result}",
                t.name,
                round,
                http.rate(),
                http.percentile_ms(0.50),
                p99,
                http.errors,
                tps,
                ratio,
                format!(">={:.2}", t.goal),
            );
        };
        for (i, r) in runs.iter().enumerate() {
            row(&(i + 1).to_string(), &r.http, r.tps);
        }
        if runs.len() > 1 {
            let all = Measure::merge(runs.iter().map(|r| &r.http));
            let tps = runs.iter().map(|r| r.tps).sum::<f64>() / runs.len() as f64;
            row("all", &all, tps);
        }
    }
    println!(
        "\n{} connections, {} s per run; ratio = HTTP req/s / pgbench tps (pgbench: -M prepared, \
         -c {} -j {}, the same statements); goals: ratio as shown, p99 < {P99_GOAL_MS} ms",
        opts.connections,
        opts.seconds,
        opts.connections,
        opts.connections.min(2)
    );
}
