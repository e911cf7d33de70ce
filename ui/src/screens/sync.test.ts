// The Sync, Travel mode and coordinator pull screens against the test double.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import App from '../App.svelte';
import { MemoryBackend } from '../lib/backend/memory';
import { app, setBackend } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import type { OutboxEntry } from '../lib/backend/types';

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
  app.route = { name: 'sync' };
});

afterEach(() => cleanup());

async function type(label: string | RegExp, value: string) {
  const el = await screen.findByLabelText(label);
  await fireEvent.input(el, { target: { value } });
  return el;
}

function entry(seq: number, state: OutboxEntry['state'], extra: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    seq,
    bundle_id: String(seq).padStart(64, '0'),
    created_at: '2026-11-25T10:00:00Z',
    size: 8192,
    records: 2,
    attachments: 0,
    state,
    sent_bytes: 0,
    in_outbox: state === 'pending' || state === 'partly-sent',
    hq_received_at: null,
    imported_at: null,
    ...extra,
  };
}

describe('Sync: the safety policy form', () => {
  it('shows the safe defaults: sync off, manual, direct', async () => {
    render(App);
    await screen.findByTestId('policy-form');
    expect(((await screen.findByLabelText('Allow sync with headquarters')) as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText('Manual: only when I press Send') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('Directly') as HTMLInputElement).checked).toBe(true);
    expect(screen.getByTestId('policy-set-by').textContent).toContain('sync is off');
    expect(screen.getByTestId('send-blocked').textContent).toContain('Sync is off');
  });

  it('refuses a bad window, offset, proxy or require-proxy without a proxy, before calling the backend', async () => {
    render(App);
    await screen.findByTestId('policy-form');
    await type('Allowed times (automatic mode)', '22:00-05:30, 25:00-01:00');
    await type('UTC offset of these times', '04:00');
    await fireEvent.click(screen.getByLabelText('Through a SOCKS5 proxy such as Tor'));
    await type('Proxy address', 'http://127.0.0.1:8080');
    await fireEvent.click(screen.getByRole('button', { name: 'Save policy' }));
    const errors = await screen.findByTestId('policy-errors');
    expect(errors.textContent).toContain('not like 22:00-05:30');
    expect(errors.textContent).toContain('+04:00');
    expect(errors.textContent).toContain('SOCKS5 address');
    expect(be.calls).not.toContain('policy_set');

    await type('Allowed times (automatic mode)', '');
    await type('UTC offset of these times', '+04:00');
    await fireEvent.click(screen.getByLabelText('Directly'));
    await fireEvent.click(screen.getByLabelText(/Require the proxy/));
    await fireEvent.click(screen.getByRole('button', { name: 'Save policy' }));
    expect((await screen.findByTestId('policy-errors')).textContent).toContain('set a proxy address too');
    expect(be.calls).not.toContain('policy_set');
  });

  it('saves a valid policy (Tor, required, automatic at night in Baku time)', async () => {
    render(App);
    await screen.findByTestId('policy-form');
    await fireEvent.click(screen.getByLabelText('Allow sync with headquarters'));
    await fireEvent.click(screen.getByLabelText(/Automatic: the app may send/));
    await type('Allowed times (automatic mode)', '22:00-05:30');
    await type('UTC offset of these times', '+04:00');
    await fireEvent.click(screen.getByLabelText('Through a SOCKS5 proxy such as Tor'));
    await type('Proxy address', 'socks5://127.0.0.1:9150');
    await fireEvent.click(screen.getByLabelText(/Require the proxy/));
    await fireEvent.click(screen.getByRole('button', { name: 'Save policy' }));
    await screen.findByTestId('policy-saved');
    expect(be.policy).toEqual({
      enabled: true,
      network_off: false,
      mode: 'automatic',
      windows: ['22:00-05:30'],
      utc_offset: '+04:00',
      proxy: 'socks5h://127.0.0.1:9150',
      require_proxy: true,
    });
    // What the backend normalised is shown back.
    expect((screen.getByLabelText('Proxy address') as HTMLInputElement).value).toBe('socks5h://127.0.0.1:9150');
  });

  it('the kill switch stops a transfer in flight and is saved; it can be turned back', async () => {
    be.policy.enabled = true;
    be.enrolledAt = 'http://hq.example:8440';
    be.holdTransfers = true;
    be.outbox = [entry(1, 'pending')];
    render(App);
    await fireEvent.click(await screen.findByRole('button', { name: 'Send now' }));
    const bar = await screen.findByRole('progressbar', { name: 'Bundle #1 sent so far' });
    expect(bar.getAttribute('value')).toBe('4096');
    expect((await screen.findByTestId('send-progress')).textContent).toContain('Sending bundle #1');
    await fireEvent.click(screen.getByRole('button', { name: 'Stop all network activity now' }));
    expect((await screen.findByTestId('network-state')).textContent).toContain('Network stopped');
    expect(be.policy.network_off).toBe(true);
    expect((await screen.findByTestId('send-error')).textContent).toContain('Stopped');
    expect(screen.queryByTestId('send-progress')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Allow the network again' }));
    await waitFor(() => expect(be.policy.network_off).toBe(false));
  });
});

describe('Sync: enrollment and the outbox', () => {
  it('joins the HQ server with a code and URL (enabling sync is the user’s act)', async () => {
    render(App);
    await screen.findByTestId('enroll-hq-form');
    await fireEvent.click(screen.getByRole('button', { name: 'Join' }));
    expect((await screen.findByTestId('enroll-error')).textContent).toContain('Enter the code');
    expect(be.calls).not.toContain('hq_enroll');
    await type('One-time code', 'YDE1-ABCD');
    await type('Server address', 'http://hq.example:8440');
    await fireEvent.click(screen.getByRole('button', { name: 'Join' }));
    expect((await screen.findByTestId('enrolled')).textContent).toContain('http://hq.example:8440');
    expect(be.policy.enabled).toBe(true);
    expect(((await screen.findByLabelText('Allow sync with headquarters')) as HTMLInputElement).checked).toBe(true);
  });

  it('lists every bundle with its state and a bar for a partly sent one', async () => {
    be.outbox = [
      entry(1, 'imported', { imported_at: '2026-11-25T11:00:00Z', hq_received_at: '2026-11-25T10:30:00Z' }),
      entry(2, 'received', { hq_received_at: '2026-11-25T10:30:00Z' }),
      entry(3, 'handed-over'),
      entry(4, 'partly-sent', { sent_bytes: 2048 }),
      entry(5, 'pending'),
    ];
    render(App);
    const rows = await screen.findAllByTestId('outbox-row');
    expect(rows.map((r) => r.getAttribute('data-state'))).toEqual(['pending', 'partly-sent', 'handed-over', 'received', 'imported']);
    expect(rows.map((r) => r.querySelector('.state')?.textContent)).toEqual([
      'Waiting',
      'Partly sent',
      'Written to a file, no receipt yet',
      'Received by the server',
      'Imported by headquarters',
    ]);
    expect(rows[1].textContent).toContain('25%');
    expect(rows[1].querySelector('progress')?.getAttribute('value')).toBe('2048');
  });

  it('Send now with the proxy down says nothing was sent and nothing tried directly; the outbox stays', async () => {
    be.policy = { ...be.policy, enabled: true, proxy: 'socks5h://127.0.0.1:9050', require_proxy: true };
    be.enrolledAt = 'http://hq.onion:8440';
    be.proxyDown = true;
    await be.importTrust({ text: MemoryBackend.trustFileText() });
    await be.saveRecord({ kind: 'person', body: { names: ['Мамедов'], roles: [], confidentiality: 'internal', reliability: 'unknown' } });
    render(App);
    await fireEvent.click(await screen.findByRole('button', { name: 'Send now' }));
    const err = await screen.findByTestId('send-error');
    expect(err.textContent).toContain('nothing was sent and nothing was tried directly');
    // The proxy's address is in the backend's detail, behind "Details".
    expect(err.textContent).not.toContain('socks5h://127.0.0.1:9050');
    await fireEvent.click(within(err).getByRole('button', { name: 'Details' }));
    expect(err.textContent).toContain('socks5h://127.0.0.1:9050');
    const rows = await screen.findAllByTestId('outbox-row');
    expect(rows[0].getAttribute('data-state')).toBe('pending');

    be.proxyDown = false;
    await fireEvent.click(screen.getByRole('button', { name: 'Send now' }));
    expect((await screen.findByTestId('send-result')).textContent).toContain('1 bundle sent (through the proxy)');
    await waitFor(() => expect(screen.getAllByTestId('outbox-row')[0].getAttribute('data-state')).toBe('received'));
  });
});

describe('Travel mode', () => {
  beforeEach(() => {
    app.route = { name: 'travel' };
  });

  it('explains what would be removed and what stays, in plain words', async () => {
    be.travel = {
      plan: {
        removable: ['a', 'b', 'c'],
        removable_attachments: 2,
        remaining: [
          { id: 'd', kind: 'person', reason: 'not-sent' },
          { id: 'e', kind: 'interview', reason: 'awaiting-import', seq: 4 },
          { id: 'f', kind: 'case', reason: 'awaiting-import', seq: 4 },
        ],
        confirmed_bundles: [1, 2, 3],
      },
      unconfirmed_bundles: [4],
      last_prepare: null,
    };
    render(App);
    expect((await screen.findByTestId('travel-removable')).textContent).toContain('3 records and 2 attachments');
    expect(screen.getByTestId('travel-remaining').textContent).toContain('3 records would stay');
    const reasons = screen.getAllByTestId('travel-reason').map((e) => e.textContent);
    expect(reasons).toEqual(['1: saved or edited since the last send', '2: in bundles headquarters has not confirmed importing yet']);
    expect(screen.getByTestId('travel-ssd').textContent).toContain('SSDs');
  });

  it('needs the typed confirmation, then shows progress and the result', async () => {
    be.travel.plan.removable = ['a', 'b'];
    be.holdTransfers = true;
    render(App);
    const start = (await screen.findByTestId('travel-start')) as HTMLButtonElement;
    expect(start.disabled).toBe(true);
    await type(/Type remove to confirm/, 'yes');
    expect(start.disabled).toBe(true);
    await fireEvent.click(screen.getByLabelText(/Do not use the network/));
    await type(/Type remove to confirm/, 'REMOVE');
    expect(start.disabled).toBe(false);
    await fireEvent.click(start);
    await screen.findByTestId('travel-progress');
    be.finishTransfer();
    const result = await screen.findByTestId('travel-result');
    expect(screen.getByTestId('travel-removed').textContent).toContain('2 records');
    expect(screen.getByTestId('travel-compacted').textContent).toContain('free pages 0, write-ahead log 0 bytes');
    expect(result.textContent).toContain('not used (offline)');
    expect(be.calls).toContain('travel_prepare');
  });
});

describe('Coordinator: pull from the HQ server', () => {
  it('pulls and shows what was imported', async () => {
    be.role = 'coordinator';
    be.policy.enabled = true;
    app.route = { name: 'coordinator' };
    render(App);
    const button = (await screen.findByRole('button', { name: 'Pull from HQ' })) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await type(/Server address \(remembered/, 'http://hq.example:8440');
    await fireEvent.click(button);
    expect((await screen.findByTestId('pull-result')).textContent).toContain('1 bundle imported. 1 receipt sent back.');
    expect(be.calls).toContain('hq_pull');
  });

  it('says why when the kill switch is on', async () => {
    be.role = 'coordinator';
    be.policy.enabled = true;
    be.policy.network_off = true;
    app.route = { name: 'coordinator' };
    render(App);
    await type(/Server address \(remembered/, 'http://hq.example:8440');
    await fireEvent.click(await screen.findByRole('button', { name: 'Pull from HQ' }));
    expect((await screen.findByTestId('pull-error')).textContent).toContain('The kill switch is on');
  });
});

describe('Coordinator: revoking a device', () => {
  it('revokes in the vault when the server cannot be told, and tells it later', async () => {
    be.role = 'coordinator';
    be.policy.enabled = true;
    be.policy.network_off = true;
    be.enrolledAt = 'http://hq.example:8440';
    be.devices = [{ device_id: 'dev-1', fingerprint: 'DEVI-CEFP-0000-0001', revoked: false, label: 'Ganja laptop' }];
    app.route = { name: 'coordinator' };
    render(App);
    await fireEvent.click(await screen.findByRole('button', { name: 'Revoke' }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Really revoke? Click again' }));
    expect((await screen.findByTestId('device-msg')).textContent).toContain('NOT at the HQ server');
    expect(be.devices[0].revoked).toBe(true);
    // The network is back: one click (no second confirmation) tells the server.
    be.policy.network_off = false;
    await fireEvent.click(await screen.findByRole('button', { name: 'Tell the HQ server again' }));
    await waitFor(() => expect(screen.getByTestId('device-msg').textContent).toContain('Revoked in this vault and at the HQ server.'));
    expect(be.calls.filter((c) => c === 'revoke_device')).toHaveLength(2);
  });
});
