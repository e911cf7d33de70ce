//! The files this crate writes are ordinary age files, and it reads
//! ordinary age files: checked against the `age` crate and against stock
//! `age` (Go), in both directions, at every size where the chunking changes;
//! and every kind of damage is refused before a byte of it is given out.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use yaddash_agefile::{BATCH, CHUNK, OpenError, Reader, Writer, body_len};

const BATCH_BYTES: usize = BATCH * CHUNK;

/// Sizes around every boundary: empty, one chunk, a batch, several batches.
fn sizes() -> Vec<usize> {
    vec![
        0,
        1,
        CHUNK - 1,
        CHUNK,
        CHUNK + 1,
        2 * CHUNK,
        BATCH_BYTES - 1,
        BATCH_BYTES,
        BATCH_BYTES + 1,
        BATCH_BYTES + CHUNK,
        3 * BATCH_BYTES + 12_345,
    ]
}

fn plaintext(len: usize) -> Vec<u8> {
    // Not all zeros, and differing from chunk to chunk.
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
        .collect()
}

/// Writes in uneven pieces, so that batches are filled across calls.
fn seal(data: &[u8], recipients: &[&dyn age::Recipient]) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), recipients).expect("header");
    for piece in data.chunks(100_003) {
        w.write_all(piece).expect("write");
    }
    w.finish().expect("finish")
}

