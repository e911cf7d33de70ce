//! Pass 1 of reading a bundle: the outer structure and the sender's
//! signature over `payload.age`, checked without any decryption key.
//!
//! This is all the HQ server can and needs to do; the coordinator's second
//! pass (decrypt and verify the manifest) lives in `yaddash-bundle`.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};
use ssh_key::{HashAlg, PublicKey};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ReadError;
use crate::format::{
    BundleId, FORMAT_NAME, FORMAT_VERSIONS, OUTER_HEADER_NAME, OuterHeader, PAYLOAD_NAME,
    PAYLOAD_SIG_NAME, Sha256Hash,
};
use crate::keys::parse_signing_public_key;
use crate::sshsig::{self, MAX_ARMORED_SIGNATURE, MessageDigest, NAMESPACE_BUNDLE};
use crate::tar::{self, TarError};

const MAX_OUTER_HEADER: u64 = 4096;
const AGE_HEADER_CAPTURE: usize = 64 * 1024;
const BUF: usize = 64 * 1024;

/// What headquarters knows about an enrolled device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownSender {
    /// The device's OpenSSH Ed25519 public key line.
    pub signing_key: String,
    /// If the device was revoked: bundles created at or after this instant are refused.
    pub revoked_from: Option<OffsetDateTime>,
}

/// Looks up enrolled devices by id.
pub trait SenderDirectory {
    /// The enrolled device with this id, if any.
    fn lookup(&self, device_id: Uuid) -> Option<KnownSender>;
}

impl SenderDirectory for HashMap<Uuid, KnownSender> {
    fn lookup(&self, device_id: Uuid) -> Option<KnownSender> {
        self.get(&device_id).cloned()
    }
}

/// What pass 1 established, without decrypting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OuterVerified {
    /// SHA-256 of `payload.age`.
    pub bundle_id: BundleId,
    /// The sending device, whose signature over `payload.age` verified.
    pub device_id: Uuid,
    /// `SHA256:...` fingerprint of the key that signed.
    pub sender_fingerprint: String,
    /// The device's revocation time, as given by the directory.
    pub revoked_from: Option<OffsetDateTime>,
    /// Size of `payload.age`.
    pub payload_len: u64,
    /// Size of the whole bundle file.
    pub total_len: u64,
    /// The format version named by the outer header (one of
    /// [`crate::FORMAT_VERSIONS`]); the signed manifest must name the same.
    pub version: u64,
}

/// Everything pass 1 learns, including what pass 2 needs to continue.
#[derive(Clone, Debug)]
pub struct OuterCheck {
    /// The verified facts.
    pub outer: OuterVerified,
    /// Offset of the first byte of `payload.age` in the input.
    pub payload_offset: u64,
    /// Number of X25519 recipient stanzas in the age header.
    pub x25519_stanzas: usize,
    /// The sender's signing key.
    pub sender_key: PublicKey,
}

fn outer_tar_err(e: TarError) -> ReadError {
    match e {
        TarError::Io(e) => ReadError::Io(e),
        TarError::Eof => ReadError::Truncated,
        TarError::Malformed(reason) => ReadError::NotABundle { reason },
    }
}

/// Reads a small tar entry's data and the padding after it.
pub fn read_small(r: &mut impl Read, size: u64) -> Result<Vec<u8>, TarError> {
    let mut v =
        vec![0u8; usize::try_from(size).map_err(|_| TarError::Malformed("entry too large"))?];
    r.read_exact(&mut v)?;
    tar::skip_padding(r, size)?;
    Ok(v)
}

/// Reads the JSON `format` and `version` fields before the strict schema, so
/// a newer format is reported as such rather than as garbage.
pub fn json_version(bytes: &[u8]) -> Option<(Option<String>, u64)> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let version = v.get("version")?.as_u64()?;
    let format = v.get("format").and_then(|f| f.as_str()).map(str::to_owned);
    Some((format, version))
}

