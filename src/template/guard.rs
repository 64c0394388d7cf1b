//! A limit on how many operators one tag may chain. minijinja parses a chain
//! (`a ~ b ~ c …`, `x | f | g …`, `a.b.c …`) into a tree as deep as the chain
//! is long, then compiles and drops that tree recursively; its own recursion
//! limit covers brackets and nested blocks, not chains. Fuzzing found that
//! about 8,000 `~` in one tag overflow the main thread's stack (debug build),
//! which kills hoist with SIGABRT; here such a tag is an error instead.

/// Operators allowed in one `{{ … }}` or `{% … %}` (real tags have a handful).
pub(super) const MAX_OPERATORS: usize = 500;

/// The byte offset of the first tag that chains more than [`MAX_OPERATORS`]
/// operators, and how many it chains. A slight overcount (every `,`, `(` or
/// keyword is counted) only matters far beyond what a real tag holds.
pub(super) fn overlong_tag(source: &str) -> Option<(usize, usize)> {
    // Every operator is at least one byte: a short source cannot exceed the limit.
    if source.len() <= MAX_OPERATORS {
        return None;
    }
    let b = source.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'{', b'#') => {
                i = source[i + 2..]
                    .find("#}")
                    .map_or(b.len(), |end| i + 2 + end + 2);
            }
            (b'{', open @ (b'{' | b'%')) => {
                let start = i;
                let (operators, end) = scan_tag(b, i + 2, if open == b'{' { b'}' } else { b'%' });
                if operators > MAX_OPERATORS {
                    return Some((start, operators));
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    None
}

/// Counts operators from `i` to the tag's end (`close` then `}` outside
/// strings and brackets); returns the count and the index after the tag.
fn scan_tag(b: &[u8], mut i: usize, close: u8) -> (usize, usize) {
    let mut operators = 0;
    let mut braces = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => braces += 1,
            b'}' if braces > 0 => braces -= 1,
            _ if c == close && braces == 0 && b.get(i + 1) == Some(&b'}') => {
                return (operators, i + 2)
            }
            b'~' | b'+' | b'-' | b'*' | b'/' | b'%' | b'|' | b'.' | b'[' | b'(' | b'<' | b'>'
            | b'=' | b'!' | b',' => operators += 1,
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if matches!(
                    &b[start..i],
                    b"and" | b"or" | b"not" | b"in" | b"is" | b"if" | b"else"
                ) {
                    operators += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (operators, b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_chains_and_skips_strings_comments_and_text() {
        let chain = format!("{{{{ {} }}}}", vec!["x"; 600].join(" ~ "));
        assert_eq!(overlong_tag(&chain), Some((0, 599)));
        let filters = format!("a {{% set y = x{} %}}", " | upper".repeat(501));
        assert_eq!(overlong_tag(&filters), Some((2, 502)));
        let words = format!("{{{{ {} }}}}", vec!["a"; 502].join(" and "));
        assert_eq!(overlong_tag(&words).map(|(_, n)| n), Some(501));
        // Operators inside strings, comments and plain text do not count.
        let text = "~ ".repeat(1000);
        assert_eq!(overlong_tag(&text), None);
        assert_eq!(overlong_tag(&format!("{{{{ '{text}' }}}}")), None);
        assert_eq!(overlong_tag(&format!("{{# {text} #}}")), None);
        // Nor does a tag closed early by a mapping's braces reset the count.
        let split = format!(
            "{{{{ {} ~ {{'a': {{'b': 1}}}} ~ {} }}}}",
            vec!["x"; 300].join(" ~ "),
            vec!["x"; 300].join(" ~ ")
        );
        assert!(overlong_tag(&split).is_some());
        // Many small tags are fine.
        assert_eq!(overlong_tag(&"{{ a ~ b }}".repeat(1000)), None);
    }
}
