//! Attachments: encrypted files with random names, streamed in constant memory.
//!
//! Each file is a standard age file encrypted to the vault's storage key (an
//! X25519 identity kept inside the encrypted database). The plaintext is the
//! original bytes followed by zero padding up to the Padmé length, so the file
//! size reveals little about the original size; the true size and the
//! SHA-256 fixed at capture are stored in the database.

use std::io::{self, Read, Write};
use std::sync::mpsc::sync_channel;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Buffer size for streaming copies (the age chunk size is 64 KiB).
pub(crate) const COPY_BUFFER: usize = 256 * 1024;

/// The Padmé padded length for `len` (at most ~12% larger, leaks
/// O(log log len) bits): the one rule in `yaddash_os::padme`. A length whose
/// padding would not fit in a `u64` (no real file) is left unpadded.
pub fn padme(len: u64) -> u64 {
    yaddash_os::padme(len).unwrap_or(len)
}

/// Copies `input` to `output`, reporting progress (returning false cancels),
/// and returns (bytes, SHA-256). The SHA-256 is computed on a second thread
/// while this one reads (typically decrypts) and writes (typically
/// encrypts), for readers that cannot cross threads.
pub(crate) fn copy_hashing_beside(
    input: &mut dyn Read,
    output: &mut dyn Write,
    limit: Option<u64>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> io::Result<(u64, [u8; 32])> {
    let mut hasher = Sha256::new();
    let total = copy_with_beside(input, output, &mut hasher, limit, progress)?;
    Ok((total, hasher.finalize().into()))
}

/// Copies `input` to `output`, reporting progress (returning false cancels),
/// and returns the byte count, hashing nothing: for readers that check their
/// own bytes against a known SHA-256 (see `Vault::stage_attachment_checked`).
/// This thread reads (typically decrypts a bundle entry) while a second one
/// writes (typically encrypts).
pub(crate) fn copy_writing_beside(
    input: &mut dyn Read,
    output: &mut (dyn Write + Send),
    progress: &mut dyn FnMut(u64) -> bool,
) -> io::Result<u64> {
    copy_with_beside(input, &mut io::sink(), output, None, progress)
}

/// This thread reads `input` (at most `limit` bytes) and writes each piece
/// to `here`; a second thread writes the same pieces to `beside`. Returns
/// the byte count. At most `DEPTH + 1` buffers exist; each is zeroed when
/// dropped (they hold plaintext).
fn copy_with_beside(
    input: &mut dyn Read,
    here: &mut dyn Write,
    beside: &mut (dyn Write + Send),
    limit: Option<u64>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> io::Result<u64> {
    const DEPTH: usize = 4;
    type Buf = Zeroizing<Vec<u8>>;
    let (full_tx, full_rx) = sync_channel::<(Buf, usize)>(DEPTH);
    let (empty_tx, empty_rx) = sync_channel::<Buf>(DEPTH + 1);
    for _ in 0..DEPTH + 1 {
        let _ = empty_tx.send(Zeroizing::new(vec![0u8; COPY_BUFFER]));
    }
    std::thread::scope(|scope| {
        let side = scope.spawn(move || -> io::Result<()> {
            for (buf, n) in full_rx {
                beside.write_all(&buf[..n])?;
                // Never blocks: the channel holds every buffer there is.
                let _ = empty_tx.try_send(buf);
            }
            Ok(())
        });
        let stopped = || io::Error::other("the second thread stopped");
        let mut total: u64 = 0;
        let mut copy = || -> io::Result<()> {
            loop {
                let want = match limit {
                    Some(l) => {
                        usize::try_from((l - total).min(COPY_BUFFER as u64)).unwrap_or(COPY_BUFFER)
                    }
                    None => COPY_BUFFER,
                };
                if want == 0 {
                    return Ok(());
                }
                let mut buf = empty_rx.recv().map_err(|_| stopped())?;
                let n = loop {
                    match input.read(&mut buf[..want]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                if n == 0 {
                    return Ok(());
                }
                here.write_all(&buf[..n])?;
                total += n as u64;
                full_tx.send((buf, n)).map_err(|_| stopped())?;
                if !progress(total) {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
                }
            }
        };
        let result = copy();
        drop(full_tx);
        let beside_result = side
            .join()
            .map_err(|_| io::Error::other("the second thread failed"))?;
        // The second thread's own error says more than "stopped".
        beside_result.and(result).map(|()| total)
    })
}

/// Like [`copy_hashing_beside`] but reads and hashes on a second thread while this
/// one encrypts (and a [`yaddash_os::WriteBehind`] writes), so hashing costs no wall time
/// on a multi-core machine. Memory stays constant: at most `DEPTH + 1`
/// buffers exist, and each is zeroed when dropped (they hold plaintext).
pub(crate) fn copy_hashing_pipelined(
    input: &mut (dyn Read + Send),
    output: &mut dyn Write,
    progress: &mut dyn FnMut(u64) -> bool,
) -> io::Result<(u64, [u8; 32])> {
    const DEPTH: usize = 4;
    type Buf = Zeroizing<Vec<u8>>;
    let (full_tx, full_rx) = sync_channel::<io::Result<Buf>>(DEPTH);
    let (empty_tx, empty_rx) = sync_channel::<Buf>(DEPTH + 1);
    for _ in 0..DEPTH + 1 {
        let _ = empty_tx.send(Zeroizing::new(vec![0u8; COPY_BUFFER]));
    }
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut hasher = Sha256::new();
            while let Ok(mut buf) = empty_rx.recv() {
                buf.resize(COPY_BUFFER, 0);
                let n = loop {
                    match input.read(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                match n {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        hasher.update(&buf);
                        if full_tx.send(Ok(buf)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        break;
                    }
                }
            }
            let hash: [u8; 32] = hasher.finalize().into();
            hash
        });
        let mut total = 0u64;
        let mut result = Ok(());
        for msg in full_rx.iter() {
            let buf = match msg {
                Ok(b) => b,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            if let Err(e) = output.write_all(&buf) {
                result = Err(e);
                break;
            }
            total += buf.len() as u64;
            if !progress(total) {
                result = Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
                break;
            }
            let _ = empty_tx.send(buf);
        }
        // Dropping the channels stops the reader if we stopped early.
        drop(full_rx);
        drop(empty_tx);
        let hash = reader
            .join()
            .map_err(|_| io::Error::other("the hashing thread failed"))?;
        result.map(|()| (total, hash))
    })
}

/// Writes `n` zero bytes.
pub(crate) fn write_zeros(output: &mut dyn Write, mut n: u64) -> io::Result<()> {
    let zeros = vec![0u8; COPY_BUFFER];
    while n > 0 {
        let k = n.min(COPY_BUFFER as u64) as usize;
        output.write_all(&zeros[..k])?;
        n -= k as u64;
    }
    Ok(())
}

/// Guesses a media type from a file name's extension (for display only).
pub fn guess_media_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "txt" => "text/plain",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padme_bounds() {
        for len in [0u64, 1, 2, 3, 100, 1000, 4097, 1 << 20, (1 << 30) + 12345] {
            let p = padme(len);
            assert!(p >= len);
            assert!(p as f64 <= len as f64 * 1.125 + 1.0, "{len} -> {p}");
        }
        assert_eq!(padme(1 << 20), 1 << 20);
    }

    use crate::{CreateOptions, Vault, VaultError};
    use age::secrecy::SecretString;
    use std::io::Read;
    use uuid::Uuid;
    use yaddash_model::{Person, Record};

    fn vault() -> (tempfile::TempDir, Vault, Uuid) {
        let dir = tempfile::tempdir().unwrap();
        let pass = SecretString::from("correct horse battery".to_string());
        let opts = CreateOptions {
            kdf_work_factor: crate::MIN_WORK_FACTOR,
            ..CreateOptions::default()
        };
        let (mut v, _) = Vault::create(&dir.path().join("v"), &pass, &opts).unwrap();
        let id = v
            .add(&Record::Person(Person {
                names: vec!["A".into()],
                birth_year: None,
                roles: vec![],
                notes: None,
                confidentiality: Default::default(),
                reliability: Default::default(),
            }))
            .unwrap();
        (dir, v, id)
    }

    /// Deterministic bytes (xorshift), `len` of them, then optionally an error.
    struct Source {
        left: u64,
        state: u64,
        fail_at_end: bool,
    }

    impl Read for Source {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                return if self.fail_at_end {
                    Err(io::Error::other("the card was pulled out"))
                } else {
                    Ok(0)
                };
            }
            let n = buf
                .len()
                .min(usize::try_from(self.left).unwrap_or(usize::MAX));
            for b in &mut buf[..n] {
                self.state ^= self.state << 13;
                self.state ^= self.state >> 7;
                self.state ^= self.state << 17;
                *b = self.state as u8;
            }
            self.left -= n as u64;
            Ok(n)
        }
    }

    fn files_in(v: &Vault) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(v.dir.join(crate::ATTACHMENTS))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_large_attachment_goes_through_the_pipeline_and_back() {
        let (_d, mut v, id) = vault();
        // Not a multiple of any buffer size; several write-back steps.
        let len = 20 * 1024 * 1024 + 12_345;
        let src = || Source {
            left: len,
            state: 0x9E37_79B9_7F4A_7C15,
            fail_at_end: false,
        };
        let mut want = Vec::new();
        src().read_to_end(&mut want).unwrap();
        let info = v
            .attach(id, "big.bin", None, &mut src(), &mut |_| true)
            .unwrap();
        assert_eq!(info.size, len);
        assert_eq!(info.sha256, hex::encode(Sha256::digest(&want)));
        let mut got = Vec::new();
        v.export_attachment(info.id, &mut got, &mut |_| true)
            .unwrap();
        assert!(got == want, "the attachment does not read back the same");
        let files = files_in(&v);
        assert_eq!(files.len(), 1, "{files:?}");
        let on_disk = std::fs::read(v.dir.join(crate::ATTACHMENTS).join(&files[0])).unwrap();
        assert!(on_disk.starts_with(b"age-encryption.org/v1\n"));
    }

    #[test]
    fn a_read_error_midway_leaves_no_file_and_no_row() {
        let (_d, mut v, id) = vault();
        let mut src = Source {
            left: 9 * 1024 * 1024 + 7,
            state: 1,
            fail_at_end: true,
        };
        let err = v
            .attach(id, "x.bin", None, &mut src, &mut |_| true)
            .unwrap_err();
        assert!(err.to_string().contains("card was pulled out"), "{err}");
        assert!(files_in(&v).is_empty(), "left behind: {:?}", files_in(&v));
        assert!(v.attachments_of(id).unwrap().is_empty());
    }

    /// The import's path: the reader checks its own hash and fails at its
    /// last read when the bytes differ (as a bundle entry does). Such a
    /// failure leaves no file; a reader that checks out is stored, encrypted
    /// on the second thread, and reads back whole.
    #[test]
    fn a_checked_reader_failing_at_its_last_read_leaves_no_file() {
        let (_d, v, _) = vault();
        let len = 3 * 1024 * 1024 + 5;
        let src = |fail_at_end| Source {
            left: len,
            state: 4,
            fail_at_end,
        };
        let mut want = Vec::new();
        src(false).read_to_end(&mut want).unwrap();
        let hash: [u8; 32] = Sha256::digest(&want).into();
        let err = v
            .stage_attachment_checked(&mut src(true), hash, &mut |_| true)
            .unwrap_err();
        assert!(err.to_string().contains("card was pulled out"), "{err}");
        assert!(files_in(&v).is_empty(), "left behind: {:?}", files_in(&v));

        let staged = v
            .stage_attachment_checked(&mut src(false), hash, &mut |_| true)
            .unwrap();
        assert_eq!(staged.size, len);
        assert_eq!(staged.sha256, hex::encode(hash));
        assert_eq!(files_in(&v), vec![staged.file.clone()]);
        let mut back = Vec::new();
        v.decrypting_reader(Uuid::nil(), &staged.file)
            .unwrap()
            .take(len)
            .read_to_end(&mut back)
            .unwrap();
        assert!(
            back == want,
            "the staged attachment does not read back the same"
        );
        v.discard_staged(&[staged]);
        assert!(files_in(&v).is_empty());
    }

    #[test]
    fn cancelling_midway_leaves_no_file() {
        let (_d, mut v, id) = vault();
        let mut src = Source {
            left: 16 * 1024 * 1024,
            state: 2,
            fail_at_end: false,
        };
        let err = v
            .attach(id, "x.bin", None, &mut src, &mut |done| {
                done < 5 * 1024 * 1024
            })
            .unwrap_err();
        assert!(matches!(err, VaultError::Cancelled), "{err}");
        assert!(files_in(&v).is_empty(), "left behind: {:?}", files_in(&v));
    }

    #[test]
    fn a_damaged_chunk_midway_is_reported_by_check_and_export() {
        let (_d, mut v, id) = vault();
        let len = 6 * 1024 * 1024;
        let mut src = Source {
            left: len,
            state: 3,
            fail_at_end: false,
        };
        let info = v
            .attach(id, "x.bin", None, &mut src, &mut |_| true)
            .unwrap();
        let path = v.dir.join(crate::ATTACHMENTS).join(&files_in(&v)[0]);
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = v
            .export_attachment(info.id, &mut io::sink(), &mut |_| true)
            .unwrap_err();
        assert!(matches!(err, VaultError::AttachmentCorrupt { .. }), "{err}");
        let report = v.check(&mut |_| true).unwrap();
        assert!(!report.is_clean(), "{report:?}");
    }
}
