//! The connection to the Docker engine: `DOCKER_HOST` (unix socket, tcp, tcp with
//! TLS), the API version negotiated with the daemon, and no request timeout
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
        // Speak the daemon's API version (the test daemon is 1.41), not bollard's newest.
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(ConnectFailure::of(&e, tls), chain(&e)))?;
        Ok(Engine { docker, host, tls })
    }

    /// The negotiated API version, e.g. `1.41`.
    pub(crate) fn api_version(&self) -> String {
        let v = self.docker.client_version();
        format!("{}.{}", v.major_version, v.minor_version)
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

    #[test]
    fn the_reason_names_the_cause_once() {
        let e = wrapped(std::io::ErrorKind::InvalidData);
        assert_eq!(chain(&e), "invalid peer certificate: UnknownIssuer");
        let e = E::SocketNotFoundError("/tmp/none.sock".into());
        assert_eq!(chain(&e), "Socket not found: /tmp/none.sock");
    }
}
