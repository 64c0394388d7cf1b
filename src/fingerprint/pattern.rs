//! go-task style glob lists (`**/*.go`, `go.mod`, `!vendor/**`) turned into
//! the few directories to walk and the matchers to apply to what is found.
//!
//! Every file is named by its "key": its path relative to the task's `dir`
//! with `/` separators (`../shared/x.go` for a file reached through `..`),
//! or its absolute path when a pattern points outside `dir`.

use super::FingerprintError;
use globset::{Candidate, GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

/// A directory to walk: its absolute path, the key prefix of what is under
/// it, and how deep the patterns can reach (`None`: no limit, a `**`).
#[derive(Debug, Clone)]
pub(super) struct Root {
    pub abs: PathBuf,
    pub key: String,
    pub max_depth: Option<usize>,
}

impl Root {
    /// The key of a path found while walking this root.
    pub(super) fn key_of(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.abs).unwrap_or(path);
        let rel = rel.to_string_lossy();
        match (self.key.is_empty(), rel.is_empty()) {
            (true, _) => rel.into_owned(),
            (false, true) => self.key.clone(),
            (false, false) => format!("{}/{}", self.key, rel),
        }
    }

    pub(super) fn walker(&self) -> walkdir::WalkDir {
        let walk = walkdir::WalkDir::new(&self.abs).follow_links(false);
        match self.max_depth {
            Some(depth) => walk.max_depth(depth),
            None => walk,
        }
    }
}

/// A compiled list of patterns.
pub(super) struct Patterns {
    pub roots: Vec<Root>,
    include: GlobSet,
    exclude: GlobSet,
    /// Directories excluded whole (`!vendor/**`), pruned from walks.
    exclude_dirs: GlobSet,
}

impl Patterns {
    pub(super) fn new(dir: &Path, globs: &[String]) -> Result<Patterns, FingerprintError> {
        let mut include = GlobSetBuilder::new();
        let mut exclude = GlobSetBuilder::new();
        let mut exclude_dirs = GlobSetBuilder::new();
        let mut roots = Vec::new();
        for raw in globs {
            let (negated, text) = match raw.trim().strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, raw.trim()),
            };
            let parsed = Parsed::new(dir, text);
            if parsed.pattern.is_empty() {
                return Err(glob_error(raw, "the pattern is empty"));
            }
            let glob = compile(raw, &parsed.pattern)?;
            if negated {
                exclude.add(glob);
                if let Some(prefix) = parsed.pattern.strip_suffix("/**") {
                    exclude_dirs.add(compile(raw, prefix)?);
                }
                continue;
            }
            include.add(glob);
            let mut max_depth = parsed.depth;
            // A literal directory stands for everything under it.
            if parsed.literal && parsed.base_abs.is_dir() {
                include.add(compile(raw, &format!("{}/**", parsed.pattern))?);
                max_depth = None;
            }
            roots.push(Root {
                abs: parsed.base_abs,
                key: parsed.base_key,
                max_depth,
            });
        }
        let build = |b: GlobSetBuilder| {
            b.build().map_err(|e| FingerprintError::Glob {
                glob: globs.join(", "),
                reason: e.to_string(),
            })
        };
        Ok(Patterns {
            roots: merge_roots(roots),
            include: build(include)?,
            exclude: build(exclude)?,
            exclude_dirs: build(exclude_dirs)?,
        })
    }

    /// Whether the file with this key is selected by the list.
    pub(super) fn selects(&self, key: &str) -> bool {
        let candidate = Candidate::new(key);
        self.include.is_match_candidate(&candidate) && !self.exclude.is_match_candidate(&candidate)
    }

    /// Whether a directory with this key is excluded whole.
    pub(super) fn prunes(&self, dir_key: &str) -> bool {
        self.exclude_dirs.is_match(dir_key)
    }
}

fn compile(raw: &str, pattern: &str) -> Result<globset::Glob, FingerprintError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| glob_error(raw, &e.kind().to_string()))
}

fn glob_error(raw: &str, reason: &str) -> FingerprintError {
    FingerprintError::Glob {
        glob: raw.to_owned(),
        reason: reason.to_owned(),
    }
}

fn has_magic(component: &str) -> bool {
    component.contains(['*', '?', '[', ']', '{', '}', '\\'])
}

/// One pattern, normalised, with its literal leading directory.
struct Parsed {
    /// The pattern in key space (relative, `/`-separated, no `.` and no
    /// inner `..`), or absolute when it points outside `dir`.
    pattern: String,
    /// The literal directory part, absolute and as a key.
    base_abs: PathBuf,
    base_key: String,
    /// Walk depth below the base; `None` when a `**` appears.
    depth: Option<usize>,
    literal: bool,
}

