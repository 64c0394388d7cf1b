//! The docker CLI lines of a task that `--migrate` turns into image steps (a
//! Taskfile's, and a Makefile's through [`recognise_commands`]):
//! `docker build ... --tag R:T ...`, `docker tag R:A R:B` after it (a further
//! tag of the built image), `docker tag R:T U:T` + `docker push U:T` (a push
//! of R's tags to U), each optionally behind the `[ -z "X" ] ||` idiom whose
//! `X` is the tag itself (hoist skips an empty tag). A task whose docker lines
//! do not all fit is left as it is.

use super::migrate::key;
use super::model::{Action, Task, Taskfile};
use std::fmt::Write as _;

#[derive(Debug, Default, Clone)]
pub(crate) struct Build {
    pub context: String,
    pub dockerfile: Option<String>,
    pub target: Option<String>,
    pub args: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub no_cache: bool,
    pub pull: bool,
    pub network: Option<String>,
    pub platform: Option<String>,
    pub image: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Push {
    pub image: String,
    pub to: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum ImageStep {
    Build(Build),
    Push(Push),
}

pub(crate) enum Slot<'a> {
    /// Not a docker line: translate it as a command.
    Shell,
    /// The first line of an image step: the step goes here.
    Step(&'a ImageStep),
    /// A line folded into a step elsewhere.
    Absorbed,
}

pub(crate) struct Recognised {
    steps: Vec<(usize, ImageStep)>,
    absorbed: Vec<usize>,
    /// Why the task's docker lines stay shell commands.
    pub refused: Option<String>,
}

impl Recognised {
    pub(crate) fn at(&self, index: usize) -> Slot<'_> {
        if let Some((_, step)) = self.steps.iter().find(|(i, _)| *i == index) {
            return Slot::Step(step);
        }
        if self.absorbed.contains(&index) {
            return Slot::Absorbed;
        }
        Slot::Shell
    }
}

/// Splits a command line into words: quotes removed, `{{ }}` kept whole,
/// `||`, `&&`, `(` and `)` as words of their own. `None` for anything more
/// (pipes, redirections, substitutions, `;`).
fn words(line: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut has_word = false;
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' && chars.get(i + 1) == Some(&'{') {
            let rest: String = chars[i..].iter().collect();
            let end = rest.find("}}")? + 2;
            word.push_str(&rest[..end]);
            has_word = true;
            i += rest[..end].chars().count();
            continue;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if matches!(c, '$' | '`' | '\\') {
                return None;
            } else {
                word.push(c);
            }
            i += 1;
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                has_word = true;
            }
            ' ' | '\t' => {
                if has_word {
                    out.push(std::mem::take(&mut word));
                    has_word = false;
                }
            }
            '(' | ')' => {
                if has_word {
                    out.push(std::mem::take(&mut word));
                    has_word = false;
                }
                out.push(c.to_string());
            }
            '|' | '&' if chars.get(i + 1) == Some(&c) => {
                if has_word {
                    out.push(std::mem::take(&mut word));
                    has_word = false;
                }
                out.push(format!("{c}{c}"));
                i += 1;
            }
            '|' | '&' | ';' | '<' | '>' | '$' | '`' | '\\' | '\n' | '*' | '?' => return None,
            _ => {
                word.push(c);
                has_word = true;
            }
        }
        i += 1;
    }
    if quote.is_some() {
        return None;
    }
    if has_word {
        out.push(word);
    }
    Some(out)
}

/// `R:T` split at its last `:` outside `{{ }}` and after the last `/`.
fn split_ref(reference: &str) -> Option<(String, String)> {
    let mut depth = 0usize;
    let mut last = None;
    let bytes = reference.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{{") {
            depth += 1;
            i += 2;
            continue;
        }
        if bytes[i..].starts_with(b"}}") {
            depth = depth.saturating_sub(1);
            i += 2;
            continue;
        }
        match bytes[i] {
            b'/' if depth == 0 => last = None,
            b':' if depth == 0 => last = Some(i),
            _ => {}
        }
        i += 1;
    }
    let at = last?;
    Some((reference[..at].to_owned(), reference[at + 1..].to_owned()))
}

/// One docker command, behind an optional `[ -z "X" ] ||`.
enum Docker {
    Build(Build),
    Tag {
        from: (String, String),
        to: (String, String),
    },
    Push((String, String)),
}

struct Line {
    index: usize,
    condition: Option<String>,
    command: Docker,
}

