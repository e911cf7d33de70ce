import { convertFileSrc, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Backend } from './backend';
import type { Command } from './commands';
import { BackendError } from './types';
import type {
  AppStatus,
  AttachmentInfo,
  InputInfo,
  RecordingInfo,
  RecordingStatus,
  BundleOutSummary,
  BundleSummary,
  CheckReport,
  CoercionSettings,
  DestroyReport,
  Unsent,
  CreatedVault,
  DeviceIdentity,
  DeviceSummary,
  DuplicateSuggestion,
  ExportFormat,
  ExportLevel,
  ImportSummary,
  DeviceRevoked,
  Enrolled,
  Invite,
  JobFinished,
  JobKind,
  JobProgress,
  MergeSummary,
  OutboxEntry,
  OutboxStatus,
  PolicyForm,
  PolicyInfo,
  TravelStatus,
  ReceiptsExported,
  ReceiptsImported,
  RecordBody,
  RecordKind,
  RecordSummary,
  RegisterExported,
  EvidenceExported,
  RegisterPage,
  RegisterStatus,
  Revision,
  RevisionOrigin,
  Role,
  SavedRecord,
  SessionInfo,
  StoredRecord,
  TrustSource,
  TrustSummary,
  UnlockRequest,
  PanicAction,
  PanicInfo,
} from './types';

/** The scheme of src-tauri/src/protocol.rs. */
const ATTACHMENT_SCHEME = 'yaddash-attachment';

async function call<T>(cmd: Command, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw BackendError.from(e);
  }
}

async function callRaw<T>(cmd: Command, body: Uint8Array, headers: Record<string, string>): Promise<T> {
  try {
    return await invoke<T>(cmd, body, { headers });
  } catch (e) {
    throw BackendError.from(e);
  }
}

/** The real backend: the Rust commands of src-tauri. */
export class TauriBackend implements Backend {
  appStatus = () => call<AppStatus>('app_status');
  createVault = (role: Role, passphrase: string) =>
    call<CreatedVault>('create_vault', { req: { role, passphrase } });
  unlock = (req: UnlockRequest) => call<SessionInfo>('unlock', { req });
  lock = () => call<void>('lock');
  panicLock = () => call<void>('panic_lock');
  panicInfo = () => call<PanicInfo>('panic_info');
  setPanicAction = (action: PanicAction) => call<PanicInfo>('set_panic_action', { action });
  panicNow = () => call<void>('panic_now');
  readonly reloadsOnLock = true;
  touch = () => call<void>('touch');
  setIdleLock = (minutes: number) => call<void>('set_idle_lock', { minutes });
  sessionInfo = () => call<SessionInfo>('session_info');
  changePassphrase = (current: string, next: string) =>
    call<void>('change_passphrase', { req: { current, new: next } });

  listRecords = (kind: RecordKind) => call<RecordSummary[]>('list_records', { kind });
  search = (query: string, kind?: RecordKind, limit?: number) =>
    call<RecordSummary[]>('search', { req: { query, kind: kind ?? null, limit: limit ?? null } });
  getRecord = (id: string) => call<StoredRecord>('get_record', { id });
  saveRecord = (record: RecordBody, id?: string) =>
    call<SavedRecord>('save_record', { req: { id: id ?? null, record } });
  recordHistory = (id: string) => call<Revision[]>('record_history', { id });
  recordProvenance = (id: string) => call<RevisionOrigin[]>('record_provenance', { id });
  linkedRecords = (id: string) => call<RecordSummary[]>('linked_records', { id });

  attachFile = (recordId: string, path: string) =>
    call<AttachmentInfo>('attach_file', { req: { record_id: recordId, path } });
  attachBytes = (recordId: string, name: string, mediaType: string, bytes: Uint8Array) =>
    callRaw<AttachmentInfo>('attach_bytes', bytes, {
      'x-record-id': recordId,
      'x-file-name': encodeURIComponent(name),
      'x-media-type': mediaType,
    });
  listAttachments = (recordId: string) => call<AttachmentInfo[]>('list_attachments', { id: recordId });
  attachmentUrl = (id: string) => convertFileSrc(id, ATTACHMENT_SCHEME);
  checkVault = () => call<CheckReport>('check_vault');
  destroyPreview = () => call<Unsent>('destroy_preview');
  destroyVault = () => call<DestroyReport>('destroy_vault');
  coercionSettings = () => call<CoercionSettings>('coercion_settings');
  setDuress = (passphrase: string) => call<CoercionSettings>('set_duress', { req: { passphrase } });
  clearDuress = () => call<CoercionSettings>('clear_duress');
  setUnlockLimit = (limit: number | null) => call<CoercionSettings>('set_unlock_limit', { limit });

