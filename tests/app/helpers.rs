//! Test harness: the database server, per-test databases, the app on a random port, the browser.
use projectflo::config::Settings;
use projectflo::db::{self, embedded};
use projectflo::{app, state::AppState};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which template a test's database is cloned from.
#[derive(Clone, Copy)]
pub enum Template {
    /// Migrated, nothing else.
    Empty,
    /// Migrated and loaded with the demo studio.
    Demo,
}

struct Server {
    admin: PgConnectOptions,
    prefix: String,
    _cluster: Option<embedded::Cluster>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        // Its own thread and runtime: this may be first called from inside a test's runtime.
        std::thread::spawn(start_server)
            .join()
            .expect("test database server")
    })
}

fn start_server() -> Server {
    let pid = std::process::id();
    let (admin, cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url.parse::<PgConnectOptions>().expect("DATABASE_URL"), None),
        Err(_) => {
            remove_stale_test_dirs();
            let dir = std::env::temp_dir().join(format!("projectflo-test-{pid}"));
            let cluster = embedded::Cluster::start(
                &dir,
                &embedded::Options {
                    bin_dir: None,
                    run_as: None,
                    tcp_port: None,
                    ephemeral: true,
                },
            )
            .expect("starting the test PostgreSQL cluster");
            (cluster.connect_options("postgres"), Some(cluster))
        }
    };
    let prefix = format!("pft_{pid}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("connecting to the test server");
        drop_stale_databases(&mut conn).await;
        for (template, demo) in [
            (format!("{prefix}_empty"), false),
            (format!("{prefix}_demo"), true),
        ] {
            conn.execute(format!("CREATE DATABASE {template}").as_str())
                .await
                .unwrap();
            let pool = db::pool(admin.clone().database(&template), 2)
                .await
                .unwrap();
            db::migrate(&pool).await.expect("migrating the template");
            if demo {
                assert!(projectflo::seed::demo(&pool).await.expect("demo seed"));
            }
            pool.close().await;
        }
    });
    Server {
        admin,
        prefix,
        _cluster: cluster,
    }
}