/// Counts the X25519 recipient stanzas of an age v1 header.
pub fn count_x25519_stanzas(prefix: &[u8]) -> Option<usize> {
    let mut lines = prefix.split(|&b| b == b'\n');
    if lines.next()? != b"age-encryption.org/v1" {
        return None;
    }
    let mut count = 0;
    loop {
        let line = lines.next()?;
        if line.starts_with(b"--- ") {
            return Some(count);
        }
        let rest = line.strip_prefix(b"-> ")?;
        if rest.split(|&b| b == b' ').next()? == b"X25519" {
            count += 1;
        }
        loop {
            if lines.next()?.len() < 64 {
                break;
            }
        }
    }
}

/// Reads just the outer header (the first tar entry) and returns the device
/// id it claims, without verifying anything else. Lets a server find the
/// sender before the expensive pass.
pub fn peek_device_id(input: &mut impl Read) -> Result<Uuid, ReadError> {
    Ok(read_outer_header(input)?.0.device_id)
}

fn read_outer_header(input: &mut impl Read) -> Result<(OuterHeader, u64), ReadError> {
    let h = tar::read_entry_header(input)
        .map_err(outer_tar_err)?
        .ok_or(ReadError::NotABundle {
            reason: "empty tar archive",
        })?;
    if h.name != OUTER_HEADER_NAME {
        return Err(ReadError::NotABundle {
            reason: "the first entry is not yaddash-bundle.json",
        });
    }
    if h.size > MAX_OUTER_HEADER {
        return Err(ReadError::NotABundle {
            reason: "yaddash-bundle.json is too large",
        });
    }
    let header_bytes = read_small(input, h.size).map_err(outer_tar_err)?;
    let (format_name, version) = json_version(&header_bytes).ok_or(ReadError::NotABundle {
        reason: "yaddash-bundle.json is not valid",
    })?;
    if format_name.as_deref() != Some(FORMAT_NAME) {
        return Err(ReadError::NotABundle {
            reason: "yaddash-bundle.json does not name the yaddash-bundle format",
        });
    }
    if !FORMAT_VERSIONS.contains(&version) {
        return Err(ReadError::UnsupportedVersion { found: version });
    }
    let header: OuterHeader =
        serde_json::from_slice(&header_bytes).map_err(|_| ReadError::NotABundle {
            reason: "yaddash-bundle.json has unexpected fields",
        })?;
    if header.to_bytes() != header_bytes {
        return Err(ReadError::NotABundle {
            reason: "yaddash-bundle.json is not in canonical form",
        });
    }
    Ok((header, header_bytes.len() as u64))
}

