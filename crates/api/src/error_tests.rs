//! Every [`Code`] is reached: for each one, the library error (or the app
//! request) that produces it, built or triggered, maps to exactly that code.
//! The match below is exhaustive, so a new code without a case does not
//! compile.

use std::path::PathBuf;

use uuid::Uuid;
use yaddash_audio::AudioError;
use yaddash_bundle::{ReadError, ReceiptError};
use yaddash_evidence::EvidenceError;
use yaddash_exchange::{ExchangeError, FileKind, ImportError};
use yaddash_model::{InvalidRecord, RecordKind};
use yaddash_outbox::{OutboxError, Refusal};
use yaddash_register::RegisterError;
use yaddash_sync::SyncError;
use yaddash_vault::VaultError;

use super::*;

use crate::test_support::made;

fn field_state(dir: &Path) -> AppState {
    made(dir, Role::Field)
}

fn api<E: Into<ApiError>>(e: E) -> ApiError {
    e.into()
}

fn io(kind: std::io::ErrorKind) -> std::io::Error {
    std::io::Error::new(kind, "test")
}

/// The error that stands for `code`: triggered through the app where that is
/// cheap, otherwise the library error that the app meets, built as the
/// library builds it.
fn example(code: Code, dir: &Path) -> ApiError {
    let device_id = Uuid::nil();
    match code {
        Code::WrongPassphrase => {
            let s = field_state(&dir.join("wp"));
            s.lock().expect("lock");
            s.unlock(UnlockRequest::Passphrase {
                secret: "not the passphrase".into(),
            })
            .expect_err("wrong passphrase")
        }
        Code::VaultErased => ApiError::new(code, "that was the last attempt allowed"),
        Code::BadSecret => api(VaultError::BadSecret("the recovery code is malformed")),
        Code::Locked => {
            let s = field_state(&dir.join("locked"));
            s.lock().expect("lock");
            s.list_records(RecordKind::Person).expect_err("locked")
        }
        Code::NotFound => {
            let s = field_state(&dir.join("nf"));
            s.get_record(Uuid::now_v7()).expect_err("no such record")
        }
        Code::InvalidInput => ApiError::invalid("the idle lock must be between 1 and 240 minutes"),
        Code::InvalidRecord => api(VaultError::Invalid(InvalidRecord {
            kind: RecordKind::Person,
            problem: "`names` is empty".into(),
        })),
        Code::WrongReference => api(VaultError::WrongReference {
            field: "detainee_id",
            id: device_id,
            expected: RecordKind::Person,
            found: RecordKind::Case,
        }),
        Code::KindChange => api(VaultError::KindChange {
            id: device_id,
            existing: RecordKind::Person,
            new: RecordKind::Case,
        }),
        Code::PathNotAbsolute => {
            let s = field_state(&dir.join("rel"));
            s.attach_file(AttachFileRequest {
                record_id: Uuid::now_v7(),
                path: "relative/photo.jpg".into(),
                media_type: None,
            })
            .expect_err("relative path")
        }
        Code::FileNotFound => {
            let s = field_state(&dir.join("missing"));
            s.import_trust(ImportTrustRequest {
                path: Some(dir.join("no-such-file.json").display().to_string()),
                text: None,
            })
            .expect_err("no such file")
        }
        Code::FileUnreadable => {
            let s = field_state(&dir.join("unreadable"));
            let p = dir.join("not-text.json");
            std::fs::write(&p, [0xff, 0xfe, 0x00]).expect("write");
            s.import_trust(ImportTrustRequest {
                path: Some(p.display().to_string()),
                text: None,
            })
            .expect_err("not text")
        }
        Code::FileTooLarge => {
            let s = field_state(&dir.join("large"));
            let p = dir.join("large.json");
            std::fs::write(&p, vec![b' '; (4 << 20) + 1]).expect("write");
            s.import_trust(ImportTrustRequest {
                path: Some(p.display().to_string()),
                text: None,
            })
            .expect_err("too large")
        }
        Code::ReasonRequired => ApiError::new(code, "say why the status is set by hand"),
        Code::VaultExists => api(VaultError::AlreadyExists(PathBuf::from("/v"))),
        Code::NotAVault => api(VaultError::NotAVault(PathBuf::from("/v"))),
        Code::DiskFull => api(VaultError::DiskFull("writing to the database")),
        Code::Corrupt => api(VaultError::Corrupt("the database file is malformed".into())),
        Code::AttachmentMissing => api(VaultError::AttachmentMissing(device_id)),
        Code::AttachmentCorrupt => api(VaultError::AttachmentCorrupt {
            id: device_id,
            problem: "hash mismatch".into(),
        }),
        Code::Busy => api(VaultError::Busy),
        Code::Cancelled => api(VaultError::Cancelled),
        Code::NotAvailable => ApiError::new(code, "this build cannot write PDF"),
        Code::RequestRefused => api(RegisterError::Refused(
            "a person cannot be merged with itself".into(),
        )),
        Code::Internal => api(VaultError::Io {
            context: "reading".into(),
            source: io(std::io::ErrorKind::PermissionDenied),
        }),
        Code::WrongRole => {
            let s = field_state(&dir.join("role"));
            s.register_page(RegisterPageRequest {
                offset: 0,
                limit: 1,
            })
            .expect_err("the register is for coordinators")
        }
        Code::NoTrust => api(ExchangeError::NoTrust),
        Code::TrustFileInvalid => {
            let s = field_state(&dir.join("trust"));
            s.import_trust(ImportTrustRequest {
                path: None,
                text: Some("{\"format\": \"not a trust file\"}".into()),
            })
            .expect_err("not a trust file")
        }
        Code::DeviceFileInvalid => api(ExchangeError::BadFile {
            what: FileKind::Device,
            problem: "not JSON".into(),
        }),
        Code::ReceiptFileInvalid => api(ExchangeError::BadFile {
            what: FileKind::Receipt,
            problem: "not JSON".into(),
        }),
        Code::PolicyInvalid => api(OutboxError::BadPolicy(
            "require proxy without a proxy".into(),
        )),
        Code::DeviceKeysUnreadable => api(ExchangeError::Keys("bad key".into())),
        Code::DeviceNotEnrolled => api(ExchangeError::DeviceNotEnrolled(device_id)),
        Code::BundleWriteFailed => api(ExchangeError::Write(
            yaddash_bundle::WriteError::NoRecipients,
        )),
        Code::NothingToExport => ApiError::new(code, "nothing new since the last bundle"),
        Code::NotABundle => api(ReadError::NotABundle { reason: "no magic" }),
        Code::BundleVersionUnsupported => api(ReadError::UnsupportedVersion { found: 9 }),
        Code::BundleTruncated => api(ReadError::Truncated),
        Code::BundleAltered => api(ReadError::EntryHashMismatch {
            path: "records/x.json".into(),
        }),
        Code::BundleForged => api(ReadError::OuterSignatureInvalid(
            yaddash_bundle::SignatureError::Invalid,
        )),
        Code::BundleNotForUs => api(ReadError::NotForUs),
        Code::BundleWrongHeadquarters => api(ReadError::WrongHeadquarters {
            expected: "a".into(),
            found: "b".into(),
        }),
        Code::UnknownSender => api(ReadError::UnknownSender { device_id }),
        Code::SenderKeyInvalid => api(ReadError::SenderKeyInvalid { device_id }),
        Code::BundleReplayed => api(ExchangeError::Import(ImportError::AlreadyImported {
            bundle_id: "b".into(),
            device_id,
            seq: 3,
            imported_at: "t".into(),
        })),
        Code::BundleSequenceReused => api(ExchangeError::Import(ImportError::SequenceReused {
            device_id,
            seq: 7,
        })),
        Code::BundleChainBroken => api(ExchangeError::Import(ImportError::ChainBroken {
            device_id,
            seq: 4,
            other: 3,
        })),
        Code::DeviceRevoked => api(ExchangeError::Import(ImportError::AfterRevocation {
            device_id,
            seq: 2,
            revoked_from: "t".into(),
            held_through_seq: 1,
        })),
        Code::BundleNotFromSender => api(ExchangeError::Import(ImportError::NotFromSender {
            entry: "records/x.json".into(),
            claimed: "other".into(),
            sender: device_id,
        })),
        Code::BundleBadTime => api(ExchangeError::Import(ImportError::BadTime {
            entry: "records/x.json".into(),
            problem: "in the future".into(),
        })),
        Code::BundleTooLarge => api(ExchangeError::Import(ImportError::TooLarge {
            what: "the payload".into(),
            limit: "256 MiB".into(),
        })),
        Code::BundleBadLayout => api(ExchangeError::Import(ImportError::Layout(
            "an unknown entry".into(),
        ))),
        Code::ReceiptRefused => api(ReceiptError::UnsupportedVersion { found: 9 }),
        Code::NetworkOff => api(OutboxError::Refused(Refusal::NetworkOff)),
        Code::SyncDisabled => api(OutboxError::Refused(Refusal::NotEnabled)),
        Code::ProxyRequired => api(OutboxError::Refused(Refusal::ProxyRequired)),
        Code::ManualMode => api(OutboxError::Refused(Refusal::ManualMode)),
        Code::OutsideWindow => api(OutboxError::Refused(Refusal::OutsideWindow)),
        Code::ProxyDown => api(OutboxError::Sync(SyncError::ProxyDown {
            proxy: "socks5h://127.0.0.1:9050".into(),
            reason: "refused".into(),
        })),
        Code::BadProxy => api(OutboxError::BadProxy("not a SOCKS5 URL".into())),
        Code::Network => api(OutboxError::Sync(SyncError::Transport("timed out".into()))),
        Code::ServerRefused => api(OutboxError::Sync(SyncError::Server {
            status: 403,
            code: "revoked".into(),
            message: "revoked".into(),
        })),
        Code::ServerProtocol => api(SyncError::Protocol("not JSON".into())),
        Code::BadUrl => api(SyncError::BadUrl("no scheme".into())),
        Code::NoServerUrl => api(OutboxError::NoServerUrl),
        Code::NotEnrolled => api(OutboxError::NotEnrolled),
        Code::NoServerKey => api(OutboxError::NoServerKey("the trust file names none".into())),
        Code::ServerKeyInvalid => ApiError::new(code, "not an OpenSSH Ed25519 public key"),
        Code::ServerKeyMismatch => api(OutboxError::ServerKeyMismatch("another key".into())),
        Code::ServerOtherHeadquarters => api(OutboxError::OtherHeadquarters(
            "another headquarters".into(),
        )),
        Code::BadEnrollCode => api(OutboxError::BadEnrollCode("7 days at most".into())),
        Code::UnknownOutboxFile => api(OutboxError::UnknownOutboxFile { seq: 5 }),
        Code::NotInOutbox => api(OutboxError::NotInOutbox { seq: 5 }),
        Code::ExportFailed => api(RegisterError::Export {
            format: "pdf",
            problem: "no font".into(),
        }),
        Code::EvidenceRefused => api(EvidenceError::Refused(
            "device x is not enrolled here".into(),
        )),
        Code::EvidenceDamaged => api(EvidenceError::Damaged(
            "attachment x does not match its capture hash".into(),
        )),
        Code::EvidenceWriteFailed => api(EvidenceError::Write {
            path: "/out/pack.zip".into(),
            problem: "permission denied".into(),
        }),
        Code::UnlockLimitRange => {
            let s = field_state(&dir.join("limit"));
            s.set_unlock_limit(Some(2)).expect_err("below the minimum")
        }
        Code::QuickDeleteFailed => crate::coercion::quick_delete_failed(VaultError::Io {
            context: "removing the vault".into(),
            source: io(std::io::ErrorKind::PermissionDenied),
        }),
        Code::NoMicrophone => api(AudioError::NoInput),
        Code::MicrophoneUnknown => api(AudioError::UnknownInput("hw:9".into())),
        Code::MicrophoneFailed => api(AudioError::Device("the device is busy".into())),
        Code::RecordingFailed => api(AudioError::Encode(yaddash_audio::EncodeError::Io(io(
            std::io::ErrorKind::PermissionDenied,
        )))),
        Code::RecordingRunning => ApiError::new(code, "a recording is already running"),
        Code::NoRecording => {
            let s = field_state(&dir.join("norec"));
            s.recording_stop().expect_err("nothing is recording")
        }
        Code::NotAnInterview => {
            let s = field_state(&dir.join("notint"));
            let saved = s
                .save_record(SaveRecordRequest {
                    id: None,
                    record: Record::Person(yaddash_model::Person {
                        names: vec!["A".into()],
                        birth_year: None,
                        roles: vec![],
                        notes: None,
                        confidentiality: yaddash_model::Confidentiality::Internal,
                        reliability: yaddash_model::Reliability::Unknown,
                    }),
                })
                .expect("save");
            s.recording_start(RecordingStartRequest {
                record_id: saved.id,
                input: None,
                consent_seconds: None,
            })
            .expect_err("a person is not an interview")
        }
        Code::RecordingLowSpace => ApiError::new(code, "only 10 MiB free")
            .with("free_mib", 10u64)
            .with("need_mib", 200u64),
        Code::NotARegularFile => {
            let s = field_state(&dir.join("notfile"));
            s.move_into_vault(MoveIntoVaultRequest {
                record_id: Uuid::now_v7(),
                path: dir.display().to_string(),
            })
            .expect_err("a directory")
        }
        Code::FileChanged => ApiError::new(code, "the file changed while it was imported"),
        Code::OriginalNotRemoved => ApiError::new(code, "the original could not be overwritten"),
    }
}

