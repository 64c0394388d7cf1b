//! The command line: arguments in two phases (raw flags, then a resolved
//! invocation), the listing/introspection modes, and `run`, the entry point.

use crate::error::{exit, Error, Report, Result};
use crate::exec::OutputMode;
use crate::graph::Graph;
use crate::runner::{Options, Runner};
use crate::taskfile::Taskfile;
use crate::ui::{CiKind, ColorChoice, Printer};
use crate::vars::Context;
use clap::{CommandFactory, Parser, ValueEnum};
use indexmap::IndexMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Flags match go-task's where they overlap, so scripts can switch.
#[derive(Debug, Parser)]
#[command(
    name = "hoist",
    version,
    about = "A build task runner for Go-service container pipelines",
    override_usage = "hoist [OPTIONS] [TASK...] [NAME=VALUE...] [-- ARGS...]",
    after_help = "With no task, runs `default`. NAME=VALUE sets a variable for the whole run; \
                  what follows `--` is available as CLI_ARGS."
)]
pub struct Arguments {
    /// Tasks to run, and NAME=VALUE variables.
    #[arg(value_name = "TASK|NAME=VALUE")]
    pub targets: Vec<String>,

    /// Passed to tasks as the CLI_ARGS variable.
    #[arg(last = true, value_name = "ARGS")]
    pub cli_args: Vec<String>,

    /// List tasks that have a description.
    #[arg(short = 'l', long)]
    pub list: bool,

    /// List all tasks, with or without a description.
    #[arg(short = 'a', long = "list-all")]
    pub list_all: bool,

    /// Print what would run, fully rendered, and run nothing.
    #[arg(short = 'n', long)]
    pub dry: bool,

    /// Run tasks even when they are up to date.
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Print only errors and the commands' own output.
    #[arg(short = 's', long)]
    pub silent: bool,

    /// Say why tasks run or are skipped.
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Run from this directory (the task file is searched from here).
    #[arg(short = 'd', long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Use this task file.
    #[arg(short = 't', long, value_name = "FILE")]
    pub taskfile: Option<PathBuf>,

    /// Run the given tasks in parallel.
    #[arg(short = 'p', long)]
    pub parallel: bool,

    /// How many commands may run at once (default: number of CPUs).
    #[arg(short = 'C', long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Show a task's summary instead of running it.
    #[arg(long)]
    pub summary: bool,

    /// How command output is shown.
    #[arg(short = 'o', long, value_enum, value_name = "MODE")]
    pub output: Option<OutputMode>,

    /// When to use colour (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print the resolved variables (of a task, if one is given).
    #[arg(long)]
    pub vars: bool,

    /// With --vars or --list: machine-readable JSON.
    #[arg(long)]
    pub json: bool,

    /// Print the dependency graph of the given tasks (all when none).
    #[arg(long, value_enum, value_name = "FORMAT", num_args = 0..=1, default_missing_value = "mermaid")]
    pub graph: Option<GraphFormat>,

    /// Print a shell completion script.
    #[arg(long, value_enum, value_name = "SHELL")]
    pub completion: Option<clap_complete::Shell>,

    /// Write a starter hoist.yml in the current directory.
    #[arg(long)]
    pub init: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

/// The entry point: parses `args`, does the work, returns the exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
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
    match execute(arguments, printer.clone()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A failing command has already shown its output; say which and pass its code on.
            printer.error(&Report(&error).to_string());
            ExitCode::from(error.exit_code())
        }
    }
}

