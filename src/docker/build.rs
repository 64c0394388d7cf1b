//! The `build` step: stream the context, read every message of the build to
//! the end (errors arrive inside the 200 stream), tag the image with every
//! final tag, and summarise what was built.
//!
//! Cancelling the run closes the build's connection: the engine (classic
//! builder) then kills the step's container and stops the build. hoist removes
//! that container itself as well, so that none is left once hoist has exited.

use super::buildkit::{Progress, SecretValues, Services, Session, SessionError};
use super::context::{
    locate, stream_context, ContextError, ContextStats, ContextStream, SessionContext,
};
use super::engine::Kind;
use super::events::{Event, EventSink};
use super::filesync::Sent;
use super::{
    final_tags, reference, repository, BuildFailure, BuildSpec, Builder, DockerError, Engine,
};
use crate::exec::cancelled;
use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::{
    BuildImageOptions, BuilderVersion, RemoveContainerOptions, TagImageOptions,
};
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub(crate) struct BuildReport {
    pub refs: Vec<String>,
    pub id: String,
    pub size: i64,
    pub layers: usize,
    pub context: ContextStats,
}

/// The final `repo:tag` references of a build, validated before anything runs.
pub(crate) fn plan_build(spec: &BuildSpec) -> Result<Vec<String>, DockerError> {
    let (name, explicit) = reference::split_reference(&spec.image.value);
    repository(&spec.image, name)?;
    let mut tags: Vec<String> = final_tags(&spec.tags)?
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    if spec.image.value.contains(':')
        && spec.image.value.rfind(':') > spec.image.value.rfind('/')
        && !tags.contains(&explicit.to_owned())
    {
        tags.insert(0, explicit.to_owned());
    }
    if tags.is_empty() {
        tags.push("latest".into());
    }
    Ok(tags.iter().map(|t| format!("{name}:{t}")).collect())
}

/// OCI labels from git, then the user's (which win).
pub(crate) fn labels(spec: &BuildSpec) -> Vec<(String, String)> {
    let m = &spec.metadata;
    let mut labels = vec![
        (
            "org.opencontainers.image.version".to_owned(),
            m.version.clone(),
        ),
        (
            "org.opencontainers.image.revision".to_owned(),
            m.revision.clone(),
        ),
        (
            "org.opencontainers.image.created".to_owned(),
            m.created.clone(),
        ),
        ("org.opencontainers.image.title".to_owned(), m.title.clone()),
    ];
    if let Some(source) = &m.source {
        labels.push(("org.opencontainers.image.source".to_owned(), source.clone()));
    }
    labels.retain(|(_, v)| !v.is_empty());
    for (k, v) in &spec.labels {
        labels.retain(|(key, _)| key != k);
        labels.push((k.clone(), v.clone()));
    }
    labels
}

/// Reports through `events` (the steps and output lines of the build, its
/// summary). When `cancel` turns true the build is stopped on the engine
/// ([`DockerError::BuildInterrupted`]).
pub(crate) async fn build(
    engine: &Engine,
    spec: &BuildSpec,
    events: &dyn EventSink,
    cancel: watch::Receiver<bool>,
) -> Result<BuildReport, DockerError> {
    match build_once(engine, spec, events, cancel.clone()).await {
        // A dropped connection (seen under heavy load) is retried once; the
        // daemon's layer cache makes the second attempt cheap.
        Err(DockerError::BuildFailed {
            cause: cause @ BuildFailure::ConnectionLost,
            message,
            ..
        }) => {
            let reason = format!("{cause}{message}");
            events.send(Event::BuildRetry { reason: &reason });
            build_once(engine, spec, events, cancel).await
        }
        other => other,
    }
}

