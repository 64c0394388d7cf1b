//! One level of variables (the global vars, or a task instance's) and the
//! lookups that resolve a name through the precedence chain.

use super::builtins::{BUILTINS, ENV_OVERRIDABLE};
use super::{Effects, Session};
use crate::error::{closest, Error, Result};
use crate::source::Origin;
use crate::taskfile::{Text, VarMap, VarValue};
use crate::template::{has_markup, trust, Target, TemplateError};
use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, Value};
use serde_saphyr::{Location, Spanned};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// How many variables may be evaluating inside each other at once.
const MAX_VAR_DEPTH: usize = 50;

/// One level of variables: the global vars, or a task instance's.
pub(crate) struct Scope {
    pub(super) ctx: Arc<Session>,
    /// Tells this scope's variables from another instance's of the same task.
    pub(super) id: usize,
    pub(super) parent: Option<Arc<Scope>>,
    pub(super) task: Option<String>,
    pub(super) call_vars: IndexMap<String, Value>,
    pub(super) dir: PathBuf,
    pub(super) cache: Mutex<HashMap<String, Value>>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scope({:?})", self.task)
    }
}

/// The variables being evaluated, innermost first: tells `FOO: "{{ FOO }}-x"`
/// (which means the next layer's FOO) from a cycle.
#[derive(Clone, Default)]
struct Evaluating(Option<Arc<Link>>);

struct Link {
    scope: usize,
    name: String,
    outer: Evaluating,
}

impl Evaluating {
    fn with(&self, scope: usize, name: &str) -> Evaluating {
        Evaluating(Some(Arc::new(Link {
            scope,
            name: name.to_owned(),
            outer: self.clone(),
        })))
    }

    fn iter(&self) -> impl Iterator<Item = &Link> {
        std::iter::successors(self.0.as_deref(), |link| link.outer.0.as_deref())
    }

    fn innermost_is(&self, scope: usize, name: &str) -> bool {
        self.0
            .as_deref()
            .is_some_and(|l| l.scope == scope && l.name == name)
    }

    fn contains(&self, scope: usize, name: &str) -> bool {
        self.iter().any(|l| l.scope == scope && l.name == name)
    }
}

/// What one lookup carries besides the name.
#[derive(Clone)]
struct Request {
    /// The task of the scope the lookup started in (for `TASK` and errors).
    task: Option<String>,
    effects: Effects,
    evaluating: Evaluating,
}

/// The root object of one template render: resolves names in a scope and
/// keeps the first real error (minijinja's lookups cannot fail, so a failed
/// lookup would otherwise read as "undefined").
struct Frame {
    scope: Arc<Scope>,
    request: Request,
    error: Mutex<Option<Error>>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({:?})", self.scope)
    }
}

