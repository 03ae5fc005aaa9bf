//! Google's HTTP APIs as the sync uses them: OAuth 2 (the consent URL, the authorization code
//! and refresh token grants, revocation) and Calendar v3 (calendarList, calendars insert,
//! events list with sync and page tokens, insert, update, patch, delete). Every call answered
//! 429 or 5xx (or not answered at all) is tried again after a wait that doubles from the
//! configured base (Google's Retry-After when it sends one, a minute at most), four times at
//! most. An answer of 401 asks once for a new access token with the refresh token and tries
//! again. No token is ever put in an error message or a log line: they travel in headers and
//! form bodies only.
use crate::config::GoogleSettings;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// What the sync asks for: make its own "ProjectFlo" calendar and manage the events on it,
/// see the list of the person's calendars, and read the events of those they choose.
pub const SCOPES: &str = "https://www.googleapis.com/auth/calendar.app.created \
     https://www.googleapis.com/auth/calendar.calendarlist.readonly \
     https://www.googleapis.com/auth/calendar.events.readonly";

/// Retries after the first try of a call answered 429 or 5xx.
const RETRIES: u32 = 4;

/// Why a call failed.
#[derive(Debug)]
pub enum Failure {
    /// 410 Gone (a sync token Google no longer honours: list everything again).
    Gone,
    /// 404 (or 410 for a single event): it is not there.
    NotFound,
    /// 409: an event with this id exists already.
    Exists,
    /// Google refused the refresh token (revoked, expired, or the client changed): the person
    /// has to connect again.
    Revoked(String),
    /// Anything else, in people's words (no token in it).
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Gone => f.write_str("Google answered 410 Gone"),
            Failure::NotFound => f.write_str("Google answered 404 Not Found"),
            Failure::Exists => f.write_str("Google answered 409 (it exists already)"),
            Failure::Revoked(m) | Failure::Other(m) => f.write_str(m),
        }
    }
}

/// The token endpoint's answer.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The HTTP client: one per process, with timeouts, TLS by rustls with the system's roots.
pub fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .user_agent("ProjectFlo calendar sync")
                .build()
                .expect("the HTTP client")
        })
        .clone()
}

/// The consent page's address for this state parameter: the authorization code flow with
/// offline access (a refresh token), consent asked every time so that one is always given.
pub fn consent_url(g: &GoogleSettings<'_>, state: &str) -> String {
    let mut u = url::Url::parse(g.auth_url).expect("a checked URL");
    u.query_pairs_mut()
        .append_pair("client_id", g.client_id)
        .append_pair("redirect_uri", &g.redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPES)
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("include_granted_scopes", "true")
        .append_pair("state", state);
    u.to_string()
}

/// Wait before try `n` (0-based retries): Retry-After when Google sent one (at most a
/// minute), else the base doubled `n` times.
fn wait(g: &GoogleSettings<'_>, n: u32, retry_after: Option<u64>) -> Duration {
    match retry_after {
        Some(s) => Duration::from_secs(s.min(60)),
        None => g.backoff * 2u32.pow(n),
    }
}

fn retry_after(r: &reqwest::Response) -> Option<u64> {
    r.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn retryable(s: StatusCode) -> bool {
    s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error()
}

/// Send a request (built anew for each try), trying again on 429, 5xx or no answer.
async fn send(
    g: &GoogleSettings<'_>,
    what: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, Failure> {
    let mut n = 0;
    loop {
        let last = n >= RETRIES;
        match build().send().await {
            Ok(r) if retryable(r.status()) && !last => {
                let pause = wait(g, n, retry_after(&r));
                tracing::info!(status = %r.status(), what, retry_in_ms = pause.as_millis() as u64,
                               "Google asked to slow down; trying again");
                tokio::time::sleep(pause).await;
            }
            Ok(r) => return Ok(r),
            Err(e) if !last => {
                tracing::info!(what, error = %without_url(&e), "Google did not answer; trying again");
                tokio::time::sleep(wait(g, n, None)).await;
            }
            Err(e) => {
                return Err(Failure::Other(format!(
                    "Google did not answer ({what}): {}",
                    without_url(&e)
                )));
            }
        }
        n += 1;
    }
}

/// A transport error without its URL (whose query could hold a sync token).
fn without_url(e: &reqwest::Error) -> String {
    let mut e = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_else(|| "no answer".into());
    e.truncate(300);
    e
}

/// The token endpoint with this grant.
async fn token(g: &GoogleSettings<'_>, form: &[(&str, &str)]) -> Result<Tokens, Failure> {
    let client = http();
    let r = send(g, "the token endpoint", || {
        client
            .post(g.token_url)
            .form(form)
            .header("accept", "application/json")
    })
    .await?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_str(&body)
            .map_err(|_| Failure::Other("Google's token endpoint answered something else".into()));
    }
    let e: OAuthError = serde_json::from_str(&body).unwrap_or(OAuthError {
        error: String::new(),
        error_description: None,
    });
    let said = match (e.error.as_str(), e.error_description) {
        ("", _) => format!("Google's token endpoint answered {status}"),
        (code, Some(d)) => format!("Google refused: {code} ({})", clip(&d)),
        (code, None) => format!("Google refused: {code}"),
    };
    if e.error == "invalid_grant" || e.error == "invalid_client" || e.error == "unauthorized_client"
    {
        return Err(Failure::Revoked(format!(
            "{said}; connect Google Calendar again"
        )));
    }
    Err(Failure::Other(said))
}

/// The authorization code (from the consent page's return) for tokens.
pub async fn exchange_code(g: &GoogleSettings<'_>, code: &str) -> Result<Tokens, Failure> {
    token(
        g,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", g.client_id),
            ("client_secret", g.client_secret),
            ("redirect_uri", &g.redirect_uri),
        ],
    )
    .await
}

