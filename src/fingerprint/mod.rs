//! Up-to-date checks: a content fingerprint of a task's `sources`, stored under
//! `.hoist/checksum/`, plus the existence of its `generates` (go-task's
//! "checksum" method). Metadata-keyed content hashes are cached per task so
//! a warm check stats files instead of reading them.

mod cache;
mod pattern;
mod store;
#[cfg(test)]
mod tests;
mod walk;

use pattern::Patterns;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub(crate) enum FingerprintError {
    #[error("invalid glob `{glob}`: {reason}")]
    Glob { glob: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Freshness {
    UpToDate,
    /// Why the task must run, for --verbose.
    Stale(String),
}

/// Checks the task instance `key` (task name plus call vars, made file-name safe by
/// this module) whose globs are relative to `dir`. `state_dir` is the `.hoist` directory.
/// Returns the freshness and the fingerprint to store once the task succeeded.
pub(crate) fn check(
    state_dir: &Path,
    key: &str,
    dir: &Path,
    sources: &[String],
    generates: &[String],
) -> Result<(Freshness, String), FingerprintError> {
    let scanned_ns = now_ns();
    let patterns = Patterns::new(dir, sources)?;
    let generated = generates_patterns(dir, generates)?;
    if sources.iter().all(|s| s.trim().starts_with('!')) {
        return Ok((
            Freshness::Stale("it has no `sources` to compare".into()),
            String::new(),
        ));
    }

    let found = walk::find(&patterns, state_dir);
    let cache_path = store::cache_path(state_dir, key);
    let cache = cache::Cache::load(&cache_path);
    let (hashes, cache_outdated) = cache::hash_all(&found, &cache)?;
    if cache_outdated {
        cache::save(&cache_path, scanned_ns, &found, &hashes);
    }
    let fingerprint = combine(sources, &found, &hashes);

    let stored = std::fs::read_to_string(store::fingerprint_path(state_dir, key));
    let freshness = match stored {
        Err(_) => Freshness::Stale("no fingerprint of its sources is recorded yet".into()),
        Ok(stored) if stored.trim() != fingerprint => Freshness::Stale(format!(
            "its sources changed since the last successful run ({} files matched)",
            found.len()
        )),
        Ok(_) => match generated.iter().find(|(_, p)| !walk::any(p)) {
            Some((entry, _)) => {
                Freshness::Stale(format!("`generates` entry `{entry}` matches no file"))
            }
            None => Freshness::UpToDate,
        },
    };
    Ok((freshness, fingerprint))
}

/// Stores `fingerprint` for `key` after the task succeeded.
pub(crate) fn record(
    state_dir: &Path,
    key: &str,
    fingerprint: &str,
) -> Result<(), FingerprintError> {
    let path = store::fingerprint_path(state_dir, key);
    store::write_atomic(&path, fingerprint.as_bytes()).map_err(|source| FingerprintError::Io {
        context: format!("cannot write {}", path.display()),
        source,
    })
}

/// One matcher per `generates` entry (each must match something), each with
/// the list's exclusions.
fn generates_patterns(
    dir: &Path,
    generates: &[String],
) -> Result<Vec<(String, Patterns)>, FingerprintError> {
    let exclusions: Vec<&String> = generates
        .iter()
        .filter(|g| g.trim().starts_with('!'))
        .collect();
    generates
        .iter()
        .filter(|g| !g.trim().starts_with('!'))
        .map(|entry| {
            let mut list = vec![entry.clone()];
            list.extend(exclusions.iter().map(|e| (*e).clone()));
            Ok((entry.clone(), Patterns::new(dir, &list)?))
        })
        .collect()
}

/// The fingerprint: the pattern list, then each file's key, permission bits
/// and content hash, in key order (so renames and chmod +x count).
fn combine(sources: &[String], found: &[walk::Found], hashes: &[u128]) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    hasher.update(b"hoist-sources-v1\0");
    for source in sources {
        hasher.update(source.as_bytes());
        hasher.update(b"\0");
    }
    hasher.update(b"\0");
    for (file, hash) in found.iter().zip(hashes) {
        hasher.update(file.key.as_bytes());
        hasher.update(b"\0");
        hasher.update(&(file.stat.mode & 0o7777).to_le_bytes());
        hasher.update(&hash.to_le_bytes());
    }
    format!("xxh3-128:{:032x}", hasher.digest128())
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The files `globs` select under `dir`, as sorted keys relative to it, and
/// the newest modification time among them (go-task's `for: sources` and
/// its timestamp method).
pub(crate) fn matching(
    dir: &Path,
    globs: &[String],
) -> Result<(Vec<String>, Option<std::time::SystemTime>), FingerprintError> {
    if globs.iter().all(|g| g.trim().starts_with('!')) {
        return Ok((Vec::new(), None));
    }
    let patterns = Patterns::new(dir, globs)?;
    let found = walk::find(&patterns, &dir.join(".hoist"));
    let newest = found
        .iter()
        .filter_map(|f| std::fs::metadata(&f.path).and_then(|m| m.modified()).ok())
        .max();
    Ok((found.into_iter().map(|f| f.key).collect(), newest))
}
