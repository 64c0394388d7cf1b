//! `.dockerignore` with the docker CLI's semantics, which are not gitignore's:
//! patterns are cleaned paths anchored at the context root, only a line that
//! starts with `#` is a comment, a file is excluded when it or any parent
//! directory matches, and `!` exceptions apply in order (the last match wins),
//! so they can re-include files under an excluded directory.

use regex::Regex;

#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("line {line}: invalid pattern `{pattern}`: {reason}")]
    BadPattern {
        line: usize,
        pattern: String,
        reason: String,
    },
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact,
    /// `foo/**`: anything under `foo/`.
    Prefix,
    /// `**/foo`: any path ending in `foo` (the CLI's own shortcut, kept for fidelity).
    Suffix,
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub struct Pattern {
    /// The cleaned pattern, without its `!`.
    pub text: String,
    pub exception: bool,
    matcher: Matcher,
}

impl Pattern {
    fn new(raw: &str, line: usize) -> Result<Pattern, IgnoreError> {
        let (exception, body) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, raw),
        };
        let mut text = clean_path(body);
        if text.len() > 1 && text.starts_with('/') {
            text.remove(0);
        }
        let matcher = compile(&text).map_err(|reason| IgnoreError::BadPattern {
            line,
            pattern: raw.to_owned(),
            reason,
        })?;
        Ok(Pattern {
            text,
            exception,
            matcher,
        })
    }

    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => path == self.text,
            Matcher::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Matcher::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || (suffix.starts_with('/') && path == &suffix[1..])
            }
            Matcher::Regex(re) => re.is_match(path),
        }
    }
}

/// Go's `filepath.Clean` for slash paths: no `.`, no `x/..`, no doubled or trailing `/`.
pub fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
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
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The CLI's translation of a pattern into a matcher (`*`, `?`, `**`, `[...]`, `\`).
fn compile(pattern: &str) -> Result<Matcher, String> {
    #[derive(PartialEq, Clone, Copy)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut kind = Kind::Exact;
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut index = 0;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        if ch == '*' {
            if chars.get(i) == Some(&'*') {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = Kind::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = Kind::Regex;
                }
                if index == 0 {
                    kind = Kind::Suffix;
                }
            } else {
                re.push_str("[^/]*");
                kind = Kind::Regex;
            }
        } else if ch == '?' {
            re.push_str("[^/]");
            kind = Kind::Regex;
        } else if ".+()|{}$".contains(ch) {
            re.push('\\');
            re.push(ch);
        } else if ch == '\\' {
            match chars.get(i) {
                Some(next) => {
                    re.push_str(&regex::escape(&next.to_string()));
                    i += 1;
                    kind = Kind::Regex;
                }
                None => re.push_str("\\\\"),
            }
        } else if ch == '[' || ch == ']' {
            re.push(ch);
            kind = Kind::Regex;
        } else {
            // Like the CLI: other characters go into the expression as they are.
            re.push(ch);
        }
        index += 1;
    }
    // The CLI validates every pattern as a regex, whatever shortcut it then takes.
    re.push('$');
    let compiled = Regex::new(&re).map_err(|e| e.to_string())?;
    Ok(match kind {
        Kind::Exact => Matcher::Exact,
        Kind::Prefix => Matcher::Prefix,
        Kind::Suffix => Matcher::Suffix,
        Kind::Regex => Matcher::Regex(compiled),
    })
}

