//! What time it is, given to the code that asks "now" or "today" instead of read from the
//! system inside it, so that tests can pin it. "Today" is always the studio's local date.
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// Always this instant (tests, and demos of a given day).
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t,
        }
    }

    /// The date in the studio's time zone (an IANA name such as "America/Los_Angeles"; an
    /// unknown name counts as UTC).
    pub fn today(&self, time_zone: &str) -> NaiveDate {
        let tz = crate::dates::zone(time_zone);
        self.now().with_timezone(&tz).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;
    use chrono::{NaiveDate, TimeZone, Utc};

    #[test]
    fn today_is_the_studios_local_date_on_both_sides_of_both_midnights() {
        let la = "America/Los_Angeles";
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        // (UTC instant, the studio's date in Los Angeles, the date in UTC)
        for (h, m, la_day, utc_day) in [
            (23, 30, day(2026, 6, 14), day(2026, 6, 14)),
            (0, 30, day(2026, 6, 14), day(2026, 6, 15)),
            (6, 30, day(2026, 6, 14), day(2026, 6, 15)),
            (7, 30, day(2026, 6, 15), day(2026, 6, 15)),
        ] {
            let date = if h == 23 { 14 } else { 15 };
            let clock = Clock::Fixed(Utc.with_ymd_and_hms(2026, 6, date, h, m, 0).unwrap());
            assert_eq!(clock.today(la), la_day, "{h}:{m} UTC");
            assert_eq!(clock.today("UTC"), utc_day, "{h}:{m} UTC");
            assert_eq!(clock.today("Not/AZone"), utc_day);
        }
    }
}
