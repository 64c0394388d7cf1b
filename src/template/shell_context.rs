//! Untrusted values quoted for where they stand in a shell command. While a
//! command renders, each untrusted value is written as a marker; afterwards
//! the text is read as a shell reads its quotes and each marker becomes the
//! value quoted for its place: one single-quoted word outside quotes, with
//! `$`, `` ` ``, `"` and `\` escaped inside double quotes (where single
//! quotes are plain characters and `$(...)` would run), with `'` closed and
//! reopened inside single quotes. `echo "v={{ VERSION }}"` with a tag
//! `v1$(touch${IFS}x)` then prints that text instead of running it.

use super::trust;
use minijinja::State;

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// The untrusted values of the command being rendered, in marker order.
#[derive(Default)]
pub(crate) struct Pending(Vec<String>);

/// The marker for `text`, which [`resolve`] replaces.
pub(crate) fn defer(state: &mut State, text: &str) -> String {
    let pending = state.get_or_insert_extension_with(Pending::default);
    pending.0.push(text.to_owned());
    format!("{OPEN}{}{CLOSE}", pending.0.len() - 1)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// Outside quotes (also inside `$(...)`, `(...)` and backquotes).
    Plain,
    Subshell,
    Backquote,
    Single,
    Double,
}

fn quoted_for(quoting: Quoting, value: &str) -> String {
    match quoting {
        Quoting::Single => value.replace('\'', r"'\''"),
        Quoting::Double => {
            let mut out = String::with_capacity(value.len());
            for c in value.chars() {
                if matches!(c, '$' | '`' | '"' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        }
        Quoting::Plain | Quoting::Subshell | Quoting::Backquote => trust::shell_quote(value),
    }
}

/// The rendered command with each marker replaced by its value, quoted for
/// its place.
pub(crate) fn resolve(text: &str, pending: &Pending) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut stack = vec![Quoting::Plain];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let top = *stack.last().unwrap_or(&Quoting::Plain);
        if c == OPEN {
            let end = chars[i..].iter().position(|&c| c == CLOSE).map(|p| i + p);
            let index: Option<usize> =
                end.and_then(|e| chars[i + 1..e].iter().collect::<String>().parse().ok());
            if let (Some(end), Some(value)) = (end, index.and_then(|n| pending.0.get(n))) {
                out.push_str(&quoted_for(top, value));
                i = end + 1;
                continue;
            }
        }
        out.push(c);
        let next = chars.get(i + 1).copied();
        match (top, c) {
            (Quoting::Single, '\'')
            | (Quoting::Double, '"')
            | (Quoting::Backquote, '`')
            | (Quoting::Subshell, ')') => {
                stack.pop();
            }
            (Quoting::Single, _) => {}
            (_, '\\') => {
                if let Some(n) = next {
                    out.push(n);
                    i += 1;
                }
            }
            (_, '$') if next == Some('(') => {
                out.push('(');
                i += 1;
                stack.push(Quoting::Subshell);
            }
            (_, '`') => stack.push(Quoting::Backquote),
            (Quoting::Double, _) => {}
            (_, '\'') => stack.push(Quoting::Single),
            (_, '"') => stack.push(Quoting::Double),
            (_, '(') => stack.push(Quoting::Subshell),
            (_, '#') if i == 0 || chars[i - 1].is_whitespace() => {
                // A comment: its quotes mean nothing, up to the line's end.
                while i + 1 < chars.len() && chars[i + 1] != '\n' {
                    i += 1;
                    out.push(chars[i]);
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{resolve, Pending, CLOSE, OPEN};

    fn with(text: &str, value: &str) -> String {
        let marker = format!("{OPEN}0{CLOSE}");
        resolve(
            &text.replace('V', &marker),
            &Pending(vec![value.to_owned()]),
        )
    }

    #[test]
    fn each_place_gets_its_quoting() {
        let evil = "v1$(touch${IFS}x)`id`\"'\\";
        assert_eq!(with("echo V", "a b"), "echo 'a b'");
        assert_eq!(
            with("echo V", evil),
            "echo 'v1$(touch${IFS}x)`id`\"'\\''\\'"
        );
        assert_eq!(
            with("echo \"x=V\"", evil),
            "echo \"x=v1\\$(touch\\${IFS}x)\\`id\\`\\\"'\\\\\""
        );
        assert_eq!(
            with("echo 'x=V'", evil),
            "echo 'x=v1$(touch${IFS}x)`id`\"'\\''\\'"
        );
        assert_eq!(with("echo \"$(echo V)\"", "a b"), "echo \"$(echo 'a b')\"");
        assert_eq!(with("echo \"it's\" V", "a b"), "echo \"it's\" 'a b'");
        assert_eq!(with("echo \\\"V", "a b"), "echo \\\"'a b'");
    }

    #[test]
    fn quotes_in_comments_change_nothing() {
        assert_eq!(
            with("true # don't\necho V", "a b"),
            "true # don't\necho 'a b'"
        );
        assert_eq!(with("echo a#'b' V", "a b"), "echo a#'b' 'a b'");
    }
}
