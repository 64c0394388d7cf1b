//! `.dockerignore` matching with the docker CLI's semantics.
//!
//! This is not gitignore. What the CLI does (moby/patternmatcher and its
//! `ignorefile` reader), and so what we do:
//! - a line starting with `#` is a comment; ` #x` is a pattern;
//! - every pattern is trimmed, path-cleaned (`./a/../b` -> `b`, trailing `/`
//!   dropped) and a leading `/` is removed: patterns are anchored at the
//!   context root, so `foo` does not match `a/foo`;
//! - `*` and `?` never cross `/`, `**` crosses any number of directories,
//!   `[...]` is a character class, `\` escapes the next character;
//! - a path is excluded when it or any parent directory matches; patterns
//!   apply in order, so a later `!exception` re-includes and a later pattern
//!   excludes again.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub(crate) enum IgnoreError {
    #[error("line {line}: invalid pattern `{pattern}`: {reason}")]
    BadPattern {
        line: usize,
        pattern: String,
        reason: String,
    },
}

impl IgnoreError {
    pub(crate) fn line(&self) -> usize {
        match self {
            IgnoreError::BadPattern { line, .. } => *line,
        }
    }

    /// The message without the line number, for `file:line: message`.
    pub(crate) fn message(&self) -> String {
        match self {
            IgnoreError::BadPattern {
                pattern, reason, ..
            } => {
                format!("invalid pattern `{pattern}`: {reason}")
            }
        }
    }
}

/// The parsed `.dockerignore`: an ordered list of patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Clone)]
struct Pattern {
    /// The cleaned pattern text, without the leading `!`.
    text: String,
    exception: bool,
    matcher: Matcher,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.exception { "!" } else { "" }, self.text)
    }
}

/// How a pattern is matched. The shortcuts mirror the CLI exactly, including
/// the quirk that `**foo` matches any path ending in `foo`.
#[derive(Clone, Debug)]
enum Matcher {
    Exact(String),
    /// `literal**`: any path starting with the literal.
    Prefix(String),
    /// `**literal`: any path ending with the literal (or equal to it without its leading `/`).
    Suffix(String),
    /// The tokens, and how many of them take exactly one character.
    Glob(Vec<Token>, usize),
}

