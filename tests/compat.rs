//! The go-task compatibility suite: Taskfiles under tests/compat/cases/, each
//! with the stdout and exit status that the real go-task 3.54 gave for a list
//! of invocations (recorded by scripts/record-compat-cases.py; the format is
//! described there and in tests/compat/README.md).
//!
//! - `cases_are_well_formed`: the recordings are complete and machine-free.
//! - `recordings_match_go_task`: when go-task 3.54 is installed, it still
//!   gives what was recorded, so the recordings cannot rot (skipped, with a
//!   line saying so, when it is not).
//! - `hoist_matches_go_task`: hoist gives the same stdout and status, but
//!   for the deliberate differences it lists; prints a pass table per feature.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Arguments put before each case's own when hoist runs it (for when
/// hoist's go-task mode needs a switch). Empty: hoist is called like go-task.
const HOIST_PREFIX_ARGS: &[&str] = &[];

/// One invocation is given this long before its process group is killed.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Files of a case directory that are not part of the case's tree.
const NOT_COPIED: &[&str] = &["case.json", "stderr.txt"];

#[derive(Deserialize)]
struct CaseFile {
    #[serde(default)]
    about: String,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Run {
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    sort_stdout: bool,
    #[serde(default)]
    normalize: Vec<String>,
    stdout: Option<Vec<String>>,
    status: Option<i32>,
}

struct Case {
    /// `<feature>/<name>`
    id: String,
    feature: String,
    dir: PathBuf,
    file: CaseFile,
}

/// What one case gave under one binary.
struct Outcome {
    id: String,
    feature: String,
    runs: usize,
    runs_passed: usize,
    /// Human-readable account of each mismatching run.
    failures: Vec<String>,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/cases")
}

fn load_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let root = cases_dir();
    let mut features: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    features.sort();
    for fdir in features {
        let feature = fdir.file_name().unwrap().to_string_lossy().into_owned();
        let mut names: Vec<_> = std::fs::read_dir(&fdir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("case.json").is_file())
            .collect();
        names.sort();
        for dir in names {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let path = dir.join("case.json");
            let text = std::fs::read_to_string(&path).unwrap();
            let file: CaseFile =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            cases.push(Case {
                id: format!("{feature}/{name}"),
                feature: feature.clone(),
                dir,
                file,
            });
        }
    }
    cases
}

fn copy_tree(from: &Path, to: &Path, top: bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if top && NOT_COPIED.iter().any(|n| name == *n) {
            continue;
        }
        let kind = entry.file_type().unwrap();
        let dest = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest, false);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), dest).unwrap();
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Go's names for this machine's OS and architecture.
fn go_os_arch() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    (os, arch)
}

/// Replaces `value` by `placeholder` where it stands as a whole word.
fn replace_word(text: &str, value: &str, placeholder: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(value) {
        let end = at + value.len();
        let before_ok = text[..at].chars().next_back().is_none_or(|c| !is_word(c));
        let after_ok = text[end..].chars().next().is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            out.push_str(&text[last..at]);
            out.push_str(placeholder);
            last = end;
        }
    }
    out.push_str(&text[last..]);
    out
}

fn normalize(text: &str, root: &str, home: &str, which: &[String]) -> String {
    let mut text = text.replace(root, "{{ROOT}}").replace(home, "{{HOME}}");
    let (os, arch) = go_os_arch();
    let ncpu = num_cpus::get().to_string();
    for (name, value) in [("os", os), ("arch", arch), ("ncpu", ncpu.as_str())] {
        if which.iter().any(|w| w == name) {
            text = replace_word(&text, value, &format!("{{{{{}}}}}", name.to_uppercase()));
        }
    }
    text
}

struct Ran {
    stdout: String,
    stderr: String,
    status: i32,
}

/// Runs `exe args` in its own process group with stdin closed, killing the
/// group after TIMEOUT.
fn run_one(exe: &Path, args: &[String], cwd: &Path, env: &BTreeMap<String, String>) -> Ran {
    let mut child = Command::new(exe)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            timed_out = true;
            let pgid = nix::unistd::Pid::from_raw(-(child.id() as i32));
            let _ = nix::sys::signal::kill(pgid, nix::sys::signal::Signal::SIGKILL);
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    let status = if timed_out {
        -1
    } else {
        status
            .code()
            .unwrap_or_else(|| -status.signal().unwrap_or(1))
    };
    Ran {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        status,
    }
}

