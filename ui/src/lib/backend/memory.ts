import type { Backend } from './backend';
import { foldForSearch } from '../fold';
import { BackendError } from './types';
import type {
  AppStatus,
  AttachmentInfo,
  CreatedVault,
  RecordBody,
  RecordKind,
  RecordSummary,
  Revision,
  Role,
  SessionInfo,
  StoredRecord,
  UnlockRequest,
} from './types';

/**
 * The test double: the same behaviour as the Rust backend, in memory, for
 * Vitest. Not a security boundary; never used by the app.
 */
export class MemoryBackend implements Backend {
  passphrase: string | null = null;
  recoveryCode = 'ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567';
  unlocked = false;
  role: Role = 'field';
  idleMinutes = 10;
  records = new Map<string, StoredRecord>();
  revisions = new Map<string, Revision[]>();
  attachments = new Map<string, AttachmentInfo>();
  calls: string[] = [];
  private lockHandlers: (() => void)[] = [];
  private seq = 0;

  private session(): SessionInfo {
    return { role: this.role, device_id: '0190a3c4-0000-7000-8000-000000000001', device_fingerprint: '0190 A3C4 0000 7000' };
  }

  private need(): void {
    if (!this.unlocked) throw new BackendError('locked', 'the vault is locked');
  }

  private nextId(): string {
    this.seq += 1;
    return `00000000-0000-7000-8000-${this.seq.toString(16).padStart(12, '0')}`;
  }

  private label(r: RecordBody): string {
    switch (r.kind) {
      case 'person':
        return r.body.names.join(' / ');
      case 'case':
        return r.body.title ?? `case of ${r.body.detainee_id}`;
      case 'interview':
        return `${r.body.date} — ${r.body.narrative.slice(0, 80)}`;
    }
  }

  /** Simulates the idle lock firing. */
  fireIdleLock(): void {
    this.unlocked = false;
    for (const h of this.lockHandlers) h();
  }

  async appStatus(): Promise<AppStatus> {
    this.calls.push('app_status');
    return { vault_exists: this.passphrase !== null, unlocked: this.unlocked, idle_lock_minutes: this.idleMinutes };
  }

  async createVault(role: Role, passphrase: string): Promise<CreatedVault> {
    this.calls.push('create_vault');
    if (this.passphrase !== null) throw new BackendError('vault_exists', 'a vault already exists');
    if ([...passphrase].length < 8) throw new BackendError('invalid_input', 'the passphrase is too short');
    this.passphrase = passphrase;
    this.role = role;
    this.unlocked = true;
    return { recovery_code: this.recoveryCode, session: this.session() };
  }

  async unlock(req: UnlockRequest): Promise<SessionInfo> {
    this.calls.push('unlock');
    if (this.passphrase === null) throw new BackendError('not_a_vault', 'no vault');
    const ok =
      req.method === 'passphrase'
        ? req.secret === this.passphrase
        : req.secret.replace(/[\s-]/g, '').toUpperCase() === this.recoveryCode.replace(/-/g, '');
    if (!ok) throw new BackendError('wrong_passphrase', 'wrong passphrase or recovery code');
    this.unlocked = true;
    return this.session();
  }

  async lock(): Promise<void> {
    this.calls.push('lock');
    this.unlocked = false;
  }

  async panicLock(): Promise<void> {
    this.calls.push('panic_lock');
    this.unlocked = false;
  }

  async touch(): Promise<void> {
    this.calls.push('touch');
  }

  async setIdleLock(minutes: number): Promise<void> {
    this.calls.push('set_idle_lock');
    if (minutes < 1 || minutes > 240) throw new BackendError('invalid_input', 'between 1 and 240 minutes');
    this.idleMinutes = minutes;
  }

  async sessionInfo(): Promise<SessionInfo> {
    this.need();
    return this.session();
  }

  async changePassphrase(current: string, next: string): Promise<void> {
    this.need();
    if (current !== this.passphrase) throw new BackendError('wrong_passphrase', 'wrong passphrase');
    if ([...next].length < 8) throw new BackendError('invalid_input', 'the passphrase is too short');
    this.passphrase = next;
  }

  async listRecords(kind: RecordKind): Promise<RecordSummary[]> {
    this.need();
    return [...this.records.values()]
      .filter((r) => r.kind === kind)
      .map((r) => ({ id: r.id, kind: r.kind, label: this.label(r) }));
  }

