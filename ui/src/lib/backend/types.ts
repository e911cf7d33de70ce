// Wire types of the app's commands. They mirror the Rust types in
// crates/model (records), crates/vault (stored records, revisions,
// attachments) and crates/api/src/dto.rs (requests and answers).

/** Error codes of yaddash_api::ErrorCode. */
export type ErrorCode =
  | 'wrong_passphrase'
  | 'locked'
  | 'not_found'
  | 'invalid_input'
  | 'vault_exists'
  | 'not_a_vault'
  | 'disk_full'
  | 'corrupt'
  | 'busy'
  | 'cancelled'
  | 'not_available'
  | 'internal'
  | 'network_off'
  | 'sync_disabled'
  | 'proxy_required'
  | 'manual_mode'
  | 'outside_window'
  | 'proxy_down'
  | 'network'
  | 'receipt'
  | 'wrong_role'
  | 'bundle_replayed'
  | 'sequence_reused'
  | 'chain_broken'
  | 'device_revoked'
  | 'not_from_sender'
  | 'too_large';

const CODES: readonly ErrorCode[] = [
  'wrong_passphrase',
  'locked',
  'not_found',
  'invalid_input',
  'vault_exists',
  'not_a_vault',
  'disk_full',
  'corrupt',
  'busy',
  'cancelled',
  'not_available',
  'internal',
  'network_off',
  'sync_disabled',
  'proxy_required',
  'manual_mode',
  'outside_window',
  'proxy_down',
  'network',
  'receipt',
  'wrong_role',
  'bundle_replayed',
  'sequence_reused',
  'chain_broken',
  'device_revoked',
  'not_from_sender',
  'too_large',
];

/** An error from the backend: a stable code and a human message. */
export class BackendError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }

  /** Turns whatever an IPC call rejected with into a BackendError. */
  static from(e: unknown): BackendError {
    if (e instanceof BackendError) return e;
    if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
      const { code, message } = e as { code: unknown; message: unknown };
      const c = CODES.includes(code as ErrorCode) ? (code as ErrorCode) : 'internal';
      return new BackendError(c, String(message));
    }
    return new BackendError('internal', typeof e === 'string' ? e : String(e));
  }
}

export type Role = 'field' | 'coordinator';
export type RecordKind = 'person' | 'case' | 'interview';
export type Confidentiality = 'public' | 'partner' | 'internal';
export type Reliability = 'high' | 'medium' | 'low' | 'unknown';
export type Consent = 'publish' | 'anonymous' | 'internal';
export type PersonRole = 'detainee' | 'relative' | 'witness' | 'lawyer' | 'official';
export type ReleaseKind = 'release' | 'pardon' | 'amnesty' | 'acquittal' | 'sentence_served';

export const PERSON_ROLES: readonly PersonRole[] = ['detainee', 'relative', 'witness', 'lawyer', 'official'];
export const CONFIDENTIALITY: readonly Confidentiality[] = ['internal', 'partner', 'public'];
export const RELIABILITY: readonly Reliability[] = ['unknown', 'high', 'medium', 'low'];
export const CONSENTS: readonly Consent[] = ['internal', 'anonymous', 'publish'];
export const RELEASE_KINDS: readonly ReleaseKind[] = ['release', 'pardon', 'amnesty', 'acquittal', 'sentence_served'];

/** A date known to the year, month or day: "2024", "2024-11", "2024-11-20". */
export type PartialDate = string;

export interface Person {
  names: string[];
  birth_year?: number | null;
  roles: PersonRole[];
  notes?: string | null;
  confidentiality: Confidentiality;
  reliability: Reliability;
}

export type EventDetail =
  | { type: 'arrest'; place?: string | null; authority?: string | null }
  | { type: 'charges'; articles: string[]; code?: string | null }
  | { type: 'detention'; facility: string }
  | { type: 'trial'; court?: string | null; judge?: string | null; outcome?: string | null; sentence?: string | null }
  | { type: 'ill_treatment'; description: string }
  | { type: 'release'; kind?: ReleaseKind | null }
  | { type: 'travel_ban'; authority?: string | null }
  | { type: 'disbarment'; body?: string | null }
  | { type: 'death'; circumstances?: string | null };