impl Object for Frame {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        // After a failed lookup the render fails with that error whatever it
        // does next. minijinja asks for an undefined name twice, so evaluating
        // again repeated the failure twice per level of a chain of variables:
        // 2^depth evaluations (fuzzing found 18 levels taking two minutes).
        if self
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
        {
            return None;
        }
        let name = key.as_str()?;
        match self.scope.lookup_with(name, &self.request) {
            Ok(value) => value,
            Err(error) => {
                self.error
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_or_insert(error);
                None
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

impl Scope {
    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.ctx
    }

    /// The vars this task instance was called with.
    pub(crate) fn call_vars(&self) -> &IndexMap<String, Value> {
        &self.call_vars
    }

    /// The directory commands of this scope run in.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when the scope has no call vars: it renders as the task's own.
    pub(crate) fn is_plain(&self) -> bool {
        self.call_vars.is_empty()
    }

    fn defs(&self) -> &VarMap {
        match &self.task {
            Some(task) => &self.ctx.taskfile.tasks[task.as_str()].value.vars,
            None => &self.ctx.taskfile.vars,
        }
    }

    fn request(&self, effects: Effects) -> Request {
        Request {
            task: self.task.clone(),
            effects,
            evaluating: Evaluating::default(),
        }
    }

    /// Resolves `name` through the precedence chain; `None` when undefined.
    pub(crate) fn lookup(self: &Arc<Self>, name: &str, effects: Effects) -> Result<Option<Value>> {
        self.lookup_with(name, &self.request(effects))
    }

    fn lookup_with(self: &Arc<Self>, name: &str, request: &Request) -> Result<Option<Value>> {
        if name == "env" {
            return Ok(Some(self.ctx.env_object()));
        }
        if let Some(value) = self.ctx.cli_vars.get(name) {
            return Ok(Some(trust::trusted(Value::from(value.as_str()))));
        }
        if let Some(value) = self.call_vars.get(name) {
            return Ok(Some(value.clone()));
        }
        if let Some(def) = self.defs().get(name) {
            if let Some(hit) = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(name)
            {
                return Ok(Some(hit.clone()));
            }
            // `FOO: "{{ FOO }}-x"` means the FOO of the next layer down, as in go-task.
            if !request.evaluating.innermost_is(self.id, name) {
                if request.evaluating.contains(self.id, name) {
                    return Err(self.cycle_error(name, def, &request.evaluating));
                }
                if request.evaluating.iter().count() >= MAX_VAR_DEPTH {
                    return Err(self.depth_error(name, def, &request.evaluating));
                }
                let inner = Request {
                    evaluating: request.evaluating.with(self.id, name),
                    ..request.clone()
                };
                let origin = self.origin(&def.referenced);
                let value = self.eval_with(&def.value, &origin, name, &inner)?;
                self.cache
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(name.to_owned(), value.clone());
                return Ok(Some(value));
            }
        }
        if let Some(parent) = &self.parent {
            return parent.lookup_with(name, request);
        }
        self.ctx
            .builtin(name, request.task.as_deref(), request.effects)
    }

    fn cycle_error(&self, name: &str, def: &Spanned<VarValue>, evaluating: &Evaluating) -> Error {
        let mut path: Vec<String> = evaluating
            .iter()
            .take_while(|l| !(l.scope == self.id && l.name == name))
            .map(|l| l.name.clone())
            .collect();
        path.push(name.to_owned());
        path.reverse();
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
    fn depth_error(&self, name: &str, def: &Spanned<VarValue>, evaluating: &Evaluating) -> Error {
        let mut names: Vec<&str> = evaluating.iter().map(|l| l.name.as_str()).collect();
        names.reverse();
        let mut chain: Vec<&str> = names.iter().take(2).copied().collect();
        chain.push("…");
        chain.extend(&names[names.len().saturating_sub(2)..]);
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
    pub(crate) fn eval(
        self: &Arc<Self>,
        value: &VarValue,
        origin: &Origin,
        what: &str,
        effects: Effects,
    ) -> Result<Value> {
        self.eval_with(value, origin, what, &self.request(effects))
    }

    fn eval_with(
        self: &Arc<Self>,
        value: &VarValue,
        origin: &Origin,
        what: &str,
        request: &Request,
    ) -> Result<Value> {
        Ok(match value {
            VarValue::Null => Value::from(()),
            VarValue::Bool(b) => Value::from(*b),
            VarValue::Int(i) => Value::from(*i),
            VarValue::Float(f) => Value::from(*f),
            VarValue::Str(s) => {
                // The file's own text is trusted, unless an untrusted value
                // that a shell would read went into it.
                let rendered = self.render_with(s, origin, what, Target::Plain, request)?;
                if rendered.tainted {
                    Value::from(rendered.text)
                } else {
                    Value::from_safe_string(rendered.text)
                }
            }
            VarValue::List(items) => Value::from(
                items
                    .iter()
                    .map(|i| self.eval_with(i, origin, what, request))
                    .collect::<Result<Vec<_>>>()?,
            ),
            VarValue::Map(map) => {
                let mut out = IndexMap::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.eval_with(v, origin, what, request)?);
                }
                Value::from_pairs(out)
            }
            VarValue::Sh(command) => {
                let command = self
                    .render_with(command, origin, what, Target::Shell, request)?
                    .text;
                match self.ctx.run_sh(&self.dir, &command, request.effects)? {
                    // What a command printed is no more trusted than git: it
                    // may be a branch name (`git branch --show-current`).
                    Ok(out) => Value::from(out),
                    Err(failure) => {
                        return Err(Error::ShVar {
                            task: request.task.clone(),
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

    /// Renders a spanned template of the task file as plain text (paths,
    /// image refs, env values, messages).
    pub(crate) fn render(
        self: &Arc<Self>,
        text: &Text,
        fallback: &Location,
        what: &str,
        effects: Effects,
    ) -> Result<String> {
        self.render_for(text, fallback, what, Target::Plain, effects)
    }

    /// Renders a spanned template of the task file as a shell command line:
    /// untrusted values arrive as one word.
    pub(crate) fn render_shell(
        self: &Arc<Self>,
        text: &Text,
        fallback: &Location,
        what: &str,
        effects: Effects,
    ) -> Result<String> {
        self.render_for(text, fallback, what, Target::Shell, effects)
    }

    /// Renders template text whose position is `origin` (the fuzz suites).
    #[cfg(test)]
    pub(crate) fn render_at(
        self: &Arc<Self>,
        text: &str,
        origin: &Origin,
        what: &str,
    ) -> Result<String> {
        let request = self.request(Effects::All);
        Ok(self
            .render_with(text, origin, what, Target::Plain, &request)?
            .text)
    }

    fn render_for(
        self: &Arc<Self>,
        text: &Text,
        fallback: &Location,
        what: &str,
        target: Target,
        effects: Effects,
    ) -> Result<String> {
        let location = if text.referenced.line() > 0 {
            &text.referenced
        } else {
            fallback
        };
        let origin = self.origin(location);
        Ok(self
            .render_with(&text.value, &origin, what, target, &self.request(effects))?
            .text)
    }

    fn render_with(
        self: &Arc<Self>,
        text: &str,
        origin: &Origin,
        what: &str,
        target: Target,
        request: &Request,
    ) -> Result<crate::template::Rendered> {
        if !has_markup(text) {
            return Ok(crate::template::Rendered {
                text: text.to_owned(),
                tainted: false,
            });
        }
        let frame = Arc::new(Frame {
            scope: self.clone(),
            request: request.clone(),
            error: Mutex::new(None),
        });
        let result = self
            .ctx
            .engine
            .render(text, Value::from_dyn_object(frame.clone()), target);
        if let Some(error) = frame
            .error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
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
    pub(crate) fn known_names(&self) -> Vec<String> {
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
    pub(crate) fn missing(
        self: &Arc<Self>,
        required: &[String],
        effects: Effects,
    ) -> Result<Vec<String>> {
        let mut missing = Vec::new();
        for name in required {
            let value = self.lookup(name, effects)?;
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
    pub(crate) fn resolve_all(self: &Arc<Self>) -> Result<Vec<(String, Value, &'static str)>> {
        let mut out: Vec<(String, Value, &'static str)> = Vec::new();
        let mut seen = HashSet::new();
        let mut push = |name: &str, source: &'static str, scope: &Arc<Scope>| -> Result<()> {
            if seen.insert(name.to_owned()) {
                let value = scope.lookup(name, Effects::All)?.unwrap_or_default();
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
