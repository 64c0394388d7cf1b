//! Runs a plan: deps first (in parallel, each once per invocation), then the
//! task's steps in order, deferred steps last. The first failure cancels the
//! rest; its error decides hoist's exit code.
//!
//! This file schedules task instances; `task_run` runs one, `steps` the kinds
//! of step, `checks` decides whether a task is up to date, `output` where its
//! output goes, `evaluate` renders its templates, `images` its image steps.

mod checks;
mod evaluate;
mod images;
mod instance;
mod output;
mod release;
mod steps;
mod task_run;

pub(crate) use evaluate::value_text;

use crate::error::{Error, Result};
use crate::exec::{OutputMode, ProcessTable};
use crate::taskfile::{Call, RunPolicy, Task};
use crate::ui::Printer;
use crate::vars::{Scope, Session};
use evaluate::{eval_vars, evaluate};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use indexmap::IndexMap;
use instance::{InstanceKey, RunKey};
use minijinja::Value;
use serde_saphyr::{Location, Spanned};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, OnceCell, Semaphore};

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub dry: bool,
    pub force: bool,
    pub silent: bool,
    pub parallel: bool,
    pub concurrency: usize,
    pub output: OutputMode,
}

/// Marks a failure whose error is already recorded in the runner.
#[derive(Debug)]
pub(crate) struct Failed;

type Flow = std::result::Result<(), Failed>;

pub(crate) struct Runner {
    ctx: Arc<Session>,
    printer: Arc<Printer>,
    options: Options,
    permits: Semaphore,
    processes: Arc<ProcessTable>,
    cancel: watch::Sender<bool>,
    failure: Mutex<Option<Error>>,
    /// Task instances that run once per invocation, and whether they succeeded.
    once: Mutex<HashMap<RunKey, Arc<OnceCell<bool>>>>,
    state_dir: PathBuf,
    images: images::ImageSteps,
}

impl Runner {
    pub(crate) fn new(ctx: Arc<Session>, options: Options) -> Arc<Runner> {
        let printer = ctx.printer.clone();
        let state_dir = ctx.taskfile.dir.join(".hoist");
        Arc::new(Runner {
            printer,
            permits: Semaphore::new(options.concurrency.max(1)),
            options,
            processes: Arc::default(),
            cancel: watch::channel(false).0,
            failure: Mutex::new(None),
            once: Mutex::new(HashMap::new()),
            state_dir,
            images: images::ImageSteps::default(),
            ctx,
        })
    }

    /// Runs the requested tasks (canonical names); sequentially unless `--parallel`.
    /// `graph` is the one the CLI checked for cycles and unknown names.
    pub(crate) async fn run(
        self: &Arc<Self>,
        roots: Vec<String>,
        graph: &crate::graph::Graph,
    ) -> Result<()> {
        images::preflight(self, graph)?;
        if self.options.parallel {
            let runs = roots
                .into_iter()
                .map(|root| self.clone().run_task(root, IndexMap::new(), false, false));
            futures_util::future::join_all(runs).await;
        } else {
            for root in roots {
                if self
                    .clone()
                    .run_task(root, IndexMap::new(), false, false)
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
        match self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The running commands' process groups, for a panic hook.
    pub(crate) fn processes(&self) -> Arc<ProcessTable> {
        self.processes.clone()
    }

    /// Ctrl-C or SIGTERM: forward to every running command's group and stop.
    pub(crate) fn interrupt(&self, signal: nix::sys::signal::Signal) {
        self.processes.signal_all(signal);
        *self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Error::Interrupted);
        self.cancel.send_replace(true);
    }

    fn fail(&self, error: Error) -> Failed {
        let mut slot = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(error);
        }
        drop(slot);
        self.cancel.send_replace(true);
        Failed
    }

    fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    /// `deferred`: run even though the run is being cancelled (a `defer:` step's call).
    /// `silent`: called with `silent: true`, so its commands are not echoed.
    fn run_task(
        self: Arc<Self>,
        name: String,
        call_vars: IndexMap<String, Value>,
        deferred: bool,
        silent: bool,
    ) -> BoxFuture<'static, Flow> {
        Box::pin(async move {
            let Some((canonical, task)) = self.ctx.taskfile.find(&name) else {
                let error = self.ctx.taskfile.unknown_task(&name);
                return Err(self.fail(error));
            };
            let canonical = canonical.to_owned();
            let scope = {
                let (ctx, name) = (self.ctx.clone(), canonical.clone());
                evaluate(move |fx| {
                    let task = &ctx.taskfile.tasks[name.as_str()];
                    ctx.scope_for_task(&name, task, call_vars.clone(), fx)
                })
                .await
                .map_err(|e| self.fail(e))?
            };
            let missing = {
                let scope = scope.clone();
                let required = task.value.requires.clone();
                evaluate(move |fx| scope.missing(&required, fx))
                    .await
                    .map_err(|e| self.fail(e))?
            };
            if !missing.is_empty() {
                return Err(self.fail(Error::RequiredVars {
                    task: canonical,
                    vars: missing,
                }));
            }
            self.run_deps(&scope, task, deferred).await?;
            if self.cancelled() && !deferred {
                return Err(Failed);
            }
            self.run_body(&canonical, task, &scope, deferred, silent)
                .await
        })
    }

