//! What reaches stdout and stderr, and when hoist moves on: CI log groups,
//! colour per stream, the `silent` / `ignore_error` keys of calls and steps,
//! and commands that leave a background process behind.

use crate::common::{Output, Test};
use std::fs::File;

/// Runs hoist with stdout and stderr written to one file, as a CI log sees
/// them, and returns that merged text.
fn merged(test: &Test) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let log = File::create(&path).unwrap();
    let status = test
        .command()
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&path).unwrap()
    );
    std::fs::read_to_string(&path).unwrap()
}

/// Two deps that print a line, wait until the other has printed its first,
/// then print a second: left alone their lines interleave.
const TWO_PARALLEL_TASKS: &str = r#"
tasks:
  default: {deps: [a, b]}
  a: "echo a1; touch a.started; until [ -e b.started ]; do sleep 0.02; done; sleep 0.1; echo a2"
  b: "echo b1; touch b.started; until [ -e a.started ]; do sleep 0.02; done; sleep 0.1; echo b2"
"#;

#[track_caller]
fn assert_each_task_whole(out: &Output) {
    assert!(
        out.stdout == "a1\na2\nb1\nb2\n" || out.stdout == "b1\nb2\na1\na2\n",
        "stdout is not each task's output whole:\n{}",
        out.stdout
    );
}

#[test]
fn github_actions_groups_leave_stdout_to_the_commands() {
    // `VERSION=$(hoist version)` in a workflow captures the version only.
    Test::new()
        .hoist_yml("tasks:\n  version: echo v1.0.0\n")
        .env("GITHUB_ACTIONS", "true")
        .args(&["version"])
        .run()
        .success()
        .stdout("v1.0.0\n")
        .stderr("hoist: [version] echo v1.0.0\n::group::version\n::endgroup::\n");
}

#[test]
fn github_actions_groups_of_parallel_deps_wrap_each_task_on_the_merged_log() {
    let test = Test::new()
        .hoist_yml(TWO_PARALLEL_TASKS)
        .env("GITHUB_ACTIONS", "true")
        .args(&["-s"]);
    let out = test.run();
    out.success();
    assert_each_task_whole(&out);
    assert_eq!(
        out.stderr.lines().filter(|l| l.starts_with("::")).count(),
        4,
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("::"), "{}", out.stdout);
    let log = merged(&test);
    assert!(
        log.contains("::group::a\na1\na2\n::endgroup::\n")
            && log.contains("::group::b\nb1\nb2\n::endgroup::\n"),
        "the markers do not wrap each task's output:\n{log}"
    );
}

#[test]
fn gitlab_sections_go_to_stderr_and_wrap_each_task_on_the_merged_log() {
    let test = Test::new()
        .hoist_yml(TWO_PARALLEL_TASKS)
        .env("GITLAB_CI", "true")
        .args(&["-s"]);
    let out = test.run();
    out.success();
    assert_each_task_whole(&out);
    assert!(!out.stdout.contains('\x1b'), "{:?}", out.stdout);
    for task in ["a", "b"] {
        out.stderr_has(&format!(":{task}[collapsed=false]\r\x1b[0K{task}\n"));
    }
    assert_eq!(
        out.stderr.matches("section_end:").count(),
        2,
        "{:?}",
        out.stderr
    );
    let log = merged(&test);
    for task in ["a", "b"] {
        let start = log
            .find(&format!(":{task}[collapsed=false]"))
            .unwrap_or_else(|| panic!("no section for {task}: {log:?}"));
        let body = &log[start..];
        let body = &body[body.find('\n').unwrap() + 1..];
        assert!(
            body.starts_with(&format!("{task}1\n{task}2\n\x1b[0Ksection_end:")),
            "section of {task} does not hold its output: {log:?}"
        );
    }
}
