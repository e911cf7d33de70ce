//! Recordings written into the vault while they are made.
//!
//! A recording in progress lives in `recordings/<random>/`, every file of it
//! an age file encrypted to the storage key:
//!
//! ```text
//! head            JSON: recording id, interview, input, start time, consent marks, codec
//! seg-000000      the first segment: consecutive Ogg pages of ONE logical Opus stream
//! chain-000000    JSON: that segment's SHA-256, the previous segment's SHA-256, its end
//! seg-000001 ...  the next segments, each closed (synced) every ~30 s
//! ```
//!
//! A segment is written as `seg-N.partial`; at its close it is finished (the
//! age stream's last chunk authenticates the end), synced, its chain entry is
//! written (synced, renamed), then it is renamed to `seg-N` and the directory
//! synced. Because the segments are consecutive pages of one stream, the
//! decrypted segments joined with `cat` are one playable `.ogg` file.
//!
//! When the recording stops, the segments are decrypted in memory and joined
//! into one ordinary attachment (padded, like every attachment), the
//! attachment row and the recording's metadata are committed in one
//! transaction, and the directory is removed. A recording cut short (crash,
//! `kill -9`, power loss) is joined the same way the next time the vault is
//! opened, from its complete segments, and marked `recovered`: `vault check`
//! names it. A directory still locked by a running recorder is left alone.

use std::borrow::{Borrow, BorrowMut};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use yaddash_model::Record;

use crate::error::{IoContext, Result, VaultError};
use crate::fsutil::{random_name, sync_dir};
use crate::{AttachmentInfo, Vault, insert_attachment, now};

/// The directory of recordings in progress.
pub(crate) const RECORDINGS: &str = "recordings";

/// A recording does not start with less free space than this on the vault's
/// disk: an hour of speech is ~11 MB, and stopping it joins the segments
/// into one attachment (the same size again) before the segments go.
pub const MIN_FREE_SPACE_TO_START: u64 = 256 * 1024 * 1024;

/// While recording, a segment that closes with less free space than this
/// stops the recording (everything up to that segment is kept).
pub const MIN_FREE_SPACE_WHILE_RECORDING: u64 = 64 * 1024 * 1024;

const HEAD_FORMAT: &str = "yaddash-recording-v1";
const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is known when a recording starts.
#[derive(Debug, Clone)]
pub struct RecordingStart {
    /// The capture device's name, as the audio system gives it.
    pub input: String,
    /// The first seconds hold the speaker's spoken consent, if marked.
    pub consent_seconds: Option<u32>,
    /// The codec and container, e.g. `opus/ogg 24 kbit/s mono`.
    pub codec: String,
}

/// A recording's metadata, kept beside its attachment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct RecordingInfo {
    /// The attachment holding the whole `.ogg` (same id as the recording).
    pub attachment_id: Uuid,
    /// The interview recorded.
    pub record_id: Uuid,
    /// When capture started (this device's clock, RFC 3339 UTC).
    pub started_at: String,
    /// When capture ended (this device's clock): for a recovered recording,
    /// the close of its last complete segment.
    pub ended_at: String,
    /// The capture device's name.
    pub input: String,
    /// Duration of the audio in milliseconds (from the Ogg granule position).
    pub duration_ms: u64,
    /// Codec and container.
    pub codec: String,
    /// The first seconds marked as the speaker's spoken consent.
    pub consent_seconds: Option<u32>,
    /// Segments the recording was written in.
    pub segments: u32,
    /// True when the recording was cut short (crash, power loss) and saved
    /// from its complete segments when the vault was next opened.
    pub recovered: bool,
    /// SHA-256 of the whole `.ogg`, as the attachment holds it.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Head {
    format: String,
    recording_id: Uuid,
    record_id: Uuid,
    input: String,
    started_at: String,
    consent_seconds: Option<u32>,
    codec: String,
    device: String,
}

