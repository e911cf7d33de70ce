use super::*;
use yaddash_model::{Confidentiality, Consent, Interview, PartialDate, Person, Reliability};
use yaddash_vault::Setting;

use crate::test_support::{PASS, made, state};

fn created(dir: &Path) -> (AppState, CreatedVault) {
    let s = state(dir);
    let c = s
        .create_vault(CreateVaultRequest {
            role: Role::Field,
            passphrase: PASS.into(),
        })
        .expect("create");
    (s, c)
}

fn person(names: &[&str]) -> Record {
    Record::Person(Person {
        names: names.iter().map(|n| n.to_string()).collect(),
        birth_year: Some(1985),
        roles: vec![yaddash_model::Role::Detainee],
        notes: None,
        confidentiality: Confidentiality::Internal,
        reliability: Reliability::Unknown,
    })
}

fn interview(detainee: Uuid) -> Record {
    Record::Interview(Interview {
        case_id: None,
        detainee_id: Some(detainee),
        speaker_id: None,
        relation: Some("mother".into()),
        interviewer: "A.".into(),
        date: "2024-11-20".parse::<PartialDate>().expect("date"),
        place: None,
        language: "az".into(),
        consent: Consent::Anonymous,
        narrative: "He was taken at night.".into(),
        confidentiality: Confidentiality::Internal,
        reliability: Reliability::Medium,
    })
}

fn save(s: &AppState, record: Record) -> Uuid {
    s.save_record(SaveRecordRequest { id: None, record })
        .expect("save")
        .id
}

#[test]
fn create_lock_unlock_round_trip() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = state(tmp.path());
    let st = s.app_status().expect("status");
    assert!(!st.vault_exists && !st.unlocked);

    let c = s
        .create_vault(CreateVaultRequest {
            role: Role::Coordinator,
            passphrase: PASS.into(),
        })
        .expect("create");
    assert_eq!(c.recovery_code.len(), 39, "8 groups of 4 with dashes");
    assert_eq!(c.session.role, Role::Coordinator);
    assert!(s.app_status().expect("status").unlocked);

    s.lock().expect("lock");
    let st = s.app_status().expect("status");
    assert!(st.vault_exists && !st.unlocked);
    assert_eq!(
        s.list_records(RecordKind::Person).map_err(|e| e.code),
        Err(Code::Locked)
    );

    let wrong = s
        .unlock(UnlockRequest::Passphrase {
            secret: "not the passphrase".into(),
        })
        .err()
        .map(|e| e.code);
    assert_eq!(wrong, Some(Code::WrongPassphrase));

    let info = s
        .unlock(UnlockRequest::Passphrase {
            secret: PASS.into(),
        })
        .expect("unlock");
    assert_eq!(info.device_id, c.session.device_id);
    s.lock().expect("lock");

    let info = s
        .unlock(UnlockRequest::RecoveryCode {
            secret: c.recovery_code.to_lowercase().replace('-', " "),
        })
        .expect("unlock with recovery code");
    assert_eq!(info.role, Role::Coordinator);
}

#[test]
fn second_vault_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let e = s
        .create_vault(CreateVaultRequest {
            role: Role::Field,
            passphrase: PASS.into(),
        })
        .err()
        .map(|e| e.code);
    assert_eq!(e, Some(Code::VaultExists));
}

#[test]
fn unlock_without_vault_says_so() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = state(tmp.path());
    let e = s
        .unlock(UnlockRequest::Passphrase {
            secret: PASS.into(),
        })
        .err()
        .map(|e| e.code);
    assert_eq!(e, Some(Code::NotAVault));
}

#[test]
fn short_passphrase_is_invalid_input() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = state(tmp.path());
    let e = s
        .create_vault(CreateVaultRequest {
            role: Role::Field,
            passphrase: "short".into(),
        })
        .err()
        .map(|e| e.code);
    assert_eq!(e, Some(Code::BadSecret));
    assert!(!s.app_status().expect("status").vault_exists);
}

#[test]
fn search_sees_through_scripts_and_links_follow_references() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let p = save(&s, person(&["Мамедов Ильгар"]));
    let i = save(&s, interview(p));

    let hits = s
        .search(SearchRequest {
            query: "mammadov".into(),
            kind: Some(RecordKind::Person),
            limit: None,
        })
        .expect("search");
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![p]);

    let links = s.linked_records(p).expect("links");
    assert_eq!(links.iter().map(|h| h.id).collect::<Vec<_>>(), vec![i]);

    let saved = s
        .save_record(SaveRecordRequest {
            id: Some(p),
            record: person(&["Мамедов Ильгар", "Ilgar Mammadov"]),
        })
        .expect("update");
    assert_eq!(saved.rev, 2);
    assert_eq!(s.record_history(p).expect("history").len(), 2);
    assert_eq!(s.list_records(RecordKind::Person).expect("list").len(), 1);
}

