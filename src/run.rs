//! What each command does: open the database, migrate, seed, serve, and shut down cleanly.
use crate::{app, config::Settings, db, seed, state::AppState};
use anyhow::{Context, Result};
use std::io::IsTerminal;
use std::time::Instant;
use tracing_subscriber::EnvFilter;

pub enum Cmd {
    BenchPricing {
        changes: usize,
    },
    BenchApi(crate::bench::api::Options),
    BenchReports(crate::bench::reports::Options),
    Serve,
    Migrate,
    Seed {
        demo: bool,
        /// Years of the synthetic studio, and its bookings a year.
        scale: Option<i32>,
        per_year: i32,
    },
    Demo,
    /// `jobs invoices`, by the system clock or at the instant given.
    JobsInvoices {
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// `jobs nightly`: the benchmarks learned, then the invoice sweep.
    JobsNightly {
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// `jobs calendar-sync`: one Google Calendar sync run.
    JobsCalendarSync {
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// `jobs calendar`: recurring absences stored up to the horizon.
    JobsCalendar {
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// `jobs workflows`: one pass of the workflow scheduler.
    JobsWorkflows {
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// `jobs outbox`: one pass of the email outbox.
    JobsOutbox {
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    CreateUser {
        email: String,
        role: String,
        first_name: String,
        last_name: String,
        password_stdin: bool,
    },
}

pub fn main(cmd: Cmd, settings: Settings) -> Result<()> {
    // Password hashing allocates 19 MiB per run. With glibc's dynamic threshold such blocks end
    // up kept in per-thread arenas after a few logins (hundreds of MB of RSS); a fixed threshold
    // makes them mmap'd and returned to the system when freed.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
    let filter = EnvFilter::try_new(&settings.log)
        .map_err(|e| anyhow::anyhow!("bad setting --log (env PROJECTFLO_LOG): {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colour only on a terminal: logs sent to a file or a pipe carry no escape codes.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cmd, settings))
}

async fn run(cmd: Cmd, settings: Settings) -> Result<()> {
    let started = Instant::now();
    // S3 settings the store refuses stop start-up before anything else.
    crate::storage::Storage::new(&settings)?;
    let database = db::Database::open(&settings).await?;
    let result = execute(cmd, &database, &settings, started).await;
    database.close().await;
    result
}

async fn execute(
    cmd: Cmd,
    database: &db::Database,
    settings: &Settings,
    started: Instant,
) -> Result<()> {
    db::migrate(&database.pool).await?;
    if matches!(cmd, Cmd::Seed { demo: true, .. } | Cmd::Demo) {
        seed_demo(&database.pool).await?;
        let storage = crate::storage::Storage::new(settings)?;
        seed::demo_files(&database.pool, &storage).await?;
    }
    if let Cmd::Seed {
        scale: Some(years),
        per_year,
        ..
    } = cmd
    {
        let t = Instant::now();
        seed::studio(&database.pool, crate::clock::Clock::System, years, per_year).await?;
        println!(
            "Added a synthetic studio of {years} years at {per_year} bookings a year in {:.1} s.",
            t.elapsed().as_secs_f64()
        );
    }
    match cmd {
        Cmd::BenchPricing { changes } => {
            crate::bench::pricing(database.admin_options(), changes).await?
        }
        Cmd::BenchApi(opts) => {
            crate::bench::api::api(database.admin_options(), settings, opts).await?
        }
        Cmd::BenchReports(opts) => {
            crate::bench::reports::reports(database.admin_options(), settings, opts).await?
        }
        Cmd::CreateUser {
            email,
            role,
            first_name,
            last_name,
            password_stdin,
        } => {
            let names = (first_name.as_str(), last_name.as_str());
            create_user(&database.pool, &email, &role, names, password_stdin).await?
        }
        Cmd::Serve | Cmd::Demo => {
            let demo = matches!(cmd, Cmd::Demo);
            serve(database, settings, started, demo).await?
        }
        Cmd::JobsInvoices { at } => {
            let clock = at.map_or(crate::clock::Clock::System, crate::clock::Clock::Fixed);
            let swept = crate::billing::jobs::sweep(&database.pool, settings, &clock)
                .await
                .map_err(|e| anyhow::anyhow!("the invoice sweep: {e}"))?;
            println!(
                "Invoices: {} marked overdue, {} credit applications, {} idempotency answers \
                 forgotten, {} reminders sent.",
                swept.overdue, swept.credits, swept.forgotten, swept.reminders
            );
        }
        Cmd::JobsNightly { at } => {
            let clock = at.map_or(crate::clock::Clock::System, crate::clock::Clock::Fixed);
            let run = crate::jobs::nightly(&database.pool, settings, &clock)
                .await
                .map_err(|e| anyhow::anyhow!("the nightly run: {e}"))?;
            println!("{}", run.report());
        }
        Cmd::JobsCalendar { at } => {
            let clock = at.map_or(crate::clock::Clock::System, crate::clock::Clock::Fixed);
            let mut conn = database.pool.acquire().await?;
            let added = crate::calendar::recurrences::extend_all(&mut conn, &clock)
                .await
                .map_err(|e| anyhow::anyhow!("the calendar step: {e}"))?;
            println!("Calendar: {added} days of recurring absences stored.");
        }
        Cmd::JobsCalendarSync { at } => {
            let clock = at.map_or(crate::clock::Clock::System, crate::clock::Clock::Fixed);
            let out = crate::calendar::google::sync::run(&database.pool, settings, &clock, None)
                .await
                .map_err(|e| anyhow::anyhow!("the Google Calendar sync: {e}"))?;
            println!("{}", out.report());
        }
        Cmd::JobsWorkflows { at } => {
            let clock = at.map_or(crate::clock::Clock::System, crate::clock::Clock::Fixed);
            let pass = crate::workflows::engine::pass(&database.pool, settings, &clock)
                .await
                .map_err(|e| anyhow::anyhow!("the workflow pass: {e}"))?;
            println!("{}", pass.report());
        }
        Cmd::JobsOutbox { at } => {
            let clock = at.map_or(crate::clock::Clock::System, crate::clock::Clock::Fixed);
            let pass = crate::mail::outbox::send_due(&database.pool, settings, &clock)
                .await
                .map_err(|e| anyhow::anyhow!("the outbox pass: {e}"))?;
            println!("{}", pass.report());
        }
        Cmd::Migrate | Cmd::Seed { .. } => {}
    }
    Ok(())
}

async fn seed_demo(pool: &sqlx::PgPool) -> Result<()> {
    let loaded = seed::demo(pool).await.context("loading the demo studio")?;
    if loaded {
        tracing::info!("demo studio loaded");
    } else {
        tracing::info!("demo studio already present; nothing to load");
    }
    Ok(())
}

/// `projectflo admin create-user`: the password from stdin, or a generated one printed once.
async fn create_user(
    pool: &sqlx::PgPool,
    email: &str,
    role: &str,
    (first_name, last_name): (&str, &str),
    password_stdin: bool,
) -> Result<()> {
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        crate::crypto::random_token()[..20].to_string()
    };
    crate::accounts::admin::create_user(pool, email, role, first_name, last_name, &password)
        .await?;
    if password_stdin {
        println!("Created {email} ({role}).");
    } else {
        println!("Created {email} ({role}). Password: {password}");
        println!("Change it after the first login (My account).");
    }
    Ok(())
}

async fn serve(
    database: &db::Database,
    settings: &Settings,
    started: Instant,
    demo: bool,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| {
            format!(
                "bad setting --bind (env PROJECTFLO_BIND): cannot listen on {}",
                settings.bind
            )
        })?;
    let addr = listener.local_addr()?;
    let state = AppState::new(database.pool.clone(), settings.clone());
    tracing::info!(
        "project assets are kept in {}",
        state.storage.describe(settings)
    );
    tokio::spawn(crate::storage::push_pending(
        database.pool.clone(),
        state.storage.clone(),
    ));
    println!(
        "ProjectFlo is running at http://{addr}/  (ready in {:.1} s; Ctrl-C stops it)",
        started.elapsed().as_secs_f64()
    );
    if demo {
        println!(
            "Demo logins (password \"{}\" for each):",
            seed::DEMO_PASSWORD
        );
        for (email, role) in seed::DEMO_STAFF {
            println!("  {role:<13} {email}");
        }
    }
    crate::jobs::schedule(database.pool.clone(), settings.clone());
    crate::jobs::schedule_calendar_sync(database.pool.clone(), settings.clone());
    crate::jobs::schedule_workflows(database.pool.clone(), settings.clone());
    crate::jobs::schedule_outbox(database.pool.clone(), settings.clone());
    app::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("server stopped; stopping the database");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
