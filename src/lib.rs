//! hoist: a build task runner for Go-service container pipelines.
//!
//! Data flows one way: `cli` -> `taskfile` -> `vars`/`template` -> `graph`
//! -> `runner` (which drives `exec` and `docker`) -> `ui`. Only `exec`,
//! `docker` and `git` touch the outside world.

pub mod cli;
pub mod docker;
pub mod error;
pub mod exec;
pub mod fingerprint;
pub mod git;
pub mod graph;
pub mod runner;
pub mod source;
pub mod taskfile;
pub mod template;
pub mod ui;
pub mod vars;

#[cfg(test)]
mod fuzz;

pub use cli::run;
pub use error::Error;
