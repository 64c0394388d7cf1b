//! go-task's listings, byte for byte where scripts read them: `--list`,
//! `--list-all`, `--silent` names, `--json`, and `--summary`.

use super::args::Args;
use super::model::{Action, Task, VarDef};
use super::vars::{render, text_of, Compiler};
use super::Failure;
use crate::gotmpl::Value;
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
        // As go-task sorts: names without a namespace first, then the rest,
        // each alphabetically.
        tasks.sort_by(|a, b| {
            let namespaced = |t: &Task| t.name.contains(':');
            namespaced(a)
                .cmp(&namespaced(b))
                .then_with(|| a.name.cmp(&b.name))
        });
    }
    tasks
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// A description rendered with the Taskfile's variables (not the command
/// line's), as the JSON listing shows it.
fn desc(compiler: &Compiler, task: &Task) -> String {
    match compiler.listing_scope(task) {
        Ok(data) => render(&task.desc, &data).unwrap_or_else(|_| task.desc.clone()),
        Err(_) => task.desc.clone(),
    }
}

/// `--list`/`--list-all`.
pub(crate) fn list(compiler: &Compiler, args: &Args) -> Result<(), Failure> {
    let all = args.list_all;
    let tasks = shown(compiler, all, args.sort.as_deref());
    if args.json {
        write_stdout(&json(compiler, &tasks));
        return if tasks.is_empty() {
            Err(Failure::new(super::Code::General, String::new()))
        } else {
            Ok(())
        };
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
            // The table shows a description on one line.
            let mut row = vec![
                format!("* {}: ", task.name),
                desc(compiler, task).replace('\n', " "),
            ];
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
            in_tasks = yaml_key(line.trim_end()) == Some("tasks");
            continue;
        }
        if !in_tasks {
            continue;
        }
        let trimmed = line.trim_start();
        let column = line.len() - trimmed.len() + 1;
        if yaml_key(trimmed) == Some(local) {
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

/// The key of a `key: value` (or `key:`) line: up to the first `:` that is
/// followed by a space or the end, quotes removed.
fn yaml_key(line: &str) -> Option<&str> {
    for quote in ['"', '\''] {
        if let Some(rest) = line.strip_prefix(quote) {
            let end = rest.find(quote)?;
            return rest[end + 1..].starts_with(':').then(|| &rest[..end]);
        }
    }
    line.match_indices(':')
        .find(|(i, _)| matches!(line.as_bytes().get(i + 1), None | Some(b' ' | b'\t')))
        .map(|(i, _)| line[..i].trim_end())
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
    // Go's encoder escapes these three, inside strings (the only place
    // they can be in JSON).
    let mut text = serde_json::to_string_pretty(&doc)
        .unwrap_or_default()
        .replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e");
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

/// Renders for a summary: go-task shows a template it cannot render as written.
fn shown_text(text: &str, data: &super::vars::Data) -> String {
    render(text, data).unwrap_or_else(|_| text.to_owned())
}

/// A variable's value as a summary shows it: `sh: COMMAND` for a command
/// (go-task does not run them for a summary), else the value in quotes,
/// unescaped.
fn summary_value(def: Option<&VarDef>, value: Option<&Value>, data: &super::vars::Data) -> String {
    match def {
        Some(VarDef::Sh(command)) => format!("sh: {}", shown_text(command, data)),
        _ => format!("\"{}\"", value.map(text_of).unwrap_or_default()),
    }
}

fn summary_of(compiler: &Compiler, task: &Task, alias: Option<&str>) -> Result<String, Failure> {
    let scope = compiler.static_scope(task, alias, &[])?;
    let data = &scope.data;
    let title = match &task.label {
        Some(label) => shown_text(label, data),
        None => task.name.clone(),
    };
    let mut out = format!("task: {title}\n\n");
    let text = shown_text(
        if task.summary.is_empty() {
            &task.desc
        } else {
            &task.summary
        },
        data,
    );
    if text.is_empty() {
        out.push_str("(task does not have description or summary)\n");
    } else {
        out.push_str(text.trim_end_matches('\n'));
        out.push('\n');
    }
    summary_vars(&mut out, compiler, task, &scope);
    if !task.requires.is_empty() {
        out.push_str("\nrequires:\n  vars:\n");
        for req in &task.requires {
            let _ = writeln!(out, "    - {}", req.name);
        }
    }
    if !task.deps.is_empty() {
        out.push_str("\ndependencies:\n");
        for dep in &task.deps {
            let _ = writeln!(out, " - {}", full_name(compiler, task, &dep.task));
        }
    }
    if !task.aliases.is_empty() {
        out.push_str("\naliases:\n");
        for alias in &task.aliases {
            let _ = writeln!(out, " - {alias}");
        }
    }
    summary_commands(&mut out, compiler, task, &scope);
    Ok(out)
}

/// A summary's `vars:` and `env:` sections.
fn summary_vars(out: &mut String, compiler: &Compiler, task: &Task, scope: &super::vars::Scope) {
    let data = &scope.data;
    let file = &compiler.file;
    // go-task's merged vars (the root file's, the command line's, every
    // included file's), then the task's; a name that is also an env key is
    // shown under env only.
    let env_names: Vec<&str> = file
        .env
        .iter()
        .chain(&task.env)
        .map(|(n, _)| n.as_str())
        .collect();
    let globals = compiler.merged_globals();
    let mut names: Vec<(&str, &VarDef)> = Vec::new();
    for (name, def) in globals.iter().chain(&task.vars) {
        if env_names.contains(&name.as_str()) {
            continue;
        }
        match names.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = def,
            None => names.push((name, def)),
        }
    }
    if !names.is_empty() {
        out.push_str("\nvars:\n");
        for (name, def) in names {
            let _ = writeln!(
                out,
                "  {name}: {}",
                summary_value(Some(def), data.get(name), data)
            );
        }
    }
    let mut env: Vec<(&str, &VarDef)> = Vec::new();
    for (name, def) in file.env.iter().chain(&task.env) {
        match env.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = def,
            None => env.push((name, def)),
        }
    }
    if !env.is_empty() {
        out.push_str("\nenv:\n");
        for (name, def) in env {
            let value = scope
                .env
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Value::String(v.clone()));
            let _ = writeln!(
                out,
                "  {name}: {}",
                summary_value(Some(def), value.as_ref(), data)
            );
        }
    }
}