export type EventType = EventDetail['type'];
export const EVENT_TYPES: readonly EventType[] = [
  'arrest',
  'charges',
  'detention',
  'trial',
  'ill_treatment',
  'release',
  'travel_ban',
  'disbarment',
  'death',
];

export type CaseEvent = { date?: PartialDate | null } & EventDetail;

export interface Case {
  detainee_id: string;
  title?: string | null;
  events: CaseEvent[];
  notes?: string | null;
  confidentiality: Confidentiality;
  reliability: Reliability;
}

export interface Interview {
  case_id?: string | null;
  detainee_id?: string | null;
  speaker_id?: string | null;
  relation?: string | null;
  interviewer: string;
  date: PartialDate;
  place?: string | null;
  language: string;
  consent: Consent;
  narrative: string;
  confidentiality: Confidentiality;
  reliability: Reliability;
}

export type RecordBody =
  | { kind: 'person'; body: Person }
  | { kind: 'case'; body: Case }
  | { kind: 'interview'; body: Interview };

export type StoredRecord = RecordBody & {
  id: string;
  rev: number;
  body_sha256: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
};

export interface Revision {
  rev: number;
  body: unknown;
  body_sha256: string;
  author: string;
  at: string;
}

/** Where a revision imported from a bundle came from (no entry: saved on this device). */
export interface RevisionOrigin {
  rev: number;
  device_id: string;
  device_label: string | null;
  device_enrolled: boolean;
  bundle_id: string;
  bundle_seq: number | null;
  source_rev: number;
  imported_at: string | null;
  /** The coordinator's recorded reason, when the bundle came from a revoked device. */
  accepted_after_revocation?: string;
  /** A conflicting revision not (yet) accepted as the record's current body. */
  pending_conflict?: boolean;
}

export interface RecordSummary {
  id: string;
  kind: RecordKind;
  label: string;
}

export interface SavedRecord {
  id: string;
  rev: number;
}

export interface AttachmentInfo {
  id: string;
  record_id: string;
  name: string;
  media_type: string;
  size: number;
  sha256: string;
  captured_at: string;
  captured_by: string;
}

export interface InputInfo {
  id: string;
  name: string;
  default: boolean;
}

export interface RecordingStatus {
  active: boolean;
  paused: boolean;
  record_id: string | null;
  input: string | null;
  elapsed_ms: number;
  level: number;
  free_bytes: number;
  min_free_bytes: number;
}

export interface RecordingInfo {
  attachment_id: string;
  record_id: string;
  started_at: string;
  ended_at: string;
  input: string;
  duration_ms: number;
  codec: string;
  consent_seconds: number | null;
  segments: number;
  recovered: boolean;
  sha256: string;
  size: number;
}

export interface AppStatus {
  vault_exists: boolean;
  unlocked: boolean;
  idle_lock_minutes: number;
  /** Failed unlocks left before the vault is erased, when its owner set a limit. */
  attempts_left: number | null;
}

/** What a quick delete would lose: records headquarters does not hold yet. */
export interface Unsent {
  /** null in a coordinator vault (it may be headquarters' only copy). */
  records: number | null;
  waiting_bundles: number[];
  outbox: string;
}

export interface DestroyReport {
  crypto_erase_ms: number;
  total_ms: number;
  left: string[];
}

export interface CoercionSettings {
  duress_set: boolean;
  unlock_limit: number | null;
}

/** What the panic shortcut does (src-tauri/src/panic.rs). */
export type PanicAction = 'lock_and_hide' | 'quick_delete';

/** The panic shortcut, its action and whether it works outside the window. */
export interface PanicInfo {
  action: PanicAction;
  /** The keys, as a label ("Ctrl+Alt+Shift+L"). */
  shortcut: string;
  /** active: works whatever window has the focus (X11); wayland / unavailable: only in this window. */
  global: 'active' | 'wayland' | 'unavailable';
  /** Whether this build can carry out a quick delete from the shortcut. */
  quick_delete_available: boolean;
}

