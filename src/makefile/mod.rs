//! `hoist --migrate Makefile`: a GNU Makefile written as the equivalent
//! native `hoist.yml` ([`parse`] reads make's syntax, [`expand`] turns
//! `$(...)` into minijinja, [`translate`] writes the file). With no file
//! named, a go-task Taskfile found here or above wins, as before; a
//! Makefile in the current directory is the fallback.

mod expand;
mod parse;
mod translate;

use crate::error::{Error, Result};
use crate::source::Origin;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The names make itself looks for, in its order.
const FILE_NAMES: &[&str] = &["GNUmakefile", "makefile", "Makefile"];

/// Whether `path` is a Makefile: by its name, else by its content (a
/// go-task file has `tasks:` at its top level; a Makefile has rules with
/// tab-indented recipes, `.PHONY`, or make's assignments).
pub(crate) fn is_makefile(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if FILE_NAMES.contains(&name)
        || Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mk"))
    {
        return true;
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    if text
        .lines()
        .any(|l| l.starts_with("tasks:") || l.starts_with("version:"))
    {
        return false;
    }
    text.lines().any(|l| {
        l.starts_with('\t') && !l.trim().is_empty()
            || l.starts_with(".PHONY")
            || [":=", "?=", "+="].iter().any(|op| l.contains(op))
    })
}

/// The Makefile make would read in `dir`.
fn file_in(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// `hoist --migrate [FILE] [--to FILE] [--force]`: a Makefile when FILE is
/// one (or, with no FILE, when no Taskfile is found and the current
/// directory has a Makefile); the go-task migration otherwise.
pub(crate) fn migrate_command(
    source: Option<&Path>,
    to: Option<&Path>,
    overwrite: bool,
) -> Result<()> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("current directory", e))?;
    let makefile = match source {
        Some(dir) if dir.is_dir() => {
            file_in(dir).filter(|_| crate::gotask::discover_in(dir).is_none())
        }
        Some(path) => Some(path.to_path_buf()).filter(|p| is_makefile(p)),
        None => file_in(&cwd).filter(|_| crate::gotask::discover(&cwd).is_none()),
    };
    let Some(path) = makefile else {
        return crate::gotask::migrate_command(source, to, overwrite).map_err(|f| {
            let looked_here = source.is_none_or(Path::is_dir);
            if looked_here && f.code == crate::gotask::Code::TaskfileNotFound {
                Error::Usage(format!("{}, and no Makefile here", f.message))
            } else {
                Error::Usage(f.message)
            }
        });
    };
    let migration = migrate(&path)?;
    crate::gotask::deliver(&migration, &path, to, overwrite).map_err(|f| Error::Usage(f.message))
}

/// The hoist.yml for the Makefile at `path`.
fn migrate(path: &Path) -> Result<crate::gotask::migrate::Migration> {
    let bytes = std::fs::read(path).map_err(|source| Error::TaskfileRead {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let items = parse::parse(&text).map_err(|e| Error::Taskfile {
        origin: Origin::new(Arc::new(path.to_path_buf()), e.line as u32, 1),
        message: format!("cannot migrate this Makefile: {}", e.message),
        help: Some(
            "fix the line (make itself would refuse it), then run `hoist --migrate` again".into(),
        ),
    })?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(translate::translate(&name, &items))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Pieces of make syntax, for inputs that reach deep into the parser.
    fn makeish() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "\n",
            "\t",
            " ",
            "\\\n",
            ":",
            "::",
            "=",
            ":=",
            "?=",
            "+=",
            "!=",
            "$(",
            "${",
            ")",
            "}",
            "$$",
            "$@",
            "$<",
            "$^",
            "$*",
            "(",
            ",",
            ";",
            "|",
            "#",
            "##",
            "@",
            "-",
            "+",
            "%",
            "'",
            "\"",
            "{{",
            "{%",
            "a",
            "VAR",
            "shell ",
            "call ",
            "define x\n",
            "endef\n",
            "ifeq (a,b)\n",
            "endif\n",
            "export ",
            ".PHONY",
            "help",
            "docker build ",
            "docker push ",
            "--tag ",
            "x:y",
            "|| (",
            "&& false)",
            "include ",
            "\u{E000}0\u{E001}",
            "bin/app",
            ".SILENT",
            "\\#",
            "override ",
            ".DEFAULT_GOAL",
            "default",
            "MAKE",
            "VERSION",
            "git describe --tags --always",
        ]);
        prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
    }

    proptest! {
        /// Any text either parses and translates or is a parse error; nothing panics.
        #[test]
        fn migration_never_panics(text in prop_oneof![makeish(), "\\PC{0,200}"]) {
            if let Ok(items) = super::parse::parse(&text) {
                let migration = super::translate::translate("Makefile", &items);
                prop_assert!(migration.text.starts_with("# Migrated from Makefile"));
                // What it writes is a hoist.yml hoist loads.
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("hoist.yml");
                std::fs::write(&path, &migration.text).unwrap();
                if let Err(e) = crate::taskfile::Taskfile::load(&path) {
                    prop_assert!(false, "{}\n--- Makefile\n{text}\n--- hoist.yml\n{}", crate::error::Report(&e), migration.text);
                }
            }
        }
    }
}
