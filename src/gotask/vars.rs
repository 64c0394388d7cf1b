//! Variables as go-task computes them for one task call, in its order (a
//! later definition overrides an earlier one, and each definition's template
//! sees only what came before it): the OS environment, the special
//! variables, the Taskfile's `env:` (over its dotenv files), its `vars:`
//! (with the command line's `NAME=value` merged in), an include's `vars:`,
//! the included file's own `vars:`, the caller's `vars:`, the task's `vars:`.

use super::model::{Origin, Task, Taskfile, VarDef, Vars};
use super::node::Node;
use super::{Code, Failure};
use crate::gotmpl::{SystemHost, Template, Value};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub(crate) type Data = IndexMap<String, Value>;

/// What every task's variables start from, and the `sh:` results of this
/// invocation (go-task runs each distinct command once).
pub(crate) struct Compiler {
    pub file: Taskfile,
    pub cli_vars: Vec<(String, String)>,
    pub cli_args: Vec<String>,
    pub user_dir: PathBuf,
    pub flags: Flags,
    /// How hoist was called (`TASK_EXE`).
    pub exe: String,
    dotenv: Mutex<Option<Vec<(String, String)>>>,
    sh_cache: Mutex<HashMap<(String, PathBuf), Result<String, Failure>>>,
}

#[derive(Debug, Clone, Copy, Default)]
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct Flags {
    pub force: bool,
    pub silent: bool,
    pub verbose: bool,
    pub yes: bool,
}

/// How far variables are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eval {
    /// Fully, `sh:` commands run.
    Run,
    /// Without running `sh:` (each is empty).
    Static,
    /// As for listings: no `sh:`, and no command-line variables either.
    Listing,
}

/// A task call's variables, and the environment its commands get.
pub(crate) struct Scope {
    pub data: Data,
    /// `env:` of the Taskfile, dotenv files and the task, rendered.
    pub env: Vec<(String, String)>,
    pub dir: PathBuf,
}

pub(crate) fn render(text: &str, data: &Data) -> Result<String, Failure> {
    if !crate::gotmpl::is_template(text) {
        return Ok(text.to_owned());
    }
    let template = Template::parse(text)
        .map_err(|e| Failure::new(Code::General, format!("in {text:?}: {e}")))?;
    template
        .execute(&Value::Map(data.clone()), &SystemHost)
        .map_err(|e| Failure::new(Code::General, format!("in {text:?}: {e}")))
}

/// A value's text as go-task puts it in a command or the environment.
pub(crate) fn text_of(value: &Value) -> String {
    match value {
        Value::Nil => String::new(),
        other => other.to_string(),
    }
}

fn render_node(node: &Node, data: &Data) -> Result<Value, Failure> {
    Ok(match node {
        Node::Str(s) => Value::String(render(s, data)?),
        Node::List(items) => Value::List(
            items
                .iter()
                .map(|i| render_node(i, data))
                .collect::<Result<_, _>>()?,
        ),
        Node::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), render_node(v, data)?)))
                .collect::<Result<_, Failure>>()?,
        ),
        other => other.to_value(),
    })
}

impl Compiler {
    pub(crate) fn new(
        file: Taskfile,
        cli_vars: Vec<(String, String)>,
        cli_args: Vec<String>,
        user_dir: PathBuf,
        flags: Flags,
        exe: String,
    ) -> Compiler {
        Compiler {
            file,
            cli_vars,
            cli_args,
            user_dir,
            flags,
            exe,
            dotenv: Mutex::new(None),
            sh_cache: Mutex::new(HashMap::new()),
        }
    }

    /// Evaluates one definition against what is defined so far.
    pub(crate) fn eval(&self, def: &VarDef, data: &Data, dir: &Path) -> Result<Value, Failure> {
        self.eval_with(def, data, dir, false)
    }

