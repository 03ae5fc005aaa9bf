//! Pure: the reports' filters. A date range `from`..=`to` (the studio's local days, YYYY-MM-DD),
//! by default the last 12 months (the first day of the month eleven months before today's, to
//! today); the months it covers; a lead source filter. Bad input is a 422 naming the field.
use crate::error::{AppError, AppResult};
use chrono::{Datelike, Months, NaiveDate};
use serde::Deserialize;
use utoipa::IntoParams;

/// The longest range a report covers (months), so that a report stays one screen of rows.
pub const MAX_MONTHS: u32 = 120;

/// The lead source shown (and filtered on) for inquiries and spend without one.
pub const NONE: &str = "(none)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The first day of `day`'s month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

impl Range {
    /// The default: the last 12 months up to today.
    pub fn last_12_months(today: NaiveDate) -> Range {
        let from = month_of(today)
            .checked_sub_months(Months::new(11))
            .unwrap_or(today);
        Range { from, to: today }
    }

    /// `from` and `to` as sent (absent or empty: the default's).
    pub fn parse(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> AppResult<Range> {
        let default = Range::last_12_months(today);
        let day = |field: &str, s: Option<&str>, or: NaiveDate| -> AppResult<NaiveDate> {
            match s.map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(or),
                Some(s) => crate::dates::parse(s).map_err(|m| AppError::field(field, m)),
            }
        };
        let from = day("from", from, default.from)?;
        let to = day("to", to, default.to)?;
        // Well-formed days the range refuses: 409 naming the field (a schema-valid request is
        // never a 422), the message by the field on the page all the same.
        if to < from {
            return Err(AppError::field_conflict(
                "to",
                "must be on or after the from date",
            ));
        }
        let limit = month_of(from).checked_add_months(Months::new(MAX_MONTHS));
        if limit.is_none_or(|l| to >= l) {
            return Err(AppError::field_conflict(
                "to",
                format!("a report covers at most {MAX_MONTHS} months; choose a shorter range"),
            ));
        }
        Ok(Range { from, to })
    }

    /// The first day of every month the range touches, in order.
    pub fn months(&self) -> Vec<NaiveDate> {
        let mut out = vec![];
        let mut m = month_of(self.from);
        while m <= self.to {
            out.push(m);
            match m.checked_add_months(Months::new(1)) {
                Some(next) => m = next,
                None => break,
            }
        }
        out
    }

    /// The day after `to` (the exclusive end of the range).
    pub fn end(&self) -> NaiveDate {
        self.to.succ_opt().unwrap_or(self.to)
    }
}

/// A month as its column in tables and CSV: `2026-03`.
pub fn month_key(m: NaiveDate) -> String {
    m.format("%Y-%m").to_string()
}

/// A month as people read it on a chart: `Mar 2026`.
pub fn month_label(m: NaiveDate) -> String {
    m.format("%b %Y").to_string()
}

/// A lead source filter as sent: empty or absent is every source; `(none)` the inquiries
/// without one; anything longer than the column is a 422 naming `source`.
pub fn parse_source(s: Option<&str>) -> AppResult<Option<String>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > 255 => {
            Err(AppError::field("source", "at most 255 characters"))
        }
        Some(s) if s.contains('\0') => Err(AppError::field("source", "no NUL characters")),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// The filters every report takes (query parameters of pages, CSV and the API).
#[derive(Debug, Default, Deserialize, IntoParams, Clone)]
#[into_params(parameter_in = Query)]
pub struct Filters {
    /// The first day (the studio's local date, YYYY-MM-DD); empty: the first day of the month
    /// eleven months ago.
    #[param(schema_with = date_or_empty)]
    #[serde(default)]
    pub from: Option<String>,
    /// The last day (YYYY-MM-DD), on or after `from`, within 120 months of it (else 409 naming
    /// `to`); empty: today.
    #[param(schema_with = date_or_empty)]
    #[serde(default)]
    pub to: Option<String>,
    /// Only this lead source (`(none)`: inquiries without one); empty: every source. The
    /// reports about leads (marketing ROI, pipeline) and profitability (the project's
    /// inquiry) read it.
    #[param(schema_with = source_or_empty)]
    #[serde(default)]
    pub source: Option<String>,
    /// Only this person (a contributor id); empty: everyone. Profitability: the projects they
    /// logged time on or shot; team performance: their tasks; marketing ROI and pipeline: the
    /// inquiries whose follow-up is theirs (the sales person the lead was given to). Cash flow
    /// does not read it (money is not anyone's).
    #[param(schema_with = person_or_empty)]
    #[serde(default)]
    pub person: Option<String>,
}

