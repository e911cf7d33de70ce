//! Round trip and one test per refusal the reader must make.

mod common;

use std::io::{Cursor, Read};

use common::*;
use sha2::{Digest, Sha256};
use time::Duration;
use uuid::Uuid;
use yaddash_bundle::*;

#[test]
fn round_trip_preserves_entries_and_exposes_chain_fields() {
    let w = World::new();
    let (bytes, written) = w.sample_bundle(3, "first");
    assert_eq!(written.total_len, bytes.len() as u64);
    let (v, got) = w.read(&bytes).unwrap();
    assert_eq!(v.outer.bundle_id, written.bundle_id);
    assert_eq!(v.outer.device_id, w.device_id);
    assert_eq!(v.manifest, written.manifest);
    assert_eq!(v.manifest.seq, 3);
    assert_eq!(v.manifest.hq_id, HQ);
    assert_eq!(got.entries.len(), 4);
    assert_eq!(got.entries[0].1, b"{\"note\":\"first\"}");
    assert_eq!(got.entries[2].1.len(), 70_000);
    assert!(got.entries[3].1.is_empty());

    // The bundle id is the SHA-256 of payload.age.
    let outer = Outer::split(&bytes);
    assert_eq!(
        written.bundle_id.to_string(),
        hex::encode(Sha256::digest(&outer.payload))
    );
    // The plaintext header says nothing but format, version and device.
    let header: serde_json::Value = serde_json::from_slice(&outer.header).unwrap();
    assert_eq!(header.as_object().unwrap().len(), 3);

    // Chain: the next bundle points at this one.
    let mut spec = w.spec(4);
    spec.prev_bundle_sha256 = Some(written.bundle_id);
    let mut out = Vec::new();
    write_bundle(&mut out, &w.device, &spec, vec![]).unwrap();
    let (v2, got2) = w.read(&out).unwrap();
    assert_eq!(v2.manifest.prev_bundle_sha256, Some(written.bundle_id));
    assert!(got2.entries.is_empty());
}

#[test]
fn small_bundles_all_have_the_same_size() {
    let w = World::new();
    let mut sizes = Vec::new();
    for note in ["a", &"x".repeat(5000)] {
        let mut out = Vec::new();
        let e = vec![EntrySource::from_bytes("records/r.json", note.as_bytes())];
        write_bundle(&mut out, &w.device, &w.spec(1), e).unwrap();
        sizes.push(out.len());
    }
    assert_eq!(sizes[0], sizes[1]);
}

#[test]
fn large_bundles_are_padded_to_a_bucket_within_overhead() {
    let w = World::new();
    let data = vec![7u8; 3_000_001];
    let mut out = Vec::new();
    let written = write_bundle(
        &mut out,
        &w.device,
        &w.spec(1),
        vec![EntrySource::from_bytes("attachments/a", &data)],
    )
    .unwrap();
    let p = written.padded_plaintext_len;
    assert_eq!(padded_len(p), Some(p), "the padded size is itself a bucket");
    assert!(p as f64 <= 3_000_001.0 * 1.035);
    w.read(&out).unwrap();
}

#[test]
fn multiple_coordinators_can_each_decrypt() {
    let w = World::new();
    let second = DeviceKeys::generate();
    let mut spec = w.spec(1);
    spec.recipients.push(second.age_recipient());
    let mut out = Vec::new();
    write_bundle(
        &mut out,
        &w.device,
        &spec,
        vec![EntrySource::from_bytes("a", b"x")],
    )
    .unwrap();
    w.read(&out).unwrap();
    let cfg = DecryptConfig {
        identity: second.age_identity(),
        hq_id: HQ,
    };
    w.read_with(&out, &cfg).unwrap();
}

