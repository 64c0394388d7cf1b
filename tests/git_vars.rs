use crate::common::{git, Test};

const SHOW: &str = "tasks:\n  default: \"echo v={{ VERSION }} b={{ GIT_BRANCH }} t={{ GIT_TAG }} c={{ GIT_SHORT_COMMIT }} d={{ GIT_DIRTY }}\"\n";

fn repo() -> Test {
    let test = Test::new()
        .hoist_yml(SHOW)
        .file(".gitignore", ".hoist/\n")
        .args(&["-s"]);
    git(test.path(), &["init", "-q"]);
    git(test.path(), &["add", "."]);
    git(test.path(), &["commit", "-qm", "one"]);
    test
}

#[test]
fn branch_and_commit_without_tags() {
    let test = repo();
    let short = git(test.path(), &["rev-parse", "--short", "HEAD"]);
    test.run()
        .success()
        .stdout(&format!("v={short} b=main t= c={short} d=false\n"));
}

#[test]
fn release_tag_and_describe_after_it() {
    let test = repo();
    git(test.path(), &["tag", "-a", "v1.1.0", "-m", "release"]);
    test.run().success().stdout_has("v=v1.1.0 b=main t=v1.1.0");
    git(test.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
    let expected = git(test.path(), &["describe", "--tags", "--always"]);
    assert!(expected.starts_with("v1.1.0-1-g"));
    test.run()
        .success()
        .stdout_has(&format!("v={expected} b=main t= "));
}

#[test]
fn feature_branch_and_dirty() {
    let test = repo();
    git(
        test.path(),
        &["checkout", "-q", "-b", "feature/containerise-api"],
    );
    std::fs::write(test.path().join("hoist.yml"), format!("{SHOW}\n")).unwrap();
    test.run()
        .success()
        .stdout_has("b=feature/containerise-api")
        .stdout_has("d=true");
}

#[test]
fn detached_head_uses_the_ci_branch_but_never_a_tag() {
    let test = repo();
    git(test.path(), &["checkout", "-q", "--detach"]);
    test.run().success().stdout_has(" b= ");
    let branch = Test::new().hoist_yml(SHOW);
    drop(branch);
    let mut with_branch = test;
    with_branch = with_branch
        .env("GITHUB_REF_NAME", "develop")
        .env("GITHUB_REF_TYPE", "branch");
    with_branch.run().success().stdout_has(" b=develop ");
    let with_tag = with_branch.env("GITHUB_REF_TYPE", "tag");
    with_tag.run().success().stdout_has(" b= ");
}

#[test]
fn environment_overrides_builtins() {
    let test = repo().env("VERSION", "9.9.9").env("GIT_BRANCH", "from-env");
    test.run().success().stdout_has("v=9.9.9 b=from-env");
}

#[test]
fn cli_version_wins() {
    let mut test = repo();
    test.run_with(&["-s", "VERSION=cli"])
        .success()
        .stdout_has("v=cli ");
}

#[test]
fn shallow_clone_without_tags_warns_once() {
    let origin = repo();
    git(origin.path(), &["tag", "v1.0.0"]);
    git(
        origin.path(),
        &["commit", "-q", "--allow-empty", "-m", "two"],
    );
    let clone = Test::new();
    let url = format!("file://{}", origin.path().display());
    git(
        clone.path(),
        &["clone", "-q", "--depth", "1", "--no-tags", &url, "c"],
    );
    let mut test = clone.cwd("c");
    // -s hides warnings; without it the fallback is said once.
    test.run_with(&["-s"]).success().stderr_lacks("fell back");
    let out = test.run_with(&[]);
    out.success()
        .stderr_has("warning: VERSION fell back to the commit");
    assert_eq!(
        out.stderr
            .matches("VERSION fell back to the commit")
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("git fetch --tags --unshallow"));
}

/// SEMVER along a git-flow history, with the next versions and the
/// `semver()` filter's image tags (empty, so skipped, on a pre-release).
#[test]
fn semver_follows_git_flow() {
    let show = "tasks:\n  default: \"echo s={{ SEMVER }} n={{ NEXT_MAJOR }},{{ NEXT_MINOR }},{{ NEXT_PATCH }} mm=[{{ SEMVER | semver('{major}.{minor}') }}] m=[{{ SEMVER | semver('{major}') }}]\"\n";
    let test = Test::new()
        .hoist_yml(show)
        .file(".gitignore", ".hoist/\n")
        .args(&["-s"]);
    let dir = test.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "one"]);
    test.run()
        .success()
        .stdout("s=0.0.1-1 n=1.0.0,0.1.0,0.0.1 mm=[] m=[]\n");
    git(dir, &["tag", "-a", "v1.2.0", "-m", "release"]);
    test.run()
        .success()
        .stdout("s=1.2.0 n=2.0.0,1.3.0,1.2.1 mm=[1.2] m=[1]\n");
    git(dir, &["checkout", "-q", "-b", "develop"]);
    for i in 0..3 {
        git(
            dir,
            &["commit", "-q", "--allow-empty", "-m", &format!("d{i}")],
        );
    }
    test.run().success().stdout_has("s=1.3.0-alpha.3 ");
    git(dir, &["checkout", "-q", "-b", "feature/Login-Form"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "f"]);
    test.run().success().stdout_has("s=1.3.0-login-form.4 ");
    git(dir, &["checkout", "-q", "-b", "release/1.3.0", "develop"]);
    test.run().success().stdout_has("s=1.3.0-beta.3 ");
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "fix"]);
    test.run().success().stdout_has("s=1.2.1-1 ");
    git(dir, &["checkout", "-q", "-b", "hotfix/urgent"]);
    test.run().success().stdout_has("s=1.2.1-beta.1 ");
    git(dir, &["tag", "v1.2.1-rc.1"]);
    test.run().success().stdout_has("s=1.2.1-rc.1 ");
    // A detached HEAD takes the CI's branch, as GIT_BRANCH does.
    git(dir, &["checkout", "-q", "--detach", "develop"]);
    let out = test
        .command()
        .env("GITHUB_REF_NAME", "develop")
        .env("GITHUB_REF_TYPE", "branch")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("s=1.3.0-alpha.3 "), "{stdout}");
    test.run().success().stdout_has("s=1.2.1-3 ");
}

