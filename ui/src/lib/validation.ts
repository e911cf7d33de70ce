// Form validation shared by the screens. Each function returns translation
// keys of the problems found (empty when valid), so messages follow the
// chosen language.
import type { CaseEvent, ExportFormat, ExportLevel, Interview, Person, RegisterStatus } from './backend/types';
import { EXPORT_FORMATS, EXPORT_LEVELS, REGISTER_STATUSES } from './backend/types';

export interface Strength {
  /** 0 (very weak) to 4 (strong). */
  score: 0 | 1 | 2 | 3 | 4;
  /** Rough bits of entropy estimated. */
  bits: number;
}

/**
 * A deliberately simple estimate: character-class pool size times length,
 * with penalties for repeats and sequences. Words separated by spaces are
 * encouraged (hints say so); this is a meter, not a guarantee.
 */
export function passphraseStrength(p: string): Strength {
  const chars = [...p];
  if (chars.length === 0) return { score: 0, bits: 0 };
  let pool = 0;
  if (/[a-z]/.test(p)) pool += 26;
  if (/[A-Z]/.test(p)) pool += 26;
  if (/[0-9]/.test(p)) pool += 10;
  if (/[^\p{L}\p{N}]/u.test(p)) pool += 20;
  if (/[^\u0000-\u007f]/.test(p)) pool += 40;
  // Count only characters that add information (no runs, no simple sequences).
  let effective = 0;
  for (let i = 0; i < chars.length; i++) {
    const prev = i > 0 ? chars[i - 1].codePointAt(0)! : -10;
    const cur = chars[i].codePointAt(0)!;
    if (cur === prev) effective += 0.2;
    else if (Math.abs(cur - prev) === 1) effective += 0.5;
    else effective += 1;
  }
  const distinct = new Set(chars).size;
  const bits = Math.round(effective * Math.log2(Math.max(pool, 2)) * Math.min(1, distinct / 6));
  const score = bits < 28 ? 0 : bits < 45 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4;
  return { score: score as Strength['score'], bits };
}

export const MIN_PASSPHRASE_CHARS = 8;

export function validateNewPassphrase(p: string, confirm: string): string[] {
  const errors: string[] = [];
  if ([...p].length < MIN_PASSPHRASE_CHARS) errors.push('validation.passphrase_short');
  else if (passphraseStrength(p).score < 2) errors.push('validation.passphrase_weak');
  if (p !== confirm) errors.push('validation.passphrase_mismatch');
  return errors;
}

/** Groups of the recovery code the user must re-type (1-based), fixed per code. */
export function recoveryChallenge(code: string): number[] {
  const groups = code.split('-').length;
  if (groups < 3) return [1];
  let h = 0;
  for (const ch of code) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const a = (h % groups) + 1;
  let b = ((h >>> 8) % groups) + 1;
  if (b === a) b = (a % groups) + 1;
  return a < b ? [a, b] : [b, a];
}

export function checkRecoveryGroups(code: string, groups: number[], typed: string[]): boolean {
  const parts = code.split('-');
  return groups.every((g, i) => (typed[i] ?? '').trim().toUpperCase() === parts[g - 1]);
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/** Checks a partial date like the Rust side does: YYYY, YYYY-MM or YYYY-MM-DD. */
export function isPartialDate(s: string): boolean {
  const m = DATE_RE.exec(s.trim());
  if (!m) return false;
  const y = Number(m[1]);
  if (y < 1800 || y > 2200) return false;
  if (m[2] === undefined) return true;
  const mo = Number(m[2]);
  if (mo < 1 || mo > 12) return false;
  if (m[3] === undefined) return true;
  const d = Number(m[3]);
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d >= 1 && d <= days;
}

export function validatePerson(p: Person): string[] {
  const errors: string[] = [];
  const names = p.names.map((n) => n.trim());
  if (names.filter(Boolean).length === 0) errors.push('validation.names_required');
  else if (names.some((n) => !n)) errors.push('validation.name_empty');
  if (p.birth_year != null && (!Number.isInteger(p.birth_year) || p.birth_year < 1850 || p.birth_year > 2100)) {
    errors.push('validation.birth_year_range');
  }
  return errors;
}

export function validateEvent(e: CaseEvent): string[] {
  const errors: string[] = [];
  if (e.date && !isPartialDate(e.date)) errors.push('validation.date_format');
  if (e.type === 'charges' && e.articles.filter((a) => a.trim()).length === 0) errors.push('validation.articles_required');
  if (e.type === 'detention' && !e.facility.trim()) errors.push('validation.facility_required');
  if (e.type === 'ill_treatment' && !e.description.trim()) errors.push('validation.description_required');
  return errors;
}

export function validateInterview(i: Interview): string[] {
  const errors: string[] = [];
  if (!i.interviewer.trim()) errors.push('validation.interviewer_required');
  if (!isPartialDate(i.date)) errors.push('validation.date_format');
  if (!i.language.trim() || i.language.length > 16) errors.push('validation.language_required');
  if (!i.narrative.trim()) errors.push('validation.narrative_required');
  return errors;
}

/** Which script a name is written in, for the person page. */
export function scriptOf(name: string): 'latin' | 'cyrillic' | 'other' {
  if (/\p{Script=Cyrillic}/u.test(name)) return 'cyrillic';
  if (/\p{Script=Latin}/u.test(name)) return 'latin';
  return 'other';
}

/** Longest override reason the backend accepts (`yaddash_api::MAX_REASON_CHARS`). */
export const MAX_REASON_CHARS = 2000;

/**
 * A status override: a status to set (or `clear` to drop the override) and
 * a reason, always required: it is kept with who set it and when.
 */
export function validateOverride(status: RegisterStatus | 'clear' | '', reason: string): string[] {
  const errors: string[] = [];
  if (status === '' || (status !== 'clear' && (status === 'unknown' || !REGISTER_STATUSES.includes(status)))) {
    errors.push('validation.override_status_required');
  }
  const r = reason.trim();
  if (!r) errors.push('validation.override_reason_required');
  else if ([...r].length > MAX_REASON_CHARS) errors.push('validation.override_reason_long');
  return errors;
}

/** A register export: a level, a format, and an absolute path to write. */
export function validateRegisterExport(level: ExportLevel | '', format: ExportFormat | '', path: string): string[] {
  const errors: string[] = [];
  if (!EXPORT_LEVELS.includes(level as ExportLevel)) errors.push('validation.export_level_required');
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) errors.push('validation.export_format_required');
  if (!path.trim().startsWith('/')) errors.push('validation.export_path_absolute');
  return errors;
}