#[test]
fn pass_one_needs_no_decryption_key() {
    let w = World::new();
    let (bytes, written) = w.sample_bundle(1, "n");
    let reader = BundleReader::open(Cursor::new(&bytes), &w.senders).unwrap();
    assert_eq!(reader.outer().bundle_id, written.bundle_id);
    assert_eq!(
        reader.outer().sender_fingerprint,
        w.device.signing_fingerprint()
    );
}

#[test]
fn writer_checks_declared_size_and_hash() {
    let w = World::new();
    let bad_size = EntrySource {
        path: "a".into(),
        size: 10,
        sha256: Sha256Hash::digest(b"short"),
        reader: Box::new(&b"short"[..]),
    };
    assert!(matches!(
        write_bundle(Vec::new(), &w.device, &w.spec(1), vec![bad_size]),
        Err(WriteError::EntrySizeMismatch {
            expected: 10,
            actual: 5,
            ..
        })
    ));
    let longer = EntrySource {
        path: "a".into(),
        size: 2,
        sha256: Sha256Hash::digest(b"lo"),
        reader: Box::new(&b"longer"[..]),
    };
    assert!(matches!(
        write_bundle(Vec::new(), &w.device, &w.spec(1), vec![longer]),
        Err(WriteError::EntrySizeMismatch { .. })
    ));
    let bad_hash = EntrySource {
        path: "a".into(),
        size: 5,
        sha256: Sha256Hash::digest(b"other"),
        reader: Box::new(&b"short"[..]),
    };
    assert!(matches!(
        write_bundle(Vec::new(), &w.device, &w.spec(1), vec![bad_hash]),
        Err(WriteError::EntryHashMismatch { .. })
    ));
    for bad in ["../etc/passwd", "manifest.json", "padding", "/abs"] {
        assert!(matches!(
            write_bundle(
                Vec::new(),
                &w.device,
                &w.spec(1),
                vec![EntrySource::from_bytes(bad, b"")]
            ),
            Err(WriteError::BadEntryPath { .. })
        ));
    }
    let mut spec = w.spec(1);
    spec.recipients.clear();
    assert!(matches!(
        write_bundle(Vec::new(), &w.device, &spec, vec![]),
        Err(WriteError::NoRecipients)
    ));
}

#[test]
fn unknown_sender_is_refused() {
    let w = World::new();
    let (bytes, _) = w.sample_bundle(1, "n");
    let stranger = World::new();
    let err = stranger.read(&bytes).unwrap_err();
    assert!(matches!(err, ReadError::UnknownSender { device_id } if device_id == w.device_id));
}

#[test]
fn enrolled_id_with_another_key_is_refused() {
    let w = World::new();
    let (bytes, _) = w.sample_bundle(1, "n");
    let mut senders = w.senders.clone();
    senders.insert(
        w.device_id,
        KnownSender::from(&DeviceKeys::generate().public_identity(w.device_id)),
    );
    let err = BundleReader::open(Cursor::new(&bytes), &senders).unwrap_err();
    assert!(matches!(
        err,
        ReadError::OuterSignatureInvalid(SignatureError::WrongKey)
    ));
}

#[test]
fn other_coordinators_cannot_decrypt() {
    let w = World::new();
    let (bytes, _) = w.sample_bundle(1, "n");
    let other = DeviceKeys::generate();
    let cfg = DecryptConfig {
        identity: other.age_identity(),
        hq_id: HQ,
    };
    assert!(matches!(
        w.read_with(&bytes, &cfg),
        Err(ReadError::NotForUs)
    ));
}

#[test]
fn bundle_for_another_headquarters_is_refused() {
    let w = World::new();
    let (bytes, _) = w.sample_bundle(1, "n");
    let cfg = DecryptConfig {
        identity: w.coordinator.age_identity(),
        hq_id: "other-hq",
    };
    assert!(matches!(
        w.read_with(&bytes, &cfg),
        Err(ReadError::WrongHeadquarters { .. })
    ));
}

