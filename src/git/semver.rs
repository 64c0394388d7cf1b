//! Semantic versions after the git-flow rules of the `GitVersion` tool, adapted to image tags
//! (no `+` build metadata): the highest stable `vX.Y.Z` tag reachable from
//! HEAD is the base, the commits since it count the pre-release, and the
//! branch picks which part comes next.

use std::fmt;

/// `X.Y.Z` with an optional pre-release (`rc.1`), as tags write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Option<String>,
}

impl Version {
    /// `v1.2.0`, `1.2.0`, `v2.0.0-rc.1`; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Version> {
        let text = text.strip_prefix('v').unwrap_or(text);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) if valid_pre(pre) => (core, Some(pre.to_owned())),
            Some(_) => return None,
            None => (text, None),
        };
        let mut parts = core.split('.');
        let mut number = || -> Option<u64> {
            let p = parts.next()?;
            if p.is_empty()
                || (p.len() > 1 && p.starts_with('0'))
                || !p.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            p.parse().ok()
        };
        let (major, minor, patch) = (number()?, number()?, number()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
            pre,
        })
    }

    fn core(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }

    pub(crate) fn next_major(&self) -> Version {
        Version::stable(self.major + 1, 0, 0)
    }

    pub(crate) fn next_minor(&self) -> Version {
        Version::stable(self.major, self.minor + 1, 0)
    }

    pub(crate) fn next_patch(&self) -> Version {
        Version::stable(self.major, self.minor, self.patch + 1)
    }

    fn stable(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: None,
        }
    }

    fn with_pre(mut self, pre: String) -> Version {
        self.pre = Some(pre);
        self
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

/// Pre-release identifiers: dot-separated `[0-9A-Za-z-]+`.
fn valid_pre(pre: &str) -> bool {
    !pre.is_empty()
        && pre
            .split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// A branch name's last segment as one semver identifier: lowercase, runs
/// of other characters as one `-` (`feature/Login_Form` -> `login-form`).
fn label(branch: &str) -> String {
    let last = branch.rsplit('/').next().unwrap_or(branch);
    let mut out = String::new();
    for c in last.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() {
        "branch".to_owned()
    } else {
        out
    }
}

/// The branch names and tag prefix of a team's git-flow (`versioning:` at
/// the top of hoist.yml); the defaults are git-flow's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Versioning {
    /// The release branches' branch: `main` and `master`.
    pub main: Vec<String>,
    pub develop: String,
    /// Prefixes of release and hotfix branches.
    pub release: String,
    pub hotfix: String,
    /// What release tags start with (`v1.2.0`).
    pub tag_prefix: String,
}

impl Default for Versioning {
    fn default() -> Versioning {
        Versioning {
            main: vec!["main".to_owned(), "master".to_owned()],
            develop: "develop".to_owned(),
            release: "release/".to_owned(),
            hotfix: "hotfix/".to_owned(),
            tag_prefix: "v".to_owned(),
        }
    }
}

/// What the repository says about versions, for [`semver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
    /// The highest stable version tagged at or below HEAD (0.0.0 if none).
    pub base: Version,
    /// Commits from the base's tag to HEAD (all of HEAD's when no tag).
    pub distance: usize,
    /// The highest semver tag on HEAD itself, pre-releases included.
    pub head_tag: Option<Version>,
}

/// Which version comes next on a kind of branch.
type NextVersion = fn(&Version) -> Version;

/// `SEMVER` for a branch (`None`: detached with no CI branch, the `main` rule).
pub(crate) fn semver(facts: &Facts, branch: Option<&str>, names: &Versioning) -> Version {
    if let Some(tagged) = &facts.head_tag {
        return tagged.clone();
    }
    let base = &facts.base;
    let n = facts.distance;
    let Some(branch) = branch else {
        return base.next_patch().with_pre(n.to_string());
    };
    let rules: [(&str, NextVersion); 2] = [
        (&names.release, Version::next_minor),
        (&names.hotfix, Version::next_patch),
    ];
    for (prefix, next) in rules {
        if let Some(rest) = branch.strip_prefix(prefix) {
            let version = Version::parse(rest)
                .filter(|v| v.pre.is_none())
                .unwrap_or_else(|| next(base));
            return version.with_pre(format!("beta.{n}"));
        }
    }
    if branch == names.develop {
        base.next_minor().with_pre(format!("alpha.{n}"))
    } else if names.main.iter().any(|m| m == branch) {
        base.next_patch().with_pre(n.to_string())
    } else {
        base.next_minor().with_pre(format!("{}.{n}", label(branch)))
    }
}

/// `semver('{major}.{minor}')`: the pattern filled from a stable version;
/// empty for a pre-release or anything that is no version (so an image
/// tag made from it is skipped).
pub(crate) fn format(version: &str, pattern: &str) -> String {
    match Version::parse(version) {
        Some(v) if v.pre.is_none() => pattern
            .replace("{major}", &v.major.to_string())
            .replace("{minor}", &v.minor.to_string())
            .replace("{patch}", &v.patch.to_string())
            .replace("{version}", &v.to_string()),
        _ => String::new(),
    }
}

