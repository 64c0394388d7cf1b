//! The `git-tag` step: checked (a clean tree, a new tag, a version that goes
//! up) before anything changes, then an annotated tag at HEAD and, with
//! `push`, that one tag pushed by name.

use super::evaluate::evaluate;
use super::task_run::TaskRun;
use super::{Flow, Runner};
use crate::error::Error;
use crate::git::GitRepo;
use crate::taskfile::{GitTagStep, Text};
use serde_saphyr::Location;
use std::sync::Arc;

impl Runner {
    pub(super) async fn run_git_tag(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        step: &GitTagStep,
        at: &Location,
        quiet: bool,
    ) -> Flow {
        let fail = |message: String| {
            self.fail(Error::GitStep {
                task: run.name.to_owned(),
                message,
            })
        };
        let name = self
            .render_text(run, &step.name, at, "git-tag name")
            .await?;
        let message = match &step.message {
            Some(m) => self.render_text(run, m, at, "git-tag message").await?,
            None => format!("Release {name}"),
        };
        let remote = match &step.push {
            Some(r) => Some(self.render_text(run, r, at, "git-tag push").await?),
            None => None,
        };
        let dir = run.scope.dir().to_path_buf();
        let plan = {
            let (dir, name) = (dir.clone(), name.clone());
            tokio::task::spawn_blocking(move || {
                GitRepo::discover(&dir)
                    .ok_or_else(|| {
                        format!(
                            "cannot tag {name}: {} is in no git repository",
                            dir.display()
                        )
                    })?
                    .plan_tag(&name)
            })
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        }
        .map_err(fail)?;
        let push_text = remote
            .as_deref()
            .map_or(String::new(), |r| format!(", then push it to {r}"));
        if self.options.dry {
            self.printer.status(
                run.label,
                &format!(
                    "tag {} as {} ({message:?}){push_text}",
                    plan.commit, plan.name
                ),
            );
            return Ok(());
        }
        {
            let (dir, plan, message) = (dir.clone(), plan.clone(), message.clone());
            tokio::task::spawn_blocking(move || {
                GitRepo::discover(&dir)
                    .ok_or_else(|| "the repository went away".to_owned())?
                    .create_tag(&plan, &message)
            })
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
            .map_err(fail)?;
        }
        if !quiet {
            self.printer.status(
                run.label,
                &format!("tagged {} as {}", plan.commit, plan.name),
            );
        }
        let Some(remote) = remote else {
            return Ok(());
        };
        // That one tag, by name (not --tags), with the user's own git and credentials.
        let quote = crate::template::trust::shell_quote;
        let script = format!(
            "git push {} {}",
            quote(&remote),
            quote(&format!("refs/tags/{}", plan.name))
        );
        let env = run.env.to_vec();
        let pushed = tokio::task::spawn_blocking(move || crate::exec::capture(&script, &dir, &env))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        match pushed {
            Ok(_) => {
                if !quiet {
                    self.printer
                        .status(run.label, &format!("pushed tag {} to {remote}", plan.name));
                }
                Ok(())
            }
            Err(failure) => Err(fail(format!(
                "tag {} was created here, but pushing it to {remote} failed (exit code {}): {}; push it with `git push {remote} {}`",
                plan.name, failure.code, failure.stderr, plan.name
            ))),
        }
    }

    async fn render_text(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        text: &Text,
        at: &Location,
        what: &'static str,
    ) -> Result<String, super::Failed> {
        let (scope, text, at) = (run.scope.clone(), text.clone(), *at);
        evaluate(move |fx| scope.render(&text, &at, what, fx))
            .await
            .map_err(|e| self.fail(e))
    }
}
