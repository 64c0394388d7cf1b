//! Runs a plan: deps first (in parallel, each once per invocation), then the
//! task's steps in order, deferred steps last. The first failure cancels the
//! rest; its error decides hoist's exit code.

use crate::error::{Error, Result};
use crate::exec::{self, Exit, OutputMode, ProcessTable, ShellCommand, Sink};
use crate::taskfile::{Call, RunPolicy, Step, Task, Text, VarMap};
use crate::ui::Printer;
use crate::vars::{Context, Effects, Scope};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use indexmap::IndexMap;
use minijinja::Value;
use serde_saphyr::{Location, Spanned};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, OnceCell, Semaphore};

mod images;

#[derive(Debug, Clone)]
pub struct Options {
    pub dry: bool,
    pub force: bool,
    pub silent: bool,
    pub parallel: bool,
    pub concurrency: usize,
    pub output: OutputMode,
}

/// Marks a failure whose error is already recorded in the runner.
#[derive(Debug)]
pub struct Failed;

type Flow = std::result::Result<(), Failed>;

pub struct Runner {
    ctx: Arc<Context>,
    printer: Arc<Printer>,
    options: Options,
    permits: Semaphore,
    processes: ProcessTable,
    cancel: watch::Sender<bool>,
    failure: Mutex<Option<Error>>,
    /// Deps run once per invocation: key is task name plus call vars.
    once: Mutex<HashMap<String, Arc<OnceCell<bool>>>>,
    state_dir: PathBuf,
    images: images::ImageSteps,
}

