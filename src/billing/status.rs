//! An invoice's status, moved by one pure rule (`status`) from its total, what is paid (net of
//! refunds), its due date, the studio's today and whether it is void. Stored in
//! `invoices.status` (text, as the spec has it) and rewritten by every payment, refund, void
//! and the overdue sweep, always from this rule.
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[schema(as = InvoiceStatus)]
pub enum InvoiceStatus {
    /// Not sent yet: takes no payment.
    Draft,
    /// Sent, nothing paid, not yet due (or due today).
    Sent,
    #[serde(rename = "Partially Paid")]
    PartiallyPaid,
    /// Nothing more owed (a credit note: all of it applied).
    Paid,
    /// Past its due date with something still owed.
    Overdue,
    /// Cancelled with a reason; takes no payment.
    Void,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 6] = [
        InvoiceStatus::Draft,
        InvoiceStatus::Sent,
        InvoiceStatus::PartiallyPaid,
        InvoiceStatus::Paid,
        InvoiceStatus::Overdue,
        InvoiceStatus::Void,
    ];

    /// As the database and the pages spell it, e.g. "Partially Paid".
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "Draft",
            InvoiceStatus::Sent => "Sent",
            InvoiceStatus::PartiallyPaid => "Partially Paid",
            InvoiceStatus::Paid => "Paid",
            InvoiceStatus::Overdue => "Overdue",
            InvoiceStatus::Void => "Void",
        }
    }

    /// Whether it can still be paid (or, a credit note, applied).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            InvoiceStatus::Sent | InvoiceStatus::PartiallyPaid | InvoiceStatus::Overdue
        )
    }
}

impl FromStr for InvoiceStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<InvoiceStatus, String> {
        InvoiceStatus::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not an invoice status"))
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is still owed: the total less what is paid (for a credit note, a negative amount: the
/// credit not yet applied).
pub fn owed(total: Decimal, paid: Decimal) -> Decimal {
    total - paid
}

/// The status of an issued invoice (a draft stays Draft until it is sent):
/// - void: Void, whatever else;
/// - nothing owed (or, a credit note, all of it applied): Paid;
/// - something owed and the due date passed (before `today`, the studio's local date): Overdue
///   (a partly paid invoice too: what is left is late). A credit note is never overdue;
/// - something paid: Partially Paid;
/// - else Sent.
pub fn status(
    total: Decimal,
    paid: Decimal,
    due: Option<NaiveDate>,
    today: NaiveDate,
    void: bool,
) -> InvoiceStatus {
    let left = owed(total, paid);
    if void {
        InvoiceStatus::Void
    } else if left.is_zero() || (total > Decimal::ZERO && left < Decimal::ZERO) {
        InvoiceStatus::Paid
    } else if total > Decimal::ZERO && due.is_some_and(|d| d < today) {
        InvoiceStatus::Overdue
    } else if !paid.is_zero() {
        InvoiceStatus::PartiallyPaid
    } else {
        InvoiceStatus::Sent
    }
}

#[cfg(test)]
mod tests {
    use super::InvoiceStatus::*;
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, dd).unwrap()
    }

    #[test]
    fn an_invoice_moves_from_sent_through_partly_paid_to_paid() {
        let (due, today) = (Some(day(6, 1)), day(5, 1));
        assert_eq!(status(d("1000"), d("0"), due, today, false), Sent);
        assert_eq!(
            status(d("1000"), d("0.01"), due, today, false),
            PartiallyPaid
        );
        assert_eq!(
            status(d("1000"), d("999.99"), due, today, false),
            PartiallyPaid
        );
        assert_eq!(status(d("1000"), d("1000.00"), due, today, false), Paid);
    }

    #[test]
    fn overdue_is_the_day_after_the_due_date_while_anything_is_owed() {
        let due = Some(day(6, 1));
        assert_eq!(status(d("500"), d("0"), due, day(6, 1), false), Sent);
        assert_eq!(status(d("500"), d("0"), due, day(6, 2), false), Overdue);
        assert_eq!(status(d("500"), d("200"), due, day(6, 2), false), Overdue);
        assert_eq!(status(d("500"), d("500"), due, day(6, 2), false), Paid);
        assert_eq!(status(d("500"), d("0"), None, day(6, 2), false), Sent);
    }

    #[test]
    fn a_refund_moves_a_paid_invoice_back() {
        let (due, today) = (Some(day(6, 1)), day(5, 1));
        // Paid 500, then 200 refunded: 300 net.
        assert_eq!(status(d("500"), d("300"), due, today, false), PartiallyPaid);
        assert_eq!(status(d("500"), d("0"), due, today, false), Sent);
        assert_eq!(status(d("500"), d("300"), due, day(7, 1), false), Overdue);
    }

    #[test]
    fn void_wins_over_everything() {
        for paid in ["0", "200", "500"] {
            let s = status(d("500"), d(paid), Some(day(1, 1)), day(6, 1), true);
            assert_eq!(s, Void);
        }
    }

    #[test]
    fn a_credit_note_is_sent_until_applied_and_never_overdue() {
        let (due, late) = (Some(day(6, 1)), day(9, 1));
        assert_eq!(status(d("-75"), d("0"), due, late, false), Sent);
        assert_eq!(status(d("-75"), d("-25"), due, late, false), PartiallyPaid);
        assert_eq!(status(d("-75"), d("-75"), due, late, false), Paid);
        assert_eq!(status(d("0"), d("0"), due, late, false), Paid);
    }

    #[test]
    fn statuses_read_back_from_their_words() {
        for s in InvoiceStatus::ALL {
            assert_eq!(s.as_str().parse::<InvoiceStatus>(), Ok(s));
        }
        assert!("Paid ".parse::<InvoiceStatus>().is_err());
        assert!(Overdue.is_open() && PartiallyPaid.is_open() && Sent.is_open());
        assert!(!Paid.is_open() && !Void.is_open() && !Draft.is_open());
    }
}
