//! Reading and verifying a bundle in two streaming passes.
//!
//! Pass 1 ([`BundleReader::open`]) needs no decryption key: it checks the
//! outer tar, looks the sender up and verifies the outer signature over
//! `payload.age` with a streamed hash. This is all the HQ server can and
//! needs to do. Pass 2 ([`BundleReader::decrypt`]) decrypts, verifies the
//! manifest and streams each entry to a [`BundleVisitor`], checking sizes and
//! hashes on the fly.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::rc::Rc;

use sha2::{Digest, Sha256};
use ssh_key::PublicKey;

use yaddash_wire::sshsig::{self, MAX_ARMORED_SIGNATURE, MessageDigest, NAMESPACE_MANIFEST};
use yaddash_wire::tar::{self, TarError};
use yaddash_wire::{
    FORMAT_VERSIONS, MANIFEST_NAME, MANIFEST_SIG_NAME, Manifest, ManifestEntry, OuterVerified,
    PADDING_NAME, ReadError, SenderDirectory, Sha256Hash, SignatureError, json_version, read_small,
};

use crate::hash_behind::HashBehind;
use crate::keys::recipient_fingerprint;

const MAX_MANIFEST: u64 = 16 * 1024 * 1024;
const BUF: usize = 64 * 1024;

/// What the reader needs to decrypt and accept a bundle.
#[derive(Clone, Copy)]
pub struct DecryptConfig<'a> {
    /// Our coordinator age identity.
    pub identity: &'a age::x25519::Identity,
    /// Our headquarters id: bundles made for another are refused.
    pub hq_id: &'a str,
}

impl std::fmt::Debug for DecryptConfig<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptConfig")
            .field("recipient", &self.identity.to_public().to_string())
            .field("hq_id", &self.hq_id)
            .finish()
    }
}

/// A fully verified bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    /// Outer facts (bundle id, sender).
    pub outer: OuterVerified,
    /// The verified manifest (seq, prev hash, created_at, entries...).
    pub manifest: Manifest,
    /// `manifest.json` exactly as signed, and `manifest.json.sig`: kept by
    /// an importer as evidence (`ssh-keygen -Y verify` checks them later).
    pub signed_manifest: (Vec<u8>, Vec<u8>),
}

/// An error returned by a visitor.
pub type VisitError = Box<dyn std::error::Error + Send + Sync>;

/// Receives a bundle's contents as they stream out of decryption.
///
/// Nothing received is trustworthy until [`BundleReader::decrypt`] returns
/// `Ok`: an importer writes into staging and commits only then.
pub trait BundleVisitor {
    /// Called once the manifest is verified, before any entry.
    fn manifest(&mut self, manifest: &Manifest, outer: &OuterVerified) -> Result<(), VisitError> {
        let _ = (manifest, outer);
        Ok(())
    }

    /// Called for each entry, in manifest order. `data` yields exactly
    /// `entry.size` bytes; if they do not match `entry.sha256`, the read that
    /// would deliver the last bytes fails instead. Unread bytes are skipped
    /// (and still checked).
    fn entry(&mut self, entry: &ManifestEntry, data: &mut dyn Read) -> Result<(), VisitError>;
}

/// A visitor that only verifies (reads and discards every entry).
#[derive(Debug, Default)]
pub struct VerifyOnly;

impl BundleVisitor for VerifyOnly {
    fn entry(&mut self, _: &ManifestEntry, _: &mut dyn Read) -> Result<(), VisitError> {
        Ok(())
    }
}

/// A visitor that keeps every entry in memory, up to `max_total` bytes in all.
/// Meant for small bundles and tests.
#[derive(Debug)]
pub struct CollectEntries {
    /// Refuse to hold more than this many bytes.
    pub max_total: u64,
    /// The entries received, in order.
    pub entries: Vec<(ManifestEntry, Vec<u8>)>,
}

impl CollectEntries {
    /// A collector holding at most `max_total` bytes.
    pub fn new(max_total: u64) -> Self {
        Self {
            max_total,
            entries: Vec::new(),
        }
    }
}

impl BundleVisitor for CollectEntries {
    fn entry(&mut self, entry: &ManifestEntry, data: &mut dyn Read) -> Result<(), VisitError> {
        let held: u64 = self.entries.iter().map(|(e, _)| e.size).sum();
        if held.saturating_add(entry.size) > self.max_total {
            return Err("bundle too large to hold in memory".into());
        }
        let mut v = Vec::with_capacity(entry.size as usize);
        data.read_to_end(&mut v)?;
        self.entries.push((entry.clone(), v));
        Ok(())
    }
}

/// A bundle whose outer structure and sender signature have been verified.
pub struct BundleReader<R> {
    input: R,
    outer: OuterVerified,
    payload_offset: u64,
    x25519_stanzas: usize,
    sender_key: PublicKey,
}

