//! What each command does: open the database, migrate, seed, serve, and shut down cleanly.
use crate::{app, config::Settings, db, seed, state::AppState};
use anyhow::{Context, Result};
use std::time::Instant;
use tracing_subscriber::EnvFilter;

pub enum Cmd {
    BenchPricing {
        changes: usize,
    },
    Serve,
    Migrate,
    SeedDemo,
    Demo,
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
        .with_writer(std::io::stderr)
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cmd, settings))
}

async fn run(cmd: Cmd, settings: Settings) -> Result<()> {
    let started = Instant::now();
    let database = db::Database::open(&settings).await?;
    let result = async {
        db::migrate(&database.pool).await?;
        if matches!(cmd, Cmd::SeedDemo | Cmd::Demo) {
            let loaded = seed::demo(&database.pool)
                .await
                .context("loading the demo studio")?;
            if loaded {
                tracing::info!("demo studio loaded");
            } else {
                tracing::info!("demo studio already present; nothing to load");
            }
        }
        if let Cmd::BenchPricing { changes } = cmd {
            crate::bench::pricing(database.admin_options(), changes).await?;
            return Ok(());
        }
        if let Cmd::CreateUser { email, role, first_name, last_name, password_stdin } = &cmd {
            let password = if *password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\n', '\r']).to_string()
            } else {
                crate::crypto::random_token()[..20].to_string()
            };
            crate::accounts::admin::create_user(&database.pool, email, role, first_name, last_name, &password).await?;
            if *password_stdin {
                println!("Created {email} ({role}).");
            } else {
                println!("Created {email} ({role}). Password: {password}\nChange it after the first login (My account).");
            }
        }
        if matches!(cmd, Cmd::Serve | Cmd::Demo) {
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
            println!(
                "ProjectFlo is running at http://{addr}/  (ready in {:.1} s; Ctrl-C stops it)",
                started.elapsed().as_secs_f64()
            );
            if matches!(cmd, Cmd::Demo) {
                println!("Demo logins (password \"{}\" for each):", seed::DEMO_PASSWORD);
                for (email, role) in seed::DEMO_STAFF {
                    println!("  {role:<13} {email}");
                }
            }
            app::serve(listener, state, shutdown_signal()).await?;
            tracing::info!("server stopped; stopping the database");
        }
        Ok(())
    }
    .await;
    database.close().await;
    result
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
