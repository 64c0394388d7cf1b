//! hoist's own filters, and trust kept through minijinja's.

use super::trust;
use minijinja::value::{Rest, Value};
use minijinja::{Environment, State};

/// POSIX shell quoting: the value as one word, whatever it holds. The result
/// is final: it is never quoted again.
pub(crate) fn quote(value: &Value) -> Value {
    Value::from_safe_string(trust::shell_quote(&trust::text(value)))
}

/// Any string as a valid image tag: `feature/Containerise API` -> `feature-containerise-api`.
/// What it returns can hold nothing a shell reads.
pub(crate) fn tag(value: &str) -> Value {
    Value::from_safe_string(crate::reference::sanitize_tag(value))
}

/// `semver('{major}.{minor}')`, as docker/metadata-action's semver type: the
/// pattern filled from a stable version, empty for a pre-release (an empty
/// image tag is skipped). It holds the file's own pattern and digits.
pub(crate) fn semver(value: &Value, pattern: &str) -> Value {
    Value::from_safe_string(crate::git::semver::format(&trust::text(value), pattern))
}

/// A filter argument that cannot make a trusted value dangerous: trusted, or
/// text such as `'-'` or `'\n'` (arguments are mostly literals of the file,
/// which minijinja cannot tell from values).
fn harmless_argument(value: &Value) -> bool {
    let text = trust::text(value);
    trust::is_trusted(value) || trust::is_shell_safe(&text) || text.chars().all(char::is_whitespace)
}

/// `join`, aware of trust: in a shell command each untrusted item is quoted
/// on its own, so `{{ FILES | join(' ') }}` is still several words. (minijinja's
/// own would quote the separator, a literal it cannot tell from a value.)
pub(crate) fn join(
    state: &mut State,
    value: &Value,
    separator: Option<String>,
) -> Result<Value, minijinja::Error> {
    let separator = separator.unwrap_or_default();
    let shell = matches!(state.auto_escape(), minijinja::AutoEscape::Custom(_));
    let items: Vec<Value> = value.try_iter()?.collect();
    let all_trusted = items.iter().all(trust::is_trusted);
    let text = items
        .iter()
        .map(|item| {
            if shell && !trust::is_trusted(item) && !trust::is_shell_safe(&trust::text(item)) {
                super::shell_context::defer(state, &trust::text(item))
            } else {
                trust::text(item)
            }
        })
        .collect::<Vec<_>>()
        .join(&separator);
    Ok(if shell || all_trusted {
        Value::from_safe_string(text)
    } else {
        Value::from(text)
    })
}

/// minijinja's string and list filters return plain strings, which would make
/// `{{ FLAGS | trim }}` of the file's own `FLAGS` count as untrusted and lose
/// its word splitting. Each is wrapped: the result is trusted when the value
/// and every argument were. `Common` wraps the few that most values use, for
/// the engine's basic environment; `All` wraps every one, for the full one.
pub(crate) fn keep_trust(env: &mut Environment<'static>, which: Wrapped) {
    macro_rules! wrap {
        ($($name:ident),* $(,)?) => {$(
            let inner = Value::from_function(minijinja::filters::$name);
            env.add_filter(
                stringify!($name),
                move |state: &mut State, value: Value, rest: Rest<Value>| -> Result<Value, minijinja::Error> {
                    let all_trusted = trust::is_trusted(&value) && rest.iter().all(harmless_argument);
                    let mut args = Vec::with_capacity(rest.len() + 1);
                    args.push(value);
                    args.extend(rest.0);
                    let result = inner.call(state, &args)?;
                    Ok(if all_trusted { trust::trusted(result) } else { result })
                },
            );
        )*};
    }
    env.add_filter("join", join);
    wrap!(lower, upper, trim, replace, default);
    if which == Wrapped::All {
        wrap!(title, capitalize, first, last, string, split, reverse, sort, unique, list, lines);
    }
}

/// Which of minijinja's filters [`keep_trust`] wraps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wrapped {
    Common,
    All,
}
