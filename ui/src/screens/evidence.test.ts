// The "Evidence pack" action on a person's page (coordinator vaults) against the test double.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import App from '../App.svelte';
import { MemoryBackend } from '../lib/backend/memory';
import { app, setBackend } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';

let be: MemoryBackend;
let id: string;

async function setup(role: 'coordinator' | 'field') {
  localStorage.clear();
  setLocale('en');
  be = new MemoryBackend();
  be.passphrase = 'quiet river lantern seventeen';
  be.unlocked = true;
  be.role = role;
  setBackend(be);
  ({ id } = await be.saveRecord({
    kind: 'person',
    body: { names: ['Məmmədov Tofiq'], roles: ['detainee'], confidentiality: 'partner', reliability: 'unknown' },
  } as never));
  app.phase = 'loading';
  app.session = null;
  app.history = [];
  app.route = { name: 'person', id };
}

beforeEach(() => setup('coordinator'));
afterEach(() => cleanup());

describe('evidence pack', () => {
  it('asks for a level and a full path, then writes the pack and shows its SHA-256', async () => {
    render(App);
    const form = await screen.findByTestId('evidence-form');
    await fireEvent.submit(form);
    expect(await screen.findByText('Give the full path of the file, starting with /.')).toBeTruthy();
    expect(be.calls).not.toContain('evidence_export');
    await fireEvent.change(await screen.findByLabelText('Level'), { target: { value: 'partner' } });
    await fireEvent.input(await screen.findByLabelText('ZIP file to write (full path)'), {
      target: { value: '/media/usb/evidence.zip' },
    });
    await fireEvent.submit(form);
    const done = await screen.findByTestId('evidence-written');
    expect(done.textContent).toContain('/media/usb/evidence.zip');
    expect(done.textContent).toContain('0'.repeat(64));
    expect(be.calls).toContain('evidence_export');
  });

  it('is not offered in a field vault', async () => {
    cleanup();
    await setup('field');
    render(App);
    await screen.findByTestId('person-page');
    expect(screen.queryByTestId('evidence-form')).toBeNull();
  });
});