#[test]
fn invalid_record_is_invalid_input_and_unknown_id_not_found() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let e = s
        .save_record(SaveRecordRequest {
            id: None,
            record: person(&[" "]),
        })
        .err()
        .map(|e| e.code);
    assert_eq!(e, Some(Code::InvalidRecord));
    let e = s.get_record(Uuid::now_v7()).err().map(|e| e.code);
    assert_eq!(e, Some(Code::NotFound));
}

#[test]
fn attachments_round_trip_in_memory_with_hash() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let p = save(&s, person(&["Hüseynov"]));
    let i = save(&s, interview(p));
    let bytes = b"\x89PNG fake image bytes".to_vec();
    let info = s
        .attach_bytes(i, "../../court paper.png", None, &bytes)
        .expect("attach");
    assert_eq!(info.name, "court paper.png", "directories are stripped");
    assert_eq!(info.media_type, "image/png");
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(s.list_attachments(i).expect("list").len(), 1);
    let content = s.attachment_content(info.id).expect("content");
    assert_eq!(content.bytes, bytes);

    let e = s.attach_bytes(i, "", None, b"x").err().map(|e| e.code);
    assert_eq!(e, Some(Code::InvalidInput));
    let e = s
        .attach_file(AttachFileRequest {
            record_id: i,
            path: "relative.png".into(),
            media_type: None,
        })
        .err()
        .map(|e| e.code);
    assert_eq!(e, Some(Code::PathNotAbsolute));

    s.lock().expect("lock");
    let e = s.attachment_content(info.id).err().map(|e| e.code);
    assert_eq!(e, Some(Code::Locked), "nothing is served while locked");
}

#[test]
fn idle_lock_locks_only_after_the_limit() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    assert!(!s.lock_if_idle(Duration::from_secs(60)));
    assert!(s.app_status().expect("status").unlocked);
    std::thread::sleep(Duration::from_millis(30));
    assert!(s.lock_if_idle(Duration::from_millis(10)));
    assert!(!s.app_status().expect("status").unlocked);
    assert!(!s.lock_if_idle(Duration::ZERO), "already locked");

    assert_eq!(
        s.set_idle_lock(0).err().map(|e| e.code),
        Some(Code::InvalidInput)
    );
    s.set_idle_lock(3).expect("set");
    assert_eq!(s.idle_limit(), Duration::from_secs(180));
}

#[test]
fn bundle_commands_work_and_explain_what_is_missing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let status = s.outbox_status().expect("outbox");
    assert_eq!(status.pending_records, 0);
    assert!(status.last_export_at.is_none());
    // A field vault without the coordinators' trust file cannot export.
    let err = s
        .export_bundle(ExportBundleRequest {
            path: tmp.path().join("b").display().to_string(),
        })
        .expect_err("refused");
    assert_eq!(err.code, Code::NoTrust);
    assert!(err.detail.contains("trust file"), "{}", err.detail);
    // Importing needs a coordinator vault.
    let err = s
        .import_bundle(ImportBundleRequest { path: "/x".into() })
        .expect_err("refused");
    assert_eq!(err.code, Code::NoTrust);
    assert!(s.list_devices().expect("devices").is_empty());
}

#[test]
fn config_reads_the_vault_and_only_test_builds_lower_the_work_factor() {
    let vars = |wf: &'static str| {
        move |name: &str| match name {
            ENV_VAULT => Some(std::ffi::OsString::from("/tmp/some-vault")),
            ENV_KDF_WORK_FACTOR => Some(std::ffi::OsString::from(wf)),
            _ => None,
        }
    };
    let cfg = Config::from_vars(vars("10"));
    assert_eq!(cfg.vault_dir, std::path::PathBuf::from("/tmp/some-vault"));
    // The release build users run (CI runs this test in release, without the
    // `test-hooks` feature) must ignore the test hook: a low scrypt cost
    // makes a seized vault's passphrase cheap to guess.
    #[cfg(any(debug_assertions, feature = "test-hooks"))]
    {
        assert_eq!(cfg.kdf_work_factor, 10);
        assert_eq!(
            Config::from_vars(vars("1")).kdf_work_factor,
            MIN_WORK_FACTOR
        );
        assert_eq!(
            Config::from_vars(vars("30")).kdf_work_factor,
            DEFAULT_WORK_FACTOR
        );
    }
    #[cfg(not(any(debug_assertions, feature = "test-hooks")))]
    {
        assert_eq!(cfg.kdf_work_factor, DEFAULT_WORK_FACTOR);
    }
    assert_eq!(
        Config::from_vars(vars("x")).kdf_work_factor,
        DEFAULT_WORK_FACTOR
    );
    assert_eq!(
        Config::from_vars(|_| None).kdf_work_factor,
        DEFAULT_WORK_FACTOR
    );
    assert!(default_vault_dir().ends_with("yaddash/vault"));
}

