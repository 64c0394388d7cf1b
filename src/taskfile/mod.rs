//! The task file: discovery, parsing into the typed model, and validation.

mod model;
mod step;
mod value;

pub(crate) use model::{Call, RunPolicy, Task};
pub(crate) use step::{
    BuildStep, BuilderChoice, FlowSpec, FlowStep, GitTagStep, LatestPolicy, SecretFrom, Step,
};
pub(crate) use value::{Text, VarMap, VarValue};

use crate::error::{closest, Error, Result};
use crate::source::Origin;
use indexmap::IndexMap;
use serde_saphyr::{Location, Spanned};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File names searched for, in order, in the directory and its parents.
pub(crate) const FILE_NAMES: &[&str] = &["hoist.yml", "hoist.yaml"];

/// How deeply a task file may nest mappings and lists (the deepest real ones
/// use about eight levels).
pub(crate) const MAX_DEPTH: usize = 64;

/// How many values (scalars, lists and mappings, aliases counted where they
/// are used) a task file may hold.
pub(crate) const MAX_NODES: usize = 50_000;

#[derive(Debug)]
pub(crate) struct Taskfile {
    pub path: Arc<PathBuf>,
    /// The directory holding the file: `ROOT_DIR`, and the base of relative `dir`s.
    pub dir: PathBuf,
    pub vars: VarMap,
    pub env: VarMap,
    pub dotenv: Vec<Text>,
    pub output: Option<Text>,
    pub silent: bool,
    pub versioning: crate::git::semver::Versioning,
    pub tasks: IndexMap<String, Spanned<Task>>,
    aliases: HashMap<String, String>,
}

