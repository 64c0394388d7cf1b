//! Content hashes of source files, re-read only when a file's metadata
//! changed since the last check (like git's index). A file whose mtime or
//! ctime is too close to the time of the last scan is "racy": it may have
//! changed again within the same timestamp tick, so it is hashed again.

use super::walk::{Found, Stat};
use super::FingerprintError;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

const HEADER: &str = "hoist-file-hashes v1";
/// Timestamps within this much of the scan are not trusted (coarse file systems).
const RACY_NS: i64 = 1_000_000_000;
/// Files up to this size are read whole; larger ones are streamed.
const READ_WHOLE: u64 = 8 << 20;

pub(super) struct Cache {
    /// When the scan that wrote the cache started.
    scanned_ns: i64,
    entries: HashMap<String, (Stat, u128)>,
}

impl Cache {
    /// The cache at `path`; empty when missing or unreadable (it is only a speed-up).
    pub(super) fn load(path: &Path) -> Cache {
        let mut cache = Cache {
            scanned_ns: 0,
            entries: HashMap::new(),
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            return cache;
        };
        let mut lines = text.lines();
        let Some(scanned) = lines
            .next()
            .and_then(|h| h.strip_prefix(HEADER))
            .and_then(|t| t.trim().parse().ok())
        else {
            return cache;
        };
        cache.scanned_ns = scanned;
        cache.entries.reserve(text.len() / 80);
        for line in lines {
            if let Some((key, entry)) = parse_line(line) {
                cache.entries.insert(key.to_owned(), entry);
            }
        }
        cache
    }

    /// The cached hash of `found` when its metadata is unchanged and not racy.
    fn lookup(&self, found: &Found) -> Option<u128> {
        let (stat, hash) = self.entries.get(&found.key)?;
        let settled = self.scanned_ns - RACY_NS;
        (*stat == found.stat && stat.mtime_ns < settled && stat.ctime_ns < settled).then_some(*hash)
    }
}

fn parse_line(line: &str) -> Option<(&str, (Stat, u128))> {
    let mut fields = line.splitn(7, ' ');
    let hash = u128::from_str_radix(fields.next()?, 16).ok()?;
    let stat = Stat {
        size: fields.next()?.parse().ok()?,
        mtime_ns: fields.next()?.parse().ok()?,
        ctime_ns: fields.next()?.parse().ok()?,
        ino: fields.next()?.parse().ok()?,
        mode: fields.next()?.parse().ok()?,
    };
    Some((fields.next()?, (stat, hash)))
}

/// The content hash of every found file, from the cache where it can be.
/// Returns the hashes (in `found` order) and whether the cache should be rewritten.
pub(super) fn hash_all(
    found: &[Found],
    cache: &Cache,
) -> Result<(Vec<u128>, bool), FingerprintError> {
    let mut hashes: Vec<Option<u128>> = found.iter().map(|f| cache.lookup(f)).collect();
    let todo: Vec<usize> = (0..found.len()).filter(|&i| hashes[i].is_none()).collect();
    let stale_cache = !todo.is_empty() || cache.entries.len() != found.len();
    let threads = num_cpus::get().clamp(1, 8);
    let computed: Vec<(usize, u128)> = if todo.len() < 64 || threads == 1 {
        todo.iter()
            .map(|&i| hash_file(&found[i]).map(|h| (i, h)))
            .collect::<Result<_, _>>()?
    } else {
        let chunk = todo.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = todo
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|&i| hash_file(&found[i]).map(|h| (i, h)))
                            .collect::<Result<Vec<_>, _>>()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(todo.len());
            for worker in workers {
                all.extend(worker.join().expect("hashing does not panic")?);
            }
            Ok::<_, FingerprintError>(all)
        })?
    };
    for (i, hash) in computed {
        hashes[i] = Some(hash);
    }
    let hashes = hashes
        .into_iter()
        .map(std::option::Option::unwrap_or_default)
        .collect();
    Ok((hashes, stale_cache))
}

fn hash_file(found: &Found) -> Result<u128, FingerprintError> {
    let io_error = |source| FingerprintError::Io {
        context: format!("cannot read source file {}", found.path.display()),
        source,
    };
    if found.stat.size <= READ_WHOLE {
        let bytes = std::fs::read(&found.path).map_err(io_error)?;
        return Ok(xxhash_rust::xxh3::xxh3_128(&bytes));
    }
    let mut file = std::fs::File::open(&found.path).map_err(io_error)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_error)?;
        if n == 0 {
            return Ok(hasher.digest128());
        }
        hasher.update(&buf[..n]);
    }
}

/// Writes the cache for this scan (atomically; a failure only costs speed).
pub(super) fn save(path: &Path, scanned_ns: i64, found: &[Found], hashes: &[u128]) {
    use std::fmt::Write;
    let mut text = String::with_capacity(found.len() * 96 + 64);
    let _ = writeln!(text, "{HEADER} {scanned_ns}");
    for (f, hash) in found.iter().zip(hashes) {
        if f.key.contains('\n') {
            continue;
        }
        let s = &f.stat;
        let _ = writeln!(
            text,
            "{hash:032x} {} {} {} {} {} {}",
            s.size, s.mtime_ns, s.ctime_ns, s.ino, s.mode, f.key
        );
    }
    let _ = super::store::write_atomic(path, text.as_bytes());
}
