//! The `push` and `tag` steps. All tags of a push step go concurrently (the
//! registry receives each layer once); transient failures are retried with
//! backoff; a final failure names registry, repository and tag and lists the
//! tags that did land, so nothing is half-pushed without saying so. Cancelling
//! the run closes the push connections, which stops the pushes on the engine;
//! the step then says which tags had landed and which had not.

use super::auth::{credentials_for, Credentials};
use super::engine::api_error;
use super::events::{Event, EventSink};
use super::reference::{self, Repository};
use super::{final_tags, repository, DockerError, Engine, PushSpec, TagSpec};
use crate::exec::cancelled;
use crate::source::Origin;
use bollard::models::ErrorDetail;
use bollard::query_parameters::{PushImageOptions, TagImageOptions};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use std::time::Duration;
use tokio::sync::watch;

const TRIES: u32 = 3;

/// What a push step will do: source image, target repository, final tags.
pub(crate) struct PushPlan {
    pub source: String,
    pub target: Repository,
    pub tags: Vec<String>,
    /// Where each of `tags` is written (the image's, for its own tag).
    pub origins: Vec<Origin>,
}

pub(crate) fn plan_push(spec: &PushSpec) -> Result<PushPlan, DockerError> {
    let (source_repo, source_tag) = reference::split_reference(&spec.image.value);
    repository(&spec.image, source_repo)?;
    let source = format!("{source_repo}:{source_tag}");
    let target = match &spec.to {
        Some(to) => repository(to, &to.value)?,
        None => repository(&spec.image, source_repo)?,
    };
    let mut tags = final_tags(&spec.tags)?;
    if tags.is_empty() {
        tags.push((source_tag.to_owned(), spec.image.origin.clone()));
    }
    let (tags, origins) = tags.into_iter().unzip();
    Ok(PushPlan {
        source,
        target,
        tags,
        origins,
    })
}

/// Each tag is reported through `events` as it lands. When `cancel` turns
/// true the pushes still under way are dropped ([`DockerError::PushInterrupted`]).
pub(crate) async fn push(
    engine: &Engine,
    spec: &PushSpec,
    events: &dyn EventSink,
    cancel: watch::Receiver<bool>,
) -> Result<(), DockerError> {
    let plan = plan_push(spec)?;
    name_for_push(engine, &plan).await?;
    let credentials = credentials_for(&plan.target.registry)?;
    let current = up_to_date(engine, &plan, credentials.as_ref()).await;
    for (tag, digest) in plan.tags.iter().zip(&current) {
        if let Some(digest) = digest {
            let reference = format!("{}:{tag}", plan.target.name);
            events.send(Event::TagUpToDate {
                reference: &reference,
                digest,
            });
        }
    }
    // Only the tags that do not already name this image go up.
    let stale: Vec<usize> = (0..plan.tags.len())
        .filter(|i| current[*i].is_none())
        .collect();
    let (results, interrupted) = if stale.is_empty() {
        (Vec::new(), false)
    } else {
        let subset = PushPlan {
            source: plan.source.clone(),
            target: plan.target.clone(),
            tags: stale.iter().map(|i| plan.tags[*i].clone()).collect(),
            origins: stale.iter().map(|i| plan.origins[*i].clone()).collect(),
        };
        push_all(engine, &subset, credentials, events, cancel).await
    };
    let mut all: Results = current.into_iter().map(|d| d.map(Ok)).collect();
    for (i, result) in stale.into_iter().zip(results) {
        all[i] = result;
    }
    outcome(spec, plan, all, interrupted)
}

/// For each tag, the digest it already has in the registry when that is a
/// manifest of this very image (the engine remembers the digests it pushed
/// the image as): such a tag needs no push. Asked through the engine
/// (`GET /distribution/NAME/json`), which knows the registry's credentials;
/// when it cannot say (an older engine, Podman), every tag is pushed.
async fn up_to_date(
    engine: &Engine,
    plan: &PushPlan,
    credentials: Option<&Credentials>,
) -> Vec<Option<String>> {
    let none = || plan.tags.iter().map(|_| None).collect();
    let Ok(image) = engine.docker.inspect_image(&plan.source).await else {
        return none();
    };
    let prefix = format!("{}@", plan.target.name);
    let known: Vec<&str> = image
        .repo_digests
        .iter()
        .flatten()
        .filter_map(|d| d.strip_prefix(&prefix))
        .collect();
    if known.is_empty() {
        return none();
    }
    let mut out = Vec::with_capacity(plan.tags.len());
    for tag in &plan.tags {
        let reference = format!("{}:{tag}", plan.target.name);
        let remote = engine
            .docker
            .inspect_registry_image(&reference, credentials.map(|c| c.0.clone()))
            .await
            .ok()
            .and_then(|d| d.descriptor.digest);
        out.push(remote.filter(|d| known.contains(&d.as_str())));
    }
    out
}

