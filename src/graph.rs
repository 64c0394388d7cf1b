//! The task graph: which tasks a run reaches, through `deps` and `task:`
//! calls, checked for unknown names and cycles before anything runs.

use crate::error::{closest, Error, Result};
use crate::taskfile::{Step, Taskfile};
use crate::template::has_markup;
use indexmap::IndexMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EdgeKind {
    /// Runs before the task, in parallel with its sibling deps.
    Dep,
    /// A `task:` step inside `cmds` (or a deferred one).
    Call,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edge {
    pub to: String,
    pub kind: EdgeKind,
}

#[derive(Debug, Default)]
pub(crate) struct Graph {
    /// Every reached task with its outgoing edges, in first-reached order.
    pub edges: IndexMap<String, Vec<Edge>>,
}

impl Graph {
    /// The graph reachable from `roots` (canonical task names).
    pub(crate) fn build(taskfile: &Taskfile, roots: &[String]) -> Result<Graph> {
        let mut graph = Graph::default();
        let mut state: IndexMap<String, Visit> = IndexMap::new();
        let mut path = Vec::new();
        for root in roots {
            graph.visit(taskfile, root, &mut state, &mut path)?;
        }
        Ok(graph)
    }

    fn visit(
        &mut self,
        taskfile: &Taskfile,
        name: &str,
        state: &mut IndexMap<String, Visit>,
        path: &mut Vec<String>,
    ) -> Result<()> {
        match state.get(name) {
            Some(Visit::Done) => return Ok(()),
            Some(Visit::InProgress) => {
                let start = path.iter().position(|p| p == name).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(name.to_owned());
                return Err(Error::Cycle { path: cycle });
            }
            None => {}
        }
        state.insert(name.to_owned(), Visit::InProgress);
        path.push(name.to_owned());
        let edges = edges_of(taskfile, name)?;
        self.edges.insert(name.to_owned(), edges.clone());
        for edge in &edges {
            self.visit(taskfile, &edge.to, state, path)?;
        }
        path.pop();
        state.insert(name.to_owned(), Visit::Done);
        Ok(())
    }

    /// Mermaid flowchart: an arrow from each task to what it needs.
    pub(crate) fn mermaid(&self) -> String {
        let mut out = String::from("graph TD\n");
        for (from, edges) in &self.edges {
            if edges.is_empty() {
                out.push_str(&format!("  {}\n", node(from)));
            }
            for edge in edges {
                let arrow = if edge.kind == EdgeKind::Dep {
                    "-->"
                } else {
                    "-.->|calls|"
                };
                out.push_str(&format!("  {} {arrow} {}\n", node(from), node(&edge.to)));
            }
        }
        out
    }

    pub(crate) fn dot(&self) -> String {
        let mut out = String::from("digraph hoist {\n  rankdir=LR;\n");
        for (from, edges) in &self.edges {
            out.push_str(&format!("  {from:?};\n"));
            for edge in edges {
                let style = if edge.kind == EdgeKind::Dep {
                    ""
                } else {
                    " [style=dashed, label=\"calls\"]"
                };
                out.push_str(&format!("  {from:?} -> {:?}{style};\n", edge.to));
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Mermaid node ids may not contain `-`, `:` and friends; the label keeps the name.
fn node(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{id}[\"{name}\"]")
}

#[derive(Debug, Clone, Copy)]
enum Visit {
    InProgress,
    Done,
}

/// A task's edges. Names that are templates are resolved at run time instead.
fn edges_of(taskfile: &Taskfile, name: &str) -> Result<Vec<Edge>> {
    let (_, task) = taskfile
        .find(name)
        .ok_or_else(|| taskfile.unknown_task(name))?;
    let mut edges = Vec::new();
    let mut add =
        |target: &crate::taskfile::Text, fallback: &serde_saphyr::Location, kind| -> Result<()> {
            if has_markup(&target.value) {
                return Ok(());
            }
            if let Some((canonical, _)) = taskfile.find(&target.value) {
                edges.push(Edge {
                    to: canonical.to_owned(),
                    kind,
                });
                Ok(())
            } else {
                let names = taskfile.tasks.keys().map(String::as_str);
                let suggestion = closest(&target.value, names).into_iter().next();
                let verb = if kind == EdgeKind::Dep {
                    "depends on"
                } else {
                    "calls"
                };
                Err(Error::Taskfile {
                    origin: taskfile.origin_of(target, fallback),
                    message: format!(
                        "task `{name}` {verb} `{}`, which does not exist",
                        target.value
                    ),
                    help: Some(match suggestion {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "`hoist --list-all` shows all tasks".into(),
                    }),
                })
            }
        };
    for dep in &task.value.deps {
        add(&dep.value.task, &dep.referenced, EdgeKind::Dep)?;
    }
    for step in &task.value.cmds {
        let mut inner = &step.value;
        while let Step::Defer(deferred) = inner {
            inner = deferred;
        }
        if let Step::Task { task, .. } = inner {
            add(task, &step.referenced, EdgeKind::Call)?;
        }
    }
    Ok(edges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(yaml: &str) -> Taskfile {
        Taskfile::parse(PathBuf::from("/nonexistent/hoist.yml"), yaml).unwrap()
    }

    #[test]
    fn cycle_prints_its_path() {
        let f = file("tasks:\n  build: {deps: [image]}\n  image: {cmds: [{task: build}]}\n");
        let err = Graph::build(&f, &["build".into()]).unwrap_err();
        assert_eq!(err.to_string(), "dependency cycle: build -> image -> build");
    }

    #[test]
    fn self_dependency_is_a_cycle() {
        let f = file("tasks:\n  a: {deps: [a]}\n");
        assert_eq!(
            Graph::build(&f, &["a".into()]).unwrap_err().to_string(),
            "dependency cycle: a -> a"
        );
    }

    #[test]
    fn unknown_dep_suggests() {
        let f = file("tasks:\n  build-linux: echo\n  image:\n    deps: [build-linx]\n");
        let err = Graph::build(&f, &["image".into()]).unwrap_err();
        assert!(err.to_string().contains("depends on `build-linx`"), "{err}");
        assert_eq!(err.help().as_deref(), Some("did you mean `build-linux`?"));
        assert_eq!(err.origin().unwrap().line, 4);
    }

    #[test]
    fn diamond_is_fine_and_rendered() {
        let f =
            file("tasks:\n  a: {deps: [b, c]}\n  b: {deps: [d]}\n  c: {deps: [d]}\n  d: echo\n");
        let g = Graph::build(&f, &["a".into()]).unwrap();
        assert_eq!(g.edges.keys().collect::<Vec<_>>(), ["a", "b", "d", "c"]);
        assert!(g.mermaid().contains("a[\"a\"] --> b[\"b\"]"));
        assert!(g.dot().contains("\"b\" -> \"d\";"));
    }
}