/// The patterns of one `.dockerignore`, in order.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Result<DockerIgnore, IgnoreError> {
        let mut patterns = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = if n == 0 {
                line.trim_start_matches('\u{feff}')
            } else {
                line
            };
            // Only a `#` in the first column starts a comment.
            if line.starts_with('#') {
                continue;
            }
            let line = line.trim();
            if line.is_empty() || line == "!" {
                continue;
            }
            patterns.push(Pattern::new(line, n + 1)?);
        }
        Ok(DockerIgnore { patterns })
    }

    /// Adds an exception so that `path` is always sent (the Dockerfile, `.dockerignore`),
    /// as the CLI does, only when the patterns would exclude it.
    pub fn keep(&mut self, path: &str) {
        if self.excludes(path) {
            if let Ok(pattern) = Pattern::new(&format!("!{path}"), 0) {
                self.patterns.push(pattern);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Is `path` (relative to the context root, `/`-separated) left out?
    pub fn excludes(&self, path: &str) -> bool {
        let parents: Vec<&str> = match path.rfind('/') {
            Some(i) => path[..i].split('/').collect(),
            None => Vec::new(),
        };
        let mut excluded = false;
        for pattern in &self.patterns {
            // An exclusion only matters while not excluded, an exception only after.
            if pattern.exception != excluded {
                continue;
            }
            let mut matched = pattern.matches(path);
            if !matched {
                let mut prefix = String::new();
                for dir in &parents {
                    if !prefix.is_empty() {
                        prefix.push('/');
                    }
                    prefix.push_str(dir);
                    if pattern.matches(&prefix) {
                        matched = true;
                        break;
                    }
                }
            }
            if matched {
                excluded = !pattern.exception;
            }
        }
        excluded
    }

    /// For an excluded directory: must the walk still enter it, because an
    /// exception may re-include something below it?
    pub fn must_enter(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exception && format!("{}/", p.text).starts_with(&dir_slash))
    }

    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text).unwrap()
    }

    #[test]
    fn anchored_not_gitignore() {
        let i = ignore("foo\n");
        assert!(i.excludes("foo"));
        assert!(i.excludes("foo/bar.txt"));
        assert!(!i.excludes("a/foo"));
    }

    #[test]
    fn globs() {
        let i = ignore("*.go\n**/*.md\ntmp?\n[ab]c\n");
        assert!(i.excludes("main.go"));
        assert!(!i.excludes("pkg/main.go"));
        assert!(i.excludes("README.md"));
        assert!(i.excludes("docs/a/b.md"));
        assert!(i.excludes("tmp1"));
        assert!(i.excludes("bc"));
        assert!(!i.excludes("cc"));
    }

    #[test]
    fn cleaning() {
        let i = ignore("/build/\n./dist\na/../secret\n  spaced  \n");
        assert!(i.excludes("build/x"));
        assert!(i.excludes("dist"));
        assert!(i.excludes("secret"));
        assert!(i.excludes("spaced"));
        assert_eq!(clean_path("a/./b/../c/"), "a/c");
        assert_eq!(clean_path("../x"), "../x");
    }

    #[test]
    fn comments_only_in_first_column() {
        let i = ignore("# comment\n #notcomment\n");
        assert!(!i.excludes("# comment"));
        assert!(i.excludes("#notcomment"));
    }

    #[test]
    fn exceptions_in_order_and_under_excluded_dirs() {
        let i = ignore("docs\n!docs/keep.md\n");
        assert!(i.excludes("docs/a.md"));
        assert!(!i.excludes("docs/keep.md"));
        assert!(i.must_enter("docs"));
        let i = ignore("!a.txt\n*.txt\n");
        assert!(i.excludes("a.txt"), "a later exclusion wins");
        let i = ignore("vendor\n");
        assert!(!i.must_enter("vendor"));
    }

    #[test]
    fn always_sent_files() {
        let mut i = ignore("*\n");
        i.keep("Dockerfile");
        i.keep(".dockerignore");
        assert!(!i.excludes("Dockerfile"));
        assert!(!i.excludes(".dockerignore"));
        assert!(i.excludes("main.go"));
    }

    #[test]
    fn bad_pattern_names_the_line() {
        let err = DockerIgnore::parse("ok\n[z-a]\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 2: invalid pattern `[z-a]`"),
            "{err}"
        );
        assert!(ignore("[a-c]x\n").excludes("bx"));
    }
}
