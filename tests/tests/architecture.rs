//! The house rules of docs/architecture.md, checked on the source: library modules do not print, prompt or
//! know clap; no module imports a module that imports it back; `issue` and `export` build on `ca` and never on
//! each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: [&str; 3] = ["ca", "issue", "export"];
/// Top-level modules that make up a crate's command line (the terminal layer); everything else is library.
const CLI_LAYER: [&str; 3] = ["cli", "commands", "term"];
/// What a library module may not mention.
const TERMINAL_WORDS: [&str; 12] = [
    "clap",
    "dialoguer",
    "indicatif",
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "io::stdout",
    "io::stderr",
    "is_terminal",
    "crate::term",
    "certkit_ca::term",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// Every source file of a crate, as (module path, file path, text without its `#[cfg(test)]` part).
fn modules(krate: &str) -> Vec<(Vec<String>, PathBuf, String)> {
    let src = workspace().join(krate).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("prefix");
            let mut parts: Vec<String> = rel
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let code = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            out.push((parts, path, code));
        }
    }
    out.sort();
    out
}

/// Lines without `//` comments, so doc comments may name what the code may not use.
fn code_lines(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn library_modules_do_not_print_prompt_or_know_clap() {
    let mut problems = Vec::new();
    for krate in CRATES {
        for (module, path, text) in modules(krate) {
            let is_cli = module
                .first()
                .is_some_and(|m| CLI_LAYER.contains(&m.as_str()))
                || module == ["main"];
            if is_cli {
                continue;
            }
            let code = code_lines(&text);
            for word in TERMINAL_WORDS {
                if code.contains(word) {
                    problems.push(format!("{}: mentions {word}", path.display()));
                }
            }
            for layer in CLI_LAYER {
                if code.contains(&format!("crate::{layer}::")) {
                    problems.push(format!("{}: uses crate::{layer}", path.display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The modules a file refers to: `crate::a::b` (resolved to the deepest module that exists), `super::x`, and
/// child modules it declares and then names (`mod x; use x::Y`).
fn references(
    module: &[String],
    text: &str,
    known: &BTreeSet<Vec<String>>,
) -> BTreeSet<Vec<String>> {
    // Group imports (`a::{b, c}`) become one word: no spaces after `{` or `,`, or before `}`.
    let mut code = String::new();
    for c in code_lines(text).chars() {
        if c.is_whitespace() && (code.ends_with('{') || code.ends_with(',')) {
            continue;
        }
        if c == '}' {
            while code.ends_with(char::is_whitespace) {
                code.pop();
            }
        }
        code.push(c);
    }
    let resolve = |path: Vec<String>| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| known.contains(p))
    };
    let mut found = BTreeSet::new();
    let words: Vec<&str> = code
        .split(|c: char| {
            !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{' || c == '}' || c == ',')
        })
        .collect();
    let children: BTreeSet<String> = code
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))?;
            Some(rest.trim_end_matches(';').to_string())
        })
        .collect();
    for word in words {
        let word = word.trim_start_matches(['{', ',']);
        let (base, rest): (Vec<String>, &str) = if let Some(rest) = word.strip_prefix("crate::") {
            (vec![], rest)
        } else if let Some(rest) = word.strip_prefix("super::") {
            (module[..module.len().saturating_sub(1)].to_vec(), rest)
        } else if let Some((first, rest)) = word.split_once("::")
            && children.contains(first)
        {
            let mut base = module.to_vec();
            base.push(first.to_string());
            (base, rest)
        } else {
            continue;
        };
        // `a::{b, c::d}` names several paths.
        let (head, group) = match rest.strip_prefix('{') {
            Some(group) => ("", Some(group.trim_end_matches('}'))),
            None => match rest.split_once("::{") {
                Some((head, group)) => (head, Some(group.trim_end_matches('}'))),
                None => (rest, None),
            },
        };
        let mut prefix = base.clone();
        prefix.extend(
            head.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        let mut paths = vec![prefix.clone()];
        if let Some(group) = group {
            for item in group.split(',') {
                let mut p = prefix.clone();
                p.extend(
                    item.trim()
                        .split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
                paths.push(p);
            }
        }
        for path in paths {
            if let Some(target) = resolve(path)
                && target != module
            {
                found.insert(target);
            }
        }
    }
    found
}

type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// Every module that reaches itself through the graph, with the path it takes.
fn find_cycles(graph: &Graph) -> Vec<String> {
    let mut cycles = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<(Vec<String>, Vec<Vec<String>>)> = graph[start]
            .iter()
            .map(|n| (n.clone(), vec![start.clone(), n.clone()]))
            .collect();
        while let Some((node, trail)) = todo.pop() {
            if node == *start {
                let names: Vec<String> = trail.iter().map(|m| m.join("::")).collect();
                cycles.push(names.join(" -> "));
                break;
            }
            if !seen.insert(node.clone()) {
                continue;
            }
            for next in graph.get(&node).into_iter().flatten() {
                let mut t = trail.clone();
                t.push(next.clone());
                todo.push((next.clone(), t));
            }
        }
    }
    cycles
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut cycles = Vec::new();
    for krate in CRATES {
        let mods = modules(krate);
        let known: BTreeSet<Vec<String>> = mods.iter().map(|(m, _, _)| m.clone()).collect();
        let graph: Graph = mods
            .iter()
            .map(|(m, _, text)| (m.clone(), references(m, text, &known)))
            .collect();
        cycles.extend(
            find_cycles(&graph)
                .into_iter()
                .map(|c| format!("{krate}: {c}")),
        );
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_sees_a_cycle() {
    // The check above must be able to fail: two modules that name each other form a cycle.
    let known: BTreeSet<Vec<String>> = [vec!["a".to_string()], vec!["b".to_string()]].into();
    let a = references(&["a".into()], "use crate::b::Thing;", &known);
    let b = references(&["b".into()], "fn f() { crate::a::g() }", &known);
    assert!(a.contains(&vec!["b".to_string()]) && b.contains(&vec!["a".to_string()]));
    let grouped = references(&["a".into()], "use crate::{b::X, a::Y};", &known);
    assert!(grouped.contains(&vec!["b".to_string()]));
    let graph: Graph = [(vec!["a".to_string()], a), (vec!["b".to_string()], b)].into();
    assert_eq!(find_cycles(&graph), ["a -> b -> a", "b -> a -> b"]);
}

#[test]
fn issue_and_export_build_on_ca_and_not_on_each_other() {
    // What a crate depends on: its [dependencies] table (the package metadata may name the binaries).
    let manifest = |krate: &str| {
        let text = std::fs::read_to_string(workspace().join(krate).join("Cargo.toml"))
            .expect("Cargo.toml");
        let (_, deps) = text
            .split_once("\n[dependencies]\n")
            .expect("[dependencies]");
        deps.split("\n[").next().unwrap_or("").to_string()
    };
    assert!(
        !manifest("ca").contains("certkit-issue") && !manifest("ca").contains("certkit-export")
    );
    assert!(
        manifest("issue").contains("certkit-ca") && !manifest("issue").contains("certkit-export")
    );
    assert!(
        manifest("export").contains("certkit-ca") && !manifest("export").contains("certkit-issue")
    );
}

#[test]
fn every_design_note_the_code_cites_exists() {
    let mut missing = Vec::new();
    for krate in CRATES {
        for (_, path, text) in modules(krate) {
            for (at, _) in text.match_indices("docs/") {
                // A web address's path (`https://nginx.org/en/docs/...`) is not a design note.
                if text[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '/' | '.'))
                {
                    continue;
                }
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '/' | '-' | '.' | '_'))
                    .collect();
                let name = name.trim_end_matches('.');
                if !workspace().join(name).is_file() {
                    missing.push(format!("{} cites {name}", path.display()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
