//! The one error type callers branch on, its rendering and its exit codes.
//!
//! Exit codes follow go-task's ranges so scripts written against `task` keep
//! working: 1xx for task file problems, 2xx for task problems. A failing
//! command's own exit status is passed through unchanged.

use crate::source::Origin;
use std::fmt;
use std::path::PathBuf;

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes, in one place.
pub(crate) mod exit {
    pub(crate) const USAGE: u8 = 2;
    pub(crate) const TASKFILE_NOT_FOUND: u8 = 100;
    pub(crate) const TASKFILE_INVALID: u8 = 102;
    pub(crate) const TEMPLATE: u8 = 103;
    pub(crate) const TASK_NOT_FOUND: u8 = 200;
    pub(crate) const TASK_FAILED: u8 = 201;
    pub(crate) const PRECONDITION: u8 = 202;
    pub(crate) const CYCLE: u8 = 204;
    pub(crate) const REQUIRED_VAR: u8 = 206;
    pub(crate) const DOCKER: u8 = 210;
    pub(crate) const INTERRUPTED: u8 = 130;
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("no hoist.yml found in {} or any parent directory", dir.display())]
    TaskfileNotFound { dir: PathBuf },

    #[error("cannot read {}: {source}", path.display())]
    TaskfileRead {
        path: PathBuf,
        source: std::io::Error,
    },

    /// YAML syntax or shape errors, and semantic checks of the file.
    #[error("{message}")]
    Taskfile {
        origin: Origin,
        message: String,
        help: Option<String>,
    },

    /// Template syntax or rendering errors (undefined variable, bad filter, ...).
    #[error("{message}")]
    Template {
        origin: Origin,
        task: Option<String>,
        message: String,
        help: Option<String>,
    },

    #[error("task `{name}` does not exist")]
    TaskNotFound {
        name: String,
        suggestions: Vec<String>,
    },

    #[error("dependency cycle: {}", path.join(" -> "))]
    Cycle { path: Vec<String> },

    #[error("task `{task}` requires variable{} {} to be set", if vars.len() == 1 { "" } else { "s" }, vars.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))]
    RequiredVars { task: String, vars: Vec<String> },

    #[error("task `{task}`: precondition failed: {message}")]
    Precondition { task: String, message: String },

    /// A release step refused or failed; the repository is as it was.
    #[error("task `{task}`: {message}")]
    GitStep { task: String, message: String },

    #[error("task `{task}`: command failed with exit code {code}: {command}")]
    CommandFailed {
        task: String,
        command: String,
        code: i32,
    },

    #[error("task `{task}`: command killed by signal {signal}: {command}")]
    CommandKilled {
        task: String,
        command: String,
        signal: i32,
    },

    #[error("task `{task}`: cannot run `{command}` in {}: {source}{}", dir.display(), if dir.is_dir() { "" } else { " (that directory does not exist: check the task's `dir:`)" })]
    Spawn {
        task: String,
        command: String,
        dir: PathBuf,
        source: std::io::Error,
    },

    #[error("{}variable `{var}`: command `{command}` failed with exit code {code}{}", task.as_ref().map(|t| format!("task `{t}`: ")).unwrap_or_default(), if stderr.is_empty() { String::new() } else { format!("\n{stderr}") })]
    ShVar {
        /// The task whose templates needed the variable (global vars too).
        task: Option<String>,
        var: String,
        command: String,
        code: i32,
        stderr: String,
    },

    #[error("interrupted")]
    Interrupted,

    /// An evaluation needed git or a command where it may not have them
    /// (see `vars::Effects`); its caller evaluates again where it may. Never
    /// shown to a user.
    #[error("evaluation postponed")]
    Postponed,

    #[error("{}{error}", task.as_ref().map(|t| format!("task `{t}`: ")).unwrap_or_default())]
    Docker {
        task: Option<String>,
        error: Box<crate::docker::DockerError>,
    },

    #[error("task `{task}`: {error}")]
    Fingerprint {
        task: String,
        error: crate::fingerprint::FingerprintError,
    },

    #[error("{0}")]
    Usage(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Error {
    #[must_use]
    pub(crate) fn exit_code(&self) -> u8 {
        use Error::{
            CommandFailed, CommandKilled, Cycle, Docker, Fingerprint, GitStep, Interrupted, Io,
            Postponed, Precondition, RequiredVars, ShVar, Spawn, TaskNotFound, Taskfile,
            TaskfileNotFound, TaskfileRead, Template, Usage,
        };
        match self {
            TaskfileNotFound { .. } => exit::TASKFILE_NOT_FOUND,
            TaskfileRead { .. } | Taskfile { .. } => exit::TASKFILE_INVALID,
            Template { .. } => exit::TEMPLATE,
            TaskNotFound { .. } => exit::TASK_NOT_FOUND,
            Cycle { .. } => exit::CYCLE,
            RequiredVars { .. } => exit::REQUIRED_VAR,
            Precondition { .. } => exit::PRECONDITION,
            GitStep { .. } => exit::TASK_FAILED,
            CommandFailed { code, .. } => (*code).clamp(1, 255) as u8,
            CommandKilled { signal, .. } => (128 + *signal).clamp(1, 255) as u8,
            ShVar { .. } | Spawn { .. } | Fingerprint { .. } | Io { .. } | Postponed => {
                exit::TASK_FAILED
            }
            Interrupted => exit::INTERRUPTED,
            Docker { .. } => exit::DOCKER,
            Usage(_) => exit::USAGE,
        }
    }

    #[must_use]
    pub(crate) fn origin(&self) -> Option<&Origin> {
        match self {
            Error::Taskfile { origin, .. } | Error::Template { origin, .. }
                if origin.is_known() =>
            {
                Some(origin)
            }
            Error::Docker { error, .. } => error.origin(),
            _ => None,
        }
    }

    #[must_use]
    pub(crate) fn help(&self) -> Option<String> {
        match self {
            Error::TaskfileNotFound { .. } => Some(
                "create a hoist.yml, pass one with --taskfile, or run in a directory that has one"
                    .into(),
            ),
            Error::Taskfile { help, .. } | Error::Template { help, .. } => help.clone(),
            Error::TaskNotFound { suggestions, .. } if !suggestions.is_empty() => Some(format!(
                "did you mean {}? (`hoist --list` shows all tasks)",
                suggestions
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
            Error::TaskNotFound { .. } => Some("`hoist --list` shows all tasks".into()),
            Error::RequiredVars { vars, .. } => Some(format!(
                "set it on the command line, e.g. `hoist TASK {}=...`, or in the environment",
                vars[0]
            )),
            Error::Docker { error, .. } => error.help(),
            _ => None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Renders an error the way every hoist error looks:
/// `error: message`, the position with the offending line, then `help: ...`.
pub(crate) struct Report<'a>(pub &'a Error);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = self.0;
        write!(f, "error: {error}")?;
        if let Some(origin) = error.origin() {
            write!(f, "\n{}", origin.snippet())?;
        }
        if let Some(help) = error.help() {
            write!(f, "\nhelp: {help}")?;
        }
        Ok(())
    }
}

/// The names closest to `name`, for "did you mean" hints.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_owned())
        .collect()
}
