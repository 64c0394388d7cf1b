//! hoist: a build task runner for Go-service container pipelines.
//!
//! Data flows one way: `cli` -> `taskfile` -> `vars`/`template` -> `graph`
//! -> `runner` (which drives `exec` and `docker`) -> `ui`. Only `exec` starts
//! processes, `docker` talks to the engine, `git` reads the repository and
//! `fingerprint` reads sources and writes `.hoist/`; the rest is pure. The
//! README's "Code map" says where each job lives.

mod cli;
mod docker;
mod error;
mod exec;
mod fingerprint;
mod git;
mod gotask;
mod gotmpl;
mod graph;
mod init;
mod makefile;
mod reference;
mod runner;
mod source;
mod taskfile;
mod template;
mod ui;
mod vars;

#[cfg(test)]
mod fuzz;

pub use cli::run;
