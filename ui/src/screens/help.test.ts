// Help where the user is (issue 16 item 8): the first run explains both roles,
// the Sync and Travel screens open the user guide in the user's language, and
// empty lists say what to do next. Native file dialogs (item 7) fill the typed
// path fields.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import App from '../App.svelte';
import Attachments from '../lib/components/Attachments.svelte';
import { MemoryBackend } from '../lib/backend/memory';
import { app, setBackend } from '../lib/app.svelte';
import { setPicker } from '../lib/files';
import { setLocale } from '../lib/i18n/index.svelte';
import en from '../lib/i18n/en.json';
import ru from '../lib/i18n/ru.json';
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

afterEach(() => {
  cleanup();
  setPicker(null);
});

async function createVault(role: 'Field interviewer' | 'Coordinator') {
  render(App);
  await fireEvent.click(await screen.findByLabelText(role));
  for (const label of ['Passphrase', 'Passphrase again']) {
    await fireEvent.input(await screen.findByLabelText(label), { target: { value: 'quiet river lantern seventeen' } });
  }
  await fireEvent.click(screen.getByRole('button', { name: 'Create the vault' }));
  await screen.findByTestId('recovery-code');
  await fireEvent.click(screen.getByRole('button', { name: 'I have written it down' }));
  const parts = be.recoveryCode.split('-');
  for (const g of recoveryChallenge(be.recoveryCode)) {
    await fireEvent.input(await screen.findByLabelText(`Group ${g}`), { target: { value: parts[g - 1] } });
  }
  await fireEvent.click(screen.getByRole('button', { name: 'Finish' }));
  await screen.findByRole('heading', { name: 'Persons & cases' });
}

function go(route: typeof app.route) {
  app.route = route;
}

describe('help where the user is', () => {
  it('the first run explains both roles, one sentence each, and opens the guide', async () => {
    render(App);
    expect((await screen.findByTestId('role-field-hint')).textContent).toBe(en['first_run.role_field_hint']);
    expect(screen.getByTestId('role-coordinator-hint').textContent).toBe(en['first_run.role_coordinator_hint']);
    await fireEvent.click(screen.getByTestId('guide-link'));
    const guide = await screen.findByTestId('guide');
    expect(guide.textContent).toContain('Who does what');
    expect(guide.textContent).toContain('Coordinator');
    expect(guide.querySelector('script, iframe, img')).toBeNull();
  }, 30_000);

  it("the guide is in the user's language", async () => {
    setLocale('ru');
    render(App);
    await fireEvent.click(await screen.findByTestId('guide-link'));
    const guide = await screen.findByTestId('guide');
    expect(guide.textContent).toContain('Кто что делает');
    expect(screen.getByRole('heading', { name: ru['help.guide_title'] })).toBeTruthy();
  }, 30_000);

  it('the Sync and Travel screens open the guide at their own section', async () => {
    await createVault('Field interviewer');
    const scrolled: string[] = [];
    Element.prototype.scrollIntoView = function (this: Element) {
      scrolled.push(this.id);
    };
    go({ name: 'sync' });
    await screen.findByRole('heading', { name: en['sync.title'] });
    await fireEvent.click(screen.getByTestId('guide-link'));
    await screen.findByTestId('guide');
    await waitFor(() => expect(scrolled.at(-1)).toBe('guide-section-4'));
    expect(document.getElementById('guide-section-4')?.textContent).toBe('Sending to headquarters');
    await fireEvent.click(screen.getByRole('button', { name: en['help.guide_close'] }));
    await waitFor(() => expect(screen.queryByTestId('guide')).toBeNull());
    go({ name: 'travel' });
    await screen.findByRole('heading', { name: en['travel.title'] });
    await fireEvent.click(screen.getByTestId('guide-link'));
    await waitFor(() => expect(scrolled.at(-1)).toBe('guide-section-5'));
    expect(document.getElementById('guide-section-5')?.textContent).toContain('travel mode');
  }, 30_000);

  it('empty lists say what to do next', async () => {
    await createVault('Field interviewer');
    expect((await screen.findByText(en['records.empty_person'])).tagName).toBe('P');
    await fireEvent.click(screen.getByTestId('tab-case'));
    await screen.findByText(en['records.empty_case']);
    await fireEvent.click(screen.getByTestId('tab-interview'));
    await screen.findByText(en['records.empty_interview']);
    go({ name: 'outbox' });
    await screen.findByText(en['outbox.bundles_none']);
    for (const k of ['records.empty_case', 'records.empty_interview', 'outbox.bundles_none', 'coordinator.no_devices', 'case.no_events', 'case.no_interviews', 'person.no_links', 'attachments.none'] as const) {
      // Each names the next step: a button, a screen or a place.
      expect(en[k], k).toMatch(/“|Sync|Settings|below|above/);
    }
  }, 30_000);
});

describe('native file dialogs', () => {
  it('without a platform dialog only the typed path field is there', async () => {
    await createVault('Field interviewer');
    go({ name: 'outbox' });
    await screen.findByLabelText(en['outbox.export_path']);
    expect(screen.queryAllByTestId('file-pick')).toHaveLength(0);
  }, 30_000);

  it("a button beside the field fills it with the dialog's answer and remembers the folder", async () => {
    const asked: string[] = [];
    setPicker(async (req) => {
      asked.push(`${req.mode} ${req.defaultPath}`);
      return req.mode === 'save' ? '/media/usb/from-dialog.ydb' : null;
    });
    await createVault('Field interviewer');
    go({ name: 'outbox' });
    const field = (await screen.findByLabelText(en['outbox.export_path'])) as HTMLInputElement;
    const picks = await screen.findAllByTestId('file-pick');
    expect(picks.map((b) => b.textContent?.trim())).toEqual([en['files.save_as'], en['files.choose']]);
    await fireEvent.click(picks[0]);
    await waitFor(() => expect(field.value).toBe('/media/usb/from-dialog.ydb'));
    expect(asked).toEqual(['save yaddash-bundle.ydb']);
    expect(localStorage.getItem('yaddash.last_folder')).toBe('/media/usb');
    // Cancelled: the field keeps what it had.
    await fireEvent.click(picks[1]);
    await waitFor(() => expect(asked).toHaveLength(2));
    expect(asked[1]).toBe('open /media/usb');
    expect(field.value).toBe('/media/usb/from-dialog.ydb');
  }, 30_000);

  it('attachments chosen in the dialog are read from disk by the app (attach_file), several at once', async () => {
    await be.createVault('field', 'quiet river lantern seventeen');
    const rec = await be.saveRecord({ kind: 'person', body: { names: ['Məmmədov Tofiq'] } } as never);
    const id = (rec as { id: string }).id;
    setPicker(async (req) => (req.mode === 'open' && req.multiple ? ['/media/usb/a.ogg', '/media/usb/b.jpg'] : null));
    render(Attachments, { recordId: id });
    await fireEvent.click(await screen.findByTestId('attachment-pick'));
    await waitFor(async () => expect((await be.listAttachments(id)).map((a) => a.name)).toEqual(['a.ogg', 'b.jpg']));
    // The hidden file input stays for WebDriver.
    expect(screen.getByTestId('attachment-input')).toBeTruthy();
  }, 30_000);
});
