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
    fn quoting() {
        assert_eq!(quote("plain".into()), "plain");
        assert_eq!(quote("".into()), "''");
        assert_eq!(quote("a b".into()), "'a b'");
        assert_eq!(quote("$HOME".into()), "'$HOME'");
    }
}
