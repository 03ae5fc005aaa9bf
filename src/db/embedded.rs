//! The embedded PostgreSQL cluster: initdb on first start, a Unix socket in the data dir, no TCP
//! port unless asked, stopped on shutdown. When ProjectFlo runs as root the cluster runs as an
//! unprivileged user (PostgreSQL refuses root). The postmaster is bound to the thread that
//! started it (PR_SET_PDEATHSIG): if ProjectFlo dies, even by kill -9, PostgreSQL shuts down
//! at once and the next start recovers (crash recovery, stale lock files removed).
use anyhow::{Context, Result, anyhow, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, Uid, User};
use sqlx::postgres::PgConnectOptions;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SUPERUSER: &str = "projectflo";
const PORT: u16 = 5432;

pub struct Options<'a> {
    pub bin_dir: Option<&'a Path>,
    pub run_as: Option<&'a str>,
    pub tcp_port: Option<u16>,
    /// Throwaway cluster (tests): no fsync.
    pub ephemeral: bool,
}

pub struct Cluster {
    bin: PathBuf,
    pub pgdata: PathBuf,
    socket_dir: PathBuf,
    tcp_port: Option<u16>,
    pid: Pid,
    exited: std::sync::Mutex<mpsc::Receiver<()>>,
}

/// The directory holding `initdb` and `postgres`.
pub fn find_bin_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    let mut candidates: Vec<PathBuf> = explicit.map(Path::to_path_buf).into_iter().collect();
    if explicit.is_none() {
        // initdb on PATH is often a symlink into the real bin dir, which also holds postgres.
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            if let Ok(real) = std::fs::canonicalize(dir.join("initdb")) {
                candidates.extend(real.parent().map(Path::to_path_buf));
            }
        }
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .collect();
        versions.sort_by_key(|p| {
            let v = p
                .parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str());
            std::cmp::Reverse(v.and_then(|v| v.parse::<u32>().ok()).unwrap_or(0))
        });
        candidates.extend(versions);
    }
    candidates.into_iter().find(|d| has(d)).ok_or_else(|| {
        anyhow!(
            "PostgreSQL server binaries (initdb, postgres) not found: install PostgreSQL \
             (Debian: apt-get install postgresql) or set DATABASE_URL to use an existing server"
        )
    })
}

/// The OS user the cluster runs as: None means "this process's user".
fn cluster_user(requested: Option<&str>) -> Result<Option<User>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let names: Vec<&str> = match requested {
        Some(n) => vec![n],
        None => vec!["postgres", "nobody"],
    };
    for n in &names {
        if let Some(u) = User::from_name(n)? {
            if u.uid.is_root() {
                bail!("PROJECTFLO_PG_USER must not be root: PostgreSQL refuses to run as root");
            }
            return Ok(Some(u));
        }
    }
    bail!("no unprivileged user to run PostgreSQL as (tried {names:?}); set PROJECTFLO_PG_USER")
}

/// Whether `user` can reach (search every ancestor of) `path`.
fn reachable(path: &Path, user: &User) -> bool {
    path.ancestors()
        .skip(1)
        .all(|dir| match std::fs::metadata(dir) {
            Err(_) => true, // does not exist yet: we create it below, owned by the user
            Ok(m) => {
                let mode = m.permissions().mode();
                if m.uid() == user.uid.as_raw() {
                    mode & 0o100 != 0
                } else if m.gid() == user.gid.as_raw() {
                    mode & 0o010 != 0
                } else {
                    mode & 0o001 != 0
                }
            }
        })
}

fn short_hash(s: &str) -> String {
    // FNV-1a: stable across runs and Rust versions, enough to name a directory.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

fn make_dir_for(dir: &Path, user: Option<&User>) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some(u) = user {
        nix::unistd::chown(dir, Some(u.uid), Some(u.gid))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

fn command(bin: &Path, user: Option<&User>) -> Command {
    let mut c = Command::new(bin);
    if let Some(u) = user {
        c.uid(u.uid.as_raw())
            .gid(u.gid.as_raw())
            .env("HOME", &u.dir)
            .env("USER", &u.name);
    }
    c
}

/// Remove postmaster.pid and socket lock files left by a process that is gone.
fn remove_stale_locks(pgdata: &Path, socket_dir: &Path) {
    let lock_files = [
        pgdata.join("postmaster.pid"),
        socket_dir.join(format!(".s.PGSQL.{PORT}.lock")),
    ];
    for lock in lock_files {
        let Ok(text) = std::fs::read_to_string(&lock) else {
            continue;
        };
        let pid: Option<i32> = text.lines().next().and_then(|l| l.trim().parse().ok());
        let alive = pid.is_some_and(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "postgres")
        });
        if !alive {
            tracing::info!(file = %lock.display(), "removing stale lock file");
            let _ = std::fs::remove_file(&lock);
            let _ = std::fs::remove_file(socket_dir.join(format!(".s.PGSQL.{PORT}")));
        }
    }
}