#[derive(Clone, Debug)]
enum Token {
    Lit(char),
    /// `?`: one character other than `/`.
    One,
    /// `*`: any run of characters other than `/`.
    Star,
    /// `**` (or `**/`) before more pattern: nothing, or anything ending in `/`.
    DirStar,
    /// `**` at the end: anything (also what most runs of stars collapse to).
    AnyTail,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl DockerIgnore {
    /// Parses `.dockerignore` text the way the docker CLI reads it.
    pub(crate) fn parse(text: &str) -> Result<DockerIgnore, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut ignore = DockerIgnore::default();
        // Go's bufio.Scanner splits on `\n` and drops one trailing `\r`.
        for (index, raw) in text.split('\n').enumerate() {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.starts_with('#') {
                continue;
            }
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let (exception, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let bad = |reason: &str| IgnoreError::BadPattern {
                line: index + 1,
                pattern: line.to_string(),
                reason: reason.to_string(),
            };
            if body.is_empty() {
                return Err(bad("`!` needs a pattern after it"));
            }
            let mut cleaned = clean_path(body);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
            let pattern = Pattern::new(cleaned, exception).map_err(|reason| bad(&reason))?;
            ignore.patterns.push(pattern);
        }
        Ok(ignore)
    }

    /// True when any `!` exception exists (then excluded directories may
    /// still have to be walked).
    pub(crate) fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// Whether `rel_path` (relative to the context root, `/`-separated) is
    /// kept out of the context: it or a parent directory matches a pattern,
    /// and no later exception re-includes it.
    pub(crate) fn excludes(&self, rel_path: &str) -> bool {
        let path = clean_path(rel_path);
        if path == "." {
            return false;
        }
        let mut excluded = false;
        for pattern in &self.patterns {
            // An exclusion cannot change an excluded path, nor an exception a kept one.
            if pattern.exception != excluded {
                continue;
            }
            if pattern.matcher.matches_path_or_parent(&path) {
                excluded = !pattern.exception;
            }
        }
        excluded
    }

    /// Whether the walk must descend into an excluded directory because some
    /// exception names a path under it (the CLI's check: an exception's text
    /// plus `/` starts with the directory plus `/`).
    pub(crate) fn must_walk_excluded_dir(&self, rel_dir: &str) -> bool {
        let dir = format!("{}/", rel_dir.trim_end_matches('/'));
        self.patterns
            .iter()
            .filter(|p| p.exception)
            .any(|p| format!("{}/", p.text).starts_with(&dir))
    }

    /// Makes sure `rel_path` is sent even if a pattern excludes it, the way
    /// the CLI always sends the Dockerfile and `.dockerignore`: an exception
    /// is appended only when the path is excluded.
    pub(crate) fn always_send(&mut self, rel_path: &str) {
        if self.excludes(rel_path) {
            let text = clean_path(rel_path);
            let matcher = Matcher::Exact(text.clone());
            self.patterns.push(Pattern {
                text,
                exception: true,
                matcher,
            });
        }
    }
}

impl Pattern {
    fn new(text: String, exception: bool) -> Result<Pattern, String> {
        validate(&text)?;
        let matcher = compile(&text);
        Ok(Pattern {
            text,
            exception,
            matcher,
        })
    }
}

/// Lexical path cleaning as Go's `filepath.Clean` does it.
pub(crate) fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Rejects what Go's `filepath.Match` calls a bad pattern: an unclosed or
/// empty class, a class range missing an end, a trailing `\`.
fn validate(pattern: &str) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let Some(next) = chars.get(i + 1) else {
                    return Err("a `\\` at the end escapes nothing".into());
                };
                escaped(*next)?;
                i += 2;
            }
            '[' => {
                i = parse_class(&chars, i + 1)?.1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// What `\\c` means. The CLI turns patterns into Go regular expressions
/// and passes escapes through, so `\\*` is a literal star, `\\d` a digit,
/// `\\t` a tab, and an escape Go does not know (`\\x`, `\\q`) is a bad pattern.
fn escaped(c: char) -> Result<Token, String> {
    let class = |negated: bool, ranges: &[(char, char)]| Token::Class {
        negated,
        ranges: ranges.to_vec(),
    };
    const DIGIT: &[(char, char)] = &[('0', '9')];
    const SPACE: &[(char, char)] = &[('\t', '\n'), ('\x0c', '\r'), (' ', ' ')];
    const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
    Ok(match c {
        'a' => Token::Lit('\x07'),
        'f' => Token::Lit('\x0c'),
        't' => Token::Lit('\t'),
        'n' => Token::Lit('\n'),
        'r' => Token::Lit('\r'),
        'v' => Token::Lit('\x0b'),
        'd' | 'D' => class(c == 'D', DIGIT),
        's' | 'S' => class(c == 'S', SPACE),
        'w' | 'W' => class(c == 'W', WORD),
        c if c.is_ascii_punctuation() => Token::Lit(c),
        c => return Err(format!("`\\{c}` is not an escape docker understands")),
    })
}

/// Parses a class whose `[` is just before `start`; returns it and the index after `]`.
fn parse_class(chars: &[char], start: usize) -> Result<(Token, usize), String> {
    let unclosed = || "unclosed `[` character class".to_string();
    let mut i = start;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        if chars.get(i) == Some(&']') && !ranges.is_empty() {
            return Ok((Token::Class { negated, ranges }, i + 1));
        }
        let (lo, next) = class_char(chars, i).ok_or_else(unclosed)?;
        i = next;
        let mut hi = lo;
        if chars.get(i) == Some(&'-') {
            let (end, next) = class_char(chars, i + 1).ok_or_else(unclosed)?;
            hi = end;
            i = next;
        }
        ranges.push((lo, hi));
    }
}

/// One (possibly escaped) class member; `-` and `]` are not allowed bare.
fn class_char(chars: &[char], i: usize) -> Option<(char, usize)> {
    match chars.get(i)? {
        '-' | ']' => None,
        '\\' => chars.get(i + 1).map(|c| (*c, i + 2)),
        c => Some((*c, i + 1)),
    }
}

/// Chooses the matcher the way the CLI's compiler does: plain text is an
/// exact match, `text**` a prefix, `**text` a suffix, anything else a glob.
fn compile(pattern: &str) -> Matcher {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Glob,
    }
    let mut kind = Kind::Exact;
    let mut i = 0;
    let mut step = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        kind = Kind::Glob;
                    }
                    tokens.push(Token::AnyTail);
                } else {
                    kind = Kind::Glob;
                    tokens.push(Token::DirStar);
                }
                if step == 0 {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                kind = Kind::Glob;
                tokens.push(Token::Star);
            }
            '?' => {
                kind = Kind::Glob;
                tokens.push(Token::One);
            }
            '\\' => {
                kind = Kind::Glob;
                tokens.push(escaped(chars[i]).expect("validated before compiling"));
                i += 1;
            }
            '[' => {
                kind = Kind::Glob;
                let (class, next) = parse_class(&chars, i).expect("validated before compiling");
                tokens.push(class);
                i = next;
            }
            other => tokens.push(Token::Lit(other)),
        }
        step += 1;
    }
    match kind {
        Kind::Exact => Matcher::Exact(pattern.to_string()),
        Kind::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_string()),
        Kind::Suffix => Matcher::Suffix(pattern[2..].to_string()),
        Kind::Glob => {
            let tokens = simplify(tokens);
            let takes_one = tokens.iter().filter(|t| t.matches_one()).count();
            Matcher::Glob(tokens, takes_one)
        }
    }
}

