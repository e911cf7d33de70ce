// Things the backend sends as data that the window words in the user's language: duplicate reasons, record
// labels the vault made up, and the names of a record's fields.
import type { DuplicateReason, RecordKind } from './backend/types';
import { formatPartialDate, t } from './i18n/index.svelte';

/** Why two persons are probably the same, in the user's language. */
export function duplicateReason(r: DuplicateReason): string {
  switch (r.reason) {
    case 'names_alike':
      return t('register.why_names_alike', { percent: r.percent, a: r.a, b: r.b });
    case 'same_birth_year':
      return t('register.why_same_birth_year', { year: r.year });
    case 'birth_years_one_apart':
      return t('register.why_birth_years_one_apart', { a: r.a, b: r.b });
    case 'birth_years_two_apart':
      return t('register.why_birth_years_two_apart', { a: r.a, b: r.b });
    case 'birth_years_differ':
      return t('register.why_birth_years_differ', { a: r.a, b: r.b });
    case 'birth_year_unknown':
      return t('register.why_birth_year_unknown');
    case 'arrested_same_date':
      return t('register.why_arrested_same_date', { date: formatPartialDate(r.date) });
    case 'same_facility':
      return t('register.why_same_facility', { facility: r.facility });
    case 'relative_spoke_about_both':
      return t('register.why_relative_spoke_about_both');
  }
}

/** The label the vault stores for a case without a title ("case of <detainee id>"). */
const UNTITLED_CASE = /^case of [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A record's one-line label as the window shows it (an untitled case in the user's language). */
export function recordLabel(r: { kind: RecordKind; label: string }): string {
  return r.kind === 'case' && (r.label === '' || UNTITLED_CASE.test(r.label)) ? t('case.untitled') : r.label;
}

/** Catalogue keys of the records' fields, for "what changed" in a record's history. */
const FIELD_KEYS: Record<string, string> = {
  names: 'person.names',
  birth_year: 'person.birth_year',
  roles: 'person.roles',
  notes: 'field.notes',
  confidentiality: 'field.confidentiality',
  reliability: 'field.reliability',
  detainee_id: 'case.detainee',
  title: 'case.title',
  events: 'case.events',
  case_id: 'interview.case',
  speaker_id: 'interview.speaker',
  relation: 'interview.relation',
  interviewer: 'interview.interviewer',
  date: 'field.date',
  place: 'interview.place',
  language: 'interview.language',
  consent: 'interview.consent',
  narrative: 'interview.narrative',
};

/** A record field's name in the user's language (the JSON name only for a field the window does not know). */
export function fieldName(field: string): string {
  const key = FIELD_KEYS[field];
  return key ? t(key) : field;
}