async fn build_once(
    engine: &Engine,
    spec: &BuildSpec,
    events: &dyn EventSink,
    mut cancel: watch::Receiver<bool>,
) -> Result<BuildReport, DockerError> {
    let refs = plan_build(spec)?;
    let secrets = SecretValues::read(&spec.secrets, &refs[0], &spec.step)?;
    let mut located =
        locate(&spec.context, &spec.dockerfile).map_err(|e| located_error(spec, e))?;
    let sent = Arc::new(Sent::default());
    let services = Services {
        secrets,
        shared_key: shared_key(&located.root),
        dirs: HashMap::from([
            ("context".to_owned(), located.root.clone()),
            ("dockerfile".to_owned(), located.dockerfile_dir.clone()),
        ]),
        sent: sent.clone(),
    };
    // Held until the build's stream is over: the engine calls it meanwhile.
    let session = open_session(engine, spec, &refs[0], services).await?;
    let (options, tar) = request(engine, spec, &refs[0], &mut located, session.as_ref()).await?;
    let (body, tar_stats) = match tar {
        Some(context) => (bollard::body_try_stream(context.body), Some(context.stats)),
        None => (bollard::body_full(bytes::Bytes::new()), None),
    };
    events.send(Event::BuildStarted { image: &refs[0] });
    let mut stream = engine.docker.build_image(options, None, Some(body));
    let mut log = BuildLog::default();
    let end = read_build(&mut stream, &mut log, events, &mut cancel).await;
    events.send(Event::BuildEnded);
    drop(session);
    log.take_buildkit_failure();
    if end == End::Interrupted {
        // Closing the connection is what stops a build on the engine.
        drop(stream);
        return Err(interrupted(engine, &refs[0], log).await);
    }
    let stats = match tar_stats {
        Some(stats) => stats.await.unwrap_or_else(|_| {
            Err(ContextError::Io {
                path: spec.context.clone(),
                source: std::io::Error::other("context writer stopped"),
            })
        }),
        None => Ok(sent.stats(located.has_dockerignore)),
    };
    if let End::Failed(cause, message) = end {
        // A context error explains a broken stream better than the daemon's EOF.
        if let Err(e) = stats {
            return Err(context_error(spec, e));
        }
        return Err(DockerError::BuildFailed {
            image: refs[0].clone(),
            step: log.step,
            output: log.step_output,
            cause,
            message,
            origin: spec.image.origin.clone(),
        });
    }
    let stats = stats.map_err(|e| context_error(spec, e))?;
    let report = finish(engine, refs, log.image_id, stats).await?;
    events.send(Event::Built { report: &report });
    if let Some(warning) = report.context.warning() {
        events.send(Event::Warning { message: &warning });
    }
    Ok(report)
}

/// The build request: with a BuildKit session, the engine asks for the
/// context over it (only what changed since its last copy); else the context
/// is the request's tar body, whose summary comes when it is sent.
async fn request(
    engine: &Engine,
    spec: &BuildSpec,
    first: &str,
    located: &mut SessionContext,
    session: Option<&Session>,
) -> Result<(BuildImageOptions, Option<ContextStream>), DockerError> {
    if let Some(session) = session {
        let mut options = request_options(spec, first, &located.dockerfile_name);
        options.version = BuilderVersion::BuilderBuildKit;
        options.session = Some(session.id.clone());
        options.remote = Some("client-session".to_owned());
        if options.networkmode.is_none() && !has_bridge(engine).await {
            options.networkmode = Some("none".to_owned());
        }
        return Ok((options, None));
    }
    // The checks `locate` made are the tar's plan: one walk of .dockerignore.
    let context = match located.stream() {
        Some(context) => context,
        None => {
            stream_context(&spec.context, &spec.dockerfile).map_err(|e| located_error(spec, e))?
        }
    };
    let options = request_options(spec, first, &context.dockerfile_in_context);
    Ok((options, Some(context)))
}

/// A context that cannot be sent, as the step's error.
fn located_error(spec: &BuildSpec, error: ContextError) -> DockerError {
    match error {
        ContextError::MissingDockerfile { path, .. } => DockerError::DockerfileMissing {
            path,
            origin: spec.step.clone(),
        },
        other => context_error(spec, other),
    }
}

/// The key the engine keeps a context's copy under between builds: the
/// context directory's path (what the docker CLI hashes too, with its node id).
fn shared_key(root: &std::path::Path) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(root.as_os_str().as_encoded_bytes()))
}

