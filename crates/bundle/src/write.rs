//! Writing a bundle, streaming, in constant memory.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::rc::Rc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::WriteError;
use crate::hash_behind::HashBehind;
use crate::keys::{DeviceKeys, recipient_fingerprint};
use yaddash_wire::sshsig::{self, NAMESPACE_BUNDLE, NAMESPACE_MANIFEST};
use yaddash_wire::tar;
use yaddash_wire::{
    BundleId, FORMAT_VERSION, MANIFEST_NAME, MANIFEST_SIG_NAME, Manifest, ManifestEntry,
    OUTER_HEADER_NAME, OuterHeader, PADDING_NAME, PAYLOAD_NAME, PAYLOAD_SIG_NAME, Sha256Hash,
};

const COPY_BUF: usize = 64 * 1024;

/// What the sender says about a bundle, besides its entries.
#[derive(Clone, Debug)]
pub struct BundleSpec {
    /// The sending device's id (must be the id enrolled with these keys).
    pub device_id: Uuid,
    /// Per-device sequence number.
    pub seq: u64,
    /// Bundle id of this device's previous bundle, if any.
    pub prev_bundle_sha256: Option<BundleId>,
    /// Creation time to record in the manifest.
    pub created_at: OffsetDateTime,
    /// The headquarters the bundle is meant for.
    pub hq_id: String,
    /// The coordinators' age recipients. The payload is encrypted to all of them.
    pub recipients: Vec<age::x25519::Recipient>,
}

/// One entry to put in a bundle. Its size and SHA-256 must be known up front
/// (they go into the signed manifest, which precedes the data); the writer
/// checks while streaming that `reader` yields exactly that.
pub struct EntrySource<'a> {
    /// Path inside the payload, e.g. `records/<uuid>.json` or
    /// `attachments/<uuid>`. ASCII letters, digits, `.`, `_`, `-`, `/`.
    pub path: String,
    /// Exact size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes (e.g. the capture hash of an attachment).
    pub sha256: Sha256Hash,
    /// The bytes. Wrap it to report progress; return an error from it to cancel.
    pub reader: Box<dyn Read + 'a>,
}

impl<'a> EntrySource<'a> {
    /// An entry from bytes held in memory (size and hash computed here).
    pub fn from_bytes(path: impl Into<String>, bytes: &'a [u8]) -> Self {
        Self {
            path: path.into(),
            size: bytes.len() as u64,
            sha256: Sha256Hash::digest(bytes),
            reader: Box::new(bytes),
        }
    }
}

impl std::fmt::Debug for EntrySource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntrySource")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// What was written.
#[derive(Clone, Debug)]
pub struct WrittenBundle {
    /// SHA-256 of `payload.age`.
    pub bundle_id: BundleId,
    /// Total size of the bundle file.
    pub total_len: u64,
    /// Size of the padded plaintext inside `payload.age`.
    pub padded_plaintext_len: u64,
    /// The signed manifest.
    pub manifest: Manifest,
}

/// Shared between the writer and the sink that age writes into: the age header
/// is held back until its length is known, so the tar header of `payload.age`
/// (which needs the exact ciphertext size) can be written in front of it
/// without seeking.
#[derive(Default)]
struct Held {
    bytes: Vec<u8>,
    prefix: Option<Vec<u8>>,
}

struct PayloadSink<W> {
    out: W,
    held: Rc<RefCell<Held>>,
    holding: bool,
    hashes: HashBehind,
    len: u64,
}

impl<W: Write> PayloadSink<W> {
    fn emit(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)?;
        self.hashes.update(buf)?;
        self.len += buf.len() as u64;
        Ok(())
    }
}

