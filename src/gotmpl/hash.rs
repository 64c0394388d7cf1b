//! The digests sprig exposes (`sha256sum`, `sha1sum`, `adler32sum`), from
//! maintained crates; the recorded go-task outputs check them.

use sha1::Digest;

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", sha2::Sha256::digest(data))
}

pub(crate) fn sha1_hex(data: &[u8]) -> String {
    format!("{:x}", sha1::Sha1::digest(data))
}

pub(crate) fn adler32(data: &[u8]) -> u32 {
    let mut adler = adler2::Adler32::new();
    adler.write_slice(data);
    adler.checksum()
}