/// What each tag came to; `None` while it has not (or never) finished.
type Results = Vec<Option<Result<String, Failure>>>;

/// Names the source image `target:tag` for every tag, as a push needs.
async fn name_for_push(engine: &Engine, plan: &PushPlan) -> Result<(), DockerError> {
    let name = &plan.target.name;
    for tag in &plan.tags {
        let options = TagImageOptions {
            repo: Some(name.clone()),
            tag: Some(tag.clone()),
        };
        engine
            .docker
            .tag_image(&plan.source, Some(options))
            .await
            .map_err(|e| DockerError::Api {
                action: format!("tagging {} as {name}:{tag}", plan.source),
                reason: api_error(&e),
            })?;
    }
    Ok(())
}

/// Pushes every tag, and says whether the run's cancellation stopped that.
async fn push_all(
    engine: &Engine,
    plan: &PushPlan,
    credentials: Option<Credentials>,
    events: &dyn EventSink,
    mut cancel: watch::Receiver<bool>,
) -> (Results, bool) {
    let name = &plan.target.name;
    let push_tag = |index: usize| {
        let tag = &plan.tags[index];
        push_with_retries(engine, name, tag, credentials.clone(), events)
            .map(move |result| (index, result))
    };
    let mut results: Results = plan.tags.iter().map(|_| None).collect();
    let mut record = |(index, result): (usize, Result<String, Failure>)| {
        if let Ok(digest) = &result {
            let reference = format!("{name}:{}", plan.tags[index]);
            events.send(Event::TagPushed {
                reference: &reference,
                digest,
            });
        }
        results[index] = Some(result);
    };
    // The first tag uploads the layers; the others then only add manifests, all at
    // once. (Pushing every tag at once races in the daemon: a manifest can name a
    // blob whose upload by a sibling push has not been committed yet.)
    let interrupted = tokio::select! {
        biased;
        () = cancelled(&mut cancel) => true,
        first = push_tag(0) => {
            record(first);
            let mut rest: FuturesUnordered<_> = (1..plan.tags.len()).map(push_tag).collect();
            loop {
                tokio::select! {
                    biased;
                    () = cancelled(&mut cancel) => break true,
                    next = rest.next() => match next {
                        Some(done) => record(done),
                        None => break false,
                    },
                }
            }
        }
    };
    // Dropping the unfinished pushes closed their connections: the engine stops them.
    (results, interrupted)
}

/// The step's result from what each tag came to: every tag landed, or which
/// did and which did not.
fn outcome(
    spec: &PushSpec,
    plan: PushPlan,
    results: Results,
    interrupted: bool,
) -> Result<(), DockerError> {
    let mut pushed = Vec::new();
    let mut failed = Vec::new();
    let mut not_landed = Vec::new();
    let mut denied = false;
    let mut origin = None;
    for ((tag, result), at) in plan.tags.into_iter().zip(results).zip(plan.origins) {
        match result {
            Some(Ok(digest)) => pushed.push((tag, digest)),
            Some(Err(failure)) => {
                origin.get_or_insert(at);
                denied |= failure.kind == FailureKind::Denied;
                not_landed.push(tag.clone());
                failed.push((tag, failure.message));
            }
            None => not_landed.push(tag),
        }
    }
    let landed = || pushed.iter().map(|(t, _)| t.clone()).collect();
    if interrupted {
        return Err(DockerError::PushInterrupted {
            registry: plan.target.registry,
            repository: plan.target.path,
            landed: landed(),
            not_landed,
        });
    }
    if !failed.is_empty() {
        return Err(DockerError::PushFailed {
            registry: plan.target.registry,
            repository: plan.target.path,
            failed,
            landed: landed(),
            denied,
            origin: origin.unwrap_or_else(|| spec.image.origin.clone()),
        });
    }
    Ok(())
}

