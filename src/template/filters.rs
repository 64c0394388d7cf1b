//! hoist's own filters: `quote` for shell commands and `tag` for image tags.

/// POSIX shell quoting: the value as one word, whatever it holds.
pub fn quote(value: String) -> String {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b))
    {
        return value;
    }
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Any string as a valid image tag: `feature/Containerise API` -> `feature-containerise-api`.
pub fn tag(value: String) -> String {
    sanitize_tag(&value)
}

/// The rules behind the `tag` filter and the image steps' tags: lowercase,
/// every run of characters outside `[a-z0-9_.-]` becomes one `-`, no leading
/// `.` or `-`, no trailing `-`, at most 128 characters.
pub fn sanitize_tag(value: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(
            sanitize_tag("feature/Containerise API"),
            "feature-containerise-api"
        );
        assert_eq!(sanitize_tag("v1.1.0"), "v1.1.0");
        assert_eq!(sanitize_tag("--x--"), "x");
        assert_eq!(sanitize_tag("release/1.2"), "release-1.2");
        assert_eq!(sanitize_tag(""), "");
        assert_eq!(sanitize_tag(&"a".repeat(200)).len(), 128);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("plain".into()), "plain");
        assert_eq!(quote("".into()), "''");
        assert_eq!(quote("a b".into()), "'a b'");
        assert_eq!(quote("$HOME".into()), "'$HOME'");
    }
}
