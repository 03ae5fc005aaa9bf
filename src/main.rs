use clap::{CommandFactory, Parser, Subcommand};
use projectflo::{config::Settings, run};

/// ProjectFlo: runs a wedding videography studio end to end.
#[derive(Parser)]
#[command(name = "projectflo", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Load data: `--demo` loads the demo studio (safe to run again); `--scale N` adds a
    /// synthetic studio of N years of a very busy studio (on the demo's catalog) to measure the
    /// reports at size.
    #[command(group(clap::ArgGroup::new("what").required(true).multiple(true)))]
    Seed {
        /// Load the demo studio.
        #[arg(long, group = "what")]
        demo: bool,
        /// Add this many years of a very busy studio: leads, bookings, films, tasks, hours,
        /// crews, invoices, payments, expenses and marketing spend (10 years: about 50,000
        /// projects and 2 million tasks).
        #[arg(long, group = "what", value_parser = clap::value_parser!(i32).range(1..=50))]
        scale: Option<i32>,
        /// Bookings a year of the synthetic studio.
        #[arg(long, default_value_t = projectflo::seed::BOOKINGS_PER_YEAR,
              value_parser = clap::value_parser!(i32).range(1..=100_000))]
        per_year: i32,
    },
    /// Migrate, load the demo studio, and serve.
    Demo,
    /// Administration.
    #[command(subcommand)]
    Admin(Admin),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(Bench),
    /// Scheduled jobs (run them from cron; each is safe to run twice).
    #[command(subcommand)]
    Jobs(Jobs),
}

#[derive(Subcommand)]
enum Jobs {
    /// The nightly run (also scheduled inside `serve`): learn each person's average hours per
    /// task template and each template's average from the completed tasks, then the invoice
    /// sweep. Safe to run twice and from several instances; prints what it changed.
    Nightly {
        /// Run as at this instant (RFC 3339, e.g. 2027-06-01T02:00:00Z) instead of now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The nightly invoice sweep: apply open credit notes to their project's next open
    /// invoices, mark invoices past their due date Overdue, forget idempotency answers older
    /// than 24 hours, email today's payment reminders (each once).
    Invoices {
        /// Run as at this instant (RFC 3339, e.g. 2027-06-01T02:00:00Z) instead of now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The calendar's nightly step: store the days of recurring absences (weekly days off,
    /// yearly holidays) up to two years ahead of today; a day already taken by an assignment
    /// is left to it.
    Calendar {
        /// Run as at this instant (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// One Google Calendar sync run (also scheduled inside `serve` when sync is on): each
    /// connected person's events pushed to their "ProjectFlo" Google calendar, their chosen
    /// calendars pulled as busy times. One runner at a time across instances; prints what it
    /// did, or that sync is off.
    CalendarSync {
        /// Run as at this instant (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// One pass of the workflow scheduler (also every minute inside `serve`): attach the
    /// workflows to the booked projects, run the steps due (each exactly once, even from
    /// several instances), queue questionnaire reminders. Prints what it did.
    Workflows {
        /// Run as at this instant (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// One pass of the email outbox (also every 30 seconds inside `serve`): send every queued
    /// email that is due, the ones whose attempt failed (retried after 1, 2, 4 ... minutes, at
    /// most 6 hours apart) and the ones a stopped process never sent. Each once, even from
    /// several processes. Prints what it did.
    Outbox {
        /// Run as at this instant (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// p50 and p99 of one change to an 80-component quote, recompute included.
    Pricing {
        /// How many changes to time.
        #[arg(long, default_value_t = 500)]
        changes: usize,
    },
    /// The app over HTTP (a single-row API read, an API list, a page) against pgbench running
    /// the same SQL with the same connections: requests/s, p50, p99 and the ratios.
    Api {
        /// Concurrent connections (HTTP keep-alive connections and pgbench clients).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=150))]
        connections: u32,
        /// Seconds of each HTTP run and each pgbench run.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
        seconds: u64,
        /// Rounds: each runs every target over HTTP, then with pgbench.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
        rounds: u32,
        /// Inquiries added to the demo studio (100 by default: a full first page of the list).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i32).range(0..=10_000_000))]
        scale: i32,
    },
    /// Every report (its query, its page and its API) and the dashboard of each role, timed at
    /// the size of a synthetic studio (`seed --scale`) on a throwaway database: p50 and p95.
    Reports {
        /// Years of the synthetic studio (10: about 50,000 projects and 2 million tasks).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i32).range(1..=50))]
        years: i32,
        /// Bookings a year (fewer for a quick run, e.g. --years 1 --per-year 500).
        #[arg(long, default_value_t = projectflo::seed::BOOKINGS_PER_YEAR,
              value_parser = clap::value_parser!(i32).range(1..=100_000))]
        per_year: i32,
        /// Timed requests per target (after 3 that warm the caches).
        #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        samples: u32,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Create a staff login (the first Owner, for example). Prints a generated password unless
    /// --password-stdin is given.
    CreateUser {
        /// Email address to log in with.
        #[arg(long)]
        email: String,
        /// Role: Owner, Admin, Sales, Editor, Videographer or Bookkeeper (or one you added).
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return bad_setting(e),
    };
    let cmd = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => run::Cmd::Serve,
        Command::Migrate => run::Cmd::Migrate,
        Command::Seed {
            demo,
            scale,
            per_year,
        } => run::Cmd::Seed {
            demo,
            scale,
            per_year,
        },
        Command::Demo => run::Cmd::Demo,
        Command::Jobs(Jobs::Invoices { at }) => run::Cmd::JobsInvoices { at },
        Command::Jobs(Jobs::Nightly { at }) => run::Cmd::JobsNightly { at },
        Command::Jobs(Jobs::Calendar { at }) => run::Cmd::JobsCalendar { at },
        Command::Jobs(Jobs::CalendarSync { at }) => run::Cmd::JobsCalendarSync { at },
        Command::Jobs(Jobs::Workflows { at }) => run::Cmd::JobsWorkflows { at },
        Command::Jobs(Jobs::Outbox { at }) => run::Cmd::JobsOutbox { at },
        Command::Bench(Bench::Pricing { changes }) => run::Cmd::BenchPricing { changes },
        Command::Bench(Bench::Api {
            connections,
            seconds,
            rounds,
            scale,
        }) => run::Cmd::BenchApi(projectflo::bench::api::Options {
            connections: connections as usize,
            seconds,
            rounds: rounds as usize,
            scale,
        }),
        Command::Bench(Bench::Reports {
            years,
            per_year,
            samples,
        }) => run::Cmd::BenchReports(projectflo::bench::reports::Options {
            years,
            per_year,
            samples: samples as usize,
        }),
        Command::Admin(Admin::CreateUser {
            email,
            role,
            first_name,
            last_name,
            password_stdin,
        }) => run::Cmd::CreateUser {
            email,
            role,
            first_name,
            last_name,
            password_stdin,
        },
    };
    match run::main(cmd, cli.settings) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("projectflo: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A bad value stops start-up with one line that names the setting (flag and env var).
fn bad_setting(e: clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        e.exit();
    }
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let flag = arg.split_whitespace().next().unwrap_or("").to_string();
    let env = Cli::command()
        .get_arguments()
        .find(|a| a.get_long().map(|l| format!("--{l}")) == Some(flag.clone()))
        .and_then(|a| a.get_env().map(|v| v.to_string_lossy().into_owned()));
    let first = e
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    match env {
        Some(env) => eprintln!("projectflo: bad setting {flag} (env {env}): {first}"),
        None => eprintln!("projectflo: {first}"),
    }
    std::process::ExitCode::from(2)
}
