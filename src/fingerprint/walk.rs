//! Finds the files a pattern list selects, with the metadata the hash cache
//! compares. Skips `.git`, the `.hoist` state directory and excluded trees.

use super::pattern::Patterns;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What decides whether a cached content hash is still good (like git's index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stat {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
    pub mode: u32,
}

impl Stat {
    fn of(meta: &std::fs::Metadata) -> Stat {
        Stat {
            size: meta.size(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            ino: meta.ino(),
            mode: meta.mode(),
        }
    }
}

#[derive(Debug)]
pub(super) struct Found {
    pub key: String,
    pub path: PathBuf,
    pub stat: Stat,
}

const SKIPPED_DIRS: [&str; 2] = [".git", ".hoist"];

/// The selected regular files (symlinks to files count as their target),
/// sorted by key, each once.
pub(super) fn find(patterns: &Patterns, state_dir: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    for root in &patterns.roots {
        let key_of = |path: &Path| root.key_of(path);
        let walker = root.walker().into_iter().filter_entry(|entry| {
            if entry.depth() == 0 || !entry.file_type().is_dir() {
                return true;
            }
            let skipped = entry
                .file_name()
                .to_str()
                .is_some_and(|n| SKIPPED_DIRS.contains(&n));
            !skipped && entry.path() != state_dir && !patterns.prunes(&key_of(entry.path()))
        });
        // Unreadable directories and vanished files are simply not sources.
        for entry in walker.flatten() {
            let file_type = entry.file_type();
            if file_type.is_dir() {
                continue;
            }
            let key = key_of(entry.path());
            if !patterns.selects(&key) {
                continue;
            }
            let meta = if file_type.is_symlink() {
                std::fs::metadata(entry.path())
            } else {
                entry.metadata().map_err(std::io::Error::from)
            };
            let Ok(meta) = meta else { continue };
            if !meta.is_file() {
                continue;
            }
            found.push(Found {
                key,
                path: entry.into_path(),
                stat: Stat::of(&meta),
            });
        }
    }
    found.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    found.dedup_by(|a, b| a.key == b.key);
    found
}

/// Whether the pattern list selects at least one existing file (stops at the first).
pub(super) fn any(patterns: &Patterns) -> bool {
    patterns.roots.iter().any(|root| {
        root.walker()
            .into_iter()
            .flatten()
            .any(|entry| patterns.selects(&root.key_of(entry.path())))
    })
}
