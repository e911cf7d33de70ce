//! The app's commands: each forwards to `yaddash_api::AppState`. They run on
//! Tauri's async runtime (`async` attribute), never on the UI thread, so a
//! slow unlock or a large attachment does not freeze the window.

use std::sync::Arc;
use tauri::ipc::{InvokeBody, Request};

use tauri::{AppHandle, State, WebviewWindow};
use uuid::Uuid;
use yaddash_api::{
    ApiError, ApiResult, AppState, AppStatus, AttachFileRequest, BundleSummary,
    ChangePassphraseRequest, CreateVaultRequest, CreatedVault, DeviceSummary, ExportBundleRequest,
    ImportBundleRequest, ImportSummary, OutboxStatus, RecordSummary, SaveRecordRequest,
    SavedRecord, SearchRequest, SessionInfo, UnlockRequest,
};
use yaddash_api::{AttachmentInfo, CheckReport, RecordKind, Revision, StoredRecord};
use yaddash_api::{
    BundleOutSummary, DeviceIdentity, DeviceRevoked, EnrollDeviceRequest, ExportReceiptsRequest,
    ImportTrustRequest, InviteRequest, PathRequest, ReceiptsExported, ReceiptsImported,
    RevisionOrigin, RevokeDeviceRequest, TrustExportRequest, TrustSummary,
};
use yaddash_api::{
    DuplicateSuggestion, EvidenceExportRequest, EvidenceExported, MergeSummary,
    RegisterExportRequest, RegisterExported, RegisterPage, RegisterPageRequest,
    RegisterPairRequest, RegisterStatusRequest,
};

use yaddash_api::{
    EnrollRequest, HqPullRequest, JobKind, OutboxEntry, PolicyForm, PolicyInfo, SyncStartRequest,
    TravelPrepareRequest, TravelStatus,
};

use crate::WindowEvents;
use crate::panic::{PanicAction, PanicInfo, PanicState};

type S<'a> = State<'a, AppState>;

#[tauri::command(async)]
pub fn app_status(s: S<'_>) -> ApiResult<AppStatus> {
    s.app_status()
}

#[tauri::command(async)]
pub fn create_vault(s: S<'_>, req: CreateVaultRequest) -> ApiResult<CreatedVault> {
    s.create_vault(req)
}

#[tauri::command(async)]
pub fn unlock(s: S<'_>, req: UnlockRequest) -> ApiResult<SessionInfo> {
    s.unlock(req)
}

/// Locks, then loads the window in a fresh web process (the one that
/// showed the vault ends; see panic.rs).
#[tauri::command(async)]
pub fn lock(s: S<'_>, window: WebviewWindow) -> ApiResult<()> {
    let locked = s.lock();
    crate::panic::forget_web_content(&window);
    locked
}

/// Locks at once and gets the window out of sight (Ctrl+Shift+L in the
/// window: always this, whatever the panic shortcut's action).
#[tauri::command(async)]
pub fn panic_lock(s: S<'_>, window: WebviewWindow) -> ApiResult<()> {
    let locked = s.lock();
    // Locking is what matters; a window manager may refuse to minimise.
    let _ = window.minimize();
    crate::panic::forget_web_content(&window);
    locked
}

/// What a quick delete would lose (shown during its countdown).
#[tauri::command(async)]
pub fn destroy_preview(s: S<'_>) -> ApiResult<yaddash_api::Unsent> {
    s.destroy_preview()
}

/// Quick delete; afterwards the app shows the first-run screen.
#[tauri::command(async)]
pub fn destroy_vault(s: S<'_>) -> ApiResult<yaddash_api::DestroyReport> {
    s.destroy_vault()
}

#[tauri::command(async)]
pub fn coercion_settings(s: S<'_>) -> ApiResult<yaddash_api::CoercionSettings> {
    s.coercion_settings()
}

