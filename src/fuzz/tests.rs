//! The fuzz suites (proptest: cargo-fuzz needs a nightly toolchain), the
//! replay of the seed corpora in `fuzz/corpus/`, and the regression tests for
//! what fuzzing found.
//!
//! Each suite runs every case in a forked child with a timeout, so a hang or
//! a stack overflow fails the suite with the input instead of killing the
//! test binary. `PROPTEST_CASES` sets the number of cases per suite (the
//! default keeps the whole pass within seconds for CI; see scripts/test.sh
//! and scripts/fuzz.sh for the long pass).

use super::generate::{self, Input, Nesting, Place};
use super::CpuClock;
use crate::error::{Error, Report};
use crate::template::Engine;
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Cases per suite when `PROPTEST_CASES` is not set.
const DEFAULT_CASES: u32 = 64;
/// A case that takes longer than this is a hang: generous, for debug builds on
/// a loaded machine (the slowest real cases take a few seconds there).
const CASE_TIMEOUT_MS: u32 = 60_000;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        fork: true,
        timeout: CASE_TIMEOUT_MS,
        failure_persistence: None,
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

fn temp_file(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

const PATHS: &[&str] = &[
    "a",
    "a/b",
    "a/b/c.go",
    "Dockerfile",
    ".dockerignore",
    "vendor/keep/x",
    "node_modules/x/y",
    "README.md",
    "docs/a.md",
    ".git/config",
    "x/.hidden",
    "ü/é",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn taskfile_loader(input in generate::input()) {
        let (_dir, path) = temp_file("hoist.yml");
        super::taskfile(&path, &input.bytes());
    }

    #[test]
    fn template_engine(source in generate::template()) {
        super::template(&Engine::new(), &source);
    }

    #[test]
    fn template_environments_agree(source in generate::template()) {
        super::environments_agree(&Engine::new(), &source);
    }

    #[test]
    fn variable_scopes(
        yaml in prop_oneof![4 => generate::hoist_file(), 1 => generate::var_chain()],
        cli in proptest::collection::vec(("[A-Z]{1,3}", "[ -~]{0,8}"), 0..3),
        template in generate::template(),
    ) {
        let (_dir, path) = temp_file("hoist.yml");
        super::scopes(&path, &yaml, &cli, &template);
    }

    #[test]
    fn dockerignore_matching(
        text in generate::dockerignore_text(),
        paths in proptest::collection::vec(generate::path(), 0..8),
    ) {
        let mut all: Vec<&str> = paths.iter().map(String::as_str).collect();
        all.extend_from_slice(PATHS);
        super::dockerignore(&text, &all);
    }

    #[test]
    fn tag_filter(value in generate::tag_input()) {
        super::tag(&Engine::new(), &value);
    }
}

// ---------------------------------------------------------------- corpora

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn corpus_taskfile() {
    let (_dir, path) = temp_file("hoist.yml");
    for (file, bytes) in corpus("taskfile") {
        eprintln!("replaying {}", file.display());
        super::taskfile(&path, &bytes);
    }
}

#[test]
fn corpus_template() {
    let engine = Engine::new();
    for (file, bytes) in corpus("template") {
        eprintln!("replaying {}", file.display());
        super::template(&engine, &text(&bytes));
    }
}

#[test]
fn corpus_scopes() {
    let (_dir, path) = temp_file("hoist.yml");
    let templates: Vec<String> = corpus("template").iter().map(|(_, b)| text(b)).collect();
    for (file, bytes) in corpus("scopes") {
        eprintln!("replaying {}", file.display());
        for template in &templates {
            super::scopes(&path, &text(&bytes), &[], template);
        }
    }
}

#[test]
fn corpus_dockerignore() {
    let mut inputs = corpus("dockerignore");
    // The cases recorded against the real docker CLI are seeds too.
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerignore");
    for case in std::fs::read_dir(recorded).unwrap() {
        let file = case.unwrap().path().join("dockerignore");
        if let Ok(bytes) = std::fs::read(&file) {
            inputs.push((file, bytes));
        }
    }
    for (file, bytes) in inputs {
        eprintln!("replaying {}", file.display());
        let text = text(&bytes);
        // Every pattern line is also a path to match.
        let mut paths: Vec<&str> = text.lines().map(|l| l.trim_start_matches('!')).collect();
        paths.extend_from_slice(PATHS);
        super::dockerignore(&text, &paths);
    }
}

#[test]
fn corpus_tag() {
    let engine = Engine::new();
    for (file, bytes) in corpus("tag") {
        eprintln!("replaying {}", file.display());
        let value = text(&bytes);
        super::tag(&engine, &value);
        for line in value.lines() {
            super::tag(&engine, line);
        }
    }
}

// ---------------------------------------------------------------- limits

/// Loads `text` and returns the rendered error, which must name a position.
#[track_caller]
fn load_error(bytes: &[u8]) -> (Error, String) {
    let (_dir, path) = temp_file("hoist.yml");
    let start = CpuClock::start();
    assert!(super::taskfile(&path, bytes).is_none(), "loaded");
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?} of CPU");
    let error = crate::taskfile::Taskfile::load(&path).unwrap_err();
    let report = Report(&error).to_string();
    (error, report)
}

