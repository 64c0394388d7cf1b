//! `hoist --init`: starter files from `templates/`. In a Go module, what the
//! founding tutorials teach (a multi-stage Dockerfile with BuildKit cache
//! mounts and a `FROM scratch` final stage, a restrictive `.dockerignore`, a
//! `hoist.yml` with the image and release tasks), filled with the module's
//! name; elsewhere a generic `hoist.yml`. Existing files are never
//! overwritten: they are listed as skipped.

use crate::error::{Error, Result};
use std::path::Path;

/// A Go module, as its `go.mod` names it.
#[derive(Debug, PartialEq, Eq)]
struct GoModule {
    /// `example.com/team/hello-svc`.
    path: String,
    /// The `go` directive (`1.19`), for the default builder image.
    go_version: String,
}

impl GoModule {
    fn read(dir: &Path) -> Option<GoModule> {
        let text = std::fs::read_to_string(dir.join("go.mod")).ok()?;
        let directive = |name: &str| {
            text.lines().find_map(|line| {
                let rest = line.trim().strip_prefix(name)?;
                rest.starts_with([' ', '\t'])
                    .then(|| rest.trim().trim_matches('"').to_owned())
            })
        };
        Some(GoModule {
            path: directive("module")?,
            go_version: directive("go").unwrap_or_else(|| "1".into()),
        })
    }

    /// The binary's and image's name: the module path's last element, in the
    /// characters an image repository allows.
    fn name(&self) -> String {
        let last = self.path.rsplit('/').next().unwrap_or(&self.path);
        // A major-version suffix (`/v2`) is not the name.
        let last = match self.path.rsplit('/').nth(1) {
            Some(before) if is_major_suffix(last) => before,
            _ => last,
        };
        let name: String = last
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if name.is_empty() {
            "app".into()
        } else {
            name.into()
        }
    }
}

fn is_major_suffix(element: &str) -> bool {
    element
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The files `--init` writes in `dir`, with their contents.
fn starter_files(dir: &Path) -> Vec<(&'static str, String)> {
    let Some(module) = GoModule::read(dir) else {
        return vec![(
            "hoist.yml",
            include_str!("../templates/hoist.yml").to_owned(),
        )];
    };
    let name = module.name();
    // `vendor/` is ignored unless the module vendors its dependencies.
    let vendor = if dir.join("vendor").is_dir() {
        ""
    } else {
        "vendor"
    };
    let fill = |template: &str| {
        template
            .replace("@MODULE@", &module.path)
            .replace("@NAME@", &name)
            .replace("@GO_VERSION@", &module.go_version)
            .replace(
                "@VENDOR@\n",
                if vendor.is_empty() { "" } else { "vendor\n" },
            )
    };
    vec![
        (
            "Dockerfile",
            fill(include_str!("../templates/go-service/Dockerfile")),
        ),
        (
            ".dockerignore",
            fill(include_str!("../templates/go-service/.dockerignore")),
        ),
        (
            "hoist.yml",
            fill(include_str!("../templates/go-service/hoist.yml")),
        ),
    ]
}

/// What `--init` did: the files it wrote and those it left alone.
#[derive(Debug, Default)]
pub(crate) struct InitReport {
    pub created: Vec<&'static str>,
    pub skipped: Vec<&'static str>,
}

/// Writes the starter files missing in `dir`. Every one of them existing
/// already is an error: nothing was done.
pub(crate) fn init(dir: &Path) -> Result<InitReport> {
    let mut report = InitReport::default();
    for (file, text) in starter_files(dir) {
        let path = dir.join(file);
        if path.exists() {
            report.skipped.push(file);
            continue;
        }
        std::fs::write(&path, text).map_err(|e| Error::io(format!("cannot write {file}"), e))?;
        report.created.push(file);
    }
    if report.created.is_empty() {
        return Err(Error::Usage(format!(
            "{} already exist{} here; not overwriting (remove a file to have it written again)",
            report.skipped.join(", "),
            if report.skipped.len() == 1 { "s" } else { "" }
        )));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str) -> GoModule {
        GoModule {
            path: path.into(),
            go_version: "1.19".into(),
        }
    }

    #[test]
    fn the_name_is_the_module_paths_last_element() {
        assert_eq!(module("example.com/team/hello-svc").name(), "hello-svc");
        assert_eq!(module("github.com/Org/My_Service/v2").name(), "my_service");
        assert_eq!(module("hello").name(), "hello");
        assert_eq!(module("example.com/x/Hello World!").name(), "hello-world");
    }

    #[test]
    fn go_mod_gives_the_module_and_go_version() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("go.mod"),
            "// comment\nmodule \"example.com/a/b\"\n\ngo 1.21\n\nrequire x v1\n",
        )
        .unwrap();
        assert_eq!(
            GoModule::read(dir.path()),
            Some(GoModule {
                path: "example.com/a/b".into(),
                go_version: "1.21".into()
            })
        );
    }
}