    /// `fast` (for listings): `sh:` variables are not run and stay empty.
    fn eval_with(
        &self,
        def: &VarDef,
        data: &Data,
        dir: &Path,
        fast: bool,
    ) -> Result<Value, Failure> {
        match def {
            VarDef::Sh(_) if fast => Ok(Value::String(String::new())),
            VarDef::Static(node) => render_node(node, data),
            VarDef::Map(node) => Ok(node.to_value()),
            VarDef::Ref(expr) => {
                let source = format!("{{{{{expr}}}}}");
                let template = Template::parse(&source)
                    .map_err(|e| Failure::new(Code::General, format!("in ref {expr:?}: {e}")))?;
                template
                    .resolve(&Value::Map(data.clone()), &SystemHost)
                    .map_err(|e| Failure::new(Code::General, format!("in ref {expr:?}: {e}")))
            }
            VarDef::Sh(command) => {
                let command = render(command, data)?;
                self.sh(&command, dir, data).map(Value::String)
            }
        }
    }

    fn sh(&self, command: &str, dir: &Path, data: &Data) -> Result<String, Failure> {
        let key = (command.to_owned(), dir.to_path_buf());
        if let Some(done) = self.sh_cache.lock().expect("sh cache").get(&key) {
            return done.clone();
        }
        if !dir.is_dir() {
            return Err(Failure::new(
                Code::General,
                format!(
                    "the `sh:` variable command {command:?} is to run in {}, which does not exist (check `dir:`)",
                    dir.display()
                ),
            ));
        }
        let env = Compiler::env_for_shell(&env_from(data, &self.env_keys()));
        let lookup = |name: &str| {
            std::env::var(name)
                .ok()
                .or_else(|| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        };
        if let Some(value) = native_git(command, dir, &lookup) {
            self.sh_cache
                .lock()
                .expect("sh cache")
                .insert(key, Ok(value.clone()));
            return Ok(value);
        }
        let bash = crate::exec::Bash::new(command, dir, &self.file.set, &self.file.shopt, &env);
        let result = match bash.capture(false, false) {
            Ok(out) if out.status.success() => {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                if text.ends_with('\n') {
                    text.pop();
                    if text.ends_with('\r') {
                        text.pop();
                    }
                }
                Ok(text)
            }
            Ok(out) => Err(Failure::new(
                Code::General,
                format!(
                    "command {command:?} of a `sh:` variable failed: {}",
                    status_text(out.status)
                ),
            )),
            Err(e) => Err(Failure::new(
                Code::General,
                format!("cannot run bash for {command:?}: {e}"),
            )),
        };
        self.sh_cache
            .lock()
            .expect("sh cache")
            .insert(key, result.clone());
        result
    }

    fn env_keys(&self) -> Vec<String> {
        self.file.env.iter().map(|(k, _)| k.clone()).collect()
    }

    /// The variables the environment adds for a command: the OS environment
    /// wins over `env:` in the shell, as in go-task.
    pub(crate) fn env_for_shell(env: &[(String, String)]) -> Vec<(String, String)> {
        env.iter()
            .filter(|(k, _)| std::env::var_os(k).is_none())
            .cloned()
            .collect()
    }

    /// The root dotenv files' variables; their paths are rendered with the
    /// Taskfile's own `env:` and `vars:` (not the command line's).
    fn dotenv(&self, data: &Data) -> Result<Vec<(String, String)>, Failure> {
        if let Some(done) = &*self.dotenv.lock().expect("dotenv") {
            return Ok(done.clone());
        }
        let mut out: Vec<(String, String)> = Vec::new();
        if !self.file.dotenv.is_empty() {
            let mut data = data.clone();
            let dir = self.file.dir.clone();
            for (name, def) in self.file.env.iter().chain(&self.file.vars) {
                let value = self.eval(def, &data, &dir)?;
                data.insert(name.clone(), value);
            }
            for file in &self.file.dotenv {
                let path = self.file.dir.join(render(file, &data)?);
                read_dotenv(&path, &mut out)?;
            }
        }
        *self.dotenv.lock().expect("dotenv") = Some(out.clone());
        Ok(out)
    }

    fn special(&self, data: &mut Data, task: Option<&Task>, alias: Option<&str>) {
        let root = self.file.dir.to_string_lossy().into_owned();
        let s = |v: &str| Value::String(v.to_owned());
        data.insert("TASK_EXE".into(), s(&self.exe));
        data.insert("ROOT_TASKFILE".into(), s(&self.file.path.to_string_lossy()));
        data.insert("ROOT_DIR".into(), s(&root));
        data.insert(
            "USER_WORKING_DIR".into(),
            s(&self.user_dir.to_string_lossy()),
        );
        data.insert(
            "CLI_ARGS".into(),
            s(&self
                .cli_args
                .iter()
                .map(|a| crate::gotmpl::shell_quote(a))
                .collect::<Vec<_>>()
                .join(" ")),
        );
        data.insert(
            "CLI_ARGS_LIST".into(),
            Value::List(self.cli_args.iter().map(|a| s(a)).collect()),
        );
        data.insert("CLI_FORCE".into(), Value::Bool(self.flags.force));
        data.insert("CLI_SILENT".into(), Value::Bool(self.flags.silent));
        data.insert("CLI_VERBOSE".into(), Value::Bool(self.flags.verbose));
        data.insert("CLI_OFFLINE".into(), Value::Bool(false));
        data.insert("CLI_ASSUME_YES".into(), Value::Bool(self.flags.yes));
        data.insert("TASK_VERSION".into(), s(env!("CARGO_PKG_VERSION")));
        if let Some(task) = task {
            data.insert("TASK".into(), s(&task.name));
            data.insert("ALIAS".into(), s(alias.unwrap_or(&task.name)));
            data.insert("TASKFILE".into(), s(&task.origin.path.to_string_lossy()));
            data.insert("TASKFILE_DIR".into(), s(&task.origin.dir.to_string_lossy()));
        } else {
            data.insert("TASKFILE".into(), s(&self.file.path.to_string_lossy()));
            data.insert("TASKFILE_DIR".into(), s(&root));
        }
    }

    /// The Taskfile-level variables (for listings and global evaluation).
    /// What a listing renders descriptions with: the Taskfile's and the
    /// task's variables, without the command line's and without running `sh:`.
    pub(crate) fn listing_scope(&self, task: &Task) -> Result<Data, Failure> {
        let (mut data, _) = self.globals_with(Some(task), None, Eval::Listing)?;
        for (name, def) in &task.vars {
            let value = self.eval_with(def, &data, &self.file.dir, true)?;
            data.insert(name.clone(), value);
        }
        Ok(data)
    }

    fn globals_with(
        &self,
        task: Option<&Task>,
        alias: Option<&str>,
        how: Eval,
    ) -> Result<(Data, Vec<(String, String)>), Failure> {
        let fast = how != Eval::Run;
        let mut data: Data = std::env::vars()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        self.special(&mut data, task, alias);
        let dir = self.file.dir.clone();
        let dotenv = self.dotenv(&data)?;
        let mut env: Vec<(String, String)> = Vec::new();
        for (k, v) in &dotenv {
            if !self.file.env.iter().any(|(name, _)| name == k) {
                data.insert(k.clone(), Value::String(v.clone()));
                env.push((k.clone(), v.clone()));
            }
        }
        for (name, def) in &self.file.env {
            let value = self.eval_with(def, &data, &dir, fast)?;
            env.push((name.clone(), text_of(&value)));
            data.insert(name.clone(), value);
        }
        let globals = if how == Eval::Listing {
            let mut vars = self.file.vars.clone();
            for (name, def) in &self.file.included_vars {
                match vars.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = def.clone(),
                    None => vars.push((name.clone(), def.clone())),
                }
            }
            vars
        } else {
            self.merged_globals()
        };
        for (name, def) in &globals {
            let value = self.eval_with(def, &data, &dir, fast)?;
            data.insert(name.clone(), value);
        }
        Ok((data, env))
    }