#[test]
fn trust_enroll_bundle_receipts_round_trip() {
    let tmp = tempfile::tempdir().expect("tmp");
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).expect("dir");
    let p = |name: &str| files.join(name).display().to_string();

    let coord = AppState::new(Config {
        vault_dir: tmp.path().join("coord"),
        kdf_work_factor: MIN_WORK_FACTOR,
    });
    coord
        .create_vault(CreateVaultRequest {
            role: Role::Coordinator,
            passphrase: PASS.into(),
        })
        .expect("coordinator");
    // The HQ server key a coordinator pastes (any OpenSSH Ed25519 line).
    let server_key = coord.device_identity().expect("id").signing_key;
    let exported = coord
        .export_trust(TrustExportRequest {
            path: p("trust.json"),
            server_key: Some(format!("  {server_key}\n")),
        })
        .expect("trust export");
    assert_eq!(exported.coordinators.len(), 1);
    assert!(
        exported
            .server_fingerprint
            .as_deref()
            .is_some_and(|f| f.starts_with("SHA256:"))
    );
    assert!(
        coord
            .export_trust(TrustExportRequest {
                path: "relative.json".into(),
                server_key: None,
            })
            .is_err_and(|e| e.code == Code::PathNotAbsolute)
    );
    let bad_key = coord
        .export_trust(TrustExportRequest {
            path: p("bad.json"),
            server_key: Some("ssh-ed25519 not-a-key".into()),
        })
        .expect_err("a malformed server key");
    assert_eq!(bad_key.code, Code::ServerKeyInvalid);
    assert!(!files.join("bad.json").exists());

    let (field, _) = created(tmp.path());
    assert!(field.trust_info().expect("info").is_none());
    // Without trust there is nothing to encrypt to.
    let err = field
        .import_trust(ImportTrustRequest {
            path: None,
            text: Some("{\"format\": \"nope\"}".into()),
        })
        .expect_err("bad trust file");
    assert_eq!(err.code, Code::TrustFileInvalid);
    let imported = field
        .import_trust(ImportTrustRequest {
            path: Some(p("trust.json")),
            text: None,
        })
        .expect("trust import");
    assert_eq!(imported.fingerprint, exported.fingerprint);
    assert_eq!(imported.server_fingerprint, exported.server_fingerprint);
    assert_eq!(
        imported.coordinators[0].fingerprint,
        coord.device_identity().expect("id").fingerprint
    );
    assert_eq!(
        field.trust_info().expect("info").expect("some").fingerprint,
        exported.fingerprint
    );
    // A field vault cannot export trust or enroll.
    assert_eq!(
        field
            .export_trust(TrustExportRequest {
                path: p("x.json"),
                server_key: None,
            })
            .expect_err("field")
            .code,
        Code::WrongRole
    );

    let me = field.device_identity().expect("identity");
    assert!(me.ssh_fingerprint.starts_with("SHA256:"));
    field
        .save_device_identity(PathRequest {
            path: p("device.json"),
        })
        .expect("save identity");
    save(&field, person(&["Мамедов Ильгар"]));
    let bundle = field
        .export_bundle(ExportBundleRequest { path: p("b1.ydb") })
        .expect("export");
    assert_eq!(bundle.records, 1);
    let out = field.bundles_out().expect("bundles out");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].seq, 1);
    assert!(out[0].imported_at.is_none());

    let enrolled = coord
        .enroll_device(EnrollDeviceRequest {
            path: p("device.json"),
            label: Some(" Aynur's laptop ".into()),
        })
        .expect("enroll");
    assert_eq!(enrolled.fingerprint, me.fingerprint);
    assert_eq!(enrolled.label.as_deref(), Some("Aynur's laptop"));
    let devices = coord.list_devices().expect("devices");
    assert_eq!(devices.len(), 1);
    let import = coord
        .import_bundle(ImportBundleRequest { path: bundle.path })
        .expect("import");
    assert_eq!(import.added, 1);
    assert_eq!(
        coord
            .search(SearchRequest {
                query: "mammadov".into(),
                kind: None,
                limit: None,
            })
            .expect("search")
            .len(),
        1
    );
    let device_id: Uuid = me.device_id.parse().expect("uuid");
    let receipts = coord
        .export_receipts(ExportReceiptsRequest {
            device_id,
            path: p("receipts.json"),
        })
        .expect("receipts");
    assert_eq!(receipts.receipts, 1);

    let confirmed = field
        .import_receipts(PathRequest {
            path: p("receipts.json"),
        })
        .expect("receipt import");
    assert_eq!(confirmed.confirmed, vec![1]);
    assert!(field.bundles_out().expect("out")[0].imported_at.is_some());
    let again = field
        .import_receipts(PathRequest {
            path: p("receipts.json"),
        })
        .expect("again");
    assert_eq!(again.already, 1);

    // Provenance: the imported record's revision names the device (its
    // label) and the bundle, its sequence number and the import time.
    let rid = coord.list_records(RecordKind::Person).expect("records")[0].id;
    let origins = coord.record_provenance(rid).expect("provenance");
    assert_eq!(origins.len(), 1);
    let o = &origins[0];
    assert_eq!(o.device_id, me.device_id);
    assert_eq!(o.device_label.as_deref(), Some("Aynur's laptop"));
    assert!(o.device_enrolled);
    assert_eq!(o.bundle_id, bundle.sha256);
    assert_eq!((o.bundle_seq, o.source_rev), (Some(1), 1));
    assert!(o.imported_at.is_some());
    // Saved on this device: no provenance.
    let own = save(&coord, person(&["Aliyev Rashad"]));
    assert!(coord.record_provenance(own).expect("own").is_empty());
    assert!(field.record_provenance(rid).expect("field").is_empty());

    // An enrollment code: parses, is signed by this coordinator and expires
    // in the time asked for. Field vaults cannot issue one.
    let inv = coord
        .hq_invite(InviteRequest { valid_hours: 24 })
        .expect("invite");
    let code = enroll_code(&inv.code);
    assert_eq!(
        code.issuer.to_string(),
        coord.device_identity().expect("id").device_id
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now + 24 * 3600 - code.expires_at).abs() < 60);
    let until = time::OffsetDateTime::parse(
        &inv.expires_at,
        &time::format_description::well_known::Rfc3339,
    )
    .expect("rfc3339");
    assert_eq!(until.unix_timestamp(), code.expires_at);
    for hours in [0, INVITE_HOURS_MAX + 1] {
        assert_eq!(
            coord
                .hq_invite(InviteRequest { valid_hours: hours })
                .expect_err("range")
                .code,
            Code::InvalidInput
        );
    }
    assert_eq!(
        field
            .hq_invite(InviteRequest { valid_hours: 1 })
            .expect_err("field")
            .code,
        Code::WrongRole
    );

    // Revoking with no HQ server known: in the vault only, and said so.
    let r = coord
        .revoke_device(RevokeDeviceRequest { device_id })
        .expect("revoke");
    assert!(r.in_vault && !r.at_server && !r.server_known && r.server_error.is_none());
    assert!(coord.list_devices().expect("devices")[0].revoked);
    // Again, with a server known but sync never enabled: the policy refuses
    // before any socket, the local revocation stands, its time unchanged.
    coord
        .with_vault(|v| Ok(v.set_setting(Setting::HqUrl, "http://127.0.0.1:9")?))
        .expect("url");
    let again = coord
        .revoke_device(RevokeDeviceRequest { device_id })
        .expect("revoke again");
    assert!(again.in_vault && !again.at_server && again.server_known);
    assert_eq!(again.server_error.map(|e| e.code), Some(Code::SyncDisabled));
    assert_eq!(again.revoked_from, r.revoked_from);
    assert!(coord.list_devices().expect("devices")[0].revoked);
    // An unknown device, no server reachable: an error.
    assert!(
        coord
            .revoke_device(RevokeDeviceRequest {
                device_id: Uuid::now_v7()
            })
            .is_err()
    );
    assert_eq!(
        coord
            .enroll_device(EnrollDeviceRequest {
                path: p("missing.json"),
                label: None,
            })
            .expect_err("missing")
            .code,
        Code::FileNotFound
    );
}

