//! Running tasks with go-task's semantics: deps in parallel, then the
//! commands in order, `status`/`sources` up-to-date checks, preconditions,
//! requirements, `run: once|when_changed`, defers with `EXIT_CODE`, `for:`
//! loops, and go-task's three output styles.

use super::args::Args;
use super::listing;
use super::model::{self, Action, Cmd, For, GroupMarks, Looping, OutputStyle, RunPolicy, Task};
use super::node::Node;
use super::vars::{render, status_text, text_of, Compiler, Data, Flags, Scope};
use super::{Code, Failure};
use crate::exec::Bash;
use crate::gotmpl::Value;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// How many times one task may be entered in one run (go-task's guard
/// against `task:` recursion).
const MAX_CALLS: usize = 1000;

/// `--help` in go-task mode: the go-task flags hoist takes.
const USAGE: &str = "\
hoist runs {path} as go-task 3 does (no hoist.yml here).

Usage: hoist [FLAGS] [TASK...] [NAME=VALUE...] [-- CLI_ARGS...]

  -l, --list            tasks with a description      -a, --list-all   every task
  -j, --json            listings as JSON              --sort none      file order
      --summary TASK    what a task does              --status TASK    exit 1 unless up to date
  -n, --dry             print the commands, run none  -f, --force      ignore status and sources
  -s, --silent          no command echo               -v, --verbose    say why tasks run
  -p, --parallel        run the named tasks at once   -x, --exit-code  pass a command's status on
  -y, --yes             answer prompts with yes       -o, --output     interleaved|prefixed|group
  -d, --dir DIR         run as if started in DIR      -t, --taskfile   the Taskfile to run
      --migrate [FILE]  write the equivalent hoist.yml (with --to FILE [--force])
";