fn parse_build(words: &[String]) -> Option<Build> {
    let mut build = Build::default();
    let mut context = None;
    let mut i = 0;
    let mut tags = Vec::new();
    while i < words.len() {
        let w = &words[i];
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (w.as_str(), None),
        };
        let mut value = || -> Option<String> {
            if let Some(v) = &inline {
                return Some(v.clone());
            }
            i += 1;
            words.get(i).cloned()
        };
        match flag {
            "--tag" | "-t" => tags.push(value()?),
            "--build-arg" => {
                let v = value()?;
                let (k, v) = v.split_once('=')?;
                build.args.push((k.to_owned(), v.to_owned()));
            }
            "--label" => {
                let v = value()?;
                let (k, v) = v.split_once('=')?;
                build.labels.push((k.to_owned(), v.to_owned()));
            }
            "--target" => build.target = Some(value()?),
            "--file" | "-f" => build.dockerfile = Some(value()?),
            "--network" => build.network = Some(value()?),
            "--platform" => build.platform = Some(value()?),
            "--no-cache" => build.no_cache = true,
            "--pull" => build.pull = true,
            f if f.starts_with('-') => return None,
            _ if context.is_none() => context = Some(w.clone()),
            _ => return None,
        }
        i += 1;
    }
    build.context = context?;
    for tag in tags {
        let (repo, t) = split_ref(&tag).unwrap_or((tag.clone(), "latest".to_owned()));
        if !build.image.is_empty() && build.image != repo {
            return None;
        }
        build.image = repo;
        build.tags.push(t);
    }
    (!build.image.is_empty()).then_some(build)
}

/// The docker commands of one line; `None` when the line is not one of the
/// forms this module knows (then it is no docker line, or one it refuses).
fn parse_line(index: usize, text: &str) -> Option<Result<Vec<Line>, String>> {
    if !text.contains("docker") {
        return None;
    }
    let refuse = |why: &str| Some(Err(format!("`{text}`: {why}")));
    let Some(mut w) = words(text) else {
        return refuse("shell syntax beyond the docker CLI");
    };
    let mut condition = None;
    if w.len() > 4 && (w[0] == "[" && w[1] == "-z" && w[3] == "]" || w[0] == "test" && w[1] == "-z")
    {
        let skip = if w[0] == "[" { 4 } else { 3 };
        if w.get(skip).map(String::as_str) != Some("||") {
            return refuse("a condition other than `[ -z \"X\" ] ||`");
        }
        condition = Some(w[2].clone());
        w.drain(..=skip);
    }
    if w.first().map(String::as_str) == Some("(") && w.last().map(String::as_str) == Some(")") {
        w.remove(0);
        w.pop();
    }
    let mut lines = Vec::new();
    for part in w.split(|x| x == "&&") {
        if part.first().map(String::as_str) != Some("docker") {
            return refuse("not only docker commands");
        }
        let command = match part.get(1).map(String::as_str) {
            Some("build") => match parse_build(&part[2..]) {
                Some(b) => Docker::Build(b),
                None => return refuse("a `docker build` flag or form it does not translate"),
            },
            Some("tag") if part.len() == 4 => {
                let (Some(from), Some(to)) = (split_ref(&part[2]), split_ref(&part[3])) else {
                    return refuse("an image reference without a tag");
                };
                Docker::Tag { from, to }
            }
            Some("push") if part.len() == 3 => match split_ref(&part[2]) {
                Some(r) => Docker::Push(r),
                None => return refuse("an image reference without a tag"),
            },
            _ => return refuse("a docker command other than build, tag, push"),
        };
        lines.push(Line {
            index,
            condition: condition.clone(),
            command,
        });
    }
    Some(Ok(lines))
}

/// One command as the recogniser sees it: its text, and whether it is a
/// plain command (a deferred, looped, conditional or `ignore_error` one never
/// becomes an image step).
pub(crate) struct Command<'a> {
    pub text: &'a str,
    pub plain: bool,
}

/// Tags every `docker build` among `texts` (all of a file's commands) gives
/// each image (with the further tags added to it), for pushes in other tasks.
pub(crate) fn built_tags<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, text) in texts.into_iter().enumerate() {
        if let Some(Ok(lines)) = parse_line(i, text) {
            for line in lines {
                match line.command {
                    Docker::Build(b) => {
                        out.extend(b.tags.iter().map(|t| (b.image.clone(), t.clone())));
                    }
                    Docker::Tag { from, to } if from.0 == to.0 => out.push(to),
                    _ => {}
                }
            }
        }
    }
    out
}

