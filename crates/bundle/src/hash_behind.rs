//! Hashing on a thread of its own.

use std::io;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// SHA-256 of a bundle's ciphertext (the bundle id, and what the outer
/// SSHSIG signs), computed on a thread of its own so that it costs no wall
/// time on a second core: by the writer as it writes, and by the reader's
/// second pass to see that the file did not change since the first. Only
/// ciphertext goes through it; at most `HASH_BEHIND_DEPTH + 1` buffers of
/// `HASH_BEHIND_BUF` bytes are held.
pub(crate) struct HashBehind {
    pending: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    thread: Option<JoinHandle<Sha256>>,
}

const HASH_BEHIND_BUF: usize = 1 << 20;
const HASH_BEHIND_DEPTH: usize = 4;

impl HashBehind {
    pub(crate) fn new() -> io::Result<HashBehind> {
        let (tx, rx) = sync_channel::<Vec<u8>>(HASH_BEHIND_DEPTH);
        let thread = std::thread::Builder::new()
            .name("bundle-hash".into())
            .spawn(move || {
                let mut sha256 = Sha256::new();
                for buf in rx {
                    sha256.update(&buf);
                }
                sha256
            })?;
        Ok(HashBehind {
            pending: Vec::with_capacity(HASH_BEHIND_BUF),
            tx: Some(tx),
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
        let full = std::mem::replace(&mut self.pending, Vec::with_capacity(HASH_BEHIND_BUF));
        match &self.tx {
            Some(tx) if tx.send(full).is_ok() => Ok(()),
            _ => Err(io::Error::other("the bundle hashing thread stopped")),
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
