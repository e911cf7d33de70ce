import { describe, expect, it } from 'vitest';
import { allDicts, formatBytes, formatPartialDate, ordinal, pluralCategories, setLocale, t, tp, type Locale } from './index.svelte';

// Every source file of the UI, as text (Vite's glob import).
const SOURCES = import.meta.glob(['../../**/*.svelte', '../../**/*.ts', '!../../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

describe('translations', () => {
  const dicts = allDicts();

  // A counted key is written `base_one`, `base_few`, … with the CLDR plural categories of each language.
  const PLURAL = /_(zero|one|two|few|many|other)$/;
  const pluralBases = (d: Record<string, string>) => new Set(Object.keys(d).filter((k) => k.endsWith('_other')).map((k) => k.replace(PLURAL, '')));
  const baseKeys = (d: Record<string, string>) => {
    const bases = pluralBases(d);
    return [...new Set(Object.keys(d).map((k) => (bases.has(k.replace(PLURAL, '')) ? k.replace(PLURAL, '') : k)))].sort();
  };

  it('every language has every key, and no empty string', () => {
    const en = baseKeys(dicts.en);
    for (const [lang, d] of Object.entries(dicts)) {
      expect(baseKeys(d), lang).toEqual(en);
      for (const [k, v] of Object.entries(d)) expect(v.trim(), `${lang}:${k}`).not.toBe('');
    }
  });

  it('every counted key has exactly the plural forms its language needs, with the same placeholders', () => {
    for (const [lang, d] of Object.entries(dicts) as [Locale, Record<string, string>][]) {
      const cats = [...pluralCategories(lang)].sort();
      for (const base of pluralBases(dicts.en)) {
        const have = Object.keys(d)
          .filter((k) => k.replace(PLURAL, '') === base && PLURAL.test(k))
          .map((k) => k.match(PLURAL)![1])
          .sort();
        expect(have, `${lang}:${base}`).toEqual(cats);
        const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        for (const c of cats) expect(holes(d[`${base}_${c}`]), `${lang}:${base}_${c}`).toEqual(holes(dicts.en[`${base}_other`]));
      }
    }
    expect([...pluralCategories('ru')].sort()).toEqual(['few', 'many', 'one', 'other']);
  });

  it('every literal key used in the code exists', () => {
    const used = new Set<string>();
    expect(Object.keys(SOURCES).length).toBeGreaterThan(10);
    for (const src of Object.values(SOURCES)) {
      for (const m of src.matchAll(/\bt\('([a-z_]+\.[a-z_0-9]+)'/g)) used.add(m[1]);
      for (const m of src.matchAll(/'((?:validation|strength|nav)\.[a-z_]+)'/g)) used.add(m[1]);
    }
    const counted = new Set<string>();
    for (const src of Object.values(SOURCES)) for (const m of src.matchAll(/\btp\('([a-z_]+\.[a-z_0-9]+)'/g)) counted.add(m[1]);
    expect(counted.size).toBeGreaterThan(5);
    const missing = [...used].filter((k) => !(k in dicts.en));
    expect(missing).toEqual([]);
    const missingCounted = [...counted].filter((k) => !(`${k}_other` in dicts.en));
    expect(missingCounted).toEqual([]);
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

  it('counted sentences take the plural form of each language (Intl.PluralRules)', () => {
    setLocale('ru');
    expect(tp('count.records', 1)).toBe('1 запись');
    expect(tp('count.records', 2)).toBe('2 записи');
    expect(tp('count.records', 5)).toBe('5 записей');
    expect(tp('count.records', 21)).toBe('21 запись');
    expect(tp('count.records', 11)).toBe('11 записей');
    expect(tp('count.records', 22)).toBe('22 записи');
    expect(tp('count.days', 7)).toBe('7 дней');
    expect(tp('count.hours', 24)).toBe('24 часа');
    expect(tp('pull.done_bundles', 1)).toBe('Импортирован 1 пакет.');
    expect(tp('pull.done_bundles', 2)).toBe('Импортировано 2 пакета.');
    expect(tp('pull.done_bundles', 5)).toBe('Импортировано 5 пакетов.');
    expect(tp('pull.done_bundles', 21)).toBe('Импортирован 21 пакет.');
    expect(tp('travel.would_stay', 1)).toBe('На ноутбуке останется 1 запись:');
    expect(tp('travel.would_stay', 3)).toBe('На ноутбуке останутся 3 записи:');
    expect(tp('travel.would_stay', 25)).toBe('На ноутбуке останется 25 записей:');
    expect(tp('count.attachments', 1234)).toMatch(/^1\s234 вложения$/);
    setLocale('en');
    expect(tp('count.records', 1)).toBe('1 record');
    expect(tp('count.records', 0)).toBe('0 records');
    expect(tp('count.records', 21)).toBe('21 records');
    expect(tp('sync.p_waiting', 2, { secs: 30 })).toBe('Waiting for headquarters to confirm 2 bundles… 30 s');
    setLocale('az');
    expect(tp('count.records', 1)).toBe('1 qeyd');
    expect(tp('count.records', 5)).toBe('5 qeyd');
    setLocale('en');
  });

  it('Azerbaijani ordinals follow vowel harmony with the number read aloud', () => {
    const az: [number, string][] = [
      [1, '1-ci'], [2, '2-ci'], [3, '3-cü'], [4, '4-cü'], [5, '5-ci'], [6, '6-cı'], [7, '7-ci'], [8, '8-ci'], [9, '9-cu'],
      [10, '10-cu'], [11, '11-ci'], [13, '13-cü'], [16, '16-cı'], [19, '19-cu'], [20, '20-ci'], [30, '30-cu'], [40, '40-cı'],
      [50, '50-ci'], [60, '60-cı'], [70, '70-ci'], [80, '80-ci'], [90, '90-cı'], [100, '100-cü'], [101, '101-ci'], [110, '110-cu'],
      [200, '200-cü'], [1000, '1000-ci'], [2000, '2000-ci'], [1_000_000, '1000000-cu'], [1_000_000_000, '1000000000-cı'], [0, '0-cı'],
    ];
    for (const [n, want] of az) expect(ordinal(n, 'az'), String(n)).toBe(want);
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101].map((n) => ordinal(n, 'en'))).toEqual([
      '1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '101st',
    ]);
    expect(ordinal(5, 'ru')).toBe('5-й');
    setLocale('az');
    expect(t('first_run.group_n', { n: 3, nth: ordinal(3) })).toBe('3-cü qrup');
    expect(t('person.remove_name', { n: 6, nth: ordinal(6) })).toBe('6-cı adı sil');
    setLocale('en');
    expect(t('first_run.group_n', { n: 3, nth: ordinal(3) })).toBe('Group 3');
  });

  it('no catalogue writes an ordinal suffix by hand', () => {
    for (const [lang, d] of Object.entries(dicts))
      for (const [k, v] of Object.entries(d)) expect(v, `${lang}:${k}`).not.toMatch(/\{\w+\}-(ci|cı|cu|cü|ncı|nci|ncu|ncü)\b/);
  });

  it('formats partial dates and sizes with Intl', () => {
    setLocale('en');
    expect(formatPartialDate('2024')).toBe('2024');
    expect(formatPartialDate('2024-11-20')).toMatch(/20 November 2024/);
    expect(formatPartialDate(null)).toBe('Date unknown');
    expect(formatBytes(2048)).toMatch(/2\s?kB/i);
  });
});
