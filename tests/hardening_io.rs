//! What reaches stdout and stderr, and when hoist moves on: CI log groups,
//! colour per stream, the `silent` / `ignore_error` keys of calls and steps,
//! and commands that leave a background process behind.

use crate::common::{Made, Output, Test};
use std::fs::File;
use std::time::{Duration, Instant};

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
    out.success().stderr_has("::group::");
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

/// Which of hoist's streams is a terminal; the other is a pipe.
#[derive(Clone, Copy)]
enum Tty {
    Stdout,
    Stderr,
}

/// Runs hoist with one stream on a pseudo-terminal and the other on a pipe;
/// returns (exit code, what the terminal showed, what the pipe got).
fn run_on_tty(test: &Test, tty: Tty, env: &[(&str, &str)]) -> (i32, String, String) {
    use std::io::Read;
    use std::process::Stdio;
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut command = test.command();
    for key in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
        command.env_remove(key);
    }
    command.env("TERM", "xterm");
    for (key, value) in env {
        command.env(key, value);
    }
    let slave = File::from(pty.slave);
    match tty {
        Tty::Stdout => command.stdout(slave).stderr(Stdio::piped()),
        Tty::Stderr => command.stderr(slave).stdout(Stdio::piped()),
    };
    let mut child = command.spawn().unwrap();
    // Our copy of the slave went into the command (dropped with it): once hoist
    // exits, reading the master ends (EIO on Linux).
    drop(command);
    let mut master = File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    });
    let mut piped = String::new();
    match tty {
        Tty::Stdout => child.stderr.take().unwrap().read_to_string(&mut piped),
        Tty::Stderr => child.stdout.take().unwrap().read_to_string(&mut piped),
    }
    .unwrap();
    let status = child.wait().unwrap().code().unwrap_or(-1);
    (status, reader.join().unwrap(), piped)
}

const LISTED: &str = "tasks:\n  build: {desc: Build it., aliases: [b], cmds: [echo built]}\n";

#[test]
fn list_redirected_from_a_terminal_has_no_colour_codes() {
    let test = Test::new().hoist_yml(LISTED).args(&["--list"]);
    let (status, terminal, file) = run_on_tty(&test, Tty::Stderr, &[]);
    assert_eq!(status, 0, "{terminal}");
    assert_eq!(file, "Available tasks:\n  build  Build it. (aliases: b)\n");
    // The same stderr terminal does get colour: it was a terminal.
    let test = Test::new().hoist_yml(LISTED).args(&["build"]);
    let (status, terminal, stdout) = run_on_tty(&test, Tty::Stderr, &[]);
    assert_eq!(status, 0, "{terminal}");
    assert_eq!(stdout, "built\n");
    assert!(
        terminal.contains("\x1b[32mhoist: [build] echo built\x1b[0m"),
        "{terminal:?}"
    );
}

#[test]
fn stderr_redirected_from_a_terminal_has_no_colour_codes() {
    let test = Test::new().hoist_yml(LISTED).args(&["build"]);
    let (status, terminal, log) = run_on_tty(&test, Tty::Stdout, &[]);
    assert_eq!(status, 0, "{terminal}");
    assert_eq!(log, "hoist: [build] echo built\n");
    assert_eq!(terminal, "built\n");
    let test = Test::new().hoist_yml(LISTED).args(&["nope"]);
    let (status, _, log) = run_on_tty(&test, Tty::Stdout, &[]);
    assert_eq!(status, 200);
    assert!(
        log.starts_with("error: task `nope` does not exist"),
        "{log:?}"
    );
    // The stdout terminal does get colour.
    let test = Test::new().hoist_yml(LISTED).args(&["--list"]);
    let (status, terminal, log) = run_on_tty(&test, Tty::Stdout, &[]);
    assert_eq!(status, 0, "{log}");
    assert_eq!(
        terminal,
        "Available tasks:\n  \x1b[1mbuild\x1b[0m  Build it.\x1b[2m (aliases: b)\x1b[0m\n"
    );
}

