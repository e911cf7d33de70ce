//! The plaintext JSON documents of a bundle and the padding rule.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use uuid::Uuid;

/// Current bundle format version (outer header and manifest): what is
/// written. Version 2 signs the payload over its SHA-256; version 1 over its
/// SHA-512 (see [`FORMAT_VERSIONS`]).
pub const FORMAT_VERSION: u64 = 2;
/// The versions read: 1 (bundles written before 2026-12, still in outboxes
/// and on HQ servers) and 2. They differ only in the hash that the outer
/// signature over `payload.age` signs.
pub const FORMAT_VERSIONS: [u64; 2] = [1, 2];
/// Value of the `format` field of the outer header.
pub const FORMAT_NAME: &str = "yaddash-bundle";

/// Name of the plaintext header in the outer tar.
pub const OUTER_HEADER_NAME: &str = "yaddash-bundle.json";
/// Name of the age ciphertext in the outer tar.
pub const PAYLOAD_NAME: &str = "payload.age";
/// Name of the outer signature in the outer tar.
pub const PAYLOAD_SIG_NAME: &str = "payload.age.sig";
/// Name of the manifest inside the payload.
pub const MANIFEST_NAME: &str = "manifest.json";
/// Name of the manifest signature inside the payload.
pub const MANIFEST_SIG_NAME: &str = "manifest.json.sig";
/// Name of the final padding entry inside the payload.
pub const PADDING_NAME: &str = "padding";

/// Smallest padded payload plaintext: every bundle below this looks alike.
pub const MIN_PADDED_LEN: u64 = 64 * 1024;

/// A SHA-256 digest, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Hash(pub [u8; 32]);

/// A bundle id: the SHA-256 of the bundle's `payload.age` bytes.
pub type BundleId = Sha256Hash;

impl Sha256Hash {
    /// Hashes bytes held in memory.
    pub fn digest(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self(sha2::Sha256::digest(bytes).into())
    }
}

impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hash({self})")
    }
}

/// Error parsing a [`Sha256Hash`] from text.
#[derive(Debug, thiserror::Error)]
#[error("not a SHA-256 hash: expected 64 lowercase hex digits")]
pub struct ParseHashError;

impl FromStr for Sha256Hash {
    type Err = ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 || s.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ParseHashError);
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| ParseHashError)?;
        Ok(Self(out))
    }
}

impl Serialize for Sha256Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Sha256Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The plaintext header `yaddash-bundle.json`. Deliberately holds nothing but
/// the format and the sender: no times, no counts, no names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OuterHeader {
    /// Always `"yaddash-bundle"`.
    pub format: String,
    /// Format version, [`FORMAT_VERSION`].
    pub version: u64,
    /// The sending device.
    pub device_id: Uuid,
}

impl OuterHeader {
    /// The header for a bundle from `device_id`.
    pub fn new(device_id: Uuid) -> Self {
        Self {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            device_id,
        }
    }

    /// The exact bytes written to the tar entry (compact JSON and a newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// The signed table of contents inside the payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version, [`FORMAT_VERSION`].
    pub version: u64,
    /// The sending device.
    pub device_id: Uuid,
    /// Per-device sequence number (the first bundle has 1, by convention).
    pub seq: u64,
    /// Bundle id of the device's previous bundle, if any.
    pub prev_bundle_sha256: Option<BundleId>,
    /// When the device made the bundle (device clock, RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The headquarters (trust domain) the bundle is meant for.
    pub hq_id: String,
    /// `recipient_fingerprint` (yaddash-bundle) of every age recipient the payload is
    /// encrypted to, in the order given by the sender.
    pub recipients: Vec<String>,
    /// The entries, in payload order.
    pub entries: Vec<ManifestEntry>,
}

/// One entry of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Path inside the payload tar, e.g. `records/<uuid>.json`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: Sha256Hash,
}

/// Checks that a caller-chosen entry path is safe to extract with stock `tar`
/// and cannot collide with the bundle's own entries.
pub fn check_entry_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() || path.len() > crate::tar::MAX_NAME {
        return Err("must be 1 to 99 bytes long");
    }
    if [MANIFEST_NAME, MANIFEST_SIG_NAME, PADDING_NAME].contains(&path) {
        return Err("is reserved for the bundle's own use");
    }
    for part in path.split('/') {
        if part.is_empty() || part.starts_with('.') {
            return Err("path components must be non-empty and must not start with '.'");
        }
        if !part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err("only ASCII letters, digits, '.', '_', '-' and '/' are allowed");
        }
    }
    Ok(())
}

/// Checks a whole list of entry paths: each valid, no duplicates, and no path
/// that is also a directory of another.
pub fn check_entry_paths<'a>(
    paths: impl Iterator<Item = &'a str>,
) -> Result<(), (String, &'static str)> {
    let mut files = std::collections::BTreeSet::new();
    let mut dirs = std::collections::BTreeSet::new();
    for p in paths {
        check_entry_path(p).map_err(|r| (p.to_owned(), r))?;
        if !files.insert(p) {
            return Err((p.to_owned(), "appears twice"));
        }
        let mut idx = 0;
        while let Some(off) = p[idx..].find('/') {
            dirs.insert(&p[..idx + off]);
            idx += off + 1;
        }
    }
    if let Some(clash) = files.intersection(&dirs).next() {
        return Err(((*clash).to_owned(), "is both a file and a directory"));
    }
    if [MANIFEST_NAME, MANIFEST_SIG_NAME, PADDING_NAME]
        .iter()
        .any(|r| dirs.contains(r))
    {
        return Err((
            "(directory)".to_owned(),
            "uses a reserved name as a directory",
        ));
    }
    Ok(())
}

/// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
/// Communication with PURBs", PETS 2019), the one rule in `yaddash_os`:
/// overhead at most 12 % in general, and at most 3.1 % for the sizes bundles
/// use (64 KiB and more).
pub use yaddash_os::padme;

/// The padded size of a payload plaintext of `len` bytes: at least
/// [`MIN_PADDED_LEN`], then [`padme`], then a multiple of 512.
pub fn padded_len(len: u64) -> Option<u64> {
    let p = padme(len.max(MIN_PADDED_LEN))?;
    p.checked_add(511).map(|v| v & !511)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padme_bounds() {
        assert_eq!(padded_len(1), Some(MIN_PADDED_LEN));
        assert_eq!(padded_len(MIN_PADDED_LEN), Some(MIN_PADDED_LEN));
        for len in [65_537u64, 1 << 20, 3_000_000, 123_456_789, 5 << 30, 1 << 40] {
            let p = padded_len(len).unwrap();
            assert!(p >= len);
            assert!((p - len) as f64 / len as f64 <= 0.032, "{len} -> {p}");
            assert_eq!(p % 512, 0);
        }
    }

    #[test]
    fn entry_paths() {
        assert!(check_entry_path("records/0190.json").is_ok());
        for bad in [
            "", "/abs", "a//b", "../x", "a/../b", ".hidden", "padding", "a b", "é",
        ] {
            assert!(check_entry_path(bad).is_err(), "{bad}");
        }
        assert!(check_entry_paths(["a/b", "a"].into_iter()).is_err());
        assert!(check_entry_paths(["a/b", "a/b"].into_iter()).is_err());
        assert!(check_entry_paths(["a/b", "a/c"].into_iter()).is_ok());
    }
}
