//! The `push` and `tag` steps. All tags of a push step go concurrently (the
//! registry receives each layer once); transient failures are retried with
//! backoff; a final failure names registry, repository and tag and lists the
//! tags that did land, so nothing is half-pushed without saying so. Cancelling
//! the run closes the push connections, which stops the pushes on the engine;
//! the step then says which tags had landed and which had not.

use super::auth::{credentials_for, Credentials};
use super::reference::{self, Repository};
use super::{final_tags, repository, DockerError, Engine, PushSpec, TagSpec};
use crate::exec::cancelled;
use crate::ui::Printer;
use bollard::query_parameters::{PushImageOptions, TagImageOptions};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;
use tokio::sync::watch;

const TRIES: u32 = 3;

#[derive(Debug, Clone)]
pub struct PushReport {
    pub repository: String,
    /// Each tag with its manifest digest.
    pub pushed: Vec<(String, String)>,
}

/// What a push step will do: source image, target repository, final tags.
pub struct PushPlan {
    pub source: String,
    pub target: Repository,
    pub tags: Vec<String>,
}

pub fn plan_push(spec: &PushSpec) -> Result<PushPlan, DockerError> {
    let (source_repo, source_tag) = reference::split_reference(&spec.image.value);
    repository(&spec.image, source_repo)?;
    let source = format!("{source_repo}:{source_tag}");
    let target = match &spec.to {
        Some(to) => repository(to, &to.value)?,
        None => repository(&spec.image, source_repo)?,
    };
    let mut tags = final_tags(&spec.tags)?;
    if tags.is_empty() {
        tags.push(source_tag.to_owned());
    }
    Ok(PushPlan {
        source,
        target,
        tags,
    })
}

