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

/**
 * The one interface between the UI and the app's backend. The real
 * implementation (tauri.ts) calls the Rust commands; the test double
 * (memory.ts) keeps everything in memory for unit tests. Every method
 * rejects with a BackendError ({code, message}).
 */
export interface Backend {
  appStatus(): Promise<AppStatus>;
  createVault(role: Role, passphrase: string): Promise<CreatedVault>;
  unlock(req: UnlockRequest): Promise<SessionInfo>;
  lock(): Promise<void>;
  /** Locks at once and minimises the window. */
  panicLock(): Promise<void>;
  /** The panic shortcut: its action and whether it works outside the window. */
  panicInfo(): Promise<PanicInfo>;
  setPanicAction(action: PanicAction): Promise<PanicInfo>;
  /** The panic action (the shortcut pressed inside the window, where the desktop gave no key grab). */
  panicNow(): Promise<void>;
  /**
   * True when a lock also reloads the page in a fresh web process (the real
   * app): the UI then waits for that instead of showing the unlock form.
   */
  readonly reloadsOnLock: boolean;
  /** Reports user activity (postpones the idle lock). */
  touch(): Promise<void>;
  setIdleLock(minutes: number): Promise<void>;
  sessionInfo(): Promise<SessionInfo>;
  changePassphrase(current: string, next: string): Promise<void>;
  /** What a quick delete would lose. */
  destroyPreview(): Promise<Unsent>;
  /** Quick delete: crypto-erase, then remove; afterwards there is no vault. */
  destroyVault(): Promise<DestroyReport>;
  coercionSettings(): Promise<CoercionSettings>;
  setDuress(passphrase: string): Promise<CoercionSettings>;
  clearDuress(): Promise<CoercionSettings>;
  setUnlockLimit(limit: number | null): Promise<CoercionSettings>;

  listRecords(kind: RecordKind): Promise<RecordSummary[]>;
  search(query: string, kind?: RecordKind, limit?: number): Promise<RecordSummary[]>;
  getRecord(id: string): Promise<StoredRecord>;
  saveRecord(record: RecordBody, id?: string): Promise<SavedRecord>;
  recordHistory(id: string): Promise<Revision[]>;
  /** Where each imported revision came from; revisions not listed were saved here. */
  recordProvenance(id: string): Promise<RevisionOrigin[]>;
  linkedRecords(id: string): Promise<RecordSummary[]>;

  attachFile(recordId: string, path: string): Promise<AttachmentInfo>;
  attachBytes(recordId: string, name: string, mediaType: string, bytes: Uint8Array): Promise<AttachmentInfo>;
  listAttachments(recordId: string): Promise<AttachmentInfo[]>;
  /** A URL that shows the attachment, decrypted in memory by the backend. */
  attachmentUrl(id: string): string;
  checkVault(): Promise<CheckReport>;

  /** Capture devices for the record panel. */
  recordingInputs(): Promise<InputInfo[]>;
  /** Starts recording into a saved interview (its consent level is set). */
  recordingStart(recordId: string, input: string | null, consentSeconds: number | null): Promise<RecordingStatus>;
  recordingStatus(): Promise<RecordingStatus>;
  recordingPause(): Promise<RecordingStatus>;
  recordingResume(): Promise<RecordingStatus>;
  /** Stops and saves the recording as an attachment of its interview. */
  recordingStop(): Promise<RecordingInfo>;
  /** Imports a file, verifies it, then overwrites and removes the original. */
  moveIntoVault(recordId: string, path: string): Promise<{ attachment: AttachmentInfo; original_removed: boolean }>;

  outboxStatus(): Promise<OutboxStatus>;
  exportBundle(path: string): Promise<BundleSummary>;
  importBundle(path: string): Promise<ImportSummary>;
  listDevices(): Promise<DeviceSummary[]>;

