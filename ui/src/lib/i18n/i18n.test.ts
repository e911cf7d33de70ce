import { describe, expect, it } from 'vitest';
import { allDicts, formatBytes, formatPartialDate, setLocale, t } from './index.svelte';

// Every source file of the UI, as text (Vite's glob import).
const SOURCES = import.meta.glob(['../../**/*.svelte', '../../**/*.ts', '!../../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

describe('translations', () => {
  const dicts = allDicts();

  it('every language has every key, and no empty string', () => {
    const en = Object.keys(dicts.en).sort();
    for (const [lang, d] of Object.entries(dicts)) {
      expect(Object.keys(d).sort(), lang).toEqual(en);
      for (const [k, v] of Object.entries(d)) expect(v.trim(), `${lang}:${k}`).not.toBe('');
    }
  });

  it('every literal key used in the code exists', () => {
    const used = new Set<string>();
    expect(Object.keys(SOURCES).length).toBeGreaterThan(10);
    for (const src of Object.values(SOURCES)) {
      for (const m of src.matchAll(/\bt\('([a-z_]+\.[a-z_0-9]+)'/g)) used.add(m[1]);
      for (const m of src.matchAll(/'((?:validation|strength|nav)\.[a-z_]+)'/g)) used.add(m[1]);
    }
    const missing = [...used].filter((k) => !(k in dicts.en));
    expect(missing).toEqual([]);
  });

  it('placeholders are filled and languages switch at run time', () => {
    setLocale('en');
    expect(t('records.found', { n: 3 })).toBe('3 found');
    setLocale('ru');
    expect(t('records.found', { n: 3 })).toBe('Найдено: 3');
    setLocale('az');
    expect(t('common.save')).toBe('Yadda saxla');
    setLocale('en');
  });

  it('formats partial dates and sizes with Intl', () => {
    setLocale('en');
    expect(formatPartialDate('2024')).toBe('2024');
    expect(formatPartialDate('2024-11-20')).toMatch(/20 November 2024/);
    expect(formatPartialDate(null)).toBe('Date unknown');
    expect(formatBytes(2048)).toMatch(/2\s?kB/i);
  });
});
