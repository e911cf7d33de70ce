//! age v1 files (<https://age-encryption.org/v1>) sealed and opened with
//! ring's ChaCha20-Poly1305.
//!
//! An age payload is a STREAM of 64 KiB chunks, each sealed with
//! ChaCha20-Poly1305 under its own nonce (the chunk's counter and a flag for
//! the last chunk). The `age` crate seals them with RustCrypto's
//! ChaCha20-Poly1305, which needs 0.93 s of CPU per GiB on our laptops;
//! ring's assembly needs 0.43 s, as much as Go age (docs/benchmarks.md).
//! Chunks are sealed and opened in batches of four (256 KiB), the size of
//! the buffers that the vault's pipelines pass between their threads: the
//! second core reads and hashes while the first seals or opens. Splitting
//! each batch across the cores as well was measured and was slower on two
//! cores (the cores are already busy), so it is not done.
//!
//! What it writes is an ordinary age file: stock `age -d` and the `age` crate
//! read it, and it reads theirs (`tests/interop.rs`).
//!
//! Written here: the framing of the header (the version line, the MAC line)
//! and of the payload (the STREAM nonces, which chunk is the last). Taken from
//! libraries: the wrapping and unwrapping of the file key by recipients and
//! identities (`age`), the stanza grammar and HKDF (`age-core`), HMAC-SHA-256
//! (`hmac`), ChaCha20-Poly1305 (`ring`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Read, Write};