  /** Field: imports the coordinators' trust file; compare the answer's fingerprints by phone. */
  importTrust(source: TrustSource): Promise<TrustSummary>;
  /** The trust file this vault holds, or null. */
  trustInfo(): Promise<TrustSummary | null>;
  /** Coordinator: writes the trust file for field vaults. */
  /** Coordinator: writes the trust file; `serverKey` is the HQ server key line field devices pin. */
  exportTrust(path: string, serverKey?: string): Promise<TrustSummary>;
  deviceIdentity(): Promise<DeviceIdentity>;
  /** Writes this device's public identity (`device show --json`); answers the path. */
  saveDeviceIdentity(path: string): Promise<string>;
  /** Coordinator: enrolls a device from its identity file. */
  enrollDevice(path: string, label?: string): Promise<DeviceSummary>;
  /** Coordinator: revokes a device in this vault, and at the HQ server if known (through the policy). */
  revokeDevice(deviceId: string): Promise<DeviceRevoked>;
  /** Coordinator: writes signed receipts for a device's imported bundles. */
  exportReceipts(deviceId: string, path: string): Promise<ReceiptsExported>;
  /** Field: imports a coordinator's receipts. */
  importReceipts(path: string): Promise<ReceiptsImported>;
  /** Field: the bundles made here and what headquarters confirmed. */
  bundlesOut(): Promise<BundleOutSummary[]>;

  /** Coordinator: `limit` rows of the register (internal view, sorted by
   * name) from `offset`, and the register's size. */
  registerPage(offset: number, limit: number): Promise<RegisterPage>;
  /** Coordinator: pairs probably the same person, best first. */
  registerDuplicates(): Promise<DuplicateSuggestion[]>;
  /** Coordinator: the merges in force. */
  registerMerges(): Promise<MergeSummary[]>;
  /** Coordinator: `other` is the same person as `primary` (reversible). */
  registerMerge(primary: string, other: string): Promise<void>;
  /** Coordinator: undoes the merge of a record. */
  registerUnmerge(merged: string): Promise<void>;
  /** Coordinator: two different people; never suggested again. */
  registerMarkDistinct(a: string, b: string): Promise<void>;
  /** Coordinator: sets (null: clears) a manual status; the reason is required. */
  registerSetStatus(personId: string, status: RegisterStatus | null, reason: string): Promise<void>;
  /** Coordinator: writes the register at a level, NOT encrypted. */
  registerExport(level: ExportLevel, format: ExportFormat, path: string): Promise<RegisterExported>;
  /** Coordinator: an evidence pack of a person or case and the records about it, NOT encrypted. */
  evidenceExport(record: string, level: ExportLevel, path: string): Promise<EvidenceExported>;

  /** The safety policy and where sync stands. Touches no network. */
  policyGet(): Promise<PolicyInfo>;
  /** Saves the policy (checked by the backend). The kill switch also stops a transfer at once. */
  policySet(form: PolicyForm): Promise<PolicyInfo>;
  /** Field: every bundle made here, with its state. */
  outboxList(): Promise<OutboxEntry[]>;
  /** Field: joins the HQ server with a coordinator's one-time code (enables sync). */
  hqEnroll(code: string, url: string): Promise<Enrolled>;
  /** Coordinator: a one-time enrollment code valid for `hours`. Local, no network. */
  hqInvite(hours: number): Promise<Invite>;
  /** Field: Send now; returns at once, then progress and the end come as events. */
  syncStart(proxy?: string): Promise<void>;
  /** Stops the running transfer; answers whether one was running. */
  syncCancel(): Promise<boolean>;
  /** The transfer running now, if any. */
  syncStatus(): Promise<JobKind | null>;
  /** Field: what travel mode would remove now and what stays, and why. */
  travelStatus(): Promise<TravelStatus>;
  /** Field: travel mode (confirmed by the user); returns at once, then events. */
  travelPrepare(confirmed: boolean, waitSecs: number, offline: boolean): Promise<void>;
  /** Coordinator: pull from the HQ server; returns at once, then events. */
  hqPull(url?: string): Promise<void>;
  /** Calls `handler` on each transfer progress event. Returns an unsubscribe. */
  onSyncProgress(handler: (p: JobProgress) => void): Promise<() => void>;
  /** Calls `handler` when a transfer ends. Returns an unsubscribe. */
  onSyncFinished(handler: (f: JobFinished) => void): Promise<() => void>;

  /** Calls `handler` when the vault locked itself (idle). Returns an unsubscribe. */
  onLocked(handler: () => void): Promise<() => void>;
}