impl Parsed {
    fn new(dir: &Path, text: &str) -> Parsed {
        let mut absolute = text.starts_with('/');
        let mut parts = normalise(text.split('/'));
        if absolute {
            // Inside `dir`: bring it into key space like any relative pattern.
            let dir_parts = normalise(dir.to_str().unwrap_or_default().split('/'));
            if !dir_parts.is_empty() && parts.starts_with(&dir_parts) {
                parts.drain(..dir_parts.len());
                absolute = false;
            }
        }
        let literal_len = parts.iter().take_while(|c| !has_magic(c)).count();
        let literal = literal_len == parts.len();
        // A literal path is its own root (a stat, not a walk).
        let base = &parts[..literal_len];
        let rest = &parts[literal_len..];
        let depth = if rest.iter().any(|c| c.contains("**")) {
            None
        } else {
            Some(rest.len())
        };
        let join = |p: &[String]| p.join("/");
        let (base_abs, base_key, pattern) = if absolute {
            (
                PathBuf::from(format!("/{}", join(base))),
                format!("/{}", join(base)),
                format!("/{}", join(&parts)),
            )
        } else {
            let mut abs = dir.to_path_buf();
            abs.extend(base);
            (abs, join(base), join(&parts))
        };
        Parsed {
            pattern,
            base_abs,
            base_key,
            depth,
            literal,
        }
    }
}

/// Drops empty and `.` components and folds `x/..` where `x` is literal.
fn normalise<'a>(components: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in components {
        match c {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| l != ".." && !has_magic(l)) => {
                out.pop();
            }
            _ => out.push(c.to_owned()),
        }
    }
    out
}

/// Walks each directory once: roots under another root are merged into it.
fn merge_roots(mut roots: Vec<Root>) -> Vec<Root> {
    roots.sort_by(|a, b| a.abs.cmp(&b.abs));
    let mut merged: Vec<Root> = Vec::new();
    for root in roots {
        if let Some(outer) = merged.iter_mut().find(|m| root.abs.starts_with(&m.abs)) {
            let extra = root.abs.components().count() - outer.abs.components().count();
            outer.max_depth = match (outer.max_depth, root.max_depth) {
                (Some(a), Some(b)) => Some(a.max(b + extra)),
                _ => None,
            };
            continue;
        }
        merged.push(root);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(globs: &[&str]) -> Vec<(String, Option<usize>)> {
        let globs: Vec<String> = globs.iter().map(std::string::ToString::to_string).collect();
        Patterns::new(Path::new("/nonexistent/proj"), &globs)
            .unwrap()
            .roots
            .into_iter()
            .map(|r| (r.key, r.max_depth))
            .collect()
    }

    #[test]
    fn walks_only_the_literal_base_as_deep_as_needed() {
        assert_eq!(roots(&["**/*.go"]), [(String::new(), None)]);
        assert_eq!(roots(&["cmd/*/main.go"]), [("cmd".into(), Some(2))]);
        assert_eq!(roots(&["go.mod"]), [("go.mod".into(), Some(0))]);
        assert_eq!(roots(&["./src/../lib/**/*.rs"]), [("lib".into(), None)]);
        assert_eq!(roots(&["../shared/*.go"]), [("../shared".into(), Some(1))]);
        assert_eq!(
            roots(&["/nonexistent/proj/api/*.proto"]),
            [("api".into(), Some(1))]
        );
    }

    #[test]
    fn nested_roots_are_walked_once() {
        assert_eq!(
            roots(&["go.mod", "internal/**/*.go", "*.go"]),
            [(String::new(), None)]
        );
        assert_eq!(
            roots(&["go.mod", "cmd/api/*.go", "cmd/*.go"]),
            [("cmd".into(), Some(2)), ("go.mod".into(), Some(0))]
        );
    }

    #[test]
    fn selection_respects_separators_and_exclusions() {
        let globs: Vec<String> = ["**/*.go", "!vendor/**", "!**/*_test.go"]
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        let p = Patterns::new(Path::new("/x"), &globs).unwrap();
        assert!(p.selects("main.go"));
        assert!(p.selects("internal/a/b.go"));
        assert!(!p.selects("vendor/lib/x.go"));
        assert!(!p.selects("internal/a/b_test.go"));
        assert!(!p.selects("README.md"));
        assert!(p.prunes("vendor"));
        assert!(!p.prunes("internal"));

        let star: Vec<String> = vec!["*.go".into()];
        let p = Patterns::new(Path::new("/x"), &star).unwrap();
        assert!(p.selects("main.go"));
        assert!(!p.selects("cmd/main.go"), "* does not cross directories");
    }
}
