//! Login throttling, built so that it cannot be used to lock someone out:
//! - 5 failures in 15 minutes for one account from one IP address, or from one IP address
//!   whatever the account, and further tries from that IP get 429 with Retry-After;
//! - 50 failures in 15 minutes for one account from anywhere (a spread-out guessing attack)
//!   close the account to every IP address except those that logged into it in the last 90
//!   days, so its owner still gets in from their usual places.
//!
//! Asking for a password reset link is throttled too (`admit_reset`), per account and address
//! and per address, never for an account from everywhere.
//!
//! Attempts are rows in login_attempts; an advisory lock per account and per IP makes
//! concurrent tries count one after another.
use crate::error::{AppError, AppResult};

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_SECS: i64 = 15 * 60;
/// Failures for one account from all addresses that close it to unknown addresses.
pub const MAX_ACCOUNT_FAILURES: i64 = 50;
/// How long an address that logged into an account stays known for it.
pub const KNOWN_IP_DAYS: i32 = 90;

/// Seconds until the oldest failure that keeps a key over its limit leaves the window (NULL:
/// no key is over): ($1 realm, $2 account, $3 IP, $4 window, $5 per-key limit, $6 account-wide
/// limit, $7 days an address stays known).
const WAIT: &str = "SELECT max(w)::float8 FROM (
           SELECT extract(epoch FROM (attempted_at + make_interval(secs => $4) - now())) AS w
           FROM (SELECT attempted_at, row_number() OVER (ORDER BY attempted_at DESC) AS n
                 FROM login_attempts WHERE realm = $1 AND account = $2 AND ip = $3
                   AND NOT succeeded AND attempted_at > now() - make_interval(secs => $4)) a
           WHERE n = $5
           UNION ALL
           SELECT extract(epoch FROM (attempted_at + make_interval(secs => $4) - now()))
           FROM (SELECT attempted_at, row_number() OVER (ORDER BY attempted_at DESC) AS n
                 FROM login_attempts WHERE realm = $1 AND account = $2 AND NOT succeeded
                   AND attempted_at > now() - make_interval(secs => $4)) c
           WHERE n = $6 AND NOT EXISTS (
             SELECT 1 FROM login_attempts k
             WHERE k.realm = $1 AND k.account = $2 AND k.ip = $3 AND k.succeeded
               AND k.attempted_at > now() - make_interval(days => $7))
           UNION ALL
           SELECT extract(epoch FROM (attempted_at + make_interval(secs => $4) - now()))
           FROM (SELECT attempted_at, row_number() OVER (ORDER BY attempted_at DESC) AS n
                 FROM login_attempts WHERE ip = $3 AND NOT succeeded
                   AND attempted_at > now() - make_interval(secs => $4)) b WHERE n = $5
         ) x";

/// Refuse when the account or the IP is over the limit; otherwise record the attempt as failed
/// (until `succeeded` says otherwise) and return its id.
pub async fn begin_attempt(
    db: &mut sqlx::PgConnection,
    realm: &str,
    account: &str,
    ip: &str,
) -> AppResult<i64> {
    let mut tx = sqlx::Connection::begin(db).await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('login-account:' || $1 || ':' || $2))")
        .bind(realm)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('login-ip:' || $1))")
        .bind(ip)
        .execute(&mut *tx)
        .await?;
    let wait: Option<f64> = sqlx::query_scalar(WAIT)
        .bind(realm)
        .bind(account)
        .bind(ip)
        .bind(WINDOW_SECS as f64)
        .bind(MAX_FAILURES)
        .bind(MAX_ACCOUNT_FAILURES)
        .bind(KNOWN_IP_DAYS)
        .fetch_one(&mut *tx)
        .await?;
    if let Some(w) = wait {
        tx.rollback().await?;
        return Err(AppError::RateLimited {
            retry_after_secs: (w.ceil() as u64).max(1),
        });
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO login_attempts (realm, account, ip) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(realm)
    .bind(account)
    .bind(ip)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn succeeded(tx: &mut sqlx::PgConnection, attempt: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_attempts SET succeeded = true WHERE id = $1")
        .bind(attempt)
        .execute(tx)
        .await?;
    Ok(())
}

/// Reset links one account may ask for from one address in the window.
pub const MAX_RESETS: i64 = 5;
/// Reset links one address may ask for in the window, whatever the accounts.
pub const MAX_RESETS_PER_IP: i64 = 20;

/// Asking for a password reset link (`realm`: "staff-reset" or "portal-reset"), in the caller's
/// transaction: 429 beyond `MAX_RESETS` for one account from one address, or
/// `MAX_RESETS_PER_IP` from one address, in the window. Counted whether or not the account
/// exists, so that a refusal says nothing about it; recorded as `succeeded`, so that it never
/// counts as a failed login (and the address's logins are not slowed by it). Nobody else's
/// requests count against an account's owner: they cannot be kept from asking.
pub async fn admit_reset(
    tx: &mut sqlx::PgConnection,
    realm: &str,
    account: &str,
    ip: &str,
) -> AppResult<()> {
    let account: String = account.chars().take(255).collect();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('reset-ip:' || $1))")
        .bind(ip)
        .execute(&mut *tx)
        .await?;
    let wait: Option<f64> = sqlx::query_scalar(
        "SELECT max(w)::float8 FROM (
           SELECT extract(epoch FROM (attempted_at + make_interval(secs => $4) - now())) AS w
           FROM (SELECT attempted_at, row_number() OVER (ORDER BY attempted_at DESC) AS n
                 FROM login_attempts WHERE realm = $1 AND ip = $3 AND account = $2
                   AND attempted_at > now() - make_interval(secs => $4)) a
           WHERE n = $5
           UNION ALL
           SELECT extract(epoch FROM (attempted_at + make_interval(secs => $4) - now()))
           FROM (SELECT attempted_at, row_number() OVER (ORDER BY attempted_at DESC) AS n
                 FROM login_attempts WHERE realm = $1 AND ip = $3
                   AND attempted_at > now() - make_interval(secs => $4)) b
           WHERE n = $6) x",
    )
    .bind(realm)
    .bind(&account)
    .bind(ip)
    .bind(WINDOW_SECS as f64)
    .bind(MAX_RESETS)
    .bind(MAX_RESETS_PER_IP)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(w) = wait {
        return Err(AppError::RateLimited {
            retry_after_secs: (w.ceil() as u64).max(1),
        });
    }
    sqlx::query(
        "INSERT INTO login_attempts (realm, account, ip, succeeded) VALUES ($1, $2, $3, true)",
    )
    .bind(realm)
    .bind(&account)
    .bind(ip)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
