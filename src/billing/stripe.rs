//! Stripe's HTTP API, as much of it as card payments need: create a Checkout Session, retrieve
//! one, refund a PaymentIntent; and the check of a webhook's `Stripe-Signature`. A plain HTTP/1
//! client (hyper; TLS by rustls with the system's roots, as lettre sends mail), form-encoded
//! requests as Stripe's API takes them, one connection per call (card payments are few), every
//! call bounded in time. Nothing here touches the database: callers call Stripe with no
//! transaction open, then record what it answered.
use crate::config::StripeSettings;
use axum::body::Body;
use axum::http::{Method, Request, header};
use hmac::{Hmac, Mac};
use hyper_util::rt::TokioIo;
use rust_decimal::Decimal;
use serde::Deserialize;
use sha2::Sha256;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long one call to Stripe may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(20);
/// A webhook whose timestamp is older than this is refused (Stripe's own default).
pub const TOLERANCE_SECS: i64 = 300;

/// Why a call to Stripe did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered and refused: its message, as it says it.
    #[error("{message}")]
    Refused { status: u16, message: String },
    /// Stripe could not be reached, answered something unreadable, or answered that it could
    /// not say: what became of the request is not known.
    #[error("Stripe could not be reached: {0}")]
    Unreachable(String),
}

/// A Checkout Session as Stripe answers it (the fields ProjectFlo reads).
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub amount_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

impl CheckoutSession {
    /// The invoice it pays: `metadata.invoice_id`, else `client_reference_id`.
    pub fn invoice_id(&self) -> Option<i32> {
        let meta = self
            .metadata
            .as_ref()
            .and_then(|m| m.get("invoice_id"))
            .and_then(|v| v.as_str());
        meta.or(self.client_reference_id.as_deref())?.parse().ok()
    }
}

/// A refund as Stripe answers it.
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
}

/// What a Checkout Session is asked for.
pub struct NewCheckout<'a> {
    pub invoice_id: i32,
    pub description: &'a str,
    /// In the currency's smallest unit (cents).
    pub amount_minor: i64,
    /// ISO code, lower case as Stripe writes it.
    pub currency: &'a str,
    pub customer_email: Option<&'a str>,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    pub idempotency_key: &'a str,
}

/// The client, made from the settings when Stripe is configured.
pub struct Client<'a> {
    settings: StripeSettings<'a>,
}

impl<'a> Client<'a> {
    pub fn new(settings: StripeSettings<'a>) -> Self {
        Client { settings }
    }

    /// POST /v1/checkout/sessions: a one-off payment of one line for the invoice.
    pub async fn create_checkout(
        &self,
        c: &NewCheckout<'_>,
    ) -> Result<CheckoutSession, StripeError> {
        let invoice = c.invoice_id.to_string();
        let amount = c.amount_minor.to_string();
        let mut form: Vec<(&str, &str)> = vec![
            ("mode", "payment"),
            ("payment_method_types[0]", "card"),
            ("line_items[0][quantity]", "1"),
            ("line_items[0][price_data][currency]", c.currency),
            ("line_items[0][price_data][unit_amount]", &amount),
            (
                "line_items[0][price_data][product_data][name]",
                c.description,
            ),
            ("success_url", c.success_url),
            ("cancel_url", c.cancel_url),
            ("client_reference_id", &invoice),
            ("metadata[invoice_id]", &invoice),
            ("payment_intent_data[metadata][invoice_id]", &invoice),
        ];
        if let Some(email) = c.customer_email {
            form.push(("customer_email", email));
        }
        self.call(
            Method::POST,
            "/v1/checkout/sessions",
            Some(&form),
            Some(c.idempotency_key),
        )
        .await
    }

    /// GET /v1/checkout/sessions/{id}.
    pub async fn checkout(&self, id: &str) -> Result<CheckoutSession, StripeError> {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        self.call(
            Method::GET,
            &format!("/v1/checkout/sessions/{id}"),
            None,
            None,
        )
        .await
    }

