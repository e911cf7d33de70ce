import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { BackendError, CODES } from './backend/types';
import { errorText } from './errors';
import { allDicts, setLocale, type Locale } from './i18n/index.svelte';
import ErrorNote from './components/ErrorNote.svelte';

// Every source file of the UI, as text.
const SOURCES = import.meta.glob(['../**/*.svelte', '../**/*.ts', '!../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('error catalogue', () => {
  afterEach(() => {
    cleanup();
    setLocale('en');
  });

  it('has a sentence for every code the Rust side defines, in every language, with the same placeholders', () => {
    // CODES is generated from yaddash_api::Code (ui/src/lib/backend/generated/ipc.ts).
    expect(CODES.length).toBeGreaterThan(50);
    const dicts = allDicts();
    const missing: string[] = [];
    for (const code of CODES) {
      const en = dicts.en[`error.${code}`];
      for (const [lang, d] of Object.entries(dicts) as [Locale, Record<string, string>][]) {
        const s = d[`error.${code}`];
        if (!s?.trim()) missing.push(`${lang}:${code}`);
        else expect(holes(s), `${lang}:${code}`).toEqual(holes(en));
      }
    }
    expect(missing).toEqual([]);
  });

  it('has no sentence for a code that does not exist', () => {
    const known = new Set(CODES.map((c) => `error.${c}`));
    const extra = Object.keys(allDicts().en).filter(
      (k) => k.startsWith('error.') && !known.has(k) && !['error.details', 'error.hide_details', 'error.waiting'].includes(k),
    );
    expect(extra).toEqual([]);
  });

  it('shows the sentence in the user language with the parameters, never the English detail', () => {
    const e = new BackendError('bundle_sequence_reused', 'device 0000 already sent a different bundle numbered 7', { seq: 7 });
    for (const lang of ['az', 'ru'] as Locale[]) {
      setLocale(lang);
      const text = errorText(e);
      expect(text).toContain('7');
      expect(text).not.toContain('already sent');
      expect(text).toBe(allDicts()[lang]['error.bundle_sequence_reused'].replace('{seq}', '7'));
    }
    setLocale('ru');
    expect(errorText(new BackendError('wrong_role', 'x', { needed: 'coordinator' }))).toContain('Координатор');
    setLocale('en');
    expect(errorText(new BackendError('network_off', 'x', { waiting: 3 }))).toContain('Bundle 3 waits in the outbox');
  });

  it('turns an unknown code from the backend into the internal error, which has a sentence too', () => {
    const e = BackendError.from({ code: 'no_such_code', params: {}, detail: 'x' });
    expect(e.code).toBe('internal');
    expect(errorText(e)).toBe(allDicts().en['error.internal']);
    const old = BackendError.from({ code: 'locked', message: 'old shape' });
    expect(old.detail).toBe('old shape');
  });

  it('shows the English detail only behind Details', async () => {
    setLocale('az');
    render(ErrorNote, { error: new BackendError('disk_full', 'no space left while writing a file') });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain(allDicts().az['error.disk_full']);
    expect(alert.textContent).not.toContain('no space left');
    await fireEvent.click(screen.getByRole('button', { name: allDicts().az['error.details'] }));
    expect(alert.textContent).toContain('no space left');
  });

  it('no screen shows an error by its English text', () => {
    const offenders = Object.entries(SOURCES)
      .filter(([, src]) => /errorOf\([^)]*\)\.message|\.error\.message|server_error\.message|\b(e|e2|err)\??\.message\b/.test(src))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });
});
