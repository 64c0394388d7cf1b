//! What the fuzz targets check. Each function takes arbitrary input and
//! panics only on a bug in hoist: a panic inside hoist itself, an error a
//! user could not act on (no file/line/column, wrong exit code), or a broken
//! invariant. The proptest suites in `tests.rs` feed them generated input,
//! and every file under `fuzz/corpus/<target>/` is replayed through them.
//!
//! Hangs and stack overflows are caught by the suites' runner (each case runs
//! in a forked child with a timeout), not here.

use crate::docker::ignore::DockerIgnore;
use crate::docker::reference::{sanitize_tag, tag_problem};
use crate::error::{exit, Error, Report};
use crate::source::Origin;
use crate::taskfile::{Taskfile, VarMap, VarValue};
use crate::template::Engine;
use crate::ui::Printer;
use crate::vars::Session;
use indexmap::IndexMap;
use minijinja::Value;
use std::path::Path;
use std::sync::Arc;

/// The task-file loader on raw bytes, written to `path` and read back the way
/// `hoist` reads it. Errors must be task file errors (exit 102) that render,
/// and, except for I/O failures, say where in the file the problem is.
pub(crate) fn taskfile(path: &Path, bytes: &[u8]) -> Option<Taskfile> {
    std::fs::write(path, bytes).expect("the fuzz harness can write its input");
    match on_main_thread_stack(|| Taskfile::load(path)) {
        Ok(file) => {
            for (name, task) in &file.tasks {
                let (found, _) = file.find(name).expect("every task is found by its name");
                assert_eq!(found, name);
                assert!(task.referenced.line() > 0, "task `{name}` has no position");
                for alias in &task.value.aliases {
                    let (target, _) = file.find(alias).expect("every alias is found");
                    assert_eq!(target, name, "alias `{alias}`");
                }
            }
            Some(file)
        }
        Err(error) => {
            let report = Report(&error).to_string();
            assert_eq!(
                error.exit_code(),
                exit::TASKFILE_INVALID,
                "a loader error must exit 102: {report}"
            );
            assert!(report.starts_with("error: "), "{report}");
            if let Error::Taskfile { origin, .. } = &error {
                assert!(origin.is_known(), "no line/column in: {report}");
                assert!(
                    report.contains(&format!(":{}:{}", origin.line, origin.column)),
                    "{report}"
                );
            }
            assert!(
                !matches!(error, Error::TaskfileRead { ref source, .. } if source.kind() == std::io::ErrorKind::InvalidData),
                "invalid UTF-8 must be reported with its position: {report}"
            );
            None
        }
    }
}

/// The values templates see in the plain-engine target: the built-ins' shapes
/// (strings, a bool), plus a list, a map and an empty value.
pub(crate) fn builtin_context() -> Value {
    minijinja::context! {
        VERSION => "v1.4.0-3-gdeadbee",
        GIT_BRANCH => "feature/Containerise API",
        GIT_COMMIT => "3f2a9c1d6e8b7a5c4d3e2f1a0b9c8d7e6f5a4b3c",
        GIT_SHORT_COMMIT => "3f2a9c1",
        GIT_TAG => "",
        GIT_DIRTY => true,
        BUILD_TIME => "2024-01-01T00:00:00Z",
        OS => "linux",
        ARCH => "amd64",
        ROOT_DIR => "/src/app",
        TASK => "build",
        CLI_ARGS => "-v --race",
        LIST => vec!["a", "b c", ""],
        MAP => minijinja::context! { k => "v", n => 3 },
        NONE => (),
        env => minijinja::context! { HOME => "/root", EMPTY => "" },
    }
}

/// Template rendering with the built-ins: any source renders or fails with a
/// message; a failure's range starts inside the source (or at its end, for
/// an unclosed tag: minijinja then ends the range one past it), on a
/// character boundary, which is what `vars::refine_origin` relies on.
pub(crate) fn template(engine: &Engine, source: &str) -> Option<String> {
    match engine
        .render(source, builtin_context(), crate::template::Target::Plain)
        .map(|r| r.text)
    {
        Ok(out) => Some(out),
        Err(error) => {
            assert!(!error.message.is_empty(), "empty message for {source:?}");
            if let Some(range) = &error.range {
                assert!(
                    range.start <= range.end && source.is_char_boundary(range.start),
                    "range {range:?} in a source of {} bytes",
                    source.len()
                );
            }
            if let Some(name) = &error.undefined {
                assert!(error.message.contains(name.as_str()), "{}", error.message);
            }
            None
        }
    }
}

