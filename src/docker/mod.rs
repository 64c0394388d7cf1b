//! Image steps through the Docker Engine API (bollard): build, tag, push.
//!
//! The runner renders a task's image steps into the plain specs below (every
//! template already expanded) and hands them here; this module never sees a
//! template or a task file.

mod auth;
mod build;
mod buildkit;
pub(crate) mod context;
mod describe;
mod engine;
mod events;
mod filesync;
pub(crate) mod ignore;
mod podman;
mod push;
// The naming rules are pure and shared with templates (the `tag` filter).
pub(crate) use crate::reference;

pub(crate) use auth::{PASSWORD_VAR, USER_VAR};
pub(crate) use build::{build, plan_build, BuildReport};
pub(crate) use buildkit::SecretSource;
pub(crate) use describe::{describe_build, describe_push, describe_tag};
pub(crate) use engine::{ConnectFailure, Engine};
pub(crate) use events::{Event, EventSink};
pub(crate) use push::{plan_push, plan_tag, push, tag};

use crate::source::Origin;
use std::path::PathBuf;

/// A rendered value together with the template it came from, so that an
/// invalid tag or repository can be reported against the user's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub value: String,
    /// The template text as written in the task file.
    pub template: String,
    /// Where the template stands in the task file.
    pub origin: Origin,
}

/// Labels derived from git, set on every build (user labels win).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ImageMetadata {
    pub version: String,
    pub revision: String,
    pub created: String,
    pub source: Option<String>,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BuildSpec {
    /// Where the `build` step stands, for errors about the step as a whole.
    pub step: Origin,
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
    pub builder: Builder,
    /// `RUN --mount=type=secret,id=ID` values, by id: BuildKit only.
    pub secrets: Vec<(String, SecretSource)>,
}

/// Which of the engine's builders runs a build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Builder {
    /// BuildKit where the engine offers it, else the classic builder.
    #[default]
    Auto,
    BuildKit,
    Classic,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PushSpec {
    /// The local repository (or `repo:tag`) to push from.
    pub image: Rendered,
    /// The repository it goes to; `None` pushes `image` under its own name.
    pub to: Option<Rendered>,
    /// Raw rendered tags; the `latest` policy has already been applied by the caller.
    pub tags: Vec<Rendered>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TagSpec {
    pub image: Rendered,
    pub target: Rendered,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum DockerError {
    #[error("cannot reach the Docker engine at {host}: {reason}")]
    Unreachable {
        host: String,
        /// What the connection's error says went wrong, for the help.
        cause: ConnectFailure,
        reason: String,
    },

    #[error("invalid image tag `{tag}`{}: {reason}", from_text(template, tag))]
    InvalidTag {
        tag: String,
        template: String,
        origin: Origin,
        reason: String,
    },

    #[error(
        "invalid repository `{repository}`{}: {reason}",
        from_text(template, repository)
    )]
    InvalidRepository {
        repository: String,
        template: String,
        origin: Origin,
        reason: String,
    },

    #[error("Dockerfile {} does not exist", path.display())]
    DockerfileMissing { path: PathBuf, origin: Origin },

    #[error("build context: {reason}")]
    Context { reason: String, origin: Origin },

    // Podman's messages end with a newline, Docker's do not.
    #[error("building `{image}` failed{}: {cause}{}{}",
        step.as_ref().map(|s| format!(" at `{s}`")).unwrap_or_default(),
        message.trim_end(),
        if output.is_empty() { String::new() } else { format!("\n{}", output.join("\n")) })]
    BuildFailed {
        image: String,
        step: Option<String>,
        output: Vec<String>,
        cause: BuildFailure,
        message: String,
        /// The `image` of the build step.
        origin: Origin,
    },

    #[error("push to {registry} failed for {repository}: {}{}",
        failed.iter().map(|(t, r)| format!("tag `{t}`: {r}")).collect::<Vec<_>>().join("; "),
        landed_text(landed))]
    PushFailed {
        registry: String,
        repository: String,
        failed: Vec<(String, String)>,
        landed: Vec<String>,
        denied: bool,
        /// The first tag that failed, as the push step writes it.
        origin: Origin,
    },

    /// The run was cancelled (Ctrl-C, SIGTERM, a failed sibling task) during a
    /// build: the build was stopped on the engine and its container removed.
    /// (Podman lets the step at work finish first, and names no container.)
    #[error("building `{image}` interrupted{}{}",
        step.as_ref().map(|s| format!(" at `{s}`")).unwrap_or_default(),
        match container {
            None if *engine == engine::Kind::Podman => "; Podman lets the step at work run to its end, then drops the build (nothing is tagged)".to_owned(),
            None => "; the engine stopped the build".to_owned(),
            Some((id, None)) => format!("; the engine stopped the build and its container {id} is removed"),
            Some((id, Some(reason))) => format!("; the engine stopped the build, but its container {id} could not be removed ({reason}): `docker rm -f {id}`"),
        })]
    BuildInterrupted {
        image: String,
        step: Option<String>,
        /// The container of the step at work, and why it could not be removed.
        container: Option<(String, Option<String>)>,
        engine: engine::Kind,
    },

    /// The run was cancelled during a push: the engine stopped it; the tags
    /// that had landed stay in the registry.
    #[error("push to {registry} interrupted for {repository}: {}{}",
        if not_landed.is_empty() { "every tag had landed".to_owned() } else { format!("tags that did not land: {}", not_landed.join(", ")) },
        landed_text(landed))]
    PushInterrupted {
        registry: String,
        repository: String,
        landed: Vec<String>,
        not_landed: Vec<String>,
    },

    #[error("building `{image}`: secret `{id}` ({from}): {reason}")]
    SecretMissing {
        image: String,
        id: String,
        from: String,
        reason: String,
        /// The build step.
        origin: Origin,
    },

    #[error("building `{image}` needs BuildKit{}, but {reason}",
        if *secrets { " (the step has secrets)" } else { "" })]
    NeedsBuildKit {
        image: String,
        reason: String,
        secrets: bool,
        origin: Origin,
    },

    #[error("credentials for {registry}: {reason}")]
    Credentials { registry: String, reason: String },

    #[error("{action}: {reason}")]
    Api { action: String, reason: String },
}

