//! Go's text/template, as go-task uses it to render Taskfiles: the syntax of
//! Go 1.24 (`break`/`continue`, ranging over ints, `else with`), Go's
//! builtins, slim-sprig's functions and go-task's own (`OS`, `splitArgs`,
//! `shellQuote`, `toYaml`, ...).
//!
//! Parse once, execute many:
//!
//! ```ignore
//! let t = Template::parse("{{.NAME | upper}}")?;
//! let out = t.execute(&data, &SystemHost)?;
//! ```
//!
//! Output follows go-task, not bare text/template, in one respect: a missing
//! value renders as nothing (go-task removes Go's `<no value>`).
//!
//! Nothing here touches the outside world except through [`Host`], which
//! answers the few functions that need the environment (`env`, `now`,
//! `OS`, `numCPU`, ...).
//!
//! testdata/cases.jsonl holds outputs recorded from go-task 3.54
//! (`record_cases.sh` regenerates it); the unit tests replay them. Known
//! differences from go-task:
//! - One integer type: sprig's int64 results (`add`, `div`, ...) print
//!   their type as `int`, and Go's "expected int; got int64" errors and
//!   sprig's `duration` ignoring plain ints do not happen.
//! - Maps are values: `set $m "k" v` updates `$m`, but not other
//!   variables holding the same map, nor a map reached as `.FIELD`.
//! - No complex numbers; template recursion stops at depth 100 (Go:
//!   100000) and execution at 512 KiB of native stack.
//! - Time zones: local time is UTC or a fixed `TZ` offset (no zone
//!   database); `dateInZone` knows only "UTC" and "Local", other names
//!   fall back to UTC as sprig does for unknown zones.
//! - Not provided (a parse error like any unknown function): `toDate`,
//!   `mustToDate`, `dateModify` and its aliases, `durationRound`,
//!   `getHostByName`.
//! - Syntax errors of `fromJson`/`fromYaml`/regex patterns are worded by
//!   the Rust parsers; `spew` approximates go-spew's layout.

// Pedantic lints that do not fit a port of Go's text/template: the parser's
// and evaluator's dispatches over Go's node kinds and printf verbs are long
// and share arms by nature; hash constants are written as the standards print
// them; every template function has the one fallible signature Go's have; and
// the formatting code keeps Go's one-letter names for verbs and flags.
#![allow(
    clippy::too_many_lines,
    clippy::match_same_arms,
    clippy::unreadable_literal,
    clippy::unnecessary_wraps,
    clippy::many_single_char_names
)]
#![allow(dead_code)] // Some of sprig's helpers are kept for functions not wired yet.

mod encode;
mod exec;
mod funcs;
mod gofmt;
mod gotime;
mod hash;
mod jinja;
mod parse;
mod paths;
mod shell;
mod value;

#[cfg(test)]
mod tests;

pub(crate) use value::{Time, Value};

use std::fmt;

/// A parsed template.
pub(crate) struct Template {
    source: Box<str>,
    tree: parse::Tree,
}

/// A syntax error, reported as Go does: `template: :LINE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// Byte offset in the source of the token the error was found at.
    pub offset: usize,
    /// 1-based line of that token.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template: :{}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// An execution error, reported as Go does:
/// `template: :LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecError {
    /// Byte offset in the source of the node being evaluated.
    pub offset: usize,
    /// 1-based line and 0-based byte column of that offset.
    pub line: usize,
    pub column: usize,
    /// The template name (`define`d name, or empty for the main one).
    pub name: String,
    /// The node, printed as Go prints it.
    pub context: String,
    pub message: String,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "template: :{}:{}: executing {} at <{}>: {}",
            self.line,
            self.column,
            gofmt::quote(&self.name),
            self.context,
            self.message
        )
    }
}

impl std::error::Error for ExecError {}

