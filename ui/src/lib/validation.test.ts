import { describe, expect, it } from 'vitest';
import {
  checkRecoveryGroups,
  isPartialDate,
  passphraseStrength,
  recoveryChallenge,
  scriptOf,
  validateEvent,
  validateInterview,
  validateNewPassphrase,
  validateOverride,
  validatePerson,
  validateRegisterExport,
} from './validation';
import type { Interview, Person } from './backend/types';

const person = (p: Partial<Person> = {}): Person => ({
  names: ['Məmmədov'],
  roles: [],
  confidentiality: 'internal',
  reliability: 'unknown',
  ...p,
});

const interview = (i: Partial<Interview> = {}): Interview => ({
  interviewer: 'A.',
  date: '2024-11-20',
  language: 'az',
  consent: 'internal',
  narrative: 'He was taken at night.',
  confidentiality: 'internal',
  reliability: 'unknown',
  ...i,
});

describe('passphrases', () => {
  it('rates length and variety', () => {
    expect(passphraseStrength('').score).toBe(0);
    expect(passphraseStrength('aaaaaaaa').score).toBe(0);
    expect(passphraseStrength('12345678').score).toBe(0);
    expect(passphraseStrength('quiet river lantern seventeen').score).toBeGreaterThanOrEqual(3);
  });

  it('refuses short, weak and mismatched passphrases', () => {
    expect(validateNewPassphrase('short', 'short')).toContain('validation.passphrase_short');
    expect(validateNewPassphrase('aaaaaaaaaa', 'aaaaaaaaaa')).toContain('validation.passphrase_weak');
    expect(validateNewPassphrase('quiet river lantern', 'quiet river lantern!')).toEqual(['validation.passphrase_mismatch']);
    expect(validateNewPassphrase('quiet river lantern', 'quiet river lantern')).toEqual([]);
  });
});

describe('recovery code confirmation', () => {
  const code = 'ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567';
  it('asks for two distinct groups, the same each time', () => {
    const g = recoveryChallenge(code);
    expect(g).toHaveLength(2);
    expect(g[0]).toBeLessThan(g[1]);
    expect(recoveryChallenge(code)).toEqual(g);
    expect(g.every((n) => n >= 1 && n <= 8)).toBe(true);
  });
  it('accepts the right groups in any case, refuses others', () => {
    const g = recoveryChallenge(code);
    const parts = code.split('-');
    expect(checkRecoveryGroups(code, g, g.map((n) => parts[n - 1].toLowerCase()))).toBe(true);
    expect(checkRecoveryGroups(code, g, ['AAAA', 'BBBB'])).toBe(false);
    expect(checkRecoveryGroups(code, g, [''])).toBe(false);
  });
});

describe('dates', () => {
  it('accepts reduced precision like the Rust side', () => {
    for (const ok of ['2024', '2024-02', '2024-02-29', '1800-01-01']) expect(isPartialDate(ok)).toBe(true);
    for (const bad of ['2023-02-29', '24', '2024-13', '2024-1-01', '2024-01-01-01', '', 'abcd', '1799']) {
      expect(isPartialDate(bad)).toBe(false);
    }
  });
});

describe('records', () => {
  it('a person needs a name and a plausible birth year', () => {
    expect(validatePerson(person())).toEqual([]);
    expect(validatePerson(person({ names: [] }))).toEqual(['validation.names_required']);
    expect(validatePerson(person({ names: ['  '] }))).toEqual(['validation.names_required']);
    expect(validatePerson(person({ names: ['A', ''] }))).toEqual(['validation.name_empty']);
    expect(validatePerson(person({ birth_year: 1700 }))).toEqual(['validation.birth_year_range']);
    expect(validatePerson(person({ birth_year: 1985.5 }))).toEqual(['validation.birth_year_range']);
  });

  it('events need their required fields', () => {
    expect(validateEvent({ type: 'charges', articles: [' '], date: '2024' })).toEqual(['validation.articles_required']);
    expect(validateEvent({ type: 'detention', facility: '' })).toEqual(['validation.facility_required']);
    expect(validateEvent({ type: 'arrest', date: '2024-99' })).toEqual(['validation.date_format']);
    expect(validateEvent({ type: 'release', kind: 'pardon', date: '2025-05' })).toEqual([]);
  });

  it('an interview needs interviewer, date, language and narrative', () => {
    expect(validateInterview(interview())).toEqual([]);
    expect(validateInterview(interview({ interviewer: ' ', narrative: '' }))).toEqual([
      'validation.interviewer_required',
      'validation.narrative_required',
    ]);
    expect(validateInterview(interview({ date: '20/11/2024' }))).toEqual(['validation.date_format']);
  });

  it('tells scripts apart', () => {
    expect(scriptOf('Мамедов')).toBe('cyrillic');
    expect(scriptOf('Məmmədov')).toBe('latin');
    expect(scriptOf('123')).toBe('other');
  });
});

describe('register forms', () => {
  it('a status override needs a status and a reason', () => {
    expect(validateOverride('in_exile', 'Left the country in March; confirmed by his sister.')).toEqual([]);
    expect(validateOverride('in_exile', '   ')).toEqual(['validation.override_reason_required']);
    expect(validateOverride('', '')).toEqual(['validation.override_status_required', 'validation.override_reason_required']);
    // "unknown" is what derivation says when nothing is known; it is not set by hand.
    expect(validateOverride('unknown', 'because')).toEqual(['validation.override_status_required']);
    // Clearing an override is recorded too, so it needs a reason as well.
    expect(validateOverride('clear', '')).toEqual(['validation.override_reason_required']);
    expect(validateOverride('clear', 'The court record was found.')).toEqual([]);
    expect(validateOverride('released', 'x'.repeat(2001))).toEqual(['validation.override_reason_long']);
  });

  it('an export needs a level, a format and an absolute path', () => {
    expect(validateRegisterExport('public', 'csv', '/media/usb/register.csv')).toEqual([]);
    expect(validateRegisterExport('partner', 'html', 'register.html')).toEqual(['validation.export_path_absolute']);
    expect(validateRegisterExport('', '', '')).toEqual([
      'validation.export_level_required',
      'validation.export_format_required',
      'validation.export_path_absolute',
    ]);
  });
});