fn sorted(lines: &[String]) -> Vec<String> {
    let mut lines = lines.to_vec();
    lines.sort();
    lines
}

/// Runs every invocation of `case` with `exe` (after `prefix` arguments) in a
/// fresh copy of the case directory and compares with the recording.
fn run_case(exe: &Path, prefix: &[&str], case: &Case) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = std::fs::canonicalize(tmp.path()).unwrap();
    let root = tmp_path.join("case");
    let home = tmp_path.join("home");
    copy_tree(&case.dir, &root, true);
    std::fs::create_dir(&home).unwrap();
    let root_s = root.to_string_lossy().into_owned();
    let home_s = home.to_string_lossy().into_owned();

    let mut failures = Vec::new();
    let mut passed = 0;
    for (i, run) in case.file.runs.iter().enumerate() {
        let mut env = BTreeMap::new();
        env.insert(
            "PATH".to_owned(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        );
        env.insert("HOME".to_owned(), home_s.clone());
        env.insert("NO_COLOR".to_owned(), "1".to_owned());
        env.extend(run.env.clone());
        if let Some(before) = &run.before {
            let ok = Command::new("sh")
                .arg("-c")
                .arg(before)
                .current_dir(&root)
                .env_clear()
                .envs(&env)
                .status()
                .unwrap()
                .success();
            if !ok {
                failures.push(format!("run {}: `before` failed: {before}", i + 1));
                continue;
            }
        }
        let cwd = match &run.cwd {
            Some(sub) => root.join(sub),
            None => root.clone(),
        };
        let args: Vec<String> = prefix
            .iter()
            .map(std::string::ToString::to_string)
            .chain(run.args.iter().cloned())
            .collect();
        let ran = run_one(exe, &args, &cwd, &env);
        let got: Vec<String> = normalize(&ran.stdout, &root_s, &home_s, &run.normalize)
            .split('\n')
            .map(str::to_owned)
            .collect();
        let (Some(want), Some(want_status)) = (&run.stdout, run.status) else {
            failures.push(format!("run {}: not recorded", i + 1));
            continue;
        };
        let same_out = if run.sort_stdout {
            sorted(want) == sorted(&got)
        } else {
            *want == got
        };
        if same_out && want_status == ran.status {
            passed += 1;
        } else {
            failures.push(format!(
                "run {} (`{}`{}): status {} (recorded {}){}\n  recorded stdout:\n{}\n  got stdout:\n{}",
                i + 1,
                run.args.join(" "),
                run.cwd
                    .as_deref()
                    .map(|c| format!(" in {c}/"))
                    .unwrap_or_default(),
                ran.status,
                want_status,
                if run.sort_stdout { ", stdout compared sorted" } else { "" },
                indent(want),
                indent(&got),
            ));
        }
    }
    Outcome {
        id: case.id.clone(),
        feature: case.feature.clone(),
        runs: case.file.runs.len(),
        runs_passed: passed,
        failures,
    }
}

