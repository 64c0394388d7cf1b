//! `GitRepo` compared with the real `git` binary in throw-away repositories.

use super::{GitError, GitRepo};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A temporary repository driven by the `git` CLI with a fixed identity and
/// clock, so the tests need no git config on the machine.
struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    clock: std::cell::Cell<u64>,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        std::fs::create_dir(&dir).unwrap();
        let repo = Repo {
            _tmp: tmp,
            dir,
            clock: std::cell::Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn at(&self, path: &Path) -> Repo {
        Repo {
            _tmp: tempfile::tempdir().unwrap(),
            dir: path.to_path_buf(),
            clock: self.clock.clone(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let t = self.clock.get() + 60;
        self.clock.set(t);
        let date = format!("@{t} +0000");
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir)
            .args([
                "-c",
                "user.name=Hoist Test",
                "-c",
                "user.email=test@hoist.invalid",
            ])
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .env("GIT_AUTHOR_NAME", "Hoist Test")
            .env("GIT_AUTHOR_EMAIL", "test@hoist.invalid")
            .env("GIT_COMMITTER_NAME", "Hoist Test")
            .env("GIT_COMMITTER_EMAIL", "test@hoist.invalid")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        cmd
    }

    /// Runs git and returns its trimmed stdout; panics when git fails.
    fn git(&self, args: &[&str]) -> String {
        self.try_git(args)
            .unwrap_or_else(|err| panic!("git {args:?} failed: {err}"))
    }

    /// Feeds a `git fast-import` stream; panics when git fails.
    fn fast_import(&self, stream: &str) {
        use std::io::Write;
        let mut child = self
            .command(&["fast-import", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stream.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }

    fn try_git(&self, args: &[&str]) -> Result<String, String> {
        let out = self.command(args).output().expect("git is installed");
        if out.status.success() {
            Ok(String::from_utf8(out.stdout).unwrap().trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn commit(&self, file: &str, content: &str) -> String {
        let path = self.dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", &format!("change {file}")]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn open(&self) -> GitRepo {
        GitRepo::discover(&self.dir).expect("a repository")
    }

    /// Our describe must print what `git describe --tags --always` prints.
    fn assert_describe_matches_git(&self) -> String {
        let expected = self.git(&["describe", "--tags", "--always"]);
        let (ours, _) = self.open().describe().unwrap();
        assert_eq!(ours, expected, "describe in {}", self.dir.display());
        let exact = self.try_git(&["describe", "--tags", "--exact-match"]).ok();
        assert_eq!(self.open().exact_tag().unwrap(), exact, "exact tag");
        ours
    }
}

#[test]
fn outside_a_repository_is_none() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(GitRepo::discover(tmp.path()).is_none());
}

#[test]
fn discover_from_a_subdirectory() {
    let repo = Repo::new();
    let head = repo.commit("svc/main.go", "package main\n");
    let sub = GitRepo::discover(&repo.dir.join("svc")).expect("found from subdir");
    assert_eq!(sub.commit().unwrap(), head);
}

#[test]
fn a_linked_worktree_is_opened_through_its_git_file() {
    let repo = Repo::new();
    repo.commit("main.go", "package main\n");
    repo.git(&["tag", "v1.0.0"]);
    let tree = repo.dir.parent().unwrap().join("tree");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature/x",
        tree.to_str().unwrap(),
    ]);
    let head = repo.at(&tree).commit("svc/a.go", "package svc\n");
    let opened = GitRepo::discover(&tree.join("svc")).expect("found from the worktree");
    assert_eq!(opened.branch().unwrap().as_deref(), Some("feature/x"));
    assert_eq!(opened.commit().unwrap(), head);
    assert_eq!(
        opened.describe().unwrap().0,
        repo.at(&tree).git(&["describe", "--tags", "--always"])
    );
}

/// The git built-ins of one run describe one commit: HEAD as the first of
/// them found it, even when a command commits in between.
#[test]
fn one_opened_repository_describes_one_head() {
    let repo = Repo::new();
    let first = repo.commit("a.txt", "1\n");
    let first_time: i64 = repo.git(&["log", "-1", "--format=%ct"]).parse().unwrap();
    repo.git(&["tag", "v1.0.0"]);
    let opened = repo.open();
    assert_eq!(opened.describe().unwrap().0, "v1.0.0");
    let second = repo.commit("a.txt", "2\n");
    assert_ne!(first, second);
    assert_eq!(opened.commit().unwrap(), first);
    assert_eq!(opened.commit_time().unwrap(), first_time);
    assert!(repo.open().commit_time().unwrap() > first_time);
    assert_eq!(
        repo.open().commit().unwrap(),
        second,
        "a new opening sees the new HEAD"
    );
}

#[test]
fn empty_repository_has_a_branch_but_nothing_to_describe() {
    let repo = Repo::new();
    let git = repo.open();
    assert_eq!(git.branch().unwrap().as_deref(), Some("main"));
    assert!(matches!(git.describe(), Err(GitError::NoCommits)));
    assert!(matches!(git.commit(), Err(GitError::NoCommits)));
    assert!(matches!(git.short_commit(), Err(GitError::NoCommits)));
    assert!(matches!(git.exact_tag(), Err(GitError::NoCommits)));
    assert!(!git.dirty().unwrap());
    assert_eq!(git.default_branch(), None);
    assert_eq!(git.remote_url(), None);
}

#[test]
fn untagged_history_describes_as_the_short_commit() {
    let repo = Repo::new();
    repo.commit("a", "1");
    repo.commit("a", "2");
    let described = repo.assert_describe_matches_git();
    assert_eq!(described.len(), 7);
    let git = repo.open();
    assert!(!git.describe().unwrap().1, "not shallow: no warning");
    assert_eq!(git.commit().unwrap(), repo.git(&["rev-parse", "HEAD"]));
    assert_eq!(
        git.short_commit().unwrap(),
        repo.git(&["rev-parse", "--short", "HEAD"])
    );
    assert_eq!(git.exact_tag().unwrap(), None);
}

#[test]
fn lightweight_and_annotated_tags() {
    let repo = Repo::new();
    repo.commit("a", "1");
    repo.git(&["tag", "v0.1.0"]);
    assert_eq!(repo.assert_describe_matches_git(), "v0.1.0");
    repo.commit("a", "2");
    repo.commit("a", "3");
    let d = repo.assert_describe_matches_git();
    assert!(d.starts_with("v0.1.0-2-g"), "{d}");
    repo.git(&["tag", "-a", "v0.2.0", "-m", "release 0.2.0"]);
    assert_eq!(repo.assert_describe_matches_git(), "v0.2.0");
    repo.commit("b", "1");
    let d = repo.assert_describe_matches_git();
    assert!(d.starts_with("v0.2.0-1-g"), "{d}");
    // Tags on trees and blobs describe nothing.
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    repo.git(&["tag", "zz-tree", &tree]);
    let blob = repo.git(&["rev-parse", "HEAD:b"]);
    repo.git(&["tag", "-a", "zz-blob", "-m", "blob", &blob]);
    assert_eq!(repo.assert_describe_matches_git(), d);
}

#[test]
fn annotated_tag_wins_over_lightweight_on_the_same_commit() {
    let repo = Repo::new();
    repo.commit("a", "1");
    repo.git(&["tag", "-a", "v1.0.0", "-m", "v1"]);
    repo.git(&["tag", "aaa-lightweight"]);
    assert_eq!(repo.assert_describe_matches_git(), "v1.0.0");
    repo.commit("a", "2");
    assert!(repo.assert_describe_matches_git().starts_with("v1.0.0-1-g"));
}

#[test]
fn several_lightweight_tags_on_one_commit() {
    let repo = Repo::new();
    repo.commit("a", "1");
    repo.git(&["tag", "zeta"]);
    repo.git(&["tag", "alpha"]);
    repo.git(&["tag", "mid/v1"]);
    repo.assert_describe_matches_git();
    repo.commit("a", "2");
    repo.assert_describe_matches_git();
    // packed refs are read in a different order than loose ones
    repo.git(&["pack-refs", "--all"]);
    repo.assert_describe_matches_git();
    repo.git(&["checkout", "-q", "HEAD~1"]);
    repo.assert_describe_matches_git();
}

#[test]
fn newest_annotated_tag_wins_on_one_commit() {
    let repo = Repo::new();
    repo.commit("a", "1");
    // Each git call advances the clock: the tagger dates increase in this order.
    repo.git(&["tag", "-a", "b-oldest", "-m", "x"]);
    repo.git(&["tag", "-a", "c-middle", "-m", "z"]);
    repo.git(&["tag", "-a", "a-newest", "-m", "y", "--", "HEAD"]);
    let newest = repo.assert_describe_matches_git();
    assert_eq!(newest, "a-newest");
    repo.commit("a", "2");
    assert!(repo
        .assert_describe_matches_git()
        .starts_with("a-newest-1-g"));
}

#[test]
fn merges_and_many_candidates_match_git() {
    let repo = Repo::new();
    repo.commit("base", "0");
    repo.git(&["tag", "-a", "v0.0.1", "-m", "base"]);
    for i in 0..14 {
        repo.commit("main.txt", &format!("m{i}"));
        if i % 2 == 0 {
            repo.git(&["tag", &format!("light-{i}")]);
        }
        if i % 5 == 0 {
            repo.git(&["tag", "-a", &format!("v0.{i}.0"), "-m", "r"]);
        }
    }
    repo.git(&["checkout", "-q", "-b", "feature/x", "HEAD~6"]);
    for i in 0..5 {
        repo.commit("feature.txt", &format!("f{i}"));
        if i == 1 {
            repo.git(&["tag", &format!("feat-{i}")]);
        }
    }
    repo.assert_describe_matches_git();
    assert_eq!(repo.open().branch().unwrap().as_deref(), Some("feature/x"));
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge", "feature/x"]);
    repo.assert_describe_matches_git();
    repo.commit("after", "1");
    repo.assert_describe_matches_git();
    // Walk back over each first-parent ancestor, detached.
    for back in 1..8 {
        repo.git(&["checkout", "-q", &format!("main~{back}")]);
        repo.assert_describe_matches_git();
        assert_eq!(repo.open().branch().unwrap(), None, "detached");
    }
}

#[test]
fn core_abbrev_is_honoured() {
    let repo = Repo::new();
    repo.commit("a", "1");
    repo.git(&["tag", "v1"]);
    repo.commit("a", "2");
    repo.git(&["config", "core.abbrev", "12"]);
    let d = repo.assert_describe_matches_git();
    assert_eq!(d.len(), "v1-1-g".len() + 12, "{d}");
    assert_eq!(
        repo.open().short_commit().unwrap(),
        repo.git(&["rev-parse", "--short", "HEAD"])
    );
}

#[test]
fn large_packed_repository_gets_longer_abbreviations() {
    // git's "auto" grows past 7 digits from 2^14 packed objects on.
    let repo = Repo::new();
    repo.commit("a", "1");
    let mut input = String::new();
    for i in 0..17_000 {
        input.push_str(&format!("blob\ndata {}\nblob {i:05}\n", 11));
    }
    repo.fast_import(&input);
    // fast-import wrote them as a pack (a repack would drop them: unreachable)
    let d = repo.assert_describe_matches_git();
    assert_eq!(d.len(), 8, "{d}");
    assert_eq!(
        repo.open().short_commit().unwrap(),
        repo.git(&["rev-parse", "--short", "HEAD"])
    );
}

#[test]
fn shallow_clone_without_tags_falls_back_with_a_warning_flag() {
    let origin = Repo::new();
    origin.commit("a", "1");
    origin.git(&["tag", "-a", "v1.0.0", "-m", "v1"]);
    origin.commit("a", "2");
    let clone_dir = origin.dir.parent().unwrap().join("clone");
    let url = format!("file://{}", origin.dir.display());
    origin.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &url,
        clone_dir.to_str().unwrap(),
    ]);
    let clone = origin.at(&clone_dir);
    let described = clone.assert_describe_matches_git();
    let (_, fallback) = clone.open().describe().unwrap();
    assert!(fallback, "shallow fallback to {described} must be flagged");

    // A shallow clone of a tagged HEAD still finds the tag: no warning.
    origin.git(&["tag", "v1.0.1"]);
    let clone2_dir = origin.dir.parent().unwrap().join("clone2");
    origin.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &url,
        clone2_dir.to_str().unwrap(),
    ]);
    let clone2 = origin.at(&clone2_dir);
    assert_eq!(clone2.assert_describe_matches_git(), "v1.0.1");
    assert!(!clone2.open().describe().unwrap().1);
    assert_eq!(clone2.open().default_branch().as_deref(), Some("main"));
    assert_eq!(
        clone2.open().remote_url().as_deref(),
        Some(url.as_str()),
        "local remotes are kept as they are"
    );
}

