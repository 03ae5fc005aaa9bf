//! The contract's last signature books the quote, when the studio's setting says so
//! (`contract::auto_book`). This lives in quote because booking is quote's and contract may not
//! call quote (no module cycles): the one handler that can land the last signature, the
//! studio's countersignature (the studio always signs last), is quote's
//! (`contract_pages::countersign`), and calls `after_signature` in the signature's transaction.
//!
//! Booking runs inside a savepoint: when it cannot book (no wedding date, the quote not in a
//! bookable state, an unexpected error), only the booking is rolled back, the signature stands,
//! and the reason is kept on the contract (its page shows it), audited, and told to Owners and
//! Sales, who can then book by hand. A quote already booked (staff booked it on the couple's
//! behalf before the signatures) is left as it is.
use super::booking::{self, Booked, Booker};
use crate::clock::Clock;
use crate::config::Settings;
use crate::contract::auto_book::{self as setting, AutoBook};
use crate::error::{AppError, AppResult};
use crate::notify::{self, Kind, Mails};
use crate::studio::Studio;
use crate::{audit, contract};
use sqlx::{Acquire, PgConnection};

/// What the signature did about booking.
pub enum AfterSignature {
    /// The contract still waits for a signature.
    NotFullySigned,
    /// Fully signed; the studio books by hand.
    Manual,
    /// Fully signed; the quote was booked before.
    AlreadyBooked,
    /// Fully signed and booked now. Send its emails after the commit.
    Booked(Box<Booked>),
    /// Fully signed, but booking failed for this reason (kept on the contract). Send the
    /// notification emails after the commit.
    NotBooked(String, Mails),
}

impl AfterSignature {
    /// Send the emails it queued (after the commit).
    pub fn send(self, pool: &sqlx::PgPool, clock: &crate::clock::Clock) {
        match self {
            AfterSignature::Booked(b) => b.send(pool, clock),
            AfterSignature::NotBooked(_, mails) => mails.send(pool, clock),
            _ => {}
        }
    }
}

/// A signature of `build`'s contract has just been written in `tx`: when that made the contract
/// fully signed and the setting is `on_signatures`, book the quote in the same transaction.
pub async fn after_signature(
    tx: &mut PgConnection,
    settings: Option<&Settings>,
    studio: &Studio,
    clock: &Clock,
    build: i32,
) -> AppResult<AfterSignature> {
    if !contract::fully_signed(tx, build).await? {
        return Ok(AfterSignature::NotFullySigned);
    }
    if setting::setting(tx).await? == AutoBook::Manual {
        return Ok(AfterSignature::Manual);
    }
    let booked: bool =
        sqlx::query_scalar("SELECT project_id IS NOT NULL FROM builds WHERE id = $1")
            .bind(build)
            .fetch_one(&mut *tx)
            .await?;
    if booked {
        return Ok(AfterSignature::AlreadyBooked);
    }
    let mut savepoint = tx.begin().await?;
    let result = booking::book(
        &mut savepoint,
        settings,
        studio,
        clock,
        build,
        Booker::LastSignature,
    )
    .await;
    let error = match result {
        Ok(booked) => {
            savepoint.commit().await?;
            return Ok(AfterSignature::Booked(Box::new(booked)));
        }
        Err(e) => {
            savepoint.rollback().await?;
            e
        }
    };
    let why = match error {
        AppError::Conflict(m) | AppError::NotFound(m) | AppError::Forbidden(m) => m,
        AppError::BadRequest { message, .. } => message,
        AppError::Validation { errors, message } => errors
            .first()
            .map_or(message, |e| format!("{}: {}", e.field, e.message)),
        other => {
            tracing::error!(build, error = ?other, "booking on the last signature failed");
            "an unexpected error (logged on the server)".into()
        }
    };
    setting::note_not_booked(tx, build, &why).await?;
    audit::record(
        tx,
        None,
        "builds.auto_book.fail",
        "build",
        Some(build),
        serde_json::json!({ "reason": why }),
    )
    .await?;
    let defaults;
    let settings = match settings {
        Some(s) => s,
        None => {
            defaults = Settings::defaults();
            &defaults
        }
    };
    let mails = notify::staff(
        tx,
        settings,
        clock.now(),
        Kind::Booked,
        &["Owner", "Sales"],
        &format!(
            "The contract for quote #{build} is signed by everyone, but the quote could not be \
             booked automatically: {why}. Book it from the quote once that is fixed."
        ),
        &format!("/quotes/{build}/contract"),
    )
    .await?;
    Ok(AfterSignature::NotBooked(why, mails))
}