/// One link of the hash chain, written when a segment closes.
#[derive(Debug, Serialize, Deserialize)]
struct ChainEntry {
    seq: u32,
    /// SHA-256 of this segment's plaintext (its Ogg pages).
    sha256: String,
    /// SHA-256 of the previous segment's plaintext (zeros for the first).
    prev_sha256: String,
    bytes: u64,
    /// Ogg granule position (48 kHz samples, pre-skip included) at its end.
    granule: u64,
    pre_skip: u16,
    /// The stream's last segment (it ends with the end-of-stream page).
    last: bool,
    ended_at: String,
}

fn seg_name(seq: u32) -> String {
    format!("seg-{seq:06}")
}

fn chain_name(seq: u32) -> String {
    format!("chain-{seq:06}")
}

/// Writes the segments of a recording in progress. Holds no reference to
/// the vault, so it can live on the encoding thread; hand it back to
/// [`Vault::finish_recording`] when the recording stops.
pub struct RecordingWriter {
    id: Uuid,
    dir: PathBuf,
    recipient: age::x25519::Recipient,
    /// The head file, kept open and locked (flock) while recording so that
    /// another process opening the vault leaves this recording alone.
    _lock: File,
    seq: u32,
    current: Option<OpenSegment>,
    prev_sha256: String,
    total: Sha256,
    total_bytes: u64,
    last_granule: u64,
    pre_skip: u16,
    finished: bool,
    started_at: String,
}

struct OpenSegment {
    writer: age::stream::StreamWriter<BufWriter<File>>,
    partial: PathBuf,
    hash: Sha256,
    bytes: u64,
}

impl std::fmt::Debug for RecordingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingWriter")
            .field("id", &self.id)
            .field("segments", &self.seq)
            .field("bytes", &self.total_bytes)
            .finish()
    }
}

fn encrypt_small(recipient: &age::x25519::Recipient, plain: &[u8]) -> io::Result<Vec<u8>> {
    let enc = age::Encryptor::with_recipients(std::iter::once(recipient as _))
        .map_err(|e| io::Error::other(format!("cannot encrypt: {e}")))?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    let mut w = enc.wrap_output(&mut out)?;
    w.write_all(plain)?;
    w.finish()?;
    Ok(out)
}

/// Writes an age file durably: beside, synced, renamed (the caller syncs the
/// directory).
fn write_encrypted(
    recipient: &age::x25519::Recipient,
    path: &Path,
    plain: &[u8],
) -> io::Result<()> {
    let bytes = encrypt_small(recipient, plain)?;
    let tmp = path.with_extension("partial");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}

impl RecordingWriter {
    /// The recording's id (the attachment it becomes has the same id).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// When the recording started (RFC 3339, this device's clock).
    pub fn started_at(&self) -> &str {
        &self.started_at
    }

    /// Bytes of Ogg written so far (closed and open segments).
    pub fn bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Segments closed so far.
    pub fn segments(&self) -> u32 {
        self.seq
    }

