//! The task file: discovery, parsing into the typed model, and validation.

mod model;
mod step;
mod value;

pub(crate) use model::{Call, RunPolicy, Task};
pub(crate) use step::{BuildStep, LatestPolicy, Step};
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
        let text = std::fs::read_to_string(path).map_err(|source| Error::TaskfileRead {
            path: path.to_path_buf(),
            source,
        })?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Taskfile::parse(path, &text)
    }

    pub(crate) fn parse(path: PathBuf, text: &str) -> Result<Taskfile> {
        let path = Arc::new(path);
        let mut options = serde_saphyr::Options::default();
        options.with_snippet = false;
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
    let help = unknown_field_hint(&message);
    let (line, column) = location.map_or((0, 0), |l| (l.line() as u32, l.column() as u32));
    let _ = text;
    Error::Taskfile {
        origin: Origin::new(path.clone(), line, column),
        message,
        help,
    }
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