/// Collapses each run of `*`, `**` and `**`-at-the-end into at most two
/// tokens (`*` `**` stays, since "no `/`, then nothing or up to a `/`" is not
/// "anything"; every other pair is one of the three), so a pattern of stars
/// costs what its literal characters cost.
// The arms spell out the pairs one by one, as the rules read.
#[allow(clippy::match_same_arms)]
fn simplify(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for mut token in tokens {
        loop {
            let merged = match (out.last(), &token) {
                (Some(Token::Star), Token::Star) => Token::Star,
                (Some(Token::DirStar), Token::DirStar) => Token::DirStar,
                (Some(Token::DirStar), Token::Star) => Token::AnyTail,
                (Some(Token::AnyTail), Token::Star | Token::DirStar | Token::AnyTail) => {
                    Token::AnyTail
                }
                (Some(Token::Star | Token::DirStar), Token::AnyTail) => Token::AnyTail,
                _ => break,
            };
            out.pop();
            token = merged;
        }
        out.push(token);
    }
    out
}

impl Matcher {
    /// Whether `path` or one of its parent directories matches. A glob is
    /// matched once: its pass over the path also says which prefixes match.
    fn matches_path_or_parent(&self, path: &str) -> bool {
        match self {
            Matcher::Glob(_, takes_one) if path.len() < *takes_one => false,
            Matcher::Glob(tokens, _) => {
                let s: Vec<char> = path.chars().collect();
                let reach = glob_reach(tokens, &s);
                reach[s.len()] || s.iter().zip(&reach).any(|(c, hit)| *c == '/' && *hit)
            }
            other => {
                other.matches(path)
                    || path
                        .match_indices('/')
                        .any(|(i, _)| other.matches(&path[..i]))
            }
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            Matcher::Exact(text) => path == text,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            // Each of these tokens takes one character: a shorter path cannot
            // match (and, stars being collapsed, this bounds the work by the
            // path's length).
            Matcher::Glob(_, takes_one) if path.len() < *takes_one => false,
            Matcher::Glob(tokens, _) => glob(tokens, path),
        }
    }
}

/// Whether `tokens` match all of `path`. One pass per token over the set of
/// positions the tokens so far can end at: O(tokens × path) time and no
/// recursion, whatever the pattern (the backtracking matcher this replaces
/// took minutes on `*a*a*a…` against `aaaa…`, and recursed once per matched
/// character).
fn glob(tokens: &[Token], path: &str) -> bool {
    let s: Vec<char> = path.chars().collect();
    glob_reach(tokens, &s)[s.len()]
}

/// `reach[i]`: the tokens match exactly `s[..i]`.
fn glob_reach(tokens: &[Token], s: &[char]) -> Vec<bool> {
    let mut reach = vec![false; s.len() + 1];
    reach[0] = true;
    let mut next = vec![false; s.len() + 1];
    for token in tokens {
        next.fill(false);
        match token {
            Token::Lit(_) | Token::One | Token::Class { .. } => {
                for i in 0..s.len() {
                    next[i + 1] = reach[i] && token.matches_char(s[i]);
                }
            }
            // Any run of non-`/` characters.
            Token::Star => {
                let mut open = false;
                for i in 0..=s.len() {
                    open |= reach[i];
                    next[i] = open;
                    if i < s.len() && s[i] == '/' {
                        open = false;
                    }
                }
            }
            // Nothing, or anything that ends in `/`.
            Token::DirStar => {
                let mut seen = false;
                for i in 0..=s.len() {
                    next[i] = reach[i] || (seen && i > 0 && s[i - 1] == '/');
                    seen |= reach[i];
                }
            }
            // Anything.
            Token::AnyTail => {
                let mut seen = false;
                for i in 0..=s.len() {
                    seen |= reach[i];
                    next[i] = seen;
                }
            }
        }
        std::mem::swap(&mut reach, &mut next);
        if !reach.contains(&true) {
            break;
        }
    }
    reach
}

impl Token {
    fn matches_one(&self) -> bool {
        matches!(self, Token::Lit(_) | Token::One | Token::Class { .. })
    }

    /// For the one-character tokens: whether `c` is one they take.
    fn matches_char(&self, c: char) -> bool {
        match self {
            Token::Lit(l) => *l == c,
            Token::One => c != '/',
            Token::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
            }
            Token::Star | Token::DirStar | Token::AnyTail => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ig(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text).unwrap()
    }

    #[test]
    fn patterns_are_anchored_at_the_root() {
        let i = ig("foo\n");
        assert!(i.excludes("foo"));
        assert!(i.excludes("foo/bar/baz"));
        assert!(!i.excludes("a/foo"));
        assert!(!i.excludes("foobar"));
    }