fn person_or_empty() -> utoipa::openapi::schema::Schema {
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some(r"^[0-9]{1,9}$"));
    crate::http::json::or_empty(one, "A person's id; empty: everyone.")
}

/// A person filter as sent: empty or absent is everyone; anything but a whole number is a 422
/// naming `person`. An id that is no one's simply finds nothing.
pub fn parse_person(s: Option<&str>) -> AppResult<Option<i32>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(s.parse().ok()),
        Some(_) => Err(AppError::field("person", "choose a person from the list")),
    }
}

fn date_or_empty() -> utoipa::openapi::schema::Schema {
    crate::http::json::or_empty(
        crate::http::json::date(),
        "A day, YYYY-MM-DD; empty: default.",
    )
}

fn source_or_empty() -> utoipa::openapi::schema::Schema {
    let one = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .max_length(Some(255))
        .pattern(Some(r"^[^\x00]*$"));
    crate::http::json::or_empty(one, "A lead source; empty: every source.")
}

impl Filters {
    /// The range these filters name, given today.
    pub fn range(&self, today: NaiveDate) -> AppResult<Range> {
        Range::parse(self.from.as_deref(), self.to.as_deref(), today)
    }

    pub fn source(&self) -> AppResult<Option<String>> {
        parse_source(self.source.as_deref())
    }

    pub fn person(&self) -> AppResult<Option<i32>> {
        parse_person(self.person.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn field_of(e: AppError) -> String {
        match e {
            AppError::Validation { errors, .. } => errors[0].field.clone(),
            AppError::FieldConflict { field, .. } => format!("{field} (409)"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_default_is_the_last_12_months_in_whole_months_up_to_today() {
        let r = Range::parse(None, Some(""), day(2026, 11, 29)).unwrap();
        assert_eq!(
            r,
            Range {
                from: day(2025, 12, 1),
                to: day(2026, 11, 29)
            }
        );
        assert_eq!(r.months().len(), 12);
        assert_eq!(r.months()[0], day(2025, 12, 1));
        assert_eq!(r.months()[11], day(2026, 11, 1));
        assert_eq!(r.end(), day(2026, 11, 30));
        // Across a year's end and from a 31st.
        let r = Range::last_12_months(day(2027, 1, 31));
        assert_eq!(r.from, day(2026, 2, 1));
    }

    #[test]
    fn bad_dates_name_their_field() {
        let today = day(2026, 11, 29);
        assert_eq!(
            field_of(Range::parse(Some("2026-13-01"), None, today).unwrap_err()),
            "from"
        );
        assert_eq!(
            field_of(Range::parse(Some("yesterday"), None, today).unwrap_err()),
            "from"
        );
        assert_eq!(
            field_of(Range::parse(None, Some("2026-02-30"), today).unwrap_err()),
            "to"
        );
        assert_eq!(
            field_of(Range::parse(None, Some("0000-01-01"), today).unwrap_err()),
            "to"
        );
        // The wrong way round.
        let e = Range::parse(Some("2026-05-02"), Some("2026-05-01"), today).unwrap_err();
        assert_eq!(field_of(e), "to (409)");
        // Too long; ten years less a day is fine.
        let e = Range::parse(Some("2000-01-01"), Some("2010-01-01"), today).unwrap_err();
        assert_eq!(field_of(e), "to (409)");
        let r = Range::parse(Some("2000-01-15"), Some("2009-12-31"), today).unwrap();
        assert_eq!(r.months().len(), 120);
        // One day is one month.
        let r = Range::parse(Some("2026-05-02"), Some("2026-05-02"), today).unwrap();
        assert_eq!(r.months(), vec![day(2026, 5, 1)]);
        assert_eq!(month_key(day(2026, 5, 1)), "2026-05");
        assert_eq!(month_label(day(2026, 5, 1)), "May 2026");
    }

    #[test]
    fn a_person_filter_is_an_id_or_everyone() {
        assert_eq!(parse_person(None).unwrap(), None);
        assert_eq!(parse_person(Some(" ")).unwrap(), None);
        assert_eq!(parse_person(Some("42")).unwrap(), Some(42));
        assert!(parse_person(Some("-1")).is_err());
        assert!(parse_person(Some("leo")).is_err());
        assert!(parse_person(Some("1234567890")).is_err());
    }

    #[test]
    fn a_source_filter_is_trimmed_and_bounded() {
        assert_eq!(parse_source(Some("  ")).unwrap(), None);
        assert_eq!(
            parse_source(Some(" Instagram ")).unwrap().unwrap(),
            "Instagram"
        );
        assert!(parse_source(Some(&"x".repeat(256))).is_err());
        assert!(parse_source(Some("a\0b")).is_err());
    }
}
