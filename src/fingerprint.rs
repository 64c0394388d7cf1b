//! Up-to-date checks: a content fingerprint of a task's `sources`, stored under
//! `.hoist/checksum/`, plus the existence of its `generates`.
//!
//! Content, not timestamps, decides (a checkout or `touch` does not make work).
//! To keep the warm check cheap, each file's hash is cached with its size,
//! mtime and inode, and re-read only when those change, as git's index does.

use globset::{GlobSet, GlobSetBuilder};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use xxhash_rust::xxh3::Xxh3;

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

/// Checks the task instance `key`, whose globs are relative to `dir`.
/// Returns the freshness and the fingerprint to store once the task succeeded.
pub fn check(
    state_dir: &Path,
    key: &str,
    dir: &Path,
    sources: &[String],
    generates: &[String],
) -> Result<(Freshness, String), FingerprintError> {
    let files = expand(dir, sources, &[state_dir])?;
    let cache_path = state_dir
        .join("checksum")
        .join(format!("{}.files", file_name(key)));
    let mut cache = FileCache::load(&cache_path);
    let fingerprint = fingerprint(dir, &files, &mut cache)?;
    cache.store(&cache_path);

    let stored = std::fs::read_to_string(state_dir.join("checksum").join(file_name(key))).ok();
    let freshness = match stored {
        None => Freshness::Stale("never run with these sources".into()),
        Some(old) if old.trim() != fingerprint => Freshness::Stale("sources changed".into()),
        Some(_) => match missing_generated(dir, generates, state_dir)? {
            Some(glob) => Freshness::Stale(format!("`{glob}` is missing")),
            None => Freshness::UpToDate,
        },
    };
    Ok((freshness, fingerprint))
}

/// Stores `fingerprint` for `key` after the task succeeded (written atomically).
pub fn record(state_dir: &Path, key: &str, fingerprint: &str) -> Result<(), FingerprintError> {
    let dir = state_dir.join("checksum");
    let io = |context: String| move |source| FingerprintError::Io { context, source };
    std::fs::create_dir_all(&dir).map_err(io(format!("cannot create {}", dir.display())))?;
    let target = dir.join(file_name(key));
    let temp = dir.join(format!(".{}.tmp{}", file_name(key), std::process::id()));
    std::fs::write(&temp, fingerprint).map_err(io(format!("cannot write {}", temp.display())))?;
    std::fs::rename(&temp, &target).map_err(io(format!("cannot write {}", target.display())))
}

/// A safe file name for a task key, with a hash so that distinct keys never collide.
fn file_name(key: &str) -> String {
    let readable: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(80)
        .collect();
    format!(
        "{readable}-{:08x}",
        xxhash_rust::xxh3::xxh3_64(key.as_bytes()) as u32
    )
}

struct Patterns {
    include: GlobSet,
    exclude: GlobSet,
}

fn compile(globs: &[String]) -> Result<Patterns, FingerprintError> {
    let mut include = GlobSetBuilder::new();
    let mut exclude = GlobSetBuilder::new();
    for raw in globs {
        let (negated, pattern) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, raw.as_str()),
        };
        let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| FingerprintError::Glob {
                glob: raw.clone(),
                reason: e.kind().to_string(),
            })?;
        if negated {
            exclude.add(glob);
        } else {
            include.add(glob);
        }
    }
    let build = |b: GlobSetBuilder| {
        b.build().map_err(|e| FingerprintError::Glob {
            glob: globs.join(", "),
            reason: e.to_string(),
        })
    };
    Ok(Patterns {
        include: build(include)?,
        exclude: build(exclude)?,
    })
}

