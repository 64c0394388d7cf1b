//! The printer: owns every decision about quiet/verbose, colour, progress bars
//! and CI log groups. Nothing else in hoist writes to stdout or stderr directly.

mod image_progress;

pub(crate) use image_progress::ImageProgress;

use indicatif::MultiProgress;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether a stream gets colour: `--color always|never` decide alone;
    /// `auto` honours `NO_COLOR`, then `CLICOLOR_FORCE` (colour even when not a
    /// terminal) and CLICOLOR=0, else colours a terminal unless TERM=dumb.
    pub(crate) fn enabled_for(self, is_terminal: bool) -> bool {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if var("NO_COLOR").is_some() => false,
            ColorChoice::Auto if var("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
            ColorChoice::Auto if var("CLICOLOR").is_some_and(|v| v == "0") => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// Writes `text` and its newline in one `write`: stderr is unbuffered, and
/// `writeln!` would hand the line and the newline to the kernel separately
/// (two system calls, and a line that another process can split).
fn write_line(out: &mut impl Write, text: &str) {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    let _ = out.write_all(line.as_bytes());
}

fn paint(enabled: bool, code: &str, text: &str) -> String {
    if enabled {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Which CI system we run under, for its collapsible log groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CiKind {
    None,
    GithubActions,
    GitlabCi,
    Other,
}

impl CiKind {
    pub(crate) fn detect() -> Self {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if set("GITHUB_ACTIONS") {
            CiKind::GithubActions
        } else if set("GITLAB_CI") {
            CiKind::GitlabCi
        } else if set("CI") {
            CiKind::Other
        } else {
            CiKind::None
        }
    }
}

pub(crate) struct Printer {
    pub silent: bool,
    pub verbose: bool,
    /// Colour in result output on stdout (listings, `--vars`).
    pub color_out: bool,
    /// Colour in hoist's narration, warnings and errors on stderr.
    pub color_err: bool,
    pub ci: CiKind,
    multi: Option<MultiProgress>,
    // One lock for both streams so lines of parallel tasks never interleave mid-line.
    lock: Arc<Mutex<()>>,
}

impl Printer {
    pub(crate) fn new(silent: bool, verbose: bool, color: ColorChoice) -> Self {
        let ci = CiKind::detect();
        let stderr_tty = std::io::stderr().is_terminal();
        // Each stream on its own: `hoist --list > file` on a terminal writes no
        // colour codes into the file, and `hoist 2> log` none into the log.
        let color_out = color.enabled_for(std::io::stdout().is_terminal());
        let color_err = color.enabled_for(stderr_tty);
        let interactive = stderr_tty && ci == CiKind::None;
        Printer {
            silent,
            verbose,
            color_out,
            color_err,
            ci,
            multi: if interactive && !silent {
                Some(MultiProgress::new())
            } else {
                None
            },
            lock: Arc::default(),
        }
    }

    /// A printer for tests: no colour, no bars.
    #[cfg(test)]
    pub(crate) fn plain() -> Self {
        Printer {
            silent: false,
            verbose: false,
            color_out: false,
            color_err: false,
            ci: CiKind::None,
            multi: None,
            lock: Arc::default(),
        }
    }

    /// A printer for a `silent: true` image step: no narration, warnings or
    /// progress bars; errors still print. Shares this printer's lock.
    pub(crate) fn silenced(&self) -> Printer {
        Printer {
            silent: true,
            verbose: false,
            color_out: self.color_out,
            color_err: self.color_err,
            ci: self.ci,
            multi: None,
            lock: self.lock.clone(),
        }
    }

    /// Progress bars live here; `None` when output is not an interactive terminal.
    pub(crate) fn multi_progress(&self) -> Option<&MultiProgress> {
        self.multi.as_ref()
    }

    /// Paints text bound for stderr.
    fn paint(&self, code: &str, text: &str) -> String {
        paint(self.color_err, code, text)
    }

    fn write_err(&self, text: &str) {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &self.multi {
            // Print above the bars instead of tearing them.
            Some(multi) if !multi.is_hidden() => {
                let _ = multi.println(text);
            }
            _ => write_line(&mut std::io::stderr().lock(), text),
        }
    }

    /// A line of hoist's own narration (`hoist: [task] cmd`), suppressed by --silent.
    pub(crate) fn status(&self, task: &str, text: &str) {
        if self.silent {
            return;
        }
        self.write_err(&self.paint("32", &format!("hoist: [{task}] {text}")));
    }

    /// Something hoist did on its own that the user should know of
    /// (`hoist: [task] ...`, in yellow); suppressed by --silent like warnings.
    pub(crate) fn notice(&self, task: &str, text: &str) {
        if !self.silent {
            self.write_err(&self.paint("33", &format!("hoist: [{task}] {text}")));
        }
    }

    /// Narration only shown with --verbose.
    pub(crate) fn verbose(&self, text: &str) {
        if self.verbose && !self.silent {
            self.write_err(&self.paint("2", &format!("hoist: {text}")));
        }
    }

    pub(crate) fn warn(&self, text: &str) {
        if !self.silent {
            self.write_err(&format!("{}: {text}", self.paint("33", "warning")));
        }
    }

    /// Errors are always printed, even with --silent.
    pub(crate) fn error(&self, rendered: &str) {
        let text = match rendered.strip_prefix("error:") {
            Some(rest) if self.color_err => format!("{}{rest}", self.paint("1;31", "error:")),
            _ => rendered.to_owned(),
        };
        self.write_err(&text);
    }

    /// Output lines of commands, whole lines only.
    pub(crate) fn out_line(&self, line: &str, to_stderr: bool) {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if to_stderr {
            write_line(&mut std::io::stderr().lock(), line);
        } else {
            write_line(&mut std::io::stdout().lock(), line);
        }
    }

    /// Result output (listings, --vars, --dry plans): always on stdout.
    pub(crate) fn stdout(&self, text: &str) {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Bold text for result output on stdout.
    pub(crate) fn bold(&self, text: &str) -> String {
        paint(self.color_out, "1", text)
    }

    /// Dim text for result output on stdout.
    pub(crate) fn dim(&self, text: &str) -> String {
        paint(self.color_out, "2", text)
    }

    /// Opens a collapsible group in CI logs (GitHub Actions, GitLab CI). The
    /// markers go to stderr, which both CIs read too: stdout then carries only
    /// what the commands print, so `VERSION=$(hoist version)` works in CI.
    pub(crate) fn group_start(&self, name: &str) {
        match self.ci {
            CiKind::GithubActions => self.out_line(&format!("::group::{name}"), true),
            CiKind::GitlabCi => {
                let id = section_id(name);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                // GitLab's section markers are the one place control codes are required.
                self.out_line(
                    &format!("\x1b[0Ksection_start:{now}:{id}[collapsed=false]\r\x1b[0K{name}"),
                    true,
                );
            }
            _ => {}
        }
    }

    pub(crate) fn group_end(&self, name: &str) {
        match self.ci {
            CiKind::GithubActions => self.out_line("::endgroup::", true),
            CiKind::GitlabCi => {
                let id = section_id(name);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                self.out_line(&format!("\x1b[0Ksection_end:{now}:{id}\r\x1b[0K"), true);
            }
            _ => {}
        }
    }
}

fn section_id(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
