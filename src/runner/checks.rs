//! Before a task's steps: its preconditions, and whether it is up to date
//! (`status` commands, `sources`/`generates` fingerprints).

use super::evaluate::evaluate;
use super::instance::InstanceKey;
use super::{Failed, Flow, Runner};
use crate::error::{Error, Result};
use crate::exec;
use crate::taskfile::{Task, Text};
use crate::vars::Scope;
use serde_saphyr::Spanned;
use std::sync::Arc;

/// Whether a task's steps run.
pub(super) enum Verdict {
    UpToDate,
    /// Must run; with the fingerprint to store afterwards when sources are tracked.
    MustRun(Option<Fingerprint>),
}

/// What a successful run records for its task instance.
pub(super) struct Fingerprint {
    state_key: String,
    digest: String,
}

impl Runner {
    pub(super) async fn check_preconditions(
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

    pub(super) async fn up_to_date(
        &self,
        name: &str,
        task: &Spanned<Task>,
        scope: &Arc<Scope>,
        env: &[(String, String)],
    ) -> std::result::Result<Verdict, Failed> {
        let t = &task.value;
        if self.options.force || self.options.dry || (t.status.is_empty() && t.sources.is_empty()) {
            return Ok(Verdict::MustRun(None));
        }
        for check in &t.status {
            let script = {
                let (scope, check, at) = (scope.clone(), check.clone(), task.referenced);
                evaluate(move |fx| scope.render_shell(&check, &at, "`status`", fx))
                    .await
                    .map_err(|e| self.fail(e))?
            };
            if !exec::check(&script, scope.dir(), env).await {
                return Ok(Verdict::MustRun(None));
            }
        }
        if t.sources.is_empty() {
            return Ok(Verdict::UpToDate);
        }
        self.compare_fingerprint(name, scope).await
    }

    async fn compare_fingerprint(
        &self,
        name: &str,
        scope: &Arc<Scope>,
    ) -> std::result::Result<Verdict, Failed> {
        let (sources, generates) = {
            let (scope, name) = (scope.clone(), name.to_owned());
            evaluate(move |fx| {
                let task = &scope.session().taskfile.tasks[name.as_str()];
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
        let state_key = InstanceKey::new(name, scope.call_vars()).to_string();
        let dir = scope.dir().to_path_buf();
        let state_dir = self.state_dir.clone();
        let key = state_key.clone();
        let checked = tokio::task::spawn_blocking(move || {
            crate::fingerprint::check(&state_dir, &key, &dir, &sources, &generates)
        })
        .await
        .expect("fingerprint check does not panic");
        match checked {
            Ok((crate::fingerprint::Freshness::UpToDate, _)) => Ok(Verdict::UpToDate),
            Ok((crate::fingerprint::Freshness::Stale(reason), digest)) => {
                self.printer
                    .verbose(&format!("[{name}] must run: {reason}"));
                Ok(Verdict::MustRun(Some(Fingerprint { state_key, digest })))
            }
            Err(error) => Err(self.fail(Error::Fingerprint {
                task: name.to_owned(),
                error,
            })),
        }
    }

    /// After a successful run: its sources' fingerprint, so the next run can skip it.
    pub(super) async fn record_fingerprint(&self, name: &str, fingerprint: Fingerprint) {
        let state_dir = self.state_dir.clone();
        let recorded = tokio::task::spawn_blocking(move || {
            crate::fingerprint::record(&state_dir, &fingerprint.state_key, &fingerprint.digest)
        })
        .await
        .expect("recording a fingerprint does not panic");
        if let Err(error) = recorded {
            self.printer.warn(&format!(
                "task `{name}`: could not store its fingerprint: {error}"
            ));
        }
    }
}
