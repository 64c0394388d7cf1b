//! Built-in git variables, computed natively with git2 (no `git` subprocess).
//! Every value is computed only when asked for.

mod abbrev;
mod ci;
mod describe;
pub(crate) mod flow;
mod release;
mod remote;
pub(crate) mod semver;
#[cfg(test)]
mod tests;

pub(crate) use ci::ci_branch;

use std::cell::OnceCell;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    /// The repository has no commit yet, so there is nothing to describe.
    #[error("git: the repository has no commits yet")]
    NoCommits,
}

/// An opened repository; every value is computed on first request only.
pub(crate) struct GitRepo {
    repo: git2::Repository,
    /// HEAD's commit, resolved once: `VERSION`, `GIT_COMMIT`, `COMMIT_TIME` and the
    /// short commit all start from it, and each resolution reads HEAD and its
    /// branch's ref from disk again.
    head: OnceCell<git2::Oid>,
    /// git's abbreviation length before the uniqueness check (a config
    /// lookup and a look at the packs), wanted by describe and the short commit.
    abbrev_len: OnceCell<usize>,
}

impl GitRepo {
    /// Opens the repository containing `dir`; `None` outside a repository.
    /// One upward search, across file systems as `Repository::discover`
    /// searches (which searches, then opens and checks the found directory
    /// a second time).
    pub(crate) fn discover(dir: &Path) -> Option<GitRepo> {
        let no_ceiling: [&std::ffi::OsStr; 0] = [];
        // git reads objects without hashing them again; libgit2 by default
        // re-hashes each one it reads with collision-detecting SHA-1, which
        // was a sixth of the code libgit2 ran on a dry run.
        git2::opts::strict_hash_verification(false);
        git2::Repository::open_ext(dir, git2::RepositoryOpenFlags::CROSS_FS, no_ceiling)
            .ok()
            .map(|repo| GitRepo {
                repo,
                head: OnceCell::new(),
                abbrev_len: OnceCell::new(),
            })
    }

    /// Exactly what `git describe --tags --always` prints.
    /// The bool is true when it fell back to the abbreviated commit although
    /// the clone is shallow (so tags may be missing: worth a warning).
    pub(crate) fn describe(&self) -> Result<(String, bool), GitError> {
        let head = self.head_commit()?;
        match describe::describe_tags(&head, None, self.abbrev_len())? {
            Some(text) => Ok((text, false)),
            None => Ok((self.abbreviate(head.id())?, self.repo.is_shallow())),
        }
    }

    /// The checked-out branch; `None` on a detached HEAD. An unborn branch
    /// (no commit yet) still has a name.
    pub(crate) fn branch(&self) -> Result<Option<String>, GitError> {
        let head = self.repo.find_reference("HEAD")?;
        Ok(head
            .symbolic_target()?
            .and_then(|target| target.strip_prefix("refs/heads/"))
            .map(str::to_owned))
    }

    /// The full hex id of the HEAD commit.
    pub(crate) fn commit(&self) -> Result<String, GitError> {
        Ok(self.head_commit()?.id().to_string())
    }

    /// When the HEAD commit was committed, in seconds since the Unix epoch
    /// (`git log -1 --format=%ct`).
    pub(crate) fn commit_time(&self) -> Result<i64, GitError> {
        Ok(self.head_commit()?.time().seconds())
    }

    /// The HEAD commit abbreviated as `git rev-parse --short HEAD` prints it.
    pub(crate) fn short_commit(&self) -> Result<String, GitError> {
        let id = self.head_commit()?.id();
        self.abbreviate(id)
    }

    /// The tag pointing exactly at HEAD, as `git describe --tags --exact-match`
    /// prints it (an annotated tag wins over a lightweight one).
    pub(crate) fn exact_tag(&self) -> Result<Option<String>, GitError> {
        let head = self.head_commit()?;
        Ok(describe::describe_tags(&head, Some(0), self.abbrev_len())?)
    }

    /// True when tracked files differ from HEAD, staged or not (untracked
    /// files do not count, as in `git describe --dirty`).
    pub(crate) fn dirty(&self) -> Result<bool, GitError> {
        if self.repo.is_bare() {
            return Ok(false);
        }
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(false);
        Ok(!self.repo.statuses(Some(&mut opts))?.is_empty())
    }

    /// The `origin` remote (else the first remote by name, as `git remote`
    /// lists them) as an https URL when it can be, never with credentials.
    /// Read from the config the repository already loaded, as
    /// `git config --get remote.origin.url` does: a remote lookup would load
    /// a second snapshot and compile its refspecs for one string.
    pub(crate) fn remote_url(&self) -> Option<String> {
        let config = self.repo.config().ok()?;
        if let Ok(url) = config.get_string("remote.origin.url") {
            return Some(remote::public_url(&url));
        }
        let mut first: Option<(String, String)> = None;
        config
            .entries(None)
            .ok()?
            .for_each(|entry| {
                let (Ok(key), Ok(url)) = (entry.name(), entry.value()) else {
                    return;
                };
                let Some(name) = key
                    .strip_prefix("remote.")
                    .and_then(|rest| rest.strip_suffix(".url"))
                else {
                    return;
                };
                if first.as_ref().is_none_or(|(seen, _)| name < seen.as_str()) {
                    first = Some((name.to_owned(), url.to_owned()));
                }
            })
            .ok()?;
        first.map(|(_, url)| remote::public_url(&url))
    }

    /// The default branch: origin/HEAD's target, else `main` or `master`
    /// when that local branch exists.
    pub(crate) fn default_branch(&self) -> Option<String> {
        if let Ok(origin_head) = self.repo.find_reference("refs/remotes/origin/HEAD") {
            if let Some(branch) = origin_head
                .symbolic_target()
                .ok()
                .flatten()
                .and_then(|t| t.strip_prefix("refs/remotes/origin/"))
            {
                return Some(branch.to_owned());
            }
        }
        ["main", "master"]
            .into_iter()
            .find(|name| {
                self.repo
                    .find_reference(&format!("refs/heads/{name}"))
                    .is_ok()
            })
            .map(str::to_owned)
    }

    fn head_commit(&self) -> Result<git2::Commit<'_>, GitError> {
        if let Some(&id) = self.head.get() {
            // libgit2 keeps the object it parsed a moment ago in its cache.
            return Ok(self.repo.find_commit(id)?);
        }
        let commit = match self.repo.head() {
            Ok(head) => head.peel_to_commit()?,
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => return Err(GitError::NoCommits),
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Err(GitError::NoCommits),
            Err(e) => return Err(e.into()),
        };
        let _ = self.head.set(commit.id());
        Ok(commit)
    }

    fn abbrev_len(&self) -> usize {
        *self.abbrev_len.get_or_init(|| abbrev::min_len(&self.repo))
    }

    fn abbreviate(&self, id: git2::Oid) -> Result<String, GitError> {
        let len = abbrev::unique_len(&self.repo, id, self.abbrev_len())?;
        Ok(id.to_string()[..len].to_owned())
    }
}