fn coordinator(dir: &Path) -> AppState {
    made(dir, Role::Coordinator)
}

/// The whole register through `register_page`, a page at a time.
fn whole_register(s: &AppState) -> Vec<RegisterRow> {
    let mut rows = Vec::new();
    loop {
        let page = s
            .register_page(RegisterPageRequest {
                offset: u32::try_from(rows.len()).expect("offset"),
                limit: 2,
            })
            .expect("page");
        if page.rows.is_empty() {
            assert_eq!(rows.len(), page.total as usize);
            return rows;
        }
        rows.extend(page.rows);
    }
}

#[test]
fn register_commands_list_suggest_merge_override_and_export() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = coordinator(tmp.path());
    let a = save(&s, person(&["Məmmədov Tofiq"]));
    let b = save(&s, person(&["Мамедов Тофик"]));
    save(&s, interview(a));

    let first = s
        .register_page(RegisterPageRequest {
            offset: 0,
            limit: 1,
        })
        .expect("first page");
    assert_eq!((first.rows.len(), first.total), (1, 2));
    let list = whole_register(&s);
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, first.rows[0].id);
    assert!(list.iter().all(|r| r.status_override.is_none()));
    assert_eq!(list.iter().map(|r| r.sources).sum::<usize>(), 1);

    let dups = s.register_duplicates().expect("duplicates");
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert!(dups[0].score >= 0.8 && !dups[0].reasons.is_empty());
    let labels = [dups[0].a.label.as_str(), dups[0].b.label.as_str()];
    assert!(labels.contains(&"Мамедов Тофик"));

    // Merge: one line in the register, one merge in force, no suggestion.
    s.register_merge(RegisterPairRequest {
        primary: a,
        other: b,
    })
    .expect("merge");
    assert_eq!(whole_register(&s).len(), 1);
    assert!(s.register_duplicates().expect("duplicates").is_empty());
    let merges = s.register_merges().expect("merges");
    assert_eq!((merges[0].primary.id, merges[0].merged.id), (a, b));
    // Unmerge: two again, and the suggestion comes back.
    s.register_unmerge(b).expect("unmerge");
    assert!(s.register_merges().expect("merges").is_empty());
    assert_eq!(s.register_duplicates().expect("duplicates").len(), 1);
    let err = s.register_unmerge(b).expect_err("not merged");
    assert_eq!(err.code, Code::RequestRefused);
    // Distinct: never suggested again.
    s.register_mark_distinct(RegisterPairRequest {
        primary: a,
        other: b,
    })
    .expect("distinct");
    assert!(s.register_duplicates().expect("duplicates").is_empty());

    // An override needs a reason; with one it is in force and shown with it.
    let err = s
        .register_set_status(RegisterStatusRequest {
            person_id: a,
            status: Some(RegisterStatus::InExile),
            reason: "  ".into(),
        })
        .expect_err("no reason");
    assert_eq!(err.code, Code::ReasonRequired);
    s.register_set_status(RegisterStatusRequest {
        person_id: a,
        status: Some(RegisterStatus::InExile),
        reason: "left in March".into(),
    })
    .expect("override");
    let row = whole_register(&s)
        .into_iter()
        .find(|r| r.id == a)
        .expect("row");
    assert_eq!(row.status, RegisterStatus::InExile);
    assert_eq!(row.derived_status, RegisterStatus::Unknown);
    assert_eq!(
        row.status_override.map(|o| o.reason),
        Some("left in March".into())
    );

    // Export: internal level has both persons and the reason; public has
    // none (the records are internal) and no reason.
    let out = tmp.path().join("register.json");
    let done = s
        .register_export(RegisterExportRequest {
            level: ExportLevel::Internal,
            format: "json".into(),
            path: out.display().to_string(),
        })
        .expect("export");
    assert_eq!(done.persons, 2);
    let text = std::fs::read_to_string(&out).expect("read export");
    assert!(text.contains("left in March"));
    let public = tmp.path().join("public.csv");
    let done = s
        .register_export(RegisterExportRequest {
            level: ExportLevel::Public,
            format: "csv".into(),
            path: public.display().to_string(),
        })
        .expect("export");
    assert_eq!(done.persons, 0);
    assert!(
        !std::fs::read_to_string(&public)
            .expect("read")
            .contains("left in March")
    );
    let pdf = public.with_extension("pdf");
    s.register_export(RegisterExportRequest {
        level: ExportLevel::Public,
        format: "pdf".into(),
        path: pdf.display().to_string(),
    })
    .expect("pdf");
    assert!(std::fs::read(&pdf).expect("read").starts_with(b"%PDF-"));
    let err = s
        .register_export(RegisterExportRequest {
            level: ExportLevel::Public,
            format: "docx".into(),
            path: public.display().to_string(),
        })
        .expect_err("format");
    assert_eq!(err.code, Code::InvalidInput);
    let err = s
        .register_export(RegisterExportRequest {
            level: ExportLevel::Public,
            format: "csv".into(),
            path: "relative.csv".into(),
        })
        .expect_err("relative path");
    assert_eq!(err.code, Code::PathNotAbsolute);
}

