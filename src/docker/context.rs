//! The build context as a tar stream.
//!
//! A blocking thread walks the context directory and writes a tar into
//! fixed-size chunks that go through a bounded channel, so memory stays
//! bounded whatever the context size and the daemon starts receiving as soon
//! as the first chunk is full. What is sent follows the docker CLI: the
//! `.dockerignore` rules (see [`super::ignore`]), the Dockerfile and
//! `.dockerignore` always sent, excluded directories skipped unless an
//! exception names a path under them.

use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::{mpsc, oneshot};

use super::ignore::{DockerIgnore, IgnoreError};

/// Size of each chunk handed to the daemon connection.
const CHUNK_SIZE: usize = 64 * 1024;
/// Chunks in flight between the walker and the connection (1 MiB).
const CHANNEL_CHUNKS: usize = 16;
/// Above this, a context without `.dockerignore` earns a warning.
pub(crate) const LARGE_CONTEXT_BYTES: u64 = 100 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub(crate) struct ContextStats {
    /// Entries other than directories sent (regular files and symlinks).
    pub files: u64,
    /// File content bytes sent.
    pub bytes: u64,
    /// Files `.dockerignore` kept out, including those under skipped directories.
    pub excluded_files: u64,
    pub excluded_bytes: u64,
    pub has_dockerignore: bool,
}

impl ContextStats {
    /// The warning to show when a large context has no `.dockerignore`.
    pub(crate) fn warning(&self) -> Option<String> {
        (!self.has_dockerignore && self.bytes > LARGE_CONTEXT_BYTES).then(|| {
            format!(
                "the build context is {} MiB in {} files and has no .dockerignore; \
                 add one to keep build outputs, .git and dependencies out of it",
                self.bytes / (1024 * 1024),
                self.files
            )
        })
    }
}

pub(crate) type ContextBody =
    Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send + 'static>>;

pub(crate) struct ContextStream {
    /// The tar, in chunks; pass it to `bollard::body_try_stream`.
    pub body: ContextBody,
    /// The summary, sent when the walk ends (or its error).
    pub stats: oneshot::Receiver<Result<ContextStats, ContextError>>,
    /// The Dockerfile's name inside the context: the `dockerfile` build parameter.
    pub dockerfile_in_context: String,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ContextError {
    #[error("build context directory {} does not exist or is not a directory", .0.display())]
    MissingContext(PathBuf),

    #[error(
        "Dockerfile {} not found (context {}); create it or set `dockerfile:` to its path relative to the context",
        .path.display(), .context.display()
    )]
    MissingDockerfile { path: PathBuf, context: PathBuf },

    #[error(
        "{}:{}: {}; fix the pattern or remove the line",
        .path.display(), .source.line(), .source.message()
    )]
    BadIgnore { path: PathBuf, source: IgnoreError },

    #[error("build context: {}: {}", .path.display(), .source)]
    Io { path: PathBuf, source: io::Error },

    #[error("build context: the daemon connection closed before the context was sent")]
    Closed,
}

