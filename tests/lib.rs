//! hoist's integration tests: one binary, a module per feature, each test
//! running the real `hoist` binary in a fresh temp dir.

mod common;

mod buildkit;
mod cli;
mod compat;

mod errors;
mod git_vars;
mod hardening_io;
mod images;
mod init;
mod listing;
mod makefile;
mod podman;
mod quoting;
mod running;
mod variables;