/// Who ended a failed build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BuildFailure {
    /// The engine reported the error: a step failed, the Dockerfile is
    /// invalid, an option was refused.
    Engine,
    /// The connection to the engine broke before the build had finished.
    ConnectionLost,
}

impl std::fmt::Display for BuildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildFailure::Engine => Ok(()),
            BuildFailure::ConnectionLost => f.write_str("connection to the engine lost: "),
        }
    }
}

/// ` (from `{{ ORG }}/app`)`, unless the template is the value itself.
fn from_text(template: &str, value: &str) -> String {
    if template == value {
        String::new()
    } else {
        format!(" (from `{template}`)")
    }
}

fn landed_text(landed: &[String]) -> String {
    if landed.is_empty() {
        "; no tag landed".to_owned()
    } else {
        format!("; tags that did land: {}", landed.join(", "))
    }
}

impl DockerError {
    /// The step was stopped because the run is being cancelled; the run's own
    /// error (`interrupted`, or the failure that cancelled it) is what hoist reports.
    pub(crate) fn is_interruption(&self) -> bool {
        matches!(
            self,
            DockerError::BuildInterrupted { .. } | DockerError::PushInterrupted { .. }
        )
    }

    /// Where the value the error is about stands in the task file.
    pub(crate) fn origin(&self) -> Option<&Origin> {
        let (DockerError::InvalidTag { origin, .. }
        | DockerError::InvalidRepository { origin, .. }
        | DockerError::DockerfileMissing { origin, .. }
        | DockerError::NeedsBuildKit { origin, .. }
        | DockerError::SecretMissing { origin, .. }
        | DockerError::Context { origin, .. }
        | DockerError::BuildFailed { origin, .. }
        | DockerError::PushFailed { origin, .. }) = self
        else {
            return None;
        };
        origin.is_known().then_some(origin)
    }

