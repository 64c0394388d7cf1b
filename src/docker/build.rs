//! The `build` step: stream the context, read every message of the build to
//! the end (errors arrive inside the 200 stream), tag the image with every
//! final tag, and summarise what was built.
//!
//! Cancelling the run closes the build's connection: the engine (classic
//! builder) then kills the step's container and stops the build. hoist removes
//! that container itself as well, so that none is left once hoist has exited.

use super::context::{stream_context, ContextError, ContextStats};
use super::{final_tags, reference, repository, BuildFailure, BuildSpec, DockerError, Engine};
use crate::exec::cancelled;
use crate::ui::Printer;
use bollard::query_parameters::{BuildImageOptions, RemoveContainerOptions, TagImageOptions};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct BuildReport {
    pub refs: Vec<String>,
    pub id: String,
    pub size: i64,
    pub layers: usize,
    pub context: ContextStats,
}

/// The final `repo:tag` references of a build, validated before anything runs.
pub fn plan_build(spec: &BuildSpec) -> Result<Vec<String>, DockerError> {
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

/// `log` receives the build's output lines (the runner routes them into the
/// task's output: prefixed, grouped or as they come). When `cancel` turns
/// true the build is stopped on the engine ([`DockerError::BuildInterrupted`]).
pub async fn build(
    engine: &Engine,
    spec: &BuildSpec,
    printer: &Printer,
    log: &(dyn Fn(&str) + Sync),
    cancel: watch::Receiver<bool>,
) -> Result<BuildReport, DockerError> {
    match build_once(engine, spec, printer, log, cancel.clone()).await {
        // A dropped connection (seen under heavy load) is retried once; the
        // daemon's layer cache makes the second attempt cheap.
        Err(DockerError::BuildFailed {
            cause: cause @ BuildFailure::ConnectionLost,
            message,
            ..
        }) => {
            printer.warn(&format!(
                "task `{}`: {cause}{message}; building once more",
                spec.task
            ));
            build_once(engine, spec, printer, log, cancel).await
        }
        other => other,
    }
}

async fn build_once(
    engine: &Engine,
    spec: &BuildSpec,
    printer: &Printer,
    log: &(dyn Fn(&str) + Sync),
    mut cancel: watch::Receiver<bool>,
) -> Result<BuildReport, DockerError> {
    let refs = plan_build(spec)?;
    let context = stream_context(&spec.context, &spec.dockerfile).map_err(|e| match e {
        ContextError::MissingDockerfile { path, .. } => DockerError::DockerfileMissing {
            path,
            origin: spec.step.clone(),
        },
        other => context_error(spec, other),
    })?;
    let options = BuildImageOptions {
        dockerfile: context.dockerfile_in_context.clone(),
        t: Some(refs[0].clone()),
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
    };
    let task = spec.task.as_str();
    let spinner = printer.multi_progress().map(|multi| {
        let bar = multi.add(indicatif::ProgressBar::new_spinner());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar.set_message(format!("[{task}] building {}", refs[0]));
        bar
    });
    let mut stream =
        engine
            .docker
            .build_image(options, None, Some(bollard::body_try_stream(context.body)));
    let mut step: Option<String> = None;
    let mut step_output: Vec<String> = Vec::new();
    let mut image_id = String::new();
    let mut failure: Option<(BuildFailure, String)> = None;
    let mut pending = String::new();
    // The container of the step at work (`RUN`, `COPY`, ...), if any.
    let mut container: Option<String> = None;
    let mut interrupted = false;
    loop {
        let item = tokio::select! {
            biased;
            () = cancelled(&mut cancel) => {
                interrupted = true;
                break;
            }
            item = stream.next() => item,
        };
        let Some(item) = item else { break };
        let info = match item {
            Ok(info) => info,
            Err(e) => {
                failure = Some(stream_failure(e));
                break;
            }
        };
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            failure = Some((BuildFailure::Engine, detail));
            break;
        }
        if let Some(id) = info.aux.and_then(|aux| aux.id) {
            image_id = id;
        }
        let Some(text) = info.stream else { continue };
        pending.push_str(&text);
        while let Some(newline) = pending.find('\n') {
            let line: String = pending.drain(..=newline).collect();
            let line = strip_control(line.trim_end());
            if line.is_empty() {
                continue;
            }
            if let Some(id) = line.strip_prefix(" ---> Running in ") {
                container = Some(id.trim().to_owned());
            } else if line.starts_with("Removing intermediate container ") {
                container = None;
            }
            if line.starts_with("Step ") {
                step = Some(line.clone());
                step_output.clear();
                if let Some(bar) = &spinner {
                    // A line per step above the spinner; the spinner shows the step at work.
                    printer.status(task, &line);
                    bar.set_message(format!("[{task}] {line}"));
                }
            } else {
                step_output.push(line.clone());
                if step_output.len() > 40 {
                    step_output.remove(0);
                }
            }
            if spinner.is_none() && !printer.silent {
                log(&line);
            }
        }
    }
    if let Some(bar) = &spinner {
        bar.finish_and_clear();
    }
    if interrupted {
        // Closing the connection is what stops a classic build on the engine.
        drop(stream);
        let container = match container {
            Some(id) => {
                let left = remove_container(engine, &id).await.err();
                Some((id, left))
            }
            None => None,
        };
        return Err(DockerError::BuildInterrupted {
            image: refs[0].clone(),
            step,
            container,
        });
    }
    let stats = context.stats.await.unwrap_or_else(|_| {
        Err(ContextError::Io {
            path: spec.context.clone(),
            source: std::io::Error::other("context writer stopped"),
        })
    });
    if let Some((cause, message)) = failure {
        // A context error explains a broken stream better than the daemon's EOF.
        if let Err(e) = stats {
            return Err(context_error(spec, e));
        }
        return Err(DockerError::BuildFailed {
            image: refs[0].clone(),
            step,
            output: step_output,
            cause,
            message,
            origin: spec.image.origin.clone(),
        });
    }
    let stats = stats.map_err(|e| context_error(spec, e))?;
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
    let report = BuildReport {
        refs: refs.clone(),
        id: inspect.id.unwrap_or(image_id),
        size: inspect.size.unwrap_or(0),
        layers: inspect
            .root_fs
            .and_then(|r| r.layers)
            .map_or(0, |l| l.len()),
        context: stats,
    };
    summarize(printer, task, &report);
    Ok(report)
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
        other => (BuildFailure::Engine, other.to_string()),
    }
}

