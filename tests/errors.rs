use crate::common::Test;

#[test]
fn unknown_key_shows_file_line_column_and_hint() {
    Test::new()
        .hoist_yml(
            "
            tasks:
              build:
                desk: Build it.
                cmds: [echo]
            ",
        )
        .args(&["build"])
        .run()
        .status(102)
        .stderr(
            "
            error: unknown field `desk`, expected one of desc, summary, deps, cmds, cmd, vars, env, dir, sources, generates, status, preconditions, silent, internal, aliases, ignore_error, requires, label, prefix, run, method
              --> hoist.yml:3:5
              |
            3 |     desk: Build it.
              |     ^
            help: did you mean `desc`?
            ",
        );
}

#[test]
fn yaml_syntax_error_has_position() {
    let out = Test::new()
        .hoist_yml("tasks:\n  build:\n    cmds: [echo\n  other: x\n")
        .run();
    out.status(102)
        .stderr_has("error: illegal placement of ':' indicator\n  --> hoist.yml:4:8\n");
}

#[test]
fn undefined_variable_names_var_task_and_position() {
    Test::new()
        .hoist_yml(
            r"
            vars:
              PROJECT_NAME: app
            tasks:
              build:
                cmds:
                  - echo {{ PROJECT_NAM }}
            ",
        )
        .args(&["build"])
        .run()
        .status(103)
        .stderr(
            "
            error: variable `PROJECT_NAM` is not defined in command
              --> hoist.yml:6:17
              |
            6 |       - echo {{ PROJECT_NAM }}
              |                 ^
            help: did you mean `PROJECT_NAME`? (`hoist --vars` lists the variables)
            ",
        );
}

#[test]
fn template_syntax_error() {
    Test::new()
        .hoist_yml("tasks:\n  a: \"echo {{ 1 + }}\"\n")
        .args(&["a"])
        .run()
        .status(103)
        .stderr_has("syntax error")
        .stderr_has("--> hoist.yml:2:");
}

#[test]
fn unknown_task_suggests_the_closest() {
    Test::new()
        .hoist_yml("tasks:\n  upload-image: echo\n  build-image: echo\n")
        .args(&["upload-imgae"])
        .run()
        .status(200)
        .stderr("error: task `upload-imgae` does not exist\nhelp: did you mean `upload-image`? (`hoist --list` shows all tasks)\n");
}

#[test]
fn cycle_prints_the_cycle() {
    Test::new()
        .hoist_yml(
            "tasks:\n  build: {deps: [image]}\n  image: {deps: [push]}\n  push: {deps: [build]}\n",
        )
        .args(&["build"])
        .run()
        .status(204)
        .stderr("error: dependency cycle: build -> image -> push -> build\n");
}

#[test]
fn unknown_dependency_points_at_the_line() {
    Test::new()
        .hoist_yml("tasks:\n  build-linux: echo\n  build-image:\n    deps: [build-linx]\n")
        .args(&["build-image"])
        .run()
        .status(102)
        .stderr_has("error: task `build-image` depends on `build-linx`, which does not exist")
        .stderr_has("--> hoist.yml:4:")
        .stderr_has("help: did you mean `build-linux`?");
}

#[test]
fn failing_sh_var_says_which_var_and_shows_stderr() {
    Test::new()
        .hoist_yml(
            "vars:\n  V: {sh: \"echo no-such-thing >&2; exit 9\"}\ntasks:\n  a: \"echo {{ V }}\"\n",
        )
        .args(&["a"])
        .run()
        .status(201)
        .stderr_has(
            "variable `V`: command `echo no-such-thing >&2; exit 9` failed with exit code 9",
        )
        .stderr_has("no-such-thing");
}

#[test]
fn bad_flag_is_a_usage_error() {
    Test::new()
        .args(&["--no-such-flag"])
        .run()
        .status(2)
        .stderr_has("--no-such-flag");
}

#[test]
fn step_with_two_kinds() {
    Test::new()
        .hoist_yml("tasks:\n  a:\n    cmds:\n      - {cmd: echo, task: b}\n")
        .args(&["a"])
        .run()
        .status(102)
        .stderr_has("a step takes only one of");
}

// Every error class in the README's table has a test here, or names the test
// elsewhere that covers it (tests/images.rs for the engine and registries).

#[test]
fn a_taskfile_that_cannot_be_read_names_it() {
    let t = Test::new().file("dir/.keep", "");
    std::fs::remove_file(t.path().join("dir/.keep")).unwrap();
    t.args(&["--taskfile", "dir"])
        .run()
        .status(102)
        .stderr("error: cannot read dir: Is a directory (os error 21)\n");
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let t = Test::new();
    std::fs::write(t.path().join("hoist.yml"), b"tasks:\n  t: \"echo \xff\"\n").unwrap();
    t.args(&["t"]).run().status(102).stderr(
        "
        error: the file is not UTF-8: byte 0xff is not part of a character
          --> hoist.yml:2:12
          |
        2 |   t: \"echo \u{fffd}\"
          |            ^
        help: hoist reads task files as UTF-8; save the file in that encoding
        ",
    );
}