#[test]
fn every_code_is_reached_by_its_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut seen = std::collections::BTreeSet::new();
    for &code in Code::ALL {
        let e = example(code, dir.path());
        assert_eq!(
            e.code, code,
            "{code:?} came out as {:?}: {}",
            e.code, e.detail
        );
        assert!(!e.detail.trim().is_empty(), "{code:?} has no detail");
        assert!(seen.insert(code), "{code:?} is listed twice");
    }
    assert_eq!(seen.len(), Code::ALL.len());
}

#[test]
fn distinct_refusals_reach_the_app_as_distinct_codes() {
    let dir = tempfile::tempdir().expect("tmp");
    let refusals = [
        Code::BundleReplayed,
        Code::BundleSequenceReused,
        Code::BundleChainBroken,
        Code::WrongRole,
        Code::BundleForged,
        Code::DeviceRevoked,
        Code::DiskFull,
        Code::ReceiptRefused,
        Code::NetworkOff,
        Code::ProxyDown,
    ];
    let codes: std::collections::BTreeSet<Code> = refusals
        .iter()
        .map(|&c| example(c, dir.path()).code)
        .collect();
    assert_eq!(codes.len(), refusals.len());
    assert!(!codes.contains(&Code::InvalidInput));
}

#[test]
fn errors_serialise_as_code_params_and_detail() {
    let dir = tempfile::tempdir().expect("tmp");
    let e = example(Code::BundleSequenceReused, dir.path());
    let v = serde_json::to_value(&e).expect("json");
    assert_eq!(v["code"], "bundle_sequence_reused");
    assert_eq!(v["params"]["seq"], 7);
    assert!(v["detail"].as_str().is_some_and(|m| m.contains('7')));
    let e = example(Code::BundleChainBroken, dir.path());
    let v = serde_json::to_value(&e).expect("json");
    assert_eq!(v["params"], serde_json::json!({"seq": 4, "other": 3}));
    let e = example(Code::WrongRole, dir.path());
    assert_eq!(
        serde_json::to_value(&e).expect("json")["params"],
        serde_json::json!({"needed": "coordinator"})
    );
    // Every code serialises as its snake_case name, distinct from the others.
    let names: std::collections::BTreeSet<String> = Code::ALL
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .expect("json")
                .as_str()
                .expect("str")
                .to_string()
        })
        .collect();
    assert_eq!(names.len(), Code::ALL.len());
    assert!(
        names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    );
}

#[test]
fn library_errors_carry_no_command_line_advice() {
    let dir = tempfile::tempdir().expect("tmp");
    for &code in Code::ALL {
        let e = example(code, dir.path());
        for advice in ["`yaddash", "--network", "--sync on", "--url", "--vault"] {
            assert!(
                !e.detail.contains(advice),
                "{code:?} tells the app user to type a command: {}",
                e.detail
            );
        }
    }
}

#[test]
fn an_evidence_pack_error_leaves_the_path_out_of_the_detail() {
    let e = api(EvidenceError::Write {
        path: "/media/usb/Mammadov-Tofiq.zip".into(),
        problem: "permission denied".into(),
    });
    assert_eq!(e.code, Code::EvidenceWriteFailed);
    assert!(!e.detail.contains("Mammadov"), "{}", e.detail);
    assert!(e.detail.contains("permission denied"), "{}", e.detail);
}