use age_core::format::{FileKey, Stanza};
use age_core::primitives::hkdf;
use age_core::secrecy::ExposeSecret;
use base64::{Engine, prelude::BASE64_STANDARD_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// Plaintext bytes in one STREAM chunk.
pub const CHUNK: usize = 64 * 1024;
/// The Poly1305 tag after each chunk.
const TAG: usize = 16;
/// One sealed chunk.
const SEALED: usize = CHUNK + TAG;
/// Chunks sealed or opened together.
pub const BATCH: usize = 4;
const VERSION_LINE: &[u8] = b"age-encryption.org/v1\n";
const MAC_PREFIX: &[u8] = b"---";
/// The MAC line: `--- ` then 43 characters of base64 and a newline.
const MAC_LINE: usize = 3 + 1 + 43 + 1;
/// The payload nonce that starts the payload.
const PAYLOAD_NONCE: usize = 16;
/// Longer headers are refused before they are parsed.
const MAX_HEADER: u64 = 64 * 1024;

/// Bytes a [`Writer`] writes after [`Writer::new`] returned (which wrote the
/// header and the payload nonce) for a plaintext of `len` bytes: the
/// plaintext in chunks of 64 KiB with a 16-byte tag each (an empty plaintext
/// still has one, empty, chunk).
pub fn body_len(len: u64) -> Option<u64> {
    let chunks = len.div_ceil(CHUNK as u64).max(1);
    len.checked_add(chunks.checked_mul(TAG as u64)?)
}

/// Why an age file cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Not an age v1 file, or its header is cut short or malformed.
    #[error("not an age file, or its header is damaged")]
    Header,
    /// None of the identities can unwrap the file key.
    #[error("none of the given keys can decrypt this file")]
    NoMatchingKeys,
    /// A recipient stanza for one of the identities is malformed.
    #[error("the file key cannot be unwrapped: {0}")]
    Unwrap(String),
    /// The header's MAC does not match: the header was altered.
    #[error("the header's MAC does not match")]
    Mac,
    /// Reading the file failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The 12-byte STREAM nonce: an 11-byte big-endian counter and the last-chunk
/// flag.
fn nonce(counter: u64, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

fn payload_key(file_key: &FileKey, payload_nonce: &[u8]) -> io::Result<LessSafeKey> {
    let key = Zeroizing::new(hkdf(payload_nonce, b"payload", file_key.expose_secret()));
    UnboundKey::new(&CHACHA20_POLY1305, key.as_slice())
        .map(LessSafeKey::new)
        .map_err(|_| io::Error::other("the payload key was refused"))
}

fn header_mac(file_key: &FileKey) -> Hmac<Sha256> {
    let key = Zeroizing::new(hkdf(&[], b"header", file_key.expose_secret()));
    // HMAC takes keys of any length: this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key.as_slice()).expect("HMAC accepts any key length")
}

/// Runs `f` on every `SEALED`-byte slot of `buf` (the last may be shorter),
/// with the slot's index; false if `f` was false for any slot.
fn each_slot(buf: &mut [u8], f: impl Fn(usize, &mut [u8]) -> bool) -> bool {
    buf.chunks_mut(SEALED)
        .enumerate()
        .fold(true, |ok, (i, slot)| ok && f(i, slot))
}

/// Writes an age file: the header at once, then the plaintext given to
/// [`Write`] in sealed chunks. Call [`Writer::finish`] to seal the last chunk;
/// a writer dropped without it leaves a file that does not decrypt.
pub struct Writer<W: Write> {
    out: Option<W>,
    key: LessSafeKey,
    /// Counter of the first chunk of the batch in `buf`.
    counter: u64,
    /// The batch: plaintext laid out chunk by chunk with room for each tag,
    /// so that chunks are sealed where they are.
    buf: Vec<u8>,
    /// Plaintext bytes in `buf`.
    plain: usize,
}

impl<W: Write> Writer<W> {
    /// Writes the header for `recipients` to `out` and starts the payload.
    pub fn new(mut out: W, recipients: &[&dyn age::Recipient]) -> io::Result<Writer<W>> {
        if recipients.is_empty() {
            return Err(io::Error::other("an age file needs at least one recipient"));
        }
        let file_key = FileKey::init_with_mut(|k| rand::rngs::OsRng.fill_bytes(k));
        let mut stanzas: Vec<Stanza> = Vec::new();
        let mut labels: Option<HashSet<String>> = None;
        for r in recipients {
            let (mut s, l) = r
                .wrap_file_key(&file_key)
                .map_err(|e| io::Error::other(format!("wrapping the file key: {e}")))?;
            match &labels {
                Some(first) if *first != l => {
                    return Err(io::Error::other(
                        "these recipients cannot be combined in one file",
                    ));
                }
                Some(_) => {}
                None => labels = Some(l),
            }
            stanzas.append(&mut s);
        }
        let mut header = VERSION_LINE.to_vec();
        for s in &stanzas {
            header = cookie_factory::gen_simple(
                age_core::format::write::age_stanza(&s.tag, &s.args, &s.body),
                header,
            )
            .map_err(|e| io::Error::other(format!("writing the header: {e:?}")))?;
        }
        header.extend_from_slice(MAC_PREFIX);
        let mut mac = header_mac(&file_key);
        mac.update(&header);
        header.push(b' ');
        header.extend_from_slice(
            BASE64_STANDARD_NO_PAD
                .encode(mac.finalize().into_bytes())
                .as_bytes(),
        );
        header.push(b'\n');
        let mut payload_nonce = [0u8; PAYLOAD_NONCE];
        rand::rngs::OsRng.fill_bytes(&mut payload_nonce);
        header.extend_from_slice(&payload_nonce);
        out.write_all(&header)?;
        Ok(Writer {
            out: Some(out),
            key: payload_key(&file_key, &payload_nonce)?,
            counter: 0,
            buf: vec![0u8; BATCH * SEALED],
            plain: 0,
        })
    }

    /// Seals the batch in `buf` and writes it out; `last` marks its final
    /// chunk as the file's last.
    fn seal(&mut self, last: bool) -> io::Result<()> {
        if self.out.is_none() {
            return Err(io::Error::other("the age writer has failed"));
        }
        let chunks = self.plain.div_ceil(CHUNK).max(1);
        let len = self.plain + chunks * TAG;
        self.plain = 0;
        let first = self.counter;
        let key = &self.key;
        let ok = each_slot(&mut self.buf[..len], |i, slot| {
            let text = slot.len() - TAG;
            let is_last = last && i + 1 == chunks;
            let Some(counter) = first.checked_add(i as u64) else {
                return false;
            };
            match key.seal_in_place_separate_tag(
                nonce(counter, is_last),
                Aad::empty(),
                &mut slot[..text],
            ) {
                Ok(tag) => {
                    slot[text..].copy_from_slice(tag.as_ref());
                    true
                }
                Err(_) => false,
            }
        });
        let written = match (ok, self.out.as_mut()) {
            (true, Some(out)) => out.write_all(&self.buf[..len]),
            _ => Err(io::Error::other("sealing a chunk failed")),
        };
        if written.is_err() {
            // A chunk may be half written: nothing more may follow it.
            self.buf.zeroize();
            self.out = None;
            return written;
        }
        self.counter = first
            .checked_add(chunks as u64)
            .ok_or_else(|| io::Error::other("too many chunks for one age file"))?;
        Ok(())
    }

    /// Seals the last chunk, flushes, and gives back the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal(true)?;
        let mut out = self
            .out
            .take()
            .ok_or_else(|| io::Error::other("the age writer has failed"))?;
        out.flush()?;
        Ok(out)
    }
}

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let given = data.len();
        while !data.is_empty() {
            // A full batch is sealed only once more data comes: until then
            // its last chunk may be the file's last.
            if self.plain == BATCH * CHUNK {
                self.seal(false)?;
            }
            let (chunk, at) = (self.plain / CHUNK, self.plain % CHUNK);
            let take = (CHUNK - at).min(data.len());
            let start = chunk * SEALED + at;
            self.buf
                .get_mut(start..start + take)
                .ok_or_else(|| io::Error::other("the age writer has failed"))?
                .copy_from_slice(&data[..take]);
            self.plain += take;
            data = &data[take..];
        }
        Ok(given)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Chunks are sealed in batches; flushing the output early would only
        // push out what is already sealed.
        match self.out.as_mut() {
            Some(out) => out.flush(),
            None => Err(io::Error::other("the age writer has failed")),
        }
    }
}

