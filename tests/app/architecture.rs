//! The shape of the code: dependencies between `src/` modules point one way only. Reads every
//! file's `crate::`, `super::` and child-module paths (comments skipped) and looks for a cycle,
//! both among files (each file is a module) and among the top-level modules (`app`, the areas,
//! `http`, `auth`, the shared services).
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`crate::quote::builds`) -> source file, for every file of the library.
fn modules(root: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("main.rs") {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
            if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
                parts.pop();
            }
            let name = std::iter::once("crate".to_string())
                .chain(parts)
                .collect::<Vec<_>>();
            out.insert(name.join("::"), path);
        }
    }
    out
}

/// Paths a file names: `crate::a::b`, `super::c`, `child::d`, with `{a, b::c}` groups expanded.
fn named_paths(code: &str) -> Vec<String> {
    let code: String = code
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        // The start of a path: an identifier not preceded by `::` or an identifier character.
        let starts =
            ident(bytes[i]) && (i == 0 || (!ident(bytes[i - 1]) && !code[..i].ends_with("::")));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && (ident(bytes[j]) || code[j..].starts_with("::")) {
            j += if code[j..].starts_with("::") { 2 } else { 1 };
        }
        let path = code[i..j].trim_end_matches("::");
        if code[j..].starts_with('{') && code[..j].ends_with("::") {
            let end = code[j..].find('}').map_or(bytes.len(), |e| j + e);
            for item in code[j + 1..end].split(',') {
                let item = item.trim().trim_start_matches("self");
                out.push(format!("{path}::{}", item.trim_start_matches("::")));
            }
            i = end;
        } else {
            if path.contains("::") {
                out.push(path.to_string());
            }
            i = j.max(i + 1);
        }
    }
    out
}

/// The module a path points into: the longest prefix that is a module, from `from`.
fn resolve(from: &str, path: &str, mods: &BTreeMap<String, PathBuf>) -> Option<String> {
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<&str> = from.split("::").collect();
    match segs.first().copied() {
        Some("crate") => base = vec![],
        Some("super") => {
            while segs.first() == Some(&"super") {
                segs.remove(0);
                base.pop();
            }
        }
        Some("self") => {
            segs.remove(0);
        }
        _ => {}
    }
    let full: Vec<&str> = base.into_iter().chain(segs).collect();
    (1..=full.len())
        .rev()
        .map(|n| full[..n].join("::"))
        .find(|m| mods.contains_key(m))
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.into(), 1);
        stack.push(n.into());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.into(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, edges, &mut state, &mut vec![]) {
                return Some(c);
            }
        }
    }
    None
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&root);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, file) in &mods {
        let code = std::fs::read_to_string(file).unwrap();
        // Unit tests (an inline `mod tests` at the end, whose `super` is the file itself) are
        // not part of the layering.
        let code = code.split("#[cfg(test)]").next().unwrap_or_default();
        let targets = edges.entry(name.clone()).or_default();
        for path in named_paths(code) {
            if let Some(to) = resolve(name, &path, &mods) {
                if to != *name && to != "crate" {
                    targets.insert(to);
                }
            }
        }
    }
    edges
}

/// Cycles one by one (each found is broken at its last edge to find the next), for the message.
fn all_cycles(mut edges: BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = vec![];
    while let Some(cycle) = find_cycle(&edges) {
        let n = cycle.len();
        edges.get_mut(&cycle[n - 2]).unwrap().remove(&cycle[n - 1]);
        out.push(cycle.join(" -> "));
    }
    out
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let edges = module_graph();
    assert!(edges.len() > 30, "read {} modules", edges.len());
    let total: usize = edges.values().map(BTreeSet::len).sum();
    assert!(
        total > 100,
        "found only {total} dependencies: the reader is broken"
    );
    let cycles = all_cycles(edges.clone());
    assert!(
        cycles.is_empty(),
        "cycles among files:\n{}",
        cycles.join("\n")
    );
    // The same among the top-level modules: `crate::quote::builds` counts as `quote`.
    let top = |m: &str| m.split("::").nth(1).unwrap_or("crate").to_string();
    let mut areas: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in &edges {
        for to in tos {
            if top(from) != top(to) {
                areas.entry(top(from)).or_default().insert(top(to));
            }
        }
    }
    let cycles = all_cycles(areas);
    assert!(
        cycles.is_empty(),
        "cycles among top-level modules:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    let mut edges = module_graph();
    edges
        .entry("crate::error".into())
        .or_default()
        .insert("crate::quote::builds".into());
    assert!(
        find_cycle(&edges).is_some(),
        "quote::builds uses error, so error -> builds closes a cycle"
    );
}