/// The image steps a go-task task's docker lines make.
pub(crate) fn recognise(task: &Task, file: &Taskfile) -> Recognised {
    let shell_texts = |task: &'_ Task| -> Vec<(String, bool)> {
        task.cmds
            .iter()
            .map(|cmd| match &cmd.action {
                Action::Shell(text) => (
                    text.clone(),
                    !(cmd.defer
                        || cmd.looping.is_some()
                        || cmd.condition.is_some()
                        || cmd.ignore_error),
                ),
                Action::Call { .. } => (String::new(), true),
            })
            .collect()
    };
    let all: Vec<(String, bool)> = file.tasks.values().flat_map(|t| shell_texts(t)).collect();
    let built = built_tags(all.iter().map(|(t, _)| t.as_str()));
    let own = shell_texts(task);
    let commands: Vec<Command<'_>> = own
        .iter()
        .map(|(text, plain)| Command {
            text,
            plain: *plain,
        })
        .collect();
    recognise_commands(&commands, &built)
}

/// The image steps among one task's commands; `built` is [`built_tags`] of
/// the whole file. Indexes in the result are those of `commands`.
pub(crate) fn recognise_commands(
    commands: &[Command<'_>],
    built: &[(String, String)],
) -> Recognised {
    let mut lines = Vec::new();
    let none = |why: String| Recognised {
        steps: Vec::new(),
        absorbed: Vec::new(),
        refused: Some(why),
    };
    for (i, cmd) in commands.iter().enumerate() {
        match parse_line(i, cmd.text) {
            None => {}
            Some(Err(why)) => return none(why),
            Some(Ok(found)) => {
                if !cmd.plain {
                    return none(format!(
                        "`{}`: a deferred, looped, conditional or ignore_error command",
                        cmd.text
                    ));
                }
                lines.extend(found);
            }
        }
    }
    if lines.is_empty() {
        return Recognised {
            steps: Vec::new(),
            absorbed: Vec::new(),
            refused: None,
        };
    }
    match fold(lines, built) {
        Ok((steps, absorbed)) => Recognised {
            steps,
            absorbed,
            refused: None,
        },
        Err(why) => none(why),
    }
}

/// A tag behind `[ -z "X" ] ||` must be `X` itself (hoist skips it when empty).
fn conditional_ok(condition: Option<&String>, tag: &str) -> bool {
    condition.is_none_or(|c| c == tag)
}

type Ref = (String, String);

/// The local image a pushed reference comes from, and the repository it
/// goes to (`None`: pushed under its own name).
fn push_source(
    pushed: &Ref,
    aliases: &[(Ref, Ref)],
    built: &[Ref],
    builds: &[(usize, Build)],
) -> Result<(String, Option<String>), String> {
    let Some((_, from)) = aliases.iter().find(|(to, _)| to == pushed) else {
        return Ok((pushed.0.clone(), None));
    };
    let has_tag = from.1 == pushed.1
        || built.iter().any(|(i, t)| *i == from.0 && *t == pushed.1)
        || builds
            .iter()
            .any(|(_, b)| b.image == from.0 && b.tags.contains(&pushed.1));
    if !has_tag {
        return Err(format!(
            "{}:{} is pushed from {}:{}, a tag no build gives",
            pushed.0, pushed.1, from.0, from.1
        ));
    }
    Ok((from.0.clone(), Some(pushed.0.clone())))
}

type Folded = (Vec<(usize, ImageStep)>, Vec<usize>);

fn fold(lines: Vec<Line>, built: &[(String, String)]) -> Result<Folded, String> {
    let mut builds: Vec<(usize, Build)> = Vec::new();
    let mut aliases: Vec<((String, String), (String, String))> = Vec::new();
    let mut pushes: Vec<(usize, Push)> = Vec::new();
    let mut absorbed = Vec::new();
    for line in lines {
        match line.command {
            Docker::Build(b) => {
                if line.condition.is_some() {
                    return Err("a conditional `docker build`".into());
                }
                builds.push((line.index, b));
            }
            Docker::Tag { from, to } => {
                if !conditional_ok(line.condition.as_ref(), &to.1) {
                    return Err(format!(
                        "`docker tag` of {}:{} behind a condition on another value",
                        to.0, to.1
                    ));
                }
                if let Some((_, b)) = builds
                    .iter_mut()
                    .find(|(_, b)| b.image == from.0 && from.0 == to.0)
                {
                    if !b.tags.contains(&to.1) {
                        b.tags.push(to.1.clone());
                    }
                } else {
                    aliases.push((to, from));
                }
                absorbed.push(line.index);
            }
            Docker::Push(pushed) => {
                if !conditional_ok(line.condition.as_ref(), &pushed.1) {
                    return Err(format!(
                        "`docker push` of {}:{} behind a condition on another value",
                        pushed.0, pushed.1
                    ));
                }
                let (image, to) = push_source(&pushed, &aliases, built, &builds)?;
                match pushes
                    .iter_mut()
                    .find(|(_, p)| p.image == image && p.to == to)
                {
                    Some((_, p)) => {
                        p.tags.push(pushed.1.clone());
                        absorbed.push(line.index);
                    }
                    None => pushes.push((
                        line.index,
                        Push {
                            image,
                            to,
                            tags: vec![pushed.1.clone()],
                        },
                    )),
                }
            }
        }
    }
    // A tag made only for a push that never came would be lost: refuse.
    for (to, _) in &aliases {
        if !pushes
            .iter()
            .any(|(_, p)| p.to.as_ref() == Some(&to.0) && p.tags.contains(&to.1))
        {
            return Err(format!(
                "`docker tag` to {}:{} without a push of it",
                to.0, to.1
            ));
        }
    }
    let step_lines: Vec<usize> = builds
        .iter()
        .map(|(i, _)| *i)
        .chain(pushes.iter().map(|(i, _)| *i))
        .collect();
    absorbed.retain(|i| !step_lines.contains(i));
    absorbed.sort_unstable();
    absorbed.dedup();
    let mut steps: Vec<(usize, ImageStep)> = builds
        .into_iter()
        .map(|(i, b)| (i, ImageStep::Build(b)))
        .chain(pushes.into_iter().map(|(i, p)| (i, ImageStep::Push(p))))
        .collect();
    steps.sort_by_key(|(i, _)| *i);
    Ok((steps, absorbed))
}

/// An image step as the YAML list item of a `cmds:` list (indented for a
/// task's `cmds`); `t` turns each value into a quoted YAML scalar.
pub(crate) fn step_yaml(step: &ImageStep, t: &mut dyn FnMut(&str) -> String) -> String {
    let mut out = String::new();
    match step {
        ImageStep::Build(b) => {
            out.push_str("      - build:\n");
            let _ = writeln!(out, "          context: {}", t(&b.context));
            if let Some(f) = &b.dockerfile {
                let _ = writeln!(out, "          dockerfile: {}", t(f));
            }
            if let Some(target) = &b.target {
                let _ = writeln!(out, "          target: {}", t(target));
            }
            for (field, pairs) in [("args", &b.args), ("labels", &b.labels)] {
                if !pairs.is_empty() {
                    let items: Vec<String> = pairs
                        .iter()
                        .map(|(k, v)| format!("{}: {}", key(k), t(v)))
                        .collect();
                    let _ = writeln!(out, "          {field}: {{{}}}", items.join(", "));
                }
            }
            if b.no_cache {
                out.push_str("          no_cache: true\n");
            }
            if b.pull {
                out.push_str("          pull: true\n");
            }
            if let Some(n) = &b.network {
                let _ = writeln!(out, "          network: {}", t(n));
            }
            if let Some(p) = &b.platform {
                let _ = writeln!(out, "          platform: {}", t(p));
            }
            let _ = writeln!(out, "          image: {}", t(&b.image));
            let tags: Vec<String> = b.tags.iter().map(|x| t(x)).collect();
            let _ = writeln!(out, "          tags: [{}]", tags.join(", "));
        }
        ImageStep::Push(p) => {
            out.push_str("      - push:\n");
            let _ = writeln!(out, "          image: {}", t(&p.image));
            if let Some(to) = &p.to {
                let _ = writeln!(out, "          to: {}", t(to));
            }
            let tags: Vec<String> = p.tags.iter().map(|x| t(x)).collect();
            let _ = writeln!(out, "          tags: [{}]", tags.join(", "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{split_ref, words};

    #[test]
    fn words_keep_templates_whole_and_split_operators() {
        assert_eq!(
            words("[ -z \"{{.B}}\" ] || (docker tag {{.P}}:latest {{.U}}:{{.B}} && docker push {{.U}}:{{.B}})").unwrap(),
            ["[", "-z", "{{.B}}", "]", "||", "(", "docker", "tag", "{{.P}}:latest", "{{.U}}:{{.B}}", "&&", "docker", "push", "{{.U}}:{{.B}}", ")"]
        );
        assert!(words("docker push x | tee log").is_none());
        assert!(words("docker push $(cat name)").is_none());
    }

    #[test]
    fn references_split_at_the_tag_colon() {
        assert_eq!(
            split_ref("localhost:5000/go/{{.P}}:{{.V}}"),
            Some(("localhost:5000/go/{{.P}}".into(), "{{.V}}".into()))
        );
        assert_eq!(split_ref("localhost:5000/go/x"), None);
        assert_eq!(
            split_ref("{{.URI}}:latest"),
            Some(("{{.URI}}".into(), "latest".into()))
        );
    }
}