    pub(crate) fn help(&self) -> Option<String> {
        match self {
            DockerError::Unreachable { cause: ConnectFailure::SpeaksTls, .. } => Some(
                "this endpoint speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem".into(),
            ),
            DockerError::Unreachable { cause: ConnectFailure::Certificates, .. } => Some(
                "DOCKER_CERT_PATH (default ~/.docker) must hold ca.pem, cert.pem and key.pem".into(),
            ),
            DockerError::Unreachable { cause: ConnectFailure::Handshake, .. } => Some(
                "check that DOCKER_HOST is the engine's TLS port and that DOCKER_CERT_PATH (default ~/.docker) holds the ca.pem that signed the engine's certificate, and the cert.pem and key.pem it trusts".into(),
            ),
            DockerError::Unreachable { cause: ConnectFailure::Scheme, .. } => Some(
                "e.g. DOCKER_HOST=unix:///var/run/docker.sock or DOCKER_HOST=tcp://HOST:2376".into(),
            ),
            DockerError::Unreachable { .. } => Some(
                "start the engine (`sudo dockerd &` or `sudo systemctl start docker`; Podman's: `podman system service --time=0 &`), or point DOCKER_HOST at one".into(),
            ),
            DockerError::InvalidTag { .. } => Some(
                "a tag is at most 128 characters of [A-Za-z0-9_.-] and may not start with `.` or `-`; the `tag` filter makes any string one".into(),
            ),
            DockerError::InvalidRepository { .. } => Some(
                "a repository is `[HOST[:PORT]/]path/name` in lowercase letters, digits and `._-`".into(),
            ),
            DockerError::DockerfileMissing { .. } => {
                Some("set `dockerfile:` in the build step, or `context:` to the directory that holds it".into())
            }
            DockerError::SecretMissing { id, .. } => Some(format!(
                "set the variable or create the file the step's `secrets: {{{id}: ...}}` names, or remove the secret from the step"
            )),
            DockerError::NeedsBuildKit { secrets: true, .. } => Some(
                "secrets need BuildKit (Docker 18.09 or later over a unix socket or plain tcp); use build args for values that may stay in the image, or build on such an engine".into(),
            ),
            DockerError::NeedsBuildKit { .. } => Some(
                "use `builder: auto` or `builder: classic` on this engine".into(),
            ),
            DockerError::PushFailed { registry, denied: true, .. } => Some(format!(
                "check the credentials for {registry}: `docker login {registry}`, or set {USER_VAR} and {PASSWORD_VAR}"
            )),
            DockerError::PushFailed { .. } => {
                Some("check that the registry is up and reachable, then run the task again (pushing is idempotent)".into())
            }
            _ => None,
        }
    }
}

/// Validates and normalises rendered tags: the `tag` rules, empty ones skipped
/// (the `[ -z "$BRANCH" ] ||` idiom), duplicates collapsed. Each tag comes
/// with where it was first written.
pub(crate) fn final_tags(tags: &[Rendered]) -> Result<Vec<(String, Origin)>, DockerError> {
    let mut out: Vec<(String, Origin)> = Vec::new();
    for rendered in tags {
        let tag = reference::sanitize_tag(&rendered.value);
        if tag.is_empty() {
            continue;
        }
        if let Some(reason) = reference::tag_problem(&tag) {
            return Err(DockerError::InvalidTag {
                tag,
                template: rendered.template.clone(),
                origin: rendered.origin.clone(),
                reason,
            });
        }
        if !out.iter().any(|(t, _)| *t == tag) {
            out.push((tag, rendered.origin.clone()));
        }
    }
    Ok(out)
}

pub(crate) fn repository(
    rendered: &Rendered,
    name: &str,
) -> Result<reference::Repository, DockerError> {
    reference::parse_repository(name).map_err(|reason| DockerError::InvalidRepository {
        repository: name.to_owned(),
        template: rendered.template.clone(),
        origin: rendered.origin.clone(),
        reason,
    })
}
