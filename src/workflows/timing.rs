//! When a timed workflow step is due, pure: a day counted from the wedding or the booking date
//! (days, weeks or calendar months, before or after; a month from the 31st lands on the month's
//! last day), at a time of day on the studio's wall clock. 9 AM local stays 9 AM local across
//! a daylight-saving change (the UTC instant moves, not the wall time); a time skipped by the
//! spring change runs at the first instant after the gap, one repeated in autumn the first time.
use chrono::{DateTime, Days, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Days,
    Weeks,
    Months,
}

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        match s {
            "days" => Some(Unit::Days),
            "weeks" => Some(Unit::Weeks),
            "months" => Some(Unit::Months),
            _ => None,
        }
    }
}

/// The day `amount` units before (`before`) or after `anchor`.
pub fn day(anchor: NaiveDate, amount: i32, unit: Unit, before: bool) -> NaiveDate {
    let n = amount.max(0) as u64;
    let moved = match (unit, before) {
        (Unit::Days, false) => anchor.checked_add_days(Days::new(n)),
        (Unit::Days, true) => anchor.checked_sub_days(Days::new(n)),
        (Unit::Weeks, false) => anchor.checked_add_days(Days::new(n * 7)),
        (Unit::Weeks, true) => anchor.checked_sub_days(Days::new(n * 7)),
        (Unit::Months, false) => anchor.checked_add_months(Months::new(n as u32)),
        (Unit::Months, true) => anchor.checked_sub_months(Months::new(n as u32)),
    };
    moved.unwrap_or(anchor)
}

/// The instant the wall time `at` on `day` happens in the zone `time_zone`.
pub fn local(day: NaiveDate, at: NaiveTime, time_zone: &str) -> DateTime<Utc> {
    let tz = crate::dates::zone(time_zone);
    let wall = day.and_time(at);
    // In a spring gap: the same wall time an hour later is the first instant after it.
    tz.from_local_datetime(&wall)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(wall + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| wall.and_utc())
}

/// A timed step's due instant.
pub fn due(
    anchor: NaiveDate,
    amount: i32,
    unit: Unit,
    before: bool,
    at: NaiveTime,
    time_zone: &str,
) -> DateTime<Utc> {
    local(day(anchor, amount, unit, before), at, time_zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn nine_am_local_stays_nine_am_across_daylight_saving() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let la = "America/Los_Angeles";
        // Winter (PST, UTC-8) and summer (PDT, UTC-7).
        assert_eq!(
            local(d(2027, 1, 15), nine, la).to_rfc3339(),
            "2027-01-15T17:00:00+00:00"
        );
        assert_eq!(
            local(d(2027, 6, 15), nine, la).to_rfc3339(),
            "2027-06-15T16:00:00+00:00"
        );
        // The day of the spring change and of the autumn change.
        assert_eq!(
            local(d(2027, 3, 14), nine, la).to_rfc3339(),
            "2027-03-14T16:00:00+00:00"
        );
        assert_eq!(
            local(d(2027, 11, 7), nine, la).to_rfc3339(),
            "2027-11-07T17:00:00+00:00"
        );
        // 02:30 does not exist on Mar 14, 2027 in Los Angeles: 03:30 PDT.
        let half_two = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        assert_eq!(
            local(d(2027, 3, 14), half_two, la).to_rfc3339(),
            "2027-03-14T10:30:00+00:00"
        );
        // 01:30 happens twice on Nov 7, 2027: the first (PDT).
        let half_one = NaiveTime::from_hms_opt(1, 30, 0).unwrap();
        assert_eq!(
            local(d(2027, 11, 7), half_one, la).to_rfc3339(),
            "2027-11-07T08:30:00+00:00"
        );
    }

    #[test]
    fn days_weeks_and_calendar_months_before_and_after() {
        let w = d(2027, 8, 31);
        assert_eq!(day(w, 3, Unit::Days, true), d(2027, 8, 28));
        assert_eq!(day(w, 2, Unit::Weeks, false), d(2027, 9, 14));
        assert_eq!(day(w, 6, Unit::Months, true), d(2027, 2, 28));
        assert_eq!(day(w, 1, Unit::Months, false), d(2027, 9, 30));
        assert_eq!(day(w, 0, Unit::Months, false), w);
    }
}
