//! Hashing on a thread of its own.

use std::io;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A SHA-256 computed on a thread of its own so that it costs no wall time
/// on a second core: of a bundle's ciphertext (the bundle id, and what the
/// outer SSHSIG signs) by the writer as it writes and by the reader's second
/// pass to see that the file did not change since the first; and of a large
/// entry's plaintext against the manifest while the reader's caller stores
/// it. Buffers go round between the two threads and are zeroed when dropped
/// (entries are plaintext); at most `HASH_BEHIND_DEPTH + 2` buffers of
/// `HASH_BEHIND_BUF` bytes are held.
pub(crate) struct HashBehind {
    pending: Zeroizing<Vec<u8>>,
    tx: Option<SyncSender<Zeroizing<Vec<u8>>>>,
    /// Buffers the thread has hashed, to be filled again (so that buffers
    /// are zeroed once, at the end, not once a MiB).
    empty: Receiver<Zeroizing<Vec<u8>>>,
    allocated: usize,
    thread: Option<JoinHandle<Sha256>>,
}

const HASH_BEHIND_BUF: usize = 1 << 20;
const HASH_BEHIND_DEPTH: usize = 4;

impl HashBehind {
    pub(crate) fn new() -> io::Result<HashBehind> {
        let (tx, rx) = sync_channel::<Zeroizing<Vec<u8>>>(HASH_BEHIND_DEPTH);
        let (empty_tx, empty) = sync_channel::<Zeroizing<Vec<u8>>>(HASH_BEHIND_DEPTH + 2);
        let thread = std::thread::Builder::new()
            .name("bundle-hash".into())
            .spawn(move || {
                let mut sha256 = Sha256::new();
                for mut buf in rx {
                    sha256.update(&buf[..]);
                    buf.clear();
                    // Never blocks: the channel holds every buffer there is.
                    let _ = empty_tx.try_send(buf);
                }
                sha256
            })?;
        Ok(HashBehind {
            pending: Zeroizing::new(Vec::with_capacity(HASH_BEHIND_BUF)),
            tx: Some(tx),
            empty,
            allocated: 1,
            thread: Some(thread),
        })
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = data.len().min(HASH_BEHIND_BUF - self.pending.len());
            self.pending.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.pending.len() == HASH_BEHIND_BUF {
                self.send()?;
            }
        }
        Ok(())
    }

    fn send(&mut self) -> io::Result<()> {
        let stopped = || io::Error::other("the bundle hashing thread stopped");
        let next = match self.empty.try_recv() {
            Ok(b) => b,
            Err(_) if self.allocated < HASH_BEHIND_DEPTH + 2 => {
                self.allocated += 1;
                Zeroizing::new(Vec::with_capacity(HASH_BEHIND_BUF))
            }
            Err(_) => self.empty.recv().map_err(|_| stopped())?,
        };
        let full = std::mem::replace(&mut self.pending, next);
        match &self.tx {
            Some(tx) if tx.send(full).is_ok() => Ok(()),
            _ => Err(stopped()),
        }
    }

    /// The SHA-256 of everything given.
    pub(crate) fn finish(mut self) -> io::Result<Sha256> {
        if !self.pending.is_empty() {
            self.send()?;
        }
        self.tx = None;
        self.thread
            .take()
            .ok_or_else(|| io::Error::other("the bundle hashing thread is gone"))?
            .join()
            .map_err(|_| io::Error::other("the bundle hashing thread failed"))
    }
}

impl Drop for HashBehind {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
