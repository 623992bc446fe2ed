//! The dependency rule, checked on the source: a module uses only the layers below it, so there
//! is no cycle and no upward import. Tests (`#[cfg(test)]` and after) may use anything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// keepstar's top-level modules, bottom layer first. A module may use the layers below its own.
const LAYERS: &[&[&str]] = &[
    &["vocab", "sync", "token", "text", "formation", "origin"],
    &["strings", "config", "seal", "money"],
    &["store"],
    &["import", "accounts"],
    &["chat", "demo"],
    &["server"],
    &["cli"],
];

/// Within the engine: what answers (the responders, the cards they show, the builtin's reading
/// of a message) sits below the engine that runs turns, and never reaches up into it.
const BELOW_THE_ENGINE: &[&str] = &["responders", "cards"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its tests and comment lines.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `code` names as `crate::<module>` (or in `crate::{a, b}`), each with the name
/// after it (`crate::chat::bus`).
fn used(code: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or_default();
            for name in group.split(',') {
                found.extend(used(&format!("crate::{}", name.trim())));
            }
            continue;
        }
        let mut parts = rest.split("::").map(|p| {
            p.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        });
        let top = parts.next().unwrap_or_default();
        let next = parts.next().unwrap_or_default();
        found.insert((top, next));
    }
    found
}

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("src/{module} is in no layer: add it to LAYERS"))
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        let own = parts[0].as_str();
        if matches!(own, "main" | "lib") {
            continue;
        }
        let code = code(file);
        for (top, next) in used(&code) {
            if top == own {
                let below = parts.len() > 1 && BELOW_THE_ENGINE.contains(&parts[1].as_str());
                if own == "chat" && below && !BELOW_THE_ENGINE.contains(&next.as_str()) {
                    wrong.push(format!("{} uses crate::chat::{next}", rel.display()));
                }
                continue;
            }
            if layer(&top) >= layer(own) {
                wrong.push(format!("{} uses crate::{top}", rel.display()));
            }
        }
        if own == "chat"
            && parts.len() == 2
            && BELOW_THE_ENGINE.contains(&parts[1].as_str())
            && code.contains("use super::")
        {
            wrong.push(format!("{} uses the engine through super::", rel.display()));
        }
    }
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_finds_an_upward_import() {
    let found = used(
        "use crate::server::AppState;\nlet x = crate::store::now_ms();\nuse crate::{cli, text};",
    );
    assert!(found.contains(&("server".into(), "AppState".into())));
    assert!(found.contains(&("cli".into(), String::new())));
    assert!(layer("server") >= layer("store"));
    assert!(found.contains(&("store".into(), "now_ms".into())));
}
