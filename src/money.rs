//! Money: `Decimal`, rounded to cents half away from zero, shown in the studio's currency; the
//! tax on an amount (payment schedules are `crate::schedule`).
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
}
