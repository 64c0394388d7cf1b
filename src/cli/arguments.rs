//! The raw command line, as clap parses it. Nothing here is validated
//! beyond clap's own checks: [`super::invocation`] resolves it.

use crate::exec::OutputMode;
use crate::ui::ColorChoice;
use clap::{Parser, ValueEnum};
use std::path::PathBuf;

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
pub(super) struct Arguments {
    /// Tasks to run, and NAME=VALUE variables.
    #[arg(value_name = "TASK|NAME=VALUE")]
    pub targets: Vec<String>,

    /// Passed to tasks as the `CLI_ARGS` variable.
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

    /// When to use colour (`NO_COLOR` is honoured by `auto`).
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

    /// Translate a go-task Taskfile or a Makefile (the one found here, or
    /// FILE) into the equivalent hoist.yml, printed on stdout; what stays
    /// untranslated is listed on stderr.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = ".")]
    pub migrate: Option<PathBuf>,

    /// With --migrate: write to FILE instead of stdout (an existing FILE only
    /// with --force).
    #[arg(long, value_name = "FILE", requires = "migrate")]
    pub to: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum GraphFormat {
    Mermaid,
    Dot,
}
