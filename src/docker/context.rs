//! The build context: a tar streamed to the daemon while the tree is walked.
//!
//! A blocking thread walks the context (skipping what `.dockerignore` leaves
//! out, entering an excluded directory only when an exception may re-include
//! something below it) and writes the tar into fixed-size chunks that go
//! through a bounded channel. Memory stays at a few chunks whatever the size
//! of the context; no temp file, no whole-context buffer.

use super::ignore::{DockerIgnore, IgnoreError};
use bytes::Bytes;
use futures_util::Stream;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the walker and the HTTP body.
const CHANNEL_DEPTH: usize = 8;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextStats {
    /// Regular files sent.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Files that `.dockerignore` kept out one by one.
    pub excluded_files: u64,
    pub excluded_bytes: u64,
    /// Directories kept out whole (not walked, so their files are not counted).
    pub excluded_dirs: u64,
    pub has_dockerignore: bool,
    /// The size of the tar stream.
    pub tar_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("build context {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("Dockerfile {} does not exist", .0.display())]
    DockerfileMissing(PathBuf),
    #[error("{}: {error}", path.display())]
    Ignore { path: PathBuf, error: IgnoreError },
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

pub type Body = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;

pub struct ContextStream {
    pub body: Body,
    /// Filled in when the walk ends.
    pub stats: oneshot::Receiver<Result<ContextStats, ContextError>>,
    /// The Dockerfile's name inside the tar (the `dockerfile` build parameter).
    pub dockerfile_in_context: String,
}

/// What the walk will send: the ignore rules with the always-sent files kept.
struct Plan {
    root: PathBuf,
    ignore: DockerIgnore,
    has_dockerignore: bool,
    /// A Dockerfile from outside the context, added under this name.
    outside_dockerfile: Option<(PathBuf, String)>,
    dockerfile_in_context: String,
}

fn plan(context_dir: &Path, dockerfile: &str) -> Result<Plan, ContextError> {
    if !context_dir.is_dir() {
        return Err(ContextError::NotADirectory(context_dir.to_path_buf()));
    }
    let dockerfile_path = context_dir.join(dockerfile);
    if !dockerfile_path.is_file() {
        return Err(ContextError::DockerfileMissing(dockerfile_path));
    }
    let ignore_path = context_dir.join(".dockerignore");
    let (mut ignore, has_dockerignore) = match std::fs::read_to_string(&ignore_path) {
        Ok(text) => {
            let parsed = DockerIgnore::parse(&text).map_err(|error| ContextError::Ignore {
                path: ignore_path,
                error,
            })?;
            (parsed, true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => (DockerIgnore::default(), false),
        Err(source) => {
            return Err(ContextError::Io {
                path: ignore_path,
                source,
            })
        }
    };
    let root = std::fs::canonicalize(context_dir).map_err(|source| ContextError::Io {
        path: context_dir.to_path_buf(),
        source,
    })?;
    let absolute = std::fs::canonicalize(&dockerfile_path).map_err(|source| ContextError::Io {
        path: dockerfile_path.clone(),
        source,
    })?;
    let (outside_dockerfile, dockerfile_in_context) = match absolute.strip_prefix(&root) {
        Ok(rel) => {
            let rel = rel.to_string_lossy().replace('\\', "/");
            // The CLI always sends the Dockerfile and .dockerignore.
            ignore.keep(&rel);
            (None, rel)
        }
        Err(_) => {
            let name = ".dockerfile.hoist".to_owned();
            (Some((absolute, name.clone())), name)
        }
    };
    ignore.keep(".dockerignore");
    Ok(Plan {
        root,
        ignore,
        has_dockerignore,
        outside_dockerfile,
        dockerfile_in_context,
    })
}

/// Starts streaming the context of `context_dir`; must be called in a tokio runtime.
pub fn stream_context(context_dir: &Path, dockerfile: &str) -> Result<ContextStream, ContextError> {
    let plan = plan(context_dir, dockerfile)?;
    let dockerfile_in_context = plan.dockerfile_in_context.clone();
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(CHANNEL_DEPTH);
    let (stats_tx, stats_rx) = oneshot::channel();
    std::thread::spawn(move || {
        let error_tx = tx.clone();
        let mut writer = ChunkWriter {
            buf: Vec::with_capacity(CHUNK),
            tx,
            written: 0,
        };
        let result = write_tar(&plan, &mut writer);
        if let Err(error) = &result {
            // End the body with an error so the daemon does not build half a context.
            let _ = error_tx.blocking_send(Err(io::Error::other(error.to_string())));
        }
        let _ = stats_tx.send(result);
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(ContextStream {
        body: Box::pin(body),
        stats: stats_rx,
        dockerfile_in_context,
    })
}

/// The paths the context would hold, in tar order (for tests and `--dry`).
pub fn list_context(context_dir: &Path, dockerfile: &str) -> Result<Vec<String>, ContextError> {
    let plan = plan(context_dir, dockerfile)?;
    let mut names = Vec::new();
    walk(&plan, &mut ContextStats::default(), |entry| {
        names.push(entry.name.clone());
        Ok(())
    })?;
    if let Some((_, name)) = &plan.outside_dockerfile {
        names.push(name.clone());
    }
    Ok(names)
}

struct Entry {
    path: PathBuf,
    name: String,
    meta: std::fs::Metadata,
}

/// Walks the context in name order, calling `add` for everything that is sent.
fn walk(
    plan: &Plan,
    stats: &mut ContextStats,
    mut add: impl FnMut(&Entry) -> Result<(), ContextError>,
) -> Result<(), ContextError> {
    let mut walker = walkdir::WalkDir::new(&plan.root)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter();
    while let Some(item) = walker.next() {
        let item = item.map_err(|e| ContextError::Io {
            path: e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| plan.root.clone()),
            source: e
                .into_io_error()
                .unwrap_or_else(|| io::Error::other("walk failed")),
        })?;
        let rel = item.path().strip_prefix(&plan.root).unwrap_or(item.path());
        let name = rel.to_string_lossy().replace('\\', "/");
        let is_dir = item.file_type().is_dir();
        if plan.ignore.excludes(&name) {
            if is_dir {
                if plan.ignore.has_exceptions() && plan.ignore.must_enter(&name) {
                    continue; // not sent itself, but something below may be
                }
                stats.excluded_dirs += 1;
                walker.skip_current_dir();
            } else {
                stats.excluded_files += 1;
                stats.excluded_bytes += item.metadata().map_or(0, |m| m.len());
            }
            continue;
        }
        let meta = item.metadata().map_err(|e| ContextError::Io {
            path: item.path().to_path_buf(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| io::Error::other("stat failed")),
        })?;
        if meta.is_file() {
            stats.files += 1;
            stats.bytes += meta.len();
        }
        add(&Entry {
            path: item.path().to_path_buf(),
            name,
            meta,
        })?;
    }
    Ok(())
}

fn write_tar(plan: &Plan, writer: &mut ChunkWriter) -> Result<ContextStats, ContextError> {
    let mut stats = ContextStats {
        has_dockerignore: plan.has_dockerignore,
        ..ContextStats::default()
    };
    let mut builder = tar::Builder::new(&mut *writer);
    builder.follow_symlinks(false);
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ContextError::Io { path, source }
    };
    walk(plan, &mut stats, |entry| {
        append(&mut builder, entry).map_err(io_err(&entry.path))
    })?;
    if let Some((path, name)) = &plan.outside_dockerfile {
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        append(
            &mut builder,
            &Entry {
                path: path.clone(),
                name: name.clone(),
                meta,
            },
        )
        .map_err(io_err(path))?;
    }
    builder.finish().map_err(io_err(&plan.root))?;
    drop(builder);
    writer.flush().map_err(io_err(&plan.root))?;
    stats.tar_bytes = writer.written;
    Ok(stats)
}

fn append<W: Write>(builder: &mut tar::Builder<W>, entry: &Entry) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(&entry.meta, tar::HeaderMode::Complete);
    // As the CLI does: owned by root, no user or group names.
    header.set_uid(0);
    header.set_gid(0);
    let file_type = entry.meta.file_type();
    if file_type.is_symlink() {
        let target = std::fs::read_link(&entry.path)?;
        builder.append_link(&mut header, &entry.name, target)
    } else if file_type.is_dir() {
        builder.append_data(&mut header, format!("{}/", entry.name), io::empty())
    } else if file_type.is_file() {
        let file = std::fs::File::open(&entry.path)?;
        builder.append_data(&mut header, &entry.name, file)
    } else {
        Ok(()) // sockets, fifos and devices are not build input
    }
}

/// Cuts the tar into chunks for the channel; blocks while the daemon is behind.
struct ChunkWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    written: u64,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(Ok(Bytes::from(chunk))).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the daemon stopped reading the context",
            )
        })
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        self.written += n as u64;
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests;