#[tauri::command(async)]
pub fn set_duress(
    s: S<'_>,
    req: yaddash_api::SetDuressRequest,
) -> ApiResult<yaddash_api::CoercionSettings> {
    s.set_duress(req)
}

#[tauri::command(async)]
pub fn clear_duress(s: S<'_>) -> ApiResult<yaddash_api::CoercionSettings> {
    s.clear_duress()
}

#[tauri::command(async)]
pub fn set_unlock_limit(s: S<'_>, limit: Option<u32>) -> ApiResult<yaddash_api::CoercionSettings> {
    s.set_unlock_limit(limit)
}

#[tauri::command(async)]
pub fn touch(s: S<'_>) -> ApiResult<()> {
    s.touch()
}

#[tauri::command(async)]
pub fn set_idle_lock(s: S<'_>, minutes: u32) -> ApiResult<()> {
    s.set_idle_lock(minutes)
}

#[tauri::command(async)]
pub fn session_info(s: S<'_>) -> ApiResult<SessionInfo> {
    s.session_info()
}

#[tauri::command(async)]
pub fn change_passphrase(s: S<'_>, req: ChangePassphraseRequest) -> ApiResult<()> {
    s.change_passphrase(req)
}

#[tauri::command(async)]
pub fn list_records(s: S<'_>, kind: RecordKind) -> ApiResult<Vec<RecordSummary>> {
    s.list_records(kind)
}

#[tauri::command(async)]
pub fn search(s: S<'_>, req: SearchRequest) -> ApiResult<Vec<RecordSummary>> {
    s.search(req)
}

#[tauri::command(async)]
pub fn get_record(s: S<'_>, id: Uuid) -> ApiResult<StoredRecord> {
    s.get_record(id)
}

#[tauri::command(async)]
pub fn save_record(s: S<'_>, req: SaveRecordRequest) -> ApiResult<SavedRecord> {
    s.save_record(req)
}

#[tauri::command(async)]
pub fn record_history(s: S<'_>, id: Uuid) -> ApiResult<Vec<Revision>> {
    s.record_history(id)
}

#[tauri::command(async)]
pub fn record_provenance(s: S<'_>, id: Uuid) -> ApiResult<Vec<RevisionOrigin>> {
    s.record_provenance(id)
}

#[tauri::command(async)]
pub fn linked_records(s: S<'_>, id: Uuid) -> ApiResult<Vec<RecordSummary>> {
    s.linked_records(id)
}

#[tauri::command(async)]
pub fn attach_file(s: S<'_>, req: AttachFileRequest) -> ApiResult<AttachmentInfo> {
    s.attach_file(req)
}

/// The file's bytes come as the raw IPC body (no JSON number arrays); the
/// record id, the file name (percent-encoded) and the media type as headers.
#[tauri::command(async)]
pub fn attach_bytes(s: S<'_>, request: Request<'_>) -> ApiResult<AttachmentInfo> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(ApiError::invalid(
            "attach_bytes expects the file's bytes as the body",
        ));
    };
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let record_id = header("x-record-id")
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| ApiError::invalid("attach_bytes needs the record id"))?;
    let name = header("x-file-name")
        .map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
        .ok_or_else(|| ApiError::invalid("attach_bytes needs the file name"))?;
    s.attach_bytes(record_id, &name, header("x-media-type"), bytes)
}

#[tauri::command(async)]
pub fn list_attachments(s: S<'_>, id: Uuid) -> ApiResult<Vec<AttachmentInfo>> {
    s.list_attachments(id)
}

#[tauri::command(async)]
pub fn check_vault(s: S<'_>) -> ApiResult<CheckReport> {
    s.check_vault()
}

#[tauri::command(async)]
pub fn recording_inputs(s: S<'_>) -> ApiResult<Vec<yaddash_api::InputInfo>> {
    s.recording_inputs()
}

#[tauri::command(async)]
pub fn recording_start(
    s: S<'_>,
    req: yaddash_api::RecordingStartRequest,
) -> ApiResult<yaddash_api::RecordingStatus> {
    s.recording_start(req)
}

