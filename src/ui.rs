//! The printer: owns every decision about quiet/verbose, colour, progress bars
//! and CI log groups. Nothing else in hoist writes to stdout or stderr directly.

mod image_progress;

pub use image_progress::ImageProgress;

use indicatif::MultiProgress;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Which CI system we run under, for its collapsible log groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiKind {
    None,
    GithubActions,
    GitlabCi,
    Other,
}

impl CiKind {
    pub fn detect() -> Self {
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

pub struct Printer {
    pub silent: bool,
    pub verbose: bool,
    pub color: bool,
    /// stderr is a terminal and we are not in CI: progress bars are allowed.
    pub interactive: bool,
    pub ci: CiKind,
    multi: Option<MultiProgress>,
    // One lock for both streams so lines of parallel tasks never interleave mid-line.
    lock: Mutex<()>,
}

impl Printer {
    pub fn new(silent: bool, verbose: bool, color: ColorChoice) -> Self {
        let ci = CiKind::detect();
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stderr_tty && !no_color && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        let interactive = stderr_tty && ci == CiKind::None;
        Printer {
            silent,
            verbose,
            color,
            interactive,
            ci,
            multi: if interactive && !silent {
                Some(MultiProgress::new())
            } else {
                None
            },
            lock: Mutex::new(()),
        }
    }

    /// A printer for tests and machine output: no colour, no bars.
    pub fn plain() -> Self {
        Printer {
            silent: false,
            verbose: false,
            color: false,
            interactive: false,
            ci: CiKind::None,
            multi: None,
            lock: Mutex::new(()),
        }
    }

    /// Progress bars live here; `None` when output is not an interactive terminal.
    pub fn multi_progress(&self) -> Option<&MultiProgress> {
        self.multi.as_ref()
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn write_err(&self, text: &str) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match &self.multi {
            // Print above the bars instead of tearing them.
            Some(multi) if !multi.is_hidden() => {
                let _ = multi.println(text);
            }
            _ => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{text}");
            }
        }
    }

    /// A line of hoist's own narration (`hoist: [task] cmd`), suppressed by --silent.
    pub fn status(&self, task: &str, text: &str) {
        if self.silent {
            return;
        }
        self.write_err(&self.paint("32", &format!("hoist: [{task}] {text}")));
    }

    /// Narration only shown with --verbose.
    pub fn verbose(&self, text: &str) {
        if self.verbose && !self.silent {
            self.write_err(&self.paint("2", &format!("hoist: {text}")));
        }
    }

    pub fn warn(&self, text: &str) {
        if !self.silent {
            self.write_err(&format!("{}: {text}", self.paint("33", "warning")));
        }
    }

    /// Errors are always printed, even with --silent.
    pub fn error(&self, rendered: &str) {
        let text = match rendered.strip_prefix("error:") {
            Some(rest) if self.color => format!("{}{rest}", self.paint("1;31", "error:")),
            _ => rendered.to_owned(),
        };
        self.write_err(&text);
    }

    /// Output lines of commands, whole lines only.
    pub fn out_line(&self, line: &str, to_stderr: bool) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if to_stderr {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    }

    /// Result output (listings, --vars, --dry plans): always on stdout.
    pub fn stdout(&self, text: &str) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Opens a collapsible group in CI logs (GitHub Actions, GitLab CI).
    pub fn group_start(&self, name: &str) {
        match self.ci {
            CiKind::GithubActions => self.out_line(&format!("::group::{name}"), false),
            CiKind::GitlabCi => {
                let id = section_id(name);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                // GitLab's section markers are the one place control codes are required.
                self.out_line(
                    &format!("\x1b[0Ksection_start:{now}:{id}[collapsed=false]\r\x1b[0K{name}"),
                    false,
                )
            }
            _ => {}
        }
    }

    pub fn group_end(&self, name: &str) {
        match self.ci {
            CiKind::GithubActions => self.out_line("::endgroup::", false),
            CiKind::GitlabCi => {
                let id = section_id(name);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                self.out_line(&format!("\x1b[0Ksection_end:{now}:{id}\r\x1b[0K"), false)
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