#[test]
fn deep_nesting_is_a_clear_error_with_a_cropped_line() {
    // 10,000 levels: the line is cropped around the caret, not printed whole.
    let deep = format!("vars:\n  X: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let out = Test::new().hoist_yml(&deep).args(&["--list"]).run();
    out.status(102)
        .stderr_has("error: the file nests lists and mappings more than 64 levels deep\n  --> hoist.yml:2:70\n")
        .stderr_has("help: a task file needs only a few levels: flatten the nested lists and mappings\n");
    assert!(
        out.stderr.len() < 1_000,
        "{} bytes of stderr",
        out.stderr.len()
    );
}

#[test]
fn an_alias_bomb_is_a_clear_error() {
    let mut bomb = String::from("vars:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let items = vec![format!("*l{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("  l{level}: &l{level} [{items}]\n"));
    }
    Test::new()
        .hoist_yml(&bomb)
        .args(&["--list"])
        .run()
        .status(102)
        .stderr_has("error: the file expands to more than 50000 values (aliases count each time they are used)\n  --> hoist.yml:6:27\n")
        .stderr_has("help: aliases are expanded where they are used: use fewer of them, or aliases of smaller values\n");
}

#[test]
fn an_alias_used_twice_points_at_the_task() {
    Test::new()
        .hoist_yml("tasks:\n  a: {aliases: [b], cmds: [echo]}\n  b: echo\n")
        .args(&["a"])
        .run()
        .status(102)
        .stderr_has(
            "error: alias `b` of task `a` is already used by task `b`\n  --> hoist.yml:2:6\n",
        )
        .stderr_has("help: give each task and alias a distinct name\n");
}

#[test]
fn a_bad_dotenv_file_points_at_the_dotenv_entry() {
    Test::new()
        .hoist_yml("dotenv: [.env]\ntasks:\n  t: echo\n")
        .file(".env", "A=\"unterminated\n")
        .args(&["t"])
        .run()
        .status(102)
        .stderr_has("error: cannot read dotenv file ")
        .stderr_has("--> hoist.yml:1:10\n");
}

#[test]
fn a_variable_cycle_names_the_cycle() {
    Test::new()
        .hoist_yml("vars:\n  A: \"{{ B }}\"\n  B: \"{{ A }}\"\ntasks:\n  t: echo {{ A }}\n")
        .args(&["t"])
        .run()
        .status(103)
        .stderr(
            "
            error: variable cycle: A -> B -> A
              --> hoist.yml:2:6
              |
            2 |   A: \"{{ B }}\"
              |      ^
            help: make one of these variables a plain value
            ",
        );
}

#[test]
fn a_chain_of_variables_too_long_is_an_error_not_a_crash() {
    // 2,000 variables each using the next overflowed the stack (SIGABRT).
    let mut yaml = String::from("vars:\n");
    for i in 0..2_000 {
        yaml.push_str(&format!("  V{i}: \"{{{{ V{} }}}}\"\n", i + 1));
    }
    yaml.push_str("  V2000: end\ntasks:\n  t: echo {{ V0 }}\n");
    Test::new()
        .hoist_yml(&yaml)
        .args(&["t"])
        .run()
        .status(103)
        .stderr_has("error: variable `V50` is reached through more than 50 variables that use each other: V0 -> V1 -> … -> V48 -> V49 -> V50\n  --> hoist.yml:52:8\n")
        .stderr_has("help: make some of these variables plain values\n");
}

#[test]
fn a_chain_of_variables_ending_undefined_fails_at_once() {
    // Each level used to evaluate the next twice: 2^30 renders here.
    let mut yaml = String::from("vars:\n");
    for i in 0..30 {
        yaml.push_str(&format!("  V{i}: \"{{{{ V{} }}}}\"\n", i + 1));
    }
    yaml.push_str("  V30: \"{{ NOPE }}\"\ntasks:\n  t: echo {{ V0 }}\n");
    let out = Test::new().hoist_yml(&yaml).args(&["t"]).run();
    out.status(103)
        .stderr_has("error: variable `NOPE` is not defined in V30\n  --> hoist.yml:32:12\n");
    assert!(
        // The old 2^30 evaluations took days; a loaded machine takes seconds.
        out.elapsed < std::time::Duration::from_secs(60),
        "{:?}",
        out.elapsed
    );
}

#[test]
fn a_tag_chaining_too_many_operators_is_an_error_not_a_crash() {
    // 20,000 `~` in one tag overflowed minijinja's compiler (SIGABRT).
    let chain = vec!["x"; 20_000].join(" ~ ");
    Test::new()
        .hoist_yml(&format!("vars: {{x: a}}\ntasks:\n  t: \"echo {{{{ {chain} }}}}\"\n"))
        .args(&["t"])
        .run()
        .status(103)
        .stderr_has("error: this tag chains 19999 operators; hoist allows 500 in one tag in command\n  --> hoist.yml:3:")
        .stderr_lacks("overflowed");
}

#[test]
fn a_command_killed_by_a_signal_exits_128_plus_the_signal() {
    Test::new()
        .hoist_yml("tasks:\n  t: kill -9 $$\n")
        .args(&["t"])
        .run()
        .status(137)
        .stderr_has("error: task `t`: command killed by signal 9: kill -9 $$\n");
}

#[test]
fn a_command_that_cannot_start_names_task_command_and_directory() {
    Test::new()
        .hoist_yml("tasks:\n  t: {dir: missing, cmds: [echo hi]}\n")
        .args(&["t"])
        .run()
        .status(201)
        .stderr_has("error: task `t`: cannot run `echo hi` in /")
        .stderr_has(
            "/missing: No such file or directory (os error 2) (that directory does not exist: check the task's `dir:`)\n",
        );
}

#[test]
fn an_invalid_sources_glob_names_task_and_glob() {
    Test::new()
        .hoist_yml("tasks:\n  t: {sources: [\"[a-\"], cmds: [echo hi]}\n")
        .args(&["t"])
        .run()
        .status(201)
        .stderr("error: task `t`: invalid glob `[a-`: unclosed character class; missing ']'\n");
}

#[test]
fn a_directory_that_cannot_be_entered_is_named() {
    Test::new()
        .args(&["--dir", "missing", "t"])
        .run()
        .status(201)
        .stderr("error: cannot enter missing: No such file or directory (os error 2)\n");
}

/// The engine tests of this file run where tests/images.rs runs them: under
/// scripts/test.sh, which starts the engine and registries.
fn engine() -> bool {
    let on = std::env::var("HOIST_DOCKER_TESTS").as_deref() == Ok("1");
    if !on {
        eprintln!("skipped: needs the engine of scripts/setup.sh (HOIST_DOCKER_TESTS=1)");
    }
    on
}

#[test]
fn a_bad_dockerignore_pattern_names_file_and_line() {
    if !engine() {
        return;
    }
    Test::new()
        .file("Dockerfile", "FROM hoist-test/busybox:latest\n")
        .file(".dockerignore", "vendor\n[abc\n")
        .hoist_yml("tasks:\n  b:\n    cmds:\n      - build: {image: hoist-errors-ignore}\n")
        .args(&["b"])
        .run()
        .status(210)
        .stderr_has("error: task `b`: build context: ")
        .stderr_has(".dockerignore:2: invalid pattern `[abc`: unclosed `[` character class; fix the pattern or remove the line\n");
}

#[test]
fn a_failing_credential_helper_names_the_registry() {
    if !engine() {
        return;
    }
    Test::new()
        .file("Dockerfile", "FROM hoist-test/busybox:latest\n")
        .file(".docker/config.json", r#"{"credsStore": "hoist-no-such-helper"}"#)
        .hoist_yml(
            "tasks:\n  p:\n    cmds:\n      - build: {image: hoist-errors-creds, tags: [v1]}\n      - push: {image: \"hoist-errors-creds:v1\", to: \"127.0.0.1:5000/errors/creds\", tags: [v1]}\n",
        )
        .args(&["p", "-s"])
        .run()
        .status(210)
        .stderr("error: task `p`: credentials for 127.0.0.1:5000: Unable to communicate with credential helper\n");
}

#[test]
fn an_engine_refusal_names_the_action() {
    if !engine() {
        return;
    }
    Test::new()
        .hoist_yml("tasks:\n  p:\n    cmds:\n      - push: {image: \"hoist-no-such-image:v1\", to: \"127.0.0.1:5000/errors/none\", tags: [v1]}\n")
        .args(&["p", "-s"])
        .run()
        .status(210)
        .stderr("error: task `p`: tagging hoist-no-such-image:v1 as 127.0.0.1:5000/errors/none:v1: the engine answered HTTP 404: No such image: hoist-no-such-image:v1\n");
}

#[test]
fn an_interrupted_run_says_so_and_exits_130() {
    let test = Test::new()
        .hoist_yml("tasks:\n  t: \"echo started; exec sleep 30\"\n")
        .args(&["t"]);
    let mut child = test
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert_eq!(first, "started\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.ends_with("error: interrupted\n"), "{stderr}");
}

#[test]
fn a_huge_indent_width_is_an_error_not_an_abort() {
    // Found by the template fuzz suite: minijinja allocated the indent at
    // once, "memory allocation of 99999999999 bytes failed" (SIGABRT).
    Test::new()
        .hoist_yml("tasks:\n  t: \"echo {{ 'a' | indent(99999999999) }}\"\n")
        .args(&["t"])
        .run()
        .status(103)
        .stderr_has("error: invalid operation: the indent width 99999999999 is more than 1000 in command\n  --> hoist.yml:2:")
        .stderr_lacks("memory allocation");
}
