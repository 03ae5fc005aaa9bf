//! Keyset pagination: lists are read newest first by (time, id), a page at a time; the next page
//! starts after the last row shown, named by an opaque cursor (`after=`), so a page costs the
//! same at row 50 as at row 100,000 and no row is skipped or shown twice when rows are added.
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};

/// What a cursor looks like (for the OpenAPI document): microseconds since 1970, `_`, an id.
pub const CURSOR_PATTERN: &str = "^[0-9]{1,16}_[0-9]{1,9}$";

/// Rows on one page.
pub const SIZE: i64 = 50;

/// The last row of a page: where the next one starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub at: DateTime<Utc>,
    pub id: i32,
}

impl After {
    /// The `after` parameter: empty is the first page; anything not made by `cursor` is a 422
    /// naming the field.
    pub fn parse(s: Option<&str>) -> AppResult<Option<After>> {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let bad = || AppError::field("after", "not a page cursor; follow the Link header's next");
        let (micros, id) = s.split_once('_').ok_or_else(bad)?;
        let at = micros
            .parse()
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_micros)
            .ok_or_else(bad)?;
        Ok(Some(After {
            at,
            id: id.parse().map_err(|_| bad())?,
        }))
    }

    pub fn cursor(&self) -> String {
        format!("{}_{}", self.at.timestamp_micros(), self.id)
    }
}

/// The `Link` header value for the next page of `path` with the query `query` (its own `after`
/// replaced), RFC 8288.
pub fn next_link(path: &str, query: &[(String, String)], after: After) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "after")
        .cloned()
        .collect();
    pairs.push(("after".into(), after.cursor()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("<{path}?{query}>; rel=\"next\"")
}

/// Keep at most `SIZE` rows; the cursor of the last one when there were more.
pub fn split<T>(mut rows: Vec<T>, key: impl Fn(&T) -> After) -> (Vec<T>, Option<After>) {
    if rows.len() as i64 <= SIZE {
        return (rows, None);
    }
    rows.truncate(SIZE as usize);
    let next = rows.last().map(key);
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_to_the_same_row() {
        let after = After {
            at: DateTime::from_timestamp_micros(1_780_000_000_123_456).unwrap(),
            id: 42,
        };
        assert_eq!(After::parse(Some(&after.cursor())).unwrap(), Some(after));
        assert_eq!(After::parse(Some("")).unwrap(), None);
        assert_eq!(After::parse(None).unwrap(), None);
        for bad in ["x", "1_", "_1", "1_x", "99999999999999999999_1"] {
            assert!(After::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor() {
        let after = After {
            at: DateTime::from_timestamp_micros(5).unwrap(),
            id: 7,
        };
        let q = vec![
            ("status".to_string(), "New".to_string()),
            ("after".to_string(), "old".to_string()),
        ];
        assert_eq!(
            next_link("/api/v1/inquiries", &q, after),
            "</api/v1/inquiries?status=New&after=5_7>; rel=\"next\""
        );
    }
}