/// Each tag is reported as it lands. When `cancel` turns true the pushes still
/// under way are dropped ([`DockerError::PushInterrupted`]).
pub async fn push(
    engine: &Engine,
    spec: &PushSpec,
    printer: &Printer,
    mut cancel: watch::Receiver<bool>,
) -> Result<PushReport, DockerError> {
    let plan = plan_push(spec)?;
    let name = plan.target.name.clone();
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
                reason: e.to_string(),
            })?;
    }
    let credentials = credentials_for(&plan.target.registry)?;
    let push_tag = |index: usize| {
        let tag = &plan.tags[index];
        push_with_retries(engine, &spec.task, &name, tag, credentials.clone(), printer)
            .map(move |result| (index, result))
    };
    // What each tag came to; `None` while it has not (or never) finished.
    let mut results: Vec<Option<Result<String, Failure>>> =
        plan.tags.iter().map(|_| None).collect();
    let mut record = |(index, result): (usize, Result<String, Failure>)| {
        if let Ok(digest) = &result {
            let tag = &plan.tags[index];
            printer.status(&spec.task, &format!("pushed {name}:{tag} {digest}"));
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
    let mut pushed = Vec::new();
    let mut failed = Vec::new();
    let mut not_landed = Vec::new();
    let mut denied = false;
    for (tag, result) in plan.tags.iter().zip(results) {
        match result {
            Some(Ok(digest)) => pushed.push((tag.clone(), digest)),
            Some(Err(failure)) => {
                denied |= failure.denied;
                not_landed.push(tag.clone());
                failed.push((tag.clone(), failure.message));
            }
            None => not_landed.push(tag.clone()),
        }
    }
    if interrupted {
        return Err(DockerError::PushInterrupted {
            registry: plan.target.registry.clone(),
            repository: plan.target.path.clone(),
            landed: pushed.into_iter().map(|(t, _)| t).collect(),
            not_landed,
        });
    }
    if !failed.is_empty() {
        return Err(DockerError::PushFailed {
            registry: plan.target.registry.clone(),
            repository: plan.target.path.clone(),
            failed,
            landed: pushed.into_iter().map(|(t, _)| t).collect(),
            denied,
        });
    }
    Ok(PushReport {
        repository: name,
        pushed,
    })
}

struct Failure {
    message: String,
    denied: bool,
    transient: bool,
}

impl Failure {
    fn classify(message: String) -> Failure {
        let lower = message.to_lowercase();
        let denied = [
            "denied",
            "unauthorized",
            "authentication required",
            "no basic auth credentials",
            "401",
        ]
        .iter()
        .any(|w| lower.contains(w));
        let transient = !denied
            && [
                "connection reset",
                "connection refused",
                "eof",
                "timeout",
                "timed out",
                "502",
                "503",
                "504",
                "500",
                "temporarily",
                "blob unknown",
                "digest invalid",
            ]
            .iter()
            .any(|w| lower.contains(w));
        Failure {
            message,
            denied,
            transient,
        }
    }
}

async fn push_with_retries(
    engine: &Engine,
    task: &str,
    name: &str,
    tag: &str,
    credentials: Option<Credentials>,
    printer: &Printer,
) -> Result<String, Failure> {
    let mut attempt = 1;
    loop {
        match push_once(engine, task, name, tag, credentials.clone(), printer).await {
            Ok(digest) => return Ok(digest),
            Err(failure) if failure.transient && attempt < TRIES => {
                let wait = Duration::from_millis(500 * 2u64.pow(attempt - 1));
                printer.warn(&format!(
                    "task `{task}`: push of {name}:{tag} failed ({}); retrying in {:.1} s",
                    failure.message,
                    wait.as_secs_f32()
                ));
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(failure) => return Err(failure),
        }
    }
}

async fn push_once(
    engine: &Engine,
    task: &str,
    name: &str,
    tag: &str,
    credentials: Option<Credentials>,
    printer: &Printer,
) -> Result<String, Failure> {
    let options = PushImageOptions {
        tag: Some(tag.to_owned()),
        ..Default::default()
    };
    let mut stream = engine
        .docker
        .push_image(name, Some(options), credentials.map(|c| c.0));
    let mut digest = String::new();
    // A bar per layer on a terminal. bollard's push messages carry no layer id,
    // so layers are told apart by their size (two layers of one size share a bar).
    let style = ProgressStyle::with_template("{prefix} {bar:30} {bytes}/{total_bytes} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let mut bars: std::collections::HashMap<u64, ProgressBar> = std::collections::HashMap::new();
    let result = loop {
        let Some(item) = stream.next().await else {
            break Ok(());
        };
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                break Err(Failure::classify(error))
            }
            Err(e) => break Err(Failure::classify(e.to_string())),
        };
        if let Some(message) = info.error_detail.and_then(|d| d.message) {
            break Err(Failure::classify(message));
        }
        let status = info.status.unwrap_or_default();
        if let Some(found) = status.split_whitespace().find(|w| w.starts_with("sha256:")) {
            if status.contains("digest:") {
                digest = found.to_owned();
            }
        }
        let detail = info
            .progress_detail
            .and_then(|d| Some((d.current?, d.total?)));
        if let (Some(multi), Some((current, total))) = (printer.multi_progress(), detail) {
            let total = total.max(0) as u64;
            let bar = bars.entry(total).or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(total).with_style(style.clone()));
                bar.set_prefix(format!("[{task}] {tag}"));
                bar
            });
            bar.set_position(current.max(0) as u64);
            bar.set_message(status.clone());
        }
    };
    for bar in bars.values() {
        bar.finish_and_clear();
    }
    result?;
    if digest.is_empty() {
        return Err(Failure::classify(format!(
            "the registry gave no digest for {name}:{tag}"
        )));
    }
    Ok(digest)
}

/// The `tag` step's target as repository and tag, validated.
pub fn plan_tag(spec: &TagSpec) -> Result<(String, String), DockerError> {
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
        clean.first().cloned().unwrap_or_else(|| "latest".into()),
    ))
}

/// The `tag` step: `image` (repo:tag) gets the name `target` (repo:tag) locally.
pub async fn tag(engine: &Engine, spec: &TagSpec, printer: &Printer) -> Result<(), DockerError> {
    let (repo, tag) = reference::split_reference(&spec.target.value);
    repository(&spec.target, repo)?;
    let clean = super::final_tags(&[super::Rendered {
        value: tag.to_owned(),
        ..spec.target.clone()
    }])?;
    let tag = clean.first().cloned().unwrap_or_else(|| "latest".into());
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
            reason: e.to_string(),
        })?;
    printer.status(
        &spec.task,
        &format!("tagged {} as {repo}:{tag}", spec.image.value),
    );
    Ok(())
}