impl Taskfile {
    /// Finds the task file in `start` or the nearest parent that has one.
    pub(crate) fn discover(start: &Path) -> Result<PathBuf> {
        for dir in start.ancestors() {
            for name in FILE_NAMES {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
        Err(Error::TaskfileNotFound {
            dir: start.to_path_buf(),
        })
    }

    pub(crate) fn load(path: &Path) -> Result<Taskfile> {
        let bytes = std::fs::read(path).map_err(|source| Error::TaskfileRead {
            path: path.to_path_buf(),
            source,
        })?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        match String::from_utf8(bytes) {
            Ok(text) => Taskfile::parse(path, &text),
            Err(e) => Err(not_utf8(Arc::new(path), e.as_bytes(), e.utf8_error())),
        }
    }

    pub(crate) fn parse(path: PathBuf, text: &str) -> Result<Taskfile> {
        let path = Arc::new(path);
        let mut options = serde_saphyr::Options::default();
        options.with_snippet = false;
        // saphyr's budget guards against deep nesting and alias bombs; flow
        // collections get the same depth limit as block ones, so both fail
        // with the same message (`yaml_error`). A quarter of its default node
        // and replay limits is still a hundred times the largest real task
        // file, and stops a bomb of merge keys within a second.
        let mut budget = options.budget.take().unwrap_or_default();
        budget.max_depth = MAX_DEPTH;
        budget.flow_nesting_limit = MAX_DEPTH;
        budget.max_nodes = MAX_NODES;
        options.budget = Some(budget);
        options.alias_limits.max_total_replayed_events = 2 * MAX_NODES;
        let model: model::FileModel = serde_saphyr::from_str_with_options(text, options)
            .map_err(|e| yaml_error(&path, text, e))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut file = Taskfile {
            path,
            dir,
            vars: model.vars,
            env: model.env,
            dotenv: model.dotenv,
            output: model.output,
            silent: model.silent,
            versioning: model.versioning,
            tasks: model.tasks,
            aliases: HashMap::new(),
        };
        file.index_aliases()?;
        Ok(file)
    }

    fn index_aliases(&mut self) -> Result<()> {
        for (name, task) in &self.tasks {
            for alias in &task.value.aliases {
                let taken = self
                    .tasks
                    .contains_key(alias)
                    .then_some(alias.as_str())
                    .or_else(|| self.aliases.get(alias).map(String::as_str));
                if let Some(other) = taken {
                    return Err(Error::Taskfile {
                        origin: self.origin(&task.referenced),
                        message: format!(
                            "alias `{alias}` of task `{name}` is already used by task `{other}`"
                        ),
                        help: Some("give each task and alias a distinct name".into()),
                    });
                }
                self.aliases.insert(alias.clone(), name.clone());
            }
        }
        Ok(())
    }

    /// Looks a task up by name or alias; returns its canonical name.
    pub(crate) fn find(&self, name: &str) -> Option<(&str, &Spanned<Task>)> {
        let canonical = self.aliases.get(name).map_or(name, String::as_str);
        self.tasks
            .get_full(canonical)
            .map(|(_, key, task)| (key.as_str(), task))
    }

    /// The error for a task name that is neither a task nor an alias.
    pub(crate) fn unknown_task(&self, name: &str) -> Error {
        let names = self
            .tasks
            .keys()
            .map(String::as_str)
            .chain(self.aliases.keys().map(String::as_str));
        Error::TaskNotFound {
            name: name.to_owned(),
            suggestions: closest(name, names),
        }
    }

    pub(crate) fn origin(&self, location: &Location) -> Origin {
        Origin::new(
            self.path.clone(),
            location.line() as u32,
            location.column() as u32,
        )
    }

    /// The origin of a spanned value, falling back to `fallback` for shorthand forms.
    pub(crate) fn origin_of<T>(&self, value: &Spanned<T>, fallback: &Location) -> Origin {
        let location = if value.referenced.line() > 0 {
            &value.referenced
        } else {
            fallback
        };
        self.origin(location)
    }
}

/// Where the first byte that is not UTF-8 sits (columns count characters, as
/// saphyr's do).
fn not_utf8(path: Arc<PathBuf>, bytes: &[u8], error: std::str::Utf8Error) -> Error {
    let valid = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default();
    let line = valid.matches('\n').count() + 1;
    let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
    let column = valid[line_start..].chars().count() + 1;
    let byte = bytes.get(error.valid_up_to()).copied().unwrap_or_default();
    Error::Taskfile {
        origin: Origin::new(path, line as u32, column as u32),
        message: format!("the file is not UTF-8: byte 0x{byte:02x} is not part of a character"),
        help: Some("hoist reads task files as UTF-8; save the file in that encoding".into()),
    }
}

/// Turns a YAML or shape error into ours, with position and a "did you mean" for unknown keys.
fn yaml_error(path: &Arc<PathBuf>, text: &str, error: serde_saphyr::Error) -> Error {
    let location = error.location();
    let mut message = match &error {
        serde_saphyr::Error::Message { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    // saphyr appends the position itself; we show it in our own format.
    if let Some(cut) = message.find(" at line ") {
        message.truncate(cut);
    }
    let mut help = unknown_field_hint(&message);
    if let Some((limit, limit_help)) = limit_message(&error, &message) {
        message = limit;
        help = Some(limit_help.into());
    }
    let (line, column) = location.map_or((0, 0), |l| (l.line() as u32, l.column() as u32));
    let _ = text;
    Error::Taskfile {
        origin: Origin::new(path.clone(), line, column),
        message,
        help,
    }
}

/// saphyr's limits, said in a task file's terms: it reports the depth limit as
/// a budget breach or as the parser's "recursion limit exceeded", and alias
/// bombs as node, event or replay limits.
fn limit_message(error: &serde_saphyr::Error, message: &str) -> Option<(String, &'static str)> {
    use serde_saphyr::budget::BudgetBreach;
    use serde_saphyr::Error as E;
    const NESTING: &str =
        "a task file needs only a few levels: flatten the nested lists and mappings";
    const ALIASES: &str =
        "aliases are expanded where they are used: use fewer of them, or aliases of smaller values";
    let nesting = || format!("the file nests lists and mappings more than {MAX_DEPTH} levels deep");
    let mut error = error;
    while let E::AliasError { error: inner, .. } | E::WithSnippet { error: inner, .. } = error {
        error = inner;
    }
    Some(match error {
        E::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => (nesting(), NESTING),
            BudgetBreach::Nodes { nodes } => (
                format!("the file expands to more than {} values (aliases count each time they are used)", nodes - 1),
                ALIASES,
            ),
            BudgetBreach::Events { events } => (
                format!("the file expands to more than {} YAML events (aliases count each time they are used)", events - 1),
                ALIASES,
            ),
            BudgetBreach::Aliases { aliases } => (
                format!("the file uses more than {} aliases", aliases - 1),
                ALIASES,
            ),
            BudgetBreach::AliasAnchorRatio { aliases, anchors } => (
                format!("the file uses {aliases} aliases of only {anchors} anchors, which looks like an alias bomb"),
                ALIASES,
            ),
            BudgetBreach::MergeKeys { merge_keys } => (
                format!("the file uses more than {} merge keys (`<<`), counted where aliases expand", merge_keys - 1),
                ALIASES,
            ),
            BudgetBreach::ScalarBytes { .. } => (
                "the file's strings add up to more than 64 MiB (aliases count each time they are used)".into(),
                "a task file holds commands and settings: read large data from files in the commands instead",
            ),
            other => (
                format!("the file exceeds a YAML parser limit ({other:?})"),
                "a task file this large or this intricate is not supported: simplify it",
            ),
        },
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => (
            format!("the file expands aliases too often: {message}"),
            ALIASES,
        ),
        _ if message.contains("recursion limit exceeded") => (nesting(), NESTING),
        _ => return None,
    })
}

/// serde says "unknown field `desk`, expected one of `desc`, ..."; we add the closest.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    // serde writes the list with or without backticks depending on the deserializer.
    let list = rest.split_once("expected one of").map_or("", |(_, l)| l);
    let expected: Vec<&str> = list
        .split(',')
        .map(|k| k.trim().trim_matches('`'))
        .filter(|k| !k.is_empty())
        .collect();
    let best = closest(field, expected.iter().copied());
    match best.first() {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None => Some(format!(
            "allowed keys here: {}",
            expected
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests;
