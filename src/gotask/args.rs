//! go-task's command line: its flags (with pflag's spellings: `-t FILE`,
//! `-tFILE`, `--taskfile=FILE`, `-sx`), task names, `NAME=value` variables,
//! and what follows `--` (`CLI_ARGS`).

use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Default, Clone)]
#[allow(clippy::struct_field_names)]
pub(crate) struct Args {
    pub list: bool,
    pub list_all: bool,
    pub json: bool,
    pub silent: bool,
    pub verbose: bool,
    pub exit_code: bool,
    pub yes: bool,
    pub parallel: bool,
    pub force: bool,
    pub dry: bool,
    pub summary: bool,
    pub status: bool,
    pub version: bool,
    pub help: bool,
    pub no_status: bool,
    pub interactive: bool,
    pub insecure: bool,
    pub dir: Option<PathBuf>,
    pub taskfile: Option<PathBuf>,
    pub output: Option<String>,
    pub group_begin: Option<String>,
    pub group_end: Option<String>,
    pub group_error_only: bool,
    pub sort: Option<String>,
    pub tasks: Vec<String>,
    pub vars: Vec<(String, String)>,
    pub cli_args: Vec<String>,
    /// How hoist was called (go-task's `TASK_EXE`).
    pub exe: String,
}

/// Flags that take a value.
const VALUED: &[(&str, Option<char>)] = &[
    ("dir", Some('d')),
    ("taskfile", Some('t')),
    ("output", Some('o')),
    ("output-group-begin", None),
    ("output-group-end", None),
    ("sort", None),
    ("concurrency", Some('C')),
    ("interval", Some('I')),
];

impl Args {
    pub(crate) fn parse(raw: &[OsString]) -> Result<Args, String> {
        let mut args = Args::default();
        let mut i = 0;
        while i < raw.len() {
            let arg = raw[i].to_string_lossy().into_owned();
            i += 1;
            if arg == "--" {
                args.cli_args = raw[i..]
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                break;
            }
            if let Some(long) = arg.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (long, None),
                };
                if VALUED.iter().any(|(n, _)| *n == name) {
                    let value = if let Some(v) = inline {
                        v
                    } else {
                        let v = raw
                            .get(i)
                            .ok_or_else(|| format!("flag needs an argument: --{name}"))?;
                        i += 1;
                        v.to_string_lossy().into_owned()
                    };
                    args.set_value(name, value);
                } else {
                    let on = match inline.as_deref() {
                        None | Some("true" | "1") => true,
                        Some("false" | "0") => false,
                        Some(v) => return Err(format!("invalid value {v:?} for --{name}")),
                    };
                    args.set_bool(name, on)?;
                }
            } else if arg.len() > 1 && arg.starts_with('-') {
                let chars: Vec<char> = arg[1..].chars().collect();
                let mut k = 0;
                while k < chars.len() {
                    let c = chars[k];
                    k += 1;
                    if let Some((name, _)) = VALUED.iter().find(|(_, s)| *s == Some(c)) {
                        let rest: String = chars[k..].iter().collect();
                        let value = if rest.is_empty() {
                            let v = raw
                                .get(i)
                                .ok_or_else(|| format!("flag needs an argument: -{c}"))?;
                            i += 1;
                            v.to_string_lossy().into_owned()
                        } else {
                            rest.strip_prefix('=').unwrap_or(&rest).to_owned()
                        };
                        args.set_value(name, value);
                        break;
                    }
                    let name = short_name(c)
                        .ok_or_else(|| format!("unknown shorthand flag: '{c}' in {arg}"))?;
                    args.set_bool(name, true)?;
                }
            } else if let Some((name, value)) = arg.split_once('=').filter(|(n, _)| is_var_name(n))
            {
                args.vars.push((name.to_owned(), value.to_owned()));
            } else {
                args.tasks.push(arg);
            }
        }
        Ok(args)
    }

    fn set_value(&mut self, name: &str, value: String) {
        match name {
            "dir" => self.dir = Some(PathBuf::from(value)),
            "taskfile" => self.taskfile = Some(PathBuf::from(value)),
            "output" => self.output = Some(value),
            "output-group-begin" => self.group_begin = Some(value),
            "output-group-end" => self.group_end = Some(value),
            "sort" => self.sort = Some(value),
            _ => {} // concurrency, interval: accepted, no effect here
        }
    }

    fn set_bool(&mut self, name: &str, on: bool) -> Result<(), String> {
        let flag = match name {
            "list" => &mut self.list,
            "list-all" => &mut self.list_all,
            "json" => &mut self.json,
            "silent" => &mut self.silent,
            "verbose" => &mut self.verbose,
            "exit-code" => &mut self.exit_code,
            "yes" => &mut self.yes,
            "parallel" => &mut self.parallel,
            "force" => &mut self.force,
            "dry" => &mut self.dry,
            "summary" => &mut self.summary,
            "status" => &mut self.status,
            "version" => &mut self.version,
            "help" => &mut self.help,
            "no-status" => &mut self.no_status,
            "interactive" => &mut self.interactive,
            "output-group-error-only" => &mut self.group_error_only,
            "insecure" => &mut self.insecure,
            // Accepted for scripts that pass them; they change nothing here.
            "color" | "failfast" | "offline" | "force-all" | "global" | "experiments"
            | "download" | "clear-cache" | "watch" | "init" | "completion" => {
                return if matches!(name, "watch" | "init" | "download" | "completion") {
                    Err(format!(
                        "--{name} is not supported in go-task mode (hoist --init scaffolds a hoist.yml)"
                    ))
                } else {
                    Ok(())
                };
            }
            other => return Err(format!("unknown flag: --{other}")),
        };
        *flag = on;
        Ok(())
    }
}

fn short_name(c: char) -> Option<&'static str> {
    Some(match c {
        'l' => "list",
        'a' => "list-all",
        'j' => "json",
        's' => "silent",
        'v' => "verbose",
        'x' => "exit-code",
        'y' => "yes",
        'p' => "parallel",
        'f' => "force",
        'n' => "dry",
        'h' => "help",
        'i' => "init",
        'w' => "watch",
        'F' => "failfast",
        'g' => "global",
        'c' => "color",
        _ => return None,
    })
}

fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// `-d/--dir` and `-t/--taskfile` as given, without parsing anything else
/// (to decide whether go-task mode applies before either parser runs).
pub(crate) fn location(args: &[OsString]) -> (Option<PathBuf>, Option<PathBuf>) {
    let mut dir = None;
    let mut taskfile = None;
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        i += 1;
        if arg == "--" {
            break;
        }
        let mut take = |long: &str, short: &str| -> Option<PathBuf> {
            if arg == format!("--{long}") || arg == format!("-{short}") {
                let v = args.get(i).map(PathBuf::from);
                i += 1;
                return v;
            }
            if let Some(v) = arg.strip_prefix(&format!("--{long}=")) {
                return Some(PathBuf::from(v));
            }
            if let Some(v) = arg.strip_prefix(&format!("-{short}")) {
                if !arg.starts_with("--") {
                    return Some(PathBuf::from(v.strip_prefix('=').unwrap_or(v)));
                }
            }
            None
        };
        if let Some(d) = take("dir", "d") {
            dir = Some(d);
        } else if let Some(t) = take("taskfile", "t") {
            taskfile = Some(t);
        }
    }
    (dir, taskfile)
}