/// What template functions need from outside.
pub(crate) trait Host {
    /// `env "NAME"` (empty when unset).
    fn env(&self, name: &str) -> Option<String>;
    /// `now`, in local time.
    fn now(&self) -> Time;
    /// The UTC offset in seconds and the zone abbreviation in force at a
    /// Unix time, for showing times in local time (`date`).
    fn local_zone(&self, unix: i64) -> (i32, String);
    /// Go's GOOS (`linux`, `darwin`, `windows`, ...).
    fn os(&self) -> &str {
        go_os()
    }
    /// Go's GOARCH (`amd64`, `arm64`, ...).
    fn arch(&self) -> &str {
        go_arch()
    }
    fn num_cpu(&self) -> usize;
    /// The working directory, for `absPath`.
    fn cwd(&self) -> Option<String>;
    /// A random number, for `randInt`, `randIntN` and `uuid`.
    fn random(&self) -> u64;
}

/// Go's name for the operating system this was built for.
pub(crate) fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// Go's name for the architecture this was built for.
pub(crate) fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// The real process environment and clock.
pub(crate) struct SystemHost;

impl Host for SystemHost {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn now(&self) -> Time {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let unix = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let (offset, zone) = self.local_zone(unix);
        Time {
            unix,
            nanos: d.subsec_nanos(),
            offset,
            zone,
        }
    }

    fn local_zone(&self, _unix: i64) -> (i32, String) {
        // Local time is UTC unless TZ says otherwise in a fixed-offset form
        // we can read without the zone database.
        match std::env::var("TZ").ok().as_deref().and_then(fixed_tz) {
            Some(z) => z,
            None => (0, "UTC".to_string()),
        }
    }

    fn num_cpu(&self) -> usize {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    }

    fn cwd(&self) -> Option<String> {
        std::env::current_dir()
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }

    fn random(&self) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        h.finish()
    }
}

/// `TZ=UTC`, `TZ=UTC0`, `TZ=<abbr><offset>` (POSIX: west positive).
fn fixed_tz(tz: &str) -> Option<(i32, String)> {
    let tz = tz.strip_prefix(':').unwrap_or(tz);
    if tz.is_empty() || tz == "UTC" || tz == "Etc/UTC" || tz == "UTC0" || tz == "GMT" {
        return Some((0, "UTC".to_string()));
    }
    let name_len = tz.bytes().take_while(u8::is_ascii_alphabetic).count();
    if name_len < 3 || name_len == tz.len() {
        return None;
    }
    let (name, off) = tz.split_at(name_len);
    let (sign, digits) = match off.as_bytes()[0] {
        b'-' => (1, &off[1..]),
        b'+' => (-1, &off[1..]),
        _ => (-1, off),
    };
    let mut parts = digits.split(':');
    let h: i32 = parts.next()?.parse().ok()?;
    let m: i32 = parts.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    if parts.next().is_some() || h > 24 || m > 59 {
        return None;
    }
    Some((sign * (h * 3600 + m * 60), name.to_string()))
}

impl Template {
    /// Parses a template. Linear in the source; compiles no regexes.
    pub(crate) fn parse(source: &str) -> Result<Template, ParseError> {
        let tree = parse::parse(source)?;
        Ok(Template {
            source: source.into(),
            tree,
        })
    }

    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Renders with `data` as dot, the way go-task does (a missing value
    /// renders as nothing).
    pub(crate) fn execute(&self, data: &Value, host: &dyn Host) -> Result<String, ExecError> {
        let out = exec::execute(self, data, host)?;
        Ok(if out.contains(NO_VALUE) {
            out.replace(NO_VALUE, "")
        } else {
            out
        })
    }

    /// Evaluates a template that is a single action and returns its value
    /// instead of printing it (go-task's `ref:`). An empty template is nil.
    pub(crate) fn resolve(&self, data: &Value, host: &dyn Host) -> Result<Value, ExecError> {
        exec::resolve(self, data, host)
    }
}

/// What Go prints for a missing value; go-task erases it from the output.
const NO_VALUE: &str = "<no value>";

/// True when a string needs rendering at all (go-task skips those without
/// `{{`).
pub(crate) fn is_template(s: &str) -> bool {
    s.contains("{{")
}

/// A word quoted for a POSIX shell, as go-task's `shellQuote` quotes it.
pub(crate) fn shell_quote(word: &str) -> String {
    shell::quote(word).unwrap_or_else(|_| format!("'{}'", word.replace('\'', "'\\''")))
}
pub(crate) use jinja::to_minijinja;
