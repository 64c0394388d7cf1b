//! Running shell commands: `sh -e -c`, each in its own process group so that
//! cancellation and Ctrl-C reach everything a command started; output read
//! line by line so parallel tasks never interleave mid-line.

use crate::ui::Printer;
use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::watch;

/// How command output reaches the terminal (`--output`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputMode {
    /// Lines as they come, whole lines only.
    Interleaved,
    /// Each line prefixed with `[task]`.
    Prefixed,
    /// A task's output held back and printed in one block when it ends.
    Group,
}

/// Where one task's command output goes.
#[derive(Clone)]
pub(crate) enum Sink {
    Direct,
    Prefixed(String),
    Buffered(Arc<Mutex<Vec<(bool, String)>>>),
}

impl Sink {
    pub(crate) fn line(&self, printer: &Printer, line: &str, is_stderr: bool) {
        match self {
            Sink::Direct => printer.out_line(line, is_stderr),
            Sink::Prefixed(prefix) => printer.out_line(&format!("[{prefix}] {line}"), is_stderr),
            Sink::Buffered(buffer) => buffer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((is_stderr, line.to_owned())),
        }
    }
}

/// Process groups of running commands, for signal forwarding.
#[derive(Default)]
pub(crate) struct ProcessTable {
    groups: Mutex<HashSet<i32>>,
}

impl ProcessTable {
    pub(crate) fn signal_all(&self, signal: nix::sys::signal::Signal) {
        for pgid in self
            .groups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(*pgid), signal);
        }
    }

    /// From a panic hook: SIGKILL to every group, unless the table is locked
    /// (by the thread that panicked, which would then wait on itself).
    pub(crate) fn kill_all_from_panic(&self) {
        let Ok(groups) = self.groups.try_lock() else {
            return;
        };
        for pgid in groups.iter() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(*pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }

    fn add(&self, pgid: i32) {
        self.groups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(pgid);
    }

    fn remove(&self, pgid: i32) {
        self.groups
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&pgid);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Success,
    Code(i32),
    Signal(i32),
    /// Stopped by us because the run was cancelled.
    Cancelled,
}

pub(crate) struct ShellCommand<'a> {
    pub script: &'a str,
    pub dir: &'a Path,
    pub env: &'a [(String, String)],
    pub sink: &'a Sink,
    /// The task's label, for what hoist says about the command.
    pub label: &'a str,
}

/// Once the shell has exited, how long its output pipes may stay open before
/// hoist goes on without them: long enough to drain what the shell wrote,
/// short enough that a process it left in the background (`./server &`)
/// does not hold the run.
const PIPE_GRACE: Duration = Duration::from_millis(100);

/// Runs one command to completion, or until `cancel` turns true. A process
/// the command leaves running (`./server &`) does not hold hoist: once the
/// shell has exited, its pipes get a short grace, then hoist says what was
/// left and goes on, forwarding that process's output while hoist runs.
pub(crate) async fn run(
    command: ShellCommand<'_>,
    printer: &Arc<Printer>,
    processes: &ProcessTable,
    mut cancel: watch::Receiver<bool>,
) -> std::io::Result<Exit> {
    let mut child = Command::new("sh")
        .arg("-e")
        .arg("-c")
        .arg(command.script)
        .current_dir(command.dir)
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let pgid = child.id().map(|id| id as i32);
    if let Some(pgid) = pgid {
        processes.add(pgid);
    }
    let detached = Arc::new(AtomicBool::new(false));
    let pump = |is_stderr| Pumped {
        sink: command.sink.clone(),
        is_stderr,
        label: command.label.to_owned(),
        detached: detached.clone(),
        printer: printer.clone(),
    };
    let out = child.stdout.take().map(|s| pump(false).of(s));
    let err = child.stderr.take().map(|s| pump(true).of(s));
    let (pumps_done_tx, pumps_done) = watch::channel(false);
    // The pumps are a task of their own: they end when every writer closed
    // the pipes, which a process left in the background may never do while
    // hoist runs.
    tokio::spawn(async move {
        futures_util::future::join(
            async {
                if let Some(out) = out {
                    out.run().await;
                }
            },
            async {
                if let Some(err) = err {
                    err.run().await;
                }
            },
        )
        .await;
        pumps_done_tx.send_replace(true);
    });
    let status = tokio::select! {
        status = child.wait() => Some(status?),
        () = cancelled(&mut cancel) => None,
    };
    // The leader is gone, but what it left in its group may still hold our
    // pipes; if the run is cancelled meanwhile, that must not outlive it.
    let mut left_running = false;
    if status.is_some() && !*cancel.borrow() {
        tokio::select! {
            () = closed(pumps_done.clone()) => {}
            () = cancelled(&mut cancel) => {}
            () = tokio::time::sleep(PIPE_GRACE) => left_running = true,
        }
    }
    if *cancel.borrow() {
        terminate(pgid, &mut child, pumps_done.clone()).await;
        // Killed: the pipes close now, unless something left the group.
        left_running = tokio::time::timeout(PIPE_GRACE, closed(pumps_done.clone()))
            .await
            .is_err();
    }
    if left_running {
        detached.store(true, Ordering::Relaxed);
        report_left_running(printer, command.label, pgid, pumps_done).await;
    }
    if let Some(pgid) = pgid {
        processes.remove(pgid);
    }
    Ok(status.map_or(Exit::Cancelled, exit_of))
}

