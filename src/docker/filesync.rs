//! The build context over the BuildKit session, as the docker CLI sends it:
//! BuildKit asks for a directory (`dir-name`: `context` or `dockerfile`) with
//! `FileSync/DiffCopy`, hoist answers with a stat of every entry (in walk
//! order), and BuildKit then requests only the files its copy from the last
//! build lacks or has older (by size, mode and modification time). So a
//! rebuild sends what changed, and nothing at all for a Dockerfile that
//! copies nothing: the classic builder's tar body sends everything, every time.
//!
//! The packets are fsutil's (`fsutil.types.Packet`): STAT per entry then an
//! empty STAT, REQ from the receiver with an entry's index, DATA chunks then
//! an empty DATA, FIN from each side to end.

use super::ignore::DockerIgnore;
use bollard_buildkit_proto::fsutil::types::{packet::PacketType, Packet, Stat};
use bollard_buildkit_proto::moby::filesync::v1::file_sync_server::FileSync;
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

/// Go's `os.FileMode` type bits, which fsutil's `Stat.mode` carries.
const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_SYMLINK: u32 = 1 << 27;
const GO_MODE_SETUID: u32 = 1 << 23;
const GO_MODE_SETGID: u32 = 1 << 22;
const GO_MODE_STICKY: u32 = 1 << 20;

/// How much of a file one DATA packet carries (fsutil's own size).
const CHUNK: usize = 32 * 1024;

/// What the session sent of the context, for the build's summary.
#[derive(Debug, Default)]
pub(super) struct Sent {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
}

impl Sent {
    /// The build's context summary: what the engine asked for.
    pub(super) fn stats(&self, has_dockerignore: bool) -> super::context::ContextStats {
        super::context::ContextStats {
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            has_dockerignore,
            ..super::context::ContextStats::default()
        }
    }
}

/// The directories a build's session serves, by BuildKit's name for them.
pub(super) struct FileSyncProvider {
    dirs: HashMap<String, PathBuf>,
    sent: Arc<Sent>,
}

impl FileSyncProvider {
    pub(super) fn new(dirs: HashMap<String, PathBuf>, sent: Arc<Sent>) -> FileSyncProvider {
        FileSyncProvider { dirs, sent }
    }
}

/// One entry offered to the receiver.
struct Entry {
    stat: Stat,
    /// Set for regular files: where to read the content a REQ asks for.
    file: Option<PathBuf>,
}

type PacketStream = Pin<Box<dyn futures_util::Stream<Item = Result<Packet, Status>> + Send>>;

#[tonic::async_trait]
impl FileSync for FileSyncProvider {
    type DiffCopyStream = PacketStream;

    async fn diff_copy(
        &self,
        request: Request<Streaming<Packet>>,
    ) -> Result<Response<PacketStream>, Status> {
        let values = |key: &str| -> Vec<String> {
            request
                .metadata()
                .get_all(key)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect()
        };
        let name = values("dir-name").into_iter().next().unwrap_or_default();
        let Some(root) = self.dirs.get(&name).cloned() else {
            return Err(Status::not_found(format!(
                "no directory {name:?} in this session"
            )));
        };
        let mut include = values("include-patterns");
        include.extend(values("followpaths"));
        let exclude = values("exclude-patterns");
        let entries = tokio::task::spawn_blocking(move || list(&root, &include, &exclude))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|e| Status::internal(format!("reading the build context: {e}")))?;
        let (tx, rx) = mpsc::channel(16);
        let incoming = request.into_inner();
        tokio::spawn(send(entries, incoming, tx, self.sent.clone()));
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|packet| (packet, rx))
        });
        Ok(Response::new(Box::pin(stream)))
    }

    type TarStreamStream = PacketStream;

    async fn tar_stream(
        &self,
        _: Request<Streaming<Packet>>,
    ) -> Result<Response<PacketStream>, Status> {
        Err(Status::unimplemented(
            "hoist's sessions send contexts by DiffCopy",
        ))
    }
}

fn packet(kind: PacketType) -> Packet {
    Packet {
        r#type: kind.into(),
        ..Packet::default()
    }
}