#[test]
fn dirty_counts_tracked_changes_only() {
    let repo = Repo::new();
    repo.commit("tracked.txt", "1");
    repo.commit("other.txt", "1");
    let git = repo.open();
    let git_says_dirty = || {
        repo.git(&["describe", "--tags", "--always", "--dirty"])
            .ends_with("-dirty")
    };
    assert!(!git.dirty().unwrap());
    assert!(!git_says_dirty());

    std::fs::write(repo.dir.join("untracked.txt"), "new").unwrap();
    assert!(!git.dirty().unwrap(), "untracked files do not count");
    assert!(!git_says_dirty());

    std::fs::write(repo.dir.join("tracked.txt"), "2").unwrap();
    assert!(git.dirty().unwrap(), "modified tracked file");
    assert!(git_says_dirty());

    repo.git(&["add", "tracked.txt"]);
    assert!(git.dirty().unwrap(), "staged change");
    assert!(git_says_dirty());

    repo.git(&["commit", "-q", "-m", "c"]);
    assert!(!git.dirty().unwrap());
    std::fs::remove_file(repo.dir.join("other.txt")).unwrap();
    assert!(git.dirty().unwrap(), "deleted tracked file");
    assert!(git_says_dirty());
}

#[test]
fn remote_url_prefers_origin_and_hides_credentials() {
    let repo = Repo::new();
    repo.commit("a", "1");
    let git = repo.open();
    assert_eq!(git.remote_url(), None);
    repo.git(&[
        "remote",
        "add",
        "upstream",
        "git@github.com:acme/upstream.git",
    ]);
    assert_eq!(
        repo.open().remote_url().as_deref(),
        Some("https://github.com/acme/upstream")
    );
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://bot:ghp_secret@github.com/acme/api.git",
    ]);
    let url = repo.open().remote_url().unwrap();
    assert_eq!(url, "https://github.com/acme/api");
    assert!(!url.contains("secret"));
}