    /// Appends Ogg pages to the segment in progress (opening one if needed).
    /// They reach the disk only as age ciphertext.
    pub fn write_pages(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.finished {
            return Err(io::Error::other("the recording has already ended"));
        }
        if self.current.is_none() {
            let partial = self.dir.join(format!("{}.partial", seg_name(self.seq)));
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&partial)?;
            let enc = age::Encryptor::with_recipients(std::iter::once(&self.recipient as _))
                .map_err(|e| io::Error::other(format!("cannot encrypt: {e}")))?;
            let writer = enc.wrap_output(BufWriter::with_capacity(64 * 1024, file))?;
            self.current = Some(OpenSegment {
                writer,
                partial,
                hash: Sha256::new(),
                bytes: 0,
            });
        }
        let seg = self
            .current
            .as_mut()
            .ok_or_else(|| io::Error::other("no segment"))?;
        seg.writer.write_all(bytes)?;
        seg.hash.update(bytes);
        seg.bytes += bytes.len() as u64;
        self.total.update(bytes);
        self.total_bytes += bytes.len() as u64;
        Ok(())
    }

    /// Closes the segment in progress at a page boundary: finishes its age
    /// stream, syncs it, writes its link of the hash chain and renames it
    /// into place. `granule` is the Ogg granule position of its last page;
    /// `last` marks the segment holding the end-of-stream page.
    ///
    /// Returns an error of kind `StorageFull` when less than
    /// [`MIN_FREE_SPACE_WHILE_RECORDING`] is left: the segment is saved, and
    /// the recorder should stop.
    pub fn end_segment(&mut self, granule: u64, pre_skip: u16, last: bool) -> io::Result<()> {
        let Some(seg) = self.current.take() else {
            if last {
                self.finished = true;
            }
            return Ok(());
        };
        let buffered = seg.writer.finish()?;
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        let sha = hex::encode(seg.hash.finalize());
        let entry = ChainEntry {
            seq: self.seq,
            sha256: sha.clone(),
            prev_sha256: std::mem::replace(&mut self.prev_sha256, sha),
            bytes: seg.bytes,
            granule,
            pre_skip,
            last,
            ended_at: now(),
        };
        let json = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        write_encrypted(&self.recipient, &self.dir.join(chain_name(self.seq)), &json)?;
        fs::rename(&seg.partial, self.dir.join(seg_name(self.seq)))?;
        yaddash_os::sync_dir(&self.dir)?;
        self.seq += 1;
        self.last_granule = granule;
        self.pre_skip = pre_skip;
        if last {
            self.finished = true;
        }
        match yaddash_os::available_space(&self.dir) {
            Ok(free) if free < MIN_FREE_SPACE_WHILE_RECORDING => Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "less than 64 MiB left on the vault's disk: the recording was stopped and saved",
            )),
            _ => Ok(()),
        }
    }

    /// Duration of what was closed so far, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        duration_ms(self.last_granule, self.pre_skip)
    }
}

fn duration_ms(granule: u64, pre_skip: u16) -> u64 {
    granule.saturating_sub(u64::from(pre_skip)) / 48
}

/// Reads the segments of a recording in order, decrypting and checking each
/// against its link of the hash chain. Constant memory.
struct SegmentsReader {
    dir: PathBuf,
    identity: age::x25519::Identity,
    entries: Vec<(PathBuf, ChainEntry)>,
    next: usize,
    current: Option<(age::stream::StreamReader<BufReader<File>>, Sha256, usize)>,
}

impl Read for SegmentsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some((reader, hash, idx)) = self.current.as_mut() {
                let n = reader.read(buf)?;
                if n > 0 {
                    hash.update(&buf[..n]);
                    return Ok(n);
                }
                let idx = *idx;
                let Some((_, hash, _)) = self.current.take() else {
                    unreachable!()
                };
                if hex::encode(hash.finalize()) != self.entries[idx].1.sha256 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("segment {idx} does not match its hash chain"),
                    ));
                }
                continue;
            }
            if self.next >= self.entries.len() {
                return Ok(0);
            }
            let idx = self.next;
            self.next += 1;
            let path = self.dir.join(&self.entries[idx].0);
            let f = File::open(&path)?;
            let reader = age::Decryptor::new_buffered(BufReader::with_capacity(64 * 1024, f))
                .and_then(|d| d.decrypt(std::iter::once(&self.identity as _)))
                .map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("segment {idx} does not decrypt with this vault's key"),
                    )
                })?;
            self.current = Some((reader, Sha256::new(), idx));
        }
    }
}

/// What the segments on disk hold: the usable prefix of the chain.
struct Found {
    head: Head,
    entries: Vec<(PathBuf, ChainEntry)>,
}

/// Recordings made in the vault: `vault.recordings()` to start one and
/// read them, `vault.recordings_mut()` to finish or recover one.
pub struct RecordingStore<V>(pub(crate) V);

impl Vault {
    /// The recordings, to start one and to read.
    pub fn recordings(&self) -> RecordingStore<&Vault> {
        RecordingStore(self)
    }

    /// The recordings, to finish or recover one.
    pub fn recordings_mut(&mut self) -> RecordingStore<&mut Vault> {
        RecordingStore(self)
    }
}