impl ContextError {
    fn io(path: &Path, source: io::Error) -> ContextError {
        ContextError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Where the Dockerfile comes from and what it is called in the tar.
struct DockerfilePlan {
    name: String,
    /// Set when the Dockerfile lies outside the context and is appended.
    outside: Option<PathBuf>,
}

/// Everything decided before the walk starts.
struct Plan {
    root: PathBuf,
    ignore: DockerIgnore,
    /// The `.dockerignore` text to send instead of the file on disk (outside Dockerfile).
    ignore_override: Option<Vec<u8>>,
    has_dockerignore: bool,
    dockerfile: DockerfilePlan,
}

/// Where a BuildKit session finds a build's context and Dockerfile.
pub(crate) struct SessionContext {
    /// The context directory, resolved.
    pub root: PathBuf,
    /// The Dockerfile's directory and its name there.
    pub dockerfile_dir: PathBuf,
    pub dockerfile_name: String,
    pub has_dockerignore: bool,
    /// What was checked, kept for the classic builder's tar.
    plan: Option<Plan>,
}

impl SessionContext {
    /// The context as a tar, for an engine that builds without a session:
    /// from the checks already made, not made again.
    pub(crate) fn stream(&mut self) -> Option<ContextStream> {
        self.plan.take().map(start)
    }
}

/// Checks a build's context as [`stream_context`] does (the directory, the
/// Dockerfile, the `.dockerignore` patterns) for a build whose context the
/// engine asks for over the session.
pub(crate) fn locate(context_dir: &Path, dockerfile: &str) -> Result<SessionContext, ContextError> {
    let plan = prepare(context_dir, dockerfile)?;
    let path = match &plan.dockerfile.outside {
        Some(real) => real.clone(),
        None => plan.root.join(&plan.dockerfile.name),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let dir = path.parent().map(Path::to_path_buf);
    let (Some(dockerfile_name), Some(dockerfile_dir)) = (name, dir) else {
        return Err(ContextError::MissingDockerfile {
            path,
            context: context_dir.to_path_buf(),
        });
    };
    Ok(SessionContext {
        root: plan.root.clone(),
        dockerfile_dir,
        dockerfile_name,
        has_dockerignore: plan.has_dockerignore,
        plan: Some(plan),
    })
}

/// Starts streaming `context_dir` as a tar. Must be called inside a tokio runtime.
pub(crate) fn stream_context(
    context_dir: &Path,
    dockerfile: &str,
) -> Result<ContextStream, ContextError> {
    Ok(start(prepare(context_dir, dockerfile)?))
}

fn start(plan: Plan) -> ContextStream {
    let dockerfile_in_context = plan.dockerfile.name.clone();
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, io::Error>>(CHANNEL_CHUNKS);
    let (stats_tx, stats_rx) = oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let result = write_context(&plan, tx);
        let _ = stats_tx.send(result);
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    ContextStream {
        body: Box::pin(body),
        stats: stats_rx,
        dockerfile_in_context,
    }
}

fn prepare(context_dir: &Path, dockerfile: &str) -> Result<Plan, ContextError> {
    let missing = || ContextError::MissingContext(context_dir.to_path_buf());
    let root = fs::canonicalize(context_dir).map_err(|_| missing())?;
    if !root.is_dir() {
        return Err(missing());
    }
    let dockerfile = locate_dockerfile(context_dir, &root, dockerfile)?;

    let ignore_path = root.join(".dockerignore");
    let (mut ignore, text) = match fs::read(&ignore_path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let ignore = DockerIgnore::parse(&text).map_err(|source| ContextError::BadIgnore {
                path: ignore_path.clone(),
                source,
            })?;
            (ignore, Some(bytes))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => (DockerIgnore::default(), None),
        Err(e) => return Err(ContextError::io(&ignore_path, e)),
    };
    let has_dockerignore = text.is_some();
    ignore.always_send(".dockerignore");
    let mut ignore_override = None;
    if dockerfile.outside.is_none() {
        ignore.always_send(&dockerfile.name);
    } else {
        // As the CLI does: the appended Dockerfile is listed in the sent
        // `.dockerignore` so that `COPY .` does not pick it up.
        let mut sent = text.clone().unwrap_or_else(|| b".dockerignore".to_vec());
        sent.extend_from_slice(format!("\n{}\n", dockerfile.name).as_bytes());
        ignore_override = Some(sent);
    }
    Ok(Plan {
        root,
        ignore,
        ignore_override,
        has_dockerignore,
        dockerfile,
    })
}

fn locate_dockerfile(
    context_dir: &Path,
    root: &Path,
    dockerfile: &str,
) -> Result<DockerfilePlan, ContextError> {
    let given = Path::new(dockerfile);
    let path = if given.is_absolute() {
        given.to_path_buf()
    } else {
        context_dir.join(given)
    };
    let not_found = || ContextError::MissingDockerfile {
        path: path.clone(),
        context: context_dir.to_path_buf(),
    };
    let real = fs::canonicalize(&path).map_err(|_| not_found())?;
    if !real.is_file() {
        return Err(not_found());
    }
    // Name it as written when it lies inside the context (a symlinked
    // Dockerfile keeps its own name), else append it under a generated name.
    let lexical = if given.is_absolute() {
        given
            .strip_prefix(root)
            .or_else(|_| given.strip_prefix(context_dir))
            .ok()
            .map(Path::to_path_buf)
    } else {
        Some(given.to_path_buf())
    };
    let inside = lexical
        .map(|p| super::ignore::clean_path(&p.to_string_lossy()))
        .filter(|p| p != ".." && !p.starts_with("../") && !p.starts_with('/'));
    Ok(match inside {
        Some(name) => DockerfilePlan {
            name,
            outside: None,
        },
        None => DockerfilePlan {
            name: generated_name(&real),
            outside: Some(real),
        },
    })
}

/// `.dockerfile.` and 20 hex digits, unique enough per build, as the CLI names it.
fn generated_name(path: &Path) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{}:{}:{}", path.display(), std::process::id(), now);
    let hash = xxhash_rust::xxh3::xxh3_128(seed.as_bytes());
    format!(".dockerfile.{}", &format!("{hash:032x}")[..20])
}

/// Writes fixed-size chunks into the channel, blocking when it is full.
struct ChunkWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    /// Set after an error so that the tar trailer written on drop is not sent
    /// as if the context were complete.
    failed: bool,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_SIZE));
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the daemon connection closed"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other("the build context already failed"));
        }
        let room = CHUNK_SIZE - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK_SIZE {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

fn write_context(
    plan: &Plan,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
) -> Result<ContextStats, ContextError> {
    let error_tx = tx.clone();
    let writer = ChunkWriter {
        buf: Vec::with_capacity(CHUNK_SIZE),
        tx,
        failed: false,
    };
    let mut tar = tar::Builder::new(writer);
    tar.follow_symlinks(false);
    let mut stats = ContextStats {
        has_dockerignore: plan.has_dockerignore,
        ..Default::default()
    };
    let mut skipped_dirs = Vec::new();
    let result = walk(plan, &mut tar, &mut stats, &mut skipped_dirs)
        .and_then(|()| append_extras(plan, &mut tar, &mut stats))
        .and_then(|()| {
            tar.finish().map_err(|e| ContextError::io(&plan.root, e))?;
            tar.get_mut()
                .flush()
                .map_err(|e| ContextError::io(&plan.root, e))
        });
    match result {
        Ok(()) => {
            // The daemon has the whole context now; counting what the skipped
            // directories held must not delay it.
            drop(tar);
            drop(error_tx);
            for dir in skipped_dirs {
                count_excluded(&dir, &mut stats);
            }
            Ok(stats)
        }
        Err(err) => {
            let message = err.to_string();
            tar.get_mut().failed = true;
            drop(tar);
            let _ = error_tx.blocking_send(Err(io::Error::other(message)));
            Err(match err {
                ContextError::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe => {
                    ContextError::Closed
                }
                other => other,
            })
        }
    }
}

type TarOut = tar::Builder<ChunkWriter>;

fn walk(
    plan: &Plan,
    tar: &mut TarOut,
    stats: &mut ContextStats,
    skipped_dirs: &mut Vec<PathBuf>,
) -> Result<(), ContextError> {
    let ignore = &plan.ignore;
    let mut entries = walkdir::WalkDir::new(&plan.root)
        .min_depth(1)
        .follow_links(false)
        .sort_by(|a, b| a.file_name().cmp(b.file_name()))
        .into_iter();
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(&plan.root).to_path_buf();
            ContextError::io(&path, e.into())
        })?;
        let path = entry.path();
        let rel = relative_name(&plan.root, path);
        let is_dir = entry.file_type().is_dir();
        if ignore.excludes(&rel) {
            if !is_dir {
                let size = entry.metadata().map_or(0, |m| m.len());
                stats.excluded_files += 1;
                stats.excluded_bytes += if entry.file_type().is_file() { size } else { 0 };
            } else if !(ignore.has_exceptions() && ignore.must_walk_excluded_dir(&rel)) {
                skipped_dirs.push(path.to_path_buf());
                entries.skip_current_dir();
            }
            continue;
        }
        let meta = entry
            .metadata()
            .map_err(|e| ContextError::io(path, e.into()))?;
        if rel == ".dockerignore" {
            if let Some(text) = &plan.ignore_override {
                let mut header = header_for(&meta, tar::EntryType::Regular, text.len() as u64);
                append(tar, path, &mut header, &rel, &text[..])?;
                stats.files += 1;
                stats.bytes += text.len() as u64;
                continue;
            }
        }
        append_entry(tar, path, &rel, &meta, stats)?;
    }
    Ok(())
}

