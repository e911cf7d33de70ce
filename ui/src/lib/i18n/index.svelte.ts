import en from './en.json';
import az from './az.json';
import ru from './ru.json';
// The error catalogue: one sentence per error code (crates/api/src/error.rs), kept apart from the screens' strings.
import errorsEn from './errors/en.json';
import errorsAz from './errors/az.json';
import errorsRu from './errors/ru.json';

export type Locale = 'en' | 'az' | 'ru';
export const LOCALES: readonly Locale[] = ['en', 'az', 'ru'];
/** Each language's own name, for the switcher. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', az: 'Azərbaycanca', ru: 'Русский' };

type Dict = Record<string, string>;
const DICTS: Record<Locale, Dict> = { en: { ...en, ...errorsEn }, az: { ...az, ...errorsAz }, ru: { ...ru, ...errorsRu } };
/** BCP 47 tags for Intl (Azerbaijani in Latin script). */
const INTL_TAGS: Record<Locale, string> = { en: 'en-GB', az: 'az-Latn-AZ', ru: 'ru-RU' };

function initial(): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('yaddash.locale') : null;
  return LOCALES.includes(saved as Locale) ? (saved as Locale) : 'en';
}

export const i18n = $state({ locale: initial() });

export function setLocale(l: Locale): void {
  i18n.locale = l;
  try {
    localStorage.setItem('yaddash.locale', l);
  } catch {
    /* storage may be unavailable; the choice then lasts for this run */
  }
  if (typeof document !== 'undefined') document.documentElement.lang = l;
}

/** The translation of `key` in the current language (English as fallback), with {name} placeholders filled. */
export function t(key: string, params?: Record<string, string | number>): string {
  const s = DICTS[i18n.locale][key] ?? (DICTS.en as Dict)[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** The CLDR plural categories a language's catalogue must give for a counted key (`key_one`, `key_few`, …). */
export function pluralCategories(locale: Locale): Intl.LDMLPluralRule[] {
  return new Intl.PluralRules(INTL_TAGS[locale]).resolvedOptions().pluralCategories;
}

/**
 * A counted sentence: picks `key_one` / `key_few` / `key_many` / `key_other` by the CLDR plural rules of the
 * current language (Intl.PluralRules), falling back to `key_other`, then to English. `{n}` is filled with
 * the count formatted for the language unless `params` gives it.
 */
export function tp(key: string, n: number, params?: Record<string, string | number>): string {
  const cat = new Intl.PluralRules(intlTag()).select(n);
  const d = DICTS[i18n.locale];
  const en = DICTS.en as Dict;
  const enCat = new Intl.PluralRules(INTL_TAGS.en).select(n);
  const s = d[`${key}_${cat}`] ?? d[`${key}_other`] ?? en[`${key}_${enCat}`] ?? en[`${key}_other`] ?? key;
  const all: Record<string, string | number> = { n: formatNumber(n), ...params };
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in all ? String(all[k]) : m));
}

/**
 * The ordinal of a whole number as written in running text. Azerbaijani adds -ci/-cı/-cu/-cü after a hyphen,
 * chosen by vowel harmony with the last word of the number read aloud (1-ci, 3-cü, 6-cı, 9-cu, 10-cu, 40-cı,
 * 100-cü, 1000-ci). English: 1st, 2nd, 3rd, 11th. Russian: the masculine nominative abbreviation (1-й); a
 * string needing another gender or case writes its own suffix after {n}.
 */
export function ordinal(n: number, locale: Locale = i18n.locale): string {
  const whole = Math.trunc(Math.abs(n));
  if (locale === 'en') {
    const suffix = { one: 'st', two: 'nd', few: 'rd' } as Record<string, string>;
    return `${n}${suffix[new Intl.PluralRules('en', { type: 'ordinal' }).select(whole)] ?? 'th'}`;
  }
  if (locale === 'ru') return `${n}-й`;
  return `${n}-${AZ_ORDINAL_SUFFIX[azLastWordVowel(whole)]}`;
}

/** Vowel harmony of the Azerbaijani ordinal suffix, by the last vowel of the number's last word. */
const AZ_ORDINAL_SUFFIX: Record<string, string> = { a: 'cı', ı: 'cı', o: 'cu', u: 'cu', e: 'ci', ə: 'ci', i: 'ci', ö: 'cü', ü: 'cü' };
// Last vowel of: sıfır, bir, iki, üç, dörd, beş, altı, yeddi, səkkiz, doqquz.
const AZ_UNITS = ['ı', 'i', 'i', 'ü', 'ö', 'e', 'ı', 'i', 'i', 'u'];
// Last vowel of: (none), on, iyirmi, otuz, qırx, əlli, altmış, yetmiş, səksən, doxsan.
const AZ_TENS = ['', 'o', 'i', 'u', 'ı', 'i', 'ı', 'i', 'ə', 'a'];

function azLastWordVowel(n: number): string {
  if (n === 0) return AZ_UNITS[0];
  if (n % 10 !== 0) return AZ_UNITS[n % 10];
  if (n % 100 !== 0) return AZ_TENS[(n / 10) % 10];
  if (n % 1000 !== 0) return 'ü'; // yüz
  if (n % 1_000_000 !== 0) return 'i'; // min
  if (n % 1_000_000_000 !== 0) return 'o'; // milyon
  return 'a'; // milyard (and larger, read as milyard)
}

/** Every key of every language, for the completeness test. */
export function allDicts(): Record<Locale, Dict> {
  return DICTS;
}

export function intlTag(): string {
  return INTL_TAGS[i18n.locale];
}

/** A partial date ("2024", "2024-11", "2024-11-20") in the current language. */
export function formatPartialDate(d: string | null | undefined): string {
  if (!d) return t('date.unknown');
  const [y, m, day] = d.split('-').map(Number);
  try {
    if (day) return new Intl.DateTimeFormat(intlTag(), { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, day));
    if (m) return new Intl.DateTimeFormat(intlTag(), { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, 1));
  } catch {
    return d;
  }
  return String(y);
}

/** An RFC 3339 timestamp in the current language and the local time zone. */
export function formatTimestamp(ts: string): string {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) return ts;
  return new Intl.DateTimeFormat(intlTag(), { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(intlTag()).format(n);
}

/** A byte count as B, KB, MB or GB in the current language. */
export function formatBytes(n: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return new Intl.NumberFormat(intlTag(), { style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: i === 0 ? 0 : 1 }).format(v);
}