#[test]
fn the_register_is_refused_in_a_field_vault() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let err = s
        .register_page(RegisterPageRequest {
            offset: 0,
            limit: 10,
        })
        .expect_err("field vault");
    assert_eq!(err.code, Code::WrongRole);
    assert!(err.detail.contains("coordinator vault"));
}

// ----- sync: policy, automatic path, transfers ------------------------------

/// Collects a transfer's events for a test.
#[derive(Default)]
struct Recorder {
    progress: Mutex<Vec<JobProgress>>,
    finished: Mutex<Vec<JobFinished>>,
}

impl JobEvents for Recorder {
    fn progress(&self, p: &JobProgress) {
        lock_ignoring_poison(&self.progress).push(p.clone());
    }
    fn finished(&self, f: &JobFinished) {
        lock_ignoring_poison(&self.finished).push(f.clone());
    }
}

impl Recorder {
    fn wait_finished(&self) -> JobFinished {
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Some(f) = lock_ignoring_poison(&self.finished).last() {
                return f.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the transfer did not finish");
    }
}

fn form(s: &AppState) -> PolicyForm {
    s.policy_get().expect("policy").policy
}

/// A field vault holding the coordinators' trust file and one record, so
/// that Send has something to put in the outbox.
fn field_with_trust(dir: &Path) -> AppState {
    let coord = coordinator(&dir.join("c"));
    let trust = dir.join("trust.json").display().to_string();
    coord
        .export_trust(TrustExportRequest {
            path: trust.clone(),
            server_key: None,
        })
        .expect("trust");
    let (s, _) = created(dir);
    s.import_trust(ImportTrustRequest {
        path: Some(trust),
        text: None,
    })
    .expect("import trust");
    save(&s, person(&["Məmmədov"]));
    s
}

/// A loopback "HQ server" that only counts the connections it gets.
struct Counting {
    listener: std::net::TcpListener,
}

impl Counting {
    fn new() -> Counting {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        Counting { listener }
    }
    fn url(&self) -> String {
        format!(
            "http://{}",
            self.listener.local_addr().expect("local address")
        )
    }
    /// Connections accepted within `wait` (closed at once).
    fn connections(&self, wait: Duration) -> usize {
        let until = Instant::now() + wait;
        let mut n = 0;
        loop {
            match self.listener.accept() {
                Ok(_) => n += 1,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= until {
                        return n;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
}

#[test]
fn policy_get_shows_the_safe_defaults() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let info = s.policy_get().expect("policy");
    assert!(!info.policy.enabled && !info.policy.network_off && !info.policy.require_proxy);
    assert_eq!(info.policy.mode, yaddash_outbox::Mode::Manual);
    assert!(info.policy.windows.is_empty() && info.policy.proxy.is_none());
    assert_eq!(info.policy.utc_offset, "+00:00");
    assert_eq!(info.set_by, yaddash_outbox::SetBy::Default);
    assert!(!info.enrolled && info.hq_url.is_none());
    assert!(s.outbox_list().expect("outbox").is_empty());
    s.lock().expect("lock");
    assert_eq!(s.policy_get().expect_err("locked").code, Code::Locked);
}

#[test]
fn policy_set_validates_every_field_and_saves_nothing_bad() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let before = form(&s);
    let bad = |f: PolicyForm, needle: &str| {
        let e = s.policy_set(f).expect_err("refused");
        assert!(
            matches!(e.code, Code::PolicyInvalid | Code::BadProxy),
            "{:?}: {}",
            e.code,
            e.detail
        );
        assert!(e.detail.contains(needle), "{needle}: {}", e.detail);
    };
    bad(
        PolicyForm {
            windows: vec!["25:00-01:00".into()],
            ..before.clone()
        },
        "time window",
    );
    bad(
        PolicyForm {
            windows: vec!["08:00-08:00".into()],
            ..before.clone()
        },
        "empty time window",
    );
    bad(
        PolicyForm {
            utc_offset: "04:00".into(),
            ..before.clone()
        },
        "UTC offset",
    );
    bad(
        PolicyForm {
            proxy: Some("http://127.0.0.1:8080".into()),
            ..before.clone()
        },
        "SOCKS5",
    );
    bad(
        PolicyForm {
            proxy: Some("socks5h://127.0.0.1".into()),
            ..before.clone()
        },
        "port",
    );
    // Require proxy with a direct route: refused (nothing is ever tried directly).
    bad(
        PolicyForm {
            require_proxy: true,
            proxy: None,
            ..before.clone()
        },
        "require proxy",
    );
    assert_eq!(form(&s), before, "nothing was saved");

    let saved = s
        .policy_set(PolicyForm {
            enabled: true,
            mode: yaddash_outbox::Mode::Automatic,
            windows: vec!["22:00-05:30".into(), " ".into()],
            utc_offset: "+04:00".into(),
            proxy: Some(" socks5://127.0.0.1:9050 ".into()),
            require_proxy: true,
            ..before.clone()
        })
        .expect("valid policy");
    assert_eq!(saved.set_by, yaddash_outbox::SetBy::User);
    assert_eq!(saved.policy.windows, ["22:00-05:30"]);
    assert_eq!(saved.policy.utc_offset, "+04:00");
    // socks5:// becomes socks5h://: names are resolved by the proxy.
    assert_eq!(
        saved.policy.proxy.as_deref(),
        Some("socks5h://127.0.0.1:9050")
    );
    assert_eq!(
        form(&s),
        saved.policy,
        "what is read back is what was saved"
    );
    // Dropping the proxy while it is required is refused too.
    bad(
        PolicyForm {
            proxy: Some("".into()),
            ..saved.policy.clone()
        },
        "require proxy",
    );
}

#[test]
fn the_automatic_path_never_opens_a_socket_unless_the_policy_allows_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = field_with_trust(tmp.path());
    let hq = Counting::new();
    // As if enrolled at this "server": its URL and a (fake) key are known.
    s.with_vault(|v| {
        v.set_setting(Setting::HqUrl, &hq.url())?;
        v.set_setting(
            Setting::HqServerKey,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0ZXN0a2V5dGVzdGtleXRlc3RrZXl0ZXN0a2V5 hq",
        )?;
        Ok(())
    })
    .expect("meta");
    let events = Arc::new(Recorder::default());
    let auto = |s: &AppState| {
        s.sync_automatic(events.clone() as Arc<dyn JobEvents>)
            .expect("auto")
    };
    let base = form(&s);

    // Sync never enabled (the default): nothing.
    assert!(!auto(&s));
    // Enabled, manual mode (the default mode): nothing.
    s.policy_set(PolicyForm {
        enabled: true,
        ..base.clone()
    })
    .expect("set");
    assert!(!auto(&s));
    // Automatic, but the kill switch is on: nothing.
    s.policy_set(PolicyForm {
        enabled: true,
        mode: yaddash_outbox::Mode::Automatic,
        network_off: true,
        ..base.clone()
    })
    .expect("set");
    assert!(!auto(&s));
    // Automatic, outside the only window (a one-minute window twelve hours away).
    let now = time::OffsetDateTime::now_utc();
    let h = (now.hour() + 12) % 24;
    s.policy_set(PolicyForm {
        enabled: true,
        mode: yaddash_outbox::Mode::Automatic,
        windows: vec![format!("{h:02}:00-{h:02}:01")],
        ..base.clone()
    })
    .expect("set");
    assert!(!auto(&s));
    assert_eq!(hq.connections(Duration::from_millis(300)), 0);
    assert!(lock_ignoring_poison(&events.finished).is_empty());
    assert!(s.sync_status().expect("status").is_none());

    // Sync turned off: an explicit Send is refused too, before any socket,
    // and what was new waits in the outbox, encrypted.
    s.policy_set(PolicyForm {
        enabled: false,
        ..base.clone()
    })
    .expect("set");
    s.sync_start(SyncStartRequest::default(), events.clone())
        .expect("started");
    let f = events.wait_finished();
    assert!(!f.ok);
    let e = f.error.expect("error");
    assert_eq!(e.code, Code::SyncDisabled, "{}", e.detail);
    assert!(
        e.detail.contains("bundle 1 waits in the outbox"),
        "{}",
        e.detail
    );
    assert_eq!(hq.connections(Duration::from_millis(300)), 0);
    let outbox = s.outbox_list().expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, yaddash_outbox::State::Pending);
    assert!(outbox[0].size > 0 && outbox[0].in_outbox);