#[test]
fn deep_nesting_is_an_error_with_a_position_in_every_style() {
    for nesting in [
        Nesting::FlowSeq,
        Nesting::FlowMap,
        Nesting::Mixed,
        Nesting::BlockSeq,
        Nesting::BlockMap,
        Nesting::Defer,
    ] {
        for place in [Place::Top, Place::Var, Place::Step, Place::Task] {
            for closed in [true, false] {
                let text = generate::deep(10_000, nesting, place, closed);
                let (_, report) = load_error(text.as_bytes());
                // A variable takes any shape, and a `defer` step holds a step;
                // elsewhere the shape is wrong (the file must be a mapping of
                // known keys, a step is no list) before it is too deep.
                let any_shape = matches!(place, Place::Var)
                    || matches!((nesting, place), (Nesting::Defer, Place::Step));
                if any_shape {
                    assert!(
                        report.contains("nests lists and mappings more than 64 levels deep"),
                        "{nesting:?} {place:?}: {report}"
                    );
                }
            }
        }
    }
}

#[test]
fn defer_steps_load_at_every_depth_the_loader_allows() {
    // Found by taskfile_loader: 38 nested `defer`s overflowed a test thread.
    // 60 of them, inside `tasks: t: cmds: -`, make the loader's 64 levels.
    for depth in 1..=60 {
        let text = generate::deep(depth, Nesting::Defer, Place::Step, true);
        let (_dir, path) = temp_file("hoist.yml");
        assert!(
            super::taskfile(&path, text.as_bytes()).is_some(),
            "depth {depth}"
        );
    }
}

#[test]
fn alias_bombs_are_an_error_with_a_position() {
    for place in [Place::Var, Place::Step, Place::Task] {
        for merge in [false, true] {
            let text = generate::alias_bomb(12, 10, place, merge);
            let (_, report) = load_error(text.as_bytes());
            assert!(
                report.contains("aliases count each time they are used")
                    && report.contains("help: aliases are expanded where they are used"),
                "{place:?} merge={merge}: {report}"
            );
        }
    }
}

#[test]
fn ten_megabyte_lines_load_or_fail_quickly() {
    let (_dir, path) = temp_file("hoist.yml");
    for kind in 0..6 {
        let input = Input::HugeLine {
            bytes: 10 * 1024 * 1024,
            fragment: "ab ".into(),
            kind,
        };
        let start = CpuClock::start();
        super::taskfile(&path, &input.bytes());
        assert!(start.elapsed() < Duration::from_secs(30), "kind {kind}");
    }
}

// ---------------------------------------------------------------- regressions

