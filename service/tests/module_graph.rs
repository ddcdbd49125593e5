//! The `service` crate's modules depend on each other in one direction only. This reads the
//! sources (every `crate::…` path, also inside `use crate::{…}` groups; comments skipped), draws
//! the graph between top-level modules and fails on a cycle, naming the files that close it.
//! Paths within one module (`super::…`, a module's own files) are that module's business.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `availability/cache.rs` and `availability/mod.rs` are both `availability`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a path").as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_owned()
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The first segment of every `crate::` path in `text`.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // A `use crate::{a, b::{c, d}}` group: the first segment of each top-level item.
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (c == ',' && depth == 1) {
                    out.push(ident(&item));
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// `pub use jobs::{Job, JobQueue};` in lib.rs: `crate::Job` is a path into `jobs`.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.trim_end_matches(';').split_once("::") else {
            continue;
        };
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = item.split(" as ").last().unwrap_or("").trim();
            if !name.is_empty() {
                map.insert(name.to_owned(), module.trim().to_owned());
            }
        }
    }
    map
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let reexports = root_reexports(&lib);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let from = module_of(&src, &file);
        if from == "lib" {
            // The root declares every module and holds the context they share; it is not a layer.
            continue;
        }
        let text = without_comments(&std::fs::read_to_string(&file).expect("readable"));
        for first in crate_paths(&text) {
            let to = if first.starts_with(|c: char| c.is_uppercase()) {
                match reexports.get(&first) {
                    Some(m) => m.clone(),
                    None => continue, // defined in lib.rs itself (AppContext, InitError, …)
                }
            } else {
                first
            };
            if to != from && to != "self" {
                let shown = file.strip_prefix(&src).unwrap().display().to_string();
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(shown);
            }
        }
    }
    graph
}

/// A path from `from` back to `to`, if there is one.
fn path_to(
    graph: &Graph,
    from: &str,
    to: &str,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if from == to {
        return Some(vec![to.to_owned()]);
    }
    if !seen.insert(from.to_owned()) {
        return None;
    }
    for next in graph.get(from).into_iter().flat_map(|m| m.keys()) {
        if let Some(mut rest) = path_to(graph, next, to, seen) {
            rest.insert(0, from.to_owned());
            return Some(rest);
        }
    }
    None
}

#[test]
fn service_modules_form_no_cycle() {
    let graph = graph();
    assert!(
        graph.len() > 10,
        "the reader found too few modules to be reading the crate: {graph:?}"
    );
    for (from, targets) in &graph {
        for (to, files) in targets {
            if let Some(back) = path_to(&graph, to, from, &mut BTreeSet::new()) {
                panic!(
                    "a cycle between service modules: {from} -> {} (the first arrow from {})",
                    back.join(" -> "),
                    files.iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
}

#[test]
fn the_reader_sees_groups_and_reexports() {
    let text =
        "use crate::{AppContext, db, sync::{self, Trigger}};\nlet x = crate::version::touch;";
    assert_eq!(crate_paths(text), ["AppContext", "db", "sync", "version"]);
    let map = root_reexports("pub use jobs::{Job, JobQueue};\npub use clock::Clock;");
    assert_eq!(map["Job"], "jobs");
    assert_eq!(map["Clock"], "clock");
    assert!(crate_paths(&without_comments("// see crate::users")).is_empty());
}

/// A cycle, planted: the check must see it (so it cannot pass by reading nothing).
#[test]
fn a_planted_cycle_is_found() {
    let mut graph = graph();
    graph
        .entry("fields".into())
        .or_default()
        .entry("users".into())
        .or_default()
        .insert("planted".into());
    assert!(path_to(&graph, "users", "fields", &mut BTreeSet::new()).is_some());
}
