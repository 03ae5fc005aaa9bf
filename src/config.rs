//! Settings: every one a `--flag` with a `PROJECTFLO_*` env var of the same name, validated once
//! at start-up by clap. A bad value stops start-up with one line naming the setting.
use clap::Args;
use std::{net::SocketAddr, path::PathBuf};

#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "PROJECTFLO_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// Where the embedded PostgreSQL cluster and uploaded files live.
    #[arg(
        long,
        env = "PROJECTFLO_DATA_DIR",
        default_value = "projectflo-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Use this PostgreSQL server instead of starting the embedded one.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Log filter (tracing-subscriber EnvFilter syntax), e.g. `info` or `projectflo=debug`.
    #[arg(
        long,
        env = "PROJECTFLO_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub log: String,

    /// Seconds after which a request is answered 408.
    #[arg(long, env = "PROJECTFLO_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub request_timeout_secs: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "PROJECTFLO_BODY_LIMIT_BYTES", default_value_t = 10 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..), global = true)]
    pub body_limit_bytes: u64,

    /// Size of the database connection pool.
    #[arg(long, env = "PROJECTFLO_DB_MAX_CONNECTIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=500), global = true)]
    pub db_max_connections: u32,

    /// Directory with the PostgreSQL server binaries (initdb, postgres); found on PATH or
    /// under /usr/lib/postgresql/*/bin when unset.
    #[arg(long, env = "PROJECTFLO_PG_BIN_DIR", global = true)]
    pub pg_bin_dir: Option<PathBuf>,

    /// Operating-system user that runs the embedded cluster when ProjectFlo runs as root
    /// (default: `postgres` when it exists, else `nobody`).
    #[arg(long, env = "PROJECTFLO_PG_USER", global = true)]
    pub pg_user: Option<String>,

    /// Also let the embedded cluster listen on 127.0.0.1 at this TCP port (default: Unix socket
    /// only).
    #[arg(long, env = "PROJECTFLO_PG_PORT", global = true)]
    pub pg_port: Option<u16>,

    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "PROJECTFLO_SESSION_IDLE_MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=10080), global = true)]
    pub session_idle_minutes: u32,

    /// Hours after login at which a session ends however active it is.
    #[arg(long, env = "PROJECTFLO_SESSION_ABSOLUTE_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..=720), global = true)]
    pub session_absolute_hours: u32,

    /// The address people use to reach ProjectFlo (for links in emails); an https address
    /// also marks cookies Secure. Default: http://<bind>.
    #[arg(long, env = "PROJECTFLO_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// SMTP server for outgoing email, e.g. `smtps://user:pass@smtp.example.com:465` or
    /// `smtp://localhost:25`. Unset: emails are recorded in the communications log and the
    /// server log instead.
    #[arg(
        long,
        env = "PROJECTFLO_SMTP_URL",
        global = true,
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,

    /// Public lead form submissions accepted per IP address per hour (spam guard).
    #[arg(long, env = "PROJECTFLO_LEAD_FORM_PER_HOUR", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=100000), global = true)]
    pub lead_form_per_hour: u32,

    /// Sender of outgoing email.
    #[arg(
        long,
        env = "PROJECTFLO_MAIL_FROM",
        default_value = "ProjectFlo <no-reply@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// Stripe secret API key (`sk_live_...` or `sk_test_...`). With the webhook signing secret,
    /// it turns on payments by card through Stripe Checkout in the portal; unset: off, and
    /// ProjectFlo never calls Stripe.
    #[arg(
        long,
        env = "PROJECTFLO_STRIPE_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub stripe_secret_key: Option<Secret>,

    /// The signing secret (`whsec_...`) of the Stripe webhook endpoint
    /// `<public URL>/webhooks/stripe`, subscribed to `checkout.session.completed`.
    #[arg(
        long,
        env = "PROJECTFLO_STRIPE_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub stripe_webhook_secret: Option<Secret>,

    /// Stripe's API address (tests point it at a local fake).
    #[arg(
        long,
        env = "PROJECTFLO_STRIPE_API_BASE",
        default_value = "https://api.stripe.com",
        value_parser = http_url,
        global = true
    )]
    pub stripe_api_base: String,

    /// Google OAuth client id (a "Web application" client in the Google Cloud console). With
    /// its secret and the token key, it turns on Google Calendar two-way sync; unset: off, and
    /// ProjectFlo never calls Google.
    #[arg(
        long,
        env = "PROJECTFLO_GOOGLE_CLIENT_ID",
        global = true,
        requires_all = ["google_client_secret", "google_token_key"]
    )]
    pub google_client_id: Option<String>,

    /// The OAuth client's secret.
    #[arg(
        long,
        env = "PROJECTFLO_GOOGLE_CLIENT_SECRET",
        global = true,
        hide_env_values = true,
        requires = "google_client_id"
    )]
    pub google_client_secret: Option<Secret>,

    /// The key that encrypts people's Google tokens at rest (AES-256-GCM): 64 hex digits, e.g.
    /// from `openssl rand -hex 32`. Changing it disconnects everyone.
    #[arg(
        long,
        env = "PROJECTFLO_GOOGLE_TOKEN_KEY",
        global = true,
        hide_env_values = true,
        requires = "google_client_id"
    )]
    pub google_token_key: Option<crate::crypto::SealKey>,

    /// Google's OAuth consent page (tests point it at a local fake).
    #[arg(long, env = "PROJECTFLO_GOOGLE_AUTH_URL",
          default_value = "https://accounts.google.com/o/oauth2/v2/auth",
          value_parser = http_url, global = true)]
    pub google_auth_url: String,

    /// Google's OAuth token endpoint.
    #[arg(long, env = "PROJECTFLO_GOOGLE_TOKEN_URL",
          default_value = "https://oauth2.googleapis.com/token",
          value_parser = http_url, global = true)]
    pub google_token_url: String,

    /// Google's OAuth token revocation endpoint (called on disconnect).
    #[arg(long, env = "PROJECTFLO_GOOGLE_REVOKE_URL",
          default_value = "https://oauth2.googleapis.com/revoke",
          value_parser = http_url, global = true)]
    pub google_revoke_url: String,

    /// The Google Calendar API v3 base address.
    #[arg(long, env = "PROJECTFLO_GOOGLE_CALENDAR_API",
          default_value = "https://www.googleapis.com/calendar/v3",
          value_parser = http_url, global = true)]
    pub google_calendar_api: String,

    /// Minutes between two background Google Calendar syncs inside `serve`.
    #[arg(long, env = "PROJECTFLO_GOOGLE_SYNC_MINUTES", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=1440), global = true)]
    pub google_sync_minutes: u64,

    /// The first wait before retrying a Google answer of 429 or 5xx, in milliseconds; each
    /// retry waits twice as long (4 retries at most, or Google's Retry-After up to a minute).
    #[arg(long, env = "PROJECTFLO_GOOGLE_BACKOFF_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=60000), global = true)]
    pub google_backoff_ms: u64,

    /// Keep project assets (films, footage, project files) in this bucket of an S3-compatible
    /// store (AWS S3, MinIO, Ceph, R2...) rather than under the data dir. Needs the access key
    /// id and the secret access key. Documents and receipts stay under the data dir.
    #[arg(
        long,
        env = "PROJECTFLO_S3_BUCKET",
        global = true,
        requires_all = ["s3_access_key_id", "s3_secret_access_key"]
    )]
    pub s3_bucket: Option<String>,

    /// The store's address, e.g. `http://127.0.0.1:9000` for MinIO; unset: AWS S3 in the region.
    #[arg(long, env = "PROJECTFLO_S3_ENDPOINT", value_parser = http_url, global = true,
          requires = "s3_bucket")]
    pub s3_endpoint: Option<String>,

    /// The bucket's region (default `us-east-1`).
    #[arg(
        long,
        env = "PROJECTFLO_S3_REGION",
        global = true,
        requires = "s3_bucket"
    )]
    pub s3_region: Option<String>,

    /// The access key id of the S3 credentials.
    #[arg(
        long,
        env = "PROJECTFLO_S3_ACCESS_KEY_ID",
        global = true,
        requires = "s3_bucket"
    )]
    pub s3_access_key_id: Option<String>,

    /// The secret access key of the S3 credentials.
    #[arg(
        long,
        env = "PROJECTFLO_S3_SECRET_ACCESS_KEY",
        global = true,
        hide_env_values = true,
        requires = "s3_bucket"
    )]
    pub s3_secret_access_key: Option<Secret>,

    /// Allow a plain http:// endpoint (a store on the same machine or network); https only when
    /// unset.
    #[arg(
        long,
        env = "PROJECTFLO_S3_ALLOW_HTTP",
        global = true,
        requires = "s3_bucket"
    )]
    pub s3_allow_http: bool,

    /// Address the bucket as a host name (`https://<bucket>.<endpoint>/<key>`) rather than in the
    /// path (`<endpoint>/<bucket>/<key>`, the default, which MinIO-like stores expect).
    #[arg(
        long,
        env = "PROJECTFLO_S3_VIRTUAL_HOSTED_STYLE",
        global = true,
        requires = "s3_bucket"
    )]
    pub s3_virtual_hosted_style: bool,
}