impl<V: Borrow<Vault>> RecordingStore<V> {
    /// Starts a recording into interview `record_id`: checks that it is an
    /// interview (whose consent level is a required field, so it is set),
    /// that the vault's disk has at least [`MIN_FREE_SPACE_TO_START`] free,
    /// and writes the encrypted head. Feed the returned writer with Ogg
    /// pages, then call [`RecordingStore::finish`].
    pub fn begin(&self, record_id: Uuid, start: &RecordingStart) -> Result<RecordingWriter> {
        self.0.borrow().begin_recording(record_id, start)
    }

    /// Recordings in progress (locked by a running recorder) in this vault.
    pub fn in_progress(&self) -> u64 {
        self.0.borrow().recordings_in_progress()
    }

    /// The recording metadata of an attachment, if it is a recording.
    pub fn get(&self, attachment_id: Uuid) -> Result<Option<RecordingInfo>> {
        self.0.borrow().recording(attachment_id)
    }

    /// Every recording that was cut short and recovered (for `vault check`).
    pub fn recovered(&self) -> Result<Vec<RecordingInfo>> {
        self.0.borrow().recovered_recordings()
    }
}

impl<V: BorrowMut<Vault>> RecordingStore<V> {
    /// Ends a recording: closes a segment still open (a recorder that failed
    /// mid-segment), joins the segments into one attachment, checks it
    /// against the hash taken while recording, commits the attachment and
    /// its metadata, and removes the segments.
    pub fn finish(&mut self, writer: RecordingWriter) -> Result<RecordingInfo> {
        self.0.borrow_mut().finish_recording(writer)
    }

    /// Recovers every interrupted recording as a shorter attachment (done
    /// at every open).
    pub fn recover(&mut self) -> Result<Vec<RecordingInfo>> {
        self.0.borrow_mut().recover_recordings()
    }
}

impl Vault {
    fn recordings_dir(&self) -> PathBuf {
        self.dir.join(RECORDINGS)
    }

    fn decrypt_small(&self, path: &Path) -> Option<Vec<u8>> {
        let f = File::open(path).ok()?;
        let d = age::Decryptor::new_buffered(BufReader::new(f)).ok()?;
        let mut r = d.decrypt(std::iter::once(&self.storage as _)).ok()?;
        let mut out = Vec::new();
        r.by_ref().take(1 << 20).read_to_end(&mut out).ok()?;
        Some(out)
    }