    /// The Taskfile's `vars:` with the included files' merged in (go-task
    /// merges those over the root's), then the command line's: a later
    /// definition replaces an earlier one in its place (so vars defined
    /// before it cannot see it), or comes last.
    pub(crate) fn merged_globals(&self) -> Vars {
        let mut vars = self.file.vars.clone();
        let cli = self
            .cli_vars
            .iter()
            .map(|(name, value)| (name.clone(), VarDef::Static(Node::Str(value.clone()))));
        for (name, def) in self.file.included_vars.iter().cloned().chain(cli) {
            match vars.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = def,
                None => vars.push((name, def)),
            }
        }
        vars
    }

    /// The variables of a task called with `call_vars` (already evaluated
    /// in the caller's scope).
    pub(crate) fn scope(
        &self,
        task: &Task,
        alias: Option<&str>,
        call_vars: &[(String, Value)],
    ) -> Result<Scope, Failure> {
        self.scope_with(task, alias, call_vars, Eval::Run)
    }

    /// A task call's variables without running any `sh:` (each is empty):
    /// what `--summary` shows and `requires:` is checked against, as go-task.
    pub(crate) fn static_scope(
        &self,
        task: &Task,
        alias: Option<&str>,
        call_vars: &[(String, Value)],
    ) -> Result<Scope, Failure> {
        self.scope_with(task, alias, call_vars, Eval::Static)
    }

    fn scope_with(
        &self,
        task: &Task,
        alias: Option<&str>,
        call_vars: &[(String, Value)],
        how: Eval,
    ) -> Result<Scope, Failure> {
        let fast = how != Eval::Run;
        let (mut data, mut env) = self.globals_with(Some(task), alias, how)?;
        let root_dir = self.file.dir.clone();
        let mut chain: Vec<&Origin> = Vec::new();
        let mut origin = Some(&*task.origin);
        while let Some(o) = origin {
            chain.push(o);
            origin = o.parent.as_deref();
        }
        for o in chain.iter().rev() {
            for (name, def) in o.include_vars.iter().chain(&o.file_vars) {
                let value = self.eval_with(def, &data, &root_dir, fast)?;
                data.insert(name.clone(), value);
            }
        }
        for (name, value) in call_vars {
            data.insert(name.clone(), value.clone());
        }
        let dir = self.task_dir(task, &data)?;
        data.insert(
            "TASK_DIR".into(),
            Value::String(dir.to_string_lossy().into_owned()),
        );
        for (name, def) in &task.vars {
            let value = self.eval_with(def, &data, &dir, fast)?;
            data.insert(name.clone(), value);
        }
        // The shell's `env:` values see every variable (templates of the
        // Taskfile's `env:` may use its `vars:`).
        for (name, def) in &self.file.env {
            if let VarDef::Static(_) = def {
                let value = text_of(&self.eval_with(def, &data, &dir, fast)?);
                if let Some(slot) = env.iter_mut().find(|(k, _)| k == name) {
                    slot.1 = value;
                }
            }
        }
        if !task.dotenv.is_empty() {
            let mut extra = Vec::new();
            for file in &task.dotenv {
                read_dotenv(&dir.join(render(file, &data)?), &mut extra)?;
            }
            for (k, v) in extra {
                env.retain(|(name, _)| *name != k);
                env.push((k, v));
            }
        }
        for (name, def) in &task.env {
            let value = self.eval_with(def, &data, &dir, fast)?;
            env.retain(|(k, _)| k != name);
            env.push((name.clone(), text_of(&value)));
        }
        Ok(Scope { data, env, dir })
    }

    fn task_dir(&self, task: &Task, data: &Data) -> Result<PathBuf, Failure> {
        let base = task
            .origin
            .run_dir
            .clone()
            .unwrap_or_else(|| self.file.dir.clone());
        Ok(match &task.dir {
            Some(dir) => base.join(render(dir, data)?),
            None => base,
        })
    }
}