pub(crate) fn main(args: Args) -> Result<(), Failure> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::new(Code::General, format!("current directory: {e}")))?;
    let base = args.dir.as_ref().map_or(cwd.clone(), |d| cwd.join(d));
    let path = locate(&args, &base)?;
    if args.version {
        println!("hoist {} (go-task mode)", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    if args.help {
        print!("{}", USAGE.replace("{path}", &path.display().to_string()));
        return Ok(());
    }
    let file = model::load(&path).map_err(|f| match f.code {
        // With --insecure go-task tries the download (and fails here, offline).
        Code::TaskfileInsecure if args.insecure => Failure {
            code: Code::TaskfileFetch,
            ..f
        },
        _ => f,
    })?;
    let flags = Flags {
        force: args.force,
        silent: args.silent,
        verbose: args.verbose,
        yes: args.yes,
    };
    let compiler = Compiler::new(
        file,
        args.vars.clone(),
        args.cli_args.clone(),
        cwd,
        flags,
        args.exe.clone(),
    );
    if args.list || args.list_all {
        return listing::list(&compiler, &args);
    }
    let tasks = if args.tasks.is_empty() {
        vec!["default".to_owned()]
    } else {
        args.tasks.clone()
    };
    check_requested(&compiler, &tasks, &args)?;
    if args.summary {
        return listing::summary(&compiler, &tasks);
    }
    let (style, marks) = output_settings(&args, &compiler)?;
    crate::exec::forward_stop_signals();
    if !args.dry {
        crate::exec::kill_tracked_on_panic();
    }
    let executor = Executor {
        compiler,
        dry: args.dry,
        style,
        marks,
        runs: Mutex::new(HashMap::new()),
        calls: Mutex::new(HashMap::new()),
        out: Mutex::new(()),
        suggested: std::sync::atomic::AtomicBool::new(false),
    };
    if args.status {
        return executor.report_status(&tasks);
    }
    if args.parallel {
        let results: Vec<Outcome> = std::thread::scope(|s| {
            let handles: Vec<_> = tasks
                .iter()
                .map(|name| s.spawn(|| executor.run_task(name, &[], None, false)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("task thread"))
                .collect()
        });
        return results.into_iter().collect();
    }
    for name in &tasks {
        executor.run_task(name, &[], None, false)?;
    }
    Ok(())
}

/// The output style and group marks: `--output` and its flags, else the
/// Taskfile's `output:`.
fn output_settings(args: &Args, compiler: &Compiler) -> Result<(OutputStyle, GroupMarks), Failure> {
    let style = match &args.output {
        Some(name) => model::parse_output(name).ok_or_else(|| {
            Failure::new(
                Code::General,
                format!("--output {name}: use interleaved, prefixed or group"),
            )
        })?,
        None => compiler
            .file
            .output
            .as_ref()
            .map_or(OutputStyle::Interleaved, |(s, _)| *s),
    };
    let marks = if args.output.is_some() {
        GroupMarks {
            begin: args.group_begin.clone(),
            end: args.group_end.clone(),
            error_only: args.group_error_only,
        }
    } else {
        compiler
            .file
            .output
            .as_ref()
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    Ok((style, marks))
}

/// Every task named on the command line exists and may be called from it.
fn check_requested(compiler: &Compiler, tasks: &[String], args: &Args) -> Result<(), Failure> {
    for name in tasks {
        match compiler.file.resolve(name).map(|(t, _)| t) {
            None => return Err(not_found(compiler, name, args)),
            Some(task) if task.internal => {
                return Err(Failure::new(
                    Code::TaskInternal,
                    format!("task \"{name}\" is internal: it can be called by other tasks, not from the command line"),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn locate(args: &Args, base: &Path) -> Result<PathBuf, Failure> {
    if !base.is_dir() {
        return Err(Failure::new(
            Code::TaskfileNotFound,
            format!("--dir {}: no such directory", base.display()),
        ));
    }
    if let Some(taskfile) = &args.taskfile {
        let text = taskfile.to_string_lossy();
        if text.contains("://") {
            let code = if text.starts_with("http://") {
                Code::TaskfileInsecure
            } else {
                Code::TaskfileFetch
            };
            return Err(Failure::new(
                code,
                format!("--taskfile {text}: hoist runs only local Taskfiles; download it and pass its path"),
            ));
        }
        let path = base.join(taskfile);
        if path.is_dir() {
            return model::file_in(&path).ok_or_else(|| {
                Failure::new(
                    Code::TaskfileNotFound,
                    format!("no Taskfile in {}", path.display()),
                )
            });
        }
        if !path.is_file() {
            return Err(Failure::new(
                Code::TaskfileNotFound,
                format!("{} does not exist", path.display()),
            ));
        }
        return Ok(path);
    }
    super::discover(base).ok_or_else(|| {
        Failure::new(
            Code::TaskfileNotFound,
            format!(
                "no hoist.yml or Taskfile found in {} or above: run `hoist --init` to write one",
                base.display()
            ),
        )
    })
}

fn not_found(compiler: &Compiler, name: &str, args: &Args) -> Failure {
    let mut failure = Failure::new(
        Code::TaskNotFound,
        format!("task \"{name}\" does not exist"),
    );
    let names: Vec<&str> = compiler
        .file
        .tasks
        .values()
        .filter(|t| !t.internal)
        .map(|t| t.name.as_str())
        .collect();
    if let Some(best) = names
        .iter()
        .map(|n| (strsim::levenshtein(n, name), *n))
        .filter(|(d, _)| *d <= 2)
        .min()
    {
        failure
            .message
            .push_str(&format!(": did you mean \"{}\"?", best.1));
    }
    failure.stdout = Some(listing::described(compiler, args));
    failure
}

/// What a task's `status`/`sources` say.
enum Freshness {
    /// It has neither: it always runs.
    Unchecked,
    UpToDate,
    /// Why it must run (for --verbose).
    Stale(String),
}

type Outcome = Result<(), Failure>;

/// One dependency to start: the task, its vars, whether it runs silent.
struct DepCall {
    name: String,
    vars: Vec<(String, Value)>,
    quiet: bool,
}

pub(super) struct Executor {
    compiler: Compiler,
    dry: bool,
    style: OutputStyle,
    marks: GroupMarks,
    /// `run: once` / `when_changed` results, by task (and vars).
    runs: Mutex<HashMap<String, Arc<OnceLock<Outcome>>>>,
    calls: Mutex<HashMap<String, usize>>,
    /// Held while a group of output is written, so groups do not mix.
    out: Mutex<()>,
    /// Whether the native-push hint was given (once per run).
    suggested: std::sync::atomic::AtomicBool,
}

/// A task name as written in a `task:` or `deps:` of `from`: relative to its
/// namespace, or from the root with a leading `:`.
fn resolve_name(compiler: &Compiler, from: &Task, name: &str) -> String {
    if let Some(absolute) = name.strip_prefix(':') {
        return absolute.to_owned();
    }
    let namespace = &from.origin.namespace;
    if !namespace.is_empty() {
        let local = format!("{namespace}{name}");
        if compiler.file.find(&local).is_some() {
            return local;
        }
    }
    name.to_owned()
}

impl Executor {
    fn silent(&self, task: &Task) -> bool {
        self.compiler.flags.silent || task.silent || self.compiler.file.silent
    }

    fn log(label: &str, line: &str) {
        eprintln!("hoist: [{label}] {line}");
    }

    fn run_task(
        &self,
        name: &str,
        call_vars: &[(String, Value)],
        caller: Option<&Task>,
        quiet: bool,
    ) -> Result<(), Failure> {
        let Some((task, matched)) = self
            .compiler
            .file
            .resolve(name)
            .map(|(t, m)| (t.clone(), m))
        else {
            return Err(Failure::new(
                Code::TaskNotFound,
                format!(
                    "task \"{name}\" does not exist{}",
                    caller.map_or(String::new(), |c| format!(
                        " (called by task \"{}\")",
                        c.name
                    ))
                ),
            ));
        };
        {
            let mut calls = self.calls.lock().expect("calls");
            let count = calls.entry(task.name.clone()).or_default();
            *count += 1;
            if *count > MAX_CALLS {
                return Err(Failure::new(
                    Code::TaskCalledTooManyTimes,
                    format!(
                        "task \"{}\" was called more than {MAX_CALLS} times: a cycle of `task:` calls?",
                        task.name
                    ),
                ));
            }
        }
        let alias = (name != task.name).then_some(name);
        let with_match;
        let call_vars = match matched {
            Some(m) => {
                with_match = std::iter::once((
                    "MATCH".to_owned(),
                    Value::List(m.into_iter().map(Value::String).collect()),
                ))
                .chain(call_vars.iter().cloned())
                .collect::<Vec<_>>();
                &with_match[..]
            }
            None => call_vars,
        };
        let policy = task.run.unwrap_or(self.compiler.file.run);
        let key = match policy {
            RunPolicy::Always => None,
            RunPolicy::Once => Some(task.name.clone()),
            RunPolicy::WhenChanged => Some(format!("{}\u{0}{call_vars:?}", task.name)),
        };
        match key {
            None => self.run_instance(&task, alias, call_vars, quiet),
            Some(key) => {
                let cell = self
                    .runs
                    .lock()
                    .expect("runs")
                    .entry(key)
                    .or_default()
                    .clone();
                cell.get_or_init(|| self.run_instance(&task, alias, call_vars, quiet))
                    .clone()
            }
        }
    }

    fn run_instance(
        &self,
        task: &Arc<Task>,
        alias: Option<&str>,
        call_vars: &[(String, Value)],
        quiet: bool,
    ) -> Result<(), Failure> {
        let quiet = quiet || self.silent(task);
        // Required variables are checked before any `sh:` runs (one may use them).
        if !task.requires.is_empty() {
            let known = self.compiler.static_scope(task, alias, call_vars)?;
            Self::check_requires(task, &known)?;
        }
        let mut scope = self.compiler.scope(task, alias, call_vars)?;
        if !task.sources.is_empty() {
            self.source_vars(task, &mut scope)?;
        }
        if !platform_matches(&task.platforms) {
            return Ok(());
        }
        if let Some(condition) = &task.condition {
            let condition = render(condition, &scope.data)?;
            if !self.check(&condition, &scope, task) {
                return Ok(());
            }
        }
        let label = match &task.label {
            Some(l) => render(l, &scope.data)?,
            None => task.name.clone(),
        };
        self.run_deps(task, &scope)?;
        // Everything is rendered before anything runs, as go-task compiles a
        // task before running it (a template error runs nothing).
        let cmds = Self::expand_cmds(task, &scope)?;
        if !task.prompt.is_empty() && !self.dry {
            self.prompt(task, &scope)?;
        }
        for pre in &task.preconditions {
            let sh = render(&pre.sh, &scope.data)?;
            if !self.check(&sh, &scope, task) {
                let msg = match &pre.msg {
                    Some(m) => render(m, &scope.data)?,
                    None => format!("`{sh}` failed"),
                };
                return Err(Failure::new(
                    Code::TaskRun,
                    format!("task \"{}\": precondition not met: {msg}", task.name),
                ));
            }
        }
        if !self.compiler.flags.force {
            match self.up_to_date(task, &scope)? {
                Freshness::Stale(why) if self.compiler.flags.verbose => {
                    eprintln!("hoist: task \"{}\" is not up to date: {why}", task.name);
                }
                Freshness::UpToDate => {
                    if !quiet || self.compiler.flags.verbose {
                        eprintln!("hoist: task \"{}\" is up to date", task.name);
                    }
                    return Ok(());
                }
                Freshness::Stale(_) | Freshness::Unchecked => {}
            }
        }
        let mut deferred: Vec<&Cmd> = Vec::new();
        let mut result = Ok(());
        for (cmd, data) in &cmds {
            if cmd.defer {
                deferred.push(cmd);
                continue;
            }
            if let Err(failure) = self.run_cmd(task, &label, cmd, data, &scope, quiet) {
                result = Err(failure);
                break;
            }
        }
        let exit_code = match &result {
            Err(f) => f.status,
            Ok(()) => None,
        };
        for cmd in deferred.into_iter().rev() {
            let mut data = scope.data.clone();
            if let Some(code) = exit_code {
                data.insert("EXIT_CODE".into(), Value::Int(i64::from(code)));
            }
            let cmd = Cmd {
                ignore_error: true,
                ..cmd.clone()
            };
            let _ = self.run_cmd(task, &label, &cmd, &data, &scope, quiet);
        }
        if result.is_ok() && !self.dry && !task.sources.is_empty() {
            self.record_sources(task, &scope);
        }
        result.map_err(|f| {
            if f.code == Code::TaskRun && !f.message.starts_with("task \"") {
                Failure {
                    message: format!("task \"{}\" failed: {}", task.name, f.message),
                    ..f
                }
            } else {
                f
            }
        })
    }

    fn check_requires(task: &Task, scope: &Scope) -> Result<(), Failure> {
        let missing: Vec<&str> = task
            .requires
            .iter()
            .filter(|r| matches!(scope.data.get(&r.name), None | Some(Value::Nil)))
            .map(|r| r.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Failure::new(
                Code::TaskMissingRequiredVars,
                format!(
                    "task \"{}\" needs the variable(s) {}: set them (e.g. `hoist {} {}=...`)",
                    task.name,
                    missing.join(", "),
                    task.name,
                    missing[0]
                ),
            ));
        }
        for req in &task.requires {
            if let (Some(allowed), Some(value)) = (&req.allowed, scope.data.get(&req.name)) {
                let value = text_of(value);
                if !allowed.contains(&value) {
                    return Err(Failure::new(
                        Code::TaskNotAllowedVars,
                        format!(
                            "task \"{}\": {}={value:?} is not one of {}",
                            task.name,
                            req.name,
                            allowed.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn run_deps(&self, task: &Arc<Task>, scope: &Scope) -> Result<(), Failure> {
        let mut calls: Vec<DepCall> = Vec::new();
        for dep in &task.deps {
            let name = render(&dep.task, &scope.data)?;
            let name = resolve_name(&self.compiler, task, &name);
            for data in Self::loop_data(task, dep.looping.as_ref(), scope)? {
                let mut vars = Vec::new();
                for (k, def) in &dep.vars {
                    vars.push((k.clone(), self.compiler.eval(def, &data, &scope.dir)?));
                }
                calls.push(DepCall {
                    name: name.clone(),
                    vars,
                    quiet: dep.silent,
                });
            }
        }
        if calls.is_empty() {
            return Ok(());
        }
        let results: Vec<Outcome> = std::thread::scope(|s| {
            let handles: Vec<_> = calls
                .iter()
                .map(|call| {
                    s.spawn(|| self.run_task(&call.name, &call.vars, Some(task), call.quiet))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("dep thread"))
                .collect()
        });
        for result in results {
            result.map_err(|f| Failure {
                message: format!("task \"{}\": a dependency failed: {}", task.name, f.message),
                ..f
            })?;
        }
        Ok(())
    }

    /// The data each iteration of a `for:` sees (one, without ITEM, when
    /// there is no loop).
    pub(super) fn loop_data(
        task: &Task,
        looping: Option<&Looping>,
        scope: &Scope,
    ) -> Result<Vec<Data>, Failure> {
        let Some(looping) = looping else {
            return Ok(vec![scope.data.clone()]);
        };
        let items: Vec<Value> = match &looping.over {
            For::List(items) => items
                .iter()
                .map(|n| match n {
                    Node::Str(s) => render(s, &scope.data).map(Value::String),
                    other => Ok(other.to_value()),
                })
                .collect::<Result<_, _>>()?,
            For::Var { name, split } => match scope.data.get(name) {
                None | Some(Value::Nil) => Vec::new(),
                Some(Value::List(items)) => items.clone(),
                Some(Value::Map(m)) => {
                    let name = looping.as_name.clone().unwrap_or_else(|| "ITEM".to_owned());
                    return Ok(m
                        .iter()
                        .map(|(k, v)| {
                            let mut data = scope.data.clone();
                            data.insert("KEY".into(), Value::String(k.clone()));
                            data.insert(name.clone(), v.clone());
                            data
                        })
                        .collect());
                }
                Some(other) => {
                    let text = text_of(other);
                    match split {
                        Some(sep) => text
                            .split(sep.as_str())
                            .map(|s| Value::String(s.to_owned()))
                            .collect(),
                        None => text
                            .split_whitespace()
                            .map(|s| Value::String(s.to_owned()))
                            .collect(),
                    }
                }
            },
            For::Matrix(matrix) => {
                let mut rows: Vec<indexmap::IndexMap<String, Value>> =
                    vec![indexmap::IndexMap::new()];
                for (key, values) in matrix {
                    let values = match values {
                        Node::List(items) => items.iter().map(Node::to_value).collect::<Vec<_>>(),
                        other => vec![other.to_value()],
                    };
                    let mut next = Vec::new();
                    for row in &rows {
                        for v in &values {
                            let mut r = row.clone();
                            r.insert(key.clone(), v.clone());
                            next.push(r);
                        }
                    }
                    rows = next;
                }
                rows.into_iter().map(Value::Map).collect()
            }
            For::Sources | For::Generates => {
                let globs: Vec<String> = if matches!(looping.over, For::Sources) {
                    &task.sources
                } else {
                    &task.generates
                }
                .iter()
                .map(|g| render(g, &scope.data))
                .collect::<Result<_, _>>()?;
                let (files, _) = crate::fingerprint::matching(&scope.dir, &globs)
                    .map_err(|e| Failure::new(Code::TaskRun, e.to_string()))?;
                files.into_iter().map(Value::String).collect()
            }
        };
        let name = looping.as_name.clone().unwrap_or_else(|| "ITEM".to_owned());
        Ok(items
            .into_iter()
            .map(|item| {
                let mut data = scope.data.clone();
                data.insert(name.clone(), item);
                data
            })
            .collect())
    }

    /// Each command with the data it runs with, `for:` loops unrolled and
    /// shell commands rendered (defers are rendered when they run).
    fn expand_cmds(task: &Task, scope: &Scope) -> Result<Vec<(Cmd, Data)>, Failure> {
        let mut out = Vec::new();
        for cmd in &task.cmds {
            for data in Self::loop_data(task, cmd.looping.as_ref(), scope)? {
                let mut cmd = cmd.clone();
                if !cmd.defer {
                    if let Action::Shell(text) = &cmd.action {
                        cmd.action = Action::Shell(render(text, &data)?);
                    }
                }
                out.push((cmd, data));
            }
        }
        Ok(out)
    }

    fn run_cmd(
        &self,
        task: &Arc<Task>,
        label: &str,
        cmd: &Cmd,
        data: &Data,
        scope: &Scope,
        quiet: bool,
    ) -> Result<(), Failure> {
        if !platform_matches(&cmd.platforms) {
            return Ok(());
        }
        if let Some(condition) = &cmd.condition {
            let condition = render(condition, data)?;
            if !self.check(&condition, scope, task) {
                return Ok(());
            }
        }
        match &cmd.action {
            Action::Call { task: name, vars } => {
                let name = render(name, data)?;
                let name = resolve_name(&self.compiler, task, &name);
                let mut values = Vec::new();
                for (k, def) in vars {
                    values.push((k.clone(), self.compiler.eval(def, data, &scope.dir)?));
                }
                match self.run_task(&name, &values, Some(task), cmd.silent) {
                    Err(f) if cmd.ignore_error || task.ignore_error => {
                        eprintln!("hoist: {f} (ignored)");
                        Ok(())
                    }
                    other => other,
                }
            }
            Action::Shell(text) => {
                let text = if cmd.defer {
                    render(text, data)?
                } else {
                    text.clone()
                };
                if !(cmd.silent || quiet) {
                    Self::log(label, &text);
                }
                if self.dry {
                    return Ok(());
                }
                if let Some(signal) = crate::exec::stop_signal() {
                    return Err(Failure {
                        status: Some(128 + signal),
                        ..Failure::new(
                            Code::TaskRun,
                            format!("stopped by signal {signal} before `{text}`"),
                        )
                    });
                }
                let status = self.shell(task, &text, cmd, scope, data)?;
                if status.success() {
                    return Ok(());
                }
                let code = status.code().unwrap_or_else(|| {
                    use std::os::unix::process::ExitStatusExt;
                    128 + status.signal().unwrap_or(0)
                });
                self.suggest_native_push(&text);
                if cmd.ignore_error || task.ignore_error {
                    eprintln!(
                        "hoist: [{label}] `{text}` failed with {} (ignored)",
                        status_text(status)
                    );
                    return Ok(());
                }
                Err(Failure {
                    status: Some(code),
                    ..Failure::new(
                        Code::TaskRun,
                        format!("`{text}` failed with {}", status_text(status)),
                    )
                })
            }
        }
    }

    fn command(&self, task: &Task, text: &str, cmd: Option<&Cmd>, scope: &Scope) -> Bash {
        let mut set = self.compiler.file.set.clone();
        set.extend(task.set.iter().cloned());
        let mut shopt = self.compiler.file.shopt.clone();
        shopt.extend(task.shopt.iter().cloned());
        if let Some(cmd) = cmd {
            set.extend(cmd.set.iter().cloned());
            shopt.extend(cmd.shopt.iter().cloned());
        }
        Bash::new(
            text,
            &scope.dir,
            &set,
            &shopt,
            &Compiler::env_for_shell(&scope.env),
        )
    }

    fn shell(
        &self,
        task: &Task,
        text: &str,
        cmd: &Cmd,
        scope: &Scope,
        data: &Data,
    ) -> Result<std::process::ExitStatus, Failure> {
        if !scope.dir.is_dir() {
            // go-task creates a task's missing `dir:`.
            std::fs::create_dir_all(&scope.dir).map_err(|e| {
                Failure::new(
                    Code::TaskRun,
                    format!(
                        "task \"{}\": cannot create its directory {}: {e}",
                        task.name,
                        scope.dir.display()
                    ),
                )
            })?;
        }
        let command = self.command(task, text, Some(cmd), scope);
        let spawn_error = |e: std::io::Error| {
            Failure::new(Code::TaskRun, format!("cannot run bash for `{text}`: {e}"))
        };
        let style = if task.interactive {
            OutputStyle::Interleaved
        } else {
            self.style
        };
        match style {
            OutputStyle::Interleaved => command.run().map_err(spawn_error),
            OutputStyle::Prefixed => {
                let prefix = match &task.prefix {
                    Some(p) => render(p, data)?,
                    None => task.name.clone(),
                };
                command
                    .lines(&|is_stderr, line| prefix_line(&prefix, is_stderr, line))
                    .map_err(spawn_error)
            }
            OutputStyle::Group => {
                let output = command.capture(true, true).map_err(spawn_error)?;
                let quiet = output.stdout.is_empty() && output.stderr.is_empty();
                if quiet || (self.marks.error_only && output.status.success()) {
                    return Ok(output.status);
                }
                let _held = self.out.lock().expect("output lock");
                let mut stdout = std::io::stdout().lock();
                if let Some(begin) = &self.marks.begin {
                    let _ = writeln!(stdout, "{}", render(begin, data)?);
                }
                let _ = stdout.write_all(&output.stdout);
                let _ = stdout.flush();
                let _ = std::io::stderr().write_all(&output.stderr);
                if let Some(end) = &self.marks.end {
                    let _ = writeln!(stdout, "{}", render(end, data)?);
                }
                let _ = stdout.flush();
                Ok(output.status)
            }
        }
    }

    /// After a failed docker command whose image reference has an invalid
    /// tag (a branch such as `feature/x`), says once how hoist avoids it.
    fn suggest_native_push(&self, text: &str) {
        if !text.contains("docker")
            || self
                .suggested
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        let bad = text.split_whitespace().find_map(|word| {
            let word = word.trim_matches(|c| matches!(c, '"' | '\'' | '(' | ')' | ';'));
            if word.starts_with('-') || word.contains("://") {
                return None;
            }
            let (_, tag) = word.rsplit_once(':')?;
            let port = tag
                .split_once('/')
                .is_some_and(|(p, _)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if port {
                return None;
            }
            crate::reference::tag_problem(tag).map(|why| (word.to_owned(), tag.to_owned(), why))
        });
        match bad {
            Some((word, tag, why)) => eprintln!(
                "hoist: `{word}` is not a valid image reference: the tag {tag:?} is invalid ({why}); hoist's native `build`/`push` image steps turn it into `{}` (`hoist --migrate` writes them for this Taskfile)",
                crate::reference::sanitize_tag(&tag)
            ),
            None => self.suggested.store(false, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Runs a check command (`status`, `preconditions`, `if:`) quietly.
    fn check(&self, text: &str, scope: &Scope, task: &Task) -> bool {
        if !scope.dir.is_dir() {
            return false;
        }
        self.command(task, text, None, scope).check()
    }

    fn prompt(&self, task: &Task, scope: &Scope) -> Result<(), Failure> {
        for prompt in &task.prompt {
            let prompt = render(prompt, &scope.data)?;
            if self.compiler.flags.yes {
                println!("{prompt} [assuming yes]");
                continue;
            }
            let cancelled = || {
                Failure::new(
                    Code::TaskCancelled,
                    format!(
                        "task \"{}\" cancelled: the prompt was not confirmed",
                        task.name
                    ),
                )
            };
            if !std::io::stdin().is_terminal() {
                return Err(Failure::new(
                    Code::TaskCancelled,
                    format!(
                        "task \"{}\" asks {prompt:?} and there is no terminal to answer: pass -y/--yes",
                        task.name
                    ),
                ));
            }
            eprint!("{prompt} [y/N]: ");
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
                return Err(cancelled());
            }
        }
        Ok(())
    }

    fn up_to_date(&self, task: &Task, scope: &Scope) -> Result<Freshness, Failure> {
        if task.status.is_empty() && task.sources.is_empty() {
            return Ok(Freshness::Unchecked);
        }
        let mut stale: Option<String> = None;
        for status in &task.status {
            let status = render(status, &scope.data)?;
            if !self.check(&status, scope, task) {
                stale = Some(format!("`{status}` failed"));
                break;
            }
        }
        if stale.is_none() && !task.sources.is_empty() {
            stale = self.sources_stale(task, scope)?;
        }
        Ok(match stale {
            None => Freshness::UpToDate,
            Some(why) => Freshness::Stale(why),
        })
    }

    fn method(&self, task: &Task) -> String {
        task.method
            .clone()
            .or_else(|| self.compiler.file.method.clone())
            .unwrap_or_else(|| "checksum".to_owned())
    }

    fn globs(list: &[String], data: &Data) -> Result<Vec<String>, Failure> {
        list.iter().map(|g| render(g, data)).collect()
    }

    fn sources_stale(&self, task: &Task, scope: &Scope) -> Result<Option<String>, Failure> {
        let sources = Self::globs(&task.sources, &scope.data)?;
        let generates = Self::globs(&task.generates, &scope.data)?;
        let error =
            |e: crate::fingerprint::FingerprintError| Failure::new(Code::TaskRun, e.to_string());
        match self.method(task).as_str() {
            "none" => Ok(Some("method none".into())),
            "timestamp" => {
                let (found, newest) =
                    crate::fingerprint::matching(&scope.dir, &sources).map_err(error)?;
                if found.is_empty() {
                    return Ok(Some("no sources".into()));
                }
                if generates.is_empty() {
                    let stamp = self.state_file(task, "timestamp");
                    let recorded = std::fs::metadata(&stamp).and_then(|m| m.modified()).ok();
                    return Ok(match (recorded, newest) {
                        (Some(r), Some(n)) if n <= r => None,
                        _ => Some("sources are newer".into()),
                    });
                }
                let (outputs, _) =
                    crate::fingerprint::matching(&scope.dir, &generates).map_err(error)?;
                if outputs.is_empty() {
                    return Ok(Some("generates missing".into()));
                }
                let oldest = outputs
                    .iter()
                    .filter_map(|f| {
                        std::fs::metadata(scope.dir.join(f))
                            .and_then(|m| m.modified())
                            .ok()
                    })
                    .min();
                Ok(match (oldest, newest) {
                    (Some(o), Some(n)) if n <= o => None,
                    _ => Some("sources are newer than generates".into()),
                })
            }
            _ => {
                let state = self.compiler.file.dir.join(".hoist");
                let (fresh, _) =
                    crate::fingerprint::check(&state, &task.name, &scope.dir, &sources, &generates)
                        .map_err(error)?;
                Ok(match fresh {
                    crate::fingerprint::Freshness::UpToDate => None,
                    crate::fingerprint::Freshness::Stale(why) => Some(why),
                })
            }
        }
    }

    /// `CHECKSUM` (checksum method) or `TIMESTAMP` (timestamp method): what
    /// the sources are now, for the task's templates.
    fn source_vars(&self, task: &Task, scope: &mut Scope) -> Result<(), Failure> {
        let sources = Self::globs(&task.sources, &scope.data)?;
        let error =
            |e: crate::fingerprint::FingerprintError| Failure::new(Code::TaskRun, e.to_string());
        match self.method(task).as_str() {
            "timestamp" => {
                let (_, newest) =
                    crate::fingerprint::matching(&scope.dir, &sources).map_err(error)?;
                if let Some(newest) = newest {
                    let d = newest
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default();
                    scope.data.insert(
                        "TIMESTAMP".into(),
                        Value::Time(crate::gotmpl::Time::utc(
                            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                            d.subsec_nanos(),
                        )),
                    );
                }
            }
            "none" => {}
            _ => {
                let generates = Self::globs(&task.generates, &scope.data)?;
                let state = self.compiler.file.dir.join(".hoist");
                let (_, fingerprint) =
                    crate::fingerprint::check(&state, &task.name, &scope.dir, &sources, &generates)
                        .map_err(error)?;
                scope
                    .data
                    .insert("CHECKSUM".into(), Value::String(fingerprint));
            }
        }
        Ok(())
    }

    fn state_file(&self, task: &Task, kind: &str) -> PathBuf {
        let safe: String = task
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.compiler.file.dir.join(".hoist").join(kind).join(safe)
    }

    fn record_sources(&self, task: &Task, scope: &Scope) {
        let Ok(sources) = Self::globs(&task.sources, &scope.data) else {
            return;
        };
        let Ok(generates) = Self::globs(&task.generates, &scope.data) else {
            return;
        };
        match self.method(task).as_str() {
            "none" => {}
            "timestamp" => {
                let stamp = self.state_file(task, "timestamp");
                if let Some(dir) = stamp.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let _ = std::fs::write(&stamp, b"");
            }
            _ => {
                let state = self.compiler.file.dir.join(".hoist");
                if let Ok((_, fingerprint)) =
                    crate::fingerprint::check(&state, &task.name, &scope.dir, &sources, &generates)
                {
                    if !fingerprint.is_empty() {
                        let _ = crate::fingerprint::record(&state, &task.name, &fingerprint);
                    }
                }
            }
        }
    }

    /// `--status`: exits non-zero when a task is not up to date.
    fn report_status(&self, tasks: &[String]) -> Result<(), Failure> {
        for name in tasks {
            let task = self
                .compiler
                .file
                .resolve(name)
                .map(|(t, _)| t.clone())
                .expect("checked");
            let scope = self.compiler.scope(&task, None, &[])?;
            match self.up_to_date(&task, &scope)? {
                Freshness::UpToDate => {}
                _ => {
                    return Err(Failure::new(
                        Code::General,
                        format!("task \"{}\" is not up to date", task.name),
                    ))
                }
            }
        }
        Ok(())
    }
}

fn prefix_line(prefix: &str, is_stderr: bool, line: &[u8]) {
    let text = format!("[{prefix}] {}\n", String::from_utf8_lossy(line));
    if is_stderr {
        let _ = std::io::stderr().write_all(text.as_bytes());
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// go-task's `platforms:`: `linux`, `amd64` or `linux/amd64`; none means all.
fn platform_matches(platforms: &[String]) -> bool {
    if platforms.is_empty() {
        return true;
    }
    let os = crate::gotmpl::go_os();
    let arch = crate::gotmpl::go_arch();
    platforms.iter().any(|p| match p.split_once('/') {
        Some((o, a)) => o == os && a == arch,
        None => p == os || p == arch,
    })
}
