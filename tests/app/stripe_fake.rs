//! A local fake of Stripe's HTTP API, as much as ProjectFlo uses: create a Checkout Session
//! (form-encoded, as Stripe takes it), retrieve one, refund a PaymentIntent; each checks the
//! `Authorization: Bearer sk_test_...` header and honours `Idempotency-Key` (the same key
//! answers the first answer again). It also plays the couple paying on Stripe's page and
//! Stripe delivering `checkout.session.completed`, signed as Stripe signs webhooks
//! (`t=...,v1=` HMAC-SHA256 of "{t}.{body}" with the endpoint's secret, hex). The signing here
//! is written from Stripe's description, not taken from the app.
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const SECRET_KEY: &str = "sk_test_projectflo_fake";
pub const WEBHOOK_SECRET: &str = "whsec_projectflo_fake";

/// A request the fake received: method and path, its form fields, its Idempotency-Key.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
}

impl Seen {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    n: usize,
    sessions: HashMap<String, Value>,
    /// PaymentIntent -> (amount charged, refunded so far), in cents.
    charges: HashMap<String, (i64, i64)>,
    idempotent: HashMap<String, (StatusCode, Value)>,
    seen: Vec<Seen>,
    /// When set, every refund is refused with this message.
    refuse_refunds: Option<String>,
    /// The next refund is made (and kept for its Idempotency-Key) but its answer is lost: a
    /// 500 instead.
    lose_next_answer: bool,
    /// Where the hosted page's payments are announced (the app's webhook endpoint).
    webhook: Option<String>,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

fn error(status: StatusCode, kind: &str, message: &str) -> (StatusCode, Value) {
    (status, json!({"error": {"type": kind, "message": message}}))
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeStripe { base, inner };
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/checkout/sessions/{id}", get(retrieve_session))
            .route("/v1/refunds", post(create_refund))
            .route("/pay/{id}", get(checkout_page).post(checkout_pay))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// The app's settings pointing at this fake.
    pub fn configure(&self, s: &mut projectflo::config::Settings) {
        use projectflo::config::Secret;
        s.stripe_secret_key = Some(Secret(SECRET_KEY.into()));
        s.stripe_webhook_secret = Some(Secret(WEBHOOK_SECRET.into()));
        s.stripe_api_base = self.base.clone();
    }

    /// Every request received on this path, in order.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        let inner = self.inner.lock().unwrap();
        inner
            .seen
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    /// Announce payments made on the hosted page to this webhook endpoint.
    pub fn send_webhooks_to(&self, url: &str) {
        self.inner.lock().unwrap().webhook = Some(url.to_string());
    }

    pub fn session(&self, id: &str) -> Value {
        self.inner.lock().unwrap().sessions[id].clone()
    }

    pub fn refuse_refunds(&self, message: Option<&str>) {
        self.inner.lock().unwrap().refuse_refunds = message.map(str::to_string);
    }

    /// Make the next refund but lose its answer (as a connection cut after Stripe acted).
    pub fn lose_next_answer(&self) {
        self.inner.lock().unwrap().lose_next_answer = true;
    }

    /// What was refunded of a PaymentIntent, in cents.
    pub fn refunded(&self, pi: &str) -> i64 {
        self.inner.lock().unwrap().charges[pi].1
    }

    /// The couple pays on Stripe's page: the session becomes complete and paid, with a
    /// PaymentIntent; returns the `checkout.session.completed` event as Stripe sends it.
    pub fn pay(&self, session: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.n += 1;
        let pi = format!("pi_test_{:06}", inner.n);
        let s = inner
            .sessions
            .get_mut(session)
            .expect("a session of the fake");
        s["status"] = json!("complete");
        s["payment_status"] = json!("paid");
        s["payment_intent"] = json!(pi);
        let amount = s["amount_total"].as_i64().unwrap();
        let object = s.clone();
        inner.charges.insert(pi, (amount, 0));
        let event = json!({
            "id": format!("evt_test_{:06}", inner.n),
            "object": "event",
            "api_version": "2024-06-20",
            "created": chrono::Utc::now().timestamp(),
            "type": "checkout.session.completed",
            "livemode": false,
            "data": {"object": object},
        });
        event.to_string()
    }

    /// `Stripe-Signature` for a payload signed at `t` with `secret`.
    pub fn signature(secret: &str, t: i64, payload: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{payload}").as_bytes());
        let v1: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("t={t},v1={v1}")
    }

    /// Deliver an event to the app's webhook endpoint as Stripe does, signed at `t`.
    pub async fn deliver_at(url: &str, payload: &str, t: i64, secret: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json; charset=utf-8")
            .header(
                "user-agent",
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            )
            .header("stripe-signature", Self::signature(secret, t, payload))
            .body(payload.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Deliver it signed now with the endpoint's secret.
    pub async fn deliver(url: &str, payload: &str) -> reqwest::Response {
        let t = chrono::Utc::now().timestamp();
        Self::deliver_at(url, payload, t, WEBHOOK_SECRET).await
    }

    /// Check the key, note the request, replay an answer to a key seen before.
    fn begin(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &str,
    ) -> Result<Vec<(String, String)>, (StatusCode, Value)> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth != format!("Bearer {SECRET_KEY}") {
            let (s, v) = error(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                "Invalid API Key provided",
            );
            return Err((s, v));
        }
        let form: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap_or_default();
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut inner = self.inner.lock().unwrap();
        inner.seen.push(Seen {
            path: path.to_string(),
            form: form.clone(),
            idempotency_key: key.clone(),
        });
        if let Some(replayed) = key.and_then(|k| inner.idempotent.get(&k).cloned()) {
            return Err(replayed);
        }
        Ok(form)
    }

    fn answer(&self, headers: &HeaderMap, (status, body): (StatusCode, Value)) -> Response {
        if let Some(k) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
            let mut inner = self.inner.lock().unwrap();
            inner
                .idempotent
                .insert(k.to_string(), (status, body.clone()));
        }
        (status, axum::Json(body)).into_response()
    }
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn create_session(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = match fake.begin("/v1/checkout/sessions", &headers, &body) {
        Ok(f) => f,
        Err(e) => return (e.0, axum::Json(e.1)).into_response(),
    };
    let amount = field(&form, "line_items[0][price_data][unit_amount]")
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|a| *a > 0);
    let currency = field(&form, "line_items[0][price_data][currency]");
    let required = ["success_url", "cancel_url"]
        .iter()
        .all(|f| field(&form, f).is_some());
    let (Some(amount), Some(currency), true, Some("payment")) =
        (amount, currency, required, field(&form, "mode"))
    else {
        let e = error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Missing required param: line_items[0][price_data][unit_amount].",
        );
        return fake.answer(&headers, e);
    };
    let session = {
        let mut inner = fake.inner.lock().unwrap();
        inner.n += 1;
        let id = format!("cs_test_{:06}", inner.n);
        let session = json!({
            "id": id,
            "object": "checkout.session",
            "mode": "payment",
            "url": format!("{}/pay/{id}", fake.base),
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": null,
            "amount_total": amount,
            "currency": currency,
            "client_reference_id": field(&form, "client_reference_id"),
            "customer_email": field(&form, "customer_email"),
            "success_url": field(&form, "success_url"),
            "cancel_url": field(&form, "cancel_url"),
            "metadata": {"invoice_id": field(&form, "metadata[invoice_id]")},
        });
        inner.sessions.insert(id, session.clone());
        session
    };
    fake.answer(&headers, (StatusCode::OK, session))
}

