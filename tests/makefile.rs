//! `hoist --migrate Makefile`: each folder of `tests/makefile/` holds a
//! Makefile and, in `runs`, invocations to compare: `dry ARGS` compares
//! what `make -n ARGS` prints with what `hoist --dry ARGS` prints from the
//! migrated hoist.yml (commands, and the image references of docker lines);
//! `run ARGS` compares what the commands print when both really run.
//! `env:NAME=VALUE` words set the environment of both. GNU make must be
//! installed (`scripts/setup.sh` installs it); without it these tests fail.

use crate::common::{git, Test};
use std::path::Path;
use std::process::Command;

/// A case folder copied into a fresh git repository on `main`, tagged v1.0.0.
fn case(name: &str) -> Test {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/makefile")
        .join(name);
    let test = Test::new();
    copy_dir(&from, test.path());
    git(test.path(), &["init", "-q", "-b", "main"]);
    git(test.path(), &["add", "."]);
    git(test.path(), &["commit", "-qm", name]);
    git(test.path(), &["tag", "-a", "v1.0.0", "-m", "release 1.0.0"]);
    test
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `hoist --migrate Makefile --to hoist.yml`; its summary on stderr.
fn migrate(test: &Test) -> String {
    let out = test
        .command()
        .args(["--migrate", "Makefile", "--to", "hoist.yml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "--migrate failed: {stderr}");
    assert!(stderr.contains("hoist: wrote hoist.yml from "), "{stderr}");
    stderr
}

fn make() -> Command {
    let found = Command::new("make").arg("--version").output();
    assert!(
        found.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("GNU Make")),
        "these tests compare with GNU make: install it (scripts/setup.sh does, `apt-get install -y make`)"
    );
    let mut make = Command::new("make");
    make.arg("--no-print-directory");
    make
}

/// One invocation of a `runs` file: its arguments and environment.
struct Invocation {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

fn invocation(words: &[&str]) -> Invocation {
    let mut inv = Invocation {
        args: Vec::new(),
        env: Vec::new(),
    };
    for word in words {
        match word.strip_prefix("env:").and_then(|w| w.split_once('=')) {
            Some((k, v)) => inv.env.push((k.to_owned(), v.to_owned())),
            None => inv.args.push((*word).to_owned()),
        }
    }
    inv
}

/// Runs `command` in the test's folder with the environment the harness
/// gives hoist (outer CI variables removed, HOME the test's folder) plus
/// the invocation's; returns (status, stdout, stderr).
fn output(test: &Test, mut command: Command, inv: &Invocation) -> (i32, String, String) {
    let reference = test.command();
    command.current_dir(test.path());
    for (k, v) in reference.get_envs() {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    for (k, v) in &inv.env {
        command.env(k, v);
    }
    command.args(&inv.args);
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hoist() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hoist"))
}

/// Whitespace runs as one space (make prints a continued line as written,
/// hoist joined).
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What `make -n` prints, as events: a command, or for a docker line the
/// image references it builds or pushes and the build arguments.
fn make_events(stdout: &str) -> Vec<String> {
    let mut commands: Vec<String> = Vec::new();
    let mut continued = false;
    for line in stdout.lines() {
        let line = if continued {
            let last = commands.pop().unwrap();
            format!("{} {}", last.trim_end_matches('\\'), line)
        } else {
            line.to_owned()
        };
        continued = line.ends_with('\\');
        commands.push(line);
    }
    commands
        .iter()
        .flat_map(|c| docker_events(&squeeze(c)))
        .collect()
}

fn docker_events(command: &str) -> Vec<String> {
    let command = command.split(" || ").next().unwrap_or(command);
    let words: Vec<&str> = command.split(' ').collect();
    match words.as_slice() {
        ["docker", "build", rest @ ..] => {
            let mut events = Vec::new();
            let mut i = 0;
            while i < rest.len() {
                match rest[i] {
                    "--tag" | "-t" => events.push(format!("tag {}", rest[i + 1])),
                    "--build-arg" => events.push(format!("arg {}", rest[i + 1])),
                    _ => {}
                }
                i += 1;
            }
            events
        }
        ["docker", "push", reference] => vec![format!("push {reference}")],
        _ => vec![format!("run {command}")],
    }
}

/// What `hoist --dry` prints, as the same events.
fn hoist_events(stderr: &str) -> Vec<String> {
    let mut events = Vec::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("hoist: [") else {
            continue;
        };
        let Some((_, text)) = rest.split_once("] ") else {
            continue;
        };
        if let Some(detail) = text.strip_prefix("  ") {
            for (key, event) in [("tag: ", "tag"), ("push: ", "push"), ("arg: ", "arg")] {
                if let Some(value) = detail.strip_prefix(key) {
                    events.push(format!("{event} {value}"));
                }
            }
        } else if !(text.starts_with("build ") && text.contains(" from context ")
            || text.starts_with("push ") && text.contains(" to "))
        {
            events.push(format!("run {}", squeeze(text)));
        }
    }
    events
}

/// Migrates the case and checks every line of its `runs` file.
fn check_case(name: &str) -> Test {
    let test = case(name);
    migrate(&test);
    let runs = std::fs::read_to_string(test.path().join("runs")).unwrap_or_default();
    for line in runs.lines().filter(|l| !l.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let inv = invocation(&words[1..]);
        match words[0] {
            "dry" => {
                let mut make = make();
                make.arg("-n");
                let (make_code, make_out, make_err) = output(&test, make, &inv);
                assert_eq!(make_code, 0, "{name}: make -n {line}: {make_err}");
                let mut hoist = hoist();
                hoist.args(["--dry", "-C", "1"]);
                let (code, _, hoist_err) = output(&test, hoist, &inv);
                assert_eq!(code, 0, "{name}: hoist --dry {line}: {hoist_err}");
                assert_eq!(
                    hoist_events(&hoist_err),
                    make_events(&make_out),
                    "{name}: `{line}`: hoist --dry (left) and make -n (right) differ\n--- hoist\n{hoist_err}\n--- make\n{make_out}"
                );
            }
            "run" => {
                let mut make = make();
                make.arg("-s");
                let (make_code, make_out, make_err) = output(&test, make, &inv);
                let mut hoist = hoist();
                hoist.args(["-C", "1"]);
                let (code, out, err) = output(&test, hoist, &inv);
                assert_eq!(
                    code, make_code,
                    "{name}: `{line}`: exit codes\n--- hoist\n{err}\n--- make\n{make_err}"
                );
                assert_eq!(
                    out, make_out,
                    "{name}: `{line}`: what the commands printed differs\n--- hoist stderr\n{err}\n--- make stderr\n{make_err}"
                );
            }
            other => panic!("{name}/runs: unknown kind `{other}`"),
        }
    }
    test
}

#[test]
fn tutorial_makefile_lists_and_dry_runs_as_make_does() {
    let test = check_case("tutorial");
    let out = test.command().arg("--list").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Available tasks:\n  build-linux   Build the Linux API executable.\n  build-image   Build the container image.\n  upload-image  Push the image to the registry.\n  clean         Remove the executable.\n"
    );
}

#[test]
fn assignments_keep_make_precedence() {
    let test = check_case("variables");
    // The one deliberate difference: a value from the environment that
    // holds a space or shell characters reaches a shell quoted as one word
    // (hoist's trust rule), where make splits it.
    let mut inv = invocation(&["list", "env:LIST=$(touch${IFS}PWNED)"]);
    inv.args.insert(0, "--dry".into());
    let (code, _, err) = output(&test, hoist(), &inv);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("echo list='$(touch${IFS}PWNED) first'"),
        "{err}"
    );
    inv.args.remove(0);
    let (code, out, err) = output(&test, hoist(), &inv);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "list=$(touch${IFS}PWNED) first\n");
    assert!(
        !test.path().join("PWNED").exists(),
        "the value reached a shell"
    );
}

#[test]
fn shell_calls_become_built_ins_and_sh_vars() {
    check_case("shell");
}

#[test]
fn recipe_prefixes_continuations_and_dollars() {
    check_case("recipes");
}

#[test]
fn prerequisites_become_deps_and_the_first_target_is_the_default() {
    check_case("deps");
}

#[test]
fn defines_are_expanded_where_they_are_called() {
    check_case("defines");
}

#[test]
fn export_and_target_specific_variables_become_env() {
    check_case("export");
}

#[test]
fn automatic_variables_of_explicit_rules() {
    check_case("automatic");
}

#[test]
fn docker_lines_become_image_steps() {
    check_case("docker");
}

#[test]
fn recursive_make_becomes_task_calls() {
    check_case("recursive");
}