/// Splits positionals into task names and NAME=VALUE variables.
fn split_targets(targets: &[String]) -> (Vec<String>, IndexMap<String, String>) {
    let mut tasks = Vec::new();
    let mut vars = IndexMap::new();
    for target in targets {
        match target.split_once('=') {
            Some((name, value)) if is_identifier(name) => {
                vars.insert(name.to_owned(), value.to_owned());
            }
            _ => tasks.push(target.clone()),
        }
    }
    (tasks, vars)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn execute(arguments: Arguments, printer: Arc<Printer>) -> Result<()> {
    if let Some(shell) = arguments.completion {
        let mut command = Arguments::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut command, "hoist", &mut out);
        printer.stdout(&String::from_utf8_lossy(&out));
        return Ok(());
    }
    if let Some(dir) = &arguments.dir {
        std::env::set_current_dir(dir)
            .map_err(|e| Error::io(format!("cannot enter {}", dir.display()), e))?;
    }
    if arguments.init {
        return init(&printer);
    }
    let path = match &arguments.taskfile {
        Some(path) => path.clone(),
        None => Taskfile::discover(
            &std::env::current_dir().map_err(|e| Error::io("current directory", e))?,
        )?,
    };
    let taskfile = Arc::new(Taskfile::load(&path)?);
    let (tasks, cli_vars) = split_targets(&arguments.targets);

    if arguments.list || arguments.list_all {
        return crate::cli::listing::list(&taskfile, &printer, arguments.list_all, arguments.json);
    }

    let ctx = Context::new(
        taskfile.clone(),
        printer.clone(),
        cli_vars,
        arguments.cli_args.join(" "),
    )?;
    if let Some(format) = arguments.graph {
        let roots = if tasks.is_empty() {
            taskfile.tasks.keys().cloned().collect()
        } else {
            resolve_roots(&taskfile, &tasks)?
        };
        let graph = Graph::build(&taskfile, &roots)?;
        printer.stdout(&match format {
            GraphFormat::Mermaid => graph.mermaid(),
            GraphFormat::Dot => graph.dot(),
        });
        return Ok(());
    }
    if arguments.vars {
        let task = match tasks.is_empty() {
            true => None,
            false => resolve_roots(&taskfile, &tasks)?.into_iter().next(),
        };
        return listing::vars(&ctx, &printer, task.as_deref(), arguments.json);
    }
    let roots = resolve_roots(&taskfile, &tasks)?;
    if arguments.summary {
        return listing::summary(&taskfile, &printer, &roots);
    }

    Graph::build(&taskfile, &roots)?;
    let output = arguments
        .output
        .or_else(|| file_output(&taskfile))
        .unwrap_or(match printer.ci {
            CiKind::GithubActions | CiKind::GitlabCi => OutputMode::Group,
            _ => OutputMode::Interleaved,
        });
    let options = Options {
        dry: arguments.dry,
        force: arguments.force,
        silent: arguments.silent,
        parallel: arguments.parallel,
        // A dry run prints in one fixed order and needs no CPU count (which
        // means reading cgroup limits through /proc/self/mountinfo).
        concurrency: match (arguments.concurrency, arguments.dry) {
            (Some(concurrency), _) => concurrency,
            (None, true) => 1,
            (None, false) => num_cpus::get(),
        },
        output,
    };
    // One thread drives everything: commands are child processes and the engine
    // is I/O, so parallel tasks need no worker threads (and start faster).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e))?;
    runtime.block_on(async move {
        let dry = options.dry;
        let runner = Runner::new(ctx, options);
        // A dry run starts no command: it has nothing to forward a signal to.
        if !dry {
            spawn_signal_forwarding(&runner);
        }
        runner.run(roots).await
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
                std::process::exit(exit::INTERRUPTED as i32);
            }
            runner.interrupt(sig);
        }
    });
}

fn init(printer: &Printer) -> Result<()> {
    let path = PathBuf::from("hoist.yml");
    if path.exists() {
        return Err(Error::Usage(
            "hoist.yml already exists here; not overwriting it".into(),
        ));
    }
    std::fs::write(&path, include_str!("../../templates/hoist.yml"))
        .map_err(|e| Error::io("cannot write hoist.yml", e))?;
    printer.stdout("created hoist.yml\n");
    Ok(())
}

pub mod listing;
