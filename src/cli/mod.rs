//! The command line: arguments in two phases (raw clap flags in
//! [`arguments`], then one resolved [`invocation::Invocation`]), the listing
//! and introspection modes, and `run`, the entry point.

mod arguments;
mod invocation;
pub(crate) mod listing;

use crate::error::{exit, Error, Report, Result};
use crate::exec::OutputMode;
use crate::graph::Graph;
use crate::runner::{Options, Runner};
use crate::taskfile::Taskfile;
use crate::ui::{CiKind, Printer};
use crate::vars::Session;
use arguments::{Arguments, GraphFormat};
use clap::{CommandFactory, Parser, ValueEnum};
use invocation::{Invocation, Mode, RunFlags};
use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

/// The entry point: parses `args`, does the work, returns the exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if crate::gotask::applies(&args) && !args.iter().any(|a| a == "--migrate") {
        return crate::gotask::run(args);
    }
    let arguments = match Arguments::try_parse_from(args) {
        Ok(arguments) => arguments,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { exit::USAGE } else { 0 });
        }
    };
    let printer = Arc::new(Printer::new(
        arguments.silent,
        arguments.verbose,
        arguments.color,
    ));
    let result = Invocation::resolve(arguments).and_then(|inv| execute(inv, printer.clone()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A failing command has already shown its output; say which and pass its code on.
            printer.error(&Report(&error).to_string());
            ExitCode::from(error.exit_code())
        }
    }
}

fn execute(inv: Invocation, printer: Arc<Printer>) -> Result<()> {
    if let Mode::Completion(shell) = inv.mode {
        let mut command = Arguments::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut command, "hoist", &mut out);
        printer.stdout(&String::from_utf8_lossy(&out));
        return Ok(());
    }
    if let Some(dir) = &inv.dir {
        std::env::set_current_dir(dir)
            .map_err(|e| Error::io(format!("cannot enter {}", dir.display()), e))?;
    }
    if let Mode::Init = inv.mode {
        return init(&printer);
    }
    if let Mode::Migrate {
        source,
        to,
        overwrite,
    } = &inv.mode
    {
        return crate::makefile::migrate_command(source.as_deref(), to.as_deref(), *overwrite);
    }
    let path = match &inv.taskfile {
        Some(path) => path.clone(),
        None => Taskfile::discover(
            &std::env::current_dir().map_err(|e| Error::io("current directory", e))?,
        )?,
    };
    let taskfile = Arc::new(Taskfile::load(&path)?);
    if let Mode::List { all, json } = inv.mode {
        listing::list(&taskfile, &printer, all, json);
        return Ok(());
    }
    let context = || {
        Session::new(
            taskfile.clone(),
            printer.clone(),
            inv.cli_vars.clone(),
            inv.cli_args.clone(),
        )
    };
    match &inv.mode {
        Mode::Graph(format) => {
            let roots = if inv.tasks.is_empty() {
                taskfile.tasks.keys().cloned().collect()
            } else {
                resolve_roots(&taskfile, &inv.tasks)?
            };
            let graph = Graph::build(&taskfile, &roots)?;
            printer.stdout(&match format {
                GraphFormat::Mermaid => graph.mermaid(),
                GraphFormat::Dot => graph.dot(),
            });
            Ok(())
        }
        Mode::Vars { json } => {
            let task = if inv.tasks.is_empty() {
                None
            } else {
                resolve_roots(&taskfile, &inv.tasks)?.into_iter().next()
            };
            listing::vars(&context()?, &printer, task.as_deref(), *json)
        }
        Mode::Summary => {
            listing::summary(&taskfile, &printer, &resolve_roots(&taskfile, &inv.tasks)?);
            Ok(())
        }
        Mode::Run(flags) => {
            let roots = resolve_roots(&taskfile, &inv.tasks)?;
            run_tasks(context()?, flags, roots, &printer)
        }
        Mode::Completion(_) | Mode::Init | Mode::Migrate { .. } | Mode::List { .. } => {
            unreachable!("handled above")
        }
    }
}

