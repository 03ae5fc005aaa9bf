//! A local fake of Google's OAuth 2 and Calendar v3 HTTP APIs, as much as ProjectFlo uses,
//! written from Google's documentation: the consent page (which consents at once and sends
//! the browser back with a code and the state), the token endpoint (authorization_code and
//! refresh_token grants, form-encoded), revocation, calendarList (paged), calendars insert,
//! events list (paged by pageToken; incremental by syncToken, deleted events included as
//! `cancelled`; nextPageToken / nextSyncToken), events insert (a client-chosen id taken, 409
//! when it exists), update, patch and delete. Every Calendar call wants a live access token
//! (`Authorization: Bearer`), else 401. Tests can expire the access tokens, invalidate the
//! sync tokens (410 Gone), make the next calls answer 429, and play the person editing their
//! own Google calendar.
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "fake-client.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "fake-client-secret";
/// The person's Google account (their primary calendar's id).
pub const ACCOUNT: &str = "sam.rivera@gmail.test";
/// A second calendar of theirs.
pub const FAMILY: &str = "family0123@group.calendar.google.test";

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub status: u16,
}

#[derive(Debug, Clone)]
struct Event {
    id: String,
    body: Value,
    cancelled: bool,
    seq: u64,
}

#[derive(Debug, Clone)]
struct Calendar {
    id: String,
    summary: String,
    primary: bool,
    events: Vec<Event>,
}

#[derive(Default)]
struct Inner {
    n: u64,
    /// One change counter for every calendar (sync tokens name a point in it).
    seq: u64,
    /// Sync tokens made before this generation are refused with 410.
    generation: u64,
    calendars: Vec<Calendar>,
    codes: HashMap<String, String>,
    refresh_tokens: Vec<String>,
    revoked: Vec<String>,
    access_tokens: Vec<String>,
    /// The next this many Calendar calls answer 429 (with Retry-After: 0 when `retry_after`).
    throttle: u32,
    /// The next this many Calendar calls answer 503.
    unavailable: u32,
    /// Calendar calls wait this long (to hold a run open).
    delay_ms: u64,
    page_size: usize,
    seen: Vec<Seen>,
}

#[derive(Clone)]
pub struct FakeGoogle {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

fn problem(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({"error": {"code": status.as_u16(), "message": message,
                                     "errors": [{"reason": "fake", "message": message}]}}),
        ),
    )
        .into_response()
}

impl FakeGoogle {
    pub async fn start() -> FakeGoogle {
        let inner = Inner {
            page_size: 2,
            calendars: vec![
                Calendar {
                    id: ACCOUNT.into(),
                    summary: ACCOUNT.into(),
                    primary: true,
                    events: vec![],
                },
                Calendar {
                    id: FAMILY.into(),
                    summary: "Family".into(),
                    primary: false,
                    events: vec![],
                },
            ],
            ..Inner::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeGoogle {
            base,
            inner: Arc::new(Mutex::new(inner)),
        };
        let app = Router::new()
            .route("/o/oauth2/v2/auth", get(consent))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/calendar/v3/users/me/calendarList", get(calendar_list))
            .route("/calendar/v3/calendars", post(insert_calendar))
            .route(
                "/calendar/v3/calendars/{cal}/events",
                get(list_events).post(insert_event),
            )
            .route(
                "/calendar/v3/calendars/{cal}/events/{id}",
                axum::routing::put(update_event)
                    .patch(patch_event)
                    .delete(delete_event),
            )
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// The app's settings pointing at this fake, sync on, retries 1 ms apart.
    pub fn configure(&self, s: &mut projectflo::config::Settings) {
        s.google_client_id = Some(CLIENT_ID.into());
        s.google_client_secret = Some(projectflo::config::Secret(CLIENT_SECRET.into()));
        s.google_token_key = Some(
            "5f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
                .parse()
                .unwrap(),
        );
        s.google_auth_url = format!("{}/o/oauth2/v2/auth", self.base);
        s.google_token_url = format!("{}/token", self.base);
        s.google_revoke_url = format!("{}/revoke", self.base);
        s.google_calendar_api = format!("{}/calendar/v3", self.base);
        s.google_backoff_ms = 1;
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap())
    }

    /// Every refresh token handed out.
    pub fn refresh_tokens(&self) -> Vec<String> {
        self.with(|i| i.refresh_tokens.clone())
    }

    pub fn revoked(&self) -> Vec<String> {
        self.with(|i| i.revoked.clone())
    }

    /// Every access token handed out stops working (as after an hour).
    pub fn expire_access_tokens(&self) {
        self.with(|i| i.access_tokens.clear());
    }

    /// Every sync token handed out so far is answered 410 Gone.
    pub fn expire_sync_tokens(&self) {
        self.with(|i| i.generation = i.seq + 1_000_000);
    }

    /// The next `n` Calendar calls are answered 429 Too Many Requests.
    pub fn throttle(&self, n: u32) {
        self.with(|i| i.throttle = n);
    }

    /// The next `n` Calendar calls are answered 503.
    pub fn unavailable(&self, n: u32) {
        self.with(|i| i.unavailable = n);
    }

    pub fn delay(&self, ms: u64) {
        self.with(|i| i.delay_ms = ms);
    }

    /// Requests received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.with(|i| i.seen.clone())
    }

