//! Built-in git variables, computed natively with git2 (no `git` subprocess).
//! Interface agreed with the runner; the git work fills in the bodies.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// An opened repository; every value is computed on first request only.
pub struct GitRepo {
    #[allow(dead_code)]
    repo: git2::Repository,
}

impl GitRepo {
    /// Opens the repository containing `dir`; `None` outside a repository.
    pub fn discover(dir: &Path) -> Option<GitRepo> {
        git2::Repository::discover(dir)
            .ok()
            .map(|repo| GitRepo { repo })
    }

    /// Exactly what `git describe --tags --always` prints.
    /// The bool is true when it fell back to the abbreviated commit although
    /// the clone is shallow (so tags may be missing: worth a warning).
    pub fn describe(&self) -> Result<(String, bool), GitError> {
        unimplemented!()
    }

    /// The checked-out branch; `None` on a detached HEAD.
    pub fn branch(&self) -> Result<Option<String>, GitError> {
        unimplemented!()
    }

    pub fn commit(&self) -> Result<String, GitError> {
        unimplemented!()
    }

    /// The tag pointing exactly at HEAD, if any.
    pub fn exact_tag(&self) -> Result<Option<String>, GitError> {
        unimplemented!()
    }

    /// True when tracked files differ from HEAD (untracked files do not count, as in describe --dirty).
    pub fn dirty(&self) -> Result<bool, GitError> {
        unimplemented!()
    }

    /// The `origin` remote (else the first remote) as an https URL when it can be.
    pub fn remote_url(&self) -> Option<String> {
        unimplemented!()
    }

    /// The default branch: origin/HEAD's target, else `main` or `master` when it exists.
    pub fn default_branch(&self) -> Option<String> {
        unimplemented!()
    }
}

/// The branch a CI system says it builds, for a detached HEAD. Branch names only, never a tag.
pub fn ci_branch(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let _ = env;
    unimplemented!()
}