/// A failed push attempt: what the engine said, and what to do about it.
struct Failure {
    message: String,
    kind: FailureKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FailureKind {
    /// The registry refused the credentials, or wanted some and got none.
    Denied,
    /// Worth another try: a connection broke, the registry was busy, or it
    /// did not yet know a blob a sibling push had just uploaded.
    Transient,
    /// Another try would fail the same way.
    Permanent,
}

impl Failure {
    /// A failed request to the engine, by bollard's error variant.
    fn of(error: bollard::errors::Error) -> Failure {
        use bollard::errors::Error as E;
        let kind = match &error {
            // bollard turns the stream's `errorDetail` into this, keeping only
            // its message (the engine sets no `code` on push errors anyway).
            E::DockerStreamError { error } => return Failure::reported(error.clone()),
            E::DockerResponseServerError { status_code, .. } => by_status(*status_code),
            E::HyperResponseError { .. }
            | E::HyperLegacyError { .. }
            | E::IOError { .. }
            | E::RequestTimeoutError => FailureKind::Transient,
            _ => FailureKind::Permanent,
        };
        Failure {
            message: api_error(&error),
            kind,
        }
    }

    /// An `errorDetail` that reached us (bollard turns those with a message
    /// into [`DockerStreamError`](bollard::errors::Error::DockerStreamError)):
    /// its code is an HTTP status when set.
    fn detail(detail: ErrorDetail) -> Failure {
        let message = detail.message.unwrap_or_default();
        match detail
            .code
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| *c > 0)
        {
            Some(code) => Failure {
                kind: by_status(code),
                message: if message.is_empty() {
                    format!("error {code}")
                } else {
                    message
                },
            },
            None => Failure::reported(message),
        }
    }

    /// An error the engine reported inside the push stream. The engine
    /// flattens the registry's errors into text, so the kind is read from
    /// the shapes that text takes rather than searched for words in it:
    ///
    /// - `CODE: detail`, where CODE is one of the distribution spec's error
    ///   codes as the engine writes them (`BLOB_UNKNOWN` → `blob unknown`);
    /// - `received unexpected HTTP status: 503 Service Unavailable`, the
    ///   registry's status when its answer carried no error code;
    /// - `Put "https://…": cause`, a request that got no answer at all (Go's
    ///   `url.Error`): the connection failed, which is worth another try
    ///   unless the cause is TLS refusing the registry (`x509: `, `tls: `);
    /// - `no basic auth credentials`, the engine's fixed text when the
    ///   registry asks for credentials and there are none: it has no code,
    ///   so matching the text is the only way to tell it.
    fn reported(message: String) -> Failure {
        let kind = registry_code(&message)
            .or_else(|| unexpected_status(&message).map(by_status))
            .or_else(|| request_error(&message))
            .unwrap_or(match message.as_str() {
                "no basic auth credentials" => FailureKind::Denied,
                // io.EOF and io.ErrUnexpectedEOF: the registry hung up.
                "EOF" | "unexpected EOF" => FailureKind::Transient,
                _ => FailureKind::Permanent,
            });
        Failure { message, kind }
    }
}

/// The kind of the distribution spec error code that starts `message`.
fn registry_code(message: &str) -> Option<FailureKind> {
    let (code, _) = message.split_once(": ")?;
    Some(match code {
        "denied" | "unauthorized" => FailureKind::Denied,
        // The registry had not yet committed a blob a sibling push uploaded,
        // an upload expired, it was busy, or it failed (UNKNOWN is a 500).
        "blob unknown"
        | "blob upload unknown"
        | "manifest blob unknown"
        | "digest invalid"
        | "toomanyrequests"
        | "unavailable"
        | "unknown" => FailureKind::Transient,
        "blob upload invalid"
        | "manifest invalid"
        | "manifest unknown"
        | "manifest unverified"
        | "name invalid"
        | "name unknown"
        | "size invalid"
        | "tag invalid"
        | "unsupported"
        | "pagination number invalid"
        | "range invalid" => FailureKind::Permanent,
        _ => return None,
    })
}