/// Where the cluster of `data_dir` lives: `<data_dir>/postgres`, or, when the cluster's user
/// cannot reach that (e.g. a clone under root's mode-700 home), a directory of its own named
/// after the data dir, recorded in `<data_dir>/postgres-location.txt`.
fn cluster_dir(data_dir: &Path, user: Option<&User>) -> Result<PathBuf> {
    let pgdata = data_dir.join("postgres");
    let Some(u) = user.filter(|u| !reachable(&pgdata, u)) else {
        return Ok(pgdata);
    };
    let elsewhere =
        PathBuf::from("/var/lib/projectflo/clusters").join(short_hash(&data_dir.to_string_lossy()));
    tracing::info!(user = %u.name, data_dir = %data_dir.display(),
        cluster = %elsewhere.display(),
        "data dir not reachable by the cluster's user; keeping the cluster elsewhere");
    std::fs::create_dir_all("/var/lib/projectflo/clusters")?;
    std::fs::write(
        data_dir.join("postgres-location.txt"),
        format!("{}\n", elsewhere.display()),
    )?;
    Ok(elsewhere)
}

/// The socket's directory: the cluster's own, unless that path is too long for a Unix socket
/// (107 bytes).
fn socket_dir_for(pgdata: &Path) -> PathBuf {
    if pgdata.as_os_str().len() < 90 {
        return pgdata.to_path_buf();
    }
    std::env::temp_dir().join(format!(
        "projectflo-{}",
        short_hash(&pgdata.to_string_lossy())
    ))
}

/// The postmaster's command line: socket only (or also 127.0.0.1 at `--pg-port`), its log in
/// `server.log`, durability off for throwaway clusters, dying with us (PR_SET_PDEATHSIG).
fn postgres_command(
    bin: &Path,
    pgdata: &Path,
    socket_dir: &Path,
    user: Option<&User>,
    opts: &Options,
    log_path: &Path,
) -> Result<Command> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)?;
    if let Some(u) = user {
        nix::unistd::chown(log_path, Some(u.uid), Some(u.gid))?;
    }
    let listen = if opts.tcp_port.is_some() {
        "127.0.0.1"
    } else {
        ""
    };
    let port = opts.tcp_port.unwrap_or(PORT).to_string();
    let mut cmd = command(&bin.join("postgres"), user);
    cmd.arg("-D").arg(pgdata).arg("-k").arg(socket_dir);
    cmd.args(["-p", &port, "-c", &format!("listen_addresses={listen}")])
        .args([
            "-c",
            "unix_socket_permissions=0700",
            "-c",
            "max_connections=200",
        ])
        // A studio's years of leads (100,000 inquiries with their couples and quotes: about
        // 110 MB) stay in PostgreSQL's own cache rather than going to the kernel's per read.
        .args(["-c", "shared_buffers=256MB"]);
    if opts.ephemeral {
        cmd.args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"]);
    }
    cmd.current_dir(pgdata)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: Ctrl-C reaches ProjectFlo, which then stops PostgreSQL
        // after the last request is answered.
        .process_group(0);
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGQUIT).map_err(std::io::Error::from)
        });
    }
    Ok(cmd)
}

/// Spawn the postmaster from a thread that lives exactly as long as it (it dies with the
/// thread that spawned it): its pid, and a channel that answers when it has exited.
fn spawn_postmaster(mut cmd: Command) -> Result<(u32, mpsc::Receiver<()>)> {
    let (pid_tx, pid_rx) = mpsc::channel();
    let (exit_tx, exited) = mpsc::channel();
    std::thread::Builder::new()
        .name("postgres".into())
        .spawn(move || {
            match cmd.spawn() {
                Ok(mut child) => {
                    let _ = pid_tx.send(Ok(child.id()));
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = pid_tx.send(Err(e));
                }
            }
            let _ = exit_tx.send(());
        })?;
    let pid = pid_rx.recv()?.context("starting postgres")?;
    Ok((pid, exited))
}