#[test]
fn no_color_clicolor_force_and_the_flag() {
    let list = Test::new().hoist_yml(LISTED).args(&["--list"]);
    let plain = "Available tasks:\n  build  Build it. (aliases: b)\n";
    let (_, terminal, _) = run_on_tty(&list, Tty::Stdout, &[("NO_COLOR", "1")]);
    assert_eq!(terminal, plain);
    let (_, terminal, _) = run_on_tty(&list, Tty::Stdout, &[("TERM", "dumb")]);
    assert_eq!(terminal, plain);
    // CLICOLOR_FORCE colours a pipe too; NO_COLOR still wins over it.
    let (_, _, piped) = run_on_tty(&list, Tty::Stderr, &[("CLICOLOR_FORCE", "1")]);
    assert!(piped.contains("\x1b[1mbuild\x1b[0m"), "{piped:?}");
    let both = [("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")];
    let (_, _, piped) = run_on_tty(&list, Tty::Stderr, &both);
    assert_eq!(piped, plain);
    let (_, _, piped) = run_on_tty(&list, Tty::Stderr, &[("CLICOLOR_FORCE", "0")]);
    assert_eq!(piped, plain);
    // --color decides alone.
    let never = Test::new()
        .hoist_yml(LISTED)
        .args(&["--list", "--color", "never"]);
    let (_, terminal, _) = run_on_tty(&never, Tty::Stdout, &[("CLICOLOR_FORCE", "1")]);
    assert_eq!(terminal, plain);
    let always = Test::new()
        .hoist_yml(LISTED)
        .args(&["--list", "--color", "always"]);
    let (_, _, piped) = run_on_tty(&always, Tty::Stderr, &[("NO_COLOR", "1")]);
    assert!(piped.contains("\x1b[1mbuild\x1b[0m"), "{piped:?}");
}

#[test]
fn silent_on_deps_and_calls_hides_the_called_tasks_echo_only() {
    // As go-task: the called task's own commands are not echoed; what it calls
    // in turn is, and every command's output is shown.
    Test::new()
        .hoist_yml(
            r"
            tasks:
              default:
                deps: [{task: dep, silent: true}]
                cmds:
                  - {task: called, silent: true}
                  - task: loud
                  - echo main
              dep: {cmds: [echo dep, {task: nested}]}
              called: echo called
              loud: echo loud
              nested: echo nested
            ",
        )
        .run()
        .success()
        .stdout("dep\nnested\ncalled\nloud\nmain\n")
        .stderr(
            "hoist: [nested] echo nested\nhoist: [loud] echo loud\nhoist: [default] echo main\n",
        );
}

#[test]
fn defer_takes_silent_and_ignore_error() {
    let yml = |ignore: &str| {
        format!(
            r"
            tasks:
              default:
                cmds:
                  - defer: echo quiet-cleanup
                    silent: true
                  - defer: {{task: cleanup, silent: true}}
                  - defer: exit 3
                    {ignore}
                  - echo work
              cleanup: echo cleanup-task
            "
        )
    };
    Test::new()
        .hoist_yml(&yml("ignore_error: true"))
        .run()
        .success()
        .stdout("work\ncleanup-task\nquiet-cleanup\n")
        .stderr(
            "hoist: [default] echo work\nhoist: [default] exit 3\n\
             warning: task `default`: command failed with exit code 3: exit 3 (ignored)\n",
        );
    // Without it, a failing deferred command fails the run (the others still run).
    Test::new()
        .hoist_yml(&yml("silent: false"))
        .run()
        .status(3)
        .stdout("work\ncleanup-task\nquiet-cleanup\n")
        .stderr_has("error: task `default`: command failed with exit code 3: exit 3");
}