  async search(query: string, kind?: RecordKind, limit = 100): Promise<RecordSummary[]> {
    this.need();
    const words = foldForSearch(query).split(' ').filter(Boolean);
    if (words.length === 0) return [];
    const out: RecordSummary[] = [];
    for (const r of this.records.values()) {
      if (kind && r.kind !== kind) continue;
      const hay = foldForSearch(JSON.stringify(r.body)).split(/[^a-z0-9]+/);
      if (words.every((w) => hay.some((h) => h.startsWith(w)))) {
        out.push({ id: r.id, kind: r.kind, label: this.label(r) });
      }
      if (out.length >= limit) break;
    }
    return out;
  }

  async getRecord(id: string): Promise<StoredRecord> {
    this.need();
    const r = this.records.get(id);
    if (!r) throw new BackendError('not_found', `no record with id ${id}`);
    return clone(r);
  }

  async saveRecord(record: RecordBody, id?: string) {
    this.need();
    this.calls.push('save_record');
    if (record.kind === 'person' && (record.body.names.length === 0 || record.body.names.some((n) => !n.trim()))) {
      throw new BackendError('invalid_input', 'invalid person: `names` contains an empty name');
    }
    const now = new Date().toISOString();
    const existing = id ? this.records.get(id) : undefined;
    if (id && !existing) throw new BackendError('not_found', `no record with id ${id}`);
    const rid = id ?? this.nextId();
    const rev = existing ? existing.rev + 1 : 1;
    const stored = {
      ...clone(record),
      id: rid,
      rev,
      body_sha256: 'f'.repeat(64),
      created_at: existing?.created_at ?? now,
      created_by: 'device',
      updated_at: now,
      updated_by: 'device',
    } as StoredRecord;
    this.records.set(rid, stored);
    const revs = this.revisions.get(rid) ?? [];
    revs.push({ rev, body: clone(record.body), body_sha256: 'f'.repeat(64), author: 'device', at: now });
    this.revisions.set(rid, revs);
    return { id: rid, rev };
  }

  async recordHistory(id: string): Promise<Revision[]> {
    this.need();
    const r = this.revisions.get(id);
    if (!r) throw new BackendError('not_found', `no record with id ${id}`);
    return clone(r);
  }

  async linkedRecords(id: string): Promise<RecordSummary[]> {
    this.need();
    const out: RecordSummary[] = [];
    for (const r of this.records.values()) {
      const refs =
        r.kind === 'case'
          ? [r.body.detainee_id]
          : r.kind === 'interview'
            ? [r.body.case_id, r.body.detainee_id, r.body.speaker_id]
            : [];
      if (refs.includes(id)) out.push({ id: r.id, kind: r.kind, label: this.label(r) });
    }
    return out;
  }

  async attachFile(recordId: string, path: string): Promise<AttachmentInfo> {
    return this.attachBytes(recordId, path.split('/').pop() ?? 'file', '', new Uint8Array());
  }

  async attachBytes(recordId: string, name: string, mediaType: string, bytes: Uint8Array): Promise<AttachmentInfo> {
    this.need();
    if (!this.records.has(recordId)) throw new BackendError('not_found', `no record with id ${recordId}`);
    const info: AttachmentInfo = {
      id: this.nextId(),
      record_id: recordId,
      name,
      media_type: mediaType || 'application/octet-stream',
      size: bytes.length,
      sha256: 'a'.repeat(64),
      captured_at: new Date().toISOString(),
      captured_by: 'device',
    };
    this.attachments.set(info.id, info);
    return info;
  }

  async listAttachments(recordId: string): Promise<AttachmentInfo[]> {
    this.need();
    return [...this.attachments.values()].filter((a) => a.record_id === recordId);
  }

  attachmentUrl(id: string): string {
    return `memory://attachment/${id}`;
  }

  async checkVault() {
    this.need();
    return { records: this.records.size, revisions: 0, attachments: this.attachments.size, attachment_bytes: 0, problems: [], orphan_files: 0 };
  }

  private notAvailable(what: string): never {
    throw new BackendError('not_available', `${what} is not available in this version yet`);
  }

  async outboxStatus(): Promise<never> {
    this.need();
    return this.notAvailable('the outbox');
  }
  async exportBundle(): Promise<never> {
    this.need();
    return this.notAvailable('bundle export');
  }
  async importBundle(): Promise<never> {
    this.need();
    return this.notAvailable('bundle import');
  }
  async listDevices(): Promise<never> {
    this.need();
    return this.notAvailable('device enrollment');
  }

  async onLocked(handler: () => void): Promise<() => void> {
    this.lockHandlers.push(handler);
    return () => {
      this.lockHandlers = this.lockHandlers.filter((h) => h !== handler);
    };
  }
}

/** A deep copy through JSON, as IPC would make (Svelte state proxies cannot be structured-cloned). */
function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