impl Cluster {
    /// Start (initialising on first use) the cluster that belongs to `data_dir`.
    pub fn start(data_dir: &Path, opts: &Options) -> Result<Cluster> {
        let bin = find_bin_dir(opts.bin_dir)?;
        let user = cluster_user(opts.run_as)?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let data_dir = std::fs::canonicalize(data_dir)?;
        let pgdata = cluster_dir(&data_dir, user.as_ref())?;
        let socket_dir = socket_dir_for(&pgdata);
        if !pgdata.join("PG_VERSION").exists() {
            init(&bin, &pgdata, user.as_ref(), opts.ephemeral)?;
        }
        if socket_dir != pgdata {
            make_dir_for(&socket_dir, user.as_ref())?;
        }
        remove_stale_locks(&pgdata, &socket_dir);
        let log_path = pgdata.join("server.log");
        let cmd = postgres_command(&bin, &pgdata, &socket_dir, user.as_ref(), opts, &log_path)?;
        let (pid, exited) = spawn_postmaster(cmd)?;
        let cluster = Cluster {
            bin,
            pgdata,
            socket_dir,
            tcp_port: opts.tcp_port,
            pid: Pid::from_raw(pid as i32),
            exited: exited.into(),
        };
        cluster.wait_ready(&log_path)?;
        Ok(cluster)
    }

    fn wait_ready(&self, log_path: &Path) -> Result<()> {
        let sock = self.socket_dir.join(format!(".s.PGSQL.{}", self.port()));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if self.exited.lock().unwrap().try_recv().is_ok() {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                bail!(
                    "the embedded PostgreSQL stopped at start-up ({}): {}",
                    log_path.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                );
            }
            // pg_ctl-style readiness: the socket exists and accepts a connection.
            if sock.exists() && std::os::unix::net::UnixStream::connect(&sock).is_ok() {
                // The socket accepts before recovery ends; ask the server itself.
                let ok = Command::new(self.bin.join("pg_isready"))
                    .args(["-q", "-h"])
                    .arg(&self.socket_dir)
                    .args(["-p", &self.port().to_string()])
                    .status();
                match ok {
                    Ok(s) if s.success() => return Ok(()),
                    Err(_) => return Ok(()), // no pg_isready: the socket answering will do
                    _ => {}
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "the embedded PostgreSQL did not become ready in 120 s; see {}",
                    log_path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn port(&self) -> u16 {
        self.tcp_port.unwrap_or(PORT)
    }

    /// Connection options for a database of this cluster.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(self.port())
            .username(SUPERUSER)
            .database(database)
    }

    /// Fast shutdown: open transactions roll back, the server stops; SIGQUIT after `grace`.
    pub fn stop(&self, grace: Duration) {
        if kill(self.pid, Signal::SIGINT).is_err() {
            return;
        }
        let exited = self.exited.lock().unwrap();
        if exited.recv_timeout(grace).is_err() {
            let _ = kill(self.pid, Signal::SIGQUIT);
            let _ = exited.recv_timeout(Duration::from_secs(2));
        }
    }
}

fn init(bin: &Path, pgdata: &Path, user: Option<&User>, ephemeral: bool) -> Result<()> {
    // initdb into a side directory, then rename: a start killed mid-initdb leaves no half cluster.
    let tmp = pgdata.with_extension("initdb");
    let _ = std::fs::remove_dir_all(&tmp);
    if let Some(parent) = pgdata.parent() {
        std::fs::create_dir_all(parent)?;
    }
    make_dir_for(&tmp, user)?;
    tracing::info!(dir = %pgdata.display(), "initialising the embedded PostgreSQL cluster");
    let out = command(&bin.join("initdb"), user)
        .arg("-D")
        .arg(&tmp)
        .args([
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
        ])
        .args(if ephemeral {
            &["--no-sync"][..]
        } else {
            &[][..]
        })
        .current_dir(&tmp)
        .output()
        .context("running initdb")?;
    if !out.status.success() {
        bail!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    std::fs::rename(&tmp, pgdata)?;
    Ok(())
}