/// The sender's side of `DiffCopy`: every stat, then the files asked for,
/// until the receiver says FIN.
async fn send(
    entries: Vec<Entry>,
    mut incoming: Streaming<Packet>,
    tx: mpsc::Sender<Result<Packet, Status>>,
    sent: Arc<Sent>,
) {
    for entry in &entries {
        let stat = Packet {
            stat: Some(entry.stat.clone()),
            ..packet(PacketType::PacketStat)
        };
        if tx.send(Ok(stat)).await.is_err() {
            return;
        }
    }
    if tx.send(Ok(packet(PacketType::PacketStat))).await.is_err() {
        return;
    }
    while let Ok(Some(p)) = incoming.message().await {
        match PacketType::try_from(p.r#type) {
            Ok(PacketType::PacketReq) => {
                let file = entries.get(p.id as usize).and_then(|e| e.file.clone());
                if let Err(e) = send_file(p.id, file, &tx, &sent).await {
                    let _ = tx.send(Err(Status::internal(e))).await;
                    return;
                }
            }
            Ok(PacketType::PacketFin) => {
                let _ = tx.send(Ok(packet(PacketType::PacketFin))).await;
                return;
            }
            Ok(PacketType::PacketErr) => return,
            _ => {}
        }
    }
}

async fn send_file(
    id: u32,
    file: Option<PathBuf>,
    tx: &mpsc::Sender<Result<Packet, Status>>,
    sent: &Sent,
) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let path = file.ok_or_else(|| format!("entry {id} is not a file"))?;
    let mut f = tokio::fs::File::open(&path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0; CHUNK];
    loop {
        let n = f
            .read(&mut buf)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let data = Packet {
            id,
            data: buf[..n].to_vec(),
            ..packet(PacketType::PacketData)
        };
        tx.send(Ok(data))
            .await
            .map_err(|_| "the build ended".to_owned())?;
        if n == 0 {
            break;
        }
        sent.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
    sent.files.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// The entries of `root` BuildKit asked for, in the order fsutil walks
/// (each directory before its entries, names sorted): those under an
/// `include` pattern (all when none), with their parent directories, minus
/// what the `exclude` patterns (the `.dockerignore`, as BuildKit read it)
/// keep out.
fn list(root: &Path, include: &[String], exclude: &[String]) -> std::io::Result<Vec<Entry>> {
    let parse = |patterns: &[String]| {
        DockerIgnore::parse(&patterns.join("\n")).map_err(|e| std::io::Error::other(e.message()))
    };
    let excluded = parse(exclude)?;
    if let Some(entries) = named_files(root, include, &excluded)? {
        return Ok(entries);
    }
    let included = parse(include)?;
    let mut paths = Vec::new();
    let mut pending_dirs: Vec<(String, PathBuf)> = Vec::new();
    let mut walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(item) = walk.next() {
        let item = item.map_err(std::io::Error::other)?;
        let rel = relative(root, item.path());
        let is_dir = item.file_type().is_dir();
        if excluded.excludes(&rel) {
            if is_dir {
                if excluded.must_walk_excluded_dir(&rel) {
                    // Sent only if an exception keeps something under it.
                    pending_dirs.push((rel, item.into_path()));
                } else {
                    walk.skip_current_dir();
                }
            }
            continue;
        }
        // An excluded directory an exception reaches into comes just
        // before its first kept entry, as fsutil's walker sends it.
        pending_dirs.retain(|(dir, _)| rel.starts_with(&format!("{dir}/")));
        paths.append(&mut pending_dirs);
        paths.push((rel, item.into_path()));
    }
    if !include.is_empty() {
        // An included path brings its parent directories.
        let kept: Vec<bool> = paths
            .iter()
            .map(|(rel, _)| included.excludes(rel))
            .collect();
        let mut parents = HashSet::new();
        for ((rel, _), _) in paths.iter().zip(&kept).filter(|(_, k)| **k) {
            let mut at = rel.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                parents.insert(parent.to_owned());
                at = parent;
            }
        }
        let mut index = 0;
        paths.retain(|(rel, _)| {
            index += 1;
            kept[index - 1] || parents.contains(rel)
        });
    }
    paths
        .into_iter()
        .map(|(rel, path)| entry(rel, path))
        .collect()
}