impl<W: Write> Drop for Writer<W> {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

/// Reads an age file: the header is parsed and its MAC checked by
/// [`Reader::new`], then [`Read`] gives the plaintext, every chunk
/// authenticated before any of its bytes is given out. A chunk that fails
/// (altered, reordered, cut short, or a file cut at a chunk boundary) is an
/// [`io::ErrorKind::InvalidData`] error; nothing after it is given out.
pub struct Reader<R: Read> {
    input: BufReader<R>,
    key: LessSafeKey,
    /// Counter of the next chunk to open.
    counter: u64,
    /// Opened chunks (plaintext then the spent tag, each `SEALED` bytes but
    /// the file's last), then read-ahead ciphertext.
    buf: Vec<u8>,
    opened: usize,
    filled: usize,
    /// Where the next plaintext byte is: slot and offset in it.
    slot: usize,
    at: usize,
    done: bool,
    failed: Option<&'static str>,
}

impl<R: Read> Reader<R> {
    /// Reads and checks the header, unwrapping the file key with the first
    /// identity that can.
    pub fn new(input: R, identities: &[&dyn age::Identity]) -> Result<Reader<R>, OpenError> {
        let mut input = BufReader::with_capacity(CHUNK, input);
        let (stanzas, header, mac) = read_header(&mut input)?;
        let mut file_key = None;
        for identity in identities {
            match identity.unwrap_stanzas(&stanzas) {
                Some(Ok(k)) => {
                    file_key = Some(k);
                    break;
                }
                Some(Err(e)) => return Err(OpenError::Unwrap(e.to_string())),
                None => {}
            }
        }
        let file_key = file_key.ok_or(OpenError::NoMatchingKeys)?;
        let mut check = header_mac(&file_key);
        check.update(&header);
        check.verify_slice(&mac).map_err(|_| OpenError::Mac)?;
        let mut payload_nonce = [0u8; PAYLOAD_NONCE];
        input
            .read_exact(&mut payload_nonce)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => OpenError::Header,
                _ => OpenError::Io(e),
            })?;
        Ok(Reader {
            input,
            key: payload_key(&file_key, &payload_nonce)?,
            counter: 0,
            buf: vec![0u8; BATCH * SEALED + 1],
            opened: 0,
            filled: 0,
            slot: 0,
            at: 0,
            done: false,
            failed: None,
        })
    }

    fn fail(&mut self, why: &'static str) -> io::Error {
        self.failed = Some(why);
        self.buf.zeroize();
        io::Error::new(io::ErrorKind::InvalidData, why)
    }

    /// Opens the next batch of chunks. False at the end of the file.
    fn refill(&mut self) -> io::Result<bool> {
        if self.done {
            return Ok(false);
        }
        // What was read ahead (one byte at most) moves to the front.
        self.buf.copy_within(self.opened..self.filled, 0);
        self.filled -= self.opened;
        self.opened = 0;
        self.slot = 0;
        self.at = 0;
        while self.filled < self.buf.len() {
            match self.input.read(&mut self.buf[self.filled..]) {
                Ok(0) => break,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // A byte past the batch means its chunks are all followed by more.
        let last = self.filled < self.buf.len();
        let len = if last { self.filled } else { BATCH * SEALED };
        let chunks = len.div_ceil(SEALED);
        let final_len = len - chunks.saturating_sub(1) * SEALED;
        if chunks == 0 || final_len < TAG {
            return Err(self.fail("the encrypted file is cut short"));
        }
        if last && final_len == TAG && (self.counter > 0 || chunks > 1) {
            // Only an empty file may end in an empty chunk.
            return Err(self.fail("the encrypted file ends in an empty chunk"));
        }
        let first = self.counter;
        let key = &self.key;
        let ok = each_slot(&mut self.buf[..len], |i, slot| {
            let Some(counter) = first.checked_add(i as u64) else {
                return false;
            };
            let is_last = last && i + 1 == chunks;
            key.open_in_place(nonce(counter, is_last), Aad::empty(), slot)
                .is_ok()
        });
        if !ok {
            return Err(self.fail(
                "a chunk of the encrypted file fails authentication (altered, reordered or cut short)",
            ));
        }
        self.counter = first
            .checked_add(chunks as u64)
            .ok_or_else(|| io::Error::other("too many chunks for one age file"))?;
        self.opened = len;
        self.done = last;
        Ok(true)
    }
}

impl<R: Read> Read for Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(why) = self.failed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, why));
        }
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let start = self.slot * SEALED;
            if start < self.opened {
                let end = (start + SEALED).min(self.opened) - TAG;
                let from = start + self.at;
                if from < end {
                    let n = (end - from).min(out.len());
                    out[..n].copy_from_slice(&self.buf[from..from + n]);
                    self.at += n;
                    return Ok(n);
                }
                self.slot += 1;
                self.at = 0;
                continue;
            }
            if !self.refill()? {
                return Ok(0);
            }
        }
    }
}

