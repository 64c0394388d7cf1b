//! The connection to the Docker engine: DOCKER_HOST (unix socket, tcp, tcp with
//! TLS), the API version negotiated with the daemon, and no request timeout
//! that could cut a long build short.

use super::{auth, DockerError};
use bollard::{Docker, API_DEFAULT_VERSION};
use std::path::PathBuf;

/// Long builds and pushes must not be cut off: a week.
const TIMEOUT_SECS: u64 = 7 * 24 * 3600;
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

pub struct Engine {
    pub(crate) docker: Docker,
    /// Where we connected, for messages.
    pub host: String,
}

impl Engine {
    pub async fn connect() -> Result<Engine, DockerError> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_SOCKET.into());
        let unreachable = |reason: String| DockerError::Unreachable {
            host: host.clone(),
            reason,
        };
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            Docker::connect_with_unix(path, TIMEOUT_SECS, API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://")
            || host.starts_with("http://")
            || host.starts_with("https://")
        {
            if tls_verify() {
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
                "DOCKER_HOST must start with unix://, tcp://, http:// or https://".into(),
            ));
        }
        .map_err(|e| unreachable(e.to_string()))?;
        let docker = docker.with_request_modifier(auth::url_safe_auth_headers);
        // Speak the daemon's API version (the test daemon is 1.41), not bollard's newest.
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Engine { docker, host })
    }

    /// The negotiated API version, e.g. `1.41`.
    pub fn api_version(&self) -> String {
        let v = self.docker.client_version();
        format!("{}.{}", v.major_version, v.minor_version)
    }
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