#[test]
fn ignore_error_on_a_task_call_is_refused_with_its_position() {
    for (step, line) in [
        ("- task: other\n        ignore_error: true", 4),
        (
            "- echo one\n      - defer: {task: other}\n        ignore_error: true",
            5,
        ),
    ] {
        Test::new()
            .hoist_yml(&format!(
                "tasks:\n  default:\n    cmds:\n      {step}\n  other: exit 1\n"
            ))
            .run()
            .status(102)
            .stdout("")
            .stderr_has("error: `ignore_error` does not go with `task`")
            .stderr_has("set `ignore_error: true` in task `other` itself")
            .stderr_has(&format!("hoist.yml:{line}:"));
    }
    // Inside an image step's own mapping these keys are unknown: they go next to it.
    Test::new()
        .hoist_yml("tasks:\n  default:\n    cmds:\n      - build: {image: x, silent: true}\n")
        .run()
        .status(102)
        .stderr_has("error: unknown field `silent`")
        .stderr_has("hoist.yml:4:27");
}

#[test]
fn ignore_error_on_an_image_step_when_the_engine_is_unreachable() {
    let yml = |key: &str| {
        format!(
            "tasks:\n  t:\n    {key}\n    cmds:\n      - tag: {{image: \"hoist-a:1\", as: \"hoist-b:1\"}}\n      - echo after\n"
        )
    };
    let socket = "unix:///tmp/hoist-no-such-docker.sock";
    for key in ["ignore_error: true", "silent: false"] {
        let out = Test::new()
            .hoist_yml(&yml(key))
            .env("DOCKER_HOST", socket)
            .args(&["t"])
            .run();
        if key.starts_with("ignore") {
            out.success()
                .stdout("after\n")
                .stderr_has(&format!(
                    "warning: task `t`: cannot reach the Docker engine at {socket}"
                ))
                .stderr_has("(ignored)");
        } else {
            out.status(210)
                .stdout("")
                .stderr_has("cannot reach the Docker engine");
        }
    }
}

/// Image steps against the engine that `scripts/setup.sh` starts: such tests
/// are ignored in a plain `cargo test` and fail without the engine.
fn require_engine() {
    assert!(
        std::env::var("HOIST_DOCKER_TESTS").as_deref() == Ok("1"),
        "this test needs the engine: run scripts/test.sh, which starts it and sets HOIST_DOCKER_TESTS=1"
    );
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("hoist-io-{name}-{}-{nanos}", std::process::id())
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn ignore_error_on_image_steps_and_in_defer() {
    require_engine();
    let missing = unique("missing");
    let _made = Made::by(&[&missing]);
    let yml = |ignore: &str| {
        format!(
            r#"
            tasks:
              t:
                cmds:
                  - defer: {{tag: {{image: "{missing}:1", as: "{missing}-b:deferred"}}}}
                    {ignore}
                  - tag: {{image: "{missing}:1", as: "{missing}-b:1"}}
                    {ignore}
                  - echo after
            "#
        )
    };
    let out = Test::new()
        .hoist_yml(&yml("ignore_error: true"))
        .args(&["t"])
        .run();
    out.success().stdout("after\n");
    assert_eq!(
        out.stderr.matches("(ignored)").count(),
        2,
        "both tag steps fail and are ignored:\n{}",
        out.stderr
    );
    out.stderr_has(&format!(
        "warning: task `t`: tagging {missing}:1 as {missing}-b:1"
    ));
    Test::new()
        .hoist_yml(&yml("silent: false"))
        .args(&["t", "-s"])
        .run()
        .status(210)
        .stdout("")
        .stderr_has(&format!(
            "error: task `t`: tagging {missing}:1 as {missing}-b:1"
        ));
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn silent_image_steps_print_nothing_but_their_errors() {
    require_engine();
    let registry = std::env::var("HOIST_TEST_REGISTRY").expect("set by scripts/setup.sh");
    let repo = unique("silent");
    let _made = Made::by(&[&repo]);
    let yml = |silent: &str| {
        format!(
            r#"
            tasks:
              b:
                cmds:
                  - build: {{image: {repo}, tags: [v1]}}
                    {silent}
                  - tag: {{image: "{repo}:v1", as: "{repo}:v2"}}
                    {silent}
                  - push: {{image: "{repo}:v1", to: "{registry}/io/{repo}", tags: [v1]}}
                    {silent}
                  - echo after
            "#
        )
    };
    let files = |test: Test| {
        test.file(
            "Dockerfile",
            "FROM hoist-test/busybox:latest\nRUN echo build-log-line\n",
        )
    };
    let out = files(Test::new().hoist_yml(&yml("silent: true")))
        .args(&["b"])
        .run();
    out.success()
        .stdout("after\n")
        .stderr("hoist: [b] echo after\n");
    let tags = std::process::Command::new("curl")
        .args(["-s", &format!("http://{registry}/v2/io/{repo}/tags/list")])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&tags.stdout).contains("\"v1\""),
        "the silent push did not land"
    );
    // The same steps without `silent` say what they do.
    let out = files(Test::new().hoist_yml(&yml("silent: false")))
        .args(&["b"])
        .run();
    out.success()
        .stderr_has(&format!("hoist: [b] built {repo}:v1"))
        .stderr_has(&format!("hoist: [b] tagged {repo}:v1 as {repo}:v2"));
    // The same image again (the builder's cache): pushed, or found up to date.
    assert!(
        out.stderr
            .contains(&format!("hoist: [b] pushed {registry}/io/{repo}:v1"))
            || out
                .stderr
                .contains(&format!("hoist: [b] {registry}/io/{repo}:v1 is up to date")),
        "{}",
        out.stderr
    );
    // A silent step that fails still shows its error, with the build's output.
    // Its own command: BuildKit would share one vertex with buildkit.rs's
    // failing step if both ran the same op at once.
    Test::new()
        .file(
            "Dockerfile",
            "FROM hoist-test/busybox:latest\nRUN echo boom-output-silent && exit 3\n",
        )
        .hoist_yml(&format!(
            "tasks:\n  b:\n    cmds:\n      - build: {{image: {repo}-failing}}\n        silent: true\n"
        ))
        .args(&["b"])
        .run()
        .status(210)
        .stdout("")
        .stderr_has(&format!("error: task `b`: building `{repo}-failing:latest` failed"))
        .stderr_has("boom-output-silent");
}