fn open(file: &[u8], identity: &age::x25519::Identity) -> std::io::Result<Vec<u8>> {
    let mut r = Reader::new(file, &[identity as &dyn age::Identity])
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut out = Vec::new();
    // Small reads, so that slots are served across calls.
    let mut buf = vec![0u8; 7_777];
    loop {
        match r.read(&mut buf)? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn age_crate_seal(data: &[u8], recipient: &age::x25519::Recipient) -> Vec<u8> {
    let e = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .expect("encryptor");
    let mut w = e.wrap_output(Vec::new()).expect("wrap");
    w.write_all(data).expect("write");
    w.finish().expect("finish")
}

fn age_crate_open(file: &[u8], identity: &age::x25519::Identity) -> Vec<u8> {
    let d = age::Decryptor::new(file).expect("header");
    let mut r = d
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .expect("key");
    let mut out = Vec::new();
    r.read_to_end(&mut out).expect("payload");
    out
}

#[test]
fn the_age_crate_reads_what_we_write_and_we_read_what_it_writes() {
    let id = age::x25519::Identity::generate();
    let to = id.to_public();
    for len in sizes() {
        let data = plaintext(len);
        let ours = seal(&data, &[&to]);
        let theirs = age_crate_seal(&data, &to);
        // The version line, one X25519 stanza (its line and its body), the
        // MAC line and the 16-byte payload nonce, then the chunks (age's own
        // files also carry a random "grease" stanza, so their length
        // varies).
        let header = ours.len() as u64 - body_len(len as u64).expect("len");
        assert_eq!(header, 22 + 54 + 44 + 48 + 16, "header of {len}");
        assert!(
            age_crate_open(&ours, &id) == data,
            "age crate reading ours, {len}"
        );
        assert!(
            open(&theirs, &id).expect("ours reading age's") == data,
            "{len}"
        );
        assert!(open(&ours, &id).expect("round trip") == data, "{len}");
    }
}

fn stock_age(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("age")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stock `age` (Debian package age) must be installed");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("age runs");
    feeder.join().expect("feeder").expect("feeding age");
    assert!(
        out.status.success(),
        "age {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn stock_age_reads_what_we_write_and_we_read_what_it_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = age::x25519::Identity::generate();
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, id.to_string().expose_secret()).expect("key file");
    let key_file = key_file.to_str().expect("utf-8 path");
    let to = id.to_public().to_string();
    for len in [0, 1, CHUNK, CHUNK + 1, BATCH_BYTES, 2 * BATCH_BYTES + 99] {
        let data = plaintext(len);
        let ours = seal(&data, &[&id.to_public()]);
        assert!(
            stock_age(&["-d", "-i", key_file], &ours) == data,
            "age -d, {len}"
        );
        let theirs = stock_age(&["-r", &to], &data);
        assert!(open(&theirs, &id).expect("reading age -r") == data, "{len}");
    }
}

#[test]
fn every_recipient_can_open_and_no_one_else() {
    let a = age::x25519::Identity::generate();
    let b = age::x25519::Identity::generate();
    let stranger = age::x25519::Identity::generate();
    let data = plaintext(CHUNK * 3 + 5);
    let file = seal(&data, &[&a.to_public(), &b.to_public()]);
    assert!(open(&file, &a).expect("a") == data);
    assert!(open(&file, &b).expect("b") == data);
    assert!(age_crate_open(&file, &b) == data);
    assert!(matches!(
        Reader::new(&file[..], &[&stranger as &dyn age::Identity]),
        Err(OpenError::NoMatchingKeys)
    ));
    assert!(Writer::new(Vec::new(), &[]).is_err(), "no recipients");
}

/// A file of 71 chunks, the last one short, and where its payload starts.
fn sample() -> (age::x25519::Identity, Vec<u8>, Vec<u8>, usize) {
    let id = age::x25519::Identity::generate();
    let data = plaintext(70 * CHUNK + 1_000);
    let file = seal(&data, &[&id.to_public()]);
    let start = file.len() - body_len(data.len() as u64).expect("len") as usize;
    (id, data, file, start)
}

fn refused(file: &[u8], id: &age::x25519::Identity) -> bool {
    match Reader::new(file, &[id as &dyn age::Identity]) {
        Err(_) => true,
        Ok(mut r) => {
            let mut sink = Vec::new();
            r.read_to_end(&mut sink).is_err()
        }
    }
}

#[test]
fn altered_headers_are_refused() {
    let (id, _, file, start) = sample();
    let header_end = start - 16;
    // Every byte of the header and of the payload nonce.
    for i in 0..start {
        let mut bad = file.clone();
        bad[i] ^= 0x01;
        assert!(
            refused(&bad, &id),
            "flipped header byte {i} of {header_end}"
        );
    }
    // A header cut anywhere.
    for cut in 0..start {
        assert!(refused(&file[..cut], &id), "header cut at {cut}");
    }
    // An endless first line.
    let endless = vec![b'a'; 200_000];
    assert!(matches!(
        Reader::new(&endless[..], &[&id as &dyn age::Identity]),
        Err(OpenError::Header)
    ));
}

#[test]
fn altered_payloads_are_refused_and_nothing_of_a_bad_batch_is_given_out() {
    let (id, data, file, start) = sample();
    let sealed = CHUNK + 16;
    // A flipped bit in the first, a middle and the last chunk, at the start,
    // middle and tag of each.
    let chunks = (file.len() - start).div_ceil(sealed);
    for c in [0, 1, BATCH - 1, BATCH, BATCH + 1, 40, chunks - 1] {
        let base = start + c * sealed;
        let len = sealed.min(file.len() - base);
        for off in [0, len / 2, len - 1] {
            let mut bad = file.clone();
            bad[base + off] ^= 0x80;
            let mut r = Reader::new(&bad[..], &[&id as &dyn age::Identity]).expect("header ok");
            let mut got = Vec::new();
            let mut buf = vec![0u8; 4096];
            let err = loop {
                match r.read(&mut buf) {
                    Ok(0) => panic!("chunk {c} offset {off}: read to the end"),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) => break e,
                }
            };
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
            // Nothing of the bad chunk or after it came out, and what did is
            // the file's beginning.
            assert!(got.len() <= c * CHUNK, "chunk {c}: {} bytes out", got.len());
            assert!(got[..] == data[..got.len()]);
            // And it stays refused.
            assert!(r.read(&mut buf).is_err());
        }
    }
}

#[test]
fn cut_extended_swapped_or_dropped_chunks_are_refused() {
    let (id, _, file, start) = sample();
    let sealed = CHUNK + 16;
    // Cut at every chunk boundary (a file that looks whole) and inside chunks.
    let mut cuts: Vec<usize> = (0..)
        .map(|c| start + c * sealed)
        .take_while(|&b| b < file.len())
        .collect();
    cuts.extend([start + 1, start + 15, start + sealed + 17, file.len() - 1]);
    for cut in cuts {
        assert!(refused(&file[..cut], &id), "cut at {cut}");
    }
    // Anything after the last chunk.
    for extra in [&[0u8][..], &[0u8; 16][..], &vec![0u8; CHUNK + 16][..]] {
        let mut longer = file.clone();
        longer.extend_from_slice(extra);
        assert!(refused(&longer, &id), "{} bytes appended", extra.len());
    }
    // Two chunks swapped, within a batch and across batches.
    for (a, b) in [(0, 1), (BATCH - 1, BATCH), (10, 60)] {
        let mut bad = file.clone();
        let (x, y) = (start + a * sealed, start + b * sealed);
        let chunk_a = file[x..x + sealed].to_vec();
        bad.copy_within(y..y + sealed, x);
        bad[y..y + sealed].copy_from_slice(&chunk_a);
        assert!(refused(&bad, &id), "chunks {a} and {b} swapped");
    }
    // A chunk dropped from the middle.
    let mut bad = file[..start + 5 * sealed].to_vec();
    bad.extend_from_slice(&file[start + 6 * sealed..]);
    assert!(refused(&bad, &id), "chunk 5 dropped");
}

#[test]
fn an_empty_last_chunk_is_only_allowed_for_an_empty_file() {
    // age's rule: the last chunk may be empty only when it is the only one.
    // Built with the age crate's own file key path is not possible, so check
    // that our empty file opens and that a full last chunk followed by an
    // empty one (what a careless writer would produce) does not.
    let id = age::x25519::Identity::generate();
    let empty = seal(&[], &[&id.to_public()]);
    assert!(open(&empty, &id).expect("empty file").is_empty());
    assert!(age_crate_open(&empty, &id).is_empty());
    let full = seal(&plaintext(CHUNK), &[&id.to_public()]);
    // 16 more bytes would be an empty chunk; whatever they are they are
    // refused (and cannot authenticate without the key).
    let mut longer = full.clone();
    longer.extend_from_slice(&[0u8; 16]);
    assert!(refused(&longer, &id));
}

#[test]
fn the_identity_file_format_is_age_s() {
    // The vault stores its identity as age's text; the reader takes it.
    let id = age::x25519::Identity::generate();
    let again = age::x25519::Identity::from_str(id.to_string().expose_secret()).expect("parse");
    let file = seal(b"x", &[&id.to_public()]);
    assert_eq!(open(&file, &again).expect("open"), b"x");
}
