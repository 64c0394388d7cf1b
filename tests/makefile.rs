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
                let expected = make_events(&make_out);
                assert!(
                    !expected.is_empty(),
                    "{name}: make -n {line} printed nothing"
                );
                assert_eq!(
                    hoist_events(&hoist_err),
                    expected,
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

/// [`check_case`], then each of `parts` must stand in the migrated hoist.yml.
fn check_case_writes(name: &str, parts: &[&str]) -> Test {
    let test = check_case(name);
    let yml = test.read("hoist.yml");
    for part in parts {
        assert!(yml.contains(part), "{name}: {part:?} is not in\n{yml}");
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
    // Inside double quotes (`echo "... mode=$(MODE) ..."`) as well.
    let inv = invocation(&["show", "env:MODE=$(touch${IFS}PWNED)`touch${IFS}PWNED2`"]);
    let (code, out, err) = output(&test, hoist(), &inv);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(" mode=$(touch${IFS}PWNED)`touch${IFS}PWNED2` flags="),
        "{out}"
    );
    assert!(
        !test.path().join("PWNED").exists() && !test.path().join("PWNED2").exists(),
        "the value reached a shell"
    );
}

#[test]
fn shell_calls_become_built_ins_and_sh_vars() {
    let test = check_case_writes(
        "shell",
        &[
            "COMMIT: \"{{ GIT_COMMIT }}\"",
            "SHORT: \"{{ GIT_SHORT_COMMIT }}\"",
            "BRANCH: \"{{ GIT_BRANCH }}\"",
            "HERE: \"{{ ROOT_DIR }}\"",
            "WORDS: {sh: \"echo one-two\"}",
            "LABEL: \"build-{{ LABEL_SH }}-{{ VERSION }}\"",
        ],
    );
    let yml = test.read("hoist.yml");
    assert!(!yml.contains("git "), "git commands left:\n{yml}");
    assert!(!yml.contains("VERSION:"), "VERSION is the built-in:\n{yml}");
}

#[test]
fn recipe_prefixes_continuations_and_dollars() {
    drop(check_case_writes(
        "recipes",
        &[
            "- {cmd: \"echo quiet\", silent: true}",
            "- {cmd: \"false\", ignore_error: true}",
            "- {cmd: \"echo \\\"both\\\" && false\", silent: true, ignore_error: true}",
            "- \"printf '%s %s\\\\n' joined lines\"",
        ],
    ));
}

#[test]
fn prerequisites_become_deps_and_the_first_target_is_the_default() {
    let test = case("deps");
    let summary = migrate(&test);
    assert!(
        summary.contains("hoist:   Makefile:4: target all: make runs `build`, `test` one after another; hoist runs deps in parallel, as `make -j` does"),
        "{summary}"
    );
    drop(check_case("deps"));
    let yml = test.read("hoist.yml");
    assert!(
        yml.contains("  all:\n    aliases: [default]\n    deps: [\"build\", \"test\"]\n"),
        "{yml}"
    );
}

#[test]
fn defines_are_expanded_where_they_are_called() {
    drop(check_case_writes(
        "defines",
        &[
            "      - {cmd: \"printf '==> %s\\\\n' \\\"building {{ NAME }}\\\"\", silent: true}\n      - \"echo \\\"[{{ NAME }}] starting\\\"\"\n      - \"echo \\\"[{{ NAME }}] done\\\"\"\n",
        ],
    ));
}

#[test]
fn export_and_target_specific_variables_become_env() {
    drop(check_case_writes(
        "export",
        &[
            "env:\n  REGION: \"{{ REGION }}\"\n  VERSION: \"{{ VERSION }}\"\n  PLAIN_TOO: \"{{ PLAIN_TOO }}\"\n",
            "    vars:\n      GOOS: \"linux\"\n      LDFLAGS: \"{{ LDFLAGS }} -s\"\n      STAMP: {sh: \"echo stamped\"}\n      GOARCH: \"arm64\"\n    env:\n      GOOS: \"{{ GOOS }}\"\n      LDFLAGS: \"{{ LDFLAGS }}\"\n      STAMP: \"{{ STAMP }}\"\n      GOARCH: \"{{ GOARCH }}\"\n",
        ],
    ));
}

#[test]
fn automatic_variables_of_explicit_rules() {
    drop(check_case_writes(
        "automatic",
        &[
            "echo \\\"target=bin/app first=main.c all=main.c util.c dups=main.c util.c main.c dir=bin file=app\\\"",
        ],
    ));
}

#[test]
fn docker_lines_become_image_steps() {
    drop(check_case_writes(
        "docker",
        &[
            "      - build:\n          context: \"build\"\n          dockerfile: \"build/Dockerfile\"\n          target: \"runner\"\n          args: {version: \"{{ VERSION }}\", mode: \"release\"}\n          image: \"{{ IMAGE }}\"\n          tags: [\"{{ VERSION }}\", \"latest\"]\n",
            "      - push:\n          image: \"{{ IMAGE }}\"\n          tags: [\"{{ VERSION }}\", \"latest\"]\n",
            "      - \"docker run --rm {{ IMAGE }}:latest\"\n",
        ],
    ));
}

#[test]
fn recursive_make_becomes_task_calls() {
    drop(check_case_writes(
        "recursive",
        &["    cmds:\n      - task: \"one\"\n      - task: \"two\"\n"],
    ));
}

#[test]
fn descriptions_come_from_comments_and_help_gives_way_to_list() {
    let test = case("docs");
    assert!(migrate(&test).contains("hoist: migrated everything in Makefile"));
    let list = test.command().arg("--list").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "Available tasks:\n  build    Build the binary. (aliases: default)\n  test     Run the tests.\n  lint     Lint the code.\n  release  Tag and push (the doc comment can sit anywhere).\n"
    );
    let yml = test.read("hoist.yml");
    assert!(!yml.contains("  help:"), "{yml}");
    assert!(
        yml.contains("# `help` (it printed the `##` comments) is left out"),
        "{yml}"
    );
    drop(check_case("docs"));
}

