use crate::common::{signal_once_printed, Test};
use std::time::Duration;

#[test]
fn default_task_runs_with_echo_on_stderr() {
    Test::new()
        .hoist_yml("tasks:\n  default:\n    cmds: [echo hello]\n")
        .run()
        .success()
        .stdout("hello\n")
        .stderr("hoist: [default] echo hello\n");
}

#[test]
fn silent_hides_the_echo_not_the_output() {
    Test::new()
        .hoist_yml("tasks:\n  default: echo hi\n")
        .args(&["-s"])
        .run()
        .success()
        .stdout("hi\n")
        .stderr("");
}

#[test]
fn no_default_task_is_a_usage_error() {
    Test::new()
        .hoist_yml("tasks:\n  a: echo\n")
        .run()
        .status(2)
        .stderr_has("no `default` task");
}

#[test]
fn a_shared_dependency_runs_once() {
    let test = Test::new().hoist_yml(
        r"
        tasks:
          default: {deps: [a, b]}
          a: {deps: [shared], cmds: [echo a]}
          b: {deps: [shared], cmds: [echo b]}
          shared: {cmds: [echo shared >> count.txt]}
        ",
    );
    test.run()
        .success()
        .stderr_has("hoist: [shared] echo shared >> count.txt\n")
        .stderr_has("hoist: [a] echo a\n")
        .stderr_has("hoist: [b] echo b\n");
    assert_eq!(test.read("count.txt"), "shared\n");
}

#[test]
fn same_task_with_different_vars_runs_per_vars() {
    let test = Test::new().hoist_yml(
        r#"
        tasks:
          default:
            deps:
              - {task: w, vars: {N: "1"}}
              - {task: w, vars: {N: "2"}}
              - {task: w, vars: {N: "1"}}
          w: {cmds: ["echo {{ N }} >> out.txt"]}
        "#,
    );
    test.run()
        .success()
        .stderr_has("hoist: [w] echo 1 >> out.txt\n")
        .stderr_has("hoist: [w] echo 2 >> out.txt\n");
    let mut lines: Vec<_> = test.read("out.txt").lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(lines, ["1", "2"]);
}

/// Each task waits (up to 10 s) for the others to have started: this passes
/// only if they run at the same time, however loaded the machine is.
fn rendezvous(me: &str, others: &[&str]) -> String {
    let wait: Vec<String> = others
        .iter()
        .map(|o| format!("[ -e {o}.started ]"))
        .collect();
    format!(
        "touch {me}.started; for i in $(seq 200); do if {}; then exit 0; fi; sleep 0.05; done; echo {me} waited alone; exit 1",
        wait.join(" && ")
    )
}

#[test]
fn independent_deps_run_in_parallel() {
    let yml = format!(
        "tasks:\n  default: {{deps: [a, b, c]}}\n  a: '{}'\n  b: '{}'\n  c: '{}'\n",
        rendezvous("a", &["b", "c"]),
        rendezvous("b", &["a", "c"]),
        rendezvous("c", &["a", "b"]),
    );
    Test::new()
        .hoist_yml(&yml)
        .args(&["-C", "3"])
        .run()
        .success()
        .stderr_has("hoist: [a] touch a.started;")
        .stderr_has("hoist: [b] touch b.started;")
        .stderr_has("hoist: [c] touch c.started;");
}

