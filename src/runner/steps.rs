//! The kinds of step: a shell command, a call of another task, a `defer:`,
//! and the image steps (in `images`).

use super::evaluate::evaluate;
use super::task_run::TaskRun;
use super::{Failed, Flow, Runner};
use crate::error::Error;
use crate::exec::{self, Exit, ShellCommand};
use crate::taskfile::{Call, Step, Text, VarMap};
use futures_util::future::BoxFuture;
use serde_saphyr::{Location, Spanned};
use std::sync::Arc;
use tokio::sync::watch;

/// A `cmd` step's own flags.
struct CommandFlags {
    silent: bool,
    ignore_error: bool,
}

impl Runner {
    /// Runs one step. A deferred step (and everything it calls) runs even after
    /// cancellation, so it is given a token that never fires.
    pub(super) fn run_step<'a>(
        self: &'a Arc<Self>,
        run: &'a TaskRun<'a>,
        step: &'a Spanned<Step>,
        inner: &'a Step,
    ) -> BoxFuture<'a, Flow> {
        Box::pin(async move {
            let cancel = if run.deferred {
                watch::channel(false).1
            } else {
                self.cancel.subscribe()
            };
            // Shorthand forms carry no position of their own: point at the step, else the task.
            let at = if step.referenced.line() > 0 {
                step.referenced
            } else {
                run.task.referenced
            };
            let quiet = self.options.silent
                || run.task.value.silent
                || self.ctx.taskfile.silent
                || run.silent;
            match inner {
                Step::Cmd {
                    cmd,
                    silent,
                    ignore_error,
                } => {
                    let flags = CommandFlags {
                        silent: quiet || *silent,
                        ignore_error: *ignore_error,
                    };
                    self.run_command(run, cmd, &at, &flags, cancel).await
                }
                Step::Task { task, vars, silent } => {
                    self.run_call(run, task, vars, *silent, &at).await
                }
                // A defer inside a defer runs in place.
                Step::Defer(inner) => {
                    let run = TaskRun {
                        deferred: true,
                        ..*run
                    };
                    self.run_step(&run, step, inner).await
                }
                Step::GitTag(t) => self.run_git_tag(run, t, &at, quiet || t.silent).await,
                Step::Flow(f) => self.run_flow(run, f, &at, quiet || f.silent).await,
                Step::Build(_) | Step::Push(_) | Step::Tag(_) => {
                    let t = &run.task.value;
                    self.images
                        .run(
                            self,
                            run.name,
                            run.label,
                            run.scope,
                            step,
                            inner,
                            quiet,
                            t.ignore_error,
                            run.sink,
                            cancel,
                        )
                        .await
                }
            }
        })
    }

    async fn run_command(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        cmd: &Text,
        at: &Location,
        flags: &CommandFlags,
        cancel: watch::Receiver<bool>,
    ) -> Flow {
        let script = {
            let (scope, cmd, at) = (run.scope.clone(), cmd.clone(), *at);
            evaluate(move |fx| scope.render_shell(&cmd, &at, "command", fx))
                .await
                .map_err(|e| self.fail(e))?
        };
        if !flags.silent || self.options.dry {
            self.printer.status(run.label, script.trim_end());
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
                dir: run.scope.dir(),
                env: run.env,
                sink: run.sink,
                label: run.label,
            };
            exec::run(command, &self.printer, &self.processes, cancel).await
        };
        // The error quotes the command as the narration line shows it.
        let (task, command) = (run.name.to_owned(), script.trim_end().to_owned());
        let error = match exit {
            Ok(Exit::Success) => return Ok(()),
            Ok(Exit::Cancelled) => return Err(Failed),
            Ok(Exit::Code(code)) => Error::CommandFailed {
                task,
                command,
                code,
            },
            Ok(Exit::Signal(signal)) => Error::CommandKilled {
                task,
                command,
                signal,
            },
            Err(source) => Error::Spawn {
                task,
                command,
                dir: run.scope.dir().to_path_buf(),
                source,
            },
        };
        if flags.ignore_error || run.task.value.ignore_error {
            self.printer.warn(&format!("{error} (ignored)"));
            return Ok(());
        }
        Err(self.fail(error))
    }

    /// A `task:` step: runs every time unless its task says `run: once` or
    /// `when_changed`.
    async fn run_call(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        target: &Text,
        vars: &VarMap,
        silent: bool,
        at: &Location,
    ) -> Flow {
        let call = Call {
            task: target.clone(),
            vars: vars.clone(),
            silent,
        };
        let (target, vars) = self
            .resolve_call(run.scope, &call, at)
            .await
            .map_err(|e| self.fail(e))?;
        match self.run_key(&target, &vars, false) {
            Some(key) => {
                self.run_deduplicated(key, target, vars, run.deferred, silent)
                    .await
            }
            None => {
                self.clone()
                    .run_task(target, vars, run.deferred, silent)
                    .await
            }
        }
    }
}
