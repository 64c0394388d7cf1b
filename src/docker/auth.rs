//! Registry credentials, found as the docker CLI finds them, and the fix for
//! how they travel to the daemon.
//!
//! Sources, first match wins:
//! - `HOIST_REGISTRY_USER` and `HOIST_REGISTRY_PASSWORD`: for CI, any registry;
//! - `DOCKER_CONFIG`/config.json or `~/.docker/config.json`: `auths` entries
//!   (`auth`, `identitytoken`), `credHelpers` and `credsStore` through the
//!   `docker-credential-*` helper protocol (the `docker_credential` crate).

use super::DockerError;
use base64::Engine as _;
use bollard::auth::DockerCredentials;

/// Environment variables for CI credentials.
pub(crate) const USER_VAR: &str = "HOIST_REGISTRY_USER";
pub(crate) const PASSWORD_VAR: &str = "HOIST_REGISTRY_PASSWORD";

/// Credentials for one registry; never printed.
#[derive(Clone)]
pub(crate) struct Credentials(pub(crate) DockerCredentials);

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({:?}, <redacted>)", self.0.serveraddress)
    }
}

/// The credentials for `registry` (already normalised, e.g. `docker.io`), if any.
pub(crate) fn credentials_for(registry: &str) -> Result<Option<Credentials>, DockerError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(username), Some(password)) = (env(USER_VAR), env(PASSWORD_VAR)) {
        return Ok(Some(credentials(
            registry,
            Some(username),
            Some(password),
            None,
        )));
    }
    // config.json keys Docker Hub by its v1 URL.
    let server = if registry == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    match docker_credential::get_credential(server) {
        Ok(DockerCredential::UsernamePassword(user, password)) => Ok(Some(credentials(
            registry,
            Some(user),
            Some(password),
            None,
        ))),
        Ok(DockerCredential::IdentityToken(token)) => {
            Ok(Some(credentials(registry, None, None, Some(token))))
        }
        Err(E::NoCredentialConfigured | E::ConfigNotFound | E::ConfigReadError) => Ok(None),
        // Helper output may hold secrets: name the helper, never echo what it said.
        Err(E::HelperFailure { helper, .. }) => Err(DockerError::Credentials {
            registry: registry.to_owned(),
            reason: format!("credential helper `docker-credential-{helper}` failed"),
        }),
        Err(other) => Err(DockerError::Credentials {
            registry: registry.to_owned(),
            reason: other.to_string(),
        }),
    }
}

fn credentials(
    registry: &str,
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
) -> Credentials {
    Credentials(DockerCredentials {
        username,
        password,
        identitytoken: token,
        serveraddress: Some(registry.to_owned()),
        ..DockerCredentials::default()
    })
}

/// bollard 0.21 encodes `X-Registry-Auth`/`X-Registry-Config` with standard
/// base64, but the daemon decodes URL-safe base64: a credential whose encoding
/// holds `+` or `/` is silently dropped and the push fails with "no basic auth
/// credentials". Every request passes through here and is re-encoded.
pub(super) fn url_safe_auth_headers(
    mut request: bollard::BollardRequest,
) -> bollard::BollardRequest {
    for name in ["X-Registry-Auth", "X-Registry-Config"] {
        let Some(value) = request.headers().get(name) else {
            continue;
        };
        let Some(fixed) = reencode(value.as_bytes()) else {
            continue;
        };
        if let Ok(value) = http::HeaderValue::from_str(&fixed) {
            request.headers_mut().insert(name, value);
        }
    }
    request
}

fn reencode(standard: &[u8]) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(standard)
        .ok()?;
    Some(base64::engine::general_purpose::URL_SAFE.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reencodes_standard_base64_as_url_safe() {
        let json = r#"{"username":"hoist","password":"p>a?s~s>w?o~rd"}"#;
        let standard = base64::engine::general_purpose::STANDARD.encode(json);
        assert!(
            standard.contains('/'),
            "the test password must need the fix"
        );
        let fixed = reencode(standard.as_bytes()).unwrap();
        assert!(!fixed.contains('/') && !fixed.contains('+'));
        let back = base64::engine::general_purpose::URL_SAFE
            .decode(fixed)
            .unwrap();
        assert_eq!(back, json.as_bytes());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = credentials("r", Some("u".into()), Some("hunter2".into()), None);
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
