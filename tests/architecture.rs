//! The crate's layers, checked on its source: the graph of which file imports which (through
//! `crate::` and `super::` paths, test modules aside) has no cycle through files of two
//! folders, the planner is pure maths
//! (it imports nothing of the simulator, the experiment or the policies), the event engine
//! knows no cluster, and neither the policies nor the output reach into the cluster model's
//! true state. See docs/ARCHITECTURE.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every library source file, as its module path (`autoscaler/registry` for
/// `src/autoscaler/registry/mod.rs`), with its text up to its unit-test module.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("");
                let mut module = rel.to_string_lossy().replace('\\', "/");
                if let Some(parent) = module.strip_suffix("/mod") {
                    module = parent.to_string();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = match text.find("#[cfg(test)]\nmod tests") {
                    Some(i) => text[..i].to_string(),
                    None => text,
                };
                out.insert(module, code);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    // The binary, and modules compiled for tests only.
    out.retain(|m, _| {
        !(m == "main"
            || m == "lib"
            || m.starts_with("commands")
            || m.ends_with("/tests")
            || m.ends_with("/testkit"))
    });
    out
}

/// The paths a file names after `crate::` or `super::` (a `{a, b::c}` group gives one path
/// each), relative to the crate root; comments are skipped.
fn paths(module: &str, code: &str) -> Vec<Vec<String>> {
    let here: Vec<&str> = module.split('/').collect();
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("::") {
            let before = &line[..at];
            let word_start = before
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let prefix: Vec<String> = match &before[word_start..] {
                "crate" => Vec::new(),
                "super" if word_start == 0 || !before[..word_start].ends_with("::") => {
                    // `super` of `a/b` is `a`, whether `b` is `a/b.rs` or `a/b/mod.rs`.
                    here[..here.len() - 1]
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                }
                _ => continue,
            };
            let rest = &line[at + 2..];
            let mut base = prefix.clone();
            let mut chars = rest.char_indices().peekable();
            let mut word = String::new();
            while let Some((i, c)) = chars.next() {
                if c.is_alphanumeric() || c == '_' {
                    word.push(c);
                } else if rest[i..].starts_with("::") {
                    chars.next();
                    if word == "super" {
                        base.pop();
                    } else if !word.is_empty() {
                        base.push(std::mem::take(&mut word));
                    }
                    word.clear();
                    if rest[i + 2..].starts_with('{') {
                        let group = &rest[i + 3..];
                        let group = &group[..group.find('}').unwrap_or(group.len())];
                        for item in group.split(',') {
                            let item = item.split_whitespace().next().unwrap_or("");
                            let mut p = base.clone();
                            p.extend(
                                item.split("::")
                                    .filter(|s| !s.is_empty() && *s != "self")
                                    .map(String::from),
                            );
                            out.push(p);
                        }
                        base.clear();
                        break;
                    }
                } else {
                    break;
                }
            }
            if !base.is_empty() || !word.is_empty() {
                if !word.is_empty() {
                    base.push(word);
                }
                out.push(base);
            }
        }
    }
    out
}

/// Which files each file imports: each path resolved to the longest module that exists.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let sources = sources();
    let mut g = BTreeMap::new();
    for (module, code) in &sources {
        let mut deps = BTreeSet::new();
        for p in paths(module, code) {
            if let Some(target) = (1..=p.len())
                .rev()
                .map(|n| p[..n].join("/"))
                .find(|m| sources.contains_key(m))
                && &target != module
            {
                deps.insert(target);
            }
        }
        g.insert(module.clone(), deps);
    }
    g
}

/// The strongly connected components of the graph with more than one file: each is a set
/// of files that import each other in a cycle (Tarjan's algorithm).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.g.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

/// The folder a module's file is in (`planner` for `planner/forecast`, `` for `engine`).
fn folder(module: &str) -> &str {
    module.rsplit_once('/').map_or("", |(f, _)| f)
}

/// The modules under `layer` that import a module under one of `forbidden`.
fn reaching(
    g: &BTreeMap<String, BTreeSet<String>>,
    layer: &str,
    forbidden: &[&str],
) -> Vec<String> {
    let under = |m: &str, top: &str| m == top || m.starts_with(&format!("{top}/"));
    g.iter()
        .filter(|(m, _)| under(m, layer))
        .flat_map(|(m, deps)| {
            deps.iter()
                .filter(|d| forbidden.iter().any(|f| under(d, f)))
                .map(move |d| format!("{m} -> {d}"))
        })
        .collect()
}

#[test]
fn the_parser_finds_crate_super_and_grouped_paths() {
    let code =
        "use crate::a::{b, c::d};\nuse super::e::F;\n// use crate::g;\nlet x = crate::h::i();";
    let found = paths("x/y", code);
    assert_eq!(
        found,
        vec![
            vec!["a", "b"],
            vec!["a", "c", "d"],
            vec!["x", "e", "F"],
            vec!["h", "i"]
        ]
    );
    let edge = |a: &str, b: &str| (a.to_string(), BTreeSet::from([b.to_string()]));
    let g = BTreeMap::from([
        edge("a", "x/b"),
        edge("x/b", "x/c"),
        edge("x/c", "a"),
        edge("d", "a"),
    ]);
    assert_eq!(
        cycles(&g),
        vec![vec!["a".to_string(), "x/b".into(), "x/c".into()]]
    );
}

#[test]
fn the_import_graph_of_the_library_has_no_cycle() {
    let g = graph();
    assert!(g.len() > 50, "the sources were read: {} files", g.len());
    assert!(
        g["sim"].contains("cluster/model"),
        "the graph sees imports: {:?}",
        g["sim"]
    );
    // Files of one folder may lean on each other (a folder is one unit, such as the planner's
    // forecasters and their mixture); a cycle through files of two folders may not.
    let across: Vec<Vec<String>> = cycles(&g)
        .into_iter()
        .filter(|c| c.iter().any(|m| folder(m) != folder(&c[0])))
        .collect();
    assert_eq!(across, Vec::<Vec<String>>::new());
}

#[test]
fn layers_import_only_what_is_below_them() {
    let g = graph();
    let sim = ["sim", "experiment", "calibration", "cluster/model"];
    assert_eq!(
        reaching(
            &g,
            "planner",
            &[&sim[..], &["autoscaler", "scenario", "output"]].concat()
        ),
        Vec::<String>::new(),
        "the planner is pure maths"
    );
    assert_eq!(
        reaching(&g, "engine", &["cluster", "sim", "autoscaler", "workload"]),
        Vec::<String>::new(),
        "the event engine is generic"
    );
    assert_eq!(
        reaching(&g, "cluster", &["autoscaler", "sim", "experiment"]),
        Vec::<String>::new(),
        "the cluster model knows no policy"
    );
    assert_eq!(
        reaching(&g, "autoscaler", &sim),
        Vec::<String>::new(),
        "policies see observations, never the cluster's true state"
    );
    assert_eq!(
        reaching(&g, "output", &["sim", "cluster/model", "autoscaler"]),
        Vec::<String>::new(),
        "the outputs read finished results"
    );
}
