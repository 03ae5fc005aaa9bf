//! The calendar's pure rules: local days and wall times in the studio's zone as instants
//! (all-day events cover local midnight to the next local midnight, so a day on which the
//! clocks change lasts 23 or 25 hours), the days a recurring absence falls on, the wedding
//! day's default schedule from the scenes' hours, and iCalendar text (escaping, folding).
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// The instants an all-day event from `first` to `last` (inclusive, local days) covers:
/// [local midnight of `first`, local midnight of the day after `last`).
pub fn all_day_range(
    first: NaiveDate,
    last: NaiveDate,
    tz: &str,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = last.succ_opt().unwrap_or(last);
    (
        crate::dates::start_of_day(first, tz),
        crate::dates::start_of_day(next, tz),
    )
}

/// A wall time in the studio's zone as an instant. A time the clocks skip (spring forward)
/// does not exist: None. A time that happens twice (fall back) is its first occurrence.
pub fn local_instant(at: NaiveDateTime, tz: &str) -> Option<DateTime<Utc>> {
    crate::dates::zone(tz)
        .from_local_datetime(&at)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// An instant as the studio's wall time.
pub fn local(at: DateTime<Utc>, tz: &str) -> NaiveDateTime {
    at.with_timezone(&crate::dates::zone(tz)).naive_local()
}

/// A local wall time as typed or sent: `YYYY-MM-DDTHH:MM` (seconds allowed), plausible date.
pub fn parse_local(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim();
    let (day, time) = s
        .split_once('T')
        .or_else(|| s.split_once(' '))
        .ok_or_else(|| format!("\"{s}\" is not a date and time; use YYYY-MM-DDTHH:MM"))?;
    let day = crate::dates::parse(day)?;
    let time = NaiveTime::parse_from_str(time, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S"))
        .map_err(|_| format!("\"{time}\" is not a time; use HH:MM, e.g. 14:30"))?;
    Ok(day.and_time(time))
}

/// How a recurring absence repeats.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
#[schema(as = RecurrenceFreq)]
pub enum Freq {
    /// Every week on the first day's weekday.
    Weekly,
    /// Every year on the first day's month and day (29 February: only in leap years).
    Yearly,
}

impl Freq {
    pub fn as_str(self) -> &'static str {
        match self {
            Freq::Weekly => "WEEKLY",
            Freq::Yearly => "YEARLY",
        }
    }

    pub fn parse(s: &str) -> Option<Freq> {
        match s {
            "WEEKLY" => Some(Freq::Weekly),
            "YEARLY" => Some(Freq::Yearly),
            _ => None,
        }
    }
}

/// The local days a rule falls on within [from, to] (inclusive): from `first`, every week or
/// every year, up to `until` (inclusive) if set, less the `exceptions`.
pub fn occurrences(
    freq: Freq,
    first: NaiveDate,
    until: Option<NaiveDate>,
    exceptions: &[NaiveDate],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<NaiveDate> {
    let end = until.map_or(to, |u| u.min(to));
    let mut out = vec![];
    match freq {
        Freq::Weekly => {
            // The first occurrence on or after `from`.
            let mut d = first;
            if from > first {
                let weeks = (from - first).num_days().div_euclid(7);
                d = first + Duration::weeks(weeks);
                if d < from {
                    d += Duration::weeks(1);
                }
            }
            while d <= end {
                out.push(d);
                d += Duration::weeks(1);
            }
        }
        Freq::Yearly => {
            for year in first.year().max(from.year())..=end.year() {
                let d = NaiveDate::from_ymd_opt(year, first.month(), first.day());
                out.extend(d.filter(|d| *d >= first && *d >= from && *d <= end));
            }
        }
    }
    out.retain(|d| !exceptions.contains(d));
    out
}

/// A coverage line of the wedding day as the default schedule reads it.
#[derive(Debug, Clone)]
pub struct Scene {
    pub scene_id: i32,
    pub hours: Option<Decimal>,
}

/// When the wedding day starts by default (local time), before the studio sets its own times.
pub const DAY_STARTS: (u32, u32) = (10, 0);

/// The default schedule of a wedding day: the day's scenes one after another (in the order
/// given; lines of one scene share its slot) from 10:00 local, each lasting its scene's hours
/// (one hour when the scene has none). Local wall times, start and end.
pub fn default_schedule(day: NaiveDate, scenes: &[Scene]) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut at = day.and_time(NaiveTime::from_hms_opt(DAY_STARTS.0, DAY_STARTS.1, 0).unwrap());
    let mut slots: Vec<(i32, NaiveDateTime, NaiveDateTime)> = vec![];
    scenes
        .iter()
        .map(|s| {
            if let Some(slot) = slots.iter().find(|x| x.0 == s.scene_id) {
                return (slot.1, slot.2);
            }
            let minutes = s
                .hours
                .and_then(|h| (h * Decimal::from(60)).round().to_i64())
                .filter(|m| *m > 0)
                .unwrap_or(60);
            let end = at + Duration::minutes(minutes);
            slots.push((s.scene_id, at, end));
            let slot = (at, end);
            at = end;
            slot
        })
        .collect()
}

/// iCalendar TEXT escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline.
pub fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character,
/// ended by CRLF.
pub fn ics_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
    out
}