/// Runs `f` with the stack hoist loads its task file on: the main thread's,
/// 8 MiB by default on Linux (`ulimit -s`). A test thread has 2 MiB, and a
/// debug build's deserializer needs more than that for a step nested in 38
/// `defer`s, which the loader allows (up to 64 levels).
fn on_main_thread_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn_scoped(scope, f)
            .expect("the fuzz harness can start a thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The engine renders `source` as its full environment alone would: the
/// same text, taint and error, for plain text and for a shell command.
pub(crate) fn environments_agree(engine: &Engine, source: &str) {
    use crate::template::Target;
    let outcome = |r: Result<crate::template::Rendered, crate::template::TemplateError>| {
        r.map(|r| (r.text, r.tainted))
            .map_err(|e| (e.message, e.range, e.undefined))
    };
    for target in [Target::Plain, Target::Shell] {
        let got = outcome(engine.render(source, builtin_context(), target));
        let full = outcome(engine.render_in_full(source, builtin_context(), target));
        assert_eq!(got, full, "{target:?} {source:?}");
    }
}

/// True when evaluating `value` could start a command (`sh:`): the scope
/// target must never run what the generator made up.
pub(crate) fn runs_commands(vars: &VarMap) -> bool {
    fn sh(value: &VarValue) -> bool {
        match value {
            VarValue::Sh(_) => true,
            VarValue::List(items) => items.iter().any(sh),
            VarValue::Map(map) => map.values().any(sh),
            _ => false,
        }
    }
    vars.values().any(|v| sh(&v.value))
}

/// The variable scopes of `vars.rs` over a task file's vars (written to
/// `path`): every variable of every scope evaluates or fails with a template
/// error (exit 103) that has a position, and so does `template` rendered in
/// each scope. Files whose vars would run commands are skipped.
pub(crate) fn scopes(path: &Path, yaml: &str, cli: &[(String, String)], template: &str) {
    std::fs::write(path, yaml).expect("the fuzz harness can write its input");
    let Ok(file) = Taskfile::load(path) else {
        return;
    };
    if runs_commands(&file.vars)
        || file.tasks.values().any(|t| runs_commands(&t.value.vars))
        || !file.dotenv.is_empty()
    {
        return;
    }
    let file = Arc::new(file);
    let cli: IndexMap<String, String> = cli.iter().cloned().collect();
    let ctx = Session::new(file.clone(), Arc::new(Printer::plain()), cli, "--".into())
        .expect("no dotenv files, so the context builds");
    let origin = Origin::new(file.path.clone(), 1, 1);
    let mut scopes = vec![ctx.global()];
    for name in file.tasks.keys() {
        scopes.push(ctx.task_scope(name, IndexMap::new(), file.dir.clone()));
    }
    for scope in scopes {
        let checked = |result: crate::error::Result<()>| {
            if let Err(error) = result {
                let report = Report(&error).to_string();
                assert_eq!(error.exit_code(), exit::TEMPLATE, "{report}");
                assert!(error.origin().is_some(), "no position in: {report}");
            }
        };
        checked(scope.resolve_all().map(drop));
        checked(
            scope
                .render_at(template, &origin, "the fuzz template")
                .map(drop),
        );
        for name in scope.known_names() {
            checked(scope.lookup(&name, crate::vars::Effects::All).map(drop));
        }
    }
}

/// `.dockerignore` parsing and matching: a bad pattern names its line;
/// matching any path terminates; `always_send` always wins; a path is
/// excluded when its parent directory is and no exception exists.
pub(crate) fn dockerignore(text: &str, paths: &[&str]) {
    let ignore = match DockerIgnore::parse(text) {
        Ok(ignore) => ignore,
        Err(error) => {
            let lines = text.split('\n').count();
            assert!(
                (1..=lines).contains(&error.line()),
                "line {} of {lines}",
                error.line()
            );
            assert!(error.to_string().contains(&error.message()));
            return;
        }
    };
    for path in paths {
        let excluded = ignore.excludes(path);
        ignore.must_walk_excluded_dir(path);
        let clean = crate::docker::ignore::clean_path(path) == *path;
        if clean && !ignore.has_exceptions() && !excluded {
            if let Some((parent, _)) = path.rsplit_once('/') {
                assert!(
                    parent.is_empty() || !ignore.excludes(parent),
                    "`{parent}` is excluded but `{path}` under it is not"
                );
            }
        }
    }
    for path in paths {
        let mut sent = ignore.clone();
        sent.always_send(path);
        assert!(
            !sent.excludes(path),
            "always_send(`{path}`) still excludes it"
        );
    }
}

/// The `tag` rules: any string becomes a valid tag or nothing, the result is
/// stable under a second pass, and the template filter agrees.
pub(crate) fn tag(engine: &Engine, value: &str) {
    let tag = sanitize_tag(value);
    if !tag.is_empty() {
        assert_eq!(tag_problem(&tag), None, "sanitize_tag({value:?}) = {tag:?}");
    }
    assert!(tag.len() <= 128);
    assert!(tag
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b)));
    assert_eq!(sanitize_tag(&tag), tag, "not idempotent on {value:?}");
    let rendered = engine
        .render(
            "{{ V | tag }}",
            minijinja::context! { V => value },
            crate::template::Target::Plain,
        )
        .map(|r| r.text)
        .expect("the tag filter takes any string");
    assert_eq!(rendered, tag);
}

/// CPU time this thread has used, for "does not hang" bounds that a loaded
/// machine cannot fail (wall-clock time grows with the load, CPU time does
/// not). Linux's scheduler statistics; wall-clock time where they are missing.
#[cfg(test)]
pub(crate) struct CpuClock(Option<u64>, std::time::Instant);

#[cfg(test)]
impl CpuClock {
    fn now_ns() -> Option<u64> {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        stat.split_whitespace().next()?.parse().ok()
    }

    pub(crate) fn start() -> CpuClock {
        CpuClock(CpuClock::now_ns(), std::time::Instant::now())
    }

    pub(crate) fn elapsed(&self) -> std::time::Duration {
        match (self.0, CpuClock::now_ns()) {
            (Some(start), Some(now)) => std::time::Duration::from_nanos(now.saturating_sub(start)),
            _ => self.1.elapsed(),
        }
    }
}

#[cfg(test)]
mod generate;
#[cfg(test)]
mod tests;
