//! What the JSON API reads, as its OpenAPI document says it: whole numbers (`2` and `2.0`
//! alike, as JSON Schema counts both as integers), decimals as text or whole numbers, and the
//! schemas that say so. Text fields say in their own `#[schema]` (a literal there) that they
//! hold no NUL, which PostgreSQL cannot store: `pattern = r"^[^\x00]*$"`; and, when something
//! other than white space is required, that one character is neither NUL nor white space as
//! Rust's `trim` counts it, spelled out because JSON Schema's `\s` differs (it leaves out U+0085
//! and adds U+FEFF): `r"^[^\x00]*[^\x00\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00]*$"`.
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{Deserializer, Error};
use utoipa::openapi::schema::{AnyOf, Object, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};

/// `#[serde(deserialize_with = "crate::http::json::int")]`: a whole number in the i32 range,
/// written `2` or `2.0`.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    let whole = n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    });
    whole
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number from -2^31 to 2^31-1")))
}

/// `#[serde(default, deserialize_with = "crate::http::json::opt_int")]`: absent or null, or a
/// whole number as `int` reads it.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "int")] i32);
    Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
}

/// A decimal as sent: text or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Number(serde_json::Number),
}

impl Raw {
    /// Text in the documented shape (`read_decimal`), or a whole number; its range is the
    /// caller's check.
    fn decimal<E: Error>(self) -> Result<(String, Decimal), E> {
        let text = match self {
            Raw::Text(s) => s,
            Raw::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => i.to_string(),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => (f as i64).to_string(),
                _ => return Err(E::custom(format!("send {n} as text, e.g. \"{n}\""))),
            },
        };
        match read_decimal(&text) {
            Some(d) => Ok((text, d)),
            None => Err(E::custom(format!("{text:?} is not a decimal like 1.5"))),
        }
    }
}

/// `#[serde(default, deserialize_with = "crate::http::json::opt_decimal")]`: absent or null
/// is None; else a decimal written as text (`"1.5"`: digits, no leading zero, at most 2
/// decimals) or as a whole number (`2`).
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Option::<Raw>::deserialize(d)?
        .map(|raw| raw.decimal().map(|(_, d)| d))
        .transpose()
}

/// `#[serde(deserialize_with = "crate::http::json::decimal_text")]`: a decimal as `opt_decimal`
/// reads it, kept as its text (`2` becomes `"2"`).
pub fn decimal_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Raw::deserialize(d)?.decimal().map(|(text, _)| text)
}

/// `0`, `12`, `12.5`, `12.50`; no sign, no leading zero, at most 2 decimals.
fn read_decimal(s: &str) -> Option<Decimal> {
    let (whole, cents) = s.split_once('.').unwrap_or((s, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let shape = digits(whole)
        && (whole == "0" || !whole.starts_with('0'))
        && digits(cents)
        && cents.len() <= 2
        && whole.len() <= 15;
    shape.then(|| s.parse().ok()).flatten()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A decimal (`decimal_text`): text matching `pattern` (its range spelled out) or a whole
/// number from `min` to `max`; or null too, for `opt_decimal`.
pub fn decimal_schema(pattern: &str, (min, max): (i64, i64), null: bool, text: &str) -> Schema {
    let mut any = AnyOf::new();
    any.items = vec![
        string().pattern(Some(pattern)).into(),
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min))
            .maximum(Some(max))
            .into(),
    ];
    if null {
        any.items
            .push(ObjectBuilder::new().schema_type(Type::Null).into());
    }
    any.description = Some(text.into());
    Schema::AnyOf(any)
}

/// A plausible date (`crate::dates`), as JSON Schema can say it.
pub fn date() -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(crate::dates::PATTERN))
        .build()
}

/// `schema`, or the empty string (a filter or a form field left empty).
pub fn or_empty(schema: impl Into<RefOr<Schema>>, description: &str) -> Schema {
    let mut any = AnyOf::new();
    let empty = string().enum_values(Some([""])).build();
    any.items = vec![schema.into(), empty.into()];
    any.description = Some(description.into());
    Schema::AnyOf(any)
}

#[cfg(test)]
mod tests {
    use super::read_decimal;

    #[test]
    fn decimals_are_read_only_in_the_documented_shape() {
        for ok in ["0", "1", "12.5", "12.50", "0.25", "100000"] {
            assert_eq!(read_decimal(ok).unwrap().to_string(), ok, "{ok}");
        }
        for bad in [
            "", "01", "1.", ".5", "1.234", "+1", "-1", "1e2", "1_0", " 1", "1.5 ",
        ] {
            assert!(read_decimal(bad).is_none(), "{bad}");
        }
    }
}
