//! One row of a catalog as the engine reads it, what people call it, and its JSON shape both
//! ways: the row as the API shows it, and a JSON body as the text values the engine checks.
use super::field::{Catalog, Kind, Values, invalid};
use crate::error::{AppError, AppResult, FieldError};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One row: its id, each field's value as text, and the name behind each reference.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i32,
    pub values: Values,
    pub labels: BTreeMap<String, Option<String>>,
}

impl Row {
    pub fn value(&self, field: &str) -> &str {
        self.values
            .get(field)
            .and_then(|v| v.as_deref())
            .unwrap_or("")
    }

    /// The name behind a reference field, if it points anywhere.
    pub fn label(&self, field: &str) -> Option<String> {
        self.labels.get(field).cloned().flatten()
    }

    /// What a person calls this row.
    pub fn title(&self, c: &Catalog) -> String {
        if !c.is_rule {
            return self.value("name").to_string();
        }
        c.fields
            .iter()
            .filter_map(|f| match f.kind {
                Kind::Ref(_) => Some(self.label(f.name).unwrap_or_else(|| "any".into())),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The row as the API shows it: decimals as strings (exact), numbers, booleans, JSON.
    pub fn to_json(&self, c: &Catalog) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        for f in c.fields {
            let v = self.values.get(f.name).cloned().flatten();
            let j = match (f.kind, v) {
                (_, None) => Value::Null,
                (Kind::Int { .. } | Kind::Ref(_), Some(s)) => {
                    s.parse::<i64>().map(Value::from).unwrap_or(Value::Null)
                }
                (Kind::Bool, Some(s)) => Value::Bool(s == "true"),
                (Kind::EffortRules, Some(s)) => serde_json::from_str(&s).unwrap_or(Value::Null),
                (_, Some(s)) => Value::String(s),
            };
            m.insert(f.name.into(), j);
        }
        Value::Object(m)
    }
}

/// A JSON body as text values; unknown fields and wrong shapes are named.
pub fn from_json(c: &Catalog, body: Value) -> AppResult<Values> {
    let Value::Object(m) = body else {
        return Err(AppError::field("body", "must be a JSON object"));
    };
    let mut values = Values::new();
    let mut errors = vec![];
    for (k, v) in m {
        let Some(f) = c.writable().find(|f| f.name == k) else {
            if k != "id" {
                errors.push(FieldError {
                    field: k.clone(),
                    message: "is not a field of this catalog".into(),
                });
            }
            continue;
        };
        match json_text(f.kind, &v) {
            Some(text) => {
                values.insert(k, text);
            }
            None => errors.push(FieldError {
                field: k.clone(),
                message: "has the wrong type".into(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(invalid(errors))
    }
}

/// One JSON value as a field's text (`Some(None)`: empty); None when it has the wrong type.
fn json_text(kind: Kind, v: &Value) -> Option<Option<String>> {
    let numeric = matches!(
        kind,
        Kind::Money(_) | Kind::Amount { .. } | Kind::Int { .. } | Kind::Ref(_)
    );
    match (v, kind) {
        (Value::Null, _) => Some(None),
        (Value::String(s), _) => Some(Some(s.clone())),
        (Value::Number(n), _) if numeric => Some(Some(n.to_string())),
        (Value::Bool(b), Kind::Bool) => Some(Some(b.to_string())),
        (Value::Object(_), Kind::EffortRules) => Some(Some(v.to_string())),
        _ => None,
    }
}
