//! git-flow's release and hotfix branches: start one from `develop` (or
//! `main`), finish it by merging it `--no-ff` into `main`, tagging that
//! merge, merging the tag into `develop` and deleting the branch. Every check
//! and both merges are worked out before any ref moves, so a refusal or a
//! conflict leaves the repository as it was.

use super::semver::{Version, Versioning};
use super::GitRepo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowKind {
    Release,
    Hotfix,
}

impl FlowKind {
    fn prefix(self, names: &Versioning) -> &str {
        match self {
            FlowKind::Release => &names.release,
            FlowKind::Hotfix => &names.hotfix,
        }
    }
}

/// `start: major|minor|patch|X.Y.Z`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bump {
    Major,
    Minor,
    Patch,
    Exact(Version),
}

impl Bump {
    pub(crate) fn parse(text: &str) -> Option<Bump> {
        Some(match text {
            "major" => Bump::Major,
            "minor" => Bump::Minor,
            "patch" => Bump::Patch,
            other => Bump::Exact(Version::parse(other).filter(|v| v.pre.is_none())?),
        })
    }
}

/// A start, checked: the branch to create and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct StartPlan {
    pub branch: String,
    pub from: String,
    commit: git2::Oid,
}

/// A finish, checked and merged in memory.
#[derive(Debug, Clone)]
pub(crate) struct FinishPlan {
    pub branch: String,
    pub tag: String,
    pub main: String,
    pub develop: String,
    main_tip: git2::Oid,
    develop_tip: git2::Oid,
    branch_tip: git2::Oid,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl GitRepo {
    fn current_branch(&self) -> Result<String, String> {
        self.branch()
            .map_err(err)?
            .ok_or_else(|| "HEAD is detached: check out a branch first".to_owned())
    }

    fn require_clean(&self, what: &str) -> Result<(), String> {
        if self.dirty().map_err(err)? {
            return Err(format!(
                "the working tree has uncommitted changes: commit or stash them before {what}"
            ));
        }
        Ok(())
    }

    fn tip(&self, branch: &str) -> Option<git2::Oid> {
        self.repo
            .find_branch(branch, git2::BranchType::Local)
            .ok()?
            .get()
            .target()
    }

    fn main_branch(&self, names: &Versioning) -> Result<String, String> {
        names
            .main
            .iter()
            .find(|b| self.tip(b).is_some())
            .cloned()
            .ok_or_else(|| format!("there is no `{}` branch", names.main.join("` or `")))
    }

    /// Checks a start: on `develop` (release) or `main` (hotfix), a clean
    /// tree, a branch that does not exist yet.
    pub(crate) fn plan_start(
        &self,
        kind: FlowKind,
        bump: &Bump,
        names: &Versioning,
    ) -> Result<StartPlan, String> {
        let from = match kind {
            FlowKind::Release => names.develop.clone(),
            FlowKind::Hotfix => self.main_branch(names)?,
        };
        let current = self.current_branch()?;
        if current != from {
            return Err(format!(
                "a {}starts from `{from}`, and `{current}` is checked out: `git checkout {from}` first",
                kind.prefix(names)
            ));
        }
        self.require_clean("starting a branch")?;
        let base = self.semver_facts(&names.tag_prefix).map_err(err)?.base;
        let version = match bump {
            Bump::Major => base.next_major(),
            Bump::Minor => base.next_minor(),
            Bump::Patch => base.next_patch(),
            Bump::Exact(v) => v.clone(),
        };
        let branch = format!("{}{version}", kind.prefix(names));
        if self.tip(&branch).is_some() {
            return Err(format!(
                "branch {branch} already exists: finish it, or delete it"
            ));
        }
        let commit = self.head_commit().map_err(err)?.id();
        Ok(StartPlan {
            branch,
            from,
            commit,
        })
    }

    /// Creates the branch at HEAD and checks it out (the tree is the same).
    pub(crate) fn start(&self, plan: &StartPlan) -> Result<(), String> {
        let commit = self.repo.find_commit(plan.commit).map_err(err)?;
        self.repo
            .branch(&plan.branch, &commit, false)
            .map_err(err)?;
        self.repo
            .set_head(&format!("refs/heads/{}", plan.branch))
            .map_err(err)
    }

    /// Checks a finish: on a release or hotfix branch named for its
    /// version, a clean tree, the tag new, and both merges free of
    /// conflicts.
    pub(crate) fn plan_finish(
        &self,
        kind: FlowKind,
        names: &Versioning,
    ) -> Result<FinishPlan, String> {
        let branch = self.current_branch()?;
        let Some(version) = branch.strip_prefix(kind.prefix(names)) else {
            return Err(format!(
                "`{branch}` is checked out: finishing needs the {}X.Y.Z branch",
                kind.prefix(names)
            ));
        };
        let version = Version::parse(version).ok_or_else(|| {
            format!("`{branch}` names no version (X.Y.Z): the tag would have no name")
        })?;
        let tag = format!("{}{version}", names.tag_prefix);
        self.require_clean("finishing a branch")?;
        if self
            .repo
            .find_reference(&format!("refs/tags/{tag}"))
            .is_ok()
        {
            return Err(format!(
                "tag {tag} already exists: this version was released"
            ));
        }
        let main = self.main_branch(names)?;
        let develop = names.develop.clone();
        let (Some(main_tip), Some(develop_tip), Some(branch_tip)) =
            (self.tip(&main), self.tip(&develop), self.tip(&branch))
        else {
            return Err(format!(
                "there is no `{develop}` branch",
                develop = names.develop
            ));
        };
        let plan = FinishPlan {
            branch,
            tag,
            main,
            develop,
            main_tip,
            develop_tip,
            branch_tip,
        };
        // Both merges, in memory: a conflict names its files and changes
        // nothing (`finish` merges again, and still moves no ref before both
        // are clean).
        self.merge_tree(main_tip, branch_tip, &plan.main, &plan.branch)?;
        self.merge_tree(develop_tip, branch_tip, &plan.develop, &plan.branch)?;
        Ok(plan)
    }

    fn merge_tree(
        &self,
        ours: git2::Oid,
        theirs: git2::Oid,
        into: &str,
        from: &str,
    ) -> Result<git2::Oid, String> {
        let (ours, theirs) = (
            self.repo.find_commit(ours).map_err(err)?,
            self.repo.find_commit(theirs).map_err(err)?,
        );
        let mut index = self.repo.merge_commits(&ours, &theirs, None).map_err(err)?;
        if index.has_conflicts() {
            let mut files: Vec<String> = index
                .conflicts()
                .map_err(err)?
                .flatten()
                .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            files.sort();
            files.dedup();
            return Err(format!(
                "merging {from} into {into} conflicts in {}: resolve it by hand (nothing was changed)",
                files.join(", ")
            ));
        }
        index.write_tree_to(&self.repo).map_err(err)
    }

    /// Merges, tags, merges the tag into develop, deletes the branch and
    /// checks out develop.
    pub(crate) fn finish(&self, plan: &FinishPlan, message: &str) -> Result<(), String> {
        let repo = &self.repo;
        let who = repo.signature().map_err(|_| {
            "git does not know who merges: set `git config user.name` and `user.email`".to_owned()
        })?;
        let commit =
            |tree: git2::Oid, parents: &[git2::Oid], text: &str| -> Result<git2::Oid, String> {
                let tree = repo.find_tree(tree).map_err(err)?;
                let parents: Vec<git2::Commit> = parents
                    .iter()
                    .map(|p| repo.find_commit(*p))
                    .collect::<Result<_, _>>()
                    .map_err(err)?;
                let refs: Vec<&git2::Commit> = parents.iter().collect();
                repo.commit(None, &who, &who, text, &tree, &refs)
                    .map_err(err)
            };
        let main_tree =
            self.merge_tree(plan.main_tip, plan.branch_tip, &plan.main, &plan.branch)?;
        let merged = commit(
            main_tree,
            &[plan.main_tip, plan.branch_tip],
            &format!("Merge branch '{}'", plan.branch),
        )?;
        let develop_tree = self.merge_tree(plan.develop_tip, merged, &plan.develop, &plan.tag)?;
        let back = commit(
            develop_tree,
            &[plan.develop_tip, merged],
            &format!("Merge tag '{}' into {}", plan.tag, plan.develop),
        )?;
        // Only now do refs move.
        let merged_object = repo.find_object(merged, None).map_err(err)?;
        repo.tag(&plan.tag, &merged_object, &who, message, false)
            .map_err(err)?;
        repo.reference(
            &format!("refs/heads/{}", plan.main),
            merged,
            true,
            "release finish",
        )
        .map_err(err)?;
        repo.reference(
            &format!("refs/heads/{}", plan.develop),
            back,
            true,
            "release finish",
        )
        .map_err(err)?;
        let tree = repo.find_commit(back).map_err(err)?.into_object();
        repo.checkout_tree(&tree, Some(git2::build::CheckoutBuilder::new().safe()))
            .map_err(err)?;
        repo.set_head(&format!("refs/heads/{}", plan.develop))
            .map_err(err)?;
        repo.find_branch(&plan.branch, git2::BranchType::Local)
            .and_then(|mut b| b.delete())
            .map_err(err)?;
        Ok(())
    }
}