impl Runner {
    pub fn new(ctx: Arc<Context>, options: Options) -> Arc<Runner> {
        let printer = ctx.printer.clone();
        let state_dir = ctx.taskfile.dir.join(".hoist");
        Arc::new(Runner {
            printer,
            permits: Semaphore::new(options.concurrency.max(1)),
            options,
            processes: ProcessTable::default(),
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
    pub async fn run(
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
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Ctrl-C or SIGTERM: forward to every running command's group and stop.
    pub fn interrupt(&self, signal: nix::sys::signal::Signal) {
        self.processes.signal_all(signal);
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(Error::Interrupted);
        self.cancel.send_replace(true);
    }

    fn fail(&self, error: Error) -> Failed {
        let mut slot = self.failure.lock().unwrap_or_else(|e| e.into_inner());
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
            let key = self
                .once_key(&name, &vars)
                .unwrap_or_else(|| instance_key(&name, &vars));
            let silent = dep.value.silent;
            runs.push(self.run_deduplicated(key, name, vars, deferred, silent));
        }
        let results = futures_util::future::join_all(runs).await;
        results.into_iter().collect()
    }

    /// The dedup key that the task's `run` policy asks for, if any.
    fn once_key(&self, name: &str, vars: &IndexMap<String, Value>) -> Option<String> {
        match self.ctx.taskfile.find(name).map(|(_, t)| t.value.run)? {
            RunPolicy::Once => Some(format!("{name}\u{0}once")),
            RunPolicy::WhenChanged => Some(instance_key(name, vars)),
            RunPolicy::Always => None,
        }
    }

    /// Runs the task at most once per `key` in this invocation; later callers
    /// wait for the first run and share its outcome.
    fn run_deduplicated(
        self: &Arc<Self>,
        key: String,
        name: String,
        vars: IndexMap<String, Value>,
        deferred: bool,
        silent: bool,
    ) -> impl std::future::Future<Output = Flow> + use<> {
        let cell = self
            .once
            .lock()
            .unwrap_or_else(|e| e.into_inner())
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

    async fn run_body(
        self: &Arc<Self>,
        name: &str,
        task: &Spanned<Task>,
        scope: &Arc<Scope>,
        deferred: bool,
        silent: bool,
    ) -> Flow {
        let t = &task.value;
        let (label, env, sink) = {
            let (scope, name, mode) = (scope.clone(), name.to_owned(), self.options.output);
            evaluate(move |fx| {
                let task = &scope.context().taskfile.tasks[name.as_str()];
                let label = match &task.value.label {
                    Some(label) => scope.render(label, &task.referenced, "`label`", fx)?,
                    None => name.clone(),
                };
                let env = command_env(&scope, task, fx)?;
                let sink = sink_for(mode, &scope, task, &label, fx)?;
                Ok((label, env, sink))
            })
            .await
            .map_err(|e| self.fail(e))?
        };
        if !self.options.dry {
            self.check_preconditions(name, task, scope, &env).await?;
        }
        let fingerprint = match self.up_to_date(name, task, scope, &env).await? {
            Freshness::UpToDate => {
                self.printer.status(&label, "up to date");
                return Ok(());
            }
            Freshness::Run(fingerprint) => fingerprint,
        };
        let grouped = matches!(sink, Sink::Buffered(_));
        let cx = StepContext {
            name,
            label: &label,
            task,
            scope,
            env: &env,
            sink: &sink,
            deferred,
            silent,
        };
        let mut defers: Vec<&Spanned<Step>> = Vec::new();
        let mut result = Ok(());
        for step in &t.cmds {
            if self.cancelled() && !deferred {
                result = Err(Failed);
                break;
            }
            if let Step::Defer(_) = step.value {
                defers.push(step);
                continue;
            }
            result = self.run_step(&cx, step, &step.value).await;
            if result.is_err() {
                break;
            }
        }
        // Deferred steps run whatever happened, last registered first.
        let cx = StepContext {
            deferred: true,
            ..cx
        };
        for step in defers.into_iter().rev() {
            if let Step::Defer(inner) = &step.value {
                let _ = self.run_step(&cx, step, inner).await;
            }
        }
        if grouped {
            self.flush_group(&label, &sink);
        }
        if result.is_ok() && !self.options.dry {
            if let Some((state_key, fingerprint)) = fingerprint {
                if let Err(error) =
                    crate::fingerprint::record(&self.state_dir, &state_key, &fingerprint)
                {
                    self.printer.warn(&format!(
                        "task `{name}`: could not store its fingerprint: {error}"
                    ));
                }
            }
        }
        result
    }

    /// Runs one step. A deferred step (and everything it calls) runs even after
    /// cancellation, so it is given a token that never fires.
    fn run_step<'a>(
        self: &'a Arc<Self>,
        cx: &'a StepContext<'a>,
        step: &'a Spanned<Step>,
        inner: &'a Step,
    ) -> BoxFuture<'a, Flow> {
        Box::pin(async move {
            let cancel = if cx.deferred {
                watch::channel(false).1
            } else {
                self.cancel.subscribe()
            };
            self.step_with(cx, step, inner, cancel).await
        })
    }

    async fn step_with(
        self: &Arc<Self>,
        cx: &StepContext<'_>,
        step: &Spanned<Step>,
        inner: &Step,
        cancel: watch::Receiver<bool>,
    ) -> Flow {
        let StepContext {
            name,
            label,
            task,
            scope,
            env,
            sink,
            deferred,
            silent: called_silent,
        } = *cx;
        let t = &task.value;
        // Shorthand forms carry no position of their own: point at the step, else the task.
        let at = if step.referenced.line() > 0 {
            &step.referenced
        } else {
            &task.referenced
        };
        let quiet = self.options.silent || t.silent || self.ctx.taskfile.silent || called_silent;
        match inner {
            Step::Cmd {
                cmd,
                silent,
                ignore_error,
            } => {
                let script = {
                    let (scope, cmd, at) = (scope.clone(), cmd.clone(), *at);
                    evaluate(move |fx| scope.render_shell(&cmd, &at, "command", fx))
                        .await
                        .map_err(|e| self.fail(e))?
                };
                if !quiet && !silent || self.options.dry {
                    self.printer.status(label, script.trim_end());
                }
                if self.options.dry {
                    return Ok(());
                }
                let exit = {
                    let _permit = self
                        .permits
                        .acquire()
                        .await
                        .expect("semaphore is never closed");
                    let command = ShellCommand {
                        script: &script,
                        dir: scope.dir(),
                        env,
                        sink,
                        label,
                    };
                    exec::run(command, &self.printer, &self.processes, cancel).await
                };
                // The error quotes the command as the narration line shows it.
                let script = script.trim_end().to_owned();
                let error = match exit {
                    Ok(Exit::Success) => return Ok(()),
                    Ok(Exit::Cancelled) => return Err(Failed),
                    Ok(Exit::Code(code)) => Error::CommandFailed {
                        task: name.to_owned(),
                        command: script,
                        code,
                    },
                    Ok(Exit::Signal(signal)) => Error::CommandKilled {
                        task: name.to_owned(),
                        command: script,
                        signal,
                    },
                    Err(source) => Error::Spawn {
                        task: name.to_owned(),
                        command: script,
                        source,
                    },
                };
                if *ignore_error || t.ignore_error {
                    self.printer.warn(&format!("{error} (ignored)"));
                    return Ok(());
                }
                Err(self.fail(error))
            }
            Step::Task {
                task: target,
                vars,
                silent,
            } => {
                let call = Call {
                    task: target.clone(),
                    vars: vars.clone(),
                    silent: false,
                };
                let (target, vars) = self
                    .resolve_call(scope, &call, at)
                    .await
                    .map_err(|e| self.fail(e))?;
                // A call runs every time unless its task says `run: once` or `when_changed`.
                let silent = *silent;
                match self.once_key(&target, &vars) {
                    Some(key) => {
                        self.run_deduplicated(key, target, vars, deferred, silent)
                            .await
                    }
                    None => self.clone().run_task(target, vars, deferred, silent).await,
                }
            }
            // A defer inside a defer runs in place.
            Step::Defer(inner) => {
                self.run_step(
                    &StepContext {
                        deferred: true,
                        ..*cx
                    },
                    step,
                    inner,
                )
                .await
            }
            Step::Build(_) | Step::Push(_) | Step::Tag(_) => {
                self.images
                    .run(
                        self,
                        name,
                        label,
                        scope,
                        step,
                        inner,
                        quiet,
                        t.ignore_error,
                        sink,
                        cancel,
                    )
                    .await
            }
        }
    }

    fn flush_group(&self, label: &str, sink: &Sink) {
        let Sink::Buffered(buffer) = sink else { return };
        let lines = std::mem::take(&mut *buffer.lock().unwrap_or_else(|e| e.into_inner()));
        if lines.is_empty() {
            return;
        }
        self.printer.group_start(label);
        for (is_stderr, line) in lines {
            self.printer.out_line(&line, is_stderr);
        }
        self.printer.group_end(label);
    }

    async fn check_preconditions(
        &self,
        name: &str,
        task: &Spanned<Task>,
        scope: &Arc<Scope>,
        env: &[(String, String)],
    ) -> Flow {
        for pre in &task.value.preconditions {
            let script = {
                let (scope, sh, at) = (scope.clone(), pre.value.sh.clone(), pre.referenced);
                evaluate(move |fx| scope.render_shell(&sh, &at, "precondition", fx))
                    .await
                    .map_err(|e| self.fail(e))?
            };
            if !exec::check(&script, scope.dir(), env).await {
                let message = match &pre.value.msg {
                    Some(msg) => {
                        let (scope, msg, at) = (scope.clone(), msg.clone(), pre.referenced);
                        evaluate(move |fx| scope.render(&msg, &at, "precondition message", fx))
                            .await
                            .map_err(|e| self.fail(e))?
                    }
                    None => format!("`{script}` failed"),
                };
                return Err(self.fail(Error::Precondition {
                    task: name.to_owned(),
                    message,
                }));
            }
        }
        Ok(())
    }

    async fn up_to_date(
        &self,
        name: &str,
        task: &Spanned<Task>,
        scope: &Arc<Scope>,
        env: &[(String, String)],
    ) -> std::result::Result<Freshness, Failed> {
        let t = &task.value;
        if self.options.force || self.options.dry || (t.status.is_empty() && t.sources.is_empty()) {
            return Ok(Freshness::Run(None));
        }
        for check in &t.status {
            let script = {
                let (scope, check, at) = (scope.clone(), check.clone(), task.referenced);
                evaluate(move |fx| scope.render_shell(&check, &at, "`status`", fx))
                    .await
                    .map_err(|e| self.fail(e))?
            };
            if !exec::check(&script, scope.dir(), env).await {
                return Ok(Freshness::Run(None));
            }
        }
        if t.sources.is_empty() {
            return Ok(Freshness::UpToDate);
        }
        let (sources, generates) = {
            let (scope, name) = (scope.clone(), name.to_owned());
            evaluate(move |fx| {
                let task = &scope.context().taskfile.tasks[name.as_str()];
                let render_all = |list: &[Text], what: &str| -> Result<Vec<String>> {
                    list.iter()
                        .map(|s| scope.render(s, &task.referenced, what, fx))
                        .collect()
                };
                Ok((
                    render_all(&task.value.sources, "`sources`")?,
                    render_all(&task.value.generates, "`generates`")?,
                ))
            })
            .await
            .map_err(|e| self.fail(e))?
        };
        // One fingerprint per task instance: the same sources built with other
        // call vars (another GOOS, say) are not up to date.
        let state_key = instance_key(name, scope.call_vars());
        let dir = scope.dir().to_path_buf();
        let state_dir = self.state_dir.clone();
        let key = state_key.clone();
        let checked = tokio::task::spawn_blocking(move || {
            crate::fingerprint::check(&state_dir, &key, &dir, &sources, &generates)
        })
        .await
        .expect("fingerprint check does not panic");
        match checked {
            Ok((crate::fingerprint::Freshness::UpToDate, _)) => Ok(Freshness::UpToDate),
            Ok((crate::fingerprint::Freshness::Stale(reason), fingerprint)) => {
                self.printer
                    .verbose(&format!("[{name}] must run: {reason}"));
                Ok(Freshness::Run(Some((state_key, fingerprint))))
            }
            Err(error) => Err(self.fail(Error::Fingerprint {
                task: name.to_owned(),
                error,
            })),
        }
    }

    pub fn printer(&self) -> &Arc<Printer> {
        &self.printer
    }

    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    pub(crate) fn record_failure(&self, error: Error) -> Failed {
        self.fail(error)
    }
}

/// What every step of one task run shares.
#[derive(Clone, Copy)]
struct StepContext<'a> {
    name: &'a str,
    label: &'a str,
    task: &'a Spanned<Task>,
    scope: &'a Arc<Scope>,
    env: &'a [(String, String)],
    sink: &'a Sink,
    /// Part of a `defer:`: runs even when the run is being cancelled.
    deferred: bool,
    /// The task was called with `silent: true`: its commands are not echoed.
    silent: bool,
}

enum Freshness {
    UpToDate,
    /// Must run; with the fingerprint to store afterwards when sources are tracked.
    Run(Option<(String, String)>),
}

/// The identity of a task instance: its name and call vars.
pub fn instance_key(name: &str, vars: &IndexMap<String, Value>) -> String {
    let mut pairs: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    if pairs.is_empty() {
        name.to_owned()
    } else {
        format!("{name}[{}]", pairs.join(","))
    }
}

/// A variable's value as the text an environment variable holds.
pub fn value_text(value: &Value) -> String {
    crate::template::trust::text(value)
}

/// Evaluates templates on the runtime thread when that needs neither git nor
/// a command, else on the blocking pool (an `sh:` var, the first git read),
/// so that one task's `sh:` never stalls the other tasks and their output.
pub(crate) async fn evaluate<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: Fn(Effects) -> Result<T> + Send + 'static,
{
    match f(Effects::None) {
        Err(Error::Postponed) => tokio::task::spawn_blocking(move || f(Effects::All))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
        other => other,
    }
}

fn eval_vars(
    scope: &Arc<Scope>,
    vars: &VarMap,
    at: &Location,
    fx: Effects,
) -> Result<IndexMap<String, Value>> {
    let taskfile = &scope.context().taskfile;
    let mut out = IndexMap::new();
    for (key, value) in vars {
        let origin = taskfile.origin_of(value, at);
        out.insert(key.clone(), scope.eval(&value.value, &origin, key, fx)?);
    }
    Ok(out)
}

/// Exported to commands: dotenv, then the file's `env`, then the task's.
fn command_env(
    scope: &Arc<Scope>,
    task: &Spanned<Task>,
    fx: Effects,
) -> Result<Vec<(String, String)>> {
    let ctx = scope.context();
    let mut env: IndexMap<String, String> = ctx.dotenv().iter().cloned().collect();
    let global = ctx.global();
    for (key, value) in &ctx.taskfile.env {
        let origin = ctx.taskfile.origin(&value.referenced);
        env.insert(
            key.clone(),
            value_text(&global.eval(&value.value, &origin, key, fx)?),
        );
    }
    for (key, value) in &task.value.env {
        let origin = ctx.taskfile.origin_of(value, &task.referenced);
        env.insert(
            key.clone(),
            value_text(&scope.eval(&value.value, &origin, key, fx)?),
        );
    }
    Ok(env.into_iter().collect())
}

fn sink_for(
    mode: OutputMode,
    scope: &Arc<Scope>,
    task: &Spanned<Task>,
    label: &str,
    fx: Effects,
) -> Result<Sink> {
    Ok(match mode {
        OutputMode::Interleaved => Sink::Direct,
        OutputMode::Prefixed => {
            let prefix = match &task.value.prefix {
                Some(p) => scope.render(p, &task.referenced, "`prefix`", fx)?,
                None => label.to_owned(),
            };
            Sink::Prefixed(prefix)
        }
        OutputMode::Group => Sink::Buffered(Arc::default()),
    })
}
