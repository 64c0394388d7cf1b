//! hoist: a build task runner for Go-service container pipelines.
//!
//! Data flows one way: `cli` -> `taskfile` -> `vars`/`template` -> `graph`
//! -> `runner` (which drives `exec` and `docker`) -> `ui`. Only `exec` starts
//! processes, `docker` talks to the engine, `git` reads the repository and
//! `fingerprint` reads sources and writes `.hoist/`; the rest is pure. The
//! README's "Code map" says where each job lives.

// The modules in the order a run goes through them, the ones a run of
// hoist.yml never needs last: rustc emits the code roughly in this order, and
// a run's code kept together starts a little faster (the example's dry run
// 0.26 ms less on average, 0.0-0.5 ms, in four interleaved comparisons with
// the alphabetical order). A comment between each two keeps rustfmt from
// sorting them.
mod cli;
// hoist.yml and its positions
mod taskfile;
// variables, built-ins, `sh:` values
mod vars;
// minijinja, with shell quoting of untrusted values
mod template;
// repository facts through git2
mod git;
// the task graph
mod graph;
// scheduling, steps, checks, output grouping
mod runner;
// image references
mod reference;
// the Docker Engine API
mod docker;
// the one place that starts processes
mod exec;
// the error type and its exit codes
mod error;
// file, line and column of a value
mod source;
// terminal and CI output
mod ui;
// sources/generates checksums
mod fingerprint;
// go-task Taskfiles: run, list, migrate
mod gotask;
// go-task's Go templates
mod gotmpl;
// `hoist --init`
mod init;
// Makefiles: read and translate
mod makefile;

#[cfg(test)]
mod fuzz;

pub use cli::run;