/// The status in the engine's `received unexpected HTTP status: 503 …`.
fn unexpected_status(message: &str) -> Option<u16> {
    let rest = message.strip_prefix("received unexpected HTTP status: ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// `Method "URL": cause`: the request got no answer from the registry.
fn request_error(message: &str) -> Option<FailureKind> {
    let (method, rest) = message.split_once(' ')?;
    if !matches!(method, "Get" | "Head" | "Post" | "Put" | "Patch" | "Delete") {
        return None;
    }
    let (_url, cause) = rest.strip_prefix('"')?.split_once("\": ")?;
    Some(
        if cause.starts_with("x509: ") || cause.starts_with("tls: ") {
            FailureKind::Permanent
        } else {
            FailureKind::Transient
        },
    )
}

fn by_status(status: u16) -> FailureKind {
    match status {
        401 | 403 => FailureKind::Denied,
        408 | 429 | 500..=599 => FailureKind::Transient,
        _ => FailureKind::Permanent,
    }
}

async fn push_with_retries(
    engine: &Engine,
    name: &str,
    tag: &str,
    credentials: Option<Credentials>,
    events: &dyn EventSink,
) -> Result<String, Failure> {
    let mut attempt = 1;
    loop {
        match push_once(engine, name, tag, credentials.clone(), events).await {
            Ok(digest) => return Ok(digest),
            Err(failure) if failure.kind == FailureKind::Transient && attempt < TRIES => {
                let wait = Duration::from_millis(500 * 2u64.pow(attempt - 1));
                events.send(Event::PushRetry {
                    reference: &format!("{name}:{tag}"),
                    reason: &failure.message,
                    wait,
                });
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(failure) => return Err(failure),
        }
    }
}

/// One attempt to push `name:tag`; its manifest digest once it landed.
async fn push_once(
    engine: &Engine,
    name: &str,
    tag: &str,
    credentials: Option<Credentials>,
    events: &dyn EventSink,
) -> Result<String, Failure> {
    let options = PushImageOptions {
        tag: Some(tag.to_owned()),
        ..Default::default()
    };
    let mut stream = engine
        .docker
        .push_image(name, Some(options), credentials.map(|c| c.0));
    let mut digest = String::new();
    let result = loop {
        let info = match stream.next().await {
            None => break Ok(()),
            Some(Ok(info)) => info,
            Some(Err(e)) => break Err(Failure::of(e)),
        };
        if let Some(detail) = info.error_detail {
            break Err(Failure::detail(detail));
        }
        let status = info.status.unwrap_or_default();
        if let Some(found) = status.split_whitespace().find(|w| w.starts_with("sha256:")) {
            if status.contains("digest:") {
                found.clone_into(&mut digest);
            }
        }
        if let Some((current, total)) = info
            .progress_detail
            .and_then(|d| Some((d.current?, d.total?)))
        {
            events.send(Event::LayerProgress {
                tag,
                current: current.max(0) as u64,
                total: total.max(0) as u64,
                status: &status,
            });
        }
    };
    events.send(Event::PushEnded { tag });
    result?;
    if digest.is_empty() {
        return Err(Failure {
            message: format!("the registry gave no digest for {name}:{tag}"),
            kind: FailureKind::Permanent,
        });
    }
    Ok(digest)
}

/// The `tag` step's target as repository and tag, validated.
pub(crate) fn plan_tag(spec: &TagSpec) -> Result<(String, String), DockerError> {
    let (source, _) = reference::split_reference(&spec.image.value);
    repository(&spec.image, source)?;
    let (repo, tag) = reference::split_reference(&spec.target.value);
    repository(&spec.target, repo)?;
    let clean = super::final_tags(&[super::Rendered {
        value: tag.to_owned(),
        ..spec.target.clone()
    }])?;
    Ok((
        repo.to_owned(),
        clean
            .first()
            .map_or_else(|| "latest".into(), |(t, _)| t.clone()),
    ))
}

/// The `tag` step: `image` (repo:tag) gets the name `target` (repo:tag) locally.
pub(crate) async fn tag(
    engine: &Engine,
    spec: &TagSpec,
    events: &dyn EventSink,
) -> Result<(), DockerError> {
    let (repo, tag) = reference::split_reference(&spec.target.value);
    repository(&spec.target, repo)?;
    let clean = super::final_tags(&[super::Rendered {
        value: tag.to_owned(),
        ..spec.target.clone()
    }])?;
    let tag = clean
        .first()
        .map_or_else(|| "latest".into(), |(t, _)| t.clone());
    let options = TagImageOptions {
        repo: Some(repo.to_owned()),
        tag: Some(tag.clone()),
    };
    engine
        .docker
        .tag_image(&spec.image.value, Some(options))
        .await
        .map_err(|e| DockerError::Api {
            action: format!("tagging {} as {repo}:{tag}", spec.image.value),
            reason: api_error(&e),
        })?;
    events.send(Event::Tagged {
        source: &spec.image.value,
        target: &format!("{repo}:{tag}"),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::errors::Error as E;

    fn kind(message: &str) -> FailureKind {
        Failure::reported(message.to_owned()).kind
    }

    /// Messages as the engine (20.10) writes them into the push stream.
    #[test]
    fn registry_messages_are_told_by_their_shape() {
        assert_eq!(
            kind("unauthorized: authentication required"),
            FailureKind::Denied
        );
        assert_eq!(
            kind("denied: requested access to the resource is denied"),
            FailureKind::Denied
        );
        assert_eq!(kind("no basic auth credentials"), FailureKind::Denied);
        assert_eq!(
            kind("blob unknown: blob unknown to registry"),
            FailureKind::Transient
        );
        assert_eq!(kind("toomanyrequests: slow down"), FailureKind::Transient);
        assert_eq!(
            kind("manifest unknown: manifest unknown"),
            FailureKind::Permanent
        );
        assert_eq!(
            kind(
                r#"Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused"#
            ),
            FailureKind::Transient
        );
        assert_eq!(
            kind(r#"Put "https://r/v2/x/blobs/uploads/1": EOF"#),
            FailureKind::Transient
        );
        assert_eq!(
            kind(r#"Get "https://r/v2/": x509: certificate signed by unknown authority"#),
            FailureKind::Permanent
        );
        assert_eq!(
            kind("received unexpected HTTP status: 503 Service Unavailable"),
            FailureKind::Transient
        );
        assert_eq!(
            kind("received unexpected HTTP status: 401 Unauthorized"),
            FailureKind::Denied
        );
        assert_eq!(
            kind("An image does not exist locally with the tag: nosuch/app"),
            FailureKind::Permanent
        );
    }

    #[test]
    fn words_inside_a_message_do_not_decide() {
        // Old substring rules took these for a denial and a transient failure.
        assert_eq!(
            kind("An image does not exist locally with the tag: denied-app"),
            FailureKind::Permanent
        );
        assert_eq!(
            kind("name invalid: repository name eof-timeout-500"),
            FailureKind::Permanent
        );
    }

    #[test]
    fn an_error_code_decides_over_the_message() {
        let detail = |code, message: &str| ErrorDetail {
            code,
            message: Some(message.to_owned()),
        };
        assert_eq!(
            Failure::detail(detail(Some(429), "slow down")).kind,
            FailureKind::Transient
        );
        assert_eq!(
            Failure::detail(detail(Some(403), "no")).kind,
            FailureKind::Denied
        );
        assert_eq!(
            Failure::detail(detail(None, "unauthorized: authentication required")).kind,
            FailureKind::Denied
        );
    }

    #[test]
    fn engine_errors_are_told_by_their_variant() {
        let status = |status_code| E::DockerResponseServerError {
            status_code,
            message: "x".into(),
        };
        assert_eq!(Failure::of(status(503)).kind, FailureKind::Transient);
        assert_eq!(Failure::of(status(404)).kind, FailureKind::Permanent);
        assert_eq!(Failure::of(status(401)).kind, FailureKind::Denied);
        let io = E::IOError {
            err: std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        };
        assert_eq!(Failure::of(io).kind, FailureKind::Transient);
        let stream = E::DockerStreamError {
            error: "unauthorized: authentication required".into(),
        };
        let failure = Failure::of(stream);
        assert_eq!(failure.kind, FailureKind::Denied);
        assert_eq!(failure.message, "unauthorized: authentication required");
    }
}