/// A secret setting: never shown by `Debug` (settings may be logged).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty".into());
        }
        Ok(Secret(s.to_string()))
    }
}

/// An http or https address without a trailing slash.
fn http_url(s: &str) -> Result<String, String> {
    let u = url::Url::parse(s).map_err(|e| e.to_string())?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err("an http:// or https:// address".into());
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// Stripe's settings when card payments are turned on (both secrets set).
#[derive(Debug, Clone)]
pub struct StripeSettings<'a> {
    pub secret_key: &'a str,
    pub webhook_secret: &'a str,
    pub api_base: &'a str,
}

/// The S3-compatible store's settings, when a bucket is set (with its credentials).
#[derive(Debug, Clone)]
pub struct S3Settings<'a> {
    pub bucket: &'a str,
    pub endpoint: Option<&'a str>,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub allow_http: bool,
    pub virtual_hosted_style: bool,
}

/// Google Calendar sync's settings when it is turned on (client id, secret and token key set).
#[derive(Debug, Clone)]
pub struct GoogleSettings<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub token_key: &'a crate::crypto::SealKey,
    pub auth_url: &'a str,
    pub token_url: &'a str,
    pub revoke_url: &'a str,
    pub calendar_api: &'a str,
    pub backoff: std::time::Duration,
    /// Where Google sends the person back: `<public URL>/calendar/google/callback`.
    pub redirect_uri: String,
}

