//! Evaluating a task's templates from the runner: off the runtime thread when
//! that blocks, and the environment its commands get.

use crate::error::{Error, Result};
use crate::taskfile::{Task, VarMap};
use crate::vars::{Effects, Scope};
use indexmap::IndexMap;
use minijinja::Value;
use serde_saphyr::{Location, Spanned};
use std::sync::Arc;

/// A variable's value as the text an environment variable holds.
pub(crate) fn value_text(value: &Value) -> String {
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

/// A call's vars, evaluated in the caller's scope.
pub(super) fn eval_vars(
    scope: &Arc<Scope>,
    vars: &VarMap,
    at: &Location,
    fx: Effects,
) -> Result<IndexMap<String, Value>> {
    let taskfile = &scope.session().taskfile;
    let mut out = IndexMap::new();
    for (key, value) in vars {
        let origin = taskfile.origin_of(value, at);
        out.insert(key.clone(), scope.eval(&value.value, &origin, key, fx)?);
    }
    Ok(out)
}

/// Exported to commands: dotenv, then the file's `env`, then the task's.
pub(super) fn command_env(
    scope: &Arc<Scope>,
    task: &Spanned<Task>,
    fx: Effects,
) -> Result<Vec<(String, String)>> {
    let ctx = scope.session();
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