    // The control: the same vault, sync on, the user presses Send — now
    // (and only now) the "server" sees a connection.
    s.policy_set(PolicyForm {
        enabled: true,
        ..base.clone()
    })
    .expect("set");
    lock_ignoring_poison(&events.finished).clear();
    s.sync_start(SyncStartRequest::default(), events.clone())
        .expect("started");
    assert!(hq.connections(Duration::from_secs(10)) >= 1);
    s.sync_cancel().expect("cancel");
    let f = events.wait_finished();
    assert!(!f.ok, "the fake server answers nothing");
    assert_eq!(f.job, JobKind::Sync);
    assert_eq!(
        s.outbox_list().expect("outbox")[0].state,
        yaddash_outbox::State::Pending,
        "the outbox is intact"
    );
}

#[test]
fn the_kill_switch_and_the_lock_stop_a_transfer_in_flight() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = field_with_trust(tmp.path());
    let hq = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", hq.local_addr().expect("addr"));
    let base = form(&s);
    s.with_vault(|v| {
        v.set_setting(Setting::HqUrl, &url)?;
        Ok(())
    })
    .expect("meta");
    s.policy_set(PolicyForm {
        enabled: true,
        ..base.clone()
    })
    .expect("set");
    // Offline travel needs no server; travel with the network needs the
    // confirmation first.
    let events = Arc::new(Recorder::default());
    let e = s
        .travel_prepare(
            TravelPrepareRequest {
                confirmed: false,
                wait_secs: 0,
                offline: true,
            },
            events.clone(),
        )
        .expect_err("not confirmed");
    assert_eq!(e.code, Code::InvalidInput);
    let st = s.travel_status().expect("travel status");
    assert!(st.plan.removable.is_empty());
    assert_eq!(st.plan.remaining.len(), 1, "the record was never sent");

