//! BuildKit builds through the Engine API.
//!
//! A BuildKit build is `POST /build?version=2&session=ID` plus a session:
//! hoist opens `POST /session` on a second connection, the engine upgrades it
//! (`101 Switching Protocols`) and then calls hoist over HTTP/2 for what the
//! build needs from the client: the values of `RUN --mount=type=secret`
//! (`Secrets/GetSecret`) and a health check. bollard's own session serves
//! registry auth only, so hoist serves this one itself (tonic, with
//! bollard-buildkit-proto's generated services). The build's context still
//! travels as the tar body of `/build`, streamed as for the classic builder.
//!
//! The engine reports progress as BuildKit `StatusResponse`s (vertices,
//! their logs); [`Progress`] turns them into the same step and output events
//! the classic builder's `Step n/m` lines give.

use super::events::{Event, EventSink};
use super::filesync::{FileSyncProvider, Sent};
use super::{DockerError, Engine};
use bollard_buildkit_proto::health::health_check_response::ServingStatus;
use bollard_buildkit_proto::health::health_server::{Health, HealthServer};
use bollard_buildkit_proto::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use bollard_buildkit_proto::moby::buildkit::secrets::v1::secrets_server::{Secrets, SecretsServer};
use bollard_buildkit_proto::moby::buildkit::secrets::v1::{GetSecretRequest, GetSecretResponse};
use bollard_buildkit_proto::moby::buildkit::v1::StatusResponse;
use bollard_buildkit_proto::moby::filesync::v1::file_sync_server::FileSyncServer;
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status};

/// Where a build secret's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SecretSource {
    /// An environment variable of hoist's process, by name.
    Env(String),
    /// A file, read when the build starts.
    File(PathBuf),
}

impl std::fmt::Display for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env={name}"),
            SecretSource::File(path) => write!(f, "file={}", path.display()),
        }
    }
}

/// The secrets' values by id. Its `Debug` shows the ids only.
#[derive(Clone, Default)]
pub(super) struct SecretValues(HashMap<String, Vec<u8>>);

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl SecretValues {
    /// Reads every secret's value before anything is built, so that a missing
    /// one stops the build at once, named with its source (never its value).
    pub(super) fn read(
        secrets: &[(String, SecretSource)],
        image: &str,
        step: &crate::source::Origin,
    ) -> Result<SecretValues, DockerError> {
        let mut values = HashMap::new();
        for (id, source) in secrets {
            let missing = |reason: String| DockerError::SecretMissing {
                image: image.to_owned(),
                id: id.clone(),
                from: source.to_string(),
                reason,
                origin: step.clone(),
            };
            let value = match source {
                SecretSource::Env(name) => std::env::var_os(name)
                    .ok_or_else(|| missing(format!("the environment variable {name} is not set")))?
                    .into_encoded_bytes(),
                SecretSource::File(path) => std::fs::read(path)
                    .map_err(|e| missing(format!("cannot read {}: {e}", path.display())))?,
            };
            values.insert(id.clone(), value);
        }
        Ok(SecretValues(values))
    }
}

/// Why no BuildKit session could be opened.
#[derive(Debug)]
pub(super) enum SessionError {
    /// The engine answered `/session` with something other than an upgrade:
    /// it has no BuildKit (Podman, an old Docker).
    Refused(String),
    /// hoist cannot open a session over this connection (TLS).
    Transport(String),
    /// The connection failed.
    Failed(String),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Refused(why)
            | SessionError::Transport(why)
            | SessionError::Failed(why) => f.write_str(why),
        }
    }
}

/// gRPC methods hoist serves on the session (the engine only calls those
/// announced in the upgrade's headers).
const SESSION_METHODS: [&str; 5] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/List",
    "/moby.buildkit.secrets.v1.Secrets/GetSecret",
    "/moby.filesync.v1.FileSync/DiffCopy",
    "/moby.filesync.v1.FileSync/TarStream",
];

/// What a build's session serves: its secrets and the directories of its
/// context and Dockerfile.
pub(super) struct Services {
    pub secrets: SecretValues,
    /// BuildKit's names (`context`, `dockerfile`) for the directories.
    pub dirs: HashMap<String, PathBuf>,
    /// Tells the engine's copy of the context from earlier builds: the
    /// context directory's path, as the docker CLI keys it.
    pub shared_key: String,
    pub sent: Arc<Sent>,
}

