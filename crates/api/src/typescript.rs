//! The IPC contract in TypeScript, generated from the Rust types with
//! `ts-rs`: every type a command takes or answers, and every error code.
//! The front end imports the checked-in copy
//! (`ui/src/lib/backend/generated/ipc.ts`); a test regenerates it and fails
//! on any difference, so the two sides cannot drift apart.

use ts_rs::{Config, TS};

use crate::{coercion, dto, error, evidence, recording, sync};

/// Where the generated file lives, relative to the repository root.
pub const GENERATED_PATH: &str = "ui/src/lib/backend/generated/ipc.ts";

/// The command that rewrites the checked-in file.
pub const REGENERATE: &str =
    "YADDASH_REGENERATE_TS=1 cargo test --release -p yaddash-api --lib ipc_types_are_generated";

/// One declaration: the type's docs and `export type … = …;`.
fn decl<T: TS + ?Sized>(cfg: &Config) -> String {
    let mut out = String::new();
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push('\n');
    out
}

macro_rules! decls {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        vec![$(decl::<$t>($cfg)),*]
    };
}

/// The whole file: every IPC type, in a fixed order.
pub fn generate() -> String {
    // Counts and sizes are far below 2^53: JavaScript numbers, not bigint.
    let cfg = Config::new().with_large_int("number");
    let cfg = &cfg;
    let parts = decls![cfg;
        // Errors.
        error::Code,
        error::ApiError,
        // Records (crates/model).
        yaddash_model::PartialDate,
        yaddash_model::RecordKind,
        yaddash_model::Confidentiality,
        yaddash_model::Reliability,
        yaddash_model::Consent,
        yaddash_model::Role,
        yaddash_model::ReleaseKind,
        yaddash_model::Person,
        yaddash_model::EventDetail,
        yaddash_model::Event,
        yaddash_model::Case,
        yaddash_model::Interview,
        yaddash_model::Record,
        // The vault (crates/vault).
        yaddash_vault::VaultRole,
        yaddash_vault::StoredRecord,
        yaddash_vault::Revision,
        yaddash_vault::AttachmentInfo,
        yaddash_vault::CheckReport,
        // Requests and answers (crates/api/src/dto.rs).
        dto::AppStatus,
        dto::CreateVaultRequest,
        dto::CreatedVault,
        dto::UnlockRequest,
        dto::ChangePassphraseRequest,
        dto::SessionInfo,
        dto::RecordSummary,
        dto::SearchRequest,
        dto::SaveRecordRequest,
        dto::SavedRecord,
        dto::AttachFileRequest,
        dto::OutboxStatus,
        dto::ExportBundleRequest,
        dto::ImportBundleRequest,
        dto::BundleSummary,
        dto::ImportSummary,
        dto::DeviceSummary,
        dto::PathRequest,
        dto::TrustExportRequest,
        dto::ImportTrustRequest,
        dto::CoordinatorSummary,
        dto::TrustSummary,
        dto::DeviceIdentity,
        dto::EnrollDeviceRequest,
        dto::RevokeDeviceRequest,
        dto::RevisionOrigin,
        dto::InviteRequest,
        dto::DeviceRevoked,
        dto::ExportReceiptsRequest,
        dto::ReceiptsExported,
        dto::ReceiptsImported,
        dto::BundleOutSummary,
        // The register (crates/register, dto.rs).
        yaddash_register::Status,
        yaddash_register::Level,
        dto::RegisterOverride,
        dto::RegisterRow,
        dto::RegisterPageRequest,
        dto::RegisterPage,
        dto::RegisterPerson,
        yaddash_register::dup::Reason,
        dto::DuplicateSuggestion,
        dto::MergeSummary,
        dto::RegisterPairRequest,
        dto::RegisterStatusRequest,
        dto::RegisterExportRequest,
        dto::RegisterExported,
        // Sync with headquarters (crates/outbox, crates/api/src/sync.rs).
        yaddash_outbox::Mode,
        yaddash_outbox::SetBy,
        sync::PolicyForm,
        sync::PolicyInfo,
        sync::EnrollRequest,
        sync::SyncStartRequest,
        sync::TravelPrepareRequest,
        sync::HqPullRequest,
        sync::JobKind,
        yaddash_outbox::Event,
        sync::JobProgress,
        yaddash_outbox::State,
        yaddash_outbox::Entry,
        yaddash_outbox::Enrolled,
        yaddash_coordinator::Invite,
        yaddash_outbox::SyncReport,
        yaddash_outbox::travel::Reason,
        yaddash_outbox::travel::Remaining,
        yaddash_outbox::travel::Plan,
        yaddash_outbox::travel::Report,
        yaddash_outbox::travel::Status,
        sync::PullSummary,
        sync::JobFinished,
        // Under coercion (coercion.rs) and the panic shortcut.
        yaddash_outbox::Unsent,
        yaddash_vault::DestroyReport,
        coercion::CoercionSettings,
        coercion::SetDuressRequest,
        dto::PanicAction,
        dto::GlobalShortcutStatus,
        dto::PanicInfo,
        // Recording (recording.rs).
        yaddash_audio::InputInfo,
        recording::RecordingStartRequest,
        recording::RecordingStatus,
        yaddash_vault::RecordingInfo,
        recording::MoveIntoVaultRequest,
        recording::MovedIntoVault,
        // Evidence packs (evidence.rs).
        evidence::EvidenceExportRequest,
        evidence::EvidenceExported,
    ];
    let mut out = String::from(
        "// GENERATED from the Rust types by ts-rs (crates/api/src/typescript.rs): do not edit.\n",
    );
    out.push_str("// Regenerate: ");
    out.push_str(REGENERATE);
    out.push('\n');
    for p in parts {
        out.push('\n');
        out.push_str(&p);
    }
    // The codes as a value too, for the catalogue test and for telling a
    // known code from anything else at run time.
    out.push_str("\n/** Every error code, in declaration order. */\nexport const CODES: readonly Code[] = [\n");
    for code in error::Code::ALL {
        let name = serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!("  \"{name}\",\n"));
    }
    out.push_str("];\n");
    out
}
