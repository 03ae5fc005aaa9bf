//! The command line as a user runs it: the real binary, its own embedded cluster.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn projectflo() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_projectflo"));
    c.env_remove("DATABASE_URL");
    for (k, _) in std::env::vars() {
        if k.starts_with("PROJECTFLO_") {
            c.env_remove(k);
        }
    }
    c
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("projectflo-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let out = projectflo()
        .args(["serve", "--bind", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("--bind") && err.contains("PROJECTFLO_BIND"),
        "{err}"
    );

    let out = projectflo()
        .arg("migrate")
        .env("PROJECTFLO_REQUEST_TIMEOUT_SECS", "0")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("PROJECTFLO_REQUEST_TIMEOUT_SECS"), "{err}");
}

#[test]
fn missing_postgresql_binaries_say_what_to_do() {
    let dir = temp_dir("nobin");
    let out = projectflo()
        .arg("migrate")
        .arg("--data-dir")
        .arg(&dir)
        .args(["--pg-bin-dir", "/nonexistent"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("install PostgreSQL") && err.contains("DATABASE_URL"),
        "{err}"
    );
}

struct Running {
    child: Child,
    url: String,
    /// What it printed after the URL line (the demo logins).
    printed: Vec<String>,
}

/// Start `projectflo demo` on a random port and wait for the URL it prints. The caller waits
/// for the child.
#[allow(clippy::zombie_processes)]
fn start_demo(data_dir: &std::path::Path) -> Running {
    let mut child = projectflo()
        .arg("demo")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data_dir.with_extension("stderr")).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = rx
            .recv_timeout(deadline - Instant::now())
            .unwrap_or_else(|e| {
                let err = std::fs::read_to_string(data_dir.with_extension("stderr"));
                panic!("projectflo printed no URL ({e}); its stderr: {err:?}")
            });
        if let Some(rest) = line.split("running at ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
            // The demo logins follow at once.
            let printed = (0..7)
                .filter_map(|_| rx.recv_timeout(Duration::from_secs(5)).ok())
                .collect();
            return Running {
                child,
                url,
                printed,
            };
        }
    }
}

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn demo_inquiries(data_dir: &std::path::Path) -> i64 {
    use sqlx::Connection;
    let opts = sqlx::postgres::PgConnectOptions::new_without_pgpass()
        .socket(data_dir.join("postgres"))
        .username("projectflo")
        .database("projectflo");
    let mut conn = sqlx::PgConnection::connect_with(&opts).await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM inquiries")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn postmaster_running(data_dir: &std::path::Path) -> bool {
    data_dir.join("postgres/postmaster.pid").exists()
}

