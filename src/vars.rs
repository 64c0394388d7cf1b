//! Variables: scopes, precedence, built-ins and `sh:` values.
//!
//! Precedence, highest first: CLI `NAME=value`, call vars (`task:` with
//! `vars:`), the task's own vars, global vars, built-ins. A built-in's name set
//! in the environment overrides the computed value.
//!
//! Everything is lazy: a scope is a minijinja object that evaluates a variable
//! the first time a template asks for it and caches it, so neither git nor an
//! `sh:` command runs unless some template of the tasks at hand needs it.

use crate::error::{closest, Error, Result};
use crate::git::GitRepo;
use crate::source::Origin;
use crate::taskfile::{Taskfile, Text, VarMap, VarValue};
use crate::template::{has_markup, Engine, TemplateError};
use crate::ui::Printer;
use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, Value};
use serde_saphyr::Location;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Names computed by hoist itself.
pub const BUILTINS: &[&str] = &[
    "VERSION",
    "GIT_BRANCH",
    "GIT_COMMIT",
    "GIT_SHORT_COMMIT",
    "GIT_TAG",
    "GIT_DIRTY",
    "BUILD_TIME",
    "OS",
    "ARCH",
    "ROOT_DIR",
    "TASKFILE_DIR",
    "USER_WORKING_DIR",
    "TASK",
    "CLI_ARGS",
];

/// Built-ins that an environment variable of the same name overrides.
const ENV_OVERRIDABLE: &[&str] = &[
    "VERSION",
    "GIT_BRANCH",
    "GIT_COMMIT",
    "GIT_SHORT_COMMIT",
    "GIT_TAG",
    "GIT_DIRTY",
    "BUILD_TIME",
];

/// What one invocation shares between all scopes.
pub struct Context {
    pub taskfile: Arc<Taskfile>,
    pub engine: Engine,
    pub printer: Arc<Printer>,
    cli_vars: IndexMap<String, String>,
    cli_args: String,
    /// The process environment plus `dotenv` files (which never override it).
    environ: BTreeMap<String, String>,
    dotenv: Vec<(String, String)>,
    env_value: OnceLock<Value>,
    git: Mutex<Option<Option<GitRepo>>>,
    remote_url: OnceLock<Option<String>>,
    builtin_cache: Mutex<HashMap<&'static str, Value>>,
    sh_cache: Mutex<HashMap<(PathBuf, String), std::result::Result<String, ShFailure>>>,
    global: OnceLock<Arc<Scope>>,
}

#[derive(Clone, Debug)]
struct ShFailure {
    code: i32,
    stderr: String,
}

impl Context {
    pub fn new(
        taskfile: Arc<Taskfile>,
        printer: Arc<Printer>,
        cli_vars: IndexMap<String, String>,
        cli_args: String,
    ) -> Result<Arc<Context>> {
        let mut environ: BTreeMap<String, String> = std::env::vars().collect();
        let mut dotenv = Vec::new();
        for file in &taskfile.dotenv {
            let path = taskfile.dir.join(&file.value);
            // A missing dotenv file is normal (e.g. .env only on developer machines).
            let Ok(iter) = dotenvy::from_path_iter(&path) else {
                continue;
            };
            for item in iter {
                let (key, value) = item.map_err(|e| Error::Taskfile {
                    origin: taskfile.origin(&file.referenced),
                    message: format!("cannot read dotenv file {}: {e}", path.display()),
                    help: None,
                })?;
                if !environ.contains_key(&key) {
                    environ.insert(key.clone(), value.clone());
                    dotenv.push((key, value));
                }
            }
        }
        Ok(Arc::new(Context {
            taskfile,
            engine: Engine::new(),
            printer,
            cli_vars,
            cli_args,
            environ,
            dotenv,
            env_value: OnceLock::new(),
            git: Mutex::new(None),
            remote_url: OnceLock::new(),
            builtin_cache: Mutex::new(HashMap::new()),
            sh_cache: Mutex::new(HashMap::new()),
            global: OnceLock::new(),
        }))
    }

    /// The scope of global vars.
    pub fn global(self: &Arc<Self>) -> Arc<Scope> {
        self.global
            .get_or_init(|| {
                Arc::new(Scope {
                    ctx: self.clone(),
                    parent: None,
                    task: None,
                    call_vars: IndexMap::new(),
                    dir: self.taskfile.dir.clone(),
                    cache: Mutex::new(HashMap::new()),
                })
            })
            .clone()
    }

