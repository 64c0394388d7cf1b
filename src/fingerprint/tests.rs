//! Up-to-date checks on real temporary trees.

use super::{check, record, FingerprintError, Freshness};
use std::path::{Path, PathBuf};

struct Project {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    state: PathBuf,
}

impl Project {
    fn new() -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("proj");
        std::fs::create_dir(&dir).unwrap();
        let state = dir.join(".hoist");
        Project {
            _tmp: tmp,
            dir,
            state,
        }
    }

    fn write(&self, rel: &str, content: &str) {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn check(&self, sources: &[&str], generates: &[&str]) -> (Freshness, String) {
        let s: Vec<String> = sources
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        let g: Vec<String> = generates
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        check(&self.state, "build", &self.dir, &s, &g).unwrap()
    }

    /// Checks, records as a successful run would, and checks again.
    fn run_and_recheck(&self, sources: &[&str], generates: &[&str]) -> Freshness {
        let (_, fingerprint) = self.check(sources, generates);
        record(&self.state, "build", &fingerprint).unwrap();
        self.check(sources, generates).0
    }

    fn is_stale(&self, sources: &[&str], generates: &[&str]) -> bool {
        matches!(self.check(sources, generates).0, Freshness::Stale(_))
    }
}

fn go_project() -> Project {
    let p = Project::new();
    p.write("go.mod", "module example.com/app\n");
    p.write("main.go", "package main\n");
    p.write("internal/db/db.go", "package db\n");
    p.write("README.md", "docs\n");
    p
}

const GO: &[&str] = &["**/*.go", "go.mod"];

#[test]
fn first_run_is_stale_then_up_to_date() {
    let p = go_project();
    let (freshness, _) = p.check(GO, &[]);
    assert_eq!(
        freshness,
        Freshness::Stale("no fingerprint of its sources is recorded yet".into())
    );
    assert_eq!(p.run_and_recheck(GO, &[]), Freshness::UpToDate);
    assert_eq!(p.check(GO, &[]).0, Freshness::UpToDate, "still up to date");
}

