// Trust, device identity, outbox and coordinator forms against the test double.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import App from '../App.svelte';
import { MemoryBackend } from '../lib/backend/memory';
import { app, setBackend } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';

let be: MemoryBackend;

beforeEach(() => {
  localStorage.clear();
  setLocale('en');
  be = new MemoryBackend();
  be.passphrase = 'quiet river lantern seventeen';
  be.unlocked = true;
  setBackend(be);
  app.phase = 'loading';
  app.session = null;
  app.history = [];
});

afterEach(() => cleanup());

async function type(label: string | RegExp, value: string) {
  const el = await screen.findByLabelText(label);
  await fireEvent.input(el, { target: { value } });
  return el;
}

const person = { kind: 'person' as const, body: { names: ['Мамедов'], roles: [], confidentiality: 'internal' as const, reliability: 'unknown' as const } };

describe('field: trust file and device identity (Settings)', () => {
  beforeEach(() => {
    app.route = { name: 'settings' };
  });

  it('refuses an empty path without calling the backend', async () => {
    render(App);
    await screen.findByText(/No trust file yet/);
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Choose the trust file');
    expect(be.calls).not.toContain('import_trust');
  });

  it('shows the backend error for a file that is not a trust file', async () => {
    be.files.set('/tmp/bad.json', '{"format":"nope"}');
    render(App);
    await type(/type its full path/, '/tmp/bad.json');
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    // The catalogue sentence in the user's language; the backend's English text waits behind "Details".
    const alert = await screen.findByRole('alert');
    expect(alert.getAttribute('data-code')).toBe('trust_file_invalid');
    expect(alert.textContent).toContain('This trust file is not valid');
    expect(alert.textContent).not.toContain('not a Yaddash trust file');
    await fireEvent.click(within(alert).getByRole('button', { name: 'Details' }));
    expect(alert.textContent).toContain('not a Yaddash trust file');
  });

  it('imports a trust file by path and shows the fingerprints to compare by phone', async () => {
    be.files.set('/tmp/trust.json', MemoryBackend.trustFileText());
    render(App);
    await type(/type its full path/, '/tmp/trust.json');
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect((await screen.findByTestId('trust-fingerprint')).textContent).toBe('ABCD-EF01-2345-6789');
    expect(screen.getAllByTestId('coordinator-fingerprint').map((e) => e.textContent)).toEqual(['COOR-DINA-TOR0-0000']);
    expect(screen.getByText(/phone your coordinator and compare/)).toBeTruthy();
    expect(be.trust?.hq_id).toBe('yaddash-hq-test');
  });

  it('imports a trust file picked with the file chooser', async () => {
    render(App);
    const input = (await screen.findByTestId('trust-file')) as HTMLInputElement;
    const file = new File([MemoryBackend.trustFileText()], 'trust.json', { type: 'application/json' });
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    await fireEvent.change(input);
    await screen.findByTestId('trust-summary');
    expect(be.trust).not.toBeNull();
  });

  it('shows this device and saves its identity file', async () => {
    render(App);
    expect((await screen.findByTestId('device-fingerprint')).textContent).toBe('0190 A3C4 0000 7000');
    await fireEvent.click(screen.getByRole('button', { name: 'Save identity file' }));
    expect((await screen.findByRole('alert')).textContent).toContain('full path');
    await type('Where to save it (full path)', 'relative.json');
    await fireEvent.click(screen.getByRole('button', { name: 'Save identity file' }));
    expect((await screen.findByRole('alert')).textContent).toContain('full location');
    await type('Where to save it (full path)', '/tmp/me.json');
    await fireEvent.click(screen.getByRole('button', { name: 'Save identity file' }));
    expect((await screen.findByRole('status')).textContent).toContain('/tmp/me.json');
    expect(JSON.parse(be.files.get('/tmp/me.json') ?? '{}').device_id).toBe('0190a3c4-0000-7000-8000-000000000001');
  });
});

