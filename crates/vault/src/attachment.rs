//! Attachments: encrypted files with random names, streamed in constant memory.
//!
//! Each file is a standard age file encrypted to the vault's storage key (an
//! X25519 identity kept inside the encrypted database). The plaintext is the
//! original bytes followed by zero padding up to the Padmé length, so the file
//! size reveals little about the original size; the true size and the
//! SHA-256 fixed at capture are stored in the database.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// Buffer size for streaming copies (the age chunk size is 64 KiB).
pub(crate) const COPY_BUFFER: usize = 256 * 1024;

/// The Padmé padded length for `len` (at most ~12% larger, leaks
/// O(log log len) bits): the one rule in `yaddash_os::padme`. A length whose
/// padding would not fit in a `u64` (no real file) is left unpadded.
pub fn padme(len: u64) -> u64 {
    yaddash_os::padme(len).unwrap_or(len)
}

/// Copies `input` to `output` through a SHA-256, reporting progress.
/// Returns (bytes, hash). `progress` returning false cancels.
pub(crate) fn copy_hashing(
    input: &mut dyn Read,
    output: &mut dyn Write,
    limit: Option<u64>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> io::Result<(u64, [u8; 32])> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut total: u64 = 0;
    loop {
        let want = match limit {
            Some(l) => usize::try_from((l - total).min(COPY_BUFFER as u64)).unwrap_or(COPY_BUFFER),
            None => COPY_BUFFER,
        };
        if want == 0 {
            break;
        }
        let n = match input.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        total += n as u64;
        if !progress(total) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
        }
    }
    Ok((total, hasher.finalize().into()))
}

/// Like [`copy_hashing`] but hashes on a second thread while this one
/// encrypts and writes, so hashing costs no wall time on a multi-core machine.
/// Memory stays constant: at most `DEPTH` buffers are in flight.
pub(crate) fn copy_hashing_pipelined(
    input: &mut (dyn Read + Send),
    output: &mut dyn Write,
    progress: &mut dyn FnMut(u64) -> bool,
) -> io::Result<(u64, [u8; 32])> {
    const DEPTH: usize = 4;
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(DEPTH);
    let (empty_tx, empty_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(DEPTH + 1);
    for _ in 0..DEPTH + 1 {
        let _ = empty_tx.send(vec![0u8; COPY_BUFFER]);
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
}
