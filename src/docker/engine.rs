//! The connection to the Docker engine: `DOCKER_HOST` (unix socket, tcp, tcp with
//! TLS), the API version negotiated with the daemon, which engine answers
//! (Docker, or Podman's Docker-compatible service), and no request timeout
//! that could cut a long build short.

use super::{auth, DockerError};
use bollard::{Docker, API_DEFAULT_VERSION};
use std::path::PathBuf;

/// Long builds and pushes must not be cut off: a week.
const TIMEOUT_SECS: u64 = 7 * 24 * 3600;
pub(super) const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

pub(crate) struct Engine {
    pub(crate) docker: Docker,
    /// Where we connected, for messages.
    pub host: String,
    /// Whether the connection speaks TLS (`DOCKER_TLS_VERIFY`).
    pub tls: bool,
    pub(crate) kind: Kind,
    /// The engine's own version (`20.10.24`, `4.3.1`), when it says.
    pub(crate) version: Option<String>,
}

/// Which engine answers the Docker API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Docker,
    /// `podman system service`: Buildah builds, `localhost/` names.
    Podman,
}

impl Engine {
    pub(crate) async fn connect() -> Result<Engine, DockerError> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_SOCKET.into());
        let unreachable = |cause: ConnectFailure, reason: String| DockerError::Unreachable {
            host: host.clone(),
            cause,
            reason,
        };
        let tls = tls_verify();
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, TIMEOUT_SECS, API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://")
            || host.starts_with("http://")
            || host.starts_with("https://")
        {
            if tls {
                let certs = cert_path();
                Docker::connect_with_ssl(
                    &host,
                    &certs.join("key.pem"),
                    &certs.join("cert.pem"),
                    &certs.join("ca.pem"),
                    TIMEOUT_SECS,
                    API_DEFAULT_VERSION,
                )
            } else {
                Docker::connect_with_http(&host, TIMEOUT_SECS, API_DEFAULT_VERSION)
            }
        } else {
            return Err(unreachable(
                ConnectFailure::Scheme,
                "DOCKER_HOST must start with unix://, tcp://, http:// or https://".into(),
            ));
        }
        .map_err(|e| unreachable(ConnectFailure::of(&e, tls), chain(&e)))?;
        let docker = docker.with_request_modifier(auth::url_safe_auth_headers);
        // Speak the daemon's API version (the test daemon is 1.41), not bollard's
        // newest, and learn which engine answers: two `GET /version`s, sent
        // together (a clone shares the negotiated version) to wait for one.
        let (negotiated, about) =
            tokio::join!(docker.clone().negotiate_version(), docker.version());
        let connect_error =
            |e: bollard::errors::Error| unreachable(ConnectFailure::of(&e, tls), chain(&e));
        negotiated.map_err(connect_error)?;
        let about = about.map_err(connect_error)?;
        let (kind, version) = identify(&about);
        Ok(Engine {
            docker,
            host,
            tls,
            kind,
            version,
        })
    }

    /// The engine and its version, for `--verbose`: `Podman Engine 4.3.1`.
    pub(crate) fn name(&self) -> String {
        let name = match self.kind {
            Kind::Docker => "Docker Engine",
            Kind::Podman => "Podman Engine",
        };
        match &self.version {
            Some(version) => format!("{name} {version}"),
            None => name.to_owned(),
        }
    }

    /// The negotiated API version, e.g. `1.41`.
    pub(crate) fn api_version(&self) -> String {
        let v = self.docker.client_version();
        format!("{}.{}", v.major_version, v.minor_version)
    }
}

/// The engine behind `GET /version`: Podman lists a component named
/// `Podman Engine`, Docker one named `Engine` (older daemons list none).
fn identify(about: &bollard::models::SystemVersion) -> (Kind, Option<String>) {
    let components = about.components.as_deref().unwrap_or_default();
    let version_of = |name: &str| {
        components
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.version.clone())
    };
    match version_of("Podman Engine") {
        Some(version) => (Kind::Podman, Some(version)),
        None => (
            Kind::Docker,
            version_of("Engine").or_else(|| about.version.clone()),
        ),
    }
}