/// Clusters of earlier runs whose process is gone.
fn remove_stale_test_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name
            .strip_prefix("projectflo-test-")
            .and_then(|p| p.parse::<u32>().ok())
        {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// With a shared DATABASE_URL server: databases of earlier runs whose process is gone.
async fn drop_stale_databases(conn: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'pft\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()) {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}

/// A fresh database cloned from a template; returns its connection options.
pub async fn fresh_database(template: Template) -> PgConnectOptions {
    static N: AtomicUsize = AtomicUsize::new(0);
    let s = server();
    let name = format!("{}_{}", s.prefix, N.fetch_add(1, Ordering::Relaxed));
    let source = match template {
        Template::Empty => format!("{}_empty", s.prefix),
        Template::Demo => format!("{}_demo", s.prefix),
    };
    let mut conn = PgConnection::connect_with(&s.admin).await.unwrap();
    conn.execute(format!("CREATE DATABASE {name} TEMPLATE {source}").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
    s.admin.clone().database(&name)
}

/// An empty database with no migrations at all (for migration tests).
pub async fn blank_database() -> PgConnectOptions {
    static N: AtomicUsize = AtomicUsize::new(0);
    let s = server();
    let name = format!("{}_blank_{}", s.prefix, N.fetch_add(1, Ordering::Relaxed));
    let mut conn = PgConnection::connect_with(&s.admin).await.unwrap();
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    s.admin.clone().database(&name)
}

/// The app, served on a random port against its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: PgPool,
    pub client: reqwest::Client,
    /// How to reach this test's database (for running the real binary against it).
    pub options: PgConnectOptions,
}

impl TestApp {
    /// A DATABASE_URL for this test's database.
    pub fn database_url(&self) -> String {
        let o = &self.options;
        let db = o.get_database().unwrap_or("postgres");
        match o.get_socket() {
            Some(dir) => format!(
                "postgres://{}@localhost/{db}?host={}&port={}",
                o.get_username(),
                dir.display(),
                o.get_port()
            ),
            None => format!(
                "postgres://{}@{}:{}/{db}",
                o.get_username(),
                o.get_host(),
                o.get_port()
            ),
        }
    }

    /// The link in the last email recorded for this address (emails are kept in the
    /// communications log when no SMTP server is set).
    pub async fn last_link_to(&self, email: &str) -> String {
        let notes: String = sqlx::query_scalar(
            "SELECT notes FROM communications_log WHERE notes LIKE 'To: ' || $1 || '%' ORDER BY id DESC LIMIT 1",
        )
        .bind(email)
        .fetch_one(&self.db)
        .await
        .expect("an email to this address");
        let start = notes.find("http").expect("a link in the email");
        notes[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::with(Template::Empty).await
    }

    pub async fn demo() -> TestApp {
        Self::with(Template::Demo).await
    }

    pub async fn with(template: Template) -> TestApp {
        Self::with_settings(template, |_| {}).await
    }

    /// The demo studio seeded at a fixed instant, served by an app whose clock stands still
    /// there: what every page says about "today" is pinned.
    pub async fn demo_at(clock: projectflo::clock::Clock) -> TestApp {
        let app = Self::serve(fresh_database(Template::Empty).await, clock, |_| {}).await;
        projectflo::seed::demo_at(&app.db, clock).await.unwrap();
        app
    }

    /// `demo_at` with some settings changed (e.g. pointing at a fake Google).
    pub async fn demo_at_with(
        clock: projectflo::clock::Clock,
        change: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let app = Self::serve(fresh_database(Template::Empty).await, clock, change).await;
        projectflo::seed::demo_at(&app.db, clock).await.unwrap();
        app
    }

    /// The app with some settings changed (e.g. a public https URL, short sessions).
    pub async fn with_settings(template: Template, change: impl FnOnce(&mut Settings)) -> TestApp {
        let options = fresh_database(template).await;
        Self::serve(options, projectflo::clock::Clock::System, change).await
    }

    /// Some settings changed, and a clock that stands still at an instant.
    pub async fn with_settings_at(
        template: Template,
        clock: projectflo::clock::Clock,
        change: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let options = fresh_database(template).await;
        Self::serve(options, clock, change).await
    }

    /// Another server on this test's database, with its own clock and settings (the same
    /// data, seen at another instant).
    pub async fn also_at(
        &self,
        clock: projectflo::clock::Clock,
        change: impl FnOnce(&mut Settings),
    ) -> TestApp {
        Self::serve(self.options.clone(), clock, change).await
    }

    async fn serve(
        options: PgConnectOptions,
        clock: projectflo::clock::Clock,
        change: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let pool = db::pool(options.clone(), 5).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut settings = Settings::defaults();
        settings.public_url = Some(format!("http://{addr}"));
        change(&mut settings);
        let state = AppState::new(pool.clone(), settings).with_clock(clock);
        tokio::spawn(app::serve(listener, state, std::future::pending()));
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            addr,
            db: pool,
            client,
            options,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Submit a form without logging in (login, reset, public pages).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

/// A logged-in browser-like client: its own cookie jar and the session's CSRF token.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub base: String,
}

static STAFF_N: AtomicUsize = AtomicUsize::new(0);
pub const TEST_PASSWORD: &str = "a long test password";

impl TestApp {
    /// Log in through the login form; panics unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            303,
            "login of {email}: {}",
            resp.text().await.unwrap()
        );
        let html = client
            .get(self.url("/account"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("csrf token on the page");
        Session {
            client,
            csrf: csrf.to_string(),
            base: self.url(""),
        }
    }

    /// A new staff member with this role (created by the same code as `admin create-user`),
    /// logged in. Returns the session and the email.
    pub async fn staff(&self, role: &str) -> (Session, String) {
        let email = format!(
            "{}-{}@test.example",
            role.to_lowercase(),
            STAFF_N.fetch_add(1, Ordering::Relaxed)
        );
        projectflo::accounts::admin::create_user(
            &self.db,
            &email,
            role,
            "Test",
            role,
            TEST_PASSWORD,
        )
        .await
        .unwrap();
        (self.login(&email, TEST_PASSWORD).await, email)
    }

    pub async fn owner(&self) -> Session {
        self.staff("Owner").await.0
    }

    /// Log in as the demo studio's member with this role.
    pub async fn demo_login(&self, role: &str) -> Session {
        let email = projectflo::seed::DEMO_STAFF
            .iter()
            .find(|s| s.1 == role)
            .expect("a demo role")
            .0;
        self.login(email, projectflo::seed::DEMO_PASSWORD).await
    }
}

impl Session {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    pub async fn put_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .header("x-csrf-token", &self.csrf)
            .send()
            .await
            .unwrap()
    }

    /// Submit a form the way the page does: with the CSRF field.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &self.csrf));
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// Create a personal API token through My account; returns the token shown once.
    pub async fn api_token(&self, name: &str) -> String {
        let html = self
            .post_form("/account/tokens", &[("name", name)])
            .await
            .text()
            .await
            .unwrap();
        html.split("id=\"new-token\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("the new token")
            .to_string()
    }
}

/// A staff member's contributor id, by their email.
pub async fn contributor(app: &TestApp, email: &str) -> i32 {
    sqlx::query_scalar(
        "SELECT co.id FROM contributors co JOIN contacts c ON c.id = co.contact_id
         WHERE c.email = $1",
    )
    .bind(email)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Assert an RFC 9457 problem answer with this status; returns its body.
/// The id of the quote of the couple with this email.
pub async fn build_of(app: &TestApp, email: &str) -> i32 {
    sqlx::query_scalar(
        "SELECT b.id FROM builds b JOIN inquiries i ON i.id = b.inquiry_id
         JOIN contacts c ON c.id = i.contact_id WHERE c.email = $1",
    )
    .bind(email)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// One value from a query about one record (`$1` is its id).
pub async fn scalar_of<T>(app: &TestApp, sql: &str, id: i32) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

pub async fn assert_problem(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let ct = resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(ct, "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        !body["detail"].as_str().unwrap_or("").is_empty(),
        "a readable detail: {body}"
    );
    body
}

/// The address of a page's `id="next-page"` link (`href` written before the `id`), unescaped.
pub fn next_page(html: &str) -> Option<String> {
    html.split("href=\"")
        .skip(1)
        .find(|t| {
            t.split('>')
                .next()
                .unwrap_or("")
                .contains("id=\"next-page\"")
        })
        .map(|t| unescape(t.split('"').next().unwrap()))
}

/// HTML's escapes of `&`, quotes and angle brackets, undone.
pub fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&#x26;", "&")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

impl Session {
    /// Walk a list page from `start` by its Next page links: on each page the ids `ids` finds
    /// (1 to 50 of them); returns every id seen, in order, and the number of pages.
    pub async fn walk(&self, start: &str, ids: impl Fn(&str) -> Vec<i64>) -> (Vec<i64>, usize) {
        let (mut seen, mut pages, mut next) = (vec![], 0, Some(start.to_string()));
        while let Some(path) = next.take() {
            let resp = self.get(&path).await;
            let status = resp.status();
            let html = resp.text().await.unwrap();
            assert_eq!(status, 200, "{path}: {html}");
            let found = ids(&html);
            assert!(
                !found.is_empty() && found.len() <= 50,
                "{path}: {} rows",
                found.len()
            );
            seen.extend(found);
            next = next_page(&html);
            pages += 1;
            assert!(pages < 1000, "a page links to itself: {path}");
        }
        (seen, pages)
    }

    /// Walk an API list from `start` by its `Link: <...>; rel="next"` headers, with the bearer
    /// token: every row of every page (1 to 50 a page), and the number of pages.
    pub async fn walk_api(&self, token: &str, start: &str) -> (Vec<serde_json::Value>, usize) {
        let (mut seen, mut pages, mut next) = (vec![], 0, Some(self.url(start)));
        let client = reqwest::Client::new();
        while let Some(url) = next.take() {
            let resp = client.get(&url).bearer_auth(token).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{url}");
            next = resp.headers().get("link").map(|l| {
                let l = l.to_str().unwrap();
                assert!(l.ends_with(">; rel=\"next\""), "{l}");
                self.url(&l[1..l.find('>').unwrap()])
            });
            let rows: Vec<serde_json::Value> = resp.json().await.unwrap();
            assert!(
                !rows.is_empty() && rows.len() <= 50,
                "{url}: {}",
                rows.len()
            );
            seen.extend(rows);
            pages += 1;
            assert!(pages < 1000, "a page links to itself: {url}");
        }
        (seen, pages)
    }
}

/// Sorted copies are equal: every row exactly once.
pub fn assert_each_once(mut seen: Vec<i64>, mut all: Vec<i64>, what: &str) {
    seen.sort();
    all.sort();
    assert_eq!(seen.len(), all.len(), "{what}: as many seen as there are");
    assert_eq!(seen, all, "{what}: each exactly once");
}
