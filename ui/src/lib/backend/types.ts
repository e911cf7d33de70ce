// Wire types of the app's commands. Every type that crosses IPC is generated
// from the Rust types (crates/api/src/typescript.rs, ts-rs) into
// generated/ipc.ts and re-exported here; a Rust test fails when the checked-in
// file differs from what the Rust types generate. What stays below is
// genuinely UI-side: the error class, lists for pickers, and shapes the
// window builds itself.

import type { ApiError, Code, EventDetail, OutboxState, PersonRole, Confidentiality, Reliability, Consent, ReleaseKind, RegisterStatus, ExportLevel } from './generated/ipc';
import { CODES } from './generated/ipc';

export type * from './generated/ipc';
export { CODES } from './generated/ipc';

/** Error codes of yaddash_api::Code (generated). */
export type ErrorCode = Code;
/** Parameters of an error's catalogue sentence: numbers and fixed words. */
export type ErrorParams = Record<string, string | number>;

/**
 * An error from the backend: a stable code, the parameters of its catalogue sentence, and the library's
 * English text (`detail`, also `message`), which the window shows only behind "Details".
 */
export class BackendError extends Error {
  readonly code: ErrorCode;
  readonly params: ErrorParams;
  constructor(code: ErrorCode, detail: string, params: ErrorParams = {}) {
    super(detail);
    this.name = 'BackendError';
    this.code = code;
    this.params = params;
  }

  /** The English detail. */
  get detail(): string {
    return this.message;
  }

  /** The wire form ({code, params, detail}). */
  toApiError(): ApiError {
    return { code: this.code, params: this.params, detail: this.message };
  }

  /** Turns whatever an IPC call rejected with into a BackendError. */
  static from(e: unknown): BackendError {
    if (e instanceof BackendError) return e;
    if (e && typeof e === 'object' && 'code' in e) {
      const { code, detail, message, params } = e as { code: unknown; detail?: unknown; message?: unknown; params?: unknown };
      const c = CODES.includes(code as Code) ? (code as Code) : 'internal';
      const p = params && typeof params === 'object' ? (params as ErrorParams) : {};
      return new BackendError(c, String(detail ?? message ?? ''), p);
    }
    return new BackendError('internal', typeof e === 'string' ? e : String(e));
  }
}

export const PERSON_ROLES: readonly PersonRole[] = ['detainee', 'relative', 'witness', 'lawyer', 'official'];
export const CONFIDENTIALITY: readonly Confidentiality[] = ['internal', 'partner', 'public'];
export const RELIABILITY: readonly Reliability[] = ['unknown', 'high', 'medium', 'low'];
export const CONSENTS: readonly Consent[] = ['internal', 'anonymous', 'publish'];
export const RELEASE_KINDS: readonly ReleaseKind[] = ['release', 'pardon', 'amnesty', 'acquittal', 'sentence_served'];

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

/** The trust file to import: its absolute path, or its text. */
export type TrustSource = { path: string } | { text: string };

export const OUTBOX_STATES: readonly OutboxState[] = ['pending', 'partly-sent', 'received', 'imported', 'handed-over'];

export const REGISTER_STATUSES: readonly RegisterStatus[] = [
  'unknown',
  'detained',
  'convicted',
  'released',
  'pardoned',
  'under_travel_ban',
  'in_exile',
  'deceased',
];

export const EXPORT_LEVELS: readonly ExportLevel[] = ['public', 'partner', 'internal'];

/** `register_export` takes the format as a word (the Rust side checks it). */
export const EXPORT_FORMATS = ['csv', 'json', 'html', 'pdf', 'uwazi', 'esf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
