//! Retention: an acknowledged bundle is deleted after the configured time; an
//! unacknowledged one is kept however old it is.

mod hq_support;

use std::time::{Duration, Instant};

use hq_support::{Device, Hq, Server};

#[test]
fn acknowledged_bundles_are_deleted_after_retention_and_others_kept() {
    let hq = Hq::new();
    let server = Server::start(
        &hq.data,
        &[
            ("YADDASH_HQ_RETENTION_SECS", "1"),
            ("YADDASH_HQ_HOUSEKEEPING_SECS", "1"),
        ],
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let mut dev = Device::enroll(&hq, &server.url());
    let c = dev.client(&server.url());
    let a = dev.bundle(&hq, tmp.path(), 100);
    let b = dev.bundle(&hq, tmp.path(), 100);
    let acked = c
        .upload_bundle(&a, &mut |_, _| {})
        .expect("upload")
        .bundle_id;
    let kept = c
        .upload_bundle(&b, &mut |_, _| {})
        .expect("upload")
        .bundle_id;
    let coord = hq.coordinator_client(&server.url());
    coord.ack(&acked).expect("ack");
    let blob = |id: &str| hq_support::blob_file(&hq.data, id);
    let start = Instant::now();
    while blob(&acked).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "acknowledged bundle not deleted"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(blob(&kept).exists(), "an unacknowledged bundle was deleted");
    let list = coord.list_bundles(0).expect("list");
    assert_eq!(list.bundles.len(), 1);
    assert_eq!(list.bundles[0].bundle_id, kept);
    let h = server.health();
    assert_eq!(h["counts"]["bundles_acked"], 0, "{h}");
}
