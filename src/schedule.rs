//! Payment schedules, pure: a template's parts (each an amount and a due rule) checked, and
//! turned into the instalments of a price (the templates as the studio keeps them are
//! `crate::payment_schedules`). One rule for the proposal the couple reads, the
//! contract they sign and the invoices booking issues.
//!
//! The arithmetic: the price and its tax are rounded to the cent once; percent and fixed parts
//! are taken in order, each at most what is left; "the rest" takes what is left after all of
//! them, wherever it stands; a monthly part is split into equal cents (rounded toward zero),
//! its last payment taking the remainder. The tax of each payment is the rate on its amount,
//! at most the tax left, and the last payment takes the tax left: so the amounts always add up
//! to the price and the taxes to the tax, to the cent (a property test below). Payments of
//! nothing are left out. No payment is due before the booking day.
use crate::error::{AppError, AppResult};
use crate::money::cents;
use chrono::{Days, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// How much a part is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Amount {
    /// A percent of the price (before tax).
    Percent { value: Decimal },
    /// A fixed amount (before tax), at most what is left.
    Fixed { value: Decimal },
    /// What the other parts leave.
    Rest,
}

/// When a part is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Due {
    OnBooking,
    AfterBooking {
        days: i32,
    },
    BeforeWedding {
        days: i32,
    },
    OnDate {
        date: NaiveDate,
    },
    /// Equal monthly payments, the last `days` before the wedding, the first no earlier than
    /// the booking day.
    Monthly {
        days: i32,
    },
}

impl Due {
    /// The rule's name as invoices record it (`invoices.due_rule`).
    pub fn name(&self) -> &'static str {
        match self {
            Due::OnBooking => "on_booking",
            Due::AfterBooking { .. } => "after_booking",
            Due::BeforeWedding { .. } => "before_wedding",
            Due::OnDate { .. } => "on_date",
            Due::Monthly { .. } => "monthly",
        }
    }

    /// Whether moving the wedding moves it.
    pub fn follows_wedding(&self) -> bool {
        matches!(self, Due::BeforeWedding { .. } | Due::Monthly { .. })
    }

    /// In words: "on booking", "30 days before the wedding".
    pub fn words(&self) -> String {
        match self {
            Due::OnBooking => "on booking".into(),
            Due::AfterBooking { days } => format!("{days} days after booking"),
            Due::BeforeWedding { days } => format!("{days} days before the wedding"),
            Due::OnDate { date } => format!("on {}", date.format("%B %-d, %Y")),
            Due::Monthly { days } => {
                format!("monthly, the last {days} days before the wedding")
            }
        }
    }
}

/// One part of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub label: String,
    pub amount: Amount,
    pub due: Due,
}

impl Amount {
    pub fn words(&self) -> String {
        match self {
            Amount::Percent { value } => format!("{}%", value.normalize()),
            Amount::Fixed { value } => format!("{} (fixed)", cents(*value)),
            Amount::Rest => "the rest".into(),
        }
    }
}

/// Longest a template may be, and the most days any rule may count.
pub const MAX_PARTS: usize = 8;
pub const MAX_DAYS: i32 = 3650;

/// A template's parts checked: 1 to 8 parts, each labelled, exactly one "the rest", percents
/// from 0 to 100 adding up to at most 100, fixed amounts not negative, days from 0 to 3650.
/// Errors name the field (`label_N`, `amount_N`, `days_N`, `date_N`, `parts`).
pub fn check(parts: &[Part]) -> AppResult<()> {
    if parts.is_empty() || parts.len() > MAX_PARTS {
        return Err(AppError::field(
            "parts",
            format!("a schedule has from 1 to {MAX_PARTS} payments"),
        ));
    }
    let mut percents = Decimal::ZERO;
    for (n, p) in parts.iter().enumerate() {
        let label = p.label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(AppError::field(
                &format!("label_{n}"),
                "name the payment (up to 100 characters)",
            ));
        }
        match p.amount {
            Amount::Percent { value } if value <= Decimal::ZERO || value > Decimal::ONE_HUNDRED => {
                return Err(AppError::field(
                    &format!("amount_{n}"),
                    "a percent more than 0 and at most 100",
                ));
            }
            Amount::Percent { value } => percents += value,
            Amount::Fixed { value }
                if value <= Decimal::ZERO || value >= Decimal::from(100_000_000) =>
            {
                return Err(AppError::field(
                    &format!("amount_{n}"),
                    "an amount more than 0",
                ));
            }
            _ => {}
        }
        let days = match p.due {
            Due::AfterBooking { days } | Due::BeforeWedding { days } | Due::Monthly { days } => {
                days
            }
            _ => 0,
        };
        if !(0..=MAX_DAYS).contains(&days) {
            return Err(AppError::field(
                &format!("days_{n}"),
                format!("a number of days from 0 to {MAX_DAYS}"),
            ));
        }
    }
    if parts.iter().filter(|p| p.amount == Amount::Rest).count() != 1 {
        return Err(AppError::field(
            "parts",
            "exactly one payment is \"the rest\", so the payments always add up to the price",
        ));
    }
    if percents > Decimal::ONE_HUNDRED {
        return Err(AppError::field(
            "parts",
            "the percents add up to more than 100",
        ));
    }
    Ok(())
}