    /// The scope a task instance runs in: its vars over the global ones, its
    /// commands in its `dir` (which may itself use the task's vars, so it is
    /// rendered in a scope rooted at the task file).
    pub fn scope_for_task(
        self: &Arc<Self>,
        name: &str,
        task: &serde_saphyr::Spanned<crate::taskfile::Task>,
        call_vars: IndexMap<String, Value>,
    ) -> Result<Arc<Scope>> {
        let root = self.taskfile.dir.clone();
        let Some(dir) = &task.value.dir else {
            return Ok(self.task_scope(name, call_vars, root));
        };
        let probe = self.task_scope(name, call_vars.clone(), root.clone());
        let rendered = probe.render(dir, &task.referenced, "`dir`")?;
        Ok(self.task_scope(name, call_vars, root.join(rendered)))
    }

    /// A scope for one task instance with its directory already known.
    pub fn task_scope(
        self: &Arc<Self>,
        task: &str,
        call_vars: IndexMap<String, Value>,
        dir: PathBuf,
    ) -> Arc<Scope> {
        Arc::new(Scope {
            ctx: self.clone(),
            parent: Some(self.global()),
            task: Some(task.to_owned()),
            call_vars,
            dir,
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.environ.get(name).map(String::as_str)
    }

    /// Variables from dotenv files, exported to every command.
    pub fn dotenv(&self) -> &[(String, String)] {
        &self.dotenv
    }

    pub fn cli_vars(&self) -> &IndexMap<String, String> {
        &self.cli_vars
    }

    fn env_object(&self) -> Value {
        self.env_value
            .get_or_init(|| {
                Value::from_pairs(self.environ.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            })
            .clone()
    }

    fn with_git<T>(&self, f: impl FnOnce(&GitRepo) -> T) -> Option<T> {
        let mut guard = self.git.lock().unwrap_or_else(|e| e.into_inner());
        let repo = guard.get_or_insert_with(|| GitRepo::discover(&self.taskfile.dir));
        repo.as_ref().map(f)
    }

    /// A built-in's value, computed once per invocation.
    fn builtin(&self, name: &str, task: Option<&str>) -> Option<Value> {
        let name: &'static str = BUILTINS.iter().find(|b| **b == name)?;
        match name {
            "TASK" => return Some(Value::from(task.unwrap_or(""))),
            "CLI_ARGS" => return Some(Value::from(self.cli_args.as_str())),
            _ => {}
        }
        if ENV_OVERRIDABLE.contains(&name) {
            if let Some(value) = self.environ.get(name) {
                return Some(Value::from(value.as_str()));
            }
        }
        if let Some(value) = self
            .builtin_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Some(value.clone());
        }
        let value = self.compute_builtin(name);
        self.builtin_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, value.clone());
        Some(value)
    }

    fn compute_builtin(&self, name: &str) -> Value {
        let text = |s: Option<String>| Value::from(s.unwrap_or_default());
        match name {
            "VERSION" => text(self.with_git(|g| g.describe().ok()).flatten().map(|(version, shallow)| {
                if shallow {
                    self.printer.warn(&format!(
                        "VERSION fell back to the commit `{version}`: this shallow clone has no tags \
                         (fetch them with `git fetch --tags --unshallow`, or set VERSION)"
                    ));
                }
                version
            })),
            "GIT_BRANCH" => text(self.with_git(|g| g.branch().ok().flatten()).flatten().or_else(|| {
                // Detached HEAD (CI checkouts): ask the CI which branch it builds.
                self.with_git(|_| ())?;
                crate::git::ci_branch(&|n| self.environ.get(n).cloned())
            })),
            "GIT_COMMIT" => text(self.with_git(|g| g.commit().ok()).flatten()),
            "GIT_SHORT_COMMIT" => text(self.with_git(|g| g.short_commit().ok()).flatten()),
            "GIT_TAG" => text(self.with_git(|g| g.exact_tag().ok().flatten()).flatten()),
            "GIT_DIRTY" => Value::from(self.with_git(|g| g.dirty().unwrap_or(false)).unwrap_or(false)),
            "BUILD_TIME" => Value::from(build_time(self.environ.get("SOURCE_DATE_EPOCH").map(String::as_str))),
            "OS" => Value::from(go_os()),
            "ARCH" => Value::from(go_arch()),
            "ROOT_DIR" | "TASKFILE_DIR" => Value::from(self.taskfile.dir.display().to_string()),
            "USER_WORKING_DIR" => {
                Value::from(std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default())
            }
            _ => Value::from(()),
        }
    }

    /// Facts the image steps need besides templates.
    pub fn git_default_branch(&self) -> Option<String> {
        self.with_git(|g| g.default_branch()).flatten()
    }

    /// Read once: every build step's labels want it, and it means reading the
    /// git config.
    pub fn git_remote_url(&self) -> Option<String> {
        self.remote_url
            .get_or_init(|| self.with_git(|g| g.remote_url()).flatten())
            .clone()
    }

    fn run_sh(&self, dir: &Path, command: &str) -> std::result::Result<String, ShFailure> {
        let key = (dir.to_path_buf(), command.to_owned());
        if let Some(hit) = self
            .sh_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return hit.clone();
        }
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(dir)
            .envs(self.dotenv.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .output();
        let result = match output {
            Ok(out) if out.status.success() => {
                Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
            }
            Ok(out) => Err(ShFailure {
                code: out.status.code().unwrap_or(1),
                stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_owned(),
            }),
            Err(e) => Err(ShFailure {
                code: 127,
                stderr: e.to_string(),
            }),
        };
        self.sh_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, result.clone());
        result
    }
}

