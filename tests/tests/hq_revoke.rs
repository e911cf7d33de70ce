//! Device revocation at the HQ server (issue 11 item 3, server side): it
//! only ever moves earlier, and the answer names the last bundle the
//! server had accepted from the device.

mod hq_support;

use hq_support::{Device, Hq, Server};
use yaddash_wire::hq::RevokeAnswer;

fn revoke(hq: &Hq, server: &Server, device: uuid::Uuid, from: &str) -> RevokeAnswer {
    let body = format!(r#"{{"from":"{from}"}}"#);
    let r = hq.signed_by(
        0,
        server.addr,
        "POST",
        &format!("/v1/devices/{device}/revoke"),
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    serde_json::from_slice(&r.body).expect("revoke answer")
}

#[test]
fn a_revocation_only_moves_earlier_and_names_the_last_bundle() {
    let hq = Hq::new();
    let server = Server::start(&hq.data, &[]);
    let url = server.url();
    let tmp = tempfile::tempdir().expect("tmp");
    let mut dev = Device::enroll(&hq, &url);
    let mut last = String::new();
    for _ in 0..2 {
        let p = dev.bundle(&hq, tmp.path(), 200);
        last = dev
            .client(&url)
            .upload_bundle(&p, &mut |_, _| {})
            .expect("upload")
            .bundle_id;
    }
    let a = revoke(&hq, &server, dev.id, "2020-01-01T00:00:00Z");
    assert_eq!(a.revoked, dev.id);
    assert_eq!(a.revoked_from.as_deref(), Some("2020-01-01T00:00:00Z"));
    let held = a.last_bundle.expect("the last bundle held");
    assert_eq!(held.bundle_id, last);
    let listed = hq.coordinator_client(&url).list_bundles(0).expect("list");
    assert_eq!(
        held.server_seq,
        listed.bundles.iter().map(|b| b.seq).max().expect("seq")
    );
    // A later time (e.g. a plain re-run, "from now") leaves the early one.
    let b = revoke(&hq, &server, dev.id, "2030-06-01T00:00:00Z");
    assert_eq!(b.revoked_from.as_deref(), Some("2020-01-01T00:00:00Z"));
    assert_eq!(b.last_bundle.map(|h| h.bundle_id), Some(last));
    // An earlier one moves it.
    let c = revoke(&hq, &server, dev.id, "2019-05-01T00:00:00Z");
    assert_eq!(c.revoked_from.as_deref(), Some("2019-05-01T00:00:00Z"));
}