/// The BuildKit session for this build, or `None` for the classic builder,
/// as `builder:` says and the engine allows.
async fn open_session(
    engine: &Engine,
    spec: &BuildSpec,
    image: &str,
    services: Services,
) -> Result<Option<Session>, DockerError> {
    let needs = |reason: String| DockerError::NeedsBuildKit {
        image: image.to_owned(),
        reason,
        secrets: !spec.secrets.is_empty(),
        origin: spec.step.clone(),
    };
    if spec.builder == Builder::Classic {
        if spec.secrets.is_empty() {
            return Ok(None);
        }
        return Err(needs("the step says `builder: classic`".into()));
    }
    let opened = if engine.kind == Kind::Podman {
        Err(SessionError::Refused(
            "Podman builds with Buildah and has no BuildKit API".into(),
        ))
    } else {
        Session::open(engine, services).await
    };
    match opened {
        Ok(session) => Ok(Some(session)),
        Err(SessionError::Failed(reason)) => Err(DockerError::Api {
            action: format!("opening a BuildKit session for `{image}`"),
            reason,
        }),
        Err(_) if spec.builder == Builder::Auto && spec.secrets.is_empty() => Ok(None),
        Err(e) => Err(needs(e.to_string())),
    }
}

/// Whether the engine has its default `bridge` network. BuildKit runs `RUN`
/// on it unless told otherwise, and fails without it; the classic builder
/// then runs without a network, so BuildKit is told `none` to match.
async fn has_bridge(engine: &Engine) -> bool {
    use bollard::errors::Error::DockerResponseServerError;
    !matches!(
        engine
            .docker
            .inspect_network(
                "bridge",
                None::<bollard::query_parameters::InspectNetworkOptions>
            )
            .await,
        Err(DockerResponseServerError {
            status_code: 404,
            ..
        })
    )
}

/// The engine's build parameters for `spec`, tagged `first` (the other tags
/// are added once it is built).
fn request_options(spec: &BuildSpec, first: &str, dockerfile: &str) -> BuildImageOptions {
    BuildImageOptions {
        dockerfile: dockerfile.to_owned(),
        t: Some(first.to_owned()),
        nocache: spec.no_cache,
        pull: spec.pull.then(|| "1".to_owned()),
        // A failed build must not leave its containers behind.
        rm: true,
        forcerm: true,
        buildargs: Some(spec.args.iter().cloned().collect::<HashMap<_, _>>()),
        labels: Some(labels(spec).into_iter().collect::<HashMap<_, _>>()),
        networkmode: spec.network.clone(),
        platform: spec.platform.clone().unwrap_or_default(),
        target: spec.target.clone().unwrap_or_default(),
        ..BuildImageOptions::default()
    }
}

/// How reading a build's stream ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Finished,
    Failed(BuildFailure, String),
    Interrupted,
}

/// What the build's stream has told so far.
#[derive(Default)]
struct BuildLog {
    /// The step at work (`Step 2/5 : RUN make`), and its last lines.
    step: Option<String>,
    step_output: Vec<String>,
    image_id: String,
    /// The container of the step at work (`RUN`, `COPY`, ...), if any.
    container: Option<String>,
    /// Output not yet ended by a newline.
    pending: String,
    /// A BuildKit build's vertices.
    buildkit: Progress,
}

/// Lines of a failed step kept for the error.
const STEP_OUTPUT_LINES: usize = 40;

impl BuildLog {
    /// A BuildKit build's failing step (or the last one started) becomes the
    /// step the error names.
    fn take_buildkit_failure(&mut self) {
        if let Some((step, output)) = self.buildkit.failed.take() {
            self.step = Some(step);
            self.step_output = output;
        } else if let Some(step) = self.buildkit.step.take() {
            self.step = Some(step);
        }
    }