#[test]
fn concurrency_one_serialises() {
    let out = Test::new()
        .hoist_yml("tasks:\n  default: {deps: [a, b]}\n  a: sleep 0.4\n  b: sleep 0.4\n")
        .args(&["--concurrency", "1"])
        .run();
    out.success()
        .stderr("hoist: [a] sleep 0.4\nhoist: [b] sleep 0.4\n");
    assert!(
        out.elapsed >= Duration::from_millis(800),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn prefixed_output_never_interleaves_mid_line() {
    let out = Test::new()
        .hoist_yml(
            r#"
            tasks:
              default: {deps: [a, b]}
              a: "for i in $(seq 1 200); do printf 'aaaaaaaaaa'; printf 'aaaaaaaaaa\n'; done"
              b: "for i in $(seq 1 200); do printf 'bbbbbbbbbb'; printf 'bbbbbbbbbb\n'; done"
            "#,
        )
        .args(&["-o", "prefixed", "-s"])
        .run();
    out.success();
    let lines: Vec<_> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 400);
    for line in lines {
        assert!(
            line == format!("[a] {}", "a".repeat(20)) || line == format!("[b] {}", "b".repeat(20)),
            "{line}"
        );
    }
}

#[test]
fn group_output_keeps_each_task_together() {
    let out = Test::new()
        .hoist_yml(
            r#"
            tasks:
              default: {deps: [a, b]}
              a: "echo a1; sleep 0.3; echo a2"
              b: "echo b1; sleep 0.1; echo b2"
            "#,
        )
        .args(&["-o", "group", "-s"])
        .run();
    out.success().stdout("b1\nb2\na1\na2\n");
}

#[test]
fn github_actions_groups_by_default() {
    Test::new()
        .hoist_yml("tasks:\n  default: echo hi\n")
        .env("GITHUB_ACTIONS", "true")
        .args(&["-s"])
        .run()
        .success()
        .stdout("hi\n")
        .stderr("::group::default\n::endgroup::\n");
}

#[test]
fn failing_command_exit_code_passes_through_and_stops_the_task() {
    Test::new()
        .hoist_yml("tasks:\n  default: {cmds: [\"exit 7\", echo never]}\n")
        .run()
        .status(7)
        .stdout("")
        .stderr_has("error: task `default`: command failed with exit code 7: exit 7");
}

#[test]
fn sh_dash_e_stops_a_multiline_command() {
    Test::new()
        .hoist_yml(
            "tasks:\n  default:\n    cmds:\n      - |\n        false\n        echo not-reached\n",
        )
        .run()
        .status(1)
        .stdout("")
        .stderr("hoist: [default] false\necho not-reached\nerror: task `default`: command failed with exit code 1: false\necho not-reached\n");
}

#[test]
fn failure_cancels_running_tasks_and_runs_defers() {
    let out = Test::new()
        .hoist_yml(
            r#"
            tasks:
              default: {deps: [slow, bad]}
              slow:
                cmds:
                  - defer: echo cleanup-slow
                  - sleep 20; echo slow-finished
              bad: "sleep 0.3; exit 3"
            "#,
        )
        .run();
    out.status(3)
        .stdout_has("cleanup-slow")
        .stderr_has("error: task `bad`: command failed with exit code 3: sleep 0.3; exit 3\n");
    assert!(!out.stdout.contains("slow-finished"));
    assert!(
        out.elapsed < Duration::from_secs(8),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn defers_run_in_reverse_after_failure() {
    Test::new()
        .hoist_yml(
            r"
            tasks:
              default:
                cmds:
                  - defer: echo first-registered
                  - defer: {task: cleanup}
                  - echo work
                  - exit 4
              cleanup: echo cleanup-task
            ",
        )
        .args(&["-s"])
        .run()
        .status(4)
        .stdout("work\ncleanup-task\nfirst-registered\n")
        .stderr_has("error: task `default`: command failed with exit code 4: exit 4\n");
}

#[test]
fn ignore_error_on_a_step_and_on_a_task() {
    Test::new()
        .hoist_yml(
            r#"
            tasks:
              default:
                deps: [lenient]
                cmds:
                  - {cmd: "exit 5", ignore_error: true}
                  - echo after
              lenient:
                ignore_error: true
                cmds: ["exit 6", echo lenient-after]
            "#,
        )
        .run()
        .success()
        .stdout("lenient-after\nafter\n")
        .stderr_has("warning: task `default`: command failed with exit code 5: exit 5 (ignored)");
}

#[test]
fn task_calls_pass_vars_and_do_not_dedupe() {
    Test::new()
        .hoist_yml(
            r#"
            tasks:
              default:
                cmds:
                  - task: say
                    vars: {WORD: one}
                  - task: say
                    vars: {WORD: two}
                  - task: say
              say:
                vars: {WORD: default-word}
                cmds: ["echo {{ WORD }}"]
            "#,
        )
        .args(&["-s"])
        .run()
        .success()
        .stdout("one\ntwo\ndefault-word\n");
}

#[test]
fn env_and_dir_reach_commands() {
    let test = Test::new()
        .hoist_yml(
            r#"
            env: {GLOBAL: g, SHARED: global}
            dotenv: [.env]
            tasks:
              default:
                dir: sub
                env: {SHARED: task, FROM_VAR: "{{ V }}"}
                vars: {V: templated}
                cmds: ["echo $GLOBAL $SHARED $FROM_VAR $DOTENV_ONLY $(basename $(pwd))"]
            "#,
        )
        .file(".env", "DOTENV_ONLY=dotenv\n")
        .file("sub/.keep", "")
        .args(&["-s"]);
    test.run().success().stdout("g task templated dotenv sub\n");
}

#[test]
fn dotenv_does_not_override_the_environment() {
    Test::new()
        .hoist_yml("dotenv: [.env]\ntasks:\n  default: echo $X\n")
        .file(".env", "X=from-file\n")
        .env("X", "from-env")
        .args(&["-s"])
        .run()
        .success()
        .stdout("from-env\n");
}

#[test]
fn preconditions_fail_with_their_message() {
    Test::new()
        .hoist_yml(
            r#"
            tasks:
              default:
                preconditions:
                  - test -d .
                  - {sh: "test -f go.mod", msg: "go.mod is missing: run go mod init"}
                cmds: [echo never]
            "#,
        )
        .run()
        .status(202)
        .stdout("")
        .stderr_has("task `default`: precondition failed: go.mod is missing: run go mod init");
}

#[test]
fn status_commands_make_a_task_up_to_date() {
    let mut test = Test::new().hoist_yml(
        "tasks:\n  default:\n    status: [test -f done.txt]\n    cmds: [touch done.txt, echo ran]\n",
    );
    test.run()
        .success()
        .stdout("ran\n")
        .stderr("hoist: [default] touch done.txt\nhoist: [default] echo ran\n");
    test.run()
        .success()
        .stdout("")
        .stderr("hoist: [default] up to date\n");
    test.run_with(&["--force"])
        .success()
        .stdout("ran\n")
        .stderr_has("hoist: [default] echo ran\n");
}

#[test]
fn sources_and_generates_fingerprint() {
    let mut test = Test::new()
        .hoist_yml(
            r#"
            tasks:
              default:
                sources: ["src/**/*.go"]
                generates: [out.bin]
                cmds: ["cat src/*.go src/pkg/*.go > out.bin", "echo built"]
            "#,
        )
        .file("src/main.go", "package main\n")
        .file("src/pkg/a.go", "package pkg\n");
    test.run()
        .success()
        .stdout("built\n")
        .stderr_has("hoist: [default] echo built\n");
    test.run().success().stdout("").stderr_has("up to date");
    std::fs::write(test.path().join("src/pkg/a.go"), "package pkg // changed\n").unwrap();
    test.run()
        .success()
        .stdout("built\n")
        .stderr_has("hoist: [default] echo built\n");
    test.run().success().stdout("").stderr_has("up to date");
    std::fs::remove_file(test.path().join("out.bin")).unwrap();
    test.run()
        .success()
        .stdout("built\n")
        .stderr_has("hoist: [default] echo built\n");
    test.run_with(&["-f"])
        .success()
        .stdout("built\n")
        .stderr_has("hoist: [default] echo built\n");
    assert!(test.path().join(".hoist").is_dir());
}

#[test]
fn dry_run_prints_rendered_commands_and_runs_nothing() {
    let test = Test::new()
        .hoist_yml(
            r#"
            vars:
              NAME: app
              UNUSED: {sh: "touch unused-ran; echo x"}
              USED: {sh: "echo from-sh"}
            tasks:
              default:
                deps: [dep]
                cmds:
                  - "touch ran-{{ NAME }} && echo {{ USED }}"
                  - task: called
              dep: touch dep-ran
              called: "echo called {{ NAME | upper }}"
            "#,
        )
        .args(&["--dry"]);
    test.run().success().stdout("").stderr(
        "
        hoist: [dep] touch dep-ran
        hoist: [default] touch ran-app && echo from-sh
        hoist: [called] echo called APP
        ",
    );
    for file in ["ran-app", "dep-ran", "unused-ran"] {
        assert!(!test.path().join(file).exists(), "{file} exists");
    }
}

#[test]
fn parallel_flag_runs_given_tasks_together() {
    let yml = format!(
        "tasks:\n  a: '{}'\n  b: '{}'\n",
        rendezvous("a", &["b"]),
        rendezvous("b", &["a"]),
    );
    Test::new()
        .hoist_yml(&yml)
        .args(&["-p", "a", "b"])
        .run()
        .success()
        .stderr_has("hoist: [a] touch a.started;")
        .stderr_has("hoist: [b] touch b.started;");
}

#[test]
fn tasks_named_like_hoist_words_still_run() {
    Test::new()
        .hoist_yml(
            "tasks:\n  init: echo user-init\n  graph: echo user-graph\n  vars: echo user-vars\n",
        )
        .args(&["-s", "init", "graph", "vars"])
        .run()
        .success()
        .stdout("user-init\nuser-graph\nuser-vars\n");
}

#[test]
fn aliases_run_the_task() {
    Test::new()
        .hoist_yml("tasks:\n  build:\n    aliases: [b]\n    cmds: [echo built]\n")
        .args(&["-s", "b"])
        .run()
        .success()
        .stdout("built\n");
}

/// Runs hoist until its command prints `started`, sends hoist SIGTERM, and
/// returns its exit code, its stdout and how long it took to end.
fn sigterm_once_started(test: &Test) -> (Option<i32>, String, Duration) {
    let started = |line: &str| line == "started";
    let out = signal_once_printed(test, started, nix::sys::signal::Signal::SIGTERM);
    (out.status, out.stdout, out.took)
}

#[test]
fn sigterm_reaches_the_command_group_and_exits_130() {
    // The trap is set before the fork, and the child says `started` after its
    // exec (a signal that lands between a shell's fork and exec is lost, and
    // then only the grace period's SIGKILL ends it, which
    // `a_child_ignoring_sigterm_is_killed_after_the_grace_period` covers).
    let test = Test::new().hoist_yml(
        r#"
        tasks:
          default:
            cmds:
              - defer: echo deferred-after-signal
              - "trap 'echo child-got-term; exit 143' TERM; sh -c 'echo started; exec sleep 30' & wait"
        "#,
    );
    let (code, stdout, took) = sigterm_once_started(&test);
    assert_eq!(code, Some(130), "{stdout}");
    assert!(stdout.contains("child-got-term"), "{stdout}");
    assert!(stdout.contains("deferred-after-signal"), "{stdout}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// A child that ignores SIGTERM (or was forked just after the signal) must not
/// keep the run alive once its shell has gone: SIGKILL after the grace period.
#[test]
fn a_child_ignoring_sigterm_is_killed_after_the_grace_period() {
    let test = Test::new().hoist_yml(
        r#"
        tasks:
          default:
            cmds:
              - "trap 'exit 143' TERM; sh -c 'trap \"\" TERM; echo $$ > lingering.pid; exec sleep 60' & while [ ! -s lingering.pid ]; do sleep 0.05; done; echo started; wait"
        "#,
    );
    let (code, _, took) = sigterm_once_started(&test);
    assert_eq!(code, Some(130));
    assert!(took < Duration::from_secs(9), "took {took:?}");
    let lingering: i32 = std::fs::read_to_string(test.path().join("lingering.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Gone, or a zombie waiting for a reaper that is not ours; SIGKILL was sent
    // just before hoist exited, so give the kernel a moment to deliver it.
    let dead = || {
        let state = std::fs::read_to_string(format!("/proc/{lingering}/stat")).unwrap_or_default();
        state.is_empty() || state.contains(") Z ")
    };
    let until = std::time::Instant::now() + Duration::from_secs(2);
    while !dead() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(dead(), "the child that ignored SIGTERM still runs");
}

#[test]
fn run_once_and_when_changed_deduplicate_calls() {
    Test::new()
        .hoist_yml(
            r#"
            tasks:
              default:
                cmds:
                  - task: setup
                  - task: setup
                  - {task: gen, vars: {N: "1"}}
                  - {task: gen, vars: {N: "1"}}
                  - {task: gen, vars: {N: "2"}}
              setup: {run: once, cmds: [echo setup]}
              gen: {run: when_changed, cmds: ["echo gen {{ N }}"]}
            "#,
        )
        .args(&["-s"])
        .run()
        .success()
        .stdout("setup\ngen 1\ngen 2\n");
}

#[test]
fn fingerprints_are_kept_per_call_vars() {
    let mut test = Test::new()
        .hoist_yml(
            r#"
            tasks:
              linux: {cmds: [{task: build, vars: {OS: linux}}]}
              darwin: {cmds: [{task: build, vars: {OS: darwin}}]}
              build:
                sources: [main.go]
                generates: [out]
                cmds: ["echo {{ OS }} > out", "echo built {{ OS }}"]
            "#,
        )
        .file("main.go", "package main\n");
    test.run_with(&["-s", "linux"])
        .success()
        .stdout("built linux\n");
    test.run_with(&["-s", "darwin"])
        .success()
        .stdout("built darwin\n");
    test.run_with(&["-s", "linux"]).success().stdout("");
    test.run_with(&["-s", "darwin"]).success().stdout("");
}
