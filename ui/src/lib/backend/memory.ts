import type { Backend } from './backend';
import { foldForSearch } from '../fold';
import { BackendError } from './types';
import type {
  ApiError,
  AppStatus,
  AttachmentInfo,
  InputInfo,
  RecordingInfo,
  RecordingStatus,
  BundleOutSummary,
  BundleSummary,
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
  ErrorCode,
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
  RegisterRow,
  RegisterStatus,
  Revision,
  RevisionOrigin,
  Role,
  SessionInfo,
  StoredRecord,
  TrustSource,
  TrustSummary,
  UnlockRequest,
  PanicAction,
  PanicInfo,
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
  /** Where imported revisions came from (set by tests). */
  provenance = new Map<string, RevisionOrigin[]>();
  /** Enrollment codes issued (coordinator). */
  invites = 0;
  attachments = new Map<string, AttachmentInfo>();
  calls: string[] = [];
  /** The "disk": absolute path → text, for trust, device, receipt and bundle files. */
  files = new Map<string, string>();
  trust: TrustSummary | null = null;
  devices: DeviceSummary[] = [];
  bundles: BundleOutSummary[] = [];
  /** The register as a coordinator vault would derive it (set by tests). */
  register: RegisterRow[] = [];
  duplicates: DuplicateSuggestion[] = [];
  merges: MergeSummary[] = [];
  distinct: [string, string][] = [];
  /** The safety policy (defaults: nothing touches the network). */
  policy: PolicyForm = {
    enabled: false,
    network_off: false,
    mode: 'manual',
    windows: [],
    utc_offset: '+00:00',
    proxy: null,
    require_proxy: false,
  };
  policySetBy: PolicyInfo['set_by'] = 'default';
  enrolledAt: string | null = null;
  /** Tests: the proxy is not reachable. */
  proxyDown = false;
  /** Tests: the next transfer waits until `finishTransfer()` is called. */
  holdTransfers = false;
  /** The outbox entries (the test double's own bookkeeping). */
  outbox: OutboxEntry[] = [];
  travel: TravelStatus = { plan: { removable: [], removable_attachments: 0, remaining: [], confirmed_bundles: [] }, unconfirmed_bundles: [], last_prepare: null };
  private running: { job: JobKind; finish: () => void } | null = null;
  private progressHandlers: ((p: JobProgress) => void)[] = [];
  private finishedHandlers: ((f: JobFinished) => void)[] = [];
  private exported = 0;
  private lockHandlers: (() => void)[] = [];
  /** Under coercion: the duress passphrase, the unlock limit and the failures counted. */
  duress: string | null = null;
  unlockLimit: number | null = null;
  failedUnlocks = 0;
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
    return {
      vault_exists: this.passphrase !== null,
      unlocked: this.unlocked,
      idle_lock_minutes: this.idleMinutes,
      attempts_left: this.unlockLimit === null ? null : Math.max(0, this.unlockLimit - this.failedUnlocks),
    };
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
    if (!ok && req.method === 'passphrase' && this.duress !== null && req.secret === this.duress) {
      // The decoy takes the vault's place: empty, with the duress passphrase.
      this.passphrase = this.duress;
      this.duress = null;
      this.records.clear();
      this.attachments.clear();
      this.failedUnlocks = 0;
      this.unlocked = true;
      return this.session();
    }
    if (!ok) {
      if (this.unlockLimit !== null) {
        this.failedUnlocks += 1;
        if (this.failedUnlocks >= this.unlockLimit) this.wipe();
      }
      throw new BackendError('wrong_passphrase', 'wrong passphrase or recovery code');
    }
    this.failedUnlocks = 0;
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

  panicAction: PanicAction = 'lock_and_hide';
  readonly reloadsOnLock = false;

  async panicInfo(): Promise<PanicInfo> {
    this.calls.push('panic_info');
    return { action: this.panicAction, shortcut: 'Ctrl+Alt+Shift+L', global: 'active', quick_delete_available: false };
  }

  async setPanicAction(action: PanicAction): Promise<PanicInfo> {
    this.calls.push('set_panic_action');
    this.panicAction = action;
    return this.panicInfo();
  }

  async panicNow(): Promise<void> {
    this.calls.push('panic_now');
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

  async recordProvenance(id: string): Promise<RevisionOrigin[]> {
    this.need();
    this.calls.push('record_provenance');
    if (!this.revisions.has(id)) throw new BackendError('not_found', `no record with id ${id}`);
    return clone(this.provenance.get(id) ?? []);
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

  private wipe(): void {
    this.passphrase = null;
    this.duress = null;
    this.unlockLimit = null;
    this.failedUnlocks = 0;
    this.unlocked = false;
    this.records.clear();
    this.attachments.clear();
    this.outbox = [];
  }

  async destroyPreview(): Promise<Unsent> {
    this.calls.push('destroy_preview');
    this.need();
    const waiting = this.outbox.filter((e) => e.state === 'pending' || e.state === 'partly-sent');
    return {
      records: this.role === 'coordinator' ? null : this.records.size,
      waiting_bundles: waiting.map((e) => e.seq),
      outbox: '/memory/vault/outbox',
    };
  }

  async destroyVault(): Promise<DestroyReport> {
    this.calls.push('destroy_vault');
    this.wipe();
    return { crypto_erase_ms: 1, total_ms: 2, left: [] };
  }

  private coercion(): CoercionSettings {
    return { duress_set: this.duress !== null, unlock_limit: this.unlockLimit };
  }

  async coercionSettings(): Promise<CoercionSettings> {
    this.need();
    return this.coercion();
  }

  async setDuress(passphrase: string): Promise<CoercionSettings> {
    this.calls.push('set_duress');
    this.need();
    if (passphrase === this.passphrase) throw new BackendError('bad_secret', 'the duress passphrase must differ from the passphrase; nothing was changed');
    if ([...passphrase].length < 8) throw new BackendError('invalid_input', 'the passphrase is too short');
    this.duress = passphrase;
    return this.coercion();
  }

  async clearDuress(): Promise<CoercionSettings> {
    this.need();
    this.duress = null;
    return this.coercion();
  }

  async setUnlockLimit(limit: number | null): Promise<CoercionSettings> {
    this.calls.push('set_unlock_limit');
    this.need();
    if (limit !== null && (limit < 3 || limit > 99)) throw new BackendError('unlock_limit_range', 'the number of failed unlocks must be between 3 and 99', { min: 3, max: 99 });
    this.unlockLimit = limit;
    this.failedUnlocks = 0;
    return this.coercion();
  }

  // Recording: a simulated input whose level follows a sine (UI tests).
  private rec: { recordId: string; started: number; pausedAt: number | null; pausedMs: number; consent: number | null } | null = null;

  async recordingInputs(): Promise<InputInfo[]> {
    return [{ id: 'default', name: 'Default input', default: true }];
  }

  async recordingStart(recordId: string, _input: string | null, consentSeconds: number | null): Promise<RecordingStatus> {
    this.need();
    const r = this.records.get(recordId);
    if (!r) throw new BackendError('not_found', `no record with id ${recordId}`);
    if (r.kind !== 'interview') throw new BackendError('not_an_interview', 'recordings belong to an interview');
    if (this.rec) throw new BackendError('recording_running', 'a recording is already running: stop it first');
    this.rec = { recordId, started: Date.now(), pausedAt: null, pausedMs: 0, consent: consentSeconds };
    return this.recordingStatus();
  }

  private recElapsed(): number {
    if (!this.rec) return 0;
    const end = this.rec.pausedAt ?? Date.now();
    return Math.max(0, end - this.rec.started - this.rec.pausedMs);
  }

  async recordingStatus(): Promise<RecordingStatus> {
    const r = this.rec;
    return {
      active: !!r,
      paused: !!r?.pausedAt,
      record_id: r?.recordId ?? null,
      input: r ? 'default' : null,
      elapsed_ms: this.recElapsed(),
      level: r && !r.pausedAt ? 0.5 + 0.4 * Math.sin(Date.now() / 150) : 0,
      free_bytes: 20 * 1024 ** 3,
      min_free_bytes: 256 * 1024 ** 2,
    };
  }

  async recordingPause(): Promise<RecordingStatus> {
    if (this.rec && !this.rec.pausedAt) this.rec.pausedAt = Date.now();
    return this.recordingStatus();
  }

  async recordingResume(): Promise<RecordingStatus> {
    if (this.rec?.pausedAt) {
      this.rec.pausedMs += Date.now() - this.rec.pausedAt;
      this.rec.pausedAt = null;
    }
    return this.recordingStatus();
  }

  async recordingStop(): Promise<RecordingInfo> {
    const r = this.rec;
    if (!r) throw new BackendError('no_recording', 'no recording is running');
    const ms = this.recElapsed();
    this.rec = null;
    const stamp = new Date(r.started).toISOString();
    const a = await this.attachBytes(r.recordId, `recording-${stamp.replace(/[^0-9A-Za-z]/g, '')}.ogg`, 'audio/ogg', new Uint8Array());
    return {
      attachment_id: a.id,
      record_id: r.recordId,
      started_at: stamp,
      ended_at: new Date().toISOString(),
      input: 'default',
      duration_ms: ms,
      codec: 'Opus 24 kbit/s CBR mono 48 kHz in Ogg (libopus)',
      consent_seconds: r.consent,
      segments: Math.max(1, Math.ceil(ms / 30000)),
      recovered: false,
      sha256: a.sha256,
      size: 0,
    };
  }

  async moveIntoVault(recordId: string, path: string) {
    const attachment = await this.attachFile(recordId, path);
    return { attachment, original_removed: true };
  }

  async checkVault() {
    this.need();
    return { records: this.records.size, revisions: 0, attachments: this.attachments.size, attachment_bytes: 0, problems: [], orphan_files: 0 };
  }

  private path(p: string): string {
    const path = p.trim();
    if (!path.startsWith('/')) throw new BackendError('path_not_absolute', 'the path must be absolute (start with /)');
    return path;
  }

  private read(p: string, what: string): string {
    const text = this.files.get(this.path(p));
    if (text === undefined) throw new BackendError('file_not_found', `cannot read ${what}: no such file`);
    return text;
  }

  private needRole(role: Role, what: string): void {
    if (this.role !== role) throw new BackendError('wrong_role', `this is a ${this.role} vault; \`${what}\` needs a ${role} vault`, { needed: role });
  }

  identity(): DeviceIdentity {
    const s = this.session();
    return {
      device_id: s.device_id,
      role: this.role,
      signing_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMemory',
      age_recipient: 'age1memory',
      fingerprint: s.device_fingerprint,
      ssh_fingerprint: 'SHA256:bWVtb3J5',
    };
  }

  /** A trust file as a coordinator's backend would write it. */
  static trustFileText(serverKey?: string): string {
    return JSON.stringify({
      format: 'yaddash-trust',
      version: 1,
      hq_id: 'yaddash-hq-test',
      coordinators: [{ device_id: '0190a3c4-0000-7000-8000-0000000000c0', signing_key: 'ssh-ed25519 AAAA', age_recipient: 'age1c' }],
      ...(serverKey ? { hq_server_key: serverKey } : {}),
    });
  }

  private trustOf(text: string): TrustSummary {
    let doc: { format?: string; hq_id?: string; coordinators?: { device_id: string }[]; hq_server_key?: string };
    try {
      doc = JSON.parse(text);
    } catch {
      throw new BackendError('trust_file_invalid', 'the trust file is not valid: not the expected JSON');
    }
    if (doc.format !== 'yaddash-trust' || !doc.hq_id) {
      throw new BackendError('trust_file_invalid', 'the trust file is not valid: not a Yaddash trust file');
    }
    if (!doc.coordinators?.length) throw new BackendError('trust_file_invalid', 'the trust file is not valid: it names no coordinator');
    return {
      hq_id: doc.hq_id,
      fingerprint: 'ABCD-EF01-2345-6789',
      coordinators: doc.coordinators.map((c, i) => ({
        device_id: c.device_id,
        fingerprint: `COOR-DINA-TOR${i}-0000`,
        ssh_fingerprint: `SHA256:coordinator${i}`,
      })),
      path: null,
      server_fingerprint: doc.hq_server_key ? 'SHA256:hqserver' : null,
    };
  }

  async outboxStatus(): Promise<OutboxStatus> {
    this.need();
    return {
      pending_records: Math.max(0, this.records.size - this.exported),
      pending_attachments: 0,
      last_export_at: this.bundles.at(-1)?.created_at ?? null,
    };
  }

  async exportBundle(path: string): Promise<BundleSummary> {
    this.need();
    this.calls.push('export_bundle');
    const p = this.path(path);
    if (!this.trust) throw new BackendError('no_trust', 'no trust file: import the coordinators\' trust file first');
    const records = this.records.size - this.exported;
    if (records <= 0) throw new BackendError('nothing_to_export', 'nothing new since the last bundle: no file was written');
    this.exported = this.records.size;
    const seq = this.bundles.length + 1;
    const sha256 = seq.toString(16).padStart(64, '0');
    this.bundles.push({ seq, bundle_id: sha256, created_at: new Date().toISOString(), records, attachments: 0, hq_received_at: null, imported_at: null });
    this.files.set(p, JSON.stringify({ bundle: sha256, device: this.session().device_id, records }));
    return { path: p, records, attachments: 0, sha256 };
  }

  async importBundle(path: string): Promise<ImportSummary> {
    this.need();
    this.calls.push('import_bundle');
    this.needRole('coordinator', 'bundle import');
    const doc = JSON.parse(this.read(path, 'the bundle')) as { device: string; records: number };
    const dev = this.devices.find((d) => d.device_id === doc.device);
    if (!dev || dev.revoked) throw new BackendError('unknown_sender', 'bundle refused: the sender is not an enrolled device');
    return { sender_device: doc.device, added: doc.records, already_present: 0 };
  }

  async listDevices(): Promise<DeviceSummary[]> {
    this.need();
    return clone(this.devices);
  }

  async importTrust(source: TrustSource): Promise<TrustSummary> {
    this.need();
    this.calls.push('import_trust');
    const text = 'text' in source ? source.text : this.read(source.path, 'the trust file');
    const t = this.trustOf(text);
    this.trust = t;
    return clone(t);
  }

  async trustInfo(): Promise<TrustSummary | null> {
    this.need();
    return this.trust ? clone(this.trust) : null;
  }

  async exportTrust(path: string, serverKey?: string): Promise<TrustSummary> {
    this.need();
    this.calls.push('export_trust');
    this.needRole('coordinator', 'trust export');
    const key = serverKey?.trim() ?? '';
    if (key && !/^ssh-ed25519 [A-Za-z0-9+/=]{40,}( .*)?$/.test(key)) {
      throw new BackendError('server_key_invalid', 'the HQ server key is not an OpenSSH Ed25519 public key');
    }
    const p = this.path(path);
    const text = MemoryBackend.trustFileText(key || undefined);
    this.files.set(p, text);
    return { ...this.trustOf(text), path: p };
  }

  async deviceIdentity(): Promise<DeviceIdentity> {
    this.need();
    return this.identity();
  }

  async saveDeviceIdentity(path: string): Promise<string> {
    this.need();
    this.calls.push('save_device_identity');
    const p = this.path(path);
    const id = this.identity();
    this.files.set(p, JSON.stringify({ device_id: id.device_id, signing_key: id.signing_key, age_recipient: id.age_recipient }));
    return p;
  }

  async enrollDevice(path: string, label?: string): Promise<DeviceSummary> {
    this.need();
    this.calls.push('enroll_device');
    const text = this.read(path, 'the device file');
    this.needRole('coordinator', 'device enroll');
    let doc: { device_id?: string; signing_key?: string };
    try {
      doc = JSON.parse(text);
    } catch {
      doc = {};
    }
    if (!doc.device_id || !doc.signing_key) {
      throw new BackendError('device_file_invalid', 'the device file is not a Yaddash device identity (`device show --json`)');
    }
    const d: DeviceSummary = { device_id: doc.device_id, fingerprint: 'DEVI-CEFP-0000-0001', revoked: false, label: label?.trim() || null };
    this.devices = [...this.devices.filter((x) => x.device_id !== d.device_id), d];
    return clone(d);
  }

  async revokeDevice(deviceId: string): Promise<DeviceRevoked> {
    this.need();
    this.calls.push('revoke_device');
    this.needRole('coordinator', 'device revoke');
    const d = this.devices.find((x) => x.device_id === deviceId);
    if (!d) throw new BackendError('not_found', `no device ${deviceId}`);
    d.revoked = true;
    const known = !!this.enrolledAt;
    const refused = known ? this.refusal() : null;
    return {
      device_id: deviceId,
      revoked_from: new Date().toISOString(),
      in_vault: true,
      at_server: known && !refused,
      server_known: known,
      server_error: refused,
    };
  }

  async exportReceipts(deviceId: string, path: string): Promise<ReceiptsExported> {
    this.need();
    this.calls.push('export_receipts');
    this.needRole('coordinator', 'receipt export');
    const p = this.path(path);
    this.files.set(p, JSON.stringify({ format: 'yaddash-receipts', device_id: deviceId, receipts: [1] }));
    return { path: p, receipts: 1 };
  }

  async importReceipts(path: string): Promise<ReceiptsImported> {
    this.need();
    this.calls.push('import_receipts');
    const doc = JSON.parse(this.read(path, 'the receipt file')) as { format?: string; receipts?: number[] };
    if (doc.format !== 'yaddash-receipts') throw new BackendError('receipt_file_invalid', 'the receipt file is not valid: not a Yaddash receipt file');
    const out: ReceiptsImported = { confirmed: [], already: 0 };
    for (const seq of doc.receipts ?? []) {
      const b = this.bundles.find((x) => x.seq === seq);
      if (!b) continue;
      if (b.imported_at) out.already += 1;
      else {
        b.imported_at = new Date().toISOString();
        out.confirmed.push(seq);
      }
    }
    return out;
  }

  async bundlesOut(): Promise<BundleOutSummary[]> {
    this.need();
    return clone(this.bundles);
  }

  async registerPage(offset: number, limit: number): Promise<RegisterPage> {
    this.need();
    this.needRole('coordinator', 'the register');
    this.calls.push('register_page');
    const rows = this.register.slice(offset, offset + Math.min(limit, 1000));
    return { rows: clone(rows), total: this.register.length };
  }

  async registerDuplicates(): Promise<DuplicateSuggestion[]> {
    this.need();
    this.needRole('coordinator', 'the register');
    return clone(this.duplicates);
  }

  async registerMerges(): Promise<MergeSummary[]> {
    this.need();
    this.needRole('coordinator', 'the register');
    return clone(this.merges);
  }

  async registerMerge(primary: string, other: string): Promise<void> {
    this.need();
    this.calls.push('register_merge');
    this.needRole('coordinator', 'the register');
    const s = this.duplicates.find((d) => (d.a.id === primary && d.b.id === other) || (d.a.id === other && d.b.id === primary));
    if (primary === other) throw new BackendError('request_refused', 'a person cannot be merged with itself; nothing was changed');
    this.duplicates = this.duplicates.filter((d) => d !== s);
    const label = (id: string) => (s?.a.id === id ? s.a.label : s?.b.id === id ? s.b.label : id);
    this.merges.push({ primary: { id: primary, label: label(primary) }, merged: { id: other, label: label(other) }, at: new Date().toISOString() });
  }

  async registerUnmerge(merged: string): Promise<void> {
    this.need();
    this.calls.push('register_unmerge');
    this.needRole('coordinator', 'the register');
    const before = this.merges.length;
    this.merges = this.merges.filter((m) => m.merged.id !== merged);
    if (this.merges.length === before) throw new BackendError('request_refused', `${merged} is not merged into another person; nothing was changed`);
  }

  async registerMarkDistinct(a: string, b: string): Promise<void> {
    this.need();
    this.calls.push('register_mark_distinct');
    this.needRole('coordinator', 'the register');
    this.distinct.push([a, b]);
    this.duplicates = this.duplicates.filter((d) => !((d.a.id === a && d.b.id === b) || (d.a.id === b && d.b.id === a)));
  }

  async registerSetStatus(personId: string, status: RegisterStatus | null, reason: string): Promise<void> {
    this.need();
    this.calls.push('register_set_status');
    if (!reason.trim()) throw new BackendError('reason_required', 'say why the status is set by hand: the reason is required');
    this.needRole('coordinator', 'the register');
    const row = this.register.find((r) => r.records.includes(personId));
    if (!row) throw new BackendError('not_found', `no person with id ${personId}`);
    row.override = status ? { status, reason: reason.trim(), at: new Date().toISOString(), by: this.session().device_id } : null;
    row.status = status ?? row.derived_status;
  }

  async registerExport(level: ExportLevel, format: ExportFormat, path: string): Promise<RegisterExported> {
    this.need();
    this.calls.push('register_export');
    this.needRole('coordinator', 'the register');
    const p = this.path(path);
    const text = JSON.stringify({ level, format, persons: this.register.length });
    this.files.set(p, text);
    return { path: p, persons: this.register.length, bytes: text.length };
  }

  async evidenceExport(record: string, level: ExportLevel, path: string): Promise<EvidenceExported> {
    this.need();
    this.calls.push('evidence_export');
    this.needRole('coordinator', 'evidence packs');
    const p = this.path(path);
    const text = JSON.stringify({ record, level });
    this.files.set(p, text);
    return { path: p, records: 1, attachments: 0, manifests: 0, left_out: 0, bytes: text.length, sha256: '0'.repeat(64) };
  }

  async policyGet(): Promise<PolicyInfo> {
    this.need();
    return clone({ policy: this.policy, set_by: this.policySetBy, enrolled: !!this.enrolledAt, hq_url: this.enrolledAt, role: this.role });
  }

  async policySet(form: PolicyForm): Promise<PolicyInfo> {
    if (form.network_off && this.running) this.endTransfer(this.running.job, { code: 'cancelled', params: {}, detail: 'the transfer was cancelled' });
    this.need();
    this.calls.push('policy_set');
    const f = clone(form);
    for (const w of f.windows) {
      if (!/^\d{1,2}:\d{2}-\d{1,2}:\d{2}$/.test(w)) throw new BackendError('policy_invalid', `"${w}" is not a time window like 22:00-05:30`);
    }
    if (f.proxy !== null && f.proxy.trim() === '') f.proxy = null;
    if (f.proxy && !/^socks5h?:\/\/[^/@]+:\d+$/.test(f.proxy.trim())) {
      throw new BackendError('bad_proxy', `"${f.proxy}" is not a SOCKS5 proxy URL; use socks5h://127.0.0.1:9050 (Tor) or socks5h://127.0.0.1:9150 (Tor Browser)`);
    }
    if (f.proxy) f.proxy = f.proxy.trim().replace(/^socks5:\/\//, 'socks5h://');
    if (f.require_proxy && !f.proxy) {
      throw new BackendError('policy_invalid', 'require proxy is on but the route is direct: set a proxy such as socks5h://127.0.0.1:9050 too');
    }
    this.policy = f;
    this.policySetBy = 'user';
    return this.policyGet();
  }

  async outboxList(): Promise<OutboxEntry[]> {
    this.need();
    return clone(this.outbox);
  }

  async hqEnroll(code: string, url: string): Promise<Enrolled> {
    this.need();
    this.calls.push('hq_enroll');
    if (!code.trim() || !url.trim()) throw new BackendError('invalid_input', 'enter the code from your coordinator and the server\'s address');
    if (this.policy.network_off) throw new BackendError('network_off', 'the network is switched off (kill switch): nothing was sent');
    if (!code.startsWith('YDE1-')) throw new BackendError('network', 'the server refused the code');
    this.enrolledAt = url.trim();
    this.policy.enabled = true;
    return { enrolled: true, hq_id: 'yaddash-hq-test', server_fingerprint: 'SHA256:server' };
  }

  async hqInvite(hours: number): Promise<Invite> {
    this.need();
    this.calls.push('hq_invite');
    this.needRole('coordinator', 'issuing enrollment codes');
    if (!(hours >= 1 && hours <= 168)) throw new BackendError('invalid_input', 'choose how long the code stays valid (1 hour to 7 days)');
    this.invites += 1;
    const code = `YDE1-TEST${String(this.invites).padStart(4, '0')}`;
    return { code, expires_at: new Date(Date.now() + hours * 3600_000).toISOString() };
  }

  /** The refusal the policy gives now, as the outbox crate's `connect` would. */
  private refusal(): ApiError | null {
    if (this.policy.network_off) return { code: 'network_off', params: {}, detail: 'the network is switched off (kill switch): nothing was sent' };
    if (!this.policy.enabled) return { code: 'sync_disabled', params: {}, detail: 'sync is not enabled on this vault, so nothing touches the network' };
    if (this.policy.require_proxy && !this.policy.proxy) return { code: 'proxy_required', params: {}, detail: 'the policy requires a proxy but none is set' };
    if (this.policy.proxy && this.proxyDown) {
      return {
        code: 'proxy_down',
        params: {},
        detail: `the proxy ${this.policy.proxy} is not reachable (Connection refused): nothing was sent and nothing was tried directly; start Tor (or Tor Browser) and retry`,
      };
    }
    return null;
  }

  private emit(p: JobProgress) {
    for (const h of this.progressHandlers) h(p);
  }

  private endTransfer(job: JobKind, error: JobFinished['error'], extra: Partial<JobFinished> = {}) {
    this.running = null;
    const f: JobFinished = { job, ok: !error, error, sync: null, travel: null, pull: null, ...extra };
    for (const h of this.finishedHandlers) h(clone(f));
  }

  /** Tests: completes a transfer held by `holdTransfers`. */
  finishTransfer() {
    this.running?.finish();
  }

  async syncStart(proxy?: string): Promise<void> {
    this.need();
    this.calls.push('sync_start');
    this.needRole('field', 'sync');
    if (this.running) throw new BackendError('busy', 'a transfer is already running: wait for it or cancel it');
    // What is new goes into the outbox first.
    const records = this.records.size - this.exported;
    if (records > 0 && this.trust) {
      this.exported = this.records.size;
      const seq = this.outbox.length + 1;
      this.outbox.push({ seq, bundle_id: seq.toString(16).padStart(64, '0'), created_at: new Date().toISOString(), size: 4096 * records, records, attachments: 0, state: 'pending', sent_bytes: 0, in_outbox: true, hq_received_at: null, imported_at: null });
    }
    void proxy;
    const run = () => {
      const refused = this.refusal();
      if (refused) return this.endTransfer('sync', refused);
      if (!this.enrolledAt) return this.endTransfer('sync', { code: 'not_enrolled', params: {}, detail: 'this device is not enrolled at an HQ server' });
      const uploaded: string[] = [];
      for (const e of this.outbox.filter((x) => x.in_outbox)) {
        this.emit({ job: 'sync', event: 'uploading', seq: e.seq, sent: e.size, total: e.size });
        e.state = 'received';
        e.in_outbox = false;
        e.sent_bytes = 0;
        e.hq_received_at = new Date().toISOString();
        this.emit({ job: 'sync', event: 'received', seq: e.seq });
        uploaded.push(e.bundle_id);
      }
      this.endTransfer('sync', null, {
        sync: { route: this.policy.proxy ? 'proxy' : 'direct', exported: null, exported_records: 0, uploaded, confirmed_imported: [], receipt_problems: [], at: new Date().toISOString() },
      });
    };
    this.running = { job: 'sync', finish: run };
    const first = this.outbox.find((x) => x.in_outbox);
    if (first) this.emit({ job: 'sync', event: 'uploading', seq: first.seq, sent: Math.floor(first.size / 2), total: first.size });
    if (!this.holdTransfers) setTimeout(() => this.running?.finish(), 0);
  }

  async syncCancel(): Promise<boolean> {
    this.calls.push('sync_cancel');
    if (!this.running) return false;
    this.endTransfer(this.running.job, { code: 'cancelled', params: {}, detail: 'the transfer was cancelled; the next sync resumes' });
    return true;
  }

  async syncStatus(): Promise<JobKind | null> {
    return this.running?.job ?? null;
  }

  async travelStatus(): Promise<TravelStatus> {
    this.need();
    this.needRole('field', 'travel mode');
    return clone(this.travel);
  }

  async travelPrepare(confirmed: boolean, waitSecs: number, offline: boolean): Promise<void> {
    this.need();
    this.calls.push('travel_prepare');
    if (!confirmed) throw new BackendError('invalid_input', 'travel mode removes records from this laptop: confirm first; nothing was removed');
    if (this.running) throw new BackendError('busy', 'a transfer is already running');
    void waitSecs;
    const run = () => {
      if (!offline) {
        const refused = this.refusal();
        if (refused) return this.endTransfer('travel', refused);
      }
      const removed = this.travel.plan.removable.length;
      this.emit({ job: 'travel', event: 'removing', done: this.travel.plan.removable_attachments, total: this.travel.plan.removable_attachments });
      const remaining = this.travel.plan.remaining;
      this.travel = { plan: { removable: [], removable_attachments: 0, remaining, confirmed_bundles: this.travel.plan.confirmed_bundles }, unconfirmed_bundles: this.travel.unconfirmed_bundles, last_prepare: { at: new Date().toISOString(), removed_records: removed, removed_attachments: 0, remaining: remaining.length } };
      this.endTransfer('travel', null, {
        travel: { sent: !offline, exported: null, removed_records: removed, removed_attachments: 0, removed_attachment_bytes: 0, remaining: clone(remaining), unconfirmed_bundles: this.travel.unconfirmed_bundles, free_pages: 0, wal_bytes: 0, receipt_problems: [], at: new Date().toISOString() },
      });
    };
    this.running = { job: 'travel', finish: run };
    if (!this.holdTransfers) setTimeout(() => this.running?.finish(), 0);
  }

  async hqPull(url?: string): Promise<void> {
    this.need();
    this.calls.push('hq_pull');
    this.needRole('coordinator', 'pull');
    if (this.running) throw new BackendError('busy', 'a transfer is already running');
    if (url?.trim()) this.enrolledAt = url.trim();
    const run = () => {
      const refused = this.refusal();
      if (refused) return this.endTransfer('pull', refused);
      if (!this.enrolledAt) return this.endTransfer('pull', { code: 'no_server_url', params: {}, detail: 'no HQ server URL is known yet' });
      this.endTransfer('pull', null, { pull: { imported: 1, bundles: ['ab'.repeat(32)], refused: [], receipts_posted: 1 } });
    };
    this.running = { job: 'pull', finish: run };
    if (!this.holdTransfers) setTimeout(() => this.running?.finish(), 0);
  }

  async onSyncProgress(handler: (p: JobProgress) => void): Promise<() => void> {
    this.progressHandlers.push(handler);
    return () => {
      this.progressHandlers = this.progressHandlers.filter((h) => h !== handler);
    };
  }

  async onSyncFinished(handler: (f: JobFinished) => void): Promise<() => void> {
    this.finishedHandlers.push(handler);
    return () => {
      this.finishedHandlers = this.finishedHandlers.filter((h) => h !== handler);
    };
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
