//! Where fingerprints live: `<state_dir>/checksum/<safe key>`, written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

const MAX_NAME: usize = 100;

/// A file name for `key`: readable, safe on any file system, and distinct for
/// distinct keys (a hash of the raw key is appended, as sanitising can merge keys).
pub(super) fn file_name(key: &str) -> String {
    let mut safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_NAME)
        .collect();
    if safe.starts_with('.') {
        safe.replace_range(..1, "-"); // never `.`, `..` or a hidden file
    }
    let hash = xxhash_rust::xxh3::xxh3_64(key.as_bytes());
    format!("{safe}-{:08x}", hash as u32)
}

pub(super) fn fingerprint_path(state_dir: &Path, key: &str) -> PathBuf {
    state_dir.join("checksum").join(file_name(key))
}

pub(super) fn cache_path(state_dir: &Path, key: &str) -> PathBuf {
    state_dir
        .join("checksum")
        .join(format!("{}.files", file_name(key)))
}

/// Writes through a temporary file and a rename, so a reader (or a crash)
/// never sees half a file.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn names_are_safe_and_distinct() {
        let a = file_name("build:api {\"GOOS\":\"linux\"}");
        assert!(a.starts_with("build-api---GOOS---linux---"), "{a}");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
        assert_ne!(
            file_name("a/b"),
            file_name("a:b"),
            "sanitising must not merge keys"
        );
        assert!(!file_name("..").starts_with('.'));
        assert!(file_name(&"x".repeat(1000)).len() < 120);
        assert_eq!(file_name("same"), file_name("same"));
    }
}
