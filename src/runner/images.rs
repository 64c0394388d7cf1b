//! Image steps in a run: render `build`, `push` and `tag` into the docker
//! module's specs, apply the `latest` policy, then describe (`--dry`) or execute.

use super::{Failed, Runner};
use crate::docker::{
    self, BuildSpec, Builder, DockerError, ImageMetadata, PushSpec, Rendered, SecretSource, TagSpec,
};
use crate::error::{Error, Result};
use crate::exec::Sink;
use crate::taskfile::{BuildStep, BuilderChoice, LatestPolicy, SecretFrom, Step, Text};
use crate::ui::{ImageProgress, Printer};
use crate::vars::{Effects, Scope};
use indexmap::IndexMap;
use serde_saphyr::{Location, Spanned};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The engine connection, made on the first image step that runs (never for
/// `--dry`), and the steps the pre-flight already rendered.
#[derive(Default)]
pub(super) struct ImageSteps {
    engine: tokio::sync::OnceCell<docker::Engine>,
    preflighted: Mutex<HashMap<StepKey, ImageSpec>>,
}

/// A step in the task file: its task and where it is written.
type StepKey = (String, u64, u64);

fn step_key(task: &str, step: &Spanned<Step>) -> StepKey {
    let at = &step.referenced;
    (task.to_owned(), at.line(), at.column())
}

/// A rendered image step.
pub(super) enum ImageSpec {
    Build(Box<BuildSpec>),
    Push(PushSpec),
    Tag(TagSpec),
}

impl ImageSteps {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run(
        &self,
        runner: &Arc<Runner>,
        task: &str,
        label: &str,
        scope: &Arc<Scope>,
        step: &Spanned<Step>,
        inner: &Step,
        quiet: bool,
        task_ignores_error: bool,
        sink: &Sink,
        cancel: watch::Receiver<bool>,
    ) -> std::result::Result<(), Failed> {
        let flags = inner.image_flags().unwrap_or_default();
        let spec = self.spec(runner, task, scope, step, inner).await?;
        if runner.options().dry {
            return describe(runner, task, label, &spec);
        }
        // A silent step shows no status line, build log or progress; its
        // error, if any, is reported like any other.
        let silenced;
        let printer = if flags.silent {
            silenced = runner.printer().silenced();
            &silenced
        } else {
            runner.printer().as_ref()
        };
        let result = async {
            let engine = self.engine(runner).await?;
            if !quiet && !flags.silent {
                printer.status(label, &spec.summary());
            }
            execute(engine, printer, task, label, &spec, sink, cancel).await
        }
        .await;
        let Err(error) = result else { return Ok(()) };
        if !error.is_interruption() && (flags.ignore_error || task_ignores_error) {
            let error = Error::Docker {
                task: Some(task.to_owned()),
                error: Box::new(error),
            };
            runner.printer().warn(&format!("{error} (ignored)"));
            return Ok(());
        }
        Err(docker_failure(runner, task, error))
    }

    /// The step rendered: by the pre-flight, which rendered it in the same
    /// scope (no call vars), on its first run; else now.
    async fn spec(
        &self,
        runner: &Arc<Runner>,
        task: &str,
        scope: &Arc<Scope>,
        step: &Spanned<Step>,
        inner: &Step,
    ) -> std::result::Result<ImageSpec, Failed> {
        let preflighted = if scope.is_plain() {
            self.preflighted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&step_key(task, step))
        } else {
            None
        };
        if let Some(spec) = preflighted {
            return Ok(spec);
        }
        let (scope, inner, at) = (scope.clone(), inner.clone(), step.referenced);
        super::evaluate(move |fx| render(&scope, &inner, &at, fx))
            .await
            .map_err(|e| runner.record_failure(e))
    }

    /// The engine connection, made on first use.
    async fn engine(
        &self,
        runner: &Arc<Runner>,
    ) -> std::result::Result<&docker::Engine, DockerError> {
        self.engine
            .get_or_try_init(|| async {
                let engine = docker::Engine::connect().await?;
                let api = engine.api_version();
                runner.printer().verbose(&format!(
                    "{} at {} (API {api})",
                    engine.name(),
                    engine.host
                ));
                Ok(engine)
            })
            .await
    }
}

impl ImageSpec {
    /// What the step does, in a line: `build app:v1`.
    fn summary(&self) -> String {
        match self {
            ImageSpec::Build(s) => format!("build {}", s.image.value),
            ImageSpec::Push(s) => format!("push {}", s.image.value),
            ImageSpec::Tag(s) => format!("tag {} as {}", s.image.value, s.target.value),
        }
    }
}

