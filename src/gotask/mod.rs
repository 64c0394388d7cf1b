//! go-task compatibility: runs an existing `Taskfile.yml` with go-task's
//! semantics (Go templates, its variable precedence, its exit codes and
//! listings) when no `hoist.yml` is found, so a team can replace `task` by
//! `hoist` in its scripts and CI and change nothing else.
//!
//! Commands run in bash with errexit (go-task's embedded interpreter stops a
//! command line at its first failing statement and understands bashisms;
//! bash does both, dash neither). Templates are evaluated by [`crate::gotmpl`].

mod args;
mod listing;
pub(crate) mod migrate;
pub(crate) mod migrate_docker;
mod model;
mod node;
mod run;
mod vars;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// go-task's exit codes, which scripts test for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// A failure go-task does not classify (template errors, `sh:` vars).
    General = 1,
    Usage = 2,
    TaskfileNotFound = 100,
    TaskfileDecode = 102,
    TaskfileFetch = 103,
    TaskfileInsecure = 105,
    TaskfileVersion = 107,
    TaskfileInvalid = 109,
    TaskNotFound = 200,
    TaskRun = 201,
    TaskInternal = 202,
    TaskNameConflict = 203,
    TaskCalledTooManyTimes = 204,
    TaskCancelled = 205,
    TaskMissingRequiredVars = 206,
    TaskNotAllowedVars = 207,
}

/// Why a run stopped: the exit code and what to tell the user.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub code: Code,
    pub message: String,
    /// The failing command's own status (for `-x/--exit-code`).
    pub status: Option<i32>,
    /// Printed on stdout before the message (go-task lists the tasks when
    /// the one asked for does not exist).
    pub stdout: Option<String>,
}

impl Failure {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            status: None,
            stdout: None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Whether these arguments should run in go-task mode: `-t/--taskfile` names
/// a go-task file, or no `hoist.yml` is found on the way up from the working
/// directory (or `-d/--dir`) while a go-task file is. The nearer file wins;
/// in one directory `hoist.yml` wins.
pub(crate) fn applies(args: &[OsString]) -> bool {
    let (dir, taskfile) = args::location(args);
    if let Some(taskfile) = taskfile {
        let path = dir
            .as_deref()
            .map_or(taskfile.clone(), |d| d.join(&taskfile));
        if path.to_string_lossy().contains("://") {
            return true;
        }
        if path.is_dir() {
            return crate::taskfile::FILE_NAMES
                .iter()
                .all(|n| !path.join(n).is_file())
                && model::file_in(&path).is_some();
        }
        if let Ok(text) = std::fs::read_to_string(&path) {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // Another name: a go-task file says `version: '3'` at its top.
            return model::FILE_NAMES.contains(&name)
                || text.lines().any(|l| {
                    l.strip_prefix("version:")
                        .is_some_and(|v| v.trim().trim_matches(['\'', '"']).starts_with('3'))
                });
        }
        // A file that does not exist: whichever mode this directory is in
        // says so.
    }
    let Ok(cwd) = std::env::current_dir() else {
        return false;
    };
    let start = dir.map_or(cwd.clone(), |d| cwd.join(d));
    for dir in start.ancestors() {
        if crate::taskfile::FILE_NAMES
            .iter()
            .any(|n| dir.join(n).is_file())
        {
            return false;
        }
        if model::file_in(dir).is_some() {
            return true;
        }
    }
    false
}

/// Runs go-task's command line. `args` includes the program name.
pub(crate) fn run(args: Vec<OsString>) -> ExitCode {
    let parsed = match args::Args::parse(&args[1..]) {
        Ok(mut parsed) => {
            parsed.exe = args[0].to_string_lossy().into_owned();
            parsed
        }
        Err(message) => {
            eprintln!("hoist: {message}\nhoist: run `hoist --help` for the go-task flags it takes");
            return ExitCode::from(Code::Usage as u8);
        }
    };
    let exit_code_flag = parsed.exit_code;
    match run::main(parsed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(out) = &failure.stdout {
                use std::io::Write;
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(out.as_bytes());
                let _ = stdout.flush();
            }
            if !failure.message.is_empty() {
                eprintln!("hoist: {}", failure.message);
            }
            let code = match (exit_code_flag, failure.status) {
                (true, Some(status)) => status.clamp(0, 255) as u8,
                _ => failure.code as u8,
            };
            ExitCode::from(code)
        }
    }
}

/// The Taskfile go-task would use from `start`: the nearest one upward.
pub(crate) fn discover(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(model::file_in)
}

/// `hoist --migrate [TASKFILE] [--to FILE] [--force]`: the hoist.yml on
/// stdout (or in FILE), what stays untranslated on stderr.
pub(crate) fn migrate_command(
    source: Option<&Path>,
    to: Option<&Path>,
    overwrite: bool,
) -> Result<(), Failure> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::new(Code::General, format!("current directory: {e}")))?;
    let path = match source {
        Some(p) if p.is_dir() => model::file_in(p),
        Some(p) => Some(p.to_path_buf()),
        None => discover(&cwd),
    }
    .ok_or_else(|| {
        Failure::new(
            Code::TaskfileNotFound,
            format!(
                "--migrate: no go-task Taskfile in {} or above",
                cwd.display()
            ),
        )
    })?;
    let file = model::load(&path)?;
    let migration = migrate::migrate(&file);
    deliver(&migration, &path, to, overwrite)
}

/// The Taskfile go-task would use in `dir` itself.
pub(crate) fn discover_in(dir: &Path) -> Option<PathBuf> {
    model::file_in(dir)
}

/// Writes a migration to `to` (never over a file without `overwrite`) or
/// stdout, and says on stderr what `source` had that was not translated.
pub(crate) fn deliver(
    migration: &migrate::Migration,
    path: &Path,
    to: Option<&Path>,
    overwrite: bool,
) -> Result<(), Failure> {
    if let Some(to) = to {
        if to.exists() && !overwrite {
            return Err(Failure::new(
                Code::General,
                format!(
                    "--migrate: {} exists; pass --force to overwrite it",
                    to.display()
                ),
            ));
        }
        std::fs::write(to, &migration.text).map_err(|e| {
            Failure::new(Code::General, format!("cannot write {}: {e}", to.display()))
        })?;
        eprintln!("hoist: wrote {} from {}", to.display(), path.display());
    } else {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(migration.text.as_bytes());
        let _ = out.flush();
    }
    if migration.kept.is_empty() {
        eprintln!("hoist: migrated everything in {}", path.display());
    } else {
        eprintln!(
            "hoist: {} thing(s) in {} were not translated (see the comments in the file):",
            migration.kept.len(),
            path.display()
        );
        for item in &migration.kept {
            eprintln!("hoist:   {item}");
        }
    }
    Ok(())
}
