//! The `Test` builder: files in a temp dir, arguments, environment; then
//! assertions on exit status, stdout and stderr.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[must_use]
pub(crate) struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
}

/// What a run printed. Its stderr must be looked at: dropping an `Output`
/// whose stderr is not empty and was never checked (`stderr`, `stderr_has`,
/// `stderr_lacks`, or `stderr_any` to say it does not matter) fails the test,
/// as just's test builder does, so a new warning cannot slip by unseen.
#[must_use]
pub(crate) struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    stderr_checked: std::cell::Cell<bool>,
}

impl Drop for Output {
    fn drop(&mut self) {
        assert!(
            !(!self.stderr_checked.get() && !self.stderr.is_empty() && !std::thread::panicking()),
            "stderr was not checked (assert it, or call stderr_any)\n--- stderr\n{}",
            self.stderr
        );
    }
}

/// Environment variables from the outer CI that would change what hoist computes.
const SCRUBBED: &[&str] = &[
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "GITHUB_REF_NAME",
    "GITHUB_REF_TYPE",
    "GITHUB_HEAD_REF",
    "CI_COMMIT_BRANCH",
    "BRANCH_NAME",
    "BUILDKITE_BRANCH",
    "CIRCLE_BRANCH",
    "BITBUCKET_BRANCH",
    "VERSION",
    "GIT_BRANCH",
    "GIT_COMMIT",
    "GIT_TAG",
    "BUILD_TIME",
    "SOURCE_DATE_EPOCH",
    "NO_COLOR",
];

impl Test {
    pub(crate) fn new() -> Test {
        Test {
            dir: tempfile::tempdir().unwrap(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
        }
    }

    pub(crate) fn hoist_yml(self, text: &str) -> Test {
        self.file("hoist.yml", text)
    }

    pub(crate) fn file(self, path: &str, text: &str) -> Test {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, unindent(text)).unwrap();
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Test {
        self.args = args.iter().map(std::string::ToString::to_string).collect();
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn cwd(mut self, sub: &str) -> Test {
        self.cwd = Some(self.dir.path().join(sub));
        self
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hoist"));
        command
            .args(&self.args)
            .current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()));
        for key in SCRUBBED {
            command.env_remove(key);
        }
        command.env("HOME", self.dir.path());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command.stdin(Stdio::null());
        command
    }

    pub(crate) fn run(&self) -> Output {
        let start = Instant::now();
        let out = self.command().output().unwrap();
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: start.elapsed(),
            stderr_checked: std::cell::Cell::new(false),
        }
    }

    /// Runs with `args` replacing the builder's.
    pub(crate) fn run_with(&mut self, args: &[&str]) -> Output {
        self.args = args.iter().map(std::string::ToString::to_string).collect();
        self.run()
    }

    pub(crate) fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(path)).unwrap_or_default()
    }
}

