//! The form of a catalog row on the pages: one input per writable field (kind, options, value,
//! problem), the values a new row starts with, and the submitted fields back as values (the
//! effort-rules editor sends one input per key).
use super::field::{Catalog, Field, Kind, Values};
use super::store;
use crate::error::{AppResult, FieldError};
use serde_json::Value;
use sqlx::PgConnection;

/// One input of a form, ready to render.
pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// text | textarea | number | select | checkbox | json
    pub input: &'static str,
    pub value: String,
    pub required: bool,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
}

impl FormField {
    pub fn rules(&self) -> Vec<(&'static str, &'static str, String)> {
        rule_inputs(&self.value)
    }

    pub fn selected(&self, v: &str) -> bool {
        self.value == v
    }
    pub fn checked(&self) -> bool {
        self.value == "true"
    }
}

/// The inputs of a catalog's form with these values, each with its problem if it has one.
pub async fn form_fields(
    conn: &mut PgConnection,
    c: &Catalog,
    values: &Values,
    errors: &[FieldError],
) -> AppResult<Vec<FormField>> {
    let mut out = vec![];
    for f in c.writable() {
        let (input, options) = input_of(conn, f).await?;
        out.push(FormField {
            name: f.name,
            label: f.label,
            hint: f.hint,
            input,
            value: values.get(f.name).cloned().flatten().unwrap_or_default(),
            required: f.required,
            options,
            error: errors
                .iter()
                .find(|e| e.field == f.name)
                .map(|e| e.message.clone()),
        });
    }
    Ok(out)
}

/// The input a field is shown as, and its options (value, label) when it is a choice.
async fn input_of(
    conn: &mut PgConnection,
    f: &Field,
) -> AppResult<(&'static str, Vec<(String, String)>)> {
    Ok(match f.kind {
        Kind::Text => ("text", vec![]),
        Kind::LongText => ("textarea", vec![]),
        Kind::EffortRules => ("json", vec![]),
        Kind::Money(_) | Kind::Amount { .. } | Kind::Int { .. } => ("number", vec![]),
        Kind::Bool => ("checkbox", vec![]),
        Kind::Enum(_, labels) => (
            "select",
            labels
                .iter()
                .map(|l| (l.to_string(), l.to_string()))
                .collect(),
        ),
        Kind::Ref(target) => {
            let blank = if f.required {
                "Choose…"
            } else {
                "Any / every"
            };
            let mut o = vec![(String::new(), blank.to_string())];
            o.extend(
                store::options(conn, target)
                    .await?
                    .into_iter()
                    .map(|(id, n)| (id.to_string(), n)),
            );
            ("select", o)
        }
    })
}

/// What the form to add a row starts with.
pub fn defaults(c: &Catalog) -> Values {
    c.writable()
        .map(|f| {
            let v = match f.kind {
                Kind::Bool => Some("true".to_string()),
                Kind::Int { min } if f.required => Some(
                    min.max(if f.name == "priority" { 0 } else { 1 })
                        .to_string(),
                ),
                Kind::Enum(_, labels) => Some(labels[0].to_string()),
                _ => None,
            };
            (f.name.to_string(), v)
        })
        .collect()
}

/// Form fields -> values (an unticked checkbox is absent: false).
pub fn form_values(fields: Vec<(String, String)>) -> Values {
    let mut v = Values::new();
    // The effort-rules editor sends one input per key: `effort_calculation_rules.base_hours`...
    let mut rules = serde_json::Map::new();
    let mut rules_field = None;
    for (k, val) in fields {
        if let Some((field, key)) = k.split_once('.') {
            rules_field = Some(field.to_string());
            if !val.trim().is_empty() {
                let n = serde_json::from_str::<Value>(val.trim())
                    .ok()
                    .filter(|n| n.is_number());
                rules.insert(key.to_string(), n.unwrap_or(Value::String(val)));
            }
        } else if k != "csrf" {
            v.insert(k, Some(val));
        }
    }
    if let Some(field) = rules_field {
        let json = (!rules.is_empty()).then(|| Value::Object(rules).to_string());
        v.insert(field, json);
    }
    v
}

/// The four effort-rule inputs: (key, label, value).
pub fn rule_inputs(json: &str) -> Vec<(&'static str, &'static str, String)> {
    let v: Value = serde_json::from_str(json).unwrap_or_default();
    [
        ("base_hours", "Base hours"),
        ("hours_per_target_minute", "+ hours per target minute"),
        ("min_hours", "At least (hours)"),
        ("max_hours", "At most (hours)"),
    ]
    .into_iter()
    .map(|(k, l)| {
        let shown = v.get(k).map(|x| {
            x.as_str()
                .map(String::from)
                .unwrap_or_else(|| x.to_string())
        });
        (k, l, shown.unwrap_or_default())
    })
    .collect()
}