    // Not enrolled: Send says so without a socket (no server key).
    s.sync_start(SyncStartRequest::default(), events.clone())
        .expect("started");
    let f = events.wait_finished();
    assert_eq!(f.error.map(|e| e.code), Some(Code::NotEnrolled));

    // Lock while nothing runs, and unlock again.
    s.lock().expect("lock");
    assert!(!s.app_status().expect("status").unlocked);
    s.unlock(UnlockRequest::Passphrase {
        secret: PASS.into(),
    })
    .expect("unlock");

    // A transfer in flight: the kill switch stops it at once and is saved.
    drop(hq);
    let url = slow_server(Duration::from_millis(1500));
    s.with_vault(|v| {
        v.set_setting(Setting::HqUrl, &url)?;
        v.set_setting(
            Setting::HqServerKey,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0ZXN0a2V5dGVzdGtleXRlc3RrZXl0ZXN0a2V5 hq",
        )?;
        Ok(())
    })
    .expect("meta");
    lock_ignoring_poison(&events.finished).clear();
    s.sync_start(SyncStartRequest::default(), events.clone())
        .expect("started");
    assert_eq!(s.sync_status().expect("status"), Some(JobKind::Sync));
    // A second transfer is refused while one runs.
    assert_eq!(
        s.sync_start(SyncStartRequest::default(), events.clone())
            .expect_err("busy")
            .code,
        Code::Busy
    );
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    let saved = s
        .policy_set(PolicyForm {
            network_off: true,
            ..form_or(&s, &base)
        })
        .expect("kill switch");
    assert!(saved.policy.network_off);
    let f = events.wait_finished();
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert!(!f.ok);
    assert!(s.sync_status().expect("status").is_none());
    // With the kill switch on, Send is refused before any socket.
    lock_ignoring_poison(&events.finished).clear();
    s.sync_start(SyncStartRequest::default(), events.clone())
        .expect("started");
    assert_eq!(
        events.wait_finished().error.map(|e| e.code),
        Some(Code::NetworkOff)
    );

