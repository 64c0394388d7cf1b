//! Up-to-date checks: a content fingerprint of a task's `sources`, stored under
//! `.hoist/`, plus the existence of its `generates`. Interface agreed with the runner;
//! the fingerprint work fills in the bodies.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    #[error("invalid glob `{glob}`: {reason}")]
    Glob { glob: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    UpToDate,
    /// Why the task must run, for --verbose.
    Stale(String),
}

/// Checks the task instance `key` (task name plus call vars, made file-name safe by
/// this module) whose globs are relative to `dir`. `state_dir` is the `.hoist` directory.
/// Returns the freshness and the fingerprint to store once the task succeeded.
pub fn check(
    state_dir: &Path,
    key: &str,
    dir: &Path,
    sources: &[String],
    generates: &[String],
) -> Result<(Freshness, String), FingerprintError> {
    let _ = (state_dir, key, dir, sources, generates);
    unimplemented!()
}

/// Stores `fingerprint` for `key` after the task succeeded.
pub fn record(state_dir: &Path, key: &str, fingerprint: &str) -> Result<(), FingerprintError> {
    let _ = (state_dir, key, fingerprint);
    unimplemented!()
}
