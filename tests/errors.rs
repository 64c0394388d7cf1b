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
    out.status(102).stderr_has("--> hoist.yml:");
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