    /// POST /v1/refunds: refund `amount_minor` of a PaymentIntent.
    pub async fn refund(
        &self,
        payment_intent: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        let amount = amount_minor.to_string();
        let form = [
            ("payment_intent", payment_intent),
            ("amount", &amount),
            ("reason", "requested_by_customer"),
        ];
        self.call(
            Method::POST,
            "/v1/refunds",
            Some(&form),
            Some(idempotency_key),
        )
        .await
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        idempotency_key: Option<&str>,
    ) -> Result<T, StripeError> {
        let url = format!("{}{path}", self.settings.api_base);
        let body = form
            .map(|f| serde_urlencoded::to_string(f).unwrap_or_default())
            .unwrap_or_default();
        let mut req = Request::builder()
            .method(method)
            .uri(&url)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.settings.secret_key),
            )
            .header(header::USER_AGENT, "ProjectFlo");
        if form.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let req = req
            .body(Body::from(body))
            .map_err(|e| StripeError::Unreachable(e.to_string()))?;
        let (status, bytes) = tokio::time::timeout(TIMEOUT, send(&url, req))
            .await
            .map_err(|_| StripeError::Unreachable("no answer in time".into()))??;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes)
                .map_err(|e| StripeError::Unreachable(format!("an unreadable answer: {e}")));
        }
        #[derive(Deserialize)]
        struct Wrapper {
            error: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            message: Option<String>,
        }
        let message = serde_json::from_slice::<Wrapper>(&bytes)
            .ok()
            .and_then(|w| w.error.message)
            .unwrap_or_else(|| format!("Stripe answered {status}"));
        // A 5xx, or another request with the same Idempotency-Key under way (409): what
        // became of it is not known, as when Stripe does not answer.
        if status >= 500 || status == 409 {
            return Err(StripeError::Unreachable(format!("{message} ({status})")));
        }
        Err(StripeError::Refused { status, message })
    }
}

/// TLS for https: the system's root certificates, loaded once.
fn tls() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("rustls protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// One request on its own connection: (status, body).
async fn send(url: &str, req: Request<Body>) -> Result<(u16, axum::body::Bytes), StripeError> {
    let bad = |e: &dyn std::fmt::Display| StripeError::Unreachable(e.to_string());
    let u = url::Url::parse(url).map_err(|e| bad(&e))?;
    let host = u.host_str().ok_or_else(|| bad(&"no host"))?.to_string();
    let port = u.port_or_known_default().unwrap_or(443);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| bad(&e))?;
    let mut req = req;
    let authority = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    req.headers_mut().insert(
        header::HOST,
        authority
            .parse()
            .map_err(|e: header::InvalidHeaderValue| bad(&e))?,
    );
    if u.scheme() == "https" {
        let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| bad(&e))?;
        let stream = tokio_rustls::TlsConnector::from(tls())
            .connect(name, tcp)
            .await
            .map_err(|e| bad(&e))?;
        exchange(TokioIo::new(stream), req).await
    } else {
        exchange(TokioIo::new(tcp), req).await
    }
}

async fn exchange<I>(io: I, req: Request<Body>) -> Result<(u16, axum::body::Bytes), StripeError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let bad = |e: &dyn std::fmt::Display| StripeError::Unreachable(e.to_string());
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| bad(&e))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let resp = sender.send_request(req).await.map_err(|e| bad(&e))?;
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(Body::new(resp.into_body()), 4 * 1024 * 1024)
        .await
        .map_err(|e| bad(&e))?;
    Ok((status, bytes))
}

/// Currencies Stripe counts in whole units (no cents).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// An amount in the currency's smallest unit, as Stripe takes it ($12.34 -> 1234; ¥1200 ->
/// 1200); None when it has more precision than the currency allows or is out of range.
pub fn minor_units(amount: Decimal, currency: &str) -> Option<i64> {
    let scale = if ZERO_DECIMAL.contains(&currency.to_lowercase().as_str()) {
        Decimal::ONE
    } else {
        Decimal::ONE_HUNDRED
    };
    let minor = amount * scale;
    if minor.fract() != Decimal::ZERO {
        return None;
    }
    i64::try_from(minor).ok()
}

/// The amount back from the smallest unit.
pub fn from_minor_units(minor: i64, currency: &str) -> Decimal {
    if ZERO_DECIMAL.contains(&currency.to_lowercase().as_str()) {
        Decimal::from(minor)
    } else {
        Decimal::new(minor, 2)
    }
}