    /// See [`RecordingStore::begin`].
    pub(crate) fn begin_recording(
        &self,
        record_id: Uuid,
        start: &RecordingStart,
    ) -> Result<RecordingWriter> {
        let record = self.get(record_id)?;
        let Record::Interview(_) = record.record else {
            return Err(VaultError::Refused(format!(
                "record {record_id} is a {}: recordings belong to an interview, whose consent level must be set first",
                record.record.kind().as_str()
            )));
        };
        let root = self.recordings_dir();
        match fs::create_dir(&root) {
            Ok(()) => sync_dir(&self.dir)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).ctx(|| "creating recordings/".into()),
        }
        let free =
            yaddash_os::available_space(&root).ctx(|| "reading the free disk space".into())?;
        if free < MIN_FREE_SPACE_TO_START {
            return Err(VaultError::Refused(format!(
                "only {} MiB free on the vault's disk; a recording needs at least {} MiB to start. Free some space first",
                free / (1024 * 1024),
                MIN_FREE_SPACE_TO_START / (1024 * 1024)
            )));
        }
        let id = Uuid::now_v7();
        let dir = root.join(random_name());
        fs::create_dir(&dir).ctx(|| "creating a recording directory".into())?;
        let head = Head {
            format: HEAD_FORMAT.into(),
            recording_id: id,
            record_id,
            input: start.input.clone(),
            started_at: now(),
            consent_seconds: start.consent_seconds,
            codec: start.codec.clone(),
            device: self.device_id.to_string(),
        };
        let recipient = self.storage.to_public();
        let json = serde_json::to_vec(&head).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let head_path = dir.join("head");
        write_encrypted(&recipient, &head_path, &json).ctx(|| "writing a recording".into())?;
        sync_dir(&dir)?;
        sync_dir(&root)?;
        let lock = File::open(&head_path).ctx(|| "opening a recording".into())?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive)
            .map_err(io::Error::from)
            .ctx(|| "locking a recording".into())?;
        Ok(RecordingWriter {
            id,
            dir,
            recipient,
            _lock: lock,
            seq: 0,
            current: None,
            prev_sha256: ZERO_HASH.into(),
            total: Sha256::new(),
            total_bytes: 0,
            last_granule: 0,
            pre_skip: 0,
            finished: false,
            started_at: head.started_at,
        })
    }

    /// See [`RecordingStore::finish`].
    pub(crate) fn finish_recording(
        &mut self,
        mut writer: RecordingWriter,
    ) -> Result<RecordingInfo> {
        if writer.current.is_some() {
            // Pages written but not closed: keep them (they end at a page
            // boundary only if the recorder closed one; the join checks).
            let g = writer.last_granule;
            let p = writer.pre_skip;
            let _ = writer.end_segment(g, p, false);
        }
        let expected = hex::encode(writer.total.clone().finalize());
        let dir = writer.dir.clone();
        drop(writer);
        let info = self.join_recording(&dir, false)?;
        let Some(info) = info else {
            return Err(VaultError::Refused(
                "the recording holds no audio (it was stopped before its first segment closed)"
                    .into(),
            ));
        };
        if info.sha256 != expected {
            // A segment changed on disk while recording: what verified was
            // saved (marked recovered, so `vault check` names it).
            self.conn.execute(
                "UPDATE recordings SET recovered = 1 WHERE attachment_id = ?1",
                [info.attachment_id.to_string()],
            )?;
            return Ok(RecordingInfo {
                recovered: true,
                ..info
            });
        }
        Ok(info)
    }

    /// Reads what a recording directory holds: its head and the prefix of
    /// segments whose hash chain is whole.
    fn find_segments(&self, dir: &Path) -> Option<Found> {
        let head: Head = serde_json::from_slice(&self.decrypt_small(&dir.join("head"))?).ok()?;
        if head.format != HEAD_FORMAT {
            return None;
        }
        let mut entries = Vec::new();
        let mut prev = ZERO_HASH.to_string();
        for seq in 0u32.. {
            let Some(plain) = self.decrypt_small(&dir.join(chain_name(seq))) else {
                break;
            };
            let Ok(entry) = serde_json::from_slice::<ChainEntry>(&plain) else {
                break;
            };
            if entry.seq != seq || entry.prev_sha256 != prev {
                break;
            }
            let done = dir.join(seg_name(seq));
            let partial = dir.join(format!("{}.partial", seg_name(seq)));
            // A crash between the chain entry and the rename leaves the
            // finished segment as .partial: its hash decides.
            let name = if done.is_file() {
                seg_name(seq)
            } else if partial.is_file() {
                format!("{}.partial", seg_name(seq))
            } else {
                break;
            };
            prev = entry.sha256.clone();
            let last = entry.last;
            entries.push((PathBuf::from(name), entry));
            if last {
                break;
            }
        }
        Some(Found { head, entries })
    }

    /// How many segments, from the first, decrypt whole and match their
    /// link of the hash chain.
    fn verified_prefix(&self, dir: &Path, entries: &[(PathBuf, ChainEntry)]) -> usize {
        for (i, (name, entry)) in entries.iter().enumerate() {
            let ok = (|| -> io::Result<bool> {
                let f = File::open(dir.join(name))?;
                let mut r = age::Decryptor::new_buffered(BufReader::with_capacity(64 * 1024, f))
                    .and_then(|d| d.decrypt(std::iter::once(&self.storage as _)))
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "decrypt"))?;
                let mut hash = Sha256::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = r.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    hash.update(&buf[..n]);
                }
                Ok(hex::encode(hash.finalize()) == entry.sha256)
            })();
            if !matches!(ok, Ok(true)) {
                return i;
            }
        }
        entries.len()
    }

    /// Joins a recording's complete segments into one attachment. Returns
    /// `None` (and removes the directory) when it holds no complete segment.
    fn join_recording(&mut self, dir: &Path, recovered: bool) -> Result<Option<RecordingInfo>> {
        let Some(found) = self.find_segments(dir) else {
            return Err(VaultError::Corrupt(
                "a recording's head does not decrypt with this vault's key".into(),
            ));
        };
        let id = found.head.recording_id;
        let already: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM attachments WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if already.is_some() {
            // Committed before a crash, not yet removed.
            let _ = fs::remove_dir_all(dir);
            return self.recording(id);
        }
        if found.entries.is_empty() || !self.contains(found.head.record_id)? {
            let _ = fs::remove_dir_all(dir);
            return Ok(None);
        }
        // Each segment is decrypted and hashed before anything is joined: a
        // segment that fails (altered, replaced, damaged) ends the recording
        // there, and what precedes it is kept.
        let mut entries = found.entries;
        let good = self.verified_prefix(dir, &entries);
        let cut = good < entries.len();
        entries.truncate(good);
        if entries.is_empty() {
            return Err(VaultError::Refused(format!(
                "recording {id}: its first segment does not match its hash chain; it was left in recordings/ for inspection"
            )));
        }
        let Some((_, last)) = entries.last() else {
            return Ok(None);
        };
        let (granule, pre_skip, ended_at) = (last.granule, last.pre_skip, last.ended_at.clone());
        let segments = entries.len() as u32;
        let whole = !cut && entries.last().is_some_and(|(_, e)| e.last);
        let mut reader = SegmentsReader {
            dir: dir.to_path_buf(),
            identity: self.storage.clone(),
            entries,
            next: 0,
            current: None,
        };
        let staged = self.stage_attachment(&mut reader, &mut |_| true)?;
        let head = found.head;
        let stamp: String = head
            .started_at
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let info = AttachmentInfo {
            id,
            record_id: head.record_id,
            name: format!("recording-{stamp}.ogg"),
            media_type: "audio/ogg".into(),
            size: staged.size,
            sha256: staged.sha256.clone(),
            captured_at: head.started_at.clone(),
            captured_by: head.device.clone(),
        };
        let rec = RecordingInfo {
            attachment_id: id,
            record_id: head.record_id,
            started_at: head.started_at,
            ended_at,
            input: head.input,
            duration_ms: duration_ms(granule, pre_skip),
            codec: head.codec,
            consent_seconds: head.consent_seconds,
            segments,
            recovered: recovered || !whole,
            sha256: staged.sha256.clone(),
            size: staged.size,
        };
        let res = (|| -> Result<()> {
            let tx = self.conn.transaction()?;
            insert_attachment(&tx, &info, &staged.file)?;
            tx.execute(
                "INSERT INTO recordings (attachment_id, started_at, ended_at, input, duration_ms, codec, consent_seconds, segments, recovered)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id.to_string(),
                    rec.started_at,
                    rec.ended_at,
                    rec.input,
                    rec.duration_ms as i64,
                    rec.codec,
                    rec.consent_seconds.map(i64::from),
                    i64::from(rec.segments),
                    rec.recovered
                ],
            )?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = res {
            self.discard_staged(std::slice::from_ref(&staged));
            return Err(e);
        }
        // The segments are ciphertext: removing them needs no scrubbing.
        let _ = fs::remove_dir_all(dir);
        let _ = sync_dir(&self.recordings_dir());
        Ok(Some(rec))
    }

    /// Saves every recording left unfinished by a crash (those not locked by
    /// a recorder still running) as an attachment of its interview, from
    /// its complete segments. Called when the vault is opened.
    pub(crate) fn recover_recordings(&mut self) -> Result<Vec<RecordingInfo>> {
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(self.recordings_dir()) else {
            return Ok(out);
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let Ok(head) = File::open(dir.join("head")) else {
                // Crashed before its head was written: nothing in it.
                let _ = fs::remove_dir_all(&dir);
                continue;
            };
            if rustix::fs::flock(&head, rustix::fs::FlockOperation::NonBlockingLockExclusive)
                .is_err()
            {
                continue; // a recorder is writing it now
            }
            match self.join_recording(&dir, true) {
                Ok(Some(info)) => out.push(info),
                Ok(None) => {}
                // Left in place; `vault check` reports it.
                Err(_) => {}
            }
        }
        Ok(out)
    }

    /// `vault check`: names every recovered recording and recording in
    /// progress; a recording directory that could not be joined is a problem.
    pub(crate) fn check_recordings(&self, report: &mut crate::CheckReport) -> Result<()> {
        for r in self.recovered_recordings()? {
            report.notes.push(format!(
                "recording {} of interview {} was cut short and recovered from {} complete segment(s): {}.{:03} s, captured {} to {}",
                r.attachment_id,
                r.record_id,
                r.segments,
                r.duration_ms / 1000,
                r.duration_ms % 1000,
                r.started_at,
                r.ended_at
            ));
        }
        let Ok(entries) = fs::read_dir(self.recordings_dir()) else {
            return Ok(());
        };
        for e in entries.flatten() {
            let busy = File::open(e.path().join("head")).is_ok_and(|f| {
                rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockShared).is_err()
            });
            if busy {
                report.notes.push("a recording is in progress".into());
            } else {
                report.problems.push(format!(
                    "recordings/{}: a recording that could not be saved (its first segment is missing or damaged); it is kept for inspection",
                    e.file_name().to_string_lossy()
                ));
            }
        }
        Ok(())
    }

    /// See [`RecordingStore::in_progress`].
    pub(crate) fn recordings_in_progress(&self) -> u64 {
        let Ok(entries) = fs::read_dir(self.recordings_dir()) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| {
                File::open(e.path().join("head")).is_ok_and(|f| {
                    rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockShared)
                        .is_err()
                })
            })
            .count() as u64
    }

    /// See [`RecordingStore::get`].
    pub(crate) fn recording(&self, attachment_id: Uuid) -> Result<Option<RecordingInfo>> {
        Ok(self
            .conn
            .query_row(
                "SELECT a.record_id, r.started_at, r.ended_at, r.input, r.duration_ms, r.codec,
                        r.consent_seconds, r.segments, r.recovered, a.sha256, a.size
                 FROM recordings r JOIN attachments a ON a.id = r.attachment_id
                 WHERE r.attachment_id = ?1",
                [attachment_id.to_string()],
                |r| recording_from_row(attachment_id, r),
            )
            .optional()?)
    }

    /// See [`RecordingStore::recovered`].
    pub(crate) fn recovered_recordings(&self) -> Result<Vec<RecordingInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT a.record_id, r.started_at, r.ended_at, r.input, r.duration_ms, r.codec,
                    r.consent_seconds, r.segments, r.recovered, a.sha256, a.size, r.attachment_id
             FROM recordings r JOIN attachments a ON a.id = r.attachment_id
             WHERE r.recovered = 1 ORDER BY r.attachment_id",
        )?;
        let rows = stmt.query_map([], |r| {
            let id: String = r.get(11)?;
            recording_from_row(Uuid::parse_str(&id).unwrap_or_default(), r)
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn recording_from_row(id: Uuid, r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordingInfo> {
    let record_id: String = r.get(0)?;
    Ok(RecordingInfo {
        attachment_id: id,
        record_id: Uuid::parse_str(&record_id).unwrap_or_default(),
        started_at: r.get(1)?,
        ended_at: r.get(2)?,
        input: r.get(3)?,
        duration_ms: r.get::<_, i64>(4)?.max(0) as u64,
        codec: r.get(5)?,
        consent_seconds: r
            .get::<_, Option<i64>>(6)?
            .map(|v| v.clamp(0, u32::MAX as i64) as u32),
        segments: r.get::<_, i64>(7)?.clamp(0, u32::MAX as i64) as u32,
        recovered: r.get(8)?,
        sha256: r.get(9)?,
        size: r.get::<_, i64>(10)?.max(0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CreateOptions, Unlock};
    use secrecy::SecretString;
    use yaddash_model::{Consent, Interview, PartialDate};

    fn vault() -> (tempfile::TempDir, Vault, Uuid) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let pass = SecretString::from("correct horse battery".to_string());
        let opts = CreateOptions {
            kdf_work_factor: crate::MIN_WORK_FACTOR,
            ..CreateOptions::default()
        };
        let (mut v, _) = Vault::create(&path, &pass, &opts).unwrap();
        let iv = Record::Interview(Interview {
            case_id: None,
            detainee_id: None,
            speaker_id: None,
            relation: None,
            interviewer: "x".into(),
            date: "2025-01-01".parse::<PartialDate>().unwrap(),
            place: None,
            language: "az".into(),
            consent: Consent::Internal,
            narrative: "n".into(),
            confidentiality: Default::default(),
            reliability: Default::default(),
        });
        let id = v.add(&iv).unwrap();
        drop(v);
        let v = Vault::open(&path, &Unlock::Passphrase(pass)).unwrap();
        (dir, v, id)
    }

    fn start() -> RecordingStart {
        RecordingStart {
            input: "test".into(),
            consent_seconds: Some(5),
            codec: "opus/ogg".into(),
        }
    }

    #[test]
    fn segments_join_into_one_attachment_and_every_file_is_age() {
        let (_d, mut v, id) = vault();
        let mut w = v.begin_recording(id, &start()).unwrap();
        w.write_pages(b"OggS-one").unwrap();
        w.end_segment(48_000 + 312, 312, false).unwrap();
        w.write_pages(b"OggS-two").unwrap();
        for e in fs::read_dir(&w.dir).unwrap() {
            let p = e.unwrap().path();
            let bytes = fs::read(&p).unwrap();
            assert!(
                bytes.is_empty() || bytes.starts_with(b"age-encryption.org/v1\n"),
                "{} is not an age file",
                p.display()
            );
        }
        w.end_segment(96_000 + 312, 312, true).unwrap();
        let info = v.finish_recording(w).unwrap();
        assert_eq!(
            (info.segments, info.duration_ms, info.recovered),
            (2, 2000, false)
        );
        let mut out = Vec::new();
        v.export_attachment(info.attachment_id, &mut out, &mut |_| true)
            .unwrap();
        assert_eq!(out, b"OggS-oneOggS-two");
        assert_eq!(v.recording(info.attachment_id).unwrap().unwrap(), info);
        assert!(fs::read_dir(v.recordings_dir()).unwrap().next().is_none());
    }

    #[test]
    fn an_interrupted_recording_keeps_its_complete_segments() {
        let (_d, mut v, id) = vault();
        let mut w = v.begin_recording(id, &start()).unwrap();
        w.write_pages(b"first").unwrap();
        w.end_segment(48_312, 312, false).unwrap();
        w.write_pages(b"lost").unwrap();
        // A crash: the writer is forgotten (its lock goes with the process).
        drop(w);
        let got = v.recover_recordings().unwrap();
        assert_eq!(got.len(), 1);
        assert!(got[0].recovered);
        let mut out = Vec::new();
        v.export_attachment(got[0].attachment_id, &mut out, &mut |_| true)
            .unwrap();
        assert_eq!(out, b"first");
        assert_eq!(v.recovered_recordings().unwrap().len(), 1);
    }

    #[test]
    fn a_broken_chain_stops_the_recovery_at_the_break() {
        let (_d, mut v, id) = vault();
        let mut w = v.begin_recording(id, &start()).unwrap();
        let dir = w.dir.clone();
        for s in 0..3u64 {
            w.write_pages(format!("seg{s}").as_bytes()).unwrap();
            w.end_segment((s + 1) * 48_000, 0, false).unwrap();
        }
        drop(w);
        // Segment 1 replaced by segment 2's file: the chain breaks there.
        fs::copy(dir.join(seg_name(2)), dir.join(seg_name(1))).unwrap();
        // The join detects the substituted segment by its hash and keeps
        // what precedes it.
        let got = v.recover_recordings().unwrap();
        assert_eq!((got.len(), got[0].segments, got[0].recovered), (1, 1, true));
        let mut out = Vec::new();
        v.export_attachment(got[0].attachment_id, &mut out, &mut |_| true)
            .unwrap();
        assert_eq!(out, b"seg0");
    }

    #[test]
    fn only_interviews_can_be_recorded() {
        let (_d, v, _id) = vault();
        let err = v.begin_recording(Uuid::now_v7(), &start()).unwrap_err();
        assert!(matches!(err, VaultError::NotFound { .. }), "{err}");
    }
}