/// A new access token from the refresh token.
pub async fn refresh(g: &GoogleSettings<'_>, refresh_token: &str) -> Result<Tokens, Failure> {
    token(
        g,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", g.client_id),
            ("client_secret", g.client_secret),
        ],
    )
    .await
}

/// Tell Google to forget the grant (on disconnect); its answer does not matter.
pub async fn revoke(g: &GoogleSettings<'_>, token: &str) {
    let client = http();
    let r = send(g, "revocation", || {
        client.post(g.revoke_url).form(&[("token", token)])
    })
    .await;
    if let Ok(r) = r {
        if !r.status().is_success() {
            tracing::info!(status = %r.status(), "Google did not revoke the token (already gone?)");
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

/// A person's Calendar API session: their tokens, refreshed when Google says the access
/// token has expired. `refreshed` tells the caller to store the new one.
pub struct Session<'a> {
    pub g: &'a GoogleSettings<'a>,
    pub access: Option<String>,
    pub refresh_token: String,
    /// A new access token and its lifetime in seconds, when one was fetched.
    pub refreshed: Option<(String, Option<i64>)>,
}

impl<'a> Session<'a> {
    async fn renew(&mut self) -> Result<String, Failure> {
        let t = refresh(self.g, &self.refresh_token).await?;
        self.access = Some(t.access_token.clone());
        self.refreshed = Some((t.access_token.clone(), t.expires_in));
        Ok(t.access_token)
    }

    /// One Calendar API call: `path` under the API base (segments already escaped), query
    /// pairs, a JSON body. 2xx: the JSON answer (Null when empty).
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, Failure> {
        let url = format!("{}{path}", self.g.calendar_api);
        let mut renewed = false;
        loop {
            let access = match &self.access {
                Some(a) => a.clone(),
                None => {
                    renewed = true;
                    self.renew().await?
                }
            };
            let client = http();
            let r = send(self.g, what, || {
                let mut b = client
                    .request(method.clone(), &url)
                    .query(query)
                    .bearer_auth(&access);
                if let Some(v) = body {
                    b = b.json(v);
                }
                b
            })
            .await?;
            let status = r.status();
            if status == StatusCode::UNAUTHORIZED && !renewed {
                renewed = true;
                self.access = None;
                continue;
            }
            let text = r.text().await.unwrap_or_default();
            return match status {
                s if s.is_success() => Ok(if text.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text).map_err(|_| {
                        Failure::Other(format!("Google answered something else ({what})"))
                    })?
                }),
                StatusCode::GONE => Err(Failure::Gone),
                StatusCode::NOT_FOUND => Err(Failure::NotFound),
                StatusCode::CONFLICT => Err(Failure::Exists),
                StatusCode::UNAUTHORIZED => Err(Failure::Revoked(
                    "Google refused the access token twice; connect Google Calendar again".into(),
                )),
                s => {
                    let said = serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| v["error"]["message"].as_str().map(clip))
                        .unwrap_or_default();
                    Err(Failure::Other(format!(
                        "Google answered {s} ({what}){}{said}",
                        if said.is_empty() { "" } else { ": " }
                    )))
                }
            };
        }
    }
}

/// A path segment escaped (calendar ids hold '@' and '#').
pub fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_base_or_follow_retry_after_up_to_a_minute() {
        let mut s = crate::config::Settings::defaults();
        s.google_client_id = Some("id".into());
        s.google_client_secret = Some(crate::config::Secret("secret".into()));
        s.google_token_key = Some("00".repeat(32).parse().unwrap());
        s.google_backoff_ms = 250;
        let g = s.google().unwrap();
        assert_eq!(wait(&g, 0, None), Duration::from_millis(250));
        assert_eq!(wait(&g, 3, None), Duration::from_millis(2000));
        assert_eq!(wait(&g, 0, Some(5)), Duration::from_secs(5));
        assert_eq!(wait(&g, 0, Some(3600)), Duration::from_secs(60));
        let u = consent_url(&g, "st4te");
        assert!(u.starts_with("https://accounts.google.com/o/oauth2/v2/auth?client_id=id&"));
        for part in [
            "access_type=offline",
            "response_type=code",
            "state=st4te",
            "prompt=consent",
        ] {
            assert!(u.contains(part), "{u}");
        }
        assert!(
            u.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcalendar%2Fgoogle%2Fcallback")
        );
        assert_eq!(seg("a@b.c#x"), "a%40b%2Ec%23x");
    }
}