/// `git-tag`: an annotated tag at HEAD pushed by name to the remote; refused,
/// with nothing changed, for a dirty tree, an existing tag or a version that
/// does not go up; `--dry` says what it would do and does nothing.
#[test]
fn git_tag_step_tags_pushes_and_refuses() {
    let file = "tasks:\n  release:\n    cmds:\n      - git-tag: {name: \"v{{ NEXT_MINOR }}\", message: \"Release {{ NEXT_MINOR }}\", push: origin}\n  retag:\n    cmds:\n      - git-tag: {name: v1.0.0}\n  downgrade:\n    cmds:\n      - git-tag: {name: v0.9.0}\n";
    let mut test = Test::new()
        .hoist_yml(file)
        .file(".gitignore", ".hoist/\nremote.git/\n");
    let dir = test.path().to_path_buf();
    let dir = dir.as_path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "one"]);
    git(dir, &["tag", "-a", "v1.0.0", "-m", "first"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "two"]);
    git(dir, &["init", "-q", "--bare", "remote.git"]);
    git(dir, &["remote", "add", "origin", "remote.git"]);
    git(dir, &["config", "user.name", "Release Bot"]);
    git(dir, &["config", "user.email", "release@example.com"]);
    let commit = git(dir, &["rev-parse", "--short", "HEAD"]);

    test.run_with(&["--dry", "release"])
        .success()
        .stderr_has(&format!(
            "tag {commit} as v1.1.0 (\"Release 1.1.0\"), then push it to origin"
        ));
    assert_eq!(git(dir, &["tag", "--list", "v1.1.0"]), "");

    test.run_with(&["release"])
        .success()
        .stderr_has(&format!("tagged {commit} as v1.1.0"))
        .stderr_has("pushed tag v1.1.0 to origin");
    assert_eq!(git(dir, &["cat-file", "-t", "v1.1.0"]), "tag", "annotated");
    assert_eq!(
        git(
            dir,
            &["tag", "-l", "--format=%(contents:subject)", "v1.1.0"]
        ),
        "Release 1.1.0"
    );
    let remote_tags = git(dir, &["ls-remote", "--tags", "origin"]);
    assert!(remote_tags.contains("refs/tags/v1.1.0"), "{remote_tags}");
    assert!(
        !remote_tags.contains("refs/tags/v1.0.0"),
        "only that one tag: {remote_tags}"
    );

    test.run_with(&["retag"])
        .status(201)
        .stderr_has("tag v1.0.0 already exists");
    test.run_with(&["downgrade"])
        .status(201)
        .stderr_has("v0.9.0 is not above the highest version tagged, 1.1.0");
    std::fs::write(dir.join("README"), "dirty\n").unwrap();
    git(dir, &["add", "README"]);
    test.run_with(&["release"])
        .status(201)
        .stderr_has("uncommitted changes");
    assert_eq!(
        git(dir, &["tag", "--list", "v1.2.0"]),
        "",
        "nothing changed"
    );
}

