//! `--dry` descriptions of image steps: everything rendered, nothing contacted,
//! no secret (credentials are not even looked up).

use super::build::labels;
use super::{plan_build, plan_push, BuildSpec, DockerError, PushSpec, TagSpec};

pub(crate) fn describe_build(spec: &BuildSpec) -> Result<String, DockerError> {
    let refs = plan_build(spec)?;
    let context = crate::source::display_path(&spec.context);
    let context = if context.is_empty() {
        ".".to_owned()
    } else {
        context
    };
    let mut out = format!("build {} from context {context}", spec.image.value);
    out.push_str(&format!("\n  dockerfile: {}", spec.dockerfile));
    if let Some(target) = &spec.target {
        out.push_str(&format!("\n  target: {target}"));
    }
    for (k, v) in &spec.args {
        out.push_str(&format!("\n  arg: {k}={v}"));
    }
    for (k, v) in labels(spec) {
        out.push_str(&format!("\n  label: {k}={v}"));
    }
    for flag in [("no_cache", spec.no_cache), ("pull", spec.pull)]
        .iter()
        .filter(|f| f.1)
    {
        out.push_str(&format!("\n  {}: true", flag.0));
    }
    if let Some(network) = &spec.network {
        out.push_str(&format!("\n  network: {network}"));
    }
    if let Some(platform) = &spec.platform {
        out.push_str(&format!("\n  platform: {platform}"));
    }
    match spec.builder {
        super::Builder::Auto => {}
        super::Builder::BuildKit => out.push_str("\n  builder: buildkit"),
        super::Builder::Classic => out.push_str("\n  builder: classic"),
    }
    // The source only: values are read when the build starts.
    for (id, source) in &spec.secrets {
        out.push_str(&format!("\n  secret: {id} ({source})"));
    }
    for r in refs {
        out.push_str(&format!("\n  tag: {r}"));
    }
    Ok(out)
}

pub(crate) fn describe_push(spec: &PushSpec) -> Result<String, DockerError> {
    let plan = plan_push(spec)?;
    let mut out = format!(
        "push {} to {} (registry {})",
        plan.source, plan.target.name, plan.target.registry
    );
    for tag in plan.tags {
        out.push_str(&format!("\n  push: {}:{tag}", plan.target.name));
    }
    Ok(out)
}

pub(crate) fn describe_tag(spec: &TagSpec) -> Result<String, DockerError> {
    let (repo, tag) = super::plan_tag(spec)?;
    Ok(format!("tag {} as {repo}:{tag}", spec.image.value))
}