export interface SessionInfo {
  role: Role;
  device_id: string;
  device_fingerprint: string;
}

export interface CreatedVault {
  recovery_code: string;
  session: SessionInfo;
}

export type UnlockRequest =
  | { method: 'passphrase'; secret: string }
  | { method: 'recovery_code'; secret: string };

export interface CheckReport {
  records: number;
  revisions: number;
  attachments: number;
  attachment_bytes: number;
  problems: string[];
  orphan_files: number;
}

export interface OutboxStatus {
  pending_records: number;
  pending_attachments: number;
  last_export_at: string | null;
}

export interface BundleSummary {
  path: string;
  records: number;
  attachments: number;
  sha256: string;
}

export interface ImportSummary {
  sender_device: string;
  added: number;
  already_present: number;
}

export interface DeviceSummary {
  device_id: string;
  fingerprint: string;
  revoked: boolean;
  label: string | null;
}

export interface CoordinatorSummary {
  device_id: string;
  /** Short fingerprint, read aloud over the phone. */
  fingerprint: string;
  ssh_fingerprint: string;
}

export interface TrustSummary {
  hq_id: string;
  /** Fingerprint of the whole trust file. */
  fingerprint: string;
  coordinators: CoordinatorSummary[];
  /** Where it was written (export only). */
  path: string | null;
  /** `SHA256:…` of the HQ server key the file pins, or null when it names none. */
  server_fingerprint: string | null;
}

/** The trust file to import: its absolute path, or its text. */
export type TrustSource = { path: string } | { text: string };

export interface DeviceIdentity {
  device_id: string;
  role: Role;
  signing_key: string;
  age_recipient: string;
  fingerprint: string;
  ssh_fingerprint: string;
}

export interface ReceiptsExported {
  path: string;
  receipts: number;
}

export interface ReceiptsImported {
  confirmed: number[];
  already: number;
}

export interface BundleOutSummary {
  seq: number;
  bundle_id: string;
  created_at: string;
  records: number;
  attachments: number;
  hq_received_at: string | null;
  imported_at: string | null;
}

// ----- sync with headquarters (crates/api/src/sync.rs, crates/outbox) -----

export type SyncMode = 'manual' | 'automatic';

/** The safety policy as the form edits it (`policy_set` takes it). */
export interface PolicyForm {
  enabled: boolean;
  /** The kill switch. */
  network_off: boolean;
  mode: SyncMode;
  /** `HH:MM-HH:MM`, in the policy's UTC offset. */
  windows: string[];
  /** `+04:00`. */
  utc_offset: string;
  /** A SOCKS5 URL, or null for a direct connection. */
  proxy: string | null;
  require_proxy: boolean;
}

export interface PolicyInfo {
  policy: PolicyForm;
  set_by: 'default' | 'trust-file' | 'user';
  /** This device knows an HQ server's key. */
  enrolled: boolean;
  hq_url: string | null;
  role: Role;
}

export type OutboxState = 'pending' | 'partly-sent' | 'received' | 'imported' | 'handed-over';
export const OUTBOX_STATES: readonly OutboxState[] = ['pending', 'partly-sent', 'received', 'imported', 'handed-over'];

export interface OutboxEntry {
  seq: number;
  bundle_id: string;
  created_at: string;
  size: number;
  records: number;
  attachments: number;
  state: OutboxState;
  sent_bytes: number;
  in_outbox: boolean;
  hq_received_at: string | null;
  imported_at: string | null;
}

export interface Enrolled {
  enrolled: boolean;
  hq_id: string;
  server_fingerprint: string;
}

export type JobKind = 'sync' | 'auto_sync' | 'travel' | 'pull' | 'enroll' | 'revoke';

/** A one-time enrollment code (coordinator). */
export interface Invite {
  code: string;
  expires_at: string;
}