/// `BUILD_TIME`: UTC RFC 3339, from SOURCE_DATE_EPOCH when set (reproducible builds).
pub fn build_time(source_date_epoch: Option<&str>) -> String {
    let now = source_date_epoch
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Go's names (GOOS), since the pipelines we serve pass these to `go build`.
fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        other => other,
    }
}

/// How many variables may be evaluating inside each other at once.
const MAX_VAR_DEPTH: usize = 50;

thread_local! {
    /// Variables being evaluated on this thread, to tell self-reference from cycles.
    static EVALUATING: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
    /// The first real error raised inside a lookup (minijinja's object lookups cannot fail).
    static LOOKUP_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// One level of variables: the global vars, or a task instance's.
pub struct Scope {
    ctx: Arc<Context>,
    parent: Option<Arc<Scope>>,
    task: Option<String>,
    call_vars: IndexMap<String, Value>,
    dir: PathBuf,
    cache: Mutex<HashMap<String, Value>>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scope({:?})", self.task)
    }
}

impl Object for Scope {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        // After a failed lookup the render fails with that error whatever it
        // does next. minijinja asks for an undefined name twice, so evaluating
        // again repeated the failure twice per level of a chain of variables:
        // 2^depth evaluations (fuzzing found 18 levels taking two minutes).
        if LOOKUP_ERROR.with(|slot| slot.borrow().is_some()) {
            return None;
        }
        let name = key.as_str()?;
        match self.lookup(name) {
            Ok(value) => value,
            Err(error) => {
                LOOKUP_ERROR.with(|slot| {
                    slot.borrow_mut().get_or_insert(error);
                });
                None
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

impl Scope {
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// The vars this task instance was called with.
    pub fn call_vars(&self) -> &IndexMap<String, Value> {
        &self.call_vars
    }

    /// The directory commands of this scope run in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when the scope has no call vars: it renders as the task's own.
    pub fn is_plain(&self) -> bool {
        self.call_vars.is_empty()
    }

    pub fn task(&self) -> Option<&str> {
        self.task.as_deref()
    }

    fn id(&self) -> usize {
        self as *const Scope as usize
    }

    fn defs(&self) -> &VarMap {
        match &self.task {
            Some(task) => &self.ctx.taskfile.tasks[task.as_str()].value.vars,
            None => &self.ctx.taskfile.vars,
        }
    }

    /// Resolves `name` through the precedence chain; `None` when undefined.
    pub fn lookup(self: &Arc<Self>, name: &str) -> Result<Option<Value>> {
        self.lookup_for(name, self.task.as_deref())
    }

    /// `task` is the task of the scope the lookup started in (for `TASK`).
    fn lookup_for(self: &Arc<Self>, name: &str, task: Option<&str>) -> Result<Option<Value>> {
        if name == "env" {
            return Ok(Some(self.ctx.env_object()));
        }
        if let Some(value) = self.ctx.cli_vars.get(name) {
            return Ok(Some(Value::from(value.as_str())));
        }
        if let Some(value) = self.call_vars.get(name) {
            return Ok(Some(value.clone()));
        }
        if let Some(def) = self.defs().get(name) {
            if let Some(hit) = self
                .cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(name)
            {
                return Ok(Some(hit.clone()));
            }
            let key = (self.id(), name.to_owned());
            let (is_self_reference, is_cycle) = EVALUATING.with(|stack| {
                let stack = stack.borrow();
                (stack.last() == Some(&key), stack.contains(&key))
            });
            // `FOO: "{{ FOO }}-x"` means the FOO of the next layer down, as in go-task.
            if !is_self_reference {
                if is_cycle {
                    return Err(self.cycle_error(name, def));
                }
                if EVALUATING.with(|stack| stack.borrow().len()) >= MAX_VAR_DEPTH {
                    return Err(self.depth_error(name, def));
                }
                EVALUATING.with(|stack| stack.borrow_mut().push(key));
                let result = self.eval(&def.value, &self.origin(&def.referenced), name);
                EVALUATING.with(|stack| stack.borrow_mut().pop());
                let value = result?;
                self.cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name.to_owned(), value.clone());
                return Ok(Some(value));
            }
        }
        if let Some(parent) = &self.parent {
            return parent.lookup_for(name, task);
        }
        Ok(self.ctx.builtin(name, task))
    }

    fn cycle_error(&self, name: &str, def: &serde_saphyr::Spanned<VarValue>) -> Error {
        let mut path: Vec<String> = EVALUATING.with(|stack| {
            let stack = stack.borrow();
            let start = stack
                .iter()
                .position(|(id, n)| *id == self.id() && n == name)
                .unwrap_or(0);
            stack[start..].iter().map(|(_, n)| n.clone()).collect()
        });
        path.push(name.to_owned());
        Error::Template {
            origin: self.origin(&def.referenced),
            task: self.task.clone(),
            message: format!("variable cycle: {}", path.join(" -> ")),
            help: Some("make one of these variables a plain value".into()),
        }
    }

    /// Each variable that uses another renders inside it: without a limit, a
    /// long enough chain overflows the stack (fuzzing found ~1,000 in a debug build).
    fn depth_error(&self, name: &str, def: &serde_saphyr::Spanned<VarValue>) -> Error {
        let chain: Vec<String> = EVALUATING.with(|stack| {
            let stack = stack.borrow();
            let names: Vec<&str> = stack.iter().map(|(_, n)| n.as_str()).collect();
            let mut chain: Vec<String> = names.iter().take(2).map(|n| n.to_string()).collect();
            chain.push("…".into());
            chain.extend(
                names[names.len().saturating_sub(2)..]
                    .iter()
                    .map(|n| n.to_string()),
            );
            chain
        });
        Error::Template {
            origin: self.origin(&def.referenced),
            task: self.task.clone(),
            message: format!(
                "variable `{name}` is reached through more than {MAX_VAR_DEPTH} variables that use each other: {} -> {name}",
                chain.join(" -> ")
            ),
            help: Some("make some of these variables plain values".into()),
        }
    }

    fn origin(&self, location: &Location) -> Origin {
        self.ctx.taskfile.origin(location)
    }

    /// Evaluates a variable's value: templates rendered, `sh:` run (once per invocation).
    pub fn eval(self: &Arc<Self>, value: &VarValue, origin: &Origin, what: &str) -> Result<Value> {
        Ok(match value {
            VarValue::Null => Value::from(()),
            VarValue::Bool(b) => Value::from(*b),
            VarValue::Int(i) => Value::from(*i),
            VarValue::Float(f) => Value::from(*f),
            VarValue::Str(s) => Value::from(self.render_at(s, origin, what)?),
            VarValue::List(items) => Value::from(
                items
                    .iter()
                    .map(|i| self.eval(i, origin, what))
                    .collect::<Result<Vec<_>>>()?,
            ),
            VarValue::Map(map) => {
                let mut out = IndexMap::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.eval(v, origin, what)?);
                }
                Value::from_pairs(out)
            }
            VarValue::Sh(command) => {
                let command = self.render_at(command, origin, what)?;
                match self.ctx.run_sh(&self.dir, &command) {
                    Ok(out) => Value::from(out),
                    Err(failure) => {
                        return Err(Error::ShVar {
                            task: self.task.clone().unwrap_or_else(|| "(global vars)".into()),
                            var: what.to_owned(),
                            command,
                            code: failure.code,
                            stderr: failure.stderr,
                        })
                    }
                }
            }
        })
    }

