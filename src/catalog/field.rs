//! What a catalog is made of: field kinds, fields, the description of one catalog, and the
//! checking of one row's values against it (every problem named by its field).
use crate::error::{AppError, FieldError};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// VARCHAR(255).
    Text,
    /// TEXT.
    LongText,
    /// DECIMAL(p, 2) money >= 0; the number is the largest allowed value's integer digits.
    Money(u32),
    /// DECIMAL hours or minutes >= 0 (or > 0 when `positive`), at most `max`.
    Amount {
        positive: bool,
        max: i64,
    },
    /// INT at least `min`.
    Int {
        min: i64,
    },
    Bool,
    /// A PostgreSQL enum type and its labels.
    Enum(&'static str, &'static [&'static str]),
    /// A reference to another catalog (by slug).
    Ref(&'static str),
    /// The effort rules object (JSONB).
    EffortRules,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub hint: &'static str,
    /// Shown but never written by people (learned by the nightly job).
    pub read_only: bool,
}

/// A field people write.
pub const fn f(
    name: &'static str,
    label: &'static str,
    kind: Kind,
    required: bool,
    hint: &'static str,
) -> Field {
    Field {
        name,
        label,
        kind,
        required,
        hint,
        read_only: false,
    }
}

/// Values of one row as people typed them: field -> trimmed text (None = empty).
pub type Values = BTreeMap<String, Option<String>>;

pub struct Catalog {
    pub slug: &'static str,
    pub table: &'static str,
    pub title: &'static str,
    pub singular: &'static str,
    pub fields: &'static [Field],
    /// Rules that involve several fields.
    pub check: fn(&Values) -> Result<(), FieldError>,
    /// A rules table (no name of its own).
    pub is_rule: bool,
}

/// Every problem at once, each by its field, as one refusal (422).
pub fn invalid(errors: Vec<FieldError>) -> AppError {
    let message = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    AppError::Validation { message, errors }
}

impl Catalog {
    /// "a film", "an operator type", "an editing style".
    pub fn a_singular(&self) -> String {
        let article = match self.singular.chars().next() {
            Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
            _ => "a",
        };
        format!("{article} {}", self.singular)
    }

    pub fn writable(&self) -> impl Iterator<Item = &'static Field> {
        self.fields.iter().filter(|f| !f.read_only)
    }

    /// Normalise and check every field; all problems at once, each naming its field.
    pub fn validate(&self, raw: &Values) -> Result<Values, Vec<FieldError>> {
        let mut out = Values::new();
        let mut errors = vec![];
        for field in self.writable() {
            let v = raw
                .get(field.name)
                .cloned()
                .flatten()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            let v = match (field.kind, v) {
                (Kind::Bool, None) => Some("false".to_string()),
                (_, v) => v,
            };
            match check_value(field, v.as_deref()) {
                Ok(norm) => {
                    out.insert(field.name.to_string(), norm);
                }
                Err(message) => errors.push(FieldError {
                    field: field.name.into(),
                    message,
                }),
            }
        }
        if errors.is_empty() {
            if let Err(e) = (self.check)(&out) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// One value, normalised: None when empty (and allowed to be).
fn check_value(field: &Field, v: Option<&str>) -> Result<Option<String>, String> {
    let Some(v) = v else {
        return if field.required {
            Err("is required".into())
        } else {
            Ok(None)
        };
    };
    let norm = match field.kind {
        Kind::Text if v.chars().count() > 255 => {
            return Err("must be at most 255 characters".into());
        }
        Kind::Text | Kind::LongText => v.to_string(),
        Kind::Money(int_digits) => money(v, int_digits)?,
        Kind::Amount { positive, max } => amount(v, positive, max)?,
        Kind::Int { min } => whole(v, min)?,
        Kind::Bool => boolean(v)?,
        Kind::Enum(_, labels) => {
            if !labels.contains(&v) {
                return Err(format!("must be one of {}", labels.join(", ")));
            }
            v.to_string()
        }
        Kind::Ref(_) => reference(v)?,
        Kind::EffortRules => effort_rules(v)?,
    };
    Ok(Some(norm))
}

fn decimal(v: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(v).map_err(|_| format!("{v:?} is not a number"))
}

fn money(v: &str, int_digits: u32) -> Result<String, String> {
    let d = decimal(v)?;
    if d < Decimal::ZERO {
        return Err("must not be negative".into());
    }
    if d.normalize().scale() > 2 {
        return Err("must have at most 2 decimals".into());
    }
    if d >= Decimal::from(10i64.pow(int_digits)) {
        return Err(format!("must be less than {}", 10i64.pow(int_digits)));
    }
    Ok(d.to_string())
}

fn amount(v: &str, positive: bool, max: i64) -> Result<String, String> {
    let d = decimal(v)?;
    if d < Decimal::ZERO || (positive && d.is_zero()) {
        return Err(if positive {
            "must be more than 0".into()
        } else {
            "must not be negative".into()
        });
    }
    if d > Decimal::from(max) {
        return Err(format!("must be at most {max}"));
    }
    if d.normalize().scale() > 2 {
        return Err("must have at most 2 decimals".into());
    }
    Ok(d.to_string())
}

fn whole(v: &str, min: i64) -> Result<String, String> {
    let n: i64 = v
        .parse()
        .map_err(|_| format!("{v:?} is not a whole number"))?;
    if n < min || n > i32::MAX as i64 {
        return Err(format!("must be a whole number of at least {min}"));
    }
    Ok(n.to_string())
}

fn boolean(v: &str) -> Result<String, String> {
    match v {
        "true" | "on" | "1" | "yes" => Ok("true".into()),
        "false" | "off" | "0" | "no" => Ok("false".into()),
        _ => Err("must be true or false".into()),
    }
}

fn reference(v: &str) -> Result<String, String> {
    let n: i64 = v.parse().map_err(|_| format!("{v:?} is not an id"))?;
    if n < 1 || n > i32::MAX as i64 {
        return Err("is not an id".into());
    }
    Ok(n.to_string())
}

fn effort_rules(v: &str) -> Result<String, String> {
    let json: serde_json::Value =
        serde_json::from_str(v).map_err(|e| format!("is not valid JSON: {e}"))?;
    crate::quote::pricing::parse_effort_rules(&json)?;
    Ok(json.to_string())
}

/// The PostgreSQL cast for a field's text value.
pub fn cast(kind: Kind) -> &'static str {
    match kind {
        Kind::Text | Kind::LongText => "text",
        Kind::Money(_) | Kind::Amount { .. } => "numeric",
        Kind::Int { .. } | Kind::Ref(_) => "int",
        Kind::Bool => "boolean",
        Kind::Enum(t, _) => t,
        Kind::EffortRules => "jsonb",
    }
}