/// When every include pattern names one file (how BuildKit asks for the
/// Dockerfile and the `.dockerignore`), those files and their directories,
/// without walking the whole context; `None` when a pattern is a glob or
/// names a directory.
fn named_files(
    root: &Path,
    include: &[String],
    excluded: &DockerIgnore,
) -> std::io::Result<Option<Vec<Entry>>> {
    let literal =
        |p: &String| !p.is_empty() && !p.starts_with('!') && !p.contains(['*', '?', '[', '\\']);
    if include.is_empty() || !include.iter().all(literal) {
        return Ok(None);
    }
    let mut wanted = std::collections::BTreeSet::new();
    for pattern in include {
        let rel = super::ignore::clean_path(pattern);
        let rel = rel.trim_start_matches('/');
        if rel == "." || rel.starts_with("../") || excluded.excludes(rel) {
            continue;
        }
        match std::fs::symlink_metadata(root.join(rel)) {
            Ok(meta) if meta.is_dir() => return Ok(None),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
        // Walk order is the order of the paths' elements.
        let parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
        for depth in 1..=parts.len() {
            wanted.insert(parts[..depth].to_vec());
        }
    }
    wanted
        .into_iter()
        .map(|parts| {
            let rel = parts.join("/");
            entry(rel.clone(), root.join(rel))
        })
        .collect::<std::io::Result<Vec<_>>>()
        .map(Some)
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/")
}

fn entry(rel: String, path: PathBuf) -> std::io::Result<Entry> {
    let meta = std::fs::symlink_metadata(&path)?;
    let unix = meta.permissions().mode();
    let mut mode = unix & 0o777;
    for (bit, go) in [
        (0o4000, GO_MODE_SETUID),
        (0o2000, GO_MODE_SETGID),
        (0o1000, GO_MODE_STICKY),
    ] {
        if unix & bit != 0 {
            mode |= go;
        }
    }
    let kind = meta.file_type();
    let mut linkname = String::new();
    if kind.is_dir() {
        mode |= GO_MODE_DIR;
    } else if kind.is_symlink() {
        mode |= GO_MODE_SYMLINK;
        linkname = std::fs::read_link(&path)?.to_string_lossy().into_owned();
    }
    let nanos = meta.mtime() * 1_000_000_000 + meta.mtime_nsec();
    Ok(Entry {
        stat: Stat {
            path: rel,
            mode,
            uid: meta.uid(),
            gid: meta.gid(),
            size: if kind.is_file() { meta.len() as i64 } else { 0 },
            mod_time: nanos,
            linkname,
            ..Stat::default()
        },
        file: kind.is_file().then_some(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(root: &Path, include: &[&str], exclude: &[&str]) -> Vec<String> {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        list(root, &owned(include), &owned(exclude))
            .unwrap()
            .into_iter()
            .map(|e| e.stat.path)
            .collect()
    }

    #[test]
    fn entries_come_in_walk_order_with_includes_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "Dockerfile",
            "a/b.go",
            "a.b",
            "a/c/d.txt",
            "node_modules/x.js",
            "node_modules/y/keep.js",
            "z",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        assert_eq!(
            names(dir.path(), &[], &[]),
            [
                "Dockerfile",
                "a",
                "a/b.go",
                "a/c",
                "a/c/d.txt",
                "a.b",
                "node_modules",
                "node_modules/x.js",
                "node_modules/y",
                "node_modules/y/keep.js",
                "z"
            ]
        );
        assert_eq!(
            names(dir.path(), &[], &["node_modules", "**/*.txt"]),
            ["Dockerfile", "a", "a/b.go", "a/c", "a.b", "z"]
        );
        assert_eq!(
            names(
                dir.path(),
                &[],
                &["node_modules", "!node_modules/y/keep.js", "a"]
            ),
            [
                "Dockerfile",
                "a.b",
                "node_modules",
                "node_modules/y",
                "node_modules/y/keep.js",
                "z"
            ]
        );
        assert_eq!(names(dir.path(), &["Dockerfile"], &[]), ["Dockerfile"]);
        // Named files (no walk) come in walk order, as a glob's (a walk) do.
        assert_eq!(
            names(
                dir.path(),
                &["z", "node_modules/y/keep.js", "Dockerfile"],
                &[]
            ),
            names(
                dir.path(),
                &["[z]", "node_modules/y/keep.j?", "Dockerfil[e]"],
                &[]
            )
        );
        assert_eq!(
            names(dir.path(), &["z", "a/b.go", "Dockerfile"], &["a"]),
            ["Dockerfile", "z"]
        );
        assert_eq!(
            names(dir.path(), &["a/c/d.txt"], &[]),
            ["a", "a/c", "a/c/d.txt"]
        );
        assert_eq!(
            names(dir.path(), &[".dockerignore"], &[]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn stats_carry_go_file_modes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("f"), "12345").unwrap();
        std::fs::set_permissions(
            dir.path().join("f"),
            std::fs::Permissions::from_mode(0o4755),
        )
        .unwrap();
        std::os::unix::fs::symlink("f", dir.path().join("l")).unwrap();
        let entries = list(dir.path(), &[], &[]).unwrap();
        let stat = |i: usize| &entries[i].stat;
        assert_eq!(stat(0).mode, GO_MODE_DIR | 0o755 & stat(0).mode);
        assert_eq!(stat(1).mode, GO_MODE_SETUID | 0o755);
        assert_eq!(stat(1).size, 5);
        assert_eq!(
            (stat(2).mode & GO_MODE_SYMLINK, stat(2).linkname.as_str()),
            (GO_MODE_SYMLINK, "f")
        );
        assert!(entries[1].file.is_some() && entries[2].file.is_none());
    }
}
