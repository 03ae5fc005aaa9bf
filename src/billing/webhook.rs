//! `POST /webhooks/stripe`: Stripe's events, public (Stripe has no session) and trusted only by
//! their `Stripe-Signature`, checked against the raw body before anything is read from it. A
//! bad or old signature is a 400 and nothing is recorded. `checkout.session.completed` (and
//! `checkout.session.async_payment_succeeded`) record the payment once however often they are
//! delivered (`online::complete`); a redelivery answers 200. Other events are acknowledged and
//! ignored. A failure to record is a 500, so that Stripe delivers the event again later.
use super::online::{self, Completion};
use super::stripe::{self, CheckoutSession};
use crate::auth::Access;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::routes::Routes;
use crate::studio::Studio;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub const PATH: &str = "/webhooks/stripe";

pub fn routes() -> Routes {
    Routes::new().post(PATH, Access::Public, receive)
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

async fn receive(
    State(state): State<AppState>,
    mut db: Db,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let Some(stripe) = state.settings.stripe() else {
        return Err(AppError::not_found(
            "Stripe webhook (card payments are not set up)",
        ));
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let now = state.clock.now();
    if let Err(bad) = stripe::verify(stripe.webhook_secret, signature, &body, now) {
        tracing::warn!(reason = %bad, "Stripe webhook refused");
        return Ok((StatusCode::BAD_REQUEST, format!("refused: {bad}")).into_response());
    }
    let event: Event = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            return Ok(
                (StatusCode::BAD_REQUEST, format!("not a Stripe event: {e}")).into_response(),
            );
        }
    };
    let outcome = match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let session: CheckoutSession = match serde_json::from_value(event.data.object) {
                Ok(s) => s,
                Err(e) => {
                    let m = format!("not a Checkout Session: {e}");
                    return Ok((StatusCode::BAD_REQUEST, m).into_response());
                }
            };
            let settings = &state.settings;
            let clock = &state.clock;
            let (done, mails) = crate::db::transaction(&mut db, async |tx| {
                let studio = Studio::load(tx).await?;
                online::complete(tx, settings, &studio, clock, &session).await
            })
            .await?;
            for m in mails {
                m.send(&state.db, &state.clock);
            }
            match done {
                Completion::Recorded { .. } => "recorded",
                Completion::AlreadyRecorded => "already recorded",
                Completion::Ignored => "ignored",
            }
        }
        "checkout.session.expired" => {
            if let Some(id) = event.data.object.get("id").and_then(|v| v.as_str()) {
                crate::db::transaction(&mut db, async |tx| online::expired(tx, id).await).await?;
            }
            "expired"
        }
        _ => "ignored",
    };
    tracing::info!(event = %event.id, kind = %event.kind, outcome, "Stripe webhook");
    Ok(Json(serde_json::json!({ "received": true, "outcome": outcome })).into_response())
}
