// Case events: an empty event of each type, and the text fields each type has.
import type { CaseEvent, EventType } from './backend/types';

export function emptyEvent(type: EventType, date: string | null = null): CaseEvent {
  switch (type) {
    case 'arrest':
      return { type, date, place: '', authority: '' };
    case 'charges':
      return { type, date, articles: [''], code: '' };
    case 'detention':
      return { type, date, facility: '' };
    case 'trial':
      return { type, date, court: '', judge: '', outcome: '', sentence: '' };
    case 'ill_treatment':
      return { type, date, description: '' };
    case 'release':
      return { type, date, kind: null };
    case 'travel_ban':
      return { type, date, authority: '' };
    case 'disbarment':
      return { type, date, body: '' };
    case 'death':
      return { type, date, circumstances: '' };
  }
}

/** The optional or required text fields of an event type, in display order. */
export const EVENT_TEXT_FIELDS: Record<EventType, string[]> = {
  arrest: ['place', 'authority'],
  charges: ['code'],
  detention: ['facility'],
  trial: ['court', 'judge', 'outcome', 'sentence'],
  ill_treatment: ['description'],
  release: [],
  travel_ban: ['authority'],
  disbarment: ['body'],
  death: ['circumstances'],
};

/** Drops empty optional strings (the Rust side stores them as absent). */
export function cleanEvent(e: CaseEvent): CaseEvent {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (typeof v === 'string' && v.trim() === '' && k !== 'facility' && k !== 'description') continue;
    if (Array.isArray(v)) out[k] = v.map((s) => String(s).trim()).filter(Boolean);
    else out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out as CaseEvent;
}

/** Events in time order; undated ones last, in their original order. */
export function sortEvents(events: CaseEvent[]): CaseEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => {
      const da = a.e.date ?? '';
      const db = b.e.date ?? '';
      if (!da && !db) return a.i - b.i;
      if (!da) return 1;
      if (!db) return -1;
      return da < db ? -1 : da > db ? 1 : a.i - b.i;
    })
    .map((x) => x.e);
}

/** A one-line summary of an event's fields for the timeline. */
export function eventSummary(e: CaseEvent): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(e)) {
    if (k === 'type' || k === 'date' || k === 'kind' || v == null) continue;
    if (Array.isArray(v)) parts.push(v.join(', '));
    else if (typeof v === 'string' && v.trim()) parts.push(v);
  }
  return parts.join(' · ');
}
