//! Where a value came from: file, line and column, shared by every diagnostic.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A position inside a task file. Lines and columns are 1-based; 0 means unknown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub file: Arc<PathBuf>,
    pub line: u32,
    pub column: u32,
}

impl Origin {
    pub(crate) fn new(file: Arc<PathBuf>, line: u32, column: u32) -> Self {
        Origin { file, line, column }
    }

    pub(crate) fn is_known(&self) -> bool {
        self.line > 0
    }

    /// The source line this origin points at, read again from disk (errors are rare,
    /// so we do not keep every file's text around for them).
    pub(crate) fn source_line(&self) -> Option<String> {
        if !self.is_known() {
            return None;
        }
        let text = std::fs::read_to_string(self.file.as_path()).ok()?;
        text.lines().nth(self.line as usize - 1).map(str::to_owned)
    }

    /// `  --> hoist.yml:3:5`, the offending line and a caret under the column.
    pub(crate) fn snippet(&self) -> String {
        let mut out = format!("  --> {self}");
        if let Some(line) = self.source_line() {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad = " ".repeat(self.column.saturating_sub(1) as usize);
            out.push_str(&format!(
                "\n{pad} |\n{number} | {line}\n{pad} | {caret_pad}^"
            ));
        }
        out
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = display_path(self.file.as_path());
        if self.is_known() {
            write!(f, "{}:{}:{}", file, self.line, self.column)
        } else {
            write!(f, "{file}")
        }
    }
}

/// Paths relative to the working directory read better in messages.
pub(crate) fn display_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir() {
        if let Ok(rel) = path.strip_prefix(&cwd) {
            return rel.display().to_string();
        }
    }
    path.display().to_string()
}