/// git-flow from start to finish: a release started on develop and
/// finished (merged --no-ff into main, tagged, the tag merged into develop,
/// the branch deleted, all pushed), a hotfix from main, and the refusals
/// (wrong branch, dirty tree, a conflict), each of which changes nothing.
#[test]
fn release_and_hotfix_steps_follow_git_flow() {
    let file = "tasks:\n  rs: {cmds: [{release: start}]}\n  rf: {cmds: [{release: {finish: true, push: origin}}]}\n  hs: {cmds: [{hotfix: start}]}\n  hf: {cmds: [{hotfix: finish}]}\n";
    let mut test = Test::new()
        .hoist_yml(file)
        .file(".gitignore", ".hoist/\nremote.git/\n")
        .file("app.txt", "one\n");
    let dir = test.path().to_path_buf();
    let dir = dir.as_path();
    let state = |dir: &std::path::Path| {
        git(dir, &["for-each-ref", "--format=%(refname) %(objectname)"])
            + &git(dir, &["symbolic-ref", "-q", "HEAD"])
    };
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Release Bot"]);
    git(dir, &["config", "user.email", "release@example.com"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "one"]);
    git(dir, &["tag", "-a", "v1.2.0", "-m", "1.2.0"]);
    git(dir, &["init", "-q", "--bare", "remote.git"]);
    git(dir, &["remote", "add", "origin", "remote.git"]);

    // Refused off develop.
    test.run_with(&["rs"])
        .status(201)
        .stderr_has("starts from `develop`, and `main` is checked out");
    git(dir, &["checkout", "-q", "-b", "develop"]);
    std::fs::write(dir.join("feature.txt"), "f\n").unwrap();
    git(dir, &["add", "feature.txt"]);
    git(dir, &["commit", "-qm", "feature"]);

    test.run_with(&["--dry", "rs"])
        .success()
        .stderr_has("create release/1.3.0 from develop and check it out");
    test.run_with(&["rs"])
        .success()
        .stderr_has("started release/1.3.0");
    assert_eq!(git(dir, &["branch", "--show-current"]), "release/1.3.0");
    std::fs::write(dir.join("app.txt"), "one\nrelease notes\n").unwrap();
    git(dir, &["commit", "-qam", "notes"]);

    // A conflict with main stops the finish and changes nothing.
    git(dir, &["checkout", "-q", "main"]);
    std::fs::write(dir.join("app.txt"), "one\nconflicting fix\n").unwrap();
    git(dir, &["commit", "-qam", "fix on main"]);
    git(dir, &["checkout", "-q", "release/1.3.0"]);
    let before = state(dir);
    test.run_with(&["rf"])
        .status(201)
        .stderr_has("conflicts in app.txt");
    assert_eq!(state(dir), before, "a conflict changed the repository");
    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["reset", "-q", "--hard", "HEAD~1"]);
    git(dir, &["checkout", "-q", "release/1.3.0"]);

    // Dirty: refused.
    std::fs::write(dir.join("app.txt"), "dirty\n").unwrap();
    test.run_with(&["rf"])
        .status(201)
        .stderr_has("uncommitted changes");
    git(dir, &["checkout", "-q", "--", "app.txt"]);

    let before = state(dir);
    test.run_with(&["--dry", "rf"])
        .success()
        .stderr_has("merge release/1.3.0 into main, tag it v1.3.0, merge v1.3.0 into develop, delete release/1.3.0, push main, develop and v1.3.0 to origin");
    assert_eq!(state(dir), before, "--dry changed the repository");
    test.run_with(&["rf"])
        .success()
        .stderr_has("released v1.3.0");
    assert_eq!(git(dir, &["branch", "--show-current"]), "develop");
    assert_eq!(git(dir, &["branch", "--list", "release/*"]), "");
    assert_eq!(git(dir, &["cat-file", "-t", "v1.3.0"]), "tag");
    assert_eq!(
        git(dir, &["rev-parse", "v1.3.0^{commit}"]),
        git(dir, &["rev-parse", "main"])
    );
    assert_eq!(
        git(dir, &["rev-list", "--parents", "-n1", "main"])
            .split(' ')
            .count(),
        3,
        "--no-ff"
    );
    git(dir, &["merge-base", "--is-ancestor", "v1.3.0", "develop"]);
    let remote = git(dir, &["ls-remote", "origin"]);
    for r in ["refs/heads/main", "refs/heads/develop", "refs/tags/v1.3.0"] {
        assert!(remote.contains(r), "{r}: {remote}");
    }
    assert!(!remote.contains("v1.2.0"), "only that tag: {remote}");

    // A hotfix from main.
    git(dir, &["checkout", "-q", "main"]);
    test.run_with(&["hs"])
        .success()
        .stderr_has("started hotfix/1.3.1");
    std::fs::write(dir.join("fix.txt"), "fix\n").unwrap();
    git(dir, &["add", "fix.txt"]);
    git(dir, &["commit", "-qm", "fix"]);
    test.run_with(&["hf"])
        .success()
        .stderr_has("released v1.3.1");
    assert_eq!(
        git(dir, &["rev-parse", "v1.3.1^{commit}"]),
        git(dir, &["rev-parse", "main"])
    );
    git(dir, &["merge-base", "--is-ancestor", "v1.3.1", "develop"]);
    assert_eq!(git(dir, &["branch", "--show-current"]), "develop");
}

/// `versioning:` renames git-flow's branches and the tag prefix.
#[test]
fn versioning_block_renames_branches_and_tag_prefix() {
    let file = "versioning: {main: [trunk], develop: next, release: rel-, tag_prefix: release-}\ntasks:\n  default: \"echo s={{ SEMVER }}\"\n";
    let test = Test::new()
        .hoist_yml(file)
        .file(".gitignore", ".hoist/\n")
        .args(&["-s"]);
    let dir = test.path();
    git(dir, &["init", "-q", "-b", "trunk"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "one"]);
    git(dir, &["tag", "-a", "release-1.2.0", "-m", "1.2.0"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "two"]);
    test.run().success().stdout("s=1.2.1-1\n");
    git(dir, &["checkout", "-q", "-b", "next"]);
    test.run().success().stdout("s=1.3.0-alpha.1\n");
    git(dir, &["checkout", "-q", "-b", "rel-1.3.0"]);
    test.run().success().stdout("s=1.3.0-beta.1\n");
}
