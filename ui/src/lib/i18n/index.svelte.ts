import en from './en.json';
import az from './az.json';
import ru from './ru.json';

export type Locale = 'en' | 'az' | 'ru';
export const LOCALES: readonly Locale[] = ['en', 'az', 'ru'];
/** Each language's own name, for the switcher. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', az: 'Azərbaycanca', ru: 'Русский' };

type Dict = Record<string, string>;
const DICTS: Record<Locale, Dict> = { en, az, ru };
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