#[test]
fn without_origin_the_first_remote_by_name_is_used_as_git_remote_lists_them() {
    let repo = Repo::new();
    repo.commit("a", "1");
    repo.git(&["remote", "add", "zeta", "https://example.com/acme/zeta.git"]);
    repo.git(&[
        "remote",
        "add",
        "alpha",
        "https://example.com/acme/alpha.git",
    ]);
    let listed = repo.git(&["remote"]);
    assert_eq!(listed.lines().next(), Some("alpha"));
    assert_eq!(
        repo.open().remote_url().as_deref(),
        Some("https://example.com/acme/alpha")
    );
}

#[test]
fn default_branch_from_origin_head_else_local_main_or_master() {
    let repo = Repo::new();
    repo.commit("a", "1");
    assert_eq!(repo.open().default_branch().as_deref(), Some("main"));
    repo.git(&["branch", "-m", "main", "master"]);
    assert_eq!(repo.open().default_branch().as_deref(), Some("master"));
    repo.git(&["branch", "-m", "master", "trunk"]);
    assert_eq!(repo.open().default_branch(), None);
    repo.git(&["update-ref", "refs/remotes/origin/develop", "HEAD"]);
    repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/develop",
    ]);
    assert_eq!(repo.open().default_branch().as_deref(), Some("develop"));
}