#[tauri::command(async)]
pub fn recording_status(s: S<'_>) -> ApiResult<yaddash_api::RecordingStatus> {
    s.recording_status()
}

#[tauri::command(async)]
pub fn recording_pause(s: S<'_>) -> ApiResult<yaddash_api::RecordingStatus> {
    s.recording_pause()
}

#[tauri::command(async)]
pub fn recording_resume(s: S<'_>) -> ApiResult<yaddash_api::RecordingStatus> {
    s.recording_resume()
}

#[tauri::command(async)]
pub fn recording_stop(s: S<'_>) -> ApiResult<yaddash_api::RecordingInfo> {
    s.recording_stop()
}

#[tauri::command(async)]
pub fn move_into_vault(
    s: S<'_>,
    req: yaddash_api::MoveIntoVaultRequest,
) -> ApiResult<yaddash_api::MovedIntoVault> {
    s.move_into_vault(req)
}

#[tauri::command(async)]
pub fn outbox_status(s: S<'_>) -> ApiResult<OutboxStatus> {
    s.outbox_status()
}

#[tauri::command(async)]
pub fn export_bundle(s: S<'_>, req: ExportBundleRequest) -> ApiResult<BundleSummary> {
    s.export_bundle(req)
}

#[tauri::command(async)]
pub fn import_bundle(s: S<'_>, req: ImportBundleRequest) -> ApiResult<ImportSummary> {
    s.import_bundle(req)
}

#[tauri::command(async)]
pub fn list_devices(s: S<'_>) -> ApiResult<Vec<DeviceSummary>> {
    s.list_devices()
}

#[tauri::command(async)]
pub fn import_trust(s: S<'_>, req: ImportTrustRequest) -> ApiResult<TrustSummary> {
    s.import_trust(req)
}

#[tauri::command(async)]
pub fn trust_info(s: S<'_>) -> ApiResult<Option<TrustSummary>> {
    s.trust_info()
}

#[tauri::command(async)]
pub fn export_trust(s: S<'_>, req: TrustExportRequest) -> ApiResult<TrustSummary> {
    s.export_trust(req)
}

#[tauri::command(async)]
pub fn device_identity(s: S<'_>) -> ApiResult<DeviceIdentity> {
    s.device_identity()
}

#[tauri::command(async)]
pub fn save_device_identity(s: S<'_>, req: PathRequest) -> ApiResult<String> {
    s.save_device_identity(req)
}

#[tauri::command(async)]
pub fn enroll_device(s: S<'_>, req: EnrollDeviceRequest) -> ApiResult<DeviceSummary> {
    s.enroll_device(req)
}

#[tauri::command(async)]
pub fn revoke_device(s: S<'_>, req: RevokeDeviceRequest) -> ApiResult<DeviceRevoked> {
    s.revoke_device(req)
}

#[tauri::command(async)]
pub fn export_receipts(s: S<'_>, req: ExportReceiptsRequest) -> ApiResult<ReceiptsExported> {
    s.export_receipts(req)
}

#[tauri::command(async)]
pub fn import_receipts(s: S<'_>, req: PathRequest) -> ApiResult<ReceiptsImported> {
    s.import_receipts(req)
}

#[tauri::command(async)]
pub fn bundles_out(s: S<'_>) -> ApiResult<Vec<BundleOutSummary>> {
    s.bundles_out()
}

// ----- sync with headquarters, travel mode, the coordinator's pull -------------

#[tauri::command(async)]
pub fn policy_get(s: S<'_>) -> ApiResult<PolicyInfo> {
    s.policy_get()
}

#[tauri::command(async)]
pub fn policy_set(s: S<'_>, req: PolicyForm) -> ApiResult<PolicyInfo> {
    s.policy_set(req)
}

#[tauri::command(async)]
pub fn outbox_list(s: S<'_>) -> ApiResult<Vec<OutboxEntry>> {
    s.outbox_list()
}

