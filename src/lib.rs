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
mod gotmpl;
pub mod graph;
pub mod reference;
pub mod runner;
pub mod source;
pub mod taskfile;
pub mod template;
pub mod ui;
pub mod vars;

pub use cli::run;
pub use error::Error;
