//! The template layer. hoist files are minijinja; the `Syntax` seam in the
//! task file lets a Go-template front end (go-task's `{{.VAR}}`) plug in here
//! without touching variables or the runner.

pub mod filters;
mod guard;

use minijinja::{Environment, UndefinedBehavior, Value};
use std::ops::Range;

/// True when a string needs the template engine at all. Most values are plain
/// text; skipping the engine for them keeps `--list` and `--dry` fast.
pub fn has_markup(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// A rendering failure, before it is placed in a file and task.
#[derive(Debug, Clone)]
pub struct TemplateError {
    pub message: String,
    /// Byte range of the offending expression inside the template text.
    pub range: Option<Range<usize>>,
    /// Set when the failure is an undefined variable: its name.
    pub undefined: Option<String>,
}

pub struct Engine {
    env: Environment<'static>,
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

impl Engine {
    pub fn new() -> Engine {
        let mut env = Environment::new();
        // A typo in a variable name must fail loudly, not render as "".
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Multi-line commands keep their final newline, as written.
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        // Values end up in shell commands: `true`/`false` and an empty none, not Python's spelling.
        env.set_formatter(|out, state, value| {
            if value.kind() == minijinja::value::ValueKind::Bool {
                let text = if value.is_true() { "true" } else { "false" };
                out.write_str(text)
                    .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write"))
            } else if value.is_none() {
                Ok(())
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        env.add_filter("quote", filters::quote);
        env.add_filter("tag", filters::tag);
        Engine { env }
    }

    pub fn render(&self, source: &str, ctx: Value) -> Result<String, TemplateError> {
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
        self.env
            .render_str(source, ctx)
            .map_err(|e| convert(source, &e))
    }
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

    #[test]
    fn undefined_variable_is_named() {
        let engine = Engine::new();
        let err = engine
            .render("x {{ VERSIO }} y", Value::from(()))
            .unwrap_err();
        assert_eq!(err.undefined.as_deref(), Some("VERSIO"));
        assert_eq!(err.range, Some(5..11));
    }

    #[test]
    fn filters_users_need() {
        let engine = Engine::new();
        let ctx = minijinja::context! { B => "feature/Containerise API", L => vec!["a", "b"] };
        let render = |s: &str| engine.render(s, ctx.clone()).unwrap();
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
        assert_eq!(render("{{ \"it's\" | quote }}"), r#"'it'\''s'"#);
    }

    #[test]
    fn syntax_error_has_a_range() {
        let err = Engine::new()
            .render("{{ a + }}", Value::from(()))
            .unwrap_err();
        assert!(err.message.contains("syntax error"), "{}", err.message);
        assert!(err.range.is_some());
    }
}