#[tauri::command(async)]
pub fn hq_enroll(s: S<'_>, req: EnrollRequest) -> ApiResult<yaddash_api::Enrolled> {
    s.hq_enroll(req)
}

#[tauri::command(async)]
pub fn hq_invite(s: S<'_>, req: InviteRequest) -> ApiResult<yaddash_api::Invite> {
    s.hq_invite(req)
}

/// Returns at once; progress and the end arrive as window events.
#[tauri::command(async)]
pub fn sync_start(s: S<'_>, app: AppHandle, req: SyncStartRequest) -> ApiResult<()> {
    s.sync_start(req, Arc::new(WindowEvents(app)))
}

#[tauri::command(async)]
pub fn sync_cancel(s: S<'_>) -> ApiResult<bool> {
    s.sync_cancel()
}

#[tauri::command(async)]
pub fn sync_status(s: S<'_>) -> ApiResult<Option<JobKind>> {
    s.sync_status()
}

#[tauri::command(async)]
pub fn travel_status(s: S<'_>) -> ApiResult<TravelStatus> {
    s.travel_status()
}

/// Returns at once; progress and the end arrive as window events.
#[tauri::command(async)]
pub fn travel_prepare(s: S<'_>, app: AppHandle, req: TravelPrepareRequest) -> ApiResult<()> {
    s.travel_prepare(req, Arc::new(WindowEvents(app)))
}

/// Returns at once; progress and the end arrive as window events.
#[tauri::command(async)]
pub fn hq_pull(s: S<'_>, app: AppHandle, req: HqPullRequest) -> ApiResult<()> {
    s.hq_pull(req, Arc::new(WindowEvents(app)))
}

// ----- the register (coordinator vaults) -------------------------------------

#[tauri::command(async)]
pub fn register_page(s: S<'_>, req: RegisterPageRequest) -> ApiResult<RegisterPage> {
    s.register_page(req)
}

#[tauri::command(async)]
pub fn register_duplicates(s: S<'_>) -> ApiResult<Vec<DuplicateSuggestion>> {
    s.register_duplicates()
}

#[tauri::command(async)]
pub fn register_merges(s: S<'_>) -> ApiResult<Vec<MergeSummary>> {
    s.register_merges()
}

#[tauri::command(async)]
pub fn register_merge(s: S<'_>, req: RegisterPairRequest) -> ApiResult<()> {
    s.register_merge(req)
}

#[tauri::command(async)]
pub fn register_unmerge(s: S<'_>, merged: Uuid) -> ApiResult<()> {
    s.register_unmerge(merged)
}

#[tauri::command(async)]
pub fn register_mark_distinct(s: S<'_>, req: RegisterPairRequest) -> ApiResult<()> {
    s.register_mark_distinct(req)
}

#[tauri::command(async)]
pub fn register_set_status(s: S<'_>, req: RegisterStatusRequest) -> ApiResult<()> {
    s.register_set_status(req)
}

#[tauri::command(async)]
pub fn register_export(s: S<'_>, req: RegisterExportRequest) -> ApiResult<RegisterExported> {
    s.register_export(req)
}

#[tauri::command(async)]
pub fn evidence_export(s: S<'_>, req: EvidenceExportRequest) -> ApiResult<EvidenceExported> {
    s.evidence_export(req)
}

// ----- the panic shortcut (panic.rs) ------------------------------------------

#[tauri::command(async)]
pub fn panic_info(p: State<'_, PanicState>) -> PanicInfo {
    p.info()
}

/// The panic action, from the window (where the desktop gave no key grab).
#[tauri::command(async)]
pub fn panic_now(app: AppHandle) {
    crate::panic::run_panic(&app);
}

#[tauri::command(async)]
pub fn set_panic_action(p: State<'_, PanicState>, action: PanicAction) -> PanicInfo {
    p.set_action(action);
    p.info()
}
