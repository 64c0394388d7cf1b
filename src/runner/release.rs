//! The `git-tag` step: checked (a clean tree, a new tag, a version that goes
//! up) before anything changes, then an annotated tag at HEAD and, with
//! `push`, that one tag pushed by name.

use super::evaluate::evaluate;
use super::task_run::TaskRun;
use super::{Flow, Runner};
use crate::error::Error;
use crate::git::flow::{Bump, FlowKind};
use crate::git::GitRepo;
use crate::taskfile::{FlowSpec, FlowStep, GitTagStep, Text};
use serde_saphyr::Location;
use std::path::PathBuf;
use std::sync::Arc;

impl Runner {
    pub(super) async fn run_git_tag(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        step: &GitTagStep,
        at: &Location,
        quiet: bool,
    ) -> Flow {
        let fail = |m: String| self.git_step_failure(run, m);
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

impl Runner {
    /// `release:`/`hotfix:` `start` or `finish`.
    pub(super) async fn run_flow(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        step: &FlowStep,
        at: &Location,
        quiet: bool,
    ) -> Flow {
        let fail = |m: String| self.git_step_failure(run, m);
        let kind = if step.hotfix {
            FlowKind::Hotfix
        } else {
            FlowKind::Release
        };
        let default_bump = if step.hotfix { "patch" } else { "minor" };
        let (action, push, message) = match &step.spec {
            FlowSpec::Word(word) => (
                self.render_text(run, word, at, "release step").await?,
                None,
                None,
            ),
            FlowSpec::Map(m) => {
                let action = match (&m.start, m.finish) {
                    (Some(bump), false) => self.render_text(run, bump, at, "start").await?,
                    (None, true) => "finish".to_owned(),
                    _ => {
                        return Err(fail(
                            "a release or hotfix step takes `start:` or `finish: true`".to_owned(),
                        ))
                    }
                };
                let push = match &m.push {
                    Some(p) => Some(self.render_text(run, p, at, "push").await?),
                    None => None,
                };
                let message = match &m.message {
                    Some(t) => Some(self.render_text(run, t, at, "message").await?),
                    None => None,
                };
                (
                    if action == "start" {
                        default_bump.to_owned()
                    } else {
                        action
                    },
                    push,
                    message,
                )
            }
        };
        let dir = run.scope.dir().to_path_buf();
        if action == "finish" {
            return self.flow_finish(run, kind, dir, push, message, quiet).await;
        }
        let bump = if action == "start" {
            default_bump.to_owned()
        } else {
            action
        };
        self.flow_start(run, kind, dir, &bump, quiet).await
    }

    fn git_step_failure(&self, run: &TaskRun<'_>, message: String) -> super::Failed {
        self.fail(Error::GitStep {
            task: run.name.to_owned(),
            message,
        })
    }

    async fn flow_finish(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        kind: FlowKind,
        dir: PathBuf,
        push: Option<String>,
        message: Option<String>,
        quiet: bool,
    ) -> Flow {
        let fail = |m: String| self.git_step_failure(run, m);
        let plan = {
            let dir = dir.clone();
            let names = run.scope.session().taskfile.versioning.clone();
            blocking(move || open(&dir)?.plan_finish(kind, &names)).await
        }
        .map_err(fail)?;
        let message = message.unwrap_or_else(|| format!("Release {}", plan.tag));
        let push_text = push.as_deref().map_or(String::new(), |r| {
            format!(
                ", push {}, {} and {} to {r}",
                plan.main, plan.develop, plan.tag
            )
        });
        let what = format!(
            "merge {} into {}, tag it {}, merge {} into {}, delete {}{push_text}",
            plan.branch, plan.main, plan.tag, plan.tag, plan.develop, plan.branch
        );
        if self.options.dry {
            self.printer.status(run.label, &what);
            return Ok(());
        }
        {
            let (dir, plan, message) = (dir.clone(), plan.clone(), message.clone());
            blocking(move || open(&dir)?.finish(&plan, &message))
                .await
                .map_err(fail)?;
        }
        if !quiet {
            self.printer
                .status(run.label, &format!("released {}: {what}", plan.tag));
        }
        if let Some(remote) = push {
            let refs = [
                format!("refs/heads/{}", plan.main),
                format!("refs/heads/{}", plan.develop),
                format!("refs/tags/{}", plan.tag),
            ];
            self.git_push(run, &dir, &remote, &refs, quiet)
                .await
                .map_err(fail)?;
        }
        Ok(())
    }

    async fn flow_start(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        kind: FlowKind,
        dir: PathBuf,
        bump: &str,
        quiet: bool,
    ) -> Flow {
        let fail = |m: String| self.git_step_failure(run, m);
        let bump = Bump::parse(bump).ok_or_else(|| {
            fail(format!(
                "`start: {bump}`: use major, minor, patch or a version X.Y.Z"
            ))
        })?;
        let plan = {
            let dir = dir.clone();
            let names = run.scope.session().taskfile.versioning.clone();
            blocking(move || open(&dir)?.plan_start(kind, &bump, &names)).await
        }
        .map_err(fail)?;
        let what = format!("create {} from {} and check it out", plan.branch, plan.from);
        if self.options.dry {
            self.printer.status(run.label, &what);
            return Ok(());
        }
        {
            let plan = plan.clone();
            blocking(move || open(&dir)?.start(&plan))
                .await
                .map_err(fail)?;
        }
        if !quiet {
            self.printer
                .status(run.label, &format!("started {}", plan.branch));
        }
        Ok(())
    }

    /// `git push REMOTE REFS...` with the user's git, the names quoted.
    async fn git_push(
        self: &Arc<Self>,
        run: &TaskRun<'_>,
        dir: &std::path::Path,
        remote: &str,
        refs: &[String],
        quiet: bool,
    ) -> Result<(), String> {
        let quote = crate::template::trust::shell_quote;
        let mut script = format!("git push {}", quote(remote));
        for r in refs {
            script.push(' ');
            script.push_str(&quote(r));
        }
        let (dir, env) = (dir.to_path_buf(), run.env.to_vec());
        let pushed = blocking(move || crate::exec::capture(&script, &dir, &env)).await;
        match pushed {
            Ok(_) => {
                if !quiet {
                    self.printer
                        .status(run.label, &format!("pushed {} to {remote}", refs.join(", ")));
                }
                Ok(())
            }
            Err(failure) => Err(format!(
                "pushing {} to {remote} failed (exit code {}): {}; the local repository has them: push again with `git push {remote} ...`",
                refs.join(", "),
                failure.code,
                failure.stderr
            )),
        }
    }
}

/// The repository `dir` is in.
fn open(dir: &std::path::Path) -> Result<GitRepo, String> {
    GitRepo::discover(dir).ok_or_else(|| format!("{} is in no git repository", dir.display()))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}