#[test]
fn revoked_device_bundles_from_revocation_on_are_refused() {
    let w = World::new();
    let (bytes, written) = w.sample_bundle(1, "n");
    let created = written.manifest.created_at;
    for (revoked_from, ok) in [
        (created + Duration::seconds(1), true),
        (created, false),
        (created - Duration::days(1), false),
    ] {
        let mut senders = w.senders.clone();
        senders.get_mut(&w.device_id).unwrap().revoked_from = Some(revoked_from);
        let mut got = VerifyOnly;
        let r = BundleReader::open(Cursor::new(&bytes), &senders)
            .unwrap()
            .decrypt(&w.config(), &mut got);
        if ok {
            r.unwrap();
        } else {
            assert!(matches!(r, Err(ReadError::SenderRevoked { .. })), "{r:?}");
        }
    }
}

#[test]
fn swapped_outer_signatures_are_refused() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");
    let (b, _) = w.sample_bundle(2, "b");
    let (oa, ob) = (Outer::split(&a), Outer::split(&b));
    let mut swapped = Outer::split(&a);
    swapped.sig = ob.sig.clone();
    assert!(matches!(
        w.read(&swapped.join()),
        Err(ReadError::OuterSignatureInvalid(SignatureError::Invalid))
    ));
    // Sanity: the helper rebuilds the bundle byte for byte.
    assert_eq!(oa.join(), a);
}

#[test]
fn outer_signature_for_another_purpose_is_refused() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");
    let mut o = Outer::split(&a);
    o.sig = sshsig::sign_bytes(&w.device, sshsig::NAMESPACE_RECEIPT, &o.payload)
        .unwrap()
        .into_bytes();
    assert!(matches!(
        w.read(&o.join()),
        Err(ReadError::OuterSignatureInvalid(
            SignatureError::WrongNamespace
        ))
    ));
}

#[test]
fn repackaging_under_another_device_is_refused() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");
    // Mallory, an enrolled device, claims the payload as hers and signs it.
    let mallory = DeviceKeys::generate();
    let mallory_id = Uuid::now_v7();
    let mut senders = w.senders.clone();
    senders.insert(
        mallory_id,
        KnownSender::from(&mallory.public_identity(mallory_id)),
    );
    let mut o = Outer::split(&a);
    o.set_device(mallory_id);
    o.resign(&mallory);
    let mut v = VerifyOnly;
    let r = BundleReader::open(Cursor::new(o.join()), &senders)
        .unwrap()
        .decrypt(&w.config(), &mut v);
    assert!(
        matches!(r, Err(ReadError::ManifestSignedByOtherKey)),
        "{r:?}"
    );

    // The same key enrolled under two ids: the manifest's device id differs.
    let alias = Uuid::now_v7();
    senders.insert(alias, KnownSender::from(&w.device.public_identity(alias)));
    let mut o = Outer::split(&a);
    o.set_device(alias);
    let r = BundleReader::open(Cursor::new(o.join()), &senders)
        .unwrap()
        .decrypt(&w.config(), &mut v);
    assert!(matches!(r, Err(ReadError::DeviceMismatch { .. })), "{r:?}");
}

#[test]
fn re_encryption_to_someone_else_is_detected() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");
    let plain = decrypt(&Outer::split(&a).payload, w.coordinator.age_identity());

    // Re-encrypted to Mallory alone (even with a valid outer signature).
    let mallory = DeviceKeys::generate();
    let mut o = Outer::split(&a);
    o.payload = encrypt(&plain, &[mallory.age_recipient()]);
    o.resign(&w.device);
    let cfg = DecryptConfig {
        identity: mallory.age_identity(),
        hq_id: HQ,
    };
    assert!(matches!(
        w.read_with(&o.join(), &cfg),
        Err(ReadError::NotAnIntendedRecipient)
    ));
    // Without re-signing, the outer signature already fails.
    let mut o2 = Outer::split(&a);
    o2.payload = o.payload.clone();
    assert!(matches!(
        w.read_with(&o2.join(), &cfg),
        Err(ReadError::OuterSignatureInvalid(_))
    ));

    // Re-encrypted to the coordinator *and* Mallory.
    let mut o = Outer::split(&a);
    o.payload = encrypt(
        &plain,
        &[w.coordinator.age_recipient(), mallory.age_recipient()],
    );
    o.resign(&w.device);
    assert!(matches!(
        w.read(&o.join()),
        Err(ReadError::RecipientsMismatch {
            in_manifest: 1,
            in_header: 2
        })
    ));
}