/// A summary's `commands:` section.
fn summary_commands(
    out: &mut String,
    compiler: &Compiler,
    task: &Task,
    scope: &super::vars::Scope,
) {
    let data = &scope.data;
    if !task.cmds.is_empty() {
        out.push_str("\ncommands:\n");
        for cmd in &task.cmds {
            // `for:` loops are shown unrolled, as go-task shows them.
            let each = super::run::Executor::loop_data(task, cmd.looping.as_ref(), scope)
                .unwrap_or_else(|_| vec![data.clone()]);
            for data in &each {
                match &cmd.action {
                    Action::Shell(text) => {
                        let _ = writeln!(out, " - {}", shown_text(text, data));
                    }
                    Action::Call { task: name, .. } => {
                        let name = full_name(compiler, task, &shown_text(name, data));
                        let _ = writeln!(out, " - Task: {name}");
                    }
                }
            }
        }
    }
}

/// A dependency's name as go-task shows it: namespaced like its task, or
/// from the root without the leading `:`.
fn full_name(compiler: &Compiler, task: &Task, name: &str) -> String {
    if let Some(absolute) = name.strip_prefix(':') {
        return absolute.to_owned();
    }
    let local = format!("{}{name}", task.origin.namespace);
    if !task.origin.namespace.is_empty() && compiler.file.find(&local).is_some() {
        local
    } else {
        name.to_owned()
    }
}