/// The files under `dir` matching `globs` (relative, sorted), skipping `.git` and `skip`.
fn expand(dir: &Path, globs: &[String], skip: &[&Path]) -> Result<Vec<PathBuf>, FingerprintError> {
    let patterns = compile(globs)?;
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    let walker = walker.filter_entry(|e| {
        let name = e.file_name();
        !(e.file_type().is_dir() && (name == ".git" || skip.contains(&e.path())))
    });
    for entry in walker {
        let entry = entry.map_err(|e| FingerprintError::Io {
            context: format!("cannot read {}", e.path().unwrap_or(dir).display()),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        if patterns.include.is_match(rel) && !patterns.exclude.is_match(rel) {
            files.push(rel.to_path_buf());
        }
    }
    Ok(files)
}

/// The first `generates` glob that matches no file.
fn missing_generated(
    dir: &Path,
    generates: &[String],
    state_dir: &Path,
) -> Result<Option<String>, FingerprintError> {
    for glob in generates {
        let literal = !glob.contains(['*', '?', '[', '{']);
        let present = if literal {
            dir.join(glob).exists()
        } else {
            !expand(dir, std::slice::from_ref(glob), &[state_dir])?.is_empty()
        };
        if !present {
            return Ok(Some(glob.clone()));
        }
    }
    Ok(None)
}

fn fingerprint(
    dir: &Path,
    files: &[PathBuf],
    cache: &mut FileCache,
) -> Result<String, FingerprintError> {
    let mut total = Xxh3::new();
    for rel in files {
        let path = dir.join(rel);
        let meta = std::fs::symlink_metadata(&path).map_err(|source| FingerprintError::Io {
            context: format!("cannot read {}", path.display()),
            source,
        })?;
        let stamp = Stamp {
            size: meta.size(),
            mtime_ns: mtime_ns(&meta),
            inode: meta.ino(),
        };
        let hash = match cache.get(rel, &stamp) {
            Some(hash) => hash,
            None => {
                let hash = hash_file(&path, &meta)?;
                cache.put(rel, stamp, hash);
                hash
            }
        };
        // Path and mode count too: a rename or a chmod +x is a change.
        total.update(rel.as_os_str().as_encoded_bytes());
        total.update(&[0]);
        total.update(&meta.mode().to_le_bytes());
        total.update(&hash.to_le_bytes());
    }
    Ok(format!("{:032x}", total.digest128()))
}

fn hash_file(path: &Path, meta: &std::fs::Metadata) -> Result<u128, FingerprintError> {
    let io = |source| FingerprintError::Io {
        context: format!("cannot read {}", path.display()),
        source,
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).map_err(io)?;
        return Ok(xxhash_rust::xxh3::xxh3_128(
            target.as_os_str().as_encoded_bytes(),
        ));
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Xxh3::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.digest128())
}

fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    inode: u64,
}

/// Per-file hashes keyed by path, valid while size, mtime and inode hold.
struct FileCache {
    entries: HashMap<PathBuf, (Stamp, u128)>,
    /// When the cache was written: a file modified in that same instant may have
    /// changed again unseen ("racy" in git's words), so it is hashed again.
    written_ns: i128,
    changed: bool,
}

