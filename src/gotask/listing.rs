//! go-task's listings, byte for byte where scripts read them: `--list`,
//! `--list-all`, `--silent` names, `--json`, and `--summary`.

use super::args::Args;
use super::model::{Action, Task};
use super::vars::{render, text_of, Compiler};
use super::Failure;
use std::fmt::Write as _;
use std::io::Write as _;

/// The tasks a listing shows, in its order (alphanumeric unless `--sort none`).
fn shown<'a>(compiler: &'a Compiler, all: bool, sort: Option<&str>) -> Vec<&'a Task> {
    let mut tasks: Vec<&Task> = compiler
        .file
        .tasks
        .values()
        .map(AsRef::as_ref)
        .filter(|t| !t.internal && (all || !t.desc.is_empty()))
        .collect();
    if sort != Some("none") {
        // Root tasks first, then each namespace, as go-task sorts.
        tasks.sort_by(|a, b| {
            let depth = |t: &Task| t.name.matches(':').count();
            depth(a).cmp(&depth(b)).then_with(|| a.name.cmp(&b.name))
        });
    }
    tasks
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// A description as the listing shows it: rendered with the Taskfile's
/// variables (not the command line's), its first line.
fn desc(compiler: &Compiler, task: &Task) -> String {
    let rendered = match compiler.listing_scope(task) {
        Ok(data) => render(&task.desc, &data).unwrap_or_else(|_| task.desc.clone()),
        Err(_) => task.desc.clone(),
    };
    rendered.lines().next().unwrap_or("").to_owned()
}

/// `--list`/`--list-all`.
pub(crate) fn list(compiler: &Compiler, args: &Args) -> Result<(), Failure> {
    let all = args.list_all;
    let tasks = shown(compiler, all, args.sort.as_deref());
    if args.json {
        write_stdout(&json(compiler, &tasks));
        return Ok(());
    }
    if args.silent {
        let mut text = String::new();
        for task in &tasks {
            text.push_str(&task.name);
            text.push('\n');
            for alias in &task.aliases {
                text.push_str(alias);
                text.push('\n');
            }
        }
        write_stdout(&text);
        return Ok(());
    }
    if tasks.is_empty() {
        write_stdout(&no_tasks(all));
        return Err(Failure::new(super::Code::General, String::new()));
    }
    write_stdout(&table(compiler, &tasks));
    Ok(())
}

fn no_tasks(all: bool) -> String {
    if all {
        "task: No tasks available\n".to_owned()
    } else {
        "task: No tasks with description available. Try --list-all to list all tasks\n".to_owned()
    }
}

/// What go-task prints on stdout when the task asked for does not exist.
pub(crate) fn described(compiler: &Compiler, args: &Args) -> String {
    let tasks = shown(compiler, false, args.sort.as_deref());
    if tasks.is_empty() {
        return no_tasks(false);
    }
    table(compiler, &tasks)
}

fn table(compiler: &Compiler, tasks: &[&Task]) -> String {
    let rows: Vec<Vec<String>> = tasks
        .iter()
        .map(|task| {
            let mut row = vec![format!("* {}: ", task.name), desc(compiler, task)];
            if !task.aliases.is_empty() {
                row.push(format!("(aliases: {})", task.aliases.join(", ")));
            }
            row
        })
        .collect();
    let mut out = String::from("task: Available tasks for this project:\n");
    out.push_str(&tabwriter(&rows, 6));
    out
}