/// Pass 1: checks the outer structure, finds the sender in `senders` and
/// verifies the sender's signature over `payload.age` (streamed, constant
/// memory). Needs no decryption key. Leaves `input` positioned after the end
/// of the bundle.
pub fn verify_outer<R: Read + Seek>(
    input: &mut R,
    senders: &dyn SenderDirectory,
) -> Result<OuterCheck, ReadError> {
    let start = input.stream_position()?;
    let end = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(start))?;
    let file_len = end.saturating_sub(start);
    if file_len == 0 {
        return Err(ReadError::NotABundle {
            reason: "the file is empty",
        });
    }

    let (header, header_len) = read_outer_header(input)?;
    let device_id = header.device_id;
    let sender = senders
        .lookup(device_id)
        .ok_or(ReadError::UnknownSender { device_id })?;
    let sender_key = parse_signing_public_key(&sender.signing_key)
        .map_err(|_| ReadError::SenderKeyInvalid { device_id })?;

    // payload.age, hashed as it streams.
    let h = tar::read_entry_header(input)
        .map_err(outer_tar_err)?
        .ok_or(ReadError::NotABundle {
            reason: "payload.age is missing",
        })?;
    if h.name != PAYLOAD_NAME {
        return Err(ReadError::NotABundle {
            reason: "the second entry is not payload.age",
        });
    }
    let payload_len = h.size;
    let payload_offset = start + tar::entry_len(header_len) + tar::header_len(payload_len);
    let expected_len = tar::entry_len(header_len)
        .checked_add(tar::entry_len(payload_len))
        .ok_or(ReadError::Truncated)?;
    if expected_len > file_len {
        return Err(ReadError::Truncated);
    }
    let mut sha256 = Sha256::new();
    // Version 1 signed the payload's SHA-512; version 2 signs its SHA-256,
    // the bundle id, so the payload is hashed once.
    let mut sha512 = (header.version == 1).then(MessageDigest::new);
    let mut age_prefix = Vec::new();
    let mut remaining = payload_len;
    let mut buf = vec![0u8; BUF];
    while remaining > 0 {
        let want = remaining.min(BUF as u64) as usize;
        let n = match input.read(&mut buf[..want]) {
            Ok(0) => return Err(ReadError::Truncated),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        let chunk = &buf[..n];
        sha256.update(chunk);
        if let Some(d) = sha512.as_mut() {
            d.update(chunk);
        }
        if age_prefix.len() < AGE_HEADER_CAPTURE {
            let k = (AGE_HEADER_CAPTURE - age_prefix.len()).min(n);
            age_prefix.extend_from_slice(&chunk[..k]);
        }
        remaining -= n as u64;
    }
    tar::skip_padding(input, payload_len).map_err(outer_tar_err)?;
    let bundle_id = Sha256Hash(sha256.finalize().into());

    // payload.age.sig
    let h = tar::read_entry_header(input)
        .map_err(outer_tar_err)?
        .ok_or(ReadError::NotABundle {
            reason: "payload.age.sig is missing",
        })?;
    if h.name != PAYLOAD_SIG_NAME {
        return Err(ReadError::NotABundle {
            reason: "the third entry is not payload.age.sig",
        });
    }
    if h.size > MAX_ARMORED_SIGNATURE as u64 {
        return Err(ReadError::NotABundle {
            reason: "payload.age.sig is too large",
        });
    }
    let sig_bytes = read_small(input, h.size).map_err(outer_tar_err)?;
    if tar::read_entry_header(input)
        .map_err(outer_tar_err)?
        .is_some()
    {
        return Err(ReadError::NotABundle {
            reason: "the archive has more entries than a bundle",
        });
    }
    let total_len = expected_len + tar::entry_len(h.size) + tar::END_LEN;
    if file_len > total_len {
        return Err(ReadError::TrailingData {
            extra: file_len - total_len,
        });
    }

    let sig = sshsig::parse_canonical(&sig_bytes).map_err(ReadError::OuterSignatureInvalid)?;
    match sha512 {
        Some(digest) => sshsig::verify_parsed(&sender_key, NAMESPACE_BUNDLE, digest, &sig),
        None => sshsig::verify_sha256(&sender_key, NAMESPACE_BUNDLE, &bundle_id.0, &sig),
    }
    .map_err(ReadError::OuterSignatureInvalid)?;

    let x25519_stanzas = count_x25519_stanzas(&age_prefix).ok_or(ReadError::MalformedPayload {
        reason: "payload.age is not an age v1 file",
    })?;

    Ok(OuterCheck {
        outer: OuterVerified {
            bundle_id,
            device_id,
            sender_fingerprint: sender_key.fingerprint(HashAlg::Sha256).to_string(),
            revoked_from: sender.revoked_from,
            payload_len,
            total_len,
            version: header.version,
        },
        payload_offset,
        x25519_stanzas,
        sender_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_header_stanzas_are_counted() {
        let hdr = b"age-encryption.org/v1\n-> X25519 abc\nbody\n-> X25519 def\nbody\n-> x-grease a b\n\n--- mac\nrest";
        assert_eq!(count_x25519_stanzas(hdr), Some(2));
        assert_eq!(
            count_x25519_stanzas(b"age-encryption.org/v1\n-> X25519 abc\n"),
            None
        );
        assert_eq!(count_x25519_stanzas(b"not age"), None);
    }
}
