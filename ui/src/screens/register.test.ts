// The register screen (coordinator vaults) against the test double.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import App from '../App.svelte';
import { MemoryBackend } from '../lib/backend/memory';
import type { RegisterRow } from '../lib/backend/types';
import { app, setBackend } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';

let be: MemoryBackend;

const A = '00000000-0000-7000-8000-00000000000a';
const B = '00000000-0000-7000-8000-00000000000b';

function row(id: string, name: string): RegisterRow {
  return {
    id,
    records: [id],
    names: [name],
    status: 'detained',
    derived_status: 'detained',
    override: null,
    facility: 'Qobustan prison',
    sources: 2,
    last_confirmed: '2024-11',
  };
}

beforeEach(() => {
  localStorage.clear();
  setLocale('en');
  be = new MemoryBackend();
  be.passphrase = 'quiet river lantern seventeen';
  be.unlocked = true;
  be.role = 'coordinator';
  be.register = [row(A, 'Məmmədov Tofiq'), row(B, 'Mamedov Tofik')];
  be.duplicates = [
    { a: { id: A, label: 'Məmmədov Tofiq' }, b: { id: B, label: 'Mamedov Tofik' }, score: 0.93, reasons: [{ reason: 'names_alike', percent: 93, a: 'Məmmədov Tofiq', b: 'Mamedov Tofik' }, { reason: 'same_birth_year', year: 1970 }] },
  ];
  setBackend(be);
  app.phase = 'loading';
  app.session = null;
  app.history = [];
  app.route = { name: 'register' };
});

afterEach(() => cleanup());

async function type(label: string | RegExp, value: string) {
  const el = await screen.findByLabelText(label);
  await fireEvent.input(el, { target: { value } });
  return el;
}

describe('register', () => {
  it('lists persons with status, facility, sources and last confirmation', async () => {
    render(App);
    const rows = await screen.findAllByTestId('register-row');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('Məmmədov Tofiq');
    expect(rows[0].textContent).toContain('Detained');
    expect(rows[0].textContent).toContain('Qobustan prison');
    expect(screen.getByTestId('register-count').textContent).toBe('2 in the register');
  });

  it('loads the register a page at a time as the list scrolls', async () => {
    be.register = Array.from({ length: 450 }, (_, n) =>
      row(`00000000-0000-7000-8000-${String(n).padStart(12, '0')}`, `Person ${String(n).padStart(3, '0')}`),
    );
    render(App);
    await screen.findAllByTestId('register-row');
    expect(screen.getByTestId('register-count').textContent).toBe('450 in the register');
    expect(be.calls.filter((c) => c === 'register_page')).toHaveLength(1);
    const list = screen.getByRole('listbox', { name: 'Persons in the register' });
    expect(list.querySelector('[aria-setsize]')?.getAttribute('aria-setsize')).toBe('450');
    // Near the end of the first 200 rows, the next 200 are asked for; then the last 50.
    list.scrollTop = 190 * 48;
    await fireEvent.scroll(list);
    await waitFor(() => expect(be.calls.filter((c) => c === 'register_page')).toHaveLength(2));
    await waitFor(() => expect(screen.getByText('Person 195')).toBeTruthy());
    list.scrollTop = 445 * 48;
    await fireEvent.scroll(list);
    await waitFor(() => expect(screen.getByText('Person 449')).toBeTruthy());
    expect(be.calls.filter((c) => c === 'register_page')).toHaveLength(3);
    // All loaded: scrolling again asks for nothing more.
    list.scrollTop = 400 * 48;
    await fireEvent.scroll(list);
    expect(be.calls.filter((c) => c === 'register_page')).toHaveLength(3);
  });

  it('a status override needs a reason, and is saved with it', async () => {
    render(App);
    await fireEvent.click((await screen.findAllByTestId('register-row'))[0]);
    const status = await screen.findByLabelText('Status to set');
    await fireEvent.change(status, { target: { value: 'in_exile' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save status' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Say why');
    expect(be.calls).not.toContain('register_set_status');

    await type(/^Reason/, 'Left the country in March; confirmed by his sister.');
    await fireEvent.click(screen.getByRole('button', { name: 'Save status' }));
    await screen.findByText('Status saved.');
    expect(be.register[0].status).toBe('in_exile');
    expect(be.register[0].override?.reason).toBe('Left the country in March; confirmed by his sister.');
    await waitFor(() => expect(screen.getAllByTestId('register-row')[0].textContent).toContain('set by hand'));
  });

  it('shows duplicates with score and reasons; merge, then unmerge', async () => {
    render(App);
    const dup = await screen.findByTestId('duplicate');
    expect(dup.textContent).toContain('0.93');
    expect(dup.textContent).toContain('Names 93% alike across spellings');
    expect(dup.textContent).toContain('Same year of birth (1970)');
    await fireEvent.click(screen.getByRole('button', { name: 'Merge into the first' }));
    const merge = await screen.findByTestId('merge');
    expect(merge.textContent).toContain('Mamedov Tofik is merged into Məmmədov Tofiq');
    expect(screen.getByTestId('dups-none')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Unmerge' }));
    await waitFor(() => expect(screen.queryByTestId('merge')).toBeNull());
  });

  it('marks a pair as different people', async () => {
    render(App);
    await screen.findByTestId('duplicate');
    await fireEvent.click(screen.getByRole('button', { name: 'Different people' }));
    await screen.findByTestId('dups-none');
    expect(be.distinct).toEqual([[A, B]]);
  });

  it('exports to an absolute path only, at the chosen level and format', async () => {
    render(App);
    await screen.findAllByTestId('register-row');
    await type('File to write (full path)', 'register.csv');
    await fireEvent.click(screen.getByRole('button', { name: 'Export' }));
    expect((await screen.findByRole('alert')).textContent).toContain('full path');
    expect(be.calls).not.toContain('register_export');
    await fireEvent.change(screen.getByLabelText('Level'), { target: { value: 'partner' } });
    await fireEvent.change(screen.getByLabelText('Format'), { target: { value: 'html' } });
    await type('File to write (full path)', '/media/usb/register.html');
    await fireEvent.click(screen.getByRole('button', { name: 'Export' }));
    expect((await screen.findByTestId('register-exported')).textContent).toContain('/media/usb/register.html');
    expect(JSON.parse(be.files.get('/media/usb/register.html') ?? '{}')).toMatchObject({ level: 'partner', format: 'html' });
  });

  it('is not offered in a field vault', async () => {
    be.role = 'field';
    app.route = { name: 'records', tab: 'person' };
    render(App);
    await screen.findByRole('button', { name: 'Persons & cases' });
    expect(screen.queryByRole('button', { name: 'Register' })).toBeNull();
  });
});