/// The state letter of a live process (`S`, `R`, ...), `None` once it is gone.
fn process_state(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .to_owned();
    (state != "Z").then_some(state)
}

fn read_pid(test: &Test, file: &str) -> i32 {
    test.read(file).trim().parse().unwrap()
}

#[test]
fn a_background_child_does_not_hold_hoist_and_is_named() {
    let test = Test::new().hoist_yml(
        r#"
        tasks:
          default:
            cmds:
              - "sleep 5 & echo $! > bg.pid; echo started"
              - echo next
        "#,
    );
    let start = Instant::now();
    let out = test.run();
    let took = start.elapsed();
    let pid = read_pid(&test, "bg.pid");
    let still_running = process_state(pid).is_some();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    out.success().stdout("started\nnext\n").stderr_has(&format!(
        "hoist: [default] command left process {pid} (sleep) running; it keeps running after hoist"
    ));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(still_running, "the background sleep was killed");
    // --silent hides the notice like any narration.
    let out = Test::new()
        .hoist_yml("tasks:\n  default: [\"sleep 3 & echo $! > bg.pid\", echo next]\n")
        .args(&["-s"])
        .run();
    out.success().stdout("next\n").stderr("");
}

#[test]
fn a_background_childs_output_is_forwarded_while_hoist_runs() {
    // The child waits (at most 5 s) for the second command to have started.
    let yml = r#"
        tasks:
          default:
            cmds:
              - "(for i in $(seq 250); do [ -e go ] && break; sleep 0.02; done; echo late) & echo started"
              - "touch go; sleep 1; echo next"
        "#;
    let out = Test::new().hoist_yml(yml).args(&["-s"]).run();
    out.success().stdout("started\nlate\nnext\n");
    assert!(
        out.elapsed < Duration::from_secs(4),
        "took {:?}",
        out.elapsed
    );
    // With group output (CI), the task's buffer is printed when it ends; a line
    // of the process it left comes at once, prefixed with the task.
    Test::new()
        .hoist_yml(yml)
        .args(&["-s", "-o", "group"])
        .run()
        .success()
        .stdout("[default] late\nstarted\nnext\n");
}
