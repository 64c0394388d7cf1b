//! Abbreviated object names with git's length rules: `core.abbrev` when set,
//! else "auto" (7, growing with the number of packed objects), then longer
//! until the prefix names one object only.

use std::path::Path;

const FALLBACK: usize = 7;
const MINIMUM: usize = 4;
const HEX_LEN: usize = 40;

/// The length git starts from before checking that the prefix is unique.
pub(super) fn min_len(repo: &git2::Repository) -> usize {
    let configured = repo
        .config()
        .ok()
        .and_then(|c| c.get_string("core.abbrev").ok());
    match configured.as_deref().map(str::trim) {
        None => auto_len(repo),
        Some(v) if v.eq_ignore_ascii_case("auto") => auto_len(repo),
        Some(v) if is_false(v) => HEX_LEN,
        // git refuses out-of-range values; fall back to auto rather than fail a build.
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (MINIMUM..=HEX_LEN).contains(&n) => n,
            _ => auto_len(repo),
        },
    }
}

fn is_false(v: &str) -> bool {
    ["false", "no", "off", "0"]
        .iter()
        .any(|f| v.eq_ignore_ascii_case(f))
}

/// git's "auto": about 2^len objects expect a collision at 2^(len/2), and a
/// hex digit holds 4 bits; git only counts packed objects for this estimate.
fn auto_len(repo: &git2::Repository) -> usize {
    let count = packed_object_count(&repo.commondir().join("objects/pack"));
    if count == 0 {
        return FALLBACK;
    }
    let bits = 64 - count.leading_zeros() as usize; // msb + 1
    bits.div_ceil(2).max(FALLBACK)
}

/// Sum of the object counts in the pack indexes (the last fan-out entry).
fn packed_object_count(pack_dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(pack_dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
        .filter_map(|e| idx_object_count(&e.path()))
        .sum()
}

fn idx_object_count(path: &Path) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let mut header = [0u8; 8];
    file.read_exact(&mut header).ok()?;
    // Version 2+ starts with "\377tOc" and a version word; version 1 starts with the fan-out.
    let fanout_start = if header[..4] == [0xff, b't', b'O', b'c'] {
        8
    } else {
        0
    };
    file.seek(SeekFrom::Start(fanout_start + 255 * 4)).ok()?;
    let mut last = [0u8; 4];
    file.read_exact(&mut last).ok()?;
    Some(u64::from(u32::from_be_bytes(last)))
}

/// The shortest length from `start` whose prefix of `id` names one object only.
pub(super) fn unique_len(
    repo: &git2::Repository,
    id: git2::Oid,
    start: usize,
) -> Result<usize, git2::Error> {
    let odb = repo.odb()?;
    for len in start..HEX_LEN {
        match odb.exists_prefix(id, len) {
            Ok(_) => return Ok(len),
            Err(e) if e.code() == git2::ErrorCode::Ambiguous => {}
            Err(e) => return Err(e),
        }
    }
    Ok(HEX_LEN)
}