impl super::GitRepo {
    /// The version facts of HEAD: its tags, the highest stable tag below it
    /// and the commits since.
    /// Tags are read with `tag_prefix` (or `v`, or nothing) before the version.
    pub(crate) fn semver_facts(&self, tag_prefix: &str) -> Result<Facts, super::GitError> {
        let repo = &self.repo;
        let head = self.head_commit()?.id();
        let mut base: Option<(Version, git2::Oid)> = None;
        let mut head_tag: Option<Version> = None;
        let names = repo.tag_names(None)?;
        for index in 0..names.len() {
            let Ok(Some(name)) = names.get(index) else {
                continue;
            };
            let bare = name
                .strip_prefix(tag_prefix)
                .filter(|_| !tag_prefix.is_empty())
                .unwrap_or(name);
            let Some(version) = Version::parse(bare) else {
                continue;
            };
            let Ok(reference) = repo.find_reference(&format!("refs/tags/{name}")) else {
                continue;
            };
            let Ok(commit) = reference.peel_to_commit() else {
                continue;
            };
            let id = commit.id();
            if id == head && head_tag.as_ref().is_none_or(|t| higher(&version, t)) {
                head_tag = Some(version.clone());
            }
            if version.pre.is_some() {
                continue;
            }
            let reachable = id == head || repo.graph_descendant_of(head, id)?;
            if reachable && base.as_ref().is_none_or(|(b, _)| version.core() > b.core()) {
                base = Some((version, id));
            }
        }
        let mut walk = repo.revwalk()?;
        walk.push(head)?;
        if let Some((_, id)) = &base {
            walk.hide(*id)?;
        }
        let distance = walk.count();
        Ok(Facts {
            base: base.map_or(Version::stable(0, 0, 0), |(v, _)| v),
            distance,
            head_tag,
        })
    }
}

/// Semver precedence, enough to pick among tags on one commit: a release
/// above its pre-releases, else by core then pre-release text.
fn higher(a: &Version, b: &Version) -> bool {
    match a.core().cmp(&b.core()) {
        std::cmp::Ordering::Equal => match (&a.pre, &b.pre) {
            (None, Some(_)) => true,
            (Some(x), Some(y)) => x > y,
            _ => false,
        },
        order => order.is_gt(),
    }
}

#[cfg(test)]
mod tests {
    use super::{format, label, semver, Facts, Version, Versioning};

    fn facts(base: &str, distance: usize, head_tag: Option<&str>) -> Facts {
        Facts {
            base: Version::parse(base).unwrap(),
            distance,
            head_tag: head_tag.map(|t| Version::parse(t).unwrap()),
        }
    }

    #[test]
    fn gitflow_rules() {
        let names = Versioning::default();
        let f = facts("1.2.0", 4, None);
        let cases = [
            (Some("release/1.3.0"), "1.3.0-beta.4"),
            (Some("release/next"), "1.3.0-beta.4"),
            (Some("hotfix/1.2.1"), "1.2.1-beta.4"),
            (Some("hotfix/urgent"), "1.2.1-beta.4"),
            (Some("develop"), "1.3.0-alpha.4"),
            (Some("main"), "1.2.1-4"),
            (Some("master"), "1.2.1-4"),
            (Some("feature/Login-Form"), "1.3.0-login-form.4"),
            (Some("feature/Login_Form x"), "1.3.0-login-form-x.4"),
            (None, "1.2.1-4"),
        ];
        for (branch, want) in cases {
            assert_eq!(semver(&f, branch, &names).to_string(), want, "{branch:?}");
        }
        assert_eq!(
            semver(
                &facts("1.2.0", 0, Some("v2.0.0-rc.1")),
                Some("develop"),
                &names
            )
            .to_string(),
            "2.0.0-rc.1"
        );
        assert_eq!(
            semver(&facts("0.0.0", 7, None), Some("develop"), &names).to_string(),
            "0.1.0-alpha.7"
        );
        let custom = Versioning {
            main: vec!["trunk".into()],
            develop: "next".into(),
            release: "rel-".into(),
            ..Versioning::default()
        };
        assert_eq!(semver(&f, Some("trunk"), &custom).to_string(), "1.2.1-4");
        assert_eq!(
            semver(&f, Some("next"), &custom).to_string(),
            "1.3.0-alpha.4"
        );
        assert_eq!(
            semver(&f, Some("rel-1.3.0"), &custom).to_string(),
            "1.3.0-beta.4"
        );
        assert_eq!(
            semver(&f, Some("develop"), &custom).to_string(),
            "1.3.0-develop.4"
        );
    }

    #[test]
    fn parses_only_semantic_versions() {
        assert_eq!(Version::parse("v1.2.3").unwrap().to_string(), "1.2.3");
        assert_eq!(
            Version::parse("2.0.0-rc.1").unwrap().pre.as_deref(),
            Some("rc.1")
        );
        for bad in [
            "1.2",
            "v1.2.3.4",
            "01.2.3",
            "1.2.x",
            "1.2.3-",
            "1.2.3-a..b",
            "release",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn next_versions_and_patterns() {
        let v = Version::parse("1.2.0").unwrap();
        assert_eq!(
            (
                v.next_major().to_string(),
                v.next_minor().to_string(),
                v.next_patch().to_string()
            ),
            ("2.0.0".into(), "1.3.0".into(), "1.2.1".into())
        );
        assert_eq!(format("1.3.0", "{major}.{minor}"), "1.3");
        assert_eq!(format("1.3.0", "{major}"), "1");
        assert_eq!(format("1.3.0-alpha.2", "{major}.{minor}"), "");
        assert_eq!(format("not-a-version", "{major}"), "");
        assert_eq!(label("feature/Login-Form"), "login-form");
    }
}