/// What a failed request to the engine says. An error answer (HTTP 4xx/5xx
/// rather than an error inside a 200 stream) is told by its status and the
/// engine's message; Podman sends some with an empty body.
pub(crate) fn api_error(error: &bollard::errors::Error) -> String {
    match error {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => {
            let message = message.trim();
            if message.is_empty() {
                format!(
                    "the engine answered HTTP {status_code} without a reason (Podman answers some errors so; `podman --log-level=info system service` logs each with its reason)"
                )
            } else {
                format!("the engine answered HTTP {status_code}: {message}")
            }
        }
        other => other.to_string(),
    }
}

/// Why the engine could not be reached, as far as its connection tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnectFailure {
    /// `DOCKER_HOST` names a scheme hoist cannot speak.
    Scheme,
    /// The TLS files (`DOCKER_CERT_PATH`) could not be read.
    Certificates,
    /// A plain HTTP request was answered the way a TLS endpoint answers one.
    SpeaksTls,
    /// The TLS handshake failed: the engine's certificate is not signed by
    /// our ca.pem, it refused ours, or the endpoint does not speak TLS.
    Handshake,
    /// Nothing answered (no socket, connection refused), or not as an engine.
    NoEngine,
}

impl ConnectFailure {
    /// Classifies bollard's error by its variant and the I/O errors under it.
    fn of(error: &bollard::errors::Error, tls: bool) -> ConnectFailure {
        use bollard::errors::Error as E;
        use std::io::ErrorKind::InvalidData;
        match error {
            E::CertPathError { .. }
            | E::CertMultipleKeys { .. }
            | E::CertParseError { .. }
            | E::NoNativeCertsError { .. }
            | E::LoadNativeCertsErrors { .. }
            | E::NoHomePathError => ConnectFailure::Certificates,
            // Every engine answers `GET /version`; a 400 to it over plain
            // HTTP is what a TLS server (Go's, the daemon's) answers a
            // request that is not TLS.
            E::DockerResponseServerError {
                status_code: 400, ..
            } if !tls => ConnectFailure::SpeaksTls,
            _ if !tls => ConnectFailure::NoEngine,
            // rustls reports a failed handshake as invalid data.
            E::IOError { err } if io_kinds(err).contains(&InvalidData) => ConnectFailure::Handshake,
            _ if io_kinds(error).contains(&InvalidData) => ConnectFailure::Handshake,
            _ => ConnectFailure::NoEngine,
        }
    }
}

