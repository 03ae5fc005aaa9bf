//! Money: `Decimal`, rounded to cents half away from zero, shown in the studio's currency; the
//! tax on an amount and the payment schedule of a price (one rule for the proposal the couple
//! reads, the contract they sign and the invoices booking issues).
use chrono::{Days, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

/// Round to cents, half away from zero (decisions.md).
/// Always two decimals, so `450` and `450.00` read (and serialize) the same.
pub fn cents(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// `1234.5` in USD -> `$1,234.50`; unknown codes show the code: `CHF 1,234.50`.
pub fn format(amount: Decimal, currency: &str) -> String {
    let a = cents(amount);
    let neg = a.is_sign_negative() && !a.is_zero();
    let s = format!("{:.2}", a.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let grouped = group(int);
    let symbol = match currency {
        "USD" | "CAD" | "AUD" | "NZD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        _ => "",
    };
    let body = if symbol.is_empty() {
        format!("{currency} {grouped}.{frac}")
    } else {
        format!("{symbol}{grouped}.{frac}")
    };
    if neg { format!("-{body}") } else { body }
}

/// Digits in groups of three: `20003` -> `20,003`.
fn group(digits: &str) -> String {
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// A count as people read it: `60007` -> `60,007` (by value or by reference, for templates).
pub fn count(n: impl std::borrow::Borrow<i64>) -> String {
    let n = *n.borrow();
    let digits = group(&n.unsigned_abs().to_string());
    if n < 0 { format!("-{digits}") } else { digits }
}

/// The tax on an amount at a percent rate, rounded to the cent.
pub fn tax(amount: Decimal, rate_percent: Decimal) -> Decimal {
    cents(amount * rate_percent / Decimal::ONE_HUNDRED)
}

/// One payment of a schedule: its amount before tax, the tax on it, and when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instalment {
    pub description: &'static str,
    pub amount: Decimal,
    pub tax: Decimal,
    pub due: NaiveDate,
}

impl Instalment {
    /// What the couple pays: the amount and its tax.
    pub fn total(&self) -> Decimal {
        self.amount + self.tax
    }
}

/// The payment schedule of a price (before tax): the deposit (the studio's percent, rounded to
/// the cent half away from zero) due on booking, and the rest due `balance_days` before the
/// wedding (on booking when that day has passed). The tax is the rate on the whole price,
/// split the same way (the deposit's tax rounded, the balance's the rest), so both the amounts
/// and the taxes add up to the price and its tax exactly. An instalment of nothing is left out.
pub fn schedule(
    price: Decimal,
    tax_rate_percent: Decimal,
    deposit_percent: Decimal,
    booked_on: NaiveDate,
    wedding: NaiveDate,
    balance_days: i32,
) -> Vec<Instalment> {
    let [(deposit, deposit_tax), (balance, balance_tax)] =
        split(price, tax_rate_percent, deposit_percent);
    let balance_due = balance_due(wedding, booked_on, balance_days);
    [
        ("Deposit", deposit, deposit_tax, booked_on),
        ("Balance", balance, balance_tax, balance_due),
    ]
    .into_iter()
    .filter(|(_, amount, tax, _)| *amount + *tax > Decimal::ZERO)
    .map(|(description, amount, tax, due)| Instalment {
        description,
        amount,
        tax,
        due,
    })
    .collect()
}

/// The deposit and the balance of a price, each (amount before tax, its tax): the deposit is
/// the percent of the price rounded to the cent half away from zero, its tax the rate on it;
/// the balance is the rest of each, so both add up exactly.
pub fn split(
    price: Decimal,
    tax_rate_percent: Decimal,
    deposit_percent: Decimal,
) -> [(Decimal, Decimal); 2] {
    let price = cents(price);
    let deposit = cents(price * deposit_percent / Decimal::ONE_HUNDRED).min(price);
    let total_tax = tax(price, tax_rate_percent);
    let deposit_tax = tax(deposit, tax_rate_percent).min(total_tax);
    [
        (deposit, deposit_tax),
        (price - deposit, total_tax - deposit_tax),
    ]
}

/// When the balance is due: `balance_days` before the wedding, or `today` when that has passed.
pub fn balance_due(wedding: NaiveDate, today: NaiveDate, balance_days: i32) -> NaiveDate {
    wedding
        .checked_sub_days(Days::new(balance_days.max(0) as u64))
        .unwrap_or(wedding)
        .max(today)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::count(0), "0");
        assert_eq!(super::count(999), "999");
        assert_eq!(super::count(20003), "20,003");
        assert_eq!(super::count(-1234567), "-1,234,567");
    }

    use super::*;
    use std::str::FromStr;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(
            cents(Decimal::from_str("2.345").unwrap()).to_string(),
            "2.35"
        );
        assert_eq!(
            cents(Decimal::from_str("-2.345").unwrap()).to_string(),
            "-2.35"
        );
        assert_eq!(
            cents(Decimal::from_str("2.344").unwrap()).to_string(),
            "2.34"
        );
    }

    #[test]
    fn formats_in_the_studio_currency() {
        assert_eq!(
            format(Decimal::from_str("1234567.5").unwrap(), "USD"),
            "$1,234,567.50"
        );
        assert_eq!(format(Decimal::from_str("999").unwrap(), "EUR"), "€999.00");
        assert_eq!(
            format(Decimal::from_str("-12.345").unwrap(), "GBP"),
            "-£12.35"
        );
        assert_eq!(format(Decimal::ZERO, "CHF"), "CHF 0.00");
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_deposit_and_the_balance_add_up_to_the_price_and_its_tax_to_the_cent() {
        let dec = |s: &str| s.parse::<Decimal>().unwrap();
        let booked = day(2026, 11, 28);
        let wedding = day(2027, 6, 12);
        let plan = schedule(
            dec("5775.75"),
            Decimal::ZERO,
            dec("30"),
            booked,
            wedding,
            30,
        );
        // 30% of 5,775.75 = 1,732.725 -> 1,732.73 (half away from zero)
        assert_eq!(plan[0].amount, dec("1732.73"));
        assert_eq!(plan[0].due, booked);
        assert_eq!(plan[1].amount, dec("4043.02"));
        assert_eq!(plan[1].due, day(2027, 5, 13));
        // 8.25% of 1,000.00 = 82.50; of the 300.00 deposit 24.75, the balance's 57.75.
        let taxed = schedule(dec("1000"), dec("8.25"), dec("30"), booked, wedding, 30);
        assert_eq!((taxed[0].tax, taxed[1].tax), (dec("24.75"), dec("57.75")));
        for cents in [1_i64, 3, 99, 100, 123_457, 999_999] {
            for pct in [dec("0"), dec("12.5"), dec("33.33"), dec("50"), dec("100")] {
                for rate in [dec("0"), dec("7.25"), dec("20"), dec("33.33")] {
                    let price = Decimal::new(cents, 2);
                    let plan = schedule(price, rate, pct, booked, wedding, 30);
                    let sum: Decimal = plan.iter().map(|i| i.amount).sum();
                    let taxes: Decimal = plan.iter().map(|i| i.tax).sum();
                    assert_eq!(sum, price, "{price} at {pct}%");
                    assert_eq!(taxes, tax(price, rate), "{price} at {pct}%, tax {rate}%");
                    assert!(plan.iter().all(|i| i.total() > Decimal::ZERO));
                    assert!(plan.iter().all(|i| i.tax >= Decimal::ZERO));
                }
            }
        }
    }

    #[test]
    fn a_balance_due_before_booking_is_due_on_booking() {
        let booked = day(2026, 11, 28);
        let plan = schedule(
            Decimal::ONE_THOUSAND,
            Decimal::ZERO,
            Decimal::TEN,
            booked,
            day(2026, 12, 10),
            30,
        );
        assert_eq!(plan[1].due, booked);
    }
}