impl<R> std::fmt::Debug for BundleReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleReader")
            .field("outer", &self.outer)
            .finish_non_exhaustive()
    }
}

impl BundleReader<BufReader<File>> {
    /// Opens a bundle file and runs pass 1.
    pub fn open_path(path: &Path, senders: &dyn SenderDirectory) -> Result<Self, ReadError> {
        let file = File::open(path)?;
        Self::open(BufReader::with_capacity(BUF, file), senders)
    }
}

impl<R: Read + Seek> BundleReader<R> {
    /// Pass 1: checks the outer structure, finds the sender in `senders` and
    /// verifies the sender's signature over `payload.age` (streamed). Needs no
    /// decryption key.
    pub fn open(mut input: R, senders: &dyn SenderDirectory) -> Result<Self, ReadError> {
        let check = yaddash_wire::verify_outer(&mut input, senders)?;
        Ok(Self {
            input,
            outer: check.outer,
            payload_offset: check.payload_offset,
            x25519_stanzas: check.x25519_stanzas,
            sender_key: check.sender_key,
        })
    }

    /// The facts established by pass 1.
    pub fn outer(&self) -> &OuterVerified {
        &self.outer
    }

    /// Pass 2: decrypts with `config.identity`, verifies the manifest and
    /// every entry, handing entries to `visitor` as they stream.
    pub fn decrypt(
        self,
        config: &DecryptConfig<'_>,
        visitor: &mut dyn BundleVisitor,
    ) -> Result<VerifiedBundle, ReadError> {
        let Self {
            mut input,
            outer,
            payload_offset,
            x25519_stanzas,
            sender_key,
        } = self;
        input.seek(SeekFrom::Start(payload_offset))?;
        // Hash the ciphertext again: the file could have been swapped since pass 1.
        let tee_state = Rc::new(RefCell::new(Some((HashBehind::new()?, 0u64))));
        let tee = HashTee {
            inner: (&mut input).take(outer.payload_len),
            state: Rc::clone(&tee_state),
        };
        let mut stream =
            yaddash_agefile::Reader::new(tee, &[config.identity as &dyn age::Identity]).map_err(
                |e| match e {
                    yaddash_agefile::OpenError::NoMatchingKeys => ReadError::NotForUs,
                    _ => ReadError::PayloadCorrupt,
                },
            )?;

        let (manifest, signed_manifest) = read_manifest(&mut stream, &sender_key, outer.version)?;
        check_manifest(&outer, x25519_stanzas, &manifest, config)?;
        visitor
            .manifest(&manifest, &outer)
            .map_err(ReadError::Visitor)?;

        let mut buf = vec![0u8; BUF];
        for (i, entry) in manifest.entries.iter().enumerate() {
            let h = tar::read_entry_header(&mut stream).map_err(inner_tar_err)?;
            let h = match h {
                None => {
                    return Err(ReadError::EntryMissing {
                        path: entry.path.clone(),
                    });
                }
                Some(h) if h.name == entry.path => h,
                Some(h) => {
                    let later = manifest.entries[i + 1..].iter().any(|e| e.path == h.name);
                    return Err(if later || h.name == PADDING_NAME {
                        ReadError::EntryMissing {
                            path: entry.path.clone(),
                        }
                    } else {
                        ReadError::UnexpectedEntry { path: h.name }
                    });
                }
            };
            if h.size != entry.size {
                return Err(ReadError::EntrySizeMismatch {
                    path: entry.path.clone(),
                    expected: entry.size,
                    found: h.size,
                });
            }
            let mut reader = EntryReader::new(&mut stream, entry);
            let visited = visitor.entry(entry, &mut reader);
            let drained = io::copy(&mut reader, &mut io::sink());
            if reader.mismatch {
                return Err(ReadError::EntryHashMismatch {
                    path: entry.path.clone(),
                });
            }
            if let Some(kind) = reader.inner_error {
                return Err(inner_io_kind(kind));
            }
            visited.map_err(ReadError::Visitor)?;
            drained.map_err(inner_io)?;
            tar::skip_padding(&mut stream, entry.size).map_err(inner_tar_err)?;
        }

        // padding
        let h = tar::read_entry_header(&mut stream)
            .map_err(inner_tar_err)?
            .ok_or(ReadError::MalformedPayload {
                reason: "the padding entry is missing",
            })?;
        if h.name != PADDING_NAME {
            return Err(ReadError::UnexpectedEntry { path: h.name });
        }
        let mut remaining = h.size;
        while remaining > 0 {
            let want = remaining.min(BUF as u64) as usize;
            let n = stream.read(&mut buf[..want]).map_err(inner_io)?;
            if n == 0 {
                return Err(ReadError::MalformedPayload {
                    reason: "the payload archive ends early",
                });
            }
            if buf[..n].iter().any(|&b| b != 0) {
                return Err(ReadError::PaddingNotZero);
            }
            remaining -= n as u64;
        }
        tar::skip_padding(&mut stream, h.size).map_err(inner_tar_err)?;
        if let Some(h) = tar::read_entry_header(&mut stream).map_err(inner_tar_err)? {
            return Err(ReadError::UnexpectedEntry { path: h.name });
        }
        if stream.read(&mut buf[..1]).map_err(inner_io)? != 0 {
            return Err(ReadError::MalformedPayload {
                reason: "data follows the end of the payload archive",
            });
        }
        drop(stream);
        let (hashes, seen) = tee_state
            .take()
            .ok_or_else(|| io::Error::other("the second pass's hash is gone"))?;
        let hasher = hashes.finish()?;
        if seen != outer.payload_len || Sha256Hash(hasher.finalize().into()) != outer.bundle_id {
            return Err(ReadError::ChangedWhileReading);
        }
        Ok(VerifiedBundle {
            outer,
            manifest,
            signed_manifest,
        })
    }
}