/// What the CLI adds after the walk: the outside Dockerfile and, if the
/// context had none, the `.dockerignore` that hides it.
fn append_extras(
    plan: &Plan,
    tar: &mut TarOut,
    stats: &mut ContextStats,
) -> Result<(), ContextError> {
    let Some(outside) = &plan.dockerfile.outside else {
        return Ok(());
    };
    let content = fs::read(outside).map_err(|e| ContextError::io(outside, e))?;
    let meta = fs::metadata(outside).map_err(|e| ContextError::io(outside, e))?;
    let mut header = header_for(&meta, tar::EntryType::Regular, content.len() as u64);
    header.set_mode(0o600);
    append(
        tar,
        outside,
        &mut header,
        &plan.dockerfile.name,
        &content[..],
    )?;
    stats.files += 1;
    stats.bytes += content.len() as u64;
    if !plan.has_dockerignore {
        let text = plan.ignore_override.as_deref().unwrap_or_default();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(text.len() as u64);
        header.set_mtime(meta.mtime().max(0) as u64);
        append(tar, &plan.root, &mut header, ".dockerignore", text)?;
        stats.files += 1;
        stats.bytes += text.len() as u64;
    }
    Ok(())
}

fn relative_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Deterministic headers: owner 0:0, no user or group names.
fn header_for(meta: &Metadata, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(meta.permissions().mode() & 0o7777);
    header.set_mtime(meta.mtime().max(0) as u64);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(size);
    header
}