    #[test]
    fn double_star_crosses_directories() {
        let i = ig("**/foo");
        assert!(i.excludes("foo"));
        assert!(i.excludes("a/b/foo"));
        assert!(i.excludes("a/foo/x"));
        assert!(!i.excludes("a/xfoo/y"));
        let mid = ig("a/**/z");
        assert!(mid.excludes("a/z"));
        assert!(mid.excludes("a/b/c/z"));
        assert!(!mid.excludes("b/z"));
        let tail = ig("a/**");
        assert!(tail.excludes("a/b/c"));
        assert!(!tail.excludes("ab"));
    }

    #[test]
    fn the_cli_suffix_quirk_is_kept() {
        // `**foo` is a plain suffix test in the CLI, so it matches `xfoo`.
        assert!(ig("**foo").excludes("a/xfoo"));
        assert!(!ig("**/foo").excludes("a/xfoo"));
    }

    #[test]
    fn star_and_question_mark_stay_in_one_segment() {
        let i = ig("*.go");
        assert!(i.excludes("main.go"));
        assert!(!i.excludes("cmd/main.go"));
        let q = ig("file?.txt");
        assert!(q.excludes("file1.txt"));
        assert!(!q.excludes("file10.txt"));
        assert!(ig("*/*.go").excludes("cmd/main.go"));
    }

    #[test]
    fn classes_ranges_negation_and_escapes() {
        let i = ig("log[0-9].txt");
        assert!(i.excludes("log3.txt"));
        assert!(!i.excludes("logx.txt"));
        let n = ig("log[^0-9].txt");
        assert!(n.excludes("logx.txt"));
        assert!(!n.excludes("log3.txt"));
        let e = ig("a\\*b");
        assert!(e.excludes("a*b"));
        assert!(!e.excludes("axb"));
        let d = ig("v\\d.txt");
        assert!(d.excludes("v1.txt"));
        assert!(!d.excludes("vx.txt"));
    }

    #[test]
    fn cleaning_trailing_slash_leading_slash_and_dots() {
        assert!(ig("build/").excludes("build/x"));
        assert!(ig("/build").excludes("build"));
        assert!(ig("./a/../b").excludes("b/c"));
        assert!(ig("  spaced  ").excludes("spaced"));
    }

    #[test]
    fn comments_only_at_line_start() {
        let i = ig("# a\n #b\n\n\r\nc\r\n");
        assert!(!i.excludes("# a"));
        assert!(i.excludes("#b"));
        assert!(i.excludes("c"));
    }

    #[test]
    fn exceptions_apply_in_order() {
        let i = ig("*.md\n!README.md");
        assert!(i.excludes("CHANGES.md"));
        assert!(!i.excludes("README.md"));
        let later = ig("*.md\n!README.md\nREADME*");
        assert!(later.excludes("README.md"));
    }

    #[test]
    fn exception_reincludes_under_an_excluded_directory() {
        let i = ig("vendor\n!vendor/keep");
        assert!(i.excludes("vendor/other"));
        assert!(!i.excludes("vendor/keep"));
        assert!(!i.excludes("vendor/keep/deep"));
        assert!(i.must_walk_excluded_dir("vendor"));
        assert!(!i.must_walk_excluded_dir("other"));
        assert!(!ig("vendor").must_walk_excluded_dir("vendor"));
    }

    #[test]
    fn always_send_adds_an_exception_only_when_needed() {
        let mut i = ig("*\n");
        i.always_send("Dockerfile");
        assert!(!i.excludes("Dockerfile"));
        assert!(i.excludes("main.go"));
        let mut none = ig("x");
        none.always_send("Dockerfile");
        assert!(!none.has_exceptions());
    }

    #[test]
    fn bad_patterns_name_the_line() {
        let err = DockerIgnore::parse("ok\n\n[abc\n").unwrap_err();
        assert_eq!(err.line(), 3);
        assert!(err.to_string().contains("[abc"), "{err}");
        assert_eq!(DockerIgnore::parse("!\n").unwrap_err().line(), 1);
        assert!(DockerIgnore::parse("a\\").is_err());
        assert!(DockerIgnore::parse("[]a]").is_err());
        assert!(DockerIgnore::parse("a/\\xfoo").is_err());
    }

    #[test]
    fn clean_path_matches_go() {
        assert_eq!(clean_path("a/./b/../c/"), "a/c");
        assert_eq!(clean_path("../x"), "../x");
        assert_eq!(clean_path("/../x"), "/x");
        assert_eq!(clean_path("./"), ".");
        assert_eq!(clean_path("//a//b"), "/a/b");
    }
}

#[cfg(test)]
mod prop_tests;
