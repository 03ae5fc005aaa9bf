//! An HTTP/1.1 load generator: N keep-alive connections, each sending one GET after another
//! for a fixed time, every latency recorded. It runs on a runtime of its own (two threads, as
//! pgbench's `-j 2`), so its work is not scheduled among the server's.
use anyhow::{Context, Result, bail};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What one load run measured.
pub struct Measure {
    /// Every request's latency, sorted.
    latencies: Vec<Duration>,
    /// Answers other than 200.
    pub errors: usize,
    elapsed: Duration,
}

impl Measure {
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies.len();
        if n == 0 {
            return f64::NAN;
        }
        let i = ((n as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(n - 1);
        self.latencies[i].as_secs_f64() * 1000.0
    }

    /// Several runs as one: their requests over their summed time.
    pub fn merge<'a>(runs: impl Iterator<Item = &'a Measure>) -> Measure {
        let mut all = Measure {
            latencies: Vec::new(),
            errors: 0,
            elapsed: Duration::ZERO,
        };
        for m in runs {
            all.latencies.extend_from_slice(&m.latencies);
            all.errors += m.errors;
            all.elapsed += m.elapsed;
        }
        all.latencies.sort();
        all
    }
}

type Sender = http1::SendRequest<Body>;

async fn connect(addr: SocketAddr) -> Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One GET; its status and body length.
async fn get(
    sender: &mut Sender,
    path: &str,
    (name, value): &(&'static str, String),
) -> Result<(StatusCode, usize)> {
    let req = Request::get(path)
        .header(header::HOST, "127.0.0.1")
        .header(*name, value)
        .body(Body::empty())?;
    sender.ready().await?;
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let body = axum::body::to_bytes(Body::new(resp.into_body()), usize::MAX).await?;
    Ok((status, body.len()))
}

/// One request that must answer 200; the body's length.
pub async fn check(addr: SocketAddr, path: &str, header: &(&'static str, String)) -> Result<usize> {
    let mut sender = connect(addr).await?;
    let (status, len) = get(&mut sender, path, header).await?;
    if status != StatusCode::OK {
        bail!("GET {path} answered {status}");
    }
    Ok(len)
}

/// `connections` connections each sending GET `path` one after another for `duration`.
pub async fn run(
    addr: SocketAddr,
    path: &str,
    header: &(&'static str, String),
    connections: usize,
    duration: Duration,
) -> Result<Measure> {
    let (path, header) = (path.to_string(), header.clone());
    let work = move || -> Result<Measure> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let mut senders = Vec::with_capacity(connections);
            for _ in 0..connections {
                senders.push(connect(addr).await?);
            }
            let start = Instant::now();
            let deadline = start + duration;
            let tasks: Vec<_> = senders
                .into_iter()
                .map(|mut sender| {
                    let (path, header) = (path.clone(), header.clone());
                    tokio::spawn(async move {
                        let mut latencies = Vec::new();
                        let mut errors = 0;
                        while Instant::now() < deadline {
                            let t = Instant::now();
                            let (status, _) = get(&mut sender, &path, &header).await?;
                            latencies.push(t.elapsed());
                            errors += usize::from(status != StatusCode::OK);
                        }
                        anyhow::Ok((latencies, errors))
                    })
                })
                .collect();
            let mut all = Measure {
                latencies: Vec::new(),
                errors: 0,
                elapsed: Duration::ZERO,
            };
            for task in tasks {
                let (latencies, errors) = task.await??;
                all.latencies.extend(latencies);
                all.errors += errors;
            }
            all.elapsed = start.elapsed();
            all.latencies.sort();
            Ok(all)
        })
    };
    tokio::task::spawn_blocking(work)
        .await?
        .context("the HTTP load")
}

/// `n` GETs of `path` one after another on one keep-alive connection (after `warm` that are
/// not timed): each request's latency, as a single user waits for a page. Any answer but 200
/// is an error naming the path.
pub async fn sample(
    addr: SocketAddr,
    path: &str,
    header: &(&'static str, String),
    n: usize,
    warm: usize,
) -> Result<Measure> {
    let mut sender = connect(addr).await?;
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n + warm {
        let t = Instant::now();
        let (status, _) = get(&mut sender, path, header).await?;
        if status != StatusCode::OK {
            bail!("GET {path} answered {status}");
        }
        if i >= warm {
            latencies.push(t.elapsed());
        }
    }
    latencies.sort();
    Ok(Measure {
        latencies,
        errors: 0,
        elapsed: start.elapsed(),
    })
}

/// Latencies measured elsewhere (a query timed in-process), sorted.
pub fn of(mut latencies: Vec<Duration>) -> Measure {
    latencies.sort();
    let elapsed = latencies.iter().sum();
    Measure {
        latencies,
        errors: 0,
        elapsed,
    }
}
