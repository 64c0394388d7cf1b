//! `git describe --tags` through libgit2, whose describe is a port of git's
//! (same candidate walk, annotated tags preferred over lightweight ones,
//! newer tagger date among annotated ones), with git's abbreviation length.

/// The tag-based description of `commit`, `None` when no tag reaches it.
/// `candidates: Some(0)` asks for an exact match only (`--exact-match`);
/// `abbrev_len` is git's length for the commit part (`abbrev::min_len`).
pub(super) fn describe_tags(
    commit: &git2::Commit<'_>,
    candidates: Option<u32>,
    abbrev_len: usize,
) -> Result<Option<String>, git2::Error> {
    let mut opts = git2::DescribeOptions::new();
    opts.describe_tags().show_commit_oid_as_fallback(false);
    if let Some(max) = candidates {
        opts.max_candidates_tags(max);
    }
    let described = match commit.as_object().describe(&opts) {
        Ok(d) => d,
        // "No tags can describe" / "no reference found": not an error for us.
        Err(e) if e.class() == git2::ErrorClass::Describe => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut format = git2::DescribeFormatOptions::new();
    // libgit2 only widens the abbreviation when ambiguous; git also widens it
    // for large repositories and honours core.abbrev.
    format.abbreviated_size(abbrev_len as u32);
    described.format(Some(&format)).map(Some)
}
