//! Names hoist computes itself: git facts, the build time, Go's OS and ARCH.
//!
//! Values that come from git or the environment are untrusted (plain strings,
//! quoted in shell commands when they need it, see `template::trust`); `TASK`
//! and `CLI_ARGS` are the user's own words and keep their word splitting.

use super::{Effects, Session};
use crate::error::{Error, Result};
use crate::template::trust;
use minijinja::Value;

/// Names computed by hoist itself; the git ones first, then `BUILD_TIME`
/// (the order `FROM_GIT` and `ENV_OVERRIDABLE` below rely on).
pub(crate) const BUILTINS: &[&str] = &[
    "VERSION",
    "GIT_BRANCH",
    "GIT_COMMIT",
    "GIT_SHORT_COMMIT",
    "GIT_TAG",
    "GIT_DIRTY",
    "COMMIT_TIME",
    "SEMVER",
    "NEXT_MAJOR",
    "NEXT_MINOR",
    "NEXT_PATCH",
    "BUILD_TIME",
    "OS",
    "ARCH",
    "ROOT_DIR",
    "TASKFILE_DIR",
    "USER_WORKING_DIR",
    "TASK",
    "CLI_ARGS",
];

/// Built-ins read from the repository (computing one blocks): the first eleven.
pub(super) const FROM_GIT: &[&str] = BUILTINS.split_at(11).0;

/// Built-ins that an environment variable of the same name overrides: the
/// git ones and `BUILD_TIME`.
pub(super) const ENV_OVERRIDABLE: &[&str] = BUILTINS.split_at(12).0;

impl Session {
    /// A built-in's value, computed once per invocation; `None` when `name`
    /// is no built-in.
    pub(super) fn builtin(
        &self,
        name: &str,
        task: Option<&str>,
        effects: Effects,
    ) -> Result<Option<Value>> {
        let Some(name) = BUILTINS.iter().copied().find(|b| *b == name) else {
            return Ok(None);
        };
        match name {
            "TASK" => return Ok(Some(trust::trusted(Value::from(task.unwrap_or(""))))),
            "CLI_ARGS" => return Ok(Some(trust::trusted(Value::from(self.cli_args.as_str())))),
            _ => {}
        }
        if ENV_OVERRIDABLE.contains(&name) {
            if let Some(value) = self.environ.get(name) {
                return Ok(Some(Value::from(value.as_str())));
            }
        }
        // Held while computing, so that parallel tasks compute each once (and
        // warn once); never waited for on the runtime's thread.
        let mut cache = if effects.may_read_git() {
            self.builtins
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        } else {
            match self.builtins.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Err(Error::Postponed),
            }
        };
        if let Some(value) = cache.get(name) {
            return Ok(Some(value.clone()));
        }
        if FROM_GIT.contains(&name) && !effects.may_read_git() {
            return Err(Error::Postponed);
        }
        let value = self.compute_builtin(name);
        cache.insert(name, value.clone());
        Ok(Some(value))
    }

    fn compute_builtin(&self, name: &str) -> Value {
        let text = |s: Option<String>| Value::from(s.unwrap_or_default());
        match name {
            "VERSION" => text(self.with_git(|g| g.describe().ok()).flatten().map(|(version, shallow)| {
                if shallow {
                    self.printer.warn(&format!(
                        "VERSION fell back to the commit `{version}`: this shallow clone has no tags \
                         (fetch them with `git fetch --tags --unshallow`, or set VERSION)"
                    ));
                }
                version
            })),
            "GIT_BRANCH" => text(self.with_git(|g| g.branch().ok().flatten()).flatten().or_else(|| {
                // Detached HEAD (CI checkouts): ask the CI which branch it builds.
                self.with_git(|_| ())?;
                crate::git::ci_branch(&|n| self.environ.get(n).cloned())
            })),
            "GIT_COMMIT" => text(self.with_git(|g| g.commit().ok()).flatten()),
            "GIT_SHORT_COMMIT" => text(self.with_git(|g| g.short_commit().ok()).flatten()),
            "GIT_TAG" => text(self.with_git(|g| g.exact_tag().ok().flatten()).flatten()),
            "GIT_DIRTY" => Value::from(self.with_git(|g| g.dirty().unwrap_or(false)).unwrap_or(false)),
            "BUILD_TIME" => Value::from(build_time(self.environ.get("SOURCE_DATE_EPOCH").map(String::as_str))),
            // Reproducible images: the same commit gives the same `created`.
            "COMMIT_TIME" => {
                let epoch = self.environ.get("SOURCE_DATE_EPOCH").cloned().or_else(|| {
                    self.with_git(|g| g.commit_time().ok()).flatten().map(|t| t.to_string())
                });
                Value::from(build_time(epoch.as_deref()))
            }
            "SEMVER" | "NEXT_MAJOR" | "NEXT_MINOR" | "NEXT_PATCH" => {
                let Some(facts) = self.with_git(|g| g.semver_facts(&self.taskfile.versioning.tag_prefix).ok()).flatten() else {
                    return Value::from("");
                };
                let version = match name {
                    "NEXT_MAJOR" => facts.base.next_major(),
                    "NEXT_MINOR" => facts.base.next_minor(),
                    "NEXT_PATCH" => facts.base.next_patch(),
                    _ => {
                        // The branch as GIT_BRANCH has it (the CI's on a detached HEAD).
                        let branch = self.compute_builtin("GIT_BRANCH");
                        let branch = branch.as_str().filter(|b| !b.is_empty());
                        crate::git::semver::semver(&facts, branch, &self.taskfile.versioning)
                    }
                };
                Value::from(version.to_string())
            }
            "OS" => Value::from(go_os()),
            "ARCH" => Value::from(go_arch()),
            "ROOT_DIR" | "TASKFILE_DIR" => Value::from(self.taskfile.dir.display().to_string()),
            "USER_WORKING_DIR" => {
                Value::from(std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default())
            }
            _ => Value::from(()),
        }
    }
}

/// `BUILD_TIME`: UTC RFC 3339, from `SOURCE_DATE_EPOCH` when set (reproducible builds).
pub(crate) fn build_time(source_date_epoch: Option<&str>) -> String {
    let now = source_date_epoch
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Go's names (GOOS), since the pipelines we serve pass these to `go build`.
fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        other => other,
    }
}
