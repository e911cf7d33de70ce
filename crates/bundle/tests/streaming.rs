//! Constant memory: a 256 MiB entry generated on the fly (never held in
//! memory) is written and read back, and the process's peak resident memory
//! grows by far less than the entry's size.
//!
//! The entry is 256 MiB in optimised builds (`cargo test --release`) and
//! 32 MiB in debug builds, where hashing and ChaCha20 run ~10x slower; set
//! `YADDASH_STREAMING_MIB` to choose (e.g. 9000 to cross the 8 GiB pax limit).

mod common;

use std::fs::File;
use std::io::{self, BufWriter, Read};

use common::*;
use sha2::{Digest, Sha256};
use yaddash_bundle::*;

/// Deterministic pseudo-random bytes (xorshift64), produced on demand.
struct Generated {
    state: u64,
    left: u64,
}

impl Generated {
    fn new(len: u64) -> Self {
        Self {
            state: 0x9E37_79B9_7F4A_7C15,
            left: len,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            let bytes = self.state.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct HashingVisitor(Vec<[u8; 32]>);

impl BundleVisitor for HashingVisitor {
    fn entry(&mut self, _: &ManifestEntry, data: &mut dyn Read) -> Result<(), VisitError> {
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = data.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        self.0.push(h.finalize().into());
        Ok(())
    }
}

#[test]
fn a_large_entry_streams_through_in_constant_memory() {
    let mib: u64 = std::env::var("YADDASH_STREAMING_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 32 } else { 256 });
    let len = mib * 1024 * 1024;

    // The hash is computed by streaming the generator once.
    let mut hasher = Sha256::new();
    let mut g = Generated::new(len);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = g.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let sha256 = Sha256Hash(hasher.finalize().into());

    let w = World::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaddash");
    let before = peak_rss_kib();

    let entries = vec![
        EntrySource::from_bytes("records/r.json", b"{\"big\":true}"),
        EntrySource {
            path: "attachments/big".into(),
            size: len,
            sha256,
            reader: Box::new(Generated::new(len)),
        },
    ];
    let out = BufWriter::new(File::create(&path).unwrap());
    let written = write_bundle(out, &w.device, &w.spec(1), entries).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), written.total_len);
    assert!(written.padded_plaintext_len >= len);

    let mut v = HashingVisitor(Vec::new());
    let verified = read_bundle(&path, &w.senders, &w.config(), &mut v).unwrap();
    assert_eq!(verified.outer.bundle_id, written.bundle_id);
    assert_eq!(v.0[1], sha256.0);

    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown_mib = (after.saturating_sub(before)) / 1024;
        eprintln!("peak RSS grew by {grown_mib} MiB for a {mib} MiB entry");
        assert!(
            grown_mib < 16,
            "peak memory grew by {grown_mib} MiB: something buffers"
        );
    }
}