/// Rebuilds the payload with a modified inner archive, re-encrypted and
/// re-signed with the device key, to reach the inner checks.
/// Index 0 is manifest.json, 1 its signature, then the entries, then padding.
fn with_inner(w: &World, bundle: &[u8], edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let mut o = Outer::split(bundle);
    let plain = decrypt(&o.payload, w.coordinator.age_identity());
    let mut entries = untar(&plain);
    edit(&mut entries);
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    o.payload = encrypt(&tar(&refs), &[w.coordinator.age_recipient()]);
    o.resign(&w.device);
    o.join()
}

#[test]
fn inner_tampering_is_detected_entry_by_entry() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");

    let same = with_inner(&w, &a, |_| {});
    w.read(&same).expect("an untouched rebuild still verifies");

    let changed = with_inner(&w, &a, |e| e[2].1[0] ^= 1);
    assert!(matches!(
        w.read(&changed),
        Err(ReadError::EntryHashMismatch { .. })
    ));

    let missing = with_inner(&w, &a, |e| {
        e.remove(3);
    });
    assert!(matches!(
        w.read(&missing),
        Err(ReadError::EntryMissing { .. })
    ));

    let extra = with_inner(&w, &a, |e| {
        let pos = e.len() - 1;
        e.insert(pos, ("records/sneaked.json".into(), b"{}".to_vec()));
    });
    assert!(matches!(
        w.read(&extra),
        Err(ReadError::UnexpectedEntry { .. })
    ));

    let resized = with_inner(&w, &a, |e| e[2].1.push(0));
    assert!(matches!(
        w.read(&resized),
        Err(ReadError::EntrySizeMismatch { .. })
    ));

    let reordered = with_inner(&w, &a, |e| e.swap(2, 3));
    assert!(matches!(
        w.read(&reordered),
        Err(ReadError::EntryMissing { .. })
    ));

    let padding = with_inner(&w, &a, |e| {
        let last = e.len() - 1;
        e[last].1[100] = 1;
    });
    assert!(matches!(w.read(&padding), Err(ReadError::PaddingNotZero)));

    let manifest = with_inner(&w, &a, |e| e[0].1[10] ^= 1);
    assert!(matches!(
        w.read(&manifest),
        Err(ReadError::ManifestSignatureInvalid)
    ));
}

/// A visitor that reads each entry to its end, keeping what each read gave
/// (the bytes, or the error the last read returned).
struct Streaming(Vec<std::io::Result<Vec<u8>>>);

impl BundleVisitor for Streaming {
    fn entry(&mut self, _: &ManifestEntry, data: &mut dyn Read) -> Result<(), VisitError> {
        let mut v = Vec::new();
        self.0.push(data.read_to_end(&mut v).map(|_| v));
        Ok(())
    }
}

/// Reads `bundle` through a [`Streaming`] visitor: the reader's verdict and
/// what the visitor saw.
fn read_streaming(
    w: &World,
    bundle: &[u8],
) -> (
    Result<VerifiedBundle, ReadError>,
    Vec<std::io::Result<Vec<u8>>>,
) {
    let mut v = Streaming(Vec::new());
    let r = BundleReader::open(Cursor::new(bundle), &w.senders)
        .unwrap()
        .decrypt(&w.config(), &mut v);
    (r, v.0)
}