/// Runs `make` and hoist (each in its own copy) with the same arguments
/// and returns what each printed on stdout and its exit code.
fn both(
    make_copy: &Test,
    hoist_copy: &Test,
    args: &[&str],
) -> ((i32, String, String), (i32, String, String)) {
    let inv = invocation(args);
    let mut m = make();
    m.arg("-s");
    (
        output(make_copy, m, &inv),
        output(hoist_copy, hoist(), &inv),
    )
}

#[test]
fn file_targets_are_made_when_missing_or_out_of_date() {
    let (m, h) = (case("files"), case("files"));
    migrate(&h);
    let (made, hoisted) = both(&m, &h, &["out.txt", "stamp"]);
    assert_eq!(
        (made.0, &made.1),
        (0, &"making out.txt\nstamping\n".to_owned()),
        "{}",
        made.2
    );
    assert_eq!((hoisted.0, &hoisted.1), (made.0, &made.1), "{}", hoisted.2);
    // Up to date: neither runs anything.
    let (made, hoisted) = both(&m, &h, &["out.txt", "stamp"]);
    assert_eq!((made.0, made.1.as_str()), (0, ""), "{}", made.2);
    assert_eq!((hoisted.0, hoisted.1.as_str()), (0, ""), "{}", hoisted.2);
    // A changed prerequisite makes the target again.
    for t in [&m, &h] {
        std::fs::write(t.path().join("in.txt"), "changed\n").unwrap();
    }
    let (made, hoisted) = both(&m, &h, &["out.txt"]);
    assert_eq!(made.1, "making out.txt\n", "{}", made.2);
    assert_eq!(hoisted.1, made.1, "{}", hoisted.2);
    assert_eq!(h.read("out.txt"), "changed\n");
    // A missing file prerequisite stops both, naming it.
    let (made, hoisted) = both(&m, &h, &["needs-missing"]);
    assert_eq!(made.0, 2);
    assert!(
        made.2
            .contains("No rule to make target 'no-such-file', needed by 'needs-missing'"),
        "{}",
        made.2
    );
    assert_eq!(hoisted.0, 202, "{}", hoisted.2);
    assert!(
        hoisted
            .2
            .contains("No rule to make target 'no-such-file', needed by 'needs-missing'"),
        "{}",
        hoisted.2
    );
    assert_eq!(hoisted.1, "");
}