/// One payment of a schedule: its amount before tax, the tax on it, when it is due and by
/// which rule (`months`: a monthly payment's months before the last one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instalment {
    pub description: String,
    pub amount: Decimal,
    pub tax: Decimal,
    pub due: NaiveDate,
    pub rule: Due,
    pub months: i32,
    /// The index of the template's part it comes from.
    pub part: usize,
}

impl Instalment {
    /// What the couple pays: the amount and its tax.
    pub fn total(&self) -> Decimal {
        self.amount + self.tax
    }
}

/// The day a rule makes due, never before the booking day (`months`: for a monthly payment,
/// how many months before its last one).
pub fn due_day(rule: Due, months: i32, booked: NaiveDate, wedding: NaiveDate) -> NaiveDate {
    let before = |days: i32| {
        wedding
            .checked_sub_days(Days::new(days.max(0) as u64))
            .unwrap_or(wedding)
    };
    let day = match rule {
        Due::OnBooking => booked,
        Due::AfterBooking { days } => booked
            .checked_add_days(Days::new(days.max(0) as u64))
            .unwrap_or(booked),
        Due::BeforeWedding { days } => before(days),
        Due::OnDate { date } => date,
        Due::Monthly { days } => before(days)
            .checked_sub_months(Months::new(months.max(0) as u32))
            .unwrap_or(booked),
    };
    day.max(booked)
}

/// How many monthly payments fit between the booking day and the last (at least one, at most
/// 120): the last, and each a month earlier while it is not before the booking day.
fn months_between(last: NaiveDate, booked: NaiveDate) -> i32 {
    let mut n = 1;
    while n < 120 {
        match last.checked_sub_months(Months::new(n as u32)) {
            Some(d) if d >= booked => n += 1,
            _ => break,
        }
    }
    n
}

/// The instalments of a price (before tax) and the tax on it (on its taxable lines), booked on
/// `booked` for a wedding on `wedding`, in the template's order (a monthly part's payments in
/// date order). Each carries its share of the tax, in proportion to its amount.
pub fn instalments(
    parts: &[Part],
    price: Decimal,
    total_tax: Decimal,
    booked: NaiveDate,
    wedding: NaiveDate,
) -> Vec<Instalment> {
    let price = cents(price);
    let total_tax = cents(total_tax).max(Decimal::ZERO);
    // First each part's amount: percents and fixed amounts in order, then the rest.
    let mut left = price;
    let mut amounts: Vec<Decimal> = parts
        .iter()
        .map(|p| {
            let want = match &p.amount {
                Amount::Percent { value } => cents(price * value / Decimal::ONE_HUNDRED),
                Amount::Fixed { value } => cents(*value),
                Amount::Rest => return Decimal::ZERO,
            };
            let take = want.max(Decimal::ZERO).min(left);
            left -= take;
            take
        })
        .collect();
    match parts.iter().position(|p| p.amount == Amount::Rest) {
        Some(rest) => amounts[rest] = left,
        // Unchecked templates without a rest: the last part takes what is left.
        None => {
            if let Some(last) = amounts.last_mut() {
                *last += left;
            }
        }
    }
    // Then the payments, a monthly part split into equal cents.
    let mut out = vec![];
    for (part, (p, amount)) in parts.iter().zip(amounts).enumerate() {
        match p.due {
            Due::Monthly { .. } => {
                let last = due_day(p.due, 0, booked, wedding);
                let n = months_between(last, booked);
                let each =
                    (amount / Decimal::from(n)).round_dp_with_strategy(2, RoundingStrategy::ToZero);
                for k in (0..n).rev() {
                    let a = if k == 0 {
                        amount - each * Decimal::from(n - 1)
                    } else {
                        each
                    };
                    out.push(Instalment {
                        description: format!("{} ({} of {n})", p.label.trim(), n - k),
                        amount: cents(a),
                        tax: Decimal::ZERO,
                        due: due_day(p.due, k, booked, wedding),
                        rule: p.due,
                        months: k,
                        part,
                    });
                }
            }
            rule => out.push(Instalment {
                description: p.label.trim().to_string(),
                amount: cents(amount),
                tax: Decimal::ZERO,
                due: due_day(rule, 0, booked, wedding),
                rule,
                months: 0,
                part,
            }),
        }
    }
    out.retain(|i| i.amount > Decimal::ZERO);
    // The taxes: each its share of the tax, at most what is left; the last takes what is left.
    let mut tax_left = total_tax;
    let count = out.len();
    for (n, i) in out.iter_mut().enumerate() {
        i.tax = if n + 1 == count {
            tax_left
        } else {
            cents(total_tax * i.amount / price)
                .max(Decimal::ZERO)
                .min(tax_left)
        };
        tax_left -= i.tax;
    }
    out
}