/// Why a webhook's signature is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadSignature {
    /// No header, or one without `t=` and `v1=`.
    Malformed,
    /// No `v1` signature matches.
    Mismatch,
    /// Signed more than five minutes before now (a replay).
    TooOld,
}

impl std::fmt::Display for BadSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadSignature::Malformed => "the Stripe-Signature header is missing or malformed",
            BadSignature::Mismatch => "no signature matches the payload",
            BadSignature::TooOld => "the signature's timestamp is too old",
        })
    }
}

/// Check a `Stripe-Signature` header as Stripe does: `t=<unix seconds>,v1=<hex>[,v1=...]`,
/// where a v1 is HMAC-SHA256 of `"{t}.{raw body}"` keyed by the endpoint's signing secret;
/// compared in constant time; refused when `t` is more than five minutes before `now` (the
/// app's clock).
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), BadSignature> {
    let header = header.ok_or(BadSignature::Malformed)?;
    let mut t: Option<&str> = None;
    let mut signatures = vec![];
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let t = t.ok_or(BadSignature::Malformed)?;
    let at: i64 = t.parse().map_err(|_| BadSignature::Malformed)?;
    if signatures.is_empty() {
        return Err(BadSignature::Malformed);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let matches = signatures
        .iter()
        .any(|s| hex::decode(s).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok()));
    if !matches {
        return Err(BadSignature::Mismatch);
    }
    if now.timestamp() - at > TOLERANCE_SECS {
        return Err(BadSignature::TooOld);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn sign(secret: &str, t: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_signature_is_checked_as_stripe_does() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let t = now.timestamp() - 10;
        let body = r#"{"id":"evt_1"}"#;
        let good = sign("whsec_abc", t, body);
        let header = format!("t={t},v1={good}");
        assert_eq!(
            verify("whsec_abc", Some(&header), body.as_bytes(), now),
            Ok(())
        );
        // Another secret, another body, a signature among others (key rolling), v0 ignored.
        assert_eq!(
            verify("whsec_other", Some(&header), body.as_bytes(), now),
            Err(BadSignature::Mismatch)
        );
        assert_eq!(
            verify("whsec_abc", Some(&header), b"{\"id\":\"evt_2\"}", now),
            Err(BadSignature::Mismatch)
        );
        let rolled = format!("t={t},v1={},v1={good},v0={good}", "00".repeat(32));
        assert_eq!(
            verify("whsec_abc", Some(&rolled), body.as_bytes(), now),
            Ok(())
        );
        let only_v0 = format!("t={t},v0={good}");
        assert_eq!(
            verify("whsec_abc", Some(&only_v0), body.as_bytes(), now),
            Err(BadSignature::Malformed)
        );
        for bad in ["", "t=,v1=ab", "v1=abc", "t=12x,v1=ab", "garbage"] {
            assert_eq!(
                verify("whsec_abc", Some(bad), body.as_bytes(), now),
                Err(BadSignature::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            verify("whsec_abc", None, body.as_bytes(), now),
            Err(BadSignature::Malformed)
        );
        // Five minutes is the limit; a second more is a replay.
        let old = now.timestamp() - TOLERANCE_SECS;
        let header = format!("t={old},v1={}", sign("whsec_abc", old, body));
        assert_eq!(
            verify("whsec_abc", Some(&header), body.as_bytes(), now),
            Ok(())
        );
        let old = old - 1;
        let header = format!("t={old},v1={}", sign("whsec_abc", old, body));
        assert_eq!(
            verify("whsec_abc", Some(&header), body.as_bytes(), now),
            Err(BadSignature::TooOld)
        );
    }

    #[test]
    fn amounts_go_to_the_smallest_unit_and_back() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(minor_units(d("1260.00"), "USD"), Some(126_000));
        assert_eq!(minor_units(d("0.01"), "eur"), Some(1));
        assert_eq!(minor_units(d("1200"), "JPY"), Some(1200));
        assert_eq!(minor_units(d("12.5"), "JPY"), None);
        assert_eq!(minor_units(d("0.001"), "USD"), None);
        assert_eq!(from_minor_units(126_050, "usd"), d("1260.50"));
        assert_eq!(from_minor_units(1200, "jpy"), d("1200"));
    }
}
