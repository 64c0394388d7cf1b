//! Remote URLs as something safe to print and to put in an image label:
//! https where it can be, never with credentials.

/// `git@host:org/repo.git`, `ssh://git@host/org/repo.git` and
/// `https://user:token@host/org/repo.git` all become `https://host/org/repo`.
/// Local paths and `file://` URLs are returned as they are.
pub(super) fn public_url(raw: &str) -> String {
    let raw = raw.trim();
    let (scheme, rest) = match raw.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest.to_owned()),
        None => match scp_like(raw) {
            Some(rest) => ("ssh".to_owned(), rest),
            None => return raw.to_owned(),
        },
    };
    if scheme == "file" {
        return raw.to_owned();
    }
    let (authority, path) = rest.split_once('/').unwrap_or((&rest, ""));
    // Credentials sit before the last '@' of the authority (a password may hold '@').
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if scheme == "http" || scheme == "https" {
        host_port
    } else {
        // An ssh or git-protocol port says nothing about the web port.
        strip_port(host_port)
    };
    let out_scheme = if scheme == "http" { "http" } else { "https" };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    if path.is_empty() {
        format!("{out_scheme}://{host}")
    } else {
        format!("{out_scheme}://{host}/{path}")
    }
}

/// git's scp-like syntax `[user@]host:path` rewritten as `[user@]host/path`;
/// `None` for a local path (no ':' before the first '/').
fn scp_like(raw: &str) -> Option<String> {
    let colon = raw.find(':')?;
    if colon == 0 || raw[..colon].contains('/') {
        return None;
    }
    let path = raw[colon + 1..].trim_start_matches('/');
    Some(format!("{}/{}", &raw[..colon], path))
}

fn strip_port(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end]; // [v6]:port
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::public_url;

    #[test]
    fn scp_like_becomes_https() {
        assert_eq!(
            public_url("git@github.com:acme/api.git"),
            "https://github.com/acme/api"
        );
        assert_eq!(
            public_url("github.com:acme/api"),
            "https://github.com/acme/api"
        );
    }

    #[test]
    fn ssh_url_becomes_https_without_user_or_port() {
        assert_eq!(
            public_url("ssh://git@gitlab.example.com/group/sub/api.git"),
            "https://gitlab.example.com/group/sub/api"
        );
        assert_eq!(
            public_url("ssh://git@host.example:2222/org/repo.git/"),
            "https://host.example/org/repo"
        );
        assert_eq!(
            public_url("git://host.example/org/repo.git"),
            "https://host.example/org/repo"
        );
    }

    #[test]
    fn credentials_never_survive() {
        let url = public_url("https://ci-bot:s3cr@t!@github.com/acme/api.git");
        assert_eq!(url, "https://github.com/acme/api");
        assert!(!url.contains("s3cr"));
        let url = public_url("https://x-access-token:ghp_abc123@github.com/acme/api");
        assert_eq!(url, "https://github.com/acme/api");
        let url = public_url("ssh://deploy:hunter2@host.example/org/repo.git");
        assert_eq!(url, "https://host.example/org/repo");
    }

    #[test]
    fn https_keeps_port_and_http_stays_http() {
        assert_eq!(
            public_url("https://git.example:8443/org/repo.git"),
            "https://git.example:8443/org/repo"
        );
        assert_eq!(
            public_url("http://127.0.0.1:3000/org/repo"),
            "http://127.0.0.1:3000/org/repo"
        );
    }

    #[test]
    fn local_paths_are_kept() {
        assert_eq!(public_url("/srv/git/repo.git"), "/srv/git/repo.git");
        assert_eq!(public_url("../other"), "../other");
        assert_eq!(public_url("file:///srv/git/repo"), "file:///srv/git/repo");
    }
}