impl Settings {
    /// The base URL for links, without a trailing slash.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.bind),
        }
    }

    /// Cookies are Secure when ProjectFlo is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// Stripe, when both its secret key and its webhook signing secret are set; else card
    /// payments are off.
    pub fn stripe(&self) -> Option<StripeSettings<'_>> {
        Some(StripeSettings {
            secret_key: self.stripe_secret_key.as_ref()?.expose(),
            webhook_secret: self.stripe_webhook_secret.as_ref()?.expose(),
            api_base: &self.stripe_api_base,
        })
    }

    /// Google Calendar sync, when its client id, secret and token key are set; else it is off.
    pub fn google(&self) -> Option<GoogleSettings<'_>> {
        Some(GoogleSettings {
            client_id: self.google_client_id.as_deref()?,
            client_secret: self.google_client_secret.as_ref()?.expose(),
            token_key: self.google_token_key.as_ref()?,
            auth_url: &self.google_auth_url,
            token_url: &self.google_token_url,
            revoke_url: &self.google_revoke_url,
            calendar_api: &self.google_calendar_api,
            backoff: std::time::Duration::from_millis(self.google_backoff_ms),
            redirect_uri: format!("{}/calendar/google/callback", self.base_url()),
        })
    }

    /// The S3-compatible store for project assets, when its bucket and credentials are set;
    /// else assets are kept under the data dir.
    pub fn s3(&self) -> Option<S3Settings<'_>> {
        Some(S3Settings {
            bucket: self.s3_bucket.as_deref()?,
            endpoint: self.s3_endpoint.as_deref(),
            region: self.s3_region.as_deref().unwrap_or("us-east-1"),
            access_key_id: self.s3_access_key_id.as_deref()?,
            secret_access_key: self.s3_secret_access_key.as_ref()?.expose(),
            allow_http: self.s3_allow_http,
            virtual_hosted_style: self.s3_virtual_hosted_style,
        })
    }

    /// Settings for tests and tools: the defaults, with nothing read from the environment.
    pub fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            s: Settings,
        }
        let cmd = <Only as clap::CommandFactory>::command();
        // Parse an empty command line with env lookups disabled.
        let m = cmd
            .mut_args(|a| a.env(None::<&str>))
            .try_get_matches_from(["projectflo"])
            .expect("defaults parse");
        <Only as clap::FromArgMatches>::from_arg_matches(&m)
            .expect("defaults parse")
            .s
    }
}
