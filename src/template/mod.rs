//! The template layer: minijinja, rendering either for a shell command (where
//! untrusted values are quoted, see [`trust`]) or as plain text.

mod bounded;
pub(crate) mod filters;
mod guard;
mod shell_context;
pub(crate) mod trust;

use filters::Wrapped;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use std::ops::Range;
use std::sync::OnceLock;

/// Where rendered text goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A shell command line: untrusted values arrive as one inert word.
    Shell,
    /// Anything else (image refs, paths, env values): values as they are.
    Plain,
}

impl Target {
    fn template_name(self) -> &'static str {
        match self {
            Target::Shell => "shell",
            Target::Plain => "plain",
        }
    }
}

/// A rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub text: String,
    /// An untrusted value that a shell would read (`$`, `;`, spaces, ...)
    /// went into the text as it was (only for [`Target::Plain`]).
    pub tainted: bool,
}

/// Set while rendering when an untrusted value went in unquoted.
struct Tainted;

/// True when a string needs the template engine at all. Most values are plain
/// text; skipping the engine for them keeps `--list` and `--dry` fast.
pub(crate) fn has_markup(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// A rendering failure, before it is placed in a file and task.
#[derive(Debug, Clone)]
pub(crate) struct TemplateError {
    pub message: String,
    /// Byte range of the offending expression inside the template text.
    pub range: Option<Range<usize>>,
    /// Set when the failure is an undefined variable: its name.
    pub undefined: Option<String>,
}

/// minijinja, set up for hoist. Registering minijinja's hundred builtin
/// filters, tests and functions runs about as much code as rendering a dry
/// run's templates does, so most templates render in a basic environment (hoist's
/// own filters and the common string ones), and the full one is made the
/// first time a template needs something only it has.
pub(crate) struct Engine {
    basic: Environment<'static>,
    full: OnceLock<Environment<'static>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// minijinja's global functions. The basic environment has none, so a
/// template that names one goes to the full environment even where a name
/// alone would not fail (`{{ range | default('') }}`).
const BUILTIN_GLOBALS: [&str; 4] = ["range", "dict", "debug", "namespace"];

impl Engine {
    pub(crate) fn new() -> Engine {
        Engine {
            basic: configure(Environment::empty(), Wrapped::Common),
            full: OnceLock::new(),
        }
    }

    fn full(&self) -> &Environment<'static> {
        self.full
            .get_or_init(|| configure(Environment::new(), Wrapped::All))
    }

    pub(crate) fn render(
        &self,
        source: &str,
        ctx: Value,
        target: Target,
    ) -> Result<Rendered, TemplateError> {
        self.render_from(source, ctx, target, true)
    }

    /// What `render` would give without the basic environment, to check
    /// that the two agree.
    #[cfg(test)]
    pub(crate) fn render_in_full(
        &self,
        source: &str,
        ctx: Value,
        target: Target,
    ) -> Result<Rendered, TemplateError> {
        self.render_from(source, ctx, target, false)
    }

    fn render_from(
        &self,
        source: &str,
        ctx: Value,
        target: Target,
        basic_first: bool,
    ) -> Result<Rendered, TemplateError> {
        if let Some((at, operators)) = guard::overlong_tag(source) {
            return Err(TemplateError {
                message: format!(
                    "this tag chains {operators} operators; hoist allows {} in one tag",
                    guard::MAX_OPERATORS
                ),
                range: Some(at..at + 2),
                undefined: None,
            });
        }
        let convert = |e: minijinja::Error| convert(source, &e);
        if basic_first && !BUILTIN_GLOBALS.iter().any(|name| source.contains(name)) {
            // Only a missing filter, test or function is the basic
            // environment's own failure; anything else fails the same way in
            // the full one, after the same lookups.
            match render_in(&self.basic, source, ctx.clone(), target) {
                Err(e) if needs_builtins(&e) => {}
                other => return other.map_err(convert),
            }
        }
        render_in(self.full(), source, ctx, target).map_err(convert)
    }
}

fn needs_builtins(error: &minijinja::Error) -> bool {
    use minijinja::ErrorKind::{UnknownFilter, UnknownFunction, UnknownTest};
    matches!(error.kind(), UnknownFilter | UnknownTest | UnknownFunction)
}

/// hoist's settings and filters on top of `env` (empty, or with minijinja's builtins).
fn configure(mut env: Environment<'static>, wrapped: Wrapped) -> Environment<'static> {
    // A typo in a variable name must fail loudly, not render as "".
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Multi-line commands keep their final newline, as written.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_auto_escape_callback(|name| match name {
        "shell" => AutoEscape::Custom("shell".into()),
        _ => AutoEscape::None,
    });
    env.set_formatter(|out, state, value| {
        let text = trust::text(value);
        let write_failed = |_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write");
        if trust::is_trusted(value) || trust::is_shell_safe(&text) || text.is_empty() {
            return out.write_str(&text).map_err(write_failed);
        }
        if matches!(state.auto_escape(), AutoEscape::Custom(_)) {
            // Quoted once the whole command is known (see shell_context).
            out.write_str(&shell_context::defer(state, &text))
                .map_err(write_failed)
        } else {
            state.get_or_insert_extension(Tainted);
            out.write_str(&text).map_err(write_failed)
        }
    });
    env.add_filter("quote", filters::quote);
    env.add_filter("tag", filters::tag);
    env.add_filter("semver", filters::semver);
    env.add_filter("safe", minijinja::filters::safe);
    filters::keep_trust(&mut env, wrapped);
    // After keep_trust: these bounded ones replace minijinja's outright.
    env.add_filter("indent", bounded::indent);
    env.add_filter("batch", bounded::batch);
    env.add_filter("tojson", bounded::tojson);
    env
}

fn render_in(
    env: &Environment<'static>,
    source: &str,
    ctx: Value,
    target: Target,
) -> Result<Rendered, minijinja::Error> {
    let template = env.template_from_named_str(target.template_name(), source)?;
    let captured = template.render_captured(ctx)?;
    let tainted = captured.state().get_extension::<Tainted>().is_some();
    let text = match captured.state().get_extension::<shell_context::Pending>() {
        Some(pending) => shell_context::resolve(captured.output(), pending),
        None => captured.into_output(),
    };
    Ok(Rendered { text, tainted })
}

fn convert(source: &str, error: &minijinja::Error) -> TemplateError {
    let range = error.range();
    let undefined = if error.kind() == minijinja::ErrorKind::UndefinedError {
        range
            .clone()
            .and_then(|r| source.get(r))
            .map(undefined_name)
    } else {
        None
    };
    let message = match (&undefined, error.detail()) {
        (Some(name), _) => format!("variable `{name}` is not defined"),
        (None, Some(detail)) => format!("{}: {detail}", error.kind()),
        (None, None) => error.kind().to_string(),
    };
    TemplateError {
        message,
        range,
        undefined,
    }
}

/// `env.FOO | default(x)` -> `env.FOO`; the root name for attribute access.
fn undefined_name(expr: &str) -> String {
    let expr = expr.trim();
    let end = expr
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(expr.len());
    expr[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(engine: &Engine, source: &str, ctx: Value) -> String {
        engine.render(source, ctx, Target::Plain).unwrap().text
    }

    #[test]
    fn undefined_variable_is_named() {
        let engine = Engine::new();
        let err = engine
            .render("x {{ VERSIO }} y", Value::from(()), Target::Plain)
            .unwrap_err();
        assert_eq!(err.undefined.as_deref(), Some("VERSIO"));
        assert_eq!(err.range, Some(5..11));
    }

    #[test]
    fn filters_users_need() {
        let engine = Engine::new();
        let ctx = minijinja::context! { B => "feature/Containerise API", L => vec!["a", "b"] };
        let render = |s: &str| plain(&engine, s, ctx.clone());
        assert_eq!(render("{{ B | tag }}"), "feature-containerise-api");
        assert_eq!(
            render("{{ B | lower | replace('/', '_') }}"),
            "feature/containerise api".replace('/', "_")
        );
        assert_eq!(render("{{ B | upper }}"), "FEATURE/CONTAINERISE API");
        assert_eq!(render("{{ '  x ' | trim }}"), "x");
        assert_eq!(render("{{ 'a,b' | split(',') | join('-') }}"), "a-b");
        assert_eq!(render("{{ L | join(' ') }}"), "a b");
        assert_eq!(render("{{ nope | default('d') }}"), "d");
        assert_eq!(render("{{ \"it's\" | quote }}"), r"'it'\''s'");
    }

    #[test]
    fn the_full_environment_only_when_a_template_needs_it() {
        let engine = Engine::new();
        let ctx = minijinja::context! { V => "v1.2.3", L => vec!["b", "a"] };
        let common = [
            "{{ V }}",
            "{{ nope | default('d') }}:{{ V | upper | replace('V', 'x') | trim }}",
            "{{ V | tag }} {{ V | semver('{major}') }} {{ L | join(',') }} {{ V | quote }}",
        ];
        for source in common {
            engine.render(source, ctx.clone(), Target::Plain).unwrap();
        }
        assert!(
            engine.full.get().is_none(),
            "basic templates made the full environment"
        );
        // Builtins only the full environment has: each renders as it would there.
        for source in [
            "{{ L | sort | join('-') }}",
            "{% if V is defined %}{{ V | title }}{% endif %}",
            "{% for i in range(2) %}{{ i }}{% endfor %}",
            "{{ range | default('x') }}",
            "{{ dict(a=1) | tojson }}",
            "{{ V | nosuchfilter }}",
        ] {
            let expected = engine
                .render_in_full(source, ctx.clone(), Target::Plain)
                .map(|r| r.text)
                .map_err(|e| e.message);
            let got = engine
                .render(source, ctx.clone(), Target::Plain)
                .map(|r| r.text)
                .map_err(|e| e.message);
            assert_eq!(got, expected, "{source}");
        }
        assert!(engine.full.get().is_some());
    }

    #[test]
    fn every_builtin_global_sends_a_template_to_the_full_environment() {
        let full = configure(Environment::new(), Wrapped::All);
        let mut names: Vec<&str> = full.globals().map(|(name, _)| name).collect();
        names.sort_unstable();
        let mut known = BUILTIN_GLOBALS.to_vec();
        known.sort_unstable();
        assert_eq!(names, known);
    }

    #[test]
    fn syntax_error_has_a_range() {
        let err = Engine::new()
            .render("{{ a + }}", Value::from(()), Target::Plain)
            .unwrap_err();
        assert!(err.message.contains("syntax error"), "{}", err.message);
        assert!(err.range.is_some());
    }

    #[test]
    fn untrusted_values_are_one_word_in_shell_commands() {
        let engine = Engine::new();
        let ctx = minijinja::context! {
            BRANCH => "feat/$(touch${IFS}PWNED)",
            SAFE_BRANCH => "feature/x",
            FLAGS => trust::trusted(Value::from("-v -race")),
            LIST => trust::trusted(Value::from(vec!["a b", "c"])),
        };
        let shell = |s: &str| engine.render(s, ctx.clone(), Target::Shell).unwrap().text;
        assert_eq!(
            shell("echo {{ BRANCH }}"),
            "echo 'feat/$(touch${IFS}PWNED)'"
        );
        assert_eq!(shell("echo {{ SAFE_BRANCH }}"), "echo feature/x");
        assert_eq!(shell("go test {{ FLAGS }}"), "go test -v -race");
        // Already quoted: never twice.
        assert_eq!(
            shell("echo {{ BRANCH | quote }}"),
            "echo 'feat/$(touch${IFS}PWNED)'"
        );
        // The explicit opt-out.
        assert_eq!(
            shell("echo {{ BRANCH | safe }}"),
            "echo feat/$(touch${IFS}PWNED)"
        );
        // Filters keep the trust of what they were given, and lose it with untrusted input.
        assert_eq!(shell("go test {{ FLAGS | trim }}"), "go test -v -race");
        assert_eq!(shell("go test {{ FLAGS | title }}"), "go test -V -Race");
        assert_eq!(
            shell("go test {{ FLAGS | replace('-v', '-x') }}"),
            "go test -x -race"
        );
        assert_eq!(shell("{{ LIST | join(' ') }}"), "a b c");
        assert_eq!(shell("{{ BRANCH | upper }}"), "'FEAT/$(TOUCH${IFS}PWNED)'");
        assert_eq!(
            shell("{{ BRANCH | replace('x', 'y') }}"),
            "'feat/$(touch${IFS}PWNED)'"
        );
        assert_eq!(
            shell("{{ [BRANCH] | join(' ') }}"),
            "'feat/$(touch${IFS}PWNED)'"
        );
        assert_eq!(shell("{{ BRANCH | tag }}"), "feat-touch-ifs-pwned");
        // Plain text takes values as they are, and says when one would need quoting.
        let plain = engine
            .render("x:{{ BRANCH }}", ctx.clone(), Target::Plain)
            .unwrap();
        assert_eq!(plain.text, "x:feat/$(touch${IFS}PWNED)");
        assert!(plain.tainted);
        assert!(
            !engine
                .render("x:{{ SAFE_BRANCH }}", ctx.clone(), Target::Plain)
                .unwrap()
                .tainted
        );
    }
}
