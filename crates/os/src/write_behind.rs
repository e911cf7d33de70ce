//! A writer whose writes happen on a thread of its own, starting the
//! kernel's write-back as it goes, so that the thread that produces the bytes
//! (encrypting, hashing) never waits in `write(2)` and the closing fsync has
//! little left to do. Used for attachment files and bundle files.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Size of one write handed to the [`WriteBehind`] thread.
const WRITE_BEHIND_BUF: usize = 1 << 20;
/// Buffers queued for the [`WriteBehind`] thread at most.
const WRITE_BEHIND_DEPTH: usize = 4;
/// Write-back of what was written is started every this many bytes.
const WRITE_BACK_STEP: u64 = 8 << 20;

/// A writer that hands its bytes to a thread of its own, which writes them to
/// the file and starts the kernel's write-back every [`WRITE_BACK_STEP`] bytes
/// (so the closing fsync has little left to do). Give it only ciphertext: its
/// buffers are not zeroed. Memory: at most `WRITE_BEHIND_DEPTH + 2` buffers
/// of 1 MiB.
pub struct WriteBehind {
    buf: Vec<u8>,
    full: Option<SyncSender<Vec<u8>>>,
    empty: Receiver<Vec<u8>>,
    allocated: usize,
    thread: Option<JoinHandle<io::Result<File>>>,
}

impl WriteBehind {
    /// Starts the writer thread for `file` (opened for writing).
    pub fn new(file: File) -> io::Result<WriteBehind> {
        let (full_tx, full_rx) = sync_channel::<Vec<u8>>(WRITE_BEHIND_DEPTH);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(WRITE_BEHIND_DEPTH + 2);
        let thread = std::thread::Builder::new()
            .name("write-behind".into())
            .spawn(move || {
                let mut file = file;
                let (mut written, mut started) = (0u64, 0u64);
                for mut buf in full_rx {
                    file.write_all(&buf)?;
                    written += buf.len() as u64;
                    if written - started >= WRITE_BACK_STEP {
                        start_write_back(&file, started, written - started);
                        started = written;
                    }
                    buf.clear();
                    let _ = empty_tx.try_send(buf);
                }
                Ok(file)
            })?;
        Ok(WriteBehind {
            buf: Vec::with_capacity(WRITE_BEHIND_BUF),
            full: Some(full_tx),
            empty: empty_rx,
            allocated: 1,
            thread: Some(thread),
        })
    }

    /// Hands the current buffer to the thread and takes an empty one.
    fn hand_over(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = match self.empty.try_recv() {
            Ok(b) => b,
            Err(_) if self.allocated < WRITE_BEHIND_DEPTH + 2 => {
                self.allocated += 1;
                Vec::with_capacity(WRITE_BEHIND_BUF)
            }
            Err(_) => match self.empty.recv() {
                Ok(b) => b,
                Err(_) => return Err(self.failure()),
            },
        };
        let full = std::mem::replace(&mut self.buf, next);
        let sent = match &self.full {
            Some(tx) => tx.send(full).is_ok(),
            None => false,
        };
        if sent { Ok(()) } else { Err(self.failure()) }
    }

    /// The writer thread's error, once it has stopped.
    fn failure(&mut self) -> io::Error {
        self.full = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("the writer thread stopped"),
        }
    }

    /// Writes what is left and returns the file (not yet synced).
    pub fn finish(mut self) -> io::Result<File> {
        self.hand_over()?;
        self.full = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Err(io::Error::other("the writer thread failed")),
        }
    }
}

impl Write for WriteBehind {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = WRITE_BEHIND_BUF - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == WRITE_BEHIND_BUF {
            self.hand_over()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Durability comes from `finish` and the caller's fsync.
        Ok(())
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        // Stops the thread (it drains what it was given) and closes the file.
        self.full = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Asks the kernel to start writing `len` bytes at `offset` to the disk now,
/// without waiting (`posix_fadvise(DONTNEED)` starts write-back of dirty
/// pages on Linux, then drops the clean ones from the page cache: a new
/// attachment is not read again soon). Advisory: failures are ignored.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn start_write_back(file: &File, offset: u64, len: u64) {
    let _ = rustix::fs::fadvise(
        file,
        offset,
        std::num::NonZeroU64::new(len),
        rustix::fs::Advice::DontNeed,
    );
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn start_write_back(_file: &File, _offset: u64, _len: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_under_the_writer_thread_is_reported() {
        let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            eprintln!("skipping: no /dev/full");
            return;
        };
        let mut w = WriteBehind::new(full).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut err = None;
        for _ in 0..200 {
            if let Err(e) = w.write_all(&chunk) {
                err = Some(e);
                break;
            }
        }
        let err = match err {
            Some(e) => e,
            None => w.finish().map(|_| ()).unwrap_err(),
        };
        assert!(
            err.kind() == io::ErrorKind::StorageFull || err.raw_os_error() == Some(28),
            "{err:?}"
        );
    }
}