/// Found by `template_engine`: `{{ x ~ x ~ … }}` with a few thousand `~`
/// overflowed the stack in minijinja's compiler (SIGABRT, no message).
#[test]
fn a_long_operator_chain_is_an_error_not_a_stack_overflow() {
    let engine = Engine::new();
    for op in [" ~ ", " + ", " | upper ~ ", " and ", ".a ~ "] {
        let source = format!("{{{{ {} }}}}", vec!["x"; 100_000].join(op));
        let error = engine
            .render(
                &source,
                super::builtin_context(),
                crate::template::Target::Plain,
            )
            .map(|r| r.text)
            .unwrap_err();
        assert!(
            error
                .message
                .contains("operators; hoist allows 500 in one tag"),
            "{}",
            error.message
        );
        assert_eq!(error.range, Some(0..2));
    }
    // Up to the limit, a chain renders.
    let source = format!("{{{{ {} }}}}", vec!["'a'"; 400].join(" ~ "));
    assert_eq!(
        engine
            .render(
                &source,
                super::builtin_context(),
                crate::template::Target::Plain
            )
            .map(|r| r.text)
            .unwrap(),
        "a".repeat(400)
    );
}

/// Found by `variable_scopes`: 1,000 variables each using the next overflowed
/// the stack; past 50 it is a template error naming the chain.
#[test]
fn a_long_variable_chain_is_an_error_not_a_stack_overflow() {
    let (_dir, path) = temp_file("hoist.yml");
    let mut yaml = String::from("vars:\n");
    for i in 0..5_000 {
        yaml.push_str(&format!("  V{i}: \"{{{{ V{} }}}}\"\n", i + 1));
    }
    yaml.push_str("  V5000: end\n");
    std::fs::write(&path, &yaml).unwrap();
    let file = std::sync::Arc::new(crate::taskfile::Taskfile::load(&path).unwrap());
    let ctx = crate::vars::Session::new(
        file,
        std::sync::Arc::new(crate::ui::Printer::plain()),
        indexmap::IndexMap::default(),
        String::new(),
    )
    .unwrap();
    let error = ctx
        .global()
        .lookup("V0", crate::vars::Effects::All)
        .unwrap_err();
    let report = Report(&error).to_string();
    assert_eq!(error.exit_code(), 103, "{report}");
    assert!(report.contains("error: variable `V50` is reached through more than 50 variables that use each other: V0 -> V1 -> … -> V48 -> V49 -> V50"), "{report}");
    assert!(
        report.contains(":52:"),
        "points at the definition of V50: {report}"
    );
    // 49 deep is fine.
    assert_eq!(
        ctx.global()
            .lookup("V4951", crate::vars::Effects::All)
            .unwrap()
            .unwrap()
            .to_string(),
        "end"
    );
}

/// Found by `variable_scopes`: a chain of variables ending in an undefined
/// one was evaluated 2^length times (18 levels: two minutes); now once.
#[test]
fn a_failing_variable_chain_fails_at_once() {
    let (_dir, path) = temp_file("hoist.yml");
    let mut yaml = String::from("vars:\n");
    for i in 0..40 {
        yaml.push_str(&format!("  V{i}: \"{{{{ V{} }}}}\"\n", i + 1));
    }
    yaml.push_str("  V40: \"{{ NOPE }}\"\n");
    std::fs::write(&path, &yaml).unwrap();
    let file = std::sync::Arc::new(crate::taskfile::Taskfile::load(&path).unwrap());
    let ctx = crate::vars::Session::new(
        file,
        std::sync::Arc::new(crate::ui::Printer::plain()),
        indexmap::IndexMap::default(),
        String::new(),
    )
    .unwrap();
    let start = CpuClock::start();
    let error = ctx
        .global()
        .lookup("V0", crate::vars::Effects::All)
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let report = Report(&error).to_string();
    assert!(
        report.starts_with("error: variable `NOPE` is not defined in V40\n"),
        "{report}"
    );
}