    /// Takes a chunk of output and reports each line it completes.
    fn feed(&mut self, text: &str, events: &dyn EventSink) {
        self.pending.push_str(text);
        while let Some(newline) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=newline).collect();
            let line = strip_control(line.trim_end());
            if !line.is_empty() {
                self.line(line, events);
            }
        }
    }

    fn line(&mut self, line: String, events: &dyn EventSink) {
        // Podman's Buildah words its steps otherwise: read them as Docker's.
        let line = super::podman::step_line(&line).unwrap_or(line);
        if let Some(id) = line.strip_prefix(" ---> Running in ") {
            self.container = Some(id.trim().to_owned());
        } else if line.starts_with("Removing intermediate container ") {
            self.container = None;
        }
        if line.starts_with("Step ") {
            events.send(Event::BuildStep { line: &line });
            self.step = Some(line);
            self.step_output.clear();
        } else {
            events.send(Event::BuildOutput { line: &line });
            self.step_output.push(line);
            if self.step_output.len() > STEP_OUTPUT_LINES {
                self.step_output.remove(0);
            }
        }
    }
}

/// Reads the build's messages to the end (errors arrive inside the stream),
/// or until the run is cancelled.
async fn read_build<S>(
    stream: &mut S,
    log: &mut BuildLog,
    events: &dyn EventSink,
    cancel: &mut watch::Receiver<bool>,
) -> End
where
    S: Stream<Item = Result<BuildInfo, bollard::errors::Error>> + Unpin,
{
    loop {
        let item = tokio::select! {
            biased;
            () = cancelled(cancel) => return End::Interrupted,
            item = stream.next() => item,
        };
        let info = match item {
            None => return End::Finished,
            Some(Ok(info)) => info,
            Some(Err(e)) => {
                let (cause, message) = stream_failure(e);
                return End::Failed(cause, message);
            }
        };
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            return End::Failed(BuildFailure::Engine, detail);
        }
        match info.aux {
            Some(BuildInfoAux::Default(image)) => {
                if let Some(id) = image.id {
                    log.image_id = id;
                }
            }
            Some(BuildInfoAux::BuildKit(status)) => log.buildkit.update(status, events),
            None => {}
        }
        if let Some(text) = info.stream {
            log.feed(&text, events);
        }
    }
}

/// The error of a build stopped by the run's cancellation, once its step's
/// container is gone (or could not be removed).
async fn interrupted(engine: &Engine, image: &str, log: BuildLog) -> DockerError {
    let container = match log.container {
        Some(id) => {
            let left = remove_container(engine, &id).await.err();
            Some((id, left))
        }
        None => None,
    };
    DockerError::BuildInterrupted {
        image: image.to_owned(),
        step: log.step,
        container,
        engine: engine.kind,
    }
}

/// Gives the built image its other tags and reads what was built.
async fn finish(
    engine: &Engine,
    refs: Vec<String>,
    image_id: String,
    context: ContextStats,
) -> Result<BuildReport, DockerError> {
    let source = if image_id.is_empty() {
        refs[0].clone()
    } else {
        image_id.clone()
    };
    for reference in &refs[1..] {
        let (repo, tag) = reference::split_reference(reference);
        let options = TagImageOptions {
            repo: Some(repo.to_owned()),
            tag: Some(tag.to_owned()),
        };
        engine
            .docker
            .tag_image(&source, Some(options))
            .await
            .map_err(|e| DockerError::Api {
                action: format!("tagging {reference}"),
                reason: e.to_string(),
            })?;
    }
    let inspect = engine
        .docker
        .inspect_image(&refs[0])
        .await
        .map_err(|e| DockerError::Api {
            action: format!("inspecting {}", refs[0]),
            reason: e.to_string(),
        })?;
    Ok(BuildReport {
        refs,
        id: inspect.id.unwrap_or(image_id),
        size: inspect.size.unwrap_or(0),
        layers: inspect
            .root_fs
            .and_then(|r| r.layers)
            .map_or(0, |l| l.len()),
        context,
    })
}

fn context_error(spec: &BuildSpec, error: ContextError) -> DockerError {
    DockerError::Context {
        reason: error.to_string(),
        origin: spec.step.clone(),
    }
}

/// Why a build's stream ended in an error: the engine's own report (inside
/// the stream, or as the answer's status), or a broken connection.
fn stream_failure(error: bollard::errors::Error) -> (BuildFailure, String) {
    use bollard::errors::Error as E;
    match error {
        E::DockerStreamError { error } => (BuildFailure::Engine, error),
        E::HyperResponseError { .. }
        | E::HyperLegacyError { .. }
        | E::IOError { .. }
        | E::RequestTimeoutError => (BuildFailure::ConnectionLost, error.to_string()),
        // An error answer (Podman's are often empty) instead of a stream.
        other => (BuildFailure::Engine, super::engine::api_error(&other)),
    }
}

