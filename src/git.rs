//! Built-in git variables, computed natively with git2 (no `git` subprocess),
//! each only when a template asks for it.

use git2::{DescribeFormatOptions, DescribeOptions, Repository, StatusOptions};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// An opened repository.
pub struct GitRepo {
    repo: Repository,
}

impl GitRepo {
    /// Opens the repository containing `dir`; `None` outside a repository.
    pub fn discover(dir: &Path) -> Option<GitRepo> {
        Repository::discover(dir).ok().map(|repo| GitRepo { repo })
    }

    /// Exactly what `git describe --tags --always` prints. The flag is true when
    /// it fell back to the commit in a shallow clone (tags may simply be missing).
    pub fn describe(&self) -> Result<(String, bool), GitError> {
        let mut options = DescribeOptions::new();
        options.describe_tags();
        let abbrev = self.abbrev_len();
        // Describe the HEAD commit, not the work tree: no status walk of every file.
        let head = self.repo.head()?.peel_to_commit()?;
        let described = head.as_object().describe(&options);
        let result = match described {
            Ok(description) => {
                let mut format = DescribeFormatOptions::new();
                format.abbreviated_size(abbrev);
                Ok((description.format(Some(&format))?, false))
            }
            Err(e)
                if e.code() == git2::ErrorCode::NotFound
                    || e.class() == git2::ErrorClass::Describe =>
            {
                // No tag reaches HEAD: git prints the abbreviated commit.
                let short = self.short_id(head.as_object(), abbrev)?;
                Ok((short, self.repo.is_shallow()))
            }
            Err(e) => Err(e.into()),
        };
        result
    }

    /// git's `core.abbrev` when it is a number, else git's default of 7.
    fn abbrev_len(&self) -> u32 {
        self.repo
            .config()
            .ok()
            .and_then(|c| c.get_i32("core.abbrev").ok())
            .filter(|n| (4..=40).contains(n))
            .map_or(7, |n| n as u32)
    }

    /// The shortest unique prefix of at least `len` hex digits, as git abbreviates.
    fn short_id(&self, object: &git2::Object, len: u32) -> Result<String, GitError> {
        let unique = object.short_id()?;
        let unique = unique.as_str().unwrap_or_default();
        let full = object.id().to_string();
        let len = (len as usize).max(unique.len()).min(full.len());
        Ok(full[..len].to_owned())
    }