fn check_manifest(
    outer: &OuterVerified,
    x25519_stanzas: usize,
    m: &Manifest,
    config: &DecryptConfig<'_>,
) -> Result<(), ReadError> {
    if m.device_id != outer.device_id {
        return Err(ReadError::DeviceMismatch {
            outer: outer.device_id,
            manifest: m.device_id,
        });
    }
    let ours = recipient_fingerprint(&config.identity.to_public());
    if !m.recipients.contains(&ours) {
        return Err(ReadError::NotAnIntendedRecipient);
    }
    let mut unique = m.recipients.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != m.recipients.len() || m.recipients.len() != x25519_stanzas {
        return Err(ReadError::RecipientsMismatch {
            in_manifest: m.recipients.len(),
            in_header: x25519_stanzas,
        });
    }
    if m.hq_id != config.hq_id {
        return Err(ReadError::WrongHeadquarters {
            expected: config.hq_id.to_owned(),
            found: m.hq_id.clone(),
        });
    }
    if let Some(revoked_from) = outer.revoked_from
        && m.created_at >= revoked_from
    {
        return Err(ReadError::SenderRevoked {
            device_id: m.device_id,
            revoked_from,
            created_at: m.created_at,
        });
    }
    yaddash_wire::check_entry_paths(m.entries.iter().map(|e| e.path.as_str())).map_err(|_| {
        ReadError::ManifestInvalid {
            reason: "an entry path is not allowed",
        }
    })?;
    Ok(())
}

/// Reads, verifies and checks one bundle file: pass 1 then pass 2.
pub fn read_bundle(
    path: &Path,
    senders: &dyn SenderDirectory,
    config: &DecryptConfig<'_>,
    visitor: &mut dyn BundleVisitor,
) -> Result<VerifiedBundle, ReadError> {
    BundleReader::open_path(path, senders)?.decrypt(config, visitor)
}

/// The verified manifest, with its bytes and signature as read.
type SignedManifest = (Manifest, (Vec<u8>, Vec<u8>));

fn read_manifest(
    stream: &mut impl Read,
    sender_key: &PublicKey,
    outer_version: u64,
) -> Result<SignedManifest, ReadError> {
    let h = tar::read_entry_header(stream)
        .map_err(inner_tar_err)?
        .ok_or(ReadError::MalformedPayload {
            reason: "the payload archive is empty",
        })?;
    if h.name != MANIFEST_NAME || h.size > MAX_MANIFEST {
        return Err(ReadError::MalformedPayload {
            reason: "the first payload entry is not a manifest.json of reasonable size",
        });
    }
    let manifest_bytes = read_small(stream, h.size).map_err(inner_tar_err)?;
    let h = tar::read_entry_header(stream)
        .map_err(inner_tar_err)?
        .ok_or(ReadError::MalformedPayload {
            reason: "manifest.json.sig is missing",
        })?;
    if h.name != MANIFEST_SIG_NAME || h.size > MAX_ARMORED_SIGNATURE as u64 {
        return Err(ReadError::MalformedPayload {
            reason: "the second payload entry is not manifest.json.sig",
        });
    }
    let sig_bytes = read_small(stream, h.size).map_err(inner_tar_err)?;
    let sig =
        sshsig::parse_canonical(&sig_bytes).map_err(|_| ReadError::ManifestSignatureInvalid)?;
    let mut digest = MessageDigest::new();
    digest.update(&manifest_bytes);
    sshsig::verify_parsed(sender_key, NAMESPACE_MANIFEST, digest, &sig).map_err(|e| match e {
        SignatureError::WrongKey => ReadError::ManifestSignedByOtherKey,
        _ => ReadError::ManifestSignatureInvalid,
    })?;
    let (_, version) = json_version(&manifest_bytes).ok_or(ReadError::ManifestInvalid {
        reason: "not valid JSON with a version",
    })?;
    if !FORMAT_VERSIONS.contains(&version) {
        return Err(ReadError::UnsupportedVersion { found: version });
    }
    if version != outer_version {
        return Err(ReadError::ManifestInvalid {
            reason: "its format version is not the outer header's",
        });
    }
    let manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|_| ReadError::ManifestInvalid {
            reason: "does not match the manifest schema",
        })?;
    Ok((manifest, (manifest_bytes, sig_bytes)))
}

