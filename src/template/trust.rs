//! Which values may reach a shell as they are.
//!
//! Text the task file writes (its vars, `TASK`, `CLI_ARGS`, CLI `NAME=value`)
//! is trusted and keeps its word splitting. Values from git, the environment
//! and commands (`GIT_BRANCH`, `GIT_TAG`, `VERSION`, `env.*`, CI variables,
//! `sh:` output) are not: a branch may be called `feat/$(touch${IFS}PWNED)`. Trusted text is carried as
//! minijinja's "safe" strings; anything else that reaches a shell command is
//! quoted as one word unless it only holds [`is_shell_safe`] characters, so
//! `feature/x` still renders as `feature/x`.

use minijinja::value::{Value, ValueKind};

/// Characters that never mean anything to a POSIX shell, inside a word.
pub(crate) fn is_shell_safe(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b))
}

/// POSIX shell quoting: the text as one word, whatever it holds.
pub(crate) fn shell_quote(text: &str) -> String {
    if is_shell_safe(text) {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// True when the value came from the task file (or holds nothing a shell reads).
pub(crate) fn is_trusted(value: &Value) -> bool {
    match value.kind() {
        ValueKind::String => value.is_safe(),
        ValueKind::Undefined | ValueKind::None | ValueKind::Bool | ValueKind::Number => true,
        ValueKind::Map => match value.try_iter() {
            Ok(mut keys) => keys
                .all(|key| is_trusted(&key) && value.get_item(&key).is_ok_and(|v| is_trusted(&v))),
            Err(_) => false,
        },
        ValueKind::Seq | ValueKind::Iterable => match value.try_iter() {
            Ok(mut items) => items.all(|item| is_trusted(&item)),
            Err(_) => false,
        },
        _ => false,
    }
}

/// Marks a value of the task file's own as trusted (strings, and the strings
/// inside lists).
pub(crate) fn trusted(value: Value) -> Value {
    match value.kind() {
        ValueKind::String if !value.is_safe() => {
            Value::from_safe_string(value.as_str().unwrap_or_default().to_owned())
        }
        ValueKind::Seq => match value.try_iter() {
            Ok(items) => Value::from(items.map(trusted).collect::<Vec<_>>()),
            Err(_) => value,
        },
        _ => value,
    }
}

/// A value as the text it renders to, everywhere: templates, `env`, `--vars`.
/// Booleans are `true`/`false` (what shells and Go expect), none is empty.
pub(crate) fn text(value: &Value) -> String {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => String::new(),
        ValueKind::Bool => if value.is_true() { "true" } else { "false" }.to_owned(),
        ValueKind::String => value.as_str().unwrap_or_default().to_owned(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("plain"), "plain");
        assert_eq!(shell_quote("feature/x"), "feature/x");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn trust() {
        assert!(!is_trusted(&Value::from("x")));
        assert!(is_trusted(&trusted(Value::from("x"))));
        assert!(is_trusted(&trusted(Value::from(vec!["a", "b"]))));
        assert!(!is_trusted(&Value::from(vec!["a", "b"])));
        assert!(is_trusted(&Value::from(3)));
        assert!(is_trusted(&Value::from(true)));
    }

    #[test]
    fn booleans_are_lowercase_everywhere() {
        assert_eq!(text(&Value::from(true)), "true");
        assert_eq!(text(&Value::from(())), "");
        assert_eq!(text(&Value::from(1.5)), "1.5");
    }
}
