//! Property test: every mutation of a real bundle is refused with an error,
//! and the reader never panics.

mod common;

use std::io::Cursor;
use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use yaddash_bundle::*;

struct Fixture {
    world: World,
    bundle: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let world = World::new();
        let (bundle, _) = world.sample_bundle(1, "mutate me");
        world.read(&bundle).expect("the untouched bundle verifies");
        Fixture { world, bundle }
    })
}

/// Runs both passes; true if the bundle was accepted.
fn accepted(bytes: &[u8]) -> bool {
    let f = fixture();
    let mut v = VerifyOnly;
    BundleReader::open(Cursor::new(bytes), &f.world.senders)
        .and_then(|r| r.decrypt(&f.world.config(), &mut v))
        .is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bit_flip_is_refused(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let f = fixture();
        let mut b = f.bundle.clone();
        let i = pos.index(b.len());
        b[i] ^= 1 << bit;
        prop_assert!(!accepted(&b), "flip at byte {} bit {} was accepted", i, bit);
    }

    /// The structural parts (headers, JSON, signature, end blocks) are small:
    /// hit them far more often than uniform sampling would.
    #[test]
    fn bit_flips_in_the_first_and_last_blocks_are_refused(
        off in 0usize..3072, from_end in any::<bool>(), bit in 0u8..8
    ) {
        let f = fixture();
        let mut b = f.bundle.clone();
        let i = if from_end { b.len() - 1 - off } else { off };
        b[i] ^= 1 << bit;
        prop_assert!(!accepted(&b), "flip at byte {} bit {} was accepted", i, bit);
    }

    #[test]
    fn any_truncation_is_refused(pos in any::<prop::sample::Index>()) {
        let f = fixture();
        let cut = pos.index(f.bundle.len());
        prop_assert!(!accepted(&f.bundle[..cut]));
    }

    #[test]
    fn appended_bytes_are_refused(extra in prop::collection::vec(any::<u8>(), 1..2048)) {
        let f = fixture();
        let mut b = f.bundle.clone();
        b.extend_from_slice(&extra);
        prop_assert!(!accepted(&b));
    }

    #[test]
    fn overwritten_ranges_are_refused(
        pos in any::<prop::sample::Index>(), junk in prop::collection::vec(any::<u8>(), 1..64)
    ) {
        let f = fixture();
        let mut b = f.bundle.clone();
        let i = pos.index(b.len());
        let end = (i + junk.len()).min(b.len());
        if b[i..end] != junk[..end - i] {
            b[i..end].copy_from_slice(&junk[..end - i]);
            prop_assert!(!accepted(&b));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(!accepted(&bytes));
    }
}

/// Every bit of the two small structural files, exhaustively: sampling once
/// missed the SSHSIG version field (1 → 0 parsed, re-encoded and verified).
#[test]
fn every_bit_flip_in_the_header_and_signature_is_refused() {
    let f = fixture();
    for (name, start, len) in [
        (
            "header",
            find(&f.bundle, b"{\"format\""),
            Outer::split(&f.bundle).header.len(),
        ),
        (
            "signature",
            find(&f.bundle, b"-----BEGIN SSH"),
            Outer::split(&f.bundle).sig.len(),
        ),
    ] {
        for i in start..start + len {
            for bit in 0..8 {
                let mut b = f.bundle.clone();
                b[i] ^= 1 << bit;
                assert!(
                    !accepted(&b),
                    "{name}: flip at byte {} bit {bit} was accepted",
                    i - start
                );
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("the file is in the bundle")
}

#[test]
fn swapped_signatures_between_two_bundles_are_refused() {
    let f = fixture();
    let (other, _) = f.world.sample_bundle(2, "other");
    let a = Outer::split(&f.bundle);
    let b = Outer::split(&other);
    let mut x = Outer::split(&f.bundle);
    x.sig = b.sig.clone();
    assert!(!accepted(&x.join()));
    let mut y = Outer::split(&other);
    y.sig = a.sig.clone();
    assert!(!accepted(&y.join()));
    // Swapping whole payloads under each other's header/signature too.
    let mut z = Outer::split(&f.bundle);
    z.payload = b.payload.clone();
    assert!(!accepted(&z.join()));
}

#[test]
fn re_encryption_and_wrong_hq_are_refused() {
    let f = fixture();
    let w = &f.world;
    let plain = decrypt(
        &Outer::split(&f.bundle).payload,
        w.coordinator.age_identity(),
    );
    let mallory = DeviceKeys::generate();
    let mut o = Outer::split(&f.bundle);
    o.payload = encrypt(
        &plain,
        &[w.coordinator.age_recipient(), mallory.age_recipient()],
    );
    assert!(!accepted(&o.join()));
    o.resign(&w.device);
    assert!(!accepted(&o.join()));

    let cfg = DecryptConfig {
        identity: w.coordinator.age_identity(),
        hq_id: "another-hq",
    };
    assert!(matches!(
        w.read_with(&f.bundle, &cfg),
        Err(ReadError::WrongHeadquarters { .. })
    ));
}