fn indent(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("    |{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs all cases over `exe`, a few at a time.
fn run_all(exe: &Path, prefix: &[&str]) -> Vec<Outcome> {
    let cases = load_cases();
    let jobs = std::env::var("HOIST_COMPAT_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| (num_cpus::get() * 2).clamp(4, 8));
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::with_capacity(cases.len()));
    std::thread::scope(|s| {
        for _ in 0..jobs.min(cases.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let outcome = run_case(exe, prefix, case);
                outcomes.lock().unwrap().push(outcome);
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by(|a, b| a.id.cmp(&b.id));
    outcomes
}

/// Writes past the test harness's capture, so that the line shows in a
/// normal `cargo test` run.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn failure_report(outcomes: &[Outcome]) -> String {
    let mut text = String::new();
    for o in outcomes.iter().filter(|o| !o.failures.is_empty()) {
        text.push_str(&format!("--- {}\n", o.id));
        for f in &o.failures {
            text.push_str(f);
            text.push('\n');
        }
    }
    text
}

/// go-task 3.54: $`GO_TASK`, else `task` on PATH (a pyenv shim is resolved to
/// the binary behind it, which starts faster).
pub(crate) fn go_task() -> Result<PathBuf, String> {
    let exe = match std::env::var_os("GO_TASK") {
        Some(p) => PathBuf::from(p),
        None => std::env::var_os("PATH")
            .and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join("task"))
                    .find(|p| p.is_file())
            })
            .ok_or("no `task` on PATH (pip install go-task-bin, or set GO_TASK)")?,
    };
    let mut exe = exe;
    if exe.to_string_lossy().contains("/shims/") {
        if let Ok(out) = Command::new("pyenv").args(["which", "task"]).output() {
            let real = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if out.status.success() && !real.is_empty() {
                exe = PathBuf::from(real);
            }
        }
    }
    let out = Command::new(&exe)
        .arg("--version")
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !version.starts_with("3.54.") && !version.contains("v3.54.") {
        return Err(format!(
            "{} is go-task {version:?}, the cases are recorded from 3.54",
            exe.display()
        ));
    }
    Ok(exe)
}

#[test]
fn cases_are_well_formed() {
    let cases = load_cases();
    assert!(
        cases.len() >= 100,
        "only {} compatibility cases",
        cases.len()
    );
    let mut problems = Vec::new();
    for case in &cases {
        if case.file.about.trim().is_empty() {
            problems.push(format!("{}: no `about`", case.id));
        }
        if case.file.runs.is_empty() {
            problems.push(format!("{}: no runs", case.id));
        }
        for (i, run) in case.file.runs.iter().enumerate() {
            let Some(stdout) = &run.stdout else {
                problems.push(format!("{}: run {} has no recorded stdout", case.id, i + 1));
                continue;
            };
            if run.status.is_none() {
                problems.push(format!("{}: run {} has no recorded status", case.id, i + 1));
            }
            // A path of the recording machine that escaped normalisation.
            if stdout
                .iter()
                .any(|l| l.contains("/compat-") || l.contains("/tmp/"))
            {
                problems.push(format!(
                    "{}: run {} stdout holds a temp path",
                    case.id,
                    i + 1
                ));
            }
            for w in &run.normalize {
                if !["os", "arch", "ncpu"].contains(&w.as_str()) {
                    problems.push(format!(
                        "{}: run {}: unknown normalize {w:?}",
                        case.id,
                        i + 1
                    ));
                }
            }
            if let Some(cwd) = &run.cwd {
                if !case.dir.join(cwd).is_dir() {
                    problems.push(format!("{}: run {}: no dir {cwd}", case.id, i + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn replace_word_only_replaces_whole_words() {
    assert_eq!(replace_word("2 12 2x x2 (2)", "2", "N"), "N 12 2x x2 (N)");
    assert_eq!(
        replace_word("linux/amd64 amd640", "amd64", "A"),
        "linux/A amd640"
    );
}

#[test]
fn recordings_match_go_task() {
    let exe = match go_task() {
        Ok(exe) => exe,
        Err(why) => {
            say(&format!("SKIPPED compat::recordings_match_go_task: {why}"));
            return;
        }
    };
    let outcomes = run_all(&exe, &[]);
    let report = failure_report(&outcomes);
    assert!(
        report.is_empty(),
        "go-task no longer gives what was recorded (re-record with \
         scripts/record-compat-cases.py if go-task is right):\n{report}"
    );
}

/// Runs hoist over every case; returns the outcomes and the per-feature table.
fn run_hoist_over_cases() -> (Vec<Outcome>, String) {
    let outcomes = run_all(Path::new(env!("CARGO_BIN_EXE_hoist")), HOIST_PREFIX_ARGS);
    let mut per_feature: BTreeMap<&str, (usize, usize, usize, usize)> = BTreeMap::new();
    for o in &outcomes {
        let e = per_feature.entry(o.feature.as_str()).or_default();
        e.0 += usize::from(o.failures.is_empty());
        e.1 += 1;
        e.2 += o.runs_passed;
        e.3 += o.runs;
    }
    let mut table = format!(
        "{:<16} {:>11} {:>11} {:>6}\n",
        "feature", "cases", "runs", "pass"
    );
    let (mut cp, mut ct, mut rp, mut rt) = (0, 0, 0, 0);
    for (feature, (c_ok, c_all, r_ok, r_all)) in &per_feature {
        table.push_str(&format!(
            "{feature:<16} {:>11} {:>11} {:>5.0}%\n",
            format!("{c_ok}/{c_all}"),
            format!("{r_ok}/{r_all}"),
            100.0 * *c_ok as f64 / *c_all as f64
        ));
        (cp, ct, rp, rt) = (cp + c_ok, ct + c_all, rp + r_ok, rt + r_all);
    }
    table.push_str(&format!(
        "{:<16} {:>11} {:>11} {:>5.0}%\n",
        "total",
        format!("{cp}/{ct}"),
        format!("{rp}/{rt}"),
        100.0 * cp as f64 / ct as f64
    ));
    (outcomes, table)
}

/// Where hoist differs from go-task on purpose: (case, run number, why).
const DELIBERATE_DIFFERENCES: &[(&str, usize, &str)] = &[
    (
        "cli/unknown-flag",
        2,
        "`--version` says hoist's version, not go-task's",
    ),
    (
        "special_vars/task-name",
        1,
        "TASK_EXE is how hoist was called, so `{{.TASK_EXE}} other` runs hoist again",
    ),
];

#[test]
fn hoist_matches_go_task() {
    let (mut outcomes, table) = run_hoist_over_cases();
    say(&format!(
        "hoist against go-task 3.54, per feature:\n{table}"
    ));
    let mut unexplained_passes = Vec::new();
    for (id, run, why) in DELIBERATE_DIFFERENCES {
        let outcome = outcomes
            .iter_mut()
            .find(|o| o.id == *id)
            .unwrap_or_else(|| panic!("DELIBERATE_DIFFERENCES names a missing case {id}"));
        let marker = format!("run {run} (");
        let before = outcome.failures.len();
        outcome.failures.retain(|f| !f.starts_with(&marker));
        if outcome.failures.len() == before {
            unexplained_passes.push(format!("{id} run {run} ({why})"));
        }
    }
    let report = failure_report(&outcomes);
    assert!(report.is_empty(), "hoist differs from go-task:\n{report}");
    assert!(
        unexplained_passes.is_empty(),
        "listed as deliberate differences but now the same as go-task (drop them from the list): {unexplained_passes:?}"
    );
}

/// The commands a dry run shows (`hoist: [task] command` lines), sorted, as
/// parallel deps print in any order.
/// `root` (the copy's path) is written as `{{ROOT}}`; trailing blanks go (the
/// shell ignores them).
fn dry_commands(stderr: &str, root: &Path) -> Vec<String> {
    let root = root.to_string_lossy();
    let mut lines: Vec<String> = stderr
        .lines()
        .filter(|l| l.starts_with("hoist: ["))
        .map(|l| l.replace(&*root, "{{ROOT}}").trim_end().to_owned())
        .collect();
    lines.sort();
    lines
}

/// Runs each task invocation of `case` with `--dry` in the Taskfile's copy
/// and in the migrated copy; returns how many were compared and the accounts
/// of those that differ.
fn compare_dry_runs(
    exe: &Path,
    case: &Case,
    original: &Path,
    native: &Path,
    env: &BTreeMap<String, String>,
) -> (usize, Vec<String>) {
    let mut compared = 0;
    let mut failures = Vec::new();
    for (i, run) in case.file.runs.iter().enumerate() {
        // Task names only: flags are go-task's, and NAME=value differs on
        // purpose (in hoist the command line beats the file's vars).
        let tasks_only = run
            .args
            .iter()
            .all(|a| !a.starts_with('-') && !a.contains('='));
        if !tasks_only || run.cwd.is_some() || run.before.is_some() {
            continue;
        }
        let mut env = env.clone();
        env.extend(run.env.clone());
        let args: Vec<String> = std::iter::once("--dry".to_owned())
            .chain(run.args.iter().cloned())
            .collect();
        let from_taskfile = run_one(exe, &args, original, &env);
        let from_migrated = run_one(exe, &args, native, &env);
        compared += 1;
        let (want, got) = (
            dry_commands(&from_taskfile.stderr, original),
            dry_commands(&from_migrated.stderr, native),
        );
        let same_status = (from_taskfile.status == 0) == (from_migrated.status == 0);
        if want != got || !same_status {
            failures.push(format!(
                "--- {} run {} ({:?}): status {} vs {}\n  Taskfile:\n    {}\n  migrated:\n    {}\n  migrated stderr:\n    {}",
                case.id,
                i + 1,
                run.args,
                from_taskfile.status,
                from_migrated.status,
                want.join("\n    "),
                got.join("\n    "),
                from_migrated.stderr.trim_end().replace('\n', "\n    ")
            ));
        }
    }
    (compared, failures)
}

/// `hoist --migrate` proven on the suite: every case that migrates without
/// leaving anything untranslated gives, for each of its task runs, the same
/// `--dry` commands and exit status from the migrated hoist.yml as from the
/// Taskfile.
#[test]
fn migrated_cases_dry_run_the_same_commands() {
    let exe = Path::new(env!("CARGO_BIN_EXE_hoist"));
    let mut migrated = 0;
    let mut compared = 0;
    let mut with_checks = 0;
    let mut not_migrated = Vec::new();
    let mut failures = Vec::new();
    for case in load_cases() {
        if !case.dir.join("Taskfile.yml").is_file() {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let tmp_path = std::fs::canonicalize(tmp.path()).unwrap();
        let (original, native, home) = (
            tmp_path.join("original"),
            tmp_path.join("native"),
            tmp_path.join("home"),
        );
        copy_tree(&case.dir, &original, true);
        copy_tree(&case.dir, &native, true);
        std::fs::create_dir(&home).unwrap();
        let mut env = BTreeMap::new();
        env.insert(
            "PATH".to_owned(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        );
        env.insert("HOME".to_owned(), home.to_string_lossy().into_owned());
        env.insert("NO_COLOR".to_owned(), "1".to_owned());
        let migration = run_one(
            exe,
            &[
                "--migrate".into(),
                "Taskfile.yml".into(),
                "--to".into(),
                "hoist.yml".into(),
            ],
            &native,
            &env,
        );
        if migration.status != 0 || !migration.stderr.contains("migrated everything") {
            not_migrated.push(case.id.clone());
            continue;
        }
        std::fs::remove_file(native.join("Taskfile.yml")).unwrap();
        migrated += 1;
        // hoist's own --dry shows every command, silent ones too, and runs
        // no checks; go-task's hides silent commands, skips up-to-date tasks
        // and stops at preconditions: the two dry runs only mean the same for
        // tasks without checks or silence.
        let text = std::fs::read_to_string(original.join("Taskfile.yml")).unwrap();
        if ["status:", "preconditions:", "sources:", "silent:"]
            .iter()
            .any(|k| text.contains(k))
        {
            with_checks += 1;
            continue;
        }
        let (n, mut differ) = compare_dry_runs(exe, &case, &original, &native, &env);
        compared += n;
        failures.append(&mut differ);
    }
    say(&format!(
        "--migrate: {migrated} cases migrated whole ({with_checks} not compared: status/preconditions/sources/silent), \
         {compared} dry runs compared, {} cases with something left untranslated",
        not_migrated.len()
    ));
    assert!(
        failures.is_empty(),
        "{} migrated runs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Not vacuous: most of the suite is plain enough to migrate whole.
    assert!(
        migrated >= 90 && compared >= 80,
        "only {migrated} cases / {compared} runs: {not_migrated:?}"
    );
}

/// A SIGTERM sent to hoist alone (a CI job cancelled) reaches the command
/// running in go-task mode, whole (`sleep` inside a compound line too), and
/// no later command starts.
#[test]
fn sigterm_stops_the_running_command_and_the_run() {
    let test = crate::common::Test::new().file(
        "Taskfile.yml",
        "version: '3'\ntasks:\n  default:\n    cmds:\n      - echo started; sleep 30; echo slept\n      - echo after\n",
    );
    let out = crate::common::signal_once_printed(
        &test,
        |line| line == "started",
        nix::sys::signal::Signal::SIGTERM,
    );
    assert!(
        out.took < Duration::from_secs(5),
        "took {:?}\n{}",
        out.took,
        out.stderr
    );
    assert_eq!(out.status, Some(201), "{}", out.stderr);
    assert_eq!(out.stdout, "started\n");
    assert!(out.stderr.contains("signal 15"), "{}", out.stderr);
}

/// `--help` in go-task mode explains it and runs nothing.
#[test]
fn help_in_go_task_mode_runs_nothing() {
    let out = crate::common::Test::new()
        .file(
            "Taskfile.yml",
            "version: '3'\ntasks:\n  default:\n    cmds: [echo ran]\n",
        )
        .args(&["--help"])
        .run();
    assert_eq!(out.status, 0);
    assert!(out.stdout.contains("as go-task 3 does"), "{}", out.stdout);
    assert!(out.stdout.contains("--migrate"), "{}", out.stdout);
    assert!(!out.stdout.contains("ran\n"), "{}", out.stdout);
    out.stderr_lacks("[default]");
}

/// From docker CLI lines of a dry run: the references built (and tagged
/// locally) and pushed.
fn docker_references(stderr: &str) -> (Vec<String>, Vec<String>) {
    let mut built = Vec::new();
    let mut pushed = Vec::new();
    for line in stderr.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let after_docker = i > 0 && words[i - 1] == "docker";
            match *w {
                "--tag" => built.push(words[i + 1].to_owned()),
                "tag" if after_docker && !words[i + 2].contains('/') => {
                    built.push(words[i + 2].to_owned());
                }
                "push" if after_docker => pushed.push(words[i + 1].to_owned()),
                _ => {}
            }
        }
    }
    (built, pushed)
}

/// From image steps' dry-run lines: the references after `prefix` (`tag: `,
/// `push: `), sorted.
fn step_references(stderr: &str, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split_once("] ").map(|(_, rest)| rest.trim()))
        .filter_map(|l| l.strip_prefix(prefix))
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// The tutorial pipeline's `--dry`, as a Taskfile and migrated: the same
/// final `repo:tag`s, built and pushed (`docker build --tag`/`docker tag`/
/// `docker push` lines against the image steps' `tag:`/`push:` lines), on
/// `main` with a release tag. (The Taskfile's `silent: true` is dropped for
/// its dry run: go-task's hides silent commands.)
#[test]
fn migrated_tutorial_dry_run_builds_and_pushes_the_same_references() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = Path::new(env!("CARGO_BIN_EXE_hoist"));
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = std::fs::canonicalize(tmp.path()).unwrap();
    let (original, native) = (tmp_path.join("original"), tmp_path.join("native"));
    let mut env = BTreeMap::new();
    env.insert("PATH".to_owned(), std::env::var("PATH").unwrap_or_default());
    env.insert("HOME".to_owned(), tmp_path.to_string_lossy().into_owned());
    for dir in [&original, &native] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(
            root.join("examples/tutorial/Taskfile.yml"),
            dir.join("Taskfile.yml"),
        )
        .unwrap();
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["add", "."],
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "one",
            ],
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "tag",
                "-a",
                "v1.0.0",
                "-m",
                "one",
            ],
        ] {
            let ok = Command::new("git")
                .args(args)
                .current_dir(dir)
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?}");
        }
    }
    let migrated = run_one(
        exe,
        &["--migrate".into(), "--to".into(), "hoist.yml".into()],
        &native,
        &env,
    );
    assert_eq!(migrated.status, 0, "{}", migrated.stderr);
    std::fs::remove_file(native.join("Taskfile.yml")).unwrap();
    // go-task's --dry hides silent commands: show the Taskfile's.
    let text = std::fs::read_to_string(original.join("Taskfile.yml")).unwrap();
    assert!(text.contains("silent: true\n"));
    std::fs::write(
        original.join("Taskfile.yml"),
        text.replace("silent: true\n", ""),
    )
    .unwrap();
    let taskfile = run_one(
        exe,
        &["--dry".into(), "upload-image".into()],
        &original,
        &env,
    );
    let native_run = run_one(exe, &["--dry".into(), "upload-image".into()], &native, &env);
    assert_eq!(
        (taskfile.status, native_run.status),
        (0, 0),
        "{}\n{}",
        taskfile.stderr,
        native_run.stderr
    );
    let (mut built, mut pushed) = docker_references(&taskfile.stderr);
    built.sort();
    pushed.sort();
    let steps = |prefix| step_references(&native_run.stderr, prefix);
    assert_eq!(steps("tag: "), built, "{}", native_run.stderr);
    assert_eq!(steps("push: "), pushed, "{}", native_run.stderr);
    assert_eq!(pushed.len(), 3, "latest, v1.0.0, main: {pushed:?}");
}