/// Go's text/tabwriter with go-task's settings: a cell ends at a tab, the
/// last cell of a line is not aligned, and a column's width is set by the
/// run of consecutive lines that have that column.
fn tabwriter(rows: &[Vec<String>], padding: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![vec![0usize; columns]; rows.len()];
    for col in 0..columns {
        let mut start = 0;
        while start < rows.len() {
            // A block: consecutive rows in which `col` is a terminated cell.
            if rows[start].len() <= col + 1 {
                start += 1;
                continue;
            }
            let mut end = start;
            while end < rows.len() && rows[end].len() > col + 1 {
                end += 1;
            }
            let width = rows[start..end]
                .iter()
                .map(|r| r[col].chars().count())
                .max()
                .unwrap_or(0)
                + padding;
            for w in &mut widths[start..end] {
                w[col] = width;
            }
            start = end;
        }
    }
    let mut out = String::new();
    for (row, width) in rows.iter().zip(&widths) {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = width[i].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// Where a task is defined: the line and column of its name.
fn location(task: &Task) -> (usize, usize) {
    let local = task
        .name
        .strip_prefix(&task.origin.namespace)
        .unwrap_or(&task.name);
    let Ok(text) = std::fs::read_to_string(&task.origin.path) else {
        return (0, 0);
    };
    let mut in_tasks = false;
    for (n, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.is_empty() && !line.starts_with('#') {
            in_tasks = line.trim_end() == "tasks:";
            continue;
        }
        if !in_tasks {
            continue;
        }
        let trimmed = line.trim_start();
        let column = line.len() - trimmed.len() + 1;
        let key = trimmed.split(':').next().unwrap_or("");
        let key = key.trim_matches(|c| c == '"' || c == '\'');
        if key == local && trimmed[trimmed.find(':').unwrap_or(0)..].starts_with(':') {
            return (n + 1, column);
        }
    }
    (0, 0)
}

#[derive(serde::Serialize)]
struct JsonList {
    tasks: Vec<JsonTask>,
    location: String,
}

#[derive(serde::Serialize)]
struct JsonTask {
    name: String,
    task: String,
    desc: String,
    summary: String,
    aliases: Vec<String>,
    up_to_date: bool,
    location: JsonLocation,
}

#[derive(serde::Serialize)]
struct JsonLocation {
    line: usize,
    column: usize,
    taskfile: String,
}

fn json(compiler: &Compiler, tasks: &[&Task]) -> String {
    let entries: Vec<JsonTask> = tasks
        .iter()
        .map(|task| {
            let (line, column) = location(task);
            let summary = compiler
                .listing_scope(task)
                .ok()
                .and_then(|data| render(&task.summary, &data).ok())
                .unwrap_or_else(|| task.summary.clone());
            JsonTask {
                name: task.name.clone(),
                task: task.name.clone(),
                desc: desc(compiler, task),
                summary,
                aliases: task.aliases.clone(),
                up_to_date: false,
                location: JsonLocation {
                    line,
                    column,
                    taskfile: task.origin.path.to_string_lossy().into_owned(),
                },
            }
        })
        .collect();
    let doc = JsonList {
        tasks: entries,
        location: compiler.file.path.to_string_lossy().into_owned(),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// `--summary TASK...`.
pub(crate) fn summary(compiler: &Compiler, names: &[String]) -> Result<(), Failure> {
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        let (task, _) = compiler.file.resolve(name).expect("checked by the caller");
        let alias = (*name != task.name).then_some(name.as_str());
        out.push_str(&summary_of(compiler, task, alias)?);
    }
    write_stdout(&out);
    Ok(())
}

fn summary_of(compiler: &Compiler, task: &Task, alias: Option<&str>) -> Result<String, Failure> {
    let scope = compiler.scope(task, alias, &[])?;
    let data = &scope.data;
    let title = match &task.label {
        Some(label) => render(label, data)?,
        None => task.name.clone(),
    };
    let mut out = format!("task: {title}\n\n");
    let text = if task.summary.is_empty() {
        render(&task.desc, data)?
    } else {
        render(&task.summary, data)?
    };
    if text.is_empty() {
        out.push_str("(task does not have description or summary)\n");
    } else {
        out.push_str(text.trim_end_matches('\n'));
        out.push('\n');
    }
    let mut names: Vec<&str> = Vec::new();
    for name in compiler
        .cli_vars
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(compiler.file.vars.iter().map(|(n, _)| n.as_str()))
        .chain(task.vars.iter().map(|(n, _)| n.as_str()))
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if !names.is_empty() {
        out.push_str("\nvars:\n");
        for name in names {
            let value = data.get(name).map(text_of).unwrap_or_default();
            let _ = writeln!(out, "  {name}: {}", serde_json::Value::String(value));
        }
    }
    if !task.env.is_empty() {
        out.push_str("\nenv:\n");
        for (name, _) in &task.env {
            let value = scope
                .env
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let _ = writeln!(out, "  {name}: {}", serde_json::Value::String(value));
        }
    }
    if !task.requires.is_empty() {
        out.push_str("\nrequires:\n  vars:\n");
        for req in &task.requires {
            let _ = writeln!(out, "    - {}", req.name);
        }
    }
    if !task.aliases.is_empty() {
        out.push_str("\naliases:\n");
        for alias in &task.aliases {
            let _ = writeln!(out, " - {alias}");
        }
    }
    if !task.deps.is_empty() {
        out.push_str("\ndependencies:\n");
        for dep in &task.deps {
            let _ = writeln!(out, " - {}", dep.task);
        }
    }
    if !task.cmds.is_empty() {
        out.push_str("\ncommands:\n");
        for cmd in &task.cmds {
            match &cmd.action {
                Action::Shell(text) => {
                    let text = render(text, data).unwrap_or_else(|_| text.clone());
                    let _ = writeln!(out, " - {text}");
                }
                Action::Call { task, .. } => {
                    let _ = writeln!(out, " - Task: {task}");
                }
            }
        }
    }
    Ok(out)
}
