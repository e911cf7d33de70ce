// Forms against the in-memory backend (the test double of the Backend interface).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import App from '../App.svelte';
import { MemoryBackend } from '../lib/backend/memory';
import { app, setBackend } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import { recoveryChallenge } from '../lib/validation';

let be: MemoryBackend;

beforeEach(() => {
  localStorage.clear();
  setLocale('en');
  be = new MemoryBackend();
  setBackend(be);
  app.phase = 'loading';
  app.session = null;
  app.route = { name: 'records', tab: 'person' };
  app.history = [];
});

afterEach(() => cleanup());

async function type(label: string | RegExp, value: string) {
  const el = await screen.findByLabelText(label);
  await fireEvent.input(el, { target: { value } });
  return el;
}

describe('first run', () => {
  it('refuses a weak or mismatched passphrase without calling the backend', async () => {
    render(App);
    await type('Passphrase', 'short');
    await type('Passphrase again', 'other');
    await fireEvent.click(screen.getByRole('button', { name: 'Create the vault' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('at least 8 characters');
    expect(alert.textContent).toContain('differ');
    expect(be.calls).not.toContain('create_vault');
  });

  it('creates the vault, shows the recovery code once and checks it', async () => {
    render(App);
    await fireEvent.click(await screen.findByLabelText('Coordinator'));
    await type('Passphrase', 'quiet river lantern seventeen');
    await type('Passphrase again', 'quiet river lantern seventeen');
    await fireEvent.click(screen.getByRole('button', { name: 'Create the vault' }));
    expect((await screen.findByTestId('recovery-code')).textContent).toBe(be.recoveryCode);
    expect(be.role).toBe('coordinator');
    await fireEvent.click(screen.getByRole('button', { name: 'I have written it down' }));

    const groups = recoveryChallenge(be.recoveryCode);
    const parts = be.recoveryCode.split('-');
    await type(`Group ${groups[0]}`, 'ZZZZ');
    await type(`Group ${groups[1]}`, parts[groups[1] - 1]);
    await fireEvent.click(screen.getByRole('button', { name: 'Finish' }));
    expect((await screen.findByRole('alert')).textContent).toContain('do not match');

    await type(`Group ${groups[0]}`, parts[groups[0] - 1].toLowerCase());
    await fireEvent.click(screen.getByRole('button', { name: 'Finish' }));
    await screen.findByRole('heading', { name: 'Persons & cases' });
    expect(screen.queryByTestId('recovery-code')).toBeNull();
  });
});

describe('unlock', () => {
  beforeEach(() => {
    be.passphrase = 'quiet river lantern seventeen';
  });

  it('says plainly when the passphrase is wrong, and clears it', async () => {
    render(App);
    const input = (await type('Passphrase', 'wrong one')) as HTMLInputElement;
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    expect((await screen.findByRole('alert')).textContent).toContain('does not open the vault');
    expect(input.value).toBe('');
  });

  it('opens with the recovery code, and the idle lock returns to the unlock screen', async () => {
    render(App);
    await fireEvent.click(await screen.findByRole('button', { name: 'Use the recovery code instead' }));
    await type('Recovery code', be.recoveryCode.toLowerCase().replace(/-/g, ' '));
    await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
    await screen.findByRole('heading', { name: 'Persons & cases' });
    be.fireIdleLock();
    await screen.findByLabelText('Passphrase');
  });

  it('the panic shortcut locks at once', async () => {
    be.unlocked = true;
    render(App);
    await screen.findByRole('heading', { name: 'Persons & cases' });
    await fireEvent.keyDown(window, { key: 'L', ctrlKey: true, shiftKey: true });
    await screen.findByLabelText('Passphrase');
    expect(be.calls).toContain('panic_lock');
    expect(be.unlocked).toBe(false);
  });

  it('the global panic shortcut, where it reaches the window, runs the chosen panic action', async () => {
    be.unlocked = true;
    render(App);
    await screen.findByRole('heading', { name: 'Persons & cases' });
    await fireEvent.keyDown(window, { key: 'L', code: 'KeyL', ctrlKey: true, altKey: true, shiftKey: true });
    await screen.findByLabelText('Passphrase');
    expect(be.calls).toContain('panic_now');
    expect(be.calls).not.toContain('panic_lock');
  });

  it('Settings: the panic action is kept on this computer and given to the backend at start', async () => {
    be.unlocked = true;
    be.passphrase = 'quiet river lantern seventeen';
    render(App);
    await fireEvent.click(await screen.findByRole('button', { name: 'Settings' }));
    const panel = await screen.findByTestId('panic-settings');
    expect(panel.textContent).toContain('Ctrl+Alt+Shift+L works even while another program is in front');
    const lockAndHide = (await screen.findByLabelText(/^Lock and hide/)) as HTMLInputElement;
    expect(lockAndHide.checked).toBe(true);
    // Quick delete is offered only where the backend can carry it out.
    expect(((await screen.findByLabelText(/^Quick delete/)) as HTMLInputElement).disabled).toBe(true);
    await fireEvent.click(lockAndHide);
    await fireEvent.change(lockAndHide);
    await waitFor(() => expect(be.calls).toContain('set_panic_action'));
    expect(localStorage.getItem('yaddash.panic')).toBe('lock_and_hide');

    cleanup();
    localStorage.setItem('yaddash.panic', 'quick_delete');
    be.calls = [];
    app.phase = 'loading';
    app.route = { name: 'records', tab: 'person' };
    render(App);
    await screen.findByRole('heading', { name: 'Persons & cases' });
    expect(be.calls).toContain('set_panic_action');
  });
});

describe('records', () => {
  beforeEach(() => {
    be.passphrase = 'quiet river lantern seventeen';
    be.unlocked = true;
  });

  it('a person form validates names and saves every spelling', async () => {
    render(App);
    await fireEvent.click(await screen.findByTestId('new-record'));
    await fireEvent.click(await screen.findByRole('button', { name: 'Save' }));
    expect((await screen.findByRole('alert')).textContent).toContain('at least one name');
    expect(be.calls).not.toContain('save_record');

    await type('Name 1', 'Мамедов Ильгар');
    await fireEvent.click(screen.getByRole('button', { name: '+ Add another spelling' }));
    await type('Name 2', 'Ilqar Məmmədov');
    await type('Year of birth', '1700');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByRole('alert')).textContent).toContain('between 1850 and 2100');

    await type('Year of birth', '1970');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByRole('heading', { name: 'Мамедов Ильгар' });
    const saved = [...be.records.values()][0];
    expect(saved.kind === 'person' && saved.body.names).toEqual(['Мамедов Ильгар', 'Ilqar Məmmədov']);
    expect(saved.kind === 'person' && saved.body.birth_year).toBe(1970);
  });

  it('search as you type finds a Cyrillic name by a Latin spelling', async () => {
    await be.saveRecord({ kind: 'person', body: { names: ['Мамедов'], roles: [], confidentiality: 'internal', reliability: 'unknown' } });
    await be.saveRecord({ kind: 'person', body: { names: ['Hüseynov'], roles: [], confidentiality: 'internal', reliability: 'unknown' } });
    render(App);
    expect(await screen.findByText('2 in total')).toBeTruthy();
    await type('Search', 'mamedov');
    await screen.findByText('1 found');
    expect(screen.getAllByTestId('record-row').map((r) => r.textContent)).toEqual(['Мамедов']);
  });

  it('testimony is searched on Enter, and from the persons list by its button', async () => {
    await be.saveRecord({ kind: 'person', body: { names: ['Мамедов'], roles: [], confidentiality: 'internal', reliability: 'unknown' } });
    await be.saveRecord({
      kind: 'interview',
      body: { interviewer: 'A.', date: '2024-11-20', language: 'az', consent: 'internal', narrative: 'Mammadov was taken at night.', confidentiality: 'internal', reliability: 'unknown' },
    });
    render(App);
    await screen.findByText('1 in total');
    await type('Search', 'mam');
    await screen.findByText('1 found');
    await fireEvent.click(screen.getByTestId('search-testimony'));
    await screen.findByText('1 found');
    expect(screen.getAllByTestId('record-row')[0].textContent).toContain('taken at night');
    // On the interviews tab typing alone does not search the full text...
    const box = await type('Search', 'nigh');
    expect(await screen.findByText('Press Enter to search the full text of every interview.')).toBeTruthy();
    // ...Enter does.
    await fireEvent.submit(box.closest('form') as HTMLFormElement);
    await screen.findByText('1 found');
  });

  it('the interview form requires the account before saving', async () => {
    app.route = { name: 'interview' };
    render(App);
    await type('Interviewer', 'A.');
    await fireEvent.click(await screen.findByRole('button', { name: 'Save' }));
    expect((await screen.findByRole('alert')).textContent).toContain('The account is empty');
    await type('Account, as told', 'He was taken at night.');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByRole('heading', { name: 'Attachments' });
    expect([...be.records.values()][0].kind).toBe('interview');
  });

  it('records into a saved interview: pause, resume, stop saves an attachment', async () => {
    app.route = { name: 'interview' };
    render(App);
    await type('Interviewer', 'A.');
    await type('Account, as told', 'He was taken at night.');
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByRole('heading', { name: 'Recording' });
    await type('The first seconds hold the spoken consent', '15');
    await fireEvent.click(await screen.findByRole('button', { name: 'Start recording' }));
    expect((await screen.findByTestId('record-state')).textContent).toBe('Recording…');
    await fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    await waitFor(() => expect(screen.getByTestId('record-state').textContent).toBe('Paused'));
    await fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Stop and save' }));
    expect((await screen.findByTestId('record-notice')).textContent).toContain('Recording saved');
    await waitFor(() => expect(screen.getAllByTestId('attachment')).toHaveLength(1));
    expect([...be.attachments.values()][0].media_type).toBe('audio/ogg');
  }, 30_000);

});
