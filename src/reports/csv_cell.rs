//! Pure: a table as CSV text. A text cell that a spreadsheet would run as a formula gets a
//! leading `'` (OWASP's advice); numbers (amounts may be negative) stay numbers.
use crate::error::AppResult;
use rust_decimal::Decimal;
use std::str::FromStr;

const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn cell(v: &str) -> String {
    if v.starts_with(FORMULA_START) && Decimal::from_str(v).is_err() {
        format!("'{v}")
    } else {
        v.to_string()
    }
}

/// An amount with exactly two decimals (`0.00`, not `0`), as the API and the CSV show it.
pub fn two(d: Decimal) -> Decimal {
    let mut d = d.round_dp(2);
    d.rescale(2);
    d
}

/// A percentage with exactly one decimal (`100.0`).
pub fn one(d: Decimal) -> Decimal {
    let mut d = d.round_dp(1);
    d.rescale(1);
    d
}

/// An amount as a CSV cell: two decimals, no currency, no separators.
pub fn amount(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// The rows (the first is the header) as CSV.
pub fn csv_of(rows: &[Vec<String>]) -> AppResult<String> {
    let mut w = csv::Writer::from_writer(vec![]);
    for r in rows {
        w.write_record(r.iter().map(|v| cell(v)))
            .map_err(anyhow::Error::from)?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_two_decimals() {
        assert_eq!(amount(Decimal::ZERO), "0.00");
        assert_eq!(two(Decimal::ZERO).to_string(), "0.00");
        assert_eq!(one(Decimal::from(100)).to_string(), "100.0");
        assert_eq!(
            one(Decimal::from_str("33.333").unwrap()).to_string(),
            "33.3"
        );
        assert_eq!(amount(Decimal::from_str("-12.5").unwrap()), "-12.50");
        assert_eq!(amount(Decimal::from_str("3.999").unwrap()), "4.00");
    }

    #[test]
    fn formulas_are_defused_and_negative_amounts_kept() {
        let rows = vec![
            vec!["source".to_string(), "amount".into()],
            vec!["=HYPERLINK(\"x\")".into(), "-12.50".into()],
            vec!["a,b".into(), "3".into()],
        ];
        assert_eq!(
            csv_of(&rows).unwrap(),
            "source,amount\n\"'=HYPERLINK(\"\"x\"\")\",-12.50\n\"a,b\",3\n"
        );
    }
}
