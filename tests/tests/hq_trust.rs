//! The coordinator set at the HQ server (issue 11 item 5): replaced only by
//! a majority of the current coordinators (or the server's administrator),
//! coordinators can be revoked, enrollment codes have a bounded lifetime
//! and die with their issuer, and acknowledgements are per coordinator so
//! one seized coordinator key cannot make retention delete what the others
//! have not collected.

mod hq_support;

use std::time::{Duration, Instant};

use hq_support::{Device, Hq, Raw, Server, hq_admin, hq_init, write_trust};
use uuid::Uuid;
use yaddash_bundle::DeviceKeys;
use yaddash_wire::hq::{CoordinatorKey, CoordinatorRevocation, TrustState, TrustUpdate};
use yaddash_wire::request::{
    EnrollCode, approve, coordinator_revocation_message, trust_update_message,
};

fn entry(k: &DeviceKeys, id: Uuid) -> CoordinatorKey {
    let p = k.public_identity(id);
    CoordinatorKey {
        device_id: id,
        signing_key: p.signing_key,
        age_recipient: p.age_recipient,
    }
}

fn state(hq: &Hq, server: &Server, by: usize) -> TrustState {
    let r = hq.signed_by(by, server.addr, "GET", "/v1/trust", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    serde_json::from_slice(&r.body).expect("trust state")
}

/// `POST /v1/trust` replacing the set with `set`, approved by the
/// coordinators numbered in `approvers`, sent by coordinator `sender`.
fn update(
    hq: &Hq,
    server: &Server,
    sender: usize,
    set: Vec<CoordinatorKey>,
    approvers: &[usize],
) -> Raw {
    let version = state(hq, server, sender).version + 1;
    let msg = trust_update_message(hq_support::HQ_ID, version, &set);
    let approvals = approvers
        .iter()
        .map(|&i| {
            let (k, id) = hq.key_of(i);
            approve(k.signing_key(), id, &msg).expect("approve")
        })
        .collect();
    let body = serde_json::to_vec(&TrustUpdate {
        hq_id: hq_support::HQ_ID.into(),
        version,
        coordinators: set,
        approvals,
    })
    .expect("json");
    hq.signed_by(sender, server.addr, "POST", "/v1/trust", &body)
}

fn revoke_coordinator(
    hq: &Hq,
    server: &Server,
    sender: usize,
    target: usize,
    approvers: &[usize],
) -> Raw {
    let version = state(hq, server, sender).version + 1;
    let target = hq.key_of(target).1;
    let msg = coordinator_revocation_message(hq_support::HQ_ID, version, target);
    let approvals = approvers
        .iter()
        .map(|&i| {
            let (k, id) = hq.key_of(i);
            approve(k.signing_key(), id, &msg).expect("approve")
        })
        .collect();
    let body = serde_json::to_vec(&CoordinatorRevocation {
        hq_id: hq_support::HQ_ID.into(),
        version,
        coordinator: target,
        approvals,
    })
    .expect("json");
    hq.signed_by(
        sender,
        server.addr,
        "POST",
        &format!("/v1/coordinators/{target}/revoke"),
        &body,
    )
}

fn enroll_with(url: &str, code: &str) -> Result<(), String> {
    let keys = DeviceKeys::generate();
    let id = Uuid::now_v7();
    let p = keys.public_identity(id);
    yaddash_sync::Client::new(url, id, keys.signing_key())
        .expect("client")
        .enroll(
            code,
            yaddash_wire::hq::DeviceKeysPublic {
                device_id: id,
                signing_key: p.signing_key,
                age_recipient: p.age_recipient,
            },
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn one_coordinators_ack_does_not_delete_what_another_has_not_collected() {
    let hq = Hq::with_coordinators(2);
    let server = Server::start(
        &hq.data,
        &[
            ("YADDASH_HQ_RETENTION_SECS", "1"),
            ("YADDASH_HQ_HOUSEKEEPING_SECS", "1"),
        ],
    );
    let url = server.url();
    let tmp = tempfile::tempdir().expect("tmp");
    let mut dev = Device::enroll(&hq, &url);
    let p = dev.bundle(&hq, tmp.path(), 300);
    let id = dev
        .client(&url)
        .upload_bundle(&p, &mut |_, _| {})
        .expect("upload")
        .bundle_id;
    let blob = hq_support::blob_file(&hq.data, &id);
    // A seized key of coordinator 0 acknowledges everything it sees.
    hq.client_of(0, &url).ack(&id).expect("ack by 0");
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        blob.exists(),
        "one coordinator's acknowledgement made retention delete the bundle"
    );
    // Coordinator 1 still sees it pending; coordinator 0 no longer does.
    let seen1 = hq.client_of(1, &url).list_bundles(0).expect("list 1");
    assert_eq!(seen1.bundles.len(), 1);
    assert!(
        hq.client_of(0, &url)
            .list_bundles(0)
            .expect("list 0")
            .bundles
            .is_empty()
    );
    // Once coordinator 1 has it too, retention deletes it.
    hq.client_of(1, &url).ack(&id).expect("ack by 1");
    let start = Instant::now();
    while blob.exists() {
        assert!(start.elapsed() < Duration::from_secs(15), "not deleted");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_over_long_enrollment_code_is_refused_at_creation_and_at_use() {
    let hq = Hq::new();
    let server = Server::start(&hq.data, &[]);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        EnrollCode::issue(
            hq.coordinator.signing_key(),
            hq.coordinator_id,
            now + 8 * 86_400
        )
        .is_err(),
        "a code valid for 8 days was issued"
    );
    // A 30-day code made by hand (an old or hostile issuer) is refused.
    let code_id = rand::random::<[u8; 16]>();
    let expires_at = now + 30 * 86_400;
    let mut signed = code_id.to_vec();
    signed.extend_from_slice(&expires_at.to_be_bytes());
    signed.extend_from_slice(hq.coordinator_id.as_bytes());
    let signature = yaddash_wire::sshsig::sign_raw(
        hq.coordinator.signing_key(),
        yaddash_wire::sshsig::NAMESPACE_ENROLL,
        &signed,
    )
    .expect("sign");
    let long = EnrollCode {
        code_id,
        expires_at,
        issuer: hq.coordinator_id,
        signature,
    }
    .to_text();
    let e = enroll_with(&server.url(), &long).expect_err("a 30-day code was accepted");
    assert!(e.contains("code_too_long"), "{e}");
    // A code within the limit still works.
    enroll_with(&server.url(), &hq.code()).expect("a 1-hour code");
}

#[test]
fn a_revoked_or_removed_issuers_code_is_refused() {
    let hq = Hq::with_coordinators(3);
    let server = Server::start(&hq.data, &[]);
    let url = server.url();
    let (code1, code2) = (hq.code_by(1), hq.code_by(2));
    // The administrator revokes coordinator 1 on the server host.
    let (ok, out) = hq_admin(
        &hq.data,
        &[
            "revoke-coordinator",
            "--coordinator",
            &hq.key_of(1).1.to_string(),
        ],
    );
    assert!(ok, "{out}");
    let e = enroll_with(&url, &code1).expect_err("revoked issuer's code");
    assert!(e.contains("code_issuer_revoked"), "{e}");
    // Coordinators 0 and 2 (the majority of the two left) drop 2 from the set.
    let r = update(
        &hq,
        &server,
        0,
        vec![entry(&hq.coordinator, hq.coordinator_id)],
        &[0, 2],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let e = enroll_with(&url, &code2).expect_err("removed issuer's code");
    assert!(e.contains("code_issuer_revoked"), "{e}");
    enroll_with(&url, &hq.code_by(0)).expect("a current coordinator's code");
}

#[test]
fn a_trust_update_needs_a_majority_of_the_coordinators() {
    let hq = Hq::with_coordinators(2);
    let server = Server::start(&hq.data, &[]);
    let newcomer = DeviceKeys::generate();
    let nid = Uuid::now_v7();
    let set = vec![
        entry(&hq.coordinator, hq.coordinator_id),
        entry(&newcomer, nid),
    ];
    let before = state(&hq, &server, 0);
    assert_eq!((before.coordinators.len(), before.quorum), (2, 2));
    // A seized key of coordinator 0 alone tries to replace coordinator 1.
    let r = update(&hq, &server, 0, set.clone(), &[0]);
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "quorum_not_met"),
        "{}",
        r.text()
    );
    // Its approval twice, or an approval forged for coordinator 1, do not count.
    let r = update(&hq, &server, 0, set.clone(), &[0, 0]);
    assert_eq!(r.code(), "quorum_not_met", "{}", r.text());
    assert_eq!(
        state(&hq, &server, 1).version,
        before.version,
        "the set changed"
    );
    // With both approvals it goes through.
    let r = update(&hq, &server, 0, set, &[0, 1]);
    assert_eq!(r.status, 200, "{}", r.text());
    let after: TrustState = serde_json::from_slice(&r.body).expect("state");
    assert_eq!(after.version, before.version + 1);
    let mut ids: Vec<Uuid> = after.coordinators.iter().map(|c| c.device_id).collect();
    ids.sort();
    let mut want = vec![hq.coordinator_id, nid];
    want.sort();
    assert_eq!(ids, want);
    // The removed coordinator is refused; the new one is served.
    let r = hq.signed_by(1, server.addr, "GET", "/v1/bundles", b"");
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "revoked"),
        "{}",
        r.text()
    );
    let r = hq_support::signed(
        server.addr,
        newcomer.signing_key(),
        nid,
        "GET",
        "/v1/bundles",
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_revoked_coordinator_is_refused() {
    let hq = Hq::with_coordinators(3);
    let server = Server::start(&hq.data, &[]);
    let url = server.url();
    // One approval of three is not a majority, even the target's own.
    let r = revoke_coordinator(&hq, &server, 2, 0, &[2]);
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "quorum_not_met"),
        "{}",
        r.text()
    );
    let r = revoke_coordinator(&hq, &server, 0, 2, &[0, 1]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = hq.signed_by(2, server.addr, "GET", "/v1/bundles", b"");
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "revoked"),
        "{}",
        r.text()
    );
    assert!(hq.client_of(2, &url).list_bundles(0).is_err());
    // Its approvals no longer count either: 2 of the remaining 2 are needed.
    let r = revoke_coordinator(&hq, &server, 0, 1, &[0, 2]);
    assert_eq!(r.code(), "quorum_not_met", "{}", r.text());
    // The administrator's local command also revokes (no quorum).
    let (ok, out) = hq_admin(
        &hq.data,
        &[
            "revoke-coordinator",
            "--coordinator",
            &hq.key_of(1).1.to_string(),
        ],
    );
    assert!(ok, "{out}");
    let r = hq.signed_by(1, server.addr, "GET", "/v1/bundles", b"");
    assert_eq!(r.code(), "revoked", "{}", r.text());
    // The last coordinator cannot be revoked.
    let (ok, out) = hq_admin(
        &hq.data,
        &[
            "revoke-coordinator",
            "--coordinator",
            &hq.coordinator_id.to_string(),
        ],
    );
    assert!(!ok, "{out}");
    let r = hq.signed_by(0, server.addr, "GET", "/v1/bundles", b"");
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn the_administrators_init_replaces_the_set_without_quorum() {
    let hq = Hq::with_coordinators(2);
    let server = Server::start(&hq.data, &[]);
    assert_eq!(
        hq.signed_by(1, server.addr, "GET", "/v1/bundles", b"")
            .status,
        200
    );
    let trust = hq.tmp.path().join("trust-2.json");
    write_trust(&trust, &[(&hq.coordinator, hq.coordinator_id)]);
    hq_init(&hq.data, &trust);
    let r = hq.signed_by(1, server.addr, "GET", "/v1/bundles", b"");
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "revoked"),
        "{}",
        r.text()
    );
    assert_eq!(
        hq.signed_by(0, server.addr, "GET", "/v1/bundles", b"")
            .status,
        200
    );
}