/** What revoking a device did: in this vault always, at the HQ server if known and allowed. */
export interface DeviceRevoked {
  device_id: string;
  revoked_from: string;
  in_vault: boolean;
  at_server: boolean;
  server_known: boolean;
  server_error: { code: ErrorCode; message: string } | null;
}

/** Progress of a transfer (the `sync-progress` event). */
export type JobProgress = { job: JobKind } & (
  | { event: 'exporting'; bytes: number }
  | { event: 'uploading'; seq: number; sent: number; total: number }
  | { event: 'received'; seq: number }
  | { event: 'waiting'; unconfirmed: number; waited_secs: number }
  | { event: 'removing'; done: number; total: number }
  | { event: 'importing'; bytes: number; total: number }
);

export interface SyncReport {
  route: 'direct' | 'proxy';
  exported: number | null;
  exported_records: number;
  uploaded: string[];
  confirmed_imported: number[];
  receipt_problems: string[];
  at: string;
}

export type RemainingReason =
  | { reason: 'not-sent' }
  | { reason: 'awaiting-import'; seq: number }
  | { reason: 'receipt-invalid'; seq: number; problem: string }
  | { reason: 'not-in-receipt'; seq: number }
  | { reason: 'attachment-not-confirmed' };

export type Remaining = { id: string; kind: RecordKind } & RemainingReason;

export interface TravelPlan {
  removable: string[];
  removable_attachments: number;
  remaining: Remaining[];
  confirmed_bundles: number[];
}

export interface TravelStatus {
  plan: TravelPlan;
  unconfirmed_bundles: number[];
  last_prepare: { at: string; removed_records: number; removed_attachments: number; remaining: number } | null;
}

export interface TravelReport {
  sent: boolean;
  exported: number | null;
  removed_records: number;
  removed_attachments: number;
  removed_attachment_bytes: number;
  remaining: Remaining[];
  unconfirmed_bundles: number[];
  free_pages: number;
  wal_bytes: number;
  receipt_problems: string[];
  at: string;
}

export interface PullSummary {
  imported: number;
  bundles: string[];
  refused: string[];
  receipts_posted: number;
}

/** The end of a transfer (the `sync-finished` event). */
export interface JobFinished {
  job: JobKind;
  ok: boolean;
  error: { code: ErrorCode; message: string } | null;
  sync: SyncReport | null;
  travel: TravelReport | null;
  pull: PullSummary | null;
}

// ----- the register (coordinator vaults) -----

export const REGISTER_STATUSES = [
  'unknown',
  'detained',
  'convicted',
  'released',
  'pardoned',
  'under_travel_ban',
  'in_exile',
  'deceased',
] as const;
export type RegisterStatus = (typeof REGISTER_STATUSES)[number];

export const EXPORT_LEVELS = ['public', 'partner', 'internal'] as const;
export type ExportLevel = (typeof EXPORT_LEVELS)[number];

export const EXPORT_FORMATS = ['csv', 'json', 'html', 'pdf', 'uwazi', 'esf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface RegisterOverride {
  status: RegisterStatus;
  reason: string;
  at: string;
  by: string;
}

export interface RegisterRow {
  id: string;
  records: string[];
  names: string[];
  status: RegisterStatus;
  derived_status: RegisterStatus;
  override: RegisterOverride | null;
  facility: string | null;
  sources: number;
  /** `YYYY`, `YYYY-MM` or `YYYY-MM-DD`. */
  last_confirmed: string | null;
}

export interface RegisterPerson {
  id: string;
  label: string;
}

export interface DuplicateSuggestion {
  a: RegisterPerson;
  b: RegisterPerson;
  /** 0 to 1. */
  score: number;
  reasons: string[];
}

export interface MergeSummary {
  primary: RegisterPerson;
  merged: RegisterPerson;
  at: string;
}

export interface RegisterExported {
  path: string;
  persons: number;
  bytes: number;
}

/** What an evidence pack holds (docs/evidence.md). */
export interface EvidenceExported {
  path: string;
  records: number;
  attachments: number;
  manifests: number;
  left_out: number;
  bytes: number;
  sha256: string;
}
