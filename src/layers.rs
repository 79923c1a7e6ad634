//! The allowed direction of imports between kemala's top-level modules,
//! checked over the source tree by a test.
//!
//! Modules are stacked in layers: a module may import (`use crate::x`, or a
//! `crate::x::…` path) only from a layer below its own, never from its own
//! layer or above. So no import circle can form, shared vocabulary sinks to
//! `model`, and a newcomer reading from the bottom up never meets a name
//! from further up. ARCHITECTURE.md states the same order.

/// From the bottom up. A module may import from the layers before its own.
pub const LAYERS: &[&[&str]] = &[
    // Shared vocabulary: tweets, ids, offsets, reject reasons, languages.
    &["model"],
    // Leaves: the configuration, the text analyzer, time formats, CPU
    // priority.
    &["config", "text", "timestamp", "sched"],
    &["telemetry"],
    &["enrich"],
    // The stages: none knows another.
    &["index", "detect", "latency", "source", "gen"],
    &["alert"],
    &["track"],
    // What HTTP reads, then HTTP, then the wiring and the commands.
    &["state"],
    &["http"],
    &["app"],
    &["cli"],
];

#[cfg(test)]
mod tests {
    use super::LAYERS;
    use std::path::{Path, PathBuf};

    fn layer(module: &str) -> Option<usize> {
        LAYERS.iter().position(|l| l.contains(&module))
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The top-level modules a file's code names through `crate::`, with
    /// comments left out.
    fn imports(code: &str) -> Vec<String> {
        let mut out = Vec::new();
        for line in code.lines() {
            let line = line.split("//").next().unwrap_or_default();
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    // `crate::{a::B, c}`: the first name of each part.
                    Some(group) => group
                        .split('}')
                        .next()
                        .unwrap_or_default()
                        .split(',')
                        .map(|p| p.trim().split("::").next().unwrap_or_default())
                        .collect(),
                    None => vec![rest
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or_default()],
                };
                out.extend(
                    names
                        .into_iter()
                        .filter(|n| !n.is_empty())
                        .map(String::from),
                );
            }
        }
        out
    }

    #[test]
    fn imports_only_go_down_the_layers() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
        for m in lib.lines().filter_map(|l| l.strip_prefix("pub mod ")) {
            let m = m.trim_end_matches(';');
            assert!(
                m == "layers" || layer(m).is_some(),
                "`{m}` is in no layer of LAYERS; put it where its imports allow"
            );
        }
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut wrong = Vec::new();
        for file in &files {
            let rel = file.strip_prefix(&src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let top = top.trim_end_matches(".rs");
            let Some(from) = layer(top) else { continue };
            let code = std::fs::read_to_string(file).unwrap();
            for to in imports(&code) {
                match layer(&to) {
                    Some(l) if to == top || l < from => {}
                    _ => wrong.push(format!("{} imports `crate::{to}`", rel.display())),
                }
            }
        }
        wrong.sort();
        wrong.dedup();
        assert!(
            wrong.is_empty(),
            "imports that go up or sideways between top-level modules (see LAYERS):\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn the_checker_sees_every_form_of_import() {
        let code = "use crate::model::Tweet;\nuse crate::{config::Config, text};\n// crate::http in a comment\nlet x = crate::alert::wire::alert_json(a, b);";
        assert_eq!(imports(code), ["model", "config", "text", "alert"]);
    }
}
