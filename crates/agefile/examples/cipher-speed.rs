//! One core's time for 1 GiB of ChaCha20-Poly1305 sealing in 64 KiB chunks
//! (ring, which `yaddash-agefile` uses, and RustCrypto, which the `age`
//! crate uses), and for SHA-256 and SHA-512 (sha2). Figures in
//! docs/benchmarks.md.
//!
//!     cargo run --release -p yaddash-agefile --example cipher-speed

use std::time::Instant;

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use sha2::Digest;

const CHUNK: usize = 64 * 1024;
const TOTAL: usize = 1 << 30;

fn nonce(i: usize) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&(i as u64).to_be_bytes());
    n
}

fn main() {
    let mut buf = vec![7u8; CHUNK];
    let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &[1u8; 32]).expect("key"));
    let t = Instant::now();
    for i in 0..TOTAL / CHUNK {
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce(i)),
                Aad::empty(),
                &mut buf,
            )
            .expect("seal");
        let _ = std::hint::black_box(tag);
    }
    println!("ring ChaCha20-Poly1305, 1 GiB: {:?}", t.elapsed());
    let cipher = ChaCha20Poly1305::new(&[1u8; 32].into());
    let t = Instant::now();
    for i in 0..TOTAL / CHUNK {
        let tag = cipher
            .encrypt_in_place_detached(&nonce(i).into(), b"", &mut buf)
            .expect("seal");
        let _ = std::hint::black_box(tag);
    }
    println!("RustCrypto ChaCha20-Poly1305, 1 GiB: {:?}", t.elapsed());
    time_digest::<sha2::Sha256>("SHA-256", &buf);
    time_digest::<sha2::Sha512>("SHA-512", &buf);
}

fn time_digest<D: Digest>(name: &str, buf: &[u8]) {
    let t = Instant::now();
    let mut h = D::new();
    for _ in 0..TOTAL / CHUNK {
        h.update(buf);
    }
    std::hint::black_box(h.finalize());
    println!("{name}, 1 GiB: {:?}", t.elapsed());
}
