//! The audit log in people's words: each entry's action as a sentence ("Added coverage",
//! "Changed status New → Contacted"), its record by name with a link where the record has a
//! page ("Quote #3 · Emma Rodriguez"), and its details as a list ("Quantity: 1 → 2").
//!
//! The names come from the page's one query: `RECORD_SQL` names the entry's record and
//! `names_sql` every record its details point at by id (a scene, an operator, a team member),
//! both as lateral lookups over the page's rows only. What an entry says is then worked out
//! here, without the database.
use crate::catalog::field::{Catalog, Kind};
use crate::catalog::spec::CATALOGS;
use crate::studio::Studio;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// One entry as read by the page query.
#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub id: i32,
    pub at: DateTime<Utc>,
    /// The team member who did it (None: the system, a couple, a public form).
    pub who: Option<String>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<i32>,
    pub details: Option<Value>,
    /// The record's name (None: it is gone, or it has none).
    pub record_name: Option<String>,
    /// Another id the record's page is found by (a to-do's inquiry, a couple's contact), or a
    /// nameless rules row's own id when it still exists.
    pub record_link: Option<i32>,
    /// "key:id" -> name of every record the details point at.
    pub names: Option<Value>,
}

/// An entry as the page shows it.
pub struct Entry {
    pub id: i32,
    pub at: DateTime<Utc>,
    /// Who did it: a team member, or who else (the couple, the website form, the system).
    pub who: String,
    /// Whether `who` is a team member.
    pub person: bool,
    pub what: String,
    pub record: Option<Record>,
    /// (label, value) pairs.
    pub details: Vec<(String, String)>,
}

pub struct Record {
    pub text: String,
    pub href: Option<String>,
}

/// The record of an entry, by name (a lateral lookup; each branch runs only for its kind).
pub fn record_sql() -> String {
    let person = "trim(concat_ws(' ', c.first_name, c.last_name))";
    let mut branches = vec![
        format!(
            "SELECT {person} AS name, NULL::int AS link FROM builds b
             JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
             WHERE p.entity_type = 'build' AND b.id = p.entity_id"
        ),
        format!(
            "SELECT {person}, NULL FROM inquiries i JOIN contacts c ON c.id = i.contact_id
             WHERE p.entity_type = 'inquiry' AND i.id = p.entity_id"
        ),
        format!(
            "SELECT {person}, NULL FROM contributors co JOIN contacts c ON c.id = co.contact_id
             WHERE p.entity_type = 'contributor' AND co.id = p.entity_id"
        ),
        format!(
            "SELECT {person}, c.id FROM clients cl JOIN contacts c ON c.id = cl.contact_id
             WHERE p.entity_type = 'client' AND cl.id = p.entity_id"
        ),
        format!(
            "SELECT {person}, c.id FROM client_users cu JOIN clients cl ON cl.id = cu.client_id
             JOIN contacts c ON c.id = cl.contact_id
             WHERE p.entity_type = 'client_user' AND cu.id = p.entity_id"
        ),
        "SELECT a.title, a.inquiry_id FROM activities a
         WHERE p.entity_type = 'activity' AND a.id = p.entity_id"
            .into(),
        "SELECT d.file_name, NULL FROM documents d
         WHERE p.entity_type = 'document' AND d.id = p.entity_id"
            .into(),
        "SELECT t.name, NULL FROM api_tokens t
         WHERE p.entity_type = 'api_token' AND t.id = p.entity_id"
            .into(),
        "SELECT r.name, NULL FROM roles r WHERE p.entity_type = 'role' AND r.id = p.entity_id"
            .into(),
        "SELECT k.name, NULL FROM packages k
         WHERE p.entity_type = 'package' AND k.id = p.entity_id"
            .into(),
    ];
    for c in CATALOGS {
        let (name, link) = match c.is_rule {
            true => ("NULL", "id"),
            false => ("name", "NULL"),
        };
        branches.push(format!(
            "SELECT {name}, {link} FROM {t} WHERE p.entity_type = '{t}' AND id = p.entity_id",
            t = c.table
        ));
    }
    branches.join("\nUNION ALL\n")
}

/// What an id in an entry's details points at.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ref {
    Scene,
    Operator,
    Item,
    Style,
    Film,
    TaskTemplate,
    Person,
    Inquiry,
    Contact,
    Quote,
    CoverageLine,
    AddOnLine,
    FilmLine,
    Component,
}

/// The keys of details that hold ids, and what they point at.
const REFS: &[(&str, Ref)] = &[
    ("scene", Ref::Scene),
    ("coverage_scene_id", Ref::Scene),
    ("operator", Ref::Operator),
    ("operator_type_id", Ref::Operator),
    ("item", Ref::Item),
    ("billable_item_id", Ref::Item),
    ("style", Ref::Style),
    ("editing_style_id", Ref::Style),
    ("default_editing_style_id", Ref::Style),
    ("deliverable", Ref::Film),
    ("deliverable_id", Ref::Film),
    ("task_template_id", Ref::TaskTemplate),
    ("assignee", Ref::Person),
    ("assigned_to", Ref::Person),
    ("inquiry", Ref::Inquiry),
    ("contact_id", Ref::Contact),
    ("from_build", Ref::Quote),
    ("coverage", Ref::CoverageLine),
    ("line", Ref::AddOnLine),
    ("build_deliverable", Ref::FilmLine),
    ("component", Ref::Component),
];