/// `--dry`: what the step would do, contacting nothing.
fn describe(
    runner: &Arc<Runner>,
    task: &str,
    label: &str,
    spec: &ImageSpec,
) -> std::result::Result<(), Failed> {
    let text = match spec {
        ImageSpec::Build(s) => docker::describe_build(s),
        ImageSpec::Push(s) => docker::describe_push(s),
        ImageSpec::Tag(s) => docker::describe_tag(s),
    }
    .map_err(|error| docker_failure(runner, task, error))?;
    for line in text.lines() {
        runner.printer().status(label, line);
    }
    Ok(())
}

/// Runs the step on the engine, its progress drawn by the ui and the build's
/// output routed into the task's output (prefixed, grouped or as it comes).
async fn execute(
    engine: &docker::Engine,
    printer: &Printer,
    task: &str,
    label: &str,
    spec: &ImageSpec,
    sink: &Sink,
    cancel: watch::Receiver<bool>,
) -> std::result::Result<(), DockerError> {
    let output = |line: &str| match sink {
        Sink::Direct => printer.out_line(&format!("[{label}] {line}"), false),
        other => other.line(printer, line, false),
    };
    let progress = ImageProgress::new(printer, task, &output);
    match spec {
        ImageSpec::Build(s) => docker::build(engine, s, &progress, cancel).await.map(drop),
        ImageSpec::Push(s) => docker::push(engine, s, &progress, cancel).await.map(drop),
        ImageSpec::Tag(s) => docker::tag(engine, s, &progress).await,
    }
}

fn docker_failure(runner: &Runner, task: &str, error: DockerError) -> Failed {
    if error.is_interruption() {
        // The run's own error (`interrupted`, or the failure that
        // cancelled it) is already recorded; this says what was stopped.
        runner.printer().warn(&format!("task `{task}`: {error}"));
        return Failed;
    }
    runner.record_failure(Error::Docker {
        task: Some(task.to_owned()),
        error: Box::new(error),
    })
}

/// Checks every image step the run can reach before anything runs, so that an
/// invalid tag or repository fails before a build starts or a tag is pushed.
/// Steps whose templates need call vars are checked when they run instead.
pub(super) fn preflight(runner: &Arc<Runner>, graph: &crate::graph::Graph) -> Result<()> {
    let taskfile = &runner.session().taskfile;
    for name in graph.edges.keys() {
        let Some((_, task)) = taskfile.find(name) else {
            continue;
        };
        let is_image =
            |s: &&Spanned<Step>| matches!(s.value, Step::Build(_) | Step::Push(_) | Step::Tag(_));
        let mut steps = task.value.cmds.iter().filter(is_image).peekable();
        if steps.peek().is_none() {
            continue;
        }
        // The same scope (and directory) the task runs in; if it cannot be made
        // without call vars, the steps are checked when they run.
        // It reads git but runs no command: an `sh:` var may need a dep's work.
        let Ok(scope) =
            runner
                .session()
                .scope_for_task(name, task, IndexMap::default(), Effects::Git)
        else {
            continue;
        };
        for step in steps {
            // A step that cannot be rendered yet (it needs an `sh:` var) or
            // fails to render is checked, and reported, when it runs.
            let Ok(spec) = render(&scope, &step.value, &step.referenced, Effects::Git) else {
                continue;
            };
            let planned = match &spec {
                ImageSpec::Build(s) => docker::plan_build(s).map(|_| ()),
                ImageSpec::Push(s) => docker::plan_push(s).map(|_| ()),
                ImageSpec::Tag(s) => docker::describe_tag(s).map(|_| ()),
            };
            planned.map_err(|error| Error::Docker {
                task: Some(name.clone()),
                error: Box::new(error),
            })?;
            runner
                .images
                .preflighted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(step_key(name, step), spec);
        }
    }
    Ok(())
}

pub(super) fn render(
    scope: &Arc<Scope>,
    step: &Step,
    at: &Location,
    fx: Effects,
) -> Result<ImageSpec> {
    let r = Renderer { scope, at, fx };
    Ok(match step {
        Step::Build(b) => r.build(b)?.into(),
        Step::Push(p) => PushSpec {
            image: r.text(&p.image, "image")?,
            to: p
                .to
                .as_ref()
                .map(|t| r.text(t, "push target"))
                .transpose()?,
            tags: r.tags(&p.tags, p.latest)?,
        }
        .into(),
        Step::Tag(t) => TagSpec {
            image: r.text(&t.image, "image")?,
            target: r.text(&t.target, "tag target")?,
        }
        .into(),
        _ => unreachable!("only image steps are rendered here"),
    })
}

/// Renders the values of one image step, written at `at`.
struct Renderer<'a> {
    scope: &'a Arc<Scope>,
    at: &'a Location,
    fx: Effects,
}