/// An instant as an iCalendar UTC date-time: 20270612T170000Z.
pub fn ics_utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A date as an iCalendar DATE: 20270612.
pub fn ics_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn all_day_events_cover_the_local_day_23_or_25_hours_on_dst_days() {
        let la = "America/Los_Angeles";
        let hours = |d: NaiveDate, tz: &str| {
            let (s, e) = all_day_range(d, d, tz);
            (e - s).num_hours()
        };
        assert_eq!(hours(day(2026, 6, 15), la), 24);
        assert_eq!(hours(day(2026, 3, 8), la), 23); // spring forward
        assert_eq!(hours(day(2026, 11, 1), la), 25); // fall back
        let london = "Europe/London";
        assert_eq!(hours(day(2026, 3, 29), london), 23);
        assert_eq!(hours(day(2026, 10, 25), london), 25);
        let (s, _) = all_day_range(day(2026, 6, 15), day(2026, 6, 15), la);
        assert_eq!(s.to_rfc3339(), "2026-06-15T07:00:00+00:00");
        let (_, e) = all_day_range(day(2026, 6, 15), day(2026, 6, 17), la);
        assert_eq!(e.to_rfc3339(), "2026-06-18T07:00:00+00:00");
    }

    #[test]
    fn wall_times_in_a_dst_gap_do_not_exist_and_repeated_ones_are_the_first() {
        let la = "America/Los_Angeles";
        let t = |s: &str| parse_local(s).unwrap();
        assert!(local_instant(t("2026-03-08T02:30"), la).is_none());
        assert_eq!(
            local_instant(t("2026-11-01T01:30"), la)
                .unwrap()
                .to_rfc3339(),
            "2026-11-01T08:30:00+00:00"
        );
        assert_eq!(
            local_instant(t("2026-07-01T10:00"), "Europe/London")
                .unwrap()
                .to_rfc3339(),
            "2026-07-01T09:00:00+00:00"
        );
        assert!(parse_local("2026-07-01").is_err());
        assert!(parse_local("2026-07-01T25:00").is_err());
        assert!(parse_local("0000-07-01T10:00").is_err());
        assert_eq!(t("2026-07-01 10:00:30").to_string(), "2026-07-01 10:00:30");
    }

    #[test]
    fn a_weekly_day_off_keeps_its_local_day_across_both_dst_changes() {
        for tz in ["America/Los_Angeles", "Europe/London"] {
            // Every Monday from January to December 2026, less one.
            let days = occurrences(
                Freq::Weekly,
                day(2026, 1, 5),
                None,
                &[day(2026, 3, 30)],
                day(2026, 1, 1),
                day(2026, 12, 31),
            );
            assert_eq!(days.len(), 51);
            assert!(days.iter().all(|d| d.weekday() == chrono::Weekday::Mon));
            assert!(!days.contains(&day(2026, 3, 30)));
            for d in days {
                let (s, e) = all_day_range(d, d, tz);
                // Local midnight to local midnight, whatever the offset that day.
                assert_eq!(local(s, tz), d.and_hms_opt(0, 0, 0).unwrap(), "{tz} {d}");
                assert_eq!(
                    local(e, tz),
                    d.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap()
                );
            }
        }
    }

    #[test]
    fn occurrences_respect_the_window_the_end_and_leap_days() {
        let w = occurrences(
            Freq::Weekly,
            day(2026, 1, 5),
            Some(day(2026, 2, 2)),
            &[],
            day(2026, 1, 20),
            day(2026, 3, 1),
        );
        assert_eq!(w, vec![day(2026, 1, 26), day(2026, 2, 2)]);
        let y = occurrences(
            Freq::Yearly,
            day(2024, 2, 29),
            None,
            &[],
            day(2024, 1, 1),
            day(2029, 1, 1),
        );
        assert_eq!(y, vec![day(2024, 2, 29), day(2028, 2, 29)]);
        let xmas = occurrences(
            Freq::Yearly,
            day(2026, 12, 25),
            None,
            &[day(2027, 12, 25)],
            day(2026, 1, 1),
            day(2028, 12, 31),
        );
        assert_eq!(xmas, vec![day(2026, 12, 25), day(2028, 12, 25)]);
    }

    #[test]
    fn the_default_schedule_follows_the_scenes_hours_and_shares_a_scenes_slot() {
        let s = |id, h: Option<&str>| Scene {
            scene_id: id,
            hours: h.map(|h| h.parse().unwrap()),
        };
        let slots = default_schedule(
            day(2027, 6, 12),
            &[
                s(1, Some("2")),
                s(3, Some("1.5")),
                s(3, Some("1.5")),
                s(5, None),
            ],
        );
        let hm = |t: NaiveDateTime| t.format("%H:%M").to_string();
        let got: Vec<(String, String)> = slots.into_iter().map(|(a, b)| (hm(a), hm(b))).collect();
        assert_eq!(
            got,
            [
                ("10:00", "12:00"),
                ("12:00", "13:30"),
                ("12:00", "13:30"),
                ("13:30", "14:30")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn ics_text_is_escaped_and_lines_are_folded_at_75_octets() {
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let long = format!("SUMMARY:{}", "é".repeat(60));
        let folded = ics_line(&long);
        for l in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(l.len() <= 75, "{}", l.len());
        }
        let unfolded = folded.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, long);
    }
}