impl<R: Read> Drop for Reader<R> {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

/// A parsed header: its stanzas, its bytes up to and including `---` (what
/// the MAC covers), and the MAC.
type Header = (Vec<Stanza>, Vec<u8>, Vec<u8>);

fn read_header<R: BufRead>(input: &mut R) -> Result<Header, OpenError> {
    let mut limited = input.take(MAX_HEADER);
    let mut header = Vec::new();
    let mut line = Vec::new();
    limited.read_until(b'\n', &mut line)?;
    if line != VERSION_LINE {
        return Err(OpenError::Header);
    }
    header.extend_from_slice(&line);
    loop {
        line.clear();
        limited.read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            return Err(OpenError::Header);
        }
        if line.starts_with(MAC_PREFIX) {
            break;
        }
        header.extend_from_slice(&line);
    }
    if line.len() != MAC_LINE || line[3] != b' ' {
        return Err(OpenError::Header);
    }
    let mac = BASE64_STANDARD_NO_PAD
        .decode(&line[4..MAC_LINE - 1])
        .map_err(|_| OpenError::Header)?;
    let mut rest = &header[VERSION_LINE.len()..];
    let mut stanzas = Vec::new();
    while !rest.is_empty() {
        let (after, stanza) =
            age_core::format::read::age_stanza(rest).map_err(|_| OpenError::Header)?;
        stanzas.push(Stanza::from(stanza));
        rest = after;
    }
    if stanzas.is_empty() || mac.len() != 32 {
        return Err(OpenError::Header);
    }
    header.extend_from_slice(MAC_PREFIX);
    Ok((stanzas, header, mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_length_counts_one_tag_per_chunk() {
        assert_eq!(body_len(0), Some(16));
        assert_eq!(body_len(1), Some(1 + 16));
        assert_eq!(body_len(CHUNK as u64), Some(CHUNK as u64 + 16));
        assert_eq!(body_len(CHUNK as u64 + 1), Some(CHUNK as u64 + 1 + 32));
        assert_eq!(body_len(u64::MAX), None);
    }

    #[test]
    fn nonces_carry_the_counter_big_endian_and_the_last_flag() {
        let n = nonce(0x0102, true);
        assert_eq!(n.as_ref(), &[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1]);
        let n = nonce(u64::MAX, false);
        assert_eq!(n.as_ref()[..3], [0, 0, 0]);
        assert_eq!(n.as_ref()[3..11], [0xff; 8]);
        assert_eq!(n.as_ref()[11], 0);
    }

    #[test]
    fn every_slot_is_visited_once_the_last_one_short() {
        for len in [
            0,
            1,
            SEALED - 1,
            SEALED,
            SEALED + 1,
            7 * SEALED + 5,
            BATCH * SEALED,
        ] {
            let mut buf = vec![0u8; len];
            let seen = std::sync::Mutex::new(Vec::new());
            assert!(each_slot(&mut buf, |i, slot| {
                slot.iter_mut().for_each(|b| *b += 1);
                seen.lock().map(|mut s| s.push(i)).is_ok()
            }));
            let mut seen = seen.into_inner().unwrap_or_default();
            seen.sort_unstable();
            let want: Vec<usize> = (0..len.div_ceil(SEALED)).collect();
            assert_eq!(seen, want, "len {len}");
            assert!(buf.iter().all(|&b| b == 1), "len {len}");
        }
    }
}