impl Renderer<'_> {
    fn text(&self, t: &Text, what: &str) -> Result<Rendered> {
        Ok(Rendered {
            value: self.scope.render(t, self.at, what, self.fx)?,
            template: t.value.clone(),
            origin: self.scope.session().taskfile.origin_of(t, self.at),
        })
    }

    /// An optional value; rendered empty is the same as not given.
    fn opt(&self, t: Option<&Text>, what: &str) -> Result<Option<String>> {
        t.map(|t| self.scope.render(t, self.at, what, self.fx))
            .transpose()
            .map(|v| v.filter(|s| !s.is_empty()))
    }

    /// The tags, `latest` dropped where the policy says so.
    fn tags(&self, list: &[Text], policy: LatestPolicy) -> Result<Vec<Rendered>> {
        let mut out = Vec::new();
        for t in list {
            let rendered = self.text(t, "image tag")?;
            if rendered.value.trim() == "latest" && !keep_latest(self.scope, policy, self.fx)? {
                continue;
            }
            out.push(rendered);
        }
        Ok(out)
    }

    fn pairs(&self, map: &IndexMap<String, Text>, what: &str) -> Result<Vec<(String, String)>> {
        map.iter()
            .map(|(k, v)| Ok((k.clone(), self.scope.render(v, self.at, what, self.fx)?)))
            .collect()
    }

    fn lookup(&self, name: &str) -> Result<String> {
        Ok(self
            .scope
            .lookup(name, self.fx)?
            .map(|v| super::value_text(&v))
            .unwrap_or_default())
    }

    fn build(&self, b: &BuildStep) -> Result<BuildSpec> {
        let scope = self.scope;
        let context = match self.opt(b.context.as_ref(), "build context")? {
            Some(c) => scope.dir().join(c),
            None => scope.dir().to_path_buf(),
        };
        let image = self.text(&b.image, "image")?;
        Ok(BuildSpec {
            step: scope.session().taskfile.origin(self.at),
            context,
            dockerfile: self
                .opt(b.dockerfile.as_ref(), "dockerfile")?
                .unwrap_or_else(|| "Dockerfile".into()),
            target: self.opt(b.target.as_ref(), "target")?,
            args: self.pairs(&b.args, "build arg")?,
            labels: self.pairs(&b.labels, "label")?,
            metadata: ImageMetadata {
                version: self.lookup("VERSION")?,
                revision: self.lookup("GIT_COMMIT")?,
                created: self.lookup("COMMIT_TIME")?,
                source: scope.session().git_remote_url(self.fx)?,
                title: image.value.clone(),
            },
            image,
            tags: self.tags(&b.tags, b.latest)?,
            no_cache: b.no_cache,
            pull: b.pull,
            network: self.opt(b.network.as_ref(), "network")?,
            platform: self.opt(b.platform.as_ref(), "platform")?,
            builder: match b.builder {
                BuilderChoice::Auto => Builder::Auto,
                BuilderChoice::Buildkit => Builder::BuildKit,
                BuilderChoice::Classic => Builder::Classic,
            },
            secrets: self.secrets(&b.secrets)?,
        })
    }

    /// The secrets' sources, rendered (the values are read only by the build).
    fn secrets(&self, map: &IndexMap<String, SecretFrom>) -> Result<Vec<(String, SecretSource)>> {
        map.iter()
            .map(|(id, from)| {
                let source = match from {
                    SecretFrom::Env(name) => SecretSource::Env(self.scope.render(
                        name,
                        self.at,
                        "secret env",
                        self.fx,
                    )?),
                    SecretFrom::File(path) => {
                        SecretSource::File(self.scope.dir().join(self.scope.render(
                            path,
                            self.at,
                            "secret file",
                            self.fx,
                        )?))
                    }
                };
                Ok((id.clone(), source))
            })
            .collect()
    }
}

/// The `latest` policy: `auto` keeps it for a release tag at HEAD or the default branch.
fn keep_latest(scope: &Arc<Scope>, policy: LatestPolicy, fx: Effects) -> Result<bool> {
    Ok(match policy {
        LatestPolicy::Always => true,
        LatestPolicy::Never => false,
        LatestPolicy::Auto => {
            let get = |n: &str| -> Result<String> {
                Ok(scope
                    .lookup(n, fx)?
                    .map(|v| super::value_text(&v))
                    .unwrap_or_default())
            };
            let tag = get("GIT_TAG")?;
            let is_release = tag
                .strip_prefix('v')
                .unwrap_or(&tag)
                .starts_with(|c: char| c.is_ascii_digit());
            let branch = get("GIT_BRANCH")?;
            let default = scope.session().git_default_branch(fx)?;
            is_release || (!branch.is_empty() && default.as_deref() == Some(branch.as_str()))
        }
    })
}

impl From<BuildSpec> for ImageSpec {
    fn from(s: BuildSpec) -> Self {
        ImageSpec::Build(Box::new(s))
    }
}
impl From<PushSpec> for ImageSpec {
    fn from(s: PushSpec) -> Self {
        ImageSpec::Push(s)
    }
}
impl From<TagSpec> for ImageSpec {
    fn from(s: TagSpec) -> Self {
        ImageSpec::Tag(s)
    }
}
