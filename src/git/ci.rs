//! The branch a CI system says it builds, for the detached HEAD of a CI checkout.

/// The first CI branch variable that names a branch; tag builds give `None`.
/// `GIT_BRANCH` itself is not read here: the caller handles that override.
pub(crate) fn ci_branch(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let set = |name: &str| get(name).is_some();

    let candidates: [Option<String>; 10] = [
        // GitHub Actions: the PR's source branch, else the ref name of a branch push.
        get("GITHUB_HEAD_REF"),
        (get("GITHUB_REF_TYPE").as_deref() == Some("branch"))
            .then(|| get("GITHUB_REF_NAME"))
            .flatten(),
        // GitLab sets CI_COMMIT_TAG (and no branch) for tag pipelines.
        (!set("CI_COMMIT_TAG"))
            .then(|| get("CI_COMMIT_BRANCH"))
            .flatten(),
        (!set("CI_COMMIT_TAG"))
            .then(|| get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"))
            .flatten(),
        // Jenkins multibranch sets BRANCH_NAME to the tag on tag builds.
        (!set("TAG_NAME")).then(|| get("BRANCH_NAME")).flatten(),
        (!set("BUILDKITE_TAG"))
            .then(|| get("BUILDKITE_BRANCH"))
            .flatten(),
        (!set("CIRCLE_TAG")).then(|| get("CIRCLE_BRANCH")).flatten(),
        get("BITBUCKET_BRANCH"),
        (!set("DRONE_TAG")).then(|| get("DRONE_BRANCH")).flatten(),
        // Travis sets TRAVIS_BRANCH to the tag on tag builds.
        (!set("TRAVIS_TAG")).then(|| get("TRAVIS_BRANCH")).flatten(),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|b| clean(b.trim()))
        .find(|b| !b.is_empty())
}

fn clean(branch: &str) -> String {
    let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
    let branch = branch.strip_prefix("origin/").unwrap_or(branch);
    branch.to_owned()
}

#[cfg(test)]
mod tests {
    use super::ci_branch;
    use std::collections::HashMap;

    fn branch(vars: &[(&str, &str)]) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ci_branch(&|name| map.get(name).cloned())
    }

    #[test]
    fn no_ci_no_branch() {
        assert_eq!(branch(&[]), None);
        assert_eq!(branch(&[("PATH", "/bin")]), None);
    }

    #[test]
    fn github_pull_request_uses_head_ref() {
        let vars = [
            ("GITHUB_HEAD_REF", "feature/login"),
            ("GITHUB_REF_NAME", "42/merge"),
            ("GITHUB_REF_TYPE", "branch"),
        ];
        assert_eq!(branch(&vars).as_deref(), Some("feature/login"));
    }

    #[test]
    fn github_push_uses_ref_name_for_branches_only() {
        let push = [
            ("GITHUB_HEAD_REF", ""),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_REF_TYPE", "branch"),
        ];
        assert_eq!(branch(&push).as_deref(), Some("main"));
        let tag = [("GITHUB_REF_NAME", "v1.2.0"), ("GITHUB_REF_TYPE", "tag")];
        assert_eq!(branch(&tag), None);
    }

    #[test]
    fn gitlab_branch_merge_request_and_tag() {
        assert_eq!(
            branch(&[("CI_COMMIT_BRANCH", "release/2")]).as_deref(),
            Some("release/2")
        );
        assert_eq!(
            branch(&[("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "fix/x")]).as_deref(),
            Some("fix/x")
        );
        assert_eq!(branch(&[("CI_COMMIT_TAG", "v1.0.0")]), None);
    }

    #[test]
    fn jenkins_branch_but_not_tag_builds() {
        assert_eq!(
            branch(&[("BRANCH_NAME", "origin/develop")]).as_deref(),
            Some("develop")
        );
        assert_eq!(
            branch(&[("BRANCH_NAME", "v2.0.0"), ("TAG_NAME", "v2.0.0")]),
            None
        );
    }

    #[test]
    fn buildkite_branch_but_not_tag_builds() {
        assert_eq!(
            branch(&[("BUILDKITE_BRANCH", "main")]).as_deref(),
            Some("main")
        );
        assert_eq!(
            branch(&[("BUILDKITE_BRANCH", "v3"), ("BUILDKITE_TAG", "v3")]),
            None
        );
    }

    #[test]
    fn circle_bitbucket_drone() {
        assert_eq!(
            branch(&[("CIRCLE_BRANCH", "feat/a")]).as_deref(),
            Some("feat/a")
        );
        assert_eq!(branch(&[("CIRCLE_TAG", "v1"), ("CIRCLE_BRANCH", "")]), None);
        assert_eq!(
            branch(&[("BITBUCKET_BRANCH", "bugfix/b")]).as_deref(),
            Some("bugfix/b")
        );
        assert_eq!(
            branch(&[("DRONE_BRANCH", "refs/heads/dev")]).as_deref(),
            Some("dev")
        );
        assert_eq!(branch(&[("DRONE_BRANCH", "v9"), ("DRONE_TAG", "v9")]), None);
    }

    #[test]
    fn travis_branch_only_without_tag() {
        assert_eq!(
            branch(&[("TRAVIS_BRANCH", "master"), ("TRAVIS_TAG", "")]).as_deref(),
            Some("master")
        );
        assert_eq!(
            branch(&[("TRAVIS_BRANCH", "v1.4"), ("TRAVIS_TAG", "v1.4")]),
            None
        );
    }

    #[test]
    fn git_branch_is_not_read_here() {
        assert_eq!(branch(&[("GIT_BRANCH", "origin/main")]), None);
    }
}