/// An open BuildKit session; dropping it ends it.
pub(super) struct Session {
    pub id: String,
    server: JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Session {
    /// Opens a session on the engine and serves `secrets` on it.
    pub(super) async fn open(engine: &Engine, services: Services) -> Result<Session, SessionError> {
        let id = session_id();
        let stream = connect(engine).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| SessionError::Failed(format!("BuildKit session: {e}")))?;
        tokio::spawn(connection.with_upgrades());
        let mut request = http::Request::post(format!("/v{}/session", engine.api_version()))
            .header(http::header::HOST, "docker")
            .header(http::header::CONNECTION, "Upgrade")
            .header(http::header::UPGRADE, "h2c")
            .header("X-Docker-Expose-Session-Uuid", &id)
            .header("X-Docker-Expose-Session-Name", "hoist")
            .header("X-Docker-Expose-Session-Sharedkey", &services.shared_key);
        for method in SESSION_METHODS {
            request = request.header("X-Docker-Expose-Session-Grpc-Method", method);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| SessionError::Failed(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| SessionError::Failed(format!("BuildKit session: {e}")))?;
        if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
            return Err(SessionError::Refused(format!(
                "the engine answered the BuildKit session with {}",
                response.status()
            )));
        }
        let upgraded = hyper::upgrade::on(response)
            .await
            .map_err(|e| SessionError::Failed(format!("BuildKit session: {e}")))?;
        let io = SessionIo(TokioIo::new(upgraded));
        let server = tokio::spawn(async move {
            // The engine closes the session when the build is over; an error
            // here shows up as the build's own error.
            let _ = tonic::transport::Server::builder()
                .add_service(HealthServer::new(Healthy))
                .add_service(SecretsServer::new(SecretProvider(services.secrets)))
                .add_service(FileSyncServer::new(FileSyncProvider::new(
                    services.dirs,
                    services.sent,
                )))
                .serve_with_incoming(futures_util::stream::iter([Ok::<_, std::io::Error>(io)]))
                .await;
        });
        Ok(Session { id, server })
    }
}

/// A random session id (what the engine keys the session by).
fn session_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut id = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        id.push_str(&format!("{:016x}", h.finish()));
    }
    format!("hoist-{id}")
}

/// Either end of a connection to the engine.
trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// A new connection to the engine, beside bollard's.
async fn connect(engine: &Engine) -> Result<Box<dyn Stream>, SessionError> {
    let failed =
        |e: std::io::Error| SessionError::Failed(format!("cannot reach {}: {e}", engine.host));
    if engine.tls {
        return Err(SessionError::Transport(format!(
            "hoist opens BuildKit sessions over a unix socket or plain tcp, and {} is TLS",
            engine.host
        )));
    }
    if let Some(path) = engine.host.strip_prefix("unix://") {
        return Ok(Box::new(
            tokio::net::UnixStream::connect(path)
                .await
                .map_err(failed)?,
        ));
    }
    let address = engine
        .host
        .trim_start_matches("tcp://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    Ok(Box::new(
        tokio::net::TcpStream::connect(address)
            .await
            .map_err(failed)?,
    ))
}

/// The upgraded session connection, as tonic serves it.
struct SessionIo(TokioIo<hyper::upgrade::Upgraded>);

impl tonic::transport::server::Connected for SessionIo {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl AsyncRead for SessionIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SessionIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The session's health: serving while it is open.
struct Healthy;

#[tonic::async_trait]
impl Health for Healthy {
    async fn check(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving.into(),
        }))
    }

    async fn list(
        &self,
        _: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        Ok(Response::new(HealthListResponse::default()))
    }

    type WatchStream =
        Pin<Box<dyn futures_util::Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

    async fn watch(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("hoist's sessions answer Check"))
    }
}

struct SecretProvider(SecretValues);

#[tonic::async_trait]
impl Secrets for SecretProvider {
    async fn get_secret(
        &self,
        request: Request<GetSecretRequest>,
    ) -> Result<Response<GetSecretResponse>, Status> {
        let id = request.into_inner().id;
        match self.0 .0.get(&id) {
            Some(data) => Ok(Response::new(GetSecretResponse { data: data.clone() })),
            None => Err(Status::not_found(format!(
                "secret {id} is not declared in the build step's `secrets`"
            ))),
        }
    }
}

/// Lines of a vertex's output kept for the error if it fails.
const VERTEX_OUTPUT_LINES: usize = 40;

/// What BuildKit has reported of one vertex (a step of the build).
#[derive(Default)]
struct Vertex {
    name: String,
    announced: bool,
    output: VecDeque<String>,
    /// Output not yet ended by a newline.
    pending: String,
}

/// The build's vertices so far, and the one that failed.
#[derive(Default)]
pub(super) struct Progress {
    vertices: HashMap<String, Vertex>,
    /// The failing step and its last lines.
    pub failed: Option<(String, Vec<String>)>,
    /// The last step announced.
    pub step: Option<String>,
}