/// The few git commands Taskfiles compute versions with, answered through
/// git2 as hoist's own built-ins are (the same text `git` prints), instead of
/// starting bash and git: `git describe --tags --always`, `git branch
/// --show-current`, `git rev-parse [--short] HEAD`, alone or as `echo
/// "${NAME:-$(...)}"` (the environment's NAME when set), with or without
/// `2>/dev/null`. `None` for anything else, or when git2 cannot answer (then
/// the command runs for real).
fn native_git(command: &str, dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut inner = command.trim();
    if let Some(rest) = inner
        .strip_prefix("echo \"${")
        .and_then(|r| r.strip_suffix(")}\""))
        .or_else(|| {
            inner
                .strip_prefix("echo ${")
                .and_then(|r| r.strip_suffix(")}"))
        })
    {
        let (name, default) = rest.split_once(":-$(")?;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        if let Some(value) = env(name).filter(|v| !v.is_empty()) {
            return Some(value);
        }
        inner = default;
    }
    let inner = inner.trim();
    let inner = inner
        .strip_suffix("2> /dev/null")
        .or_else(|| inner.strip_suffix("2>/dev/null"))
        .unwrap_or(inner);
    let words: Vec<&str> = inner.split_whitespace().collect();
    let known = matches!(
        words.as_slice(),
        ["git", "describe", "--tags", "--always"]
            | ["git", "branch", "--show-current"]
            | ["git", "rev-parse", "HEAD"]
            | ["git", "rev-parse", "--short", "HEAD"]
    );
    if !known {
        return None;
    }
    let repo = crate::git::GitRepo::discover(dir)?;
    match words.as_slice() {
        [_, "describe", ..] => repo.describe().ok().map(|(version, _)| version),
        [_, "branch", ..] => repo.branch().ok().map(Option::unwrap_or_default),
        [_, _, "HEAD"] => repo.commit().ok(),
        _ => repo.short_commit().ok(),
    }
}