impl Ref {
    fn of(key: &str) -> Option<Ref> {
        REFS.iter().find(|r| r.0 == key).map(|r| r.1)
    }

    /// The name of the row with id `id` (an SQL expression).
    fn sql(self, id: &str) -> String {
        let person = "trim(concat_ws(' ', c.first_name, c.last_name))";
        let named = |table: &str| format!("(SELECT name FROM {table} WHERE id = {id})");
        match self {
            Ref::Scene => named("coverage_scenes"),
            Ref::Operator => named("operator_types"),
            Ref::Item => named("billable_items"),
            Ref::Style => named("editing_styles"),
            Ref::Film => named("deliverables"),
            Ref::TaskTemplate => named("task_templates"),
            Ref::Person => format!(
                "(SELECT {person} FROM contributors co JOIN contacts c ON c.id = co.contact_id
                  WHERE co.id = {id})"
            ),
            Ref::Inquiry => format!(
                "(SELECT {person} FROM inquiries i JOIN contacts c ON c.id = i.contact_id
                  WHERE i.id = {id})"
            ),
            Ref::Contact => format!("(SELECT {person} FROM contacts c WHERE c.id = {id})"),
            Ref::Quote => format!(
                "(SELECT 'Quote #' || b.id || ' · ' || {person} FROM builds b
                  JOIN inquiries i ON i.id = b.inquiry_id JOIN contacts c ON c.id = i.contact_id
                  WHERE b.id = {id})"
            ),
            Ref::CoverageLine => format!(
                "(SELECT s.name FROM build_coverage_assignments l
                  JOIN coverage_scenes s ON s.id = l.coverage_scene_id WHERE l.id = {id})"
            ),
            Ref::AddOnLine => format!(
                "(SELECT i.name FROM build_billable_items l
                  JOIN billable_items i ON i.id = l.billable_item_id WHERE l.id = {id})"
            ),
            Ref::FilmLine => format!(
                "(SELECT d.name FROM build_deliverables l
                  JOIN deliverables d ON d.id = l.deliverable_id WHERE l.id = {id})"
            ),
            Ref::Component => format!(
                "(SELECT d.name || ': ' || s.name FROM build_components l
                  JOIN coverage_scenes s ON s.id = l.coverage_scene_id
                  JOIN build_deliverables bd ON bd.id = l.build_deliverable_id
                  JOIN deliverables d ON d.id = bd.deliverable_id WHERE l.id = {id})"
            ),
        }
    }

    /// What it is called when it is gone.
    fn noun(self) -> &'static str {
        match self {
            Ref::Scene => "scene",
            Ref::Operator => "operator type",
            Ref::Item | Ref::AddOnLine => "add-on",
            Ref::Style => "editing style",
            Ref::Film | Ref::FilmLine => "film",
            Ref::TaskTemplate => "task template",
            Ref::Person => "team member",
            Ref::Inquiry => "inquiry",
            Ref::Contact => "contact",
            Ref::Quote => "quote",
            Ref::CoverageLine => "coverage line",
            Ref::Component => "component",
        }
    }
}

/// The names of every record an entry's details point at, as one jsonb object "key:id" ->
/// name (a lateral lookup): ids directly in the details, in their `before`, `after` and
/// `change` (and the change's `before` and `after`); and a role change's permissions.
pub fn names_sql() -> String {
    let id = "(e.value #>> '{}')::int";
    let keys = REFS
        .iter()
        .map(|(k, _)| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let cases = REFS
        .iter()
        .map(|(k, r)| format!("WHEN '{k}' THEN {}", r.sql(id)))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "SELECT jsonb_object_agg(x.k, x.name) AS names FROM (
           SELECT e.key || ':' || (e.value #>> '{{}}') AS k, CASE e.key {cases} END AS name
           FROM (VALUES (p.details), (p.details -> 'before'), (p.details -> 'after'),
                        (p.details -> 'change'), (p.details -> 'change' -> 'before'),
                        (p.details -> 'change' -> 'after')) o(obj)
           CROSS JOIN LATERAL
               jsonb_each(CASE WHEN jsonb_typeof(o.obj) = 'object' THEN o.obj END) e
           WHERE e.key IN ({keys}) AND jsonb_typeof(e.value) = 'number'
             AND (e.value #>> '{{}}') ~ '^[0-9]{{1,9}}$'
           UNION ALL
           SELECT 'permission:' || pm.action_name, pm.description FROM permissions pm
           WHERE p.action = 'roles.permissions.change'
             AND (p.details -> 'before' ? pm.action_name OR p.details -> 'after' ? pm.action_name)
         ) x"
    )
}

/// A kind of record as the filter names it: "Quotes", "Coverage scenes".
pub fn kind_label(entity_type: &str) -> String {
    if let Some(c) = catalog_of(entity_type) {
        return c.title.to_string();
    }
    match entity_type {
        "build" => "Quotes",
        "inquiry" => "Inquiries",
        "contributor" => "Team members",
        "client" => "Couples",
        "client_user" => "Portal logins",
        "activity" => "To-dos",
        "document" => "Documents",
        "api_token" => "API tokens",
        "role" => "Roles",
        "package" => "Packages",
        "studio_settings" => "Studio settings",
        other => return humanize(other),
    }
    .to_string()
}

fn catalog_of(entity_type: &str) -> Option<&'static Catalog> {
    CATALOGS.iter().find(|c| c.table == entity_type)
}