    /// The checked-out branch (`feature/x`); `None` on a detached HEAD. A branch
    /// with no commits yet still has its name.
    pub fn branch(&self) -> Result<Option<String>, GitError> {
        match self.repo.head() {
            Ok(head) if head.is_branch() => Ok(Some(head.shorthand()?.to_owned())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
                let head = self.repo.find_reference("HEAD")?;
                Ok(head
                    .symbolic_target()?
                    .and_then(|t| t.strip_prefix("refs/heads/"))
                    .map(str::to_owned))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn commit(&self) -> Result<String, GitError> {
        Ok(self.repo.head()?.peel_to_commit()?.id().to_string())
    }

    /// The abbreviated commit, as `git rev-parse --short HEAD` prints it.
    pub fn short_commit(&self) -> Result<String, GitError> {
        let commit = self.repo.head()?.peel_to_commit()?;
        self.short_id(commit.as_object(), self.abbrev_len())
    }

    /// The tag at HEAD, as `git describe --tags --exact-match` prints it.
    // The binding is needed: the Describe borrows `head`, which must outlive it.
    #[allow(clippy::let_and_return)]
    pub fn exact_tag(&self) -> Result<Option<String>, GitError> {
        let mut options = DescribeOptions::new();
        options.describe_tags().max_candidates_tags(0);
        let head = match self.repo.head().and_then(|h| h.peel_to_commit()) {
            Ok(head) => head,
            Err(_) => return Ok(None),
        };
        let described = head.as_object().describe(&options);
        let result = match described {
            Ok(description) => Ok(Some(description.format(None)?)),
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::NotFound | git2::ErrorCode::UnbornBranch
                ) =>
            {
                Ok(None)
            }
            Err(e) if e.class() == git2::ErrorClass::Describe => Ok(None),
            Err(e) => Err(e.into()),
        };
        result
    }

    /// Tracked files differ from HEAD (staged or not); untracked files do not count,
    /// as with `git describe --dirty`.
    pub fn dirty(&self) -> Result<bool, GitError> {
        let mut options = StatusOptions::new();
        options
            .include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self.repo.statuses(Some(&mut options))?;
        Ok(statuses.iter().any(|s| !s.status().is_empty()))
    }

    /// The `origin` remote (else the first) as an https URL, without credentials.
    pub fn remote_url(&self) -> Option<String> {
        let remote = match self.repo.find_remote("origin") {
            Ok(remote) => remote,
            Err(_) => {
                let names = self.repo.remotes().ok()?;
                let first = names.iter().flatten().flatten().next()?.to_owned();
                self.repo.find_remote(&first).ok()?
            }
        };
        remote.url().ok().map(web_url)
    }

    /// origin/HEAD's target, else `main` or `master` when that branch exists.
    pub fn default_branch(&self) -> Option<String> {
        if let Ok(reference) = self.repo.find_reference("refs/remotes/origin/HEAD") {
            if let Ok(Some(target)) = reference.symbolic_target() {
                if let Some(name) = target.strip_prefix("refs/remotes/origin/") {
                    return Some(name.to_owned());
                }
            }
        }
        ["main", "master"]
            .into_iter()
            .find(|name| self.repo.find_branch(name, git2::BranchType::Local).is_ok())
            .map(str::to_owned)
    }
}

/// `git@host:org/repo.git` or `ssh://git@host/org/repo.git` -> `https://host/org/repo`;
/// any `user:password@` is dropped so that no credential reaches an image label.
pub fn web_url(url: &str) -> String {
    let url = url.trim();
    let (host_and_path, scheme_given) = if let Some(rest) = url.split_once("://") {
        (rest.1.to_owned(), true)
    } else if let Some((user_host, path)) = url.split_once(':') {
        // scp-like syntax: [user@]host:path
        (format!("{user_host}/{path}"), false)
    } else {
        return url.to_owned();
    };
    let _ = scheme_given;
    let without_user = match host_and_path.split_once('/') {
        Some((authority, path)) => {
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            // ssh ports are not the web port.
            let host = if url.starts_with("ssh://") {
                host.split(':').next().unwrap_or(host)
            } else {
                host
            };
            format!("{host}/{path}")
        }
        None => host_and_path
            .rsplit_once('@')
            .map_or(host_and_path.clone(), |(_, h)| h.to_owned()),
    };
    let trimmed = without_user.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    if url.starts_with("http://") {
        format!("http://{trimmed}")
    } else if url.starts_with("file://") || url.starts_with('/') {
        url.to_owned()
    } else {
        format!("https://{trimmed}")
    }
}

/// The branch a CI system says it builds, for a detached HEAD. Branch names
/// only: a CI building a tag yields `None`.
pub fn ci_branch(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let tag_build = |name: &str| get(name).is_some();
    let candidates: [(&str, bool); 10] = [
        // GitHub: the PR's source branch, else the ref name when it is a branch.
        ("GITHUB_HEAD_REF", true),
        (
            "GITHUB_REF_NAME",
            get("GITHUB_REF_TYPE").as_deref() == Some("branch"),
        ),
        // GitLab sets CI_COMMIT_TAG (and no branch) for tag pipelines.
        ("CI_COMMIT_BRANCH", !tag_build("CI_COMMIT_TAG")),
        ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", true),
        ("BRANCH_NAME", !tag_build("TAG_NAME")),
        ("BUILDKITE_BRANCH", !tag_build("BUILDKITE_TAG")),
        ("CIRCLE_BRANCH", !tag_build("CIRCLE_TAG")),
        ("BITBUCKET_BRANCH", !tag_build("BITBUCKET_TAG")),
        ("DRONE_BRANCH", !tag_build("DRONE_TAG")),
        ("TRAVIS_BRANCH", !tag_build("TRAVIS_TAG")),
    ];
    candidates
        .iter()
        .filter(|(_, allowed)| *allowed)
        .find_map(|(name, _)| get(name))
        .map(|branch| {
            let branch = branch.trim();
            let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
            branch.strip_prefix("origin/").unwrap_or(branch).to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::process::Command;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn ci_branches_never_tags() {
        assert_eq!(
            ci_branch(&env_of(&[("GITHUB_HEAD_REF", "feature/x")])),
            Some("feature/x".into())
        );
        assert_eq!(
            ci_branch(&env_of(&[
                ("GITHUB_REF_NAME", "develop"),
                ("GITHUB_REF_TYPE", "branch")
            ])),
            Some("develop".into())
        );
        assert_eq!(
            ci_branch(&env_of(&[
                ("GITHUB_REF_NAME", "v1.0.0"),
                ("GITHUB_REF_TYPE", "tag")
            ])),
            None
        );
        assert_eq!(
            ci_branch(&env_of(&[("CI_COMMIT_BRANCH", "main")])),
            Some("main".into())
        );
        assert_eq!(
            ci_branch(&env_of(&[("BRANCH_NAME", "v1"), ("TAG_NAME", "v1")])),
            None
        );
        assert_eq!(
            ci_branch(&env_of(&[("BUILDKITE_BRANCH", "refs/heads/release/2")])),
            Some("release/2".into())
        );
        assert_eq!(
            ci_branch(&env_of(&[("CIRCLE_BRANCH", "origin/main")])),
            Some("main".into())
        );
        assert_eq!(
            ci_branch(&env_of(&[("BITBUCKET_BRANCH", "hotfix")])),
            Some("hotfix".into())
        );
        assert_eq!(
            ci_branch(&env_of(&[("TRAVIS_BRANCH", "v2"), ("TRAVIS_TAG", "v2")])),
            None
        );
        assert_eq!(ci_branch(&env_of(&[])), None);
    }

    #[test]
    fn remote_urls_become_web_urls_without_credentials() {
        assert_eq!(
            web_url("git@github.com:org/repo.git"),
            "https://github.com/org/repo"
        );
        assert_eq!(
            web_url("ssh://git@gitlab.com:2222/org/repo.git"),
            "https://gitlab.com/org/repo"
        );
        assert_eq!(
            web_url("https://user:s3cret@github.com/org/repo.git"),
            "https://github.com/org/repo"
        );
        assert_eq!(
            web_url("https://github.com/org/repo"),
            "https://github.com/org/repo"
        );
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@e",
                "-c",
                "init.defaultBranch=main",
                "-c",
                "tag.gpgsign=false",
            ])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn describe_matches_git(dir: &Path) {
        let ours = GitRepo::discover(dir).unwrap().describe().unwrap().0;
        assert_eq!(ours, git(dir, &["describe", "--tags", "--always"]));
    }

    #[test]
    fn describe_matches_real_git() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        let repo = GitRepo::discover(dir).unwrap();
        assert!(repo.describe().is_err(), "no commits yet");
        assert_eq!(repo.branch().unwrap().as_deref(), Some("main"));
        git(dir, &["commit", "-q", "--allow-empty", "-m", "1"]);
        describe_matches_git(dir);
        git(dir, &["tag", "v0.1.0"]);
        describe_matches_git(dir);
        assert_eq!(repo.exact_tag().unwrap().as_deref(), Some("v0.1.0"));
        git(dir, &["commit", "-q", "--allow-empty", "-m", "2"]);
        git(dir, &["commit", "-q", "--allow-empty", "-m", "3"]);
        describe_matches_git(dir);
        assert_eq!(repo.exact_tag().unwrap(), None);
        git(dir, &["tag", "-a", "v0.2.0", "-m", "annotated"]);
        describe_matches_git(dir);
        git(dir, &["commit", "-q", "--allow-empty", "-m", "4"]);
        describe_matches_git(dir);
        assert_eq!(
            repo.short_commit().unwrap(),
            git(dir, &["rev-parse", "--short", "HEAD"])
        );
        assert_eq!(repo.commit().unwrap(), git(dir, &["rev-parse", "HEAD"]));
        git(dir, &["checkout", "-q", "-b", "feature/x"]);
        assert_eq!(repo.branch().unwrap().as_deref(), Some("feature/x"));
        git(dir, &["checkout", "-q", "--detach"]);
        assert_eq!(repo.branch().unwrap(), None);
        assert_eq!(repo.default_branch().as_deref(), Some("main"));
    }

    #[test]
    fn dirty_counts_tracked_changes_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        std::fs::write(dir.join("a"), "1").unwrap();
        git(dir, &["add", "a"]);
        git(dir, &["commit", "-q", "-m", "1"]);
        let repo = GitRepo::discover(dir).unwrap();
        assert!(!repo.dirty().unwrap());
        std::fs::write(dir.join("untracked"), "x").unwrap();
        assert!(!repo.dirty().unwrap());
        std::fs::write(dir.join("a"), "2").unwrap();
        assert!(repo.dirty().unwrap());
    }

    #[test]
    fn shallow_clone_without_tags_reports_the_fallback() {
        let tmp = tempfile::tempdir().unwrap();
        let origin = tmp.path().join("origin");
        std::fs::create_dir(&origin).unwrap();
        git(&origin, &["init", "-q"]);
        git(&origin, &["commit", "-q", "--allow-empty", "-m", "1"]);
        git(&origin, &["tag", "v1.0.0"]);
        git(&origin, &["commit", "-q", "--allow-empty", "-m", "2"]);
        let url = format!("file://{}", origin.display());
        git(
            tmp.path(),
            &["clone", "-q", "--depth", "1", "--no-tags", &url, "clone"],
        );
        let clone = tmp.path().join("clone");
        let (version, fell_back) = GitRepo::discover(&clone).unwrap().describe().unwrap();
        assert!(fell_back);
        assert_eq!(version, git(&clone, &["describe", "--tags", "--always"]));
        assert_eq!(
            GitRepo::discover(&clone)
                .unwrap()
                .default_branch()
                .as_deref(),
            Some("main")
        );
    }
}
