use super::*;
use yaddash_model::{Confidentiality, Consent, Interview, PartialDate, Person, Reliability};

const PASS: &str = "correct horse battery";

fn state(dir: &Path) -> AppState {
    AppState::new(Config {
        vault_dir: dir.join("vault"),
        kdf_work_factor: MIN_WORK_FACTOR,
    })
}

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
        Err(ErrorCode::Locked)
    );

    let wrong = s
        .unlock(UnlockRequest::Passphrase {
            secret: "not the passphrase".into(),
        })
        .err()
        .map(|e| e.code);
    assert_eq!(wrong, Some(ErrorCode::WrongPassphrase));

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
    assert_eq!(e, Some(ErrorCode::VaultExists));
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
    assert_eq!(e, Some(ErrorCode::NotAVault));
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
    assert_eq!(e, Some(ErrorCode::InvalidInput));
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
    assert_eq!(e, Some(ErrorCode::InvalidInput));
    let e = s.get_record(Uuid::now_v7()).err().map(|e| e.code);
    assert_eq!(e, Some(ErrorCode::NotFound));
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
    assert_eq!(e, Some(ErrorCode::InvalidInput));
    let e = s
        .attach_file(AttachFileRequest {
            record_id: i,
            path: "relative.png".into(),
            media_type: None,
        })
        .err()
        .map(|e| e.code);
    assert_eq!(e, Some(ErrorCode::InvalidInput));

    s.lock().expect("lock");
    let e = s.attachment_content(info.id).err().map(|e| e.code);
    assert_eq!(e, Some(ErrorCode::Locked), "nothing is served while locked");
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
        Some(ErrorCode::InvalidInput)
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
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("trust file"), "{}", err.message);
    // Importing needs a coordinator vault.
    let err = s
        .import_bundle(ImportBundleRequest { path: "/x".into() })
        .expect_err("refused");
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(s.list_devices().expect("devices").is_empty());
}

#[test]
fn errors_serialise_as_code_and_message() {
    let e = ApiError::locked();
    let v = serde_json::to_value(&e).expect("json");
    assert_eq!(v["code"], "locked");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    for code in [
        ErrorCode::WrongPassphrase,
        ErrorCode::NotAvailable,
        ErrorCode::InvalidInput,
    ] {
        assert_eq!(
            serde_json::to_value(code).expect("json"),
            serde_json::Value::from(code.as_str())
        );
    }
}

#[test]
fn config_reads_the_environment_and_clamps_the_work_factor() {
    // Reads the environment as the test runner has it (mutating the
    // process environment would race with other tests).
    let wf = std::env::var(ENV_KDF_WORK_FACTOR).ok();
    let cfg = Config::from_env();
    match wf.and_then(|v| v.parse::<u8>().ok()) {
        Some(v) => assert_eq!(
            cfg.kdf_work_factor,
            v.clamp(MIN_WORK_FACTOR, DEFAULT_WORK_FACTOR)
        ),
        None => assert_eq!(cfg.kdf_work_factor, DEFAULT_WORK_FACTOR),
    }
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
    let exported = coord
        .export_trust(PathRequest {
            path: p("trust.json"),
        })
        .expect("trust export");
    assert_eq!(exported.coordinators.len(), 1);
    assert!(
        coord
            .export_trust(PathRequest {
                path: "relative.json".into()
            })
            .is_err_and(|e| e.code == ErrorCode::InvalidInput)
    );

    let (field, _) = created(tmp.path());
    assert!(field.trust_info().expect("info").is_none());
    // Without trust there is nothing to encrypt to.
    let err = field
        .import_trust(ImportTrustRequest {
            path: None,
            text: Some("{\"format\": \"nope\"}".into()),
        })
        .expect_err("bad trust file");
    assert_eq!(err.code, ErrorCode::InvalidInput);
    let imported = field
        .import_trust(ImportTrustRequest {
            path: Some(p("trust.json")),
            text: None,
        })
        .expect("trust import");
    assert_eq!(imported.fingerprint, exported.fingerprint);
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
            .export_trust(PathRequest { path: p("x.json") })
            .expect_err("field")
            .code,
        ErrorCode::InvalidInput
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

    coord
        .revoke_device(RevokeDeviceRequest { device_id })
        .expect("revoke");
    assert!(coord.list_devices().expect("devices")[0].revoked);
    assert_eq!(
        coord
            .enroll_device(EnrollDeviceRequest {
                path: p("missing.json"),
                label: None,
            })
            .expect_err("missing")
            .code,
        ErrorCode::NotFound
    );
}

fn coordinator(dir: &Path) -> AppState {
    let s = state(dir);
    s.create_vault(CreateVaultRequest {
        role: Role::Coordinator,
        passphrase: PASS.into(),
    })
    .expect("create");
    s
}

#[test]
fn register_commands_list_suggest_merge_override_and_export() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = coordinator(tmp.path());
    let a = save(&s, person(&["Məmmədov Tofiq"]));
    let b = save(&s, person(&["Мамедов Тофик"]));
    save(&s, interview(a));

    let list = s.register_list().expect("list");
    assert_eq!(list.len(), 2);
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
    assert_eq!(s.register_list().expect("list").len(), 1);
    assert!(s.register_duplicates().expect("duplicates").is_empty());
    let merges = s.register_merges().expect("merges");
    assert_eq!((merges[0].primary.id, merges[0].merged.id), (a, b));
    // Unmerge: two again, and the suggestion comes back.
    s.register_unmerge(b).expect("unmerge");
    assert!(s.register_merges().expect("merges").is_empty());
    assert_eq!(s.register_duplicates().expect("duplicates").len(), 1);
    let err = s.register_unmerge(b).expect_err("not merged");
    assert_eq!(err.code, ErrorCode::InvalidInput);
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
    assert_eq!(err.code, ErrorCode::InvalidInput);
    s.register_set_status(RegisterStatusRequest {
        person_id: a,
        status: Some(RegisterStatus::InExile),
        reason: "left in March".into(),
    })
    .expect("override");
    let row = s
        .register_list()
        .expect("list")
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
    assert_eq!(err.code, ErrorCode::InvalidInput);
    let err = s
        .register_export(RegisterExportRequest {
            level: ExportLevel::Public,
            format: "csv".into(),
            path: "relative.csv".into(),
        })
        .expect_err("relative path");
    assert_eq!(err.code, ErrorCode::InvalidInput);
}

#[test]
fn the_register_is_refused_in_a_field_vault() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (s, _) = created(tmp.path());
    let err = s.register_list().expect_err("field vault");
    assert_eq!(err.code, ErrorCode::NotAvailable);
    assert!(err.message.contains("coordinator vault"));
}