    /// Requests of this method whose path ends with `tail`, and their statuses.
    pub fn count(&self, method: &str, tail: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path.ends_with(tail))
            .count()
    }

    /// The id of the calendar with this name.
    pub fn calendar_named(&self, name: &str) -> Option<String> {
        self.with(|i| {
            i.calendars
                .iter()
                .find(|c| c.summary == name)
                .map(|c| c.id.clone())
        })
    }

    /// The live (not cancelled) events of a calendar.
    pub fn events(&self, cal: &str) -> Vec<Value> {
        self.with(|i| {
            i.calendars
                .iter()
                .find(|c| c.id == cal)
                .map(|c| {
                    c.events
                        .iter()
                        .filter(|e| !e.cancelled)
                        .map(|e| e.body.clone())
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// The person adds (or changes) an event in their own calendar.
    pub fn put_event(&self, cal: &str, body: Value) {
        self.with(|i| {
            i.seq += 1;
            let seq = i.seq;
            let c = i.calendars.iter_mut().find(|c| c.id == cal).unwrap();
            let id = body["id"].as_str().unwrap().to_string();
            let mut body = body;
            body["status"] = json!("confirmed");
            match c.events.iter_mut().find(|e| e.id == id) {
                Some(e) => {
                    e.body = body;
                    e.cancelled = false;
                    e.seq = seq;
                }
                None => c.events.push(Event {
                    id,
                    body,
                    cancelled: false,
                    seq,
                }),
            }
        });
    }

    /// A timed busy event of theirs.
    pub fn busy(&self, cal: &str, id: &str, start: &str, end: &str) {
        self.put_event(
            cal,
            json!({"id": id, "summary": "Dentist (private)",
                   "start": {"dateTime": start}, "end": {"dateTime": end}}),
        );
    }

    /// The person deletes an event in their own calendar.
    pub fn remove_event(&self, cal: &str, id: &str) {
        self.with(|i| {
            i.seq += 1;
            let seq = i.seq;
            let c = i.calendars.iter_mut().find(|c| c.id == cal).unwrap();
            if let Some(e) = c.events.iter_mut().find(|e| e.id == id) {
                e.cancelled = true;
                e.body["status"] = json!("cancelled");
                e.seq = seq;
            }
        });
    }

    /// A gone event vanishes for good (as Google forgets old deletions): a full listing no
    /// longer names it, an incremental one neither.
    pub fn forget_event(&self, cal: &str, id: &str) {
        self.with(|i| {
            let c = i.calendars.iter_mut().find(|c| c.id == cal).unwrap();
            c.events.retain(|e| e.id != id);
        });
    }

    /// Note the request; check the bearer token; serve a fault if one is due (the answer to
    /// send instead, as the error).
    #[allow(clippy::result_large_err)]
    async fn begin(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        query: &HashMap<String, String>,
    ) -> Result<(), Response> {
        let delay = self.with(|i| i.delay_ms);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
            .to_string();
        self.with(|i| {
            let (status, answer) = if i.throttle > 0 {
                i.throttle -= 1;
                (
                    429,
                    Err(problem(
                        StatusCode::TOO_MANY_REQUESTS,
                        "Rate Limit Exceeded",
                    )),
                )
            } else if i.unavailable > 0 {
                i.unavailable -= 1;
                (
                    503,
                    Err(problem(StatusCode::SERVICE_UNAVAILABLE, "Backend Error")),
                )
            } else if !i.access_tokens.contains(&token) {
                (
                    401,
                    Err(problem(StatusCode::UNAUTHORIZED, "Invalid Credentials")),
                )
            } else {
                (200, Ok(()))
            };
            i.seen.push(Seen {
                method: method.into(),
                path: path.into(),
                query: query.clone(),
                status,
            });
            answer
        })
    }
}

/// Google's consent page: the app's client and offline access checked; consents at once.
async fn consent(
    State(fake): State<FakeGoogle>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ok = q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("response_type").map(String::as_str) == Some("code")
        && q.get("access_type").map(String::as_str) == Some("offline")
        && q.get("scope").is_some_and(|s| s.contains("calendar"));
    let (Some(back), Some(state), true) = (q.get("redirect_uri"), q.get("state"), ok) else {
        return (StatusCode::BAD_REQUEST, "Error 400: invalid_request").into_response();
    };
    let code = fake.with(|i| {
        i.n += 1;
        let code = format!("4/fake-code-{}", i.n);
        i.codes.insert(code.clone(), back.clone());
        code
    });
    let mut u = url::Url::parse(back).unwrap();
    u.query_pairs_mut()
        .append_pair("state", state)
        .append_pair("code", &code)
        .append_pair("scope", q.get("scope").unwrap());
    Redirect::to(u.as_str()).into_response()
}

fn oauth_error(error: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": error, "error_description": "Bad Request"})),
    )
        .into_response()
}

async fn token(State(fake): State<FakeGoogle>, body: String) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if f("client_id") != CLIENT_ID || f("client_secret") != CLIENT_SECRET {
        return oauth_error("invalid_client");
    }
    fake.with(|i| {
        i.seen.push(Seen {
            method: "POST".into(),
            path: format!("/token:{}", f("grant_type")),
            query: HashMap::new(),
            status: 200,
        });
        i.n += 1;
        let n = i.n;
        let access = format!("ya29.fake-access-{n}");
        match f("grant_type") {
            "authorization_code" => {
                if i.codes.remove(f("code")).as_deref() != Some(f("redirect_uri")) {
                    return oauth_error("invalid_grant");
                }
                let refresh = format!("1//fake-refresh-{n}-secret");
                i.refresh_tokens.push(refresh.clone());
                i.access_tokens.push(access.clone());
                axum::Json(json!({"access_token": access, "expires_in": 3599,
                                  "refresh_token": refresh, "token_type": "Bearer",
                                  "scope": "https://www.googleapis.com/auth/calendar.app.created"}))
                .into_response()
            }
            "refresh_token" => {
                let r = f("refresh_token").to_string();
                if !i.refresh_tokens.contains(&r) || i.revoked.contains(&r) {
                    return oauth_error("invalid_grant");
                }
                i.access_tokens.push(access.clone());
                axum::Json(json!({"access_token": access, "expires_in": 3599,
                                  "token_type": "Bearer"}))
                .into_response()
            }
            _ => oauth_error("unsupported_grant_type"),
        }
    })
}

async fn revoke(State(fake): State<FakeGoogle>, body: String) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let t = form.get("token").cloned().unwrap_or_default();
    fake.with(|i| i.revoked.push(t));
    StatusCode::OK.into_response()
}

/// A page of `all` from the page token (an offset), with the next page token if more.
fn page<T: Clone>(all: &[T], token: Option<&String>, size: usize) -> (Vec<T>, Option<String>) {
    let from: usize = token
        .and_then(|t| t.strip_prefix("page-"))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let to = (from + size).min(all.len());
    let next = (to < all.len()).then(|| format!("page-{to}"));
    (all[from.min(to)..to].to_vec(), next)
}

async fn calendar_list(
    State(fake): State<FakeGoogle>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = "/calendar/v3/users/me/calendarList";
    if let Err(r) = fake.begin("GET", path, &headers, &q).await {
        return r;
    }
    fake.with(|i| {
        let items: Vec<Value> = i
            .calendars
            .iter()
            .map(|c| {
                json!({"kind": "calendar#calendarListEntry", "id": c.id, "summary": c.summary,
                       "primary": c.primary, "accessRole": "owner"})
            })
            .collect();
        let (items, next) = page(&items, q.get("pageToken"), i.page_size);
        let mut v = json!({"kind": "calendar#calendarList", "items": items});
        if let Some(n) = next {
            v["nextPageToken"] = json!(n);
        }
        axum::Json(v).into_response()
    })
}

async fn insert_calendar(
    State(fake): State<FakeGoogle>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Err(r) = fake
        .begin("POST", "/calendar/v3/calendars", &headers, &HashMap::new())
        .await
    {
        return r;
    }
    fake.with(|i| {
        i.n += 1;
        let id = format!("pf{:04}@group.calendar.google.test", i.n);
        let summary = body["summary"].as_str().unwrap_or("").to_string();
        i.calendars.push(Calendar {
            id: id.clone(),
            summary: summary.clone(),
            primary: false,
            events: vec![],
        });
        axum::Json(
            json!({"kind": "calendar#calendar", "id": id, "summary": summary,
                          "timeZone": body["timeZone"]}),
        )
        .into_response()
    })
}

async fn list_events(
    State(fake): State<FakeGoogle>,
    headers: HeaderMap,
    Path(cal): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = format!("/calendar/v3/calendars/{cal}/events");
    if let Err(r) = fake.begin("GET", &path, &headers, &q).await {
        return r;
    }
    fake.with(|i| {
        let since = match q.get("syncToken") {
            None => None,
            Some(t) => {
                let Some((g, s)) = t.strip_prefix("sync-").and_then(|t| t.split_once('-')) else {
                    return problem(StatusCode::BAD_REQUEST, "Invalid sync token value.");
                };
                let (g, s): (u64, u64) = (g.parse().unwrap_or(0), s.parse().unwrap_or(0));
                if g < i.generation {
                    if let Some(last) = i.seen.last_mut() {
                        last.status = 410;
                    }
                    return problem(
                        StatusCode::GONE,
                        "Sync token is no longer valid, a full sync is required.",
                    );
                }
                Some(s)
            }
        };
        let Some(c) = i.calendars.iter().find(|c| c.id == cal) else {
            return problem(StatusCode::NOT_FOUND, "Not Found");
        };
        let all: Vec<Value> = c
            .events
            .iter()
            .filter(|e| match since {
                Some(s) => e.seq > s,
                None => !e.cancelled,
            })
            .map(|e| e.body.clone())
            .collect();
        let (items, next) = page(&all, q.get("pageToken"), i.page_size);
        let mut v = json!({"kind": "calendar#events", "summary": c.summary, "items": items});
        match next {
            Some(n) => v["nextPageToken"] = json!(n),
            None => v["nextSyncToken"] = json!(format!("sync-{}-{}", i.generation.max(1), i.seq)),
        }
        axum::Json(v).into_response()
    })
}

async fn insert_event(
    State(fake): State<FakeGoogle>,
    headers: HeaderMap,
    Path(cal): Path<String>,
    axum::Json(mut body): axum::Json<Value>,
) -> Response {
    let path = format!("/calendar/v3/calendars/{cal}/events");
    if let Err(r) = fake.begin("POST", &path, &headers, &HashMap::new()).await {
        return r;
    }
    fake.with(|i| {
        i.n += 1;
        i.seq += 1;
        let (n, seq) = (i.n, i.seq);
        let Some(c) = i.calendars.iter_mut().find(|c| c.id == cal) else {
            return problem(StatusCode::NOT_FOUND, "Not Found");
        };
        let id = body["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("gen{n}"));
        if c.events.iter().any(|e| e.id == id) {
            return problem(
                StatusCode::CONFLICT,
                "The requested identifier already exists.",
            );
        }
        body["id"] = json!(id);
        body["status"] = json!("confirmed");
        c.events.push(Event {
            id,
            body: body.clone(),
            cancelled: false,
            seq,
        });
        axum::Json(body).into_response()
    })
}

/// PUT replaces, PATCH merges the top-level fields; a deleted event comes back when the body
/// says `status: confirmed`.
fn change(fake: &FakeGoogle, cal: &str, id: &str, body: Value, merge: bool) -> Response {
    fake.with(|i| {
        i.seq += 1;
        let seq = i.seq;
        let Some(e) = i
            .calendars
            .iter_mut()
            .find(|c| c.id == cal)
            .and_then(|c| c.events.iter_mut().find(|e| e.id == id))
        else {
            return problem(StatusCode::NOT_FOUND, "Not Found");
        };
        if merge {
            for (k, v) in body.as_object().cloned().unwrap_or_default() {
                e.body[k] = v;
            }
        } else {
            e.body = body;
            e.body["id"] = json!(id);
        }
        e.cancelled = e.body["status"] == "cancelled";
        e.seq = seq;
        axum::Json(e.body.clone()).into_response()
    })
}

async fn update_event(
    State(fake): State<FakeGoogle>,
    headers: HeaderMap,
    Path((cal, id)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let path = format!("/calendar/v3/calendars/{cal}/events/{id}");
    if let Err(r) = fake.begin("PUT", &path, &headers, &HashMap::new()).await {
        return r;
    }
    change(&fake, &cal, &id, body, false)
}

async fn patch_event(
    State(fake): State<FakeGoogle>,
    headers: HeaderMap,
    Path((cal, id)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let path = format!("/calendar/v3/calendars/{cal}/events/{id}");
    if let Err(r) = fake.begin("PATCH", &path, &headers, &HashMap::new()).await {
        return r;
    }
    change(&fake, &cal, &id, body, true)
}

async fn delete_event(
    State(fake): State<FakeGoogle>,
    headers: HeaderMap,
    Path((cal, id)): Path<(String, String)>,
) -> Response {
    let path = format!("/calendar/v3/calendars/{cal}/events/{id}");
    if let Err(r) = fake.begin("DELETE", &path, &headers, &HashMap::new()).await {
        return r;
    }
    fake.with(|i| {
        i.seq += 1;
        let seq = i.seq;
        let Some(e) = i
            .calendars
            .iter_mut()
            .find(|c| c.id == cal)
            .and_then(|c| c.events.iter_mut().find(|e| e.id == id))
            .filter(|e| !e.cancelled)
        else {
            return problem(StatusCode::GONE, "Resource has been deleted");
        };
        e.cancelled = true;
        e.body["status"] = json!("cancelled");
        e.seq = seq;
        StatusCode::NO_CONTENT.into_response()
    })
}
