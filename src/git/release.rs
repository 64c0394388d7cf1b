//! Release steps on the repository: an annotated tag at HEAD, refused (and
//! nothing changed) when the tree is dirty, the tag exists, or a stable
//! version would not be above the highest one tagged.

use super::semver::Version;
use super::GitRepo;

/// What the tag step would do or did: the tag and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagPlan {
    pub name: String,
    pub commit: String,
}

impl GitRepo {
    /// The checks of `git-tag`, without changing anything; `Err` says why
    /// not and what to do.
    pub(crate) fn plan_tag(&self, name: &str) -> Result<TagPlan, String> {
        if !git2::Reference::is_valid_name(&format!("refs/tags/{name}")) {
            return Err(format!("`{name}` is not a valid tag name"));
        }
        let commit = self
            .short_commit()
            .map_err(|e| format!("cannot tag: {e}"))?;
        if self.dirty().map_err(|e| e.to_string())? {
            return Err(format!(
                "the working tree has uncommitted changes: commit or stash them before tagging {name}"
            ));
        }
        if self
            .repo
            .find_reference(&format!("refs/tags/{name}"))
            .is_ok()
        {
            return Err(format!(
                "tag {name} already exists: pick the next version (NEXT_PATCH, NEXT_MINOR, NEXT_MAJOR)"
            ));
        }
        if let Some(version) = Version::parse(name).filter(|v| v.pre.is_none()) {
            if let Some(highest) = self.highest_stable().map_err(|e| e.to_string())? {
                if (version.major, version.minor, version.patch)
                    <= (highest.major, highest.minor, highest.patch)
                {
                    return Err(format!(
                        "{name} is not above the highest version tagged, {highest}: a release must go up"
                    ));
                }
            }
        }
        Ok(TagPlan {
            name: name.to_owned(),
            commit,
        })
    }

    /// Creates the annotated tag the plan checked, as the user of the
    /// repository's git config.
    pub(crate) fn create_tag(&self, plan: &TagPlan, message: &str) -> Result<(), String> {
        let signature = self.repo.signature().map_err(|_| {
            "git does not know who tags: set `git config user.name` and `user.email`".to_owned()
        })?;
        let head = self
            .repo
            .head()
            .and_then(|h| h.peel(git2::ObjectType::Commit))
            .map_err(|e| format!("cannot read HEAD: {e}"))?;
        self.repo
            .tag(&plan.name, &head, &signature, message, false)
            .map_err(|e| format!("cannot create tag {}: {e}", plan.name))?;
        Ok(())
    }

    fn highest_stable(&self) -> Result<Option<Version>, git2::Error> {
        let names = self.repo.tag_names(None)?;
        Ok((0..names.len())
            .filter_map(|i| names.get(i).ok().flatten())
            .filter_map(Version::parse)
            .filter(|v| v.pre.is_none())
            .max_by_key(|v| (v.major, v.minor, v.patch)))
    }
}
