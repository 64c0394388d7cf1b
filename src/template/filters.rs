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

pub use crate::docker::reference::sanitize_tag;

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