  recordingInputs = () => call<InputInfo[]>('recording_inputs');
  recordingStart = (recordId: string, input: string | null, consentSeconds: number | null) =>
    call<RecordingStatus>('recording_start', {
      req: { record_id: recordId, input, consent_seconds: consentSeconds },
    });
  recordingStatus = () => call<RecordingStatus>('recording_status');
  recordingPause = () => call<RecordingStatus>('recording_pause');
  recordingResume = () => call<RecordingStatus>('recording_resume');
  recordingStop = () => call<RecordingInfo>('recording_stop');
  moveIntoVault = (recordId: string, path: string) =>
    call<{ attachment: AttachmentInfo; original_removed: boolean }>('move_into_vault', {
      req: { record_id: recordId, path },
    });

  outboxStatus = () => call<OutboxStatus>('outbox_status');
  exportBundle = (path: string) => call<BundleSummary>('export_bundle', { req: { path } });
  importBundle = (path: string) => call<ImportSummary>('import_bundle', { req: { path } });
  listDevices = () => call<DeviceSummary[]>('list_devices');

  importTrust = (source: TrustSource) => call<TrustSummary>('import_trust', { req: source });
  trustInfo = () => call<TrustSummary | null>('trust_info');
  exportTrust = (path: string, serverKey?: string) =>
    call<TrustSummary>('export_trust', { req: { path, server_key: serverKey?.trim() ? serverKey.trim() : null } });
  deviceIdentity = () => call<DeviceIdentity>('device_identity');
  saveDeviceIdentity = (path: string) => call<string>('save_device_identity', { req: { path } });
  enrollDevice = (path: string, label?: string) =>
    call<DeviceSummary>('enroll_device', { req: { path, label: label ?? null } });
  revokeDevice = (deviceId: string) => call<DeviceRevoked>('revoke_device', { req: { device_id: deviceId } });
  exportReceipts = (deviceId: string, path: string) =>
    call<ReceiptsExported>('export_receipts', { req: { device_id: deviceId, path } });
  importReceipts = (path: string) => call<ReceiptsImported>('import_receipts', { req: { path } });
  bundlesOut = () => call<BundleOutSummary[]>('bundles_out');

  registerPage = (offset: number, limit: number) =>
    call<RegisterPage>('register_page', { req: { offset, limit } });
  registerDuplicates = () => call<DuplicateSuggestion[]>('register_duplicates');
  registerMerges = () => call<MergeSummary[]>('register_merges');
  registerMerge = (primary: string, other: string) => call<void>('register_merge', { req: { primary, other } });
  registerUnmerge = (merged: string) => call<void>('register_unmerge', { merged });
  registerMarkDistinct = (a: string, b: string) =>
    call<void>('register_mark_distinct', { req: { primary: a, other: b } });
  registerSetStatus = (personId: string, status: RegisterStatus | null, reason: string) =>
    call<void>('register_set_status', { req: { person_id: personId, status, reason } });
  registerExport = (level: ExportLevel, format: ExportFormat, path: string) =>
    call<RegisterExported>('register_export', { req: { level, format, path } });
  evidenceExport = (record: string, level: ExportLevel, path: string) =>
    call<EvidenceExported>('evidence_export', { req: { record, level, path } });

  policyGet = () => call<PolicyInfo>('policy_get');
  policySet = (form: PolicyForm) => call<PolicyInfo>('policy_set', { req: form });
  outboxList = () => call<OutboxEntry[]>('outbox_list');
  hqEnroll = (code: string, url: string) => call<Enrolled>('hq_enroll', { req: { code, url } });
  hqInvite = (hours: number) => call<Invite>('hq_invite', { req: { valid_hours: hours } });
  syncStart = (proxy?: string) => call<void>('sync_start', { req: { proxy: proxy ?? null } });
  syncCancel = () => call<boolean>('sync_cancel');
  syncStatus = () => call<JobKind | null>('sync_status');
  travelStatus = () => call<TravelStatus>('travel_status');
  travelPrepare = (confirmed: boolean, waitSecs: number, offline: boolean) =>
    call<void>('travel_prepare', { req: { confirmed, wait_secs: waitSecs, offline } });
  hqPull = (url?: string) => call<void>('hq_pull', { req: { url: url ?? null } });

  onSyncProgress = async (handler: (p: JobProgress) => void) => {
    const unlisten = await listen<JobProgress>('sync-progress', (e) => handler(e.payload));
    return () => unlisten();
  };
  onSyncFinished = async (handler: (f: JobFinished) => void) => {
    const unlisten = await listen<JobFinished>('sync-finished', (e) => handler(e.payload));
    return () => unlisten();
  };

  onLocked = async (handler: () => void) => {
    const unlisten = await listen('vault-locked', () => handler());
    return () => unlisten();
  };
}