/// Removes a build's container (killing it first), or makes sure the engine
/// did: the engine removes it on its own once the build's connection is gone,
/// and meanwhile answers that a removal is already in progress.
async fn remove_container(engine: &Engine, id: &str) -> Result<(), String> {
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

fn summarize(printer: &Printer, task: &str, report: &BuildReport) {
    let c = &report.context;
    let short_id = report
        .id
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect::<String>();
    printer.status(
        task,
        &format!(
            "built {} ({short_id}, {}, {} layers)",
            report.refs.join(", "),
            human_bytes(report.size.max(0) as u64),
            report.layers
        ),
    );
    let mut context = format!("context sent: {} files, {}", c.files, human_bytes(c.bytes));
    if c.has_dockerignore {
        context.push_str(&format!(
            "; .dockerignore kept out {} files ({})",
            c.excluded_files,
            human_bytes(c.excluded_bytes)
        ));
    }
    printer.status(task, &context);
    if let Some(warning) = c.warning() {
        printer.warn(&format!("task `{task}`: {warning}"));
    }
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The daemon colours RUN's stderr; logs get plain text without control characters.
pub fn strip_control(line: &str) -> String {
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

    #[test]
    fn control_sequences_are_stripped() {
        assert_eq!(strip_control("\x1b[91mgo: no deps\x1b[0m"), "go: no deps");
        assert_eq!(strip_control("a\rb\tc"), "ab\tc");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(8_500_000), "8.5 MB");
    }
}