impl<W: Write> Write for PayloadSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.holding {
            let released = {
                let mut held = self.held.borrow_mut();
                match held.prefix.take() {
                    Some(prefix) => Some((prefix, std::mem::take(&mut held.bytes))),
                    None => {
                        held.bytes.extend_from_slice(buf);
                        None
                    }
                }
            };
            match released {
                None => return Ok(buf.len()),
                Some((prefix, bytes)) => {
                    self.holding = false;
                    self.out.write_all(&prefix)?;
                    self.emit(&bytes)?;
                }
            }
        }
        self.emit(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes a bundle to `out`, streaming every entry through encryption.
///
/// Memory use is constant (a few 64 KiB buffers plus the manifest) whatever
/// the entry sizes. `out` only needs [`Write`]; on error the partial output
/// must be discarded by the caller.
///
/// The entry readers are checked against their declared `size` and `sha256`;
/// a mismatch fails with [`WriteError::EntrySizeMismatch`] or
/// [`WriteError::EntryHashMismatch`].
pub fn write_bundle<W: Write>(
    mut out: W,
    keys: &DeviceKeys,
    spec: &BundleSpec,
    entries: Vec<EntrySource<'_>>,
) -> Result<WrittenBundle, WriteError> {
    if spec.recipients.is_empty() {
        return Err(WriteError::NoRecipients);
    }
    if spec.hq_id.is_empty() || spec.hq_id.len() > 200 || spec.hq_id.chars().any(|c| c.is_control())
    {
        return Err(WriteError::BadHqId);
    }
    yaddash_wire::check_entry_paths(entries.iter().map(|e| e.path.as_str()))
        .map_err(|(path, reason)| WriteError::BadEntryPath { path, reason })?;

    let manifest = Manifest {
        version: FORMAT_VERSION,
        device_id: spec.device_id,
        seq: spec.seq,
        prev_bundle_sha256: spec.prev_bundle_sha256,
        created_at: spec.created_at,
        hq_id: spec.hq_id.clone(),
        recipients: spec.recipients.iter().map(recipient_fingerprint).collect(),
        entries: entries
            .iter()
            .map(|e| ManifestEntry {
                path: e.path.clone(),
                size: e.size,
                sha256: e.sha256,
            })
            .collect(),
    };
    let mut manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| WriteError::Io(io::Error::other(e)))?;
    manifest_bytes.push(b'\n');
    let manifest_sig = sshsig::sign_bytes(keys, NAMESPACE_MANIFEST, &manifest_bytes)?;

    // Plaintext size before padding, with an empty padding entry.
    let mut unpadded = tar::entry_len(manifest_bytes.len() as u64)
        + tar::entry_len(manifest_sig.len() as u64)
        + tar::BLOCK
        + tar::END_LEN;
    for e in &entries {
        unpadded = unpadded
            .checked_add(tar::entry_len(e.size))
            .ok_or(WriteError::TooLarge)?;
    }
    let target = yaddash_wire::padded_len(unpadded).ok_or(WriteError::TooLarge)?;
    let mut padding = target - unpadded;
    if tar::needs_pax(padding) {
        // The pax header takes two more blocks out of the padding.
        padding -= 2 * tar::BLOCK;
        if !tar::needs_pax(padding) {
            padding = (0o77_777_777_777u64) & !511;
        }
    }
    let plaintext_len = unpadded - tar::BLOCK + tar::entry_len(padding);

    // Outer tar: the plaintext header first.
    let header_bytes = OuterHeader::new(spec.device_id).to_bytes();
    let mut total = 0u64;
    out.write_all(&tar::entry_header(
        OUTER_HEADER_NAME,
        header_bytes.len() as u64,
    ))?;
    out.write_all(&header_bytes)?;
    tar::write_zeros(&mut out, tar::padding_after(header_bytes.len() as u64))?;
    total += tar::entry_len(header_bytes.len() as u64);

    // payload.age, streamed.
    let held = Rc::new(RefCell::new(Held::default()));
    let sink = PayloadSink {
        out: &mut out,
        held: Rc::clone(&held),
        holding: true,
        hashes: HashBehind::new()?,
        len: 0,
    };
    let recipients: Vec<&dyn age::Recipient> = spec
        .recipients
        .iter()
        .map(|r| r as &dyn age::Recipient)
        .collect();
    let mut age_out =
        yaddash_agefile::Writer::new(sink, &recipients).map_err(|_| WriteError::Encrypt)?;
    // The header and the payload nonce, written by `Writer::new`.
    let age_header_len = held.borrow().bytes.len() as u64;
    let payload_len = yaddash_agefile::body_len(plaintext_len)
        .and_then(|b| b.checked_add(age_header_len))
        .ok_or(WriteError::TooLarge)?;
    held.borrow_mut().prefix = Some(tar::entry_header(PAYLOAD_NAME, payload_len));

    write_entry_bytes(&mut age_out, MANIFEST_NAME, &manifest_bytes)?;
    write_entry_bytes(&mut age_out, MANIFEST_SIG_NAME, manifest_sig.as_bytes())?;
    let mut buf = Zeroizing::new(vec![0u8; COPY_BUF]);
    for entry in entries {
        copy_entry(&mut age_out, entry, &mut buf)?;
    }
    age_out.write_all(&tar::entry_header(PADDING_NAME, padding))?;
    tar::write_zeros(&mut age_out, padding)?;
    tar::write_zeros(&mut age_out, tar::END_LEN)?;
    let sink = age_out.finish()?;
    if sink.len != payload_len {
        return Err(WriteError::Io(io::Error::other(
            "internal error: age ciphertext length differs from the prediction",
        )));
    }
    let sha256 = sink.hashes.finish()?;
    let bundle_id = Sha256Hash(sha256.finalize().into());
    tar::write_zeros(&mut out, tar::padding_after(payload_len))?;
    total += tar::entry_len(payload_len);

    let sig = sshsig::sign_sha256(keys, NAMESPACE_BUNDLE, &bundle_id.0)?;
    write_entry_bytes(&mut out, PAYLOAD_SIG_NAME, sig.as_bytes())?;
    total += tar::entry_len(sig.len() as u64);
    tar::write_zeros(&mut out, tar::END_LEN)?;
    total += tar::END_LEN;
    out.flush()?;

    Ok(WrittenBundle {
        bundle_id,
        total_len: total,
        padded_plaintext_len: plaintext_len,
        manifest,
    })
}

fn write_entry_bytes(out: &mut impl Write, name: &str, bytes: &[u8]) -> io::Result<()> {
    out.write_all(&tar::entry_header(name, bytes.len() as u64))?;
    out.write_all(bytes)?;
    tar::write_zeros(out, tar::padding_after(bytes.len() as u64))
}

fn copy_entry(
    out: &mut impl Write,
    entry: EntrySource<'_>,
    buf: &mut [u8],
) -> Result<(), WriteError> {
    let EntrySource {
        path,
        size,
        sha256,
        reader,
    } = entry;
    out.write_all(&tar::entry_header(&path, size))?;
    // Read one byte past the declared size to notice a source that grew.
    let mut reader = reader.take(size.saturating_add(1));
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        done += n as u64;
        if done > size {
            return Err(WriteError::EntrySizeMismatch {
                path,
                expected: size,
                actual: done,
            });
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    if done != size {
        return Err(WriteError::EntrySizeMismatch {
            path,
            expected: size,
            actual: done,
        });
    }
    if Sha256Hash(hasher.finalize().into()) != sha256 {
        return Err(WriteError::EntryHashMismatch { path });
    }
    tar::write_zeros(out, tar::padding_after(size))?;
    Ok(())
}