describe('field: outbox', () => {
  beforeEach(() => {
    app.route = { name: 'outbox' };
  });

  it('needs a trust file before writing a bundle', async () => {
    await be.saveRecord(person);
    render(App);
    await type('Where to write the bundle', '/tmp/b.ydb');
    await fireEvent.click(screen.getByRole('button', { name: 'Write bundle' }));
    expect((await screen.findByRole('alert')).textContent).toContain('trust file');
  });

  it('writes a bundle, lists it, and confirms it with receipts', async () => {
    await be.saveRecord(person);
    await be.importTrust({ text: MemoryBackend.trustFileText() });
    render(App);
    await waitFor(() => expect(screen.getByTestId('pending-records').textContent).toBe('1'));
    expect(screen.getByText(/^No bundle written yet\./)).toBeTruthy();
    await type('Where to write the bundle', '/tmp/b.ydb');
    await fireEvent.click(screen.getByRole('button', { name: 'Write bundle' }));
    expect((await screen.findByTestId('export-result')).textContent).toContain('1 record,');
    const row = await screen.findByTestId('bundle-row');
    expect(row.textContent).toContain('#1');
    expect(row.textContent).toContain('Not confirmed yet');
    await waitFor(() => expect(screen.getByTestId('pending-records').textContent).toBe('0'));

    be.files.set('/tmp/r.json', JSON.stringify({ format: 'yaddash-receipts', device_id: 'x', receipts: [1] }));
    await type('Receipt file (full path)', '/tmp/r.json');
    await fireEvent.click(screen.getByRole('button', { name: 'Import receipts' }));
    expect((await screen.findByText(/Newly confirmed: #1/)).textContent).toContain('already confirmed: 0');
    await waitFor(() => expect(screen.getByTestId('bundle-row').textContent).toContain('Imported by a coordinator'));
  });
});

describe('coordinator', () => {
  beforeEach(() => {
    be.role = 'coordinator';
    app.route = { name: 'coordinator' };
  });

  it('writes the trust file and shows its fingerprint', async () => {
    render(App);
    await type('Where to write it (full path)', '/tmp/trust.json');
    await fireEvent.click(screen.getByRole('button', { name: 'Write trust file' }));
    expect((await screen.findByTestId('trust-written')).textContent).toContain('ABCD-EF01-2345-6789');
    expect(be.files.has('/tmp/trust.json')).toBe(true);
    // No server key given: it says field devices cannot join a server with it.
    expect(screen.getByTestId('trust-written').textContent).toContain('names no HQ server key');
  });

  it('writes the HQ server key into the trust file for field devices to pin', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0000000000000000000000000000000000000000000 hq';
    render(App);
    await type('Where to write it (full path)', '/tmp/trust.json');
    await type('HQ server key (optional)', `  ${key}\n`);
    await fireEvent.click(screen.getByRole('button', { name: 'Write trust file' }));
    expect((await screen.findByTestId('trust-server-fingerprint')).textContent).toBe('SHA256:hqserver');
    expect(JSON.parse(be.files.get('/tmp/trust.json') ?? '{}').hq_server_key).toBe(key);
  });

  it('refuses a server key that is not an OpenSSH Ed25519 line', async () => {
    render(App);
    await type('Where to write it (full path)', '/tmp/trust.json');
    await type('HQ server key (optional)', 'not a key');
    await fireEvent.click(screen.getByRole('button', { name: 'Write trust file' }));
    expect((await screen.findByRole('alert')).textContent).toContain('The HQ server key is not a valid key');
    expect(be.files.has('/tmp/trust.json')).toBe(false);
  });

  it('enrolls a device, imports its bundle, writes receipts and revokes it', async () => {
    be.files.set('/tmp/dev.json', JSON.stringify({ device_id: 'dev-1', signing_key: 'ssh-ed25519 AAAA', age_recipient: 'age1x' }));
    be.files.set('/tmp/b.ydb', JSON.stringify({ device: 'dev-1', records: 3 }));
    render(App);
    await screen.findByText(/^No device enrolled yet\./);
    await type('Device identity file (full path)', '/tmp/missing.json');
    await fireEvent.click(screen.getByRole('button', { name: 'Enroll' }));
    expect((await screen.findByRole('alert')).textContent).toContain('The file was not found');

    await type('Device identity file (full path)', '/tmp/dev.json');
    await type(/Note/, "Aynur's laptop");
    await fireEvent.click(screen.getByRole('button', { name: 'Enroll' }));
    expect((await screen.findByTestId('enroll-result')).textContent).toContain('DEVI-CEFP-0000-0001');
    const row = await screen.findByTestId('device-row');
    expect(row.textContent).toContain("Aynur's laptop");

    await type('Bundle file', '/tmp/b.ydb');
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect((await screen.findByTestId('import-result')).textContent).toContain('Imported 3 new records');

    await type('Receipt file to write (full path)', '/tmp/r.json');
    await fireEvent.click(screen.getByRole('button', { name: 'Write receipts' }));
    await screen.findByText(/1 receipt written to \/tmp\/r.json/);

    await fireEvent.click(screen.getByRole('button', { name: 'Revoke' }));
    expect(be.calls).not.toContain('revoke_device');
    await fireEvent.click(screen.getByRole('button', { name: /Really revoke/ }));
    await waitFor(() => expect(screen.getByTestId('device-row').textContent).toContain('revoked'));
    expect(be.devices[0].revoked).toBe(true);
    expect((await screen.findByTestId('device-msg')).textContent).toContain('This vault knows no HQ server');
  });

  it('revoking with an HQ server the policy refuses: revoked here, and it says the server was not told', async () => {
    be.devices = [{ device_id: 'dev-2', fingerprint: 'DEVI-CEFP-0000-0002', revoked: false, label: null }];
    be.enrolledAt = 'http://127.0.0.1:8440';
    render(App);
    await fireEvent.click(await screen.findByRole('button', { name: 'Revoke' }));
    await fireEvent.click(screen.getByRole('button', { name: /Really revoke/ }));
    const msg = await screen.findByTestId('device-msg');
    expect(msg.textContent).toContain('Revoked in this vault, but NOT at the HQ server');
    expect(msg.textContent).toContain('Sync is off for this vault');
    expect(be.devices[0].revoked).toBe(true);

    be.devices.push({ device_id: 'dev-3', fingerprint: 'DEVI-CEFP-0000-0003', revoked: false, label: null });
    be.policy.enabled = true;
    cleanup();
    render(App);
    await fireEvent.click(await screen.findByRole('button', { name: 'Revoke' }));
    await fireEvent.click(screen.getByRole('button', { name: /Really revoke/ }));
    expect((await screen.findByTestId('device-msg')).textContent).toContain('Revoked in this vault and at the HQ server.');
  });

  it('makes a one-time enrollment code with the chosen expiry, shown with a copy button', async () => {
    const copied: string[] = [];
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: async (s: string) => void copied.push(s) }, configurable: true });
    render(App);
    const select = await screen.findByLabelText('Valid for');
    await fireEvent.change(select, { target: { value: '168' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Make a code' }));
    const code = await screen.findByTestId('invite-code');
    expect(code.textContent).toMatch(/^YDE1-/);
    expect(be.calls).toContain('hq_invite');
    expect(screen.getByTestId('invite-result').textContent).toContain('Valid until');
    await fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    await screen.findByRole('button', { name: 'Copied' });
    expect(copied).toEqual([code.textContent]);
  });

  it('the history shows where each revision came from', async () => {
    const saved = await be.saveRecord(person);
    await be.saveRecord(person, saved.id);
    be.provenance.set(saved.id, [
      {
        rev: 1,
        device_id: 'dev-1',
        device_label: "Aynur's laptop",
        device_enrolled: true,
        bundle_id: 'ab'.repeat(32),
        bundle_seq: 3,
        source_rev: 2,
        imported_at: '2026-01-02T03:04:05Z',
        pending_conflict: false,
      },
    ]);
    app.route = { name: 'history', id: saved.id };
    render(App);
    await waitFor(() => expect(screen.getAllByTestId('origin')).toHaveLength(2));
    const [newest, oldest] = screen.getAllByTestId('origin');
    expect(newest.textContent).toContain('Saved on this device');
    expect(oldest.textContent).toContain("device Aynur's laptop");
    expect(oldest.textContent).toContain(`bundle ${'ab'.repeat(6)}… no. 3, its revision 2`);
    expect(oldest.textContent).toContain('imported');
  });

  it('a field vault is told these are coordinator tasks', async () => {
    be.role = 'field';
    render(App);
    await screen.findByText(/This is a field vault/);
  });
});