#[test]
fn entry_data_is_refused_at_the_last_read_when_it_does_not_match() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");
    let changed = with_inner(&w, &a, |e| e[2].1[0] ^= 1);
    let (r, seen) = read_streaming(&w, &changed);
    assert!(matches!(r, Err(ReadError::EntryHashMismatch { .. })));
    // Payload entry 2 is the first manifest entry (after manifest and signature).
    assert_eq!(seen.len(), 1);
    assert!(seen[0].is_err(), "the visitor saw an error, not clean data");
}

/// Entries of a MiB or more are hashed on a thread of their own: a changed
/// byte in one is still refused at its last read, and an untouched one
/// reads back whole.
#[test]
fn a_large_entry_hashed_elsewhere_is_refused_at_the_last_read_when_it_does_not_match() {
    let w = World::new();
    let big: Vec<u8> = (0..3 * 1024 * 1024 + 17u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let entries = vec![EntrySource::from_bytes(
        format!("attachments/{}", Uuid::now_v7()),
        &big,
    )];
    let mut bundle = Vec::new();
    write_bundle(&mut bundle, &w.device, &w.spec(1), entries).unwrap();

    let (r, seen) = read_streaming(&w, &bundle);
    r.expect("the untouched bundle reads");
    assert!(matches!(&seen[..], [Ok(got)] if *got == big));

    let changed = with_inner(&w, &bundle, |e| e[2].1[2 * 1024 * 1024 + 3] ^= 1);
    let (r, seen) = read_streaming(&w, &changed);
    assert!(matches!(r, Err(ReadError::EntryHashMismatch { .. })));
    assert_eq!(seen.len(), 1);
    assert!(seen[0].is_err(), "the visitor saw an error, not clean data");
}

#[test]
fn unknown_version_is_reported_as_such() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");
    let mut o = Outer::split(&a);
    o.header = String::from_utf8(o.header)
        .unwrap()
        .replace("\"version\":2", "\"version\":3")
        .into_bytes();
    assert!(matches!(
        w.read(&o.join()),
        Err(ReadError::UnsupportedVersion { found: 3 })
    ));
}

/// The version fixes the hash the outer signature signs: version 2 its
/// SHA-256, version 1 its SHA-512. A signature over the other hash, or a
/// header moved to the other version, is refused.
#[test]
fn the_outer_signature_must_sign_the_hash_of_the_header_s_version() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");
    // Untouched, and re-signed the same way: still good.
    let mut o = Outer::split(&a);
    o.resign(&w.device);
    assert!(
        w.read(&o.join()).is_ok(),
        "a version 2 bundle re-signed over SHA-256"
    );
    // Version 2 signed over SHA-512.
    let mut o = Outer::split(&a);
    o.sig = sshsig::sign_bytes(&w.device, sshsig::NAMESPACE_BUNDLE, &o.payload)
        .unwrap()
        .into_bytes();
    assert!(matches!(
        w.read(&o.join()),
        Err(ReadError::OuterSignatureInvalid(_))
    ));
    // The header moved to version 1 with the version 2 signature.
    let mut o = Outer::split(&a);
    o.header = String::from_utf8(o.header)
        .unwrap()
        .replace("\"version\":2", "\"version\":1")
        .into_bytes();
    assert!(matches!(
        w.read(&o.join()),
        Err(ReadError::OuterSignatureInvalid(_))
    ));
    // Version 1 and signed over SHA-512 passes the outer check, but the
    // signed manifest inside still says 2.
    o.sig = sshsig::sign_bytes(&w.device, sshsig::NAMESPACE_BUNDLE, &o.payload)
        .unwrap()
        .into_bytes();
    assert!(matches!(
        w.read(&o.join()),
        Err(ReadError::ManifestInvalid { .. })
    ));
}