    /// Renders a spanned template of the task file.
    pub fn render(
        self: &Arc<Self>,
        text: &Text,
        fallback: &Location,
        what: &str,
    ) -> Result<String> {
        let location = if text.referenced.line() > 0 {
            &text.referenced
        } else {
            fallback
        };
        self.render_at(&text.value, &self.origin(location), what)
    }

    /// Renders template text whose position is `origin`.
    pub fn render_at(self: &Arc<Self>, text: &str, origin: &Origin, what: &str) -> Result<String> {
        if !has_markup(text) {
            return Ok(text.to_owned());
        }
        LOOKUP_ERROR.with(|slot| slot.borrow_mut().take());
        let result = self
            .ctx
            .engine
            .render(text, Value::from_dyn_object(self.clone()));
        if let Some(error) = LOOKUP_ERROR.with(|slot| slot.borrow_mut().take()) {
            return Err(error);
        }
        result.map_err(|e| self.template_error(text, origin, what, e))
    }

    fn template_error(
        &self,
        text: &str,
        origin: &Origin,
        what: &str,
        error: TemplateError,
    ) -> Error {
        let origin = refine_origin(origin, text, error.range.clone());
        let help = error.undefined.as_deref().map(|name| {
            let known = self.known_names();
            match closest(name, known.iter().map(String::as_str)).first() {
                Some(best) => {
                    format!("did you mean `{best}`? (`hoist --vars` lists the variables)")
                }
                None => "define it under `vars:`, pass it as NAME=value, or use `| default(...)`"
                    .to_owned(),
            }
        });
        let context = if what.is_empty() {
            String::new()
        } else {
            format!(" in {what}")
        };
        Error::Template {
            origin,
            task: self.task.clone(),
            message: format!("{}{context}", error.message),
            help,
        }
    }