#[tokio::test]
async fn demo_serves_reuses_its_data_stops_on_ctrl_c_and_recovers_after_kill_9() {
    let dir = temp_dir("demo");

    // First run: initdb, migrate, seed, serve.
    let mut run = start_demo(&dir);
    assert_eq!(get(&format!("{}/healthz", run.url)).await.0, 200);
    assert_eq!(get(&format!("{}/readyz", run.url)).await.0, 200);
    assert!(
        run.printed
            .iter()
            .any(|l| l.contains("maya@goldenhour.example") && l.contains("Owner")),
        "{:?}",
        run.printed
    );
    let (status, html) = get(&format!("{}/login", run.url)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Log in"));
    let leads = demo_inquiries(&dir).await;
    assert_eq!(leads, 11, "the demo's leads");

    // Ctrl-C: the server and the cluster stop cleanly within 5 s.
    let t = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = run.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        t.elapsed()
    );
    assert!(!postmaster_running(&dir), "the cluster stopped too");

    // Second run: same data, nothing loaded twice.
    let mut run = start_demo(&dir);
    assert_eq!(get(&format!("{}/readyz", run.url)).await.0, 200);
    assert_eq!(demo_inquiries(&dir).await, leads);

    // kill -9: the next start recovers by itself.
    run.child.kill().unwrap();
    run.child.wait().unwrap();
    let mut run = start_demo(&dir);
    assert_eq!(get(&format!("{}/readyz", run.url)).await.0, 200);
    assert_eq!(demo_inquiries(&dir).await, leads);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(run.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(run.child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bench_pricing_reports_p50_and_p99() {
    let app = crate::helpers::TestApp::spawn().await;
    let out = projectflo()
        .args(["bench", "pricing", "--changes", "20"])
        .env("DATABASE_URL", app.database_url())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("20 changes to one build of 80 components")
            && text.contains("p50")
            && text.contains("p99"),
        "{text}"
    );
}

#[tokio::test]
async fn bench_api_prints_its_targets_against_pgbench() {
    let app = crate::helpers::TestApp::spawn().await;
    let out = projectflo()
        .args(["bench", "api", "--seconds", "1", "--rounds", "1"])
        .args(["--connections", "2", "--scale", "60"])
        .env("DATABASE_URL", app.database_url())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for target in ["single-row", "list", "page"] {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(target) && l.contains(">="))
            .unwrap_or_else(|| panic!("no row for {target}: {text}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        // target, round, req/s, p50, p99, non-200, pgbench tps, ratio, goal, result
        let numbers: Vec<f64> = cols[2..8].iter().map(|c| c.parse().unwrap()).collect();
        assert!(numbers.iter().all(|n| n.is_finite()), "{row}");
        assert!(
            numbers[0] > 0.0 && numbers[4] > 0.0 && numbers[5] > 0.0,
            "{row}"
        );
        assert_eq!(numbers[3], 0.0, "non-200 answers: {row}");
    }
    for target in ["board", "dashboard"] {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(target) && l.contains("HTTP only"))
            .unwrap_or_else(|| panic!("no row for {target}: {text}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        let rate: f64 = cols[2].parse().unwrap();
        assert!(rate > 0.0 && cols[5] == "0", "{row}");
    }
}

#[tokio::test]
async fn bench_reports_times_every_report_and_each_roles_dashboard_on_a_synthetic_studio() {
    let app = crate::helpers::TestApp::spawn().await;
    let child = projectflo()
        .args(["bench", "reports", "--years", "1", "--per-year", "60"])
        .args(["--samples", "2"])
        .env("DATABASE_URL", app.database_url())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The bench names its throwaway database after its process id; other bench tests may
    // have theirs open in the same cluster at this moment.
    let own_database = format!("projectflo_bench_{}", child.id());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("a studio of 1 years at 60 bookings a year"),
        "{text}"
    );
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.ends_with("meets") || l.ends_with("MISSES"))
        .collect();
    for (name, how) in [
        ("profitability", "query"),
        ("profitability", "page"),
        ("profitability", "API"),
        ("team", "query"),
        ("team", "page"),
        ("team", "API"),
        ("cash flow", "page"),
        ("marketing ROI", "API"),
        ("pipeline", "page"),
        ("dashboard, Owner", "page"),
        ("dashboard, Bookkeeper", "page"),
        ("dashboard, Editor (busiest)", "page"),
    ] {
        let row = rows
            .iter()
            .find(|l| l.starts_with(&format!("{name} ")) && l.contains(&format!(" {how} ")))
            .unwrap_or_else(|| panic!("no row for {name} ({how}): {text}"));
        let cols: Vec<&str> = row.rsplitn(5, ' ').filter(|c| !c.is_empty()).collect();
        let p95: f64 = row
            .split_whitespace()
            .rev()
            .nth(2)
            .unwrap()
            .parse()
            .unwrap();
        assert!(p95.is_finite() && p95 > 0.0, "{row} {cols:?}");
    }
    // The throwaway database is gone.
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&own_database)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn seed_scale_makes_a_synthetic_studio_of_years_with_its_distributions() {
    let app = crate::helpers::TestApp::spawn().await;
    let out = projectflo()
        .args(["seed", "--scale", "2", "--per-year", "150"])
        .env("DATABASE_URL", app.database_url())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    // The demo studio is there (its catalog is what the synthetic studio books).
    assert_eq!(
        n("SELECT count(*) FROM seed_history WHERE name = 'demo'").await,
        1
    );
    let projects = n("SELECT count(*) FROM projects").await;
    assert!(
        (200..=310).contains(&projects),
        "about 2 x 150 bookings: {projects}"
    );
    let tasks = n("SELECT count(*) FROM tasks").await;
    assert!(
        tasks > projects * 30 && tasks < projects * 55,
        "about 40 tasks a booking: {tasks}"
    );
    // Every source brings leads; referrals convert best.
    let sources =
        n("SELECT count(DISTINCT lead_source) FROM inquiries WHERE lead_source IS NOT NULL").await;
    assert!(sources >= 6, "{sources}");
    let best: String = sqlx::query_scalar(
        "SELECT lead_source FROM inquiries WHERE lead_source IS NOT NULL GROUP BY 1
         ORDER BY avg((status = 'Booked')::int) DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(best, "Referral");
    // What the reports read agrees with itself: hours kept per project equal the time entries,
    // paid equals the payments, completed tasks have their time.
    assert_eq!(
        n("SELECT (SELECT COALESCE(sum(work_hours), 0) FROM project_hours)::bigint * 100
              - (SELECT COALESCE(sum(hours), 0) FROM task_time_entries WHERE hours IS NOT NULL)::bigint * 100").await,
        0
    );
    assert_eq!(
        n("SELECT count(*) FROM builds b WHERE b.project_id IS NOT NULL AND b.total_paid <>
              (SELECT COALESCE(sum(i.amount_paid), 0) FROM invoices i WHERE i.project_id = b.project_id)
           OR EXISTS (SELECT 1 FROM invoices i WHERE i.project_id = b.project_id AND i.invoice_number LIKE 'S%'
                      AND i.amount_paid <> (SELECT COALESCE(sum(p.amount), 0) FROM payments p
                                            WHERE p.invoice_id = i.id))").await,
        0
    );
    assert_eq!(
        n("SELECT count(*) FROM tasks t WHERE t.status = 'Completed' AND t.actual_duration_hours IS DISTINCT FROM
              (SELECT sum(hours) FROM task_time_entries e WHERE e.task_id = t.id)").await,
        0
    );
    assert!(
        n("SELECT count(*) FROM calendar_events WHERE event_type = 'PROJECT_ASSIGNMENT'").await
            > projects
    );
    assert!(n("SELECT count(*) FROM project_expenses").await > 0);
    assert!(n("SELECT count(*) FROM invoices WHERE status = 'Overdue'").await >= 0);
    // Every report and the dashboard answer on it.
    let owner = app.demo_login("Owner").await;
    for path in [
        "/reports/profit",
        "/reports/profit.csv",
        "/reports/team",
        "/reports/cash-flow",
        "/reports/marketing",
        "/reports/pipeline",
        "/",
    ] {
        assert_eq!(owner.get(path).await.status(), 200, "{path}");
    }
    let html = owner.get("/reports/profit").await.text().await.unwrap();
    assert!(
        html.contains("Scale couple"),
        "the synthetic weddings are in the report"
    );
}

#[tokio::test]
async fn logs_sent_to_a_pipe_carry_no_colour_codes() {
    let app = crate::helpers::TestApp::spawn().await;
    let out = projectflo()
        .arg("migrate")
        .args(["--database-url", &app.database_url()])
        .args(["--log", "debug"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.lines().count() > 0, "no log lines to check");
    assert!(!err.contains('\x1b'), "escape codes in piped logs: {err:?}");
}
