//! The typed task file model. Every templated string keeps its position so
//! that template errors point at the file, line and column they came from.

use super::step::Step;
use super::value::{unspanned, Text, VarMap};
use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileModel {
    /// Accepted for go-task compatibility; hoist files need no version.
    #[serde(default, rename = "version")]
    pub _version: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub vars: VarMap,
    #[serde(default)]
    pub env: VarMap,
    #[serde(default)]
    pub dotenv: Vec<Text>,
    /// Default output mode for this file: interleaved, prefixed or group.
    #[serde(default)]
    pub output: Option<Text>,
    #[serde(default)]
    pub silent: bool,
    /// git-flow's branch names and tag prefix, for SEMVER and release steps.
    #[serde(default)]
    pub versioning: crate::git::semver::Versioning,
    #[serde(default)]
    pub tasks: IndexMap<String, Spanned<Task>>,
}

#[derive(Debug, Default)]
pub(crate) struct Task {
    pub desc: Option<Text>,
    pub summary: Option<Text>,
    pub deps: Vec<Spanned<Call>>,
    pub cmds: Vec<Spanned<Step>>,
    pub vars: VarMap,
    pub env: VarMap,
    pub dir: Option<Text>,
    pub sources: Vec<Text>,
    pub generates: Vec<Text>,
    pub status: Vec<Text>,
    pub preconditions: Vec<Spanned<Precondition>>,
    pub silent: bool,
    pub internal: bool,
    pub aliases: Vec<String>,
    pub ignore_error: bool,
    pub requires: Vec<String>,
    pub label: Option<Text>,
    pub prefix: Option<Text>,
    pub run: RunPolicy,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RunPolicy {
    /// Every call runs (deps are still deduplicated within one invocation).
    #[default]
    Always,
    /// At most once per invocation, whatever the vars.
    Once,
    /// Once per distinct set of vars.
    WhenChanged,
}

/// The map form of a task, read with unknown keys rejected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskMap {
    #[serde(default)]
    desc: Option<Text>,
    #[serde(default)]
    summary: Option<Text>,
    #[serde(default)]
    deps: Vec<Spanned<Call>>,
    #[serde(default)]
    cmds: Vec<Spanned<Step>>,
    /// go-task's single-command shorthand.
    #[serde(default)]
    cmd: Option<Spanned<Step>>,
    #[serde(default)]
    vars: VarMap,
    #[serde(default)]
    env: VarMap,
    #[serde(default)]
    dir: Option<Text>,
    #[serde(default)]
    sources: Vec<Text>,
    #[serde(default)]
    generates: Vec<Text>,
    #[serde(default)]
    status: Vec<Text>,
    #[serde(default)]
    preconditions: Vec<Spanned<Precondition>>,
    #[serde(default)]
    silent: bool,
    #[serde(default)]
    internal: bool,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    ignore_error: bool,
    #[serde(default)]
    requires: Option<Requires>,
    #[serde(default)]
    label: Option<Text>,
    #[serde(default)]
    prefix: Option<Text>,
    #[serde(default)]
    run: RunPolicy,
    /// go-task's `method`: only `checksum` (the default) and `none` are meaningful here.
    #[serde(default)]
    method: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requires {
    #[serde(default)]
    vars: Vec<String>,
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TaskVisitor;
        impl<'de> Visitor<'de> for TaskVisitor {
            type Value = Task;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a task: a mapping, a command string or a list of commands")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Task, E> {
                Ok(Task {
                    cmds: vec![Step::shorthand(v)],
                    ..Task::default()
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Task, A::Error> {
                let mut cmds = Vec::new();
                while let Some(step) = seq.next_element()? {
                    cmds.push(step);
                }
                Ok(Task {
                    cmds,
                    ..Task::default()
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Task, E> {
                Ok(Task::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Task, A::Error> {
                let m = TaskMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if m.method
                    .as_deref()
                    .is_some_and(|v| !matches!(v, "checksum" | "none"))
                {
                    return Err(de::Error::custom(
                        "`method` must be `checksum` or `none` (hoist compares content, not timestamps)",
                    ));
                }
                let mut cmds = m.cmds;
                if let Some(cmd) = m.cmd {
                    cmds.insert(0, cmd);
                }
                let sources = if m.method.as_deref() == Some("none") {
                    Vec::new()
                } else {
                    m.sources
                };
                Ok(Task {
                    desc: m.desc,
                    summary: m.summary,
                    deps: m.deps,
                    cmds,
                    vars: m.vars,
                    env: m.env,
                    dir: m.dir,
                    sources,
                    generates: m.generates,
                    status: m.status,
                    preconditions: m.preconditions,
                    silent: m.silent,
                    internal: m.internal,
                    aliases: m.aliases,
                    ignore_error: m.ignore_error,
                    requires: m.requires.map(|r| r.vars).unwrap_or_default(),
                    label: m.label,
                    prefix: m.prefix,
                    run: m.run,
                })
            }
        }
        deserializer.deserialize_any(TaskVisitor)
    }
}

/// A call of another task: a dependency, or the `task:` step.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub task: Text,
    pub vars: VarMap,
    pub silent: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallMap {
    task: Text,
    #[serde(default)]
    vars: VarMap,
    #[serde(default)]
    silent: bool,
}

impl<'de> Deserialize<'de> for Call {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CallVisitor;
        impl<'de> Visitor<'de> for CallVisitor {
            type Value = Call;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a task name or {task: NAME, vars: {...}}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Call, E> {
                Ok(Call {
                    task: unspanned(v),
                    vars: VarMap::new(),
                    silent: false,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Call, A::Error> {
                let m = CallMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Call {
                    task: m.task,
                    vars: m.vars,
                    silent: m.silent,
                })
            }
        }
        deserializer.deserialize_any(CallVisitor)
    }
}

/// A command that must succeed before the task runs, and what to say if not.
#[derive(Debug, Clone)]
pub(crate) struct Precondition {
    pub sh: Text,
    pub msg: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreconditionMap {
    sh: Text,
    #[serde(default)]
    msg: Option<Text>,
}

impl<'de> Deserialize<'de> for Precondition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PreVisitor;
        impl<'de> Visitor<'de> for PreVisitor {
            type Value = Precondition;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a command string or {sh: COMMAND, msg: MESSAGE}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Precondition, E> {
                Ok(Precondition {
                    sh: unspanned(v),
                    msg: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Precondition, A::Error> {
                let m = PreconditionMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Precondition {
                    sh: m.sh,
                    msg: m.msg,
                })
            }
        }
        deserializer.deserialize_any(PreVisitor)
    }
}
