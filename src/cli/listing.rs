//! `--list`, `--summary` and `--vars`: reading the file without running it.

use crate::error::Result;
use crate::taskfile::{Step, Taskfile};
use crate::ui::Printer;
use crate::vars::Session;
use indexmap::IndexMap;
use std::fmt::Write;
use std::sync::Arc;

/// Tasks in file order; `all` includes those without a description. Descriptions
/// are shown as written: listing never evaluates a variable.
pub(crate) fn list(taskfile: &Taskfile, printer: &Printer, all: bool, json: bool) {
    let tasks: Vec<_> = taskfile
        .tasks
        .iter()
        .filter(|(_, t)| !t.value.internal && (all || t.value.desc.is_some()))
        .collect();
    if json {
        let items: Vec<_> = tasks
            .iter()
            .map(|(name, t)| {
                serde_json::json!({
                    "name": name,
                    "desc": t.value.desc.as_ref().map_or("", |d| d.value.as_str()),
                    "aliases": t.value.aliases,
                    "line": t.referenced.line(),
                })
            })
            .collect();
        printer.stdout(&format!("{}\n", serde_json::json!({ "tasks": items })));
        return;
    }
    if tasks.is_empty() {
        let hint = if all {
            ""
        } else {
            " with a description (`hoist --list-all` shows all)"
        };
        printer.stdout(&format!("No tasks{hint}.\n"));
        return;
    }
    let width = tasks
        .iter()
        .map(|(name, _)| name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::from("Available tasks:\n");
    for (name, task) in tasks {
        let desc = task.value.desc.as_ref().map_or("", |d| d.value.trim());
        let padding = " ".repeat(width - name.chars().count());
        let aliases = if task.value.aliases.is_empty() {
            String::new()
        } else {
            printer.dim(&format!(" (aliases: {})", task.value.aliases.join(", ")))
        };
        let line = format!("  {}{padding}  {desc}{aliases}", printer.bold(name));
        let _ = writeln!(out, "{}", line.trim_end());
    }
    printer.stdout(&out);
}

pub(crate) fn summary(taskfile: &Taskfile, printer: &Printer, tasks: &[String]) {
    let mut out = String::new();
    for (i, name) in tasks.iter().enumerate() {
        let task = &taskfile.tasks[name.as_str()].value;
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "task: {name}\n");
        let text = task
            .summary
            .as_ref()
            .or(task.desc.as_ref())
            .map_or("(no description)", |t| t.value.trim());
        let _ = writeln!(out, "{text}");
        if !task.deps.is_empty() {
            let _ = writeln!(out, "\ndependencies:");
            for dep in &task.deps {
                let _ = writeln!(out, " - {}", dep.value.task.value);
            }
        }
        if !task.cmds.is_empty() {
            let _ = writeln!(out, "\ncommands:");
            for step in &task.cmds {
                let _ = writeln!(out, " - {}", describe_step(&step.value));
            }
        }
    }
    printer.stdout(&out);
}

fn describe_step(step: &Step) -> String {
    match step {
        Step::Cmd { cmd, .. } => cmd.value.trim_end().to_owned(),
        Step::Task { task, .. } => format!("Task: {}", task.value),
        Step::Defer(inner) => format!("Defer: {}", describe_step(inner)),
        Step::Build(b) => format!("Build image: {}", b.image.value),
        Step::Push(p) => format!("Push image: {}", p.image.value),
        Step::Tag(t) => format!("Tag image: {} as {}", t.image.value, t.target.value),
        Step::GitTag(t) => format!("Git tag: {}", t.name.value),
        Step::Flow(f) => (if f.hotfix { "Hotfix" } else { "Release" }).to_owned(),
    }
}

/// Names that look like they hold a secret are never printed.
fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "TOKEN",
        "SECRET",
        "CREDENTIAL",
        "API_KEY",
        "PRIVATE_KEY",
    ]
    .iter()
    .any(|word| upper.contains(word))
}

pub(crate) fn vars(
    ctx: &Arc<Session>,
    printer: &Printer,
    task: Option<&str>,
    json: bool,
) -> Result<()> {
    let scope = match task {
        Some(name) => ctx.scope_for_task(
            name,
            &ctx.taskfile.tasks[name],
            IndexMap::default(),
            crate::vars::Effects::All,
        )?,
        None => ctx.global(),
    };
    let resolved = scope.resolve_all()?;
    let shown = |name: &str, value: &minijinja::Value| -> String {
        if is_secret_name(name) && !crate::runner::value_text(value).is_empty() {
            "********".to_owned()
        } else {
            crate::runner::value_text(value)
        }
    };
    if json {
        let map: serde_json::Map<String, serde_json::Value> = resolved
            .iter()
            .map(|(name, value, _)| (name.clone(), serde_json::Value::String(shown(name, value))))
            .collect();
        printer.stdout(&format!("{}\n", serde_json::Value::Object(map)));
        return Ok(());
    }
    let width = resolved.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (name, value, source) in &resolved {
        let _ = writeln!(
            out,
            "{name:width$} = {}  {}",
            shown(name, value),
            printer.dim(&format!("({source})"))
        );
    }
    printer.stdout(&out);
    Ok(())
}
