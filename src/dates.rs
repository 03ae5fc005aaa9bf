//! Dates people type or send: `YYYY-MM-DD` with a four-digit year between 1900 and 2199.
//! Anything else (`0000-01-01`, `-0001-01-01`, `+99999-01-01`, `1-1-1`) is refused with a
//! clear message, wherever a date is parsed (forms, JSON and query strings alike, through
//! `parse`).
//!
//! And instants shown to people: always in the studio's time zone, by `shown` (pages, the
//! portal and emails alike; `Studio::time` and `Studio::day` call it). The API and the
//! database keep UTC.
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

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

/// The studio's time zone from its IANA name ("America/New_York"); an unknown name is UTC.
pub fn zone(time_zone: &str) -> Tz {
    time_zone.parse().unwrap_or(Tz::UTC)
}

/// How much of an instant is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// "Jun 14, 2026 20:30"
    Time,
    /// "Jun 14, 2026"
    Day,
}

/// An instant as people read it: in the studio's time zone (daylight saving included). The
/// one place an instant becomes text for a page, the portal or an email.
pub fn shown(at: DateTime<Utc>, time_zone: &str, how: Shown) -> String {
    let local = at.with_timezone(&zone(time_zone));
    let format = match how {
        Shown::Time => "%b %-d, %Y %H:%M",
        Shown::Day => "%b %-d, %Y",
    };
    local.format(format).to_string()
}

/// The instant a local day starts in the studio's time zone: midnight, or the first moment
/// of the day where midnight is skipped by a clock change.
pub fn start_of_day(day: NaiveDate, time_zone: &str) -> DateTime<Utc> {
    let tz = zone(time_zone);
    (0..24)
        .find_map(|h| {
            let t = NaiveTime::from_hms_opt(h, 0, 0)?;
            tz.from_local_datetime(&day.and_time(t)).earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(NaiveTime::MIN).and_utc())
}

#[cfg(test)]
mod tests {
    use super::{Shown, parse, shown, start_of_day};
    use chrono::{NaiveDate, TimeZone, Utc};

    #[test]
    fn instants_are_shown_in_the_studios_zone_with_daylight_saving() {
        let ny = "America/New_York";
        // 02:30 UTC on June 15 is still June 14 in New York (EDT, UTC-4)...
        let summer = Utc.with_ymd_and_hms(2026, 6, 15, 2, 30, 0).unwrap();
        assert_eq!(shown(summer, ny, Shown::Time), "Jun 14, 2026 22:30");
        assert_eq!(shown(summer, ny, Shown::Day), "Jun 14, 2026");
        assert_eq!(shown(summer, "UTC", Shown::Time), "Jun 15, 2026 02:30");
        // ...and in January it is EST, UTC-5.
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 2, 30, 0).unwrap();
        assert_eq!(shown(winter, ny, Shown::Time), "Jan 14, 2026 21:30");
        assert_eq!(
            shown(winter, "Not/AZone", Shown::Time),
            "Jan 15, 2026 02:30"
        );
    }

    #[test]
    fn a_local_day_starts_at_local_midnight_or_the_first_moment_after_a_skipped_one() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let utc = |m, d, h| Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap();
        assert_eq!(
            start_of_day(day(2026, 6, 15), "America/New_York"),
            utc(6, 15, 4)
        );
        assert_eq!(
            start_of_day(day(2026, 1, 15), "America/New_York"),
            utc(1, 15, 5)
        );
        assert_eq!(start_of_day(day(2026, 6, 15), "UTC"), utc(6, 15, 0));
        // Santiago skips from 00:00 to 01:00 on its first day of summer time.
        let skipped = start_of_day(day(2026, 9, 6), "America/Santiago");
        assert_eq!(skipped, utc(9, 6, 4));
    }

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