impl Output {
    #[track_caller]
    pub(crate) fn status(&self, expected: i32) -> &Output {
        assert_eq!(
            self.status, expected,
            "unexpected exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn success(&self) -> &Output {
        self.status(0)
    }

    #[track_caller]
    pub(crate) fn stdout(&self, expected: &str) -> &Output {
        assert_eq!(
            self.stdout,
            unindent(expected),
            "stdout differs\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    /// Says that this test does not care what stderr holds.
    pub(crate) fn stderr_any(&self) -> &Output {
        self.stderr_checked.set(true);
        self
    }

    #[track_caller]
    pub(crate) fn stderr(&self, expected: &str) -> &Output {
        self.stderr_checked.set(true);
        assert_eq!(
            self.stderr,
            unindent(expected),
            "stderr differs\n--- stdout\n{}",
            self.stdout
        );
        self
    }

    #[track_caller]
    pub(crate) fn stdout_has(&self, needle: &str) -> &Output {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn stderr_has(&self, needle: &str) -> &Output {
        self.stderr_checked.set(true);
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn stderr_lacks(&self, needle: &str) -> &Output {
        self.stderr_checked.set(true);
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }
}

/// What [`signal_once_printed`] saw.
pub(crate) struct Signalled {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// From the signal until hoist had exited.
    pub took: Duration,
}

/// Ctrl-C once task `b` prints `started MARKER`: hoist must exit 130
/// within `limit`. Returns what it printed, and that output as a context
/// for the caller's assertions.
pub(crate) fn interrupt_when_started(
    test: &Test,
    marker: &str,
    limit: Duration,
) -> (Signalled, String) {
    let started = format!("[b] started {marker}");
    let out = signal_once_printed(
        test,
        |line| line == started,
        nix::sys::signal::Signal::SIGINT,
    );
    let context = format!("--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    assert_eq!(out.status, Some(130), "{context}");
    assert!(out.took < limit, "took {:?}: {context}", out.took);
    (out, context)
}

/// Runs hoist until it prints a line (on stdout or stderr) that `wanted`
/// accepts, sends hoist `signal`, and returns its exit code, all its output and
/// how long it took to end after the signal. Fails if hoist ends first.
pub(crate) fn signal_once_printed(
    test: &Test,
    wanted: impl Fn(&str) -> bool,
    signal: nix::sys::signal::Signal,
) -> Signalled {
    use std::io::BufRead;
    use std::sync::mpsc;
    let mut child = test
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let read = |stream: Box<dyn std::io::Read + Send>| {
        let lines_tx = lines_tx.clone();
        std::thread::spawn(move || {
            let mut all = String::new();
            for line in std::io::BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                all.push_str(&line);
                all.push('\n');
                let _ = lines_tx.send(line);
            }
            all
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    drop(lines_tx);
    let found = loop {
        match lines.recv_timeout(Duration::from_secs(300)) {
            Ok(line) if wanted(&line) => break true,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    if !found {
        let _ = child.kill();
    }
    let start = Instant::now();
    if found {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    }
    let status = child.wait().unwrap();
    let took = start.elapsed();
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(
        found,
        "hoist ended (or hung) before printing the line waited for\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    Signalled {
        status: status.code(),
        stdout,
        stderr,
        took,
    }
}

/// Strips the common indentation of an indented literal: a leading newline is
/// dropped, and a last line of only spaces (the closing quote's) is removed.
pub(crate) fn unindent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.len() > 1 && lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
        lines.push("");
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs git in `dir` with a fixed identity, so tests work on a machine without git config.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=hoist",
            "-c",
            "user.email=hoist@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Removes, when a test ends (passed or not), what it left in the engine: every
/// image whose name holds one of the test's own names, and the untagged
/// images its rebuilds left (told by the OCI title label hoist sets).
/// The engine is the one its CLI (`docker`, or `podman` with `on`) reaches.
/// The classic builder's stage images carry no label and may be what a
/// concurrent test's build is about to `COPY --from` (removing those broke
/// a build with `unknown parent image ID`): scripts/test.sh prunes the
/// untagged images once no test builds.
pub(crate) struct Made {
    names: Vec<String>,
    cli: &'static str,
}

fn listed(cli: &str, args: &[&str]) -> Vec<String> {
    Command::new(cli)
        .args(args)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn dangling_images(cli: &str) -> Vec<String> {
    listed(cli, &["images", "-q", "--no-trunc", "-f", "dangling=true"])
}

impl Made {
    pub(crate) fn by(names: &[&str]) -> Made {
        Made {
            names: names.iter().map(std::string::ToString::to_string).collect(),
            cli: "docker",
        }
    }

    /// In the engine `cli` reaches (`podman`) instead of docker's.
    pub(crate) fn on(mut self, cli: &'static str) -> Made {
        self.cli = cli;
        self
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        let ours = |text: &str| self.names.iter().any(|name| text.contains(name.as_str()));
        let mut doomed: Vec<String> = listed(
            self.cli,
            &["images", "--format", "{{.Repository}}:{{.Tag}}"],
        )
        .into_iter()
        .filter(|r| ours(r))
        .collect();
        for id in dangling_images(self.cli) {
            let title = listed(
                self.cli,
                &[
                    "image",
                    "inspect",
                    "--format",
                    "{{ index .Config.Labels \"org.opencontainers.image.title\" }}",
                    &id,
                ],
            );
            if title.first().is_some_and(|t| ours(t)) {
                doomed.push(id);
            }
        }
        if !doomed.is_empty() {
            let _ = Command::new(self.cli)
                .args(["rmi", "-f"])
                .args(&doomed)
                .output();
        }
    }
}