#[test]
fn what_cannot_be_translated_is_listed_with_its_line() {
    let test = case("untranslated");
    let summary = migrate(&test);
    let listed: Vec<&str> = summary
        .lines()
        .filter_map(|l| l.strip_prefix("hoist:   "))
        .collect();
    assert_eq!(
        listed,
        [
            "Makefile:1: variable SOURCES: `$(wildcard *.c)` (make's `wildcard` function) is kept as written",
            "Makefile:2: variable OBJECTS: `$(SOURCES:.c=.o)` (a substitution reference or computed name) is kept as written",
            "Makefile:3: `include config.mk`: `include`: migrate the included file on its own",
            "Makefile:5: `ifeq ($(DEBUG),1)`: a conditional (lines 5-7): hoist.yml has none; left out",
            "Makefile:9: `%.o: %.c`: a pattern rule: hoist has no pattern rules",
            "Makefile:15: `$?` (an automatic variable outside a rule's recipe, or one hoist has no value for) is kept as written",
            "Makefile:15: `$*` (an automatic variable outside a rule's recipe, or one hoist has no value for) is kept as written",
            "Makefile:21: `$(call not-a-define,x)` (`call` of something that is no `define`) is kept as written",
            "Makefile:24: `+` (run even under `make -n`): `hoist --dry` runs nothing",
            "Makefile:20: `FILES` holds a command's output: where that output has spaces or shell characters, a command gets it quoted as one word (make splits it); write `{{ FILES | safe }}` where words are wanted",
        ]
    );
    assert!(
        summary.contains("hoist: 10 thing(s) in Makefile were not translated"),
        "{summary}"
    );
    let yml = test.read("hoist.yml");
    assert!(
        yml.contains("      # hoist --migrate: Makefile:15: `$?` (an automatic variable"),
        "{yml}"
    );
    assert!(
        !yml.contains("cc -c"),
        "the pattern rule's recipe is left out:\n{yml}"
    );
    // What is left loads, lists and dry-runs.
    let list = test.command().args(["--list-all"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "Available tasks:\n  build   (aliases: default)\n  files\n  plus\n"
    );
}

#[test]
fn a_makefile_make_would_refuse_names_file_and_line() {
    Test::new()
        .file("Makefile", "A = 1\n\ndefine log\n\techo $(1)\n")
        .args(&["--migrate", "Makefile"])
        .run()
        .status(102)
        .stderr_has("error: cannot migrate this Makefile: `define log` has no `endef`")
        .stderr_has("--> Makefile:3:1");
    let test = Test::new().args(&["--migrate", "build.mk"]);
    std::fs::write(test.path().join("build.mk"), "\techo before any rule\n").unwrap();
    test.run()
        .status(102)
        .stderr_has("recipe commences before first target")
        .stderr_has("--> build.mk:1:1");
}

#[test]
fn migrate_writes_stdout_or_a_new_file_and_overwrites_only_with_force() {
    let makefile = "hi:\n\techo hi\n";
    let expected = "# Migrated from Makefile by `hoist --migrate`.\ntasks:\n  hi:\n    aliases: [default]\n    status: [\"test -e hi\"]\n    cmds:\n      - \"echo hi\"\n";
    let mut test = Test::new().file("Makefile", makefile);
    test.run_with(&["--migrate", "Makefile"])
        .success()
        .stdout(expected)
        .stderr_has("hoist: migrated everything in Makefile");
    std::fs::write(test.path().join("hoist.yml"), "mine\n").unwrap();
    test.run_with(&["--migrate", "Makefile", "--to", "hoist.yml"])
        .status(2)
        .stderr_has("hoist.yml exists; pass --force to overwrite it");
    assert_eq!(test.read("hoist.yml"), "mine\n");
    test.run_with(&["--migrate", "Makefile", "--to", "hoist.yml", "--force"])
        .success()
        .stderr_has("wrote hoist.yml");
    assert_eq!(test.read("hoist.yml"), expected);
    test.run_with(&["hi"])
        .success()
        .stdout("hi\n")
        .stderr_has("echo hi");
}

#[test]
fn without_a_file_a_taskfile_wins_and_a_makefile_is_the_fallback() {
    let mut test = Test::new().file("Makefile", "from-make:\n\techo make\n");
    test.run_with(&["--migrate"])
        .success()
        .stdout_has("  from-make:\n")
        .stderr_has("migrated everything");
    std::fs::write(
        test.path().join("Taskfile.yml"),
        "version: '3'\ntasks:\n  from-task:\n    cmds: [echo task]\n",
    )
    .unwrap();
    test.run_with(&["--migrate"])
        .success()
        .stdout_has("  from-task:\n")
        .stderr_has("migrated everything");
    // A Makefile under another name is told by its content.
    let mut test = Test::new().file("build.rules", ".PHONY: x\nx:\n\techo x\n");
    test.run_with(&["--migrate", "build.rules"])
        .success()
        .stdout_has("  x:\n")
        .stderr_any();
    Test::new()
        .args(&["--migrate"])
        .run()
        .status(2)
        .stderr_has("no go-task Taskfile in")
        .stderr_has("and no Makefile here");
}

/// The tutorial-style Makefile beside the example service, its project
/// renamed so that runs at once never share images.
fn tutorial_with_service(project: &str) -> Test {
    let test = case("tutorial");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hbaas");
    crate::images::copy_service(&example, test.path());
    let makefile = test.read("Makefile");
    let renamed = makefile.replace(
        "PROJECTNAME := hbaas-server",
        &format!("PROJECTNAME := {project}"),
    );
    assert_ne!(
        renamed, makefile,
        "the tutorial's Makefile names its project hbaas-server"
    );
    std::fs::write(test.path().join("Makefile"), renamed).unwrap();
    git(test.path(), &["add", "."]);
    git(test.path(), &["commit", "-qm", "the service"]);
    git(
        test.path(),
        &["tag", "-f", "-a", "v1.0.0", "-m", "release 1.0.0"],
    );
    test
}

/// `make upload-image` with the docker CLI and `hoist upload-image` from
/// the migrated file, against the real engine and registry: the same exit
/// codes, the same tags land, and the binary in each image prints the
/// version it was built with; on a release tag, and with `VERSION` from
/// the environment (`?=`) and from the command line.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn tutorial_makefile_lands_what_make_lands() {
    use crate::images::{docker, registry_tags, services, sorted, unique};
    let s = services();
    let projects = [unique("make-make"), unique("make-hoist")];
    let _made = crate::common::Made::by(&[&projects[0], &projects[1]]);
    let copies: Vec<Test> = projects.iter().map(|p| tutorial_with_service(p)).collect();
    migrate(&copies[1]);
    let registry = format!("{}/hoist-make-test", s.registry);
    let run = |i: usize, extra: &[&str]| -> (i32, String) {
        let mut words = vec![
            "upload-image".to_owned(),
            format!("DOCKERREGISTRY={registry}"),
        ];
        words.extend(extra.iter().map(|w| (*w).to_owned()));
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let inv = invocation(&words);
        let command = if i == 0 { make() } else { hoist() };
        let (code, _, stderr) = output(&copies[i], command, &inv);
        (code, stderr)
    };
    let tags = |i: usize| {
        registry_tags(
            &s.registry,
            &format!("hoist-make-test/{}", projects[i]),
            None,
        )
    };
    let version_in = |i: usize, tag: &str| {
        docker(&[
            "run",
            "--rm",
            "--network",
            "host",
            &format!("{registry}/{}:{tag}", projects[i]),
            "--version",
        ])
    };
    for (extra, version) in [
        (&[][..], "v1.0.0"),
        (&["env:VERSION=2.0.1"][..], "2.0.1"),
        (&["VERSION=2.0.0"][..], "2.0.0"),
    ] {
        let (make_code, make_err) = run(0, extra);
        assert_eq!(make_code, 0, "make upload-image {extra:?}: {make_err}");
        let (hoist_code, hoist_err) = run(1, extra);
        assert_eq!(hoist_code, 0, "hoist upload-image {extra:?}: {hoist_err}");
        assert_eq!(
            tags(1),
            tags(0),
            "{extra:?}: hoist landed other tags than make"
        );
        for i in 0..2 {
            assert_eq!(version_in(i, version), version, "{extra:?}: copy {i}");
        }
    }
    assert_eq!(tags(0), sorted(&["2.0.0", "2.0.1", "latest", "v1.0.0"]));
    // `latest` is the last build in both.
    assert_eq!(version_in(0, "latest"), "2.0.0");
    assert_eq!(version_in(1, "latest"), "2.0.0");
}