/// The kinds of the I/O errors anywhere under `error`. `io::Error::source`
/// skips the error it wraps, so wrapped errors are opened with `get_ref`.
fn io_kinds(error: &(dyn std::error::Error + 'static)) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        next = current.source();
        let mut io = current.downcast_ref::<std::io::Error>();
        while let Some(e) = io {
            kinds.push(e.kind());
            let inner = e.get_ref().map(|r| r as &(dyn std::error::Error + 'static));
            io = inner.and_then(|r| r.downcast_ref::<std::io::Error>());
            if io.is_none() {
                if let Some(inner) = inner {
                    next = Some(inner);
                }
            }
        }
    }
    kinds
}

/// An error and its causes, each once: bollard's own text (`client error
/// (Connect)`) says little without the cause under it.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string().trim_end().to_owned();
    let mut next = error.source();
    while let Some(cause) = next {
        let part = cause.to_string();
        let part = part.trim_end();
        if !text.ends_with(part) {
            text.push_str(": ");
            text.push_str(part);
        }
        next = cause.source();
    }
    text
}

fn tls_verify() -> bool {
    std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn cert_path() -> PathBuf {
    match std::env::var_os("DOCKER_CERT_PATH") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(".docker"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::errors::Error as E;

    fn wrapped(kind: std::io::ErrorKind) -> E {
        let inner = std::io::Error::new(kind, "invalid peer certificate: UnknownIssuer");
        E::IOError {
            err: std::io::Error::other(inner),
        }
    }

    #[test]
    fn a_plain_request_refused_by_a_tls_endpoint_is_told_by_its_status() {
        let answer = E::DockerResponseServerError {
            status_code: 400,
            message: "Client sent an HTTP request to an HTTPS server.".into(),
        };
        assert_eq!(
            ConnectFailure::of(&answer, false),
            ConnectFailure::SpeaksTls
        );
        assert_eq!(ConnectFailure::of(&answer, true), ConnectFailure::NoEngine);
        let not_found = E::DockerResponseServerError {
            status_code: 404,
            message: "page not found".into(),
        };
        assert_eq!(
            ConnectFailure::of(&not_found, false),
            ConnectFailure::NoEngine
        );
    }

    #[test]
    fn a_failed_handshake_is_found_under_wrapping_io_errors() {
        let e = wrapped(std::io::ErrorKind::InvalidData);
        assert_eq!(ConnectFailure::of(&e, true), ConnectFailure::Handshake);
        assert_eq!(ConnectFailure::of(&e, false), ConnectFailure::NoEngine);
        let refused = wrapped(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(ConnectFailure::of(&refused, true), ConnectFailure::NoEngine);
        let certs = E::CertPathError {
            path: "/nowhere/ca.pem".into(),
        };
        assert_eq!(
            ConnectFailure::of(&certs, true),
            ConnectFailure::Certificates
        );
    }

    fn version_with(components: &[(&str, &str)], version: &str) -> bollard::models::SystemVersion {
        let components = components
            .iter()
            .map(|(name, version)| bollard::models::SystemVersionComponents {
                name: (*name).to_owned(),
                version: (*version).to_owned(),
                details: None,
            })
            .collect();
        bollard::models::SystemVersion {
            components: Some(components),
            version: Some(version.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn the_engine_is_told_by_its_version_components() {
        // As `GET /version` of podman 4.3 and dockerd 20.10 answer.
        let podman = version_with(
            &[
                ("Podman Engine", "4.3.1"),
                ("Conmon", "conmon version 2.1.6"),
            ],
            "4.3.1",
        );
        assert_eq!(identify(&podman), (Kind::Podman, Some("4.3.1".into())));
        let docker = version_with(
            &[("Engine", "20.10.24+dfsg1"), ("containerd", "1.6.20")],
            "20.10.24+dfsg1",
        );
        assert_eq!(
            identify(&docker),
            (Kind::Docker, Some("20.10.24+dfsg1".into()))
        );
        let old = bollard::models::SystemVersion {
            version: Some("1.13.1".into()),
            ..Default::default()
        };
        assert_eq!(identify(&old), (Kind::Docker, Some("1.13.1".into())));
    }

    #[test]
    fn an_error_answer_says_its_status_and_message() {
        let answer = |status_code, message: &str| E::DockerResponseServerError {
            status_code,
            message: message.into(),
        };
        assert_eq!(
            api_error(&answer(404, "No such image: app:v1")),
            "the engine answered HTTP 404: No such image: app:v1"
        );
        let empty = api_error(&answer(500, ""));
        assert!(
            empty.starts_with("the engine answered HTTP 500 without a reason"),
            "{empty}"
        );
    }

    #[test]
    fn the_reason_names_the_cause_once() {
        let e = wrapped(std::io::ErrorKind::InvalidData);
        assert_eq!(chain(&e), "invalid peer certificate: UnknownIssuer");
        let e = E::SocketNotFoundError("/tmp/none.sock".into());
        assert_eq!(chain(&e), "Socket not found: /tmp/none.sock");
    }
}
