//! Dates people type or send: `YYYY-MM-DD` with a four-digit year between 1900 and 2199.
//! Anything else (`0000-01-01`, `-0001-01-01`, `+99999-01-01`, `1-1-1`) is refused with a
//! clear message, wherever a date is parsed (forms, JSON and query strings alike, through
//! `parse`).
use chrono::{Datelike, NaiveDate};

pub const EARLIEST_YEAR: i32 = 1900;
pub const LATEST_YEAR: i32 = 2199;
/// What `parse` reads, as a JSON Schema `pattern` beside `format: date` (which rules out
/// days a month does not have).
pub const PATTERN: &str = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// A plausible date, or a message saying what is wrong.
pub fn parse(s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    let shape_ok = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let date = shape_ok
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("\"{s}\" is not a date; use YYYY-MM-DD, e.g. 2027-06-12"))?;
    if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&date.year()) {
        return Err(format!(
            "{s} is not a plausible date; use a year from {EARLIEST_YEAR} to {LATEST_YEAR}"
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn plausible_dates_are_read() {
        assert_eq!(parse("2027-06-12").unwrap().to_string(), "2027-06-12");
        assert_eq!(parse(" 1900-01-01 ").unwrap().to_string(), "1900-01-01");
        assert_eq!(parse("2199-12-31").unwrap().to_string(), "2199-12-31");
    }

    #[test]
    fn implausible_or_malformed_dates_are_refused() {
        for s in [
            "0000-01-01",
            "-0001-01-01",
            "+99999-01-01",
            "1-1-1",
            "1899-12-31",
            "2200-01-01",
            "2027-02-30",
            "2027-6-12",
            "12/06/2027",
            "",
            "2027-06-12T00:00:00",
        ] {
            assert!(parse(s).is_err(), "{s}");
        }
    }
}
