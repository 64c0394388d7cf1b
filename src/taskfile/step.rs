//! Steps of a task's `cmds`. New step kinds are new variants here plus a
//! field in `StepMap`; the runner matches on the enum.

use super::value::{unspanned, Text, VarMap};
use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;

#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// A shell command, run with `sh -e -c`.
    Cmd {
        cmd: Text,
        silent: bool,
        ignore_error: bool,
    },
    /// A call of another task, with its own vars.
    Task {
        task: Text,
        vars: VarMap,
        silent: bool,
    },
    /// Runs when the task ends, whether it failed or not, in reverse order.
    Defer(Box<Step>),
    Build(Box<BuildStep>),
    Push(Box<PushStep>),
    Tag(Box<TagStep>),
    GitTag(Box<GitTagStep>),
    /// `release:` or `hotfix:` (`hotfix` true), `start` or `finish`.
    Flow(Box<FlowStep>),
}

impl Step {
    pub(crate) fn shorthand(cmd: &str) -> Spanned<Step> {
        let step = Step::Cmd {
            cmd: unspanned(cmd),
            silent: false,
            ignore_error: false,
        };
        Spanned::new(
            step,
            serde_saphyr::Location::UNKNOWN,
            serde_saphyr::Location::UNKNOWN,
        )
    }

    /// `silent` and `ignore_error` of an image step (written next to
    /// `build:`, `push:` or `tag:`); `None` for the other kinds.
    pub(crate) fn image_flags(&self) -> Option<StepFlags> {
        match self {
            Step::Build(b) => Some(b.flags),
            Step::Push(p) => Some(p.flags),
            Step::Tag(t) => Some(t.flags),
            _ => None,
        }
    }

    /// Applies the `silent` / `ignore_error` written next to `defer:` (or an
    /// image step's kind key) to the step itself.
    fn with_flags(self, flags: StepFlags) -> Result<Step, String> {
        Ok(match self {
            Step::Cmd {
                cmd,
                silent,
                ignore_error,
            } => Step::Cmd {
                cmd,
                silent: silent || flags.silent,
                ignore_error: ignore_error || flags.ignore_error,
            },
            Step::Task { task, vars, silent } => {
                if flags.ignore_error {
                    return Err(no_ignore_error_on_call(&task.value));
                }
                Step::Task {
                    task,
                    vars,
                    silent: silent || flags.silent,
                }
            }
            Step::Defer(inner) => Step::Defer(Box::new(inner.with_flags(flags)?)),
            Step::Build(mut b) => {
                b.flags = b.flags.or(flags);
                Step::Build(b)
            }
            Step::Push(mut p) => {
                p.flags = p.flags.or(flags);
                Step::Push(p)
            }
            Step::Tag(mut t) => {
                t.flags = t.flags.or(flags);
                Step::Tag(t)
            }
            Step::Flow(mut f) => {
                if flags.ignore_error {
                    return Err("`ignore_error` cannot go with a release or hotfix step".to_owned());
                }
                f.silent |= flags.silent;
                Step::Flow(f)
            }
            Step::GitTag(mut t) => {
                if flags.ignore_error {
                    return Err(format!(
                        "`ignore_error` cannot go with `git-tag` ({}): a refused tag must stop the release",
                        t.name.value
                    ));
                }
                t.silent |= flags.silent;
                Step::GitTag(t)
            }
        })
    }
}

/// The step-level `silent` and `ignore_error` of an image step.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepFlags {
    /// No status lines, build log or progress: only an error, if it fails.
    pub silent: bool,
    /// A failure is a warning and the task goes on.
    pub ignore_error: bool,
}

impl StepFlags {
    fn or(self, other: StepFlags) -> StepFlags {
        StepFlags {
            silent: self.silent || other.silent,
            ignore_error: self.ignore_error || other.ignore_error,
        }
    }
}

/// A called task's failure stops the run (its error is already recorded), so
/// `ignore_error` on a call is refused rather than accepted and not honoured.
fn no_ignore_error_on_call(task: &str) -> String {
    format!(
        "`ignore_error` does not go with `task` (a called task's failure cannot be ignored): \
         set `ignore_error: true` in task `{task}` itself"
    )
}

/// When a `latest` tag in `tags` is kept.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LatestPolicy {
    /// Always, as the Taskfiles hoist replaces do.
    #[default]
    Always,
    /// Only for a release tag at HEAD or on the default branch (docker/metadata-action's rule).
    Auto,
    /// Never: `latest` is dropped from the tags.
    Never,
}

/// Which builder runs a `build` step.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BuilderChoice {
    /// BuildKit where the engine offers it, else the classic builder.
    #[default]
    Auto,
    Buildkit,
    Classic,
}