impl Progress {
    /// Takes one status update and reports the steps it starts and the
    /// output lines it completes.
    pub(super) fn update(&mut self, status: StatusResponse, events: &dyn EventSink) {
        for v in status.vertexes {
            let vertex = self.vertices.entry(v.digest).or_default();
            if !v.name.is_empty() {
                vertex.name = v.name;
            }
            // BuildKit's own bookkeeping (loading the Dockerfile, metadata,
            // the engine unpacking the uploaded context) is not a step of
            // the user's Dockerfile.
            let internal =
                vertex.name.starts_with("[internal]") || vertex.name == "copy /context /";
            if !vertex.announced && (v.started.is_some() || v.cached) && !internal {
                vertex.announced = true;
                let line = if v.cached {
                    format!("CACHED {}", vertex.name)
                } else {
                    vertex.name.clone()
                };
                events.send(Event::BuildStep { line: &line });
                self.step = Some(vertex.name.clone());
            }
            if !v.error.is_empty() && self.failed.is_none() {
                self.failed = Some((vertex.name.clone(), vertex.output.iter().cloned().collect()));
            }
        }
        for log in status.logs {
            let vertex = self.vertices.entry(log.vertex).or_default();
            vertex.pending.push_str(&String::from_utf8_lossy(&log.msg));
            while let Some(newline) = vertex.pending.find('\n') {
                let line: String = vertex.pending.drain(..=newline).collect();
                let line = super::build::strip_control(line.trim_end());
                if line.is_empty() {
                    continue;
                }
                events.send(Event::BuildOutput { line: &line });
                vertex.output.push_back(line);
                if vertex.output.len() > VERTEX_OUTPUT_LINES {
                    vertex.output.pop_front();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::events::Recorder;
    use bollard_buildkit_proto::moby::buildkit::v1::{Vertex as V, VertexLog};

    fn vertex(digest: &str, name: &str, started: bool, cached: bool, error: &str) -> V {
        V {
            digest: digest.into(),
            name: name.into(),
            cached,
            started: started.then(Default::default),
            error: error.into(),
            ..V::default()
        }
    }

    fn log(digest: &str, msg: &str) -> VertexLog {
        VertexLog {
            vertex: digest.into(),
            msg: msg.as_bytes().to_vec(),
            ..VertexLog::default()
        }
    }

    #[test]
    fn vertices_become_steps_and_their_logs_output_lines() {
        let events = Recorder::default();
        let mut progress = Progress::default();
        progress.update(
            StatusResponse {
                vertexes: vec![
                    vertex(
                        "a",
                        "[internal] load build definition from Dockerfile",
                        true,
                        false,
                        "",
                    ),
                    vertex("b", "[1/3] FROM base", false, true, ""),
                    vertex("c", "[2/3] RUN make", false, false, ""),
                ],
                ..StatusResponse::default()
            },
            &events,
        );
        progress.update(
            StatusResponse {
                vertexes: vec![vertex("c", "", true, false, "")],
                logs: vec![log("c", "comp"), log("c", "iling\n\x1b[31mdone\x1b[0m\n")],
                ..StatusResponse::default()
            },
            &events,
        );
        assert_eq!(
            *events.0.lock().unwrap(),
            [
                r#"BuildStep { line: "CACHED [1/3] FROM base" }"#,
                r#"BuildStep { line: "[2/3] RUN make" }"#,
                r#"BuildOutput { line: "compiling" }"#,
                r#"BuildOutput { line: "done" }"#,
            ]
        );
        assert_eq!(progress.step.as_deref(), Some("[2/3] RUN make"));
        assert!(progress.failed.is_none());
    }

    #[test]
    fn the_failing_vertex_is_kept_with_its_output() {
        let events = Recorder::default();
        let mut progress = Progress::default();
        progress.update(
            StatusResponse {
                vertexes: vec![vertex("c", "[2/2] RUN exit 3", true, false, "")],
                logs: vec![log("c", "about to fail\n")],
                ..StatusResponse::default()
            },
            &events,
        );
        progress.update(
            StatusResponse {
                vertexes: vec![vertex("c", "[2/2] RUN exit 3", true, false, "exit code: 3")],
                ..StatusResponse::default()
            },
            &events,
        );
        assert_eq!(
            progress.failed,
            Some((
                "[2/2] RUN exit 3".to_owned(),
                vec!["about to fail".to_owned()]
            ))
        );
    }

    #[test]
    fn secrets_are_read_from_their_source_and_never_shown() {
        std::env::set_var("HOIST_TEST_SECRET_VALUE", "s3cr3t");
        let values = SecretValues::read(
            &[(
                "token".into(),
                SecretSource::Env("HOIST_TEST_SECRET_VALUE".into()),
            )],
            "app",
            &crate::source::Origin::new(std::sync::Arc::default(), 0, 0),
        )
        .unwrap();
        assert_eq!(values.0["token"], b"s3cr3t");
        assert_eq!(format!("{values:?}"), r#"{"token"}"#);
        let missing = SecretValues::read(
            &[(
                "token".into(),
                SecretSource::Env("HOIST_TEST_SECRET_UNSET".into()),
            )],
            "app",
            &crate::source::Origin::new(std::sync::Arc::default(), 0, 0),
        )
        .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "building `app`: secret `token` (env=HOIST_TEST_SECRET_UNSET): the environment variable HOIST_TEST_SECRET_UNSET is not set"
        );
    }
}
