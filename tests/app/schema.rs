//! The migrated database holds the spec's schema exactly: every table, column (name, type,
//! nullability, default), enum label, foreign key (with ON DELETE), unique constraint, check,
//! and index, as the spec writes them. The expectations are parsed from the spec's SQL.
use crate::helpers::{Template, blank_database, fresh_database};
use sqlx::{Connection, PgConnection};
use std::collections::{BTreeMap, BTreeSet};

const SPEC_SQL: &str = include_str!("../../migrations/0001_spec_schema.sql");

/// (type, not null, default)
type Column = (String, bool, Option<String>);
/// (kind, table, name, referenced table, on delete, columns, referenced columns)
type ConstraintRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

#[derive(Debug, Default)]
struct Spec {
    enums: BTreeMap<String, Vec<String>>,
    /// table -> column -> (type, not null, default)
    columns: BTreeMap<String, BTreeMap<String, Column>>,
    /// (table, columns, ref table, ref columns, on delete)
    fks: BTreeSet<(String, String, String, String, String)>,
    /// (table, columns)
    uniques: BTreeSet<(String, String)>,
    pks: BTreeSet<(String, String)>,
    /// (table, column the check mentions)
    checks: BTreeSet<(String, String)>,
    /// (index name, table, columns)
    indexes: BTreeSet<(String, String, String)>,
    named_constraints: BTreeSet<(String, String)>,
}

fn norm_type(t: &str) -> String {
    let t = t.to_lowercase();
    if let Some(n) = t.strip_prefix("varchar") {
        return format!("character varying{n}");
    }
    if let Some(n) = t.strip_prefix("decimal") {
        return format!("numeric{n}");
    }
    match t.as_str() {
        "serial" | "int" => "integer".into(),
        "timestamptz" => "timestamp with time zone".into(),
        other => other.into(),
    }
}

fn cols(s: &str) -> String {
    s.trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(|c| c.trim())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse(sql: &str) -> Spec {
    let mut spec = Spec::default();
    let sql: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let flat = stmt.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(rest) = flat.strip_prefix("CREATE TYPE ") {
            let (name, labels) = rest.split_once(" AS ENUM ").unwrap();
            let labels = labels
                .trim_matches(|c| c == '(' || c == ')')
                .split(',')
                .map(|l| l.trim().trim_matches('\'').to_string());
            spec.enums.insert(name.into(), labels.collect());
        } else if let Some(rest) = flat.strip_prefix("CREATE INDEX ") {
            let (name, rest) = rest.split_once(" ON ").unwrap();
            let (table, c) = rest.split_once('(').unwrap();
            spec.indexes
                .insert((name.into(), table.trim().into(), cols(c)));
        } else if let Some(rest) = flat.strip_prefix("CREATE TABLE ") {
            let (table, body) = rest.split_once(" (").unwrap();
            let table = table.trim().to_string();
            let body = &body[..body.rfind(')').unwrap()];
            // Split on commas outside parentheses.
            let (mut parts, mut depth, mut cur) = (vec![], 0, String::new());
            for ch in body.chars() {
                match ch {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        parts.push(std::mem::take(&mut cur));
                        continue;
                    }
                    _ => {}
                }
                cur.push(ch);
            }
            parts.push(cur);
            for part in parts.iter().map(|p| p.trim()) {
                if let Some(r) = part.strip_prefix("FOREIGN KEY ") {
                    let (c, r) = r.split_once(" REFERENCES ").unwrap();
                    let (rt, r) = r.split_once('(').unwrap();
                    let (rc, r) = r.split_once(')').unwrap();
                    let on_delete = r
                        .trim()
                        .strip_prefix("ON DELETE ")
                        .unwrap_or("NO ACTION")
                        .to_string();
                    spec.fks.insert((
                        table.clone(),
                        cols(c),
                        rt.trim().into(),
                        cols(rc),
                        on_delete,
                    ));
                } else if let Some(r) = part.strip_prefix("PRIMARY KEY ") {
                    spec.pks.insert((table.clone(), cols(r)));
                } else if let Some(r) = part.strip_prefix("CONSTRAINT ") {
                    let (name, r) = r.split_once(' ').unwrap();
                    let c = r
                        .strip_prefix("UNIQUE ")
                        .expect("only UNIQUE named constraints in the spec");
                    spec.uniques.insert((table.clone(), cols(c)));
                    spec.named_constraints.insert((table.clone(), name.into()));
                } else if let Some(r) = part.strip_prefix("CHECK ") {
                    let col = r.trim_start_matches('(').split_whitespace().next().unwrap();
                    spec.checks.insert((table.clone(), col.into()));
                } else {
                    let mut words = part.split_whitespace();
                    let name = words.next().unwrap().trim_matches('"').to_string();
                    let ty = words.next().unwrap().to_string();
                    let rest = words.collect::<Vec<_>>().join(" ");
                    let pk = rest.contains("PRIMARY KEY");
                    let not_null = rest.contains("NOT NULL") || pk;
                    let default = if ty == "SERIAL" {
                        Some(format!("nextval('{table}_{name}_seq'::regclass)"))
                    } else {
                        rest.split_once("DEFAULT ")
                            .map(|(_, d)| d.split_whitespace().next().unwrap().to_string())
                    };
                    if pk {
                        spec.pks.insert((table.clone(), name.clone()));
                    }
                    if rest.contains("UNIQUE") {
                        spec.uniques.insert((table.clone(), name.clone()));
                    }
                    spec.columns
                        .entry(table.clone())
                        .or_default()
                        .insert(name, (norm_type(&ty), not_null, default));
                }
            }
        }
    }
    spec
}