/// Where a build secret's value comes from: `{env: NAME}` or `{file: PATH}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SecretFrom {
    Env(Text),
    File(Text),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildStep {
    #[serde(default)]
    pub context: Option<Text>,
    #[serde(default)]
    pub dockerfile: Option<Text>,
    #[serde(default)]
    pub target: Option<Text>,
    #[serde(default)]
    pub args: IndexMap<String, Text>,
    #[serde(default)]
    pub labels: IndexMap<String, Text>,
    pub image: Text,
    #[serde(default)]
    pub tags: Vec<Text>,
    #[serde(default)]
    pub latest: LatestPolicy,
    #[serde(default)]
    pub no_cache: bool,
    #[serde(default)]
    pub pull: bool,
    #[serde(default)]
    pub network: Option<Text>,
    #[serde(default)]
    pub platform: Option<Text>,
    #[serde(default)]
    pub builder: BuilderChoice,
    /// `RUN --mount=type=secret,id=ID` sources, by id.
    #[serde(default)]
    pub secrets: IndexMap<String, SecretFrom>,
    /// Written next to `build:`, not inside it.
    #[serde(skip)]
    pub flags: StepFlags,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PushStep {
    pub image: Text,
    #[serde(default)]
    pub to: Option<Text>,
    #[serde(default)]
    pub tags: Vec<Text>,
    #[serde(default)]
    pub latest: LatestPolicy,
    /// Written next to `push:`, not inside it.
    #[serde(skip)]
    pub flags: StepFlags,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TagStep {
    pub image: Text,
    #[serde(rename = "as")]
    pub target: Text,
    /// Written next to `tag:`, not inside it.
    #[serde(skip)]
    pub flags: StepFlags,
}

/// `{git-tag: {name, message, push}}`: an annotated tag at HEAD, pushed to
/// the remote `push` names when it is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GitTagStep {
    pub name: Text,
    #[serde(default)]
    pub message: Option<Text>,
    #[serde(default)]
    pub push: Option<Text>,
    /// Written next to `git-tag:`, not inside it.
    #[serde(skip)]
    pub silent: bool,
}

/// `release: start`, `release: {start: minor}`, `release: finish`,
/// `release: {finish: true, push: origin, message: ...}` (and `hotfix:`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum FlowSpec {
    Word(Text),
    Map(FlowMap),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlowMap {
    #[serde(default)]
    pub start: Option<Text>,
    #[serde(default)]
    pub finish: bool,
    #[serde(default)]
    pub push: Option<Text>,
    #[serde(default)]
    pub message: Option<Text>,
}

#[derive(Debug, Clone)]
pub(crate) struct FlowStep {
    pub hotfix: bool,
    pub spec: FlowSpec,
    pub silent: bool,
}

/// Every key a step mapping may have; exactly one of the kind keys must be set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepMap {
    #[serde(default)]
    cmd: Option<Text>,
    #[serde(default)]
    task: Option<Text>,
    #[serde(default)]
    defer: Option<Box<Step>>,
    #[serde(default)]
    build: Option<Box<BuildStep>>,
    #[serde(default)]
    push: Option<Box<PushStep>>,
    #[serde(default)]
    tag: Option<Box<TagStep>>,
    #[serde(default, rename = "git-tag")]
    git_tag: Option<Box<GitTagStep>>,
    #[serde(default)]
    release: Option<FlowSpec>,
    #[serde(default)]
    hotfix: Option<FlowSpec>,
    #[serde(default)]
    vars: Option<VarMap>,
    #[serde(default)]
    silent: bool,
    #[serde(default)]
    ignore_error: bool,
}

const KIND_KEYS: &str =
    "`cmd`, `task`, `defer`, `build`, `push`, `tag`, `git-tag`, `release` or `hotfix`";

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StepVisitor;
        impl<'de> Visitor<'de> for StepVisitor {
            type Value = Step;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a command string or a mapping with one of {KIND_KEYS}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Step, E> {
                Ok(Step::Cmd {
                    cmd: unspanned(v),
                    silent: false,
                    ignore_error: false,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Step, A::Error> {
                let m = StepMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let kinds = [
                    m.cmd.is_some(),
                    m.task.is_some(),
                    m.defer.is_some(),
                    m.build.is_some(),
                    m.push.is_some(),
                    m.tag.is_some(),
                    m.git_tag.is_some(),
                    m.release.is_some(),
                    m.hotfix.is_some(),
                ];
                match kinds.iter().filter(|k| **k).count() {
                    0 => {
                        return Err(de::Error::custom(format!(
                            "a step needs one of {KIND_KEYS}"
                        )))
                    }
                    1 => {}
                    _ => {
                        return Err(de::Error::custom(format!(
                            "a step takes only one of {KIND_KEYS}"
                        )))
                    }
                }
                if m.vars.is_some() && m.task.is_none() {
                    return Err(de::Error::custom("`vars` in a step only goes with `task`"));
                }
                let flags = StepFlags {
                    silent: m.silent,
                    ignore_error: m.ignore_error,
                };
                let step = if let Some(cmd) = m.cmd {
                    Step::Cmd {
                        cmd,
                        silent: false,
                        ignore_error: false,
                    }
                } else if let Some(task) = m.task {
                    Step::Task {
                        task,
                        vars: m.vars.unwrap_or_default(),
                        silent: false,
                    }
                } else if let Some(inner) = m.defer {
                    // go-task's `{defer: ..., silent: true}`: the flags are the deferred step's.
                    Step::Defer(inner)
                } else if let Some(b) = m.build {
                    Step::Build(b)
                } else if let Some(p) = m.push {
                    Step::Push(p)
                } else if let Some(t) = m.git_tag {
                    Step::GitTag(t)
                } else if let Some(spec) = m.release {
                    Step::Flow(Box::new(FlowStep {
                        hotfix: false,
                        spec,
                        silent: false,
                    }))
                } else if let Some(spec) = m.hotfix {
                    Step::Flow(Box::new(FlowStep {
                        hotfix: true,
                        spec,
                        silent: false,
                    }))
                } else {
                    Step::Tag(m.tag.expect("one kind is set"))
                };
                step.with_flags(flags).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(StepVisitor)
    }
}
