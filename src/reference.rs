//! Image names and tags: the `tag` rules, validation against the distribution
//! reference grammar, and registry host normalisation.

/// Any string as a valid image tag: lowercase, every run of characters outside
/// `[a-z0-9_.-]` becomes one `-`, no leading `.` or `-`, no trailing `-`, at
/// most 128 characters. `feature/Containerise API` -> `feature-containerise-api`.
pub(crate) fn sanitize_tag(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut pending_dash = false;
    for c in value.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    let trimmed = out.trim_start_matches(['.', '-']);
    let mut tag: String = trimmed.chars().take(128).collect();
    while tag.ends_with('-') {
        tag.pop();
    }
    tag
}

/// Why `tag` is not a valid tag, if it is not: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn tag_problem(tag: &str) -> Option<String> {
    if tag.len() > 128 {
        return Some(format!(
            "it is {} characters long; the limit is 128",
            tag.len()
        ));
    }
    let mut chars = tag.chars();
    match chars.next() {
        None => return Some("it is empty".into()),
        Some(c) if !(c.is_ascii_alphanumeric() || c == '_') => {
            return Some(format!("it starts with `{c}`"));
        }
        _ => {}
    }
    chars
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .map(|c| format!("it contains `{c}`"))
}

/// A repository split into registry host and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repository {
    /// `127.0.0.1:5000`, or `docker.io` when none is named.
    pub registry: String,
    /// `go-with-the-flow/hbaas-server` (`library/x` on Docker Hub).
    pub path: String,
    /// As written, for messages and API calls.
    pub name: String,
}

/// Parses and validates a repository name (no tag).
pub(crate) fn parse_repository(name: &str) -> Result<Repository, String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > 255 {
        return Err("it is longer than 255 characters".into());
    }
    let (registry, path) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (first.to_owned(), rest)
        }
        _ => ("docker.io".to_owned(), name),
    };
    if let Some(c) = registry
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')))
    {
        return Err(format!("the registry `{registry}` contains `{c}`"));
    }
    for component in path.split('/') {
        if let Some(problem) = component_problem(component) {
            return Err(format!("path component `{component}` {problem}"));
        }
    }
    let path = if registry == "docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_owned()
    };
    Ok(Repository {
        registry: normalize_registry(&registry),
        path,
        name: name.to_owned(),
    })
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn component_problem(component: &str) -> Option<String> {
    if component.is_empty() {
        return Some("is empty".into());
    }
    if let Some(c) = component.chars().find(char::is_ascii_uppercase) {
        return Some(format!(
            "has the uppercase letter `{c}` (repository names are lowercase)"
        ));
    }
    if let Some(c) = component
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!("contains `{c}`"));
    }
    let first = component.chars().next()?;
    let last = component.chars().last()?;
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Some("must start and end with a letter or digit".into());
    }
    if component.contains("..")
        || component.contains("___")
        || component.contains("._")
        || component.contains("_.")
    {
        return Some("has separators in a row".into());
    }
    None
}

/// Docker Hub has many names; they are one registry.
pub(crate) fn normalize_registry(host: &str) -> String {
    let host = host
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        other => other.to_owned(),
    }
}

/// Splits `repo:tag` (a port's colon is not a tag); the tag defaults to `latest`.
pub(crate) fn split_reference(reference: &str) -> (&str, &str) {
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(i) => (&reference[..slash + i], &reference[slash + i + 1..]),
        None => (reference, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes() {
        assert_eq!(
            sanitize_tag("feature/Containerise API"),
            "feature-containerise-api"
        );
        assert_eq!(sanitize_tag("v1.1.0"), "v1.1.0");
        assert_eq!(sanitize_tag("--x--"), "x");
        assert_eq!(sanitize_tag("release/1.2"), "release-1.2");
        assert_eq!(sanitize_tag(""), "");
        assert_eq!(sanitize_tag(&"a".repeat(200)).len(), 128);
        assert_eq!(tag_problem(&sanitize_tag("ünïcödé/branch")), None);
    }

    #[test]
    fn tags() {
        assert_eq!(tag_problem("v1.0.0-rc.1"), None);
        assert!(tag_problem(".hidden").unwrap().contains("starts with `.`"));
        assert!(tag_problem("a/b").unwrap().contains("contains `/`"));
        assert!(tag_problem(&"a".repeat(129)).is_some());
    }

    #[test]
    fn repositories() {
        let r = parse_repository("127.0.0.1:5000/go-with-the-flow/hbaas-server").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.path.as_str()),
            ("127.0.0.1:5000", "go-with-the-flow/hbaas-server")
        );
        assert_eq!(
            parse_repository("hbaas-server").unwrap().path,
            "library/hbaas-server"
        );
        assert_eq!(
            parse_repository("localhost/app").unwrap().registry,
            "localhost"
        );
        assert_eq!(
            parse_repository("index.docker.io/org/app")
                .unwrap()
                .registry,
            "docker.io"
        );
        assert!(parse_repository("Org/App")
            .unwrap_err()
            .contains("uppercase"));
        assert!(parse_repository("org/app-").is_err());
        assert!(parse_repository("org//app").is_err());
        assert!(parse_repository("").is_err());
    }

    #[test]
    fn references() {
        assert_eq!(split_reference("app:stable"), ("app", "stable"));
        assert_eq!(
            split_reference("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(
            split_reference("localhost:5000/app:v1"),
            ("localhost:5000/app", "v1")
        );
        assert_eq!(
            normalize_registry("https://index.docker.io/v1/"),
            "docker.io"
        );
    }
}
