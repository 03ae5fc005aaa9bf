//! The API's `Idempotency-Key` header: the first successful answer to a key (per API caller) is
//! stored in the same transaction as the change it reports and replayed for 24 hours; the same
//! key with other parameters is a 422. Two requests with one key at once: the second waits on
//! the first's row (the primary key) and then replays its answer, so the change happens once.
//! A refused request (4xx) changes nothing and stores nothing: the key stays free to retry.
use crate::error::{AppError, AppResult};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

/// The header's name.
pub const HEADER: &str = "Idempotency-Key";

/// A stored answer to replay.
#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    pub status: i16,
    pub body: serde_json::Value,
}

/// A key as sent: 1 to 255 visible ASCII characters, else a 422 naming the header.
pub fn key(raw: Option<&axum::http::HeaderValue>) -> AppResult<Option<String>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let ok = raw
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    match ok {
        Some(k) => Ok(Some(k.to_string())),
        None => Err(AppError::field(
            HEADER,
            "a key is 1 to 255 visible ASCII characters (a UUID, say)",
        )),
    }
}

/// What identifies the request's parameters: the operation and its normalized input.
pub fn fingerprint(operation: &str, params: &serde_json::Value) -> String {
    let digest = Sha256::digest(format!("{operation}\n{params}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Claim `key` for this request, or find its answer: None when the request is to run (the
/// claim is held until the transaction ends; `finish` stores the answer), Some to replay. The
/// same key with another fingerprint within 24 hours is a 422.
pub async fn claim(
    tx: &mut PgConnection,
    who: i32,
    key: &str,
    fingerprint: &str,
) -> AppResult<Option<Stored>> {
    let claimed: Option<i32> = sqlx::query_scalar(
        "INSERT INTO api_idempotency (contributor_id, idempotency_key, request_sha256, status,
                                      body)
         VALUES ($1, $2, $3, 0, 'null')
         ON CONFLICT (contributor_id, idempotency_key) DO UPDATE
           SET request_sha256 = EXCLUDED.request_sha256, status = 0, body = 'null',
               created_at = now()
           WHERE api_idempotency.created_at < now() - interval '24 hours'
         RETURNING 1",
    )
    .bind(who)
    .bind(key)
    .bind(fingerprint)
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_some() {
        return Ok(None);
    }
    let (sha, stored): (String, Stored) = sqlx::query_as(
        "SELECT request_sha256, status, body FROM api_idempotency
         WHERE contributor_id = $1 AND idempotency_key = $2",
    )
    .bind(who)
    .bind(key)
    .fetch_one(&mut *tx)
    .await
    .map(|r: (String, i16, serde_json::Value)| {
        (
            r.0,
            Stored {
                status: r.1,
                body: r.2,
            },
        )
    })?;
    if sha != fingerprint {
        return Err(AppError::field(
            HEADER,
            "this key was used in the last 24 hours with other parameters: send a new key \
             for a new request",
        ));
    }
    Ok(Some(stored))
}

/// Store the answer of the request that claimed `key`.
pub async fn finish(
    tx: &mut PgConnection,
    who: i32,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE api_idempotency SET status = $3, body = $4
         WHERE contributor_id = $1 AND idempotency_key = $2",
    )
    .bind(who)
    .bind(key)
    .bind(status as i16)
    .bind(body)
    .execute(tx)
    .await?;
    Ok(())
}

/// Forget answers older than 24 hours (the nightly job).
pub async fn purge(conn: &mut PgConnection) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM api_idempotency WHERE created_at < now() - interval '24 hours'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
