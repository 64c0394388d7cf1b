//! Image steps through the Docker Engine API (bollard): build, tag, push.
//!
//! The runner renders a task's image steps into the plain specs below (every
//! template already expanded) and hands them here; this module never sees a
//! template or a task file.

pub mod context;
pub mod ignore;
pub mod reference;

use std::path::PathBuf;

/// A rendered value together with the template it came from, so that an
/// invalid tag or repository can be reported against the user's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub value: String,
    /// The template text as written in the task file.
    pub template: String,
    /// `hoist.yml:12:9`, where the template stands.
    pub origin: String,
}

/// Labels derived from git, set on every build (user labels win).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageMetadata {
    pub version: String,
    pub revision: String,
    pub created: String,
    pub source: Option<String>,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildSpec {
    pub task: String,
    pub context: PathBuf,
    /// Relative to the context directory unless absolute.
    pub dockerfile: String,
    pub target: Option<String>,
    pub args: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub metadata: ImageMetadata,
    /// The local repository name, e.g. `hbaas-server`.
    pub image: Rendered,
    /// Raw rendered tags; the `latest` policy has already been applied by the caller.
    pub tags: Vec<Rendered>,
    pub no_cache: bool,
    pub pull: bool,
    pub network: Option<String>,
    pub platform: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushSpec {
    pub task: String,
    /// The local repository (or `repo:tag`) to push from.
    pub image: Rendered,
    /// The repository it goes to; `None` pushes `image` under its own name.
    pub to: Option<Rendered>,
    /// Raw rendered tags; the `latest` policy has already been applied by the caller.
    pub tags: Vec<Rendered>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagSpec {
    pub task: String,
    pub image: Rendered,
    pub target: Rendered,
}

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("invalid image tag `{tag}` (from `{template}` at {origin}): {reason}")]
    InvalidTag {
        tag: String,
        template: String,
        origin: String,
        reason: String,
    },

    #[error("invalid repository `{repository}` (from `{template}` at {origin}): {reason}")]
    InvalidRepository {
        repository: String,
        template: String,
        origin: String,
        reason: String,
    },

    #[error("{0}")]
    Other(String),
}

impl DockerError {
    pub fn help(&self) -> Option<String> {
        match self {
            DockerError::InvalidTag { .. } => Some(
                "a tag is at most 128 characters of [A-Za-z0-9_.-] and may not start with `.` or `-`".into(),
            ),
            _ => None,
        }
    }
}

// Placeholder describers until the engine work lands (replaced by its own).
pub fn describe_build(spec: &BuildSpec) -> Result<String, DockerError> {
    Ok(format!(
        "build {} ({})",
        spec.image.value,
        spec.context.display()
    ))
}
pub fn describe_push(spec: &PushSpec) -> Result<String, DockerError> {
    Ok(format!("push {}", spec.image.value))
}
pub fn describe_tag(spec: &TagSpec) -> Result<String, DockerError> {
    Ok(format!("tag {} as {}", spec.image.value, spec.target.value))
}
