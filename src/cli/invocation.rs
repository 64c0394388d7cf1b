//! The second phase of the command line: one resolved [`Invocation`], with
//! conflicting flags rejected instead of one silently winning.

use super::arguments::{Arguments, GraphFormat};
use crate::error::{Error, Result};
use crate::exec::OutputMode;
use indexmap::IndexMap;
use std::path::PathBuf;

/// What hoist was asked to do.
#[derive(Debug)]
pub(super) enum Mode {
    Completion(clap_complete::Shell),
    Init,
    /// `--migrate [FILE] [--to FILE] [--force]` (a Taskfile or a Makefile).
    Migrate {
        source: Option<PathBuf>,
        to: Option<PathBuf>,
        overwrite: bool,
    },
    List {
        all: bool,
        json: bool,
    },
    Graph(GraphFormat),
    Vars {
        json: bool,
    },
    Summary,
    Run(RunFlags),
}

/// The flags that only mean something when tasks run.
#[derive(Debug, Default)]
pub(super) struct RunFlags {
    pub dry: bool,
    pub force: bool,
    pub parallel: bool,
    pub concurrency: Option<usize>,
    pub output: Option<OutputMode>,
}

/// One resolved command line.
#[derive(Debug)]
pub(super) struct Invocation {
    pub mode: Mode,
    /// `--dir`: entered before the task file is looked for.
    pub dir: Option<PathBuf>,
    pub taskfile: Option<PathBuf>,
    /// Task names as given (canonical names come with the task file).
    pub tasks: Vec<String>,
    pub cli_vars: IndexMap<String, String>,
    pub cli_args: String,
}

impl Invocation {
    pub(super) fn resolve(arguments: Arguments) -> Result<Invocation> {
        let (tasks, cli_vars) = split_targets(&arguments.targets);
        let mode = mode_of(&arguments)?;
        Ok(Invocation {
            mode,
            dir: arguments.dir,
            taskfile: arguments.taskfile,
            tasks,
            cli_vars,
            cli_args: arguments.cli_args.join(" "),
        })
    }
}

fn mode_of(a: &Arguments) -> Result<Mode> {
    // Each flag that picks a mode other than running tasks, by its name.
    let picked: Vec<&str> = [
        (a.completion.is_some(), "--completion"),
        (a.init, "--init"),
        (a.migrate.is_some(), "--migrate"),
        (a.list, "--list"),
        (a.list_all, "--list-all"),
        (a.graph.is_some(), "--graph"),
        (a.vars, "--vars"),
        (a.summary, "--summary"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    let mode = match picked.as_slice() {
        [] => Mode::Run(RunFlags {
            dry: a.dry,
            force: a.force,
            parallel: a.parallel,
            concurrency: a.concurrency,
            output: a.output,
        }),
        [one] => match *one {
            "--completion" => Mode::Completion(a.completion.expect("set")),
            "--init" => Mode::Init,
            "--migrate" => Mode::Migrate {
                source: a.migrate.clone(),
                to: a.to.clone(),
                overwrite: a.force,
            },
            "--list" | "--list-all" => Mode::List {
                all: a.list_all,
                json: a.json,
            },
            "--graph" => Mode::Graph(a.graph.expect("set")),
            "--vars" => Mode::Vars { json: a.json },
            _ => Mode::Summary,
        },
        // `--list --list-all` is go-task's way of saying "all".
        ["--list", "--list-all"] => Mode::List {
            all: true,
            json: a.json,
        },
        [first, second, ..] => {
            return Err(Error::Usage(format!(
                "{first} and {second} cannot be used together: pick one"
            )))
        }
    };
    // Flags that only mean something in some modes.
    let run_only = [
        (a.dry, "--dry"),
        // With --migrate, --force allows overwriting --to's file.
        (a.force && a.migrate.is_none(), "--force"),
        (a.parallel, "--parallel"),
        (a.concurrency.is_some(), "--concurrency"),
        (a.output.is_some(), "--output"),
    ];
    if let (Some(mode_flag), Some((_, flag))) =
        (picked.first(), run_only.iter().find(|(set, _)| *set))
    {
        return Err(Error::Usage(format!(
            "{flag} only applies when tasks run, not with {mode_flag}"
        )));
    }
    if a.json && !matches!(mode, Mode::List { .. } | Mode::Vars { .. }) {
        return Err(Error::Usage(
            "--json goes with --list, --list-all or --vars".into(),
        ));
    }
    Ok(mode)
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn resolve(args: &[&str]) -> Result<Invocation> {
        let arguments =
            Arguments::try_parse_from(std::iter::once("hoist").chain(args.iter().copied()))
                .expect("clap accepts these");
        Invocation::resolve(arguments)
    }

    #[test]
    fn conflicting_modes_are_rejected() {
        let err = resolve(&["--list", "--vars"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--list and --vars cannot be used together: pick one"
        );
        let err = resolve(&["--summary", "--dry", "x"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--dry only applies when tasks run, not with --summary"
        );
        assert!(resolve(&["--json", "x"]).is_err());
    }

    #[test]
    fn modes_and_targets() {
        let inv = resolve(&["build", "V=1", "--", "-x", "y"]).unwrap();
        assert!(matches!(inv.mode, Mode::Run(_)));
        assert_eq!(inv.tasks, ["build"]);
        assert_eq!(inv.cli_vars["V"], "1");
        assert_eq!(inv.cli_args, "-x y");
        assert!(matches!(
            resolve(&["--list", "--list-all"]).unwrap().mode,
            Mode::List { all: true, .. }
        ));
    }
}