impl FileCache {
    fn load(path: &Path) -> FileCache {
        let mut cache = FileCache {
            entries: HashMap::new(),
            written_ns: 0,
            changed: false,
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            cache.changed = true;
            return cache;
        };
        let mut lines = text.lines();
        cache.written_ns = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0);
        for line in lines {
            let mut parts = line.splitn(5, '\t');
            let (Some(size), Some(mtime), Some(inode), Some(hash), Some(path)) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                continue;
            };
            let (Ok(size), Ok(mtime_ns), Ok(inode), Ok(hash)) = (
                size.parse(),
                mtime.parse(),
                inode.parse(),
                u128::from_str_radix(hash, 16),
            ) else {
                continue;
            };
            cache.entries.insert(
                PathBuf::from(path),
                (
                    Stamp {
                        size,
                        mtime_ns,
                        inode,
                    },
                    hash,
                ),
            );
        }
        cache
    }

    fn get(&self, path: &Path, stamp: &Stamp) -> Option<u128> {
        let (cached, hash) = self.entries.get(path)?;
        let racy = stamp.mtime_ns >= self.written_ns - 2_000_000_000;
        (cached == stamp && !racy).then_some(*hash)
    }

    fn put(&mut self, path: &Path, stamp: Stamp, hash: u128) {
        self.entries.insert(path.to_path_buf(), (stamp, hash));
        self.changed = true;
    }

    /// Best effort: a cache that cannot be written only costs speed.
    fn store(&self, path: &Path) {
        if !self.changed {
            return;
        }
        let Some(parent) = path.parent() else { return };
        if std::fs::create_dir_all(parent).is_err() {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let mut text = format!("{now}\n");
        for (file, (stamp, hash)) in &self.entries {
            if let Some(file) = file.to_str() {
                text.push_str(&format!(
                    "{}\t{}\t{}\t{hash:032x}\t{file}\n",
                    stamp.size, stamp.mtime_ns, stamp.inode
                ));
            }
        }
        let temp = parent.join(format!(".cache.tmp{}", std::process::id()));
        if std::fs::File::create(&temp)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .is_ok()
        {
            let _ = std::fs::rename(&temp, path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join(".hoist");
        std::fs::create_dir_all(tmp.path().join("pkg/sub")).unwrap();
        std::fs::write(tmp.path().join("main.go"), "package main").unwrap();
        std::fs::write(tmp.path().join("pkg/sub/a.go"), "package sub").unwrap();
        std::fs::write(tmp.path().join("pkg/readme.md"), "docs").unwrap();
        (tmp, state)
    }

    fn run(tmp: &Path, state: &Path, sources: &[&str], generates: &[&str]) -> Freshness {
        let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
        let generates: Vec<String> = generates.iter().map(|s| s.to_string()).collect();
        let (freshness, fp) = check(state, "build", tmp, &sources, &generates).unwrap();
        record(state, "build", &fp).unwrap();
        freshness
    }

    #[test]
    fn content_path_and_generates_decide() {
        let (tmp, state) = setup();
        let dir = tmp.path();
        let src = ["**/*.go"];
        assert!(matches!(run(dir, &state, &src, &[]), Freshness::Stale(_)));
        assert_eq!(run(dir, &state, &src, &[]), Freshness::UpToDate);
        std::fs::write(dir.join("pkg/readme.md"), "not a source").unwrap();
        assert_eq!(run(dir, &state, &src, &[]), Freshness::UpToDate);
        std::fs::write(dir.join("pkg/sub/a.go"), "package sub // edit").unwrap();
        assert!(matches!(run(dir, &state, &src, &[]), Freshness::Stale(_)));
        std::fs::write(dir.join("new.go"), "package main").unwrap();
        assert!(matches!(run(dir, &state, &src, &[]), Freshness::Stale(_)));
        std::fs::remove_file(dir.join("new.go")).unwrap();
        assert!(matches!(run(dir, &state, &src, &[]), Freshness::Stale(_)));
        assert!(matches!(
            run(dir, &state, &src, &["bin/app"]),
            Freshness::Stale(_)
        ));
        std::fs::create_dir(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin/app"), "x").unwrap();
        assert_eq!(
            run(dir, &state, &src, &["bin/app", "bin/*"]),
            Freshness::UpToDate
        );
    }

    #[test]
    fn exclusions_and_anchoring() {
        let (tmp, state) = setup();
        let files = expand(tmp.path(), &["**/*.go".into(), "!pkg/**".into()], &[&state]).unwrap();
        assert_eq!(files, [PathBuf::from("main.go")]);
        let files = expand(tmp.path(), &["*.go".into()], &[&state]).unwrap();
        assert_eq!(files, [PathBuf::from("main.go")]);
    }

    #[test]
    fn invalid_glob_is_named() {
        let (tmp, state) = setup();
        let err = check(&state, "k", tmp.path(), &["src/[".into()], &[]).unwrap_err();
        assert!(err.to_string().starts_with("invalid glob `src/[`"), "{err}");
    }

    #[test]
    fn keys_make_distinct_safe_file_names() {
        assert_ne!(file_name("a[x=1]"), file_name("a[x=2]"));
        assert!(file_name("a/b c").starts_with("a-b-c-"));
    }
}