    /// Every variable name visible from this scope, for hints and listings.
    pub fn known_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.ctx.cli_vars.keys().cloned().collect();
        names.extend(self.call_vars.keys().cloned());
        names.extend(self.defs().keys().cloned());
        if let Some(parent) = &self.parent {
            names.extend(parent.defs().keys().cloned());
        }
        names.extend(BUILTINS.iter().map(|b| (*b).to_owned()));
        names
    }

    /// Required variables that are unset or empty.
    pub fn missing(self: &Arc<Self>, required: &[String]) -> Result<Vec<String>> {
        let mut missing = Vec::new();
        for name in required {
            let value = self.lookup(name)?;
            let empty = match &value {
                None => true,
                Some(v) => v.is_undefined() || v.is_none() || v.as_str().is_some_and(str::is_empty),
            };
            if empty {
                missing.push(name.clone());
            }
        }
        Ok(missing)
    }

    /// Every variable visible here, evaluated, with where it came from (for `--vars`).
    pub fn resolve_all(self: &Arc<Self>) -> Result<Vec<(String, Value, &'static str)>> {
        let mut out: Vec<(String, Value, &'static str)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut push = |name: &str, source: &'static str, scope: &Arc<Scope>| -> Result<()> {
            if seen.insert(name.to_owned()) {
                let value = scope.lookup(name)?.unwrap_or_default();
                out.push((name.to_owned(), value, source));
            }
            Ok(())
        };
        for name in self.ctx.cli_vars.keys() {
            push(name, "cli", self)?;
        }
        for name in self.call_vars.keys() {
            push(name, "call", self)?;
        }
        if self.task.is_some() {
            for name in self.defs().keys() {
                push(name, "task", self)?;
            }
        }
        for name in self.ctx.taskfile.vars.keys() {
            push(name, "global", self)?;
        }
        for name in BUILTINS {
            let overridden = ENV_OVERRIDABLE.contains(name) && self.ctx.environ.contains_key(*name);
            push(name, if overridden { "env" } else { "builtin" }, self)?;
        }
        Ok(out)
    }
}

/// Points the origin at the offending expression when the template is one line
/// that appears verbatim in the file (plain or simply quoted scalars).
fn refine_origin(origin: &Origin, text: &str, range: Option<std::ops::Range<usize>>) -> Origin {
    let (Some(range), Some(line)) = (range, origin.source_line()) else {
        return origin.clone();
    };
    if text.contains('\n') {
        return origin.clone();
    }
    let start = (origin.column as usize).saturating_sub(1).min(line.len());
    match line.get(start..).and_then(|rest| rest.find(text)) {
        Some(offset) => {
            let byte = start + offset + range.start;
            let column = line[..byte.min(line.len())].chars().count() as u32 + 1;
            Origin::new(origin.file.clone(), origin.line, column)
        }
        None => origin.clone(),
    }
}

#[cfg(test)]
mod tests;