async fn retrieve_session(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = fake.begin(&format!("/v1/checkout/sessions/{id}"), &headers, "") {
        return (e.0, axum::Json(e.1)).into_response();
    }
    let found = fake.inner.lock().unwrap().sessions.get(&id).cloned();
    let (s, v) = match found {
        Some(s) => (StatusCode::OK, s),
        None => error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            &format!("No such checkout.session: '{id}'"),
        ),
    };
    (s, axum::Json(v)).into_response()
}

async fn create_refund(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = match fake.begin("/v1/refunds", &headers, &body) {
        Ok(f) => f,
        Err(e) => return (e.0, axum::Json(e.1)).into_response(),
    };
    let pi = field(&form, "payment_intent").unwrap_or("").to_string();
    let amount = field(&form, "amount").and_then(|a| a.parse::<i64>().ok());
    let answer = {
        let mut inner = fake.inner.lock().unwrap();
        inner.n += 1;
        let n = inner.n;
        let refuse = inner.refuse_refunds.clone();
        match (inner.charges.get_mut(&pi), amount, refuse) {
            (_, _, Some(message)) => {
                error(StatusCode::BAD_REQUEST, "invalid_request_error", &message)
            }
            (None, _, _) => error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                &format!("No such payment_intent: '{pi}'"),
            ),
            (Some((charged, refunded)), Some(a), None) if a > 0 && *refunded + a <= *charged => {
                *refunded += a;
                (
                    StatusCode::OK,
                    json!({
                        "id": format!("re_test_{n:06}"), "object": "refund", "amount": a,
                        "payment_intent": pi, "status": "succeeded",
                    }),
                )
            }
            (Some(_), _, None) => error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "Refund amount is greater than the unrefunded amount on the charge.",
            ),
        }
    };
    let lose = std::mem::take(&mut fake.inner.lock().unwrap().lose_next_answer);
    let answer = fake.answer(&headers, answer);
    if lose {
        let e = error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "connection lost",
        );
        return (e.0, axum::Json(e.1)).into_response();
    }
    answer
}

/// Stripe's hosted checkout page, as much as a browser needs: the amount and a Pay button.
async fn checkout_page(State(fake): State<FakeStripe>, Path(id): Path<String>) -> Response {
    let Some(s) = fake.inner.lock().unwrap().sessions.get(&id).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let amount = s["amount_total"].as_i64().unwrap_or_default();
    axum::response::Html(format!(
        "<!doctype html><html lang=\"en\"><title>Checkout</title><main><h1>Pay {}.{:02} {}</h1>\
         <form method=\"post\"><button id=\"stripe-pay\">Pay</button></form></main></html>",
        amount / 100,
        amount % 100,
        s["currency"].as_str().unwrap_or_default().to_uppercase()
    ))
    .into_response()
}

/// The couple pays: the session is paid, the webhook is delivered signed (as Stripe does,
/// before the couple is back), and the browser returns to the success URL.
async fn checkout_pay(State(fake): State<FakeStripe>, Path(id): Path<String>) -> Response {
    let event = fake.pay(&id);
    let (webhook, back) = {
        let inner = fake.inner.lock().unwrap();
        let back = inner.sessions[&id]["success_url"]
            .as_str()
            .unwrap_or("/")
            .to_string();
        (inner.webhook.clone(), back)
    };
    if let Some(url) = webhook {
        let resp = FakeStripe::deliver(&url, &event).await;
        assert!(
            resp.status().is_success(),
            "the webhook answered {}",
            resp.status()
        );
    }
    axum::response::Redirect::to(&back).into_response()
}