fn append(
    tar: &mut TarOut,
    source: &Path,
    header: &mut tar::Header,
    name: &str,
    data: impl Read,
) -> Result<(), ContextError> {
    tar.append_data(header, name, data)
        .map_err(|e| ContextError::io(source, e))
}

fn append_entry(
    tar: &mut TarOut,
    path: &Path,
    rel: &str,
    meta: &Metadata,
    stats: &mut ContextStats,
) -> Result<(), ContextError> {
    let kind = meta.file_type();
    if kind.is_dir() {
        let mut header = header_for(meta, tar::EntryType::Directory, 0);
        append(tar, path, &mut header, &format!("{rel}/"), io::empty())
    } else if kind.is_symlink() {
        let target = fs::read_link(path).map_err(|e| ContextError::io(path, e))?;
        let mut header = header_for(meta, tar::EntryType::Symlink, 0);
        tar.append_link(&mut header, rel, &target)
            .map_err(|e| ContextError::io(path, e))?;
        stats.files += 1;
        Ok(())
    } else if kind.is_file() {
        let file = File::open(path).map_err(|e| ContextError::io(path, e))?;
        let size = meta.len();
        let mut header = header_for(meta, tar::EntryType::Regular, size);
        let exact = ExactSize {
            inner: file.take(size),
            left: size,
        };
        append(tar, path, &mut header, rel, exact)?;
        stats.files += 1;
        stats.bytes += size;
        Ok(())
    } else {
        // Sockets, fifos and devices have no place in a build context.
        Ok(())
    }
}

