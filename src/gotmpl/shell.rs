//! Shell word handling for go-task's `shellQuote` (mvdan/sh's
//! `syntax.Quote` for bash) and `splitArgs` (`shell.Fields`: quotes,
//! escapes and `$VAR` expansion, no globbing), and `os.ExpandEnv`.

use super::gofmt::is_print;

const KEYWORDS: &[&str] = &[
    "!", "[[", "]]", "case", "coproc", "do", "done", "else", "esac", "fi", "for", "function", "if",
    "in", "select", "then", "time", "until", "while", "{", "}",
];

/// mvdan/sh `syntax.Quote(s, LangBash)`.
pub(crate) fn quote(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok("''".into());
    }
    let mut shell_chars = false;
    let mut non_printable = false;
    for (off, c) in s.char_indices() {
        match c {
            ';' | '"' | '\'' | '(' | ')' | '$' | '|' | '&' | '>' | '<' | '`' | ' ' | '\t'
            | '\r' | '\n' | '\\' | '#' | '{' | '~' | '*' | '?' | '[' | '=' => shell_chars = true,
            '\0' => {
                return Err(format!(
                    "cannot quote character at byte {off}: shell strings cannot contain null bytes"
                ));
            }
            _ => {}
        }
        if c == '\u{FFFD}' || !is_print(c) {
            non_printable = true;
        }
    }
    if !shell_chars && !non_printable && !KEYWORDS.contains(&s) {
        return Ok(s.to_string());
    }
    if non_printable {
        let mut b = String::from("$'");
        for c in s.chars() {
            match c {
                '\'' | '\\' => {
                    b.push('\\');
                    b.push(c);
                }
                c if is_print(c) && c != '\u{FFFD}' => b.push(c),
                '\u{7}' => b.push_str("\\a"),
                '\u{8}' => b.push_str("\\b"),
                '\u{c}' => b.push_str("\\f"),
                '\n' => b.push_str("\\n"),
                '\r' => b.push_str("\\r"),
                '\t' => b.push_str("\\t"),
                '\u{b}' => b.push_str("\\v"),
                c if (c as u32) < 0x80 => b.push_str(&format!("\\x{:02x}", c as u32)),
                c if (c as u32) < 0x10000 => b.push_str(&format!("\\u{:04x}", c as u32)),
                c => b.push_str(&format!("\\U{:08x}", c as u32)),
            }
        }
        b.push('\'');
        return Ok(b);
    }
    if !s.contains('\'') {
        return Ok(format!("'{s}'"));
    }
    let mut b = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '`' | '$') {
            b.push('\\');
        }
        b.push(c);
    }
    b.push('"');
    Ok(b)
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// A piece of a word: text that is quoted (never split) or not.
struct Field {
    text: String,
    /// Some part of the word was quoted, so the word exists even if empty.
    quoted: bool,
}

