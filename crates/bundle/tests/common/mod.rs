//! Shared helpers for the integration tests: keys, a sample bundle, and a
//! tiny tar reader/writer to take bundles apart and rebuild them (as an
//! attacker would).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};

use time::OffsetDateTime;
use uuid::Uuid;
use yaddash_bundle::*;

pub const HQ: &str = "hq.example.org";

pub struct World {
    pub device: DeviceKeys,
    pub device_id: Uuid,
    pub coordinator: DeviceKeys,
    pub senders: HashMap<Uuid, KnownSender>,
}

impl World {
    pub fn new() -> Self {
        let device = DeviceKeys::generate();
        let device_id = Uuid::now_v7();
        let mut senders = HashMap::new();
        senders.insert(
            device_id,
            KnownSender::from(&device.public_identity(device_id)),
        );
        Self {
            device,
            device_id,
            coordinator: DeviceKeys::generate(),
            senders,
        }
    }

    pub fn spec(&self, seq: u64) -> BundleSpec {
        BundleSpec {
            device_id: self.device_id,
            seq,
            prev_bundle_sha256: None,
            created_at: OffsetDateTime::from_unix_timestamp(1_740_000_000).unwrap(),
            hq_id: HQ.to_owned(),
            recipients: vec![self.coordinator.age_recipient()],
        }
    }

    pub fn config(&self) -> DecryptConfig<'_> {
        DecryptConfig {
            identity: self.coordinator.age_identity(),
            hq_id: HQ,
        }
    }

    /// A bundle with two records, an attachment and an empty entry.
    pub fn sample_bundle(&self, seq: u64, note: &str) -> (Vec<u8>, WrittenBundle) {
        let record = format!("{{\"note\":\"{note}\"}}");
        let attachment: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let entries = vec![
            EntrySource::from_bytes(
                format!("records/{}.json", Uuid::now_v7()),
                record.as_bytes(),
            ),
            EntrySource::from_bytes(format!("records/{}.json", Uuid::now_v7()), b"{}"),
            EntrySource::from_bytes(format!("attachments/{}", Uuid::now_v7()), &attachment),
            EntrySource::from_bytes("custody/empty", b""),
        ];
        let mut out = Vec::new();
        let written = write_bundle(&mut out, &self.device, &self.spec(seq), entries).unwrap();
        (out, written)
    }

    pub fn read(&self, bytes: &[u8]) -> Result<(VerifiedBundle, CollectEntries), ReadError> {
        self.read_with(bytes, &self.config())
    }

    pub fn read_with(
        &self,
        bytes: &[u8],
        config: &DecryptConfig<'_>,
    ) -> Result<(VerifiedBundle, CollectEntries), ReadError> {
        let mut got = CollectEntries::new(1 << 30);
        let v = BundleReader::open(Cursor::new(bytes), &self.senders)?.decrypt(config, &mut got)?;
        Ok((v, got))
    }
}

/// The entries of a tar archive as (name, data). Panics on anything odd:
/// only used on archives the crate wrote.
pub fn untar(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let h = &bytes[pos..pos + 512];
        if h.iter().all(|&b| b == 0) {
            return out;
        }
        let name_end = h[..100].iter().position(|&b| b == 0).unwrap();
        let name = String::from_utf8(h[..name_end].to_vec()).unwrap();
        let size_str = std::str::from_utf8(&h[124..135]).unwrap();
        let size = u64::from_str_radix(size_str, 8).unwrap() as usize;
        assert_eq!(h[156], b'0');
        out.push((name, bytes[pos + 512..pos + 512 + size].to_vec()));
        pos += 512 + size.div_ceil(512) * 512;
    }
}

/// Builds a canonical tar archive as the crate does.
pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[329..337].copy_from_slice(b"0000000\0");
        h[337..345].copy_from_slice(b"0000000\0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// The three outer parts of a bundle.
pub struct Outer {
    pub header: Vec<u8>,
    pub payload: Vec<u8>,
    pub sig: Vec<u8>,
}

impl Outer {
    pub fn split(bundle: &[u8]) -> Self {
        let e = untar(bundle);
        assert_eq!(e.len(), 3);
        Self {
            header: e[0].1.clone(),
            payload: e[1].1.clone(),
            sig: e[2].1.clone(),
        }
    }

    pub fn join(&self) -> Vec<u8> {
        tar(&[
            ("yaddash-bundle.json", &self.header),
            ("payload.age", &self.payload),
            ("payload.age.sig", &self.sig),
        ])
    }

    /// Re-signs payload.age with `keys`, as their holder could.
    pub fn resign(&mut self, keys: &DeviceKeys) {
        // Format version 2: the outer signature signs the payload's SHA-256.
        let sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&self.payload).into();
        self.sig = sshsig::sign_sha256(keys, sshsig::NAMESPACE_BUNDLE, &sha256)
            .unwrap()
            .into_bytes();
    }

    pub fn set_device(&mut self, id: Uuid) {
        self.header =
            format!("{{\"format\":\"yaddash-bundle\",\"version\":2,\"device_id\":\"{id}\"}}\n")
                .into_bytes();
    }
}

pub fn decrypt(payload: &[u8], identity: &age::x25519::Identity) -> Vec<u8> {
    let d = age::Decryptor::new(payload).unwrap();
    let mut r = d
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    out
}

pub fn encrypt(plaintext: &[u8], recipients: &[age::x25519::Recipient]) -> Vec<u8> {
    let e = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .unwrap();
    let mut out = Vec::new();
    let mut w = e.wrap_output(&mut out).unwrap();
    w.write_all(plaintext).unwrap();
    w.finish().unwrap();
    out
}
