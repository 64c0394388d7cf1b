//! hoist: a build task runner for Go-service container pipelines.
//!
//! Data flows one way: `cli` -> `taskfile` -> `vars`/`template` -> `graph`
//! -> `runner` (which drives `exec` and `docker`) -> `ui`. Only `exec` starts
//! processes, `docker` talks to the engine, `git` reads the repository and
//! `fingerprint` reads sources and writes `.hoist/`; the rest is pure. The
//! README's "Code map" says where each job lives.

pub mod cli;
pub mod docker;
pub mod error;
pub mod exec;
pub mod fingerprint;
pub mod git;
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
