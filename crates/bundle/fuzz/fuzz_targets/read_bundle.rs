//! Feeds arbitrary bytes to the bundle reader (both passes). It must return
//! an error, never panic, hang or allocate without bound.
//!
//! Run with: `cd crates/bundle/fuzz && cargo +nightly fuzz run read_bundle`
#![no_main]

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use yaddash_bundle::{BundleReader, DecryptConfig, DeviceKeys, KnownSender, VerifyOnly};

struct Keys {
    coordinator: DeviceKeys,
    senders: HashMap<uuid::Uuid, KnownSender>,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let device = DeviceKeys::generate();
        // A fixed id, so that inputs naming it reach the signature check.
        let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let mut senders = HashMap::new();
        senders.insert(id, KnownSender::from(&device.public_identity(id)));
        Keys {
            coordinator: DeviceKeys::generate(),
            senders,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let k = keys();
    let config = DecryptConfig {
        identity: k.coordinator.age_identity(),
        hq_id: "fuzz-hq",
    };
    if let Ok(reader) = BundleReader::open(Cursor::new(data), &k.senders) {
        let _ = reader.decrypt(&config, &mut VerifyOnly);
    }
});
