//! Keyset pagination: lists are read newest first by (time, id), a page at a time; the next page
//! starts after the last row shown, named by an opaque cursor (`after=`), so a page costs the
//! same at row 50 as at row 100,000 and no row is skipped or shown twice when rows are added.
//! Lists read in another order (by name, by due date) name their last row by a `Key`: its id
//! and the texts it is sorted by.
use crate::error::{AppError, AppResult};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, Utc};

/// What a cursor looks like (for the OpenAPI document): microseconds since 1970, `_`, an id.
pub const CURSOR_PATTERN: &str = "^[0-9]{1,16}_[0-9]{1,9}$";

/// The OpenAPI schema of an `after` parameter whose cursors match `pattern`, or empty.
fn cursor_param(pattern: &str) -> utoipa::openapi::schema::Schema {
    let cursor = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some(pattern));
    crate::http::json::or_empty(
        cursor,
        "The page after this cursor (from the previous page's Link header); empty: the first.",
    )
}

/// The OpenAPI schema of a time-ordered list's `after` parameter.
pub fn after_param() -> utoipa::openapi::schema::Schema {
    cursor_param(CURSOR_PATTERN)
}

/// The page of a list read newest first: its `after` cursor (a query parameter).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AfterPage {
    #[param(schema_with = after_param)]
    #[serde(default)]
    pub after: Option<String>,
}

/// The page of a list read by name or date: its `after` cursor (a query parameter).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyPage {
    #[param(schema_with = key_param)]
    #[serde(default)]
    pub after: Option<String>,
}

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
        let Some(s) = s.filter(|s| !s.is_empty()) else {
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

/// What a `Key` cursor looks like: the row's id, `_`, its sort texts in hex.
pub const KEY_PATTERN: &str = "^[0-9]{1,9}_([0-9a-f]{2}){0,4000}$";

/// The OpenAPI schema of a `Key` list's `after` parameter.
pub fn key_param() -> utoipa::openapi::schema::Schema {
    cursor_param(KEY_PATTERN)
}

/// The last row of a page of a list sorted by texts (a name, a date) and then id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub keys: Vec<String>,
    pub id: i32,
}

impl Key {
    /// The `after` parameter of a list sorted by `n` texts: empty is the first page; anything
    /// not made by `cursor` is a 422 naming the field.
    pub fn parse(s: Option<&str>, n: usize) -> AppResult<Option<Key>> {
        let Some(s) = s.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let bad = || AppError::field("after", "not a page cursor; follow the next page link");
        let (id, hex) = s.split_once('_').ok_or_else(bad)?;
        let id = id.parse().map_err(|_| bad())?;
        if hex.len() % 2 != 0 || hex.len() > 8000 {
            return Err(bad());
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        // Every cursor of the documented shape names a place in the list (the page after it),
        // even one not made here: texts are read leniently and missing ones are empty.
        let text = String::from_utf8_lossy(&bytes);
        let mut keys: Vec<String> = text.split('\0').map(str::to_string).collect();
        keys.resize(n, String::new());
        Ok(Some(Key { keys, id }))
    }

    /// The key's `i`th text (empty when there is none).
    pub fn text(&self, i: usize) -> &str {
        self.keys.get(i).map(String::as_str).unwrap_or("")
    }
}

/// A page's last row, written as the next page's `after` parameter.
pub trait Cursor {
    fn cursor(&self) -> String;
}

impl Cursor for After {
    fn cursor(&self) -> String {
        After::cursor(self)
    }
}

impl Cursor for Key {
    /// The id, `_`, the texts (joined by NUL, which no stored text holds) in hex.
    fn cursor(&self) -> String {
        let hex: String = self
            .keys
            .join("\0")
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{}_{hex}", self.id)
    }
}

/// `path?query` with the query's own `after` replaced by the cursor: the next page's address.
pub fn next_href(path: &str, query: &[(String, String)], after: &impl Cursor) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "after")
        .cloned()
        .collect();
    pairs.push(("after".into(), after.cursor()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{path}?{query}")
}

/// The `Link` header value for the next page of `path` with the query `query` (its own `after`
/// replaced), RFC 8288.
pub fn next_link(path: &str, query: &[(String, String)], after: impl Cursor) -> String {
    format!("<{}>; rel=\"next\"", next_href(path, query, &after))
}

/// A raw query string as pairs (for `next_href` and `next_link`).
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default()
}

/// The response with a `Link: <...>; rel="next"` header when there is a next page.
pub fn with_next(
    mut resp: Response,
    path: &str,
    raw_query: Option<&str>,
    next: Option<impl Cursor>,
) -> Response {
    if let Some(after) = next {
        let link = next_link(path, &pairs(raw_query), after);
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

/// Keep at most `SIZE` rows; the cursor of the last one when there were more.
pub fn split<T, K>(mut rows: Vec<T>, key: impl Fn(&T) -> K) -> (Vec<T>, Option<K>) {
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
        for bad in [
            "x",
            "1_",
            "_1",
            "1_x",
            "99999999999999999999_1",
            "\t",
            " 1_2",
        ] {
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

    #[test]
    fn a_key_cursor_reads_back_to_the_same_texts() {
        let key = Key {
            keys: vec!["o'brien_ü".into(), "".into()],
            id: 9,
        };
        let c = key.cursor();
        assert!(regex_like(&c), "{c}");
        assert_eq!(Key::parse(Some(&c), 2).unwrap(), Some(key));
        assert_eq!(Key::parse(Some(""), 2).unwrap(), None);
        for bad in ["x", "1", "1_0", "1_zz", "_61", "\t", " 1_61"] {
            assert!(Key::parse(Some(bad), 2).is_err(), "{bad}");
        }
        // Of the documented shape but not made here: still a place in the list.
        let odd = Key::parse(Some("1_ff"), 2).unwrap().unwrap();
        assert_eq!((odd.text(0), odd.text(1)), ("\u{fffd}", ""));
        assert_eq!(Key::parse(Some("0_"), 2).unwrap().unwrap().text(1), "");
        assert_eq!(Key::parse(Some("3_61"), 1).unwrap().unwrap().text(0), "a");
    }

    fn regex_like(c: &str) -> bool {
        let (id, hex) = c.split_once('_').unwrap();
        id.bytes().all(|b| b.is_ascii_digit())
            && hex.len() % 2 == 0
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    }
}