fn run_tasks(
    ctx: Arc<Session>,
    flags: &RunFlags,
    roots: Vec<String>,
    printer: &Printer,
) -> Result<()> {
    let graph = Graph::build(&ctx.taskfile, &roots)?;
    let output = flags
        .output
        .or_else(|| file_output(&ctx.taskfile))
        .unwrap_or(match printer.ci {
            CiKind::GithubActions | CiKind::GitlabCi => OutputMode::Group,
            _ => OutputMode::Interleaved,
        });
    let options = Options {
        dry: flags.dry,
        force: flags.force,
        silent: printer.silent,
        parallel: flags.parallel,
        // A dry run prints in one fixed order and needs no CPU count (which
        // means reading cgroup limits through /proc/self/mountinfo).
        concurrency: match (flags.concurrency, flags.dry) {
            (Some(concurrency), _) => concurrency,
            (None, true) => 1,
            (None, false) => num_cpus::get(),
        },
        output,
    };
    // One thread drives everything: commands are child processes and the engine
    // is I/O, so parallel tasks need no worker threads (and start faster).
    // What blocks (sh: vars, git, hashing) goes to tokio's blocking pool.
    let mut builder = tokio::runtime::Builder::new_current_thread();
    match options.dry {
        // A dry run starts no command and talks to no engine: no I/O driver
        // (an epoll instance) and no signal pipe to set up and tear down.
        true => builder.enable_time(),
        false => builder.enable_all(),
    };
    let runtime = builder
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e))?;
    runtime.block_on(async move {
        let dry = options.dry;
        let runner = Runner::new(ctx, options);
        // A dry run starts no command: it has nothing to forward a signal to.
        if !dry {
            spawn_signal_forwarding(&runner);
            crate::exec::kill_on_panic(runner.processes());
        }
        runner.run(roots, &graph).await
    })
}

/// Task names as canonical names; `default` when none is given.
fn resolve_roots(taskfile: &Taskfile, tasks: &[String]) -> Result<Vec<String>> {
    let requested: Vec<String> = if tasks.is_empty() {
        vec!["default".to_owned()]
    } else {
        tasks.to_vec()
    };
    requested
        .iter()
        .map(|name| match taskfile.find(name) {
            // As in go-task: other tasks call an internal task, people do not.
            Some((canonical, task)) if task.value.internal => Err(Error::Usage(format!(
                "task `{canonical}` is internal: other tasks can call it, the command line cannot"
            ))),
            Some((canonical, _)) => Ok(canonical.to_owned()),
            None if tasks.is_empty() => Err(Error::Usage(
                "no task given and no `default` task: name one (`hoist --list-all` shows them)"
                    .into(),
            )),
            None => Err(taskfile.unknown_task(name)),
        })
        .collect()
}

fn file_output(taskfile: &Taskfile) -> Option<OutputMode> {
    let text = taskfile.output.as_ref()?;
    OutputMode::from_str(&text.value, true).ok()
}

/// Ctrl-C / SIGTERM reach every running command's process group; a second
/// signal ends hoist at once.
fn spawn_signal_forwarding(runner: &Arc<Runner>) {
    use tokio::signal::unix::{signal, SignalKind};
    let runner = runner.clone();
    // Registered here, before any command starts, so no early signal is lost.
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let sig = tokio::select! {
                _ = int.recv() => nix::sys::signal::Signal::SIGINT,
                _ = term.recv() => nix::sys::signal::Signal::SIGTERM,
            };
            seen += 1;
            if seen > 1 {
                runner.interrupt(nix::sys::signal::Signal::SIGKILL);
                std::process::exit(i32::from(exit::INTERRUPTED));
            }
            runner.interrupt(sig);
        }
    });
}

fn init(printer: &Printer) -> Result<()> {
    let dir = std::env::current_dir().map_err(|e| Error::io("current directory", e))?;
    let report = crate::init::init(&dir)?;
    for file in report.created {
        printer.stdout(&format!("created {file}\n"));
    }
    for file in report.skipped {
        printer.stdout(&format!("skipped {file}: it exists\n"));
    }
    Ok(())
}
