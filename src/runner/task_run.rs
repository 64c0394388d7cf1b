//! One task instance's run, once its deps are done: its label, environment
//! and output, the up-to-date check, its steps in order, then its defers.

use super::checks::Verdict;
use super::evaluate::{command_env, evaluate};
use super::output::sink_for;
use super::{Failed, Flow, Runner};
use crate::exec::Sink;
use crate::taskfile::{Step, Task};
use crate::vars::Scope;
use serde_saphyr::Spanned;
use std::sync::Arc;

/// What every step of one task run shares.
#[derive(Clone, Copy)]
pub(super) struct TaskRun<'a> {
    pub(super) name: &'a str,
    pub(super) label: &'a str,
    pub(super) task: &'a Spanned<Task>,
    pub(super) scope: &'a Arc<Scope>,
    pub(super) env: &'a [(String, String)],
    pub(super) sink: &'a Sink,
    /// Part of a `defer:`: runs even when the run is being cancelled.
    pub(super) deferred: bool,
    /// The task was called with `silent: true`: its commands are not echoed.
    pub(super) silent: bool,
}

impl Runner {
    pub(super) async fn run_body(
        self: &Arc<Self>,
        name: &str,
        task: &Spanned<Task>,
        scope: &Arc<Scope>,
        deferred: bool,
        silent: bool,
    ) -> Flow {
        let (label, env, sink) = {
            let (scope, name, mode) = (scope.clone(), name.to_owned(), self.options.output);
            evaluate(move |fx| {
                let task = &scope.session().taskfile.tasks[name.as_str()];
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
            Verdict::UpToDate => {
                self.printer.status(&label, "up to date");
                return Ok(());
            }
            Verdict::MustRun(fingerprint) => fingerprint,
        };
        let run = TaskRun {
            name,
            label: &label,
            task,
            scope,
            env: &env,
            sink: &sink,
            deferred,
            silent,
        };
        let result = self.run_steps(&run).await;
        if matches!(sink, Sink::Buffered(_)) {
            self.flush_group(&label, &sink);
        }
        if let (Ok(()), Some(fingerprint), false) = (&result, fingerprint, self.options.dry) {
            self.record_fingerprint(name, fingerprint).await;
        }
        result
    }

    /// The task's steps in order until one fails or the run is cancelled;
    /// then its `defer:` steps whatever happened, last registered first.
    async fn run_steps(self: &Arc<Self>, run: &TaskRun<'_>) -> Flow {
        let mut defers: Vec<&Spanned<Step>> = Vec::new();
        let mut result = Ok(());
        for step in &run.task.value.cmds {
            if self.cancelled() && !run.deferred {
                result = Err(Failed);
                break;
            }
            if let Step::Defer(_) = step.value {
                defers.push(step);
                continue;
            }
            result = self.run_step(run, step, &step.value).await;
            if result.is_err() {
                break;
            }
        }
        let run = TaskRun {
            deferred: true,
            ..*run
        };
        for step in defers.into_iter().rev() {
            if let Step::Defer(inner) = &step.value {
                let _ = self.run_step(&run, step, inner).await;
            }
        }
        result
    }
}
