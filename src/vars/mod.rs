//! Variables: scopes, precedence, built-ins and `sh:` values.
//!
//! Precedence, highest first: CLI `NAME=value`, call vars (`task:` with
//! `vars:`), the task's own vars, global vars, built-ins. A built-in's name set
//! in the environment overrides the computed value.
//!
//! Everything is lazy: a scope evaluates a variable the first time a template
//! asks for it and caches it, so neither git nor an `sh:` command runs unless
//! some template of the tasks at hand needs it. What an evaluation may do
//! (read git, run commands) is its caller's choice, see [`Effects`].

mod builtins;
mod scope;

pub(crate) use builtins::BUILTINS;
pub(crate) use scope::Scope;

use crate::error::{Error, Result};
use crate::git::GitRepo;
use crate::taskfile::Taskfile;
use crate::template::Engine;
use crate::ui::Printer;
use indexmap::IndexMap;
use minijinja::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// What an evaluation may do besides reading values it already has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effects {
    /// Nothing that blocks (the async runtime's thread): a value that needs
    /// git or a command fails with [`Error::Postponed`], to be evaluated again
    /// where it may.
    None,
    /// Read git, run no command: the image-step pre-flight, which must not run
    /// an `sh:` before the deps that may prepare it.
    Git,
    /// Read git and run `sh:` commands.
    All,
}

impl Effects {
    fn may_read_git(self) -> bool {
        self != Effects::None
    }

    fn may_run_commands(self) -> bool {
        self == Effects::All
    }
}

/// What one invocation of hoist shares between all scopes: the task file,
/// the template engine, the environment, and what git and `sh:` gave.
pub(crate) struct Session {
    pub taskfile: Arc<Taskfile>,
    pub engine: Engine,
    pub printer: Arc<Printer>,
    cli_vars: IndexMap<String, String>,
    cli_args: String,
    /// The process environment plus `dotenv` files (which never override it).
    environ: BTreeMap<String, String>,
    dotenv: Vec<(String, String)>,
    env_value: OnceLock<Value>,
    /// Discovered on first use; git2's handle is not `Sync`, hence the mutex.
    git: OnceLock<Option<Mutex<GitRepo>>>,
    remote_url: OnceLock<Option<String>>,
    default_branch: OnceLock<Option<String>>,
    builtins: Mutex<HashMap<&'static str, Value>>,
    /// Successful `sh:` results by directory and command; a failure is never
    /// kept, so a later evaluation (after the dep that fixes it) runs it again.
    /// One slot a command, so that parallel tasks needing it run it once.
    sh_results: Mutex<HashMap<(PathBuf, String), ShSlot>>,
    global: OnceLock<Arc<Scope>>,
    next_scope_id: AtomicUsize,
}

/// One `sh:` command's result, once it has succeeded.
type ShSlot = Arc<Mutex<Option<String>>>;

impl Session {
    pub(crate) fn new(
        taskfile: Arc<Taskfile>,
        printer: Arc<Printer>,
        cli_vars: IndexMap<String, String>,
        cli_args: String,
    ) -> Result<Arc<Session>> {
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
        Ok(Arc::new(Session {
            taskfile,
            engine: Engine::new(),
            printer,
            cli_vars,
            cli_args,
            environ,
            dotenv,
            env_value: OnceLock::new(),
            git: OnceLock::new(),
            remote_url: OnceLock::new(),
            default_branch: OnceLock::new(),
            builtins: Mutex::new(HashMap::new()),
            sh_results: Mutex::new(HashMap::new()),
            global: OnceLock::new(),
            next_scope_id: AtomicUsize::new(0),
        }))
    }