/// Reads exactly the size announced in the tar header, failing if the file
/// shrank while it was sent (a short entry would corrupt the whole tar).
struct ExactSize<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for ExactSize<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being sent",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Adds what a skipped directory holds to the excluded counts.
fn count_excluded(dir: &Path, stats: &mut ContextStats) {
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .flatten()
    {
        if !entry.file_type().is_dir() {
            stats.excluded_files += 1;
            if entry.file_type().is_file() {
                stats.excluded_bytes += entry.metadata().map_or(0, |m| m.len());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    /// Builds a tree from a fixture's `tree.txt` (see the recording script).
    fn build_tree(root: &Path, tree: &str) {
        for line in tree.lines().filter(|l| !l.is_empty()) {
            if let Some((link, target)) = line.split_once(" -> ") {
                std::os::unix::fs::symlink(target, root.join(link)).unwrap();
            } else if let Some(dir) = line.strip_suffix('/') {
                fs::create_dir_all(root.join(dir)).unwrap();
            } else {
                let path = root.join(line);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, format!("{line}\n")).unwrap();
            }
        }
    }

    /// Streams a context and returns the tar bytes and the stats.
    fn collect(
        dir: &Path,
        dockerfile: &str,
    ) -> (ContextStream, Vec<u8>, Result<ContextStats, ContextError>) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut stream = stream_context(dir, dockerfile).unwrap();
            let mut tar = Vec::new();
            let mut body =
                std::mem::replace(&mut stream.body, Box::pin(futures_util::stream::empty()));
            while let Some(chunk) = body.next().await {
                match chunk {
                    Ok(bytes) => tar.extend_from_slice(&bytes),
                    Err(_) => break,
                }
            }
            let stats = (&mut stream.stats).await.unwrap();
            (stream, tar, stats)
        })
    }

    fn entry_names(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
                match e.header().entry_type() {
                    tar::EntryType::Directory if !name.ends_with('/') => format!("{name}/"),
                    _ => name,
                }
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn contexts_match_what_the_docker_cli_sends() {
        let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerignore");
        let mut dirs: Vec<_> = fs::read_dir(&cases)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        assert!(
            dirs.len() >= 15,
            "expected the recorded cases in {}",
            cases.display()
        );
        let mut failures = Vec::new();
        for case in dirs {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let tmp = tempfile::tempdir().unwrap();
            build_tree(
                tmp.path(),
                &fs::read_to_string(case.join("tree.txt")).unwrap(),
            );
            fs::copy(case.join("dockerignore"), tmp.path().join(".dockerignore")).unwrap();
            let expected: Vec<String> = fs::read_to_string(case.join("expected.txt"))
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect();
            let dockerfile = fs::read_to_string(case.join("dockerfile"))
                .map_or_else(|_| "Dockerfile".to_string(), |name| name.trim().to_string());
            let (_, tar, stats) = collect(tmp.path(), &dockerfile);
            stats.unwrap();
            let got = entry_names(&tar);
            if got != expected {
                failures.push(format!(
                    "case {name}:\n  docker: {expected:?}\n  hoist:  {got:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn stats_count_sent_and_excluded_files() {
        let tmp = tempfile::tempdir().unwrap();
        build_tree(
            tmp.path(),
            "Dockerfile\nmain.go\nnode_modules/a/b.js\nnode_modules/c.js\nx.log\n",
        );
        fs::write(tmp.path().join(".dockerignore"), "node_modules\n*.log\n").unwrap();
        let (_, tar, stats) = collect(tmp.path(), "Dockerfile");
        let stats = stats.unwrap();
        assert_eq!(
            entry_names(&tar),
            [".dockerignore", "Dockerfile", "main.go"]
        );
        assert_eq!(stats.files, 3);
        assert_eq!(
            stats.bytes,
            "Dockerfile\n".len() as u64 + 8 + "node_modules\n*.log\n".len() as u64
        );
        assert_eq!(stats.excluded_files, 3);
        assert_eq!(
            stats.excluded_bytes,
            ("node_modules/a/b.js\n".len() + "node_modules/c.js\n".len() + 6) as u64
        );
        assert!(stats.has_dockerignore);
        assert!(stats.warning().is_none());
    }

    #[test]
    fn large_context_without_dockerignore_warns() {
        let stats = ContextStats {
            files: 3,
            bytes: LARGE_CONTEXT_BYTES + 1,
            ..Default::default()
        };
        assert!(stats.warning().unwrap().contains("no .dockerignore"));
        let ignored = ContextStats {
            has_dockerignore: true,
            ..stats
        };
        assert!(ignored.warning().is_none());
    }

    #[test]
    fn headers_keep_modes_mtimes_and_symlinks_and_drop_owners() {
        let tmp = tempfile::tempdir().unwrap();
        let long = format!("{}/{}.txt", "d".repeat(90), "f".repeat(120));
        build_tree(
            tmp.path(),
            &format!("Dockerfile\nrun.sh\nlink -> run.sh\n{long}\n"),
        );
        fs::set_permissions(tmp.path().join("run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
        let mtime = fs::metadata(tmp.path().join("run.sh")).unwrap().mtime() as u64;
        let (_, tar, _) = collect(tmp.path(), "Dockerfile");
        let mut archive = tar::Archive::new(&tar[..]);
        let mut seen = 0;
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.username().unwrap(), Some(""));
            match &*entry.path().unwrap().to_string_lossy() {
                "run.sh" => {
                    assert_eq!(h.mode().unwrap(), 0o750);
                    assert_eq!(h.mtime().unwrap(), mtime);
                    seen += 1;
                }
                "link" => {
                    assert_eq!(h.entry_type(), tar::EntryType::Symlink);
                    assert_eq!(entry.link_name().unwrap().unwrap().to_str(), Some("run.sh"));
                    seen += 1;
                }
                name if name == long => seen += 1,
                _ => {}
            }
        }
        assert_eq!(seen, 3);
    }

    #[test]
    fn dockerfile_outside_the_context_is_sent_under_a_generated_name() {
        let tmp = tempfile::tempdir().unwrap();
        build_tree(tmp.path(), "ctx/main.go\nelsewhere/Dockerfile\n");
        let abs = tmp.path().join("elsewhere/Dockerfile");
        let (stream, tar, stats) = collect(&tmp.path().join("ctx"), abs.to_str().unwrap());
        stats.unwrap();
        let name = stream.dockerfile_in_context.clone();
        assert!(
            name.starts_with(".dockerfile.") && name.len() == 32,
            "{name}"
        );
        assert_eq!(
            entry_names(&tar),
            vec![name.clone(), ".dockerignore".into(), "main.go".into()]
        );
        let mut archive = tar::Archive::new(&tar[..]);
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            if path == ".dockerignore" {
                assert_eq!(text, format!(".dockerignore\n{name}\n"));
            } else if path == name {
                assert_eq!(text, "elsewhere/Dockerfile\n");
            }
        }
        // A relative path that climbs out is outside too.
        let (stream, _, stats) = collect(&tmp.path().join("ctx"), "../elsewhere/Dockerfile");
        stats.unwrap();
        assert!(stream.dockerfile_in_context.starts_with(".dockerfile."));
    }

    #[test]
    fn dockerfile_inside_keeps_its_relative_name() {
        let tmp = tempfile::tempdir().unwrap();
        build_tree(tmp.path(), "build/Dockerfile\nbuild/other\n");
        fs::write(tmp.path().join(".dockerignore"), "build\n").unwrap();
        let abs = tmp.path().join("build/Dockerfile");
        let (stream, tar, _) = collect(tmp.path(), abs.to_str().unwrap());
        assert_eq!(stream.dockerfile_in_context, "build/Dockerfile");
        assert_eq!(entry_names(&tar), [".dockerignore", "build/Dockerfile"]);
    }

    #[test]
    fn setup_errors_say_what_is_wrong() {
        let tmp = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let err = stream_context(&tmp.path().join("nope"), "Dockerfile")
            .err()
            .unwrap();
        assert!(matches!(err, ContextError::MissingContext(_)), "{err}");
        let err = stream_context(tmp.path(), "Dockerfile").err().unwrap();
        assert!(
            err.to_string().contains("Dockerfile") && err.to_string().contains("create it"),
            "{err}"
        );
        fs::write(tmp.path().join("Dockerfile"), "FROM x\n").unwrap();
        fs::write(tmp.path().join(".dockerignore"), "ok\n# c\n[oops\n").unwrap();
        let err = stream_context(tmp.path(), "Dockerfile").err().unwrap();
        assert!(
            err.to_string().ends_with(
                ".dockerignore:3: invalid pattern `[oops`: unclosed `[` character class; fix the pattern or remove the line"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_walk_error_ends_the_stream_with_an_error_and_reports_it() {
        let tmp = tempfile::tempdir().unwrap();
        build_tree(tmp.path(), "Dockerfile\nsrc/main.go\n");
        let plan = prepare(tmp.path(), "Dockerfile").unwrap();
        // The tree vanishes between the checks and the walk.
        fs::remove_dir_all(tmp.path()).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut stream = start(plan);
            let mut errors = Vec::new();
            while let Some(chunk) = stream.body.next().await {
                if let Err(e) = chunk {
                    errors.push(e.to_string());
                }
            }
            assert_eq!(errors.len(), 1, "{errors:?}");
            let err = stream.stats.await.unwrap().unwrap_err();
            assert!(
                err.to_string().contains(&tmp.path().display().to_string()),
                "{err}"
            );
        });
    }

    #[test]
    fn a_file_that_shrinks_is_an_error_not_a_corrupt_tar() {
        let mut short = ExactSize {
            inner: (&b"abc"[..]).take(5),
            left: 5,
        };
        let err = io::copy(&mut short, &mut io::sink()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_big_context_streams_completely() {
        let tmp = tempfile::tempdir().unwrap();
        build_tree(tmp.path(), "Dockerfile\n");
        // 200 MiB in sparse files plus many small files.
        for i in 0..4 {
            let f = File::create(tmp.path().join(format!("big{i}.bin"))).unwrap();
            f.set_len(50 * 1024 * 1024).unwrap();
        }
        for i in 0..2000 {
            let dir = tmp.path().join(format!("d{}", i % 20));
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(format!("f{i}")), format!("{i}")).unwrap();
        }
        let (_, tar, stats) = collect(tmp.path(), "Dockerfile");
        let stats = stats.unwrap();
        assert_eq!(stats.files, 1 + 4 + 2000);
        let mut archive = tar::Archive::new(&tar[..]);
        let (mut files, mut bytes) = (0u64, 0u64);
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.header().entry_type().is_file() {
                files += 1;
                bytes += io::copy(&mut entry, &mut io::sink()).unwrap();
            }
        }
        assert_eq!(files, stats.files);
        assert_eq!(bytes, stats.bytes);
        assert!(bytes > 200 * 1024 * 1024);
    }

    /// Peak memory while streaming 1 GiB in 50,000 files (sparse, so it is
    /// quick to create). Run with
    /// `cargo test --release --lib peak_memory -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement: run it with --release --nocapture"]
    fn peak_memory_stays_bounded_for_a_large_context() {
        let tmp = tempfile::tempdir().unwrap();
        build_tree(tmp.path(), "Dockerfile\n");
        for i in 0..50_000 {
            let dir = tmp.path().join(format!("d{}", i % 100));
            if i < 100 {
                fs::create_dir(&dir).unwrap();
            }
            File::create(dir.join(format!("f{i}")))
                .unwrap()
                .set_len(21_475)
                .unwrap();
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let (sent, first) = rt.block_on(async {
            let mut stream = stream_context(tmp.path(), "Dockerfile").unwrap();
            let (mut sent, mut first) = (0u64, None);
            while let Some(chunk) = stream.body.next().await {
                first.get_or_insert_with(|| started.elapsed());
                sent += chunk.unwrap().len() as u64;
            }
            stream.stats.await.unwrap().unwrap();
            (sent, first.unwrap())
        });
        let status = fs::read_to_string("/proc/self/status").unwrap();
        let hwm_kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        println!(
            "sent {} MiB in {:?} (first chunk after {:?}); peak RSS {} MiB",
            sent >> 20,
            started.elapsed(),
            first,
            hwm_kib >> 10
        );
        assert!(sent > 1 << 30);
        assert!(hwm_kib < 64 * 1024, "peak RSS {hwm_kib} KiB");
    }

    /// Time to send a context through bollard to the daemon at
    /// `HOIST_TIMING_DOCKER_SOCKET` (for comparing with `docker build`);
    /// the directory is `HOIST_TIMING_CONTEXT`. Run with `--ignored --nocapture`.
    #[test]
    #[ignore = "a measurement against an engine: set HOIST_TIMING_DOCKER_SOCKET and HOIST_TIMING_CONTEXT"]
    fn time_to_daemon_through_bollard() {
        let (Ok(socket), Ok(dir)) = (
            std::env::var("HOIST_TIMING_DOCKER_SOCKET"),
            std::env::var("HOIST_TIMING_CONTEXT"),
        ) else {
            panic!("set HOIST_TIMING_DOCKER_SOCKET and HOIST_TIMING_CONTEXT");
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let started = std::time::Instant::now();
            let docker =
                bollard::Docker::connect_with_unix(&socket, 600, bollard::API_DEFAULT_VERSION)
                    .unwrap();
            let stream = stream_context(Path::new(&dir), "Dockerfile").unwrap();
            let options = bollard::query_parameters::BuildImageOptionsBuilder::default()
                .dockerfile(&stream.dockerfile_in_context)
                .build();
            let mut build =
                docker.build_image(options, None, Some(bollard::body_try_stream(stream.body)));
            while let Some(item) = build.next().await {
                item.unwrap();
            }
            let stats = stream.stats.await.unwrap().unwrap();
            println!(
                "sent {} files, {} MiB in {:?}",
                stats.files,
                stats.bytes >> 20,
                started.elapsed()
            );
        });
    }
}