    // A transfer in flight and a (panic) lock: the UI is locked at once,
    // the transfer stops and drops the vault.
    s.policy_set(PolicyForm {
        network_off: false,
        ..form(&s)
    })
    .expect("network on");
    lock_ignoring_poison(&events.finished).clear();
    s.sync_start(SyncStartRequest::default(), events.clone())
        .expect("started");
    std::thread::sleep(Duration::from_millis(300));
    s.lock().expect("lock");
    assert!(!s.app_status().expect("status").unlocked);
    let f = events.wait_finished();
    assert!(!f.ok);
    assert!(!s.app_status().expect("status").unlocked);
    assert_eq!(s.outbox_list().expect_err("locked").code, Code::Locked);
}

/// The policy form as it is now, or `fallback` while the vault is busy.
fn form_or(s: &AppState, fallback: &PolicyForm) -> PolicyForm {
    s.policy_get()
        .map(|i| i.policy)
        .unwrap_or_else(|_| fallback.clone())
}

/// A server that answers every request with an error, `delay` after
/// reading its head: a transfer against it is always mid-request.
fn slow_server(delay: Duration) -> String {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut b) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&b[..n]),
                    }
                }
                std::thread::sleep(delay);
                let _ = c.write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            });
        }
    });
    url
}

#[test]
fn coordinators_pull_and_field_vaults_sync() {
    let tmp = tempfile::tempdir().expect("tmp");
    let c = coordinator(tmp.path());
    let events = Arc::new(Recorder::default());
    assert_eq!(
        c.sync_start(SyncStartRequest::default(), events.clone())
            .expect_err("field only")
            .code,
        Code::WrongRole
    );
    assert_eq!(
        c.travel_status().expect_err("field only").code,
        Code::WrongRole
    );
    // Pull with sync never enabled and no URL: refused before any socket.
    c.hq_pull(HqPullRequest::default(), events.clone())
        .expect("started");
    let f = events.wait_finished();
    assert_eq!(f.job, JobKind::Pull);
    assert_eq!(f.error.map(|e| e.code), Some(Code::SyncDisabled));
    let (s, _) = created(&tmp.path().join("f"));
    assert_eq!(
        s.hq_pull(HqPullRequest::default(), events.clone())
            .expect_err("coordinator only")
            .code,
        Code::WrongRole
    );
    assert_eq!(
        s.hq_enroll(EnrollRequest {
            code: " ".into(),
            url: "http://127.0.0.1:1".into()
        })
        .expect_err("no code")
        .code,
        Code::InvalidInput
    );
}

fn enroll_code(text: &str) -> yaddash_outbox::EnrollCode {
    yaddash_outbox::EnrollCode::from_text(text).expect("the code parses")
}

/// The checked-in TypeScript of the IPC types is what the Rust types
/// generate: regenerated into a temporary directory and compared.
#[test]
fn ipc_types_are_generated() {
    use crate::typescript::{GENERATED_PATH, REGENERATE, generate};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let checked_in = root.join(GENERATED_PATH);
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("ipc.ts");
    std::fs::write(&fresh, generate()).unwrap();
    let fresh_text = std::fs::read_to_string(&fresh).unwrap();
    if std::env::var_os("YADDASH_REGENERATE_TS").is_some() {
        std::fs::create_dir_all(checked_in.parent().unwrap()).unwrap();
        std::fs::write(&checked_in, &fresh_text).unwrap();
        return;
    }
    let old = std::fs::read_to_string(&checked_in).unwrap_or_default();
    if old != fresh_text {
        let line = old
            .lines()
            .zip(fresh_text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| old.lines().count().min(fresh_text.lines().count()));
        panic!(
            "{GENERATED_PATH} differs from what the Rust types generate (first difference at line {}). Regenerate it: {REGENERATE}",
            line + 1
        );
    }
}