/// "default_hourly_rate" -> "Default hourly rate"; "contact_id" -> "Contact".
fn humanize(key: &str) -> String {
    let key = key.strip_suffix("_id").unwrap_or(key);
    let words = key.replace(['_', '.', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "a" or "an", by the sound of the word's first letter.
fn a(noun: &str) -> String {
    let vowel = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

/// Keys whose values are amounts of money.
const MONEY: &[&str] = &[
    "price",
    "live_price",
    "total",
    "editing_hourly_rate",
    "default_hourly_rate",
    "default_fixed_price",
    "fixed_price",
];

/// The order of details that are not a catalog row's fields.
const ORDER: &[&str] = &[
    "name",
    "email",
    "role",
    "component",
    "coverage",
    "scene",
    "operator",
    "item",
    "deliverable",
    "style",
    "target_minutes",
    "included",
    "quantity",
    "hours",
    "price",
    "file",
    "bytes",
    "studio_name",
    "currency_code",
    "time_zone",
];

/// What a detail is called, when its key does not say it well.
fn label(key: &str) -> String {
    let known = match key {
        "live_price" => "Quote total",
        "total" => "Proposal total",
        "version" => "Proposal version",
        "item" | "line" => "Add-on",
        "style" => "Editing style",
        "deliverable" | "build_deliverable" => "Film",
        "coverage" => "Coverage",
        "assignee" => "Assigned to",
        "assigned_to" => "Follow-up by",
        "returning" => "Returning couple",
        "source" => "Lead source",
        "ip" => "From address",
        "sha256" => "Text SHA-256",
        "reason" => "Reason",
        "via" => "Through",
        "from_build" => "From",
        "bytes" => "Size",
        "type" => "Kind",
        "active" => "Login on",
        "tax_rate_percent" => "Tax rate (%)",
        "deposit_percent" => "Deposit (%)",
        "balance_due_days_before_wedding" => "Balance due (days before the wedding)",
        "task_phase_order" => "Task phases",
        "proposal_valid_days" => "Proposals open for (days)",
        "delivery_weeks_after_wedding" => "Films delivered within (weeks of the wedding)",
        "notify_email_kinds" => "Also emailed to the owner",
        "included" => "Included",
        _ => return humanize(key),
    };
    known.to_string()
}

/// How one entry is put into words: its details, the names they point at, the studio (for
/// money) and, for a catalog row, its catalog (for the fields' labels and kinds).
struct Words<'a> {
    details: &'a Value,
    names: Option<&'a Map<String, Value>>,
    studio: &'a Studio,
    catalog: Option<&'static Catalog>,
}

impl Words<'_> {
    fn get(&self, path: &[&str]) -> Option<&Value> {
        let mut v = self.details;
        for p in path {
            v = v.get(p)?;
        }
        (!v.is_null()).then_some(v)
    }

    fn text(&self, path: &[&str]) -> Option<String> {
        self.get(path).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    fn object(&self, path: &[&str]) -> Option<&Map<String, Value>> {
        self.get(path).and_then(Value::as_object)
    }

    fn label(&self, key: &str) -> String {
        let field = self
            .catalog
            .and_then(|c| c.fields.iter().find(|f| f.name == key));
        field.map_or_else(|| label(key), |f| f.label.to_string())
    }

    /// Where a detail goes in the list: a catalog row's in its fields' order, others in
    /// `ORDER` and then by name.
    fn rank(&self, key: &str) -> (usize, String) {
        let field = self
            .catalog
            .and_then(|c| c.fields.iter().position(|f| f.name == key));
        let known = ORDER.iter().position(|k| *k == key);
        (field.or(known).unwrap_or(usize::MAX), key.to_string())
    }

    fn ordered<'m>(&self, keys: impl Iterator<Item = &'m String>) -> Vec<&'m String> {
        let mut keys: Vec<&String> = keys.collect();
        keys.sort_by_cached_key(|k| self.rank(k));
        keys.dedup();
        keys
    }

    fn kind(&self, key: &str) -> Option<Kind> {
        let field = self.catalog?.fields.iter().find(|f| f.name == key);
        field.map(|f| f.kind)
    }

    /// A detail's value as people read it.
    fn value(&self, key: &str, v: &Value) -> String {
        if let (Some(r), Some(id)) = (Ref::of(key), v.as_i64()) {
            let name = self.names.and_then(|n| n.get(&format!("{key}:{id}")));
            return match name.and_then(Value::as_str) {
                Some(name) => name.to_string(),
                None => format!("{} (since deleted)", a(r.noun())),
            };
        }
        let money = MONEY.contains(&key) || matches!(self.kind(key), Some(Kind::Money(_)));
        match v {
            Value::Null => "—".into(),
            Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
            Value::String(_) | Value::Number(_) if money => {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                match text.parse::<Decimal>() {
                    Ok(d) => self.studio.money(d),
                    Err(_) => text,
                }
            }
            Value::Number(n) if key == "bytes" => match n.as_u64() {
                Some(b) if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / 1048576.0),
                Some(b) if b >= 1024 => format!("{} KB", b.div_ceil(1024)),
                _ => format!("{n} bytes"),
            },
            Value::Number(n) => n.to_string(),
            Value::String(s) if s.is_empty() => "—".into(),
            Value::String(s) => s.clone(),
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(|i| self.value("", i)).collect();
                if items.is_empty() {
                    "none".into()
                } else {
                    items.join(", ")
                }
            }
            Value::Object(m) => m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{}: {}", self.label(k), self.value(k, v)))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Whether two values say the same (2.5 and "2.50" do).
    fn same(a: &Value, b: &Value) -> bool {
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        match (text(a).parse::<Decimal>(), text(b).parse::<Decimal>()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        }
    }

    /// Every field of an object with a value: "Label: value".
    fn fields(&self, m: Option<&Map<String, Value>>, skip: &[&str]) -> Vec<(String, String)> {
        let Some(m) = m else { return vec![] };
        self.ordered(m.keys())
            .into_iter()
            .filter(|k| *k != "id" && !skip.contains(&k.as_str()) && !m[*k].is_null())
            .map(|k| (self.label(k), self.value(k, &m[k])))
            .collect()
    }

    /// The fields that changed from `before` to `after`: "Label: old → new"; without a
    /// `before`, every field of `after`.
    fn changes(
        &self,
        before: Option<&Map<String, Value>>,
        after: Option<&Map<String, Value>>,
        skip: &[&str],
    ) -> Vec<(String, String)> {
        let Some(before) = before else {
            return self.fields(after, skip);
        };
        let none = Value::Null;
        let keys = after.into_iter().flat_map(|a| a.keys());
        self.ordered(keys.chain(before.keys()))
            .into_iter()
            .filter(|k| *k != "id" && !skip.contains(&k.as_str()))
            .filter_map(|k| {
                let old = before.get(k).unwrap_or(&none);
                let new = after.and_then(|a| a.get(k)).unwrap_or(&none);
                (!Self::same(old, new)).then(|| {
                    let change = format!("{} → {}", self.value(k, old), self.value(k, new));
                    (self.label(k), change)
                })
            })
            .collect()
    }

    /// One detail, when the details have it.
    fn one(&self, key: &str, path: &[&str]) -> Vec<(String, String)> {
        let v = self.get(path);
        v.map(|v| (self.label(key), self.value(key, v)))
            .into_iter()
            .collect()
    }

    /// The quote's total after a change to it.
    fn total(&self) -> Vec<(String, String)> {
        self.one("live_price", &["live_price"])
    }
}

/// What an entry says: who did it, the sentence, the record and the details.
pub fn entry(row: AuditRow, studio: &Studio) -> Entry {
    let details = row.details.clone().unwrap_or(Value::Null);
    let names = row.names.as_ref().and_then(Value::as_object);
    let entity = row.entity_type.as_deref().unwrap_or("");
    let w = Words {
        details: &details,
        names,
        studio,
        catalog: catalog_of(entity),
    };
    let (what, list) = said(&row.action, &w, row.who.is_some());
    let (who, person) = match &row.who {
        Some(name) => (name.clone(), true),
        None => (not_a_person(&row.action, &w), false),
    };
    Entry {
        id: row.id,
        at: row.at,
        who,
        person,
        what,
        record: record(&row, &w),
        details: list,
    }
}

/// Who did what no team member did.
fn not_a_person(action: &str, w: &Words) -> String {
    match action {
        "builds.proposal.accept" => match w.text(&["name"]) {
            Some(name) => format!("{name} (the couple)"),
            None => "The couple".into(),
        },
        "contracts.sign" => match w.text(&["name"]) {
            Some(name) => format!("{name} (the couple)"),
            None => "The couple".into(),
        },
        "leads.inquiry.create" => "The website's inquiry form".into(),
        "users.create" => "The command line".into(),
        a if a.starts_with("portal.") => "The couple".into(),
        _ => "ProjectFlo".into(),
    }
}

/// The record an entry is about.
fn record(row: &AuditRow, w: &Words) -> Option<Record> {
    let entity = row.entity_type.as_deref()?;
    let id = row.entity_id;
    let name = row.record_name.clone().filter(|n| !n.is_empty());
    let with = |kind: &str| match &name {
        Some(n) => format!("{kind} · {n}"),
        None => kind.to_string(),
    };
    let href = |path: String| name.as_ref().map(|_| path);
    let (text, href) = match (entity, id) {
        ("build", Some(id)) => (
            with(&format!("Quote #{id}")),
            Some(format!("/quotes/{id}")).filter(|_| name.is_some()),
        ),
        ("inquiry", Some(id)) => (with("Inquiry"), href(format!("/leads/{id}"))),
        ("contributor", _) => (with("Team member"), None),
        ("client", _) => (
            with("Couple"),
            row.record_link.map(|c| format!("/contacts/{c}")),
        ),
        ("client_user", _) => (
            with("Portal login"),
            row.record_link.map(|c| format!("/contacts/{c}")),
        ),
        ("activity", _) => (
            with("To-do"),
            row.record_link.map(|i| format!("/leads/{i}")),
        ),
        ("document", Some(id)) => (with("Document"), href(format!("/documents/{id}"))),
        ("api_token", _) => (with("API token"), None),
        ("role", _) => (with("Role"), href("/settings/roles".into())),
        ("package", _) => (with("Package"), None),
        ("studio_settings", _) => ("Studio settings".into(), Some("/settings/studio".into())),
        (table, id) => match (catalog_of(table), id) {
            (Some(c), Some(id)) => catalog_record(c, id, name, row.record_link, w),
            _ => (humanize(table), None),
        },
    };
    Some(Record { text, href })
}

/// A catalog row: "Coverage scene · Ceremony" (its name then, or when deleted, its name as it
/// was); a rules row by what it joins ("Style requirement · Cinematic · Film Grain Pass").
fn catalog_record(
    c: &Catalog,
    id: i32,
    name: Option<String>,
    exists: Option<i32>,
    w: &Words,
) -> (String, Option<String>) {
    let kind = {
        let mut s = c.singular.chars();
        s.next()
            .map(|f| f.to_uppercase().chain(s).collect::<String>())
            .unwrap_or_default()
    };
    let row = w.object(&["after"]).or_else(|| w.object(&["before"]));
    let title = match c.is_rule {
        false => name.clone().or_else(|| w.text(&["before", "name"])),
        true => {
            let refs: Vec<String> = c
                .fields
                .iter()
                .filter(|f| matches!(f.kind, Kind::Ref(_)))
                .map(|f| match row.and_then(|r| r.get(f.name)) {
                    Some(v) if !v.is_null() => w.value(f.name, v),
                    _ => "any".into(),
                })
                .collect();
            (!refs.is_empty() && row.is_some()).then(|| refs.join(" · "))
        }
    };
    let text = match title {
        Some(t) => format!("{kind} · {t}"),
        None => kind,
    };
    let alive = name.is_some() || exists.is_some();
    let href = alive.then(|| format!("/settings/catalog/{}/{id}", c.slug));
    (text, href)
}

/// The sentence and the details of an action.
fn said(action: &str, w: &Words, by_person: bool) -> (String, Vec<(String, String)>) {
    let s = |t: &str| t.to_string();
    let changed = || w.changes(w.object(&["before"]), w.object(&["after"]), &[]);
    match action {
        "auth.login" => (s("Logged in"), w.one("ip", &["ip"])),
        "auth.logout" => (s("Logged out"), vec![]),
        "auth.password_reset.request" => (s("Asked for a password reset link"), vec![]),
        "auth.password_reset.complete" => (s("Chose a new password from a reset link"), vec![]),
        "auth.staff_invite.complete" => (s("Accepted the invitation and chose a password"), vec![]),
        "auth.password.change" => (s("Changed their password"), vec![]),
        "auth.token.create" => {
            let expires = match w.get(&["expires_in_days"]) {
                Some(d) => format!("after {d} days"),
                None => s("never"),
            };
            let mut list = w.one("name", &["name"]);
            list.push((s("Expires"), expires));
            (s("Created an API token"), list)
        }
        "auth.token.revoke" => (s("Revoked an API token"), vec![]),
        "users.create" | "users.invite" => {
            let what = match action {
                "users.create" => "Created a login",
                _ => "Invited to the team",
            };
            let mut list = w.fields(w.object(&["after"]), &[]);
            if w.get(&["via"]).is_some() && by_person {
                list.extend(w.one("via", &["via"]));
            }
            (s(what), list)
        }
        "users.role.change" => match (w.text(&["before", "role"]), w.text(&["after", "role"])) {
            (Some(old), Some(new)) => (format!("Changed the role {old} → {new}"), vec![]),
            _ => (s("Changed the role"), changed()),
        },
        "users.activate" => (s("Turned the login on"), vec![]),
        "users.deactivate" => (s("Turned the login off"), vec![]),
        "roles.permissions.change" => (s("Changed what the role may do"), permissions(w)),
        "portal.invite" => (
            s("Invited to the client portal"),
            w.one("email", &["email"]),
        ),
        "portal.password.set" | "portal.portal_invite.complete" => {
            (s("Chose a portal password"), vec![])
        }
        "portal.password_reset.request" => (s("Asked for a portal password reset link"), vec![]),
        "portal.password_reset.complete" => {
            (s("Chose a new portal password from a reset link"), vec![])
        }
        "leads.inquiry.create" => {
            let what = if by_person {
                "Added an inquiry"
            } else {
                "Received an inquiry"
            };
            (s(what), w.fields(w.object(&["after"]), &["contact_id"]))
        }
        "leads.inquiry.status" => {
            match (w.text(&["before", "status"]), w.text(&["after", "status"])) {
                (Some(old), Some(new)) => (format!("Changed status {old} → {new}"), vec![]),
                _ => (s("Changed status"), changed()),
            }
        }
        "leads.activity.complete" => (s("Completed a to-do"), vec![]),
        "leads.activity.reassign" => (s("Reassigned a to-do"), changed()),
        "leads.communication.log" => {
            let kind = w.text(&["type"]).unwrap_or_else(|| s("note"));
            (format!("Logged {}", a(&kind.to_lowercase())), vec![])
        }
        "leads.document.upload" => (
            s("Uploaded a document"),
            [w.one("file", &["file"]), w.one("bytes", &["bytes"])].concat(),
        ),
        "builds.create" => (s("Started a quote"), vec![]),
        "builds.configure" => {
            let from = w.text(&["from"]).unwrap_or_default();
            let what = match from.strip_prefix("quote ") {
                Some(id) => format!("Filled the quote from quote #{id}"),
                None if from.is_empty() => s("Filled the quote"),
                None => format!("Filled the quote from {from}"),
            };
            (what, w.total())
        }
        "builds.coverage.add" => (
            s("Added coverage"),
            [w.fields(w.object(&["change"]), &[]), w.total()].concat(),
        ),
        "builds.coverage.update" => {
            let (before, after) = (
                w.object(&["change", "before"]),
                w.object(&["change", "after"]),
            );
            let scene = w.one("coverage", &["change", "coverage"]);
            let list = w.changes(before, after, &[]);
            let list = if before.is_some() {
                list
            } else {
                [scene, list].concat()
            };
            (s("Changed coverage"), [list, w.total()].concat())
        }
        "builds.coverage.remove" => (
            s("Removed coverage"),
            [w.fields(w.object(&["change", "before"]), &[]), w.total()].concat(),
        ),
        "builds.deliverable.add" => (
            s("Added a film"),
            [w.one("deliverable", &["change", "deliverable"]), w.total()].concat(),
        ),
        "builds.deliverable.remove" => (
            s("Removed a film"),
            [w.fields(w.object(&["change", "before"]), &[]), w.total()].concat(),
        ),
        "builds.component.update" => {
            let component = w.one("component", &["change", "component"]);
            let after = w.object(&["change"]);
            let before = w.object(&["change", "before"]);
            let list = w.changes(before, after, &["component", "before"]);
            (
                s("Changed a film's part"),
                [component, list, w.total()].concat(),
            )
        }
        "builds.billable.add" => (
            s("Added an add-on"),
            [w.fields(w.object(&["change"]), &[]), w.total()].concat(),
        ),
        "builds.billable.remove" => (
            s("Removed an add-on"),
            [w.fields(w.object(&["change", "before"]), &[]), w.total()].concat(),
        ),
        "builds.proposal.send" => (
            s("Sent the proposal"),
            [
                w.one("version", &["version"]),
                w.one("total", &["total"]),
                w.total(),
            ]
            .concat(),
        ),
        "builds.proposal.accept" => (s("Accepted the proposal"), w.one("version", &["version"])),
        "builds.proposal.withdraw" => (
            s("Took back the couple's acceptance to change the quote"),
            w.one("version", &["version"]),
        ),
        "contracts.create" => (s("Made the contract"), w.one("version", &["version"])),
        "contracts.signer.add" => (
            s("Added a partner to sign the contract"),
            [w.one("name", &["name"]), w.one("email", &["email"])].concat(),
        ),
        "contracts.signer.resend" => (s("Sent a new signing link"), w.one("name", &["name"])),
        "contracts.sign" => (
            s(if w.text(&["role"]).as_deref() == Some("studio") {
                "Countersigned the contract"
            } else {
                "Signed the contract"
            }),
            [w.one("ip", &["ip"]), w.one("sha256", &["sha256"])].concat(),
        ),
        "contracts.void" => (s("Voided the contract"), w.one("reason", &["reason"])),
        "settings.contract_template.update" => (s("Changed the contract template"), vec![]),
        "settings.proposal.update" => (
            s("Changed the proposal page"),
            [
                w.one("logo", &["logo"]),
                w.one("welcome changed", &["intro_changed"]),
                w.one("terms changed", &["terms_changed"]),
            ]
            .concat(),
        ),
        "settings.auto_book.update" => (
            s("Changed when a signed contract books the quote"),
            [w.one("before", &["before"]), w.one("after", &["after"])].concat(),
        ),
        "builds.book" => (
            s(if w.text(&["automatic"]).is_some() {
                "Booked the wedding automatically, on the contract's last signature"
            } else {
                "Booked the wedding"
            }),
            [
                w.one("reason", &["reason"]),
                w.one("approved_price", &["approved_price"]),
            ]
            .concat(),
        ),
        "builds.auto_book.fail" => (
            s("Could not book the signed contract automatically"),
            w.one("reason", &["reason"]),
        ),
        "packages.create" => (
            s("Saved a package"),
            [
                w.one("name", &["name"]),
                w.one("from_build", &["from_build"]),
            ]
            .concat(),
        ),
        "settings.studio.update" => (s("Changed the studio settings"), changed()),
        "payment_schedules.create" => (s("Added a payment schedule"), w.one("name", &["name"])),
        "payment_schedules.update" => (s("Changed a payment schedule"), w.one("name", &["name"])),
        "payment_schedules.delete" => (s("Deleted a payment schedule"), w.one("name", &["name"])),
        "builds.payment_schedule" => (
            s("Chose the quote's payment schedule"),
            w.one("schedule", &["schedule"]),
        ),
        "projects.postpone" => (
            s("Moved the wedding date"),
            [
                w.one("from", &["from"]),
                w.one("to", &["to"]),
                w.one("invoices moved", &["moved"]),
            ]
            .concat(),
        ),
        "settings.reminders.update" => (
            s("Changed the payment reminders"),
            [
                w.one("days before", &["days_before"]),
                w.one("on the due day", &["on_due_day"]),
                w.one("first overdue after (days)", &["first_overdue_days"]),
                w.one("overdue every (days)", &["overdue_every_days"]),
                w.one("at most", &["overdue_max"]),
            ]
            .concat(),
        ),
        "invoices.email" => (s("Emailed the invoice"), w.one("to", &["to"])),
        "invoices.reminder" => (s("Sent a payment reminder"), w.one("stage", &["stage"])),
        "tasks.assign" => (
            s("Assigned tasks"),
            [
                w.one("tasks", &["tasks"]),
                w.one("planned hours", &["planned_hours"]),
            ]
            .concat(),
        ),
        "tasks.dependency.add" => (
            s("Made a task wait for another"),
            w.one("waits for task", &["blocking_task"]),
        ),
        "tasks.dependency.remove" => (
            s("Stopped a task waiting for another"),
            w.one("task", &["blocking_task"]),
        ),
        "contributors.capacity" => (
            s("Changed someone's weekly hours"),
            w.one("weekly hours", &["weekly_capacity_hours"]),
        ),
        _ => match catalog_action(action, w) {
            Some(said) => said,
            None => (humanize(action), generic(w)),
        },
    }
}

/// A catalog row added, changed or deleted: "Added a coverage scene" with its fields.
fn catalog_action(action: &str, w: &Words) -> Option<(String, Vec<(String, String)>)> {
    let rest = action.strip_prefix("catalog.")?;
    let (slug, verb) = rest.rsplit_once('.')?;
    let c = CATALOGS.iter().find(|c| c.slug == slug)?;
    let thing = a(c.singular);
    Some(match verb {
        "create" => (
            format!("Added {thing}"),
            w.fields(w.object(&["after"]), &[]),
        ),
        "update" => {
            let list = w.changes(w.object(&["before"]), w.object(&["after"]), &[]);
            (format!("Changed {thing}"), list)
        }
        "delete" => (format!("Deleted {thing}"), vec![]),
        other => (format!("{} {thing}", humanize(other)), generic(w)),
    })
}

/// The permissions a role gained and lost, by their descriptions.
fn permissions(w: &Words) -> Vec<(String, String)> {
    let list = |k: &str| -> Vec<String> {
        let items = w.get(&[k]).and_then(Value::as_array);
        items
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let (before, after) = (list("before"), list("after"));
    let name = |p: &String| {
        let described = w.names.and_then(|n| n.get(&format!("permission:{p}")));
        described
            .and_then(Value::as_str)
            .map_or_else(|| humanize(p), str::to_string)
    };
    let gained: Vec<String> = after
        .iter()
        .filter(|p| !before.contains(p))
        .map(name)
        .collect();
    let lost: Vec<String> = before
        .iter()
        .filter(|p| !after.contains(p))
        .map(name)
        .collect();
    let mut out = vec![];
    if !gained.is_empty() {
        out.push(("Now may".to_string(), gained.join("; ")));
    }
    if !lost.is_empty() {
        out.push(("No longer may".to_string(), lost.join("; ")));
    }
    out
}

/// Details of an action this page has no words for: before and after if it has them, its
/// fields otherwise.
fn generic(w: &Words) -> Vec<(String, String)> {
    let (before, after) = (w.object(&["before"]), w.object(&["after"]));
    if before.is_some() || after.is_some() {
        return w.changes(before, after, &[]);
    }
    match w.details {
        Value::Object(m) => w.fields(Some(m), &[]),
        Value::Null => vec![],
        other => vec![("Details".into(), w.value("", other))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn studio() -> Studio {
        Studio {
            studio_name: "Golden Hour Films".into(),
            currency_code: "USD".into(),
            time_zone: "America/New_York".into(),
            editing_hourly_rate: Decimal::new(85, 0),
            tax_rate_percent: Decimal::ZERO,
            deposit_percent: Decimal::new(30, 0),
            balance_due_days_before_wedding: 30,
            invoice_prefix: "GHF-".into(),
            task_phase_order: vec![],
            proposal_valid_days: 30,
            notify_email_kinds: vec![],
            delivery_weeks_after_wedding: 12,
            card_fee_percent: Decimal::new(290, 2),
            card_fee_fixed: Decimal::new(30, 2),
        }
    }

    fn row(action: &str, entity: &str, id: i32, details: Value) -> AuditRow {
        AuditRow {
            id: 1,
            at: Utc::now(),
            who: Some("Maya Chen".into()),
            action: action.into(),
            entity_type: Some(entity.into()),
            entity_id: Some(id),
            details: Some(details),
            record_name: None,
            record_link: None,
            names: None,
        }
    }

    #[test]
    fn a_coverage_change_names_the_scene_and_says_what_changed() {
        let mut r = row(
            "builds.coverage.update",
            "build",
            3,
            json!({"change": {"coverage": 9,
                  "before": {"scene": 2, "operator": 1, "quantity": 1, "hours": 1.50},
                  "after": {"scene": 2, "operator": 1, "quantity": 2, "hours": "1.5"}},
                  "live_price": "4200.00"}),
        );
        r.record_name = Some("Emma Rodriguez".into());
        r.names = Some(json!({"scene:2": "Ceremony", "operator:1": "Lead Videographer"}));
        let e = entry(r, &studio());
        assert_eq!(e.what, "Changed coverage");
        let record = e.record.unwrap();
        assert_eq!(record.text, "Quote #3 · Emma Rodriguez");
        assert_eq!(record.href.as_deref(), Some("/quotes/3"));
        assert_eq!(
            e.details,
            [
                ("Quantity".to_string(), "1 → 2".to_string()),
                ("Quote total".to_string(), "$4,200.00".to_string())
            ]
        );
    }

    #[test]
    fn a_status_move_is_a_sentence_and_an_inquiry_is_its_couple() {
        let mut r = row(
            "leads.inquiry.status",
            "inquiry",
            7,
            json!({"before": {"status": "New"}, "after": {"status": "Contacted"}}),
        );
        r.record_name = Some("Emma Rodriguez".into());
        let e = entry(r, &studio());
        assert_eq!(e.what, "Changed status New → Contacted");
        assert!(e.details.is_empty());
        let record = e.record.unwrap();
        assert_eq!(record.text, "Inquiry · Emma Rodriguez");
        assert_eq!(record.href.as_deref(), Some("/leads/7"));
    }

    #[test]
    fn a_catalog_row_is_named_and_its_fields_labelled_with_money_in_the_currency() {
        let mut r = row(
            "catalog.billable-items.update",
            "billable_items",
            5,
            json!({"before": {"id": 5, "name": "Rush Delivery", "price": "350.00", "is_active": true},
                   "after": {"id": 5, "name": "Rush Delivery", "price": "400.00", "is_active": true}}),
        );
        r.record_name = Some("Rush Delivery".into());
        let e = entry(r, &studio());
        assert_eq!(e.what, "Changed a billable item");
        let record = e.record.unwrap();
        assert_eq!(record.text, "Billable item · Rush Delivery");
        assert_eq!(
            record.href.as_deref(),
            Some("/settings/catalog/billable-items/5")
        );
        assert_eq!(
            e.details,
            [("Price".to_string(), "$350.00 → $400.00".to_string())]
        );
        // Deleted: named as it was, no link.
        let r = row(
            "catalog.editing-styles.delete",
            "editing_styles",
            4,
            json!({"before": {"id": 4, "name": "Vintage Film"}}),
        );
        let e = entry(r, &studio());
        assert_eq!(e.what, "Deleted an editing style");
        let record = e.record.unwrap();
        assert_eq!(record.text, "Editing style · Vintage Film");
        assert!(record.href.is_none());
    }

    #[test]
    fn ids_of_deleted_rows_and_unknown_actions_still_read_as_words() {
        let r = row(
            "builds.billable.add",
            "build",
            3,
            json!({"change": {"item": 99, "quantity": 1, "price": "75.00"}}),
        );
        let e = entry(r, &studio());
        assert_eq!(e.what, "Added an add-on");
        assert_eq!(e.details[0].1, "an add-on (since deleted)");
        let mut r = row("test.walk", "walk", 1, json!({"n": 1}));
        r.who = None;
        let e = entry(r, &studio());
        assert_eq!(
            (e.what.as_str(), e.who.as_str()),
            ("Test walk", "ProjectFlo")
        );
        assert!(!e.person);
    }

    #[test]
    fn a_role_change_says_what_it_may_do_now() {
        let mut r = row(
            "roles.permissions.change",
            "role",
            2,
            json!({"role": "Sales", "before": ["leads.view"], "after": ["leads.view", "reports.view"]}),
        );
        r.names = Some(json!({"permission:reports.view": "See reports"}));
        let e = entry(r, &studio());
        assert_eq!(
            e.details,
            [("Now may".to_string(), "See reports".to_string())]
        );
    }
}
