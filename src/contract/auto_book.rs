//! The studio's setting for when a quote books itself (`studio_settings.auto_book`): by hand
//! only, or on the contract's last signature (the couple's signers, then the studio's
//! countersignature). Booking itself is `quote::booking`; the quote area reads this setting when
//! the last signature lands (`quote::auto_book`), since contract may not call quote. When the
//! last signature could not book the quote, the reason is kept on the contract for its page.
use crate::audit;
use crate::error::{AppError, AppResult};
use sqlx::PgConnection;

/// When booking happens by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoBook {
    /// Staff book by hand (the quote's Book button).
    Manual,
    /// The contract's last signature books the quote, in the same transaction.
    OnSignatures,
}

impl AutoBook {
    pub const ALL: [AutoBook; 2] = [AutoBook::OnSignatures, AutoBook::Manual];

    /// The value stored in `studio_settings.auto_book`.
    pub fn name(self) -> &'static str {
        match self {
            AutoBook::Manual => "manual",
            AutoBook::OnSignatures => "on_signatures",
        }
    }

    /// The choice, in people's words.
    pub fn label(self) -> &'static str {
        match self {
            AutoBook::OnSignatures => "When the contract is signed by everyone",
            AutoBook::Manual => "Only when someone on the team books it",
        }
    }

    /// What the choice does.
    pub fn explanation(self) -> &'static str {
        match self {
            AutoBook::OnSignatures => {
                "When the couple's signers have signed and the studio countersigns, the quote is \
                 booked at once: the client and the project are made, the deposit and balance \
                 invoices are issued and the couple is invited to the portal. If it cannot be \
                 booked (no wedding date, for instance), the signature still counts and the \
                 contract's page says why."
            }
            AutoBook::Manual => {
                "A fully signed contract waits until someone presses Book on the quote."
            }
        }
    }

    pub fn parse(name: &str) -> Option<AutoBook> {
        AutoBook::ALL.into_iter().find(|a| a.name() == name.trim())
    }
}

/// The setting as it is.
pub async fn setting(conn: &mut PgConnection) -> AppResult<AutoBook> {
    let name: String = sqlx::query_scalar("SELECT auto_book FROM studio_settings")
        .fetch_one(conn)
        .await?;
    AutoBook::parse(&name)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown auto_book {name:?}")))
}

/// Change the setting (422 by the field `auto_book` for an unknown value), audited with the
/// value before and after.
pub async fn save(tx: &mut PgConnection, value: &str, actor: i32) -> AppResult<AutoBook> {
    let chosen = AutoBook::parse(value)
        .ok_or_else(|| AppError::field("auto_book", "choose one of the options listed"))?;
    let before = setting(tx).await?;
    sqlx::query("UPDATE studio_settings SET auto_book = $1, updated_at = now()")
        .bind(chosen.name())
        .execute(&mut *tx)
        .await?;
    audit::record(
        tx,
        Some(actor),
        "settings.auto_book.update",
        "studio_settings",
        None,
        serde_json::json!({ "before": before.name(), "after": chosen.name() }),
    )
    .await?;
    Ok(chosen)
}

/// The last signature could not book the quote: keep why on its contract in force.
pub async fn note_not_booked(tx: &mut PgConnection, build: i32, why: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE contracts SET auto_book_note = $2 WHERE build_id = $1 AND voided_at IS NULL",
    )
    .bind(build)
    .bind(why)
    .execute(tx)
    .await?;
    Ok(())
}