/// Says which processes the command left holding its output; quiet if the
/// last of them ended meanwhile.
async fn report_left_running(
    printer: &Printer,
    label: &str,
    pgid: Option<i32>,
    pumps_done: watch::Receiver<bool>,
) {
    let members = pgid.map(group_members).unwrap_or_default();
    if members.is_empty()
        && tokio::time::timeout(PIPE_GRACE, closed(pumps_done))
            .await
            .is_ok()
    {
        return;
    }
    let (what, it) = match members.as_slice() {
        [] => (
            "a process running outside its process group".to_owned(),
            "it",
        ),
        [(pid, name)] => (format!("process {pid} ({name}) running"), "it"),
        many => (
            format!(
                "processes {} running",
                many.iter()
                    .map(|(pid, name)| format!("{pid} ({name})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "they",
        ),
    };
    printer.notice(
        label,
        &format!(
            "command left {what}; {it} keep{s} running after hoist (output is shown only \
             until hoist exits: redirect it to a file to keep it)",
            s = if it == "it" { "s" } else { "" }
        ),
    );
}

/// The live processes of process group `pgid`, with their names, from /proc.
fn group_members(pgid: i32) -> Vec<(i32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`; comm may itself hold spaces and `)`.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = head.split_once('(').map_or("", |(_, name)| name);
        let mut fields = rest.split_whitespace();
        let (state, _ppid, pgrp) = (fields.next(), fields.next(), fields.next());
        if pgrp.and_then(|p| p.parse::<i32>().ok()) == Some(pgid) && state != Some("Z") {
            members.push((pid, name.to_owned()));
        }
    }
    members.sort();
    members
}

/// Resolves when the run is cancelled; never, if nobody can cancel any more.
pub(crate) async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves once every writer of the command's pipes has closed them.
async fn closed(mut pumps_done: watch::Receiver<bool>) {
    let _ = pumps_done.wait_for(|done| *done).await;
}

/// SIGTERM to the group, then SIGKILL for whatever is left once the leader and
/// everything holding our pipes is gone, or after a grace period: a child may
/// ignore SIGTERM, or have been forked just after it was sent.
async fn terminate(
    pgid: Option<i32>,
    child: &mut tokio::process::Child,
    pumps_done: watch::Receiver<bool>,
) {
    use nix::sys::signal::{killpg, Signal};
    let Some(pgid) = pgid else { return };
    let group = nix::unistd::Pid::from_raw(pgid);
    let _ = killpg(group, Signal::SIGTERM);
    let grace = async {
        let _ = child.wait().await;
        closed(pumps_done).await;
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), grace).await;
    let _ = killpg(group, Signal::SIGKILL);
    let _ = child.wait().await;
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => Exit::Success,
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(1),
    }
}

/// Where one of a command's pipes goes.
struct Pumped {
    sink: Sink,
    is_stderr: bool,
    label: String,
    /// hoist went on without this command: a group buffer is no longer
    /// flushed, so lines are printed at once, prefixed with the task.
    detached: Arc<AtomicBool>,
    printer: Arc<Printer>,
}

impl Pumped {
    fn of<R>(self, reader: R) -> Pump<R> {
        Pump { reader, to: self }
    }
}

struct Pump<R> {
    reader: R,
    to: Pumped,
}

impl<R: AsyncRead + Unpin> Pump<R> {
    async fn run(self) {
        let mut reader = BufReader::new(self.reader);
        let mut buf = Vec::with_capacity(256);
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.strip_suffix('\n').unwrap_or(&line);
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    let to = &self.to;
                    match &to.sink {
                        Sink::Buffered(_) if to.detached.load(Ordering::Relaxed) => {
                            let line = format!("[{}] {line}", to.label);
                            to.printer.out_line(&line, to.is_stderr);
                        }
                        sink => sink.line(&to.printer, line, to.is_stderr),
                    }
                }
            }
        }
    }
}

/// A captured command that failed: its exit code (127 when it could not
/// start) and what it printed on stderr.
#[derive(Clone, Debug)]
pub(crate) struct CaptureFailure {
    pub(crate) code: i32,
    pub(crate) stderr: String,
}

/// Runs an `sh:` var's command to completion and returns its trimmed stdout.
/// Blocking: callers run it off the async runtime's thread.
pub(crate) fn capture(
    script: &str,
    dir: &std::path::Path,
    env: &[(String, String)],
) -> std::result::Result<String, CaptureFailure> {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
        }
        Ok(out) => Err(CaptureFailure {
            code: out.status.code().unwrap_or(1),
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_owned(),
        }),
        Err(e) => Err(CaptureFailure {
            code: 127,
            stderr: e.to_string(),
        }),
    }
}

/// Runs a check (`status`, `preconditions`) with its output discarded; true
/// when it succeeds.
pub(crate) async fn check(script: &str, dir: &std::path::Path, env: &[(String, String)]) -> bool {
    let status = Command::new("sh")
        .arg("-e")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    status.is_ok_and(|s| s.success())
}

/// A go-task command line run by bash: `bash -e` stops it at its first
/// failing statement as go-task's interpreter does, and bash understands the
/// bashisms Taskfiles use (`[[ ]]`, arrays, `${v^^}`) that `sh` rejects.
/// `set` and `shopt` are go-task's option names (`pipefail`, `globstar`).
/// Blocking: go-task mode runs its tasks on threads.
pub(crate) struct Bash(std::process::Command);

impl Bash {
    pub(crate) fn new(
        script: &str,
        dir: &Path,
        set: &[String],
        shopt: &[String],
        env: &[(String, String)],
    ) -> Bash {
        let mut command = std::process::Command::new("bash");
        command.arg("-e");
        for option in set {
            match option.as_str() {
                "e" | "errexit" => {}
                short if short.len() == 1 => {
                    command.arg(format!("-{short}"));
                }
                long => {
                    command.arg("-o").arg(long);
                }
            }
        }
        for option in shopt {
            command.arg("-O").arg(option);
        }
        command
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k, v)));
        if own_groups() {
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
        }
        Bash(command)
    }

    /// Runs with hoist's stdin, stdout and stderr.
    pub(crate) fn run(mut self) -> std::io::Result<std::process::ExitStatus> {
        let child = self.0.spawn()?;
        wait_tracked(child)
    }

    /// Runs with stdout captured; stderr captured too, or passed through.
    pub(crate) fn capture(
        mut self,
        stderr: bool,
        stdin: bool,
    ) -> std::io::Result<std::process::Output> {
        use std::process::Stdio;
        let child = self
            .0
            .stdin(if stdin {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(if stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()?;
        let slot = track(child.id());
        let output = child.wait_with_output();
        untrack(slot);
        output
    }

    /// Runs with each line of its stdout and stderr handed to `line`
    /// (`true` for stderr) as it comes.
    pub(crate) fn lines(
        mut self,
        line: &(dyn Fn(bool, &[u8]) + Sync),
    ) -> std::io::Result<std::process::ExitStatus> {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = self
            .0
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        let pump = |stream: &mut dyn std::io::Read, is_stderr: bool| {
            for text in std::io::BufReader::new(stream).split(b'\n') {
                let Ok(text) = text else { break };
                line(is_stderr, &text);
            }
        };
        let slot = track(child.id());
        std::thread::scope(|s| {
            s.spawn(|| pump(&mut { out }, false));
            s.spawn(|| pump(&mut { err }, true));
        });
        let status = child.wait();
        untrack(slot);
        status
    }

    /// Runs with no input or output; true when it succeeds.
    pub(crate) fn check(mut self) -> bool {
        use std::process::Stdio;
        self.0
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .and_then(wait_tracked)
            .is_ok_and(|s| s.success())
    }
}

// On a terminal, go-task mode's bash children share hoist's process group,
// so that Ctrl-C reaches them from the terminal and interactive commands can
// read it; elsewhere (CI) each gets a group of its own. Either way a signal
// sent to hoist alone (SIGTERM from CI, SIGHUP) is passed on to each running
// child (its whole group when it has one) by a watcher thread.

/// Whether each command gets a process group of its own: when stdin is no
/// terminal (a background group reading the terminal would be stopped).
fn own_groups() -> bool {
    use std::io::IsTerminal;
    static OWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OWN.get_or_init(|| !std::io::stdin().is_terminal())
}

/// Pids of the running bash children (0: a free slot).
static RUNNING: [std::sync::atomic::AtomicU32; 64] =
    [const { std::sync::atomic::AtomicU32::new(0) }; 64];
/// The first stop signal received, 0 until then.
static STOPPED_BY: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

fn track(pid: u32) -> Option<usize> {
    RUNNING.iter().position(|slot| {
        slot.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    })
}

fn untrack(slot: Option<usize>) {
    if let Some(i) = slot {
        RUNNING[i].store(0, Ordering::SeqCst);
    }
}

fn wait_tracked(mut child: std::process::Child) -> std::io::Result<std::process::ExitStatus> {
    let slot = track(child.id());
    let status = child.wait();
    untrack(slot);
    status
}

/// The signal that asked go-task mode to stop, if one did.
pub(crate) fn stop_signal() -> Option<i32> {
    match STOPPED_BY.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// From now on SIGINT, SIGTERM and SIGHUP are taken by a watcher thread:
/// the first is passed on to the running children and remembered (no new
/// command starts); a second one ends hoist at once. Returns once the
/// handlers are in place. (tokio's signal handling, on a runtime of the
/// watcher's own: go-task mode itself runs on plain threads.)
pub(crate) fn forward_stop_signals() {
    use tokio::signal::unix::{signal, SignalKind};
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
        else {
            let _ = ready_tx.send(());
            return;
        };
        runtime.block_on(async move {
            let kinds = [
                (SignalKind::interrupt(), nix::sys::signal::Signal::SIGINT),
                (SignalKind::terminate(), nix::sys::signal::Signal::SIGTERM),
                (SignalKind::hangup(), nix::sys::signal::Signal::SIGHUP),
            ];
            let mut streams = Vec::new();
            for (kind, number) in kinds {
                if let Ok(stream) = signal(kind) {
                    streams.push((stream, number));
                }
            }
            let _ = ready_tx.send(());
            loop {
                let received = {
                    let waits = streams.iter_mut().map(|(stream, number)| {
                        let number = *number;
                        Box::pin(async move { stream.recv().await.map(|()| number) })
                    });
                    futures_util::future::select_all(waits).await.0
                };
                let Some(signal) = received else { return };
                stop_with(signal);
            }
        });
    });
    let _ = ready.recv();
}

/// The first stop signal: remembered and passed on; a second ends hoist.
fn stop_with(signal: nix::sys::signal::Signal) {
    let number = signal as i32;
    if STOPPED_BY
        .compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        std::process::exit(128 + number);
    }
    signal_tracked(signal);
}

/// `signal` to every tracked bash: to its whole group when it has one.
fn signal_tracked(signal: nix::sys::signal::Signal) {
    for slot in &RUNNING {
        let pid = slot.load(Ordering::SeqCst);
        if pid != 0 {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = if own_groups() {
                nix::sys::signal::killpg(pid, signal)
            } else {
                nix::sys::signal::kill(pid, signal)
            };
        }
    }
}

/// Release builds abort on a panic (Cargo.toml): no destructor runs, so no
/// `kill_on_drop` either. From now on a panic kills the commands in
/// `processes` (each whole process group, not only its `sh`) after the
/// message, before the process ends.
pub(crate) fn kill_on_panic(processes: Arc<ProcessTable>) {
    after_panic_message(move || processes.kill_all_from_panic());
}

/// [`kill_on_panic`] for go-task mode's tracked bash children.
pub(crate) fn kill_tracked_on_panic() {
    after_panic_message(|| signal_tracked(nix::sys::signal::Signal::SIGKILL));
}

fn after_panic_message(then: impl Fn() + Send + Sync + 'static) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        then();
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn a_panic_kills_every_running_group_whole() {
        // A command's group: its `sh` and what `sh` started.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 30 & wait")
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id() as i32;
        let table = ProcessTable::default();
        table.add(pgid);
        table.kill_all_from_panic();
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        // The group is gone, its `sleep` too.
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None).is_err());
    }

    #[test]
    fn a_locked_table_is_left_alone() {
        let table = ProcessTable::default();
        table.add(i32::MAX);
        let _held = table.groups.lock().unwrap();
        table.kill_all_from_panic(); // returns instead of waiting on itself
    }
}