/// Removes a build's container (killing it first), or makes sure the engine
/// did: the engine removes it on its own once the build's connection is gone,
/// and meanwhile answers that a removal is already in progress.
async fn remove_container(engine: &Engine, id: &str) -> Result<(), String> {
    // A busy engine may sit on the request: hoist was interrupted and must
    // exit now, and the engine removes the container on its own anyway.
    const PATIENCE: Duration = Duration::from_secs(2);
    match tokio::time::timeout(PATIENCE, remove_container_now(engine, id)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the engine did not confirm its removal within {} s (it removes it once the build's connection is gone)",
            PATIENCE.as_secs()
        )),
    }
}

async fn remove_container_now(engine: &Engine, id: &str) -> Result<(), String> {
    use bollard::errors::Error::DockerResponseServerError;
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        link: false,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match engine
            .docker
            .remove_container(id, Some(options.clone()))
            .await
        {
            Ok(())
            | Err(DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(()),
            Err(DockerResponseServerError {
                status_code: 409, ..
            }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The daemon colours RUN's stderr; logs get plain text without control characters.
pub(super) fn strip_control(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates up to the final byte (@ to ~).
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else if c == '\t' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::events::Recorder;

    #[test]
    fn build_output_is_reported_line_by_line_and_tracks_the_step_at_work() {
        let events = Recorder::default();
        let mut log = BuildLog::default();
        log.feed(
            "Step 1/2 : FROM base\n ---> 0123\nStep 2/2 : RUN ec",
            &events,
        );
        log.feed(
            "ho hi\n ---> Running in 4567\n\x1b[91mhi\x1b[0m\n\n",
            &events,
        );
        assert_eq!(
            *events.0.lock().unwrap(),
            [
                r#"BuildStep { line: "Step 1/2 : FROM base" }"#,
                r#"BuildOutput { line: " ---> 0123" }"#,
                r#"BuildStep { line: "Step 2/2 : RUN echo hi" }"#,
                r#"BuildOutput { line: " ---> Running in 4567" }"#,
                r#"BuildOutput { line: "hi" }"#,
            ]
        );
        assert_eq!(log.step.as_deref(), Some("Step 2/2 : RUN echo hi"));
        assert_eq!(log.step_output, [" ---> Running in 4567", "hi"]);
        assert_eq!(log.container.as_deref(), Some("4567"));
        log.feed("Removing intermediate container 4567\n", &events);
        assert_eq!(log.container, None);
    }

    #[test]
    fn a_failed_step_keeps_its_last_lines() {
        let events = Recorder::default();
        let mut log = BuildLog::default();
        log.feed("Step 1/1 : RUN make\n", &events);
        for i in 0..100 {
            log.feed(&format!("line {i}\n"), &events);
        }
        assert_eq!(log.step_output.len(), STEP_OUTPUT_LINES);
        assert_eq!(log.step_output.last().map(String::as_str), Some("line 99"));
    }

    #[test]
    fn only_a_broken_connection_is_worth_building_again() {
        use bollard::errors::Error as E;
        let io = E::IOError {
            err: std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        };
        assert_eq!(stream_failure(io).0, BuildFailure::ConnectionLost);
        let answer = E::DockerResponseServerError {
            status_code: 500,
            message: "Cannot locate specified Dockerfile: Dockerfile".into(),
        };
        assert_eq!(stream_failure(answer).0, BuildFailure::Engine);
        let reported = E::DockerStreamError {
            error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3".into(),
        };
        assert_eq!(
            stream_failure(reported),
            (
                BuildFailure::Engine,
                "The command '/bin/sh -c exit 3' returned a non-zero code: 3".to_owned()
            )
        );
    }

    #[test]
    fn control_sequences_are_stripped() {
        assert_eq!(strip_control("\x1b[91mgo: no deps\x1b[0m"), "go: no deps");
        assert_eq!(strip_control("a\rb\tc"), "ab\tc");
    }
}