fn inner_io_kind(kind: io::ErrorKind) -> ReadError {
    match kind {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => ReadError::PayloadCorrupt,
        k => ReadError::Io(k.into()),
    }
}

fn inner_io(e: io::Error) -> ReadError {
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => ReadError::PayloadCorrupt,
        _ => ReadError::Io(e),
    }
}

fn inner_tar_err(e: TarError) -> ReadError {
    match e {
        TarError::Io(e) => inner_io(e),
        TarError::Eof => ReadError::MalformedPayload {
            reason: "the payload archive ends early",
        },
        TarError::Malformed(reason) => ReadError::MalformedPayload { reason },
    }
}

/// Hashes the ciphertext on its way into age (on a [`HashBehind`] thread).
struct HashTee<R> {
    inner: R,
    state: Rc<RefCell<Option<(HashBehind, u64)>>>,
}

impl<R: Read> Read for HashTee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut st = self.state.borrow_mut();
        let (hashes, seen) = st
            .as_mut()
            .ok_or_else(|| io::Error::other("the second pass's hash is gone"))?;
        hashes.update(&buf[..n])?;
        *seen += n as u64;
        Ok(n)
    }
}

/// Gives a visitor one entry's bytes, checking the SHA-256 as they pass.
struct EntryReader<'a, R> {
    inner: &'a mut R,
    hasher: EntryHash,
    expected: Sha256Hash,
    remaining: u64,
    mismatch: bool,
    inner_error: Option<io::ErrorKind>,
}

/// Where an entry is hashed: here, or for entries of at least
/// [`HASH_ELSEWHERE_FROM`] bytes on a [`HashBehind`] thread, so that the
/// thread that decrypts (and whose caller encrypts what it reads into the
/// vault) does not also hash. Either way the last read waits for the
/// verdict and fails when the bytes do not match.
enum EntryHash {
    Here(Sha256),
    Behind(Option<HashBehind>),
}

/// Entries this large are hashed on a thread of their own (a thread costs
/// tens of microseconds; hashing a MiB, half a millisecond).
const HASH_ELSEWHERE_FROM: u64 = 1 << 20;

impl EntryHash {
    fn update(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            EntryHash::Here(h) => {
                h.update(data);
                Ok(())
            }
            EntryHash::Behind(Some(h)) => h.update(data),
            EntryHash::Behind(None) => Err(io::Error::other("the entry's hash is gone")),
        }
    }

    fn finish(&mut self) -> io::Result<Sha256Hash> {
        let h = match self {
            EntryHash::Here(h) => h.clone(),
            EntryHash::Behind(h) => h
                .take()
                .ok_or_else(|| io::Error::other("the entry's hash is gone"))?
                .finish()?,
        };
        Ok(Sha256Hash(h.finalize().into()))
    }
}

impl<'a, R: Read> EntryReader<'a, R> {
    fn new(inner: &'a mut R, entry: &ManifestEntry) -> Self {
        let mismatch = entry.size == 0 && Sha256Hash::digest(&[]) != entry.sha256;
        let hasher = if entry.size >= HASH_ELSEWHERE_FROM {
            // No thread to be had: hash here.
            HashBehind::new().map_or_else(
                |_| EntryHash::Here(Sha256::new()),
                |h| EntryHash::Behind(Some(h)),
            )
        } else {
            EntryHash::Here(Sha256::new())
        };
        Self {
            inner,
            hasher,
            expected: entry.sha256,
            remaining: entry.size,
            mismatch,
            inner_error: None,
        }
    }
}

impl<R: Read> Read for EntryReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.mismatch {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "entry does not match its SHA-256 in the manifest",
            ));
        }
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = self.remaining.min(buf.len() as u64) as usize;
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(0) => {
                self.inner_error = Some(io::ErrorKind::UnexpectedEof);
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            Ok(n) => n,
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.inner_error = Some(e.kind());
                }
                return Err(e);
            }
        };
        self.hasher.update(&buf[..n])?;
        self.remaining -= n as u64;
        if self.remaining == 0 {
            let got = self.hasher.finish()?;
            if got != self.expected {
                self.mismatch = true;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "entry does not match its SHA-256 in the manifest",
                ));
            }
        }
        Ok(n)
    }
}