#[test]
fn not_a_bundle_truncated_and_trailing_are_distinguished() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "a");
    assert!(matches!(w.read(b""), Err(ReadError::NotABundle { .. })));
    assert!(matches!(
        w.read(&[0x41; 4096]),
        Err(ReadError::NotABundle { .. })
    ));
    let other_tar = tar(&[("hello.txt", b"hi")]);
    assert!(matches!(
        w.read(&other_tar),
        Err(ReadError::NotABundle { .. })
    ));
    assert!(matches!(
        w.read(&a[..a.len() - 100]),
        Err(ReadError::Truncated)
    ));
    assert!(matches!(
        w.read(&a[..a.len() / 2]),
        Err(ReadError::Truncated)
    ));
    let mut longer = a.clone();
    longer.extend_from_slice(&[0u8; 512]);
    assert!(matches!(
        w.read(&longer),
        Err(ReadError::TrailingData { extra: 512 })
    ));
}

#[test]
fn error_messages_never_contain_record_content() {
    let w = World::new();
    let (a, _) = w.sample_bundle(1, "SECRET-TESTIMONY");
    let changed = with_inner(&w, &a, |e| e[0].1[0] ^= 1);
    let err = w.read(&changed).unwrap_err();
    assert!(!err.to_string().contains("SECRET"));
    assert!(!format!("{err:?}").contains("SECRET"));
}

/// The ciphertext is hashed on a second thread: an entry whose reader fails
/// after several MiB (the hashing thread busy) must end in that error, not
/// a hang or a panic; and a failing output must end in its error too.
#[test]
fn a_failure_midway_through_a_large_entry_is_reported() {
    struct Failing(u64);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("read error in the middle"));
            }
            let n = buf.len().min(self.0 as usize);
            buf[..n].fill(0x5a);
            self.0 -= n as u64;
            Ok(n)
        }
    }
    let w = World::new();
    let entry = EntrySource {
        path: "attachments/a".into(),
        size: 8 << 20,
        sha256: Sha256Hash::digest(b"unknowable"),
        reader: Box::new(Failing(5 << 20)),
    };
    match write_bundle(Vec::new(), &w.device, &w.spec(1), vec![entry]) {
        Err(WriteError::Io(e)) => assert!(e.to_string().contains("in the middle"), "{e}"),
        other => panic!("expected the read error, got {other:?}"),
    }

    struct FullDisk(u64);
    impl std::io::Write for FullDisk {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() as u64 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    "no space left",
                ));
            }
            self.0 -= buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let data = vec![1u8; 6 << 20];
    let entry = EntrySource::from_bytes("attachments/b", &data);
    match write_bundle(FullDisk(3 << 20), &w.device, &w.spec(1), vec![entry]) {
        Err(WriteError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::StorageFull),
        other => panic!("expected the disk-full error, got {other:?}"),
    }
}

/// A bundle written by the pipelined writer, with entries of awkward sizes
/// around the hashing thread's 1 MiB batches, reads back through the reader
/// (which recomputes the bundle id and checks both signatures).
#[test]
fn entries_of_awkward_sizes_round_trip() {
    let w = World::new();
    let sizes = [
        0usize,
        1,
        (1 << 20) - 1,
        1 << 20,
        (1 << 20) + 1,
        3 * 65_536 + 17,
    ];
    let data: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| (0..n).map(|j| (j * 31 + i) as u8).collect())
        .collect();
    let entries = data
        .iter()
        .enumerate()
        .map(|(i, d)| EntrySource::from_bytes(format!("attachments/{i}"), d))
        .collect();
    let mut out = Vec::new();
    let written = write_bundle(&mut out, &w.device, &w.spec(1), entries).unwrap();
    assert_eq!(written.total_len, out.len() as u64);
    let (v, got) = w.read(&out).unwrap();
    assert_eq!(v.outer.bundle_id, written.bundle_id);
    for (i, d) in data.iter().enumerate() {
        let path = format!("attachments/{i}");
        let e = got
            .entries
            .iter()
            .find(|(p, _)| p.path == path)
            .expect("entry present");
        assert!(e.1 == *d, "entry {i} differs");
    }
}