/// The environment a scope's `env:` keys take, from data (for `sh:`
/// variables, which see the global `env:` evaluated so far).
fn env_from(data: &Data, keys: &[String]) -> Vec<(String, String)> {
    keys.iter()
        .filter_map(|k| data.get(k).map(|v| (k.clone(), text_of(v))))
        .collect()
}

/// Appends a dotenv file's variables that are not defined yet (the first
/// file to define one wins). A missing file is skipped, as go-task does.
fn read_dotenv(path: &Path, out: &mut Vec<(String, String)>) -> Result<(), Failure> {
    if !path.is_file() {
        return Ok(());
    }
    let iter = dotenvy::from_path_iter(path).map_err(|e| {
        Failure::new(
            Code::General,
            format!("cannot read dotenv file {}: {e}", path.display()),
        )
    })?;
    for item in iter {
        let (k, v) = item.map_err(|e| {
            Failure::new(
                Code::General,
                format!("dotenv file {}: {e}", path.display()),
            )
        })?;
        if !out.iter().any(|(name, _)| *name == k) {
            out.push((k, v));
        }
    }
    Ok(())
}

pub(crate) fn status_text(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        _ => "failed".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::native_git;
    use std::path::Path;
    use std::process::Command;

    fn sh(dir: &Path, command: &str) -> String {
        let out = Command::new("bash")
            .arg("-c")
            .arg(command)
            .current_dir(dir)
            .output()
            .unwrap();
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.ends_with('\n') {
            text.pop();
        }
        text
    }

    /// What git2 answers is what bash and git print, in each state of a
    /// repository a pipeline meets.
    #[test]
    fn native_git_commands_print_what_git_prints() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let git = |args: &str| sh(dir, &format!("git -c user.name=t -c user.email=t@t {args}"));
        git("init -q -b main");
        std::fs::write(dir.join("a"), "1").unwrap();
        git("add a");
        git("commit -qm one");
        let commands = [
            "git describe --tags --always",
            "git describe --tags --always 2> /dev/null",
            "echo \"${VERSION:-$(git describe --tags --always 2> /dev/null)}\"",
            "git branch --show-current",
            "git rev-parse HEAD",
            "git rev-parse --short HEAD",
        ];
        let no_env = |_: &str| None;
        let check = |state: &str| {
            for command in commands {
                assert_eq!(
                    native_git(command, dir, &no_env).as_deref(),
                    Some(sh(dir, command).as_str()),
                    "{state}: {command}"
                );
            }
        };
        check("untagged");
        git("tag -a v1.0.0 -m one");
        check("tagged");
        git("commit -q --allow-empty -m two");
        check("after the tag");
        git("checkout -q --detach");
        check("detached");
        let env = |name: &str| (name == "VERSION").then(|| "9.9.9".to_owned());
        assert_eq!(
            native_git(
                "echo \"${VERSION:-$(git describe --tags --always)}\"",
                dir,
                &env
            )
            .as_deref(),
            Some("9.9.9")
        );
        assert_eq!(native_git("git describe --tags", dir, &no_env), None);
        assert_eq!(native_git("git log -1", dir, &no_env), None);
    }
}