/// "Deposit (30%)": an instalment's label with its part's percent, if it is one.
pub fn label(parts: &[Part], i: &Instalment) -> String {
    match parts.get(i.part).map(|p| &p.amount) {
        Some(Amount::Percent { value }) => format!("{} ({}%)", i.description, value.normalize()),
        _ => i.description.clone(),
    }
}

/// The built-in template: a deposit of a percent on booking, the rest N days before the
/// wedding (the studio settings' deposit and balance).
pub fn deposit_and_balance(deposit_percent: Decimal, balance_days: i32) -> Vec<Part> {
    vec![
        Part {
            label: "Deposit".into(),
            amount: Amount::Percent {
                value: deposit_percent,
            },
            due: Due::OnBooking,
        },
        Part {
            label: "Balance".into(),
            amount: Amount::Rest,
            due: Due::BeforeWedding { days: balance_days },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn part(label: &str, amount: Amount, due: Due) -> Part {
        Part {
            label: label.into(),
            amount,
            due,
        }
    }

    #[test]
    fn the_default_is_a_deposit_on_booking_and_the_balance_before_the_wedding() {
        let booked = day(2026, 11, 28);
        let parts = deposit_and_balance(dec("30"), 30);
        let plan = instalments(
            &parts,
            dec("5775.75"),
            Decimal::ZERO,
            booked,
            day(2027, 6, 12),
        );
        // 30% of 5,775.75 = 1,732.725 -> 1,732.73 (half away from zero)
        assert_eq!((plan[0].amount, plan[0].due), (dec("1732.73"), booked));
        assert_eq!(
            (plan[1].amount, plan[1].due),
            (dec("4043.02"), day(2027, 5, 13))
        );
        assert_eq!(plan[1].description, "Balance");
        // A tax of 82.50 (8.25% of 1,000.00): the 300.00 deposit's share 24.75, the balance's
        // 57.75. With only 600.00 taxable (tax 49.50): 14.85 and 34.65, in the same shares.
        let taxed = instalments(&parts, dec("1000"), dec("82.50"), booked, day(2027, 6, 12));
        assert_eq!((taxed[0].tax, taxed[1].tax), (dec("24.75"), dec("57.75")));
        let part_taxed = instalments(&parts, dec("1000"), dec("49.50"), booked, day(2027, 6, 12));
        assert_eq!(
            (part_taxed[0].tax, part_taxed[1].tax),
            (dec("14.85"), dec("34.65"))
        );
        // A balance due before booking is due on booking.
        let late = instalments(
            &parts,
            dec("1000"),
            Decimal::ZERO,
            booked,
            day(2026, 12, 10),
        );
        assert_eq!(late[1].due, booked);
    }

    #[test]
    fn a_monthly_rest_is_split_into_equal_cents_the_last_taking_the_remainder() {
        let parts = vec![
            part(
                "Retainer",
                Amount::Fixed { value: dec("500") },
                Due::OnBooking,
            ),
            part(
                "Venue deposit",
                Amount::Percent { value: dec("10") },
                Due::OnDate {
                    date: day(2027, 1, 15),
                },
            ),
            part("Monthly", Amount::Rest, Due::Monthly { days: 30 }),
        ];
        let booked = day(2026, 11, 28);
        let plan = instalments(&parts, dec("3000"), Decimal::ZERO, booked, day(2027, 6, 12));
        let dues: Vec<_> = plan.iter().map(|i| i.due).collect();
        // The last monthly payment May 13, then Apr 13, Mar 13, Feb 13, Jan 13, Dec 13.
        assert_eq!(
            dues,
            [
                booked,
                day(2027, 1, 15),
                day(2026, 12, 13),
                day(2027, 1, 13),
                day(2027, 2, 13),
                day(2027, 3, 13),
                day(2027, 4, 13),
                day(2027, 5, 13)
            ]
        );
        // 3000 - 500 - 300 = 2200 in 6: 366.66 x 5 and 366.70.
        assert_eq!(plan[2].amount, dec("366.66"));
        assert_eq!(plan[7].amount, dec("366.70"));
        assert_eq!(plan[7].description, "Monthly (6 of 6)");
        assert_eq!(plan[7].months, 0);
        assert_eq!(plan[2].months, 5);
    }

    #[test]
    fn templates_are_checked_by_the_field() {
        let rest = part("Balance", Amount::Rest, Due::OnBooking);
        assert!(check(std::slice::from_ref(&rest)).is_ok());
        assert!(check(&[]).is_err());
        assert!(check(&[rest.clone(), rest.clone()]).is_err());
        let over = part("Big", Amount::Percent { value: dec("101") }, Due::OnBooking);
        assert!(check(&[over, rest.clone()]).is_err());
        let two = part("Half", Amount::Percent { value: dec("60") }, Due::OnBooking);
        assert!(check(&[two.clone(), two, rest.clone()]).is_err());
        let far = part("Far", Amount::Rest, Due::AfterBooking { days: 4000 });
        assert!(check(&[far]).is_err());
        let blank = part(" ", Amount::Rest, Due::OnBooking);
        assert!(check(&[blank]).is_err());
    }

    fn amount() -> impl Strategy<Value = Amount> {
        prop_oneof![
            (0_i64..=10_000).prop_map(|p| Amount::Percent {
                value: Decimal::new(p, 2)
            }),
            (0_i64..=1_000_000).prop_map(|c| Amount::Fixed {
                value: Decimal::new(c, 2)
            }),
            Just(Amount::Rest),
        ]
    }

    fn due() -> impl Strategy<Value = Due> {
        prop_oneof![
            Just(Due::OnBooking),
            (0..400).prop_map(|days| Due::AfterBooking { days }),
            (0..400).prop_map(|days| Due::BeforeWedding { days }),
            (0..900_i64).prop_map(|d| Due::OnDate {
                date: day(2026, 6, 1) + chrono::Duration::days(d)
            }),
            (0..400).prop_map(|days| Due::Monthly { days }),
        ]
    }

    proptest! {
        #[test]
        fn instalments_add_up_to_the_price_and_the_tax_exactly(
            parts in proptest::collection::vec((amount(), due()), 1..6),
            rest_at in 0_usize..6,
            price_cents in 0_i64..100_000_000,
            rate in prop_oneof![Just(0_i64), 0_i64..5_000],
            booked_offset in 0_i64..400,
            wedding_offset in -30_i64..900,
        ) {
            let mut parts: Vec<Part> = parts
                .into_iter()
                .enumerate()
                .map(|(n, (amount, due))| {
                    let amount = if amount == Amount::Rest {
                        Amount::Fixed { value: Decimal::ONE }
                    } else {
                        amount
                    };
                    part(&format!("P{n}"), amount, due)
                })
                .collect();
            let at = rest_at.min(parts.len());
            parts.insert(at, part("Rest", Amount::Rest, Due::OnBooking));
            let price = Decimal::new(price_cents, 2);
            let rate = Decimal::new(rate, 2);
            let booked = day(2026, 6, 1) + chrono::Duration::days(booked_offset);
            let wedding = booked + chrono::Duration::days(wedding_offset);
            let tax = money::tax(price, rate);
            let plan = instalments(&parts, price, tax, booked, wedding);
            let sum: Decimal = plan.iter().map(|i| i.amount).sum();
            let taxes: Decimal = plan.iter().map(|i| i.tax).sum();
            prop_assert_eq!(sum, price);
            prop_assert_eq!(taxes, tax);
            for i in &plan {
                prop_assert!(i.amount > Decimal::ZERO);
                prop_assert!(i.tax >= Decimal::ZERO);
                prop_assert!(i.due >= booked);
                prop_assert_eq!(i.amount, cents(i.amount));
            }
        }
    }
}