#[test]
fn branch_names_with_slashes_and_detached_head() {
    let repo = Repo::new();
    repo.commit("a", "1");
    repo.git(&["checkout", "-q", "-b", "feature/deep/name"]);
    assert_eq!(
        repo.open().branch().unwrap().as_deref(),
        Some("feature/deep/name")
    );
    repo.git(&["checkout", "-q", "--detach"]);
    assert_eq!(repo.open().branch().unwrap(), None);
}

/// Timing of discover + describe on a few hundred commits (run with --ignored).
#[test]
#[ignore = "a measurement: run it with --release --nocapture"]
fn describe_is_fast_on_hundreds_of_commits() {
    let repo = Repo::new();
    let mut input = String::new();
    for i in 0..400 {
        input.push_str(&format!(
            "commit refs/heads/main\ncommitter T <t@t> {} +0000\ndata 2\nc\n\
             M 644 inline f.txt\ndata {}\n{i:06}\n\n",
            1_700_000_000 + i,
            7
        ));
        if i == 20 {
            input.push_str(
                "tag v0.1.0\nfrom refs/heads/main\ntagger T <t@t> 1700000100 +0000\ndata 2\nt\n\n",
            );
        }
    }
    repo.fast_import(&input);
    repo.git(&["reset", "-q", "--hard", "main"]);
    repo.assert_describe_matches_git();
    let start = std::time::Instant::now();
    let runs = 20;
    for _ in 0..runs {
        let git = GitRepo::discover(&repo.dir).unwrap();
        git.describe().unwrap();
    }
    let per_run = start.elapsed() / runs;
    eprintln!("discover+describe, 380 commits from the tag: {per_run:?}");
    repo.git(&["tag", "v0.2.0"]);
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let git = GitRepo::discover(&repo.dir).unwrap();
        assert_eq!(git.describe().unwrap().0, "v0.2.0");
    }
    eprintln!(
        "discover+describe, HEAD tagged: {:?}",
        start.elapsed() / runs
    );
    assert!(
        per_run < std::time::Duration::from_millis(50),
        "{per_run:?}"
    );
}