/// `'New'::inquiries_status` -> `'New'`; `true` -> `true`.
fn norm_default(d: &str) -> String {
    let d = d.trim();
    if d.starts_with("nextval(") {
        return d.to_string();
    }
    d.split("::").next().unwrap().to_string()
}

async fn check_schema(conn: &mut PgConnection, spec: &Spec) {
    let mut problems = vec![];

    for (name, labels) in &spec.enums {
        let got: Vec<String> = sqlx::query_scalar(
            "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = $1 ORDER BY e.enumsortorder",
        )
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        if &got != labels {
            problems.push(format!("enum {name}: spec {labels:?}, database {got:?}"));
        }
    }

    let rows: Vec<(String, String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid)
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let db: BTreeMap<(String, String), (String, bool, Option<String>)> = rows
        .into_iter()
        .map(|(t, c, ty, nn, d)| ((t, c), (ty, nn, d.map(|d| norm_default(&d)))))
        .collect();
    for (table, columns) in &spec.columns {
        for (col, (ty, not_null, default)) in columns {
            match db.get(&(table.clone(), col.clone())) {
                None => problems.push(format!("{table}.{col} is missing")),
                Some((dty, dnn, ddef)) => {
                    if dty != ty {
                        problems.push(format!("{table}.{col}: type {dty}, spec {ty}"));
                    }
                    if dnn != not_null {
                        problems.push(format!("{table}.{col}: not null {dnn}, spec {not_null}"));
                    }
                    let want = default.as_deref().map(norm_default);
                    if ddef.as_deref().map(str::to_lowercase)
                        != want.as_deref().map(str::to_lowercase)
                    {
                        problems.push(format!("{table}.{col}: default {ddef:?}, spec {want:?}"));
                    }
                }
            }
        }
    }

    let cons: Vec<ConstraintRow> = sqlx::query_as(
        "SELECT c.contype::text, t.relname::text, c.conname::text, rt.relname::text,
                c.confdeltype::text,
                (SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
                COALESCE((SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                   JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n), '')
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
         LEFT JOIN pg_class rt ON rt.oid = c.confrelid",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let action = |a: &str| match a {
        "c" => "CASCADE",
        "r" => "RESTRICT",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    };
    let has = |kind: &str, table: &str, columns: &str| {
        cons.iter()
            .any(|c| c.0 == kind && c.1 == table && c.5 == columns)
    };
    for (table, c, rt, rc, on_delete) in &spec.fks {
        let found = cons.iter().any(|k| {
            k.0 == "f"
                && &k.1 == table
                && &k.5 == c
                && k.3.as_deref() == Some(rt)
                && &k.6 == rc
                && action(k.4.as_deref().unwrap_or("")) == on_delete
        });
        if !found {
            problems.push(format!(
                "foreign key {table}({c}) -> {rt}({rc}) ON DELETE {on_delete} is missing"
            ));
        }
    }
    for (table, c) in &spec.uniques {
        if !has("u", table, c) {
            problems.push(format!("unique constraint {table}({c}) is missing"));
        }
    }
    for (table, c) in &spec.pks {
        if !has("p", table, c) {
            problems.push(format!("primary key {table}({c}) is missing"));
        }
    }
    for (table, name) in &spec.named_constraints {
        if !cons.iter().any(|k| &k.1 == table && &k.2 == name) {
            problems.push(format!("constraint {name} on {table} is missing"));
        }
    }
    for (table, col) in &spec.checks {
        if !cons
            .iter()
            .any(|k| k.0 == "c" && &k.1 == table && k.5.split(',').any(|c| c == col))
        {
            problems.push(format!("check on {table}.{col} is missing"));
        }
    }

    let idx: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT i.relname::text, t.relname::text,
                (SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, i)
                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n)
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for want in &spec.indexes {
        if !idx
            .iter()
            .any(|(n, t, c)| (n, t, c.as_deref()) == (&want.0, &want.1, Some(want.2.as_str())))
        {
            problems.push(format!(
                "index {} on {}({}) is missing",
                want.0, want.1, want.2
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the database differs from the spec:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_parser_reads_the_whole_spec() {
    let spec = parse(SPEC_SQL);
    assert_eq!(spec.enums.len(), 16);
    assert_eq!(spec.columns.len(), 40, "tables: {:?}", spec.columns.keys());
    assert_eq!(
        spec.enums["inquiries_status"],
        ["New", "Contacted", "Proposal Sent", "Booked", "Closed-Lost"]
    );
    assert_eq!(
        spec.columns["builds"]["approved_price"],
        ("numeric(10,2)".into(), true, Some("0.00".into()))
    );
    assert!(spec.fks.contains(&(
        "tasks".into(),
        "build_component_id".into(),
        "build_components".into(),
        "id".into(),
        "CASCADE".into()
    )));
    assert!(
        spec.checks
            .contains(&("client_feedback_surveys".into(), "nps_score".into()))
    );
    assert_eq!(spec.indexes.len(), 8);
}

/// The first migration is the spec's SQL, statement for statement.
#[test]
fn the_first_migration_is_the_spec_verbatim() {
    let spec_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/spec/projectflo-database-spec.txt"
    );
    let Ok(spec_text) = std::fs::read_to_string(spec_path) else {
        eprintln!(
            "spec text not beside the project ({spec_path}); comparing the parsed schema only"
        );
        return;
    };
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let spec_flat = flat(&spec_text);
    for stmt in SPEC_SQL.split(';').map(|s| {
        s.lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n")
    }) {
        let stmt = flat(&stmt);
        if !stmt.is_empty() {
            assert!(
                spec_flat.contains(&format!("{stmt};")),
                "not in the spec: {stmt}"
            );
        }
    }
}

#[tokio::test]
async fn the_migrated_database_holds_the_spec_schema() {
    let spec = parse(SPEC_SQL);
    let mut conn = PgConnection::connect_with(&fresh_database(Template::Empty).await)
        .await
        .unwrap();
    check_schema(&mut conn, &spec).await;
}

#[tokio::test]
async fn the_checker_notices_a_change_to_the_spec_schema() {
    let spec = parse(SPEC_SQL);
    let mut conn = PgConnection::connect_with(&fresh_database(Template::Empty).await)
        .await
        .unwrap();
    sqlx::raw_sql(
        "ALTER TABLE builds ALTER COLUMN live_price DROP DEFAULT;
         ALTER TABLE tasks DROP CONSTRAINT tasks_build_component_id_fkey;
         ALTER TABLE tasks ADD FOREIGN KEY (build_component_id) REFERENCES build_components(id) ON DELETE RESTRICT;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let err = tokio::spawn(async move { check_schema(&mut conn, &spec).await })
        .await
        .unwrap_err();
    let msg = format!("{:?}", err.into_panic().downcast_ref::<String>());
    assert!(msg.contains("builds.live_price: default None"), "{msg}");
    assert!(
        msg.contains(
            "foreign key tasks(build_component_id) -> build_components(id) ON DELETE CASCADE"
        ),
        "{msg}"
    );
}

/// Two instances starting at once: the advisory lock lets one migrate, the other waits and
/// finds nothing to do.
#[tokio::test]
async fn concurrent_migrations_are_serialised() {
    let opts = blank_database().await;
    let a = projectflo::db::pool(opts.clone(), 2).await.unwrap();
    let b = projectflo::db::pool(opts, 2).await.unwrap();
    let (ra, rb) = tokio::join!(projectflo::db::migrate(&a), projectflo::db::migrate(&b));
    ra.unwrap();
    rb.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&a)
        .await
        .unwrap();
    assert_eq!(applied as usize, projectflo::db::MIGRATOR.iter().count());
    assert!(projectflo::db::migrations_current(&a).await.unwrap());
}

/// A studio that ran ProjectFlo before migration 0063 keeps its pipeline's history: each
/// inquiry is born at its created_at (in New when people's moves are logged since), then each
/// logged move at its time, then, when the status now is not where that leaves it, the move
/// to it at updated_at.
#[tokio::test]
async fn the_stage_history_is_filled_in_for_the_inquiries_already_there() {
    let pool = projectflo::db::pool(blank_database().await, 2)
        .await
        .unwrap();
    let before = sqlx::migrate::Migrator {
        migrations: projectflo::db::MIGRATOR
            .iter()
            .filter(|m| m.version < 63)
            .cloned()
            .collect(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before.run(&pool).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO contacts (id, first_name, email, type) VALUES
           (1, 'A', 'a@example.com', 'Client Lead'), (2, 'B', 'b@example.com', 'Client Lead');
         -- Moved by a person twice (logged), then booked (not logged) at updated_at.
         INSERT INTO inquiries (id, contact_id, status, created_at, updated_at) VALUES
           (1, 1, 'Booked', '2026-03-01T10:00:00Z', '2026-03-20T10:00:00Z'),
           (2, 2, 'Contacted', '2026-04-01T10:00:00Z', '2026-04-01T10:00:00Z');
         INSERT INTO audit_log (action, \"timestamp\", details, entity_type, entity_id) VALUES
           ('leads.inquiry.status', '2026-03-03T10:00:00Z',
            '{\"before\": {\"status\": \"New\"}, \"after\": {\"status\": \"Contacted\"}}', 'inquiry', 1),
           ('leads.inquiry.status', '2026-03-09T10:00:00Z',
            '{\"before\": {\"status\": \"Contacted\"}, \"after\": {\"status\": \"Proposal Sent\"}}', 'inquiry', 1);",
    )
    .execute(&pool)
    .await
    .unwrap();
    projectflo::db::migrate(&pool).await.unwrap();
    let rows: Vec<(i32, Option<String>, String, String)> = sqlx::query_as(
        "SELECT inquiry_id, from_status::text, to_status::text,
                to_char(changed_at AT TIME ZONE 'UTC', 'MM-DD HH24')
         FROM inquiry_stage_changes ORDER BY inquiry_id, changed_at, id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let s = |v: &str| v.to_string();
    assert_eq!(
        rows,
        [
            (1, None, s("New"), s("03-01 10")),
            (1, Some(s("New")), s("Contacted"), s("03-03 10")),
            (1, Some(s("Contacted")), s("Proposal Sent"), s("03-09 10")),
            (1, Some(s("Proposal Sent")), s("Booked"), s("03-20 10")),
            (2, None, s("Contacted"), s("04-01 10")),
        ]
    );
}