    async fn run_deps(
        self: &Arc<Self>,
        scope: &Arc<Scope>,
        task: &Spanned<Task>,
        deferred: bool,
    ) -> Flow {
        let mut runs = Vec::new();
        for dep in &task.value.deps {
            let (name, vars) = self
                .resolve_call(scope, &dep.value, &dep.referenced)
                .await
                .map_err(|e| self.fail(e))?;
            // Deps run once per invocation: per (name, vars), or once whatever the vars.
            let key = self.run_key(&name, &vars, true).expect("deps always dedup");
            let silent = dep.value.silent;
            runs.push(self.run_deduplicated(key, name, vars, deferred, silent));
        }
        let results = futures_util::future::join_all(runs).await;
        results.into_iter().collect()
    }

    /// The dedup key of a call: what the task's `run` policy asks for; a dep
    /// (`is_dep`) runs once per instance even under `run: always`. `None`:
    /// it runs every time.
    fn run_key(&self, name: &str, vars: &IndexMap<String, Value>, is_dep: bool) -> Option<RunKey> {
        let policy = self.ctx.taskfile.find(name).map(|(_, t)| t.value.run);
        match policy {
            Some(RunPolicy::Once) => Some(RunKey::Task(name.to_owned())),
            Some(RunPolicy::WhenChanged) => Some(RunKey::Instance(InstanceKey::new(name, vars))),
            Some(RunPolicy::Always) | None if is_dep => {
                Some(RunKey::Instance(InstanceKey::new(name, vars)))
            }
            Some(RunPolicy::Always) | None => None,
        }
    }

    /// Runs the task at most once per `key` in this invocation; later callers
    /// wait for the first run and share its outcome.
    fn run_deduplicated(
        self: &Arc<Self>,
        key: RunKey,
        name: String,
        vars: IndexMap<String, Value>,
        deferred: bool,
        silent: bool,
    ) -> impl std::future::Future<Output = Flow> + use<> {
        let cell = self
            .once
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        let runner = self.clone();
        async move {
            let ok = *cell
                .get_or_init(|| {
                    runner
                        .run_task(name, vars, deferred, silent)
                        .map(|r| r.is_ok())
                })
                .await;
            if ok {
                Ok(())
            } else {
                Err(Failed)
            }
        }
    }

    /// A call's task name and its vars, evaluated in the caller's scope.
    async fn resolve_call(
        &self,
        scope: &Arc<Scope>,
        call: &Call,
        at: &Location,
    ) -> Result<(String, IndexMap<String, Value>)> {
        let (scope, task, vars, at) = (scope.clone(), call.task.clone(), call.vars.clone(), *at);
        evaluate(move |fx| {
            let name = scope.render(&task, &at, "task name", fx)?;
            let vars = eval_vars(&scope, &vars, &at, fx)?;
            Ok((name, vars))
        })
        .await
    }

    pub(crate) fn printer(&self) -> &Arc<Printer> {
        &self.printer
    }

    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.ctx
    }

    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    pub(crate) fn record_failure(&self, error: Error) -> Failed {
        self.fail(error)
    }
}