/// `shell.Fields(s, env)`: the words a shell would pass as arguments.
pub(crate) fn fields(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, String> {
    let chars: Vec<char> = s.chars().collect();
    // Byte column of a char index, as mvdan/sh reports positions.
    let col = |ci: usize| chars[..ci].iter().map(|c| c.len_utf8()).sum::<usize>();
    let mut out = Vec::new();
    let mut i = 0;
    let n = chars.len();
    // Current word, as a list of fields (unquoted expansions split it).
    let mut cur: Option<Field> = None;
    let push_cur = |cur: &mut Option<Field>, out: &mut Vec<String>| {
        if let Some(f) = cur.take() {
            if f.quoted || !f.text.is_empty() {
                out.push(f.text);
            }
        }
    };
    while i < n {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' => {
                push_cur(&mut cur, &mut out);
                i += 1;
            }
            '#' if cur.is_none() => {
                // A comment to the end of the line.
                while i < n && chars[i] != '\n' {
                    i += 1;
                }
            }
            ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                return Err(format!(
                    "1:{}: {} can only be used to separate commands",
                    i + 1,
                    c
                ));
            }
            '`' => return Err("command substitution is not supported".into()),
            '\\' => {
                let f = cur.get_or_insert(Field {
                    text: String::new(),
                    quoted: false,
                });
                if i + 1 < n {
                    if chars[i + 1] != '\n' {
                        f.text.push(chars[i + 1]);
                        f.quoted = true;
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            '\'' => {
                let start = col(i);
                let f = cur.get_or_insert(Field {
                    text: String::new(),
                    quoted: false,
                });
                f.quoted = true;
                i += 1;
                while i < n && chars[i] != '\'' {
                    f.text.push(chars[i]);
                    i += 1;
                }
                if i >= n {
                    return Err(format!(
                        "1:{}: reached EOF without closing quote `'`",
                        start + 1
                    ));
                }
                i += 1;
            }
            '"' => {
                let start = col(i);
                cur.get_or_insert(Field {
                    text: String::new(),
                    quoted: false,
                })
                .quoted = true;
                i += 1;
                loop {
                    if i >= n {
                        return Err(format!(
                            "1:{}: reached EOF without closing quote `\"`",
                            start + 1
                        ));
                    }
                    match chars[i] {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\\' if i + 1 < n
                            && matches!(chars[i + 1], '$' | '`' | '"' | '\\' | '\n') =>
                        {
                            if chars[i + 1] != '\n' {
                                if let Some(f) = cur.as_mut() {
                                    f.text.push(chars[i + 1]);
                                }
                            }
                            i += 2;
                        }
                        '$' => {
                            let (val, next) = expand_param(&chars, i, env)?;
                            if let Some(f) = cur.as_mut() {
                                f.text.push_str(&val);
                            }
                            i = next;
                        }
                        '`' => return Err("command substitution is not supported".into()),
                        ch => {
                            if let Some(f) = cur.as_mut() {
                                f.text.push(ch);
                            }
                            i += 1;
                        }
                    }
                }
            }
            '$' => {
                let (val, next) = expand_param(&chars, i, env)?;
                i = next;
                // Unquoted: split on IFS whitespace.
                let mut parts = val.split([' ', '\t', '\n']).peekable();
                let starts_space = val.starts_with([' ', '\t', '\n']);
                if starts_space {
                    push_cur(&mut cur, &mut out);
                }
                while let Some(p) = parts.next() {
                    if !p.is_empty() {
                        cur.get_or_insert(Field {
                            text: String::new(),
                            quoted: false,
                        })
                        .text
                        .push_str(p);
                    }
                    if parts.peek().is_some() {
                        push_cur(&mut cur, &mut out);
                    }
                }
            }
            '~' if cur.is_none()
                && (i + 1 >= n || matches!(chars[i + 1], '/' | ' ' | '\t' | '\n')) =>
            {
                let home = env("HOME").unwrap_or_default();
                cur = Some(Field {
                    text: home,
                    quoted: true,
                });
                i += 1;
            }
            ch => {
                cur.get_or_insert(Field {
                    text: String::new(),
                    quoted: false,
                })
                .text
                .push(ch);
                i += 1;
            }
        }
    }
    push_cur(&mut cur, &mut out);
    Ok(out)
}

/// `$NAME`, `${NAME}`, `$1`...: the value and the index after it.
fn expand_param(
    chars: &[char],
    i: usize,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, usize), String> {
    let n = chars.len();
    let j = i + 1;
    if j >= n {
        return Ok(("$".into(), j));
    }
    match chars[j] {
        '{' => {
            let mut k = j + 1;
            while k < n && chars[k] != '}' {
                k += 1;
            }
            if k >= n {
                return Err("reached EOF without matching ${ with }".into());
            }
            let name: String = chars[j + 1..k].iter().collect();
            if !name.chars().all(is_name) || name.is_empty() {
                return Err(format!(
                    "parameter expansion {} is not supported",
                    format_args!("${{{name}}}")
                ));
            }
            Ok((env(&name).unwrap_or_default(), k + 1))
        }
        '(' => Err("command substitution is not supported".into()),
        c if is_name_start(c) => {
            let mut k = j;
            while k < n && is_name(chars[k]) {
                k += 1;
            }
            let name: String = chars[j..k].iter().collect();
            Ok((env(&name).unwrap_or_default(), k))
        }
        c if c.is_ascii_digit() || matches!(c, '@' | '*' | '#' | '?' | '$' | '!' | '-') => {
            Ok((String::new(), j + 1))
        }
        _ => Ok(("$".into(), j)),
    }
}

/// `os.ExpandEnv`.
pub(crate) fn expand_env(s: &str, env: &dyn Fn(&str) -> String) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[last..j]);
            let rest = &s[j + 1..];
            let rb = rest.as_bytes();
            let (name, w) = if rb[0] == b'{' {
                if rb.len() > 2 && is_special(rb[1]) && rb[2] == b'}' {
                    (&rest[1..2], 3)
                } else {
                    match rest[1..].find('}') {
                        Some(0) => ("", 2),
                        Some(k) => (&rest[1..=k], k + 2),
                        None => ("", 1),
                    }
                }
            } else if is_special(rb[0]) {
                (&rest[..1], 1)
            } else {
                let k = rb
                    .iter()
                    .take_while(|&&c| c == b'_' || c.is_ascii_alphanumeric())
                    .count();
                (&rest[..k], k)
            };
            if name.is_empty() && w > 0 {
                // Bad syntax: the characters are dropped.
            } else if name.is_empty() {
                out.push('$');
            } else {
                out.push_str(&env(name));
            }
            j += 1 + w;
            last = j;
        } else {
            j += 1;
        }
    }
    out.push_str(&s[last..]);
    out
}

fn is_special(c: u8) -> bool {
    matches!(c, b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-') || c.is_ascii_digit()
}