#[test]
fn content_change_is_stale_even_with_same_size_and_mtime() {
    let p = go_project();
    assert_eq!(p.run_and_recheck(GO, &[]), Freshness::UpToDate);
    let path = p.dir.join("internal/db/db.go");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::fs::write(&path, "package xy\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert!(p.is_stale(GO, &[]));
}

#[test]
fn unselected_files_do_not_count() {
    let p = go_project();
    assert_eq!(p.run_and_recheck(GO, &[]), Freshness::UpToDate);
    p.write("README.md", "new docs\n");
    p.write("notes.txt", "x");
    p.write(".git/objects/ab", "git internals");
    p.write(".hoist/other", "state");
    p.write(".git/fake.go", "package git\n");
    assert_eq!(p.check(GO, &[]).0, Freshness::UpToDate);
}

#[test]
fn new_matching_file_is_stale() {
    let p = go_project();
    assert_eq!(p.run_and_recheck(GO, &[]), Freshness::UpToDate);
    p.write("cmd/tool/tool.go", "package main\n");
    assert!(p.is_stale(GO, &[]));
}

#[test]
fn deleted_file_is_stale() {
    let p = go_project();
    assert_eq!(p.run_and_recheck(GO, &[]), Freshness::UpToDate);
    std::fs::remove_file(p.dir.join("main.go")).unwrap();
    assert!(p.is_stale(GO, &[]));
}

#[test]
fn rename_and_chmod_are_stale() {
    let p = go_project();
    assert_eq!(p.run_and_recheck(GO, &[]), Freshness::UpToDate);
    std::fs::rename(p.dir.join("main.go"), p.dir.join("app.go")).unwrap();
    assert!(p.is_stale(GO, &[]), "rename with identical content");
    assert_eq!(p.run_and_recheck(GO, &[]), Freshness::UpToDate);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p.dir.join("app.go"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(p.is_stale(GO, &[]), "executable bit");
}

#[test]
fn changed_source_list_is_stale() {
    let p = go_project();
    assert_eq!(p.run_and_recheck(GO, &[]), Freshness::UpToDate);
    assert!(p.is_stale(&["**/*.go", "go.mod", "go.sum"], &[]));
}

#[test]
fn generates_must_each_match_a_file() {
    let p = go_project();
    let generates = ["bin/app", "dist/*.tar.gz"];
    assert_eq!(
        {
            let (_, fp) = p.check(GO, &generates);
            record(&p.state, "build", &fp).unwrap();
            p.check(GO, &generates).0
        },
        Freshness::Stale("`generates` entry `bin/app` matches no file".into())
    );
    p.write("bin/app", "ELF");
    assert_eq!(
        p.check(GO, &generates).0,
        Freshness::Stale("`generates` entry `dist/*.tar.gz` matches no file".into())
    );
    p.write("dist/app-linux.tar.gz", "tar");
    assert_eq!(p.check(GO, &generates).0, Freshness::UpToDate);
    std::fs::remove_file(p.dir.join("bin/app")).unwrap();
    assert!(p.is_stale(GO, &generates));
    // A directory counts as generated.
    std::fs::create_dir_all(p.dir.join("bin/app")).unwrap();
    assert_eq!(p.check(GO, &generates).0, Freshness::UpToDate);
}

#[test]
fn exclusions_remove_files_from_sources() {
    let p = go_project();
    p.write("vendor/lib/lib.go", "package lib\n");
    p.write("internal/db/db_test.go", "package db\n");
    let sources = ["**/*.go", "go.mod", "!vendor/**", "!**/*_test.go"];
    assert_eq!(p.run_and_recheck(&sources, &[]), Freshness::UpToDate);
    p.write("vendor/lib/lib.go", "package lib // changed\n");
    p.write("vendor/new/new.go", "package new\n");
    p.write("internal/db/db_test.go", "package db // changed\n");
    assert_eq!(p.check(&sources, &[]).0, Freshness::UpToDate);
    p.write("internal/db/db.go", "package db // changed\n");
    assert!(p.is_stale(&sources, &[]));
}

#[test]
fn invalid_glob_names_the_glob() {
    let p = go_project();
    for bad in ["src/[a-", "{a,b", "!x/[z"] {
        let err = check(&p.state, "build", &p.dir, &[bad.to_string()], &[]).unwrap_err();
        match &err {
            FingerprintError::Glob { glob, .. } => assert_eq!(glob, bad),
            other @ FingerprintError::Io { .. } => panic!("expected a glob error, got {other:?}"),
        }
        assert!(err.to_string().contains(bad), "{err}");
    }
    let err = check(
        &p.state,
        "build",
        &p.dir,
        &GO.iter()
            .map(std::string::ToString::to_string)
            .collect::<Vec<_>>(),
        &["out/[".to_string()],
    )
    .unwrap_err();
    assert!(err.to_string().contains("`out/[`"), "{err}");
}

#[test]
fn parent_and_literal_directory_sources() {
    let p = go_project();
    let shared = p.dir.parent().unwrap().join("shared");
    std::fs::create_dir_all(shared.join("proto")).unwrap();
    std::fs::write(shared.join("proto/api.proto"), "syntax").unwrap();
    p.write("assets/logo.svg", "<svg/>");
    let sources = ["../shared/**/*.proto", "assets", "main.go"];
    assert_eq!(p.run_and_recheck(&sources, &[]), Freshness::UpToDate);
    std::fs::write(shared.join("proto/api.proto"), "syntax2").unwrap();
    assert!(p.is_stale(&sources, &[]), "file outside dir via ..");
    assert_eq!(p.run_and_recheck(&sources, &[]), Freshness::UpToDate);
    p.write("assets/icons/new.svg", "<svg/>");
    assert!(
        p.is_stale(&sources, &[]),
        "literal directory means all under it"
    );
    let abs = format!("{}/main.go", p.dir.display());
    assert_eq!(p.run_and_recheck(&[abs.as_str()], &[]), Freshness::UpToDate);
    p.write("main.go", "package main // edited\n");
    assert!(p.is_stale(&[abs.as_str()], &[]), "absolute path inside dir");
}

#[test]
fn symlinked_files_count_by_their_target() {
    let p = go_project();
    p.write("real/target.go", "package real\n");
    std::os::unix::fs::symlink(p.dir.join("real/target.go"), p.dir.join("link.go")).unwrap();
    let sources = ["link.go"];
    assert_eq!(p.run_and_recheck(&sources, &[]), Freshness::UpToDate);
    p.write("real/target.go", "package real // changed\n");
    assert!(p.is_stale(&sources, &[]));
}

#[test]
fn keys_are_stored_apart() {
    let p = go_project();
    let s: Vec<String> = GO.iter().map(std::string::ToString::to_string).collect();
    let (_, fp) = check(&p.state, "build {\"GOOS\":\"linux\"}", &p.dir, &s, &[]).unwrap();
    record(&p.state, "build {\"GOOS\":\"linux\"}", &fp).unwrap();
    let linux = check(&p.state, "build {\"GOOS\":\"linux\"}", &p.dir, &s, &[]).unwrap();
    assert_eq!(linux.0, Freshness::UpToDate);
    let darwin = check(&p.state, "build {\"GOOS\":\"darwin\"}", &p.dir, &s, &[]).unwrap();
    assert!(matches!(darwin.0, Freshness::Stale(_)));
    let names: Vec<String> = std::fs::read_dir(p.state.join("checksum"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains(['/', '{', '"', ' '])),
        "{names:?}"
    );
}

#[test]
fn record_fails_with_the_path_when_the_state_dir_is_unusable() {
    let p = go_project();
    let blocker = p.dir.join("not-a-dir");
    std::fs::write(&blocker, "file").unwrap();
    let err = record(&blocker, "build", "xxh3-128:00").unwrap_err();
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

/// 10,000 files, warm check timing. Run with:
/// `cargo test --release --lib fingerprint::tests::warm_check_of_10k_files -- --ignored --nocapture`
/// Set `HOIST_BENCH_DIR` to keep the tree (for comparing with go-task).
#[test]
#[ignore = "a measurement: run it with --release --nocapture"]
fn warm_check_of_10k_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir =
        std::env::var_os("HOIST_BENCH_DIR").map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    make_tree(&dir, 10_000);
    let state = dir.join(".hoist");
    let sources = vec!["**/*.go".to_string()];
    let t = std::time::Instant::now();
    let (_, fp) = check(&state, "build", &dir, &sources, &[]).unwrap();
    eprintln!("cold check: {:?}", t.elapsed());
    record(&state, "build", &fp).unwrap();
    // Let the racy window pass, then one check settles the cache.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    check(&state, "build", &dir, &sources, &[]).unwrap();
    let runs = 20;
    let t = std::time::Instant::now();
    for _ in 0..runs {
        let (freshness, _) = check(&state, "build", &dir, &sources, &[]).unwrap();
        assert_eq!(freshness, Freshness::UpToDate);
    }
    let warm = t.elapsed() / runs;
    eprintln!("warm check of 10,000 files: {warm:?}");
    assert!(warm < std::time::Duration::from_millis(150), "{warm:?}");
}

fn make_tree(dir: &Path, files: usize) {
    for i in 0..files {
        let sub = dir.join(format!("pkg{:02}/sub{:02}", i % 50, (i / 50) % 20));
        std::fs::create_dir_all(&sub).unwrap();
        let body = format!("package p{i}\n\nfunc F{i}() int {{ return {i} }}\n").repeat(20);
        std::fs::write(sub.join(format!("f{i:05}.go")), body).unwrap();
    }
}