    fn new_scope(
        self: &Arc<Self>,
        parent: Option<Arc<Scope>>,
        task: Option<&str>,
        call_vars: IndexMap<String, Value>,
        dir: PathBuf,
    ) -> Arc<Scope> {
        Arc::new(Scope {
            ctx: self.clone(),
            id: self.next_scope_id.fetch_add(1, Ordering::Relaxed),
            parent,
            task: task.map(str::to_owned),
            call_vars,
            dir,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The scope of global vars.
    pub(crate) fn global(self: &Arc<Self>) -> Arc<Scope> {
        self.global
            .get_or_init(|| self.new_scope(None, None, IndexMap::new(), self.taskfile.dir.clone()))
            .clone()
    }

    /// The scope a task instance runs in: its vars over the global ones, its
    /// commands in its `dir` (which may itself use the task's vars, so it is
    /// rendered in a scope rooted at the task file).
    pub(crate) fn scope_for_task(
        self: &Arc<Self>,
        name: &str,
        task: &serde_saphyr::Spanned<crate::taskfile::Task>,
        call_vars: IndexMap<String, Value>,
        effects: Effects,
    ) -> Result<Arc<Scope>> {
        let root = self.taskfile.dir.clone();
        let Some(dir) = &task.value.dir else {
            return Ok(self.task_scope(name, call_vars, root));
        };
        let probe = self.task_scope(name, call_vars.clone(), root.clone());
        let rendered = probe.render(dir, &task.referenced, "`dir`", effects)?;
        Ok(self.task_scope(name, call_vars, root.join(rendered)))
    }

    /// A scope for one task instance with its directory already known.
    pub(crate) fn task_scope(
        self: &Arc<Self>,
        task: &str,
        call_vars: IndexMap<String, Value>,
        dir: PathBuf,
    ) -> Arc<Scope> {
        self.new_scope(Some(self.global()), Some(task), call_vars, dir)
    }

    /// Variables from dotenv files, exported to every command.
    pub(crate) fn dotenv(&self) -> &[(String, String)] {
        &self.dotenv
    }

    /// `env.NAME` in templates: untrusted values, like every CI variable.
    fn env_object(&self) -> Value {
        self.env_value
            .get_or_init(|| {
                Value::from_pairs(self.environ.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            })
            .clone()
    }

    fn with_git<T>(&self, f: impl FnOnce(&GitRepo) -> T) -> Option<T> {
        let repo = self
            .git
            .get_or_init(|| GitRepo::discover(&self.taskfile.dir).map(Mutex::new))
            .as_ref()?;
        Some(f(&repo
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)))
    }

    /// The repository's default branch (for the `latest` policy), read once.
    pub(crate) fn git_default_branch(&self, effects: Effects) -> Result<Option<String>> {
        Self::once_from_git(&self.default_branch, effects, || {
            self.with_git(super::git::GitRepo::default_branch).flatten()
        })
    }

    /// Read once: every build step's labels want it, and it means reading the
    /// git config.
    pub(crate) fn git_remote_url(&self, effects: Effects) -> Result<Option<String>> {
        Self::once_from_git(&self.remote_url, effects, || {
            self.with_git(super::git::GitRepo::remote_url).flatten()
        })
    }

    fn once_from_git(
        cell: &OnceLock<Option<String>>,
        effects: Effects,
        read: impl FnOnce() -> Option<String>,
    ) -> Result<Option<String>> {
        if let Some(value) = cell.get() {
            return Ok(value.clone());
        }
        if !effects.may_read_git() {
            return Err(Error::Postponed);
        }
        Ok(cell.get_or_init(read).clone())
    }

    /// Runs an `sh:` var's command (once per invocation while it succeeds).
    fn run_sh(
        &self,
        dir: &Path,
        command: &str,
        effects: Effects,
    ) -> Result<std::result::Result<String, crate::exec::CaptureFailure>> {
        let slot = self
            .sh_results
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((dir.to_path_buf(), command.to_owned()))
            .or_default()
            .clone();
        let mut slot = match effects.may_run_commands() {
            true => slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            // Another thread may be running it: never wait on the runtime's thread.
            false => match slot.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Err(Error::Postponed),
            },
        };
        if let Some(hit) = slot.as_ref() {
            return Ok(Ok(hit.clone()));
        }
        if !effects.may_run_commands() {
            return Err(Error::Postponed);
        }
        let result = crate::exec::capture(command, dir, &self.dotenv);
        if let Ok(out) = &result {
            *slot = Some(out.clone());
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests;
